//! The proxy in front of a recording upstream on loopback: allowed calls pass, denied calls never
//! reach the upstream, tools/list is filtered, credentials and identity headers are scrubbed.

mod oauth_common;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig};
use mcp_runtime_policy::{
    AuthMode, CompiledPolicy, Grant, PolicyDocument, SideEffect, Tool, ToolRule, Trust,
};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

type Seen = Arc<Mutex<Vec<(http::request::Parts, Bytes)>>>;

const TOOLS: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read_file","inputSchema":{}},{"name":"write_file","inputSchema":{}},{"name":"rm_rf","inputSchema":{}}]}}"#;

/// An upstream that records every request and answers tools/list (JSON or SSE) and tools/call.
async fn upstream(sse: bool) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<Incoming>| {
                        let record = record.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|c| c.to_bytes())
                                .unwrap_or_default();
                            let text = String::from_utf8_lossy(&body).to_string();
                            // A resumed stream (GET with Last-Event-ID) replays a tools/list
                            // result, as a server does when the client lost it mid-stream.
                            let resumed = parts.headers.contains_key("last-event-id");
                            record.lock().expect("lock").push((parts, body));
                            let reply = if text.contains("tools/list") || resumed {
                                TOOLS.to_owned()
                            } else {
                                r#"{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"done"}]}}"#.to_owned()
                            };
                            let (content_type, reply) = if sse {
                                (
                                    "text/event-stream",
                                    format!("event: message\nid: 7\ndata: {reply}\n\n"),
                                )
                            } else {
                                ("application/json", reply)
                            };
                            Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .header("content-type", content_type)
                                    .body(Full::new(Bytes::from(reply)))
                                    .expect("response"),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{address}"), seen)
}

fn policy() -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "tools".into();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    document
        .tools
        .push(Tool::new("write_file", SideEffect::Write, Trust::Medium));
    document
        .tools
        .push(Tool::new("rm_rf", SideEffect::Destructive, Trust::High));
    let mut grant = Grant::new("tools", "claude");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::High.into();
    grant.allowed_side_effects = vec![
        SideEffect::Read.into(),
        SideEffect::Write.into(),
        SideEffect::Destructive.into(),
    ];
    grant.tool_rules = vec![
        ToolRule::allow("read_file", Trust::Low),
        ToolRule::allow("write_file", Trust::Low),
        ToolRule::deny("rm_rf"),
    ];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

/// Collects audit events in memory.
#[derive(Default)]
struct Collected(Mutex<Vec<mcp_runtime_audit::AuditEvent>>);

impl mcp_runtime_audit::AuditSink for Collected {
    fn emit(&self, event: mcp_runtime_audit::AuditEvent) {
        self.0.lock().expect("lock").push(event);
    }
}

async fn gateway(upstream: &str, policy: Option<Arc<CompiledPolicy>>) -> String {
    gateway_with_audit(upstream, policy, Arc::default()).await
}

async fn gateway_with_audit(
    upstream: &str,
    policy: Option<Arc<CompiledPolicy>>,
    audit: Arc<Collected>,
) -> String {
    gateway_with(upstream, policy, audit, DenyEncoding::JsonRpc).await
}

async fn gateway_with(
    upstream: &str,
    policy: Option<Arc<CompiledPolicy>>,
    audit: Arc<Collected>,
    deny_encoding: DenyEncoding,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let proxy = Proxy::new(ProxyConfig {
        upstream: upstream.parse().expect("uri"),
        strip_prefix: None,
        deny_encoding,
        limits: Limits::default(),
        policy: Arc::new(move || policy.clone()),
        config_status: None,
        allowed_origins: vec!["http://trusted.example".into()],
        oauth: Default::default(),
        audit: Some(audit),
        labels: mcp_runtime_gateway::proxy::ServerLabels {
            server: "files".into(),
            namespace: "tools".into(),
            team_id: "storage".into(),
            cluster: "test".into(),
            source: "files-gateway".into(),
            event_type: "mcp.request".into(),
        },
        metrics: Some(Arc::new(mcp_runtime_gateway::metrics::GatewayMetrics::new(
            mcp_runtime_gateway::metrics::ServerLabelSet {
                server: "files".into(),
                ..Default::default()
            },
            None,
        ))),
    });
    tokio::spawn(proxy.serve(listener));
    format!("http://{address}")
}

async fn post(url: &str, body: &str, headers: &[(&str, &str)]) -> (u16, String) {
    send(http::Method::POST, url, body, headers).await
}

async fn send(
    method: http::Method,
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    exchange(method, &format!("{url}/mcp"), body, headers).await
}

/// One request to `uri` as an MCP client sends it; returns (status, body).
async fn exchange(
    method: http::Method,
    uri: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(
            request
                .body(Full::new(Bytes::from(body.to_owned())))
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

const CLAUDE: &[(&str, &str)] = &[
    ("x-mcp-agent-id", "claude"),
    ("authorization", "Bearer secret-token"),
];

fn call(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    )
}

#[tokio::test]
async fn allowed_calls_pass_and_denied_calls_never_reach_the_upstream() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy())).await;

    let (status, body) = post(&url, &call("read_file"), CLAUDE).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("done"), "{body}");
    assert_eq!(seen.lock().expect("lock").len(), 1);

    let (status, body) = post(&url, &call("rm_rf"), CLAUDE).await;
    assert_eq!(
        status, 200,
        "denials of a request are JSON-RPC errors: {body}"
    );
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["error"]["data"]["reason"], "tool_denied");
    assert_eq!(json["id"], 2);

    // No identity at all: 401 missing_identity.
    let (status, body) = post(&url, &call("read_file"), &[]).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("missing_identity"));

    // A batch hiding the denied call is refused whole.
    let batch = format!("[{},{}]", call("read_file"), call("rm_rf"));
    let (status, _) = post(&url, &batch, CLAUDE).await;
    assert_ne!(status, 200);

    // Duplicate keys cannot smuggle a different method past the policy.
    let smuggled = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","method":"tools/call","params":{"name":"rm_rf"}}"#;
    let (status, _) = post(&url, smuggled, CLAUDE).await;
    assert_eq!(status, 400);

    let forwarded = seen.lock().expect("lock");
    assert_eq!(
        forwarded.len(),
        1,
        "only the allowed call reached the upstream"
    );
    let (parts, body) = &forwarded[0];
    assert_eq!(
        body.as_ref(),
        call("read_file").as_bytes(),
        "the inspected bytes are the forwarded bytes"
    );
    assert!(
        parts.headers.get("authorization").is_none(),
        "the caller's token is never forwarded"
    );
    assert_eq!(
        parts
            .headers
            .get("x-mcp-agent-id")
            .and_then(|v| v.to_str().ok()),
        Some("claude")
    );
}

#[tokio::test]
async fn a_caller_cannot_set_the_token_headers_the_upstream_may_trust() {
    let mut document = policy().document().clone();
    document.auth.token_header = "X-Caller-Token".into();
    document.session.upstream_token_header = "X-Upstream-Token".into();
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    let policy = Arc::new(CompiledPolicy::new(document).expect("valid"));
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy)).await;
    let headers = [
        ("x-mcp-agent-id", "claude"),
        ("x-caller-token", "caller-secret"),
        ("x-upstream-token", "forged-upstream-token"),
    ];
    assert_eq!(post(&url, &call("read_file"), &headers).await.0, 200);
    let seen = seen.lock().expect("lock");
    let (parts, _) = seen.first().expect("forwarded");
    for name in ["x-caller-token", "x-upstream-token", "authorization"] {
        assert!(parts.headers.get(name).is_none(), "{name} was forwarded");
    }
}

#[tokio::test]
async fn spoofed_duplicate_identity_headers_are_not_trusted() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy())).await;
    let (status, _) = post(
        &url,
        &call("read_file"),
        &[("x-mcp-agent-id", "claude"), ("x-mcp-agent-id", "root")],
    )
    .await;
    assert_eq!(status, 401);
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn tools_list_is_filtered_in_json_and_sse_replies() {
    for sse in [false, true] {
        let (upstream_url, _) = upstream(sse).await;
        let url = gateway(&upstream_url, Some(policy())).await;
        let (status, body) = post(
            &url,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            CLAUDE,
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            body.contains("read_file") && body.contains("write_file"),
            "sse={sse}: {body}"
        );
        assert!(
            !body.contains("rm_rf"),
            "sse={sse}: a denied tool must not be listed: {body}"
        );
        if sse {
            assert!(
                body.starts_with("event: message\nid: 7\ndata: "),
                "SSE framing kept: {body:?}"
            );
            assert!(body.ends_with("\n\n"));
        }
    }
}

#[tokio::test]
async fn tools_list_is_filtered_in_a_resumed_get_stream() {
    let (upstream_url, seen) = upstream(true).await;
    let url = gateway(&upstream_url, Some(policy())).await;
    let resume = [CLAUDE, &[("last-event-id", "6"), ("mcp-session-id", "s1")]].concat();
    let (status, body) = send(http::Method::GET, &url, "", &resume).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("read_file"),
        "the replayed tools/list result is relayed: {body}"
    );
    assert!(
        !body.contains("rm_rf"),
        "a denied tool must not be listed on a resumed stream either: {body}"
    );
    assert_eq!(
        seen.lock().expect("lock")[0].0.method,
        http::Method::GET,
        "the GET reached the upstream"
    );
}

/// `policy` with another `auth.mode` (and what that mode requires to be valid).
fn with_auth_mode(policy: &CompiledPolicy, mode: AuthMode) -> Arc<CompiledPolicy> {
    let mut document = policy.document().clone();
    document.auth.mode = mode.into();
    document.auth.issuer_url = "https://issuer.example".into();
    document.auth.audience = "files".into();
    document.auth.trust_domain = "example.org".into();
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

/// The test policy in `observe` mode.
fn observe_policy() -> Arc<CompiledPolicy> {
    let mut document = policy().document().clone();
    document.policy.mode = mcp_runtime_policy::PolicyMode::Observe.into();
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

#[tokio::test]
async fn observe_mode_forwards_every_call_lists_every_tool_and_audits() {
    let (upstream_url, seen) = upstream(false).await;
    let audit: Arc<Collected> = Arc::default();
    let url = gateway_with_audit(&upstream_url, Some(observe_policy()), audit.clone()).await;
    // rm_rf is denied by claude's grant: observe mode lets it through.
    let (status, body) = post(&url, &call("rm_rf"), CLAUDE).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("done"), "the upstream's result: {body}");
    assert!(
        seen.lock()
            .expect("lock")
            .iter()
            .any(|(_, body)| String::from_utf8_lossy(body).contains("rm_rf")),
        "the call reached the upstream"
    );
    let (_, listed) = post(
        &url,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        CLAUDE,
    )
    .await;
    assert!(
        listed.contains("rm_rf"),
        "observe mode filters nothing: {listed}"
    );
    let events = audit.0.lock().expect("lock");
    let payload = serde_json::to_value(events[0].payload.as_ref().expect("payload")).expect("json");
    assert_eq!(payload["tool_name"], "rm_rf");
    assert_eq!(payload["decision"], "allow");
}

#[tokio::test]
async fn identity_mode_none_ignores_identity_headers() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(
        &upstream_url,
        Some(with_auth_mode(&policy(), AuthMode::None)),
    )
    .await;
    // claude's header is not trusted: the call has no identity and the grant does not match.
    let (status, body) = post(&url, &call("read_file"), CLAUDE).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("missing_identity"),
        "denied for want of an identity: {body}"
    );
    assert!(
        seen.lock().expect("lock").is_empty(),
        "nothing reached the upstream"
    );
    // With an observe policy the call passes, still without any identity header upstream.
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(
        &upstream_url,
        Some(with_auth_mode(&observe_policy(), AuthMode::None)),
    )
    .await;
    assert_eq!(post(&url, &call("read_file"), CLAUDE).await.0, 200);
    let seen = seen.lock().expect("lock");
    let (parts, _) = seen.first().expect("forwarded");
    assert!(
        parts.headers.get("x-mcp-agent-id").is_none()
            && parts.headers.get("authorization").is_none(),
        "neither the caller's identity header nor its token is forwarded: {:?}",
        parts.headers
    );
}

#[tokio::test]
async fn the_http_deny_encoding_answers_with_mr_bodies_through_the_proxy() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway_with(
        &upstream_url,
        Some(policy()),
        Arc::default(),
        DenyEncoding::Http,
    )
    .await;
    // A policy denial, a missing identity and an inspection failure (a batch), as MR answers
    // them (Go's JSON encoder ends the body with a newline).
    assert_eq!(
        post(&url, &call("rm_rf"), CLAUDE).await,
        (403, "{\"error\":\"tool_denied\"}\n".to_owned())
    );
    let (status, body) = post(&url, &call("read_file"), &[]).await;
    assert_eq!(status, 401, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body["error"], "missing_identity");
    assert_eq!(body["adapter_required"], true);
    let batch = format!("[{}]", call("read_file"));
    assert_eq!(
        post(&url, &batch, CLAUDE).await,
        (403, "{\"error\":\"rpc_inspection_failed\"}\n".to_owned())
    );
    assert!(
        seen.lock().expect("lock").is_empty(),
        "nothing was forwarded"
    );
}

#[tokio::test]
async fn without_a_policy_everything_fails_closed() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, None).await;
    let (status, body) = post(&url, &call("read_file"), CLAUDE).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("policy_unavailable"));
    assert!(seen.lock().expect("lock").is_empty());
}

/// Sends raw bytes (full control over headers and framing) and returns the status code.
async fn raw(url: &str, request: Vec<u8>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    // A gateway may answer and close before reading a large body; the answer still counts.
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn request_bytes(headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out =
        b"POST /mcp HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\nx-mcp-agent-id: claude\r\n"
            .to_vec();
    let mut has_type = false;
    for (name, value) in headers {
        has_type |= name.eq_ignore_ascii_case("content-type");
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !has_type {
        out.extend_from_slice(b"content-type: application/json\r\n");
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
    {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Requests that try to get a denied `tools/call` (`rm_rf`) past the inspection: batches,
/// duplicate and letter-case keys, escapes, encodings, framing, header tricks.
fn bypass_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let denied = call("rm_rf");
    let gzip_magic = [0x1f_u8, 0x8b, 0x08, 0x00];
    let chunked = {
        let half = denied.len() / 2;
        format!(
            "{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            half,
            &denied[..half],
            denied.len() - half,
            &denied[half..]
        )
    };
    let oversize = format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{{"name":"rm_rf","arguments":{{"pad":"{}"}}}}}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("batch hiding a denied call", request_bytes(&[], format!("[{},{}]", call("read_file"), denied).as_bytes())),
        ("duplicate method key", request_bytes(&[], br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"rm_rf"}}"#)),
        ("duplicate name key", request_bytes(&[], br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","name":"rm_rf"}}"#)),
        ("escaped method, denied tool", request_bytes(&[], br#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"rm_\u0072f"}}"#)),
        ("gzip content encoding", request_bytes(&[("content-encoding", "gzip")], &gzip_magic)),
        ("Mcp-Name differs from the body", request_bytes(&[("mcp-method", "tools/call"), ("mcp-name", "read_file")], denied.as_bytes())),
        ("chunked body", {
            let mut r = request_bytes(&[("transfer-encoding", "chunked")], b"");
            r.extend_from_slice(chunked.as_bytes());
            r
        }),
        ("oversize body", request_bytes(&[], oversize.as_bytes())),
        ("wrong content type", request_bytes(&[("content-type", "text/plain")], denied.as_bytes())),
        ("UTF-8 BOM", request_bytes(&[], &[b"\xEF\xBB\xBF".as_slice(), denied.as_bytes()].concat())),
        ("letter-case method", request_bytes(&[], br#"{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"rm_rf"}}"#)),
        ("letter-case key", request_bytes(&[], br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"rm_rf"}}"#)),
    ];
    cases
}

#[tokio::test]
async fn bypass_attempts_never_reach_the_upstream() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy())).await;
    for (name, bytes) in bypass_corpus() {
        let status = raw(&url, bytes).await;
        assert!(status != 0, "{name}: no response");
        let reached = seen.lock().expect("lock").len();
        assert_eq!(reached, 0, "{name}: reached the upstream (status {status})");
    }
    // The chunked framing itself is fine: an allowed chunked call does go through.
    let allowed = call("read_file");
    let half = allowed.len() / 2;
    let mut request = request_bytes(&[("transfer-encoding", "chunked")], b"");
    request.extend_from_slice(
        format!(
            "{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            half,
            &allowed[..half],
            allowed.len() - half,
            &allowed[half..]
        )
        .as_bytes(),
    );
    assert_eq!(raw(&url, request).await, 200);
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn every_tool_call_yields_exactly_one_audit_event_with_the_decision() {
    let (upstream_url, _) = upstream(false).await;
    let audit: Arc<Collected> = Arc::default();
    let url = gateway_with_audit(&upstream_url, Some(policy()), audit.clone()).await;
    let session = &[("x-mcp-agent-id", "claude"), ("x-mcp-human-id", "alice")];
    assert_eq!(post(&url, &call("read_file"), session).await.0, 200);
    assert_eq!(post(&url, &call("rm_rf"), session).await.0, 200);
    assert_eq!(
        post(
            &url,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            session
        )
        .await
        .0,
        200
    );
    let events = audit.0.lock().expect("lock");
    assert_eq!(events.len(), 3, "one event per MCP request");
    let payload = |i: usize| {
        serde_json::to_value(events[i].payload.as_ref().expect("payload")).expect("json")
    };
    let allowed = payload(0);
    assert_eq!(allowed["decision"], "allow");
    assert_eq!(allowed["reason"], "allowed");
    assert_eq!(allowed["tool_name"], "read_file");
    assert_eq!(allowed["agent_id"], "claude");
    assert_eq!(allowed["human_id"], "alice");
    assert_eq!(allowed["matched_grant"], "claude");
    assert_eq!(allowed["effective_trust"], "high");
    assert_eq!(allowed["server"], "files");
    assert_eq!(allowed["status"], 200);
    assert!(
        allowed
            .get("latency_ms")
            .is_some_and(serde_json::Value::is_u64)
    );
    let denied = payload(1);
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["reason"], "tool_denied");
    assert_eq!(payload(2)["rpc_method"], "tools/list");
    assert_eq!(events[0].source, "files-gateway");
    assert_ne!(events[0].event_id, events[1].event_id);
}

#[tokio::test]
async fn metrics_count_requests_and_decisions_with_mr_names() {
    let (upstream_url, _) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy())).await;
    post(&url, &call("read_file"), CLAUDE).await;
    post(&url, &call("rm_rf"), CLAUDE).await;
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let response = client
        .get(format!("{url}/metrics").parse().expect("uri"))
        .await
        .expect("metrics");
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    assert!(
        text.contains(r#"rpc_method="tools/call",decision="allow",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"reason="tool_denied",rpc_method="tools/call"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("mcp_gateway_request_duration_seconds_count"),
        "{text}"
    );
}

#[tokio::test]
async fn foreign_origins_are_refused_before_anything_is_forwarded() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy())).await;
    let host = url.trim_start_matches("http://").to_owned();
    let rebinding = [
        ("origin", "http://evil.example"),
        ("x-mcp-agent-id", "claude"),
    ];
    assert_eq!(post(&url, &call("read_file"), &rebinding).await.0, 403);
    assert_eq!(
        post(
            &url,
            &call("read_file"),
            &[("origin", "null"), ("x-mcp-agent-id", "claude")]
        )
        .await
        .0,
        403
    );
    assert!(seen.lock().expect("lock").is_empty());
    let same_origin = format!("http://{host}");
    assert_eq!(
        post(
            &url,
            &call("read_file"),
            &[("origin", &same_origin), ("x-mcp-agent-id", "claude")]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            &url,
            &call("read_file"),
            &[
                ("origin", "http://trusted.example"),
                ("x-mcp-agent-id", "claude")
            ]
        )
        .await
        .0,
        200
    );
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

/// DNS rebinding: the attacker's page and its requests carry the attacker's name as both `Host`
/// and `Origin`, so the Origin check alone passes them. A gateway on a loopback listener refuses
/// any non-loopback `Host` (found by the MCP conformance suite's `dns-rebinding-protection`).
#[tokio::test]
async fn rebound_host_names_are_refused_on_a_loopback_listener() {
    let (upstream_url, seen) = upstream(false).await;
    let url = gateway(&upstream_url, Some(policy())).await;
    let port = url.rsplit(':').next().expect("port").to_owned();
    for host in ["evil.example.com", "evil.example.com:80", "10.0.0.1"] {
        let origin = format!("http://{host}");
        let (status, body) = post(
            &url,
            &call("read_file"),
            &[
                ("host", host),
                ("origin", &origin),
                ("x-mcp-agent-id", "claude"),
            ],
        )
        .await;
        assert_eq!(status, 403, "{host}: {body}");
        assert!(body.contains("host not allowed"), "{body}");
    }
    assert!(
        seen.lock().expect("lock").is_empty(),
        "a rebound request reached the upstream"
    );
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LOCALHOST".to_owned(),
    ] {
        let origin = format!("http://{host}");
        let (status, body) = post(
            &url,
            &call("read_file"),
            &[
                ("host", &host),
                ("origin", &origin),
                ("x-mcp-agent-id", "claude"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    assert_eq!(seen.lock().expect("lock").len(), 4);
}

/// Forged governance headers and no token: what an attacker who reaches the port sends.
const FORGED: &[(&str, &str)] = &[
    ("x-mcp-human-id", "admin@example.com"),
    ("x-mcp-agent-id", "claude"),
    ("x-mcp-team-id", "platform"),
];

/// A plain GET of `path` (not the MCP endpoint), e.g. `/ready`.
async fn get_path(url: &str, path: &str) -> (u16, String) {
    exchange(http::Method::GET, &format!("{url}{path}"), "", &[]).await
}

#[tokio::test]
async fn mtls_policies_on_a_plain_http_listener_fail_closed_on_every_request() {
    // `mtls` needs the gateway's TLS listener (tests/mtls.rs): a gateway that serves plain HTTP
    // has no verified certificate to identify anyone by, so it refuses everything, and says so.
    let mode = AuthMode::Mtls;
    {
        for encoding in [DenyEncoding::JsonRpc, DenyEncoding::Http] {
            let (upstream_url, seen) = upstream(false).await;
            let audit: Arc<Collected> = Arc::default();
            let policy = with_auth_mode(&policy(), mode);
            let url = gateway_with(&upstream_url, Some(policy), audit.clone(), encoding).await;
            let context = format!("{mode:?} with the {encoding:?} encoding");

            let (status, body) = get_path(&url, "/ready").await;
            assert_eq!(status, 503, "{context}: /ready {body}");
            assert!(body.contains("auth_mode_unavailable"), "{context}: {body}");
            assert!(
                body.contains("does not terminate TLS") && body.contains("TLS_CERT_FILE"),
                "{context}: the reason names what is missing: {body}"
            );

            // An allowed tool, a tools/list, a GET stream and a session DELETE: all refused.
            for (method, body) in [
                (http::Method::POST, call("read_file")),
                (
                    http::Method::POST,
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_owned(),
                ),
                (http::Method::GET, String::new()),
                (http::Method::DELETE, String::new()),
            ] {
                let (status, reply) = send(method.clone(), &url, &body, FORGED).await;
                assert_eq!(status, 503, "{context}: {method} {body} -> {reply}");
                assert!(
                    reply.contains("auth_mode_unavailable"),
                    "{context}: {method} names the reason: {reply}"
                );
            }
            assert!(
                seen.lock().expect("lock").is_empty(),
                "{context}: nothing reached the upstream"
            );
            let events = audit.0.lock().expect("lock");
            assert_eq!(events.len(), 4, "{context}: every request is audited");
            for event in events.iter() {
                let payload = serde_json::to_value(&event.payload).expect("payload");
                assert_eq!(payload["decision"], "deny", "{context}");
                assert_eq!(payload["reason"], "auth_mode_unavailable", "{context}");
            }
        }
    }
}

/// `raw` request bytes with `name: value` added after the request line.
fn with_header(mut request: Vec<u8>, name: &str, value: &str) -> Vec<u8> {
    let line_end = request
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("request line")
        + 2;
    let header = format!("{name}: {value}\r\n");
    request.splice(line_end..line_end, header.bytes());
    request
}

/// The bypass corpus behind an `oauth` policy with a *valid* token from a real provider
/// (oidc-provider) on every request, next to forged identity headers: nothing denied reaches the
/// upstream, and the forged headers change nothing.
#[tokio::test]
async fn the_bypass_corpus_reaches_nothing_behind_an_oauth_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = oauth_common::Provider::start(dir.path(), "corpus", "RS256");
    let mut document = policy().document().clone();
    document.auth.mode = AuthMode::Oauth.into();
    document.auth.issuer_url = provider.issuer.clone();
    // The provider's client is the agent; the corpus forges `x-mcp-agent-id: claude`.
    document.grants[0].agent_id = "agent-claude".into();
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    let policy = Arc::new(CompiledPolicy::new(document).expect("valid"));
    let (upstream_url, seen) = upstream(false).await;
    let audit: Arc<Collected> = Arc::default();
    let url = gateway_with_audit(&upstream_url, Some(policy), audit.clone()).await;
    // The corpus sends `Host: localhost`, so the resource (the token's audience) is this.
    let resource = "http://localhost/mcp";
    let token = provider
        .token("agent-claude", "claude-secret", resource)
        .await;
    let bearer = format!("Bearer {token}");
    for (name, bytes) in bypass_corpus() {
        let bytes = with_header(bytes, "authorization", &bearer);
        let bytes = with_header(bytes, "x-mcp-human-id", "admin@example.com");
        let status = raw(&url, bytes).await;
        assert!(status != 0, "{name}: no response");
        assert_eq!(
            seen.lock().expect("lock").len(),
            0,
            "{name}: reached the upstream (status {status})"
        );
    }
    // A token for another client (no grant) next to headers naming the granted agent: denied.
    let other = provider
        .token("short-lived", "short-secret", resource)
        .await;
    let forged = with_header(
        request_bytes(&[], call("read_file").as_bytes()),
        "authorization",
        &format!("Bearer {other}"),
    );
    let forged = with_header(forged, "x-mcp-team-id", "platform");
    assert_eq!(raw(&url, forged).await, 200, "a JSON-RPC denial");
    assert_eq!(
        seen.lock().expect("lock").len(),
        0,
        "the forged call never reached the upstream"
    );
    let last = audit
        .0
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("audited");
    let last = serde_json::to_value(&last.payload).expect("payload");
    assert_eq!(last["reason"], "no_matching_grant");
    assert_eq!(last["agent_id"], "short-lived");

    // The allowed call with the valid token passes, with the token's identity only.
    let allowed = with_header(
        request_bytes(&[], call("read_file").as_bytes()),
        "authorization",
        &bearer,
    );
    let allowed = with_header(allowed, "x-mcp-human-id", "admin@example.com");
    assert_eq!(raw(&url, allowed).await, 200);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 1);
    let headers = &seen[0].0.headers;
    assert_eq!(headers["x-mcp-agent-id"], "agent-claude");
    assert!(
        headers.get("authorization").is_none(),
        "no token passthrough"
    );
    assert_eq!(headers["x-mcp-team-id"], "storage", "the token's tid");
    assert_eq!(headers["x-mcp-human-id"], "agent-claude", "the token's sub");
}

/// An upstream on a raw socket that answers every request on a connection with a chunked SSE
/// reply: `first` in one write; then, if `rest` is given, waits for it before writing the last
/// event and the terminator.
async fn chunked_sse_upstream(
    first: &'static str,
    rest: Option<tokio::sync::oneshot::Receiver<()>>,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        // Head and body of one request (the gateway writes both at once).
        while !String::from_utf8_lossy(&request).contains("}}") {
            let n = stream.read(&mut buffer).await.expect("read");
            assert!(n > 0, "the gateway closed before sending the request");
            request.extend_from_slice(&buffer[..n]);
        }
        let chunk = |data: &str| format!("{:x}\r\n{data}\r\n", data.len());
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        match rest {
            None => {
                let reply = format!("{head}{}0\r\n\r\n", chunk(first));
                stream.write_all(reply.as_bytes()).await.expect("write");
            }
            Some(rest) => {
                let reply = format!("{head}{}", chunk(first));
                stream.write_all(reply.as_bytes()).await.expect("write");
                let _ = rest.await;
                let last = chunk("data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n\n");
                stream
                    .write_all(format!("{last}0\r\n\r\n").as_bytes())
                    .await
                    .expect("write");
            }
        }
        let _ = stream.read(&mut buffer).await;
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_reply_the_upstream_sent_whole_leaves_the_gateway_in_one_write_with_its_length() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let event = "data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[]}}\n\n";
    let gateway = gateway(&chunked_sse_upstream(event, None).await, Some(policy())).await;
    let mut stream = tokio::net::TcpStream::connect(gateway.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream
        .write_all(&request_bytes(&[], call("read_file").as_bytes()))
        .await
        .expect("write");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("read the reply");
    let response = String::from_utf8_lossy(&response).to_lowercase();
    // Relayed frame by frame, the head and the event would be followed by a chunked terminator
    // in a second write; held whole, the reply has its exact length and no chunking.
    assert!(response.starts_with("http/1.1 200"), "{response}");
    assert!(
        response.contains(&format!("content-length: {}", event.len())),
        "{response}"
    );
    assert!(!response.contains("transfer-encoding"), "{response}");
    assert!(response.ends_with(&event.to_lowercase()), "{response}");
}

#[tokio::test]
async fn a_reply_still_streaming_is_relayed_as_it_comes_without_waiting_for_its_end() {
    let first = "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n";
    let (release, rest) = tokio::sync::oneshot::channel();
    let gateway = gateway(
        &chunked_sse_upstream(first, Some(rest)).await,
        Some(policy()),
    )
    .await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let request = http::Request::post(format!("{gateway}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-mcp-agent-id", "claude")
        .body(Full::new(Bytes::from(call("read_file"))))
        .expect("request");
    let response =
        tokio::time::timeout(std::time::Duration::from_secs(10), client.request(request))
            .await
            .expect("the head arrives while the upstream still holds the rest")
            .expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
        .await
        .expect("the first event arrives while the upstream still holds the rest")
        .expect("a frame")
        .expect("no error");
    assert_eq!(frame.into_data().expect("data"), first.as_bytes());
    release.send(()).expect("the upstream waits");
    let rest = body.collect().await.expect("the rest").to_bytes();
    assert!(
        String::from_utf8_lossy(&rest).contains("\"id\":2"),
        "{rest:?}"
    );
}
