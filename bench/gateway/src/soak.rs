//! Gateway soak: the real `mcp-runtime gateway` in front of a real rmcp upstream
//! (`mcp-runtime example-server`) for a fixed duration, with many SSE streams held open and a
//! steady rate of `tools/call` requests, sampling the gateway's resident memory.
//!
//! What it checks, after a warm-up:
//! - the gateway's RSS at the end is less than 5 % above its RSS at the end of the warm-up;
//! - every call answered 200 with the right result;
//! - every SSE stream stayed open for the whole run;
//! - the audit ingest (a counting stub in this process) received one event per MCP request.
//!
//! It exits non-zero when any of these fails. One-line command (from the repository root):
//!   scripts/soak            (10 minutes; `scripts/soak 2m` for a shorter run)

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use mcp_runtime_bench::{
    Process, Sender, agent_read_policy, connect, free_port, ingest, load_average, max_open_files,
    open_legacy_stream, rss_kib, start_upstream, wait_ready, write_policy,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "gateway-soak",
    about = "Gateway soak: RSS growth under held SSE streams and steady load"
)]
struct Args {
    /// The mcp-runtime binary (a release build).
    #[arg(long, default_value = "target/release/mcp-runtime")]
    bin: PathBuf,
    /// How long the load runs, e.g. 600s, 10m.
    #[arg(long, default_value = "10m", value_parser = duration)]
    duration: Duration,
    /// Warm-up at the start of the load; RSS growth is measured from its end.
    #[arg(long, default_value = "60s", value_parser = duration)]
    warm_up: Duration,
    /// SSE streams (legacy sessions with their GET stream) held open through the gateway.
    #[arg(long, default_value_t = 1000)]
    streams: usize,
    /// `tools/call` requests per second through the gateway.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Keep-alive connections the calls are spread over.
    #[arg(long, default_value_t = 8)]
    connections: u32,
    /// How often the gateway's RSS is sampled.
    #[arg(long, default_value = "10s", value_parser = duration)]
    sample_every: Duration,
    /// Largest accepted RSS growth after the warm-up, in percent.
    #[arg(long, default_value_t = 5.0)]
    max_growth_percent: f64,
}

fn duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration such as 90s or 10m"))?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        _ => return Err(format!("{value:?}: the unit must be s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

const AGENT: &str = "soak-agent";

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"gateway-soak","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// One `tools/call`; Ok only for a 200 whose body carries the result `3`.
async fn call_once(sender: &mut Sender, authority: &str) -> Result<()> {
    let request = http::Request::post("/mcp")
        .header("host", authority)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "add")
        .header("x-mcp-agent-id", AGENT)
        .body(Full::new(Bytes::from_static(CALL.as_bytes())))?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let text = std::str::from_utf8(&body).unwrap_or_default();
    if status != 200 || !text.contains(r#""text":"3""#) {
        bail!("unexpected reply {status}: {text}");
    }
    Ok(())
}

/// Counters shared by the load, the streams and the report.
#[derive(Default)]
struct Counters {
    calls_ok: AtomicU64,
    call_errors: AtomicU64,
    streams_open: AtomicU64,
    streams_ended_early: AtomicU64,
    /// Keep-alive pings that reached the gateway (each is audited) and those that failed.
    pings_answered: AtomicU64,
    pings_failed: AtomicU64,
}

/// Calls at `per_second` on one keep-alive connection until `until`; a failed call counts as an
/// error and the connection is replaced.
async fn paced_calls(
    address: SocketAddr,
    per_second: f64,
    until: Instant,
    counters: Arc<Counters>,
) {
    let authority = address.to_string();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    // A late tick is not made up with a burst: the rate stays steady.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sender: Option<Sender> = None;
    while Instant::now() < until {
        ticks.tick().await;
        let result = async {
            if sender.is_none() {
                sender = Some(connect(address).await?);
            }
            match sender.as_mut() {
                Some(s) => call_once(s, &authority).await,
                None => bail!("no connection"),
            }
        }
        .await;
        match result {
            Ok(()) => counters.calls_ok.fetch_add(1, Ordering::Relaxed),
            Err(error) => {
                sender = None;
                let n = counters.call_errors.fetch_add(1, Ordering::Relaxed);
                if n < 5 {
                    eprintln!("call error: {error:#}");
                }
                n
            }
        };
    }
}

/// Opens a legacy session and its GET stream through the gateway, then holds the stream and
/// reads whatever arrives on it until `until`; a stream that ends before is counted.
///
/// `first_ping` staggers the keep-alive pings: with every stream's first ping at its own offset in
/// the interval, the held sessions are pinged at an even rate (as independent clients would),
/// not as one burst of a thousand new connections every interval.
async fn hold_stream(
    address: SocketAddr,
    until: Instant,
    first_ping: Duration,
    counters: Arc<Counters>,
) -> Result<()> {
    let (session, sender, response) = open_legacy_stream(address, AGENT, "gateway-soak").await?;
    counters.streams_open.fetch_add(1, Ordering::Relaxed);
    let mut body = response.into_body();
    let deadline = tokio::time::Instant::from_std(until);
    // The upstream (rmcp's session manager) ends a session that has seen no request for five
    // minutes, as a server may; a client that holds a stream open pings it, and so does this one,
    // on a second connection (the first one carries the stream).
    let mut keep_alive = tokio::time::interval_at(
        tokio::time::Instant::now() + first_ping,
        SESSION_PING_INTERVAL,
    );
    loop {
        tokio::select! {
            _ = keep_alive.tick() => {
                match ping(address, &session).await {
                    Ok(status) => {
                        counters.pings_answered.fetch_add(1, Ordering::Relaxed);
                        if status != 200 {
                            counters.pings_failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        counters.pings_failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            frame = body.frame() => match frame {
                Some(Ok(_)) => continue,
                // Ended (or failed) while the soak still runs.
                Some(Err(_)) | None => {
                    counters.streams_open.fetch_sub(1, Ordering::Relaxed);
                    counters.streams_ended_early.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            },
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    drop(sender);
    Ok(())
}

/// How often each held stream's session is pinged: well inside rmcp's five-minute idle limit.
const SESSION_PING_INTERVAL: Duration = Duration::from_secs(120);

/// A JSON-RPC `ping` in `session`, on a connection of its own; its HTTP status.
async fn ping(address: SocketAddr, session: &str) -> Result<http::StatusCode> {
    let mut sender = connect(address).await?;
    let request = http::Request::post("/mcp")
        .header("host", address.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-mcp-agent-id", AGENT)
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":"keep-alive","method":"ping"}"#,
        )))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    response.into_body().collect().await?;
    Ok(status)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p mcp-runtime`",
            args.bin.display()
        );
    }
    if args.warm_up >= args.duration {
        bail!("the warm-up must be shorter than the duration");
    }
    // Each stream holds a descriptor here and two in the gateway (caller and upstream side).
    let needed = 2 * args.streams as u64 + 256;
    if let Some(limit) = max_open_files()
        && limit < needed
    {
        bail!("open-file limit {limit} is below {needed}: raise it with `ulimit -n {needed}`");
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let policy = scratch.path().join("policy.json");
    write_policy(&policy, agent_read_policy("soak", AGENT))?;
    let (ingest, audited) = ingest().await?;
    let (_upstream, upstream) = start_upstream(&args.bin)?;
    let gateway_port = free_port()?;
    let gateway_child = Command::new(&args.bin)
        .arg("gateway")
        .args(["--analytics-ingest-url", &format!("http://{ingest}/events")])
        .args(["--address", "127.0.0.1", "--metrics-port", "0"])
        .args(["--port", &gateway_port.to_string()])
        .args(["--upstream-url", &format!("http://{upstream}")])
        .arg("--policy-file")
        .arg(&policy)
        .args(["--auth-mode", "header"])
        .arg("--audit-spool-dir")
        .arg(scratch.path().join("spool"))
        .args(["--server-name", "soak"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the gateway")?;
    let gateway_pid = gateway_child.id();
    let _gateway_process = Process(gateway_child);
    let gateway = SocketAddr::from(([127, 0, 0, 1], gateway_port));
    wait_ready(gateway).await?;
    let rss_idle = rss_kib(gateway_pid)?;

    println!("# Gateway soak");
    println!();
    println!(
        "{} s with {} SSE streams held open and {} tools/call per second over {} connections; RSS sampled every {} s, growth measured from the end of the {} s warm-up; load average at start {}",
        args.duration.as_secs(),
        args.streams,
        args.rate,
        args.connections,
        args.sample_every.as_secs(),
        args.warm_up.as_secs(),
        load_average()
    );

    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let until = started + args.duration;
    // Open the streams a few at a time, then hold them for the whole run.
    let mut stream_tasks = Vec::with_capacity(args.streams);
    let mut stream_failures = 0u64;
    for chunk in 0..args.streams.div_ceil(50) {
        let mut opening = Vec::new();
        for stream in (chunk * 50)..((chunk + 1) * 50).min(args.streams) {
            let counters = counters.clone();
            // Offsets spread over the whole interval: about 8 pings a second for 1,000 streams,
            // from the start, so the warm-up already sees the load the rest of the run sees.
            let first_ping =
                SESSION_PING_INTERVAL.mul_f64((stream + 1) as f64 / args.streams.max(1) as f64);
            opening.push(tokio::spawn(hold_stream(
                gateway, until, first_ping, counters,
            )));
        }
        // Wait until this chunk's streams are open (or failed) before opening the next.
        let target = counters.streams_open.load(Ordering::Relaxed) + opening.len() as u64;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let finished = opening.iter().filter(|t| t.is_finished()).count() as u64;
            if counters.streams_open.load(Ordering::Relaxed) + finished >= target
                || Instant::now() >= deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stream_tasks.extend(opening);
    }
    let opened = counters.streams_open.load(Ordering::Relaxed);
    println!(
        "{opened} streams open after {:.1} s; the calls start then",
        started.elapsed().as_secs_f64()
    );

    let per_connection = f64::from(args.rate) / f64::from(args.connections.max(1));
    let mut load = Vec::new();
    for _ in 0..args.connections.max(1) {
        load.push(tokio::spawn(paced_calls(
            gateway,
            per_connection,
            until,
            counters.clone(),
        )));
    }

    // (seconds since the start, when the streams began to open; RSS KiB)
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let mut next = started + args.sample_every;
    while next <= until {
        tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
        let rss = rss_kib(gateway_pid)?;
        let t = next.duration_since(started).as_secs_f64();
        samples.push((t, rss));
        eprintln!(
            "t={t:>4.0}s rss={:.1} MiB calls_ok={} errors={} streams_open={} ended_early={}",
            mib(rss),
            counters.calls_ok.load(Ordering::Relaxed),
            counters.call_errors.load(Ordering::Relaxed),
            counters.streams_open.load(Ordering::Relaxed),
            counters.streams_ended_early.load(Ordering::Relaxed)
        );
        next += args.sample_every;
    }
    for task in load {
        let _ = task.await;
    }
    for task in stream_tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                stream_failures += 1;
                if stream_failures <= 5 {
                    eprintln!("stream error: {error:#}");
                }
            }
            Err(_) => stream_failures += 1,
        }
    }
    let calls_ok = counters.calls_ok.load(Ordering::Relaxed);
    let call_errors = counters.call_errors.load(Ordering::Relaxed);
    let ended_early = counters.streams_ended_early.load(Ordering::Relaxed);

    let pings_answered = counters.pings_answered.load(Ordering::Relaxed);
    let pings_failed = counters.pings_failed.load(Ordering::Relaxed);
    // Every MCP POST is audited: each call, each stream's initialize and initialized, and each
    // keep-alive ping.
    let expected_events = calls_ok + call_errors + 2 * opened + pings_answered;
    let deadline = Instant::now() + Duration::from_secs(30);
    while audited.load(Ordering::Relaxed) < expected_events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = audited.load(Ordering::Relaxed);

    let warm_up = args.warm_up.as_secs_f64();
    let baseline = samples
        .iter()
        .find(|(t, _)| *t >= warm_up)
        .map(|(_, r)| *r)
        .context("no sample after the warm-up")?;
    let after: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= warm_up)
        .map(|(_, r)| *r)
        .collect();
    let last = *after.last().context("no sample")?;
    let max = after.iter().copied().max().unwrap_or(last);
    let min = after.iter().copied().min().unwrap_or(last);
    let growth = 100.0 * (last as f64 - baseline as f64) / baseline as f64;
    let peak_growth = 100.0 * (max as f64 - baseline as f64) / baseline as f64;
    let elapsed = started.elapsed().as_secs_f64();

    println!("load average at end {}", load_average());
    println!();
    println!(
        "RSS series (MiB, every {} s from the start, when the streams began to open): {}",
        args.sample_every.as_secs(),
        samples
            .iter()
            .map(|(_, r)| format!("{:.1}", mib(*r)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let rss_ok = growth < args.max_growth_percent;
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!(
        "| gateway RSS idle before streams / at end of warm-up ({warm_up:.0} s) / at end | {:.1} / {:.1} / {:.1} MiB | |",
        mib(rss_idle),
        mib(baseline),
        mib(last)
    );
    println!(
        "| RSS growth after warm-up (end vs end of warm-up) | {growth:+.2} % (min {:.1}, max {:.1} MiB: peak {peak_growth:+.2} %) | < {} %: {} |",
        mib(min),
        mib(max),
        args.max_growth_percent,
        verdict(rss_ok)
    );
    println!(
        "| tools/call served (200, result checked) | {calls_ok} in {elapsed:.0} s ({:.0}/s) | |",
        calls_ok as f64 / elapsed
    );
    println!(
        "| call errors | {call_errors} | 0: {} |",
        verdict(call_errors == 0)
    );
    println!(
        "| SSE streams opened / failed to open / ended before the end | {opened} / {stream_failures} / {ended_early} | {} / 0 / 0: {} |",
        args.streams,
        verdict(opened == args.streams as u64 && stream_failures == 0 && ended_early == 0)
    );
    println!(
        "| keep-alive pings of the held sessions (every {} s) answered / failed | {pings_answered} / {pings_failed} | failed 0: {} |",
        SESSION_PING_INTERVAL.as_secs(),
        verdict(pings_failed == 0)
    );
    println!(
        "| audit events received by the ingest / MCP POSTs through the gateway | {events} / {expected_events} | equal: {} |",
        verdict(events == expected_events)
    );
    let all_ok = rss_ok
        && call_errors == 0
        && opened == args.streams as u64
        && stream_failures == 0
        && ended_early == 0
        && pings_failed == 0
        && events == expected_events;
    if !all_ok {
        bail!("the soak failed (see the table)");
    }
    Ok(())
}
