//! The serialized document has MR's exact shape (reference §6.2).
//!
//! `fixtures/golden-policy.json` is written by hand from the spec, with one exception: the
//! `revision` value was pinned from a run, so that any change to the canonical form (which
//! would rewrite every policy ConfigMap on upgrade) fails this test. The revision algorithm
//! itself is checked against a hand-written canonical string in `src/revision.rs`.

mod common;

use std::collections::BTreeMap;

use common::now;
use mcp_runtime_policy::{
    AuthMode, DefaultDecision, Grant, PolicyDocument, PolicyMode, RiskLevel, SessionBinding,
    SideEffect, Tool, ToolRule, Trust, compute_revision,
};
use pretty_assertions::assert_eq;
use serde_json::Value;

const GOLDEN: &str = include_str!("fixtures/golden-policy.json");

/// The fixture, built through the crate's types in a deliberately unsorted order.
fn fixture() -> PolicyDocument {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "tools".into();
    document.server.team_id = "platform".into();
    document.server.cluster = "east-1".into();

    document.auth.mode = AuthMode::Header.into();
    document.auth.human_id_header = "X-MCP-Human-ID".into();
    document.auth.agent_id_header = "X-MCP-Agent-ID".into();
    document.auth.team_id_header = "X-MCP-Team-ID".into();
    document.auth.session_id_header = "X-MCP-Agent-Session".into();
    document.auth.token_header = "Authorization".into();

    document.policy.mode = PolicyMode::AllowList.into();
    document.policy.default_decision = DefaultDecision::Deny.into();
    document.policy.enforce_on = "call_tool".into();
    document.policy.policy_version = "v1".into();

    document.session.required = true;
    document.session.store = "kubernetes".into();
    document.session.header_name = "X-MCP-Agent-Session".into();
    document.session.max_lifetime = "24h".into();
    document.session.idle_timeout = "1h".into();
    document.session.upstream_token_header = "Authorization".into();

    document.tools.push(Tool {
        description: "Read a file".into(),
        labels: BTreeMap::from([("area".to_owned(), "fs".to_owned())]),
        ..Tool::new("read_file", SideEffect::Read, Trust::Low)
    });
    document.tools.push(Tool {
        risk_level: RiskLevel::High.into(),
        ..Tool::new("delete_file", SideEffect::Destructive, Trust::High)
    });

    let mut claude = Grant::new("tools", "claude-ops");
    claude.agent_id = "claude".into();
    claude.team_id = "platform".into();
    claude.max_trust = Trust::High.into();
    claude.allowed_side_effects = vec![SideEffect::Write.into(), SideEffect::Read.into()];
    claude.tool_rules = vec![
        ToolRule::allow("read_file", Trust::Low),
        ToolRule::deny("delete_file"),
    ];
    document.grants.push(claude);
    let mut alice = Grant::new("ops", "alice-read");
    alice.human_id = "alice".into();
    alice.team_id = "platform".into();
    alice.max_trust = Trust::Medium.into();
    alice.allowed_side_effects = vec![SideEffect::Read.into()];
    alice.policy_version = "v2".into();
    alice.disabled = true;
    alice.expires_at = "2026-12-31T23:59:59Z".into();
    document.grants.push(alice);

    let mut claude_session = SessionBinding::new("tools", "sess-1");
    claude_session.agent_id = "claude".into();
    claude_session.team_id = "platform".into();
    claude_session.consented_trust = Trust::Medium.into();
    claude_session.expires_at = "2026-07-02T00:00:00Z".into();
    claude_session.policy_version = "v1".into();
    claude_session.upstream_token_ref = "claude-token/token".into();
    document.sessions.push(claude_session);
    let mut alice_session = SessionBinding::new("tools", "sess-0");
    alice_session.human_id = "alice".into();
    alice_session.consented_trust = Trust::Low.into();
    alice_session.revoked = true;
    document.sessions.push(alice_session);

    document.finalize(now()).expect("finalize");
    document
}

fn golden() -> Value {
    serde_json::from_str(GOLDEN).expect("fixture is JSON")
}

#[test]
fn serialized_fixture_matches_the_hand_written_document() {
    let document = fixture();
    let actual: Value =
        serde_json::from_str(&document.to_json_pretty().expect("serialize")).expect("JSON");
    let mut expected = golden();
    // Compare everything but the pinned revision first, for a readable diff.
    let mut actual_without_revision = actual.clone();
    for value in [&mut expected, &mut actual_without_revision] {
        if let Value::Object(fields) = value {
            fields.shift_remove("revision");
        }
    }
    assert_eq!(actual_without_revision, expected);
    assert_eq!(actual, golden());
}

#[test]
fn hand_written_document_parses_validates_and_equals_the_fixture() {
    let parsed = PolicyDocument::parse(GOLDEN.as_bytes()).expect("golden document is valid");
    assert_eq!(parsed, fixture());
    assert_eq!(
        compute_revision(&parsed).expect("revision"),
        parsed.revision
    );
}
