//! The handshake against a scripted streamable-HTTP endpoint that records what it is sent.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_runtime_handshake::{Depth, HandshakeError, handshake, handshake_within};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<String>>>;

/// A legacy-era MCP endpoint that opens session `s-1` on `initialize` and records each request
/// as `METHOD session rpc-method`. With `status` set, it answers every request with it.
async fn endpoint(status: Option<u16>) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let record = record.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                answer(request, status, &record).await,
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, seen)
}

async fn answer(
    request: http::Request<hyper::body::Incoming>,
    status: Option<u16>,
    record: &Seen,
) -> http::Response<Full<Bytes>> {
    let method = request.method().clone();
    // At `/no-tools` the server declares no tools capability and has no `tools/list`.
    let no_tools = request.uri().path() == "/no-tools";
    let session = request
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let message: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let rpc = message["method"].as_str().unwrap_or("-").to_owned();
    record
        .lock()
        .expect("lock")
        .push(format!("{method} {session} {rpc}"));
    let response = http::Response::builder();
    if let Some(status) = status {
        return response
            .status(status)
            .body(Full::new(Bytes::new()))
            .expect("response");
    }
    let result = match (method.as_str(), rpc.as_str()) {
        ("POST", "initialize") => serde_json::json!({
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": if no_tools {
                serde_json::json!({"logging": {}})
            } else {
                serde_json::json!({"tools": {}, "logging": {}})
            },
            "serverInfo": {"name": "notes", "version": "1.0"},
            "instructions": "take notes"
        }),
        ("POST", "tools/list") if no_tools => {
            let reply = serde_json::json!({
                "jsonrpc": "2.0", "id": message["id"],
                "error": {"code": -32601, "message": "Method not found"},
            });
            return response
                .header("content-type", "application/json")
                .header("mcp-session-id", "s-1")
                .body(Full::new(Bytes::from(reply.to_string())))
                .expect("response");
        }
        ("POST", "tools/list") => serde_json::json!({
            "tools": [
                {"name": "add_note", "inputSchema": {"type": "object"}},
                {"name": "list_notes", "inputSchema": {"type": "object"}}
            ]
        }),
        ("POST", _) | ("DELETE", _) => {
            return response
                .status(if method == http::Method::DELETE {
                    200
                } else {
                    202
                })
                .body(Full::new(Bytes::new()))
                .expect("response");
        }
        _ => {
            return response
                .status(405)
                .body(Full::new(Bytes::new()))
                .expect("response");
        }
    };
    let reply = serde_json::json!({"jsonrpc": "2.0", "id": message["id"], "result": result});
    response
        .header("content-type", "application/json")
        .header("mcp-session-id", "s-1")
        .body(Full::new(Bytes::from(reply.to_string())))
        .expect("response")
}

#[tokio::test]
async fn initialize_reads_the_server_and_ends_the_session_it_opened() {
    let (url, seen) = endpoint(None).await;
    let facts = handshake(&url, Depth::Initialize).await.expect("handshake");
    assert_eq!(facts.server_name.as_deref(), Some("notes"));
    assert_eq!(facts.server_version.as_deref(), Some("1.0"));
    assert_eq!(facts.instructions.as_deref(), Some("take notes"));
    assert!(facts.capabilities.tools && facts.capabilities.logging);
    assert!(!facts.capabilities.prompts && !facts.capabilities.resources);
    assert!(facts.tools.is_empty(), "tools are listed only when asked");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.first().map(String::as_str), Some("POST - initialize"));
    assert_eq!(
        seen.last().map(String::as_str),
        Some("DELETE s-1 -"),
        "the session it opened is deleted last: {seen:?}"
    );
    assert!(
        seen[1..].iter().all(|request| request.contains(" s-1 ")),
        "every request after initialize is in the session: {seen:?}"
    );
    assert!(!seen.iter().any(|r| r.ends_with("tools/list")), "{seen:?}");
}

#[tokio::test]
async fn list_tools_names_every_tool() {
    let (url, seen) = endpoint(None).await;
    let facts = handshake(&url, Depth::ListTools).await.expect("handshake");
    assert_eq!(facts.tools, ["add_note", "list_notes"]);
    let seen = seen.lock().expect("lock").clone();
    assert!(seen.contains(&"POST s-1 tools/list".to_owned()), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("DELETE s-1 -"));
}

#[tokio::test]
async fn a_server_without_the_tools_capability_lists_no_tools_without_asking() {
    let (url, seen) = endpoint(None).await;
    let url = url.replace("/mcp", "/no-tools");
    let facts = handshake(&url, Depth::ListTools).await.expect("handshake");
    assert!(!facts.capabilities.tools);
    assert!(facts.tools.is_empty());
    let seen = seen.lock().expect("lock").clone();
    assert!(!seen.iter().any(|r| r.ends_with("tools/list")), "{seen:?}");
}

#[tokio::test]
async fn a_guarded_server_is_told_apart_from_a_broken_one() {
    for status in [401, 403] {
        let (url, _) = endpoint(Some(status)).await;
        match handshake(&url, Depth::Initialize).await {
            Err(HandshakeError::Unauthorized { status: got }) => assert_eq!(got, status),
            other => panic!("HTTP {status}: {other:?}"),
        }
    }
    let (url, _) = endpoint(Some(500)).await;
    let error = handshake(&url, Depth::Initialize)
        .await
        .expect_err("HTTP 500");
    assert!(matches!(error, HandshakeError::Initialize(_)), "{error:?}");
}

#[tokio::test]
async fn nothing_listening_and_no_answer_are_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    drop(listener);
    let error = handshake(&format!("http://{address}/mcp"), Depth::Initialize)
        .await
        .expect_err("nothing listens");
    assert!(
        error
            .to_string()
            .starts_with("not accepting connections yet at 127.0.0.1:"),
        "{error}"
    );

    // Accepts connections, never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", silent.local_addr().expect("addr"));
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let error = handshake_within(&url, Depth::Initialize, Duration::from_millis(300))
        .await
        .expect_err("no answer");
    assert!(matches!(error, HandshakeError::TimedOut(_)), "{error:?}");
}
