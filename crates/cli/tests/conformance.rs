//! The MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) against the rmcp example
//! server, server-everything and the Python SDK server, each directly and then through
//! `mcp-runtime gateway`: the gateway adds no failure (`scripts/conformance.sh`).
//!
//! Needs node 22 with the suite, server-everything and the Python SDK, which `bash .ci/run`
//! installs under target/peers; without them the script exits 2 naming that step.

use std::path::Path;
use std::process::Command;

#[test]
fn the_gateway_adds_no_conformance_failures() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().expect("tempdir");
    let output = Command::new("bash")
        .arg(workspace.join("scripts/conformance.sh"))
        .env("MCP_RUNTIME_BIN", env!("CARGO_BIN_EXE_mcp-runtime"))
        .env("CONFORMANCE_OUT", out.path())
        .output()
        .expect("run scripts/conformance.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "scripts/conformance.sh failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    for upstream in ["rmcp", "everything", "python"] {
        assert!(
            stdout
                .lines()
                .any(|line| line.starts_with(upstream) && line.ends_with(" none")),
            "{upstream}: no result line:\n{stdout}"
        );
    }
}
