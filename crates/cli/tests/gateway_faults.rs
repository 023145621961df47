//! Faults the gateway must survive, with the real binaries: `mcp-runtime gateway` in front of
//! `mcp-runtime example-server` (rmcp), observed only through their HTTP surfaces.
//!
//! - a corrupt, truncated or empty policy file: the last good policy stays active and the
//!   failed reload shows in `/metrics` and `/config/status`.

mod support;

use mcp_runtime_policy::{Grant, PolicyDocument, SideEffect, Tool, Trust};
use std::path::Path;
use std::time::Duration;
use support::{Gateway, spawn_announcing, start_gateway, wait_for};

/// A process killed and reaped when dropped.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mcp-runtime example-server` on a free loopback port; returns it and its URL.
fn example_server() -> (Process, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-runtime"));
    command
        .args(["example-server", "--http", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    let (child, address) = spawn_announcing(command, "listening on ", "the example server");
    (Process(child), format!("http://{address}"))
}

const AGENT: &str = "fault-agent";

/// A stateless (2026-07-28) `tools/call add(1, 2)`.
const ADD: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"fault-test","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// `tools/call add` through the gateway; returns (status, body).
fn call_add(gateway: &Gateway) -> (u16, String) {
    support::http(
        &gateway.address,
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "add"),
            ("x-mcp-agent-id", AGENT),
        ],
        ADD,
    )
}

/// A policy granting `add` to the test agent, or with that grant disabled.
fn policy(grant_disabled: bool) -> PolicyDocument {
    let mut document = PolicyDocument::default();
    document.server.name = "faults".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("add", SideEffect::Read, Trust::Low));
    let mut grant = Grant::new("default", "fault-agent-read");
    grant.agent_id = AGENT.into();
    grant.max_trust = Trust::Low.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    grant.disabled = grant_disabled;
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    document
}

fn get(gateway: &Gateway, path: &str) -> String {
    let (status, body) = support::http(&gateway.address, "GET", path, &[], "");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The value of the sample `series` (name and labels, exactly as exposed) in a metrics text.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in the metrics:\n{metrics}"))
}

const RELOAD_FAILURES: &str = r#"mcp_gateway_policy_reload_total{result="failure"}"#;
const RELOAD_SUCCESSES: &str = r#"mcp_gateway_policy_reload_total{result="success"}"#;

fn config_status(gateway: &Gateway) -> serde_json::Value {
    serde_json::from_str(&get(gateway, "/config/status")).expect("config status JSON")
}

fn write_policy(path: &Path, document: &PolicyDocument) {
    support::write_policy_document(path, document);
}

#[test]
fn a_corrupt_truncated_or_empty_policy_file_keeps_the_last_good_policy_and_shows_in_metrics() {
    let (_upstream, upstream_url) = example_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    write_policy(&path, &policy(false));
    let gateway = start_gateway(&upstream_url, &path);
    wait_for("the gateway to be ready", Duration::from_secs(10), || {
        support::http(&gateway.address, "GET", "/ready", &[], "").0 == 200
    });
    let (status, body) = call_add(&gateway);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""text":"3""#), "{body}");

    // The active policy is the one that disables the grant: a fault must not lose it (a gateway
    // falling back to "no policy" or to an older one would let the call through or 503).
    let revoked = policy(true);
    write_policy(&path, &revoked);
    wait_for("the revocation", Duration::from_secs(5), || {
        call_add(&gateway).1.contains("tool_not_granted")
    });
    let metrics = get(&gateway, "/metrics");
    let mut failures = sample(&metrics, RELOAD_FAILURES);
    assert_eq!(failures, 0, "no reload has failed yet:\n{metrics}");
    let successes = sample(&metrics, RELOAD_SUCCESSES);

    let good = serde_json::to_string_pretty(&revoked).expect("json");
    let faults: [(&str, &[u8]); 4] = [
        ("corrupt", b"{ \"version\": this is not json"),
        ("truncated", &good.as_bytes()[..good.len() / 2]),
        ("empty", b""),
        // Valid JSON, but not a policy document.
        ("not a policy", b"[1, 2, 3]"),
    ];
    for (fault, contents) in faults {
        // Written in place (not renamed), as a broken writer or a full disk would leave it.
        std::fs::write(&path, contents).expect("write the broken file");
        let metrics = wait_for(
            &format!("the {fault} file's reload failure in /metrics"),
            Duration::from_secs(5),
            || {
                let metrics = get(&gateway, "/metrics");
                (sample(&metrics, RELOAD_FAILURES) > failures).then_some(metrics)
            },
        );
        failures = sample(&metrics, RELOAD_FAILURES);
        assert_eq!(
            sample(&metrics, RELOAD_SUCCESSES),
            successes,
            "a {fault} file swapped nothing in"
        );
        let status = config_status(&gateway);
        assert_eq!(status["ready"], true, "{fault}: {status}");
        assert_eq!(
            status["revision"],
            revoked.revision.as_str(),
            "{fault}: the last good policy stays active: {status}"
        );
        let error = status["last_reload_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&path.display().to_string()),
            "{fault}: the error names the file: {status}"
        );
        assert_eq!(
            support::http(&gateway.address, "GET", "/ready", &[], "").0,
            200,
            "{fault}: still ready on the last good policy"
        );
        let (_, body) = call_add(&gateway);
        assert!(
            body.contains("tool_not_granted"),
            "{fault}: the last good policy still decides: {body}"
        );
    }

    // A good file again: swapped in, the error cleared, and the failures stay counted.
    let restored = policy(false);
    write_policy(&path, &restored);
    wait_for("the restored policy", Duration::from_secs(5), || {
        config_status(&gateway)["revision"] == restored.revision.as_str()
    });
    let status = config_status(&gateway);
    assert!(status["last_reload_error"].is_null(), "{status}");
    let (status, body) = call_add(&gateway);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""text":"3""#), "{body}");
    let metrics = get(&gateway, "/metrics");
    assert_eq!(sample(&metrics, RELOAD_FAILURES), failures, "{metrics}");
    assert!(sample(&metrics, RELOAD_SUCCESSES) > successes, "{metrics}");
}
