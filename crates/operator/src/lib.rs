//! The mcp-runtime operator.
//!
//! Reconcile is validate → build → apply → status. This crate holds the pure halves so far:
//! - [`config`]: operator settings from the Go mcp-runtime's environment variable names;
//! - [`build`]: an MCPServer (plus its rendered policy) → the desired child objects, with the Go
//!   project's names, labels and shapes. No I/O: the controllers apply what it returns.

pub mod build;
pub mod config;
