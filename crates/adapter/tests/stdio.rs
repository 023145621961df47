//! `adapter stdio` with in-memory stdin/stdout against a recording upstream.

mod common;

use std::time::Duration;

use common::{Seen, closed_port, empty, json_response, sse_messages, upstream};
use http::{Method, StatusCode};
use mcp_runtime_adapter::{Identity, Runtime, RuntimeConfig, StdioOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};
use tokio::task::JoinHandle;

struct Adapter {
    stdin: Option<DuplexStream>,
    stdout: Lines<BufReader<DuplexStream>>,
    task: JoinHandle<Result<(), mcp_runtime_adapter::stdio::StdioError>>,
}

impl Adapter {
    fn start(url: &str) -> Adapter {
        let mut config = RuntimeConfig::new(url);
        config.identity = Identity {
            human: Some("alice@example.com".into()),
            agent: Some("claude".into()),
            ..Identity::default()
        };
        let runtime = Runtime::new(&config).expect("runtime");
        let (stdin, adapter_in) = tokio::io::duplex(1 << 16);
        let (adapter_out, stdout) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(mcp_runtime_adapter::stdio::run(
            adapter_in,
            adapter_out,
            runtime,
            StdioOptions::default(),
            std::future::pending(),
        ));
        Adapter {
            stdin: Some(stdin),
            stdout: BufReader::new(stdout).lines(),
            task,
        }
    }

    async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).await.expect("write");
        stdin.write_all(b"\n").await.expect("write");
    }

    async fn read(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line())
            .await
            .expect("a line within 10 s")
            .expect("read")
            .expect("a line before the end of output");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// Closes stdin, waits for the adapter to finish and returns what it wrote after that.
    async fn finish(mut self) -> Vec<String> {
        drop(self.stdin.take());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the adapter ends at end of input")
            .expect("task")
            .expect("no error");
        let mut rest = Vec::new();
        while let Some(line) = self.stdout.next_line().await.expect("read") {
            rest.push(line);
        }
        rest
    }
}

#[tokio::test]
async fn bad_lines_get_errors_and_the_adapter_keeps_serving() {
    let url = format!("http://127.0.0.1:{}/mcp", closed_port());
    let mut adapter = Adapter::start(&url);

    adapter.send("this is not json").await;
    let error = adapter.read().await;
    assert_eq!(error["error"]["code"], -32700, "{error}");
    assert_eq!(error["id"], Value::Null);
    assert_eq!(error["jsonrpc"], "2.0");

    adapter.send("{\"jsonrpc\":\"2.0\",\"id\":1,").await;
    assert_eq!(adapter.read().await["error"]["code"], -32700);

    adapter
        .send("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]")
        .await;
    assert_eq!(adapter.read().await["error"]["code"], -32600);
    adapter.send("42").await;
    assert_eq!(adapter.read().await["error"]["code"], -32600);

    // Blank lines are ignored; a notification to an unreachable runtime writes nothing, so the
    // next line is the request's error.
    adapter.send("").await;
    adapter
        .send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;
    adapter
        .send(r#"{"jsonrpc":"2.0","id":"req-2","method":"tools/list"}"#)
        .await;
    let error = adapter.read().await;
    assert_eq!(error["id"], "req-2", "{error}");
    assert_eq!(error["error"]["code"], -32603, "{error}");
    assert_eq!(error["error"]["data"]["reason"], "runtime_unreachable");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("unreachable") && message.contains(&url),
        "{message}"
    );
    assert!(adapter.finish().await.is_empty(), "nothing more is written");
}

/// A legacy-era runtime: a session at initialize, SSE for tools/list, denials in every encoding
/// a gateway or an ingress produces.
async fn legacy_runtime() -> common::Upstream {
    upstream(|seen: Seen| async move {
        match seen.method {
            Method::GET => return empty(StatusCode::METHOD_NOT_ALLOWED),
            Method::DELETE => return empty(StatusCode::OK),
            _ => {}
        }
        let message = seen.json();
        let id = message["id"].clone();
        match message["method"].as_str().unwrap_or_default() {
            "initialize" => {
                let mut response = json_response(
                    StatusCode::OK,
                    json!({"jsonrpc":"2.0","id":id,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"fake","version":"1"}}}),
                );
                response
                    .headers_mut()
                    .insert("mcp-session-id", http::HeaderValue::from_static("sess-1"));
                response
            }
            "tools/list" => sse_messages(&[
                json!({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}),
                json!({"jsonrpc":"2.0","id":id,"result":{"tools":[{"name":"add","inputSchema":{"type":"object"}}]}}),
            ]),
            "tools/call" => match message["params"]["name"].as_str() {
                Some("denied") => json_response(
                    StatusCode::OK,
                    json!({"jsonrpc":"2.0","id":id,"error":{"code":-32602,"message":"Tool call denied: tool_not_granted"}}),
                ),
                Some("unauthorized") => json_response(
                    StatusCode::UNAUTHORIZED,
                    json!({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Unauthorized: missing_identity"}}),
                ),
                Some("ingress") => json_response(
                    StatusCode::FORBIDDEN,
                    json!({"error":"tool_denied","adapter_required":true}),
                ),
                _ => json_response(
                    StatusCode::OK,
                    json!({"jsonrpc":"2.0","id":id,"result":{"content":[{"type":"text","text":"3"}]}}),
                ),
            },
            _ => empty(StatusCode::ACCEPTED),
        }
    })
    .await
}

#[tokio::test]
async fn a_legacy_session_keeps_its_id_and_version_and_is_deleted_at_the_end() {
    let runtime = legacy_runtime().await;
    let mut adapter = Adapter::start(&runtime.url());

    adapter
        .send(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}"#)
        .await;
    let initialized = adapter.read().await;
    assert_eq!(initialized["result"]["protocolVersion"], "2025-06-18");
    adapter
        .send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;

    // SSE: each event is its own line, in order, the progress before the result.
    adapter
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"progressToken":1}}}"#)
        .await;
    let progress = adapter.read().await;
    assert_eq!(progress["method"], "notifications/progress", "{progress}");
    let listed = adapter.read().await;
    assert_eq!(listed["id"], 1);
    assert_eq!(listed["result"]["tools"][0]["name"], "add");

    adapter
        .send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#)
        .await;
    assert_eq!(adapter.read().await["result"]["content"][0]["text"], "3");

    // A gateway denial (a JSON-RPC error in a 200) is relayed as it is.
    adapter
        .send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"denied"}}"#)
        .await;
    let denied = adapter.read().await;
    assert_eq!(denied["id"], 3);
    assert_eq!(
        denied["error"]["message"],
        "Tool call denied: tool_not_granted"
    );

    // A JSON-RPC error in a 401 without an id: relayed, with the request's id.
    adapter
        .send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"unauthorized"}}"#)
        .await;
    let unauthorized = adapter.read().await;
    assert_eq!(unauthorized["id"], 4);
    assert_eq!(
        unauthorized["error"]["message"],
        "Unauthorized: missing_identity"
    );

    // MR's http encoding (an ingress or a gateway with DENY_ENCODING=http): an error naming it.
    adapter
        .send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ingress"}}"#)
        .await;
    let ingress = adapter.read().await;
    assert_eq!(ingress["id"], 5);
    let message = ingress["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("HTTP 403") && message.contains("tool_denied"),
        "{message}"
    );
    assert_eq!(ingress["error"]["data"]["http_status"], 403);

    assert!(
        adapter.finish().await.is_empty(),
        "no line for the notification"
    );

    let seen = runtime.requests();
    let initialize = &seen[0];
    assert_eq!(initialize.json()["method"], "initialize");
    assert_eq!(initialize.one("mcp-session-id"), None);
    assert_eq!(initialize.one("mcp-protocol-version"), None);
    for request in &seen {
        assert_eq!(request.all("x-mcp-agent-id"), ["claude"], "{request:?}");
        assert_eq!(request.all("x-mcp-human-id"), ["alice@example.com"]);
    }
    for request in &seen[1..] {
        assert_eq!(
            request.one("mcp-session-id").as_deref(),
            Some("sess-1"),
            "{request:?}"
        );
        assert_eq!(
            request.one("mcp-protocol-version").as_deref(),
            Some("2025-06-18")
        );
    }
    let posts: Vec<&Seen> = seen.iter().filter(|s| s.method == Method::POST).collect();
    assert_eq!(posts.len(), 7, "every message was posted once");
    for post in &posts {
        assert_eq!(
            post.one("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            post.one("accept").as_deref(),
            Some("application/json, text/event-stream")
        );
    }
    assert!(
        seen.iter().any(|s| s.method == Method::GET),
        "the server stream was asked for after notifications/initialized"
    );
    assert_eq!(seen.last().map(|s| s.method.clone()), Some(Method::DELETE));
}

#[tokio::test]
async fn modern_requests_carry_the_standard_headers_and_no_session() {
    let runtime = upstream(|seen: Seen| async move {
        let id = seen.json()["id"].clone();
        json_response(
            StatusCode::OK,
            json!({"jsonrpc":"2.0","id":id,"result":{"resultType":"complete","content":[]}}),
        )
    })
    .await;
    let mut adapter = Adapter::start(&runtime.url());
    adapter
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"café","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#)
        .await;
    assert_eq!(adapter.read().await["id"], 1);
    assert!(adapter.finish().await.is_empty());
    let seen = runtime.requests();
    assert_eq!(seen.len(), 1, "no session: no DELETE");
    let call = &seen[0];
    assert_eq!(
        call.one("mcp-protocol-version").as_deref(),
        Some("2026-07-28")
    );
    assert_eq!(call.one("mcp-method").as_deref(), Some("tools/call"));
    assert_eq!(call.one("mcp-name").as_deref(), Some("=?base64?Y2Fmw6k=?="));
    assert_eq!(call.one("mcp-session-id"), None);
}

#[tokio::test]
async fn requests_sent_before_the_end_of_input_are_still_answered() {
    let runtime = upstream(|seen: Seen| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let id = seen.json()["id"].clone();
        json_response(StatusCode::OK, json!({"jsonrpc":"2.0","id":id,"result":{}}))
    })
    .await;
    let mut adapter = Adapter::start(&runtime.url());
    adapter
        .send(r#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#)
        .await;
    adapter
        .send(r#"{"jsonrpc":"2.0","id":"b","method":"ping"}"#)
        .await;
    let rest = adapter.finish().await;
    let mut ids: Vec<Value> = rest
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["id"].clone())
        .collect();
    ids.sort_by_key(Value::to_string);
    assert_eq!(ids, [json!("a"), json!("b")]);
}
