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
