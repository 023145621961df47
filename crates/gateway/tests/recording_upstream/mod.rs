//! An upstream for the gateway's tests: it records every request head it receives and answers
//! every request with a tool result, so a test sees exactly what got through the gateway.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

pub type Seen = Arc<Mutex<Vec<http::request::Parts>>>;

/// An upstream that records every request and answers every one with a tool result.
pub async fn upstream() -> (String, Seen) {
    upstream_with_gate(Arc::default()).await
}

#[allow(dead_code)] // Only some of the test files hold requests.
/// [`upstream`], except that a request carrying `x-hold` is answered only once `gate` is
/// notified: a request in flight for as long as a test needs.
pub async fn upstream_with_gate(gate: Arc<tokio::sync::Notify>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<Incoming>| {
                        let record = record.clone();
                        let gate = gate.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let _ = body.collect().await;
                            let hold = parts.headers.contains_key("x-hold");
                            record.lock().expect("lock").push(parts);
                            if hold {
                                gate.notified().await;
                            }
                            Ok::<_, std::convert::Infallible>(
                            http::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(
                                    br#"{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"done"}]}}"#,
                                )))
                                .expect("response"),
                        )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{address}"), seen)
}
