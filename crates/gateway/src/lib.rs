//! The mcp-runtime gateway.
//!
//! Its pure core does no I/O:
//!
//! * [`inspect`] (from `mcp-runtime-protocol`, shared with the bridge): strict inspection of an
//!   MCP streamable-HTTP `POST` (headers and body), so the policy decides on exactly the message
//!   the upstream will read;
//! * [`deny`]: the two encodings of a policy [`Decision`](mcp_runtime_policy::Decision)
//!   (the default JSON-RPC error, and MR's `http` compatibility bodies).
//!
//! Around it, the proxy ([`proxy`]: the request pipeline, one stage per module in `pipeline`),
//! the policy source ([`policy_source`]), the listeners ([`server`], and [`tls_listener`] when the
//! gateway terminates TLS itself for `auth.mode: mtls`), the metrics
//! ([`metrics`]), the audit fan-out ([`fanout`]) and the path router of the local mode
//! ([`router`]), and the session tokens the gateway sends upstream ([`upstream_token`]). The reply side's `tools/list` filtering (JSON and SSE) is pure too
//! ([`tools_list`]).

pub mod deny;
pub mod fanout;
pub mod metrics;
mod pins;
mod pipeline;
pub mod policy_source;
pub mod proxy;
pub mod router;
pub mod server;
pub mod tls_listener;
pub mod tools_list;
pub mod upstream_token;

pub use mcp_runtime_protocol::{codes, inspect};

pub use deny::{AuthStyle, DenyEncoding, DenyResponse, GovernanceHeaders, encode_denial};
pub use inspect::{
    HeaderField, InspectError, Inspected, Kind, Limits, Message, PostInput, inspect_post,
};
