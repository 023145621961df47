//! The explain trace: structured content and the human rendering `access explain` prints.

mod common;

use common::*;
use mcp_runtime_policy::explain::{GrantStatus, SessionState, ToolAccess, TrustView};
use mcp_runtime_policy::{CompiledPolicy, Identity, ObjectRef, Reason, Request, ToolRule, Trust};
use pretty_assertions::assert_eq;

fn policy() -> CompiledPolicy {
    let mut document = base_document();
    let mut ops = agent_grant_with_rules(
        "claude-ops",
        "claude",
        vec![
            ToolRule::allow("read_file", Trust::Low),
            ToolRule::allow("write_file", Trust::Medium),
        ],
    );
    ops.max_trust = Trust::Medium.into();
    ops.expires_at = "2026-07-01T18:00:00Z".into();
    let mut off = agent_grant("claude-off", "claude");
    off.disabled = true;
    let mut bob = agent_grant("claude-bob", "claude");
    bob.human_id = "bob".into();
    let mut old = agent_grant("alice-old", "");
    old.human_id = "alice".into();
    old.expires_at = PAST.into();
    document.grants = vec![
        ops,
        off,
        bob,
        old,
        agent_grant("cursor", "cursor"),
        agent_grant("codex", "codex"),
        agent_grant("devin", "devin"),
    ];
    let mut s1 = session("s1", "claude", Trust::Low);
    s1.expires_at = FUTURE.into();
    document.sessions.push(s1);
    compile(document)
}

fn caller() -> Identity<'static> {
    Identity::default()
        .with_human("alice")
        .with_agent("claude")
        .with_team("platform")
}

#[test]
fn trace_records_candidates_session_and_trust() {
    let policy = policy();
    let decision =
        policy.explain(&Request::tool_call(caller(), "write_file", now()).with_session("s1"));
    assert_eq!(decision.reason, Reason::TrustTooLow);
    let trace = decision.trace.as_deref().expect("explain sets a trace");

    let statuses: Vec<(String, GrantStatus)> = trace
        .grants
        .iter()
        .map(|grant| (grant.grant.to_string(), grant.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("tools/alice-old".to_owned(), GrantStatus::Expired),
            ("tools/claude-bob".to_owned(), GrantStatus::SubjectMismatch),
            ("tools/claude-off".to_owned(), GrantStatus::Disabled),
            ("tools/claude-ops".to_owned(), GrantStatus::Active),
        ]
    );
    assert_eq!(trace.grants_not_considered, 3);
    let ops = &trace.grants[3];
    assert_eq!(
        ops.tool_access,
        Some(ToolAccess::Allow {
            required_trust: TrustView::of(2)
        })
    );
    assert_eq!(
        (ops.side_effect_allowed, ops.contributes),
        (Some(true), true)
    );
    assert_eq!(
        trace.grants[1].mismatch.as_deref(),
        Some("human_id: wants bob, caller has alice")
    );

    let session = trace.session.as_ref().expect("session traced");
    assert_eq!(session.state, SessionState::Live);
    assert!(session.applies);
    // Capped by the contributing grant's expiry, earlier than the session's own.
    assert_eq!(
        session.effective_expires_at.as_deref(),
        Some("2026-07-01T18:00:00Z")
    );

    let trust = trace.trust.expect("trust traced");
    assert_eq!(
        (
            trust.required.rank,
            trust.admin.rank,
            trust.consented.rank,
            trust.effective.rank
        ),
        (2, 2, 1, 1)
    );
    assert!(trust.consent_from_session);
    assert_eq!(
        trace.outcome.matched_grant,
        Some(ObjectRef::new("tools", "claude-ops"))
    );
}

#[test]
fn display_prints_one_line_per_fact() {
    let policy = policy();
    let decision =
        policy.explain(&Request::tool_call(caller(), "write_file", now()).with_session("s1"));
    let text = decision.trace.as_deref().expect("trace").to_string();
    let revision = policy.revision();
    let expected = format!(
        "decision: deny (403 trust_too_low); grant tools/claude-ops; session tools/s1
request: tools/call tool=write_file human_id=alice agent_id=claude team_id=platform session=s1 at 2026-07-01T12:00:00Z
policy: revision {revision}; mode allow-list; default decision deny; session optional
tool write_file: side_effect=write required_trust=medium(2) risk=medium
session s1: live (optional) binding tools/s1, consented_trust=low(1), expires_at 2026-07-02T12:00:00Z, effective expiry 2026-07-01T18:00:00Z
grant tools/alice-old: subject matches (human_id=alice); expired at 2026-06-30T12:00:00Z, skipped
grant tools/claude-bob: subject mismatch (human_id: wants bob, caller has alice)
grant tools/claude-off: subject matches (agent_id=claude); disabled, skipped
grant tools/claude-ops: subject matches (agent_id=claude); rule write_file allow required=medium; side effect write allowed; contributes max_trust=medium(2)
(3 other grants share no subject value with the caller and were not examined)
trust: required=medium(2) admin=medium(2) consented=low(1) (session) effective=low(1)
"
    );
    assert_eq!(text, expected);
}

#[test]
fn display_covers_deny_rules_missing_rules_and_early_exits() {
    let mut document = base_document();
    document.grants = vec![
        agent_grant_with_rules("deny", "claude", vec![ToolRule::deny("delete_file")]),
        agent_grant_with_rules(
            "reads",
            "claude",
            vec![ToolRule::allow("read_file", Trust::Low)],
        ),
        agent_grant("all", "claude"),
    ];
    let policy = compile(document);
    let claude = Identity::default().with_agent("claude");
    let denied = policy.explain(&Request::tool_call(claude, "delete_file", now()));
    let text = denied.trace.as_deref().expect("trace").to_string();
    assert!(
        text.starts_with("decision: deny (403 tool_denied); grant tools/deny\n"),
        "{text}"
    );
    assert!(text.contains("grant tools/deny: subject matches (agent_id=claude); rule delete_file deny (deny wins)\n"), "{text}");
    assert!(
        text.contains(
            "grant tools/reads: subject matches (agent_id=claude); no rule for delete_file\n"
        ),
        "{text}"
    );
    assert!(text.contains("grant tools/all: subject matches (agent_id=claude); no tool rules, all tools allowed; side effect destructive allowed; contributes max_trust=high(3)\n"), "{text}");

    let anonymous = policy.explain(&Request::tool_call(Identity::default(), "read_file", now()));
    let text = anonymous.trace.as_deref().expect("trace").to_string();
    assert!(
        text.starts_with("decision: deny (401 missing_identity)\n"),
        "{text}"
    );
    assert!(!text.contains("grant "), "no grant is examined: {text}");

    let listing = policy.explain(&Request::method(claude, "tools/list", now()));
    let text = listing.trace.as_deref().expect("trace").to_string();
    assert!(
        text.contains("note: not a tool call: allowed without a grant check\n"),
        "{text}"
    );
}

#[test]
fn trace_serializes_for_audit() {
    let policy = policy();
    let decision =
        policy.explain(&Request::tool_call(caller(), "read_file", now()).with_session("s1"));
    let json = serde_json::to_value(&decision).expect("serialize");
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["trace"]["outcome"]["reason"], "allowed");
    assert_eq!(json["trace"]["session"]["state"], "live");
    assert_eq!(json["trace"]["grants"][0]["status"], "expired");
    assert_eq!(json["trace"]["grants"][3]["tool_access"]["kind"], "allow");
    assert_eq!(json["trace"]["grants"][3]["max_trust"]["name"], "medium");
    assert_eq!(json["trace"]["trust"]["effective"]["rank"], 1);
    assert_eq!(json["trace"]["tool"]["side_effect"], "read");
    // The plain decision has no trace.
    let plain =
        policy.evaluate(&Request::tool_call(caller(), "read_file", now()).with_session("s1"));
    assert!(
        serde_json::to_value(&plain)
            .expect("serialize")
            .get("trace")
            .is_none()
    );
}
