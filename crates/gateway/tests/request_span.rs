//! Each request runs in a `request` span carrying a request id and, from a well-formed
//! `traceparent`, the caller's W3C trace id.

use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig, ServerLabels};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// Sends one POST and returns the status line.
async fn post(address: std::net::SocketAddr, extra_header: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\n{extra_header}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_request_span_carries_the_request_id_and_the_w3c_trace_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("mcp_runtime_gateway=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runs on one thread, the gateway's connection tasks included.
    let _default = tracing::subscriber::set_default(subscriber);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    // No policy: every MCP request is refused (503) without an upstream.
    let proxy = Proxy::new(ProxyConfig {
        upstream: "http://127.0.0.1:9".parse().expect("uri"),
        strip_prefix: None,
        deny_encoding: DenyEncoding::JsonRpc,
        limits: Limits::default(),
        policy: Arc::new(|| None),
        config_status: None,
        allowed_origins: Vec::new(),
        oauth: Default::default(),
        audit: None,
        labels: ServerLabels::default(),
        metrics: None,
    });
    tokio::spawn(proxy.serve(listener));

    let traced = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n";
    assert!(post(address, traced).await.contains(" 503 "));
    let malformed = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7\r\n";
    assert!(post(address, malformed).await.contains(" 503 "));
    assert!(post(address, "").await.contains(" 503 "));

    let log = captured.text();
    let finished: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("request finished"))
        .collect();
    assert_eq!(finished.len(), 3, "{log}");
    let span = |line: &str| {
        line.split_once("request{")
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(fields, _)| fields.to_owned())
            .unwrap_or_else(|| panic!("no request span on {line:?}"))
    };
    let first = span(finished[0]);
    assert!(first.contains("id=1"), "{log}");
    assert!(
        first.contains(r#"trace_id="4bf92f3577b34da6a3ce929d0e0e4736""#),
        "{log}"
    );
    assert!(first.contains(r#"path="/mcp""#), "{log}");
    assert!(finished[0].contains("status=503"), "{log}");
    // A malformed traceparent, or none, gives no trace id; the request ids go on.
    for (line, id) in [(finished[1], "id=2"), (finished[2], "id=3")] {
        let fields = span(line);
        assert!(fields.contains(id), "{log}");
        assert!(!fields.contains("trace_id"), "{log}");
    }
}
