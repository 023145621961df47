//! The client side of the trust boundary: `mcp-runtime adapter proxy` and `adapter stdio`.
//!
//! Clients that cannot set HTTP headers (Claude Desktop, the MCP Inspector) cannot call a server
//! whose gateway identifies callers by the governance headers (`X-MCP-Human-ID`,
//! `X-MCP-Agent-ID`, `X-MCP-Team-ID`, `X-MCP-Agent-Session`). The adapter runs on the client's
//! machine and forwards to the server's runtime URL, setting those headers, a bearer token or
//! presenting a TLS client certificate:
//!
//! * [`proxy`]: a local streamable-HTTP listener (default `127.0.0.1:8099`);
//! * [`stdio`]: a stdio MCP server (newline-delimited JSON-RPC on stdin/stdout).
//!
//! [`headers`] holds the one rule for what a local client may and may not send; [`runtime`]
//! the HTTP(S) client (rustls, no OpenSSL). The crate links no Kubernetes client and depends on
//! no other role.

pub mod config;
pub mod headers;
pub mod proxy;
mod rpc;
pub mod runtime;
pub mod sse;
pub mod stdio;

pub use config::{ConfigError, HeaderNames, Identity, RuntimeConfig, TlsFiles, Token};
pub use proxy::ProxyOptions;
pub use runtime::{Runtime, SendError};
pub use stdio::StdioOptions;
