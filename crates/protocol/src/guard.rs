//! The one `Host`/`Origin` rule of every mcp-runtime HTTP listener that speaks MCP (the gateway
//! and the bridge), against DNS rebinding and cross-site requests from browsers.
//!
//! | Request | Outcome |
//! |---|---|
//! | no `Origin` (every client that is not a browser) | allowed |
//! | `Origin` listed in the allow-list (`*` allows any; a trailing `/` and letter case ignored) | allowed |
//! | `Origin` whose `host[:port]` equals the request's `Host` (the listener's own origin) | allowed |
//! | any other `Origin`, including another loopback port, `null` and unparseable values | refused |
//! | on a loopback listener, a `Host` that is not a loopback name | refused |
//!
//! Why a loopback `Origin` is not trusted by itself: an origin is scheme, host *and port*, and a
//! page served by any other program on the machine (a development server, another tool's UI) is
//! another site. MCP's transport rules ask servers to validate `Origin`; accepting every
//! `http://localhost:*` would let any local web page drive the server's tools. A browser client
//! on another local port is allowed by listing its origin.
//!
//! Why `Host` is checked on loopback listeners: a rebound DNS name makes `Host` and `Origin`
//! agree (both name the attacker's domain), so the own-origin rule alone passes it. A listener
//! bound to a loopback address can only be reached legitimately by a loopback name. A listener on
//! any other address (a pod) is reached through names it cannot know, so its `Host` is not
//! restricted.

use http::header::{self, HeaderMap, HeaderValue};

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A loopback listener got a `Host` that is not a loopback name.
    HostNotLoopback,
    /// The `Origin` is neither the listener's own nor allowed.
    OriginNotAllowed,
}

/// The rule's settings for one listener.
#[derive(Clone, Copy, Debug)]
pub struct Guard<'a> {
    /// Browser origins accepted besides the listener's own (`*`: any).
    pub allowed_origins: &'a [String],
    /// Whether the listener is bound to a loopback address (then `Host` must be a loopback name).
    pub loopback_listener: bool,
}

impl Guard<'_> {
    /// Applies the rule to a request's headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers.get(header::HOST);
        if self.loopback_listener
            && let Some(host) = host
            && !is_loopback_host(host)
        {
            return Err(Refusal::HostNotLoopback);
        }
        match headers.get(header::ORIGIN) {
            Some(origin) if !origin_allowed(origin, host, self.allowed_origins) => {
                Err(Refusal::OriginNotAllowed)
            }
            _ => Ok(()),
        }
    }
}

/// An `Origin` is allowed when it is the listener's own (its host and port equal the request's
/// `Host`) or listed in `allowed` (`*` allows any). `null` and unparseable origins are refused.
pub fn origin_allowed(
    origin: &HeaderValue,
    host: Option<&HeaderValue>,
    allowed: &[String],
) -> bool {
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
