//! Stage 6 (reply side), filter/rewrite: an upstream reply is relayed without its hop-by-hop
//! headers; a `tools/list` result is filtered to the tools the caller may call, in JSON and in
//! SSE replies (each SSE event is rewritten as it passes; nothing else is buffered). Other
//! replies stream through byte for byte.

use super::forward::strip_hop_by_hop;
use super::identity::Caller;
use super::reply::Relayed;
use crate::proxy::ProxyBody;
use crate::tools_list::{
    SseEventSplitter, check_pinned_tools_lists, filter_tools_lists, rewrite_sse_event,
};
use bytes::Bytes;
use http::Response;
use http::header::{self, HeaderValue};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use mcp_runtime_policy::{CompiledPolicy, Request as PolicyRequest};
use std::sync::Arc;

/// Who the `tools/list` results of a reply are filtered for, by which policy, and (when the policy
/// pins tools) the record of live definitions they are checked against.
#[derive(Debug)]
pub(crate) struct ToolsFilter {
    pub caller: Caller,
    pub policy: Arc<CompiledPolicy>,
    pub pins: Option<crate::pins::PinCheck>,
}

/// Relays an upstream response; rewrites `tools/list` results when a filter is given. An
/// unfiltered reply goes out in one write when the gateway already holds all of it
/// ([`Relayed`]).
pub(crate) async fn relay(
    response: Response<Incoming>,
    filter: Option<ToolsFilter>,
) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let is_sse = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
    if is_sse {
        parts
            .headers
            .insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    let body: ProxyBody = match filter {
        None => Relayed::gather(body)
            .await
            .map_err(|e| Box::new(e) as _)
            .boxed(),
        Some(filter) => {
            // The body length changes when tools are removed.
            parts.headers.remove(header::CONTENT_LENGTH);
            if is_sse {
                sse_filtered(body, filter)
            } else {
                json_filtered(body, filter)
            }
        }
    };
    Response::from_parts(parts, body)
}

fn filter_value(value: &mut serde_json::Value, filter: &ToolsFilter) {
    let ToolsFilter {
        caller,
        policy,
        pins,
    } = filter;
    if let Some(pins) = pins {
        for drift in check_pinned_tools_lists(value, policy, &pins.live) {
            crate::pins::report(&pins.config, policy, &drift, caller);
        }
    }
    let mut request =
        PolicyRequest::method(caller.identity(), "tools/list", jiff::Timestamp::now());
    if let Some(session) = caller.session.as_deref() {
        request = request.with_session(session);
    }
    filter_tools_lists(value, policy, &request);
}

/// A JSON reply: buffered (it is one JSON-RPC response), filtered, re-serialized. A body that is
/// not JSON is passed on unchanged: filtering only ever removes tools.
fn json_filtered(body: Incoming, filter: ToolsFilter) -> ProxyBody {
    let stream = futures_util::stream::once(async move {
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => return Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
        };
        let filtered = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(mut value) => {
                filter_value(&mut value, &filter);
                Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec()))
            }
            Err(_) => bytes,
        };
        Ok(Frame::data(filtered))
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// An SSE reply: each event (terminated by a blank line) is rewritten as it passes when its data
/// is a JSON-RPC response carrying a tools list; every other byte streams through unchanged.
fn sse_filtered(body: Incoming, filter: ToolsFilter) -> ProxyBody {
    let (sender, receiver) = tokio::sync::mpsc::channel::<
        Result<Frame<Bytes>, Box<dyn std::error::Error + Send + Sync>>,
    >(16);
    tokio::spawn(async move {
        let mut body = body;
        let mut events = SseEventSplitter::new();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(error) => {
                    let _ = sender.send(Err(Box::new(error))).await;
                    return;
                }
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            events.push(&data);
            while let Some(event) = events.next_event() {
                let rewritten = rewrite_sse_event(&event, |value| filter_value(value, &filter));
                if sender.send(Ok(Frame::data(rewritten))).await.is_err() {
                    return; // the client went away: dropping `body` aborts the upstream read
                }
            }
        }
        if let Some(rest) = events.into_rest() {
            let _ = sender.send(Ok(Frame::data(rest))).await;
        }
    });
    let mut receiver = receiver;
    BodyExt::boxed(StreamBody::new(futures_util::stream::poll_fn(move |cx| {
        receiver.poll_recv(cx)
    })))
}
