//! Stage 2, guard: `Host` and `Origin` checks (DNS-rebinding protection, as the MCP spec
//! requires), before anything else is read.

use super::{Step, jsonrpc_error};
use http::Request;
use http::StatusCode;
use http::header::{self, HeaderValue};
use std::ops::ControlFlow;

/// What the guard checks against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Guard<'a> {
    /// Set on a loopback listener: only loopback `Host`s are accepted.
    pub loopback_hosts_only: bool,
    /// Browser origins allowed besides the gateway's own (`*` allows any).
    pub allowed_origins: &'a [String],
}

/// Refuses (403) a non-loopback `Host` on a loopback listener, and an `Origin` that is neither
/// the gateway's own nor allowed.
pub(crate) fn check<B>(guard: Guard<'_>, request: Request<B>) -> Step<Request<B>> {
    if guard.loopback_hosts_only
        && let Some(host) = request.headers().get(header::HOST)
        && !is_loopback_host(host)
    {
        return ControlFlow::Break(jsonrpc_error(
            StatusCode::FORBIDDEN,
            crate::codes::INVALID_REQUEST,
            "host not allowed: a gateway listening on loopback only answers loopback host names",
        ));
    }
    if let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin_allowed(
            origin,
            request.headers().get(header::HOST),
            guard.allowed_origins,
        )
    {
        return ControlFlow::Break(jsonrpc_error(
            StatusCode::FORBIDDEN,
            crate::codes::INVALID_REQUEST,
            "origin not allowed: set ALLOWED_ORIGINS to accept browser clients from it",
        ));
    }
    ControlFlow::Continue(request)
}

/// An `Origin` is allowed when it is the gateway's own (its host and port equal the request's
/// `Host`) or listed in `allowed` (`*` allows any). `null` and unparseable origins are refused.
fn origin_allowed(origin: &HeaderValue, host: Option<&HeaderValue>, allowed: &[String]) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .filter(|rest| !rest.is_empty() && !rest.contains('/'));
    match (authority, host.and_then(|h| h.to_str().ok())) {
        (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host.trim()),
        _ => false,
    }
}

/// Whether a `Host` value names a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`), with or
/// without a port.
pub fn is_loopback_host(host: &HeaderValue) -> bool {
    let Ok(host) = host.to_str() else {
        return false;
    };
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
