//! `mcp-runtime adapter proxy` and `adapter stdio` as processes, between MCP clients written by
//! others and a real gateway:
//!
//! client (Python SDK `mcp` 2.3.0, MCP Inspector CLI 0.15.0) → adapter → `mcp-runtime gateway`
//! (header identity; a policy that lets only agent `claude` acting for `alice@example.com` call
//! `add`) → `mcp-runtime example-server --http` (rmcp).
//!
//! The gateway's decisions are the proof: a call that succeeds through the adapter is refused
//! when the same client goes to the gateway directly, so the identity came from the adapter;
//! and headers a client forges at the adapter are replaced, never passed on.
//!
//! Needs the peers `bash .ci/run` installs under target/peers. Without them the tests are
//! skipped, except under `CI=true`, where a missing peer fails them.

mod support;

use mcp_runtime_policy::{Grant, PolicyDocument, SideEffect, Tool, Trust};
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::time::Duration;
use support::{Gateway, mcp_call, spawn_announcing, start_gateway, wait_for, workspace};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");
const HUMAN: &str = "alice@example.com";
const AGENT: &str = "claude";

/// The example server behind the gateway, with the policy file in a scratch directory.
struct Stack {
    _upstream: Gateway,
    gateway: Gateway,
    _scratch: tempfile::TempDir,
}

impl Stack {
    fn start() -> Stack {
        let mut command = Command::new(BIN);
        command.args(["example-server", "--http", "127.0.0.1:0"]);
        let (child, address) = spawn_announcing(command, "listening on ", "the example server");
        let upstream = Gateway { child, address };

        let scratch = tempfile::tempdir().expect("tempdir");
        let policy = scratch.path().join("policy.json");
        let mut document = PolicyDocument::default();
        document.server.name = "notes".into();
        document.server.namespace = "default".into();
        document
            .tools
            .push(Tool::new("add", SideEffect::Read, Trust::Low));
        document
            .tools
            .push(Tool::new("echo", SideEffect::Write, Trust::Low));
        let mut grant = Grant::new("default", "alice-claude");
        grant.human_id = HUMAN.into();
        grant.agent_id = AGENT.into();
        grant.max_trust = Trust::Low.into();
        grant.allowed_side_effects = vec![SideEffect::Read.into()];
        document.grants.push(grant);
        document.finalize(jiff::Timestamp::now()).expect("finalize");
        support::write_policy_document(&policy, &document);

        let gateway = start_gateway(&format!("http://{}", upstream.address), &policy);
        wait_for("the gateway to be ready", Duration::from_secs(10), || {
            support::http(&gateway.address, "GET", "/ready", &[], "").0 == 200
        });
        Stack {
            _upstream: upstream,
            gateway,
            _scratch: scratch,
        }
    }

    fn runtime_url(&self) -> String {
        format!("http://{}/mcp", self.gateway.address)
    }

    /// `adapter proxy` on a free loopback port in front of the gateway.
    fn proxy(&self, identity: &[&str]) -> Gateway {
        let mut command = Command::new(BIN);
        command
            .args([
                "adapter",
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--runtime-url",
            ])
            .arg(self.runtime_url())
            .args(identity);
        let (child, address) = spawn_announcing(
            command,
            "mcp-runtime adapter proxy listening on ",
            "the adapter proxy",
        );
        Gateway { child, address }
    }
}

fn error_text(result: &Value) -> String {
    result["error"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn python_sdk_client_through_adapter_proxy() {
    if !support::peer_present(
        mcp_runtime_peers::python_present(),
        "the Python MCP SDK (target/peers/venv)",
    ) {
        return;
    }
    let stack = Stack::start();
    let adapter = stack.proxy(&["--human-id", HUMAN, "--agent-id", AGENT]);
    let via_adapter = format!("http://{}/mcp", adapter.address);
    let direct = stack.runtime_url();
    let add = ["call", "add", r#"{"a": 1, "b": 2}"#];

    for mode in ["legacy", "auto"] {
        // Through the adapter: the gateway sees alice's agent.
        assert_eq!(
            mcp_call(&via_adapter, mode, &[], &["list"]),
            json!({"tools": ["add"]}),
            "{mode}: tools/list through the adapter is filtered to the granted tool"
        );
        assert_eq!(
            mcp_call(&via_adapter, mode, &[], &add),
            json!({"is_error": false, "text": ["3"]}),
            "{mode}: the granted call through the adapter"
        );
        let denied = mcp_call(
            &via_adapter,
            mode,
            &[],
            &["call", "echo", r#"{"message": "hi"}"#],
        );
        assert!(
            error_text(&denied).contains("side_effect_not_allowed"),
            "{mode}: a tool outside the grant is still denied: {denied}"
        );

        // The same client straight to the gateway, without the headers: refused.
        let refused = mcp_call(&direct, mode, &[], &add);
        assert!(
            error_text(&refused).contains("missing_identity"),
            "{mode}: without the adapter the gateway knows no caller: {refused}"
        );
        // (And with them, accepted: the refusal is about the identity, not the client.)
        let human = format!("X-MCP-Human-ID: {HUMAN}");
        let agent = format!("X-MCP-Agent-ID: {AGENT}");
        assert_eq!(
            mcp_call(&direct, mode, &[&human, &agent], &add)["text"],
            json!(["3"]),
            "{mode}"
        );

        // Forged headers at the adapter are replaced. Passed on, they would be denied
        // (`intruder` has no grant); appended, the gateway would see each header twice and
        // treat the identity as absent.
        let forged = mcp_call(
            &via_adapter,
            mode,
            &["X-MCP-Agent-ID: intruder", "X-MCP-Human-ID: intruder"],
            &add,
        );
        assert_eq!(forged["text"], json!(["3"]), "{mode}: {forged}");
    }

    // An adapter that asserts only the human: a client's own (valid!) agent header is removed,
    // so the gateway sees no agent and alice's grant for `claude` does not apply.
    let human_only = stack.proxy(&["--human-id", HUMAN]);
    let refused = mcp_call(
        &format!("http://{}/mcp", human_only.address),
        "legacy",
        &[&format!("X-MCP-Agent-ID: {AGENT}")],
        &add,
    );
    let reason = error_text(&refused);
    assert!(
        reason.contains("denied") || reason.contains("Unauthorized"),
        "a client-supplied agent header must not pass the adapter: {refused}"
    );
}

fn python_stdio_client(mode: &str, adapter_args: &[&str]) -> Value {
    let output = Command::new(mcp_runtime_peers::python())
        .arg(workspace().join("tests/peers/python/stdio_client.py"))
        .args([mode, "echo", BIN, "adapter", "stdio"])
        .args(adapter_args)
        .output()
        .expect("run the Python stdio client");
    assert!(
        output.status.success(),
        "{mode}: the Python stdio client failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{mode}: no JSON from the client ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn python_sdk_stdio_client_launching_adapter_stdio() {
    if !support::peer_present(
        mcp_runtime_peers::python_present(),
        "the Python MCP SDK (target/peers/venv)",
    ) {
        return;
    }
    let stack = Stack::start();
    let url = stack.runtime_url();
    for mode in ["legacy", "auto"] {
        let result = python_stdio_client(
            mode,
            &[
                "--runtime-url",
                &url,
                "--human-id",
                HUMAN,
                "--agent-id",
                AGENT,
            ],
        );
        assert_eq!(result["tools"], json!(["add"]), "{mode}: {result}");
        assert_eq!(result["add"], json!(["3"]), "{mode}: {result}");
        assert!(
            result["denied"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("side_effect_not_allowed")),
            "{mode}: {result}"
        );
    }
    // The identity is the adapter's: another agent gets nothing from alice's grant.
    let intruder = python_stdio_client(
        "legacy",
        &[
            "--runtime-url",
            &url,
            "--human-id",
            HUMAN,
            "--agent-id",
            "intruder",
        ],
    );
    assert_eq!(intruder["tools"], json!([]), "{intruder}");
    assert!(
        intruder["add"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("denied")),
        "{intruder}"
    );
}

/// The MCP Inspector CLI, with `-e NAME=VALUE` environment for a stdio target.
fn inspector(target: &[&str], env: &[(&str, &str)], method: &[&str]) -> Output {
    let mut command = Command::new(mcp_runtime_peers::node_modules().join(".bin/mcp-inspector"));
    command.arg("--cli");
    for (name, value) in env {
        command.arg("-e").arg(format!("{name}={value}"));
    }
    command
        .args(target)
        .arg("--method")
        .args(method)
        .output()
        .expect("run the MCP Inspector CLI")
}

fn listed_names(output: &Output, what: &str) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{what}: tools/list failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tools: Value = serde_json::from_str(&stdout).expect("inspector JSON");
    tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

fn assert_called(output: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{what}: tools/call failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(&stdout).expect("inspector JSON");
    assert_eq!(result["content"][0]["text"], "3", "{what}: {result}");
}

#[test]
fn inspector_cli_through_adapter_stdio_and_adapter_proxy() {
    if !support::peer_present(
        mcp_runtime_peers::node_peers_present(),
        "node and the MCP Inspector CLI (target/peers/node)",
    ) {
        return;
    }
    let stack = Stack::start();
    let url = stack.runtime_url();
    // stdio: the Inspector launches the adapter, configured through its environment.
    let env = [
        ("MCP_RUNTIME_URL", url.as_str()),
        ("MCP_HUMAN_ID", HUMAN),
        ("MCP_AGENT_ID", AGENT),
    ];
    let stdio = [BIN, "adapter", "stdio"];
    assert_eq!(
        listed_names(&inspector(&stdio, &env, &["tools/list"]), "stdio"),
        ["add"]
    );
    let call = [
        "tools/call",
        "--tool-name",
        "add",
        "--tool-arg",
        "a=1",
        "b=2",
    ];
    assert_called(&inspector(&stdio, &env, &call), "stdio");
    let denied = inspector(
        &stdio,
        &env,
        &[
            "tools/call",
            "--tool-name",
            "echo",
            "--tool-arg",
            "message=hi",
        ],
    );
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&denied.stdout),
        String::from_utf8_lossy(&denied.stderr)
    );
    assert!(
        !denied.status.success() && output.contains("side_effect_not_allowed"),
        "stdio: the denial must fail the call with its reason: {output}"
    );

    // proxy: the Inspector's streamable-HTTP transport to the local endpoint.
    let adapter = stack.proxy(&["--human-id", HUMAN, "--agent-id", AGENT]);
    let local = format!("http://{}/mcp", adapter.address);
    let http = [local.as_str(), "--transport", "http"];
    assert_eq!(
        listed_names(&inspector(&http, &[], &["tools/list"]), "proxy"),
        ["add"]
    );
    assert_called(&inspector(&http, &[], &call), "proxy");

    // Control: the Inspector straight to the gateway cannot call (it cannot set headers).
    let direct = inspector(&[url.as_str(), "--transport", "http"], &[], &call);
    assert!(
        !direct.status.success(),
        "the gateway without the adapter must refuse: {}",
        String::from_utf8_lossy(&direct.stdout)
    );
}

#[test]
fn bad_input_is_one_clear_line() {
    for (args, expected) in [
        (
            &[
                "adapter",
                "stdio",
                "--runtime-url",
                "mcp.example.com/notes/mcp",
            ][..],
            "error: --runtime-url \"mcp.example.com/notes/mcp\": not an absolute URL",
        ),
        (
            &[
                "adapter",
                "proxy",
                "--runtime-url",
                "https://h/mcp",
                "--tls-client-cert",
                "/nonexistent/cert.pem",
                "--tls-client-key",
                "/nonexistent/key.pem",
            ][..],
            "error: --tls-client-cert /nonexistent/cert.pem: No such file or directory",
        ),
        (
            &[
                "adapter",
                "stdio",
                "--runtime-url",
                "https://h/mcp",
                "--auth",
                "mtls",
            ][..],
            "error: --auth mtls needs --tls-client-cert and --tls-client-key",
        ),
        (
            &[
                "adapter",
                "stdio",
                "--runtime-url",
                "http://h/mcp",
                "--tls-ca-bundle",
                "ca.pem",
            ][..],
            "error: the --tls-* flags and --auth mtls need an https --runtime-url",
        ),
        (
            &[
                "adapter",
                "stdio",
                "--runtime-url",
                "http://h/mcp",
                "--request-timeout",
                "soon",
            ][..],
            "error: --request-timeout \"soon\" is not a duration",
        ),
    ] {
        let output = Command::new(BIN)
            .args(args)
            .env_remove("MCP_RUNTIME_URL")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
