//! `mcp-runtime access simulate`: traffic recorded by a real `up` (its gateway and embedded
//! Sentinel, called by the official Python MCP client), replayed against proposals read from
//! `up`'s embedded store and from the Sentinel's query API.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use support::{http, mcp_call, wait_for, workspace};

struct Up {
    child: Child,
    address: String,
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
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("up | serving on http://") {
                    let _ = address_tx.send(url.to_owned());
                }
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("up said where it serves");
        Up { child, address }
    }

    fn events(&self, query: &str) -> Vec<Value> {
        let (code, body) = http(
            &self.address,
            "GET",
            &format!("/sentinel/api/v1/events?limit=1000&{query}"),
            &[],
            "",
        );
        assert_eq!(code, 200, "{body}");
        let page: Value = serde_json::from_str(&body).expect("events JSON");
        page["events"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(["access", "simulate"])
        .args(args)
        .output()
        .expect("run access simulate")
}

fn report(output: &Output) -> Value {
    assert!(
        output.status.success() || output.status.code() == Some(3),
        "{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    out["report"].clone()
}

fn ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_owned())
        .collect()
}

/// The quickstart with one grant tightened: `note-taker-writes` no longer allows writes.
fn tightened(dir: &Path) {
    for file in ["notes-server.yaml", "grants.yaml"] {
        let text = std::fs::read_to_string(workspace().join("examples/quickstart").join(file))
            .expect("read the quickstart");
        let text = text.replace(
            "  maxTrust: medium\n  allowedSideEffects: [read, write]",
            "  maxTrust: medium\n  allowedSideEffects: [read]",
        );
        std::fs::write(dir.join(file), text).expect("write the proposal");
    }
    let grants = std::fs::read_to_string(dir.join("grants.yaml")).expect("grants");
    assert!(!grants.contains("[read, write]"), "the proposal tightens");
}

#[test]
fn a_tightened_grant_flips_exactly_the_calls_it_no_longer_allows() {
    let live = workspace().join("examples/quickstart");
    let state = tempfile::tempdir().expect("state");
    let up = Up::start(&live, state.path());
    let url = format!("http://{}/notes/mcp", up.address);
    wait_for("notes to answer", Duration::from_secs(60), || {
        let (code, body) = http(&up.address, "GET", "/_up/status", &[], "");
        (code == 200 && body.contains("\"Ready\"")).then_some(())
    });

    // Recorded traffic: two writes by note-taker (allowed by note-taker-writes), reads by
    // note-taker and alice (allowed), a delete by note-taker and a write by alice (denied).
    let note_taker = ["X-MCP-Agent-ID: note-taker"];
    let alice = ["X-MCP-Human-ID: alice"];
    for (headers, tool, arguments) in [
        (&note_taker, "create_note", r#"{"text": "one"}"#),
        (&note_taker, "create_note", r#"{"text": "two"}"#),
        (&note_taker, "list_notes", "{}"),
        (&alice, "echo", r#"{"message": "hi"}"#),
        (&note_taker, "delete_note", r#"{"id": 1}"#),
        (&alice, "create_note", r#"{"text": "three"}"#),
    ] {
        mcp_call(&url, "auto", headers, &["call", tool, arguments]);
    }
    let calls = wait_for("the six calls in Sentinel", Duration::from_secs(10), || {
        let calls: Vec<Value> = up
            .events("server=notes")
            .into_iter()
            .filter(|e| e["payload"]["rpc_method"] == "tools/call")
            .collect();
        (calls.len() == 6).then_some(calls)
    });
    let writes: Vec<Value> = calls
        .iter()
        .filter(|e| {
            e["payload"]["tool_name"] == "create_note" && e["payload"]["agent_id"] == "note-taker"
        })
        .cloned()
        .collect();
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().all(|e| e["payload"]["decision"] == "allow"));

    let proposal = tempfile::tempdir().expect("proposal");
    tightened(proposal.path());
    let proposal = proposal.path().to_str().expect("utf-8 path");
    let state_dir = state.path().to_str().expect("utf-8 path");
    let sentinel_url = format!("http://{}/sentinel", up.address);
    let sources: [[&str; 2]; 2] = [
        ["--state-dir", state_dir],
        ["--sentinel-url", sentinel_url.as_str()],
    ];
    let mut reports = Vec::new();
    for source in sources {
        let args = |extra: &[&'static str]| -> Vec<String> {
            ["-f", proposal, "--since", "1h", "-o", "json"]
                .iter()
                .chain(source.iter())
                .chain(extra.iter())
                .map(|s| (*s).to_owned())
                .collect()
        };
        let run = |extra: &[&'static str]| {
            let args = args(extra);
            simulate(&args.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let output = run(&[]);
        assert_eq!(output.status.code(), Some(0), "{source:?}");
        let tightened = report(&output);
        assert_eq!(tightened["replayed"], 6, "{source:?}: {tightened}");
        assert_eq!(
            (&tightened["new_denies"], &tightened["new_allows"]),
            (&Value::from(2), &Value::from(0)),
            "{tightened}"
        );
        assert_eq!(tightened["unchanged"], 4);
        let changes = tightened["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 1, "{tightened}");
        let group = &changes[0];
        assert_eq!(
            [
                &group["change"],
                &group["namespace"],
                &group["server"],
                &group["tool"],
                &group["agent"],
                &group["recorded_reason"],
                &group["reason"],
                &group["count"],
            ],
            [
                "allow_to_deny",
                "default",
                "notes",
                "create_note",
                "note-taker",
                "allowed",
                "side_effect_not_allowed",
            ]
            .map(Value::from)
            .iter()
            .chain([&Value::from(2)])
            .collect::<Vec<_>>()
            .as_slice()
        );
        // Exactly the two recorded writes flipped.
        let flipped: Vec<Value> = group["examples"].as_array().expect("examples").clone();
        assert_eq!(ids(&flipped), ids(&writes));
        assert!(
            flipped
                .iter()
                .all(|e| e["recorded_grant"] == "default/note-taker-writes"
                    && e["recorded_side_effect"] == "write"),
            "{flipped:?}"
        );

        // CI gates: a new deny fails the run with status 3; there is no new allow.
        let gated = run(&["--fail-on-new-deny"]);
        assert_eq!(gated.status.code(), Some(3), "{source:?}");
        let allow_gate = run(&["--fail-on-new-allow"]);
        assert_eq!(allow_gate.status.code(), Some(0), "{source:?}");

        // The live manifests themselves change nothing.
        let live_args: Vec<String> = ["-f", live.to_str().expect("utf-8"), "--since", "1h"]
            .iter()
            .chain(source.iter())
            .chain(["-o", "json", "--fail-on-new-deny", "--fail-on-new-allow"].iter())
            .map(|s| (*s).to_owned())
            .collect();
        let same = simulate(&live_args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(same.status.code(), Some(0), "{source:?}");
        let same = report(&same);
        assert_eq!(same["replayed"], 6);
        assert_eq!(same["unchanged"], 6, "{same}");
        assert_eq!(same["changes"], serde_json::json!([]));

        reports.push(tightened);
    }
    // The embedded store and the Sentinel's API give the same report.
    assert_eq!(reports[0], reports[1]);

    // The text form, as people read it.
    let output = simulate(&["-f", proposal, "--state-dir", state_dir]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("allow→deny: 2"), "{text}");
    assert!(
        text.contains(
            "default/notes  tool create_note  agent note-taker  allowed → side_effect_not_allowed"
        ),
        "{text}"
    );
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("state");
    let state = state.to_str().expect("utf-8");

    // A proposal with an invalid grant names the file and the field.
    let proposal = dir.path().join("proposal");
    std::fs::create_dir_all(&proposal).expect("proposal");
    for file in ["notes-server.yaml", "grants.yaml"] {
        std::fs::copy(
            workspace().join("examples/quickstart").join(file),
            proposal.join(file),
        )
        .expect("copy");
    }
    let grants = std::fs::read_to_string(proposal.join("grants.yaml")).expect("grants");
    std::fs::write(
        proposal.join("grants.yaml"),
        grants.replace("maxTrust: medium", "maxTrust: absolute"),
    )
    .expect("write");
    let output = simulate(&[
        "-f",
        proposal.to_str().expect("utf-8"),
        "--state-dir",
        state,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("grants.yaml") && stderr.contains("spec.maxTrust"),
        "{stderr}"
    );

    // A missing directory.
    let missing = dir.path().join("nowhere");
    let output = simulate(&["-f", missing.to_str().expect("utf-8"), "--state-dir", state]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");

    let live = workspace().join("examples/quickstart");
    let live = live.to_str().expect("utf-8");
    // No embedded store in the state directory.
    let output = simulate(&["-f", live, "--state-dir", state]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no embedded store at"), "{stderr}");

    // A Sentinel that does not answer.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = closed.local_addr().expect("addr");
    drop(closed);
    let output = simulate(&["-f", live, "--sentinel-url", &format!("http://{address}")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot reach Sentinel"), "{stderr}");

    // A window that is not a duration.
    let output = simulate(&["-f", live, "--state-dir", state, "--since", "a week"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--since \"a week\""), "{stderr}");
}
