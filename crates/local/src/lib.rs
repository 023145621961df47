//! The local mode: `mcp-runtime up -f DIR` runs the same manifests a cluster takes, with no
//! cluster.
//!
//! * [`plan`]: pure: which servers to run and how (stdio behind the bridge, an HTTP command
//!   on an assigned port, or an external URL), and what is refused, with file and field;
//! * [`supervisor`]: one server's life: start, MCP handshake for readiness, restart with
//!   backoff, stop with its whole process group;
//! * [`daemon`]: the directory watch, reconcile, policy rendering, and the one port that routes
//!   `/{name}/mcp` through the gateway;
//! * [`status`]: the document `mcp-runtime status` reads;
//! * [`guard`]: the wrapper that makes every server die with `up`, even on SIGKILL.

pub mod daemon;
pub mod embedded;
pub mod guard;
pub mod plan;
pub mod probe;
pub mod process;
pub mod status;
pub mod supervisor;

pub use daemon::{MountedHandler, TlsPort, UpConfig, run};

/// The tracing target of the lines `up` shows the person running it (`notes | ready: 3
/// tool(s) at …`, each server's own output prefixed with its name): the one console target of
/// every role ([`mcp_runtime_serve::CONSOLE`]), which the CLI prints as bare messages whatever
/// `MCP_RUNTIME_LOG` says.
pub const CONSOLE: &str = mcp_runtime_serve::CONSOLE;
pub use status::{STATUS_PATH, UpStatus};
