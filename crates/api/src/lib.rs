//! The `mcpruntime.org/v1alpha1` API.
//!
//! - [`MCPServer`]: what to run and how to expose and guard it.
//! - [`MCPAccessGrant`]: who may call which tools, up to which trust level and side effects.
//! - [`MCPAgentSession`]: a consented, expiring, revocable agent session.
//!
//! Besides the types this crate holds their static defaults ([`defaults`]), the generated CRDs
//! ([`crd`]) and client-side validation of manifests against those CRDs, including their CEL rules
//! ([`validation`], [`manifest`]). It has no Kubernetes client and no async runtime.

pub mod client_config;
pub mod common;
pub mod crd;
pub mod defaults;
pub mod grant;
pub mod import;
pub mod manifest;
pub mod metadata;
pub mod reference;
pub mod route;
pub mod server;
pub mod session;
pub mod status;
pub mod validation;

pub use common::{RiskLevel, SecretKeyRef, ServerRef, SideEffect, Subject, TrustLevel};
pub use grant::{MCPAccessGrant, MCPAccessGrantSpec, ToolRule};
pub use manifest::{
    LoadResult, Loaded, Manifest, ManifestError, Source, load_dir, parse_manifests,
};
pub use route::Route;
pub use server::{MCPServer, MCPServerSpec, MCPServerStatus};
pub use session::{MCPAgentSession, MCPAgentSessionSpec};
pub use status::ObjectStatus;

/// API group.
pub const GROUP: &str = "mcpruntime.org";
/// API version.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` value of every kind.
pub const API_VERSION: &str = "mcpruntime.org/v1alpha1";
/// Label every child object carries: `app.kubernetes.io/managed-by=mcp-runtime`.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "mcp-runtime";
