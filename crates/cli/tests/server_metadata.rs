//! `server init`, `server generate` (the `.mcp/` metadata files) and `server connect-config`
//! without a cluster.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::Path;

fn mcp_runtime(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("mcp-runtime").expect("binary is built");
    command.current_dir(dir);
    command
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    mcp_runtime(dir).args(args).output().expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn init_then_generate_gives_manifests_that_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let init = run(
        dir.path(),
        &[
            "server",
            "init",
            "notes",
            "--image",
            "ghcr.io/acme/notes",
            "--tool",
            "list_notes",
            "--tool-spec",
            "delete_note:high:destructive",
        ],
    );
    assert!(init.status.success(), "{}", text(&init.stderr));
    let metadata: Value = serde_norway::from_str(
        &std::fs::read_to_string(dir.path().join(".mcp/notes.yaml")).expect("written"),
    )
    .expect("YAML");
    assert_eq!(metadata["version"], "v1");
    assert_eq!(metadata["servers"][0]["name"], "notes");
    assert_eq!(metadata["servers"][0]["route"], "/notes/mcp");

    // A second init would lose edits: refused without --force.
    let again = run(dir.path(), &["server", "init", "notes"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );

    let generated = run(dir.path(), &["server", "generate"]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let manifest: Value = serde_norway::from_str(
        &std::fs::read_to_string(dir.path().join("manifests/notes.yaml")).expect("written"),
    )
    .expect("YAML");
    assert_eq!(manifest["kind"], "MCPServer");
    assert_eq!(manifest["metadata"]["namespace"], "mcp-servers");
    assert_eq!(manifest["spec"]["ingressPath"], "/notes/mcp");
    assert_eq!(manifest["spec"]["image"], "ghcr.io/acme/notes");
    assert_eq!(
        manifest["spec"]["tools"][1],
        json!({"name": "delete_note", "requiredTrust": "high", "sideEffect": "destructive"})
    );
    let validated = run(dir.path(), &["validate", "-f", "manifests"]);
    assert!(validated.status.success(), "{}", text(&validated.stderr));
}

#[test]
fn generate_names_the_metadata_file_and_field_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".mcp")).expect("dir");
    std::fs::write(
        dir.path().join(".mcp/good.yaml"),
        "version: v1\nservers:\n- name: good\n  image: x\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join(".mcp/bad.yaml"),
        "version: v1\nservers:\n- name: bad\n  image: x\n  tools: [{name: t, sideEffect: sideways}]\n",
    )
    .expect("write");
    let output = run(dir.path(), &["server", "generate"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(".mcp/bad.yaml: servers[0].tools[0].sideEffect"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!dir.path().join("manifests").exists());

    let missing = run(
        dir.path(),
        &["server", "generate", "--metadata-dir", "nope"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("server init NAME"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn connect_config_writes_each_clients_format_with_the_servers_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("notes.yaml"),
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: notes}\nspec:\n  image: x\n  ingressHost: mcp.example.com\n  auth: {mode: header, agentIDHeader: X-Agent}\n",
    )
    .expect("write");
    let config = |client: &str, extra: &[&str]| -> Value {
        let mut args = vec![
            "server",
            "connect-config",
            "notes",
            "-f",
            "notes.yaml",
            "--client",
            client,
        ];
        args.extend_from_slice(extra);
        let output = run(dir.path(), &args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let url = "http://mcp.example.com/notes/mcp";
    assert_eq!(
        config("cursor", &["--agent-id", "claude"]),
        json!({"mcpServers": {"notes": {"url": url, "headers": {
            "X-MCP-Human-ID": "<your-human-id>", "X-Agent": "claude"}}}})
    );
    assert_eq!(
        config("vscode", &[]),
        json!({"servers": {"notes": {"type": "http", "url": url, "headers": {
            "X-MCP-Human-ID": "<your-human-id>", "X-Agent": "<your-agent-id>"}}}})
    );
    let claude = config("claude", &["--url", "https://gw.example.com/notes/mcp"]);
    assert_eq!(claude["mcpServers"]["notes"]["command"], "mcp-runtime");
    assert_eq!(
        claude["mcpServers"]["notes"]["args"]
            .as_array()
            .expect("args")[..4],
        [
            json!("adapter"),
            json!("stdio"),
            json!("--runtime-url"),
            json!("https://gw.example.com/notes/mcp")
        ]
    );

    // Hostless: the URL is not known, and the error says what to pass.
    std::fs::write(
        dir.path().join("hostless.yaml"),
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: h}\nspec: {image: x}\n",
    )
    .expect("write");
    let hostless = run(
        dir.path(),
        &["server", "connect-config", "h", "-f", "hostless.yaml"],
    );
    assert_eq!(hostless.status.code(), Some(1));
    assert!(
        text(&hostless.stderr).contains("--url"),
        "{}",
        text(&hostless.stderr)
    );
    let unknown = run(
        dir.path(),
        &["server", "connect-config", "other", "-f", "hostless.yaml"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("no MCPServer named \"other\" (it has: h)"),
        "{}",
        text(&unknown.stderr)
    );
}
