//! What the gateway benchmark (`gateway-bench`), the soak (`gateway-soak`) and the startup bench
//! (`startup-bench`) share: the processes they start (the `example-server` upstream), the policy
//! they give the gateway, the audit ingest they point it at, HTTP/1 connections, readiness, and
//! what they read of the machine and of a process.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// A child process killed on drop.
#[derive(Debug)]
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub async fn connect(address: SocketAddr) -> Result<Sender> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The audit ingest: answers 200 to every POST and counts the events in it.
pub async fn ingest() -> Result<(SocketAddr, Arc<AtomicU64>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let events = Arc::new(AtomicU64::new(0));
    let counter = events.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let counter = counter.clone();
                        async move {
                            let body = request
                                .into_body()
                                .collect()
                                .await
                                .map(|c| c.to_bytes())
                                .unwrap_or_default();
                            let n = match serde_json::from_slice::<serde_json::Value>(&body) {
                                Ok(serde_json::Value::Array(items)) => items.len() as u64,
                                Ok(_) => 1,
                                Err(_) => 0,
                            };
                            counter.fetch_add(n, Ordering::Relaxed);
                            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                                Bytes::from_static(b"{}"),
                            )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((address, events))
}

/// A policy for server `server` with one tool, `add` (read, low trust), granted to `agent` for
/// reads up to medium trust: the bench's calls are allowed by a real grant lookup.
pub fn agent_read_policy(server: &str, agent: &str) -> mcp_runtime_policy::PolicyDocument {
    use mcp_runtime_policy::{Grant, PolicyDocument, SideEffect, Tool, Trust};
    let mut document = PolicyDocument::default();
    document.server.name = server.into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("add", SideEffect::Read, Trust::Low));
    let mut grant = Grant::new("default", format!("{agent}-read"));
    grant.agent_id = agent.into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    document
}

/// Finalizes `document` (revision, timestamps) and writes it to `path` as the gateway reads it.
pub fn write_policy(path: &Path, mut document: mcp_runtime_policy::PolicyDocument) -> Result<()> {
    document.finalize(jiff::Timestamp::now())?;
    std::fs::write(path, serde_json::to_vec_pretty(&document)?)?;
    Ok(())
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub fn start_upstream(bin: &Path) -> Result<(Process, SocketAddr)> {
    let mut child = Command::new(bin)
        .args(["example-server", "--http", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stderr = child.stderr.take().context("stderr")?;
    let process = Process(child);
    let mut lines = BufReader::new(stderr).lines();
    let line = lines.next().context("example-server exited")??;
    // Keep draining so the child can never block on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let address = line
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected example-server output {line:?}"))?
        .parse()?;
    Ok((process, address))
}

pub async fn wait_ready(address: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut sender) = connect(address).await {
            let request = http::Request::get("/ready")
                .header("host", address.to_string())
                .body(Full::new(Bytes::new()))?;
            if let Ok(response) = sender.send_request(request).await
                && response.status() == 200
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("the gateway at {address} never became ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS")
}

pub fn max_open_files() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Opens a legacy session (initialize, initialized) as `agent` and its GET stream through the
/// gateway at `address`: the session id, the connection (busy with the stream) and the stream.
pub async fn open_legacy_stream(
    address: SocketAddr,
    agent: &str,
    client: &str,
) -> Result<(String, Sender, http::Response<hyper::body::Incoming>)> {
    let authority = address.to_string();
    let mut sender = connect(address).await?;
    let initialize = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"{client}","version":"1"}}}}}}"#
    );
    let post = |body: String, session: Option<&str>| {
        let mut builder = http::Request::post("/mcp")
            .header("host", authority.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("x-mcp-agent-id", agent);
        if let Some(session) = session {
            builder = builder
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        builder.body(Full::new(Bytes::from(body)))
    };
    sender.ready().await?;
    let response = sender.send_request(post(initialize, None)?).await?;
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .context("no session id")?;
    response.into_body().collect().await?;
    sender.ready().await?;
    let response = sender
        .send_request(post(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned(),
            Some(&session),
        )?)
        .await?;
    response.into_body().collect().await?;
    sender.ready().await?;
    let get = http::Request::get("/mcp")
        .header("host", authority.as_str())
        .header("accept", "text/event-stream")
        .header("x-mcp-agent-id", agent)
        .header("mcp-session-id", session.as_str())
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(get).await?;
    if response.status() != 200 {
        bail!("GET stream answered {}", response.status());
    }
    Ok((session, sender, response))
}
