//! The MCP wire rules that the gateway and the bridge share.
//!
//! Everything here is pure (no I/O, no async runtime, no Kubernetes), so both data-plane
//! servers decide on exactly the same rules:
//!
//! * [`inspect`]: strict inspection of an MCP streamable-HTTP `POST` (headers and body), so
//!   the policy decides on exactly the message the upstream will read;
//! * [`guard`]: the one `Host`/`Origin` rule (DNS-rebinding and cross-site protection);
//! * [`codes`]: the JSON-RPC error codes both servers emit;
//! * [`governance`]: MR's default names of the identity headers (the gateway reads them, the
//!   adapter sets them).

pub mod guard;
pub mod hop_by_hop;
pub mod inspect;

/// MR's default governance header names: what a policy document that names none uses, and what
/// `mcp-runtime adapter` sets unless told otherwise.
pub mod governance {
    /// The human's identity.
    pub const HUMAN_ID_HEADER: &str = "X-MCP-Human-ID";
    /// The agent's identity.
    pub const AGENT_ID_HEADER: &str = "X-MCP-Agent-ID";
    /// The team's identity.
    pub const TEAM_ID_HEADER: &str = "X-MCP-Team-ID";
    /// The agent session (an MCPAgentSession's name).
    pub const SESSION_ID_HEADER: &str = "X-MCP-Agent-Session";
    /// The bearer token header.
    pub const TOKEN_HEADER: &str = "Authorization";
}

/// JSON-RPC error codes the gateway and the bridge emit.
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
