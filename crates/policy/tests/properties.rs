//! Properties of the document, the revision and the evaluator over generated inputs.

mod common;

use common::{FUTURE, PAST, now};
use mcp_runtime_policy::{
    CompiledPolicy, DefaultDecision, Grant, Identity, Lenient, PolicyDocument, PolicyMode, Reason,
    Request, RiskLevel, RuleDecision, SessionBinding, SideEffect, Tool, ToolRule, Trust,
    Vocabulary, compute_revision,
};
use proptest::prelude::*;
use proptest::sample::select;
use sha2::Digest;

// Subject fields: repeated entries weight the draw towards subjects that match often, so the
// generated cases reach the late steps of the algorithm (trust, consent) and not only the
// early exits.
const AGENTS: &[&str] = &["", "", "claude", "claude", "cursor"];
const HUMANS: &[&str] = &["", "", "", "alice", "bob"];
const TEAMS: &[&str] = &["", "", "", "platform", "other"];
const TOOLS: &[&str] = &["read_file", "write_file", "delete_file", "mystery"];
const SESSIONS: &[&str] = &["s1", "s2", "s3"];
const EXPIRIES: &[&str] = &["", "", FUTURE, FUTURE, PAST, "garbage"];
const VALID_EXPIRIES: &[&str] = &["", "", FUTURE, FUTURE, PAST];

/// Unset, known values (three times as likely each) and, unless `valid`, an unknown value.
fn lenient<T: Vocabulary>(allow_unknown: bool) -> BoxedStrategy<Lenient<T>> {
    let mut options: Vec<Lenient<T>> = vec![Lenient::Unset];
    for value in T::ALL {
        options.extend(std::iter::repeat_n(Lenient::Known(*value), 3));
    }
    if allow_unknown {
        options.push(Lenient::from_raw("bogus"));
    }
    select(options).boxed()
}

/// Mostly enforcing: observe mode ends every evaluation at step 1.
fn policy_mode(allow_unknown: bool) -> BoxedStrategy<Lenient<PolicyMode>> {
    let mut options = vec![
        Lenient::Unset,
        Lenient::Unset,
        Lenient::Known(PolicyMode::AllowList),
        Lenient::Known(PolicyMode::AllowList),
        Lenient::Known(PolicyMode::AllowList),
        Lenient::Known(PolicyMode::Observe),
    ];
    if allow_unknown {
        options.push(Lenient::from_raw("bogus"));
    }
    select(options).boxed()
}

fn pick(values: &'static [&'static str]) -> BoxedStrategy<String> {
    select(values).prop_map(str::to_owned).boxed()
}

/// Generates anything the types can hold: unknown values, duplicates, bad expiries.
/// `valid` restricts to what validation accepts (except uniqueness, fixed up later).
fn tool(valid: bool) -> impl Strategy<Value = Tool> {
    (
        pick(TOOLS),
        lenient::<Trust>(!valid),
        lenient::<SideEffect>(!valid),
        lenient::<RiskLevel>(!valid),
    )
        .prop_map(|(name, required_trust, side_effect, risk_level)| Tool {
            name,
            required_trust,
            side_effect,
            risk_level,
            ..Tool::default()
        })
}

fn rule(valid: bool) -> impl Strategy<Value = ToolRule> {
    (
        pick(TOOLS),
        lenient::<RuleDecision>(!valid),
        lenient::<Trust>(!valid),
    )
        .prop_map(|(name, decision, required_trust)| ToolRule {
            name,
            decision,
            required_trust,
        })
}

fn grant(valid: bool) -> impl Strategy<Value = Grant> {
    let side_effects = if valid {
        proptest::sample::subsequence(SideEffect::ALL.to_vec(), 0..=3)
            .prop_map(|effects| effects.into_iter().map(Lenient::Known).collect())
            .boxed()
    } else {
        proptest::collection::vec(lenient::<SideEffect>(true), 0..4).boxed()
    };
    let expiries: &'static [&'static str] = if valid { VALID_EXPIRIES } else { EXPIRIES };
    (
        (pick(&["a", "b"]), pick(&["g1", "g2", "g3", "g4", "g5"])),
        (pick(HUMANS), pick(AGENTS), pick(TEAMS)),
        lenient::<Trust>(!valid),
        side_effects,
        (any::<bool>(), pick(expiries), pick(&["", "grant-v"])),
        proptest::collection::vec(rule(valid), 0..3),
    )
        .prop_map(
            |(
                (namespace, name),
                (human_id, agent_id, team_id),
                max_trust,
                allowed_side_effects,
                (disabled, expires_at, policy_version),
                tool_rules,
            )| Grant {
                name,
                namespace,
                human_id,
                agent_id,
                team_id,
                max_trust,
                allowed_side_effects,
                policy_version,
                disabled,
                expires_at,
                tool_rules,
            },
        )
}

fn session(valid: bool) -> impl Strategy<Value = SessionBinding> {
    let expiries: &'static [&'static str] = if valid { VALID_EXPIRIES } else { EXPIRIES };
    (
        (pick(&["a", "b"]), pick(SESSIONS)),
        (
            pick(&["", "", "", "alice"]),
            pick(&["", "claude", "claude", "cursor"]),
            pick(&["", "", "", "platform"]),
        ),
        lenient::<Trust>(!valid),
        any::<bool>(),
        pick(expiries),
    )
        .prop_map(
            |(
                (namespace, name),
                (human_id, agent_id, team_id),
                consented_trust,
                revoked,
                expires_at,
            )| {
                SessionBinding {
                    name,
                    namespace,
                    human_id,
                    agent_id,
                    team_id,
                    consented_trust,
                    revoked,
                    expires_at,
                    ..SessionBinding::default()
                }
            },
        )
}

fn document(valid: bool) -> impl Strategy<Value = PolicyDocument> {
    (
        policy_mode(!valid),
        lenient::<DefaultDecision>(!valid),
        proptest::bool::weighted(0.3),
        proptest::collection::vec(tool(valid), 0..6),
        proptest::collection::vec(grant(valid), 0..12),
        proptest::collection::vec(session(valid), 0..6),
    )
        .prop_map(
            |(mode, default_decision, required, tools, grants, sessions)| {
                let mut document = PolicyDocument::default();
                document.server.name = "files".into();
                document.server.namespace = "tools".into();
                document.policy.mode = mode;
                document.policy.default_decision = default_decision;
                document.policy.policy_version = "doc-v".into();
                document.session.required = required;
                document.tools = tools;
                document.grants = grants;
                document.sessions = sessions;
                document
            },
        )
}

/// Documents aimed at the late steps (trust and consent) for the caller of
/// [`focused_request`]: every tool declared, grants and sessions mostly about that caller.
fn focused_document() -> impl Strategy<Value = PolicyDocument> {
    let tools = proptest::collection::vec(
        (lenient::<SideEffect>(false), lenient::<Trust>(false)),
        TOOLS.len(),
    )
    .prop_map(|requirements| {
        TOOLS
            .iter()
            .zip(requirements)
            .map(|(name, (side_effect, required_trust))| Tool {
                name: (*name).to_owned(),
                side_effect,
                required_trust,
                ..Tool::default()
            })
            .collect::<Vec<_>>()
    });
    let caller_grant = (
        grant(false),
        pick(&["", "", "alice"]),
        pick(&["", "claude", "claude"]),
        pick(&["", "", "platform"]),
        pick(&["", "", FUTURE]),
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.5),
    )
        .prop_map(
            |(mut grant, human, agent, team, expires_at, disabled, all_tools)| {
                if all_tools {
                    grant.tool_rules.clear();
                }
                grant.human_id = human;
                grant.agent_id = agent;
                grant.team_id = team;
                grant.expires_at = expires_at;
                grant.disabled = disabled;
                grant
            },
        );
    let caller_session = (
        session(false),
        pick(&["s1", "s1", "s2", "s3"]),
        lenient::<Trust>(false),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(mut session, name, consented_trust, revoked)| {
            session.name = name;
            session.human_id = String::new();
            session.agent_id = "claude".into();
            session.team_id = String::new();
            session.consented_trust = consented_trust;
            session.revoked = revoked;
            session.expires_at = String::new();
            session
        });
    (
        tools,
        proptest::collection::vec(caller_grant, 1..6),
        proptest::collection::vec(caller_session, 1..4),
        proptest::bool::weighted(0.3),
        lenient::<DefaultDecision>(false),
    )
        .prop_map(|(tools, grants, sessions, required, default_decision)| {
            let mut document = PolicyDocument::default();
            document.server.name = "files".into();
            document.tools = tools;
            document.grants = grants;
            document.sessions = sessions;
            document.session.required = required;
            document.policy.default_decision = default_decision;
            document
        })
}

/// A tool call by alice / claude / platform (each present or not).
fn focused_request() -> impl Strategy<Value = OwnedRequest> {
    (
        proptest::option::weighted(0.5, Just("alice".to_owned())),
        proptest::option::weighted(0.9, Just("claude".to_owned())),
        proptest::option::weighted(0.5, Just("platform".to_owned())),
        proptest::option::weighted(0.9, pick(&["s1", "s1", "s2", "s3"])),
        pick(TOOLS),
    )
        .prop_map(|(human, agent, team, session, tool)| OwnedRequest {
            human,
            agent,
            team,
            session,
            method: "tools/call".into(),
            tool,
        })
}

/// Broad and focused cases, half each.
fn case() -> impl Strategy<Value = (PolicyDocument, OwnedRequest)> {
    prop_oneof![
        (document(false), request()),
        (focused_document(), focused_request()),
    ]
}

/// A document that passes validation once finalized: unique names, known values.
fn valid_document() -> impl Strategy<Value = PolicyDocument> {
    document(true).prop_map(|mut document| {
        dedup_by(&mut document.tools, |tool| tool.name.clone());
        dedup_by(&mut document.grants, |grant| {
            (grant.namespace.clone(), grant.name.clone())
        });
        for grant in &mut document.grants {
            dedup_by(&mut grant.tool_rules, |rule| rule.name.clone());
        }
        dedup_by(&mut document.sessions, |session| session.name.clone());
        document.finalize(now()).expect("finalize");
        document
    })
}

fn dedup_by<T, K: PartialEq>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut seen: Vec<K> = Vec::new();
    items.retain(|item| {
        let item_key = key(item);
        if seen.contains(&item_key) {
            false
        } else {
            seen.push(item_key);
            true
        }
    });
}

#[derive(Clone, Debug)]
struct OwnedRequest {
    human: Option<String>,
    agent: Option<String>,
    team: Option<String>,
    session: Option<String>,
    method: String,
    tool: String,
}

impl OwnedRequest {
    fn borrow(&self) -> Request<'_> {
        Request {
            identity: Identity {
                human_id: self.human.as_deref(),
                agent_id: self.agent.as_deref(),
                team_id: self.team.as_deref(),
            },
            session_id: self.session.as_deref(),
            rpc_method: &self.method,
            tool_name: Some(&self.tool),
            now: now(),
        }
    }
}

fn request() -> impl Strategy<Value = OwnedRequest> {
    let optional = |values: &'static [&'static str]| proptest::option::weighted(0.75, pick(values));
    (
        optional(&["alice", "bob", ""]),
        optional(&["claude", "claude", "cursor", ""]),
        optional(&["platform", "other", ""]),
        optional(&["s1", "s2", "s3", "nope", ""]),
        pick(&[
            "tools/call",
            "tools/call",
            "tools/call",
            "call_tool",
            "tools/list",
        ]),
        pick(&[
            "read_file",
            "write_file",
            "delete_file",
            "mystery",
            "undeclared",
        ]),
    )
        .prop_map(|(human, agent, team, session, method, tool)| OwnedRequest {
            human,
            agent,
            team,
            session,
            method,
            tool,
        })
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|value| !value.is_empty())
}

fn subject_matches(human: &str, agent: &str, team: &str, request: &OwnedRequest) -> bool {
    let field = |want: &str, have: Option<&str>| want.is_empty() || have == Some(want);
    field(human, present(&request.human))
        && field(agent, present(&request.agent))
        && field(team, present(&request.team))
}

fn expired(expires_at: &str) -> bool {
    match expires_at {
        "" => false,
        value if value == FUTURE => false,
        _ => true, // PAST, or unparseable
    }
}

fn by_default(document: &PolicyDocument, reason: Reason) -> (bool, Reason) {
    (
        document.policy.default_decision == Lenient::Known(DefaultDecision::Allow),
        reason,
    )
}

/// A direct transcription of reference §7.3 (with this crate's documented differences):
/// scans every grant in namespace/name order, no index.
fn reference_decision(document: &PolicyDocument, request: &OwnedRequest) -> (bool, Reason) {
    if !matches!(request.method.as_str(), "tools/call" | "call_tool") {
        return (true, Reason::Allowed);
    }
    if document.policy.mode == Lenient::Known(PolicyMode::Observe) {
        return (true, Reason::Allowed);
    }
    if present(&request.human).is_none()
        && present(&request.agent).is_none()
        && present(&request.team).is_none()
    {
        return (false, Reason::MissingIdentity);
    }
    let required = document.session.required;
    let session_id = present(&request.session);
    if required && session_id.is_none() {
        return (false, Reason::MissingSession);
    }
    let mut sessions: Vec<&SessionBinding> = document.sessions.iter().collect();
    sessions.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let found = session_id.and_then(|id| {
        sessions.into_iter().find(|session| {
            session.name == id
                && !(session.human_id.is_empty()
                    && session.agent_id.is_empty()
                    && session.team_id.is_empty())
                && subject_matches(
                    &session.human_id,
                    &session.agent_id,
                    &session.team_id,
                    request,
                )
        })
    });
    if required {
        match found {
            None => return (false, Reason::SessionNotFound),
            Some(session) if session.revoked => return (false, Reason::SessionRevoked),
            Some(session) if expired(&session.expires_at) => {
                return (false, Reason::SessionExpired);
            }
            Some(_) => {}
        }
    }
    let live = found.filter(|session| !session.revoked && !expired(&session.expires_at));

    let tool = document.tools.iter().find(|tool| tool.name == request.tool);
    let mut required_rank = tool.map_or(1, |tool| tool.required_trust.rank_or(1));
    let side_effect = tool.and_then(|tool| tool.side_effect.known());

    let mut grants: Vec<&Grant> = document
        .grants
        .iter()
        .filter(|grant| subject_matches(&grant.human_id, &grant.agent_id, &grant.team_id, request))
        .collect();
    if grants.is_empty() {
        return by_default(document, Reason::NoMatchingGrant);
    }
    grants.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let (mut tool_allowed, mut contributed, mut admin) = (false, false, 0u8);
    let (mut active, mut expired_count) = (0, 0);
    for grant in grants {
        if grant.disabled {
            continue;
        }
        if expired(&grant.expires_at) {
            expired_count += 1;
            continue;
        }
        active += 1;
        let allows_side_effect = side_effect.is_some_and(|wanted| {
            grant
                .allowed_side_effects
                .iter()
                .any(|allowed| allowed.known() == Some(wanted))
        });
        let max_trust = grant.max_trust.rank_or(0);
        if grant.tool_rules.is_empty() {
            tool_allowed = true;
            if allows_side_effect {
                contributed = true;
                admin = admin.max(max_trust);
            }
            continue;
        }
        for rule in grant
            .tool_rules
            .iter()
            .filter(|rule| rule.name == request.tool)
        {
            let allows = matches!(
                rule.decision,
                Lenient::Unset | Lenient::Known(RuleDecision::Allow)
            );
            if !allows {
                return (false, Reason::ToolDenied);
            }
            tool_allowed = true;
            if allows_side_effect {
                contributed = true;
                admin = admin.max(max_trust);
                required_rank = required_rank.max(rule.required_trust.rank_or(1));
            }
        }
    }
    if !tool_allowed {
        let reason = if expired_count > 0 && active == 0 {
            Reason::GrantExpired
        } else {
            Reason::ToolNotGranted
        };
        return by_default(document, reason);
    }
    if side_effect.is_none() {
        return (false, Reason::ToolSideEffectUnknown);
    }
    if !contributed {
        return (false, Reason::SideEffectNotAllowed);
    }
    if admin == 0 {
        return by_default(document, Reason::GrantWithoutTrust);
    }
    let consented = live
        .filter(|session| !session.consented_trust.is_unset())
        .map_or(admin, |session| session.consented_trust.rank_or(1));
    if admin.min(consented) < required_rank {
        (false, Reason::TrustTooLow)
    } else {
        (true, Reason::Allowed)
    }
}

/// Whether some subject-matching, enabled, unexpired grant denies the tool.
fn has_matching_deny_rule(document: &PolicyDocument, request: &OwnedRequest) -> bool {
    document.grants.iter().any(|grant| {
        subject_matches(&grant.human_id, &grant.agent_id, &grant.team_id, request)
            && !grant.disabled
            && !expired(&grant.expires_at)
            && grant.tool_rules.iter().any(|rule| {
                rule.name == request.tool
                    && !matches!(
                        rule.decision,
                        Lenient::Unset | Lenient::Known(RuleDecision::Allow)
                    )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn evaluation_is_total_and_explain_agrees((document, request) in case()) {
        let policy = CompiledPolicy::new_unvalidated(document);
        let borrowed = request.borrow();
        let decision = policy.evaluate(&borrowed);
        let mut explained = policy.explain(&borrowed);
        let trace = explained.trace.take().expect("trace");
        let _rendered = trace.to_string();
        let _json = serde_json::to_string(&trace).expect("serialize trace");
        prop_assert_eq!(&explained, &decision);
        prop_assert_eq!(decision.http_status == 200, decision.allowed);
        let mut listing = serde_json::json!({"tools": TOOLS.iter().map(|name| serde_json::json!({"name": name})).collect::<Vec<_>>()});
        policy.filter_tools_list_result(&mut listing, &borrowed);
    }

    #[test]
    fn evaluation_matches_a_naive_transcription_of_the_algorithm((document, request) in case()) {
        let expected = reference_decision(&document, &request);
        let policy = CompiledPolicy::new_unvalidated(document);
        let decision = policy.evaluate(&request.borrow());
        prop_assert_eq!((decision.allowed, decision.reason), expected);
    }

    #[test]
    fn a_matching_deny_rule_always_wins(
        (mut document, mut request) in case(),
        deny_decision in select(vec![Lenient::Known(RuleDecision::Deny), Lenient::from_raw("maybe")]),
        (use_human, use_agent, use_team) in (any::<bool>(), any::<bool>(), any::<bool>()),
        expires_at in pick(&["", FUTURE]),
        position in any::<proptest::sample::Index>(),
    ) {
        // Whatever else the document says, add an enabled, unexpired grant whose subject is a
        // subset of the caller's identity (possibly the wildcard) and that denies the tool.
        request.method = "tools/call".into();
        if document.policy.mode == Lenient::Known(PolicyMode::Observe) {
            document.policy.mode = Lenient::Unset;
        }
        let take = |wanted: bool, value: &Option<String>| {
            if wanted { present(value).unwrap_or_default().to_owned() } else { String::new() }
        };
        let mut denying = Grant::new("z", "denying");
        denying.human_id = take(use_human, &request.human);
        denying.agent_id = take(use_agent, &request.agent);
        denying.team_id = take(use_team, &request.team);
        denying.expires_at = expires_at;
        denying.tool_rules = vec![ToolRule {
            name: request.tool.clone(),
            decision: deny_decision,
            required_trust: Lenient::Unset,
        }];
        let at = position.index(document.grants.len() + 1);
        document.grants.insert(at, denying);
        prop_assert!(has_matching_deny_rule(&document, &request));
        let policy = CompiledPolicy::new_unvalidated(document);
        let decision = policy.evaluate(&request.borrow());
        prop_assert!(!decision.allowed);
        // Deny is reported as such unless the caller failed earlier (identity or session).
        prop_assert!(decision.reason == Reason::ToolDenied || decision.http_status == 401, "{:?}", decision.reason);
    }

    #[test]
    fn trust_numbers_are_consistent((document, request) in case()) {
        let observe = document.policy.mode == Lenient::Known(PolicyMode::Observe);
        let policy = CompiledPolicy::new_unvalidated(document);
        let decision = policy.evaluate(&request.borrow());
        if let (Some(admin), Some(consented), Some(effective)) =
            (decision.admin_trust, decision.consented_trust, decision.effective_trust)
        {
            prop_assert_eq!(effective, admin.min(consented));
        }
        if decision.allowed {
            if let (Some(required), Some(effective)) = (decision.required_trust, decision.effective_trust) {
                prop_assert!(effective >= required);
            }
            let tool_call = matches!(request.method.as_str(), "tools/call" | "call_tool");
            if decision.reason == Reason::Allowed && tool_call && !observe {
                prop_assert!(decision.effective_trust.is_some() && decision.required_trust.is_some());
            }
        }
    }

    #[test]
    fn revision_does_not_depend_on_input_order(
        (document, shuffled) in document(false).prop_flat_map(|document| {
            let tools = Just(document.tools.clone()).prop_shuffle();
            let grants = Just(document.grants.clone()).prop_shuffle();
            let sessions = Just(document.sessions.clone()).prop_shuffle();
            (Just(document), tools, grants, sessions).prop_map(|(document, tools, grants, sessions)| {
                let mut shuffled = document.clone();
                shuffled.tools = tools;
                shuffled.grants = grants;
                shuffled.sessions = sessions;
                for grant in &mut shuffled.grants {
                    grant.tool_rules.reverse();
                    grant.allowed_side_effects.reverse();
                }
                (document, shuffled)
            })
        })
    ) {
        prop_assert_eq!(
            compute_revision(&document).expect("revision"),
            compute_revision(&shuffled).expect("revision")
        );
    }

    /// The revision is written straight from the document; this checks it against the
    /// definition in the module docs, computed through `serde_json::Value`.
    #[test]
    fn revision_is_the_hash_of_the_canonical_json_of_the_normalized_document(document in document(false)) {
        let mut normalized = document.clone();
        normalized.normalize();
        let mut value = serde_json::to_value(&normalized).expect("to value");
        let fields = value.as_object_mut().expect("an object");
        fields.shift_remove("revision");
        fields.shift_remove("generated_at");
        let canonical = mcp_runtime_policy::revision::canonical_json(&value).expect("canonical");
        let expected = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&canonical)));
        prop_assert_eq!(compute_revision(&document).expect("revision"), expected);
    }

    #[test]
    fn finalized_valid_documents_round_trip_through_parse(document in valid_document()) {
        prop_assert_eq!(document.validate(), Ok(()));
        let json = document.to_json_pretty().expect("serialize");
        let parsed = PolicyDocument::parse(json.as_bytes()).expect("parse");
        prop_assert_eq!(&parsed, &document);
        // And the compiled policy decides the same on both.
        let request = OwnedRequest {
            human: Some("alice".into()),
            agent: Some("claude".into()),
            team: Some("platform".into()),
            session: Some("s1".into()),
            method: "tools/call".into(),
            tool: "write_file".into(),
        };
        prop_assert_eq!(
            CompiledPolicy::new(parsed).expect("valid").evaluate(&request.borrow()),
            CompiledPolicy::new(document).expect("valid").evaluate(&request.borrow())
        );
    }
}
