//! The gateway's policy document reader (`PolicyDocument::parse`: JSON, then validation) and the
//! policy compiled from what it accepts.
//!
//! Input: the bytes of a `policy.json`.
//!
//! Beyond "never panics", what must hold for an accepted document:
//! * it compiles (validation and compilation agree);
//! * written back (the ConfigMap form) it reads back as the same document, and its revision is
//!   computable;
//! * for the subjects it names and the tools it lists (plus one it does not), `explain` decides
//!   as `evaluate` does, and a `tools/list` keeps exactly the tools a `tools/call` may call.
//!
//! A refused document names at least one problem.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime_policy::{CompiledPolicy, Identity, PolicyDocument, PolicyError, Request};

/// An identity with the non-empty ones of these subject fields.
fn subject<'a>(human: &'a str, agent: &'a str, team: &'a str) -> Identity<'a> {
    let mut identity = Identity::default();
    identity.human_id = Some(human).filter(|s| !s.is_empty());
    identity.agent_id = Some(agent).filter(|s| !s.is_empty());
    identity.team_id = Some(team).filter(|s| !s.is_empty());
    identity
}

/// Identities to try: each grant's and session's subject, and nobody.
fn identities(document: &PolicyDocument) -> Vec<Identity<'_>> {
    let mut identities = vec![Identity::default()];
    for grant in document.grants.iter().take(4) {
        identities.push(subject(&grant.human_id, &grant.agent_id, &grant.team_id));
    }
    for session in document.sessions.iter().take(2) {
        identities.push(subject(
            &session.human_id,
            &session.agent_id,
            &session.team_id,
        ));
    }
    identities
}

fn check_decisions(policy: &CompiledPolicy) {
    let document = policy.document();
    let mut tool_names: Vec<&str> = document
        .tools
        .iter()
        .take(8)
        .map(|tool| tool.name.as_str())
        .collect();
    tool_names.push("a-tool-nobody-listed");
    let mut sessions: Vec<Option<&str>> = vec![None];
    sessions.extend(
        document
            .sessions
            .iter()
            .take(2)
            .map(|s| Some(s.name.as_str())),
    );
    let instants = [
        jiff::Timestamp::UNIX_EPOCH,
        jiff::Timestamp::from_second(1_800_000_000).expect("a valid instant"),
    ];
    for identity in identities(document) {
        for session in &sessions {
            for now in instants {
                let mut list = Request::method(identity, "tools/list", now);
                if let Some(session) = session {
                    list = list.with_session(session);
                }
                let callable: Vec<&str> = tool_names
                    .iter()
                    .copied()
                    .filter(|name| {
                        let call = Request {
                            rpc_method: mcp_runtime_policy::TOOLS_CALL,
                            tool_name: Some(name),
                            ..list
                        };
                        let decision = policy.evaluate(&call);
                        let explained = policy.explain(&call);
                        assert_eq!(
                            decision.allowed, explained.allowed,
                            "explain and evaluate disagree on {name:?}"
                        );
                        assert_eq!(decision.reason, explained.reason);
                        assert_eq!(decision.allowed, policy.allowed_tool(&list, name));
                        decision.allowed
                    })
                    .collect();
                let listed = policy.filter_tool_names(&list, tool_names.iter().copied());
                assert_eq!(
                    listed, callable,
                    "tools/list keeps other tools than tools/call allows"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let document = match PolicyDocument::parse(data) {
        Ok(document) => document,
        Err(PolicyError::Invalid(errors)) => {
            assert!(!errors.errors().is_empty(), "refused without a reason");
            return;
        }
        Err(_) => return,
    };
    let written = document
        .to_json_pretty()
        .expect("an accepted document serialises");
    let reread = PolicyDocument::parse(written.as_bytes())
        .unwrap_or_else(|error| panic!("written back, it is refused: {error}\n{written}"));
    assert_eq!(reread, document, "written back, it reads differently");
    mcp_runtime_policy::compute_revision(&document).expect("the revision is computable");
    let policy = CompiledPolicy::new(document).expect("an accepted document compiles");
    check_decisions(&policy);
});
