//! The local mode's status document, served at [`STATUS_PATH`] and read by
//! `mcp-runtime status`.

use crate::plan::Problem;
use crate::probe::ServerFacts;
use serde::{Deserialize, Serialize};

/// Where a running `up` serves its status.
pub const STATUS_PATH: &str = "/_up/status";

/// Lifecycle of one local server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Started (or being probed) but has not completed an MCP handshake yet.
    #[default]
    Starting,
    /// Answered `initialize` and `tools/list`.
    Ready,
    /// Exited; waiting out the backoff before the next start.
    Restarting,
    /// Cannot be started (for example the command is not installed); retried with backoff.
    Failed,
    /// Stopped by the local mode (removed from the directory, or shutting down).
    Stopped,
}

impl Phase {
    /// The label used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "Starting",
            Phase::Ready => "Ready",
            Phase::Restarting => "Restarting",
            Phase::Failed => "Failed",
            Phase::Stopped => "Stopped",
        }
    }
}

/// One server as `mcp-runtime status` shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub name: String,
    pub namespace: String,
    /// The URL clients use (through the gateway).
    pub url: String,
    /// `stdio`, `http` or `external`.
    pub launch: String,
    /// Where the gateway forwards to.
    pub upstream: String,
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// How many times the process exited and was started again.
    pub restarts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<ServerFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The last lines the process printed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_output: Vec<String>,
}

/// The whole local mode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpStatus {
    /// The manifests directory.
    pub dir: String,
    /// Base URL of the local port.
    pub url: String,
    /// The Sentinel UI, when embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentinel_url: Option<String>,
    pub servers: Vec<ServerStatus>,
    /// Refused manifests and servers that cannot run, with file and field.
    pub problems: Vec<Problem>,
    /// When the directory was last read.
    pub reconciled_at: String,
}
