//! The command tree behaves as documented.

use assert_cmd::Command;

fn mcp_runtime() -> Command {
    Command::cargo_bin("mcp-runtime").expect("binary is built")
}

#[test]
fn crd_prints_three_crds() {
    let output = mcp_runtime().arg("crd").output().expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(text.matches("kind: CustomResourceDefinition").count(), 3);
    for name in [
        "mcpservers.mcpruntime.org",
        "mcpaccessgrants.mcpruntime.org",
        "mcpagentsessions.mcpruntime.org",
    ] {
        assert!(text.contains(&format!("name: {name}")), "missing {name}");
    }
}

#[test]
fn operator_without_a_cluster_fails_with_the_reason() {
    let output = mcp_runtime()
        .args(["operator", "--leader-elect=false"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("kubeconfig"), "{stderr}");
}

#[test]
fn validate_accepts_the_examples_and_refuses_bad_manifests_naming_the_field() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    mcp_runtime()
        .args(["validate", "-f", examples])
        .assert()
        .success();

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: x}\nspec:\n  image: example/x\n  tools: [{name: t, sideEffect: explode}]\n",
    )
    .expect("write");
    let output = mcp_runtime()
        .args(["validate", "-f"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("spec.tools[0].sideEffect"),
        "{stderr}"
    );
}

#[test]
fn help_describes_every_role() {
    let output = mcp_runtime().arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for role in [
        "up",
        "operator",
        "gateway",
        "sentinel",
        "bridge",
        "crd",
        "validate",
        "completion",
    ] {
        assert!(help.contains(role), "--help does not mention {role}");
    }
}

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

/// Alice's agent, with her session, calling `tool` on the example server at time `at`.
fn explain_at(tool: &str, at: &str, extra: &[&str]) -> std::process::Output {
    mcp_runtime()
        .args([
            "access",
            "explain",
            "-f",
            EXAMPLES,
            "--server",
            "github-tools",
        ])
        .args([
            "--human",
            "alice@example.com",
            "--agent",
            "claude-code",
            "--team",
            "platform",
        ])
        .args(["--session", "alice-claude-2026", "--at", at, "--tool", tool])
        .args(extra)
        .output()
        .expect("runs")
}

fn explain(tool: &str, extra: &[&str]) -> std::process::Output {
    explain_at(tool, "2026-06-01T00:00:00Z", extra)
}

#[test]
fn access_explain_allows_a_granted_tool_showing_the_grant_and_trust_numbers() {
    let output = explain("comment_issue", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("ALLOW comment_issue"), "{stdout}");
    assert!(
        stdout.contains("grant mcp-servers/alice-claude"),
        "{stdout}"
    );
    assert!(
        stdout.contains("required=medium(2) admin=medium(2) consented=medium(2)"),
        "{stdout}"
    );
}

#[test]
fn access_explain_exits_3_with_the_reason_for_a_denied_tool() {
    let output = explain("delete_repo", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("DENY delete_repo (HTTP 403): tool_denied"),
        "{stdout}"
    );

    // After the session expires the same call is refused for that reason.
    let late = explain_at("list_issues", "2031-01-01T00:00:00Z", &[]);
    assert_eq!(late.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&late.stdout).contains("session_expired"));
}

#[test]
fn access_explain_json_carries_the_audit_fields() {
    let output = explain("list_issues", &["-o", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(decision["decision"], "allow");
    assert_eq!(decision["matched_grant"], "alice-claude");
    assert_eq!(decision["effective_trust"], "medium");
}

#[test]
fn policy_render_prints_the_document_of_the_named_server_only() {
    let output = mcp_runtime()
        .args([
            "policy",
            "render",
            "-f",
            EXAMPLES,
            "--server",
            "github-tools",
        ])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(document["server"]["name"], "github-tools");
    assert_eq!(document["schema_version"], "v1");
    let grants: Vec<&str> = document["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(grants, ["alice-claude"]);
    assert!(
        document["revision"]
            .as_str()
            .expect("revision")
            .starts_with("sha256:")
    );

    let missing = mcp_runtime()
        .args(["policy", "render", "-f", EXAMPLES, "--server", "nope"])
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no MCPServer named \"nope\""));
}

#[test]
fn import_converts_a_lifecycle_operator_manifest_into_a_valid_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("lo.yaml");
    std::fs::write(
        &source,
        "apiVersion: mcp.x-k8s.io/v1alpha1\nkind: MCPServer\nmetadata: {name: docs, namespace: tools}\nspec:\n  source: {type: ContainerImage, containerImage: {ref: 'quay.io/x/docs:1'}}\n  config: {port: 8080, arguments: [--fast]}\n  mcp: {stateless: true}\n  transport: {tls: {enabled: true}}\n",
    )
    .expect("write");
    let output = mcp_runtime()
        .args(["import", "-f"])
        .arg(&source)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("spec.transport"));
    let converted = dir.path().join("converted.yaml");
    std::fs::write(&converted, &output.stdout).expect("write");
    // The output is a manifest the validator (and so a cluster) accepts.
    mcp_runtime()
        .args(["validate", "-f"])
        .arg(&converted)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("apiVersion: mcpruntime.org/v1alpha1") && text.contains("stateless: true"),
        "{text}"
    );
}

#[test]
fn server_render_prints_the_objects_the_operator_would_apply() {
    let output = mcp_runtime()
        .args([
            "server",
            "render",
            "-f",
            EXAMPLES,
            "--server",
            "github-tools",
        ])
        .env("MCP_SENTINEL_INGEST_URL", "http://sentinel/events")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for kind in [
        "kind: ConfigMap",
        "kind: Deployment",
        "kind: Service",
        "kind: Ingress",
    ] {
        assert!(stdout.contains(kind), "missing {kind}");
    }
    assert!(stdout.contains("name: github-tools-gateway-policy"));
    assert!(stdout.contains("name: mcp-gateway"));
}

/// The README's `server render` example sets an operator variable in front of the command: that
/// setting must show in what is rendered, and leaving it out must change the result, or the
/// example teaches nothing.
#[test]
fn the_readme_render_example_shows_its_setting_taking_effect() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("mcp-runtime server render"))
        .expect("the README has a server render example");
    // The variables are the `NAME=value \` lines right above the command.
    let mut settings = Vec::new();
    for line in lines[..at].iter().rev() {
        let Some(assignment) = line.trim().strip_suffix('\\') else {
            break;
        };
        let (name, value) = assignment
            .trim()
            .split_once('=')
            .expect("a NAME=value line above the render command");
        settings.push((name.to_owned(), value.to_owned()));
    }
    assert!(!settings.is_empty(), "the example sets no variable");
    let args: Vec<&str> = lines[at]
        .split_whitespace()
        .skip_while(|w| !w.ends_with("mcp-runtime"))
        .skip(1)
        .collect();
    let run = |with: bool| {
        let mut command = mcp_runtime();
        command
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(&args);
        for (name, value) in &settings {
            if with {
                command.env(name, value);
            } else {
                command.env_remove(name);
            }
        }
        let output = command.output().expect("runs");
        // The policy's generation time is the only part that differs between two runs.
        let stdout: String = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| !l.contains("generated_at"))
            .collect();
        (output.status.success(), stdout)
    };
    let (succeeded, with) = run(true);
    assert!(succeeded, "the README's render example fails");
    for (name, value) in &settings {
        assert!(
            with.contains(value.as_str()),
            "{name}={value} is not in the output"
        );
    }
    assert_ne!(
        run(false),
        (true, with),
        "the README's render example renders the same without its settings"
    );
}

/// `mcp-runtime VERB … | head -1`: the reader goes away before the output is written.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(args)
        .env("MCP_SENTINEL_INGEST_URL", "http://sentinel/events")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("waits")
}

#[test]
fn printing_verbs_end_quietly_when_their_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt;
    let verbs: &[&[&str]] = &[
        &["crd"],
        &["crd", "--reference"],
        &["completion", "bash"],
        &["validate", "-f", EXAMPLES],
        &[
            "policy",
            "render",
            "-f",
            EXAMPLES,
            "--server",
            "github-tools",
        ],
        &[
            "server",
            "render",
            "-f",
            EXAMPLES,
            "--server",
            "github-tools",
        ],
    ];
    for args in verbs {
        let output = with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert!(
            output.status.success() || output.status.signal() == Some(13),
            "{args:?} ends with success or SIGPIPE, not {:?}: {stderr}",
            output.status
        );
    }
}

#[test]
fn probe_tcp_says_whether_something_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let open = listener.local_addr().expect("address").to_string();
    let output = mcp_runtime()
        .args(["probe", "tcp", &open])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    drop(listener);
    let output = mcp_runtime()
        .args(["probe", "tcp", &open])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("nothing accepts connections at"),
        "{output:?}"
    );
}
