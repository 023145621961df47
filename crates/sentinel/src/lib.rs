//! Sentinel: the audit trail of mcp-runtime.
//!
//! It ingests the gateway's audit events (`POST /events`, one event or a batch, in the
//! [`mcp_runtime_audit::AuditEvent`] envelope), stores them idempotently by `event_id` in SQLite
//! (embedded, the default) or PostgreSQL, and serves a query API compatible with the Go
//! mcp-runtime's analytics paths, Prometheus metrics and a web UI.
//!
//! # Embedding
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_runtime_sentinel::{Sentinel, SentinelConfig};
//!
//! let sentinel = Sentinel::open(SentinelConfig::new("sqlite://./state/sentinel.db".parse()?)).await?;
//! // Ingest, query API, /metrics and the UI; the UI works under any prefix.
//! let app = axum::Router::new().nest("/sentinel", sentinel.router());
//! // Hand events over in process, without HTTP.
//! let sink = sentinel.sink();
//! # let _ = (app, sink);
//! # Ok(()) }
//! ```
//!
//! Or run it standalone with [`serve`].
//!
//! # HTTP surface
//!
//! | Path | What |
//! |---|---|
//! | `POST /events` | Ingest: one event or a JSON array (≤ 1 MiB). `x-api-key` when keys are configured. 202 with `{stored, duplicates, rejected}`. |
//! | `GET /live`, `/ready`, `/health` | Liveness, readiness (the store answers), details. |
//! | `GET /api/v1/events` | Filtered, cursor-paginated events, newest first. |
//! | `GET /api/v1/events/{event_id}` | One event. |
//! | `GET /api/v1/stats`, `/sources`, `/event-types`, `/analytics/usage` | Aggregates. |
//! | `GET /metrics` | Prometheus (OpenMetrics text). |
//! | `GET /ui/` | The web UI (`/` redirects there). |
//!
//! `docs/sentinel.md` in the repository documents every response.

mod api;
mod decisions;
pub mod ingest;
mod metrics;
pub mod store;
mod ui;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_runtime_audit::chain::SignatureCheck;
use mcp_runtime_audit::{AuditEvent, AuditSink, Chainer, PublicKey, Signer};
use tokio::sync::{Semaphore, mpsc};

pub use api::IngestOutcome;
pub use decisions::CONTENT_TYPE as DECISIONS_CONTENT_TYPE;
pub use ingest::Rejection;
pub use store::{Store, StoreError, StoreUrl};

use crate::metrics::Metrics;
use crate::store::{CheckpointRecord, EventRecord};

/// Default request body limit of `POST /events` (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// How Sentinel runs.
#[derive(Clone)]
pub struct SentinelConfig {
    /// Where events are stored.
    pub store: StoreUrl,
    /// Keys accepted in `x-api-key` by `POST /events`. Empty: ingest is open (logged loudly).
    pub api_keys: Vec<String>,
    /// Keys accepted in `x-api-key` by `/api/v1/*`. Empty: the query API is open.
    pub read_api_keys: Vec<String>,
    /// Events older than this are deleted (checked every `retention_interval`). `None`: kept.
    pub retention: Option<Duration>,
    /// How often retention runs (default 10 minutes).
    pub retention_interval: Duration,
    /// Request body limit of `POST /events` (default 1 MiB).
    pub max_body_bytes: usize,
    /// Ingest bodies buffered at once; further requests wait (default 32, so at most 32 MiB).
    pub max_inflight_requests: usize,
    /// How long a request waits for one of those slots before it is answered 503 `overloaded`
    /// with `Retry-After: 1` (default 10 s): a gateway's sink retries, and its spool keeps the
    /// events meanwhile.
    pub ingest_wait: Duration,
    /// Queue of the in-process sink; events beyond it are dropped and counted (default 65536).
    pub sink_queue: usize,
    /// Public keys trusted to sign audit-chain checkpoints; a checkpoint is marked valid on
    /// receipt when one of them verifies it. Empty: checkpoints are stored unchecked.
    pub chain_keys: Vec<PublicKey>,
}

impl std::fmt::Debug for SentinelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelConfig")
            .field("store", &self.store)
            .field("api_keys", &format_args!("<{} keys>", self.api_keys.len()))
            .field(
                "read_api_keys",
                &format_args!("<{} keys>", self.read_api_keys.len()),
            )
            .field("retention", &self.retention)
            .field("retention_interval", &self.retention_interval)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_inflight_requests", &self.max_inflight_requests)
            .field("ingest_wait", &self.ingest_wait)
            .field("sink_queue", &self.sink_queue)
            .field(
                "chain_keys",
                &self
                    .chain_keys
                    .iter()
                    .map(PublicKey::key_id)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SentinelConfig {
    /// Defaults for everything but the store: no keys, 30 days retention, 1 MiB bodies.
    pub fn new(store: StoreUrl) -> Self {
        Self {
            store,
            api_keys: Vec::new(),
            read_api_keys: Vec::new(),
            retention: Some(Duration::from_secs(30 * 86_400)),
            retention_interval: Duration::from_secs(600),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_inflight_requests: 32,
            ingest_wait: Duration::from_secs(10),
            sink_queue: 65_536,
            chain_keys: Vec::new(),
        }
    }
}

/// Why Sentinel cannot start or serve.
#[derive(Debug, thiserror::Error)]
pub enum SentinelError {
    /// Opening the store failed.
    #[error("opening the store {store}: {source}")]
    Store {
        /// The store.
        store: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(#[from] std::io::Error),
}

pub(crate) struct Inner {
    pub(crate) config: SentinelConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) ingest_permits: Arc<Semaphore>,
    pub(crate) started: Instant,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Inner {
    pub(crate) async fn store_records(
        &self,
        records: Vec<EventRecord>,
        checkpoints: Vec<CheckpointRecord>,
        rejected: Vec<Rejection>,
    ) -> Result<IngestOutcome, StoreError> {
        store_records(
            self.store.as_ref(),
            &self.metrics,
            &self.config.chain_keys,
            (records, checkpoints, rejected),
        )
        .await
    }
}

async fn store_records(
    store: &dyn Store,
    metrics: &Metrics,
    chain_keys: &[PublicKey],
    (records, mut checkpoints, rejected): Received,
) -> Result<IngestOutcome, StoreError> {
    let valid = records.len() as u64;
    let stored = if records.is_empty() {
        0
    } else {
        store.insert(records).await?
    };
    if !checkpoints.is_empty() {
        for c in &mut checkpoints {
            c.signature_valid = match c.checkpoint.check(chain_keys) {
                SignatureCheck::Valid => Some(true),
                SignatureCheck::Invalid => {
                    tracing::warn!(
                        chain_id = %c.checkpoint.chain_id,
                        seq = c.checkpoint.seq,
                        key_id = %c.checkpoint.key_id,
                        "sentinel: an audit-chain checkpoint is not signed by a trusted key"
                    );
                    Some(false)
                }
                SignatureCheck::Unchecked => None,
            };
        }
        store.insert_checkpoints(checkpoints).await?;
    }
    let duplicates = valid.saturating_sub(stored);
    metrics.events("stored", stored);
    metrics.events("duplicate", duplicates);
    metrics.events("rejected", rejected.len() as u64);
    Ok(IngestOutcome {
        stored,
        duplicates,
        rejected,
    })
}

/// A running Sentinel: the store, the metrics and the background tasks. Cheap to clone.
#[derive(Clone)]
pub struct Sentinel {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sentinel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sentinel")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Sentinel {
    /// Opens the store (creating the SQLite file, or applying the PostgreSQL migrations) and
    /// starts the retention task. Must run inside a tokio runtime.
    pub async fn open(config: SentinelConfig) -> Result<Self, SentinelError> {
        let store = store::open(&config.store)
            .await
            .map_err(|source| SentinelError::Store {
                store: config.store.to_string(),
                source,
            })?;
        Ok(Self::with_store(config, store))
    }

    /// Runs over an already opened store (`config.store` is only informational).
    pub fn with_store(config: SentinelConfig, store: Arc<dyn Store>) -> Self {
        // No warning here about a missing ingest key: `mcp-runtime sentinel` prints one with the
        // setting to fix, and an embedder (such as `mcp-runtime up` on loopback) decides itself.
        let metrics = Arc::new(Metrics::new());
        let mut tasks = Vec::new();
        if let Some(retention) = config.retention.filter(|r| !r.is_zero()) {
            let store = store.clone();
            let metrics = metrics.clone();
            let interval = config.retention_interval.max(Duration::from_secs(1));
            tasks.push(
                tokio::spawn(async move {
                    loop {
                        let cutoff = jiff::Timestamp::now().as_nanosecond()
                            - i128::try_from(retention.as_nanos()).unwrap_or(i128::MAX / 2);
                        let cutoff = i64::try_from(cutoff).unwrap_or(i64::MIN);
                        match store.delete_before(cutoff).await {
                            Ok(n) => {
                                metrics.retention_deleted.inc_by(n);
                            }
                            Err(e) => tracing::warn!(error = %e, "sentinel: retention failed"),
                        }
                        tokio::time::sleep(interval).await;
                    }
                })
                .abort_handle(),
            );
        }
        Self {
            inner: Arc::new(Inner {
                ingest_permits: Arc::new(Semaphore::new(config.max_inflight_requests.max(1))),
                config,
                store,
                metrics,
                started: Instant::now(),
                tasks,
            }),
        }
    }

    /// The whole HTTP surface as one router, to serve or to nest under a prefix.
    pub fn router(&self) -> axum::Router {
        api::router(self.inner.clone())
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// Whether `POST /events` is open (no API key configured).
    pub fn ingest_is_open(&self) -> bool {
        self.inner.config.api_keys.is_empty()
    }

    /// Validates and stores events handed over in process, exactly as `POST /events` would.
    pub async fn ingest(&self, events: &[AuditEvent]) -> Result<IngestOutcome, StoreError> {
        let (records, checkpoints, rejected) = to_records(events);
        self.inner
            .store_records(records, checkpoints, rejected)
            .await
    }

    /// An [`AuditSink`] that stores events in this Sentinel without HTTP. `emit` never blocks:
    /// events are queued (bounded by `sink_queue`) and written in batches by a background task;
    /// when the queue is full, events are dropped, counted in
    /// `sentinel_sink_dropped_events_total` and logged.
    pub fn sink(&self) -> SentinelSink {
        self.spawn_sink(None)
    }

    /// Like [`Sentinel::sink`], but the sink's task also chains the events (one chain per sink)
    /// in the order it stores them, and, with a `signer`, stores a signed checkpoint of the
    /// chain head every `checkpoint_interval` when it moved, and when the sink closes
    /// ([`SentinelSink::close`]).
    pub fn chained_sink(
        &self,
        signer: Option<Arc<Signer>>,
        checkpoint_interval: Duration,
    ) -> SentinelSink {
        self.spawn_sink(Some(SinkChain {
            chainer: Chainer::new(),
            signer,
            interval: checkpoint_interval.max(Duration::from_millis(10)),
            checkpointed_seq: 0,
        }))
    }

    fn spawn_sink(&self, mut chain: Option<SinkChain>) -> SentinelSink {
        let (tx, mut rx) = mpsc::channel::<AuditEvent>(self.inner.config.sink_queue.max(1));
        let store = self.inner.store.clone();
        let metrics = self.inner.metrics.clone();
        let keys = self.inner.config.chain_keys.clone();
        let pending = Arc::new(AtomicU64::new(0));
        let in_task = pending.clone();
        let chain_id = chain.as_ref().map(|c| c.chainer.id().to_owned());
        let (close_tx, mut close_rx) = mpsc::channel::<tokio::sync::oneshot::Sender<()>>(1);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(1024);
            let interval = chain
                .as_ref()
                .map_or(Duration::from_secs(3600), |c| c.interval);
            let mut next_checkpoint = tokio::time::Instant::now() + interval;
            loop {
                let mut closing = None;
                tokio::select! {
                    received = rx.recv_many(&mut batch, 1024) => if received == 0 {
                        return;
                    },
                    () = tokio::time::sleep_until(next_checkpoint) => {}
                    reply = close_rx.recv() => closing = reply,
                }
                if closing.is_some() {
                    // Everything emitted before the close, then the last checkpoint.
                    while let Ok(ev) = rx.try_recv() {
                        batch.push(ev);
                    }
                }
                let n = batch.len() as u64;
                if let Some(chain) = &mut chain {
                    for event in &mut batch {
                        chain.chainer.link(event);
                    }
                    if closing.is_some() || tokio::time::Instant::now() >= next_checkpoint {
                        next_checkpoint = tokio::time::Instant::now() + interval;
                        batch.extend(chain.checkpoint());
                    }
                }
                if !batch.is_empty() {
                    let received = to_records(&batch);
                    batch.clear();
                    if let Err(e) = store_records(store.as_ref(), &metrics, &keys, received).await {
                        tracing::warn!(error = %e, "sentinel: in-process sink could not store events");
                    }
                }
                in_task.fetch_sub(n, Ordering::AcqRel);
                if let Some(reply) = closing {
                    let _ = reply.send(());
                }
            }
        });
        SentinelSink {
            tx,
            pending,
            metrics: self.inner.metrics.clone(),
            chain_id,
            close: close_tx,
        }
    }
}

/// The chain an in-process sink keeps.
struct SinkChain {
    chainer: Chainer,
    signer: Option<Arc<Signer>>,
    interval: Duration,
    checkpointed_seq: u64,
}

impl SinkChain {
    /// A checkpoint event of the head, when it moved since the last one.
    fn checkpoint(&mut self) -> Option<AuditEvent> {
        let checkpoint = self.chainer.checkpoint(self.signer.as_deref()?)?;
        if checkpoint.seq == self.checkpointed_seq {
            return None;
        }
        self.checkpointed_seq = checkpoint.seq;
        Some(AuditEvent::checkpoint(self.chainer.source(), checkpoint))
    }
}

/// Events, checkpoints and refused items of one hand-over.
type Received = (Vec<EventRecord>, Vec<CheckpointRecord>, Vec<Rejection>);

fn to_records(events: &[AuditEvent]) -> Received {
    let mut records = Vec::with_capacity(events.len());
    let mut checkpoints = Vec::new();
    let mut rejected = Vec::new();
    for (index, event) in events.iter().enumerate() {
        if event.checkpoint.is_some()
            && let Some(checkpoint) = ingest::checkpoint_from_event(event)
        {
            checkpoints.push(checkpoint);
            continue;
        }
        match ingest::record_from_event(event) {
            Ok(r) => records.push(r),
            Err((field, error)) => rejected.push(Rejection {
                index,
                event_id: Some(event.event_id.clone()).filter(|i| !i.is_empty()),
                field,
                error,
            }),
        }
    }
    (records, checkpoints, rejected)
}

/// The in-process [`AuditSink`] of a [`Sentinel`] (see [`Sentinel::sink`]).
#[derive(Debug, Clone)]
pub struct SentinelSink {
    tx: mpsc::Sender<AuditEvent>,
    pending: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
    chain_id: Option<String>,
    close: mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
}

impl SentinelSink {
    /// The id of the chain this sink keeps ([`Sentinel::chained_sink`]).
    pub fn chain_id(&self) -> Option<&str> {
        self.chain_id.as_deref()
    }

    /// Stores everything emitted so far and, for a chained sink with a signer, a last checkpoint
    /// of the chain head. Waits up to `timeout`; returns whether it was done in time.
    pub async fn close(&self, timeout: Duration) -> bool {
        let (reply, done) = tokio::sync::oneshot::channel();
        if self.close.send(reply).await.is_err() {
            return false;
        }
        tokio::time::timeout(timeout, done)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until every event emitted so far has been written (or failed), up to `timeout`.
    /// Returns whether the queue drained.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.pending.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

impl AuditSink for SentinelSink {
    fn emit(&self, event: AuditEvent) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.tx.try_send(event).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            self.metrics.sink_dropped.inc();
            let dropped = self.metrics.sink_dropped.get();
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped_total = dropped,
                    "sentinel: in-process sink queue full, events dropped"
                );
            }
        }
    }
}

/// Opens Sentinel and serves it on `listener` until `shutdown` resolves.
pub async fn serve(
    config: SentinelConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SentinelError> {
    let sentinel = Sentinel::open(config).await?;
    axum::serve(listener, sentinel.router())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Parses a duration: a number with a unit `s`, `m`, `h`, `d` or `w` (`90s`, `15m`, `30d`).
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = value.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_duration("30d"),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_duration("2w"), Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5y"), None);
        assert_eq!(parse_duration("h"), None);
    }
}
