//! `mcp-runtime up` as a user runs it: the real binary on a directory of manifests, real
//! server processes (the official Python MCP SDK's server), the real Python client.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{http, mcp_call, python, wait_for, workspace};

const START: Duration = Duration::from_secs(60);

struct Up {
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Up {
    fn start(dir: &Path, state: &Path) -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .args(["up", "--port", "0", "-f"])
            .arg(dir)
            .arg("--state-dir")
            .arg(state)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mcp-runtime up");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("up | serving on http://") {
                    let _ = address_tx.send(url.to_owned());
                }
                sink.lock().expect("log").push(line);
            }
        });
        let address = address_rx
            .recv_timeout(START)
            .unwrap_or_else(|_| panic!("up never said where it serves: {:?}", log.lock()));
        Up {
            child,
            address,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn status(&self) -> Value {
        let (code, body) = http(&self.address, "GET", "/_up/status", &[], "");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("status JSON")
    }

    fn server(&self, name: &str) -> Option<Value> {
        self.status()["servers"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
    }

    fn wait_ready(&self, name: &str) -> Value {
        wait_for(&format!("{name} to be Ready"), START, || {
            self.server(name).filter(|s| s["phase"] == "Ready")
        })
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An MCPServer running the Python SDK server as an HTTP command on the assigned port. Its
/// tools: `add` (read) and `secret_admin` (destructive; writes `marker` when it runs).
fn python_server(name: &str, marker: &Path) -> String {
    format!(
        "apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: {name}
spec:
  image: python-peer:unused-locally
  command: [{python}, {script}, $(PORT), {marker}]
  tools:
    - {{name: add, requiredTrust: low, sideEffect: read}}
    - {{name: secret_admin, requiredTrust: high, sideEffect: destructive}}
  policy: {{mode: allow-list, defaultDecision: deny}}
",
        python = python().display(),
        script = workspace().join("tests/peers/python/server.py").display(),
        marker = marker.display(),
    )
}

fn grant(server: &str, rules: &str) -> String {
    format!(
        "apiVersion: mcpruntime.org/v1alpha1
kind: MCPAccessGrant
metadata:
  name: dev-{server}
spec:
  serverRef: {{name: {server}}}
  subject: {{humanID: dev}}
  maxTrust: medium
  allowedSideEffects: [read]
  toolRules: {rules}
"
    )
}

fn write(path: &Path, text: &str) {
    // Write then rename, as editors and `kubectl`-style tools do: the watcher must see it.
    let temporary = path.with_extension("tmp~");
    std::fs::write(&temporary, text).expect("write");
    std::fs::rename(&temporary, path).expect("rename");
}

const CALL_ADD: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#;

/// A bare tools/call through the gateway; returns the denial reason, if it was denied.
fn denial_of_add(up: &Up, route: &str) -> Option<String> {
    let (_, body) = http(
        &up.address,
        "POST",
        route,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("x-mcp-human-id", "dev"),
        ],
        CALL_ADD,
    );
    let value: Value = serde_json::from_str(&body).ok()?;
    value["error"]["data"]["reason"].as_str().map(str::to_owned)
}

#[test]
fn a_grant_edit_applies_within_two_seconds_and_a_new_server_file_gets_a_route() {
    let dir = tempfile::tempdir().expect("dir");
    let state = tempfile::tempdir().expect("state");
    let marker = dir.path().join("marker");
    write(&dir.path().join("one.yaml"), &python_server("one", &marker));
    write(&dir.path().join("grant.yaml"), &grant("one", "[]"));
    let up = Up::start(dir.path(), state.path());
    up.wait_ready("one");

    let listed = mcp_call(
        &up.url("/one/mcp"),
        "legacy",
        &["X-MCP-Human-ID: dev"],
        &["list"],
    );
    assert_eq!(listed["tools"], serde_json::json!(["add"]), "{}", up.log());
    assert_eq!(denial_of_add(&up, "/one/mcp"), None, "add is granted");

    let edited = Instant::now();
    write(
        &dir.path().join("grant.yaml"),
        &grant("one", "[{name: add, decision: deny}]"),
    );
    let reason = wait_for(
        "the edited grant to deny add",
        Duration::from_secs(2),
        || denial_of_add(&up, "/one/mcp"),
    );
    let took = edited.elapsed();
    assert_eq!(reason, "tool_denied");
    assert!(took < Duration::from_secs(2), "took {took:?}");

    write(&dir.path().join("two.yaml"), &python_server("two", &marker));
    write(&dir.path().join("grant-two.yaml"), &grant("two", "[]"));
    up.wait_ready("two");
    let called = mcp_call(
        &up.url("/two/mcp"),
        "auto",
        &["X-MCP-Human-ID: dev"],
        &["call", "add", r#"{"a": 20, "b": 22}"#],
    );
    assert_eq!(called["text"], serde_json::json!(["42"]), "{}", up.log());
    assert!(!marker.exists());
}

/// Process groups of every process on the machine, by reading /proc.
fn process_groups() -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may contain spaces, so split after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            continue;
        }
        if let Some(group) = fields.get(2).and_then(|g| g.parse().ok()) {
            found.push((pid, group));
        }
    }
    found
}

#[test]
fn a_killed_server_is_restarted_and_ctrl_c_leaves_no_process_behind() {
    let dir = tempfile::tempdir().expect("dir");
    let state = tempfile::tempdir().expect("state");
    let marker = dir.path().join("marker");
    write(&dir.path().join("one.yaml"), &python_server("one", &marker));
    write(&dir.path().join("grant.yaml"), &grant("one", "[]"));
    let mut up = Up::start(dir.path(), state.path());
    let before = up.wait_ready("one");
    let first_pid = before["pid"].as_u64().expect("pid") as i32;
    assert_eq!(before["restarts"], 0);

    Command::new("kill")
        .args(["-KILL", &first_pid.to_string()])
        .status()
        .expect("kill");
    let after = wait_for("a restart", START, || {
        up.server("one")
            .filter(|s| s["phase"] == "Ready" && s["pid"].as_u64() != Some(first_pid as u64))
    });
    assert_eq!(after["restarts"], 1, "{after}");
    assert!(
        after["last_exit"]
            .as_str()
            .is_some_and(|e| e.contains("signal: 9")),
        "{after}"
    );
    let listed = mcp_call(
        &up.url("/one/mcp"),
        "auto",
        &["X-MCP-Human-ID: dev"],
        &["list"],
    );
    assert_eq!(listed["tools"], serde_json::json!(["add"]));

    // Every process group up started (one per server process) must be empty after Ctrl-C.
    let groups: BTreeSet<u32> = [first_pid as u32, after["pid"].as_u64().expect("pid") as u32]
        .into_iter()
        .collect();
    let up_pid = up.child.id();
    Command::new("kill")
        .args(["-INT", &up_pid.to_string()])
        .status()
        .expect("kill -INT");
    let exit = wait_for("up to exit", Duration::from_secs(20), || {
        up.child.try_wait().expect("try_wait")
    });
    assert!(exit.success(), "exit {exit}: {}", up.log());
    let left: Vec<_> = process_groups()
        .into_iter()
        .filter(|(_, group)| groups.contains(group))
        .collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[test]
fn bad_manifests_are_reported_with_file_and_field_and_the_good_ones_run() {
    let dir = tempfile::tempdir().expect("dir");
    let state = tempfile::tempdir().expect("state");
    let marker = dir.path().join("marker");
    write(
        &dir.path().join("good.yaml"),
        &python_server("good", &marker),
    );
    write(&dir.path().join("grant.yaml"), &grant("good", "[]"));
    write(
        &dir.path().join("syntax.yaml"),
        "kind: MCPServer\nmetadata: [unclosed\n",
    );
    write(
        &dir.path().join("unknown.yaml"),
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: typo}\nspec:\n  image: x\n  comand: [x]\n",
    );
    write(
        &dir.path().join("cel.yaml"),
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: stdio-without-command}\nspec:\n  image: x\n  transport: stdio\n",
    );
    write(
        &dir.path().join("zz-duplicate.yaml"),
        &python_server("good", &marker),
    );
    let up = Up::start(dir.path(), state.path());
    up.wait_ready("good");

    let status = up.status();
    let problems: Vec<String> = status["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["source"].as_str().unwrap_or(""),
                p["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    let find = |file: &str| -> String {
        problems
            .iter()
            .find(|p| p.contains(file))
            .unwrap_or_else(|| panic!("no problem reported for {file}: {problems:#?}"))
            .clone()
    };
    assert!(
        find("syntax.yaml").contains("not valid YAML"),
        "{problems:#?}"
    );
    let unknown = find("unknown.yaml");
    assert!(
        unknown.contains("spec") && unknown.contains("comand"),
        "{unknown}"
    );
    let cel = find("cel.yaml");
    assert!(cel.contains("spec.command"), "{cel}");
    let duplicate = find("zz-duplicate.yaml");
    assert!(
        duplicate.contains("metadata.name") && duplicate.contains("good.yaml"),
        "{duplicate}"
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert_eq!(status["servers"].as_array().map(Vec::len), Some(1));

    // `mcp-runtime status` shows the same to a person, and exits 3 because of the problems.
    let output = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(["status", "--url", &up.url("")])
        .output()
        .expect("status");
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{table}");
    assert!(table.contains("good") && table.contains("Ready"), "{table}");
    assert!(table.contains("cel.yaml"), "{table}");
}
