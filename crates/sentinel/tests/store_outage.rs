//! The store goes away under load and comes back: `/ready` answers 503, ingest answers 503
//! `store_unavailable` with `Retry-After` (never a 500), every batch is stored whole or not at
//! all, and service resumes without a restart when the store returns.
//!
//! - PostgreSQL (the real server of `MCP_RUNTIME_TEST_POSTGRES_URL`): the test's own database
//!   stops accepting connections (`ALLOW_CONNECTIONS false`) and its sessions are terminated,
//!   then it is allowed again.
//! - SQLite: the database file is moved away from its path (a volume unmounted, a file deleted),
//!   then moved back.

mod common;

use common::{get, post_json, start};
use mcp_runtime_sentinel::{SentinelConfig, StoreUrl};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events per batch.
const BATCH: usize = 50;
/// Concurrent senders.
const SENDERS: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(30);

/// One ingest request and its answer.
#[derive(Debug, Clone)]
struct Sent {
    batch: String,
    status: u16,
    retry_after: Option<String>,
    error: Value,
}

fn batch_events(batch: &str) -> Value {
    let now = jiff::Timestamp::now().to_string();
    Value::Array(
        (0..BATCH)
            .map(|i| {
                json!({
                    "event_id": format!("{batch}:{i}"),
                    "timestamp": now,
                    "event_type": "mcp.request",
                    "source": "outage-gateway",
                    "payload": {"status": 200, "server": "outage", "tool_name": "add"},
                })
            })
            .collect(),
    )
}

async fn send(url: &str, batch: &str) -> Sent {
    let reply = post_json(url, None, &batch_events(batch)).await;
    Sent {
        batch: batch.to_owned(),
        status: reply.status,
        retry_after: reply
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        error: reply.body["error"].clone(),
    }
}

/// Senders posting new batches back to back until stopped; every answer is kept in order.
struct Load {
    sent: Arc<Mutex<Vec<Sent>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str) -> Self {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..SENDERS)
            .map(|sender| {
                let (sent, stop) = (sent.clone(), stop.clone());
                let url = format!("{base}/events");
                tokio::spawn(async move {
                    let mut n = 0;
                    // Paced so that the store is written continuously without a flood of
                    // batches while it is away.
                    let mut pace = tokio::time::interval(Duration::from_millis(25));
                    while !stop.load(Ordering::Relaxed) {
                        pace.tick().await;
                        let reply = send(&url, &format!("s{sender}-b{n}")).await;
                        sent.lock().expect("lock").push(reply);
                        n += 1;
                    }
                })
            })
            .collect();
        Self { sent, stop, tasks }
    }

    fn len(&self) -> usize {
        self.sent.lock().expect("lock").len()
    }

    /// Waits until an answer after the `from`-th one satisfies `want`, and returns it.
    async fn wait_for_answer(&self, what: &str, from: usize, want: impl Fn(&Sent) -> bool) -> Sent {
        common::eventually(what, TIMEOUT, async || {
            self.sent.lock().expect("lock")[from..]
                .iter()
                .find(|s| want(s))
                .cloned()
        })
        .await
    }

    async fn stop(self) -> Vec<Sent> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("sender");
        }
        Arc::try_unwrap(self.sent)
            .expect("senders stopped")
            .into_inner()
            .expect("lock")
    }
}

/// The store's side of the test: how it is taken away, brought back and inspected.
trait Outage {
    async fn take_away(&mut self);
    async fn bring_back(&mut self);
    /// Stored events per batch (the part of `event_id` before `:`).
    async fn stored_per_batch(&self) -> BTreeMap<String, usize>;
}

fn count_by_batch(ids: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for id in ids {
        let batch = id
            .split_once(':')
            .map_or(id.as_str(), |(b, _)| b)
            .to_owned();
        *counts.entry(batch).or_insert(0) += 1;
    }
    counts
}

async fn ready_status(base: &str) -> (u16, Value) {
    let reply = get(&format!("{base}/ready")).await;
    (reply.status, reply.body)
}

/// The scenario, the same for every store.
async fn store_goes_away_and_returns(base: &str, mut outage: impl Outage) {
    assert_eq!(ready_status(base).await.0, 200);
    let load = Load::start(base);
    load.wait_for_answer("batches stored before the outage", 0, |s| s.status == 202)
        .await;

    outage.take_away().await;
    let outage_began = load.len();
    let body = common::eventually("/ready to answer 503", TIMEOUT, async || {
        let (status, body) = ready_status(base).await;
        (status == 503).then_some(body)
    })
    .await;
    assert_eq!(body["error"], "store_unavailable", "{body}");
    let refused = load
        .wait_for_answer("an ingest refused during the outage", outage_began, |s| {
            s.status == 503
        })
        .await;
    assert_eq!(refused.error, "store_unavailable", "{refused:?}");
    assert_eq!(refused.retry_after.as_deref(), Some("5"), "{refused:?}");
    // Still away: still not ready, and still refusing.
    let still_away = load.len();
    load.wait_for_answer("another refusal", still_away, |s| s.status == 503)
        .await;
    assert_eq!(ready_status(base).await.0, 503);

    outage.bring_back().await;
    let back = load.len();
    common::eventually("/ready to answer 200 again", TIMEOUT, async || {
        ready_status(base).await.0 == 200
    })
    .await;
    load.wait_for_answer("a batch stored after the store returned", back, |s| {
        s.status == 202
    })
    .await;
    let sent = load.stop().await;

    // Only the two answers of a working and of a missing store, and the latter says when to
    // retry.
    for s in &sent {
        assert!(
            s.status == 202 || (s.status == 503 && s.retry_after.is_some()),
            "{s:?}"
        );
    }
    // All or nothing: no batch is stored in part, and every acknowledged one is whole.
    let stored = outage.stored_per_batch().await;
    for s in &sent {
        let n = stored.get(&s.batch).copied().unwrap_or(0);
        assert!(
            n == 0 || n == BATCH,
            "batch {} stored in part: {n}",
            s.batch
        );
        if s.status == 202 {
            assert_eq!(n, BATCH, "acknowledged batch {} is whole", s.batch);
        }
    }
    // The refused batches, sent again as a gateway's spool would, are stored whole.
    let url = format!("{base}/events");
    let refused: Vec<&Sent> = sent.iter().filter(|s| s.status == 503).collect();
    assert!(!refused.is_empty());
    for s in &refused {
        let reply = post_json(&url, None, &batch_events(&s.batch)).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let kept = reply.body["stored"].as_u64().expect("stored")
            + reply.body["duplicates"].as_u64().expect("duplicates");
        assert_eq!(kept, BATCH as u64, "{}", reply.text);
    }
    let stored = outage.stored_per_batch().await;
    for s in &sent {
        assert_eq!(stored.get(&s.batch).copied(), Some(BATCH), "{}", s.batch);
    }
}

struct PostgresOutage {
    admin: tokio_postgres::Client,
    database: String,
    url: String,
}

impl Outage for PostgresOutage {
    async fn take_away(&mut self) {
        let database = &self.database;
        self.admin
            .batch_execute(&format!(
                "ALTER DATABASE {database} ALLOW_CONNECTIONS false;
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = '{database}' AND pid <> pg_backend_pid();"
            ))
            .await
            .expect("take the database away");
    }

    async fn bring_back(&mut self) {
        self.admin
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                self.database
            ))
            .await
            .expect("allow connections again");
    }

    async fn stored_per_batch(&self) -> BTreeMap<String, usize> {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        let rows = client
            .query("SELECT event_id FROM events", &[])
            .await
            .expect("read the events");
        count_by_batch(rows.iter().map(|r| r.get::<_, String>(0)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_answers_503_with_retry_after_stores_batches_whole_and_recovers() {
    let store = common::postgres().await;
    let StoreUrl::Postgres(url) = store.url.clone() else {
        unreachable!("a PostgreSQL store")
    };
    let database = url
        .rsplit_once('/')
        .map(|(_, rest)| rest.split('?').next().unwrap_or(rest).to_owned())
        .expect("database name");
    let base_url = std::env::var(common::POSTGRES_ENV).expect("checked by common::postgres");
    let (admin, connection) = tokio_postgres::connect(&base_url, tokio_postgres::NoTls)
        .await
        .expect("connect as the administrator");
    tokio::spawn(connection);
    let running = start(SentinelConfig::new(store.url.clone())).await;
    store_goes_away_and_returns(
        &running.base,
        PostgresOutage {
            admin,
            database,
            url,
        },
    )
    .await;
}

struct SqliteOutage {
    path: std::path::PathBuf,
    moved: std::path::PathBuf,
}

impl Outage for SqliteOutage {
    async fn take_away(&mut self) {
        std::fs::rename(&self.path, &self.moved).expect("move the database file away");
    }

    async fn bring_back(&mut self) {
        std::fs::rename(&self.moved, &self.path).expect("move the database file back");
    }

    async fn stored_per_batch(&self) -> BTreeMap<String, usize> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the database");
        let mut statement = conn
            .prepare("SELECT event_id FROM events")
            .expect("prepare");
        let ids: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        count_by_batch(ids)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_going_away_answers_503_with_retry_after_stores_batches_whole_and_recovers() {
    let store = common::sqlite();
    let StoreUrl::Sqlite(path) = store.url.clone() else {
        unreachable!("an SQLite store")
    };
    let running = start(SentinelConfig::new(store.url.clone())).await;
    let moved = path.with_extension("moved");
    store_goes_away_and_returns(&running.base, SqliteOutage { path, moved }).await;
}
