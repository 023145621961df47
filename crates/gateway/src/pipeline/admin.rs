//! Stage 1, admin: the gateway's own endpoints, answered without touching the upstream.

use super::{Step, bytes_response, json_response};
use crate::proxy::{IdentityMode, ProxyBody, ProxyConfig};
use crate::tls_listener::TlsPeer;
use http::{Request, Response, StatusCode};
use mcp_runtime_policy::Reason;
use std::ops::ControlFlow;

/// `/health`, `/ready`, `/metrics` (when metrics are on) and `/config/status` (when a status is
/// configured) are answered here; every other request goes on.
pub(crate) fn answer<B>(config: &ProxyConfig, request: Request<B>) -> Step<Request<B>> {
    match request.uri().path() {
        "/health" => ControlFlow::Break(json_response(
            StatusCode::OK,
            br#"{"status":"ok"}"#.to_vec(),
        )),
        "/ready" => {
            let over_tls = request.extensions().get::<TlsPeer>().is_some();
            ControlFlow::Break(readiness(config, over_tls))
        }
        "/metrics" if config.metrics.is_some() => {
            let text = config
                .metrics
                .as_ref()
                .map(|metrics| metrics.encode())
                .unwrap_or_default();
            ControlFlow::Break(bytes_response(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                text.into_bytes(),
            ))
        }
        "/config/status" if config.config_status.is_some() => {
            let status = config
                .config_status
                .as_ref()
                .map(|status| status().to_string())
                .unwrap_or_default();
            ControlFlow::Break(json_response(StatusCode::OK, status.into_bytes()))
        }
        _ => ControlFlow::Continue(request),
    }
}

/// `/ready`: 200 only when a policy is active and its identity mode is available (`mtls` is
/// available only on the gateway's TLS listener, `over_tls`).
fn readiness(config: &ProxyConfig, over_tls: bool) -> Response<ProxyBody> {
    let not_ready = |body: serde_json::Value| {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            body.to_string().into_bytes(),
        )
    };
    match (config.policy)() {
        None => not_ready(serde_json::json!({
            "status": "not_ready",
            "reason": "policy_not_loaded",
        })),
        Some(policy) if IdentityMode::of(&policy) == IdentityMode::Unavailable => {
            not_ready(serde_json::json!({
                "status": "not_ready",
                "reason": Reason::AuthModeUnavailable.as_str(),
                "message": format!(
                    "the policy's auth.mode {:?} is not available in this gateway; every MCP request is refused",
                    policy.document().auth.mode.as_str()
                ),
            }))
        }
        Some(policy) if IdentityMode::of(&policy) == IdentityMode::Mtls && !over_tls => {
            not_ready(serde_json::json!({
                "status": "not_ready",
                "reason": Reason::AuthModeUnavailable.as_str(),
                "message": "the policy's auth.mode is mtls but this gateway does not terminate TLS \
                    (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE); every MCP request is refused",
            }))
        }
        Some(_) => json_response(StatusCode::OK, br#"{"status":"ready"}"#.to_vec()),
    }
}
