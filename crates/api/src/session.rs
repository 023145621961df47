//! `MCPAgentSession`: a consented, expiring, revocable agent session.

use crate::common::{SecretKeyRef, ServerRef, Subject, TrustLevel};
use crate::status::ObjectStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// Records that a human consented to an agent acting up to a trust level, until it expires or is
/// revoked.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "mcpruntime.org",
    version = "v1alpha1",
    kind = "MCPAgentSession",
    plural = "mcpagentsessions",
    singular = "mcpagentsession",
    shortname = "mcpsession",
    category = "mcp-runtime",
    namespaced,
    derive = "PartialEq",
    status = "ObjectStatus",
    printcolumn = r#"{"name":"Server","type":"string","jsonPath":".spec.serverRef.name"}"#,
    printcolumn = r#"{"name":"Human","type":"string","jsonPath":".spec.subject.humanID"}"#,
    printcolumn = r#"{"name":"Agent","type":"string","jsonPath":".spec.subject.agentID"}"#,
    printcolumn = r#"{"name":"Team","type":"string","jsonPath":".spec.subject.teamID"}"#,
    printcolumn = r#"{"name":"Trust","type":"string","jsonPath":".spec.consentedTrust"}"#,
    printcolumn = r#"{"name":"Revoked","type":"boolean","jsonPath":".spec.revoked"}"#,
    printcolumn = r#"{"name":"Expires","type":"date","jsonPath":".spec.expiresAt"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("(has(self.subject.humanID) && self.subject.humanID != '') || (has(self.subject.agentID) && self.subject.agentID != '') || (has(self.subject.teamID) && self.subject.teamID != '')").message("spec.subject needs at least one of humanID, agentID or teamID"))]
#[serde(rename_all = "camelCase")]
pub struct MCPAgentSessionSpec {
    /// The MCPServer this session is for.
    pub server_ref: ServerRef,
    /// Who the session belongs to; at least one field is required.
    pub subject: Subject,
    /// The trust the human consented to; effective trust is the lower of this and the grant's.
    #[serde(default)]
    pub consented_trust: TrustLevel,
    /// When the session stops being valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Time>,
    /// Revoked sessions are refused at once.
    #[serde(default)]
    pub revoked: bool,
    /// Secret key (in this session's namespace, which must be the server's) whose token the
    /// gateway sends upstream in session.upstreamTokenHeader for this session's requests,
    /// never the caller's own token. Rotations apply without a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_token_secret_ref: Option<SecretKeyRef>,
    /// Policy version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
}
