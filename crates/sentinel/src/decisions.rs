//! `GET /api/v1/decisions?from=…&to=…`: the replay inputs of every recorded tool-call decision
//! in the window, streamed as JSON lines for `mcp-runtime access simulate`.
//!
//! Each line is `[ts_ns, [event_id, namespace, server, human_id, agent_id, team_id, session_id,
//! rpc_method, tool_name, decision, reason, matched_grant, matched_session, required_trust,
//! required_side_effect]]`. The last line is `{"end": true, "rows": N}`; a scan that fails after
//! the response started ends with `{"error": …}` instead, so a reader never mistakes a cut
//! stream for a complete one.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::{BadParam, parse_time};
use crate::store::DecisionBatch;

/// The media type of the stream.
pub const CONTENT_TYPE: &str = "application/x-ndjson";

pub(crate) async fn decisions(
    State(inner): State<std::sync::Arc<crate::Inner>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    let now = jiff::Timestamp::now();
    let mut window = [i64::MIN, i64::MAX];
    for (name, value) in &params {
        let slot = match name.as_str() {
            "from" | "since" => &mut window[0],
            "to" | "until" => &mut window[1],
            _ => {
                return Err(BadParam(
                    name.clone(),
                    format!("unknown query parameter {name:?}; this endpoint takes from and to"),
                ));
            }
        };
        *slot = parse_time(value, now).ok_or_else(|| {
            BadParam(
                name.clone(),
                format!(
                    "{name}={value:?}: expected an RFC 3339 time, Unix seconds or a duration ago \
                     (15m, 24h, 7d)"
                ),
            )
        })?;
    }
    let mut scan = inner.store.scan_decisions(window[0], window[1]);
    let body = async_stream(move |sender| async move {
        let mut rows = 0u64;
        while let Some(batch) = scan.recv().await {
            let chunk = match batch {
                Ok(batch) => {
                    rows += batch.len() as u64;
                    encode(&batch)
                }
                Err(error) => {
                    let line = json!({"error": error.to_string()}).to_string() + "\n";
                    let _ = sender.send(Ok(Bytes::from(line))).await;
                    return;
                }
            };
            if sender.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
        let end = json!({"end": true, "rows": rows}).to_string() + "\n";
        let _ = sender.send(Ok(Bytes::from(end))).await;
    });
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response())
}

/// One JSON line per row.
fn encode(batch: &DecisionBatch) -> Bytes {
    let mut out = Vec::with_capacity(batch.len() * 200);
    for row in batch.iter() {
        // Serializing a number and strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &(row.ts_ns, row.fields()));
        out.push(b'\n');
    }
    Bytes::from(out)
}

/// A body fed by a task through a small channel, so the scan never runs ahead of the client by
/// more than a few batches.
fn async_stream<F, Fut>(produce: F) -> Body
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    tokio::spawn(produce(sender));
    Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    ))
}
