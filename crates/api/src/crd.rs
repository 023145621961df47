//! The CustomResourceDefinitions, generated from the Rust types.
//!
//! `deploy/crds/*.yaml` holds the same YAML; a test fails when they drift. Regenerate with
//! `cargo run -p mcp-runtime -- crd --output-dir deploy/crds`.

use crate::validation::Kind;
use crate::{MCPAccessGrant, MCPAgentSession, MCPServer};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::Value;

/// The CRD of one kind.
pub fn crd_of(kind: Kind) -> CustomResourceDefinition {
    match kind {
        Kind::Server => MCPServer::crd(),
        Kind::Grant => MCPAccessGrant::crd(),
        Kind::Session => MCPAgentSession::crd(),
    }
}

/// All three CRDs, servers first.
pub fn all() -> Vec<CustomResourceDefinition> {
    Kind::ALL.into_iter().map(crd_of).collect()
}

/// The file name a CRD is kept under in `deploy/crds/`: `<group>_<plural>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// One CRD as a YAML document (starting with `---`).
pub fn to_yaml(crd: &CustomResourceDefinition) -> String {
    // Serializing a k8s-openapi object cannot fail: every field is plain data.
    let body = serde_norway::to_string(crd).unwrap_or_default();
    format!("---\n{body}")
}

/// All CRDs as one multi-document YAML stream, ready for `kubectl apply -f -`.
pub fn all_yaml() -> String {
    all().iter().map(to_yaml).collect()
}

/// The `openAPIV3Schema` of a kind as JSON.
pub fn schema_of(kind: Kind) -> Value {
    let crd = crd_of(kind);
    crd.spec
        .versions
        .first()
        .and_then(|v| v.schema.as_ref())
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(Value::Null)
}
