//! Build: the desired children ([`crate::build`]). Pure.

use crate::build::{BuildError, Desired};
use crate::config::OperatorConfig;
use mcp_runtime_api::MCPServer;
use mcp_runtime_policy::PolicyDocument;

/// Everything `server` wants to exist, from its spec, its policy and its configuration hash.
pub fn desired(
    server: &MCPServer,
    policy: Option<&PolicyDocument>,
    config: &OperatorConfig,
    config_hash: Option<&str>,
) -> Result<Desired, BuildError> {
    crate::build::build(server, policy, config, config_hash)
}
