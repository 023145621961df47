//! Gateway benchmark: `tools/call` through `mcp-runtime gateway` against the same rmcp upstream
//! (`mcp-runtime example-server`, `TCP_NODELAY`) called directly, measured side by side in one
//! run, plus the gateway's resident memory with idle SSE streams open.
//!
//! The gateway runs as the real binary with header identity, an enforcing policy and audit
//! delivery to an ingest (a stub in this process that counts the events). Requests are
//! 2026-07-28 stateless `tools/call add(1, 2)` POSTs, each checked for the result `3`. Rounds
//! alternate direct and gateway so that drift in machine load hits both alike.
//!
//! One-line command (from the repository root):
//!   cargo build --release -p mcp-runtime -p mcp-runtime-bench && target/release/gateway-bench

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mcp_runtime_policy::{Grant, PolicyDocument, SideEffect, Tool, Trust};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Parser)]
#[command(
    name = "gateway-bench",
    about = "Gateway overhead against a direct baseline"
)]
struct Args {
    /// The mcp-runtime binary (a release build).
    #[arg(long, default_value = "target/release/mcp-runtime")]
    bin: PathBuf,
    /// Rounds; each measures direct and gateway once per concurrency, alternating their order.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Sequential requests per round and target at concurrency 1 (after a warm-up).
    #[arg(long, default_value_t = 3000)]
    c1_requests: usize,
    /// Connections of the throughput measurement.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds per round and target of the throughput measurement.
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
    /// Idle SSE streams held open through the gateway for the memory measurement.
    #[arg(long, default_value_t = 1000)]
    idle_streams: usize,
    /// Diagnostic: run the gateway without audit delivery, to attribute the audit's cost.
    #[arg(long)]
    without_audit: bool,
    /// The gateway's worker threads (`--worker-threads`); unset: the gateway's own default
    /// (one per CPU the process may use)
    #[arg(long)]
    gateway_threads: Option<u16>,
}

/// A child process killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const AGENT: &str = "bench-agent";

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"gateway-bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

fn call_request(authority: &str) -> Result<http::Request<Full<Bytes>>> {
    Ok(http::Request::post("/mcp")
        .header("host", authority)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "add")
        .header("x-mcp-agent-id", AGENT)
        .body(Full::new(Bytes::from_static(CALL.as_bytes())))?)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(address: SocketAddr) -> Result<Sender> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One `tools/call`; Ok only for a 200 whose body carries the result `3`.
async fn call_once(sender: &mut Sender, authority: &str) -> Result<()> {
    sender.ready().await?;
    let response = sender.send_request(call_request(authority)?).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let text = std::str::from_utf8(&body).unwrap_or_default();
    if status != 200 || !text.contains(r#""text":"3""#) {
        bail!("unexpected reply {status}: {text}");
    }
    Ok(())
}

#[derive(Default)]
struct Sample {
    latencies_ns: Vec<u64>,
    ok: u64,
    errors: u64,
    elapsed: Duration,
    /// Warm-up requests sent before the measurement (not in the figures).
    warm: u64,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.latencies_ns.extend(other.latencies_ns);
        self.ok += other.ok;
        self.errors += other.errors;
        self.elapsed = self.elapsed.max(other.elapsed);
        self.warm += other.warm;
    }

    /// Every request sent, warm-up included.
    fn sent(&self) -> u64 {
        self.ok + self.errors + self.warm
    }

    fn percentile_us(&mut self, p: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return f64::NAN;
        }
        self.latencies_ns.sort_unstable();
        let rank = ((p / 100.0) * (self.latencies_ns.len() - 1) as f64).round() as usize;
        self.latencies_ns[rank] as f64 / 1_000.0
    }

    fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// A closed loop on one connection: `count` requests, or until `deadline`.
async fn closed_loop(
    address: SocketAddr,
    count: Option<usize>,
    deadline: Option<Instant>,
) -> Sample {
    let authority = address.to_string();
    let mut sample = Sample::default();
    let started = Instant::now();
    let mut sender = None;
    loop {
        if count.is_some_and(|n| sample.ok + sample.errors >= n as u64)
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let begun = Instant::now();
        let result = async {
            if sender.is_none() {
                sender = Some(connect(address).await?);
            }
            match sender.as_mut() {
                Some(s) => call_once(s, &authority).await,
                None => bail!("no connection"),
            }
        }
        .await;
        match result {
            Ok(()) => {
                sample.ok += 1;
                sample
                    .latencies_ns
                    .push(u64::try_from(begun.elapsed().as_nanos()).unwrap_or(u64::MAX));
            }
            Err(_) => {
                sample.errors += 1;
                sender = None;
            }
        }
    }
    sample.elapsed = started.elapsed();
    sample
}

async fn concurrent(address: SocketAddr, connections: usize, seconds: f64) -> Sample {
    // Warm every connection up first, then measure for `seconds`.
    let warm = Instant::now() + Duration::from_millis(500);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        tasks.push(tokio::spawn(closed_loop(address, None, Some(warm))));
    }
    let mut warm_requests = 0;
    for task in tasks {
        if let Ok(sample) = task.await {
            warm_requests += sample.ok + sample.errors;
        }
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        tasks.push(tokio::spawn(closed_loop(address, None, Some(deadline))));
    }
    let mut total = Sample {
        warm: warm_requests,
        ..Sample::default()
    };
    for task in tasks {
        if let Ok(sample) = task.await {
            total.merge(sample);
        }
    }
    total
}

/// A plain TCP relay (no HTTP at all) in front of `upstream`: the floor cost of one more
/// loopback hop on this machine, for comparison with the gateway's c=1 figures.
async fn tcp_relay(upstream: SocketAddr) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut downstream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut upstream) = TcpStream::connect(upstream).await {
                    let _ = downstream.set_nodelay(true);
                    let _ = upstream.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut downstream, &mut upstream).await;
                }
            });
        }
    });
    Ok(address)
}

/// The audit ingest: answers 200 to every POST and counts the events in it.
async fn ingest() -> Result<(SocketAddr, Arc<AtomicU64>)> {
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

fn write_policy(path: &Path) -> Result<()> {
    let mut document = PolicyDocument::default();
    document.server.name = "bench".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("add", SideEffect::Read, Trust::Low));
    document
        .tools
        .push(Tool::new("echo", SideEffect::Read, Trust::Low));
    document.tools.push(Tool::new(
        "delete_note",
        SideEffect::Destructive,
        Trust::High,
    ));
    let mut grant = Grant::new("default", "bench-agent-read");
    grant.agent_id = AGENT.into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now())?;
    std::fs::write(path, serde_json::to_vec_pretty(&document)?)?;
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start_upstream(bin: &Path) -> Result<(Process, SocketAddr)> {
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

async fn wait_ready(address: SocketAddr) -> Result<()> {
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

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS")
}

/// CPU time the process has used so far (all its threads, user and kernel), in nanoseconds,
/// from `/proc/<pid>/task/*/schedstat`. Unlike latency, CPU per request barely moves with the
/// load on the machine, so it compares builds run at different times.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn max_open_files() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Opens a legacy session and its GET stream through the gateway; returns the open stream.
async fn open_idle_stream(address: SocketAddr) -> Result<http::Response<hyper::body::Incoming>> {
    let authority = address.to_string();
    let mut sender = connect(address).await?;
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"gateway-bench","version":"1"}}}"#;
    let post = |body: &'static str, session: Option<&str>| {
        let mut builder = http::Request::post("/mcp")
            .header("host", authority.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("x-mcp-agent-id", AGENT);
        if let Some(session) = session {
            builder = builder
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        builder.body(Full::new(Bytes::from_static(body.as_bytes())))
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
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            Some(&session),
        )?)
        .await?;
    response.into_body().collect().await?;
    sender.ready().await?;
    let get = http::Request::get("/mcp")
        .header("host", authority.as_str())
        .header("accept", "text/event-stream")
        .header("x-mcp-agent-id", AGENT)
        .header("mcp-session-id", session.as_str())
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(get).await?;
    if response.status() != 200 {
        bail!("GET stream answered {}", response.status());
    }
    // The connection task keeps running; the stream stays open while the response lives.
    std::mem::forget(sender);
    Ok(response)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p mcp-runtime`",
            args.bin.display()
        );
    }
    let needed = 2 * args.idle_streams as u64 + 256;
    if let Some(limit) = max_open_files()
        && limit < needed
    {
        bail!("open-file limit {limit} is below {needed}: raise it with `ulimit -n {needed}`");
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let policy = scratch.path().join("policy.json");
    write_policy(&policy)?;
    let (ingest, audited) = ingest().await?;
    let (upstream_process, upstream) = start_upstream(&args.bin)?;
    let upstream_pid = upstream_process.0.id();
    let gateway_port = free_port()?;
    let mut gateway_command = Command::new(&args.bin);
    gateway_command.arg("gateway");
    if !args.without_audit {
        gateway_command.args(["--analytics-ingest-url", &format!("http://{ingest}/events")]);
    }
    if let Some(threads) = args.gateway_threads {
        gateway_command.args(["--worker-threads", &threads.to_string()]);
    }
    let gateway_child = gateway_command
        .args(["--address", "127.0.0.1", "--metrics-port", "0"])
        .args(["--port", &gateway_port.to_string()])
        .args(["--upstream-url", &format!("http://{upstream}")])
        .arg("--policy-file")
        .arg(&policy)
        .args(["--auth-mode", "header"])
        .arg("--audit-spool-dir")
        .arg(scratch.path().join("spool"))
        .args(["--server-name", "bench"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the gateway")?;
    let gateway_pid = gateway_child.id();
    let _gateway_process = Process(gateway_child);
    let gateway = SocketAddr::from(([127, 0, 0, 1], gateway_port));
    wait_ready(gateway).await?;
    let rss_start = rss_kib(gateway_pid)?;

    // Both targets must answer correctly before anything is measured.
    for target in [upstream, gateway] {
        let sample = closed_loop(target, Some(1), None).await;
        if sample.ok != 1 {
            let mut sender = connect(target).await?;
            call_once(&mut sender, &target.to_string())
                .await
                .with_context(|| format!("checking {target}"))?;
        }
    }

    println!("# Gateway benchmark");
    println!();
    println!(
        "machine: {} cores, {}; load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        load_average()
    );
    println!(
        "rounds: {}; c=1: {} requests per round and target; c={}: {} s per round and target; audit {}",
        args.rounds,
        args.c1_requests,
        args.concurrency,
        args.seconds,
        if args.without_audit { "OFF" } else { "on" }
    );

    let targets = [("direct", upstream), ("gateway", gateway)];
    let relay = tcp_relay(upstream).await?;
    let mut c1_relay = Sample::default();
    let mut c1 = [Sample::default(), Sample::default()];
    let mut cn = [Sample::default(), Sample::default()];
    let mut rps_rounds: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut gateway_calls = 0u64;
    // CPU time at c=1: of the upstream in the direct runs, of the gateway in the gateway runs.
    let mut c1_cpu_ns = [0u64; 2];
    let mut c1_cpu_requests = [0u64; 2];
    for round in 0..args.rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for &i in &order {
            let warm = closed_loop(targets[i].1, Some(200), None).await;
            let cpu_before = [cpu_ns(upstream_pid), cpu_ns(gateway_pid)];
            let sample = closed_loop(targets[i].1, Some(args.c1_requests), None).await;
            let cpu_after = [cpu_ns(upstream_pid), cpu_ns(gateway_pid)];
            if i == 1 {
                gateway_calls += warm.sent() + sample.sent();
                c1_cpu_ns[1] += cpu_after[1].saturating_sub(cpu_before[1]);
            } else {
                c1_cpu_ns[0] += cpu_after[0].saturating_sub(cpu_before[0]);
            }
            c1_cpu_requests[i] += sample.sent();
            c1[i].merge(sample);
        }
        let _warm = closed_loop(relay, Some(200), None).await;
        c1_relay.merge(closed_loop(relay, Some(args.c1_requests), None).await);
        for &i in &order {
            let sample = concurrent(targets[i].1, args.concurrency, args.seconds).await;
            rps_rounds[i].push(sample.rps());
            if i == 1 {
                gateway_calls += sample.sent();
            }
            cn[i].merge(sample);
        }
        eprintln!("round {} done", round + 1);
    }
    let rss_after_load = rss_kib(gateway_pid)?;

    // Idle SSE streams through the gateway.
    let mut streams = Vec::with_capacity(args.idle_streams);
    let mut stream_errors = 0;
    for _ in 0..args.idle_streams {
        match open_idle_stream(gateway).await {
            Ok(stream) => streams.push(stream),
            Err(_) => stream_errors += 1,
        }
    }
    // Let the processes settle, then read the gateway's resident set with the streams open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_streams = rss_kib(gateway_pid)?;
    let open = streams.len();
    drop(streams);

    // Every MCP POST through the gateway is audited (the calls, the first check, and each
    // stream's initialize and initialized); wait (bounded) for the ingest to have them all.
    let expected_events = gateway_calls + 1 + 2 * open as u64;
    let deadline = Instant::now() + Duration::from_secs(15);
    while audited.load(Ordering::Relaxed) < expected_events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = audited.load(Ordering::Relaxed);

    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let [mut c1_direct, mut c1_gateway] = c1;
    let [cn_direct, cn_gateway] = &mut cn;
    let [rps_direct_rounds, rps_gateway_rounds] = &mut rps_rounds;
    let (p50_d, p50_g) = (
        c1_direct.percentile_us(50.0),
        c1_gateway.percentile_us(50.0),
    );
    let (p99_d, p99_g) = (
        c1_direct.percentile_us(99.0),
        c1_gateway.percentile_us(99.0),
    );
    let (rps_d, rps_g) = (median(rps_direct_rounds), median(rps_gateway_rounds));
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };

    println!("load average at end {}", load_average());
    println!();
    println!("| measure | direct | gateway | gateway − direct / ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| c=1 p50 | {p50_d:.0} µs | {p50_g:.0} µs | +{:.0} µs | ≤ +100 µs: {} |",
        p50_g - p50_d,
        verdict(p50_g - p50_d <= 100.0)
    );
    println!(
        "| c=1 p90 | {:.0} µs | {:.0} µs | +{:.0} µs | – |",
        c1_direct.percentile_us(90.0),
        c1_gateway.percentile_us(90.0),
        c1_gateway.percentile_us(90.0) - c1_direct.percentile_us(90.0)
    );
    println!(
        "| c=1 p99 | {p99_d:.0} µs | {p99_g:.0} µs | +{:.0} µs | ≤ +500 µs: {} |",
        p99_g - p99_d,
        verdict(p99_g - p99_d <= 500.0)
    );
    println!(
        "| c=1 p50 / p99 through a plain TCP relay (one more hop, no HTTP) | {:.0} / {:.0} µs | | +{:.0} / +{:.0} µs | – |",
        c1_relay.percentile_us(50.0),
        c1_relay.percentile_us(99.0),
        c1_relay.percentile_us(50.0) - p50_d,
        c1_relay.percentile_us(99.0) - p99_d
    );
    let per_request_us = |i: usize| c1_cpu_ns[i] as f64 / c1_cpu_requests[i].max(1) as f64 / 1000.0;
    println!(
        "| c=1 CPU per request: the upstream's (direct), the gateway's own (gateway) | {:.1} µs | {:.1} µs | {:.2} × | – |",
        per_request_us(0),
        per_request_us(1),
        per_request_us(1) / per_request_us(0)
    );
    println!(
        "| c=1 errors | {} | {} | | 0 |",
        c1_direct.errors, c1_gateway.errors
    );
    println!(
        "| c={} RPS (median of rounds) | {rps_d:.0} | {rps_g:.0} | {:.0} % | ≥ 50 %: {} |",
        args.concurrency,
        100.0 * rps_g / rps_d,
        verdict(rps_g >= 0.5 * rps_d)
    );
    println!(
        "| c={} p50 / p99 | {:.0} / {:.0} µs | {:.0} / {:.0} µs | | – |",
        args.concurrency,
        cn_direct.percentile_us(50.0),
        cn_direct.percentile_us(99.0),
        cn_gateway.percentile_us(50.0),
        cn_gateway.percentile_us(99.0)
    );
    println!(
        "| c={} errors | {} | {} | | 0: {} |",
        args.concurrency,
        cn_direct.errors,
        cn_gateway.errors,
        verdict(cn_gateway.errors == 0 && cn_direct.errors == 0)
    );
    println!(
        "| gateway RSS: start / after load / {open} idle SSE streams | | {:.1} / {:.1} / {:.1} MiB | | < 100 MB: {} |",
        rss_start as f64 / 1024.0,
        rss_after_load as f64 / 1024.0,
        rss_streams as f64 / 1024.0,
        verdict(rss_streams * 1024 < 100_000_000 && open == args.idle_streams)
    );
    println!();
    println!(
        "rounds, c={} RPS: direct {:?}, gateway {:?}",
        args.concurrency,
        rps_direct_rounds
            .iter()
            .map(|r| r.round() as u64)
            .collect::<Vec<_>>(),
        rps_gateway_rounds
            .iter()
            .map(|r| r.round() as u64)
            .collect::<Vec<_>>()
    );
    println!(
        "idle streams: {open} open, {stream_errors} failed; audit events received by the ingest: {events} for {expected_events} MCP requests through the gateway"
    );
    Ok(())
}
