//! Readiness by MCP handshake: a server is ready when it answers `initialize` and `tools/list`
//! like any client would see it, not merely when its port accepts connections.

use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use serde::{Deserialize, Serialize};

/// What the handshake learned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// `serverInfo.name` and `.version`, when the server sent them.
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    /// The negotiated protocol version.
    pub protocol_version: String,
    /// Every tool the server offers (before policy: the gateway filters per caller).
    pub tools: Vec<String>,
}

/// Connects to `url` as an MCP client, lists the tools and disconnects.
pub async fn handshake(url: &str) -> Result<ServerFacts, String> {
    // A server that is still starting refuses connections. Find that out with a plain connect:
    // the MCP client would report it as a fatal transport error in the log on every attempt,
    // which reads as a failure while it is only the normal start-up race.
    if let Some(address) = url.parse::<http::Uri>().ok().and_then(|uri| {
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
    }) {
        tokio::net::TcpStream::connect(&address)
            .await
            .map_err(|error| format!("not accepting connections yet at {address}: {error}"))?;
    }
    let transport = StreamableHttpClientTransport::from_uri(url.to_owned());
    let client = ().serve(transport).await.map_err(|error| format!("initialize: {error}"))?;
    let info = client.peer_info();
    let tools = client.list_all_tools().await;
    // Best effort: a server that never answers DELETE must not hold readiness up.
    let _ = client.cancel().await;
    let tools = tools.map_err(|error| format!("tools/list: {error}"))?;
    let facts = ServerFacts {
        server_name: info
            .as_ref()
            .and_then(|i| i.server_info.as_ref().map(|s| s.name.clone())),
        server_version: info
            .as_ref()
            .and_then(|i| i.server_info.as_ref().map(|s| s.version.clone())),
        protocol_version: info
            .as_ref()
            .map(|i| i.protocol_version.to_string())
            .unwrap_or_default(),
        tools: tools
            .into_iter()
            .map(|tool| tool.name.to_string())
            .collect(),
    };
    Ok(facts)
}
