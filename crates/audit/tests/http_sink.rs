//! Real loopback HTTP tests of `HttpSink`: batching, outage with disk spool
//! and replay, restart replay, and the spool bound.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mcp_runtime_audit::{AuditEvent, AuditSink, HttpSink, HttpSinkConfig, RequestPayload};
use mcp_runtime_testkit::eventually;
use tokio::net::TcpSocket;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

const DEADLINE: Duration = Duration::from_secs(20);

#[derive(Default)]
struct State {
    /// Accepted POST bodies (each a JSON array of events).
    bodies: Mutex<Vec<Vec<serde_json::Value>>>,
    api_keys: Mutex<Vec<Option<String>>>,
    content_types: Mutex<Vec<Option<String>>>,
    fail: AtomicBool,
}

impl State {
    fn ids(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect()
    }
    fn posts(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
}

/// A tiny ingest: records bodies; answers 503 when `fail` is set; `stop`
/// closes the listener and every connection.
struct Receiver {
    addr: SocketAddr,
    state: Arc<State>,
    task: Option<JoinHandle<()>>,
}

impl Receiver {
    async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), Arc::default()).await
    }

    async fn start_on(addr: SocketAddr, state: Arc<State>) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(addr).unwrap();
        let listener = socket.listen(1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let st = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = Arc::clone(&st);
                conns.spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let st = Arc::clone(&st);
                        async move {
                            let header = |name: &str| {
                                req.headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string)
                            };
                            let key = header("x-api-key");
                            let ct = header("content-type");
                            let body = req.into_body().collect().await?.to_bytes();
                            let status = if st.fail.load(Ordering::SeqCst) {
                                503
                            } else {
                                let events: Vec<serde_json::Value> =
                                    serde_json::from_slice(&body).expect("a JSON array");
                                st.bodies.lock().unwrap().push(events);
                                st.api_keys.lock().unwrap().push(key);
                                st.content_types.lock().unwrap().push(ct);
                                202
                            };
                            let resp = hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"{\"ok\":true}")))
                                .unwrap();
                            Ok::<_, hyper::Error>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            addr,
            state,
            task: Some(task),
        }
    }

    /// Closes the listener and all open connections.
    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }
}

/// An address with nothing listening on it.
async fn dead_addr() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

fn config(url: String, dir: &Path) -> HttpSinkConfig {
    let mut c = HttpSinkConfig::new(url, dir);
    c.batch_interval = Duration::from_millis(20);
    c.retry_initial = Duration::from_millis(20);
    c.retry_max = Duration::from_millis(200);
    c
}

fn event(i: u64) -> AuditEvent {
    AuditEvent::request(RequestPayload {
        method: "POST".into(),
        path: "/mcp".into(),
        status: 200,
        latency_ms: i,
        server: "weather".into(),
        namespace: "mcp-servers".into(),
        ..RequestPayload::default()
    })
}

fn emit_n(sink: &HttpSink, n: u64) -> BTreeSet<String> {
    (0..n)
        .map(|i| {
            let ev = event(i);
            let id = ev.event_id.clone();
            sink.emit(ev);
            id
        })
        .collect()
}

fn spool_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn spool_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

async fn flush_until_delivered(sink: &HttpSink) {
    eventually("flush delivers everything", DEADLINE, || sink.flush()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_batched_with_api_key() {
    let mut rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(rx.url(), dir.path());
    cfg.api_key = Some("secret".into());
    let sink = HttpSink::new(cfg).unwrap();

    let emitted = emit_n(&sink, 200);
    let state = Arc::clone(&rx.state);
    eventually("200 events received", DEADLINE, || {
        let n = state.ids().len();
        async move { n >= 200 }
    })
    .await;

    let got: Vec<String> = rx.state.ids();
    assert_eq!(got.len(), 200, "no duplicates without failures");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), emitted);
    let posts = rx.state.posts();
    assert!(posts < 200, "batched: {posts} POSTs for 200 events");
    assert!(
        rx.state
            .api_keys
            .lock()
            .unwrap()
            .iter()
            .all(|k| k.as_deref() == Some("secret"))
    );
    assert!(
        rx.state
            .content_types
            .lock()
            .unwrap()
            .iter()
            .all(|c| c.as_deref() == Some("application/json"))
    );
    eventually("sent_total counts", DEADLINE, || {
        let n = sink.sent_total();
        async move { n == 200 }
    })
    .await;
    assert_eq!(sink.spooled_total(), 0);
    assert_eq!(sink.dropped_total(), 0);
    assert_eq!(sink.queue_len(), 0);
    assert!(sink.shutdown().await);
    rx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_spools_and_replays_in_full() {
    let mut rx = Receiver::start().await;
    let addr = rx.addr;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(rx.url(), dir.path());
    // A small queue so that some events also take the queue-full spill path.
    cfg.queue_capacity = 64;
    cfg.batch_max = 50;
    let sink = HttpSink::new(cfg).unwrap();

    // Warm up: a pooled connection exists when the receiver goes away.
    let mut emitted = emit_n(&sink, 10);
    flush_until_delivered(&sink).await;

    rx.stop().await;
    emitted.extend(emit_n(&sink, 300));
    eventually("the 300 events are spooled", DEADLINE, || {
        let n = sink.spooled_total();
        async move { n >= 300 }
    })
    .await;
    assert!(spool_files(dir.path()) > 0, "spool files on disk");
    assert!(!sink.flush().await, "flush reports undelivered events");
    assert_eq!(sink.dropped_total(), 0);

    let rx2 = Receiver::start_on(addr, Arc::clone(&rx.state)).await;
    flush_until_delivered(&sink).await;

    let got: BTreeSet<String> = rx2.state.ids().into_iter().collect();
    assert_eq!(
        got, emitted,
        "dedupe by event_id gives exactly the emitted set"
    );
    assert_eq!(spool_files(dir.path()), 0, "spool dir empty");
    assert!(sink.spool_is_empty());
    assert_eq!(sink.dropped_total(), 0);
    assert!(sink.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_status_spools_then_replays() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::new(config(rx.url(), dir.path())).unwrap();
    rx.state.fail.store(true, Ordering::SeqCst);
    let emitted = emit_n(&sink, 40);
    eventually("spooled after 503", DEADLINE, || {
        let n = sink.spooled_total();
        async move { n >= 40 }
    })
    .await;
    assert_eq!(rx.state.ids().len(), 0);
    rx.state.fail.store(false, Ordering::SeqCst);
    // The background retry replays the spool without an explicit flush.
    let state = Arc::clone(&rx.state);
    eventually("replayed by the retry loop", DEADLINE, || {
        let got: BTreeSet<String> = state.ids().into_iter().collect();
        let done = got == emitted;
        async move { done }
    })
    .await;
    eventually("spool emptied", DEADLINE, || {
        let empty = spool_files(dir.path()) == 0;
        async move { empty }
    })
    .await;
    assert!(sink.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_replays_spool_of_previous_instance() {
    let addr = dead_addr().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/events");

    let first = HttpSink::new(config(url.clone(), dir.path())).unwrap();
    let emitted = emit_n(&first, 120);
    assert!(!first.shutdown().await, "nothing could be delivered");
    assert_eq!(first.spooled_total(), 120);
    assert_eq!(first.dropped_total(), 0);
    // After shutdown, emits go straight to the spool.
    let mut emitted = emitted;
    emitted.extend(emit_n(&first, 5));
    assert_eq!(first.spooled_total(), 125);
    drop(first);
    assert!(spool_files(dir.path()) > 0);

    let rx = Receiver::start_on(addr, Arc::default()).await;
    let second = HttpSink::new(config(url, dir.path())).unwrap();
    assert!(!second.spool_is_empty());
    flush_until_delivered(&second).await;
    let got: BTreeSet<String> = rx.state.ids().into_iter().collect();
    assert_eq!(got, emitted);
    assert_eq!(spool_files(dir.path()), 0);
    assert!(second.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_spool_drops_and_counts() {
    let addr = dead_addr().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(format!("http://{addr}/events"), dir.path());
    cfg.spool_max_bytes = 4_000;
    cfg.queue_capacity = 16;
    let sink = HttpSink::new(cfg).unwrap();
    emit_n(&sink, 300);
    eventually("every event spooled or dropped", DEADLINE, || {
        let n = sink.spooled_total() + sink.dropped_total();
        async move { n == 300 }
    })
    .await;
    assert!(sink.dropped_total() > 0);
    assert!(sink.spooled_total() > 0);
    assert!(spool_bytes(dir.path()) <= 4_000);
    assert!(!sink.shutdown().await);
    assert_eq!(sink.spooled_total() + sink.dropped_total(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_ingest_times_out_and_spools() {
    // Accepts connections but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(format!("http://{addr}/events"), dir.path());
    cfg.request_timeout = Duration::from_millis(100);
    let sink = HttpSink::new(cfg).unwrap();
    let started = Instant::now();
    emit_n(&sink, 30);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "emit does not wait for the ingest"
    );
    eventually("spooled after the timeout", DEADLINE, || {
        let n = sink.spooled_total();
        async move { n == 30 }
    })
    .await;
    assert_eq!(sink.sent_total(), 0);
    assert!(!sink.shutdown().await);
    hold.abort();
}

#[test]
fn config_debug_redacts_api_key() {
    let mut cfg = HttpSinkConfig::new("http://127.0.0.1:1/events", "/tmp/x");
    cfg.api_key = Some("very-secret".into());
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("very-secret"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
}

#[tokio::test]
async fn rejects_urls_that_are_not_http_or_https() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["ftp://ingest/events", "not a url", "/events"] {
        assert!(
            HttpSink::new(HttpSinkConfig::new(url, dir.path())).is_err(),
            "{url}"
        );
    }
}

/// The first arrival of each event, in arrival order (a replay may repeat some).
fn first_arrivals(state: &State) -> Vec<String> {
    let mut seen = BTreeSet::new();
    state
        .ids()
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn an_overflowing_queue_during_an_outage_keeps_emission_order() {
    let mut rx = Receiver::start().await;
    let addr = rx.addr;
    rx.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(format!("http://{addr}/events"), dir.path());
    cfg.queue_capacity = 8;
    cfg.batch_max = 5;
    let sink = HttpSink::new(cfg).unwrap();

    // Emitted in bursts far larger than the queue, without yielding to the delivery task in
    // between (one thread): most of each burst overflows the queue while older events are
    // still queued or being delivered.
    let mut emitted = Vec::new();
    for _ in 0..4 {
        for i in 0..50 {
            let ev = event(i);
            emitted.push(ev.event_id.clone());
            sink.emit(ev);
        }
        tokio::task::yield_now().await;
    }
    eventually("every event spooled", DEADLINE, || {
        let n = sink.spooled_total();
        async move { n >= 200 }
    })
    .await;

    let rx2 = Receiver::start_on(addr, Arc::clone(&rx.state)).await;
    flush_until_delivered(&sink).await;
    let arrived = first_arrivals(&rx2.state);
    assert_eq!(arrived.len(), emitted.len(), "every event arrived");
    if let Some(at) = arrived.iter().zip(&emitted).position(|(a, e)| a != e) {
        panic!("event {at} arrived out of emission order");
    }
    assert_eq!(sink.dropped_total(), 0);
    assert!(sink.shutdown().await);
}

/// Every arrived event (first arrival of each id), in delivery order, as JSON.
fn first_arrived_events(state: &State) -> Vec<serde_json::Value> {
    let mut seen = BTreeSet::new();
    state
        .bodies
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .filter(|e| seen.insert(e["event_id"].as_str().unwrap_or_default().to_owned()))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_emitters_through_an_outage_get_a_chain_in_delivery_order() {
    use mcp_runtime_audit::chain::{self, Signer};
    let mut rx = Receiver::start().await;
    let addr = rx.addr;
    rx.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(format!("http://{addr}/events"), dir.path());
    cfg.queue_capacity = 8;
    cfg.batch_max = 5;
    let signer = Arc::new(Signer::from_pem(&Signer::generate_pem().unwrap()).unwrap());
    cfg.signing_key = Some(signer.clone());
    let sink = Arc::new(HttpSink::new(cfg).unwrap());

    // Four emitters at once, in bursts far larger than the queue: events queue, overflow and
    // spool while the ingest is down.
    let mut emitters = JoinSet::new();
    for t in 0..4u64 {
        let sink = sink.clone();
        emitters.spawn(async move {
            for i in 0..100 {
                sink.emit(event(t * 1000 + i));
                if i % 25 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
    }
    while emitters.join_next().await.is_some() {}
    eventually("every event spooled", DEADLINE, || {
        let n = sink.spooled_total();
        async move { n >= 400 }
    })
    .await;
    let rx2 = Receiver::start_on(addr, Arc::clone(&rx.state)).await;
    flush_until_delivered(&sink).await;
    assert!(sink.shutdown().await);

    let arrived = first_arrived_events(&rx2.state);
    let (events, checkpoints): (Vec<_>, Vec<_>) = arrived
        .iter()
        .partition(|e| e["event_type"] != chain::EVENT_TYPE_CHECKPOINT);
    assert_eq!(events.len(), 400, "every event arrived once");
    let chain_id = sink.chain_id();
    let mut prev = chain::GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let link = &e["chain"];
        assert_eq!(link["id"], chain_id.as_str());
        assert_eq!(link["seq"], i as u64 + 1, "seq follows delivery order");
        assert_eq!(
            link["prev_hash"],
            prev.as_str(),
            "event {} links to its predecessor",
            i + 1
        );
        prev = chain::event_hash(e);
    }
    // The shutdown checkpoint signs the head, and arrives after it.
    assert_eq!(checkpoints.len(), 1, "{checkpoints:?}");
    assert_eq!(arrived.last(), Some(checkpoints[0]));
    let checkpoint: mcp_runtime_audit::Checkpoint =
        serde_json::from_value(checkpoints[0]["checkpoint"].clone()).unwrap();
    assert_eq!(
        (checkpoint.seq, checkpoint.hash.as_str()),
        (400, prev.as_str())
    );
    assert_eq!(
        checkpoint.check(&[signer.public_key()]),
        chain::SignatureCheck::Valid
    );
}
