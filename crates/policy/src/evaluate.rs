//! The trust evaluator (MR `pkg/policy/evaluator.go`, reference §7.3), compiled for the hot
//! path.
//!
//! [`CompiledPolicy`] is built once per policy revision and shared (`Arc<CompiledPolicy>`,
//! swapped atomically on reload). A decision looks the caller's identity values up in three
//! hash indexes instead of scanning every grant, so its cost depends on the number of grants
//! that share a subject value with the caller, not on the size of the document. It does not
//! allocate: names in the [`Decision`] are `Arc<str>` clones.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::decision::{Decision, ObjectRef};
use crate::document::{Grant, PolicyDocument, SessionBinding, Tool, parse_rfc3339};
use crate::error::PolicyError;
use crate::explain::{
    GrantStatus, GrantTrace, SessionBindingTrace, SessionState, SessionTrace, ToolAccess,
    ToolTrace, Trace, TrustTrace, TrustView,
};
use crate::pin::DriftTracker;
use crate::reason::Reason;
use crate::revision::compute_revision;
use crate::vocabulary::{
    DefaultDecision, Lenient, PolicyMode, RiskLevel, RuleDecision, SideEffect, ToolDriftAction,
    Trust,
};

/// The JSON-RPC method of a tool call.
pub const TOOLS_CALL: &str = "tools/call";

/// True for the methods MR authorizes against grants: `tools/call` and the legacy
/// `call_tool`. Every other method is allowed without a grant check.
pub fn is_tool_call_method(method: &str) -> bool {
    matches!(method, "tools/call" | "call_tool")
}

/// The authenticated caller. Empty strings count as absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    /// Human principal (header, or OAuth `sub`).
    pub human_id: Option<&'a str>,
    /// Agent principal (header, or OAuth `azp`/`client_id`).
    pub agent_id: Option<&'a str>,
    /// Team principal (header, or OAuth `team_id`/`tenant_id`/`tid`).
    pub team_id: Option<&'a str>,
}

impl<'a> Identity<'a> {
    /// Sets the human ID.
    pub fn with_human(mut self, human_id: &'a str) -> Self {
        self.human_id = Some(human_id);
        self
    }

    /// Sets the agent ID.
    pub fn with_agent(mut self, agent_id: &'a str) -> Self {
        self.agent_id = Some(agent_id);
        self
    }

    /// Sets the team ID.
    pub fn with_team(mut self, team_id: &'a str) -> Self {
        self.team_id = Some(team_id);
        self
    }
}

/// One request to authorize. Borrowed, so building it costs nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The caller.
    pub identity: Identity<'a>,
    /// The session ID the caller presented (header, `sid` claim or SPIFFE path).
    pub session_id: Option<&'a str>,
    /// JSON-RPC `method`.
    pub rpc_method: &'a str,
    /// `params.name` of a tool call.
    pub tool_name: Option<&'a str>,
    /// The current time; passed in so evaluation stays pure.
    pub now: Timestamp,
}

impl<'a> Request<'a> {
    /// A `tools/call` of `tool_name`.
    pub fn tool_call(identity: Identity<'a>, tool_name: &'a str, now: Timestamp) -> Self {
        Request {
            identity,
            session_id: None,
            rpc_method: TOOLS_CALL,
            tool_name: Some(tool_name),
            now,
        }
    }

    /// Any other JSON-RPC method (no tool).
    pub fn method(identity: Identity<'a>, rpc_method: &'a str, now: Timestamp) -> Self {
        Request {
            identity,
            session_id: None,
            rpc_method,
            tool_name: None,
            now,
        }
    }

    /// Sets the presented session ID.
    pub fn with_session(mut self, session_id: &'a str) -> Self {
        self.session_id = Some(session_id);
        self
    }
}

/// A policy document compiled for evaluation. Immutable; share it behind an `Arc`.
#[derive(Debug)]
pub struct CompiledPolicy {
    document: PolicyDocument,
    observe: bool,
    default_allow: bool,
    session_required: bool,
    document_policy_version: Option<Arc<str>>,
    /// Some tool is pinned: only then are `tools/list` replies digested.
    has_pins: bool,
    /// `policy.on_tool_drift` is `quarantine` (or unset).
    quarantine_on_drift: bool,
    tools: HashMap<Box<str>, CompiledTool>,
    /// Sorted by `(namespace, name)`, so a lower index is an earlier grant in MR's order.
    grants: Vec<CompiledGrant>,
    /// Each grant sits in exactly one bucket, keyed by its most selective subject field
    /// (agent, else human, else team); wildcard grants sit in `wildcard_grants`.
    grants_by_agent: HashMap<Box<str>, Vec<usize>>,
    grants_by_human: HashMap<Box<str>, Vec<usize>>,
    grants_by_team: HashMap<Box<str>, Vec<usize>>,
    wildcard_grants: Vec<usize>,
    /// Sorted by `(namespace, name)`.
    sessions: Vec<CompiledSession>,
    sessions_by_name: HashMap<Box<str>, Vec<usize>>,
    /// Some session names an upstream token (computed once: asked on every request).
    has_upstream_tokens: bool,
}

#[derive(Debug)]
pub(crate) struct CompiledTool {
    declared: bool,
    /// The pinned definition digest.
    pub(crate) pin: Option<Box<str>>,
    /// The handshake last saw a definition other than the pin.
    drifted: bool,
    required_rank: u8,
    side_effect: Option<SideEffect>,
    risk_level: Option<RiskLevel>,
}

/// Requirements of a tool the document does not list: `low` trust and no side effect,
/// which fails closed at step 9.
/// From this many grants, sessions and tools on, [`CompiledPolicy::new`] computes the revision on
/// a second thread: below it, starting a thread costs more than it saves.
const CONCURRENT_REVISION_ENTRIES: usize = 2_000;

const UNDECLARED_TOOL: CompiledTool = CompiledTool {
    declared: false,
    pin: None,
    drifted: false,
    required_rank: 1,
    side_effect: None,
    risk_level: None,
};

#[derive(Debug)]
struct CompiledSubject {
    human: Option<Box<str>>,
    agent: Option<Box<str>>,
    team: Option<Box<str>>,
}

#[derive(Debug)]
enum Expiry {
    Never,
    At(Timestamp),
    /// Unparseable: counts as expired (MR).
    Invalid,
}

#[derive(Debug)]
struct CompiledGrant {
    reference: ObjectRef,
    subject: CompiledSubject,
    disabled: bool,
    expiry: Expiry,
    max_trust_rank: u8,
    /// Bit set of [`SideEffect::bit`].
    allowed_side_effects: u8,
    /// The grant's policy version, else the document's.
    policy_version: Option<Arc<str>>,
    /// Sorted by tool name.
    rules: Vec<CompiledRule>,
    /// Kept for traces.
    expires_at: Box<str>,
}

#[derive(Debug)]
struct CompiledRule {
    tool: Box<str>,
    deny: bool,
    required_rank: u8,
}

#[derive(Debug)]
pub(crate) struct CompiledSession {
    reference: ObjectRef,
    subject: CompiledSubject,
    revoked: bool,
    expiry: Expiry,
    /// `None` when unset: consent then equals the admin trust (MR).
    consented_rank: Option<u8>,
    /// The session's policy version, else the document's.
    policy_version: Option<Arc<str>>,
    /// `upstream_token_ref` (`<secret>/<key>`), when the session names an upstream token.
    upstream_token_ref: Option<Box<str>>,
    /// Kept for traces.
    expires_at: Box<str>,
}

/// A caller that passed steps 2–4: its identity, the live session (if any) and the time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResolvedCaller<'p, 'r> {
    caller: Caller<'r>,
    session: Option<&'p CompiledSession>,
    now: Timestamp,
}

impl<'r> ResolvedCaller<'_, 'r> {
    pub(crate) fn caller(&self) -> &Caller<'r> {
        &self.caller
    }
}

/// The caller's identity values with empty strings removed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller<'r> {
    human: Option<&'r str>,
    agent: Option<&'r str>,
    team: Option<&'r str>,
}

impl<'r> Caller<'r> {
    pub(crate) fn of(identity: &Identity<'r>) -> Self {
        let present = |value: Option<&'r str>| value.filter(|value| !value.is_empty());
        Caller {
            human: present(identity.human_id),
            agent: present(identity.agent_id),
            team: present(identity.team_id),
        }
    }

    fn is_anonymous(&self) -> bool {
        self.human.is_none() && self.agent.is_none() && self.team.is_none()
    }
}

impl CompiledSubject {
    fn new(human: &str, agent: &str, team: &str) -> Self {
        let present = |value: &str| (!value.is_empty()).then(|| Box::<str>::from(value));
        CompiledSubject {
            human: present(human),
            agent: present(agent),
            team: present(team),
        }
    }

    fn is_wildcard(&self) -> bool {
        self.human.is_none() && self.agent.is_none() && self.team.is_none()
    }

    /// MR's subject match: every non-empty field equals the caller's value. The "at least one
    /// field" requirement is the caller's to apply (wildcard grants match, sessions do not).
    fn fields_match(&self, caller: &Caller<'_>) -> bool {
        fn field(want: &Option<Box<str>>, have: Option<&str>) -> bool {
            want.as_deref().is_none_or(|want| have == Some(want))
        }
        field(&self.human, caller.human)
            && field(&self.agent, caller.agent)
            && field(&self.team, caller.team)
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("human_id", &self.human),
            ("agent_id", &self.agent),
            ("team_id", &self.team),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().map(|value| format!("{key}={value}")))
        .collect();
        if parts.is_empty() {
            "* (wildcard: any identified caller)".to_owned()
        } else {
            parts.join(" ")
        }
    }

    fn mismatch(&self, caller: &Caller<'_>) -> String {
        [
            ("human_id", &self.human, caller.human),
            ("agent_id", &self.agent, caller.agent),
            ("team_id", &self.team, caller.team),
        ]
        .into_iter()
        .filter_map(|(key, want, have)| {
            let want = want.as_deref()?;
            (have != Some(want))
                .then(|| format!("{key}: wants {want}, caller has {}", have.unwrap_or("none")))
        })
        .collect::<Vec<_>>()
        .join(", ")
    }
}

impl CompiledGrant {
    fn trace_entry(&self) -> GrantTrace {
        GrantTrace::new(
            &self.reference,
            self.subject.describe(),
            &self.expires_at,
            self.max_trust_rank,
        )
    }
}

impl CompiledSession {
    fn trace_binding(&self) -> SessionBindingTrace {
        SessionBindingTrace {
            binding: self.reference.clone(),
            consented_trust: self.consented_rank.map(TrustView::of),
            expires_at: (!self.expires_at.is_empty()).then(|| self.expires_at.to_string()),
        }
    }
}

impl Expiry {
    fn parse(raw: &str) -> Self {
        if raw.trim().is_empty() {
            Expiry::Never
        } else {
            parse_rfc3339(raw).map_or(Expiry::Invalid, Expiry::At)
        }
    }

    /// Expired from the `expires_at` instant on ([MR-org]: `!now.Before(expiresAt)`).
    fn is_expired(&self, now: Timestamp) -> bool {
        match self {
            Expiry::Never => false,
            Expiry::At(at) => now >= *at,
            Expiry::Invalid => true,
        }
    }
}

fn optional_arc(value: &str) -> Option<Arc<str>> {
    (!value.trim().is_empty()).then(|| Arc::from(value))
}

fn compile_tool(tool: &Tool) -> CompiledTool {
    let required_rank = tool.required_trust.rank_or(Trust::Low.rank());
    let side_effect = tool.side_effect.known();
    CompiledTool {
        declared: true,
        pin: (!tool.digest.trim().is_empty()).then(|| Box::from(tool.digest.trim())),
        drifted: tool.drifted,
        required_rank,
        side_effect,
        risk_level: tool
            .risk_level
            .known()
            .or_else(|| derive_risk_level(required_rank, side_effect)),
    }
}

/// MR's `NormalizeRiskLevel` for an undeclared risk: destructive or high trust → high; write
/// or medium → medium; read and low → low; otherwise none.
fn derive_risk_level(required_rank: u8, side_effect: Option<SideEffect>) -> Option<RiskLevel> {
    match (side_effect, Trust::from_rank(required_rank)) {
        (Some(SideEffect::Destructive), _) | (_, Some(Trust::High)) => Some(RiskLevel::High),
        (Some(SideEffect::Write), _) | (_, Some(Trust::Medium)) => Some(RiskLevel::Medium),
        (Some(SideEffect::Read), Some(Trust::Low)) => Some(RiskLevel::Low),
        _ => None,
    }
}

fn compile_grant(grant: &Grant, document_policy_version: &Option<Arc<str>>) -> CompiledGrant {
    let mut rules: Vec<CompiledRule> = grant
        .tool_rules
        .iter()
        .map(|rule| CompiledRule {
            tool: Box::from(rule.name.as_str()),
            // Unknown decisions deny: validation rejects them, but evaluation must fail closed.
            deny: !matches!(
                rule.decision,
                Lenient::Unset | Lenient::Known(RuleDecision::Allow)
            ),
            required_rank: rule.required_trust.rank_or(Trust::Low.rank()),
        })
        .collect();
    rules.sort_by(|a, b| a.tool.cmp(&b.tool));
    CompiledGrant {
        reference: ObjectRef::new(&grant.namespace, &grant.name),
        subject: CompiledSubject::new(&grant.human_id, &grant.agent_id, &grant.team_id),
        disabled: grant.disabled,
        expiry: Expiry::parse(&grant.expires_at),
        // An unset max_trust confers no trust (see docs/policy.md); unknown counts as low.
        max_trust_rank: grant.max_trust.rank_or(0),
        allowed_side_effects: grant
            .allowed_side_effects
            .iter()
            .filter_map(Lenient::known)
            .fold(0, |bits, side_effect| bits | side_effect.bit()),
        policy_version: optional_arc(&grant.policy_version)
            .or_else(|| document_policy_version.clone()),
        rules,
        expires_at: Box::from(grant.expires_at.as_str()),
    }
}

fn compile_session(
    session: &SessionBinding,
    document_policy_version: &Option<Arc<str>>,
) -> CompiledSession {
    CompiledSession {
        reference: ObjectRef::new(&session.namespace, &session.name),
        subject: CompiledSubject::new(&session.human_id, &session.agent_id, &session.team_id),
        revoked: session.revoked,
        expiry: Expiry::parse(&session.expires_at),
        consented_rank: (!session.consented_trust.is_unset())
            .then(|| session.consented_trust.rank_or(Trust::Low.rank())),
        policy_version: optional_arc(&session.policy_version)
            .or_else(|| document_policy_version.clone()),
        upstream_token_ref: Some(session.upstream_token_ref.trim())
            .filter(|reference| !reference.is_empty())
            .map(Box::from),
        expires_at: Box::from(session.expires_at.as_str()),
    }
}

/// Indexes of `items` sorted by `(namespace, name)`, stable for equal keys.
fn sorted_order<T>(items: &[T], key: impl Fn(&T) -> (&str, &str)) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| key(&items[a]).cmp(&key(&items[b])));
    order
}

impl CompiledPolicy {
    /// Validates and compiles a document.
    ///
    /// For a large document the revision check, a canonical serialization and hash of the
    /// whole document and about half the cost of a reload, runs on a second thread while the
    /// indexes are built. Compiling before validation is safe: evaluation is total, and the
    /// compiled policy is dropped unless the document is valid.
    pub fn new(document: PolicyDocument) -> Result<Self, PolicyError> {
        let entries = document.grants.len() + document.sessions.len() + document.tools.len();
        let (computed_revision, mut policy) = if entries < CONCURRENT_REVISION_ENTRIES {
            (
                compute_revision(&document),
                CompiledPolicy::compile(&document),
            )
        } else {
            std::thread::scope(|scope| {
                let revision = scope.spawn(|| compute_revision(&document));
                let policy = CompiledPolicy::compile(&document);
                let computed = revision
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (computed, policy)
            })
        };
        document
            .validate_against_revision(computed_revision)
            .map_err(PolicyError::Invalid)?;
        policy.document = document;
        Ok(policy)
    }

    /// Parses, validates and compiles `policy.json` bytes: what a gateway does on reload.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PolicyError> {
        CompiledPolicy::new(serde_json::from_slice(bytes)?)
    }

    /// Compiles without validating. Evaluation is total and fails closed on any input, but a
    /// gateway must only activate validated documents; this is for tools and tests.
    pub fn new_unvalidated(document: PolicyDocument) -> Self {
        let mut policy = CompiledPolicy::compile(&document);
        policy.document = document;
        policy
    }

    /// Builds the indexes of `document`; the returned policy holds an empty document until the
    /// caller moves the real one in.
    fn compile(document: &PolicyDocument) -> Self {
        let document_policy_version = optional_arc(&document.policy.policy_version);

        let mut tools = HashMap::with_capacity(document.tools.len());
        for tool in &document.tools {
            // MR takes the first tool of a name; duplicates are a validation error anyway.
            tools
                .entry(Box::from(tool.name.as_str()))
                .or_insert_with(|| compile_tool(tool));
        }

        let grant_order = sorted_order(&document.grants, |grant| {
            (grant.namespace.as_str(), grant.name.as_str())
        });
        let grants: Vec<CompiledGrant> = grant_order
            .into_iter()
            .map(|index| compile_grant(&document.grants[index], &document_policy_version))
            .collect();
        let mut grants_by_agent: HashMap<Box<str>, Vec<usize>> = HashMap::new();
        let mut grants_by_human: HashMap<Box<str>, Vec<usize>> = HashMap::new();
        let mut grants_by_team: HashMap<Box<str>, Vec<usize>> = HashMap::new();
        let mut wildcard_grants = Vec::new();
        for (index, grant) in grants.iter().enumerate() {
            let subject = &grant.subject;
            // A grant matches only if *every* non-empty field matches, so indexing it under
            // any one of them finds every caller it can match. The agent ID is usually the
            // most selective, the team ID the least.
            let bucket = if let Some(agent) = &subject.agent {
                grants_by_agent.entry(agent.clone()).or_default()
            } else if let Some(human) = &subject.human {
                grants_by_human.entry(human.clone()).or_default()
            } else if let Some(team) = &subject.team {
                grants_by_team.entry(team.clone()).or_default()
            } else {
                &mut wildcard_grants
            };
            bucket.push(index);
        }

        let session_order = sorted_order(&document.sessions, |session| {
            (session.namespace.as_str(), session.name.as_str())
        });
        let sessions: Vec<CompiledSession> = session_order
            .into_iter()
            .map(|index| compile_session(&document.sessions[index], &document_policy_version))
            .collect();
        let mut sessions_by_name: HashMap<Box<str>, Vec<usize>> = HashMap::new();
        for (index, session) in sessions.iter().enumerate() {
            sessions_by_name
                .entry(Box::from(&*session.reference.name))
                .or_default()
                .push(index);
        }

        CompiledPolicy {
            has_pins: tools.values().any(|tool| tool.pin.is_some()),
            quarantine_on_drift: matches!(
                document.policy.on_tool_drift,
                Lenient::Unset | Lenient::Known(ToolDriftAction::Quarantine)
            ),
            observe: document.policy.mode == Lenient::Known(PolicyMode::Observe),
            default_allow: document.policy.default_decision
                == Lenient::Known(DefaultDecision::Allow),
            session_required: document.session.required,
            document_policy_version,
            tools,
            grants,
            grants_by_agent,
            grants_by_human,
            grants_by_team,
            wildcard_grants,
            has_upstream_tokens: sessions
                .iter()
                .any(|session| session.upstream_token_ref.is_some()),
            sessions,
            sessions_by_name,
            document: PolicyDocument::default(),
        }
    }

    /// Every instant at which a grant or session of this policy expires, sorted and deduplicated.
    /// Time enters a decision only through these expiries, so between two consecutive instants
    /// every request decides the same way: replay evaluates a request once per interval.
    pub fn expiry_instants(&self) -> Vec<Timestamp> {
        let mut instants: Vec<Timestamp> = self
            .grants
            .iter()
            .map(|grant| &grant.expiry)
            .chain(self.sessions.iter().map(|session| &session.expiry))
            .filter_map(|expiry| match expiry {
                Expiry::At(at) => Some(*at),
                Expiry::Never | Expiry::Invalid => None,
            })
            .collect();
        instants.sort_unstable();
        instants.dedup();
        instants
    }

    /// The document this policy was compiled from.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    /// The document's revision.
    pub fn revision(&self) -> &str {
        &self.document.revision
    }

    /// Decides one request (reference §7.3). Never panics, never allocates.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        self.decide(request, None, None)
    }

    /// [`CompiledPolicy::evaluate`], with what the gateway saw live of the pinned tools: a
    /// pinned tool last listed with another definition is quarantined (`policy.on_tool_drift:
    /// quarantine`) even when the handshake has not noticed yet, and one last listed with its
    /// pinned definition is not, whatever the rendered document says.
    pub fn evaluate_tracked(&self, request: &Request<'_>, live: &DriftTracker) -> Decision {
        self.decide(request, None, Some(live))
    }

    /// Decides one request and records why, in [`Decision::trace`]. Same decision as
    /// [`CompiledPolicy::evaluate`]; slower, for `access explain` and debugging.
    pub fn explain(&self, request: &Request<'_>) -> Decision {
        let mut trace = Trace::start(request, &self.document);
        let mut decision = self.decide(request, Some(&mut trace), None);
        trace.finish(&decision, self.grants.len());
        decision.trace = Some(Box::new(trace));
        decision
    }

    fn decide(
        &self,
        request: &Request<'_>,
        mut trace: Option<&mut Trace>,
        live: Option<&DriftTracker>,
    ) -> Decision {
        // Non-tool methods (tools/list, initialize, ping, resources/*, …) pass without a grant
        // check, as in MR; tools/list results are filtered instead (crate::filter).
        if !is_tool_call_method(request.rpc_method) {
            if let Some(trace) = trace.as_deref_mut() {
                trace.note = Some("not a tool call: allowed without a grant check");
            }
            return Decision::bare(true, Reason::Allowed, self.document_policy_version.clone());
        }
        let tool_name = request.tool_name.unwrap_or("");
        let tool = self.tool(tool_name);
        if let Some(trace) = trace.as_deref_mut() {
            trace.tool = Some(ToolTrace {
                name: tool_name.to_owned(),
                declared: tool.declared,
                required_trust: TrustView::of(tool.required_rank),
                side_effect: tool.side_effect,
                risk_level: tool.risk_level,
            });
        }

        // Step 0: a quarantined tool is refused whatever the grants say, in observe mode too: its
        // definition is not the one that was approved.
        if self.is_quarantined(tool_name, tool, live) {
            if let Some(trace) = trace.as_deref_mut() {
                trace.note =
                    Some("the tool's live definition differs from its pinned digest (quarantined)");
            }
            let mut decision = Decision::bare(
                false,
                Reason::ToolQuarantined,
                self.document_policy_version.clone(),
            );
            decision.risk_level = tool.risk_level;
            return decision;
        }

        // Step 1: observe mode allows everything (risk is still reported).
        if self.observe {
            if let Some(trace) = trace.as_deref_mut() {
                trace.note = Some("policy.mode is observe: every tool call is allowed");
            }
            let mut decision =
                Decision::bare(true, Reason::Allowed, self.document_policy_version.clone());
            decision.risk_level = tool.risk_level;
            return decision;
        }

        let resolved = match self.resolve_caller(request, trace.as_deref_mut()) {
            Ok(resolved) => resolved,
            Err(mut denied) => {
                denied.risk_level = tool.risk_level;
                return denied;
            }
        };
        let candidates = self.candidate_grants(&resolved.caller);
        self.decide_tool(&resolved, tool, tool_name, candidates, trace)
    }

    /// Whether any tool is pinned (`tools[].digest`): only then does the gateway digest the
    /// tools of a `tools/list` reply.
    pub fn has_pins(&self) -> bool {
        self.has_pins
    }

    /// Whether a drifted pinned tool is quarantined (`policy.on_tool_drift` unset or
    /// `quarantine`) rather than only reported (`warn`).
    pub fn quarantines_on_drift(&self) -> bool {
        self.quarantine_on_drift
    }

    /// The pinned digest of `tool_name`, if it is pinned.
    pub fn pinned_digest(&self, tool_name: &str) -> Option<&str> {
        self.tools
            .get(tool_name)
            .and_then(|tool| tool.pin.as_deref())
    }

    /// Whether calls of `tool_name` are refused with `tool_quarantined`: it is pinned, drift
    /// quarantines, and the definition last seen differs from the pin (the gateway's own
    /// sighting in `live`, else the handshake's verdict rendered into the document).
    pub fn is_quarantined_tool(&self, tool_name: &str, live: Option<&DriftTracker>) -> bool {
        self.is_quarantined(tool_name, self.tool(tool_name), live)
    }

    fn is_quarantined(
        &self,
        tool_name: &str,
        tool: &CompiledTool,
        live: Option<&DriftTracker>,
    ) -> bool {
        if !self.quarantine_on_drift {
            return false;
        }
        let Some(pin) = tool.pin.as_deref() else {
            return false;
        };
        match live.and_then(|live| live.live(tool_name)) {
            Some(seen) => seen != pin,
            None => tool.drifted,
        }
    }

    pub(crate) fn tool(&self, tool_name: &str) -> &CompiledTool {
        self.tools.get(tool_name).unwrap_or(&UNDECLARED_TOOL)
    }

    pub(crate) fn observe(&self) -> bool {
        self.observe
    }

    /// Steps 2–4: identity, session presence and session lookup. Fails with the decision
    /// when the caller cannot go further.
    pub(crate) fn resolve_caller<'r>(
        &self,
        request: &Request<'r>,
        trace: Option<&mut Trace>,
    ) -> Result<ResolvedCaller<'_, 'r>, Decision> {
        let caller = Caller::of(&request.identity);
        let session = self.resolve_session(&caller, request, trace)?;
        Ok(ResolvedCaller {
            caller,
            session,
            now: request.now,
        })
    }

    /// Steps 2–4 proper. `Ok(None)` means "no live session applies" (allowed when sessions
    /// are optional).
    fn resolve_session(
        &self,
        caller: &Caller<'_>,
        request: &Request<'_>,
        trace: Option<&mut Trace>,
    ) -> Result<Option<&CompiledSession>, Decision> {
        let document_version = || self.document_policy_version.clone();
        // Step 2.
        if caller.is_anonymous() {
            return Err(Decision::bare(
                false,
                Reason::MissingIdentity,
                document_version(),
            ));
        }
        let presented = request.session_id.filter(|id| !id.is_empty());
        // Step 3.
        if self.session_required && presented.is_none() {
            if let Some(trace) = trace {
                trace.session = Some(SessionTrace::not_presented(true));
            }
            return Err(Decision::bare(
                false,
                Reason::MissingSession,
                document_version(),
            ));
        }
        // Step 4. Without a session ID MR looks up the first binding of the subject, but
        // then discards it (required sessions already failed at step 3, optional ones are
        // ignored without an ID), so there is nothing to look up.
        let found = presented.and_then(|id| self.find_session(id, caller));
        let expired = found.is_some_and(|session| session.expiry.is_expired(request.now));
        let state = match found {
            None if presented.is_none() => SessionState::NotPresented,
            None => SessionState::NotFound,
            Some(session) if session.revoked => SessionState::Revoked,
            Some(_) if expired => SessionState::Expired,
            Some(_) => SessionState::Live,
        };
        if let Some(trace) = trace {
            trace.session = Some(SessionTrace::new(
                self.session_required,
                presented,
                state,
                found.map(CompiledSession::trace_binding),
            ));
        }
        let denial = |reason: Reason, session: &CompiledSession| {
            let mut denied = Decision::bare(false, reason, session.policy_version.clone());
            denied.matched_session = Some(session.reference.clone());
            denied
        };
        match (self.session_required, state, found) {
            (_, SessionState::Live, Some(session)) => Ok(Some(session)),
            (false, _, _) => Ok(None),
            (true, SessionState::Revoked, Some(session)) => {
                Err(denial(Reason::SessionRevoked, session))
            }
            (true, SessionState::Expired, Some(session)) => {
                Err(denial(Reason::SessionExpired, session))
            }
            (true, _, _) => Err(Decision::bare(
                false,
                Reason::SessionNotFound,
                document_version(),
            )),
        }
    }

    /// A binding with this name whose subject matches the caller. Sessions need a subject:
    /// an empty-subject binding never matches.
    fn find_session(&self, session_id: &str, caller: &Caller<'_>) -> Option<&CompiledSession> {
        self.sessions_by_name
            .get(session_id)?
            .iter()
            .map(|&index| &self.sessions[index])
            .find(|session| !session.subject.is_wildcard() && session.subject.fields_match(caller))
    }

    /// Grants that share at least one subject value with the caller, plus wildcard grants.
    /// Every grant that can match is among them, each once; order is not meaningful (the
    /// evaluator compares grant indexes instead).
    pub(crate) fn candidate_grants<'s>(
        &'s self,
        caller: &Caller<'_>,
    ) -> impl Iterator<Item = usize> + use<'s> {
        let bucket = |index: &'s HashMap<Box<str>, Vec<usize>>, key: Option<&str>| {
            key.and_then(|key| index.get(key))
                .map_or(&[][..], Vec::as_slice)
        };
        bucket(&self.grants_by_agent, caller.agent)
            .iter()
            .chain(bucket(&self.grants_by_human, caller.human))
            .chain(bucket(&self.grants_by_team, caller.team))
            .chain(&self.wildcard_grants)
            .copied()
    }

    /// Steps 5–12 for one tool, given the resolved caller and the candidate grants.
    pub(crate) fn decide_tool(
        &self,
        resolved: &ResolvedCaller<'_, '_>,
        tool: &CompiledTool,
        tool_name: &str,
        candidates: impl Iterator<Item = usize>,
        mut trace: Option<&mut Trace>,
    ) -> Decision {
        let ResolvedCaller {
            caller,
            session,
            now,
        } = resolved;
        let mut scan = GrantScan::new(tool.required_rank);
        if let Some(trace) = trace.as_deref_mut() {
            trace.grants_scanned = true;
        }
        for index in candidates {
            let Some(grant) = self.grants.get(index) else {
                continue;
            };
            // Step 5: subject match. Wildcard grants match every identified caller.
            if !grant.subject.fields_match(caller) {
                if let Some(trace) = trace.as_deref_mut() {
                    let mut entry = grant.trace_entry();
                    entry.status = GrantStatus::SubjectMismatch;
                    entry.mismatch = Some(grant.subject.mismatch(caller));
                    trace.grants.push(entry);
                }
                continue;
            }
            scan.subject_matched = true;
            // Step 7: disabled and expired grants are skipped.
            let status = if grant.disabled {
                GrantStatus::Disabled
            } else if grant.expiry.is_expired(*now) {
                scan.expired += 1;
                GrantStatus::Expired
            } else {
                scan.active += 1;
                GrantStatus::Active
            };
            let mut entry = trace.is_some().then(|| grant.trace_entry());
            if status == GrantStatus::Active {
                scan.consider(index, grant, tool, tool_name, entry.as_mut());
            }
            if let (Some(trace), Some(mut entry)) = (trace.as_deref_mut(), entry) {
                entry.status = status;
                trace.grants.push(entry);
            }
        }
        self.conclude(&scan, *session, tool, trace)
    }

    /// Turns a finished grant scan into a decision (steps 6 and 8–12).
    fn conclude(
        &self,
        scan: &GrantScan,
        session: Option<&CompiledSession>,
        tool: &CompiledTool,
        trace: Option<&mut Trace>,
    ) -> Decision {
        let matched_session = session.map(|session| session.reference.clone());
        let by_default = |reason: Reason| {
            let mut decision = Decision::bare(
                self.default_allow,
                reason,
                self.document_policy_version.clone(),
            );
            decision.matched_session = matched_session.clone();
            decision.risk_level = tool.risk_level;
            decision
        };
        let attributed = |index: usize, allowed: bool, reason: Reason| {
            let grant = self.grants.get(index);
            let mut decision = Decision::bare(
                allowed,
                reason,
                grant.and_then(|grant| grant.policy_version.clone()),
            );
            decision.matched_grant = grant.map(|grant| grant.reference.clone());
            decision.matched_session = matched_session.clone();
            decision.risk_level = tool.risk_level;
            decision.required_trust = Trust::from_rank(scan.required_rank);
            decision.required_side_effect = tool.side_effect;
            decision
        };

        // Step 6.
        if !scan.subject_matched {
            return by_default(Reason::NoMatchingGrant);
        }
        // Step 7: deny wins, whatever the other grants allow.
        if let Some(index) = scan.deny_grant {
            return attributed(index, false, Reason::ToolDenied);
        }
        // Step 8. When every enabled matching grant has expired, say so ([MR-org]).
        let Some(first_allowing) = scan.first_allowing else {
            let reason = if scan.expired > 0 && scan.active == 0 {
                Reason::GrantExpired
            } else {
                Reason::ToolNotGranted
            };
            return by_default(reason);
        };
        // The decision is attributed to the grant whose trust counted (highest max_trust,
        // earliest on ties), else to the first grant that allowed the tool.
        let grant_index = scan
            .best_contributor
            .map_or(first_allowing, |(_, index)| index);
        // Step 9.
        if tool.side_effect.is_none() {
            return attributed(grant_index, false, Reason::ToolSideEffectUnknown);
        }
        // Step 10.
        if scan.best_contributor.is_none() {
            return attributed(grant_index, false, Reason::SideEffectNotAllowed);
        }
        // Step 11.
        if scan.admin_rank == 0 {
            let mut decision = by_default(Reason::GrantWithoutTrust);
            decision.matched_grant = self
                .grants
                .get(grant_index)
                .map(|grant| grant.reference.clone());
            return decision;
        }
        // Step 12: effective = min(admin, consented); consent is the admin trust when no live
        // session (or one without consented_trust) applies.
        let session_consent = session.and_then(|session| session.consented_rank);
        let consented_rank = session_consent.unwrap_or(scan.admin_rank);
        let effective_rank = scan.admin_rank.min(consented_rank);
        let allowed = effective_rank >= scan.required_rank;
        if let Some(trace) = trace {
            trace.trust = Some(TrustTrace {
                required: TrustView::of(scan.required_rank),
                admin: TrustView::of(scan.admin_rank),
                consented: TrustView::of(consented_rank),
                effective: TrustView::of(effective_rank),
                consent_from_session: session_consent.is_some(),
            });
        }
        let reason = if allowed {
            Reason::Allowed
        } else {
            Reason::TrustTooLow
        };
        let mut decision = attributed(grant_index, allowed, reason);
        decision.admin_trust = Trust::from_rank(scan.admin_rank);
        decision.consented_trust = Trust::from_rank(consented_rank);
        decision.effective_trust = Trust::from_rank(effective_rank);
        decision
    }
}

/// Looking a session up by the reference a workload identity carries (mTLS: the SPIFFE ID
/// `spiffe://<trust domain>/ns/<namespace>/session/<name>` names one binding exactly).
impl CompiledPolicy {
    /// The subject of the session binding `namespace/name` when it is live at `now`; otherwise
    /// the evaluator's 401 for a required session: `session_not_found` (also for a binding with
    /// an empty subject, which can identify nobody), `session_revoked`, `session_expired` (an
    /// unparseable expiry counts as expired).
    pub fn live_session_subject(
        &self,
        namespace: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<Identity<'_>, Decision> {
        let found = self.sessions_by_name.get(name).and_then(|indexes| {
            indexes
                .iter()
                .map(|&index| &self.sessions[index])
                .find(|session| &*session.reference.namespace == namespace)
        });
        let Some(session) = found.filter(|session| !session.subject.is_wildcard()) else {
            return Err(Decision::bare(
                false,
                Reason::SessionNotFound,
                self.document_policy_version.clone(),
            ));
        };
        let denied = |reason: Reason| {
            let mut denied = Decision::bare(false, reason, session.policy_version.clone());
            denied.matched_session = Some(session.reference.clone());
            denied
        };
        if session.revoked {
            return Err(denied(Reason::SessionRevoked));
        }
        if session.expiry.is_expired(now) {
            return Err(denied(Reason::SessionExpired));
        }
        Ok(Identity {
            human_id: session.subject.human.as_deref(),
            agent_id: session.subject.agent.as_deref(),
            team_id: session.subject.team.as_deref(),
        })
    }
}

/// The upstream token a session binding names: the Secret `<secret>/<key>` (MR's
/// `upstream_token_ref`) in the binding's namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpstreamTokenRef<'p> {
    /// The session binding's namespace, which is the Secret's.
    pub namespace: &'p str,
    /// `<secret>/<key>`, as rendered.
    pub reference: &'p str,
}

/// Which upstream token goes with a request (`spec.upstreamTokenSecretRef` of its session).
impl CompiledPolicy {
    /// True when some session binding names an upstream token; when none does, no request
    /// needs [`CompiledPolicy::upstream_token_of`].
    pub fn has_upstream_tokens(&self) -> bool {
        self.has_upstream_tokens
    }

    /// The upstream token of the session `session_id` that `identity` presents, when that
    /// binding is found exactly as the evaluator finds it (same name, matching subject), is
    /// live at `now` (not revoked, not expired) and names a token. A caller whose session is
    /// not live gets no token, whatever `session.required` says.
    pub fn upstream_token_of(
        &self,
        identity: &Identity<'_>,
        session_id: &str,
        now: Timestamp,
    ) -> Option<UpstreamTokenRef<'_>> {
        let caller = Caller::of(identity);
        let session = self.find_session(session_id, &caller)?;
        if session.revoked || session.expiry.is_expired(now) {
            return None;
        }
        Some(UpstreamTokenRef {
            namespace: &session.reference.namespace,
            reference: session.upstream_token_ref.as_deref()?,
        })
    }
}

/// What the scan over the caller's grants found for one tool (step 7).
struct GrantScan {
    subject_matched: bool,
    active: usize,
    expired: usize,
    /// Earliest grant with a deny rule for the tool.
    deny_grant: Option<usize>,
    /// Earliest grant that allows the tool name.
    first_allowing: Option<usize>,
    /// `(max_trust rank, index)` of the contributing grant with the highest trust, earliest
    /// on ties.
    best_contributor: Option<(u8, usize)>,
    admin_rank: u8,
    required_rank: u8,
}

impl GrantScan {
    fn new(tool_required_rank: u8) -> Self {
        GrantScan {
            subject_matched: false,
            active: 0,
            expired: 0,
            deny_grant: None,
            first_allowing: None,
            best_contributor: None,
            admin_rank: 0,
            required_rank: tool_required_rank,
        }
    }

    /// Applies one active, subject-matching grant.
    fn consider(
        &mut self,
        index: usize,
        grant: &CompiledGrant,
        tool: &CompiledTool,
        tool_name: &str,
        mut entry: Option<&mut GrantTrace>,
    ) {
        let side_effect_allowed = tool
            .side_effect
            .is_some_and(|side_effect| grant.allowed_side_effects & side_effect.bit() != 0);
        if grant.rules.is_empty() {
            // A grant without rules allows every tool name.
            self.allow(index);
            if side_effect_allowed {
                self.contribute(index, grant.max_trust_rank);
            }
            if let Some(entry) = entry {
                entry.tool_access = Some(ToolAccess::AllTools);
                entry.side_effect_allowed = tool.side_effect.map(|_| side_effect_allowed);
                entry.contributes = side_effect_allowed;
            }
            return;
        }
        let start = grant.rules.partition_point(|rule| &*rule.tool < tool_name);
        let matching = grant.rules[start..]
            .iter()
            .take_while(|rule| &*rule.tool == tool_name);
        let mut listed = false;
        for rule in matching {
            listed = true;
            if rule.deny {
                self.deny_grant = Some(self.deny_grant.map_or(index, |first| first.min(index)));
                if let Some(entry) = entry.as_deref_mut() {
                    entry.tool_access = Some(ToolAccess::Deny);
                }
                continue;
            }
            self.allow(index);
            if side_effect_allowed {
                self.contribute(index, grant.max_trust_rank);
                self.required_rank = self.required_rank.max(rule.required_rank);
            }
            if let Some(entry) = entry.as_deref_mut() {
                if entry.tool_access != Some(ToolAccess::Deny) {
                    entry.tool_access = Some(ToolAccess::Allow {
                        required_trust: TrustView::of(rule.required_rank),
                    });
                }
                entry.side_effect_allowed = tool.side_effect.map(|_| side_effect_allowed);
                entry.contributes = side_effect_allowed;
            }
        }
        if let (false, Some(entry)) = (listed, entry) {
            entry.tool_access = Some(ToolAccess::NotListed);
        }
    }

    fn allow(&mut self, index: usize) {
        self.first_allowing = Some(self.first_allowing.map_or(index, |first| first.min(index)));
    }

    fn contribute(&mut self, index: usize, max_trust_rank: u8) {
        self.admin_rank = self.admin_rank.max(max_trust_rank);
        let better = match self.best_contributor {
            None => true,
            Some((rank, best)) => max_trust_rank > rank || (max_trust_rank == rank && index < best),
        };
        if better {
            self.best_contributor = Some((max_trust_rank, index));
        }
    }
}
