//! Static defaults. They appear in the OpenAPI schema, so the API server persists them and
//! `kubectl get -o yaml` shows them. Defaults that depend on the object's name or on operator
//! settings are applied at reconcile time (see `MCPServerSpec` accessors).

use crate::server::ResourceList;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Default container port of an MCP server.
pub const PORT: i32 = 8088;
/// Default Service port.
pub const SERVICE_PORT: i32 = 80;
/// Default gateway sidecar port.
pub const GATEWAY_PORT: i32 = 8091;
/// Port of the gateway's separate metrics listener.
pub const GATEWAY_METRICS_PORT: i32 = 9103;
/// Default ingress class.
pub const INGRESS_CLASS: &str = "traefik";
/// Default MCP endpoint path.
pub const MCP_PATH: &str = "/mcp";
/// Default human identity header.
pub const HUMAN_ID_HEADER: &str = "X-MCP-Human-ID";
/// Default agent identity header.
pub const AGENT_ID_HEADER: &str = "X-MCP-Agent-ID";
/// Default team identity header.
pub const TEAM_ID_HEADER: &str = "X-MCP-Team-ID";
/// Default agent session header.
pub const SESSION_ID_HEADER: &str = "X-MCP-Agent-Session";
/// Default bearer token header.
pub const TOKEN_HEADER: &str = "Authorization";
/// Default analytics event type.
pub const ANALYTICS_EVENT_TYPE: &str = "mcp.request";
/// Default image tag when the image names none.
pub const IMAGE_TAG: &str = "latest";

pub(crate) fn replicas() -> i32 {
    1
}
pub(crate) fn port() -> i32 {
    PORT
}
pub(crate) fn service_port() -> i32 {
    SERVICE_PORT
}
pub(crate) fn gateway_port() -> i32 {
    GATEWAY_PORT
}
pub(crate) fn restrict_direct_access() -> bool {
    true
}
pub(crate) fn ingress_class() -> String {
    INGRESS_CLASS.to_owned()
}
pub(crate) fn mcp_path() -> String {
    MCP_PATH.to_owned()
}
pub(crate) fn human_id_header() -> String {
    HUMAN_ID_HEADER.to_owned()
}
pub(crate) fn agent_id_header() -> String {
    AGENT_ID_HEADER.to_owned()
}
pub(crate) fn team_id_header() -> String {
    TEAM_ID_HEADER.to_owned()
}
pub(crate) fn session_id_header() -> String {
    SESSION_ID_HEADER.to_owned()
}
pub(crate) fn token_header() -> String {
    TOKEN_HEADER.to_owned()
}
pub(crate) fn enforce_on() -> String {
    "call_tool".to_owned()
}
pub(crate) fn policy_version() -> String {
    "v1".to_owned()
}
pub(crate) fn session_store() -> String {
    "kubernetes".to_owned()
}
pub(crate) fn session_max_lifetime() -> String {
    "24h".to_owned()
}
pub(crate) fn session_idle_timeout() -> String {
    "1h".to_owned()
}
pub(crate) fn max_unavailable() -> IntOrString {
    IntOrString::String("25%".to_owned())
}
pub(crate) fn max_surge() -> IntOrString {
    IntOrString::String("25%".to_owned())
}
pub(crate) fn resource_requests() -> ResourceList {
    ResourceList {
        cpu: Some("50m".to_owned()),
        memory: Some("64Mi".to_owned()),
    }
}
pub(crate) fn resource_limits() -> ResourceList {
    ResourceList {
        cpu: Some("500m".to_owned()),
        memory: Some("256Mi".to_owned()),
    }
}
