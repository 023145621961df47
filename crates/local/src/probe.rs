//! Readiness by MCP handshake: a server is ready when it answers `initialize` and `tools/list`
//! like any client would see it, not merely when its port accepts connections. The client is the
//! workspace's one MCP handshake client (`mcp-runtime-handshake`), shared with the operator.

use mcp_runtime_handshake::{Depth, HandshakeError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the handshake learned, as `up` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// `serverInfo.name` and `.version`, when the server sent them.
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    /// The negotiated protocol version.
    pub protocol_version: String,
    /// Every tool the server offers (before policy: the gateway filters per caller).
    pub tools: Vec<String>,
    /// The digest of each tool's definition, by name (what `spec.tools[].digest` pins).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tool_digests: BTreeMap<String, String>,
}

/// Connects to `url` as an MCP client, lists the tools and disconnects.
pub async fn handshake(url: &str) -> Result<ServerFacts, HandshakeError> {
    let facts = mcp_runtime_handshake::handshake(url, Depth::ListTools).await?;
    Ok(ServerFacts {
        server_name: facts.server_name,
        server_version: facts.server_version,
        protocol_version: facts.protocol_version.unwrap_or_default(),
        tool_digests: facts
            .tools
            .iter()
            .cloned()
            .zip(facts.tool_digests)
            .rev() // the first of a name wins
            .collect(),
        tools: facts.tools,
    })
}
