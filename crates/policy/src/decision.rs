//! The outcome of evaluating one request.

use std::fmt;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::explain::Trace;
use crate::reason::Reason;
use crate::vocabulary::{RiskLevel, SideEffect, Trust};

/// A namespaced object name (a grant or a session binding).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectRef {
    /// Namespace.
    pub namespace: Arc<str>,
    /// Name.
    pub name: Arc<str>,
}

impl ObjectRef {
    /// Builds a reference.
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjectRef {
            namespace: Arc::from(namespace),
            name: Arc::from(name),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// An authorization decision, with everything the audit event needs (reference §7.5).
///
/// Strings are `Arc<str>` shared with the [`crate::CompiledPolicy`], so building a decision
/// does not allocate. `Option` fields are the audit payload's "when set" fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Why (also set for allows).
    pub reason: Reason,
    /// 200 when allowed, else the reason's class (401, 403, 404, 502, 503 or 504).
    pub http_status: u16,
    /// The deciding grant's or session's policy version, else the document's.
    pub policy_version: Option<Arc<str>>,
    /// Required trust: max of the tool's and the contributing rules' requirements.
    pub required_trust: Option<Trust>,
    /// The tool's declared side effect.
    pub required_side_effect: Option<SideEffect>,
    /// The tool's declared or derived risk level.
    pub risk_level: Option<RiskLevel>,
    /// Max trust of the contributing grants.
    pub admin_trust: Option<Trust>,
    /// The live session's consented trust, else the admin trust.
    pub consented_trust: Option<Trust>,
    /// `min(admin, consented)`.
    pub effective_trust: Option<Trust>,
    /// The grant the decision is attributed to.
    pub matched_grant: Option<ObjectRef>,
    /// The session binding the request resolved to.
    pub matched_session: Option<ObjectRef>,
    /// Present only on decisions from [`crate::CompiledPolicy::explain`].
    pub trace: Option<Box<Trace>>,
}

impl Decision {
    /// A decision with only the verdict set.
    pub(crate) fn bare(allowed: bool, reason: Reason, policy_version: Option<Arc<str>>) -> Self {
        Decision {
            allowed,
            reason,
            http_status: if allowed { 200 } else { reason.http_status() },
            policy_version,
            required_trust: None,
            required_side_effect: None,
            risk_level: None,
            admin_trust: None,
            consented_trust: None,
            effective_trust: None,
            matched_grant: None,
            matched_session: None,
            trace: None,
        }
    }

    /// An allow for a request that needs no grant check (`tools/list`, `initialize`, `ping`, …),
    /// as the gateway records it for audit.
    pub fn allowed_without_check() -> Self {
        Decision::bare(true, Reason::Allowed, None)
    }

    /// The gateway's starting decision: 403 `undecided`, so a path that forgets to decide
    /// fails closed.
    pub fn undecided() -> Self {
        Decision::bare(false, Reason::Undecided, None)
    }

    /// A denial produced outside the evaluator (OAuth, mTLS, inspection, policy loading, the
    /// upstream), with the reason's catalogue status. `Reason::Allowed` is not a denial and
    /// yields [`Decision::undecided`] instead.
    pub fn denied_by_stage(reason: Reason) -> Self {
        if reason == Reason::Allowed {
            return Decision::undecided();
        }
        Decision::bare(false, reason, None)
    }

    /// 503 `policy_unavailable`: no valid policy is loaded.
    pub fn policy_unavailable() -> Self {
        Decision::denied_by_stage(Reason::PolicyUnavailable)
    }

    /// 503 `auth_mode_unavailable`: the policy asks for an identity mode this gateway cannot
    /// provide, so no caller can be identified and nothing is forwarded.
    pub fn auth_mode_unavailable() -> Self {
        Decision::denied_by_stage(Reason::AuthModeUnavailable)
    }

    /// `"allow"` or `"deny"`, the audit payload's `decision`.
    pub fn verdict(&self) -> &'static str {
        if self.allowed { "allow" } else { "deny" }
    }
}

/// Serializes in the audit payload's shape: `decision`, `reason`, `policy_version`, then the
/// "when set" fields (`matched_grant` / `matched_grant_namespace`, …) and `trace` if present.
impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("decision", self.verdict())?;
        map.serialize_entry("reason", &self.reason)?;
        map.serialize_entry("status", &self.http_status)?;
        map.serialize_entry(
            "policy_version",
            self.policy_version.as_deref().unwrap_or(""),
        )?;
        if let Some(trust) = self.required_trust {
            map.serialize_entry("required_trust", &trust)?;
        }
        if let Some(side_effect) = self.required_side_effect {
            map.serialize_entry("required_side_effect", &side_effect)?;
        }
        if let Some(risk) = self.risk_level {
            map.serialize_entry("risk_level", &risk)?;
        }
        if let Some(trust) = self.admin_trust {
            map.serialize_entry("admin_trust", &trust)?;
        }
        if let Some(trust) = self.consented_trust {
            map.serialize_entry("consented_trust", &trust)?;
        }
        if let Some(trust) = self.effective_trust {
            map.serialize_entry("effective_trust", &trust)?;
        }
        if let Some(grant) = &self.matched_grant {
            map.serialize_entry("matched_grant", &grant.name)?;
            map.serialize_entry("matched_grant_namespace", &grant.namespace)?;
        }
        if let Some(session) = &self.matched_session {
            map.serialize_entry("matched_session", &session.name)?;
            map.serialize_entry("matched_session_namespace", &session.namespace)?;
        }
        if let Some(trace) = &self.trace {
            map.serialize_entry("trace", trace)?;
        }
        map.end()
    }
}
