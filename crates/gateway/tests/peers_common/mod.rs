//! Shared by the tests that run the gateway between real MCP peers written by others.
//!
//! The peers are installed by `bash .ci/run`: the Python SDK in `target/peers/venv`, the Node
//! peers (server-everything, the MCP Inspector) in `target/peers/node`, and node 22 with the MCP
//! conformance suite in `target/peers/node22`. A missing peer fails the test naming that step.

#![allow(dead_code)]

use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig, ServerLabels};
use mcp_runtime_policy::CompiledPolicy;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

pub use mcp_runtime_peers::{free_port, node_modules, python, workspace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A child process killed when dropped.
pub use mcp_runtime_peers::KillOnDrop as Peer;
pub use mcp_runtime_peers::wait_listening;

/// server-everything in streamable-HTTP mode (legacy era, sessions, resumable SSE), kept on
/// loopback by the `tests/peers/node/loopback.cjs` preload.
pub fn server_everything() -> (Peer, SocketAddr) {
    let modules = node_modules();
    let port = free_port();
    let mut child = Command::new("node")
        .arg("--require")
        .arg(workspace().join("tests/peers/node/loopback.cjs"))
        .arg(modules.join("@modelcontextprotocol/server-everything/dist/index.js"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server-everything (node)");
    wait_listening(port, "server-everything", &mut child);
    (Peer(child), SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The Python SDK's server from `tests/peers/python/server.py` (tools `add`, `countdown`,
/// `secret_admin`).
pub fn python_server(marker: &Path) -> (Peer, SocketAddr) {
    let (peer, port) = mcp_runtime_peers::python_server(marker);
    (peer, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The rmcp example server, in process; stops when the token is dropped.
pub async fn rmcp_server() -> (tokio_util::sync::DropGuard, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(mcp_runtime_example_server::serve_http(
        listener,
        shutdown.clone(),
    ));
    (shutdown.drop_guard(), address)
}

/// A TCP relay between the gateway and an upstream that records every byte sent upstream, so a
/// test can prove what the upstream never received.
#[derive(Clone, Debug)]
pub struct Spy {
    pub address: SocketAddr,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Spy {
    pub async fn start(upstream: SocketAddr) -> Spy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr");
        let sent: Arc<Mutex<Vec<u8>>> = Arc::default();
        let record = sent.clone();
        tokio::spawn(async move {
            while let Ok((downstream, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = downstream.set_nodelay(true);
                    let _ = upstream.set_nodelay(true);
                    let (mut down_read, mut down_write) = downstream.into_split();
                    let (mut up_read, mut up_write) = upstream.into_split();
                    let to_upstream = async move {
                        let mut buffer = vec![0u8; 16 * 1024];
                        loop {
                            let n = match down_read.read(&mut buffer).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            record.lock().expect("lock").extend_from_slice(&buffer[..n]);
                            if up_write.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = up_write.shutdown().await;
                    };
                    let to_downstream = async move {
                        let _ = tokio::io::copy(&mut up_read, &mut down_write).await;
                        let _ = down_write.shutdown().await;
                    };
                    tokio::join!(to_upstream, to_downstream);
                });
            }
        });
        Spy { address, sent }
    }

    /// Whether `needle` ever crossed the wire to the upstream.
    pub fn saw(&self, needle: &str) -> bool {
        let sent = self.sent.lock().expect("lock");
        sent.windows(needle.len()).any(|w| w == needle.as_bytes())
    }
}

/// The gateway (header identity, JSON-RPC denials) in front of `upstream`, on loopback.
pub async fn gateway(upstream: SocketAddr, policy: Arc<CompiledPolicy>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let proxy = Proxy::new(ProxyConfig {
        upstream: format!("http://{upstream}").parse().expect("uri"),
        strip_prefix: None,
        deny_encoding: DenyEncoding::JsonRpc,
        limits: Limits::default(),
        policy: Arc::new(move || Some(policy.clone())),
        config_status: None,
        audit: None,
        labels: ServerLabels::default(),
        metrics: None,
        allowed_origins: Vec::new(),
        oauth: Default::default(),
    });
    tokio::spawn(proxy.serve(listener));
    address
}
