//! Gateway → Sentinel end to end, as processes: the official Python MCP SDK's client calls tools
//! of its server through `mcp-runtime gateway`, which delivers audit events to
//! `mcp-runtime sentinel`. Sentinel is stopped for 30 s while calls continue, then restarted on
//! the same store: every event the gateway emitted arrives exactly once. The CLI verbs
//! `sentinel status` and `sentinel events` read the result.
//!
//! Needs a Python with `mcp==2.3.0`: `.ci/run` creates it at `target/peers/venv`; elsewhere set
//! `MCP_RUNTIME_TEST_PYTHON` to such an interpreter.

use mcp_runtime_policy::{Grant, PolicyDocument, SideEffect, Tool, Trust};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_runtime_peers::{free_port, python, workspace};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");
const KEY: &str = "ingest-key-1";

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

use mcp_runtime_testkit::eventually_blocking as wait_for;

/// A raw HTTP/1.1 GET; returns (status, body). Status 0 when the connection fails.
fn get(address: &str, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return (0, String::new());
    };
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"
    );
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn get_json(address: &str, path: &str) -> serde_json::Value {
    let (status, body) = get(address, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

fn start_sentinel(port: u16, store: &str) -> Process {
    let mut child = Command::new(BIN)
        .arg("sentinel")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("SENTINEL_STORE", store)
        .env("SENTINEL_API_KEYS", KEY)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sentinel");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("sentinel exited before listening")
            .expect("line");
        assert!(
            !line.starts_with("WARNING"),
            "a key is configured, yet: {line}"
        );
        if line.starts_with("mcp-runtime sentinel listening on ") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let address = format!("127.0.0.1:{port}");
    wait_for("sentinel /ready", Duration::from_secs(10), || {
        get(&address, "/ready").0 == 200
    });
    Process(child)
}

fn write_policy(path: &Path) {
    let mut document = PolicyDocument::default();
    document.server.name = "peer-python".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("add", SideEffect::Read, Trust::Low));
    document.tools.push(Tool::new(
        "secret_admin",
        SideEffect::Destructive,
        Trust::High,
    ));
    let mut grant = Grant::new("default", "py-agent-read");
    grant.agent_id = "py-agent".into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    std::fs::write(path, document.to_json_pretty().expect("json")).expect("write policy");
}

/// One run of the Python client: tools/list, add(1, 2) (allowed), secret_admin (denied).
fn client_run(gateway: &str) {
    let output = Command::new(python())
        .arg(workspace().join("tests/peers/python/client.py"))
        .arg(format!("http://{gateway}/mcp"))
        .arg("auto")
        .arg("py-agent")
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("\"add\": [\"3\"]"),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stored_ids(sentinel: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get_json(
            sentinel,
            &format!("/api/v1/events?limit=1000&cursor={cursor}"),
        );
        for event in page["events"].as_array().expect("events") {
            ids.push(event["event_id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return ids,
        }
    }
}

#[test]
fn gateway_events_reach_sentinel_exactly_once_across_a_30_second_outage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("secret_admin_was_called");
    let (_upstream, upstream_port) = mcp_runtime_peers::python_server(&marker);

    let sentinel_port = free_port();
    let sentinel = format!("127.0.0.1:{sentinel_port}");
    let store = format!("sqlite://{}", dir.path().join("sentinel.db").display());
    let mut sentinel_process = Some(start_sentinel(sentinel_port, &store));

    let policy = dir.path().join("policy.json");
    write_policy(&policy);
    let mut gateway_child = Command::new(BIN)
        .arg("gateway")
        .env("PORT", "0")
        .env("METRICS_PORT", "0")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("UPSTREAM_URL", format!("http://127.0.0.1:{upstream_port}"))
        .env("POLICY_FILE", &policy)
        .env("ANALYTICS_INGEST_URL", format!("http://{sentinel}/events"))
        .env("ANALYTICS_API_KEY", KEY)
        .env("AUDIT_SPOOL_DIR", dir.path().join("spool"))
        .env("AUDIT_STDOUT", "true")
        .env("MCP_SERVER_NAME", "peer-python")
        .env("MCP_SERVER_NAMESPACE", "default")
        .env("MCP_CLUSTER_NAME", "e2e")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the gateway");
    // The gateway's own record of what it emitted: its stdout audit lines.
    let emitted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = gateway_child.stdout.take().expect("stdout");
    let sink = emitted.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(id) = event["event_id"].as_str()
            {
                sink.lock().expect("lock").push(id.to_owned());
            }
        }
    });
    let stderr = gateway_child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let gateway = loop {
        let line = lines
            .next()
            .expect("gateway exited before listening")
            .expect("line");
        if let Some(rest) = line.strip_prefix("mcp-runtime gateway listening on ") {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let _gateway = Process(gateway_child);
    wait_for("gateway /ready", Duration::from_secs(10), || {
        get(&gateway, "/ready").0 == 200
    });

    // Phase 1: calls with Sentinel up; their events appear with their fields.
    client_run(&gateway);
    wait_for(
        "the first events in Sentinel",
        Duration::from_secs(20),
        || {
            let page = get_json(&sentinel, "/api/v1/events?tool_name=secret_admin");
            page["count"].as_u64() == Some(1)
        },
    );
    let denied = get_json(&sentinel, "/api/v1/events?tool_name=secret_admin");
    let event = &denied["events"][0];
    assert_eq!(event["source"], "peer-python-gateway");
    assert_eq!(event["event_type"], "mcp.request");
    let payload = &event["payload"];
    assert_eq!(payload["server"], "peer-python");
    assert_eq!(payload["namespace"], "default");
    assert_eq!(payload["cluster"], "e2e");
    assert_eq!(payload["agent_id"], "py-agent");
    assert_eq!(payload["decision"], "deny");
    assert_eq!(payload["reason"], "side_effect_not_allowed");
    assert_eq!(payload["rpc_method"], "tools/call");
    let allowed = get_json(&sentinel, "/api/v1/events?tool_name=add&decision=allow");
    assert_eq!(allowed["count"], 1, "{allowed}");
    assert_eq!(
        allowed["events"][0]["payload"]["matched_grant"],
        "py-agent-read"
    );
    assert_eq!(allowed["events"][0]["payload"]["status"], 200);

    // Phase 2: Sentinel is down for 30 s while calls continue.
    drop(sentinel_process.take());
    assert_eq!(get(&sentinel, "/live").0, 0, "sentinel is down");
    let outage = Instant::now();
    let mut runs_during_outage = 0;
    while outage.elapsed() < Duration::from_secs(30) {
        client_run(&gateway);
        runs_during_outage += 1;
    }
    assert!(runs_during_outage >= 3, "calls continued during the outage");
    let emitted_during_outage = emitted.lock().expect("lock").len();

    // Phase 3: Sentinel restarts on the same store; more calls; everything arrives once.
    sentinel_process = Some(start_sentinel(sentinel_port, &store));
    client_run(&gateway);
    let want: BTreeSet<String> = {
        // Wait until the gateway has printed every event of the last run.
        let mut last = 0;
        wait_for(
            "the gateway's audit output to settle",
            Duration::from_secs(10),
            || {
                let n = emitted.lock().expect("lock").len();
                let settled = n == last && n > emitted_during_outage;
                last = n;
                settled
            },
        );
        emitted.lock().expect("lock").iter().cloned().collect()
    };
    let emitted_total = emitted.lock().expect("lock").len();
    assert_eq!(
        want.len(),
        emitted_total,
        "the gateway's event ids are unique"
    );
    wait_for(
        "every emitted event in Sentinel (the gateway retries with backoff of up to 30 s)",
        Duration::from_secs(120),
        || stored_ids(&sentinel).len() >= want.len(),
    );
    let stored = stored_ids(&sentinel);
    let unique: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "no event is stored twice");
    assert_eq!(unique, want, "Sentinel holds exactly the emitted events");
    let stats = get_json(&sentinel, "/api/v1/stats");
    assert_eq!(stats["total_events"], want.len());
    assert!(!marker.exists(), "a denied call reached the upstream");

    // The CLI verbs against the running Sentinel.
    let url = format!("http://{sentinel}");
    let status = Command::new(BIN)
        .args(["sentinel", "status", "--url", &url])
        .output()
        .expect("sentinel status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(text.contains(": ok (store sqlite"), "{text}");
    assert!(
        text.contains(&format!("events: {} (", want.len())),
        "{text}"
    );
    assert!(text.contains("ingest auth: on"), "{text}");

    let events = Command::new(BIN)
        .args([
            "sentinel",
            "events",
            "--url",
            &url,
            "--agent",
            "py-agent",
            "--decision",
            "deny",
            "--limit",
            "1000",
            "-o",
            "json",
        ])
        .output()
        .expect("sentinel events");
    assert!(
        events.status.success(),
        "{}",
        String::from_utf8_lossy(&events.stderr)
    );
    let page: serde_json::Value = serde_json::from_slice(&events.stdout).expect("json");
    let rows = page["events"].as_array().expect("events");
    assert_eq!(
        rows.len(),
        2 + runs_during_outage,
        "one denied call per client run"
    );
    assert!(rows.iter().all(|e| e["payload"]["decision"] == "deny"));

    let table = Command::new(BIN)
        .args([
            "sentinel", "events", "--url", &url, "--tool", "add", "--limit", "2",
        ])
        .output()
        .expect("sentinel events table");
    let text = String::from_utf8_lossy(&table.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("TIME") && lines[0].contains("DECISION"),
        "{text}"
    );
    assert!(
        lines[1].contains("py-agent") && lines[1].contains(" add "),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&table.stderr).contains("more: --cursor"));

    let refused = Command::new(BIN)
        .args([
            "sentinel",
            "events",
            "--url",
            &url,
            "--since",
            "yesterday-ish",
        ])
        .output()
        .expect("sentinel events bad filter");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("from"));
    drop(sentinel_process);
}

#[test]
fn sentinel_without_keys_warns_loudly_and_status_fails_when_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args([
            "sentinel",
            "--address",
            "127.0.0.1",
            "--port",
            "0",
            "--store",
        ])
        .arg(format!("sqlite://{}", dir.path().join("s.db").display()))
        .env_remove("SENTINEL_API_KEYS")
        .env_remove("INGEST_API_KEYS")
        .env_remove("API_KEYS")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sentinel");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("a line").expect("line");
    let _process = Process(child);
    assert!(
        first.starts_with("WARNING: no ingest API key is configured"),
        "{first}"
    );

    let port = free_port();
    let output = Command::new(BIN)
        .args([
            "sentinel",
            "status",
            "--url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .output()
        .expect("status");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot reach Sentinel"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn sentinel_on_a_network_address_refuses_to_serve_without_keys_unless_told_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let start = |extra: &[&str], ingest_key: Option<&str>| {
        let mut command = Command::new(BIN);
        command
            .args([
                "sentinel",
                "--address",
                "0.0.0.0",
                "--port",
                "0",
                "--store",
                &store,
            ])
            .args(extra)
            .env_remove("SENTINEL_API_KEYS")
            .env_remove("SENTINEL_READ_API_KEYS")
            .env_remove("SENTINEL_INSECURE_OPEN")
            .env_remove("INGEST_API_KEYS")
            .env_remove("API_KEYS")
            .stderr(Stdio::piped());
        if let Some(key) = ingest_key {
            command.env("SENTINEL_API_KEYS", key);
        }
        command
    };
    let refused = start(&[], None).output().expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("refusing to serve ingest (set SENTINEL_API_KEYS) and the query API")
            && message.contains("--insecure-open"),
        "{message}"
    );
    // An ingest key alone: the query API is still open, and named.
    let refused = start(&[], Some("k")).output().expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("refusing to serve the query API and UI (set SENTINEL_READ_API_KEYS)"),
        "{message}"
    );
    // Told so, it serves.
    let mut child = start(&["--insecure-open"], None).spawn().expect("start");
    let stderr = child.stderr.take().expect("stderr");
    let _process = Process(child);
    let listening = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("mcp-runtime sentinel listening on "));
    assert!(listening.is_some(), "--insecure-open serves");
}
