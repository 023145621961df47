//! Delivery to an `https` ingest: with the ingest's CA the events arrive over TLS; without it
//! (the system trust store does not know the test CA) nothing is delivered and the events wait in
//! the spool, never sent in the clear.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_runtime_audit::{AuditEvent, AuditSink, HttpSink, HttpSinkConfig, RequestPayload};
use mcp_runtime_testkit::eventually;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tls/tests/fixtures")
        .join(name)
}

/// An HTTPS ingest on 127.0.0.1 (the fixtures' server certificate) counting the events POSTed.
async fn https_ingest() -> (u16, Arc<AtomicUsize>) {
    let names = mcp_runtime_tls::FileNames {
        ca_bundle: "client CA",
        client_cert: "server certificate",
        client_key: "server key",
    };
    let config =
        mcp_runtime_tls::server_config(&fixture("server.pem"), &fixture("server.key"), None, names)
            .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let counter = counter.clone();
                        async move {
                            let body = request.into_body().collect().await?.to_bytes();
                            let events: Vec<serde_json::Value> =
                                serde_json::from_slice(&body).expect("a JSON array");
                            counter.fetch_add(events.len(), Ordering::SeqCst);
                            Ok::<_, hyper::Error>(
                                hyper::Response::builder()
                                    .status(202)
                                    .body(Full::new(Bytes::from_static(b"{}")))
                                    .expect("response"),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, received)
}

fn sink(port: u16, dir: &std::path::Path, ca_bundle: Option<PathBuf>) -> HttpSink {
    let mut config = HttpSinkConfig::new(format!("https://127.0.0.1:{port}/events"), dir);
    config.batch_interval = Duration::from_millis(20);
    config.retry_initial = Duration::from_millis(20);
    config.retry_max = Duration::from_millis(100);
    config.tls.ca_bundle = ca_bundle;
    HttpSink::new(config).expect("sink")
}

fn event() -> AuditEvent {
    AuditEvent::request(RequestPayload {
        method: "POST".into(),
        path: "/mcp".into(),
        status: 200,
        ..RequestPayload::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_an_https_ingest_only_when_its_certificate_is_trusted() {
    let (port, received) = https_ingest().await;

    let trusting = tempfile::tempdir().expect("tempdir");
    let sink_with_ca = sink(port, trusting.path(), Some(fixture("ca.pem")));
    for _ in 0..25 {
        sink_with_ca.emit(event());
    }
    eventually("25 events over TLS", Duration::from_secs(20), || {
        let n = received.load(Ordering::SeqCst);
        async move { n == 25 }
    })
    .await;
    eventually("counted as sent", Duration::from_secs(20), || {
        let sent = sink_with_ca.sent_total();
        async move { sent == 25 }
    })
    .await;

    // The system trust store does not know the test CA: the handshake fails, nothing is sent,
    // the events are kept.
    let untrusting = tempfile::tempdir().expect("tempdir");
    let sink_without_ca = sink(port, untrusting.path(), None);
    for _ in 0..5 {
        sink_without_ca.emit(event());
    }
    eventually("the events spooled", Duration::from_secs(20), || {
        let spooled = sink_without_ca.spooled_total();
        async move { spooled == 5 }
    })
    .await;
    assert_eq!(sink_without_ca.sent_total(), 0);
    assert_eq!(received.load(Ordering::SeqCst), 25, "nothing more arrived");
}

#[test]
fn a_bad_ca_bundle_or_scheme_is_refused_at_start_naming_it() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = HttpSinkConfig::new("https://127.0.0.1:1/events", dir.path());
    config.tls.ca_bundle = Some(fixture("README.md"));
    let error = HttpSink::new(config).expect_err("not PEM").to_string();
    assert!(error.contains("ANALYTICS_CA_BUNDLE"), "{error}");
    let error = HttpSink::new(HttpSinkConfig::new("ftp://127.0.0.1/events", dir.path()))
        .expect_err("scheme")
        .to_string();
    assert!(error.contains("http:// or https://"), "{error}");
}
