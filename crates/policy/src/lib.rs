//! The pure policy core of mcp-runtime: the MR-compatible policy document, its revision and
//! validation, trust evaluation, `tools/list` filtering and explain traces.
//!
//! No I/O, no clock, no Kubernetes types: the caller passes bytes in and the current time.
//!
//! ```
//! use mcp_runtime_policy::{
//!     CompiledPolicy, Grant, Identity, PolicyDocument, Request, SideEffect, Tool, Trust,
//! };
//!
//! let mut document = PolicyDocument::default();
//! document.server.name = "files".into();
//! document.server.namespace = "tools".into();
//! document.tools.push(Tool::new("read_file", SideEffect::Read, Trust::Low));
//! let mut grant = Grant::new("tools", "claude-read");
//! grant.agent_id = "claude".into();
//! grant.max_trust = Trust::Medium.into();
//! grant.allowed_side_effects = vec![SideEffect::Read.into()];
//! document.grants.push(grant);
//! let now = jiff::Timestamp::UNIX_EPOCH;
//! document.finalize(now)?;
//!
//! let policy = CompiledPolicy::new(document)?;
//! let caller = Identity::default().with_agent("claude");
//! let decision = policy.evaluate(&Request::tool_call(caller, "read_file", now));
//! assert!(decision.allowed);
//! assert_eq!(decision.reason.as_str(), "allowed");
//! # Ok::<(), mcp_runtime_policy::PolicyError>(())
//! ```

mod decision;
mod document;
mod error;
mod evaluate;
pub mod explain;
mod filter;
pub mod pin;
mod reason;
#[cfg(feature = "render")]
pub mod render;
pub mod replay;
pub mod revision;
mod validate;
mod vocabulary;

pub use decision::{Decision, ObjectRef};
pub use document::{
    AuthSettings, Grant, PolicyDocument, PolicySettings, SCHEMA_V1, SCHEMA_V2,
    SUPPORTED_SCHEMA_VERSIONS, Server, SessionBinding, SessionSettings, Tool, ToolRule,
};
pub use error::PolicyError;
pub use evaluate::{
    CompiledPolicy, Identity, Request, TOOLS_CALL, UpstreamTokenRef, is_tool_call_method,
};
pub use explain::Trace;
pub use pin::{DriftTracker, ToolDrift, tool_digest};
pub use reason::{Reason, Stage};
pub use revision::compute_revision;
pub use validate::{ValidationError, ValidationErrors};
pub use vocabulary::{
    AuthMode, DefaultDecision, Lenient, PolicyMode, RiskLevel, RuleDecision, SideEffect,
    ToolDriftAction, Trust, Vocabulary, trust_name,
};
