//! The tamper-evident audit chain end to end, as processes: `mcp-runtime gateway` (with a signing
//! key) in front of the example server delivers chained events and signed checkpoints to
//! `mcp-runtime sentinel` (SQLite). `mcp-runtime sentinel verify` finds the chain clean, a
//! restarted gateway starts a second chain that verifies on its own, and each tampering with the
//! stored events by direct SQL (an edit, a deletion, a swap) is reported by chain and seq with a
//! non-zero exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use mcp_runtime_peers::free_port;
use mcp_runtime_policy::{Grant, PolicyDocument, SideEffect, Tool, Trust};
use mcp_runtime_testkit::eventually_blocking as wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");
const KEY: &str = "ingest-key-chain";

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(address: &str, head: &str, body: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return (0, String::new());
    };
    let _ = write!(
        stream,
        "{head}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
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

fn get(address: &str, path: &str) -> (u16, String) {
    request(
        address,
        &format!("GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close"),
        "",
    )
}

fn get_json(address: &str, path: &str) -> serde_json::Value {
    let (status, body) = get(address, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// Spawns `command` and waits for the stderr line starting with `prefix`; returns the process
/// and the rest of that line's first word (the address).
fn spawn_announcing(mut command: Command, prefix: &str, what: &str) -> (Process, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{what} exited before listening"))
            .expect("line");
        if let Some(at) = line.find(prefix) {
            let rest = &line[at + prefix.len()..];
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (Process(child), address)
}

fn start_sentinel(port: u16, store: &str, public_key: &Path) -> Process {
    let mut command = Command::new(BIN);
    command
        .arg("sentinel")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("SENTINEL_STORE", store)
        .env("SENTINEL_API_KEYS", KEY)
        .env("SENTINEL_AUDIT_PUBLIC_KEYS", public_key);
    let (process, _) = spawn_announcing(command, "mcp-runtime sentinel listening on ", "sentinel");
    let address = format!("127.0.0.1:{port}");
    wait_for("sentinel /ready", Duration::from_secs(10), || {
        get(&address, "/ready").0 == 200
    });
    process
}

fn write_policy(path: &Path) {
    let mut document = PolicyDocument::default();
    document.server.name = "chained".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("add", SideEffect::Read, Trust::Low));
    document
        .tools
        .push(Tool::new("wipe", SideEffect::Destructive, Trust::High));
    let mut grant = Grant::new("default", "agent-read");
    grant.agent_id = "chain-agent".into();
    grant.max_trust = Trust::Medium.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    std::fs::write(path, document.to_json_pretty().expect("json")).expect("write policy");
}

struct Gateway {
    process: Process,
    address: String,
}

fn start_gateway(dir: &Path, upstream: &str, sentinel: &str) -> Gateway {
    let mut command = Command::new(BIN);
    command
        .arg("gateway")
        .env("PORT", "0")
        .env("METRICS_PORT", "0")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("UPSTREAM_URL", format!("http://{upstream}"))
        .env("POLICY_FILE", dir.join("policy.json"))
        .env("ANALYTICS_INGEST_URL", format!("http://{sentinel}/events"))
        .env("ANALYTICS_API_KEY", KEY)
        .env("AUDIT_SPOOL_DIR", dir.join("spool"))
        .env("AUDIT_SIGNING_KEY_FILE", dir.join("signing.pem"))
        .env("AUDIT_CHECKPOINT_INTERVAL", "1s")
        .env("MCP_SERVER_NAME", "chained")
        .env("MCP_SERVER_NAMESPACE", "default");
    let (process, address) =
        spawn_announcing(command, "mcp-runtime gateway listening on ", "gateway");
    wait_for("gateway /ready", Duration::from_secs(10), || {
        get(&address, "/ready").0 == 200
    });
    Gateway { process, address }
}

impl Gateway {
    /// `calls` requests, every third one denied by policy; each is one audit event.
    fn call(&self, calls: usize) {
        for i in 0..calls {
            let tool = if i % 3 == 2 { "wipe" } else { "add" };
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"{tool}","arguments":{{"a":{i},"b":1}}}}}}"#
            );
            let head = format!(
                "POST /mcp HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nx-mcp-agent-id: chain-agent\r\nx-mcp-human-id: alice",
                self.address
            );
            let (status, reply) = request(&self.address, &head, &body);
            assert_ne!(status, 0, "the gateway answers: {reply}");
        }
    }

    /// SIGTERM, so the gateway signs its chain head before it exits.
    fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.process.0.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let status = self.process.0.wait().expect("wait for the gateway");
        assert!(status.success(), "the gateway exits cleanly: {status}");
    }
}

fn verify(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["sentinel", "verify"])
        .args(args)
        .output()
        .expect("run sentinel verify")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The chains Sentinel reports, once the expected events and final checkpoints are in.
fn settled_chains(sentinel: &str, events: &[i64]) -> Vec<serde_json::Value> {
    let mut chains = Vec::new();
    wait_for(
        "every event and the final checkpoints in Sentinel",
        Duration::from_secs(30),
        || {
            let body = get_json(sentinel, "/api/v1/chains");
            chains = body["chains"].as_array().cloned().unwrap_or_default();
            let mut counts: Vec<i64> = chains
                .iter()
                .filter(|c| c["last_checkpoint"]["seq"] == c["last_seq"])
                .map(|c| c["events"].as_i64().unwrap_or(0))
                .collect();
            counts.sort_unstable();
            let mut want = events.to_vec();
            want.sort_unstable();
            counts == want
        },
    );
    chains
}

/// Copies the SQLite store (database and WAL) so each tampering starts from the clean one.
fn copy_store(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let source = format!("{}{suffix}", from.display());
        if Path::new(&source).exists() {
            std::fs::copy(&source, format!("{}{suffix}", to.display())).expect("copy store");
        }
    }
}

/// The event id and JSON stored for `seq` of `chain`.
fn stored_event(db: &rusqlite::Connection, chain: &str, seq: i64) -> (String, String) {
    db.query_row(
        "SELECT e.event_id, e.event FROM events e JOIN chain_links l ON l.event_id = e.event_id \
         WHERE l.chain_id = ?1 AND l.seq = ?2",
        rusqlite::params![chain, seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("stored event")
}

#[test]
fn a_gateway_chain_verifies_and_every_tampering_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signing = mcp_runtime_audit::Signer::generate_pem().expect("key");
    std::fs::write(dir.path().join("signing.pem"), &signing).expect("write key");
    let public = dir.path().join("signing.pub.pem");
    let signer = mcp_runtime_audit::Signer::from_pem(&signing).expect("signer");
    std::fs::write(&public, signer.public_key_pem()).expect("write public key");
    write_policy(&dir.path().join("policy.json"));

    let mut upstream_command = Command::new(BIN);
    upstream_command.args(["example-server", "--http", "127.0.0.1:0"]);
    let (_upstream, upstream) =
        spawn_announcing(upstream_command, "listening on ", "the example server");
    let sentinel_port = free_port();
    let sentinel = format!("127.0.0.1:{sentinel_port}");
    let db = dir.path().join("sentinel.db");
    let store = format!("sqlite://{}", db.display());
    let sentinel_process = start_sentinel(sentinel_port, &store, &public);

    // Two gateway lifetimes: a restart starts a new chain.
    let gateway = start_gateway(dir.path(), &upstream, &sentinel);
    gateway.call(12);
    gateway.stop();
    let gateway = start_gateway(dir.path(), &upstream, &sentinel);
    gateway.call(5);
    gateway.stop();

    let chains = settled_chains(&sentinel, &[12, 5]);
    for chain in &chains {
        assert_eq!(chain["source"], "chained-gateway");
        assert_eq!(chain["first_seq"], 1, "{chain}");
        assert_eq!(chain["gaps"], 0, "{chain}");
        assert_eq!(chain["mismatches"], 0, "{chain}");
        assert_eq!(chain["last_checkpoint"]["signature"], "valid", "{chain}");
        assert_eq!(chain["last_checkpoint"]["matches_event"], true, "{chain}");
    }
    let first = chains
        .iter()
        .find(|c| c["events"] == 12)
        .expect("the first gateway's chain");
    let first_id = first["chain_id"].as_str().expect("chain id").to_owned();
    let second_id = chains
        .iter()
        .find(|c| c["events"] == 5)
        .and_then(|c| c["chain_id"].as_str())
        .expect("the second gateway's chain")
        .to_owned();
    assert_ne!(first_id, second_id);

    // Clean, through the running Sentinel's API.
    let url = format!("http://{sentinel}");
    let public_arg = public.display().to_string();
    let clean = verify(&["--url", &url, "--public-key", &public_arg, "--since", "1h"]);
    let out = text(&clean);
    assert!(clean.status.success(), "{out}");
    assert!(
        out.contains(&format!(
            "chain {first_id} (chained-gateway): 12 events, seq 1-12, signed up to seq 12: OK"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "chain {second_id} (chained-gateway): 5 events, seq 1-5, signed up to seq 5: OK"
        )),
        "{out}"
    );
    let json = verify(&["--url", &url, "--public-key", &public_arg, "-o", "json"]);
    assert!(json.status.success(), "{}", text(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(report["clean"], true);
    assert_eq!(report["chains"].as_array().map(Vec::len), Some(2));
    drop(sentinel_process);

    // Each tampering on its own copy of the store, verified from the store itself.
    let tamper = |name: &str, edit: &dyn Fn(&rusqlite::Connection)| -> String {
        let copy = dir.path().join(format!("{name}.db"));
        copy_store(&db, &copy);
        let conn = rusqlite::Connection::open(&copy).expect("open copy");
        edit(&conn);
        drop(conn);
        let store = format!("sqlite://{}", copy.display());
        let output = verify(&["--store", &store, "--public-key", &public_arg]);
        let out = text(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {out}");
        assert!(
            out.contains(&format!(
                "chain {second_id} (chained-gateway): 5 events, seq 1-5, signed up to seq 5: OK"
            )),
            "{name}: the other chain stays clean: {out}"
        );
        out
    };

    let edited = tamper("edited", &|conn| {
        let (id, json) = stored_event(conn, &first_id, 4);
        let mut event: serde_json::Value = serde_json::from_str(&json).expect("json");
        event["payload"]["decision"] = "allow".into();
        event["payload"]["status"] = 200.into();
        conn.execute(
            "UPDATE events SET event = ?1 WHERE event_id = ?2",
            rusqlite::params![event.to_string(), id],
        )
        .expect("edit");
    });
    assert!(
        edited.contains(&format!(
            "chain {first_id} (chained-gateway): 12 events, seq 1-12"
        )),
        "{edited}"
    );
    assert!(edited.contains("  seq 4: EDITED"), "{edited}");
    assert_eq!(edited.matches("  seq ").count(), 1, "only seq 4: {edited}");

    let deleted = tamper("deleted", &|conn| {
        let (id, _) = stored_event(conn, &first_id, 7);
        conn.execute("DELETE FROM events WHERE event_id = ?1", [id])
            .expect("delete");
    });
    assert!(deleted.contains("  seq 7: MISSING"), "{deleted}");
    assert_eq!(
        deleted.matches("  seq ").count(),
        1,
        "only seq 7: {deleted}"
    );

    let swapped = tamper("swapped", &|conn| {
        let (id5, json5) = stored_event(conn, &first_id, 5);
        let (id6, json6) = stored_event(conn, &first_id, 6);
        for (id, json) in [(&id5, &json6), (&id6, &json5)] {
            conn.execute(
                "UPDATE events SET event = ?1 WHERE event_id = ?2",
                rusqlite::params![json, id],
            )
            .expect("swap");
        }
    });
    assert!(swapped.contains("  seq 5: REORDERED"), "{swapped}");
    assert!(swapped.contains("  seq 6: REORDERED"), "{swapped}");
    assert_eq!(swapped.matches("  seq ").count(), 2, "{swapped}");

    // A rewrite that also fixes every hash Sentinel recorded is still caught by the signed
    // checkpoint of the head.
    let rewritten = tamper("rewritten", &|conn| {
        let (id, json) = stored_event(conn, &first_id, 12);
        let mut event: serde_json::Value = serde_json::from_str(&json).expect("json");
        event["payload"]["agent_id"] = "someone-else".into();
        let hash = mcp_runtime_audit::chain::event_hash(&event);
        conn.execute(
            "UPDATE events SET event = ?1 WHERE event_id = ?2",
            rusqlite::params![event.to_string(), id],
        )
        .expect("rewrite");
        conn.execute(
            "UPDATE chain_links SET hash = ?1 WHERE event_id = ?2",
            rusqlite::params![hash, id],
        )
        .expect("rewrite the recorded hash");
    });
    assert!(rewritten.contains("  seq 12: EDITED"), "{rewritten}");
    assert!(
        rewritten.contains("checkpoint signed by key"),
        "{rewritten}"
    );
}
