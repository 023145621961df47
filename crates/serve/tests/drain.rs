//! The accept loop against real sockets: a shutdown lets the request in flight finish, closes
//! idle connections and refuses new ones.

use bytes::Bytes;
use http_body_util::Full;
use mcp_runtime_serve::{Options, serve, serve_http1};
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Writes `GET path` on `stream` (keep-alive) and returns the whole response text.
fn get(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").expect("write");
    let mut response = Vec::new();
    let mut chunk = [0_u8; 1024];
    loop {
        let read = stream.read(&mut chunk).expect("read");
        if read == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && let Some(length) = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|l| l.trim().parse::<usize>().ok())
            && body.len() >= length
        {
            break;
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight_and_refuses_new_connections() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let slow_started = std::sync::Arc::new(Notify::new());
    let release_slow = std::sync::Arc::new(Notify::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let (started, release) = (slow_started.clone(), release_slow.clone());
    let server = tokio::spawn(serve(
        listener,
        Options::new("test").drain_timeout(TIMEOUT),
        async move {
            let _ = stopped.await;
        },
        move |stream, _peer, drain| {
            let (started, release) = (started.clone(), release.clone());
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                let (started, release) = (started.clone(), release.clone());
                async move {
                    if request.uri().path() == "/slow" {
                        started.notify_one();
                        release.notified().await;
                    }
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"done"))))
                }
            });
            serve_http1(stream, service, drain)
        },
    ));

    // An idle keep-alive connection, and one whose request is in progress.
    let mut idle = TcpStream::connect(address).expect("connect");
    idle.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    assert!(get(&mut idle, "/fast").ends_with("done"));
    let slow = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        get(&mut stream, "/slow")
    });
    tokio::time::timeout(TIMEOUT, slow_started.notified())
        .await
        .expect("the slow request reached the server");

    stop.send(()).expect("stop");
    // The idle connection is closed by the server: a read sees the end of the stream.
    let closed = tokio::task::spawn_blocking(move || {
        let mut byte = [0_u8; 1];
        idle.read(&mut byte).expect("read")
    });
    assert_eq!(
        tokio::time::timeout(TIMEOUT, closed)
            .await
            .expect("closed")
            .expect("join"),
        0
    );
    // The listener is closed: a new connection is refused.
    assert!(
        TcpStream::connect(address).is_err(),
        "accepted after shutdown"
    );
    // The request in flight still gets its whole answer, and then the server returns.
    assert!(
        !server.is_finished(),
        "returned before its connections drained"
    );
    release_slow.notify_one();
    let answer = tokio::task::spawn_blocking(move || slow.join().expect("slow"))
        .await
        .expect("join");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("done"), "{answer}");
    tokio::time::timeout(TIMEOUT, server)
        .await
        .expect("the server returned after draining")
        .expect("join");
}

#[tokio::test]
async fn connections_still_open_at_the_drain_bound_are_cut() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        Options::new("test").drain_timeout(Duration::from_millis(100)),
        async move {
            let _ = stopped.await;
        },
        // A connection that ignores the drain signal.
        move |_stream, _peer, _drain| {
            let _ = accepted_tx.send(());
            std::future::pending::<()>()
        },
    ));
    let _held = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    tokio::time::timeout(TIMEOUT, accepted.recv())
        .await
        .expect("the server accepted the connection");
    stop.send(()).expect("stop");
    tokio::time::timeout(TIMEOUT, server)
        .await
        .expect("the server returned at the drain bound")
        .expect("join");
}
