//! The stages a request passes through, in order (see [`crate::proxy::Proxy::handle`]):
//!
//! 1. [`admin`]: the gateway's own endpoints (`/health`, `/ready`, `/metrics`,
//!    `/config/status`), answered here and never forwarded.
//! 2. [`guard`]: `Host` and `Origin` (DNS-rebinding protection).
//! 3. [`identity`]: the active policy, its identity mode and the caller ([`identity_mtls`] in
//!    `auth.mode: mtls`); governance headers and credentials are scrubbed.
//! 4. [`inspect`]: a `POST` body is read up to the limit and inspected strictly.
//! 5. [`decide`]: every `tools/call` is decided by the policy. Only this stage makes the
//!    [`decide::Cleared`] request that [`forward`] takes, so nothing reaches the upstream
//!    without passing it.
//! 6. [`forward`]: the cleared request goes upstream; [`filter`] rewrites `tools/list` results
//!    in the reply.
//! 7. [`audit`]: metrics and the audit event, once the response is known.
//!
//! Each stage returns a [`Step`]: `Continue` with what the next stage needs, or `Break` with the
//! response to send at once (a denial, an error, an admin answer), which ends the pipeline.

pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod decide;
pub(crate) mod filter;
pub(crate) mod forward;
pub(crate) mod guard;
pub(crate) mod identity;
pub(crate) mod identity_mtls;
pub(crate) mod inspect;
pub(crate) mod reply;
pub(crate) mod trace;

use crate::deny::{AuthStyle, DenyEncoding, GovernanceHeaders, encode_denial};
use crate::proxy::ProxyBody;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_runtime_policy::{CompiledPolicy, Decision};
use std::ops::ControlFlow;

/// What a stage decided: go on with `T`, or answer now with the response.
pub(crate) type Step<T> = ControlFlow<Response<ProxyBody>, T>;

/// A policy denial, encoded as the gateway is configured to (`jsonrpc` or MR's `http`). In
/// `oauth` mode `resource_metadata` is the protected-resource metadata URL: bearer denials then
/// carry the `WWW-Authenticate` challenge and no adapter hints.
pub(crate) fn denial(
    encoding: DenyEncoding,
    decision: &Decision,
    id: Option<&serde_json::Value>,
    policy: Option<&CompiledPolicy>,
    resource_metadata: Option<&str>,
) -> Response<ProxyBody> {
    let defaults = mcp_runtime_policy::AuthSettings::default();
    let auth = policy.map_or(&defaults, |p| &p.document().auth);
    let style = match resource_metadata {
        Some(resource_metadata_url) => AuthStyle::OAuth {
            resource_metadata_url,
        },
        None if matches!(
            auth.mode,
            mcp_runtime_policy::Lenient::Known(mcp_runtime_policy::AuthMode::Mtls)
        ) =>
        {
            AuthStyle::Mtls
        }
        None => AuthStyle::Headers(GovernanceHeaders::from_auth(auth)),
    };
    let denial = encode_denial(encoding, decision, id, &style);
    let status = StatusCode::from_u16(denial.status).unwrap_or(StatusCode::FORBIDDEN);
    let mut response = bytes_response(status, denial.content_type, denial.body);
    if let Some(challenge) = denial
        .www_authenticate
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

pub(crate) fn bytes_response(
    status: StatusCode,
    content_type: &str,
    body: Vec<u8>,
) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<ProxyBody> {
    bytes_response(status, "application/json", body)
}

pub(crate) fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    json_response(status, body.to_string().into_bytes())
}
