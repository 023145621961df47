//! `MCPAccessGrant`: who may call which tools of a server, up to which trust and side effects.

use crate::common::{ServerRef, SideEffect, Subject, TrustLevel};
use crate::server::Decision;
use crate::status::ObjectStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Grants a subject (human, agent, team, or any combination) access to an MCPServer's tools.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "mcpruntime.org",
    version = "v1alpha1",
    kind = "MCPAccessGrant",
    plural = "mcpaccessgrants",
    singular = "mcpaccessgrant",
    shortname = "mcpgrant",
    category = "mcp-runtime",
    namespaced,
    derive = "PartialEq",
    status = "ObjectStatus",
    printcolumn = r#"{"name":"Server","type":"string","jsonPath":".spec.serverRef.name"}"#,
    printcolumn = r#"{"name":"Human","type":"string","jsonPath":".spec.subject.humanID"}"#,
    printcolumn = r#"{"name":"Agent","type":"string","jsonPath":".spec.subject.agentID"}"#,
    printcolumn = r#"{"name":"Team","type":"string","jsonPath":".spec.subject.teamID"}"#,
    printcolumn = r#"{"name":"Trust","type":"string","jsonPath":".spec.maxTrust"}"#,
    printcolumn = r#"{"name":"Disabled","type":"boolean","jsonPath":".spec.disabled"}"#,
    printcolumn = r#"{"name":"Expires","type":"date","jsonPath":".spec.expiresAt"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MCPAccessGrantSpec {
    /// The MCPServer this grant applies to.
    pub server_ref: ServerRef,
    /// Who the grant applies to. Every non-empty field must match the caller. An empty subject is a
    /// wildcard that matches every identified caller (the Go mcp-runtime documents this but never
    /// matches it; see docs/compatibility.md).
    #[serde(default)]
    pub subject: Subject,
    /// The highest trust this grant confers.
    #[serde(default)]
    pub max_trust: TrustLevel,
    /// Side effects the granted tools may have. Empty allows none (fails closed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub allowed_side_effects: Vec<SideEffect>,
    /// Policy version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// Kill switch: a disabled grant matches nothing.
    #[serde(default)]
    pub disabled: bool,
    /// Per-tool rules. Empty allows every tool of the server; otherwise only the listed tools.
    /// A `deny` rule in any matching grant wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub tool_rules: Vec<ToolRule>,
    /// After this time the grant matches nothing; sessions relying on it expire with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Time>,
}

/// A rule for one tool.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ToolRule {
    /// Tool name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// `allow` or `deny`.
    #[serde(default = "allow")]
    pub decision: Decision,
    /// Extra trust this grant requires for the tool (the higher of this and the tool's own wins).
    #[serde(default)]
    pub required_trust: TrustLevel,
}

fn allow() -> Decision {
    Decision::Allow
}
