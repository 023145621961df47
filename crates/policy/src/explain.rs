//! The explain trace: why a decision came out the way it did.
//!
//! Built only by [`crate::CompiledPolicy::explain`], which runs the same code as
//! [`crate::CompiledPolicy::evaluate`] with recording switched on, so the two never disagree.
//! `Serialize` gives the structured form (audit, JSON output of `access explain`); `Display`
//! gives the human form, one line per fact.

use std::fmt;

use serde::Serialize;

use crate::decision::{Decision, ObjectRef};
use crate::document::{PolicyDocument, parse_rfc3339};
use crate::evaluate::Request;
use crate::reason::Reason;
use crate::vocabulary::{
    DefaultDecision, Lenient, PolicyMode, RiskLevel, SideEffect, Vocabulary, trust_name,
};

/// Everything the evaluator looked at for one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trace {
    /// The request as evaluated.
    pub request: TraceRequest,
    /// Revision of the policy document used.
    pub revision: String,
    /// `allow-list` or `observe` (as applied: unset and unknown mean `allow-list`).
    pub policy_mode: &'static str,
    /// `deny` or `allow` (as applied: unset and unknown mean `deny`).
    pub default_decision: &'static str,
    /// Whether a live session is required.
    pub session_required: bool,
    /// A short explanation when the decision was taken before any grant was examined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// The tool's requirements (tool calls only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<ToolTrace>,
    /// The session check (tool calls that got that far).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionTrace>,
    /// Whether the grant scan ran.
    pub grants_scanned: bool,
    /// The candidate grants from the subject index, sorted by namespace/name.
    pub grants: Vec<GrantTrace>,
    /// Grants never examined because they share no subject value with the caller.
    pub grants_not_considered: usize,
    /// The trust comparison of step 12, when reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<TrustTrace>,
    /// The verdict.
    pub outcome: TraceOutcome,
}

/// The evaluated request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceRequest {
    /// JSON-RPC method.
    pub rpc_method: String,
    /// Tool name, if any.
    pub tool_name: Option<String>,
    /// Caller human ID.
    pub human_id: Option<String>,
    /// Caller agent ID.
    pub agent_id: Option<String>,
    /// Caller team ID.
    pub team_id: Option<String>,
    /// Presented session ID.
    pub session_id: Option<String>,
    /// Evaluation time, RFC 3339.
    pub now: String,
}

/// A trust rank with its name, e.g. `{"name": "medium", "rank": 2}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TrustView {
    /// `none`, `low`, `medium` or `high`.
    pub name: &'static str,
    /// 0–3.
    pub rank: u8,
}

impl TrustView {
    /// The view of a rank.
    pub fn of(rank: u8) -> Self {
        TrustView {
            name: trust_name(rank),
            rank,
        }
    }
}

impl fmt::Display for TrustView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.rank)
    }
}

/// The tool's requirements.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolTrace {
    /// Tool name.
    pub name: String,
    /// Whether the document lists the tool.
    pub declared: bool,
    /// The tool's own required trust (rules may raise it).
    pub required_trust: TrustView,
    /// Declared side effect; none fails closed.
    pub side_effect: Option<SideEffect>,
    /// Declared or derived risk.
    pub risk_level: Option<RiskLevel>,
}

/// What happened to the presented session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// No session ID was presented.
    NotPresented,
    /// No binding with that name and the caller's subject.
    NotFound,
    /// Found, not revoked, not expired: its consent applies.
    Live,
    /// Found but revoked.
    Revoked,
    /// Found but past `expires_at` (or its expiry is unparseable).
    Expired,
}

impl SessionState {
    fn as_str(self) -> &'static str {
        match self {
            SessionState::NotPresented => "not presented",
            SessionState::NotFound => "not found",
            SessionState::Live => "live",
            SessionState::Revoked => "revoked",
            SessionState::Expired => "expired",
        }
    }
}

/// The binding a session ID resolved to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionBindingTrace {
    /// Namespace and name.
    pub binding: ObjectRef,
    /// Consented trust, if set.
    pub consented_trust: Option<TrustView>,
    /// `expires_at` as written.
    pub expires_at: Option<String>,
}

/// The session check (steps 3–4).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionTrace {
    /// `session.required`.
    pub required: bool,
    /// The presented session ID.
    pub presented: Option<String>,
    /// The outcome.
    pub state: SessionState,
    /// The binding found, if any.
    pub found: Option<SessionBindingTrace>,
    /// Whether the session's consent took part in the decision (only a live session's does).
    pub applies: bool,
    /// The session's expiry capped by its grants': the earlier of its own `expires_at` and
    /// the latest `expires_at` of the grants that contributed (none if one never expires).
    pub effective_expires_at: Option<String>,
}

impl SessionTrace {
    pub(crate) fn not_presented(required: bool) -> Self {
        SessionTrace {
            required,
            presented: None,
            state: SessionState::NotPresented,
            found: None,
            applies: false,
            effective_expires_at: None,
        }
    }

    pub(crate) fn new(
        required: bool,
        presented: Option<&str>,
        state: SessionState,
        found: Option<SessionBindingTrace>,
    ) -> Self {
        SessionTrace {
            required,
            presented: presented.map(str::to_owned),
            state,
            found,
            applies: state == SessionState::Live,
            effective_expires_at: None,
        }
    }
}

/// Why a candidate grant did or did not take part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    /// Shares a subject value with the caller but another field differs.
    SubjectMismatch,
    /// Subject matches; `disabled: true`.
    Disabled,
    /// Subject matches; past `expires_at` (or unparseable).
    Expired,
    /// Subject matches and the grant is in force.
    Active,
}

/// What an active grant says about the tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ToolAccess {
    /// The grant has no tool rules: every tool name is allowed.
    AllTools,
    /// An `allow` rule for the tool.
    Allow {
        /// The rule's required trust.
        required_trust: TrustView,
    },
    /// A `deny` rule (or a rule with an unknown decision) for the tool.
    Deny,
    /// The grant has rules, none for this tool.
    NotListed,
}

/// One candidate grant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GrantTrace {
    /// Namespace and name.
    pub grant: ObjectRef,
    /// The grant's subject, e.g. `agent_id=claude team_id=platform`.
    pub subject: String,
    /// Outcome of the subject, disabled and expiry checks.
    pub status: GrantStatus,
    /// For a subject mismatch, which fields differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
    /// `expires_at` as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The grant's `max_trust`.
    pub max_trust: TrustView,
    /// For an active grant, what it says about the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_access: Option<ToolAccess>,
    /// For a grant allowing the tool, whether it allows the tool's side effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side_effect_allowed: Option<bool>,
    /// Whether the grant contributes its trust (allows the tool and its side effect).
    pub contributes: bool,
}

impl GrantTrace {
    pub(crate) fn new(
        grant: &ObjectRef,
        subject: String,
        expires_at: &str,
        max_trust_rank: u8,
    ) -> Self {
        GrantTrace {
            grant: grant.clone(),
            subject,
            status: GrantStatus::Active,
            mismatch: None,
            expires_at: (!expires_at.is_empty()).then(|| expires_at.to_owned()),
            max_trust: TrustView::of(max_trust_rank),
            tool_access: None,
            side_effect_allowed: None,
            contributes: false,
        }
    }
}

/// The trust comparison (step 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TrustTrace {
    /// max(tool required_trust, contributing rules' required_trust).
    pub required: TrustView,
    /// max(contributing grants' max_trust).
    pub admin: TrustView,
    /// The live session's consented trust, else the admin trust.
    pub consented: TrustView,
    /// min(admin, consented).
    pub effective: TrustView,
    /// Whether `consented` came from the session.
    pub consent_from_session: bool,
}

/// The verdict, repeated so a serialized trace stands alone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceOutcome {
    /// Allowed or not.
    pub allowed: bool,
    /// Reason code.
    pub reason: Reason,
    /// HTTP status.
    pub http_status: u16,
    /// Attributed grant.
    pub matched_grant: Option<ObjectRef>,
    /// Resolved session.
    pub matched_session: Option<ObjectRef>,
}

impl Trace {
    pub(crate) fn start(request: &Request<'_>, document: &PolicyDocument) -> Self {
        let owned = |value: Option<&str>| value.map(str::to_owned);
        Trace {
            request: TraceRequest {
                rpc_method: request.rpc_method.to_owned(),
                tool_name: owned(request.tool_name),
                human_id: owned(request.identity.human_id),
                agent_id: owned(request.identity.agent_id),
                team_id: owned(request.identity.team_id),
                session_id: owned(request.session_id),
                now: request.now.to_string(),
            },
            revision: document.revision.clone(),
            policy_mode: if document.policy.mode == Lenient::Known(PolicyMode::Observe) {
                PolicyMode::Observe.as_str()
            } else {
                PolicyMode::AllowList.as_str()
            },
            default_decision: if document.policy.default_decision
                == Lenient::Known(DefaultDecision::Allow)
            {
                "allow"
            } else {
                "deny"
            },
            session_required: document.session.required,
            note: None,
            tool: None,
            session: None,
            grants_scanned: false,
            grants: Vec::new(),
            grants_not_considered: 0,
            trust: None,
            outcome: TraceOutcome {
                allowed: false,
                reason: Reason::Undecided,
                http_status: Reason::Undecided.http_status(),
                matched_grant: None,
                matched_session: None,
            },
        }
    }

    pub(crate) fn finish(&mut self, decision: &Decision, total_grants: usize) {
        self.grants.sort_by(|a, b| a.grant.cmp(&b.grant));
        if self.grants_scanned {
            self.grants_not_considered = total_grants.saturating_sub(self.grants.len());
        }
        self.outcome = TraceOutcome {
            allowed: decision.allowed,
            reason: decision.reason,
            http_status: decision.http_status,
            matched_grant: decision.matched_grant.clone(),
            matched_session: decision.matched_session.clone(),
        };
        let grant_cap = self.contributing_grants_expiry();
        if let Some(session) = self.session.as_mut().filter(|session| session.applies) {
            let own = session
                .found
                .as_ref()
                .and_then(|found| found.expires_at.as_deref())
                .and_then(parse_rfc3339);
            session.effective_expires_at = match (own, grant_cap) {
                (Some(own), Some(cap)) => Some(own.min(cap)),
                (own, cap) => own.or(cap),
            }
            .map(|at| at.to_string());
        }
    }

    /// The latest expiry among contributing grants, or `None` if any of them never expires
    /// (or none contributed).
    fn contributing_grants_expiry(&self) -> Option<jiff::Timestamp> {
        let mut latest = None;
        for grant in self.grants.iter().filter(|grant| grant.contributes) {
            let at = grant.expires_at.as_deref().and_then(parse_rfc3339)?;
            latest = Some(latest.map_or(at, |latest: jiff::Timestamp| latest.max(at)));
        }
        latest
    }
}

fn or_dash(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = &self.outcome;
        write!(
            f,
            "decision: {} ({} {})",
            if outcome.allowed { "allow" } else { "deny" },
            outcome.http_status,
            outcome.reason
        )?;
        if let Some(grant) = &outcome.matched_grant {
            write!(f, "; grant {grant}")?;
        }
        if let Some(session) = &outcome.matched_session {
            write!(f, "; session {session}")?;
        }
        writeln!(f)?;
        let request = &self.request;
        write!(f, "request: {}", request.rpc_method)?;
        if let Some(tool) = &request.tool_name {
            write!(f, " tool={tool}")?;
        }
        writeln!(
            f,
            " human_id={} agent_id={} team_id={} session={} at {}",
            or_dash(&request.human_id),
            or_dash(&request.agent_id),
            or_dash(&request.team_id),
            or_dash(&request.session_id),
            request.now
        )?;
        writeln!(
            f,
            "policy: revision {}; mode {}; default decision {}; session {}",
            if self.revision.is_empty() {
                "-"
            } else {
                &self.revision
            },
            self.policy_mode,
            self.default_decision,
            if self.session_required {
                "required"
            } else {
                "optional"
            }
        )?;
        if let Some(note) = self.note {
            writeln!(f, "note: {note}")?;
        }
        if let Some(tool) = &self.tool {
            write!(f, "tool {}: ", tool.name)?;
            if !tool.declared {
                write!(f, "not declared; ")?;
            }
            writeln!(
                f,
                "side_effect={} required_trust={} risk={}",
                tool.side_effect
                    .map_or("none", |side_effect| { Vocabulary::as_str(side_effect) }),
                tool.required_trust,
                tool.risk_level.map_or("none", Vocabulary::as_str)
            )?;
        }
        if let Some(session) = &self.session {
            write_session(f, session)?;
        }
        for grant in &self.grants {
            write_grant(f, grant, self.tool.as_ref())?;
        }
        if self.grants_scanned {
            if self.grants.is_empty() {
                writeln!(f, "grants: none shares a subject value with the caller")?;
            }
            if self.grants_not_considered > 0 {
                writeln!(
                    f,
                    "({} other grants share no subject value with the caller and were not examined)",
                    self.grants_not_considered
                )?;
            }
        }
        if let Some(trust) = &self.trust {
            writeln!(
                f,
                "trust: required={} admin={} consented={}{} effective={}",
                trust.required,
                trust.admin,
                trust.consented,
                if trust.consent_from_session {
                    " (session)"
                } else {
                    " (= admin, no session consent)"
                },
                trust.effective
            )?;
        }
        Ok(())
    }
}

fn write_session(f: &mut fmt::Formatter<'_>, session: &SessionTrace) -> fmt::Result {
    let requirement = if session.required {
        "required"
    } else {
        "optional"
    };
    match (&session.presented, &session.found) {
        (None, _) => writeln!(f, "session: none presented ({requirement})"),
        (Some(id), None) => writeln!(
            f,
            "session {id}: {} ({requirement})",
            session.state.as_str()
        ),
        (Some(id), Some(found)) => {
            write!(
                f,
                "session {id}: {} ({requirement}) binding {}",
                session.state.as_str(),
                found.binding
            )?;
            if let Some(consented) = found.consented_trust {
                write!(f, ", consented_trust={consented}")?;
            }
            if let Some(expires_at) = &found.expires_at {
                write!(f, ", expires_at {expires_at}")?;
            }
            if let Some(effective) = &session.effective_expires_at {
                write!(f, ", effective expiry {effective}")?;
            }
            if !session.applies {
                write!(f, "; ignored")?;
            }
            writeln!(f)
        }
    }
}

fn write_grant(
    f: &mut fmt::Formatter<'_>,
    grant: &GrantTrace,
    tool: Option<&ToolTrace>,
) -> fmt::Result {
    write!(f, "grant {}: ", grant.grant)?;
    match grant.status {
        GrantStatus::SubjectMismatch => {
            return writeln!(
                f,
                "subject mismatch ({})",
                grant.mismatch.as_deref().unwrap_or(&grant.subject)
            );
        }
        GrantStatus::Disabled => {
            return writeln!(f, "subject matches ({}); disabled, skipped", grant.subject);
        }
        GrantStatus::Expired => {
            return writeln!(
                f,
                "subject matches ({}); expired at {}, skipped",
                grant.subject,
                grant.expires_at.as_deref().unwrap_or("?")
            );
        }
        GrantStatus::Active => write!(f, "subject matches ({})", grant.subject)?,
    }
    let tool_name = tool.map_or("", |tool| tool.name.as_str());
    match grant.tool_access {
        Some(ToolAccess::AllTools) => write!(f, "; no tool rules, all tools allowed")?,
        Some(ToolAccess::Allow { required_trust }) => write!(
            f,
            "; rule {tool_name} allow required={}",
            required_trust.name
        )?,
        Some(ToolAccess::Deny) => write!(f, "; rule {tool_name} deny (deny wins)")?,
        Some(ToolAccess::NotListed) => write!(f, "; no rule for {tool_name}")?,
        None => {}
    }
    if let Some(allowed) = grant.side_effect_allowed {
        let side_effect = tool
            .and_then(|tool| tool.side_effect)
            .map_or("none", Vocabulary::as_str);
        let verdict = if allowed { "allowed" } else { "not allowed" };
        write!(f, "; side effect {side_effect} {verdict}")?;
    }
    if grant.contributes {
        write!(f, "; contributes max_trust={}", grant.max_trust)?;
    }
    writeln!(f)
}
