//! The MCP handshake the operator makes through a server's Service once its pods are ready: the
//! answer to `initialize` fills `status.serverInfo`, and, when nothing filters it, `tools/list`
//! fills `status.tools`. The client is the workspace's one MCP handshake client
//! (`mcp-runtime-handshake`, rmcp), shared with the local mode.

use futures::future::BoxFuture;
use mcp_runtime_api::server::{ServerCapabilities, ServerInfo};
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
        Answer { server_info, tools }
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
            match handshake_within(url, depth, self.timeout).await {
                Ok(facts) => Ok(answer(facts, depth)),
                // Reachable, but guarded: the endpoint exists; what it lists is unknown.
                Err(HandshakeError::Unauthorized { .. }) => Ok(Answer::default()),
                Err(error) => Err(error),
            }
        })
    }
}

/// The status's view of what the handshake learned at `depth`.
pub fn answer(facts: ServerFacts, depth: Depth) -> Answer {
    let tools = (depth == Depth::ListTools).then(|| facts.tools.clone());
    Answer::new(server_info(facts), tools)
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

    #[test]
    fn tools_are_recorded_sorted_once_and_only_when_listed() {
        let facts = ServerFacts {
            server_name: Some("s".into()),
            tools: vec!["search".into(), "fetch".into(), "search".into()],
            ..ServerFacts::default()
        };
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
