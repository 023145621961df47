//! The MCP `initialize` handshake the operator makes through a server's Service once its pods are
//! ready; the answer fills `status.serverInfo`. The client is the workspace's one MCP handshake
//! client (`mcp-runtime-handshake`, rmcp), shared with the local mode.

use futures::future::BoxFuture;
use mcp_runtime_api::server::{ServerCapabilities, ServerInfo};
pub use mcp_runtime_handshake::HandshakeError;
use mcp_runtime_handshake::{Depth, ServerFacts, handshake_within};
use std::time::Duration;

/// Something that can run an MCP `initialize` against a URL (the HTTP client in production, a
/// stand-in in tests, where no pod ever runs).
pub trait Handshake: Send + Sync {
    fn initialize<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ServerInfo, HandshakeError>>;
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
    fn initialize<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ServerInfo, HandshakeError>> {
        Box::pin(async move {
            match handshake_within(url, Depth::Initialize, self.timeout).await {
                Ok(facts) => Ok(server_info(facts)),
                // Reachable, but guarded: the endpoint exists.
                Err(HandshakeError::Unauthorized { .. }) => Ok(ServerInfo::default()),
                Err(error) => Err(error),
            }
        })
    }
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
