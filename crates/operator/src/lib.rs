//! The mcp-runtime operator.
//!
//! Reconcile is validate → build → apply → status:
//! - [`config`]: operator settings from the Go mcp-runtime's environment variable names;
//! - [`build`]: an MCPServer (plus its rendered policy) → the desired child objects, with the Go
//!   project's names, labels and shapes, one module per child kind. No I/O: the controllers
//!   apply what it returns;
//! - [`apply`]: server-side apply with one field manager, skipped when nothing differs; pruning;
//!   the ownership rule;
//! - [`status`]: pure status computation from the observed children; the condition reasons;
//! - [`controller`]: the kube-runtime controllers for MCPServer (a driver of named stages),
//!   MCPAccessGrant and MCPAgentSession, on one shared reflector per kind;
//! - [`handshake`]: the MCP `initialize` through the Service;
//! - [`runtime`]: the process: leader election, `/healthz`, `/readyz`, `/metrics`, shutdown.

pub mod apply;
pub mod build;
pub mod config;
pub mod controller;
pub mod handshake;
pub mod runtime;
pub mod status;
