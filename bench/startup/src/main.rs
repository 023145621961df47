//! Startup: how long the release `mcp-runtime` takes from `exec` until it serves.
//!
//! - `gateway`: `mcp-runtime gateway` (header identity, a policy file, a live rmcp upstream) from
//!   exec to the first `GET /ready` that answers 200;
//! - `up`: `mcp-runtime up -f examples/quickstart` (bridge, notes server over stdio, gateway,
//!   embedded Sentinel with a fresh state directory) from exec to the first `tools/call add`
//!   through `/notes/mcp` that answers 200 with the result;
//! - baselines in the same run: exec to exit of `true`, and of `mcp-runtime --version` (the same
//!   binary loaded and run, doing nothing).
//!
//! Each round runs the four once, in that order; the first round is a warm-up and is not
//! counted. Readiness is polled every 0.5 ms. One-line command (from the repository root):
//!   cargo build --release -p mcp-runtime -p mcp-runtime-startup-bench && target/release/startup-bench

use anyhow::{Context, Result, bail};
use clap::Parser;
use mcp_runtime_bench::{
    Process, agent_read_policy, free_port, load_average, start_upstream, write_policy,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "startup-bench",
    about = "Startup: gateway exec -> /ready 200, `up` on the quickstart exec -> serving"
)]
struct Args {
    /// The mcp-runtime binary (a release build).
    #[arg(long, default_value = "target/release/mcp-runtime")]
    bin: PathBuf,
    /// The manifests `up` runs.
    #[arg(long, default_value = "examples/quickstart")]
    quickstart: PathBuf,
    /// Counted rounds (after one warm-up round).
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Target for the gateway's median, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    gateway_target_ms: f64,
    /// Target for `up`'s median, in milliseconds.
    #[arg(long, default_value_t = 1000.0)]
    up_target_ms: f64,
}

/// The quickstart's agent that may call `add` (and write notes).
const UP_AGENT: &str = "note-taker";
const GATEWAY_AGENT: &str = "startup-agent";

/// A stateless (2026-07-28) `tools/call add(1, 2)`.
const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"startup-bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// How long one start may take before the run fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_micros(500);

/// One HTTP/1.1 exchange on a new connection (`connection: close`); the status and body, or
/// None while nothing listens or the answer is incomplete.
fn exchange(port: u16, request: &str) -> Option<(u16, String)> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(200)).ok()?;
    stream.set_nodelay(true).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, answer))
}

fn ready_request(port: u16) -> String {
    format!("GET /ready HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n\r\n")
}

fn call_request(port: u16, path: &str, agent: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: add\r\nx-mcp-agent-id: {agent}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{CALL}",
        CALL.len()
    )
}

/// Exec to exit; the command must succeed.
fn time_to_exit(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("running {command:?}"))?;
    let took = started.elapsed();
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(took)
}

/// Exec to the first time `serving` holds; the process is killed afterwards.
fn time_to_serving(command: &mut Command, serving: impl Fn() -> bool) -> Result<Duration> {
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    let mut process = Process(child);
    loop {
        if serving() {
            return Ok(started.elapsed());
        }
        if let Some(status) = process.0.try_wait()? {
            bail!("{command:?} exited before serving: {status}");
        }
        if started.elapsed() > START_TIMEOUT {
            bail!("{command:?} did not serve within {START_TIMEOUT:?}");
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// `mcp-runtime gateway` on `port` in front of `upstream`, with header identity and `policy`.
fn gateway_command(bin: &Path, port: u16, upstream: SocketAddr, policy: &Path) -> Command {
    let mut command = Command::new(bin);
    command
        .arg("gateway")
        .args(["--address", "127.0.0.1", "--metrics-port", "0"])
        .args(["--port", &port.to_string()])
        .args(["--upstream-url", &format!("http://{upstream}")])
        .arg("--policy-file")
        .arg(policy)
        .args(["--auth-mode", "header", "--server-name", "startup"]);
    command
}

/// Sorted samples in milliseconds.
struct Samples(Vec<f64>);

impl Samples {
    fn new(mut values: Vec<Duration>) -> Self {
        values.sort();
        Self(values.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
    }

    /// Nearest-rank percentile.
    fn percentile(&self, p: f64) -> f64 {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    fn row(&self, what: &str, target: &str) -> String {
        format!(
            "| {what} | {:.1} | {:.1} | {:.1} | {:.1} | {target} |",
            self.0[0],
            self.percentile(50.0),
            self.percentile(95.0),
            self.0[self.0.len() - 1],
        )
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p mcp-runtime`",
            args.bin.display()
        );
    }
    if !args.quickstart.is_dir() {
        bail!(
            "{} is not a directory of manifests (run from the repository root)",
            args.quickstart.display()
        );
    }
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let scratch = tempfile::tempdir()?;
    let policy = scratch.path().join("policy.json");
    write_policy(&policy, agent_read_policy("startup", GATEWAY_AGENT))?;
    let (_upstream, upstream) = start_upstream(&args.bin)?;
    let load_at_start = load_average();

    let (mut exit_true, mut exit_version, mut gateway, mut up) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..=args.rounds {
        let t = time_to_exit(&mut Command::new("true"))?;
        let v = time_to_exit(Command::new(&args.bin).arg("--version"))?;

        let port = free_port()?;
        let g = time_to_serving(
            &mut gateway_command(&args.bin, port, upstream, &policy),
            || exchange(port, &ready_request(port)).is_some_and(|(status, _)| status == 200),
        )?;

        let port = free_port()?;
        let state = scratch.path().join(format!("up-state-{round}"));
        let u = time_to_serving(
            Command::new(&args.bin)
                .arg("up")
                .arg("-f")
                .arg(&args.quickstart)
                .args(["--port", &port.to_string()])
                .arg("--state-dir")
                .arg(&state),
            || {
                exchange(port, &call_request(port, "/notes/mcp", UP_AGENT)).is_some_and(
                    |(status, answer)| status == 200 && answer.contains(r#""text":"3""#),
                )
            },
        )?;
        // The gateway's upstream is live too: a call through a fresh gateway works (checked
        // once, outside the timing).
        if round == 0 {
            let port = free_port()?;
            let _checked = time_to_serving(
                &mut gateway_command(&args.bin, port, upstream, &policy),
                || {
                    exchange(port, &call_request(port, "/mcp", GATEWAY_AGENT)).is_some_and(
                        |(status, answer)| status == 200 && answer.contains(r#""text":"3""#),
                    )
                },
            )?;
            continue; // the warm-up round is not counted
        }
        exit_true.push(t);
        exit_version.push(v);
        gateway.push(g);
        up.push(u);
    }

    let (exit_true, exit_version, gateway, up) = (
        Samples::new(exit_true),
        Samples::new(exit_version),
        Samples::new(gateway),
        Samples::new(up),
    );
    println!("# Startup");
    println!();
    println!(
        "{} rounds after one warm-up; readiness polled every {} µs; load average at start {load_at_start}, at end {}",
        args.rounds,
        POLL_EVERY.as_micros(),
        load_average()
    );
    println!();
    println!("| exec → | min ms | p50 ms | p95 ms | max ms | target |");
    println!("|---|---|---|---|---|---|");
    println!("{}", exit_true.row("exit: `true` (baseline)", ""));
    println!(
        "{}",
        exit_version.row("exit: `mcp-runtime --version` (baseline)", "")
    );
    println!(
        "{}",
        gateway.row(
            "gateway `/ready` 200",
            &format!("p50 ≤ {}", args.gateway_target_ms)
        )
    );
    println!(
        "{}",
        up.row(
            "`up` quickstart: `tools/call add` answered",
            &format!("p50 ≤ {}", args.up_target_ms)
        )
    );
    let gateway_p50 = gateway.percentile(50.0);
    let up_p50 = up.percentile(50.0);
    println!();
    println!(
        "gateway p50 minus `mcp-runtime --version` p50: {:.1} ms; up p50 minus it: {:.1} ms",
        gateway_p50 - exit_version.percentile(50.0),
        up_p50 - exit_version.percentile(50.0)
    );
    let mut missed = Vec::new();
    if gateway_p50 > args.gateway_target_ms {
        missed.push(format!(
            "gateway p50 {gateway_p50:.1} ms > {} ms",
            args.gateway_target_ms
        ));
    }
    if up_p50 > args.up_target_ms {
        missed.push(format!("up p50 {up_p50:.1} ms > {} ms", args.up_target_ms));
    }
    if !missed.is_empty() {
        bail!("targets missed: {}", missed.join("; "));
    }
    Ok(())
}
