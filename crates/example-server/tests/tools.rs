//! The example server driven by the official Rust SDK's client (rmcp): over an in-memory pipe
//! (what stdio carries) and over streamable HTTP in both protocol eras. Every tool is listed with
//! its annotations and called; the countdown's progress notifications reach the client.

use mcp_runtime_example_server::{ExampleServer, serve_http};
use rmcp::model::{CallToolRequestParams, ProgressNotificationParam, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A client that records every progress notification it receives.
#[derive(Clone, Debug, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    arrived: Arc<tokio::sync::Notify>,
}

impl Recorder {
    /// The `(progress, total)` pairs received so far, once at least `count` have arrived (or
    /// whatever arrived within five seconds, so a missing notification fails the comparison).
    async fn progress_steps(&self, count: usize) -> Vec<(f64, Option<f64>)> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let notified = self.arrived.notified();
            let steps: Vec<(f64, Option<f64>)> = self
                .progress
                .lock()
                .expect("lock")
                .iter()
                .map(|p| (p.progress, p.total))
                .collect();
            if steps.len() >= count || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return steps;
            }
        }
    }
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().expect("lock").push(params);
        self.arrived.notify_waiters();
    }
}

fn args(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("arguments must be an object, got {other}"),
    }
}

async fn call(
    client: &RunningService<RoleClient, Recorder>,
    tool: &'static str,
    arguments: serde_json::Value,
) -> (bool, String) {
    let result = client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args(arguments)))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let text = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("");
    (result.is_error.unwrap_or(false), text)
}

/// Lists and calls every tool; `label` names the transport in failures.
async fn exercise(client: RunningService<RoleClient, Recorder>, label: &str) {
    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add",
            "countdown",
            "create_note",
            "delete_note",
            "echo",
            "list_notes"
        ],
        "{label}"
    );
    for tool in &tools {
        let annotations = tool.annotations.as_ref().expect("annotations");
        let (read_only, destructive) = match tool.name.as_ref() {
            "create_note" => (false, Some(false)),
            "delete_note" => (false, Some(true)),
            _ => (true, None),
        };
        assert_eq!(
            annotations.read_only_hint,
            Some(read_only),
            "{label}: {}",
            tool.name
        );
        assert_eq!(
            annotations.destructive_hint, destructive,
            "{label}: {}",
            tool.name
        );
    }

    assert_eq!(
        call(&client, "echo", serde_json::json!({"message": "hi"})).await,
        (false, "hi".into()),
        "{label}"
    );
    assert_eq!(
        call(&client, "add", serde_json::json!({"a": 1, "b": 2})).await,
        (false, "3".into()),
        "{label}"
    );
    assert_eq!(
        call(&client, "add", serde_json::json!({"a": 0.5, "b": 2})).await,
        (false, "2.5".into()),
        "{label}"
    );

    let (error, created) = call(&client, "create_note", serde_json::json!({"text": "milk"})).await;
    assert!(!error, "{label}: {created}");
    let note: serde_json::Value = serde_json::from_str(&created).expect("note JSON");
    assert_eq!(note["text"], "milk", "{label}");
    let id = note["id"].as_u64().expect("id");
    let (_, listed) = call(&client, "list_notes", serde_json::json!({})).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listed).expect("list JSON"),
        serde_json::json!([{"id": id, "text": "milk"}]),
        "{label}"
    );
    let (error, _) = call(&client, "delete_note", serde_json::json!({"id": id})).await;
    assert!(!error, "{label}");
    let (error, missing) = call(&client, "delete_note", serde_json::json!({"id": id})).await;
    assert!(
        error && missing.contains("no note"),
        "{label}: deleting twice is a tool error: {missing}"
    );
    assert_eq!(
        call(&client, "list_notes", serde_json::json!({})).await,
        (false, "[]".into()),
        "{label}"
    );

    let (error, text) = call(
        &client,
        "countdown",
        serde_json::json!({"steps": 3, "delay_ms": 5}),
    )
    .await;
    assert_eq!((error, text.as_str()), (false, "liftoff after 3 steps"));
    // rmcp runs notification handlers on their own tasks, so the last progress notification can
    // reach the handler just after the result reaches the caller: wait (bounded) for all three.
    let steps = client.service().progress_steps(3).await;
    assert_eq!(
        steps,
        [(1.0, Some(3.0)), (2.0, Some(3.0)), (3.0, Some(3.0))],
        "{label}: one progress notification per step"
    );

    let refused = client
        .call_tool(
            CallToolRequestParams::new("countdown")
                .with_arguments(args(serde_json::json!({"steps": 1_000_000}))),
        )
        .await;
    assert!(
        refused.is_err(),
        "{label}: an oversized countdown is refused"
    );
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn every_tool_over_a_pipe() {
    let (server_side, client_side) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let running = ExampleServer::new()
            .serve(server_side)
            .await
            .expect("server handshake");
        let _ = running.waiting().await;
    });
    let client = Recorder::default()
        .serve(client_side)
        .await
        .expect("client handshake");
    exercise(client, "pipe").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_over_streamable_http_in_both_eras() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve_http(listener, shutdown.clone()));

    let legacy = Recorder::default()
        .serve(StreamableHttpClientTransport::from_uri(url.clone()))
        .await
        .expect("legacy initialize");
    exercise(legacy, "http legacy").await;

    let modern = Recorder::default()
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_uri(url.clone()),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("modern discover");
    assert_eq!(
        modern.peer_info().map(|info| info.protocol_version.clone()),
        Some(ProtocolVersion::V_2026_07_28)
    );
    exercise(modern, "http modern").await;

    shutdown.cancel();
    server.await.expect("join").expect("served");
}
