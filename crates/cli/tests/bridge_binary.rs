//! `mcp-runtime bridge` as a process in front of a real stdio MCP server
//! (`@modelcontextprotocol/server-everything stdio`), driven by the official Python MCP client
//! (`mcp==2.3.0`) and by raw HTTP: both protocol eras, one process per legacy session, DELETE,
//! graceful shutdown, `--exit-on-stdin-eof`; and `mcp-runtime install --to`.
//!
//! Needs node with server-everything in `target/peers/node` and the Python SDK in
//! `target/peers/venv`: `bash .ci/run` installs both.

use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_runtime_peers::{python, workspace};

const TIMEOUT: Duration = Duration::from_secs(30);

/// `node …/server-everything/dist/index.js stdio`.
fn server_everything() -> Vec<String> {
    let script = workspace().join(
        "target/peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
    );
    assert!(
        script.exists(),
        "server-everything is missing at {}: run `bash .ci/run` (it runs npm install --prefix target/peers/node)",
        script.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is missing: run `bash .ci/run` (it installs nodejs and the Node MCP peers)"
    );
    vec!["node".into(), script.display().to_string(), "stdio".into()]
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A running `mcp-runtime bridge`, stopped with SIGTERM (then SIGKILL) when dropped.
struct Bridge {
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Bridge {
    fn start(flags: &[&str], command: &[String]) -> Bridge {
        Bridge::start_with(flags, command, Stdio::null())
    }

    fn start_with(flags: &[&str], command: &[String], stdin: Stdio) -> Bridge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .args(["bridge", "--listen", "127.0.0.1:0"])
            .args(flags)
            .arg("--")
            .args(command)
            .stdin(stdin)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mcp-runtime bridge");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("mcp-runtime bridge listening on http://") {
                    let address = rest.split('/').next().unwrap_or_default().to_owned();
                    let _ = address_tx.send(address);
                }
                lines.lock().expect("log").push(line);
            }
        });
        let address = address_rx
            .recv_timeout(TIMEOUT)
            .expect("the bridge did not report its listen address");
        Bridge {
            child,
            address,
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        nix::sys::signal::kill(pid, signal).expect("signal the bridge");
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the bridge did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + TIMEOUT;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(25));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Live (non-zombie) processes whose parent is `parent`.
fn children(parent: u32) -> BTreeSet<u32> {
    let mut found = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may contain spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) && state != "Z" {
            found.insert(pid);
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().next() != Some("Z"))
        })
        .unwrap_or(false)
}

struct HttpResponse {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl HttpResponse {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

fn send_request(address: &str, method: &str, headers: &[(&str, &str)], body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect");
    let mut request = format!(
        "{method} /mcp HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("read timeout");
    stream
}

/// One raw HTTP/1.1 exchange, read to the end (chunked bodies are de-chunked).
fn http(address: &str, method: &str, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut stream = send_request(address, method, headers, body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

const JSON: (&str, &str) = ("accept", "application/json");
const CONTENT: (&str, &str) = ("content-type", "application/json");

fn initialize(address: &str) -> String {
    let response = http(
        address,
        "POST",
        &[JSON, CONTENT],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    assert_eq!(response.status, 200, "initialize: {}", response.body);
    assert_eq!(
        response.json()["result"]["serverInfo"]["name"],
        "mcp-servers/everything"
    );
    let session = response
        .headers
        .get("mcp-session-id")
        .expect("a session id")
        .clone();
    let initialized = http(
        address,
        "POST",
        &[
            JSON,
            CONTENT,
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(initialized.status, 202);
    session
}

fn echo(address: &str, session: &str, message: &str) -> HttpResponse {
    let body = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":message}}});
    http(
        address,
        "POST",
        &[
            JSON,
            CONTENT,
            ("mcp-session-id", session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        &body.to_string(),
    )
}

fn run_python_client(url: &str, mode: &str, message: &str) -> Value {
    let output = Command::new(python())
        .arg(workspace().join("tests/peers/python/echo_client.py"))
        .args([url, mode, message])
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{mode}: the Python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("client JSON")
}

#[test]
fn python_client_lists_and_calls_tools_through_the_bridge_in_both_eras() {
    let bridge = Bridge::start(&[], &server_everything());
    for (mode, era) in [("legacy", "2025-11-25"), ("auto", "2026-07-28")] {
        let result = run_python_client(&bridge.url(), mode, &format!("hello {mode}"));
        assert_eq!(result["protocol_version"], era, "{mode}: {result}");
        let tools = result["tools"].as_array().expect("tools");
        assert!(tools.contains(&json!("echo")), "{mode}: {result}");
        assert!(tools.len() > 5, "{mode}: every tool is listed: {result}");
        assert_eq!(
            result["echo"],
            json!([format!("Echo: hello {mode}")]),
            "{mode}"
        );
        assert_eq!(result["is_error"], false, "{mode}");
    }
    // The legacy client deleted its session on exit, so only the stateless worker remains.
    wait_until("the legacy session's process to end", || {
        children(bridge.pid()).len() == 1
    });
}

#[test]
fn a_python_sdk_stdio_server_is_served_in_both_eras() {
    // A dual-era server: it refuses modern envelopes in a handshake-era conversation, so the
    // bridge must turn stateless requests into requests of the worker's conversation.
    let server = vec![
        python().display().to_string(),
        workspace()
            .join("tests/peers/python/stdio_server.py")
            .display()
            .to_string(),
    ];
    let bridge = Bridge::start(&[], &server);
    for (mode, era) in [("legacy", "2025-11-25"), ("auto", "2026-07-28")] {
        let result = run_python_client(&bridge.url(), mode, "from python");
        assert_eq!(result["protocol_version"], era, "{mode}: {result}");
        assert_eq!(result["tools"], json!(["echo"]), "{mode}");
        assert_eq!(result["echo"], json!(["Echo: from python"]), "{mode}");
    }
}

#[test]
fn a_server_request_reaches_the_client_and_its_answer_reaches_the_server() {
    let bridge = Bridge::start(&[], &server_everything());
    let output = Command::new(python())
        .arg(workspace().join("tests/peers/python/elicit_client.py"))
        .arg(bridge.url())
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_str(stdout.trim()).expect("client JSON");
    assert_eq!(
        result["elicitations"],
        json!(["Please provide inputs for the following fields:"]),
        "the server's elicitation/create reached the client: {result}"
    );
    assert!(
        result["text"][0]
            .as_str()
            .is_some_and(|t| t.contains("User declined")),
        "the client's answer reached the server: {result}"
    );
}

#[test]
fn concurrent_python_clients_in_both_eras_do_not_mix_replies() {
    let bridge = Bridge::start(&[], &server_everything());
    let url = bridge.url();
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mode = if i % 2 == 0 { "legacy" } else { "auto" };
                let message = format!("client {i}");
                let result = run_python_client(&url, mode, &message);
                assert_eq!(result["echo"], json!([format!("Echo: {message}")]));
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
}

#[test]
fn each_legacy_session_gets_its_own_process_and_delete_ends_it() {
    let bridge = Bridge::start(&[], &server_everything());
    let address = bridge.address.clone();
    let first = initialize(&address);
    wait_until("the first session's process", || {
        children(bridge.pid()).len() == 1
    });
    let first_pid = *children(bridge.pid()).first().expect("a child");
    let second = initialize(&address);
    assert_ne!(first, second);
    wait_until("the second session's process", || {
        children(bridge.pid()).len() == 2
    });
    let pids = children(bridge.pid());
    assert!(pids.contains(&first_pid));
    let second_pid = *pids.iter().find(|p| **p != first_pid).expect("second pid");

    for (session, message) in [(&first, "one"), (&second, "two")] {
        let reply = echo(&address, session, message);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.json()["result"]["content"][0]["text"],
            format!("Echo: {message}")
        );
    }

    let deleted = http(&address, "DELETE", &[("mcp-session-id", &first)], "");
    assert_eq!(deleted.status, 200);
    wait_until("the deleted session's process to exit", || {
        !alive(first_pid)
    });
    assert_eq!(children(bridge.pid()), BTreeSet::from([second_pid]));
    let gone = echo(&address, &first, "again");
    assert_eq!(
        gone.status, 404,
        "an ended session is not found: {}",
        gone.body
    );
    assert_eq!(echo(&address, &second, "still").status, 200);
}

#[test]
fn sessions_beyond_the_limit_get_503() {
    let bridge = Bridge::start(&["--max-sessions", "1"], &server_everything());
    let address = bridge.address.clone();
    let first = initialize(&address);
    let refused = http(
        &address,
        "POST",
        &[JSON, CONTENT],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(
        http(&address, "DELETE", &[("mcp-session-id", &first)], "").status,
        200
    );
    initialize(&address);
}

#[test]
fn legacy_progress_arrives_on_the_request_stream_before_the_result() {
    let bridge = Bridge::start(&[], &server_everything());
    let address = bridge.address.clone();
    let session = initialize(&address);
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{
        "name":"trigger-long-running-operation","arguments":{"duration":0.3,"steps":3},
        "_meta":{"progressToken":"tok"}}});
    let reply = http(
        &address,
        "POST",
        &[
            ("accept", "application/json, text/event-stream"),
            CONTENT,
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        &body.to_string(),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers.get("content-type").map(String::as_str),
        Some("text/event-stream")
    );
    let events: Vec<Value> = reply
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).expect("event JSON"))
        .collect();
    let progress: Vec<&Value> = events
        .iter()
        .filter(|e| e["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 3, "{}", reply.body);
    assert!(
        progress
            .iter()
            .all(|p| p["params"]["progressToken"] == "tok")
    );
    let last = events.last().expect("events");
    assert_eq!(
        last["id"], 7,
        "the stream ends with the result: {}",
        reply.body
    );
    assert!(last["result"]["content"].is_array());
    assert!(
        reply.body.lines().filter(|l| l.starts_with("id: ")).count() >= 4,
        "every event has an id: {}",
        reply.body
    );
}

#[test]
fn stateless_progress_keeps_the_clients_token_and_id() {
    let bridge = Bridge::start(&[], &server_everything());
    let address = bridge.address.clone();
    let headers = [
        SSE,
        CONTENT,
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "trigger-long-running-operation"),
    ];
    // Two clients with the same id and the same progress token at once.
    let streams: Vec<SseReader> = (0..2)
        .map(|_| {
            let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
                "name":"trigger-long-running-operation","arguments":{"duration":0.4,"steps":2},
                "_meta":{"progressToken":"mine","io.modelcontextprotocol/protocolVersion":"2026-07-28"}}});
            SseReader::open(send_request(&address, "POST", &headers, &body.to_string()))
        })
        .collect();
    for mut stream in streams {
        assert_eq!(stream.status, 200);
        let mut events = Vec::new();
        while let Some(event) = stream.next() {
            events.push(event.data);
        }
        assert_eq!(
            events.len(),
            3,
            "two progress events and the result: {events:?}"
        );
        for progress in &events[..2] {
            assert_eq!(progress["method"], "notifications/progress");
            assert_eq!(progress["params"]["progressToken"], "mine");
        }
        assert_eq!(events[2]["id"], 1);
        assert_eq!(events[2]["result"]["resultType"], "complete");
    }
}

#[test]
fn a_dead_stateless_worker_is_replaced_on_the_next_request() {
    let bridge = Bridge::start(&[], &server_everything());
    let address = bridge.address.clone();
    let call = |message: &str| {
        let body = json!({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{
            "name":"echo","arguments":{"message":message},
            "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}});
        http(
            &address,
            "POST",
            &[
                JSON,
                CONTENT,
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "echo"),
            ],
            &body.to_string(),
        )
    };
    let first = call("one");
    assert_eq!(first.status, 200, "{}", first.body);
    let value = first.json();
    assert_eq!(value["id"], "x", "the client's id is restored");
    assert_eq!(value["result"]["content"][0]["text"], "Echo: one");
    assert_eq!(value["result"]["resultType"], "complete");
    assert!(
        !first.headers.contains_key("mcp-session-id"),
        "stateless replies carry no session"
    );
    let worker = *children(bridge.pid()).first().expect("the worker");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(worker).expect("pid")),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the worker");
    // Gone from /proc: reaped by the bridge, which therefore knows it died.
    wait_until("the bridge to reap the worker", || {
        !Path::new(&format!("/proc/{worker}")).exists()
    });
    let second = call("two");
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        second.json()["result"]["content"][0]["text"],
        "Echo: two",
        "{}",
        second.body
    );
    let now = children(bridge.pid());
    assert_eq!(now.len(), 1);
    assert!(!now.contains(&worker));
}

#[test]
fn sigterm_stops_every_server_process_and_exits_cleanly() {
    // A generous grace, so a loaded machine cannot turn the stdin-close exit into a SIGTERM.
    let mut bridge = Bridge::start(&["--stdin-close-grace", "20"], &server_everything());
    let address = bridge.address.clone();
    initialize(&address);
    initialize(&address);
    let discover = http(
        &address,
        "POST",
        &[
            JSON,
            CONTENT,
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "server/discover"),
        ],
        r#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
    );
    assert_eq!(discover.status, 200, "{}", discover.body);
    assert_eq!(
        discover.json()["result"]["supportedVersions"],
        json!(["2026-07-28"])
    );
    wait_until("two sessions and the worker", || {
        children(bridge.pid()).len() == 3
    });
    let pids = children(bridge.pid());
    bridge.signal(nix::sys::signal::Signal::SIGTERM);
    let status = bridge.wait_exit();
    assert!(status.success(), "exit status {status}:\n{}", bridge.log());
    for pid in pids {
        assert!(!alive(pid), "server process {pid} outlived the bridge");
    }
    let log = bridge.log();
    assert!(log.contains("mcp-runtime bridge: stopped"), "{log}");
    assert!(
        !log.contains("SIGKILL"),
        "server-everything exits when its stdin closes: {log}"
    );
}

#[test]
fn exit_on_stdin_eof_stops_the_bridge_and_its_servers() {
    let mut bridge = Bridge::start_with(
        &["--exit-on-stdin-eof"],
        &server_everything(),
        Stdio::piped(),
    );
    initialize(&bridge.address);
    wait_until("the session's process", || {
        children(bridge.pid()).len() == 1
    });
    let pids = children(bridge.pid());
    drop(bridge.child.stdin.take());
    let status = bridge.wait_exit();
    assert!(status.success(), "exit status {status}:\n{}", bridge.log());
    assert!(bridge.log().contains("stdin closed"), "{}", bridge.log());
    for pid in pids {
        assert!(!alive(pid), "server process {pid} outlived the bridge");
    }
}

/// A "server" that ignores both the end of its stdin and SIGTERM.
fn stubborn_server() -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "trap '' TERM; while :; do sleep 0.1; done".into(),
    ]
}

#[test]
fn a_server_ignoring_stdin_close_and_sigterm_is_killed() {
    let mut bridge = Bridge::start(
        &["--stdin-close-grace", "0.3", "--sigterm-grace", "0.3"],
        &stubborn_server(),
    );
    // An SSE reply starts at once, so the session exists although the server never answers.
    let mut pending = send_request(
        &bridge.address,
        "POST",
        &[("accept", "text/event-stream"), CONTENT],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    let mut head = [0_u8; 12];
    pending.read_exact(&mut head).expect("response head");
    assert_eq!(&head, b"HTTP/1.1 200");
    wait_until("the server process", || children(bridge.pid()).len() == 1);
    let pids = children(bridge.pid());
    bridge.signal(nix::sys::signal::Signal::SIGTERM);
    let status = bridge.wait_exit();
    assert!(status.success(), "exit status {status}:\n{}", bridge.log());
    let log = bridge.log();
    assert!(log.contains(": SIGTERM"), "{log}");
    assert!(log.contains(": SIGKILL"), "{log}");
    for pid in pids {
        assert!(!alive(pid), "server process {pid} outlived the bridge");
    }
}

#[test]
fn bad_requests_get_http_and_json_rpc_errors() {
    // None of these requests starts a process, so any command will do.
    let bridge = Bridge::start(&["--max-body-bytes", "1000"], &stubborn_server());
    let address = bridge.address.clone();
    let post = |headers: &[(&str, &str)], body: &str| http(&address, "POST", headers, body);
    let code = |response: &HttpResponse| response.json()["error"]["code"].clone();

    let parse = post(&[JSON, CONTENT], "{not json");
    assert_eq!((parse.status, code(&parse)), (400, json!(-32700)));

    let large = post(&[JSON, CONTENT], &format!("\"{}\"", "x".repeat(2000)));
    assert_eq!(large.status, 413);

    let no_session = post(
        &[JSON, CONTENT],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    assert_eq!(no_session.status, 400, "{}", no_session.body);

    let unknown = post(
        &[JSON, CONTENT, ("mcp-session-id", "nope")],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(unknown.json()["id"], 1);

    let version = post(
        &[
            JSON,
            CONTENT,
            ("mcp-protocol-version", "2099-01-01"),
            ("mcp-method", "tools/list"),
        ],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    assert_eq!((version.status, code(&version)), (400, json!(-32022)));
    assert_eq!(
        version.json()["error"]["data"]["supported"],
        json!(["2026-07-28"])
    );

    let mismatch = post(
        &[
            JSON,
            CONTENT,
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}"#,
    );
    assert_eq!((mismatch.status, code(&mismatch)), (400, json!(-32020)));

    let origin = post(
        &[JSON, CONTENT, ("origin", "http://evil.example")],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    assert_eq!(origin.status, 403);

    let get = http(&address, "GET", &[("accept", "text/event-stream")], "");
    assert_eq!(get.status, 405);
    let delete = http(&address, "DELETE", &[("mcp-session-id", "nope")], "");
    assert_eq!(delete.status, 404);

    let health = TcpStream::connect(&address).and_then(|mut s| {
        write!(
            s,
            "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        Ok(text)
    });
    assert!(health.expect("healthz").starts_with("HTTP/1.1 200"));
    assert!(
        children(bridge.pid()).is_empty(),
        "no request above starts a server process"
    );
}

#[test]
fn a_command_that_cannot_start_is_a_json_rpc_error() {
    let bridge = Bridge::start(&[], &["/nonexistent/mcp-server".to_owned()]);
    let response = http(
        &bridge.address,
        "POST",
        &[JSON, CONTENT],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    assert_eq!(response.status, 500);
    assert_eq!(response.json()["error"]["code"], -32603);
    assert!(
        response.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("could not start")),
        "{}",
        response.body
    );
    for _ in 0..2 {
        let stateless = http(
            &bridge.address,
            "POST",
            &[
                JSON,
                CONTENT,
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/list"),
            ],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        );
        assert_eq!(stateless.status, 500, "{}", stateless.body);
        assert!(
            stateless.body.contains("could not start"),
            "{}",
            stateless.body
        );
    }
}

#[test]
fn the_server_command_is_required_after_a_double_dash() {
    for args in [&["bridge"][..], &["bridge", "node", "server.js"][..]] {
        let output = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .args(args)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("-- <COMMAND>"), "{args:?}: {stderr}");
    }
}

#[test]
fn install_copies_the_running_binary_atomically() {
    let scratch = tempfile::tempdir().expect("tempdir");
    // To a directory (the emptyDir): DIR/mcp-runtime.
    let status = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(["install", "--to"])
        .arg(scratch.path())
        .status()
        .expect("run install");
    assert!(status.success());
    // To a file path, as the operator's init container passes it.
    let named = scratch.path().join("bin-mcp-runtime");
    let status = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(["install", "--to"])
        .arg(&named)
        .status()
        .expect("run install");
    assert!(status.success());

    let original = std::fs::read(env!("CARGO_BIN_EXE_mcp-runtime")).expect("read original");
    for installed in [scratch.path().join("mcp-runtime"), named] {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(&installed).expect("installed");
        assert_eq!(metadata.permissions().mode() & 0o777, 0o755);
        assert!(std::fs::read(&installed).expect("read copy") == original);
        let version = Command::new(&installed)
            .arg("--version")
            .output()
            .expect("run the copy");
        assert!(version.status.success());
        assert!(String::from_utf8_lossy(&version.stdout).starts_with("mcp-runtime "));
    }
    let names: Vec<String> = std::fs::read_dir(scratch.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "no temporary file is left behind: {names:?}"
    );
}

/// Reads an SSE response event by event (hyper sends each event as one HTTP chunk).
struct SseReader {
    reader: BufReader<TcpStream>,
    status: u16,
    buffer: String,
}

/// One SSE event: its id and its JSON data.
struct Event {
    id: Option<String>,
    data: Value,
}

impl SseReader {
    fn open(stream: TcpStream) -> SseReader {
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).expect("status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            if line.trim().is_empty() {
                break;
            }
        }
        SseReader {
            reader,
            status,
            buffer: String::new(),
        }
    }

    /// The next event carrying data, or `None` when the stream ends.
    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some((event, rest)) = self.buffer.split_once("\n\n") {
                let (event, rest) = (event.to_owned(), rest.to_owned());
                self.buffer = rest;
                let id = event
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .map(str::to_owned);
                let data: String = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).expect("event JSON");
                return Some(Event { id, data });
            }
            let mut size = String::new();
            if self.reader.read_line(&mut size).ok()? == 0 {
                return None;
            }
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                return None;
            }
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).ok()?;
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk[..size]));
        }
    }
}

const SSE: (&str, &str) = ("accept", "text/event-stream, application/json");

#[test]
fn a_get_stream_carries_server_messages_and_the_backlog() {
    let bridge = Bridge::start(&[], &server_everything());
    let address = bridge.address.clone();
    let session = initialize(&address);
    let mut stream = SseReader::open(send_request(
        &address,
        "GET",
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &session),
        ],
        "",
    ));
    assert_eq!(stream.status, 200);
    let toggle = http(
        &address,
        "POST",
        &[
            JSON,
            CONTENT,
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"toggle-simulated-logging","arguments":{}}}"#,
    );
    assert_eq!(toggle.status, 200, "{}", toggle.body);
    let mut methods = Vec::new();
    while let Some(event) = stream.next() {
        assert!(
            event.id.as_deref().is_some_and(|id| id.starts_with("0-")),
            "GET stream events are numbered on stream 0"
        );
        let method = event.data["method"].as_str().unwrap_or_default().to_owned();
        methods.push(method.clone());
        if method == "notifications/message" {
            break;
        }
    }
    assert_eq!(
        methods.first().map(String::as_str),
        Some("notifications/tools/list_changed"),
        "what the server sent before any GET stream was open arrives first: {methods:?}"
    );
    assert_eq!(
        methods.last().map(String::as_str),
        Some("notifications/message"),
        "{methods:?}"
    );
}

#[test]
fn last_event_id_resumes_a_request_stream_without_repeating_events() {
    let bridge = Bridge::start(&[], &server_everything());
    let address = bridge.address.clone();
    let session = initialize(&address);
    let headers = [
        SSE,
        CONTENT,
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let body = json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{
        "name":"trigger-long-running-operation","arguments":{"duration":1.5,"steps":3},
        "_meta":{"progressToken":"resume"}}});
    let mut first = SseReader::open(send_request(&address, "POST", &headers, &body.to_string()));
    let event = first.next().expect("the first progress event");
    assert_eq!(event.data["params"]["progress"], 1);
    let last_event_id = event.id.expect("an event id");
    drop(first);

    let mut resumed = SseReader::open(send_request(
        &address,
        "GET",
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", &session),
            ("last-event-id", &last_event_id),
        ],
        "",
    ));
    assert_eq!(resumed.status, 200);
    let mut progress = Vec::new();
    let mut result = None;
    while let Some(event) = resumed.next() {
        if event.data["method"] == "notifications/progress" {
            progress.push(event.data["params"]["progress"].clone());
        } else {
            result = Some(event.data);
        }
    }
    assert_eq!(
        progress,
        [json!(2), json!(3)],
        "only what came after the id"
    );
    let result = result.expect("the response follows the replay");
    assert_eq!(result["id"], 9);
    assert!(result["result"]["content"].is_array(), "{result}");
}

/// The pid of the only live child of `parent`.
fn only_child(parent: u32) -> u32 {
    let mut found = None;
    wait_until("the child process", || {
        found = children(parent).first().copied();
        found.is_some()
    });
    found.expect("child")
}

/// All processes whose parent is `parent`, zombies included, with their state.
fn children_with_state(parent: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("").to_owned();
        if fields.next().and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
            found.push((pid, state));
        }
    }
    found
}

/// Kills the process when dropped (for `unshare --kill-child`, that ends the namespace).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn as_pid_1_the_bridge_reaps_orphans_its_servers_leave() {
    // A PID namespace makes the bridge PID 1, as it is in a container. Creating one needs root
    // (CI runs as root).
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED (cannot create a PID namespace here: needs root and util-linux unshare)"
        );
        return;
    }
    // The server leaves an orphan that exits after a second, then waits forever.
    let server = "(sleep 1 &); exec sleep 1000";
    let mut unshare = KillOnDrop(
        Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .arg(env!("CARGO_BIN_EXE_mcp-runtime"))
            .args([
                "bridge",
                "--listen",
                "127.0.0.1:0",
                "--stdin-close-grace",
                "0.2",
                "--sigterm-grace",
                "2",
                "--",
                "sh",
                "-c",
                server,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start unshare"),
    );
    let stderr = unshare.0.stderr.take().expect("stderr");
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("mcp-runtime bridge listening on http://") {
                let _ = address_tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
        }
    });
    let address = address_rx.recv_timeout(TIMEOUT).expect("listen address");
    let bridge = only_child(unshare.0.id());

    let mut pending = send_request(
        &address,
        "POST",
        &[("accept", "text/event-stream"), CONTENT],
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#,
    );
    let mut head = [0_u8; 12];
    pending.read_exact(&mut head).expect("response head");
    assert_eq!(&head, b"HTTP/1.1 200");

    // The orphan is re-parented to the bridge, then exits; it must not stay a zombie.
    let mut orphan = None;
    wait_until("the orphan to be re-parented to the bridge", || {
        orphan = children_with_state(bridge)
            .into_iter()
            .find(|(pid, _)| {
                std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with("sleep\u{0}1\u{0}"))
            })
            .map(|(pid, _)| pid);
        orphan.is_some()
    });
    let orphan = orphan.expect("orphan");
    wait_until("the bridge to reap the exited orphan", || {
        !Path::new(&format!("/proc/{orphan}")).exists()
    });

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(bridge).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal the bridge");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = unshare.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the bridge did not exit");
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(status.success(), "exit status {status}");
}
