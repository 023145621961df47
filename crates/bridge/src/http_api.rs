//! The streamable-HTTP side: one endpoint (POST, GET, DELETE) plus `/healthz` and `/readyz`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use mcp_runtime_protocol::guard::{Guard, Refusal};
use mcp_runtime_protocol::inspect::{self, Inspected, Kind, PostInput};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::rpc::{self, codes};
use crate::session::{self, Session, SessionLimits};
use crate::worker::{self, CancelOnDrop, Worker};
use crate::{Shared, child};

type Body = UnsyncBoxBody<Bytes, Infallible>;

const SESSION_HEADER: &str = "mcp-session-id";

pub(crate) async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    drain: mcp_runtime_serve::Drain,
) {
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(&shared, request).await) }
    });
    mcp_runtime_serve::serve_http1(stream, service, drain).await;
}

async fn handle(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz") && request.method() == Method::GET {
        return text(StatusCode::OK, "ok\n");
    }
    if path != shared.config.mcp_path {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    let guard = Guard {
        allowed_origins: &shared.config.allowed_origins,
        loopback_listener: shared.loopback_listener,
    };
    if let Err(refusal) = guard.check(request.headers()) {
        let message = match refusal {
            Refusal::HostNotLoopback => {
                "Forbidden: Host not allowed (a bridge on a loopback address only answers loopback host names)"
            }
            Refusal::OriginNotAllowed => "Forbidden: Origin not allowed",
        };
        return error_response(StatusCode::FORBIDDEN, None, codes::TRANSPORT, message);
    }
    match *request.method() {
        Method::POST => post(shared, request).await,
        Method::GET => get(shared, request.headers()),
        Method::DELETE => delete(shared, request.headers()),
        _ => {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                codes::TRANSPORT,
                "Method not allowed",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            response
        }
    }
}

/// What the client's `Accept` allows.
struct Accept {
    json: bool,
    sse: bool,
}

impl Accept {
    fn of(headers: &HeaderMap) -> Self {
        let mut accept = Accept {
            json: false,
            sse: false,
        };
        let mut any_header = false;
        for value in headers.get_all(header::ACCEPT) {
            any_header = true;
            for item in value.to_str().unwrap_or("").split(',') {
                let media = item.split(';').next().unwrap_or("").trim();
                match media.to_ascii_lowercase().as_str() {
                    "application/json" | "application/*" => accept.json = true,
                    "text/event-stream" => accept.sse = true,
                    "*/*" => accept.json = true,
                    _ => {}
                }
            }
        }
        if !any_header {
            accept.json = true;
        }
        accept
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

async fn post(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let limit = shared.config.limits.max_body_bytes;
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error.is::<http_body_util::LengthLimitError>() {
                return error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    codes::INVALID_REQUEST,
                    &format!("request body exceeds the limit of {limit} bytes"),
                );
            }
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                codes::PARSE_ERROR,
                "could not read the request body",
            );
        }
    };
    let input = PostInput::from_header_map(&parts.headers, &body);
    let limits = inspect::Limits {
        max_body_bytes: limit,
        allow_batches: false,
    };
    let message = match inspect::inspect_post(&input, &limits) {
        Ok(Inspected::Single(message)) => message,
        Ok(Inspected::Batch(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                codes::INVALID_REQUEST,
                "batches are not supported",
            );
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            return json_bytes(status, error.to_jsonrpc_body());
        }
    };
    let kind = message.kind();
    let message = message.into_value();
    let accept = Accept::of(&parts.headers);
    if kind == Kind::Request && !accept.json && !accept.sse {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            message.get("id"),
            codes::TRANSPORT,
            "Not Acceptable: Client must accept application/json or text/event-stream",
        );
    }
    let version = header_str(&parts.headers, "mcp-protocol-version")
        .map(str::to_owned)
        .or_else(|| {
            message
                .get("params")
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get(inspect::META_PROTOCOL_VERSION))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let session_id = header_str(&parts.headers, SESSION_HEADER).filter(|s| !s.is_empty());
    let method = message.get("method").and_then(Value::as_str);
    let modern = match version.as_deref() {
        Some(version) => !rpc::LEGACY_VERSIONS.contains(&version),
        None => session_id.is_none() && parts.headers.contains_key("mcp-method"),
    };
    if modern && method != Some("initialize") {
        return modern_post(shared, message, kind, version.as_deref(), &accept).await;
    }
    let Some(session_id) = session_id else {
        if method == Some("initialize") && kind == Kind::Request {
            return new_session(shared, message, &accept).await;
        }
        return error_response(
            StatusCode::BAD_REQUEST,
            message.get("id"),
            codes::TRANSPORT,
            "Bad Request: Mcp-Session-Id header is required",
        );
    };
    let Some(session) = find_session(shared, session_id) else {
        return session_not_found(message.get("id"));
    };
    match kind {
        Kind::Request => match session.request(&message, accept.sse).await {
            Ok(reply) => legacy_reply(reply, message.get("id")).await,
            Err(error) => send_error(error, message.get("id")),
        },
        Kind::Notification | Kind::Response => match session.forward(&message).await {
            Ok(()) => accepted(),
            Err(error) => send_error(error, None),
        },
    }
}

fn find_session(shared: &Shared, id: &str) -> Option<Arc<Session>> {
    shared
        .sessions()
        .by_id
        .get(id)
        .filter(|s| !s.is_closed())
        .cloned()
}

fn session_not_found(id: Option<&Value>) -> Response<Body> {
    error_response(
        StatusCode::NOT_FOUND,
        id,
        codes::TRANSPORT,
        "Session not found",
    )
}

fn send_error(error: session::SendError, id: Option<&Value>) -> Response<Body> {
    match error {
        session::SendError::Closed => session_not_found(id),
        session::SendError::DuplicateId => error_response(
            StatusCode::BAD_REQUEST,
            id,
            codes::INVALID_REQUEST,
            "a request with this id is still in progress",
        ),
    }
}

async fn new_session(shared: &Arc<Shared>, message: Value, accept: &Accept) -> Response<Body> {
    let id_value = message.get("id").cloned();
    {
        let sessions = shared.sessions();
        if sessions.closing {
            return unavailable(id_value.as_ref(), "the bridge is shutting down");
        }
        if sessions.by_id.len() >= shared.config.limits.max_sessions {
            return unavailable(
                id_value.as_ref(),
                "too many sessions: end one (DELETE) or retry later",
            );
        }
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (process, mut messages) =
        match child::spawn(&shared.launch, &format!("session {}", &id[..8])) {
            Ok(spawned) => spawned,
            Err(error) => {
                tracing::warn!("could not start {:?}: {error}", shared.config.program);
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    id_value.as_ref(),
                    codes::INTERNAL_ERROR,
                    &format!("could not start the MCP server: {error}"),
                );
            }
        };
    let session = Arc::new(Session::new(
        id.clone(),
        process.clone(),
        SessionLimits {
            history: shared.config.limits.replay_events,
            backlog: shared.config.limits.backlog_messages,
        },
    ));
    let refused = {
        let mut sessions = shared.sessions();
        if sessions.closing {
            Some("the bridge is shutting down")
        } else if sessions.by_id.len() >= shared.config.limits.max_sessions {
            // Another initialize got the last place while this process was starting.
            Some("too many sessions: end one (DELETE) or retry later")
        } else {
            sessions.by_id.insert(id.clone(), session.clone());
            None
        }
    };
    if let Some(reason) = refused {
        process.terminate(shared.config.grace).await;
        return unavailable(id_value.as_ref(), reason);
    }
    {
        let shared = shared.clone();
        let session = session.clone();
        tokio::spawn(async move {
            while let Some(message) = messages.recv().await {
                session.dispatch(message);
            }
            session.process.exited().await;
            if shared.end_session(&session.id, "the MCP server process exited") {
                tracing::info!(
                    target: mcp_runtime_serve::CONSOLE,
                    "[{}] exited: session {} ended",
                    session.process.label(),
                    session.id
                );
            }
        });
    }
    match session.request(&message, accept.sse).await {
        Ok(session::Reply::Json(rx)) => {
            let response = rx.await.unwrap_or_else(|_| {
                rpc::error(
                    id_value.as_ref(),
                    codes::INTERNAL_ERROR,
                    "the MCP server process exited",
                    None,
                )
            });
            if response.get("error").is_some() {
                shared.end_session(&id, "initialize failed");
                return json_response(StatusCode::OK, &response);
            }
            with_session(json_response(StatusCode::OK, &response), &id)
        }
        Ok(session::Reply::Sse(rx)) => with_session(sse_response(rx, None), &id),
        Err(_) => {
            shared.end_session(&id, "initialize failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                id_value.as_ref(),
                codes::INTERNAL_ERROR,
                "the MCP server process exited before initialize",
            )
        }
    }
}

async fn legacy_reply(reply: session::Reply, id: Option<&Value>) -> Response<Body> {
    match reply {
        session::Reply::Json(rx) => {
            let response = rx.await.unwrap_or_else(|_| {
                rpc::error(
                    id,
                    codes::INTERNAL_ERROR,
                    "the MCP server process exited",
                    None,
                )
            });
            json_response(StatusCode::OK, &response)
        }
        session::Reply::Sse(rx) => sse_response(rx, None),
    }
}

fn get(shared: &Arc<Shared>, headers: &HeaderMap) -> Response<Body> {
    let Some(session_id) = header_str(headers, SESSION_HEADER).filter(|s| !s.is_empty()) else {
        // Stateless clients have no GET stream; legacy clients always send their session.
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            codes::TRANSPORT,
            "Method not allowed: GET needs an Mcp-Session-Id",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    };
    if !Accept::of(headers).sse {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            None,
            codes::TRANSPORT,
            "Not Acceptable: Client must accept text/event-stream",
        );
    }
    let Some(session) = find_session(shared, session_id) else {
        return session_not_found(None);
    };
    match session.open_stream(header_str(headers, "last-event-id")) {
        Ok(rx) => sse_response(rx, None),
        Err(_) => session_not_found(None),
    }
}

fn delete(shared: &Arc<Shared>, headers: &HeaderMap) -> Response<Body> {
    let Some(session_id) = header_str(headers, SESSION_HEADER).filter(|s| !s.is_empty()) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            None,
            codes::TRANSPORT,
            "Bad Request: Mcp-Session-Id header is required",
        );
    };
    if shared.end_session(session_id, "the session was deleted") {
        text(StatusCode::OK, "")
    } else {
        session_not_found(None)
    }
}

async fn modern_post(
    shared: &Arc<Shared>,
    message: Value,
    kind: Kind,
    version: Option<&str>,
    accept: &Accept,
) -> Response<Body> {
    let id = message.get("id").cloned();
    let supported = version.is_some_and(|v| rpc::MODERN_VERSIONS.contains(&v));
    if !supported {
        return json_response(
            StatusCode::BAD_REQUEST,
            &rpc::error(
                id.as_ref(),
                codes::UNSUPPORTED_PROTOCOL_VERSION,
                "Unsupported protocol version",
                Some(json!({
                    "supported": rpc::MODERN_VERSIONS,
                    "requested": version,
                })),
            ),
        );
    }
    match kind {
        // The stateless protocol defines no client notification over HTTP.
        Kind::Notification => return accepted(),
        Kind::Response => {
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                codes::INVALID_REQUEST,
                "stateless clients cannot send responses",
            );
        }
        Kind::Request => {}
    }
    let worker = match worker_for(shared).await {
        Ok(worker) => worker,
        Err(response) => return *response,
    };
    if message.get("method").and_then(Value::as_str) == Some("server/discover") {
        return json_response(
            StatusCode::OK,
            &json!({"jsonrpc": "2.0", "id": id, "result": worker.discover_result()}),
        );
    }
    // A stream only helps when the request can produce events: progress.
    let sse = accept.sse && (rpc::progress_token(&message).is_some() || !accept.json);
    match worker.request(message, sse).await {
        Ok((worker::Reply::Json(rx), guard)) => {
            let response = rx.await.unwrap_or_else(|_| {
                rpc::error(
                    id.as_ref(),
                    codes::INTERNAL_ERROR,
                    "the MCP server process exited",
                    None,
                )
            });
            drop(guard);
            let not_found = response
                .get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_i64)
                == Some(codes::METHOD_NOT_FOUND);
            let status = if not_found {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            json_response(status, &response)
        }
        Ok((worker::Reply::Sse(rx), guard)) => sse_response(rx, Some(guard)),
        Err(error) => json_response(StatusCode::INTERNAL_SERVER_ERROR, &error),
    }
}

/// The running worker, or a new one if none runs (or it died).
async fn worker_for(shared: &Arc<Shared>) -> Result<Arc<Worker>, Box<Response<Body>>> {
    let mut slot = shared.worker.lock().await;
    if shared.sessions().closing {
        return Err(Box::new(unavailable(None, "the bridge is shutting down")));
    }
    if let Some(worker) = slot.current.as_ref().filter(|w| !w.is_closed()) {
        return Ok(worker.clone());
    }
    if let Some(old) = slot.current.take() {
        let grace = shared.config.grace;
        tokio::spawn(async move { old.process.terminate(grace).await });
        tracing::warn!("the stateless worker exited: starting a new one");
    }
    let failed = |message: &str| {
        Box::new(error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            codes::INTERNAL_ERROR,
            message,
        ))
    };
    if let Some((when, message)) = &slot.failed
        && when.elapsed() < Duration::from_secs(1)
    {
        return Err(failed(message));
    }
    match Worker::start(&shared.launch, shared.config.limits.worker_start_timeout).await {
        Ok(worker) => {
            slot.current = Some(worker.clone());
            slot.failed = None;
            Ok(worker)
        }
        Err(error) => {
            let message = error.to_string();
            tracing::warn!("{message}");
            slot.failed = Some((Instant::now(), message.clone()));
            Err(failed(&message))
        }
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    if !body.is_empty() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}

fn accepted() -> Response<Body> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    json_bytes(status, value.to_string().into_bytes())
}

fn error_response(
    status: StatusCode,
    id: Option<&Value>,
    code: i64,
    message: &str,
) -> Response<Body> {
    json_response(status, &rpc::error(id, code, message, None))
}

fn unavailable(id: Option<&Value>, message: &str) -> Response<Body> {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        id,
        codes::TRANSPORT,
        message,
    )
}

fn with_session(mut response: Response<Body>, id: &str) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

fn sse_response(rx: mpsc::Receiver<Bytes>, guard: Option<CancelOnDrop>) -> Response<Body> {
    let stream = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        let frame = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(frame)), (rx, guard)))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
