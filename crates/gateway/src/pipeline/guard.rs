//! Stage 2, guard: `Host` and `Origin` checks (DNS-rebinding protection, as the MCP spec
//! requires), before anything else is read. The rule is the one shared with the bridge
//! ([`mcp_runtime_protocol::guard`]); this stage only turns its refusal into the gateway's answer.

use super::{Step, jsonrpc_error};
use http::Request;
use http::StatusCode;
use mcp_runtime_protocol::guard::Refusal;
pub use mcp_runtime_protocol::guard::{Guard, is_loopback_host};
use std::ops::ControlFlow;

/// Refuses (403) a non-loopback `Host` on a loopback listener, and an `Origin` that is neither
/// the gateway's own nor allowed.
pub(crate) fn check<B>(guard: Guard<'_>, request: Request<B>) -> Step<Request<B>> {
    let message = match guard.check(request.headers()) {
        Ok(()) => return ControlFlow::Continue(request),
        Err(Refusal::HostNotLoopback) => {
            "host not allowed: a gateway listening on loopback only answers loopback host names"
        }
        Err(Refusal::OriginNotAllowed) => {
            "origin not allowed: set ALLOWED_ORIGINS to accept browser clients from it"
        }
    };
    ControlFlow::Break(jsonrpc_error(
        StatusCode::FORBIDDEN,
        crate::codes::INVALID_REQUEST,
        message,
    ))
}
