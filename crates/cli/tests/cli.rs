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
fn roles_not_built_yet_fail_loudly() {
    for role in ["up", "operator", "gateway", "sentinel", "bridge"] {
        let output = mcp_runtime().arg(role).output().expect("runs");
        assert_eq!(output.status.code(), Some(2), "{role} must exit 2");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("not implemented"), "{role}: {stderr}");
    }
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
