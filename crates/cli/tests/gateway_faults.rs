//! Faults the gateway must survive, with the real binaries: `mcp-runtime gateway` in front of
//! `mcp-runtime example-server` (rmcp), observed only through their HTTP surfaces.
//!
//! - a corrupt, truncated or empty policy file: the last good policy stays active and the
//!   failed reload shows in `/metrics` and `/config/status`;
//! - `mcp-runtime sentinel` killed for a minute under load and restarted on the same store: no
//!   audit event lost, each gateway's events stored in the order they were emitted, and a
//!   bounded spool that overflows counts every event it dropped;
//! - more request bodies at once than `MAX_CONCURRENT_BODIES`: the next one is refused at once
//!   with 503 and `Retry-After`, and calls go through again once the bodies are done.

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

/// Sentinel's ingest key in the outage test.
const SENTINEL_KEY: &str = "outage-ingest-key";

/// `mcp-runtime sentinel` on `port` of 127.0.0.1 with the SQLite store `db`, once ready.
fn start_sentinel(port: u16, db: &Path) -> Process {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-runtime"));
    command
        .arg("sentinel")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("SENTINEL_STORE", format!("sqlite://{}", db.display()))
        .env("SENTINEL_API_KEYS", SENTINEL_KEY)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    let (child, _) = spawn_announcing(
        command,
        "mcp-runtime sentinel listening on ",
        "the sentinel",
    );
    let address = format!("127.0.0.1:{port}");
    wait_for("sentinel /ready", Duration::from_secs(10), || {
        support::http(&address, "GET", "/ready", &[], "").0 == 200
    });
    Process(child)
}

/// A gateway whose audit events go to the Sentinel on `sentinel_port`, spooled in `spool`
/// bounded by `spool_max_bytes`; its events carry the source `<name>-gateway`.
fn audited_gateway(
    upstream: &str,
    policy: &Path,
    name: &str,
    sentinel_port: u16,
    spool: &Path,
    spool_max_bytes: u64,
) -> Gateway {
    let gateway = support::start_gateway_with(
        upstream,
        policy,
        &[
            (
                "ANALYTICS_INGEST_URL",
                format!("http://127.0.0.1:{sentinel_port}/events"),
            ),
            ("ANALYTICS_API_KEY", SENTINEL_KEY.to_owned()),
            ("AUDIT_SPOOL_DIR", spool.display().to_string()),
            ("AUDIT_SPOOL_MAX_BYTES", spool_max_bytes.to_string()),
            ("MCP_SERVER_NAME", name.to_owned()),
        ],
    );
    wait_for("the gateway to be ready", Duration::from_secs(10), || {
        support::http(&gateway.address, "GET", "/ready", &[], "").0 == 200
    });
    gateway
}

/// Calls `add` through a gateway one after another (so each call's audit event is emitted
/// after the previous one's) at about 20 a second until stopped; returns how many were made.
/// Every call must succeed: the audit trail being down never stops the gateway.
fn steady_calls(
    gateway: &Gateway,
    stop: &std::sync::atomic::AtomicBool,
    made: &std::sync::atomic::AtomicU64,
) {
    use std::sync::atomic::Ordering;
    while !stop.load(Ordering::Relaxed) {
        let (status, body) = call_add(gateway);
        assert_eq!(status, 200, "{body}");
        made.fetch_add(1, Ordering::Relaxed);
        // Pacing of the load, not a wait for a condition.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stored events of `source` in Sentinel's database, in the order Sentinel stored them:
/// their emission timestamps (nanoseconds).
fn stored_timestamps(db: &Path, source: &str) -> Vec<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open sentinel's database");
    let mut statement = conn
        .prepare("SELECT ts FROM events WHERE source = ?1 ORDER BY seq")
        .expect("prepare");
    statement
        .query_map([source], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn audit_dropped(gateway: &Gateway) -> u64 {
    sample(
        &get(gateway, "/metrics"),
        "mcp_gateway_audit_dropped_events_total",
    )
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Length of Sentinel's outage: a deliberate fault window, not a wait for a condition.
const OUTAGE: Duration = Duration::from_secs(60);
/// The bounded spool of the second gateway: room for some events, far fewer than an outage's.
const TIGHT_SPOOL_BYTES: u64 = 64 * 1024;

#[test]
fn sentinel_down_for_a_minute_under_load_loses_no_audit_event_and_delivers_in_order() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let (_upstream, upstream_url) = example_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy_path = dir.path().join("policy.json");
    write_policy(&policy_path, &policy(false));
    let db = dir.path().join("sentinel.db");
    // A free port for Sentinel, which comes back on the same address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut sentinel = Some(start_sentinel(port, &db));
    // Two gateways in the same outage: one with the default spool (64 MiB), one with a spool
    // far smaller than the outage's events.
    let roomy_spool = dir.path().join("spool-roomy");
    let tight_spool = dir.path().join("spool-tight");
    let roomy = audited_gateway(
        &upstream_url,
        &policy_path,
        "roomy",
        port,
        &roomy_spool,
        64 * 1024 * 1024,
    );
    let tight = audited_gateway(
        &upstream_url,
        &policy_path,
        "tight",
        port,
        &tight_spool,
        TIGHT_SPOOL_BYTES,
    );

    let stop = AtomicBool::new(false);
    let (roomy_calls, tight_calls) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|scope| {
        scope.spawn(|| steady_calls(&roomy, &stop, &roomy_calls));
        scope.spawn(|| steady_calls(&tight, &stop, &tight_calls));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_for(
                "events stored before the outage",
                Duration::from_secs(20),
                || {
                    !stored_timestamps(&db, "roomy-gateway").is_empty()
                        && !stored_timestamps(&db, "tight-gateway").is_empty()
                },
            );

            // Sentinel dies (SIGKILL: no goodbye) and stays down for the whole window.
            drop(sentinel.take());
            let before_outage = tight_calls.load(Ordering::Relaxed);
            std::thread::sleep(OUTAGE);
            assert!(
                tight_calls.load(Ordering::Relaxed) - before_outage > 600,
                "the load kept going through the outage"
            );
            // The tight spool overflowed, stayed within its bound, and says so in its metric;
            // the roomy one dropped nothing.
            assert!(audit_dropped(&tight) > 0, "the tight spool overflowed");
            assert!(
                dir_bytes(&tight_spool) <= TIGHT_SPOOL_BYTES,
                "the spool stays within its bound: {} bytes",
                dir_bytes(&tight_spool)
            );
            assert_eq!(audit_dropped(&roomy), 0);
            assert!(dir_bytes(&roomy_spool) > TIGHT_SPOOL_BYTES);

            // Sentinel returns on the same address and store; the load goes on until events
            // emitted after its return have arrived too.
            sentinel = Some(start_sentinel(port, &db));
            let calls_at_return = roomy_calls.load(Ordering::Relaxed);
            // The sink's retry backoff may have grown to 30 s during the outage.
            wait_for(
                "events emitted after the return stored",
                Duration::from_secs(60),
                || stored_timestamps(&db, "roomy-gateway").len() as u64 > calls_at_return,
            );
        }));
        stop.store(true, Ordering::Relaxed);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    });

    // Every call of the roomy gateway is in Sentinel exactly once; the tight one's are either
    // stored or counted as dropped.
    let roomy_calls = roomy_calls.load(Ordering::Relaxed);
    let tight_calls = tight_calls.load(Ordering::Relaxed);
    let roomy_stored = wait_for(
        "the roomy gateway's events",
        Duration::from_secs(60),
        || {
            let stored = stored_timestamps(&db, "roomy-gateway");
            (stored.len() as u64 == roomy_calls).then_some(stored)
        },
    );
    let dropped = audit_dropped(&tight);
    let tight_stored = wait_for(
        "the tight gateway's events",
        Duration::from_secs(60),
        || {
            let stored = stored_timestamps(&db, "tight-gateway");
            (stored.len() as u64 + dropped == tight_calls).then_some(stored)
        },
    );
    eprintln!(
        "roomy gateway: {roomy_calls} calls, {} events stored; tight gateway: {tight_calls} calls, {} stored, {dropped} dropped (counted)",
        roomy_stored.len(),
        tight_stored.len()
    );
    assert_eq!(audit_dropped(&roomy), 0);
    assert!(dropped > 0 && tight_stored.len() as u64 > TIGHT_SPOOL_BYTES / 2048);
    // Delivered in the order they were emitted: each gateway's calls were sequential, so the
    // emission timestamps rise in the order Sentinel stored the events.
    for (name, stored) in [("roomy", &roomy_stored), ("tight", &tight_stored)] {
        if let Some(at) = stored.windows(2).position(|w| w[0] >= w[1]) {
            panic!("{name}: event {} arrived before an older one", at + 1);
        }
    }
    // Both spools are empty again.
    assert_eq!(dir_bytes(&roomy_spool), 0);
    assert_eq!(dir_bytes(&tight_spool), 0);
    drop(sentinel);
}

/// `tools/call add` on a fresh connection; returns (status, response head, body).
fn call_add_with_head(gateway: &Gateway) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(&gateway.address).expect("connect");
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: add\r\nx-mcp-agent-id: {AGENT}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ADD}",
        gateway.address,
        ADD.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn reading_more_bodies_at_once_than_the_limit_answers_503_with_retry_after() {
    use std::io::Write;
    let (_upstream, upstream_url) = example_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.json");
    write_policy(&path, &policy(false));
    let gateway = support::start_gateway_with(
        &upstream_url,
        &path,
        &[("MAX_CONCURRENT_BODIES", "2".into())],
    );
    wait_for("the gateway to be ready", Duration::from_secs(10), || {
        support::http(&gateway.address, "GET", "/ready", &[], "").0 == 200
    });

    // Two slow callers announce a body and send only its first byte: each holds a permit.
    let slow: Vec<std::net::TcpStream> = (0..2)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&gateway.address).expect("connect");
            write!(
                stream,
                "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\nx-mcp-agent-id: {AGENT}\r\ncontent-length: {}\r\n\r\n{{",
                gateway.address,
                ADD.len()
            )
            .expect("send the start of a body");
            stream
        })
        .collect();
    // Once both are being read, a third body is refused at once.
    let (status, head, body) = wait_for("a refused body", Duration::from_secs(10), || {
        let reply = call_add_with_head(&gateway);
        (reply.0 == 503).then_some(reply)
    });
    assert_eq!(status, 503);
    assert!(head.contains("\r\nretry-after: 1"), "{head}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("JSON-RPC error");
    assert_eq!(error["error"]["code"], -32603, "{body}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("too many request bodies"),
        "{body}"
    );
    // The refusal is counted like any answered request.
    let metrics = get(&gateway, "/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("mcp_gateway_requests_total{") && l.contains("status=\"503\"")),
        "{metrics}"
    );
    // The slow callers give up: their permits return, and calls go through again.
    drop(slow);
    wait_for("a call served again", Duration::from_secs(10), || {
        call_add_with_head(&gateway).0 == 200
    });
    let (status, _, body) = call_add_with_head(&gateway);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""text":"3""#), "{body}");
}
