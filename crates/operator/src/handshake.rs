//! The MCP `initialize` handshake the operator makes through a server's Service once its pods are
//! ready; the answer fills `status.serverInfo`.

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full, Limited};
use mcp_runtime_api::server::{ServerCapabilities, ServerInfo};
use serde_json::Value;
use std::time::Duration;

/// Protocol version the operator offers.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Something that can run an MCP `initialize` against a URL (the HTTP client in production, a
/// stand-in in tests, where no pod ever runs).
pub trait Handshake: Send + Sync {
    fn initialize<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ServerInfo, String>>;
}

/// Streamable-HTTP `initialize` over plain HTTP (in-cluster Service addresses).
#[derive(Clone, Debug)]
pub struct HttpHandshake {
    pub timeout: Duration,
}

impl Default for HttpHandshake {
    fn default() -> Self {
        HttpHandshake {
            timeout: Duration::from_secs(10),
        }
    }
}

impl Handshake for HttpHandshake {
    fn initialize<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ServerInfo, String>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, initialize(url)).await {
                Ok(result) => result,
                Err(_) => Err(format!("initialize timed out after {:?}", self.timeout)),
            }
        })
    }
}

async fn initialize(url: &str) -> Result<ServerInfo, String> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp-runtime-operator", "version": env!("CARGO_PKG_VERSION")},
        }
    });
    let request = http::Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL_VERSION)
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| format!("bad URL {url}: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        // Reachable, but guarded: the endpoint exists.
        return Ok(ServerInfo::default());
    }
    if !status.is_success() {
        return Err(format!("initialize answered HTTP {status}"));
    }
    let session = response.headers().get("mcp-session-id").cloned();
    let bytes = Limited::new(response.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|e| format!("reading the initialize answer: {e}"))?
        .to_bytes();
    if let Some(session) = session {
        // End the session at once: behind `mcp-runtime bridge` each session is a process,
        // which would otherwise live until the bridge's idle timeout. Best effort.
        if let Ok(request) = http::Request::delete(url)
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .body(Full::new(Bytes::new()))
        {
            let _ = client.request(request).await;
        }
    }
    parse_initialize(&bytes)
}

/// Reads an `initialize` result from a JSON body or from the first `data:` line of an SSE body.
pub fn parse_initialize(body: &[u8]) -> Result<ServerInfo, String> {
    let text = String::from_utf8_lossy(body);
    let json: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .find_map(|d| serde_json::from_str(d.trim()).ok())
            .ok_or("the initialize answer is neither JSON nor an SSE event")?,
    };
    if let Some(error) = json.get("error") {
        return Err(format!("initialize failed: {error}"));
    }
    let result = json
        .get("result")
        .ok_or("the initialize answer has no result")?;
    let caps = &result["capabilities"];
    let has = |k: &str| caps.get(k).is_some_and(|v| !v.is_null());
    let text_of = |v: &Value| v.as_str().map(str::to_owned);
    Ok(ServerInfo {
        name: text_of(&result["serverInfo"]["name"]),
        version: text_of(&result["serverInfo"]["version"]),
        protocol_version: text_of(&result["protocolVersion"]),
        instructions: text_of(&result["instructions"]),
        capabilities: ServerCapabilities {
            tools: has("tools"),
            resources: has("resources"),
            prompts: has("prompts"),
            logging: has("logging"),
            completions: has("completions"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A legacy-era MCP endpoint that opens a session on `initialize` and records the methods
    /// and session ids of the requests it gets.
    async fn session_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: http::Request<hyper::body::Incoming>| {
                            let record = record.clone();
                            async move {
                                let session = request
                                    .headers()
                                    .get("mcp-session-id")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("-")
                                    .to_owned();
                                record
                                    .lock()
                                    .expect("lock")
                                    .push(format!("{} {session}", request.method()));
                                let body = r#"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"notes","version":"1.0"}}}"#;
                                Ok::<_, std::convert::Infallible>(
                                    http::Response::builder()
                                        .header("content-type", "application/json")
                                        .header("mcp-session-id", "s-1")
                                        .body(Full::new(Bytes::from(body)))
                                        .expect("response"),
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

    #[tokio::test]
    async fn the_handshake_ends_the_session_it_opened() {
        let (url, seen) = session_server().await;
        let info = HttpHandshake::default()
            .initialize(&url)
            .await
            .expect("handshake");
        assert_eq!(info.name.as_deref(), Some("notes"));
        assert_eq!(
            *seen.lock().expect("lock"),
            ["POST -", "DELETE s-1"],
            "initialize, then DELETE of the session it opened"
        );
    }

    #[test]
    fn parses_json_and_sse() {
        let json = br#"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"echo","version":"1.0"}}}"#;
        let info = parse_initialize(json).expect("json");
        assert_eq!(info.name.as_deref(), Some("echo"));
        assert!(info.capabilities.tools && !info.capabilities.prompts);
        let sse = format!(
            "event: message\ndata: {}\n\n",
            String::from_utf8_lossy(json)
        );
        assert_eq!(parse_initialize(sse.as_bytes()).expect("sse"), info);
        assert!(parse_initialize(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-1}}"#).is_err());
    }
}
