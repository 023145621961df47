//! Sentinel benchmark (not run by CI): ingest rate over HTTP and query latency over a large
//! store, for SQLite and, when a server is given, PostgreSQL.
//!
//! ```sh
//! cargo bench -p mcp-runtime-sentinel --bench sentinel
//! # PostgreSQL too (a fresh database is created on that server):
//! SENTINEL_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p mcp-runtime-sentinel --bench sentinel
//! ```
//!
//! `SENTINEL_BENCH_DIR=<dir>` keeps the SQLite store there (as `bench.db`) instead of deleting it.
//!
//! `SENTINEL_BENCH_EVENTS` (default 1,000,000) events spread over 30 days, 20 servers, 200 agents,
//! 50 humans and 100 tools (10% denied), are POSTed to `/events` in batches of 500 by 4
//! concurrent clients on 127.0.0.1. The baseline for ingest is the same events handed to
//! `Sentinel::ingest` in process (no HTTP, no JSON parsing); for queries it is `GET /live` (the
//! HTTP round trip alone). Prints a Markdown table.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_runtime_audit::{AuditEvent, Decision, RequestPayload};
use mcp_runtime_sentinel::{Sentinel, SentinelConfig, StoreUrl};

const BATCH: usize = 500;
const CLIENTS: usize = 4;
const CHUNK: usize = 100_000;
const DAYS: i64 = 30;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn event(i: usize, total: usize, now: jiff::Timestamp) -> AuditEvent {
    // A cheap deterministic mix so that the values are spread.
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let pick = |n: u64, shift: u32| ((h >> shift) % n) as usize;
    let deny = pick(10, 7) == 0;
    let span_ns = i128::from(DAYS) * 86_400 * 1_000_000_000;
    let offset = span_ns * (total - i) as i128 / total as i128;
    let mut e = AuditEvent::request(RequestPayload {
        method: "POST".into(),
        path: "/mcp".into(),
        status: if deny { 403 } else { 200 },
        latency_ms: 3 + pick(50, 11) as u64,
        bytes_in: 180,
        bytes_out: 900,
        server: format!("server-{}", pick(20, 13)),
        namespace: "mcp-servers".into(),
        team_id: "platform".into(),
        cluster: "prod".into(),
        human_id: format!("user-{}@example.com", pick(50, 17)),
        agent_id: format!("agent-{}", pick(200, 23)),
        subject_team_id: "platform".into(),
        session_id: format!("session-{}", pick(1000, 29)),
        decision: if deny {
            Decision::Deny
        } else {
            Decision::Allow
        },
        reason: if deny {
            "trust_too_low".into()
        } else {
            "allowed".into()
        },
        policy_version: "rev-42".into(),
        rpc_method: Some("tools/call".into()),
        tool_name: Some(format!("tool-{}", pick(100, 31))),
        matched_grant: Some("grant".into()),
        matched_grant_namespace: Some("mcp-servers".into()),
        required_trust: Some("medium".into()),
        admin_trust: Some("high".into()),
        consented_trust: Some("medium".into()),
        effective_trust: Some("medium".into()),
        ..RequestPayload::default()
    });
    e.timestamp = jiff::Timestamp::from_nanosecond(now.as_nanosecond() - offset).unwrap_or(now);
    e
}

fn batches(from: usize, to: usize, total: usize, now: jiff::Timestamp) -> Vec<Bytes> {
    (from..to)
        .step_by(BATCH)
        .map(|start| {
            let events: Vec<AuditEvent> = (start..(start + BATCH).min(to))
                .map(|i| event(i, total, now))
                .collect();
            Bytes::from(serde_json::to_vec(&events).expect("serialize"))
        })
        .collect()
}

async fn get(client: &HttpClient, url: &str) -> Duration {
    let start = Instant::now();
    let response = client
        .request(
            http::Request::get(url)
                .body(Full::new(Bytes::new()))
                .expect("request"),
        )
        .await
        .expect("GET");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body");
    assert!(status.is_success(), "{url}: {status} {:?}", body.to_bytes());
    start.elapsed()
}

async fn latencies(client: &HttpClient, urls: impl Iterator<Item = String>) -> Vec<Duration> {
    let mut samples = Vec::new();
    for url in urls {
        samples.push(get(client, &url).await);
    }
    samples
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

struct Figures {
    store: String,
    events: usize,
    ingest_rate: f64,
    direct_rate: f64,
    page_p50: f64,
    page_p95: f64,
    usage_p50: f64,
    usage_p95: f64,
    usage_week_p95: f64,
    usage_filtered_p95: f64,
    live_p95: f64,
}

async fn run(store: StoreUrl, label: &str, total: usize) -> Figures {
    let mut config = SentinelConfig::new(store.clone());
    config.retention = None;
    let sentinel = Sentinel::open(config.clone()).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = sentinel.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let client: HttpClient = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let now = jiff::Timestamp::now();

    // Ingest over HTTP, in chunks generated ahead of timing.
    let mut posting = Duration::ZERO;
    let mut done = 0;
    while done < total {
        let to = (done + CHUNK).min(total);
        let chunk = batches(done, to, total, now);
        let start = Instant::now();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(chunk));
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let queue = queue.clone();
            let client = client.clone();
            let url = format!("{base}/events");
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(body) = queue.lock().expect("lock").pop() else {
                        return;
                    };
                    let response = client
                        .request(
                            http::Request::post(&url)
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .expect("request"),
                        )
                        .await
                        .expect("POST");
                    assert_eq!(response.status(), 202);
                    let _ = response.into_body().collect().await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("client");
        }
        posting += start.elapsed();
        done = to;
        eprintln!("{label}: {done} events ingested");
    }
    let ingest_rate = total as f64 / posting.as_secs_f64();

    // Baseline: the same path without HTTP, into a separate small store.
    let direct_events = 50_000.min(total);
    let direct_dir = tempfile::tempdir().expect("tempdir");
    let direct_store = match &store {
        StoreUrl::Sqlite(_) => StoreUrl::Sqlite(direct_dir.path().join("direct.db")),
        StoreUrl::Postgres(url) => StoreUrl::Postgres(fresh_database(url, "direct").await),
    };
    let mut direct_config = SentinelConfig::new(direct_store);
    direct_config.retention = None;
    let direct = Sentinel::open(direct_config).await.expect("open direct");
    let events: Vec<Vec<AuditEvent>> = (0..direct_events)
        .step_by(BATCH)
        .map(|s| {
            (s..s + BATCH)
                .map(|i| event(i, direct_events, now))
                .collect()
        })
        .collect();
    let start = Instant::now();
    let mut handles = Vec::new();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(events));
    for _ in 0..CLIENTS {
        let queue = queue.clone();
        let direct = direct.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let Some(batch) = queue.lock().expect("lock").pop() else {
                    return;
                };
                direct.ingest(&batch).await.expect("ingest");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("direct");
    }
    let direct_rate = direct_events as f64 / start.elapsed().as_secs_f64();

    // Queries.
    let mut live = Vec::new();
    for _ in 0..200 {
        live.push(get(&client, &format!("{base}/live")).await);
    }
    let mut pages = Vec::new();
    for i in 0..200usize {
        let query = match i % 4 {
            0 => format!("agent_id=agent-{}", i % 200),
            1 => format!("server=server-{}&decision=deny", i % 20),
            2 => format!("tool_name=tool-{}&from=7d", i % 100),
            _ => format!(
                "human_id=user-{}%40example.com&server=server-{}",
                i % 50,
                i % 20
            ),
        };
        pages.push(get(&client, &format!("{base}/api/v1/events?{query}&limit=50")).await);
    }
    let mut usage = latencies(
        &client,
        (0..5).map(|_| format!("{base}/api/v1/analytics/usage")),
    )
    .await;
    // What the UI's overview asks by default.
    let mut usage_week = latencies(
        &client,
        (0..10).map(|_| format!("{base}/api/v1/analytics/usage?from=7d&top=8&series=server")),
    )
    .await;
    let mut usage_filtered = latencies(
        &client,
        (0..10usize).map(|i| {
            format!(
                "{base}/api/v1/analytics/usage?server=server-{}&from=7d",
                i % 20
            )
        }),
    )
    .await;
    Figures {
        store: label.to_owned(),
        events: total,
        ingest_rate,
        direct_rate,
        page_p50: percentile(&mut pages, 0.5),
        page_p95: percentile(&mut pages, 0.95),
        usage_p50: percentile(&mut usage, 0.5),
        usage_p95: percentile(&mut usage, 0.95),
        usage_week_p95: percentile(&mut usage_week, 0.95),
        usage_filtered_p95: percentile(&mut usage_filtered, 0.95),
        live_p95: percentile(&mut live, 0.95),
    }
}

async fn fresh_database(base: &str, tag: &str) -> String {
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("connect to SENTINEL_BENCH_POSTGRES_URL");
    tokio::spawn(connection);
    let name = format!("sentinel_bench_{tag}_{}", uuid::Uuid::now_v7().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let (head, _) = base.rsplit_once('/').expect("a database in the URL");
    format!("{head}/{name}")
}

fn main() {
    let total: usize = std::env::var("SENTINEL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // `SENTINEL_BENCH_DIR` keeps the SQLite store afterwards, for looking into its queries.
    let dir = tempfile::tempdir().expect("tempdir");
    let db_dir = std::env::var_os("SENTINEL_BENCH_DIR")
        .map_or_else(|| dir.path().to_path_buf(), std::path::PathBuf::from);
    let mut figures = Vec::new();
    runtime.block_on(async {
        figures.push(run(StoreUrl::Sqlite(db_dir.join("bench.db")), "SQLite", total).await);
        if let Ok(url) = std::env::var("SENTINEL_BENCH_POSTGRES_URL") {
            let url = fresh_database(&url, "http").await;
            figures.push(run(StoreUrl::Postgres(url), "PostgreSQL", total).await);
        } else {
            eprintln!("SENTINEL_BENCH_POSTGRES_URL is not set: PostgreSQL skipped");
        }
    });
    println!(
        "| Store | Events | Ingest over HTTP (events/s) | In-process baseline (events/s) | Ratio | \
         Filtered page p50 / p95 (ms) | Usage, all p50 / p95 (ms) | Usage, 7d with series p95 (ms) | \
         Usage, one server 7d p95 (ms) | GET /live p95 (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.1} / {:.1} | {:.0} / {:.0} | {:.0} | {:.0} | {:.2} |",
            f.store,
            f.events,
            f.ingest_rate,
            f.direct_rate,
            f.ingest_rate / f.direct_rate,
            f.page_p50,
            f.page_p95,
            f.usage_p50,
            f.usage_p95,
            f.usage_week_p95,
            f.usage_filtered_p95,
            f.live_p95,
        );
    }
}
