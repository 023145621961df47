//! The policy document: the `policy.json` key of the `<server>-gateway-policy` ConfigMap.
//!
//! The JSON shape is MR's (`pkg/policy/types.go`), snake_case keys. Serialization omits empty
//! optional strings the way Go's `omitempty` does, with a few deliberate exceptions that keep
//! the security-relevant parts visible in a rendered document: the `auth`, `policy` and
//! `session` sections, `session.required`, the `tools`/`grants`/`sessions` lists and every
//! grant's `namespace` and `allowed_side_effects` (an empty list means "nothing allowed").
//! Parsing accepts both forms, and MR documents, unchanged.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::PolicyError;
use crate::revision;
use crate::vocabulary::{
    AuthMode, DefaultDecision, Lenient, PolicyMode, RiskLevel, RuleDecision, SideEffect,
    ToolDriftAction, Trust,
};

/// `schema_version` of documents whose grants never expire.
pub const SCHEMA_V1: &str = "v1";
/// `schema_version` of documents in which any grant has `expires_at` ([MR-org]). An older
/// gateway rejects such a document instead of silently ignoring the expiry.
pub const SCHEMA_V2: &str = "v2";
/// Every schema version this crate can evaluate.
pub const SUPPORTED_SCHEMA_VERSIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2];

/// The whole policy for one MCP server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyDocument {
    /// `v1`, or `v2` when any grant has `expires_at`. Set by [`PolicyDocument::finalize`].
    pub schema_version: String,
    /// `sha256:<hex>` of the canonical document (see [`crate::revision`]).
    pub revision: String,
    /// RFC 3339 time of rendering; informational, excluded from the revision.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generated_at: String,
    /// The server this policy belongs to.
    pub server: Server,
    /// How the gateway identifies callers.
    pub auth: AuthSettings,
    /// Enforcement mode and default decision.
    pub policy: PolicySettings,
    /// Session settings.
    pub session: SessionSettings,
    /// Tool metadata: required trust and side effect per tool.
    #[serde(deserialize_with = "null_as_default")]
    pub tools: Vec<Tool>,
    /// Access grants (rendered from MCPAccessGrant objects).
    #[serde(deserialize_with = "null_as_default")]
    pub grants: Vec<Grant>,
    /// Agent session bindings (rendered from MCPAgentSession objects).
    #[serde(deserialize_with = "null_as_default")]
    pub sessions: Vec<SessionBinding>,
}

/// `server`: identifies the MCP server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Server {
    /// MCPServer name (required).
    pub name: String,
    /// MCPServer namespace.
    pub namespace: String,
    /// The owning team (`spec.teamID`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub team_id: String,
    /// Cluster name, for audit.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
}

/// `auth`: how callers are identified.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// `none`, `header`, `oauth` or `mtls`; unset behaves like the gateway's default.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub mode: Lenient<AuthMode>,
    /// Header carrying the human ID (header mode).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub human_id_header: String,
    /// Header carrying the agent ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub agent_id_header: String,
    /// Header carrying the team ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub team_id_header: String,
    /// Header carrying the agent session ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub session_id_header: String,
    /// Header carrying the bearer token (oauth).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_header: String,
    /// OAuth issuer; required for `oauth`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub issuer_url: String,
    /// Expected token audience (oauth).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub audience: String,
    /// SPIFFE trust domain; required for `mtls`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub trust_domain: String,
}

/// `policy`: enforcement settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicySettings {
    /// `allow-list` (unset means the same) or `observe`.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub mode: Lenient<PolicyMode>,
    /// `deny` (unset means the same) or `allow`.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub default_decision: Lenient<DefaultDecision>,
    /// Informational (`call_tool`); enforcement is always on `tools/call`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub enforce_on: String,
    /// The document's policy version, reported when no grant or session supplies one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
    /// What a pinned tool whose live definition differs from its pin gets: `quarantine` (unset
    /// means the same) or `warn`. Rendered only when a tool is pinned.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub on_tool_drift: Lenient<ToolDriftAction>,
}

/// `session`: session settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    /// Whether every tool call must present a live session. Always written, unlike MR.
    pub required: bool,
    /// Informational (`kubernetes`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub store: String,
    /// Informational; the gateway reads `auth.session_id_header`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub header_name: String,
    /// Informational (not enforced, as in MR).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub max_lifetime: String,
    /// Informational (not enforced, as in MR).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub idle_timeout: String,
    /// Header the OAuth token is forwarded in.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub upstream_token_header: String,
}

/// `tools[]`: one tool's requirements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tool {
    /// Tool name as in `tools/call` `params.name` (unique).
    pub name: String,
    /// Free text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Trust a caller needs; unset and unknown count as `low`.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub required_trust: Lenient<Trust>,
    /// Unset or unknown fails closed (`tool_side_effect_unknown`).
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub side_effect: Lenient<SideEffect>,
    /// Declared risk; derived from side effect and trust when unset.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub risk_level: Lenient<RiskLevel>,
    /// Free-form labels.
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub labels: BTreeMap<String, String>,
    /// The pinned digest of the tool's definition (`sha256:<hex>`, see [`crate::pin`]); empty
    /// when the tool is not pinned.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// The tool's live definition was last seen (by the operator's or `up`'s handshake) with a
    /// digest other than `digest`. The gateway's own sighting of the tool in a `tools/list`
    /// reply takes precedence.
    #[serde(skip_serializing_if = "is_false")]
    pub drifted: bool,
}

impl Tool {
    /// A tool with a side effect and a required trust level.
    pub fn new(name: impl Into<String>, side_effect: SideEffect, required_trust: Trust) -> Self {
        Tool {
            name: name.into(),
            required_trust: required_trust.into(),
            side_effect: side_effect.into(),
            ..Tool::default()
        }
    }
}

/// `grants[]`: what a subject may do (rendered from an MCPAccessGrant).
///
/// The subject is the non-empty subset of `human_id`, `agent_id` and `team_id`; a caller
/// matches when every non-empty field equals its identity. A grant with all three empty is a
/// wildcard that matches every identified caller (see `docs/policy.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Grant {
    /// Grant name; `(namespace, name)` is unique.
    pub name: String,
    /// Grant namespace. Always written.
    pub namespace: String,
    /// Subject human ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub human_id: String,
    /// Subject agent ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub agent_id: String,
    /// Subject team ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub team_id: String,
    /// The most trust this grant confers. Rendering writes `low` for an empty `maxTrust`.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub max_trust: Lenient<Trust>,
    /// Side effects this grant allows; empty allows nothing. Always written.
    #[serde(deserialize_with = "null_as_default")]
    pub allowed_side_effects: Vec<Lenient<SideEffect>>,
    /// Reported in decisions this grant determines.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
    /// Kill switch.
    #[serde(skip_serializing_if = "is_false")]
    pub disabled: bool,
    /// RFC 3339; the grant stops matching at this instant ([MR-org], schema `v2`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expires_at: String,
    /// Per-tool rules; empty means every tool name is allowed.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub tool_rules: Vec<ToolRule>,
}

impl Grant {
    /// An empty grant (no subject, nothing allowed) to fill in.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Grant {
            name: name.into(),
            namespace: namespace.into(),
            ..Grant::default()
        }
    }

    /// True when the grant has no subject field at all (a wildcard).
    pub fn is_wildcard(&self) -> bool {
        self.human_id.is_empty() && self.agent_id.is_empty() && self.team_id.is_empty()
    }
}

/// `grants[].tool_rules[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolRule {
    /// Tool name (unique within the grant).
    pub name: String,
    /// `allow` (unset means the same) or `deny`. An unknown decision denies.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub decision: Lenient<RuleDecision>,
    /// Raises the tool's required trust for callers using this rule.
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub required_trust: Lenient<Trust>,
}

impl ToolRule {
    /// An `allow` rule.
    pub fn allow(name: impl Into<String>, required_trust: Trust) -> Self {
        ToolRule {
            name: name.into(),
            decision: RuleDecision::Allow.into(),
            required_trust: required_trust.into(),
        }
    }

    /// A `deny` rule.
    pub fn deny(name: impl Into<String>) -> Self {
        ToolRule {
            name: name.into(),
            decision: RuleDecision::Deny.into(),
            required_trust: Trust::Low.into(),
        }
    }
}

/// `sessions[]`: an agent session binding (rendered from an MCPAgentSession).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionBinding {
    /// Session ID as presented by the caller (unique).
    pub name: String,
    /// Session namespace. Always written.
    pub namespace: String,
    /// Subject human ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub human_id: String,
    /// Subject agent ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub agent_id: String,
    /// Subject team ID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub team_id: String,
    /// Trust the human consented to; unset means "no cap" (consent = the grants' trust).
    #[serde(skip_serializing_if = "Lenient::is_unset")]
    pub consented_trust: Lenient<Trust>,
    /// Revocation switch.
    #[serde(skip_serializing_if = "is_false")]
    pub revoked: bool,
    /// RFC 3339; an unparseable value counts as expired.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expires_at: String,
    /// Reported in session denials.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
    /// `<secret>/<key>`: the Secret (in the session's namespace) whose token the gateway sends
    /// upstream in `session.upstream_token_header` for this session's requests.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub upstream_token_ref: String,
}

impl SessionBinding {
    /// An empty binding to fill in.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        SessionBinding {
            name: name.into(),
            namespace: namespace.into(),
            ..SessionBinding::default()
        }
    }
}

impl PolicyDocument {
    /// Parses and validates a document: the only way a gateway should accept one.
    ///
    /// Fails with [`PolicyError::Json`] for malformed JSON and [`PolicyError::Invalid`] with
    /// every validation problem otherwise (see [`PolicyDocument::validate`]).
    pub fn parse(bytes: &[u8]) -> Result<PolicyDocument, PolicyError> {
        let document: PolicyDocument = serde_json::from_slice(bytes)?;
        document.validate().map_err(PolicyError::Invalid)?;
        Ok(document)
    }

    /// Whether [`PolicyDocument::normalize`] would leave the document as it is. Only strictly
    /// increasing keys count: with ties, `normalize` orders by the serialized entries, which
    /// this does not check.
    pub fn is_normalized(&self) -> bool {
        fn strictly_increasing<'a, T, K: Ord>(entries: &'a [T], key: impl Fn(&'a T) -> K) -> bool {
            entries.windows(2).all(|pair| key(&pair[0]) < key(&pair[1]))
        }
        strictly_increasing(&self.tools, |tool| tool.name.as_str())
            && strictly_increasing(&self.grants, |grant| (&grant.namespace, &grant.name))
            && strictly_increasing(&self.sessions, |session| {
                (&session.namespace, &session.name)
            })
            && self.grants.iter().all(|grant| {
                strictly_increasing(&grant.allowed_side_effects, |effect| effect.sort_key())
                    && strictly_increasing(&grant.tool_rules, |rule| rule.name.as_str())
            })
    }

    /// Sorts everything whose order carries no meaning, so that equal policies serialize and
    /// hash identically: tools by name, grants and sessions by `(namespace, name)`, tool rules
    /// by name and allowed side effects in `read`, `write`, `destructive` order.
    ///
    /// Ties (only possible in invalid documents) are broken by the serialized entry, so even
    /// then the result does not depend on the input order.
    pub fn normalize(&mut self) {
        sort_entries(&mut self.tools, |a, b| a.name.cmp(&b.name));
        for grant in &mut self.grants {
            grant
                .allowed_side_effects
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            sort_entries(&mut grant.tool_rules, |a, b| a.name.cmp(&b.name));
        }
        sort_entries(&mut self.grants, |a, b| {
            (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))
        });
        sort_entries(&mut self.sessions, |a, b| {
            (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))
        });
    }

    /// The lowest schema version that can carry this document: `v2` when any grant has
    /// `expires_at`, else `v1`.
    pub fn required_schema_version(&self) -> &'static str {
        if self
            .grants
            .iter()
            .any(|grant| !grant.expires_at.trim().is_empty())
        {
            SCHEMA_V2
        } else {
            SCHEMA_V1
        }
    }

    /// Makes a rendered document ready to write: normalizes it, sets `schema_version`,
    /// `generated_at` and `revision`. Call it last, after every field is filled in.
    pub fn finalize(&mut self, generated_at: Timestamp) -> Result<(), PolicyError> {
        self.normalize();
        self.schema_version = self.required_schema_version().to_owned();
        self.generated_at = generated_at.to_string();
        self.revision = revision::compute_revision(self)?;
        Ok(())
    }

    /// Pretty-printed JSON, the form written to the ConfigMap.
    pub fn to_json_pretty(&self) -> Result<String, PolicyError> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

/// Sorts by `primary`, breaking ties by the entry's JSON so the result is input-order free.
fn sort_entries<T: Serialize>(entries: &mut [T], primary: impl Fn(&T, &T) -> Ordering) {
    entries.sort_by(|a, b| {
        primary(a, b).then_with(|| {
            // Serializing these plain structs cannot fail; an error string still sorts
            // deterministically.
            let left = serde_json::to_string(a).unwrap_or_default();
            let right = serde_json::to_string(b).unwrap_or_default();
            left.cmp(&right)
        })
    });
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Go writes `null` for a nil slice or map when `omitempty` is missing; treat it as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Parses an RFC 3339 timestamp such as `2026-07-01T12:00:00Z` or
/// `2026-07-01T14:00:00.5+02:00`. Requires the full `date T time offset` form (as Go's
/// `time.RFC3339` layout does) before handing the text to jiff.
pub(crate) fn parse_rfc3339(raw: &str) -> Option<Timestamp> {
    let bytes = raw.as_bytes();
    let shape_ok = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape_ok {
        return None;
    }
    raw.parse::<Timestamp>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_requires_date_time_and_offset() {
        assert!(parse_rfc3339("2026-07-01T12:00:00Z").is_some());
        assert!(parse_rfc3339("2026-07-01T12:00:00.123+02:00").is_some());
        assert!(parse_rfc3339("2026-07-01").is_none());
        assert!(parse_rfc3339("2026-07-01T12:00Z").is_none());
        assert!(parse_rfc3339("2026-07-01T12:00:00").is_none());
        assert!(parse_rfc3339("tomorrow").is_none());
        assert!(parse_rfc3339("2026-13-01T12:00:00Z").is_none());
    }

    #[test]
    fn mr_style_document_with_nulls_and_missing_sections_parses() -> Result<(), serde_json::Error> {
        let document: PolicyDocument = serde_json::from_str(
            r#"{"schema_version":"v1","revision":"x","server":{"name":"s","namespace":"n"},
                "grants":null,"tools":[{"name":"t","labels":null}]}"#,
        )?;
        assert!(document.grants.is_empty());
        assert!(document.tools[0].labels.is_empty());
        assert!(document.policy.mode.is_unset());
        Ok(())
    }

    #[test]
    fn schema_version_is_v2_only_when_a_grant_expires() {
        let mut document = PolicyDocument::default();
        document.grants.push(Grant::new("ns", "a"));
        assert_eq!(document.required_schema_version(), SCHEMA_V1);
        document.grants[0].expires_at = "2026-01-01T00:00:00Z".into();
        assert_eq!(document.required_schema_version(), SCHEMA_V2);
    }
}
