//! `policy.Validate` (reference §6.4): every rule rejects with a message naming the JSON path.

mod common;

use common::*;
use mcp_runtime_policy::revision::stamp_revision;
use mcp_runtime_policy::{
    AuthMode, Lenient, PolicyDocument, PolicyError, SideEffect, ToolRule, Trust, ValidationErrors,
};
use pretty_assertions::assert_eq;

/// A valid, finalized document with three grants and two sessions.
fn valid_document() -> PolicyDocument {
    let mut document = base_document();
    document.grants = vec![
        agent_grant_with_rules(
            "a",
            "claude",
            vec![
                ToolRule::allow("read_file", Trust::Low),
                ToolRule::deny("delete_file"),
            ],
        ),
        agent_grant("b", "cursor"),
        agent_grant_with_rules(
            "c",
            "codex",
            vec![ToolRule::allow("write_file", Trust::High)],
        ),
    ];
    document.sessions = vec![
        session("s1", "claude", Trust::Medium),
        session("s2", "cursor", Trust::Low),
    ];
    document.finalize(now()).expect("finalize");
    document
}

/// Re-stamps the revision (without reordering, so paths keep their indexes) and returns the
/// validation errors, checking that `parse` rejects the serialized form the same way.
fn errors_after(mutate: impl FnOnce(&mut PolicyDocument)) -> ValidationErrors {
    let mut document = valid_document();
    mutate(&mut document);
    stamp_revision(&mut document).expect("revision");
    rejection(&document)
}

fn rejection(document: &PolicyDocument) -> ValidationErrors {
    let errors = document.validate().expect_err("document should be invalid");
    let bytes = serde_json::to_vec(document).expect("serialize");
    match PolicyDocument::parse(&bytes) {
        Err(PolicyError::Invalid(parsed)) => assert_eq!(parsed, errors),
        other => panic!("parse accepted or failed differently: {other:?}"),
    }
    errors
}

/// Asserts exactly one error, at `path`, whose message contains `message`.
fn assert_single(errors: &ValidationErrors, path: &str, message: &str) {
    assert_eq!(errors.errors().len(), 1, "{errors}");
    let error = &errors.errors()[0];
    assert_eq!(error.path, path, "{errors}");
    assert!(
        error.message.contains(message),
        "message {:?} lacks {message:?}",
        error.message
    );
}

#[test]
fn the_valid_document_is_accepted_by_validate_and_parse() {
    let document = valid_document();
    assert_eq!(document.validate(), Ok(()));
    let bytes = document.to_json_pretty().expect("serialize");
    assert_eq!(
        PolicyDocument::parse(bytes.as_bytes()).expect("parse"),
        document
    );
}

#[test]
fn empty_enumerated_values_are_accepted() {
    let mut document = valid_document();
    document.auth.mode = Lenient::Unset;
    document.policy.mode = Lenient::Unset;
    document.policy.default_decision = Lenient::Unset;
    document.tools[0].required_trust = Lenient::Unset;
    document.tools[0].side_effect = Lenient::Unset;
    document.grants[0].max_trust = Lenient::Unset;
    document.grants[0].tool_rules[0].decision = Lenient::Unset;
    document.sessions[0].consented_trust = Lenient::Unset;
    stamp_revision(&mut document).expect("revision");
    assert_eq!(document.validate(), Ok(()));
}

#[test]
fn unsupported_schema_version() {
    let errors = errors_after(|document| document.schema_version = "v9".into());
    assert_single(
        &errors,
        "schema_version",
        "unsupported schema version \"v9\"",
    );
}

#[test]
fn revision_must_match_the_content() {
    let mut document = valid_document();
    document.revision = "sha256:0000".into();
    assert_single(&rejection(&document), "revision", "does not match");

    // A change after finalize without a new revision is caught too.
    let mut document = valid_document();
    document.grants[1].max_trust = Trust::Low.into();
    assert_single(&rejection(&document), "revision", "does not match");
}

#[test]
fn server_name_is_required() {
    let errors = errors_after(|document| document.server.name = " ".into());
    assert_single(&errors, "server.name", "is required");
}

#[test]
fn auth_mode_must_be_known() {
    let errors = errors_after(|document| document.auth.mode = Lenient::from_raw("kerberos"));
    assert_single(&errors, "auth.mode", "unknown auth mode \"kerberos\"");
}

#[test]
fn settings_with_a_single_meaning_refuse_other_values() {
    let errors = errors_after(|document| document.policy.enforce_on = "all_methods".into());
    assert_single(&errors, "policy.enforce_on", "\"call_tool\"");
    let errors = errors_after(|document| document.session.store = "redis".into());
    assert_single(&errors, "session.store", "\"kubernetes\"");

    let mut document = valid_document();
    document.policy.enforce_on = "call_tool".into();
    document.session.store = "kubernetes".into();
    stamp_revision(&mut document).expect("revision");
    assert_eq!(document.validate(), Ok(()));
}

#[test]
fn oauth_needs_an_issuer_and_mtls_a_trust_domain() {
    let errors = errors_after(|document| document.auth.mode = AuthMode::Oauth.into());
    assert_single(
        &errors,
        "auth.issuer_url",
        "required when auth.mode is oauth",
    );
    let errors = errors_after(|document| document.auth.mode = AuthMode::Mtls.into());
    assert_single(
        &errors,
        "auth.trust_domain",
        "required when auth.mode is mtls",
    );

    let mut document = valid_document();
    document.auth.mode = AuthMode::Oauth.into();
    document.auth.issuer_url = "https://issuer.example".into();
    stamp_revision(&mut document).expect("revision");
    assert_eq!(document.validate(), Ok(()));
}

#[test]
fn policy_mode_and_default_decision_must_be_known() {
    let errors = errors_after(|document| document.policy.mode = Lenient::from_raw("enforce"));
    assert_single(&errors, "policy.mode", "unknown policy mode \"enforce\"");
    let errors =
        errors_after(|document| document.policy.default_decision = Lenient::from_raw("maybe"));
    assert_single(
        &errors,
        "policy.default_decision",
        "unknown default decision \"maybe\"",
    );
}

#[test]
fn tool_names_are_required_and_unique() {
    // finalize sorted the tools: delete_file, mystery, read_file, write_file.
    let errors = errors_after(|document| document.tools[3].name = "read_file".into());
    assert_single(
        &errors,
        "tools[3].name",
        "duplicate tool name \"read_file\" (first at tools[2])",
    );
    let errors = errors_after(|document| document.tools[1].name = String::new());
    assert_single(&errors, "tools[1].name", "is required");
}

#[test]
fn tool_trust_side_effect_and_risk_must_be_known() {
    let errors =
        errors_after(|document| document.tools[0].required_trust = Lenient::from_raw("root"));
    assert_single(
        &errors,
        "tools[0].required_trust",
        "unknown trust level \"root\"",
    );
    let errors =
        errors_after(|document| document.tools[1].side_effect = Lenient::from_raw("teleport"));
    assert_single(
        &errors,
        "tools[1].side_effect",
        "unknown side effect \"teleport\"",
    );
    let errors =
        errors_after(|document| document.tools[2].risk_level = Lenient::from_raw("extreme"));
    assert_single(
        &errors,
        "tools[2].risk_level",
        "unknown risk level \"extreme\"",
    );
}

#[test]
fn grant_names_are_required_and_unique_per_namespace() {
    let errors = errors_after(|document| document.grants[2].name = "a".into());
    assert_single(
        &errors,
        "grants[2].name",
        "duplicate grant \"tools/a\" (first at grants[0])",
    );
    let errors = errors_after(|document| document.grants[0].name = String::new());
    assert_single(&errors, "grants[0].name", "is required");

    let mut document = valid_document();
    document.grants[2].name = "a".into();
    document.grants[2].namespace = "elsewhere".into();
    stamp_revision(&mut document).expect("revision");
    assert_eq!(document.validate(), Ok(()));
}

#[test]
fn grant_trust_and_side_effects_must_be_known() {
    let errors = errors_after(|document| document.grants[1].max_trust = Lenient::from_raw("root"));
    assert_single(
        &errors,
        "grants[1].max_trust",
        "unknown trust level \"root\"",
    );
    let errors = errors_after(|document| {
        document.grants[0].allowed_side_effects[1] = Lenient::from_raw("teleport");
    });
    assert_single(
        &errors,
        "grants[0].allowed_side_effects[1]",
        "unknown side effect \"teleport\"",
    );
    let errors = errors_after(|document| {
        document.grants[0].allowed_side_effects[1] = Lenient::Unset;
    });
    assert_single(
        &errors,
        "grants[0].allowed_side_effects[1]",
        "empty side effect",
    );
    let errors = errors_after(|document| {
        document.grants[0].allowed_side_effects[2] = SideEffect::Read.into();
    });
    assert_single(
        &errors,
        "grants[0].allowed_side_effects[2]",
        "duplicate side effect \"read\"",
    );
}

#[test]
fn rule_names_are_required_and_unique_within_a_grant() {
    // finalize sorted the rules: [0] is delete_file, [1] is read_file.
    let errors =
        errors_after(|document| document.grants[0].tool_rules[1].name = "delete_file".into());
    assert_single(
        &errors,
        "grants[0].tool_rules[1].name",
        "duplicate rule for tool \"delete_file\" (first at grants[0].tool_rules[0])",
    );
    let errors = errors_after(|document| document.grants[0].tool_rules[0].name = String::new());
    assert_single(&errors, "grants[0].tool_rules[0].name", "is required");

    // The same tool in rules of two different grants is fine.
    let mut document = valid_document();
    document.grants[2]
        .tool_rules
        .push(ToolRule::allow("read_file", Trust::Low));
    stamp_revision(&mut document).expect("revision");
    assert_eq!(document.validate(), Ok(()));
}

#[test]
fn rule_decision_and_trust_must_be_known() {
    let errors = errors_after(|document| {
        document.grants[2].tool_rules[0].decision = Lenient::from_raw("maybe")
    });
    assert_eq!(
        errors.to_string(),
        "grants[2].tool_rules[0].decision: unknown decision \"maybe\""
    );
    let errors = errors_after(|document| {
        document.grants[0].tool_rules[1].required_trust = Lenient::from_raw("root");
    });
    assert_single(
        &errors,
        "grants[0].tool_rules[1].required_trust",
        "unknown trust level \"root\"",
    );
}

#[test]
fn grant_expiry_must_be_rfc3339_and_needs_schema_v2() {
    let errors = errors_after(|document| {
        document.schema_version = "v2".into();
        document.grants[1].expires_at = "2026-07-01".into();
    });
    assert_single(
        &errors,
        "grants[1].expires_at",
        "not an RFC 3339 timestamp: \"2026-07-01\"",
    );
    let errors = errors_after(|document| document.grants[1].expires_at = FUTURE.into());
    assert_single(
        &errors,
        "grants[1].expires_at",
        "requires schema_version v2",
    );

    // finalize picks v2 by itself.
    let mut document = valid_document();
    document.grants[1].expires_at = FUTURE.into();
    document.finalize(now()).expect("finalize");
    assert_eq!(document.schema_version, "v2");
    assert_eq!(document.validate(), Ok(()));
}

#[test]
fn session_names_are_required_and_unique() {
    let errors = errors_after(|document| document.sessions[1].name = "s1".into());
    assert_single(
        &errors,
        "sessions[1].name",
        "duplicate session name \"s1\" (first at sessions[0])",
    );
    // Session IDs carry no namespace, so the name alone must be unique.
    let errors = errors_after(|document| {
        document.sessions[1].name = "s1".into();
        document.sessions[1].namespace = "elsewhere".into();
    });
    assert_single(&errors, "sessions[1].name", "duplicate session name");
    let errors = errors_after(|document| document.sessions[0].name = String::new());
    assert_single(&errors, "sessions[0].name", "is required");
}

#[test]
fn session_trust_and_expiry_must_be_valid() {
    let errors =
        errors_after(|document| document.sessions[0].consented_trust = Lenient::from_raw("root"));
    assert_single(
        &errors,
        "sessions[0].consented_trust",
        "unknown trust level \"root\"",
    );
    let errors = errors_after(|document| document.sessions[1].expires_at = "soon".into());
    assert_single(
        &errors,
        "sessions[1].expires_at",
        "not an RFC 3339 timestamp: \"soon\"",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = errors_after(|document| {
        document.server.name = String::new();
        document.policy.mode = Lenient::from_raw("x");
        document.tools[0].side_effect = Lenient::from_raw("y");
        document.grants[1].tool_rules = vec![ToolRule {
            decision: Lenient::from_raw("z"),
            ..ToolRule::allow("read_file", Trust::Low)
        }];
        document.sessions[1].expires_at = "later".into();
    });
    let paths: Vec<&str> = errors
        .errors()
        .iter()
        .map(|error| error.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "server.name",
            "policy.mode",
            "tools[0].side_effect",
            "grants[1].tool_rules[0].decision",
            "sessions[1].expires_at"
        ]
    );
}

#[test]
fn malformed_json_is_a_json_error() {
    for bytes in [
        &b"{"[..],
        b"{\"grants\": 3}",
        b"{\"session\": {\"required\": \"yes\"}}",
        b"{\"schema_version\": \"v1\", \"schema_version\": \"v2\"}",
    ] {
        assert!(
            matches!(PolicyDocument::parse(bytes), Err(PolicyError::Json(_))),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    // Not an object: whatever serde makes of it, it is never accepted.
    for bytes in [&b"[]"[..], b"null", b"\"policy\""] {
        assert!(
            PolicyDocument::parse(bytes).is_err(),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn a_large_document_is_checked_against_its_revision_like_a_small_one() {
    // Large enough that `CompiledPolicy::new` computes the revision on a second thread.
    let mut document = base_document();
    document.grants = (0..3_000)
        .map(|index| agent_grant(&format!("g{index:05}"), &format!("agent-{index}")))
        .collect();
    document.finalize(now()).expect("finalize");
    let bytes = serde_json::to_vec(&document).expect("serialize");
    let policy = mcp_runtime_policy::CompiledPolicy::from_json(&bytes).expect("valid document");
    assert_eq!(policy.revision(), document.revision);

    document.grants[2_999].disabled = true;
    let bytes = serde_json::to_vec(&document).expect("serialize");
    match mcp_runtime_policy::CompiledPolicy::from_json(&bytes) {
        Err(PolicyError::Invalid(errors)) => {
            assert_single(&errors, "revision", "does not match");
        }
        other => panic!("a stale revision was accepted: {other:?}"),
    }
}

#[test]
fn the_revision_does_not_depend_on_whether_the_document_arrives_sorted() {
    let document = valid_document();
    assert!(document.is_normalized(), "finalize normalizes");
    let mut shuffled = document.clone();
    shuffled.grants.swap(0, 2);
    shuffled.sessions.swap(0, 1);
    assert!(!shuffled.is_normalized());
    assert_eq!(
        mcp_runtime_policy::compute_revision(&shuffled).expect("revision"),
        document.revision
    );
    shuffled.validate().expect("same content, same revision");
}
