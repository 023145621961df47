//! Render: the gateway's policy document from the server and the grants and sessions that
//! reference it. Pure.

use super::dereference::Access;
use jiff::Timestamp;
use mcp_runtime_api::MCPServer;
use mcp_runtime_policy::{PolicyDocument, PolicyError};
use std::sync::Arc;

/// The policy of `server`, or `None` when it has no gateway.
pub fn policy(
    server: &MCPServer,
    access: &Access,
    cluster_name: &str,
    now: Timestamp,
) -> Result<Option<PolicyDocument>, PolicyError> {
    if !gateway_enabled(server) {
        return Ok(None);
    }
    mcp_runtime_policy::render::render(
        server,
        access.grants.iter().map(Arc::as_ref),
        access.sessions.iter().map(Arc::as_ref),
        cluster_name,
        now,
    )
    .map(Some)
}

/// Whether the server runs the gateway sidecar (and so has a policy).
pub fn gateway_enabled(server: &MCPServer) -> bool {
    server.spec.gateway.as_ref().is_some_and(|g| g.enabled)
}
