//! The MCP handshake client: what the operator and the local mode learn from a server by talking
//! to it as any MCP client would.
//!
//! [`handshake`] connects over streamable HTTP with the official Rust SDK's client (rmcp),
//! which negotiates the protocol version, sends `notifications/initialized` and follows the
//! session; with [`Depth::ListTools`] it also lists every tool. It always ends the session it
//! opened (`DELETE`): behind `mcp-runtime bridge` each session is a process, which would
//! otherwise live until the bridge's idle timeout.
//!
//! It is a crate of its own because both the operator and the local mode use it and neither may
//! depend on the other, and because it does I/O, which the pure crates (`api`, `policy`,
//! `protocol`) must not.

use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpError;
use std::time::Duration;

/// How far the handshake goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// `initialize` only (the operator's `status.serverInfo`).
    Initialize,
    /// `initialize`, then `tools/list` through every page when the server declares the tools
    /// capability (the local mode's readiness, the operator's `status.tools`).
    ListTools,
}

/// Which capabilities the server declared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub tools: bool,
    pub resources: bool,
    pub prompts: bool,
    pub logging: bool,
    pub completions: bool,
}

/// What the handshake learned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// `serverInfo.name` and `.version`.
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    /// The negotiated protocol version.
    pub protocol_version: Option<String>,
    /// The server's `instructions`.
    pub instructions: Option<String>,
    pub capabilities: Capabilities,
    /// Every tool's name, with [`Depth::ListTools`] (before any policy); empty when the server
    /// does not declare the tools capability.
    pub tools: Vec<String>,
    /// The digest of each listed tool's definition (`mcp_runtime_policy::tool_digest`), in the
    /// order of `tools`.
    pub tool_digests: Vec<String>,
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Nothing accepts connections at the URL's address (yet: a server still starting).
    #[error("not accepting connections yet at {address}: {source}")]
    NotListening {
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The server answered 401 or 403: it is there, but guarded.
    #[error("initialize: the server requires authorization (HTTP {status})")]
    Unauthorized { status: u16 },
    /// `initialize` failed.
    #[error("initialize: {0}")]
    Initialize(#[source] Box<rmcp::service::ClientInitializeError>),
    /// `tools/list` failed.
    #[error("tools/list: {0}")]
    ListTools(#[source] rmcp::ServiceError),
    /// No answer within the time allowed.
    #[error("initialize timed out after {0:?}")]
    TimedOut(Duration),
}

/// Handshakes with the MCP server at `url` (streamable HTTP).
pub async fn handshake(url: &str, depth: Depth) -> Result<ServerFacts, HandshakeError> {
    // A server that is still starting refuses connections. Find that out with a plain connect:
    // the MCP client would report it as a fatal transport error in the log on every attempt,
    // which reads as a failure while it is only the normal start-up race.
    if let Some(address) = socket_address(url) {
        tokio::net::TcpStream::connect(&address)
            .await
            .map_err(|source| HandshakeError::NotListening { address, source })?;
    }
    let transport = StreamableHttpClientTransport::from_uri(url.to_owned());
    let client =
        ().serve(transport)
            .await
            .map_err(|error| match unauthorized_status(&error) {
                Some(status) => HandshakeError::Unauthorized { status },
                None => HandshakeError::Initialize(Box::new(error)),
            })?;
    let info = client.peer_info();
    // A server without the tools capability offers no tools, and need not answer `tools/list`
    // (a resources-only server answers "method not found"): its list is empty, not an error.
    let declares_tools = info
        .as_ref()
        .is_some_and(|info| info.capabilities.tools.is_some());
    let tools = match depth {
        Depth::ListTools if declares_tools => client.list_all_tools().await,
        Depth::Initialize | Depth::ListTools => Ok(Vec::new()),
    };
    // Best effort: a server that never answers DELETE must not hold the caller up.
    let _ = client.cancel().await;
    let tools = tools.map_err(HandshakeError::ListTools)?;
    let Some(info) = info else {
        return Ok(ServerFacts::default());
    };
    let capabilities = &info.capabilities;
    Ok(ServerFacts {
        server_name: info.server_info.as_ref().map(|s| s.name.clone()),
        server_version: info.server_info.as_ref().map(|s| s.version.clone()),
        protocol_version: Some(info.protocol_version.to_string()),
        instructions: info.instructions.clone(),
        capabilities: Capabilities {
            tools: capabilities.tools.is_some(),
            resources: capabilities.resources.is_some(),
            prompts: capabilities.prompts.is_some(),
            logging: capabilities.logging.is_some(),
            completions: capabilities.completions.is_some(),
        },
        tool_digests: tools.iter().map(definition_digest).collect(),
        tools: tools
            .into_iter()
            .map(|tool| tool.name.to_string())
            .collect(),
    })
}

/// The digest of a listed tool's definition, from its JSON form (the members the SDK keeps of
/// what the server sent: name, description, input schema and the MCP-defined annotations).
fn definition_digest(tool: &rmcp::model::Tool) -> String {
    let definition = serde_json::to_value(tool).unwrap_or_default();
    mcp_runtime_policy::tool_digest(&definition)
}

/// [`handshake`] that gives up after `timeout`.
pub async fn handshake_within(
    url: &str,
    depth: Depth,
    timeout: Duration,
) -> Result<ServerFacts, HandshakeError> {
    tokio::time::timeout(timeout, handshake(url, depth))
        .await
        .unwrap_or(Err(HandshakeError::TimedOut(timeout)))
}

/// `host:port` of an `http(s)://` URL.
fn socket_address(url: &str) -> Option<String> {
    let uri = url.parse::<http::Uri>().ok()?;
    let default_port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    Some(format!(
        "{}:{}",
        uri.host()?,
        uri.port_u16().unwrap_or(default_port)
    ))
}

/// 401 or 403 when the transport's error says the server refused the caller.
fn unauthorized_status(error: &rmcp::service::ClientInitializeError) -> Option<u16> {
    // The transport's error is a field, not the `source()`, of the initialize error.
    let rmcp::service::ClientInitializeError::TransportError { error, .. } = error else {
        return None;
    };
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&*error.error);
    while let Some(error) = next {
        if let Some(http) = error.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            match http {
                StreamableHttpError::AuthRequired(_) => return Some(401),
                StreamableHttpError::InsufficientScope(_) => return Some(403),
                // A POST answered 401/403 without `WWW-Authenticate` (rmcp 3.9 reports the
                // status only in this text; the guarded-server test pins it).
                StreamableHttpError::UnexpectedServerResponse(text) => {
                    for status in [401, 403] {
                        if text.starts_with(&format!("HTTP {status} ")) {
                            return Some(status);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(status) = error
            .downcast_ref::<reqwest::Error>()
            .and_then(reqwest::Error::status)
            .filter(|s| *s == http::StatusCode::UNAUTHORIZED || *s == http::StatusCode::FORBIDDEN)
        {
            return Some(status.as_u16());
        }
        next = error.source();
    }
    None
}
