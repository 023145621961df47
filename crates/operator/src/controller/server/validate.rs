//! Validate: the spec as the API server would (schema defaults, types, CEL rules). Pure.

use crate::controller::error::ValidationError;
use mcp_runtime_api::MCPServer;
use mcp_runtime_api::validation::{Kind, validate_object};

/// The spec's errors, each naming its field.
pub fn spec(server: &MCPServer) -> Result<(), ValidationError> {
    let object = serde_json::json!({
        "apiVersion": mcp_runtime_api::API_VERSION,
        "kind": "MCPServer",
        "metadata": {"name": server.metadata.name, "namespace": server.metadata.namespace},
        "spec": server.spec,
    });
    validate_object(Kind::Server, &object)
        .map(|_| ())
        .map_err(ValidationError)
}
