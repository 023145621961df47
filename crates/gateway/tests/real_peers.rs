//! The gateway in front of MCP servers written by others, driven by MCP clients written by others.
//!
//! Upstreams: server-everything (Node, streamable HTTP, legacy era), the official Python SDK's
//! server (mcp 2.3.0, both eras) and an rmcp 3.9 server (the example server). Clients: the Python
//! SDK's `Client` in `auto` and `legacy` modes, the MCP Inspector CLI 0.15 and the rmcp client
//! (legacy handshake, and the 2026-07-28 stateless era where the upstream speaks it).
//!
//! For every pair: `tools/list` shows only the granted tools, an allowed `tools/call` returns the
//! upstream's result, a denied one returns the denial with its reason, and a progress-emitting
//! tool streams its notifications through. A relay in front of each upstream records every byte
//! the gateway sent it: the denied tool's name is never among them. Progress arrives as it is
//! emitted, not held back until the result. A legacy session survives its
//! GET stream, a disconnect resumed with `Last-Event-ID`, and ends with DELETE.
//!
//! Peers are installed by `bash .ci/run`; a missing one fails the test naming that step.

mod peers_common;

use mcp_runtime_policy::{CompiledPolicy, Grant, PolicyDocument, SideEffect, Tool, Trust};
use peers_common::{
    Spy, gateway, node_modules, python, python_server, rmcp_server, server_everything, workspace,
};
use rmcp::model::{CallToolRequestParams, ProgressNotificationParam, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};

const AGENT: &str = "peer-agent";

/// What one upstream is expected to do behind the gateway.
struct Case {
    name: &'static str,
    /// The filtered `tools/list`, sorted.
    listed: &'static [&'static str],
    /// An allowed call, and a fragment of its text result.
    allowed: (&'static str, Value, &'static str),
    /// The same allowed call as Inspector `--tool-arg` pairs (the Inspector sends strings).
    allowed_inspector: &'static [&'static str],
    /// A denied call, and the reason the gateway must give.
    denied: (&'static str, Value, &'static str),
    /// A progress-emitting call, its number of progress notifications and a result fragment.
    progress: Option<(&'static str, Value, usize, &'static str)>,
    /// Whether the upstream serves the 2026-07-28 stateless era too.
    modern: bool,
}

fn policy(name: &str, tools: &[(&str, SideEffect, Trust)]) -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = name.into();
    document.server.namespace = "default".into();
    for (tool, side_effect, trust) in tools {
        document.tools.push(Tool::new(*tool, *side_effect, *trust));
    }
    let mut grant = Grant::new("default", "peer-agent-read-write");
    grant.agent_id = AGENT.into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into(), SideEffect::Write.into()];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

/// Drives the gateway at `url` with every client and checks `case`.
async fn drive_all_clients(url: &str, case: &Case) {
    for mode in ["auto", "legacy"] {
        python_client(url, mode, case).await;
    }
    inspector(url, case).await;
    rmcp_client(url, case, false).await;
    if case.modern {
        rmcp_client(url, case, true).await;
    }
}

async fn python_client(url: &str, mode: &'static str, case: &Case) {
    let spec = json!({
        "allowed": [case.allowed.0, case.allowed.1],
        "denied": [case.denied.0, case.denied.1],
        "progress": case.progress.as_ref().map(|(tool, args, _, _)| json!([tool, args])),
    });
    let url = url.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(workspace().join("tests/peers/python/drive.py"))
            .arg(url)
            .arg(mode)
            .arg(AGENT)
            .arg(spec.to_string())
            .output()
            .expect("run the Python MCP client")
    })
    .await
    .expect("client task");
    let label = format!("{} / python {mode}", case.name);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{label}: client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(stdout.trim()).expect("client JSON");
    assert_eq!(result["tools"], json!(case.listed), "{label}: tools/list");
    assert!(
        result["allowed"].to_string().contains(case.allowed.2),
        "{label}: allowed call: {}",
        result["allowed"]
    );
    let denied = result["denied"].to_string();
    assert!(
        denied.contains(case.denied.2) && denied.contains("denied"),
        "{label}: the denial must carry its reason: {denied}"
    );
    if let Some((_, _, steps, text)) = &case.progress {
        assert_eq!(
            result["progress"].as_array().map(Vec::len),
            Some(*steps),
            "{label}: progress notifications: {}",
            result["progress"]
        );
        assert!(
            result["progress_result"].to_string().contains(text),
            "{label}: {}",
            result["progress_result"]
        );
    }
}

/// The MCP Inspector CLI. It cannot set headers, so the identity header is added to its fetch()
/// by `tests/peers/node/identity-headers.cjs`, as a trusted adapter in front of it would.
async fn inspector(url: &str, case: &Case) {
    let run = |args: Vec<String>| {
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            let modules = node_modules();
            Command::new(modules.join(".bin/mcp-inspector"))
                .arg("--cli")
                .arg(url)
                .args(["--transport", "http"])
                .args(args)
                .env(
                    "NODE_OPTIONS",
                    format!(
                        "--require {}",
                        workspace()
                            .join("tests/peers/node/identity-headers.cjs")
                            .display()
                    ),
                )
                .env(
                    "MCP_PEER_HEADERS",
                    json!({"X-MCP-Agent-ID": AGENT}).to_string(),
                )
                .output()
                .expect("run the MCP Inspector CLI")
        })
    };
    let label = format!("{} / inspector", case.name);

    let listed = run(vec!["--method".into(), "tools/list".into()])
        .await
        .expect("task");
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{label}: tools/list failed: {stdout}{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let tools: Value = serde_json::from_str(&stdout).expect("inspector JSON");
    let mut names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, case.listed, "{label}: tools/list");

    let mut args: Vec<String> = ["--method", "tools/call", "--tool-name", case.allowed.0]
        .into_iter()
        .map(str::to_owned)
        .collect();
    for pair in case.allowed_inspector {
        args.push("--tool-arg".into());
        args.push((*pair).to_owned());
    }
    let allowed = run(args).await.expect("task");
    let stdout = String::from_utf8_lossy(&allowed.stdout);
    assert!(
        allowed.status.success() && stdout.contains(case.allowed.2),
        "{label}: allowed call: {stdout}{}",
        String::from_utf8_lossy(&allowed.stderr)
    );

    let denied = run(vec![
        "--method".into(),
        "tools/call".into(),
        "--tool-name".into(),
        case.denied.0.into(),
    ])
    .await
    .expect("task");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&denied.stdout),
        String::from_utf8_lossy(&denied.stderr)
    );
    assert!(
        !denied.status.success() && output.contains(case.denied.2),
        "{label}: the denial must fail the call with its reason: {output}"
    );
}

/// An rmcp client that records progress notifications.
#[derive(Clone, Debug, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<f64>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().expect("lock").push(params.progress);
    }
}

fn text_of(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

fn object(value: &Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

async fn rmcp_client(url: &str, case: &Case, modern: bool) {
    let label = format!(
        "{} / rmcp {}",
        case.name,
        if modern { "2026-07-28" } else { "legacy" }
    );
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    config.custom_headers.insert(
        http::HeaderName::from_static("x-mcp-agent-id"),
        http::HeaderValue::from_static(AGENT),
    );
    let transport = StreamableHttpClientTransport::from_config(config);
    let recorder = Recorder::default();
    let client: RunningService<RoleClient, Recorder> = if modern {
        recorder
            .clone()
            .serve_with_lifecycle(
                transport,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{label}: discover: {e}"))
    } else {
        recorder
            .clone()
            .serve(transport)
            .await
            .unwrap_or_else(|e| panic!("{label}: initialize: {e}"))
    };
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap_or_else(|e| panic!("{label}: tools/list: {e}"))
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(names, case.listed, "{label}: tools/list");

    let (tool, args, expected) = &case.allowed;
    let result = client
        .call_tool(CallToolRequestParams::new(*tool).with_arguments(object(args)))
        .await
        .unwrap_or_else(|e| panic!("{label}: allowed call: {e}"));
    assert!(text_of(&result).contains(expected), "{label}: {result:?}");

    let (tool, args, reason) = &case.denied;
    let denied = client
        .call_tool(CallToolRequestParams::new(*tool).with_arguments(object(args)))
        .await;
    let denial = format!("{denied:?}");
    assert!(
        denied.is_err() && denial.contains(reason) && denial.contains("denied"),
        "{label}: the denial must carry its reason: {denial}"
    );

    if let Some((tool, args, steps, expected)) = &case.progress {
        let result = client
            .call_tool(CallToolRequestParams::new(*tool).with_arguments(object(args)))
            .await
            .unwrap_or_else(|e| panic!("{label}: progress call: {e}"));
        assert!(text_of(&result).contains(expected), "{label}: {result:?}");
        // The rmcp client hands notifications to its handler on another task, so the last one
        // may be delivered just after the result: wait for it, bounded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while recorder.progress.lock().expect("lock").len() < *steps
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let progress = recorder.progress.lock().expect("lock").clone();
        assert_eq!(progress.len(), *steps, "{label}: progress {progress:?}");
    }
    client.cancel().await.expect("close");
}

async fn run_case(upstream: SocketAddr, policy: Arc<CompiledPolicy>, case: &Case) {
    let spy = Spy::start(upstream).await;
    let gateway = gateway(spy.address, policy).await;
    let url = format!("http://{gateway}/mcp");
    drive_all_clients(&url, case).await;
    assert!(
        spy.saw(case.allowed.0),
        "{}: the relay records what reaches the upstream",
        case.name
    );
    assert!(
        !spy.saw(case.denied.0),
        "{}: a denied call reached the upstream",
        case.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_everything_behind_the_gateway() {
    let (_server, upstream) = server_everything();
    let policy = policy(
        "everything",
        &[
            ("echo", SideEffect::Read, Trust::Low),
            ("get-sum", SideEffect::Read, Trust::Low),
            (
                "trigger-long-running-operation",
                SideEffect::Read,
                Trust::Low,
            ),
            // Reads the server's environment: more trust than the grant confers.
            ("get-env", SideEffect::Read, Trust::High),
        ],
    );
    let case = Case {
        name: "server-everything",
        listed: &["echo", "get-sum", "trigger-long-running-operation"],
        allowed: ("echo", json!({"message": "hi there"}), "Echo: hi there"),
        allowed_inspector: &["message=hi there"],
        denied: ("get-env", json!({}), "trust_too_low"),
        progress: Some((
            "trigger-long-running-operation",
            json!({"duration": 0.2, "steps": 4}),
            4,
            "Long running operation completed",
        )),
        modern: false,
    };
    run_case(upstream, policy, &case).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_server_behind_the_gateway() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let marker = scratch.path().join("secret_admin_was_called");
    let (_server, upstream) = python_server(&marker);
    let policy = policy(
        "peer-python",
        &[
            ("add", SideEffect::Read, Trust::Low),
            ("countdown", SideEffect::Read, Trust::Low),
            ("secret_admin", SideEffect::Destructive, Trust::High),
        ],
    );
    let case = Case {
        name: "python",
        listed: &["add", "countdown"],
        allowed: ("add", json!({"a": 1, "b": 2}), "3"),
        allowed_inspector: &["a=1", "b=2"],
        denied: ("secret_admin", json!({}), "side_effect_not_allowed"),
        progress: Some(("countdown", json!({"steps": 3}), 3, "liftoff after 3 steps")),
        modern: true,
    };
    run_case(upstream, policy, &case).await;
    assert!(!marker.exists(), "a denied call ran on the upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_server_behind_the_gateway() {
    let (_server, upstream) = rmcp_server().await;
    let policy = policy(
        "example",
        &[
            ("echo", SideEffect::Read, Trust::Low),
            ("add", SideEffect::Read, Trust::Low),
            ("countdown", SideEffect::Read, Trust::Low),
            ("list_notes", SideEffect::Read, Trust::Low),
            ("create_note", SideEffect::Write, Trust::Low),
            ("delete_note", SideEffect::Destructive, Trust::Medium),
        ],
    );
    let case = Case {
        name: "rmcp",
        listed: &["add", "countdown", "create_note", "echo", "list_notes"],
        allowed: ("echo", json!({"message": "hi there"}), "hi there"),
        allowed_inspector: &["message=hi there"],
        denied: ("delete_note", json!({"id": 1}), "side_effect_not_allowed"),
        progress: Some((
            "countdown",
            json!({"steps": 3, "delay_ms": 20}),
            3,
            "liftoff after 3 steps",
        )),
        modern: true,
    };
    run_case(upstream, policy, &case).await;
}

// ---- Legacy sessions through the gateway: GET stream, resumption with Last-Event-ID, DELETE ----

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

fn http_client() -> HttpClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// One server-sent event.
#[derive(Debug, Default)]
struct Event {
    id: Option<String>,
    data: String,
}

/// Reads the events of an SSE body.
struct Events {
    body: hyper::body::Incoming,
    pending: Vec<u8>,
}

impl Events {
    fn new(response: http::Response<hyper::body::Incoming>) -> Events {
        Events {
            body: response.into_body(),
            pending: Vec::new(),
        }
    }

    /// The next event; `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        use http_body_util::BodyExt;
        loop {
            let text = String::from_utf8_lossy(&self.pending).replace("\r\n", "\n");
            if let Some(end) = text.find("\n\n") {
                let mut event = Event::default();
                for line in text[..end].lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        event.id = Some(id.trim().to_owned());
                    } else if let Some(data) = line.strip_prefix("data:") {
                        event.data.push_str(data.trim_start());
                    }
                }
                self.pending = text.as_bytes()[end + 2..].to_vec();
                return Some(event);
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.pending.extend_from_slice(&data);
                    }
                }
                _ => return None,
            }
        }
    }
}

fn mcp_request(
    method: http::Method,
    url: &str,
    session: Option<&str>,
    body: Option<Value>,
) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url)
        .header("x-mcp-agent-id", AGENT)
        .header("accept", "application/json, text/event-stream");
    if let Some(session) = session {
        builder = builder
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let bytes = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            bytes::Bytes::from(body.to_string())
        }
        None => bytes::Bytes::new(),
    };
    builder
        .body(http_body_util::Full::new(bytes))
        .expect("request")
}

fn is_sse(response: &http::Response<hyper::body::Incoming>) -> bool {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Bounds every network wait of the session test.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(20), future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

async fn legacy_session(name: &str, url: &str, tool: &str, args: Value, steps: usize) {
    let client = http_client();

    // initialize: the session is assigned on the response.
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "gateway-session-test", "version": "1"}}});
    let response = within(
        "initialize",
        client.request(mcp_request(http::Method::POST, url, None, Some(initialize))),
    )
    .await
    .expect("initialize");
    assert_eq!(response.status(), 200, "{name}: initialize");
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{name}: no Mcp-Session-Id through the gateway"))
        .to_owned();
    drop(response);
    let session = Some(session.as_str());
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = within(
        "initialized",
        client.request(mcp_request(
            http::Method::POST,
            url,
            session,
            Some(initialized),
        )),
    )
    .await
    .expect("initialized");
    assert_eq!(response.status(), 202, "{name}: notifications/initialized");

    // The standalone GET stream opens through the gateway and stays open.
    let get = within(
        "GET stream",
        client.request(mcp_request(http::Method::GET, url, session, None)),
    )
    .await
    .expect("GET");
    assert_eq!(get.status(), 200, "{name}: GET stream");
    assert!(is_sse(&get), "{name}: GET answers text/event-stream");
    let mut get_stream = Events::new(get);

    // Progress streams through as it happens: the first notification arrives well before the
    // result (the tool sleeps between steps), not buffered together with it.
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": tool, "arguments": args, "_meta": {"progressToken": "timing"}}});
    let response = within(
        "tools/call",
        client.request(mcp_request(http::Method::POST, url, session, Some(call))),
    )
    .await
    .expect("tools/call");
    let mut events = Events::new(response);
    let mut first_progress_at = None;
    let result_at = loop {
        let event = within("streamed call", events.next())
            .await
            .unwrap_or_else(|| panic!("{name}: the call stream ended without a result"));
        if event.data.contains("notifications/progress") {
            first_progress_at.get_or_insert_with(std::time::Instant::now);
        } else if event.data.contains("\"result\"") {
            break std::time::Instant::now();
        }
    };
    let first_progress_at =
        first_progress_at.unwrap_or_else(|| panic!("{name}: no progress before the result"));
    assert!(
        result_at - first_progress_at >= std::time::Duration::from_millis(150),
        "{name}: progress was held back until the result ({:?} apart)",
        result_at - first_progress_at
    );
    drop(events);

    // A progress-emitting call; the client goes away after the first progress notification.
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": tool, "arguments": args, "_meta": {"progressToken": "resume-me"}}});
    let response = within(
        "tools/call",
        client.request(mcp_request(http::Method::POST, url, session, Some(call))),
    )
    .await
    .expect("tools/call");
    assert_eq!(response.status(), 200, "{name}: tools/call");
    assert!(is_sse(&response), "{name}: the call streams");
    let mut events = Events::new(response);
    let mut last_id = None;
    let first_progress = loop {
        let event = within("first progress", events.next())
            .await
            .unwrap_or_else(|| panic!("{name}: the call stream ended before any progress"));
        if event.id.is_some() {
            last_id = event.id.clone();
        }
        if event.data.contains("notifications/progress") {
            let value: Value = serde_json::from_str(&event.data).expect("progress JSON");
            break value["params"]["progress"].to_string();
        }
    };
    drop(events);
    let mut last_id =
        last_id.unwrap_or_else(|| panic!("{name}: SSE events carry no ids: cannot resume"));

    // Resume with GET + Last-Event-ID, as a client polls after a disconnect, until the result
    // arrives. Each attempt continues after the last event received.
    let mut progress = std::collections::BTreeSet::from([first_progress]);
    let mut result = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while result.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "{name}: resumption never delivered the result"
        );
        let mut request = mcp_request(http::Method::GET, url, session, None);
        request.headers_mut().insert(
            "last-event-id",
            http::HeaderValue::from_str(&last_id).expect("id"),
        );
        let response = within("resume", client.request(request))
            .await
            .expect("resume");
        assert_eq!(response.status(), 200, "{name}: resume");
        let mut resumed = Events::new(response);
        // An attempt ends when the stream is idle: the server has nothing more to replay yet.
        while let Ok(Some(event)) =
            tokio::time::timeout(std::time::Duration::from_millis(500), resumed.next()).await
        {
            if let Some(id) = event.id {
                last_id = id;
            }
            if event.data.contains("notifications/progress") {
                let value: Value = serde_json::from_str(&event.data).expect("progress JSON");
                progress.insert(value["params"]["progress"].to_string());
            } else if event.data.contains("\"result\"") {
                let value: Value = serde_json::from_str(&event.data).expect("result JSON");
                result = Some(value);
                break;
            }
        }
    }
    let result = result.unwrap_or_default();
    assert_eq!(
        result["id"], 2,
        "{name}: the resumed result answers the call"
    );
    // Every step's notification arrives across the disconnect. (rmcp 3.9 also replays the event
    // named by Last-Event-ID itself, directly as through the gateway, so steps are counted once.)
    assert_eq!(
        progress.len(),
        steps,
        "{name}: every progress notification arrives across the resumption: {progress:?}"
    );

    // The session still serves requests after the GET stream and the resumption.
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    let response = within(
        "tools/list",
        client.request(mcp_request(http::Method::POST, url, session, Some(list))),
    )
    .await
    .expect("tools/list");
    assert_eq!(response.status(), 200, "{name}: the session survives");
    drop(response);

    // DELETE ends the session upstream: its GET stream closes and the id is refused afterwards.
    let response = within(
        "DELETE",
        client.request(mcp_request(http::Method::DELETE, url, session, None)),
    )
    .await
    .expect("DELETE");
    assert!(
        response.status().is_success(),
        "{name}: DELETE answered {}",
        response.status()
    );
    while within("GET stream closes after DELETE", get_stream.next())
        .await
        .is_some()
    {}
    let list = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"});
    let response = within(
        "tools/list after DELETE",
        client.request(mcp_request(http::Method::POST, url, session, Some(list))),
    )
    .await
    .expect("tools/list after DELETE");
    assert!(
        matches!(response.status().as_u16(), 400 | 404),
        "{name}: a deleted session is refused, got {}",
        response.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sessions_survive_get_resume_and_delete_through_the_gateway() {
    let everything_policy = policy(
        "everything",
        &[(
            "trigger-long-running-operation",
            SideEffect::Read,
            Trust::Low,
        )],
    );
    let (_everything, everything) = server_everything();
    let gateway_everything = gateway(everything, everything_policy).await;
    legacy_session(
        "server-everything",
        &format!("http://{gateway_everything}/mcp"),
        "trigger-long-running-operation",
        json!({"duration": 0.4, "steps": 4}),
        4,
    )
    .await;

    let rmcp_policy = policy("example", &[("countdown", SideEffect::Read, Trust::Low)]);
    let (_rmcp, rmcp) = rmcp_server().await;
    let gateway_rmcp = gateway(rmcp, rmcp_policy).await;
    legacy_session(
        "rmcp",
        &format!("http://{gateway_rmcp}/mcp"),
        "countdown",
        json!({"steps": 4, "delay_ms": 100}),
        4,
    )
    .await;
}
