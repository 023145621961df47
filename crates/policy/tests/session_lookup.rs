//! `CompiledPolicy::live_session_subject`: the session a workload identity names (mTLS), with
//! the evaluator's checks for a required session.

use mcp_runtime_policy::{CompiledPolicy, PolicyDocument, Reason, SessionBinding};

fn policy() -> CompiledPolicy {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "team-a".into();
    let mut add = |namespace: &str, name: &str, edit: &dyn Fn(&mut SessionBinding)| {
        let mut session = SessionBinding::new(namespace, name);
        session.human_id = "alice@example.com".into();
        session.agent_id = "claude".into();
        edit(&mut session);
        document.sessions.push(session);
    };
    add("team-a", "live", &|_| {});
    add("team-a", "until-2030", &|s| {
        s.expires_at = "2030-01-01T00:00:00Z".into()
    });
    add("team-a", "revoked", &|s| s.revoked = true);
    add("team-a", "expired", &|s| {
        s.expires_at = "2020-01-01T00:00:00Z".into()
    });
    add("team-a", "garbled-expiry", &|s| {
        s.expires_at = "next tuesday".into()
    });
    add("team-a", "nobody", &|s| {
        s.human_id.clear();
        s.agent_id.clear();
    });
    add("team-b", "only-in-b", &|s| {
        s.agent_id = "other-agent".into()
    });
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    // Unvalidated: validation refuses the garbled expiry, and the lookup must still fail closed
    // on a document that skipped it.
    CompiledPolicy::new_unvalidated(document)
}

#[test]
fn a_live_session_yields_its_subject_and_anything_else_the_evaluator_reason() {
    let policy = policy();
    let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().expect("time");
    for name in ["live", "until-2030"] {
        let subject = policy
            .live_session_subject("team-a", name, now)
            .unwrap_or_else(|d| panic!("{name}: {:?}", d.reason));
        assert_eq!(subject.human_id, Some("alice@example.com"), "{name}");
        assert_eq!(subject.agent_id, Some("claude"), "{name}");
        assert_eq!(subject.team_id, None, "{name}");
    }
    let subject = policy
        .live_session_subject("team-b", "only-in-b", now)
        .expect("live");
    assert_eq!(subject.agent_id, Some("other-agent"));
    for (namespace, name, reason) in [
        ("team-a", "revoked", Reason::SessionRevoked),
        ("team-a", "expired", Reason::SessionExpired),
        ("team-a", "garbled-expiry", Reason::SessionExpired),
        ("team-a", "missing", Reason::SessionNotFound),
        ("team-a", "nobody", Reason::SessionNotFound),
        ("team-b", "live", Reason::SessionNotFound),
        ("team-a", "only-in-b", Reason::SessionNotFound),
    ] {
        let denied = policy
            .live_session_subject(namespace, name, now)
            .expect_err(name);
        assert_eq!(denied.reason, reason, "{namespace}/{name}");
        assert!(!denied.allowed);
        assert_eq!(denied.http_status, 401, "{namespace}/{name}");
    }
    // The expiry instant itself is expired, as in the evaluator.
    let at: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().expect("time");
    assert_eq!(
        policy
            .live_session_subject("team-a", "until-2030", at)
            .expect_err("expired at the instant")
            .reason,
        Reason::SessionExpired
    );
}
