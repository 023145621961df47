//! The MCP handshake the operator makes through a server's Service once its pods are ready: the
//! answer to `initialize` fills `status.serverInfo`, and, when nothing filters it, `tools/list`
//! fills `status.tools`. The client is the workspace's one MCP handshake client
//! (`mcp-runtime-handshake`, rmcp), shared with the local mode.

use futures::future::BoxFuture;
use mcp_runtime_api::server::{ServerCapabilities, ServerInfo, ToolDigest};
pub use mcp_runtime_handshake::{Depth, HandshakeError};
use mcp_runtime_handshake::{ServerFacts, handshake_within};
use std::time::Duration;

/// What a handshake learned, in the status's terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// `status.serverInfo` (empty when the endpoint answered 401/403).
    pub server_info: ServerInfo,
    /// The names of the tools the server lists, sorted and without duplicates (`status.tools`).
    /// `None` when they were not listed: [`Depth::Initialize`] was asked for, or the endpoint
    /// answered 401/403. Never an empty list standing in for "unknown".
    pub tools: Option<Vec<String>>,
    /// The digest of each listed tool's definition, sorted by name (`status.toolDigests`);
    /// `None` when the tools were not listed or their definitions not kept.
    pub tool_digests: Option<Vec<ToolDigest>>,
}

impl Answer {
    /// An answer with `tools` sorted and deduplicated, as the status stores them (so an
    /// unchanged inventory is an unchanged status, whatever order the server lists it in).
    pub fn new(server_info: ServerInfo, tools: Option<Vec<String>>) -> Answer {
        let tools = tools.map(|mut tools| {
            tools.sort();
            tools.dedup();
            tools
        });
        Answer {
            server_info,
            tools,
            tool_digests: None,
        }
    }

    /// An answer from the listed tools' names and definition digests: `tools` and
    /// `tool_digests` both sorted by name, one entry per name (the first listed wins).
    pub fn with_definitions(server_info: ServerInfo, listed: Option<Vec<ToolDigest>>) -> Answer {
        let Some(mut listed) = listed else {
            return Answer::new(server_info, None);
        };
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        listed.dedup_by(|later, first| later.name == first.name);
        let tools = listed.iter().map(|t| t.name.clone()).collect();
        Answer {
            server_info,
            tools: Some(tools),
            tool_digests: Some(listed),
        }
    }
}

/// Something that can handshake with the MCP server at a URL (the HTTP client in production, a
/// stand-in in tests, where no pod ever runs).
pub trait Handshake: Send + Sync {
    fn handshake<'a>(
        &'a self,
        url: &'a str,
        depth: Depth,
    ) -> BoxFuture<'a, Result<Answer, HandshakeError>>;
}

/// Streamable-HTTP handshake over plain HTTP (in-cluster Service addresses).
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
    fn handshake<'a>(
        &'a self,
        url: &'a str,
        depth: Depth,
    ) -> BoxFuture<'a, Result<Answer, HandshakeError>> {
        Box::pin(async move {
            match self.attempt(url, depth).await {
                // `initialize` worked and `tools/list` did not: the server is still verified by
                // `initialize`, and what it lists is unknown (asked again at the next
                // reconcile).
                Err(HandshakeError::ListTools(error)) => {
                    tracing::warn!(
                        url,
                        %error,
                        "the server answers initialize but not tools/list; status.tools stays unset"
                    );
                    self.attempt(url, Depth::Initialize).await
                }
                other => other,
            }
        })
    }
}

impl HttpHandshake {
    async fn attempt(&self, url: &str, depth: Depth) -> Result<Answer, HandshakeError> {
        match handshake_within(url, depth, self.timeout).await {
            Ok(facts) => Ok(answer(facts, depth)),
            // Reachable, but guarded: the endpoint exists; what it lists is unknown.
            Err(HandshakeError::Unauthorized { .. }) => Ok(Answer::default()),
            Err(error) => Err(error),
        }
    }
}

/// The status's view of what the handshake learned at `depth`.
pub fn answer(facts: ServerFacts, depth: Depth) -> Answer {
    let listed = (depth == Depth::ListTools).then(|| {
        facts
            .tools
            .iter()
            .zip(&facts.tool_digests)
            .map(|(name, digest)| ToolDigest {
                name: name.clone(),
                digest: digest.clone(),
            })
            .collect()
    });
    Answer::with_definitions(server_info(facts), listed)
}

/// `status.serverInfo` from what the handshake learned.
pub fn server_info(facts: ServerFacts) -> ServerInfo {
    ServerInfo {
        name: facts.server_name,
        version: facts.server_version,
        protocol_version: facts.protocol_version,
        instructions: facts.instructions,
        capabilities: ServerCapabilities {
            tools: facts.capabilities.tools,
            resources: facts.capabilities.resources,
            prompts: facts.capabilities.prompts,
            logging: facts.capabilities.logging,
            completions: facts.capabilities.completions,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    /// A streamable-HTTP MCP endpoint that declares the tools capability, answers `initialize`,
    /// and fails `tools/list` with a JSON-RPC error.
    async fn failing_lister() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |request: http::Request<hyper::body::Incoming>| async move {
                            let method = request.method().clone();
                            let body = request
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let message: serde_json::Value =
                                serde_json::from_slice(&body).unwrap_or_default();
                            let reply = match message["method"].as_str() {
                                Some("initialize") => serde_json::json!({"result": {
                                    "protocolVersion": message["params"]["protocolVersion"],
                                    "capabilities": {"tools": {}},
                                    "serverInfo": {"name": "broken-lister", "version": "0.1"},
                                }}),
                                Some("tools/list") => serde_json::json!({
                                    "error": {"code": -32603, "message": "inventory unavailable"},
                                }),
                                _ => {
                                    let status = if method == http::Method::DELETE {
                                        200
                                    } else {
                                        202
                                    };
                                    return Ok::<_, std::convert::Infallible>(
                                        http::Response::builder()
                                            .status(status)
                                            .body(Full::new(Bytes::new()))
                                            .expect("response"),
                                    );
                                }
                            };
                            let mut reply = reply;
                            reply["jsonrpc"] = "2.0".into();
                            reply["id"] = message["id"].clone();
                            Ok(http::Response::builder()
                                .header("content-type", "application/json")
                                .header("mcp-session-id", "s-1")
                                .body(Full::new(Bytes::from(reply.to_string())))
                                .expect("response"))
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_failed_tools_list_leaves_the_tools_unknown_and_the_server_verified() {
        let url = failing_lister().await;
        let answer = HttpHandshake::default()
            .handshake(&url, Depth::ListTools)
            .await
            .expect("initialize alone verifies the server");
        assert_eq!(answer.server_info.name.as_deref(), Some("broken-lister"));
        assert_eq!(answer.tools, None, "unknown, never claimed empty");
    }

    #[test]
    fn tools_are_recorded_sorted_once_and_only_when_listed() {
        let facts = ServerFacts {
            server_name: Some("s".into()),
            tools: vec!["search".into(), "fetch".into(), "search".into()],
            tool_digests: vec!["sha256:s".into(), "sha256:f".into(), "sha256:s2".into()],
            ..ServerFacts::default()
        };
        assert_eq!(
            answer(facts.clone(), Depth::ListTools).tool_digests,
            Some(vec![
                ToolDigest {
                    name: "fetch".into(),
                    digest: "sha256:f".into()
                },
                ToolDigest {
                    name: "search".into(),
                    digest: "sha256:s".into()
                },
            ])
        );
        assert_eq!(
            answer(facts.clone(), Depth::ListTools).tools,
            Some(vec!["fetch".to_owned(), "search".to_owned()])
        );
        assert_eq!(answer(facts, Depth::Initialize).tools, None);
        // A server that lists nothing has an empty live inventory, which is known.
        assert_eq!(
            answer(ServerFacts::default(), Depth::ListTools).tools,
            Some(Vec::new())
        );
    }
}
