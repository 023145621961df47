//! The library API: `serve` runs the configured command with the configured environment, and
//! returns only after every child it started has exited.
//!
//! Needs node with server-everything in `target/peers/node`: `bash .ci/run` installs it.

use mcp_runtime_bridge::{BridgeConfig, Grace};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn server_everything() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        script.exists(),
        "server-everything is missing at {}: run `bash .ci/run` (it runs npm install --prefix target/peers/node)",
        script.display()
    );
    script
}

/// A raw HTTP/1.1 POST with a JSON reply; returns (status, session header, body).
fn post(address: &str, session: Option<&str>, body: &Value) -> (u16, Option<String>, Value) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.to_string();
    let session = session.map_or(String::new(), |s| format!("mcp-session-id: {s}\r\n"));
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {address}\r\naccept: application/json\r\ncontent-type: application/json\r\n{session}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let session = head
        .lines()
        .find_map(|l| l.strip_prefix("mcp-session-id: "))
        .map(str::to_owned);
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).expect("JSON body")
    };
    (status, session, body)
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().next() != Some("Z"))
        })
        .unwrap_or(false)
}

/// Live processes whose parent is this test process.
fn my_children() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    let mut fields = rest.split_whitespace();
                    let state = fields.next()?;
                    let ppid = fields.next()?.parse::<u32>().ok()?;
                    Some(state != "Z" && ppid == me)
                })
                .unwrap_or(false)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_passes_the_environment_and_stops_its_children_before_returning() {
    let mut config = BridgeConfig::new(
        "node",
        [server_everything().into_os_string(), "stdio".into()],
    );
    config
        .env
        .push(("MCP_BRIDGE_TEST_VALUE".into(), "forty-two".into()));
    config.grace = Grace {
        after_stdin_close: Duration::from_secs(5),
        after_sigterm: Duration::from_secs(5),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr").to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(mcp_runtime_bridge::serve(listener, config, async {
        let _ = stopped.await;
    }));

    let client = address.clone();
    let (pids, env_text) = tokio::task::spawn_blocking(move || {
        let (status, session, init) = post(
            &client,
            None,
            &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
                "protocolVersion":"2025-11-25","capabilities":{},
                "clientInfo":{"name":"test","version":"0"}}}),
        );
        assert_eq!(status, 200, "{init}");
        let session = session.expect("a session id");
        let (status, _, _) = post(
            &client,
            Some(&session),
            &json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        );
        assert_eq!(status, 202);
        let (status, _, env) = post(
            &client,
            Some(&session),
            &json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-env","arguments":{}}}),
        );
        assert_eq!(status, 200, "{env}");
        (
            my_children(),
            env["result"]["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    })
    .await
    .expect("client");
    assert!(
        env_text.contains("MCP_BRIDGE_TEST_VALUE") && env_text.contains("forty-two"),
        "the configured environment reaches the server: {env_text}"
    );
    assert_eq!(pids.len(), 1, "one process for the one session: {pids:?}");

    stop.send(()).expect("stop");
    tokio::time::timeout(Duration::from_secs(30), served)
        .await
        .expect("serve returns")
        .expect("task")
        .expect("serve succeeds");
    for pid in pids {
        assert!(
            !alive(pid),
            "child {pid} is still running after serve returned"
        );
    }
}
