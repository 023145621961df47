//! The platform team's cluster operations, spoken to the Kubernetes API with kube-rs (never a
//! kubectl subprocess):
//!
//! - [`plan`]: what `setup` installs (pure);
//! - [`connect`]: a client from `KUBECONFIG` / `--kubeconfig` / `--context`, with errors that name
//!   the fix;
//! - [`preflight`]: the checks that run before anything is written (server version, the caller's
//!   permissions, an existing install), so a failed setup changes nothing;
//! - [`install`]: server-side apply of the plan, one field manager, idempotent;
//! - [`readiness`]: whether the install runs, and if not, why ("no node can run pods");
//! - [`uninstall`]: removes exactly what setup made;
//! - [`sentinel`]: the installed Sentinel's query API through the API server's service proxy.

pub mod connect;
pub mod install;
pub mod objects;
pub mod plan;
pub mod preflight;
pub mod readiness;
pub mod sentinel;
pub mod status;
pub mod uninstall;

pub use connect::{ConnectError, connect};
pub use kube::Client;
pub use plan::{Options, SentinelStore, Step, plan};

/// A failed call to the API server, with what was being done: one line, the server's own
/// message rather than the client's whole error chain.
#[derive(Debug)]
pub struct ApiError {
    pub doing: String,
    pub source: kube::Error,
}

impl ApiError {
    pub fn new(doing: impl Into<String>, source: kube::Error) -> ApiError {
        ApiError {
            doing: doing.into(),
            source,
        }
    }

    /// The HTTP status the API server answered with, if it answered.
    pub fn code(&self) -> Option<u16> {
        match &self.source {
            kube::Error::Api(status) => Some(status.code),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            // Forbidden: the user's RBAC, not the cluster, is what to fix.
            kube::Error::Api(status) if status.code == 403 => write!(
                f,
                "{}: {} (a cluster admin can grant it; `kubectl auth can-i --list` shows what you may do)",
                self.doing, status.message
            ),
            kube::Error::Api(status) => write!(f, "{}: {}", self.doing, status.message),
            other => {
                // The innermost cause ("Connection refused"), not the whole chain.
                let mut cause: &dyn std::error::Error = other;
                while let Some(next) = cause.source() {
                    cause = next;
                }
                write!(f, "{}: {cause}", self.doing)
            }
        }
    }
}

impl std::error::Error for ApiError {}
