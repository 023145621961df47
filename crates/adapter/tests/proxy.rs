//! `adapter proxy` over real sockets: a real hyper client → the proxy → a recording upstream.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Seen, closed_port, empty, json_response, sse_response, upstream};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_runtime_adapter::{Identity, ProxyOptions, Runtime, RuntimeConfig};
use serde_json::{Value, json};

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    common::Body,
>;

fn client() -> Client {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

fn body(bytes: impl Into<Bytes>) -> common::Body {
    Full::new(bytes.into()).boxed()
}

/// Starts the proxy in front of `runtime_url`; returns its address.
async fn proxy(runtime_url: &str, options: ProxyOptions) -> std::net::SocketAddr {
    let mut config = RuntimeConfig::new(runtime_url);
    config.identity = Identity {
        human: Some("alice@example.com".into()),
        agent: Some("claude".into()),
        ..Identity::default()
    };
    let runtime = Runtime::new(&config).expect("runtime");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(mcp_runtime_adapter::proxy::serve(
        listener,
        runtime,
        options,
        std::future::pending(),
    ));
    address
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#;

fn post(address: std::net::SocketAddr, payload: &'static str) -> Request<common::Body> {
    Request::post(format!("http://{address}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body(payload))
        .expect("request")
}

async fn read_json(response: http::Response<hyper::body::Incoming>) -> Value {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test]
async fn identity_is_replaced_and_the_session_headers_flow_both_ways() {
    let runtime = upstream(|_seen: Seen| async {
        let mut response =
            json_response(StatusCode::OK, json!({"jsonrpc":"2.0","id":7,"result":{}}));
        response.headers_mut().insert(
            "mcp-session-id",
            http::HeaderValue::from_static("from-server"),
        );
        response
    })
    .await;
    let address = proxy(&runtime.url(), ProxyOptions::default()).await;
    let request = Request::post(format!("http://{address}/mcp"))
        .header("content-type", "application/json")
        .header("X-MCP-Agent-ID", "forged")
        .header("X-MCP-Team-ID", "forged-team")
        .header("Authorization", "Bearer client-token")
        .header("Cookie", "a=b")
        .header("Mcp-Session-Id", "from-client")
        .header("MCP-Protocol-Version", "2025-06-18")
        .body(body(CALL))
        .expect("request");
    let response = client().request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["mcp-session-id"], "from-server");
    assert_eq!(read_json(response).await["id"], 7);

    let seen = runtime.requests();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(seen.all("x-mcp-agent-id"), ["claude"]);
    assert_eq!(seen.all("x-mcp-human-id"), ["alice@example.com"]);
    assert!(seen.all("x-mcp-team-id").is_empty());
    assert!(seen.all("authorization").is_empty());
    assert!(seen.all("cookie").is_empty());
    assert_eq!(seen.one("mcp-session-id").as_deref(), Some("from-client"));
    assert_eq!(
        seen.one("mcp-protocol-version").as_deref(),
        Some("2025-06-18")
    );
    assert_eq!(seen.one("host"), Some(runtime.address.to_string()));
    assert_eq!(
        seen.body,
        CALL.as_bytes(),
        "the body is forwarded byte for byte"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_is_never_forwarded() {
    let runtime = upstream(|_seen: Seen| async { empty(StatusCode::ACCEPTED) }).await;
    let options = ProxyOptions {
        max_inbound_bytes: 1024,
        ..ProxyOptions::default()
    };
    let address = proxy(&runtime.url(), options).await;
    let padding = "x".repeat(2000);
    let big: &'static str = Box::leak(
        format!(r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"data":"{padding}"}}}}"#)
            .into_boxed_str(),
    );

    // Declared with Content-Length.
    let response = client()
        .request(post(address, big))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error = read_json(response).await;
    assert_eq!(error["error"]["code"], -32600, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .expect("message")
            .contains("1024"),
        "{error}"
    );

    // Chunked, without a length: the limit holds while reading.
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    for chunk in big.as_bytes().chunks(100) {
        sender.send(Bytes::from_static(chunk)).expect("queue");
    }
    drop(sender);
    let request = Request::post(format!("http://{address}/mcp"))
        .header("content-type", "application/json")
        .body(common::ChannelBody(receiver).boxed())
        .expect("request");
    let response = client().request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert!(runtime.requests().is_empty(), "nothing reached the runtime");

    // At the limit: forwarded.
    let small: &'static str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let response = client()
        .request(post(address, small))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(runtime.requests().len(), 1);
}

#[tokio::test]
async fn sse_responses_stream_event_by_event() {
    type Slot = std::sync::Arc<std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Bytes>>>>;
    let stream: Slot = Slot::default();
    let slot = stream.clone();
    let runtime = upstream(move |_seen: Seen| {
        let slot = slot.clone();
        async move {
            let (response, sender) = sse_response();
            sender
                .send(Bytes::from_static(b"id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n"))
                .expect("send");
            // The test decides when the rest is sent.
            slot.lock().expect("lock").replace(sender);
            response
        }
    })
    .await;
    let address = proxy(&runtime.url(), ProxyOptions::default()).await;
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        client().request(post(address, CALL)),
    )
    .await
    .expect("the response starts while the runtime still holds the stream open")
    .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();

    // The first event arrives while the runtime still holds the stream open.
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("the first event arrives before the stream ends")
        .expect("frame")
        .expect("data");
    let text = String::from_utf8_lossy(first.data_ref().expect("data")).into_owned();
    assert!(text.contains("notifications/progress"), "{text}");

    // Only now does the runtime send the result and end the stream.
    let sender = stream.lock().expect("lock").take().expect("stream open");
    sender
        .send(Bytes::from_static(
            b"id: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n",
        ))
        .expect("send");
    drop(sender);
    let rest = body.collect().await.expect("rest").to_bytes();
    assert!(String::from_utf8_lossy(&rest).contains("\"id\":7"));
}

#[tokio::test]
async fn an_unreachable_runtime_is_a_jsonrpc_error_with_the_request_id() {
    let url = format!("http://127.0.0.1:{}/mcp", closed_port());
    let address = proxy(&url, ProxyOptions::default()).await;
    let response = client()
        .request(post(address, CALL))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let error = read_json(response).await;
    assert_eq!(error["id"], 7, "{error}");
    assert_eq!(error["error"]["code"], -32603, "{error}");
    assert_eq!(
        error["error"]["data"]["reason"], "runtime_unreachable",
        "{error}"
    );
    let message = error["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&url) && message.contains("unreachable"),
        "{message}"
    );
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused_before_anything_is_forwarded() {
    let runtime = upstream(|_seen: Seen| async { empty(StatusCode::ACCEPTED) }).await;
    let address = proxy(&runtime.url(), ProxyOptions::default()).await;
    for (name, value) in [
        ("host", "attacker.example"),
        ("origin", "http://attacker.example"),
    ] {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{address}/mcp"))
            .header(name, value)
            .header("content-type", "application/json")
            .body(body(CALL))
            .expect("request");
        let response = client().request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    assert!(runtime.requests().is_empty());
}

#[tokio::test]
async fn get_and_delete_are_forwarded_with_the_identity() {
    let runtime = upstream(|seen: Seen| async move {
        if seen.method == Method::GET {
            empty(StatusCode::METHOD_NOT_ALLOWED)
        } else {
            empty(StatusCode::OK)
        }
    })
    .await;
    let address = proxy(&runtime.url(), ProxyOptions::default()).await;
    for method in [Method::GET, Method::DELETE] {
        let request = Request::builder()
            .method(method.clone())
            .uri(format!("http://{address}/anything"))
            .header("mcp-session-id", "s-1")
            .body(body(Bytes::new()))
            .expect("request");
        let response = client().request(request).await.expect("response");
        let expected = if method == Method::GET { 405 } else { 200 };
        assert_eq!(response.status().as_u16(), expected, "{method}");
    }
    let seen = runtime.requests();
    assert_eq!(
        seen.iter().map(|s| s.method.clone()).collect::<Vec<_>>(),
        [Method::GET, Method::DELETE]
    );
    for request in &seen {
        assert_eq!(request.all("x-mcp-agent-id"), ["claude"]);
        assert_eq!(request.one("mcp-session-id").as_deref(), Some("s-1"));
    }
}
