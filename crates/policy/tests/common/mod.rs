//! Builders shared by the integration tests.
#![allow(dead_code)] // Each test crate uses a different subset.

use jiff::Timestamp;
use mcp_runtime_policy::{
    CompiledPolicy, DefaultDecision, Grant, PolicyDocument, SessionBinding, SideEffect, Tool,
    ToolRule, Trust,
};

/// 2026-07-01T12:00:00Z, the "now" of every test.
pub fn now() -> Timestamp {
    "2026-07-01T12:00:00Z".parse().expect("valid timestamp")
}

pub const PAST: &str = "2026-06-30T12:00:00Z";
pub const FUTURE: &str = "2026-07-02T12:00:00Z";

/// A server `tools/files` with four tools and no grants or sessions.
///
/// * `read_file`: read, low
/// * `write_file`: write, medium
/// * `delete_file`: destructive, high
/// * `mystery`: declared without a side effect
pub fn base_document() -> PolicyDocument {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "tools".into();
    document.policy.policy_version = "doc-v1".into();
    document.tools = vec![
        Tool::new("read_file", SideEffect::Read, Trust::Low),
        Tool::new("write_file", SideEffect::Write, Trust::Medium),
        Tool::new("delete_file", SideEffect::Destructive, Trust::High),
        Tool {
            name: "mystery".into(),
            required_trust: Trust::Low.into(),
            ..Tool::default()
        },
    ];
    document
}

/// A grant in namespace `tools` for `agent_id`, max trust high, all side effects, no rules.
pub fn agent_grant(name: &str, agent_id: &str) -> Grant {
    let mut grant = Grant::new("tools", name);
    grant.agent_id = agent_id.into();
    grant.max_trust = Trust::High.into();
    grant.allowed_side_effects = vec![
        SideEffect::Read.into(),
        SideEffect::Write.into(),
        SideEffect::Destructive.into(),
    ];
    grant
}

/// Same grant with tool rules.
pub fn agent_grant_with_rules(name: &str, agent_id: &str, rules: Vec<ToolRule>) -> Grant {
    let mut grant = agent_grant(name, agent_id);
    grant.tool_rules = rules;
    grant
}

/// A session binding in namespace `tools` for `agent_id`.
pub fn session(name: &str, agent_id: &str, consented: Trust) -> SessionBinding {
    let mut session = SessionBinding::new("tools", name);
    session.agent_id = agent_id.into();
    session.consented_trust = consented.into();
    session
}

/// Finalizes, validates and compiles.
pub fn compile(mut document: PolicyDocument) -> CompiledPolicy {
    document.finalize(now()).expect("finalize");
    CompiledPolicy::new(document).expect("valid document")
}

pub fn with_default_allow(mut document: PolicyDocument) -> PolicyDocument {
    document.policy.default_decision = DefaultDecision::Allow.into();
    document
}
