//! Overload: when every ingest slot holds a body, a further request is answered 503 `overloaded`
//! with `Retry-After` once it has waited `ingest_wait`, and nothing of it is stored; when the
//! slot frees, ingest works again.

mod common;

use common::{post_json, sqlite, start};
use mcp_runtime_sentinel::SentinelConfig;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_full_ingest_answers_503_with_retry_after_and_recovers() {
    let store = sqlite();
    let mut config = SentinelConfig::new(store.url.clone());
    config.max_inflight_requests = 1;
    config.ingest_wait = Duration::from_millis(300);
    let running = start(config).await;
    let address = running.base.trim_start_matches("http://").to_owned();

    // One slow request holds the only slot: its body is announced but never finished.
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    slow.write_all(
        format!(
            "POST /events HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n["
        )
        .as_bytes(),
    )
    .await
    .expect("write");

    let event = serde_json::json!({
        "event_id": "0193c0de-0000-7000-8000-00000000000a",
        "timestamp": jiff::Timestamp::now().to_string(),
        "event_type": "mcp.request", "source": "files-gateway", "payload": {"status": 200},
    });
    let refused = post_json(&format!("{}/events", running.base), None, &event).await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.body["error"], "overloaded");
    assert_eq!(
        refused
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );

    // The slot frees; the same event is accepted and stored once.
    drop(slow);
    let url = format!("{}/events", running.base);
    let accepted = common::eventually("ingest accepts again", Duration::from_secs(10), || {
        let (url, event) = (url.clone(), event.clone());
        async move {
            let reply = post_json(&url, None, &event).await;
            (reply.status == 202).then_some(reply)
        }
    })
    .await;
    assert_eq!(accepted.body["stored"], 1, "{}", accepted.text);
}
