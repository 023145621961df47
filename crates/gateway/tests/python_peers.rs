//! The gateway between the official Python MCP SDK's server and client (mcp 2.3.0), in both
//! protocol eras: tools/list is filtered, an allowed call returns the upstream result, a denied
//! call is refused with its reason and never reaches the server.
//!
//! Needs a Python with `mcp==2.3.0`: `.ci/run` creates it at `target/peers/venv`; elsewhere set
//! `MCP_RUNTIME_TEST_PYTHON` to such an interpreter.

use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig, ServerLabels};
use mcp_runtime_policy::{CompiledPolicy, Grant, PolicyDocument, SideEffect, Tool, Trust};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_runtime_peers::{free_port, python, workspace};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(marker: &Path) -> (Server, u16) {
    let port = free_port();
    let child = Command::new(python())
        .arg(workspace().join("tests/peers/python/server.py"))
        .arg(port.to_string())
        .arg(marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Python MCP server");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the Python MCP server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

fn policy() -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = "peer-python".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("add", SideEffect::Read, Trust::Low));
    document.tools.push(Tool::new(
        "secret_admin",
        SideEffect::Destructive,
        Trust::High,
    ));
    let mut grant = Grant::new("default", "py-agent-read");
    grant.agent_id = "py-agent".into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_and_server_through_the_gateway_in_both_eras() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let marker = scratch.path().join("secret_admin_was_called");
    let (_server, port) = start_server(&marker);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let gateway = listener.local_addr().expect("addr");
    let policy = policy();
    let proxy = Proxy::new(ProxyConfig {
        upstream: format!("http://127.0.0.1:{port}").parse().expect("uri"),
        strip_prefix: None,
        deny_encoding: DenyEncoding::JsonRpc,
        limits: Limits::default(),
        policy: Arc::new(move || Some(policy.clone())),
        config_status: None,
        allowed_origins: vec!["http://trusted.example".into()],
        oauth: Default::default(),
        audit: None,
        labels: ServerLabels::default(),
        metrics: None,
    });
    tokio::spawn(proxy.serve(listener));

    for mode in ["auto", "legacy"] {
        let output = tokio::task::spawn_blocking(move || {
            Command::new(python())
                .arg(workspace().join("tests/peers/python/client.py"))
                .arg(format!("http://{gateway}/mcp"))
                .arg(mode)
                .arg("py-agent")
                .output()
                .expect("run the Python MCP client")
        })
        .await
        .expect("client task");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{mode}: client failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result: serde_json::Value = serde_json::from_str(stdout.trim()).expect("client JSON");
        assert_eq!(
            result["tools"],
            serde_json::json!(["add"]),
            "{mode}: tools/list must be filtered"
        );
        assert_eq!(
            result["add"],
            serde_json::json!(["3"]),
            "{mode}: allowed call returns the result"
        );
        let secret = result["secret"].to_string();
        assert!(
            secret.contains("side_effect_not_allowed"),
            "{mode}: denial must carry its reason: {secret}"
        );
    }
    assert!(!marker.exists(), "a denied call reached the upstream");
}
