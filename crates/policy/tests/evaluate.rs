//! The evaluator against the reason catalogue (reference §7.3, §7.4), one case per reason,
//! plus the behaviours that differ from the Go evaluator.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::*;
use mcp_runtime_policy::{
    CompiledPolicy, Decision, Grant, Identity, Lenient, ObjectRef, PolicyDocument, PolicyMode,
    Reason, Request, RiskLevel, SideEffect, Stage, Tool, ToolRule, Trust,
};
use pretty_assertions::assert_eq;

struct Case {
    name: &'static str,
    document: PolicyDocument,
    identity: Identity<'static>,
    session_id: Option<&'static str>,
    tool: &'static str,
    reason: Reason,
    http_status: u16,
}

fn claude() -> Identity<'static> {
    Identity::default().with_agent("claude")
}

fn with_required_session(
    mut document: PolicyDocument,
    session: mcp_runtime_policy::SessionBinding,
) -> PolicyDocument {
    document.session.required = true;
    document.sessions.push(session);
    document
}

fn document_with(grants: Vec<Grant>) -> PolicyDocument {
    let mut document = base_document();
    document.grants = grants;
    document
}

fn grant_without_max_trust() -> Grant {
    let mut grant = agent_grant("no-trust", "claude");
    grant.max_trust = Lenient::Unset;
    grant
}

fn expired_grant() -> Grant {
    let mut grant = agent_grant("expired", "claude");
    grant.expires_at = PAST.into();
    grant
}

fn read_only_grant() -> Grant {
    let mut grant = agent_grant("read-only", "claude");
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    grant
}

fn cases() -> Vec<Case> {
    let claude_all = || agent_grant("claude-all", "claude");
    let revoked = {
        let mut session = session("s1", "claude", Trust::High);
        session.revoked = true;
        session
    };
    let expired_session = {
        let mut session = session("s1", "claude", Trust::High);
        session.expires_at = PAST.into();
        session
    };
    vec![
        Case {
            name: "no identity at all",
            document: document_with(vec![claude_all()]),
            identity: Identity::default(),
            session_id: None,
            tool: "read_file",
            reason: Reason::MissingIdentity,
            http_status: 401,
        },
        Case {
            name: "required session not presented",
            document: with_required_session(
                document_with(vec![claude_all()]),
                session("s1", "claude", Trust::High),
            ),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::MissingSession,
            http_status: 401,
        },
        Case {
            name: "required session unknown",
            document: with_required_session(
                document_with(vec![claude_all()]),
                session("s1", "claude", Trust::High),
            ),
            identity: claude(),
            session_id: Some("s2"),
            tool: "read_file",
            reason: Reason::SessionNotFound,
            http_status: 401,
        },
        Case {
            name: "required session belongs to another agent",
            document: with_required_session(
                document_with(vec![claude_all()]),
                session("s1", "cursor", Trust::High),
            ),
            identity: claude(),
            session_id: Some("s1"),
            tool: "read_file",
            reason: Reason::SessionNotFound,
            http_status: 401,
        },
        Case {
            name: "required session revoked",
            document: with_required_session(document_with(vec![claude_all()]), revoked),
            identity: claude(),
            session_id: Some("s1"),
            tool: "read_file",
            reason: Reason::SessionRevoked,
            http_status: 401,
        },
        Case {
            name: "required session expired",
            document: with_required_session(document_with(vec![claude_all()]), expired_session),
            identity: claude(),
            session_id: Some("s1"),
            tool: "read_file",
            reason: Reason::SessionExpired,
            http_status: 401,
        },
        Case {
            name: "pinned tool whose live definition drifted",
            document: {
                let mut document = document_with(vec![claude_all()]);
                let tool = document
                    .tools
                    .iter_mut()
                    .find(|t| t.name == "read_file")
                    .expect("read_file");
                tool.digest = format!("sha256:{}", "a".repeat(64));
                tool.drifted = true;
                document
            },
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::ToolQuarantined,
            http_status: 403,
        },
        Case {
            name: "no grant for the caller",
            document: document_with(vec![agent_grant("cursor", "cursor")]),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::NoMatchingGrant,
            http_status: 403,
        },
        Case {
            name: "no grant for the caller, default allow",
            document: with_default_allow(document_with(vec![agent_grant("cursor", "cursor")])),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::NoMatchingGrant,
            http_status: 200,
        },
        Case {
            name: "grant rules do not list the tool",
            document: document_with(vec![agent_grant_with_rules(
                "claude-read",
                "claude",
                vec![ToolRule::allow("read_file", Trust::Low)],
            )]),
            identity: claude(),
            session_id: None,
            tool: "write_file",
            reason: Reason::ToolNotGranted,
            http_status: 403,
        },
        Case {
            name: "grant rules do not list the tool, default allow",
            document: with_default_allow(document_with(vec![agent_grant_with_rules(
                "claude-read",
                "claude",
                vec![ToolRule::allow("read_file", Trust::Low)],
            )])),
            identity: claude(),
            session_id: None,
            tool: "write_file",
            reason: Reason::ToolNotGranted,
            http_status: 200,
        },
        Case {
            name: "only grant is disabled",
            document: document_with(vec![Grant {
                disabled: true,
                ..claude_all()
            }]),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::ToolNotGranted,
            http_status: 403,
        },
        Case {
            name: "only grant has expired",
            document: document_with(vec![expired_grant()]),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::GrantExpired,
            http_status: 403,
        },
        Case {
            name: "only grant has expired, default allow",
            document: with_default_allow(document_with(vec![expired_grant()])),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::GrantExpired,
            http_status: 200,
        },
        Case {
            name: "deny rule wins over another grant's allow",
            document: document_with(vec![
                claude_all(),
                agent_grant_with_rules(
                    "claude-no-delete",
                    "claude",
                    vec![ToolRule::deny("delete_file")],
                ),
            ]),
            identity: claude(),
            session_id: None,
            tool: "delete_file",
            reason: Reason::ToolDenied,
            http_status: 403,
        },
        Case {
            name: "deny rule wins even under default allow",
            document: with_default_allow(document_with(vec![agent_grant_with_rules(
                "claude-no-delete",
                "claude",
                vec![ToolRule::deny("delete_file")],
            )])),
            identity: claude(),
            session_id: None,
            tool: "delete_file",
            reason: Reason::ToolDenied,
            http_status: 403,
        },
        Case {
            name: "declared tool without side effect",
            document: document_with(vec![claude_all()]),
            identity: claude(),
            session_id: None,
            tool: "mystery",
            reason: Reason::ToolSideEffectUnknown,
            http_status: 403,
        },
        Case {
            name: "undeclared tool",
            document: document_with(vec![claude_all()]),
            identity: claude(),
            session_id: None,
            tool: "not_in_the_document",
            reason: Reason::ToolSideEffectUnknown,
            http_status: 403,
        },
        Case {
            name: "grant allows read only",
            document: document_with(vec![read_only_grant()]),
            identity: claude(),
            session_id: None,
            tool: "write_file",
            reason: Reason::SideEffectNotAllowed,
            http_status: 403,
        },
        Case {
            name: "contributing grant has no max_trust",
            document: document_with(vec![grant_without_max_trust()]),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::GrantWithoutTrust,
            http_status: 403,
        },
        Case {
            name: "contributing grant has no max_trust, default allow",
            document: with_default_allow(document_with(vec![grant_without_max_trust()])),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::GrantWithoutTrust,
            http_status: 200,
        },
        Case {
            name: "session consent below the tool's requirement",
            document: {
                let mut document = document_with(vec![claude_all()]);
                document.sessions.push(session("s1", "claude", Trust::Low));
                document
            },
            identity: claude(),
            session_id: Some("s1"),
            tool: "write_file",
            reason: Reason::TrustTooLow,
            http_status: 403,
        },
        Case {
            name: "grant max_trust below a rule's requirement",
            document: document_with(vec![{
                let mut grant = agent_grant_with_rules(
                    "claude-read",
                    "claude",
                    vec![ToolRule::allow("read_file", Trust::High)],
                );
                grant.max_trust = Trust::Medium.into();
                grant
            }]),
            identity: claude(),
            session_id: None,
            tool: "read_file",
            reason: Reason::TrustTooLow,
            http_status: 403,
        },
        Case {
            name: "granted, side effect allowed, enough trust",
            document: document_with(vec![claude_all()]),
            identity: claude(),
            session_id: None,
            tool: "delete_file",
            reason: Reason::Allowed,
            http_status: 200,
        },
        Case {
            name: "granted with a live required session",
            document: with_required_session(
                document_with(vec![claude_all()]),
                session("s1", "claude", Trust::Medium),
            ),
            identity: claude(),
            session_id: Some("s1"),
            tool: "write_file",
            reason: Reason::Allowed,
            http_status: 200,
        },
    ]
}

#[test]
fn every_evaluator_reason_is_produced_with_its_http_class() {
    let mut covered = HashSet::new();
    for case in cases() {
        let policy = compile(case.document);
        let mut request = Request::tool_call(case.identity, case.tool, now());
        request.session_id = case.session_id;
        let decision = policy.evaluate(&request);
        assert_eq!(
            (decision.reason, decision.http_status, decision.allowed),
            (case.reason, case.http_status, case.http_status == 200),
            "case {:?}",
            case.name
        );
        covered.insert(case.reason);
    }
    let evaluator_reasons: HashSet<Reason> = Reason::ALL
        .iter()
        .copied()
        .filter(|reason| {
            matches!(
                reason.stage(),
                Stage::EvaluatorIdentity | Stage::EvaluatorPolicy
            )
        })
        .collect();
    let missing: BTreeSet<&str> = evaluator_reasons
        .difference(&covered)
        .map(|reason| reason.as_str())
        .collect();
    assert!(missing.is_empty(), "no case produces {missing:?}");
}

/// The catalogue of reference §7.4, typed in by hand (not derived from the enum).
const CATALOGUE: &[(&str, u16)] = &[
    ("allowed", 200),
    ("missing_identity", 401),
    ("missing_session", 401),
    ("session_not_found", 401),
    ("session_revoked", 401),
    ("session_expired", 401),
    ("missing_bearer_token", 401),
    ("invalid_token", 401),
    ("missing_client_certificate", 401),
    ("untrusted_proxy", 401),
    ("missing_verified_identity", 401),
    ("invalid_spiffe_identity", 401),
    ("no_matching_grant", 403),
    ("tool_not_granted", 403),
    ("tool_denied", 403),
    ("tool_side_effect_unknown", 403),
    ("side_effect_not_allowed", 403),
    ("grant_without_trust", 403),
    ("trust_too_low", 403),
    // Tool-definition pinning: the live definition differs from the pin.
    ("tool_quarantined", 403),
    ("rpc_inspection_failed", 403),
    ("undecided", 403),
    ("policy_unavailable", 503),
    ("oauth_provider_unavailable", 503),
    ("oauth_config_missing", 503),
    ("oauth_issuer_missing", 503),
    ("oauth_not_enabled", 404),
    // [MR-org] additions.
    ("grant_expired", 403),
    ("upstream_error", 502),
    ("upstream_timeout", 504),
    // This gateway's own: the policy's auth.mode is not available here (fails closed).
    ("auth_mode_unavailable", 503),
];

#[test]
fn reason_enum_is_exactly_the_catalogue_with_unique_codes() {
    let codes: Vec<&str> = Reason::ALL.iter().map(|reason| reason.as_str()).collect();
    let unique: HashSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len(), "duplicate codes in {codes:?}");

    let from_enum: BTreeSet<(&str, u16)> = Reason::ALL
        .iter()
        .map(|reason| (reason.as_str(), reason.http_status()))
        .collect();
    let catalogue: BTreeSet<(&str, u16)> = CATALOGUE.iter().copied().collect();
    assert_eq!(from_enum, catalogue);

    for reason in Reason::ALL {
        assert_eq!(Reason::from_code(reason.as_str()), Some(*reason));
        let json = serde_json::to_string(reason).expect("serialize");
        assert_eq!(json, format!("\"{}\"", reason.as_str()));
        let back: Reason = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, *reason);
    }
    assert!(serde_json::from_str::<Reason>("\"maybe\"").is_err());
}

#[test]
fn stage_reasons_build_uniform_denials() {
    let cases = [
        (Reason::PolicyUnavailable, 503),
        (Reason::AuthModeUnavailable, 503),
        (Reason::InvalidToken, 401),
        (Reason::MissingBearerToken, 401),
        (Reason::MissingClientCertificate, 401),
        (Reason::UntrustedProxy, 401),
        (Reason::MissingVerifiedIdentity, 401),
        (Reason::InvalidSpiffeIdentity, 401),
        (Reason::RpcInspectionFailed, 403),
        (Reason::Undecided, 403),
        (Reason::OauthProviderUnavailable, 503),
        (Reason::OauthConfigMissing, 503),
        (Reason::OauthIssuerMissing, 503),
        (Reason::OauthNotEnabled, 404),
        (Reason::UpstreamError, 502),
        (Reason::UpstreamTimeout, 504),
    ];
    for (reason, status) in cases {
        let decision = Decision::denied_by_stage(reason);
        assert!(!decision.allowed, "{reason}");
        assert_eq!((decision.reason, decision.http_status), (reason, status));
        assert_eq!(reason.http_status(), status);
    }
    assert_eq!(Decision::policy_unavailable().http_status, 503);
    let undecided = Decision::undecided();
    assert_eq!(
        (undecided.allowed, undecided.reason, undecided.http_status),
        (false, Reason::Undecided, 403)
    );
    // "Allowed" is not a stage denial: it must not produce an allow.
    let not_a_denial = Decision::denied_by_stage(Reason::Allowed);
    assert_eq!(
        (not_a_denial.allowed, not_a_denial.reason),
        (false, Reason::Undecided)
    );
}

#[test]
fn non_tool_methods_are_allowed_without_identity_or_grants() {
    let mut document = document_with(vec![]);
    document.session.required = true;
    let policy = compile(document);
    for method in [
        "tools/list",
        "initialize",
        "ping",
        "resources/read",
        "prompts/get",
        "",
    ] {
        let decision = policy.evaluate(&Request::method(Identity::default(), method, now()));
        assert_eq!(
            (decision.allowed, decision.reason, decision.http_status),
            (true, Reason::Allowed, 200),
            "{method}"
        );
        assert_eq!(decision.policy_version.as_deref(), Some("doc-v1"));
        assert_eq!(decision.matched_grant, None);
    }
    // Both tool-call spellings are enforced.
    for method in ["tools/call", "call_tool"] {
        let mut request = Request::method(Identity::default(), method, now());
        request.tool_name = Some("read_file");
        assert_eq!(
            policy.evaluate(&request).reason,
            Reason::MissingIdentity,
            "{method}"
        );
    }
}

#[test]
fn observe_mode_allows_tool_calls_and_still_reports_risk() {
    let mut document = document_with(vec![]);
    document.policy.mode = PolicyMode::Observe.into();
    document.session.required = true;
    let policy = compile(document);
    let decision = policy.evaluate(&Request::tool_call(
        Identity::default(),
        "delete_file",
        now(),
    ));
    assert_eq!((decision.allowed, decision.reason), (true, Reason::Allowed));
    assert_eq!(decision.risk_level, Some(RiskLevel::High));
}

#[test]
fn allowed_decision_carries_the_audit_fields() {
    let mut document = document_with(vec![{
        let mut grant = agent_grant_with_rules(
            "claude-write",
            "claude",
            vec![ToolRule::allow("write_file", Trust::High)],
        );
        grant.policy_version = "grant-v7".into();
        grant
    }]);
    document.sessions.push(session("s1", "claude", Trust::High));
    let policy = compile(document);
    let decision =
        policy.evaluate(&Request::tool_call(claude(), "write_file", now()).with_session("s1"));
    assert_eq!(decision.reason, Reason::Allowed);
    assert_eq!(decision.policy_version.as_deref(), Some("grant-v7"));
    // The rule raises the tool's own requirement (medium) to high.
    assert_eq!(decision.required_trust, Some(Trust::High));
    assert_eq!(decision.required_side_effect, Some(SideEffect::Write));
    assert_eq!(decision.risk_level, Some(RiskLevel::Medium));
    assert_eq!(decision.admin_trust, Some(Trust::High));
    assert_eq!(decision.consented_trust, Some(Trust::High));
    assert_eq!(decision.effective_trust, Some(Trust::High));
    assert_eq!(
        decision.matched_grant,
        Some(ObjectRef::new("tools", "claude-write"))
    );
    assert_eq!(
        decision.matched_session,
        Some(ObjectRef::new("tools", "s1"))
    );

    let audit = serde_json::to_value(&decision).expect("serialize");
    assert_eq!(
        audit,
        serde_json::json!({
            "decision": "allow", "reason": "allowed", "status": 200, "policy_version": "grant-v7",
            "required_trust": "high", "required_side_effect": "write", "risk_level": "medium",
            "admin_trust": "high", "consented_trust": "high", "effective_trust": "high",
            "matched_grant": "claude-write", "matched_grant_namespace": "tools",
            "matched_session": "s1", "matched_session_namespace": "tools"
        })
    );
}

#[test]
fn effective_trust_is_the_minimum_of_admin_and_session_consent() {
    let mut grant = agent_grant("claude-all", "claude");
    grant.max_trust = Trust::Medium.into();
    let mut document = document_with(vec![grant]);
    document
        .sessions
        .push(session("high", "claude", Trust::High));
    document.sessions.push(session("low", "claude", Trust::Low));
    let unset = {
        let mut binding = session("unset", "claude", Trust::Low);
        binding.consented_trust = Lenient::Unset;
        binding
    };
    document.sessions.push(unset);
    let policy = compile(document);
    let decide = |session: Option<&str>| {
        let mut request = Request::tool_call(claude(), "write_file", now());
        request.session_id = session;
        policy.evaluate(&request)
    };
    let high = decide(Some("high"));
    assert_eq!(
        (high.admin_trust, high.consented_trust, high.effective_trust),
        (Some(Trust::Medium), Some(Trust::High), Some(Trust::Medium))
    );
    assert!(high.allowed);
    let low = decide(Some("low"));
    assert_eq!(
        (low.reason, low.effective_trust),
        (Reason::TrustTooLow, Some(Trust::Low))
    );
    // No consented_trust on the binding, or no session at all: consent = admin (MR).
    for session in [Some("unset"), None] {
        let decision = decide(session);
        assert_eq!(
            (decision.consented_trust, decision.effective_trust),
            (Some(Trust::Medium), Some(Trust::Medium)),
            "{session:?}"
        );
        assert!(decision.allowed);
    }
}

#[test]
fn optional_sessions_that_are_bad_are_ignored_not_denied() {
    let mut document = document_with(vec![agent_grant("claude-all", "claude")]);
    let mut revoked = session("revoked", "claude", Trust::Low);
    revoked.revoked = true;
    let mut expired = session("expired", "claude", Trust::Low);
    expired.expires_at = PAST.into();
    document.sessions = vec![revoked, expired, session("cursor", "cursor", Trust::Low)];
    let policy = compile(document);
    for id in ["revoked", "expired", "cursor", "unknown"] {
        let decision =
            policy.evaluate(&Request::tool_call(claude(), "delete_file", now()).with_session(id));
        // The low consent of the bad session does not apply, so high trust is available.
        assert_eq!(
            (decision.reason, decision.matched_session.clone()),
            (Reason::Allowed, None),
            "{id}"
        );
    }
}

#[test]
fn session_expiry_is_exclusive_of_the_expiry_instant_and_unparseable_counts_as_expired() {
    let at_now = {
        let mut binding = session("s1", "claude", Trust::High);
        binding.expires_at = "2026-07-01T12:00:00Z".into();
        binding
    };
    let policy = compile(with_required_session(
        document_with(vec![agent_grant("g", "claude")]),
        at_now,
    ));
    let request = Request::tool_call(claude(), "read_file", now()).with_session("s1");
    assert_eq!(policy.evaluate(&request).reason, Reason::SessionExpired);
    let earlier = Request {
        now: "2026-07-01T11:59:59Z".parse().expect("time"),
        ..request
    };
    assert_eq!(policy.evaluate(&earlier).reason, Reason::Allowed);

    // Validation rejects a bad expiry, but evaluation of an unvalidated document fails closed.
    let mut bad = session("s1", "claude", Trust::High);
    bad.expires_at = "next tuesday".into();
    let mut document = with_required_session(document_with(vec![agent_grant("g", "claude")]), bad);
    document.finalize(now()).expect("finalize");
    let policy = CompiledPolicy::new_unvalidated(document);
    assert_eq!(policy.evaluate(&request).reason, Reason::SessionExpired);
}

#[test]
fn session_denials_report_the_session_and_its_policy_version() {
    let mut revoked = session("s1", "claude", Trust::High);
    revoked.revoked = true;
    revoked.policy_version = "session-v3".into();
    let policy = compile(with_required_session(
        document_with(vec![agent_grant("g", "claude")]),
        revoked,
    ));
    let decision =
        policy.evaluate(&Request::tool_call(claude(), "read_file", now()).with_session("s1"));
    assert_eq!(decision.reason, Reason::SessionRevoked);
    assert_eq!(
        decision.matched_session,
        Some(ObjectRef::new("tools", "s1"))
    );
    assert_eq!(decision.policy_version.as_deref(), Some("session-v3"));
}

#[test]
fn empty_subject_grant_is_a_real_wildcard_but_empty_subject_session_never_matches() {
    let mut wildcard = Grant::new("tools", "everyone-reads");
    wildcard.max_trust = Trust::Low.into();
    wildcard.allowed_side_effects = vec![SideEffect::Read.into()];
    let mut document = document_with(vec![wildcard]);
    let policy = compile(document.clone());
    for identity in [
        claude(),
        Identity::default().with_human("alice"),
        Identity::default().with_team("platform"),
    ] {
        let decision = policy.evaluate(&Request::tool_call(identity, "read_file", now()));
        assert_eq!(decision.reason, Reason::Allowed, "{identity:?}");
        assert_eq!(
            decision.matched_grant,
            Some(ObjectRef::new("tools", "everyone-reads"))
        );
    }
    // Still only for identified callers, and only within the grant's side effects.
    assert_eq!(
        policy
            .evaluate(&Request::tool_call(Identity::default(), "read_file", now()))
            .reason,
        Reason::MissingIdentity
    );
    assert_eq!(
        policy
            .evaluate(&Request::tool_call(claude(), "write_file", now()))
            .reason,
        Reason::SideEffectNotAllowed
    );

    document.session.required = true;
    document
        .sessions
        .push(mcp_runtime_policy::SessionBinding::new("tools", "anyone"));
    let policy = compile(document);
    let decision =
        policy.evaluate(&Request::tool_call(claude(), "read_file", now()).with_session("anyone"));
    assert_eq!(decision.reason, Reason::SessionNotFound);
}

#[test]
fn subject_matching_requires_every_non_empty_field() {
    let mut grant = agent_grant("claude-for-alice", "claude");
    grant.human_id = "alice".into();
    grant.team_id = "platform".into();
    let policy = compile(document_with(vec![grant]));
    let decide = |identity: Identity<'_>| {
        policy
            .evaluate(&Request::tool_call(identity, "read_file", now()))
            .reason
    };
    let full = Identity::default()
        .with_agent("claude")
        .with_human("alice")
        .with_team("platform");
    assert_eq!(decide(full), Reason::Allowed);
    assert_eq!(decide(full.with_human("bob")), Reason::NoMatchingGrant);
    assert_eq!(decide(full.with_team("other")), Reason::NoMatchingGrant);
    assert_eq!(
        decide(Identity::default().with_agent("claude").with_human("alice")),
        Reason::NoMatchingGrant
    );
    // A human-only caller is looked up in the human index, this grant is indexed by agent.
    assert_eq!(
        decide(
            Identity::default()
                .with_human("alice")
                .with_team("platform")
        ),
        Reason::NoMatchingGrant
    );
    // Empty strings are no identity.
    assert_eq!(
        decide(Identity {
            human_id: Some(""),
            agent_id: Some(""),
            team_id: None
        }),
        Reason::MissingIdentity
    );
}

#[test]
fn human_and_team_grants_are_found_through_their_indexes() {
    let mut human = Grant::new("tools", "alice-write");
    human.human_id = "alice".into();
    human.max_trust = Trust::Medium.into();
    human.allowed_side_effects = vec![SideEffect::Write.into()];
    let mut team = Grant::new("tools", "platform-read");
    team.team_id = "platform".into();
    team.max_trust = Trust::Low.into();
    team.allowed_side_effects = vec![SideEffect::Read.into()];
    let policy = compile(document_with(vec![human, team]));
    let caller = Identity::default()
        .with_human("alice")
        .with_team("platform")
        .with_agent("claude");
    let write = policy.evaluate(&Request::tool_call(caller, "write_file", now()));
    assert_eq!(
        (write.reason, write.matched_grant),
        (
            Reason::Allowed,
            Some(ObjectRef::new("tools", "alice-write"))
        )
    );
    let read = policy.evaluate(&Request::tool_call(caller, "read_file", now()));
    assert_eq!(
        (read.reason, read.matched_grant),
        (
            Reason::Allowed,
            Some(ObjectRef::new("tools", "platform-read"))
        )
    );
}

#[test]
fn admin_trust_is_the_max_over_contributing_grants_only() {
    // "weak" allows write with low trust; "strong-read" has high trust but only for reads, so
    // it does not contribute to a write and the write needs medium.
    let mut weak = agent_grant("weak", "claude");
    weak.max_trust = Trust::Low.into();
    let mut strong_read = agent_grant("strong-read", "claude");
    strong_read.allowed_side_effects = vec![SideEffect::Read.into()];
    let policy = compile(document_with(vec![weak, strong_read]));
    let decision = policy.evaluate(&Request::tool_call(claude(), "write_file", now()));
    assert_eq!(
        (decision.reason, decision.admin_trust),
        (Reason::TrustTooLow, Some(Trust::Low))
    );
    assert_eq!(
        decision.matched_grant,
        Some(ObjectRef::new("tools", "weak"))
    );
}

#[test]
fn expired_grants_do_not_contribute_but_live_ones_still_do() {
    let mut expired_high = agent_grant("a-expired-high", "claude");
    expired_high.expires_at = PAST.into();
    let mut live_low = agent_grant("b-live-low", "claude");
    live_low.max_trust = Trust::Low.into();
    live_low.expires_at = FUTURE.into();
    let policy = compile(document_with(vec![expired_high, live_low]));
    let read = policy.evaluate(&Request::tool_call(claude(), "read_file", now()));
    assert_eq!(
        (read.reason, read.admin_trust),
        (Reason::Allowed, Some(Trust::Low))
    );
    let delete = policy.evaluate(&Request::tool_call(claude(), "delete_file", now()));
    assert_eq!(delete.reason, Reason::TrustTooLow);
    // An expired grant next to an active one that does not list the tool: the active grant
    // decides (tool_not_granted), grant_expired is only for "every enabled grant expired".
    let reads_only = agent_grant_with_rules(
        "reads",
        "claude",
        vec![ToolRule::allow("read_file", Trust::Low)],
    );
    let policy = compile(document_with(vec![expired_grant(), reads_only]));
    assert_eq!(
        policy
            .evaluate(&Request::tool_call(claude(), "write_file", now()))
            .reason,
        Reason::ToolNotGranted
    );
    // An expired deny rule no longer denies.
    let mut expired_deny =
        agent_grant_with_rules("deny", "claude", vec![ToolRule::deny("read_file")]);
    expired_deny.expires_at = PAST.into();
    let policy = compile(document_with(vec![
        expired_deny,
        agent_grant("all", "claude"),
    ]));
    assert_eq!(
        policy
            .evaluate(&Request::tool_call(claude(), "read_file", now()))
            .reason,
        Reason::Allowed
    );
}

#[test]
fn deny_is_attributed_to_the_first_denying_grant_in_namespace_name_order() {
    let mut document = document_with(vec![
        agent_grant_with_rules("z-deny", "claude", vec![ToolRule::deny("read_file")]),
        agent_grant("all", "claude"),
    ]);
    let mut other_namespace =
        agent_grant_with_rules("a-deny", "claude", vec![ToolRule::deny("read_file")]);
    other_namespace.namespace = "aaa".into();
    other_namespace.policy_version = "aaa-v1".into();
    document.grants.push(other_namespace);
    let policy = compile(document);
    let decision = policy.evaluate(&Request::tool_call(claude(), "read_file", now()));
    assert_eq!(decision.reason, Reason::ToolDenied);
    assert_eq!(
        decision.matched_grant,
        Some(ObjectRef::new("aaa", "a-deny"))
    );
    assert_eq!(decision.policy_version.as_deref(), Some("aaa-v1"));
}

#[test]
fn unknown_values_in_an_unvalidated_document_fail_closed() {
    // Unknown rule decision: denies (MR would treat anything but "deny" as allow).
    let grant = agent_grant_with_rules(
        "g",
        "claude",
        vec![ToolRule {
            name: "read_file".into(),
            decision: Lenient::from_raw("maybe"),
            required_trust: Trust::Low.into(),
        }],
    );
    // Unknown max trust counts as low.
    let mut unknown_trust = agent_grant_with_rules(
        "h",
        "claude",
        vec![ToolRule::allow("write_file", Trust::Low)],
    );
    unknown_trust.max_trust = Lenient::from_raw("root");
    let mut document = document_with(vec![grant, unknown_trust]);
    // Unknown side effect on a tool: treated as none.
    document.tools.push(Tool {
        name: "teleport".into(),
        side_effect: Lenient::from_raw("teleport"),
        ..Tool::default()
    });
    document.finalize(now()).expect("finalize");
    assert!(document.validate().is_err());
    let policy = CompiledPolicy::new_unvalidated(document);
    assert_eq!(
        policy
            .evaluate(&Request::tool_call(claude(), "read_file", now()))
            .reason,
        Reason::ToolDenied
    );
    assert_eq!(
        policy
            .evaluate(&Request::tool_call(claude(), "teleport", now()))
            .reason,
        Reason::ToolNotGranted
    );
    let write = policy.evaluate(&Request::tool_call(claude(), "write_file", now()));
    assert_eq!(
        (write.reason, write.admin_trust),
        (Reason::TrustTooLow, Some(Trust::Low))
    );
}

#[test]
fn risk_level_is_declared_or_derived() {
    let mut document = document_with(vec![agent_grant("g", "claude")]);
    document.tools.push(Tool {
        name: "declared".into(),
        side_effect: SideEffect::Read.into(),
        risk_level: RiskLevel::High.into(),
        ..Tool::default()
    });
    document
        .tools
        .push(Tool::new("read_medium", SideEffect::Read, Trust::Medium));
    let policy = compile(document);
    let risk = |tool: &str| {
        policy
            .evaluate(&Request::tool_call(claude(), tool, now()))
            .risk_level
    };
    assert_eq!(risk("declared"), Some(RiskLevel::High));
    assert_eq!(risk("read_file"), Some(RiskLevel::Low));
    assert_eq!(risk("read_medium"), Some(RiskLevel::Medium));
    assert_eq!(risk("write_file"), Some(RiskLevel::Medium));
    assert_eq!(risk("delete_file"), Some(RiskLevel::High));
    assert_eq!(risk("mystery"), None);
    assert_eq!(risk("undeclared"), None);
}

#[test]
fn explain_returns_the_same_decision_as_evaluate() {
    let mut document = document_with(vec![agent_grant("g", "claude"), agent_grant("h", "cursor")]);
    document.sessions.push(session("s1", "claude", Trust::Low));
    let policy = compile(document);
    for tool in ["read_file", "write_file", "mystery"] {
        let request = Request::tool_call(claude(), tool, now()).with_session("s1");
        let mut explained = policy.explain(&request);
        assert!(explained.trace.is_some());
        explained.trace = None;
        assert_eq!(explained, policy.evaluate(&request), "{tool}");
    }
}
