//! The mcp-runtime gateway.
//!
//! This crate starts with its pure core, which does no I/O:
//!
//! * [`inspect`]: strict inspection of an MCP streamable-HTTP `POST` (headers and body), so
//!   the policy decides on exactly the message the upstream will read;
//! * [`deny`]: the two encodings of a policy [`Decision`](mcp_runtime_policy::Decision)
//!   (the default JSON-RPC error, and MR's `http` compatibility bodies).
//!
//! Around it, the proxy ([`proxy`]: the request pipeline, one stage per module in `pipeline`),
//! the policy source ([`policy_source`]), the listeners ([`server`]), the metrics
//! ([`metrics`]), the audit fan-out ([`fanout`]) and the path router of the local mode
//! ([`router`]).

pub mod deny;
pub mod fanout;
pub mod inspect;
pub mod metrics;
mod pipeline;
pub mod policy_source;
pub mod proxy;
pub mod router;
pub mod server;

pub use deny::{AuthStyle, DenyEncoding, DenyResponse, GovernanceHeaders, encode_denial};
pub use inspect::{
    HeaderField, InspectError, Inspected, Kind, Limits, Message, PostInput, inspect_post,
};

/// JSON-RPC error codes the gateway emits.
pub mod codes {
    /// Invalid JSON (JSON-RPC 2.0).
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a valid request object (JSON-RPC 2.0).
    pub const INVALID_REQUEST: i64 = -32600;
    /// Unknown method (JSON-RPC 2.0).
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters (JSON-RPC 2.0); MCP also uses it for unknown tools.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error (JSON-RPC 2.0).
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP 2026-07-28 `HeaderMismatch`: a standard header disagrees with the body or is missing.
    pub const HEADER_MISMATCH: i64 = -32020;
}
