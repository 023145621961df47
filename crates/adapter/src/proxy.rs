//! `adapter proxy`: a local streamable-HTTP listener whose every request goes to the runtime
//! URL with the adapter's headers (see [`crate::headers`]).
//!
//! * Every path and method is forwarded to the runtime URL (a client may be configured with
//!   `http://127.0.0.1:8099/mcp` or `http://127.0.0.1:8099`).
//! * The request body is read up to `max_inbound_bytes` before anything is sent: a larger one
//!   gets 413 with a JSON-RPC error and the runtime never sees it.
//! * The response streams through as the runtime sends it (SSE events are relayed as they
//!   arrive, never buffered); `Mcp-Session-Id`, `MCP-Protocol-Version` and every other
//!   end-to-end header pass both ways.
//! * The one `Host`/`Origin` rule of every mcp-runtime listener applies
//!   ([`mcp_runtime_protocol::guard`]): the adapter adds credentials, so a web page must not be
//!   able to drive it (DNS rebinding, cross-site requests).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use mcp_runtime_protocol::guard::{Guard, Refusal};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::headers::strip_hop_by_hop;
use crate::rpc::{self, codes};
use crate::runtime::{Runtime, SendError};

/// MR's inbound limit: 16 MiB.
pub const DEFAULT_MAX_INBOUND_BYTES: usize = 16 * 1024 * 1024;

/// The body of a proxied response: the runtime's, streamed, or the adapter's own.
pub type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// How the local listener behaves.
#[derive(Clone, Debug)]
pub struct ProxyOptions {
    /// Largest request body accepted from a local client, in bytes.
    pub max_inbound_bytes: usize,
    /// Browser origins accepted besides the listener's own (`*`: any).
    pub allowed_origins: Vec<String>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            max_inbound_bytes: DEFAULT_MAX_INBOUND_BYTES,
            allowed_origins: Vec::new(),
        }
    }
}

struct Shared {
    runtime: Runtime,
    options: ProxyOptions,
    loopback_listener: bool,
}

/// Serves the proxy on `listener` until `shutdown` completes, then lets the requests in flight
/// finish (streams still open after the drain bound are cut).
pub async fn serve(
    listener: TcpListener,
    runtime: Runtime,
    options: ProxyOptions,
    shutdown: impl Future<Output = ()>,
) {
    let loopback_listener = listener
        .local_addr()
        .is_ok_and(|address| address.ip().is_loopback());
    let shared = Arc::new(Shared {
        runtime,
        options,
        loopback_listener,
    });
    mcp_runtime_serve::serve(
        listener,
        mcp_runtime_serve::Options::new("adapter proxy"),
        shutdown,
        move |stream, _peer, drain| {
            let shared = shared.clone();
            async move {
                let service = hyper::service::service_fn(move |request| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(handle(&shared, request).await) }
                });
                mcp_runtime_serve::serve_http1(stream, service, drain).await;
            }
        },
    )
    .await;
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<ProxyBody> {
    let guard = Guard {
        allowed_origins: &shared.options.allowed_origins,
        loopback_listener: shared.loopback_listener,
    };
    if let Err(refusal) = guard.check(request.headers()) {
        let message = match refusal {
            Refusal::HostNotLoopback => {
                "Forbidden: Host not allowed (an adapter on a loopback address only answers loopback host names)"
            }
            Refusal::OriginNotAllowed => {
                "Forbidden: Origin not allowed (list it with --allowed-origins)"
            }
        };
        return error(
            StatusCode::FORBIDDEN,
            Value::Null,
            codes::INVALID_REQUEST,
            message,
            None,
        );
    }
    let limit = shared.options.max_inbound_bytes;
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit);
    }
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => return too_large(limit),
        Err(error) => {
            tracing::debug!(%error, "reading a local request body failed");
            return error_response_text(StatusCode::BAD_REQUEST, "could not read the request body");
        }
    };
    let mut headers = parts.headers;
    if let Some(version) = shared.runtime.protocol_version()
        && !headers.contains_key("mcp-protocol-version")
        && !(parts.method == Method::POST && rpc::is_initialize(&body))
    {
        headers.insert("mcp-protocol-version", version.clone());
    }
    tracing::debug!(method = %parts.method, bytes = body.len(), "forwarding to the runtime");
    match shared
        .runtime
        .send(parts.method, headers, body.clone())
        .await
    {
        Ok(response) => relay(response),
        Err(failure) => {
            tracing::warn!("{failure}");
            let reason = match failure {
                SendError::Unreachable { .. } => "runtime_unreachable",
                SendError::Timeout { .. } => "runtime_timeout",
            };
            error(
                failure.status(),
                rpc::request_id(&body),
                codes::INTERNAL_ERROR,
                &format!("mcp-runtime adapter: {failure}"),
                Some(json!({"reason": reason})),
            )
        }
    }
}

/// The runtime's response, streamed: only hop-by-hop headers are dropped.
fn relay(response: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body.boxed())
}

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn too_large(limit: usize) -> Response<ProxyBody> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        Value::Null,
        codes::INVALID_REQUEST,
        &format!("Request body exceeds the adapter's limit of {limit} bytes (--max-inbound-bytes)"),
        None,
    )
}

fn error(
    status: StatusCode,
    id: Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response<ProxyBody> {
    let body = serde_json::to_vec(&rpc::error(id, code, message, data)).unwrap_or_default();
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response_text(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    error(status, Value::Null, codes::INVALID_REQUEST, text, None)
}
