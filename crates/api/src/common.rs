//! Types shared by the three kinds: trust levels, side effects, references and subjects.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How much an agent is trusted, and how much trust a tool needs. Ordered: `low < medium < high`.
#[derive(
    Serialize,
    Deserialize,
    JsonSchema,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    #[default]
    Low,
    Medium,
    High,
}

impl TrustLevel {
    /// The wire value (`low`, `medium`, `high`).
    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::Low => "low",
            TrustLevel::Medium => "medium",
            TrustLevel::High => "high",
        }
    }
}

impl fmt::Display for TrustLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a tool does to the world. Grants list the side effects they allow; an empty list allows none.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum SideEffect {
    Read,
    Write,
    Destructive,
}

impl SideEffect {
    /// The wire value (`read`, `write`, `destructive`).
    pub fn as_str(self) -> &'static str {
        match self {
            SideEffect::Read => "read",
            SideEffect::Write => "write",
            SideEffect::Destructive => "destructive",
        }
    }
}

impl fmt::Display for SideEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declared risk of a tool. Informational: shown in audit and the catalog, never used to decide.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

impl RiskLevel {
    /// The wire value (`low`, `medium`, `high`).
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }
}

/// Points a grant or session at an MCPServer. The namespace defaults to the referrer's own.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServerRef {
    /// Name of the MCPServer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the MCPServer; empty means the namespace of the grant or session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl ServerRef {
    /// The namespace this reference points into, given the namespace of the object holding it.
    pub fn namespace_or<'a>(&'a self, own_namespace: &'a str) -> &'a str {
        match self.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => own_namespace,
        }
    }
}

/// Who a grant or session applies to. Every non-empty field must match the caller's identity.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Subject {
    /// The human on whose behalf the agent acts.
    #[serde(rename = "humanID", default, skip_serializing_if = "Option::is_none")]
    pub human_id: Option<String>,
    /// The agent (client) identity.
    #[serde(rename = "agentID", default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// A stable platform team identifier. Empty inherits the server's `teamID` when the policy is
    /// rendered. No whitespace, at most 128 characters.
    #[serde(rename = "teamID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128), regex(pattern = r"^\S*$"))]
    pub team_id: Option<String>,
}

impl Subject {
    /// True when no field is set (a wildcard subject).
    pub fn is_empty(&self) -> bool {
        [&self.human_id, &self.agent_id, &self.team_id]
            .iter()
            .all(|field| field.as_deref().is_none_or(str::is_empty))
    }
}

/// A key in a Secret in the same namespace.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Key within the Secret.
    #[schemars(length(min = 1))]
    pub key: String,
}
