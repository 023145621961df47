//! Audit sinks: JSON lines on stdout, and batched HTTP delivery with a disk spool.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::chain::{Chainer, Signer};
use crate::event::AuditEvent;
use crate::spool::Spool;

/// Where audit events go. `emit` must never block the request path on the
/// network; implementations queue or write locally.
pub trait AuditSink: Send + Sync {
    /// Hands one event to the sink.
    fn emit(&self, event: AuditEvent);
}

impl<T: AuditSink + ?Sized> AuditSink for Arc<T> {
    fn emit(&self, event: AuditEvent) {
        (**self).emit(event);
    }
}

/// Writes each event as one JSON line on stdout.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

impl AuditSink for StdoutSink {
    fn emit(&self, event: AuditEvent) {
        match serde_json::to_vec(&event) {
            Ok(mut line) => {
                line.push(b'\n');
                let mut out = std::io::stdout().lock();
                if let Err(err) = out.write_all(&line).and_then(|()| out.flush()) {
                    tracing::warn!(%err, "audit: cannot write event to stdout");
                }
            }
            Err(err) => tracing::warn!(%err, "audit: cannot serialize event"),
        }
    }
}

/// How the gateway's variables for the ingest's TLS files are named in messages.
const TLS_VARIABLES: mcp_runtime_tls::FileNames = mcp_runtime_tls::FileNames {
    ca_bundle: "ANALYTICS_CA_BUNDLE",
    client_cert: "ANALYTICS_CLIENT_CERT",
    client_key: "ANALYTICS_CLIENT_KEY",
};

/// Configuration of an [`HttpSink`].
#[derive(Clone)]
pub struct HttpSinkConfig {
    /// Ingest URL (`http://…` or `https://…`), e.g. Sentinel's `POST /events`.
    pub ingest_url: String,
    /// For `https`: the CA bundle to trust instead of the system's trust store, and a client
    /// certificate to present.
    pub tls: mcp_runtime_tls::TlsFiles,
    /// Sent as `x-api-key` when set.
    pub api_key: Option<String>,
    /// Directory of the disk spool; created if missing.
    pub spool_dir: PathBuf,
    /// In-memory queue capacity (default 4096).
    pub queue_capacity: usize,
    /// Maximum events per POST (default 256).
    pub batch_max: usize,
    /// How long to wait to fill a batch (default 200 ms).
    pub batch_interval: Duration,
    /// Per-request timeout (default 3 s).
    pub request_timeout: Duration,
    /// Bound on the spool's total size (default 64 MiB).
    pub spool_max_bytes: u64,
    /// Size at which a spool segment file is rotated (default 1 MiB).
    pub spool_segment_bytes: u64,
    /// First retry delay after a failure (default 250 ms).
    pub retry_initial: Duration,
    /// Maximum retry delay (default 30 s).
    pub retry_max: Duration,
    /// Signs checkpoints of the chain head; `None`: events are chained but never checkpointed.
    pub signing_key: Option<Arc<Signer>>,
    /// How often the chain head is checkpointed when it moved (default 60 s); also at shutdown.
    pub checkpoint_interval: Duration,
}

impl std::fmt::Debug for HttpSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSinkConfig")
            .field("ingest_url", &self.ingest_url)
            .field("tls", &self.tls)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("spool_dir", &self.spool_dir)
            .field("queue_capacity", &self.queue_capacity)
            .field("batch_max", &self.batch_max)
            .field("batch_interval", &self.batch_interval)
            .field("request_timeout", &self.request_timeout)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .field("spool_segment_bytes", &self.spool_segment_bytes)
            .field("retry_initial", &self.retry_initial)
            .field("retry_max", &self.retry_max)
            .field("signing_key", &self.signing_key)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .finish()
    }
}

impl HttpSinkConfig {
    /// Defaults for everything but the URL and the spool directory.
    pub fn new(ingest_url: impl Into<String>, spool_dir: impl Into<PathBuf>) -> Self {
        Self {
            ingest_url: ingest_url.into(),
            tls: mcp_runtime_tls::TlsFiles::default(),
            api_key: None,
            spool_dir: spool_dir.into(),
            queue_capacity: 4096,
            batch_max: 256,
            batch_interval: Duration::from_millis(200),
            request_timeout: Duration::from_secs(3),
            spool_max_bytes: 64 * 1024 * 1024,
            spool_segment_bytes: 1024 * 1024,
            retry_initial: Duration::from_millis(250),
            retry_max: Duration::from_secs(30),
            signing_key: None,
            checkpoint_interval: Duration::from_secs(60),
        }
    }
}

/// Why an [`HttpSink`] cannot start.
#[derive(Debug, thiserror::Error)]
pub enum HttpSinkError {
    /// The ingest URL does not parse.
    #[error("invalid audit ingest URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The spool directory cannot be created or read.
    #[error("audit spool directory {dir}: {source}")]
    Spool {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS settings cannot be used (an unreadable CA bundle, a key that does not match).
    #[error("audit ingest TLS: {0}")]
    Tls(#[from] mcp_runtime_tls::TlsError),
    /// Not called from within a tokio runtime.
    #[error("the audit HTTP sink must be created inside a tokio runtime")]
    NoRuntime,
}

#[derive(Debug)]
struct Shared {
    spool: Mutex<Spool>,
    sent: AtomicU64,
    spooled: AtomicU64,
    dropped: AtomicU64,
    /// Events emitted while the queue was full, in emission order. They are newer than every
    /// queued event, so the delivery task takes them only once it has drained the queue: written
    /// straight to the spool instead, they would be replayed ahead of older queued events.
    overflow: Mutex<Overflow>,
    /// Set while `overflow` holds events: later events line up behind them, not in the queue.
    overflowing: AtomicBool,
    /// Wakes the delivery task when the overflow receives events.
    overflow_ready: Notify,
    /// Bound on the overflow (events); beyond it events go straight to the spool, kept but
    /// possibly ahead of older ones.
    overflow_max: usize,
    /// This instance's hash chain. Links are given where an event's place in the delivery
    /// order is settled: by the delivery task as it takes events from the queue and the
    /// overflow, or by `emit` when it spools an event itself.
    chain: Mutex<Chainer>,
}

#[derive(Debug, Default)]
struct Overflow {
    events: Vec<AuditEvent>,
    /// The delivery task has stopped: nothing would take the overflow any more.
    closed: bool,
}

impl Shared {
    fn spool(&self) -> MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spool_is_empty(&self) -> bool {
        self.spool().is_empty()
    }

    fn chainer(&self) -> MutexGuard<'_, Chainer> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of `events` linked into the chain (in the order given), and the chain as it was
    /// before, to rewind to if they are not delivered.
    fn link_copy(&self, events: &[AuditEvent]) -> (Vec<AuditEvent>, Chainer) {
        let mut chain = self.chainer();
        let before = chain.clone();
        let mut linked = events.to_vec();
        for event in &mut linked {
            if event.chain.is_none() && event.checkpoint.is_none() {
                chain.link(event);
            }
        }
        (linked, before)
    }

    /// Takes back the links of a batch that was not delivered.
    fn rewind(&self, before: Chainer) {
        *self.chainer() = before;
    }

    fn spool_events(&self, events: &[AuditEvent]) {
        if events.is_empty() {
            return;
        }
        let appended = self.spool().append(events);
        self.spooled.fetch_add(appended.written, Ordering::Relaxed);
        self.record_drops(appended.dropped);
    }

    fn overflow(&self) -> MutexGuard<'_, Overflow> {
        self.overflow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lines `event` up behind the events already waiting (see [`Shared::overflow`]).
    fn push_overflow(&self, event: AuditEvent) {
        let mut overflow = self.overflow();
        if overflow.closed || overflow.events.len() >= self.overflow_max {
            drop(overflow);
            self.spool_events(std::slice::from_ref(&event));
            return;
        }
        overflow.events.push(event);
        self.overflowing.store(true, Ordering::Release);
        drop(overflow);
        self.overflow_ready.notify_one();
    }

    fn has_overflow(&self) -> bool {
        self.overflowing.load(Ordering::Acquire)
    }

    /// Takes the waiting events; later events go to the queue again. With `close`, every later
    /// event goes straight to the spool (the delivery task is stopping).
    fn take_overflow(&self, close: bool) -> Vec<AuditEvent> {
        let mut overflow = self.overflow();
        overflow.closed |= close;
        self.overflowing.store(false, Ordering::Release);
        std::mem::take(&mut overflow.events)
    }

    fn record_drops(&self, n: u64) {
        if n == 0 {
            return;
        }
        let prev = self.dropped.fetch_add(n, Ordering::Relaxed);
        let now = prev.saturating_add(n);
        // Warn whenever the count crosses a power of two.
        let highest_pow2 = 1u64 << (63 - now.leading_zeros());
        if highest_pow2 > prev {
            tracing::warn!(
                dropped_total = now,
                "audit: events dropped (spool full or unwritable)"
            );
        }
    }
}

#[derive(Debug)]
enum Control {
    Flush(oneshot::Sender<bool>),
    Shutdown(oneshot::Sender<bool>),
}

/// Batched, at-least-once HTTP delivery with a bounded disk spool. See the
/// crate documentation for the delivery semantics.
#[derive(Debug)]
pub struct HttpSink {
    tx: mpsc::Sender<AuditEvent>,
    ctrl: mpsc::UnboundedSender<Control>,
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl HttpSink {
    /// Opens the spool (indexing any segments left by an earlier instance,
    /// which are replayed first) and starts the delivery task. Must be called
    /// inside a tokio runtime.
    pub fn new(config: HttpSinkConfig) -> Result<Self, HttpSinkError> {
        let uri: http::Uri = config
            .ingest_url
            .parse()
            .map_err(|e: http::uri::InvalidUri| HttpSinkError::InvalidUrl {
                url: config.ingest_url.clone(),
                reason: e.to_string(),
            })?;
        let https = uri.scheme_str() == Some("https");
        if !(https || uri.scheme_str() == Some("http")) || uri.host().is_none() {
            return Err(HttpSinkError::InvalidUrl {
                url: config.ingest_url.clone(),
                reason: "expected an absolute http:// or https:// URL".into(),
            });
        }
        let tls = mcp_runtime_tls::client_config(&config.tls, TLS_VARIABLES, https)?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| HttpSinkError::NoRuntime)?;
        let spool = Spool::open(
            &config.spool_dir,
            config.spool_max_bytes,
            config.spool_segment_bytes,
        )
        .map_err(|source| HttpSinkError::Spool {
            dir: config.spool_dir.clone(),
            source,
        })?;
        let shared = Arc::new(Shared {
            spool: Mutex::new(spool),
            sent: AtomicU64::new(0),
            spooled: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            overflow: Mutex::new(Overflow::default()),
            overflowing: AtomicBool::new(false),
            overflow_ready: Notify::new(),
            overflow_max: config.queue_capacity.max(1).saturating_mul(16),
            chain: Mutex::new(Chainer::new()),
        });
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (ctrl, ctrl_rx) = mpsc::unbounded_channel();
        let connector = mcp_runtime_tls::connector(tls, config.request_timeout);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let worker = Worker {
            rx,
            ctrl_rx,
            shared: Arc::clone(&shared),
            client,
            uri,
            api_key: config
                .api_key
                .as_deref()
                .and_then(|k| http::HeaderValue::from_str(k).ok()),
            batch_max: config.batch_max.max(1),
            batch_interval: config.batch_interval,
            request_timeout: config.request_timeout,
            retry_initial: config.retry_initial,
            retry_max: config.retry_max.max(config.retry_initial),
            backoff: config.retry_initial,
            next_retry: None,
            signing_key: config.signing_key.clone(),
            checkpoint_interval: config.checkpoint_interval.max(Duration::from_millis(10)),
            checkpointed_seq: 0,
        };
        if config.api_key.is_some() && worker.api_key.is_none() {
            tracing::warn!("audit: api key is not a valid header value; sending without it");
        }
        let task = runtime.spawn(worker.run());
        Ok(Self {
            tx,
            ctrl,
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// Events acknowledged by the ingest (a replayed event counts again).
    pub fn sent_total(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// Events written to the disk spool.
    pub fn spooled_total(&self) -> u64 {
        self.shared.spooled.load(Ordering::Relaxed)
    }

    /// Events dropped because the spool was full or unwritable.
    pub fn dropped_total(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Events waiting in the in-memory queue.
    pub fn queue_len(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Whether the disk spool holds undelivered events.
    pub fn spool_is_empty(&self) -> bool {
        self.shared.spool_is_empty()
    }

    /// The id of this instance's hash chain.
    pub fn chain_id(&self) -> String {
        self.shared.chainer().id().to_owned()
    }

    /// Tries, now and regardless of backoff, to deliver the spool and
    /// everything queued so far. Undeliverable events stay spooled. Returns
    /// `true` when the queue and the spool were empty afterwards.
    pub async fn flush(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.ctrl.send(Control::Flush(tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Flushes, spools whatever could not be delivered, and stops the
    /// delivery task. Later `emit`s go straight to the spool (replayed by the
    /// next instance). Returns `true` when everything was delivered.
    pub async fn shutdown(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        let ok = if self.ctrl.send(Control::Shutdown(tx)).is_ok() {
            rx.await.unwrap_or(false)
        } else {
            false
        };
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && let Err(err) = task.await
        {
            tracing::warn!(%err, "audit: delivery task failed");
        }
        ok && self.spool_is_empty()
    }
}

impl AuditSink for HttpSink {
    fn emit(&self, event: AuditEvent) {
        // Once events wait in the overflow, later ones line up behind them (emission order).
        if self.shared.has_overflow() {
            self.shared.push_overflow(event);
            return;
        }
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(ev)) => self.shared.push_overflow(ev),
            // The delivery task has stopped: the spool keeps the event for the next instance.
            Err(mpsc::error::TrySendError::Closed(ev)) => {
                self.shared.spool_events(std::slice::from_ref(&ev));
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum PostError {
    #[error("serialize: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("build request: {0}")]
    Request(#[from] http::Error),
    #[error("send: {0}")]
    Send(#[from] hyper_util::client::legacy::Error),
    #[error("read response: {0}")]
    Body(#[from] hyper::Error),
    #[error("status {0}")]
    Status(http::StatusCode),
    #[error("timed out")]
    Timeout,
}

struct Worker {
    rx: mpsc::Receiver<AuditEvent>,
    ctrl_rx: mpsc::UnboundedReceiver<Control>,
    shared: Arc<Shared>,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: http::Uri,
    api_key: Option<http::HeaderValue>,
    batch_max: usize,
    batch_interval: Duration,
    request_timeout: Duration,
    retry_initial: Duration,
    retry_max: Duration,
    backoff: Duration,
    next_retry: Option<Instant>,
    signing_key: Option<Arc<Signer>>,
    checkpoint_interval: Duration,
    /// The head seq of the last checkpoint sent (0: none yet).
    checkpointed_seq: u64,
}

impl Worker {
    /// A signed checkpoint event of the chain head, when it moved since the last one.
    fn checkpoint_event(&mut self) -> Option<AuditEvent> {
        let signer = self.signing_key.as_ref()?;
        let chain = self.shared.chainer();
        let checkpoint = chain.checkpoint(signer)?;
        if checkpoint.seq == self.checkpointed_seq {
            return None;
        }
        self.checkpointed_seq = checkpoint.seq;
        Some(AuditEvent::checkpoint(chain.source(), checkpoint))
    }

    async fn run(mut self) {
        let mut next_checkpoint = Instant::now() + self.checkpoint_interval;
        loop {
            // Events that overflowed the queue are newer than every queued one: deliver them
            // once the queue is drained.
            if self.rx.is_empty() && self.shared.has_overflow() {
                let overflow = self.shared.take_overflow(false);
                for chunk in overflow.chunks(self.batch_max) {
                    self.deliver(chunk).await;
                }
                continue;
            }
            if Instant::now() >= next_checkpoint {
                next_checkpoint = Instant::now() + self.checkpoint_interval;
                if let Some(checkpoint) = self.checkpoint_event() {
                    self.deliver(std::slice::from_ref(&checkpoint)).await;
                }
            }
            let spool_pending = !self.shared.spool_is_empty();
            if spool_pending && self.next_retry.is_none_or(|t| Instant::now() >= t) {
                self.replay().await;
            }
            let wake = if self.shared.spool_is_empty() {
                None
            } else {
                Some(self.next_retry.unwrap_or_else(Instant::now))
            };
            tokio::select! {
                biased;
                ctrl = self.ctrl_rx.recv() => match ctrl {
                    Some(Control::Flush(reply)) => {
                        let ok = self.flush_now().await;
                        let _ = reply.send(ok);
                    }
                    Some(Control::Shutdown(reply)) => {
                        let ok = self.flush_now().await;
                        self.rx.close();
                        let mut rest = Vec::new();
                        while let Ok(ev) = self.rx.try_recv() {
                            rest.push(ev);
                        }
                        rest.extend(self.shared.take_overflow(true));
                        self.shared.spool_events(&rest);
                        // The last head, signed: delivered now, or spooled behind the events.
                        let delivered_checkpoint = match self.checkpoint_event() {
                            Some(checkpoint) if ok && rest.is_empty() => {
                                self.deliver(std::slice::from_ref(&checkpoint)).await
                            }
                            Some(checkpoint) => {
                                self.shared.spool_events(std::slice::from_ref(&checkpoint));
                                false
                            }
                            None => true,
                        };
                        let _ = reply.send(ok && rest.is_empty() && delivered_checkpoint);
                        return;
                    }
                    None => {
                        // The sink was dropped: deliver or spool what is left.
                        self.rx.close();
                        self.flush_now().await;
                        let mut rest = self.shared.take_overflow(true);
                        rest.extend(self.checkpoint_event());
                        self.shared.spool_events(&rest);
                        return;
                    }
                },
                ev = self.rx.recv() => match ev {
                    Some(ev) => {
                        let batch = self.gather(ev).await;
                        self.deliver(&batch).await;
                    }
                    None => return,
                },
                () = self.shared.overflow_ready.notified() => {}
                () = sleep_until_opt(wake), if wake.is_some() => {}
                () = tokio::time::sleep_until(next_checkpoint), if self.signing_key.is_some() => {}
            }
        }
    }

    async fn gather(&mut self, first: AuditEvent) -> Vec<AuditEvent> {
        let mut batch = vec![first];
        // One timer for the whole batch, and every queued event taken at each wake-up: this
        // runs once per request under load.
        let deadline = tokio::time::sleep_until(Instant::now() + self.batch_interval);
        tokio::pin!(deadline);
        while batch.len() < self.batch_max {
            // Newer events wait in the overflow: nothing more will arrive in the queue before
            // they are delivered.
            if self.rx.is_empty() && self.shared.has_overflow() {
                break;
            }
            let room = self.batch_max - batch.len();
            tokio::select! {
                received = self.rx.recv_many(&mut batch, room) => if received == 0 {
                    break;
                },
                () = &mut deadline => break,
            }
        }
        batch
    }

    /// Sends a batch unless older events are still spooled, in which case the
    /// batch queues up behind them on disk.
    async fn deliver(&mut self, batch: &[AuditEvent]) -> bool {
        if !self.shared.spool_is_empty() {
            self.shared.spool_events(batch);
            return false;
        }
        match self.post(batch).await {
            Ok(()) => {
                self.shared
                    .sent
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                self.succeeded();
                true
            }
            Err(err) => {
                tracing::warn!(%err, events = batch.len(), "audit: delivery failed; spooling");
                self.shared.spool_events(batch);
                self.failed();
                false
            }
        }
    }

    /// Replays the spool oldest segment first. Returns `true` once it is empty.
    async fn replay(&mut self) -> bool {
        loop {
            let read = self.shared.spool().read_oldest();
            let (seq, events, bad) = match read {
                Ok(Some(seg)) => seg,
                Ok(None) => {
                    self.succeeded();
                    return true;
                }
                Err(err) => {
                    tracing::warn!(%err, "audit: cannot read spool segment; will retry");
                    self.failed();
                    return false;
                }
            };
            self.shared.record_drops(bad);
            for chunk in events.chunks(self.batch_max) {
                if let Err(err) = self.post(chunk).await {
                    tracing::warn!(%err, "audit: spool replay failed; will retry");
                    self.failed();
                    return false;
                }
                self.shared
                    .sent
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            self.shared.spool().remove(seq);
        }
    }

    async fn flush_now(&mut self) -> bool {
        let mut pending = Vec::new();
        while let Ok(ev) = self.rx.try_recv() {
            pending.push(ev);
        }
        // Newer than everything queued, so after it.
        pending.extend(self.shared.take_overflow(false));
        let mut ok = self.shared.spool_is_empty() || self.replay().await;
        for chunk in pending.chunks(self.batch_max) {
            if ok {
                ok = self.deliver(chunk).await;
            } else {
                self.shared.spool_events(chunk);
            }
        }
        ok && self.shared.spool_is_empty()
    }

    fn succeeded(&mut self) {
        self.backoff = self.retry_initial;
        self.next_retry = None;
    }

    fn failed(&mut self) {
        self.next_retry = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(self.retry_max);
    }

    /// Sends `events`, linked into the chain here and only here, so the chain's order is the
    /// order events are sent in, whichever way they came (the queue, the overflow, the spool).
    /// A failed send takes its links back: the retry links the same events to the same
    /// predecessors, so a copy the ingest stored anyway (a reply lost after the write) matches
    /// it, and nothing linked in between can overtake them.
    async fn post(&self, events: &[AuditEvent]) -> Result<(), PostError> {
        let (linked, before) = self.shared.link_copy(events);
        let sent = self.send(&linked).await;
        if sent.is_err() {
            self.shared.rewind(before);
        }
        sent
    }

    async fn send(&self, events: &[AuditEvent]) -> Result<(), PostError> {
        let body = serde_json::to_vec(events)?;
        let mut req = http::Request::post(self.uri.clone())
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(key) = &self.api_key {
            req = req.header("x-api-key", key.clone());
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        let exchange = async {
            let resp = self.client.request(req).await?;
            let status = resp.status();
            // Read the body so the connection can be reused.
            resp.into_body().collect().await?;
            if status.is_success() {
                Ok(())
            } else {
                Err(PostError::Status(status))
            }
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| PostError::Timeout)?
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
