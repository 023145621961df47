//! `mcp-runtime gateway` as a process: configured by the Go sidecar's environment variables,
//! enforcing the policy file and picking up changes to it within a second.

mod support;

use mcp_runtime_policy::{AuthMode, Grant, PolicyDocument, SideEffect, Tool, Trust};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Gateway, spawn_gateway, start_gateway, start_gateway_with};

/// Reads one HTTP/1.1 request from `stream` and returns its body (Content-Length framing).
fn read_body(stream: &TcpStream) -> Vec<u8> {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    body
}

/// A loopback upstream that counts requests and answers every POST with a tool result.
fn upstream() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                read_body(&stream);
                seen.fetch_add(1, Ordering::SeqCst);
                let reply = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}"#;
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
            });
        }
    });
    (format!("http://{address}"), count)
}

fn write_policy(path: &Path, grant_disabled: bool) {
    write_policy_with_auth(path, grant_disabled, AuthMode::Header);
}

/// The test policy with `auth.mode` set to `mode` (and what that mode requires to be valid).
fn write_policy_with_auth(path: &Path, grant_disabled: bool, mode: AuthMode) {
    let mut document = PolicyDocument::default();
    document.auth.mode = mode.into();
    if mode == AuthMode::Oauth {
        document.auth.issuer_url = "https://issuer.example".into();
        document.auth.audience = "files".into();
    }
    if mode == AuthMode::Mtls {
        document.auth.trust_domain = "example.org".into();
    }
    document.server.name = "files".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    let mut grant = Grant::new("default", "claude");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::Low.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    grant.disabled = grant_disabled;
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    support::write_policy_document(path, &document);
}

/// A raw HTTP/1.1 exchange as the test caller (agent `claude`, with a bearer token the gateway
/// must not forward); returns (status, body).
fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    support::http(
        address,
        method,
        path,
        &[
            ("content-type", "application/json"),
            ("x-mcp-agent-id", "claude"),
            ("authorization", "Bearer secret"),
        ],
        body,
    )
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{}}}"#;

#[test]
fn the_gateway_enforces_the_policy_file_and_reloads_it_within_a_second() {
    let (upstream_url, forwarded) = upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy(&policy, false);
    let gateway = start_gateway(&upstream_url, &policy);

    let deadline = Instant::now() + Duration::from_secs(10);
    while http(&gateway.address, "GET", "/ready", "").0 != 200 {
        assert!(Instant::now() < deadline, "the gateway never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = http(&gateway.address, "POST", "/mcp", CALL);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ok\""), "{body}");
    assert_eq!(forwarded.load(Ordering::SeqCst), 1);

    // Disabling the grant takes effect within a second, without a restart.
    write_policy(&policy, true);
    let changed = Instant::now();
    loop {
        let (_, body) = http(&gateway.address, "POST", "/mcp", CALL);
        if body.contains("tool_not_granted") {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "policy change not applied within 1 s: {body}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let after_revocation = forwarded.load(Ordering::SeqCst);

    // A corrupt file keeps the last good policy and reports the error.
    let (_, before) = http(&gateway.address, "GET", "/config/status", "");
    let revision =
        serde_json::from_str::<serde_json::Value>(&before).expect("json")["revision"].clone();
    std::fs::write(&policy, "{ not json").expect("corrupt");
    let corrupted = Instant::now();
    let status = loop {
        let (_, body) = http(&gateway.address, "GET", "/config/status", "");
        let status: serde_json::Value = serde_json::from_str(&body).expect("json");
        if !status["last_reload_error"].is_null() {
            break status;
        }
        assert!(
            corrupted.elapsed() < Duration::from_secs(2),
            "the reload error was not reported: {body}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status["ready"], true);
    assert_eq!(
        status["revision"], revision,
        "the last good policy stays active"
    );
    let (_, body) = http(&gateway.address, "POST", "/mcp", CALL);
    assert!(body.contains("tool_not_granted"), "{body}");
    assert_eq!(
        forwarded.load(Ordering::SeqCst),
        after_revocation,
        "denied calls never reach the upstream"
    );
}

/// A caller who reaches the port with forged governance headers and no token.
fn forged_call(address: &str) -> (u16, String) {
    support::http(
        address,
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("x-mcp-human-id", "admin@example.com"),
            ("x-mcp-agent-id", "claude"),
        ],
        CALL,
    )
}

/// Polls `check` until it holds, for at most `within` (the reload time being tested).
fn within(what: &str, within: Duration, mut check: impl FnMut() -> Option<String>) {
    let started = Instant::now();
    loop {
        let Some(last) = check() else { return };
        assert!(
            started.elapsed() < within,
            "{what} not within {within:?}: {last}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn oauth_refuses_forged_identity_and_mtls_without_tls_files_fails_closed() {
    // oauth: the policy decides; forged headers and no token: 401 missing_bearer_token.
    {
        let (upstream_url, forwarded) = upstream();
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = dir.path().join("policy.json");
        write_policy_with_auth(&policy, false, AuthMode::Oauth);
        let gateway = start_gateway(&upstream_url, &policy);
        wait_ready(&gateway);
        let (status, body) = forged_call(&gateway.address);
        assert_eq!(status, 401, "oauth: {body}");
        assert!(body.contains("missing_bearer_token"), "oauth: {body}");
        assert_eq!(
            forwarded.load(Ordering::SeqCst),
            0,
            "oauth: nothing forwarded"
        );
    }
    let mode = AuthMode::Mtls;
    {
        let (upstream_url, forwarded) = upstream();
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = dir.path().join("policy.json");
        write_policy_with_auth(&policy, false, mode);
        // No AUTH_MODE: the policy decides, as for the Go sidecar. No TLS_* files: the gateway
        // serves plain HTTP, where no caller can be identified by a certificate.
        let gateway = start_gateway(&upstream_url, &policy);
        within(
            "/ready 503 auth_mode_unavailable",
            Duration::from_secs(10),
            || {
                let (status, body) = http(&gateway.address, "GET", "/ready", "");
                (status != 503 || !body.contains("auth_mode_unavailable"))
                    .then(|| format!("{status} {body}"))
            },
        );
        let (status, body) = forged_call(&gateway.address);
        assert_eq!(status, 503, "{mode:?}: {body}");
        assert!(body.contains("auth_mode_unavailable"), "{mode:?}: {body}");
        assert_eq!(
            forwarded.load(Ordering::SeqCst),
            0,
            "{mode:?}: nothing forwarded"
        );
    }
}

/// `policy` in `mtls` mode with the session `alice-claude` (agent `claude`, namespace
/// `default`) and, when `revoked`, that session revoked.
fn write_mtls_policy(path: &Path, revoked: bool) {
    let mut document = PolicyDocument::default();
    document.auth.mode = AuthMode::Mtls.into();
    document.auth.trust_domain = "example.org".into();
    document.server.name = "files".into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    let mut grant = Grant::new("default", "claude");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::Low.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    let mut session = mcp_runtime_policy::SessionBinding::new("default", "alice-claude");
    session.agent_id = "claude".into();
    session.revoked = revoked;
    document.sessions.push(session);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    support::write_policy_document(path, &document);
}

/// The gateway binary with MR's sidecar variables for mtls (TLS_CERT_FILE, TLS_KEY_FILE,
/// TLS_CLIENT_CA_FILE): HTTPS, the caller is the session of its certificate's SPIFFE ID, forged
/// headers are ignored, a revocation in the policy file applies to the next request.
#[test]
fn the_gateway_serves_mtls_with_mr_sidecar_variables() {
    let (upstream_url, forwarded) = upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_mtls_policy(&policy, false);
    let ca = support::TestCa::new("mesh");
    let [cert, key, client_ca] = ca.write_server_files(dir.path());
    let gateway = start_gateway_with(
        &upstream_url,
        &policy,
        &[
            ("TLS_CERT_FILE", cert.display().to_string()),
            ("TLS_KEY_FILE", key.display().to_string()),
            ("TLS_CLIENT_CA_FILE", client_ca.display().to_string()),
        ],
    );
    let alice = ca.client(
        0x5e55,
        "spiffe://example.org/ns/default/session/alice-claude",
    );
    let as_alice = ca.client_config(Some(&alice));
    let forged = [
        ("content-type", "application/json"),
        ("x-mcp-agent-id", "admin-bot"),
        ("x-mcp-human-id", "root"),
    ];
    let call = |tls: &Arc<rustls::ClientConfig>| {
        support::https(&gateway.address, tls, "POST", "/mcp", &forged, CALL)
    };
    let (status, _, body) = call(&as_alice).expect("exchange");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ok\""), "{body}");
    assert_eq!(forwarded.load(Ordering::SeqCst), 1);

    // Plain HTTP on the TLS port is not served.
    let mut plain = TcpStream::connect(&gateway.address).expect("connect");
    let _ = write!(
        plain,
        "POST /mcp HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n{CALL}",
        CALL.len()
    );
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP gets no HTTP answer: {}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(forwarded.load(Ordering::SeqCst), 1);
    // No client certificate: 401 missing_client_certificate.
    let (status, _, body) = call(&ca.client_config(None)).expect("exchange");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("missing_client_certificate"), "{body}");

    // Revoked in the policy file: refused from the next request on.
    write_mtls_policy(&policy, true);
    within("the revocation", Duration::from_secs(2), || {
        let (status, _, body) = call(&as_alice).expect("exchange");
        (status != 401 || !body.contains("session_revoked")).then(|| format!("{status} {body}"))
    });
    // Calls made before the reload landed were forwarded; none after it.
    let before = forwarded.load(Ordering::SeqCst);
    let (status, _, body) = call(&as_alice).expect("exchange");
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        forwarded.load(Ordering::SeqCst),
        before,
        "nothing forwarded after the revocation"
    );
}

#[test]
fn a_reload_that_changes_the_auth_mode_flips_enforcement_both_ways() {
    let (upstream_url, forwarded) = upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy_with_auth(&policy, false, AuthMode::Header);
    let gateway = start_gateway(&upstream_url, &policy);
    wait_ready(&gateway);
    assert_eq!(http(&gateway.address, "POST", "/mcp", CALL).0, 200);
    assert_eq!(forwarded.load(Ordering::SeqCst), 1);

    write_policy_with_auth(&policy, false, AuthMode::Mtls);
    within("header -> mtls", Duration::from_secs(1), || {
        let (status, body) = http(&gateway.address, "POST", "/mcp", CALL);
        (status != 503).then(|| format!("{status} {body}"))
    });
    // Calls made before the reload landed were forwarded; none after it.
    let before = forwarded.load(Ordering::SeqCst);
    let (status, body) = http(&gateway.address, "POST", "/mcp", CALL);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("auth_mode_unavailable"), "{body}");
    assert_eq!(
        forwarded.load(Ordering::SeqCst),
        before,
        "nothing forwarded in mtls mode"
    );
    assert_eq!(http(&gateway.address, "GET", "/ready", "").0, 503);

    // To oauth: the header identity the caller sends no longer counts (its token is no JWT).
    write_policy_with_auth(&policy, false, AuthMode::Oauth);
    within("mtls -> oauth", Duration::from_secs(1), || {
        let (status, body) = http(&gateway.address, "POST", "/mcp", CALL);
        (status != 401).then(|| format!("{status} {body}"))
    });
    assert_eq!(
        forwarded.load(Ordering::SeqCst),
        before,
        "nothing forwarded in oauth mode"
    );

    write_policy_with_auth(&policy, false, AuthMode::Header);
    within("oauth -> header", Duration::from_secs(1), || {
        let (status, body) = http(&gateway.address, "POST", "/mcp", CALL);
        (status != 200).then(|| format!("{status} {body}"))
    });
    assert_eq!(http(&gateway.address, "GET", "/ready", "").0, 200);
}

#[test]
fn auth_mode_that_disagrees_with_the_policy_is_a_startup_error() {
    let (upstream_url, forwarded) = upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy_with_auth(&policy, false, AuthMode::Oauth);
    let output = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .arg("gateway")
        .env("AUTH_MODE", "header")
        .env("PORT", "0")
        .env("METRICS_PORT", "0")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("UPSTREAM_URL", &upstream_url)
        .env("POLICY_FILE", &policy)
        .output()
        .expect("run the gateway");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused to start: {stderr}");
    assert!(
        stderr.contains("\"oauth\"")
            && stderr.contains("\"header\"")
            && stderr.contains("AUTH_MODE"),
        "names both values: {stderr}"
    );
    assert_eq!(forwarded.load(Ordering::SeqCst), 0);

    // Agreeing is fine: the gateway starts, and refuses the caller's forged identity.
    let gateway = start_gateway_with(&upstream_url, &policy, &[("AUTH_MODE", "oauth".into())]);
    assert_eq!(forged_call(&gateway.address).0, 401);
    assert_eq!(forwarded.load(Ordering::SeqCst), 0);
}

/// An audit ingest on a fixed port that collects the `event_id`s of every POSTed batch.
/// An ingest that keeps every event it receives.
fn ingest(listener: TcpListener, received: Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let body = read_body(&stream);
            if let Ok(serde_json::Value::Array(events)) = serde_json::from_slice(&body) {
                received.lock().expect("lock").extend(events);
            }
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
}

/// A gateway's audit set-up with the ingest down: the policy, a reserved (closed) ingest
/// address and the gateway's environment pointing at it, with a spool in `dir`.
struct AuditSetup {
    upstream_url: String,
    dir: tempfile::TempDir,
    policy: std::path::PathBuf,
    ingest_address: std::net::SocketAddr,
    env: Vec<(&'static str, String)>,
}

fn audit_setup() -> AuditSetup {
    let (upstream_url, _) = upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy(&policy, false);
    // Reserve a port for the ingest, then leave it closed: the ingest is down.
    let ingest_address = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let env = vec![
        (
            "ANALYTICS_INGEST_URL",
            format!("http://{ingest_address}/events"),
        ),
        (
            "AUDIT_SPOOL_DIR",
            dir.path().join("spool").display().to_string(),
        ),
        ("MCP_SERVER_NAME", "files".to_owned()),
    ];
    AuditSetup {
        upstream_url,
        dir,
        policy,
        ingest_address,
        env,
    }
}

#[test]
fn audit_events_survive_an_ingest_outage_and_arrive_once_after_dedup() {
    let AuditSetup {
        upstream_url,
        dir,
        policy,
        ingest_address,
        env,
    } = audit_setup();
    let gateway = start_gateway_with(&upstream_url, &policy, &env);
    wait_ready(&gateway);
    let calls = 40;
    for _ in 0..calls {
        assert_eq!(http(&gateway.address, "POST", "/mcp", CALL).0, 200);
    }
    // Wait until delivery has failed and the events sit in the disk spool: the outage is real.
    let spool = dir.path().join("spool");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0) == 0 {
        assert!(
            Instant::now() < deadline,
            "no events were spooled while the ingest was down"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The ingest comes back on the same address.
    let ids = Arc::new(std::sync::Mutex::new(Vec::new()));
    ingest(
        TcpListener::bind(ingest_address).expect("rebind the ingest port"),
        ids.clone(),
    );
    wait_for_events(&ids, calls);
    let (_, metrics) = http(&gateway.address, "GET", "/metrics", "");
    assert!(
        metrics.contains("mcp_gateway_audit_dropped_events_total 0"),
        "nothing was dropped, and the metric says so: {metrics}"
    );
}

fn wait_ready(gateway: &Gateway) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while http(&gateway.address, "GET", "/ready", "").0 != 200 {
        assert!(Instant::now() < deadline, "the gateway never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the ingest has received exactly `calls` distinct events.
fn wait_for_events(received: &std::sync::Mutex<Vec<serde_json::Value>>, calls: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let unique: std::collections::BTreeSet<String> = received
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|e| e["event_id"].as_str().map(str::to_owned))
            .collect();
        if unique.len() == calls {
            break;
        }
        assert!(unique.len() < calls, "more distinct events than calls");
        assert!(
            Instant::now() < deadline,
            "only {} of {calls} events arrived after the outage",
            unique.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_keeps_queued_audit_events_for_the_next_gateway() {
    let AuditSetup {
        upstream_url,
        dir: _dir,
        policy,
        ingest_address,
        env,
    } = audit_setup();
    let mut gateway = start_gateway_with(&upstream_url, &policy, &env);
    wait_ready(&gateway);
    let calls = 25;
    for _ in 0..calls {
        assert_eq!(http(&gateway.address, "POST", "/mcp", CALL).0, 200);
    }
    // SIGTERM (what Kubernetes sends) right away, while events may still be queued in memory.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(gateway.child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = gateway.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the gateway ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "the gateway shuts down cleanly on SIGTERM: {status}"
    );
    // The next gateway on the same spool delivers every event once the ingest is up.
    let ids = Arc::new(std::sync::Mutex::new(Vec::new()));
    ingest(
        TcpListener::bind(ingest_address).expect("bind the ingest port"),
        ids.clone(),
    );
    let _next = start_gateway_with(&upstream_url, &policy, &env);
    wait_for_events(&ids, calls);
}

/// Open-file limit of the gateway in the descriptor-exhaustion test: a few dozen descriptors
/// are its own (listener, epoll, policy watch…), the rest go to connections.
const LOW_NOFILE: u32 = 64;

/// `GET path` on a keep-alive connection; returns (status, body).
fn keep_alive_get(stream: &mut TcpStream, path: &str) -> (u16, String) {
    write!(stream, "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").expect("send");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `mcp_gateway_accept_errors_total` in a metrics exposition.
fn accept_errors(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("mcp_gateway_accept_errors_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no accept error counter in {metrics}"))
}

#[test]
fn running_out_of_file_descriptors_pauses_the_gateway_and_it_serves_again() {
    let (upstream_url, forwarded) = upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy(&policy, false);
    // The shell lowers the limit, then becomes the gateway (same process, same pid).
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {LOW_NOFILE} && exec \"$0\" gateway"))
        .arg(env!("CARGO_BIN_EXE_mcp-runtime"));
    let mut gateway = spawn_gateway(command, &upstream_url, &policy, &[]);
    wait_ready(&gateway);
    let pid = gateway.child.id();

    // A connection opened before the exhaustion keeps being served throughout.
    let mut probe = TcpStream::connect(&gateway.address).expect("probe");
    probe
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let (status, metrics) = keep_alive_get(&mut probe, "/metrics");
    assert_eq!(status, 200, "{metrics}");
    assert_eq!(accept_errors(&metrics), 0, "{metrics}");

    // More connections than the gateway has descriptors for: it accepts until it runs out; the
    // rest wait in the kernel's backlog.
    let held: Vec<TcpStream> = (0..LOW_NOFILE + 16)
        .map(|_| TcpStream::connect(&gateway.address).expect("connect"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let errors = loop {
        let (status, metrics) = keep_alive_get(&mut probe, "/metrics");
        assert_eq!(
            status, 200,
            "the probe connection is still served: {metrics}"
        );
        let errors = accept_errors(&metrics);
        if errors > 0 {
            break errors;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway never failed to accept"
        );
        std::thread::sleep(Duration::from_millis(20));
    };

    // While saturated a new connection is not served. (Proving that something does not happen
    // takes a bounded wait: a reply would come within microseconds on loopback.)
    let mut late = TcpStream::connect(&gateway.address).expect("connect while saturated");
    write!(
        late,
        "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    )
    .expect("send while saturated");
    late.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut byte = [0_u8; 1];
    let unserved = late.read(&mut byte);
    assert!(
        unserved.as_ref().is_err_and(|e| matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        "a connection was served while the gateway had no descriptors left: {unserved:?}"
    );
    assert!(
        gateway.child.try_wait().expect("wait").is_none(),
        "the gateway exited"
    );

    // Once the held connections close, the same process accepts again: the waiting
    // connection is served, then new ones, and the policy is still enforced.
    drop(held);
    late.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut answer = String::new();
    late.read_to_string(&mut answer)
        .expect("the waiting connection is served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(http(&gateway.address, "GET", "/health", "").0, 200);
    let before = forwarded.load(Ordering::SeqCst);
    assert_eq!(http(&gateway.address, "POST", "/mcp", CALL).0, 200);
    assert_eq!(forwarded.load(Ordering::SeqCst), before + 1);
    let (status, metrics) = http(&gateway.address, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(accept_errors(&metrics) >= errors, "{metrics}");
    assert!(
        gateway.child.try_wait().expect("wait").is_none(),
        "the gateway exited"
    );
    assert_eq!(gateway.child.id(), pid);
}

/// An upstream that takes each request and then does what `behave` says with its body and the
/// connection.
fn misbehaving_upstream(behave: fn(&[u8], TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let body = read_body(&stream);
                behave(&body, stream);
            });
        }
    });
    format!("http://{address}")
}

#[test]
fn an_upstream_that_hangs_gets_the_caller_a_504_and_an_audit_event() {
    // Takes the request, never answers, keeps the connection open.
    let upstream = misbehaving_upstream(|_, stream| {
        std::thread::sleep(Duration::from_secs(30));
        drop(stream);
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy(&policy, false);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let ingest_url = format!("http://{}/events", listener.local_addr().expect("addr"));
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    ingest(listener, received.clone());
    let gateway = start_gateway_with(
        &upstream,
        &policy,
        &[
            ("UPSTREAM_TIMEOUT", "1s".to_owned()),
            ("ANALYTICS_INGEST_URL", ingest_url),
            (
                "AUDIT_SPOOL_DIR",
                dir.path().join("spool").display().to_string(),
            ),
        ],
    );
    let started = Instant::now();
    let (status, body) = http(&gateway.address, "POST", "/mcp", CALL);
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("upstream_timeout"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout ended the wait: {:?}",
        started.elapsed()
    );
    wait_for_events(&received, 1);
    let event = received.lock().expect("lock")[0].clone();
    assert_eq!(event["payload"]["status"], 504, "{event}");
    assert_eq!(event["payload"]["tool_name"], "read_file", "{event}");
    // The gateway still serves the next caller.
    let (status, _) = http(&gateway.address, "GET", "/health", "");
    assert_eq!(status, 200);
}

/// Set by the test once the dying stream has ended at its caller: the surviving stream's upstream
/// waits for it before sending the rest of its events (only the mid-stream test uses it).
static SURVIVOR_MAY_GO_ON: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Writes one SSE progress event as one chunk of a chunked body.
fn progress_chunk(stream: &mut TcpStream, progress: u32) -> std::io::Result<()> {
    let event = format!(
        "event: message\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{{\"progress\":{progress}}}}}\n\n"
    );
    write!(stream, "{:x}\r\n{event}\r\n", event.len())?;
    stream.flush()
}

/// Sends a `tools/call` with JSON-RPC id `id` that accepts SSE, on a connection of its own.
fn open_stream(address: &str, id: &str) -> TcpStream {
    let call = CALL.replace(r#""id":1"#, &format!(r#""id":"{id}""#));
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nx-mcp-agent-id: claude\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{call}",
        call.len()
    )
    .expect("send");
    stream
}

#[test]
fn an_upstream_dying_mid_stream_ends_that_stream_only() {
    // Two streams through one gateway. The "dying" one sends one event and dies (its chunked
    // body never terminated); the "survivor" sends one event, waits until the dying stream has
    // ended at its caller, then sends two more and ends cleanly.
    let upstream = misbehaving_upstream(|body, mut stream| {
        let survivor = String::from_utf8_lossy(body).contains(r#""id":"survivor""#);
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() || progress_chunk(&mut stream, 1).is_err() {
            return;
        }
        if survivor {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !SURVIVOR_MAY_GO_ON.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = progress_chunk(&mut stream, 2)
                .and_then(|()| progress_chunk(&mut stream, 3))
                .and_then(|()| stream.write_all(b"0\r\n\r\n"));
        } else {
            std::thread::sleep(Duration::from_millis(200));
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.json");
    write_policy(&policy, false);
    let gateway = start_gateway(&upstream, &policy);

    // The survivor is open and has delivered its first event before the other stream starts.
    let mut survivor = open_stream(&gateway.address, "survivor");
    let mut survived = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !String::from_utf8_lossy(&survived).contains(r#""progress":1"#) {
        let n = survivor
            .read(&mut buffer)
            .expect("the survivor's first event");
        assert!(
            n > 0,
            "the survivor ended early: {}",
            String::from_utf8_lossy(&survived)
        );
        survived.extend_from_slice(&buffer[..n]);
    }

    let started = Instant::now();
    let mut dying = open_stream(&gateway.address, "dying");
    let mut received = Vec::new();
    // Ends (EOF or a reset), never the 20 s read timeout.
    let ended = dying.read_to_end(&mut received);
    let text = String::from_utf8_lossy(&received);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the caller's stream ended when the upstream died ({ended:?} after {:?}): {text}",
        started.elapsed()
    );
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("notifications/progress"),
        "the event before the death: {text}"
    );
    assert!(
        !text.ends_with("0\r\n\r\n"),
        "a stream cut short must not look complete to its caller: {text}"
    );

    // The other stream is unaffected: it goes on, receives the rest and ends cleanly.
    SURVIVOR_MAY_GO_ON.store(true, Ordering::SeqCst);
    survivor
        .read_to_end(&mut survived)
        .expect("the survivor ends cleanly");
    let survived = String::from_utf8_lossy(&survived);
    assert!(survived.starts_with("HTTP/1.1 200"), "{survived}");
    for progress in 1..=3 {
        assert!(
            survived.contains(&format!(r#""progress":{progress}"#)),
            "the survivor's event {progress}: {survived}"
        );
    }
    assert!(
        survived.ends_with("0\r\n\r\n"),
        "the survivor's body is terminated: {survived}"
    );
    // And new callers are served.
    let (status, _) = http(&gateway.address, "GET", "/health", "");
    assert_eq!(status, 200);
}
