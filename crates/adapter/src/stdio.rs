//! `adapter stdio`: an MCP server on stdin/stdout (newline-delimited JSON-RPC) that sends each
//! message to the runtime as a streamable-HTTP `POST`.
//!
//! * Each reply is written to stdout as one line, whether the runtime answered with JSON or with
//!   an SSE stream (every event's message as it arrives: progress notifications, server
//!   requests, then the result). A notification or a response from the client gets no line.
//! * Legacy era (an `initialize` handshake): the `Mcp-Session-Id` the runtime assigns and the
//!   negotiated protocol version are sent on every later request; once the client has sent
//!   `notifications/initialized`, a `GET` stream carries the server's own messages (resumed with
//!   `Last-Event-ID` when it ends); at end of input the session is ended with `DELETE`.
//! * Modern era (2026-07-28: the version in each request's `_meta`): no session; each `POST`
//!   carries `MCP-Protocol-Version`, `Mcp-Method` and, where the method names a target,
//!   `Mcp-Name` (`=?base64?…?=` when the name is not plain visible ASCII).
//! * Requests are sent concurrently (a long tool call does not hold up a `ping` or a
//!   cancellation), except `initialize`, which completes before the next line is read;
//!   notifications and responses are sent in order.
//! * Errors never end the adapter: a line that is not JSON gets a `-32700` parse error, a line
//!   over the size limit or a batch a `-32600`, and a request the runtime cannot be reached for
//!   (or refuses without a JSON-RPC error of its own) a `-32603` error naming the cause.
//! * stdout carries only protocol lines; logs go to stderr through `tracing`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::rpc::{self, Kind, codes};
use crate::runtime::{Runtime, SendError};
use crate::sse;

/// The largest line (one JSON-RPC message) read from stdin: 16 MiB, as the proxy's limit.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// How much of an error response's body is read to explain it.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Pause before a server stream (`GET`) that ended is opened again.
const STREAM_RETRY: Duration = Duration::from_secs(1);

/// How many failed attempts in a row end the server stream for good.
const STREAM_ATTEMPTS: u32 = 3;

/// How long the `DELETE` that ends a session may take at exit (a client that closed stdin
/// usually kills its server a couple of seconds later).
const END_SESSION_TIMEOUT: Duration = Duration::from_secs(5);

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

/// How the stdio adapter behaves.
#[derive(Clone, Debug)]
pub struct StdioOptions {
    /// Largest message (line) accepted on stdin, in bytes.
    pub max_message_bytes: usize,
}

impl Default for StdioOptions {
    fn default() -> Self {
        StdioOptions {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// Reading stdin failed.
#[derive(Debug, thiserror::Error)]
#[error("reading stdin: {0}")]
pub struct StdioError(#[from] std::io::Error);

struct State {
    runtime: Runtime,
    out: mpsc::UnboundedSender<Vec<u8>>,
    /// The legacy session the runtime assigned at `initialize`.
    session: Mutex<Option<HeaderValue>>,
    /// The protocol version `initialize` negotiated.
    version: Mutex<Option<HeaderValue>>,
}

impl State {
    fn write(&self, message: &Value) {
        if let Ok(line) = serde_json::to_vec(message) {
            // A closed stdout is noticed by the main loop.
            let _ = self.out.send(line);
        }
    }

    fn session(&self) -> Option<HeaderValue> {
        self.session.lock().ok().and_then(|s| s.clone())
    }

    fn version(&self) -> Option<HeaderValue> {
        self.version
            .lock()
            .ok()
            .and_then(|v| v.clone())
            .or_else(|| self.runtime.protocol_version().cloned())
    }

    /// Headers of a legacy-era request after `initialize`: the session and the version.
    fn session_headers(&self, headers: &mut HeaderMap) {
        if let Some(session) = self.session() {
            headers.insert(SESSION_HEADER, session);
        }
        if let Some(version) = self.version() {
            headers.insert(VERSION_HEADER, version);
        }
    }

    fn post_headers(&self, message: &Value, kind: &Kind) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        let method = match kind {
            Kind::Request { method, .. } | Kind::Notification { method } => Some(method.as_str()),
            Kind::Other => None,
        };
        if let Some(version) = rpc::modern_version(message) {
            // Stateless: the version travels with every request; the standard headers must
            // equal the body (the gateway checks them).
            if let Ok(version) = HeaderValue::from_str(version) {
                headers.insert(VERSION_HEADER, version);
            }
            if let Some(method) = method.and_then(|m| HeaderValue::from_str(m).ok()) {
                headers.insert("mcp-method", method);
            }
            if let Some(name) = method.and_then(|m| rpc::target_name(message, m)) {
                headers.insert("mcp-name", mcp_name_value(name));
            }
        } else if method != Some("initialize") {
            self.session_headers(&mut headers);
        }
        headers
    }
}

/// An `Mcp-Name` value: the name itself when it is plain visible ASCII, else `=?base64?…?=`.
fn mcp_name_value(name: &str) -> HeaderValue {
    let plain = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && name.trim() == name
        && !name.starts_with("=?");
    if plain && let Ok(value) = HeaderValue::from_str(name) {
        return value;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(name.as_bytes());
    HeaderValue::from_str(&format!("=?base64?{encoded}?=")).unwrap_or(HeaderValue::from_static(""))
}

/// Serves MCP on `input`/`output` until end of input or `shutdown`, forwarding to `runtime`.
///
/// At end of input the requests in flight are answered first; on `shutdown` they are
/// abandoned. Either way the legacy session, if any, is ended with `DELETE` and every line
/// already produced is written before this returns.
pub async fn run<R, W>(
    input: R,
    output: W,
    runtime: Runtime,
    options: StdioOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StdioError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, lines) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_lines(output, lines));
    let state = Arc::new(State {
        runtime,
        out,
        session: Mutex::new(None),
        version: Mutex::new(None),
    });
    let mut requests = JoinSet::new();
    let mut server_stream: Option<tokio::task::JoinHandle<()>> = None;
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    tokio::pin!(shutdown);
    let interrupted = loop {
        let read = tokio::select! {
            biased;
            () = &mut shutdown => break true,
            () = state.out.closed() => {
                tracing::warn!("stdout is closed: stopping");
                break true;
            }
            read = read_line(&mut reader, options.max_message_bytes, &mut line) => read,
        };
        while requests.try_join_next().is_some() {}
        match read? {
            Line::End => break false,
            Line::TooLong => {
                state.write(&rpc::error(
                    Value::Null,
                    codes::INVALID_REQUEST,
                    &format!(
                        "Invalid Request: the message exceeds the adapter's limit of {} bytes",
                        options.max_message_bytes
                    ),
                    None,
                ));
                continue;
            }
            Line::Complete => {}
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let message: Value = match serde_json::from_slice(text) {
            Ok(message) => message,
            Err(error) => {
                state.write(&rpc::error(
                    Value::Null,
                    codes::PARSE_ERROR,
                    &format!("Parse error: {error}"),
                    None,
                ));
                continue;
            }
        };
        if !message.is_object() {
            let what = if message.is_array() {
                "batches are not supported (MCP 2025-06-18 and later have none)"
            } else {
                "a message must be a JSON object"
            };
            state.write(&rpc::error(
                Value::Null,
                codes::INVALID_REQUEST,
                &format!("Invalid Request: {what}"),
                None,
            ));
            continue;
        }
        // The runtime gets exactly the bytes the client wrote.
        let body = Bytes::copy_from_slice(text);
        let kind = rpc::kind(&message);
        match &kind {
            Kind::Request { method, .. } if method == "initialize" => {
                // Later messages need the session this one opens.
                if let Some(stream) = server_stream.take() {
                    stream.abort();
                }
                exchange(&state, message, kind, body).await;
            }
            Kind::Request { .. } => {
                let state = state.clone();
                requests.spawn(async move { exchange(&state, message, kind, body).await });
            }
            Kind::Notification { method } => {
                let opens_stream = method == "notifications/initialized";
                exchange(&state, message, kind, body).await;
                if opens_stream && server_stream.is_none() && state.session().is_some() {
                    let state = state.clone();
                    server_stream = Some(tokio::spawn(async move { listen(&state).await }));
                }
            }
            Kind::Other => exchange(&state, message, kind, body).await,
        }
    };
    if interrupted {
        requests.shutdown().await;
    } else {
        // End of input: the requests already sent are still answered.
        tokio::select! {
            biased;
            () = &mut shutdown => requests.shutdown().await,
            () = async { while requests.join_next().await.is_some() {} } => {}
        }
    }
    if let Some(stream) = server_stream.take() {
        stream.abort();
        let _ = stream.await;
    }
    end_session(&state).await;
    drop(state);
    let _ = writer.await;
    Ok(())
}

enum Line {
    Complete,
    TooLong,
    End,
}

/// Reads one line (without its `\n`) into `line`, keeping at most `limit` bytes: a longer line
/// is consumed and reported as [`Line::TooLong`]. Input that ends without a newline is a line.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limit: usize,
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    line.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::End,
                (false, false) => Line::Complete,
            });
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            if line.len() + chunk.len() > limit {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut output: W,
    mut lines: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(mut line) = lines.recv().await {
        line.push(b'\n');
        if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
            // The client is gone; dropping the receiver tells the main loop.
            return;
        }
    }
}

/// Sends one client message and writes what the runtime answers.
async fn exchange(state: &State, message: Value, kind: Kind, body: Bytes) {
    let headers = state.post_headers(&message, &kind);
    let response = match state.runtime.send(Method::POST, headers, body).await {
        Ok(response) => response,
        Err(failure) => {
            let reason = match failure {
                SendError::Unreachable { .. } => "runtime_unreachable",
                SendError::Timeout { .. } => "runtime_timeout",
            };
            match &kind {
                Kind::Request { id, .. } => state.write(&rpc::error(
                    id.clone(),
                    codes::INTERNAL_ERROR,
                    &format!("mcp-runtime adapter: {failure}"),
                    Some(json!({"reason": reason})),
                )),
                _ => tracing::warn!("{failure} (a notification or response was not delivered)"),
            }
            return;
        }
    };
    let initialize = matches!(&kind, Kind::Request { method, .. } if method == "initialize");
    if initialize {
        let session = response.headers().get(SESSION_HEADER).cloned();
        if let Ok(mut slot) = state.session.lock() {
            *slot = session;
        }
    }
    let request_id = match &kind {
        Kind::Request { id, .. } => Some(id),
        _ => None,
    };
    if response.status().is_success() {
        relay_success(state, response, initialize).await;
    } else {
        relay_failure(state, response, request_id).await;
    }
}

fn content_type(response: &Response<Incoming>) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Writes the message(s) of a successful answer: a JSON body (one message or an array of them)
/// or every event of an SSE stream as it arrives. `202 Accepted` has none.
async fn relay_success(state: &State, response: Response<Incoming>, initialize: bool) {
    let media = content_type(&response);
    let mut body = response.into_body();
    if media == "text/event-stream" {
        let mut parser = sse::Parser::new();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                tracing::warn!("the runtime's event stream broke off");
                return;
            };
            if let Some(data) = frame.data_ref() {
                for event in parser.push(data) {
                    relay_event(state, &event, initialize);
                }
            }
        }
        return;
    }
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::warn!(%error, "reading the runtime's answer failed");
            return;
        }
    };
    if bytes.trim_ascii().is_empty() {
        return;
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(messages)) => {
            for message in messages {
                relay_message(state, message, initialize);
            }
        }
        Ok(message) => relay_message(state, message, initialize),
        Err(error) => tracing::warn!(%error, "the runtime answered with a body that is not JSON"),
    }
}

fn relay_event(state: &State, event: &sse::Event, initialize: bool) {
    if !matches!(event.event.as_deref(), None | Some("message")) || event.data.trim().is_empty() {
        return;
    }
    match serde_json::from_str::<Value>(&event.data) {
        Ok(message) => relay_message(state, message, initialize),
        Err(error) => tracing::warn!(%error, "an event from the runtime is not JSON"),
    }
}

fn relay_message(state: &State, message: Value, initialize: bool) {
    if initialize
        && let Some(version) = message
            .get("result")
            .and_then(|r| r.get("protocolVersion"))
            .and_then(Value::as_str)
        && let Ok(version) = HeaderValue::from_str(version)
        && let Ok(mut slot) = state.version.lock()
    {
        *slot = Some(version);
    }
    state.write(&message);
}

/// An HTTP error from the runtime (or the gateway, or an ingress in front of it): its JSON-RPC
/// error is relayed when it has one, else the request gets an error naming the status.
async fn relay_failure(state: &State, response: Response<Incoming>, request_id: Option<&Value>) {
    let status = response.status();
    let bytes = http_body_util::Limited::new(response.into_body(), ERROR_BODY_LIMIT)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let parsed = serde_json::from_slice::<Value>(&bytes).ok();
    if let Some(mut message) = parsed
        .clone()
        .filter(|m| m.get("error").is_some_and(Value::is_object))
    {
        let Some(id) = request_id else {
            tracing::warn!(%status, "the runtime refused a notification or response: {}", message["error"]);
            return;
        };
        if message.get("id").is_none_or(Value::is_null) {
            message["id"] = id.clone();
        }
        message["jsonrpc"] = json!("2.0");
        state.write(&message);
        return;
    }
    let detail = match &parsed {
        // MR's `http` denial encoding: {"error":"<reason>", …}.
        Some(body) if body.get("error").is_some_and(Value::is_string) => {
            body["error"].as_str().unwrap_or_default().to_owned()
        }
        _ => String::from_utf8_lossy(&bytes)
            .trim()
            .chars()
            .take(200)
            .collect(),
    };
    let mut message = format!(
        "mcp-runtime adapter: the runtime answered HTTP {}",
        status.as_u16()
    );
    if let Some(reason) = status.canonical_reason() {
        message.push(' ');
        message.push_str(reason);
    }
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if status == StatusCode::NOT_FOUND && state.session().is_some() {
        message.push_str(" (the session has ended: restart the client to open a new one)");
    }
    let Some(id) = request_id else {
        tracing::warn!("{message} (for a notification or response)");
        return;
    };
    let body = parsed.unwrap_or_else(|| json!(String::from_utf8_lossy(&bytes)));
    state.write(&rpc::error(
        id.clone(),
        codes::INTERNAL_ERROR,
        &message,
        Some(json!({"http_status": status.as_u16(), "body": body})),
    ));
}

/// The server's own stream (legacy era): a `GET` whose events are written as they arrive,
/// reopened with `Last-Event-ID` when it ends. A runtime that offers none (405) ends it.
async fn listen(state: &State) {
    let mut last_event_id: Option<String> = None;
    let mut failures = 0;
    let mut pause = STREAM_RETRY;
    loop {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        state.session_headers(&mut headers);
        if let Some(id) = last_event_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert("last-event-id", id);
        }
        match state.runtime.send(Method::GET, headers, Bytes::new()).await {
            Ok(response)
                if response.status() == StatusCode::OK
                    && content_type(&response) == "text/event-stream" =>
            {
                failures = 0;
                let mut body = response.into_body();
                let mut parser = sse::Parser::new();
                while let Some(Ok(frame)) = body.frame().await {
                    if let Some(data) = frame.data_ref() {
                        for event in parser.push(data) {
                            relay_event(state, &event, false);
                        }
                    }
                }
                if let Some(id) = parser.last_event_id() {
                    last_event_id = Some(id.to_owned());
                }
                if let Some(ms) = parser.retry_ms() {
                    pause = Duration::from_millis(ms)
                        .clamp(Duration::from_millis(100), Duration::from_secs(60));
                }
            }
            Ok(response) => {
                tracing::debug!(status = %response.status(), "the runtime offers no server stream");
                return;
            }
            Err(failure) => {
                failures += 1;
                if failures >= STREAM_ATTEMPTS {
                    tracing::warn!("{failure}: giving up on the server stream");
                    return;
                }
            }
        }
        tokio::time::sleep(pause).await;
    }
}

/// Ends the legacy session (if the runtime assigned one) with `DELETE`.
async fn end_session(state: &State) {
    if state.session().is_none() {
        return;
    }
    let mut headers = HeaderMap::new();
    state.session_headers(&mut headers);
    let delete = state.runtime.send(Method::DELETE, headers, Bytes::new());
    match tokio::time::timeout(END_SESSION_TIMEOUT, delete).await {
        Ok(Ok(response)) => {
            tracing::debug!(status = %response.status(), "session ended");
        }
        Ok(Err(failure)) => tracing::warn!("ending the session: {failure}"),
        Err(_) => tracing::warn!(
            "ending the session: no answer within {END_SESSION_TIMEOUT:?}; exiting anyway"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_name_is_plain_or_base64() {
        assert_eq!(mcp_name_value("add"), "add");
        assert_eq!(mcp_name_value("file:///a b.txt"), "file:///a b.txt");
        assert_eq!(mcp_name_value("café"), "=?base64?Y2Fmw6k=?=");
        assert_eq!(mcp_name_value(" padded"), "=?base64?IHBhZGRlZA==?=");
        assert_eq!(
            mcp_name_value("=?base64?x?="),
            "=?base64?PT9iYXNlNjQ/eD89?="
        );
    }

    #[tokio::test]
    async fn lines_are_bounded_and_a_long_one_is_skipped_whole() {
        let input: &[u8] = b"short\nthis line is too long\nok\nlast";
        let mut reader = BufReader::with_capacity(4, input);
        let mut line = Vec::new();
        let mut seen = Vec::new();
        loop {
            match read_line(&mut reader, 8, &mut line).await.expect("read") {
                Line::End => break,
                Line::TooLong => seen.push("<too long>".to_owned()),
                Line::Complete => seen.push(String::from_utf8_lossy(&line).into_owned()),
            }
        }
        assert_eq!(seen, ["short", "<too long>", "ok", "last"]);
    }
}
