//! `mcp-runtime bridge`: serves a stdio MCP server over streamable HTTP.
//!
//! - **Legacy era** (2024-11-05 … 2025-11-25): an `initialize` POST without `Mcp-Session-Id`
//!   starts a new process; the reply carries a new `Mcp-Session-Id`, and every later POST, GET
//!   stream and DELETE of that session goes to that process only. DELETE (or an idle timeout)
//!   ends the session and its process.
//! - **Modern era** (2026-07-28, stateless POSTs): one shared worker process, initialized by the
//!   bridge, serves every client with request ids rewritten so they never collide. It is
//!   restarted on the next request if it dies.
//! - **Shutdown**: when the `shutdown` future of [`serve`] completes, every child is stopped
//!   gracefully (close stdin → wait → SIGTERM → wait → SIGKILL) before `serve` returns.
//!
//! See `docs/bridge.md` for the design and its reasons.

mod child;
mod http_api;
mod rpc;
mod session;
mod worker;

use std::collections::HashMap;
use std::ffi::OsString;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use child::Grace;

/// Bounds of the bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body, in bytes. Default 4 MiB (as the Python SDK).
    pub max_body_bytes: usize,
    /// Most concurrent legacy sessions (each is a process); more get 503. Default 64.
    pub max_sessions: usize,
    /// A legacy session with no request and no open stream for this long is ended. Default
    /// 30 minutes; `None` keeps sessions until DELETE or shutdown.
    pub session_idle_timeout: Option<Duration>,
    /// SSE events kept per session for `Last-Event-ID` replay. Default 256.
    pub replay_events: usize,
    /// Server messages kept per session while no GET stream is open. Default 256.
    pub backlog_messages: usize,
    /// Longest line accepted from a child's stdout; longer lines are dropped. Default 16 MiB.
    pub max_message_bytes: usize,
    /// How long the shared worker may take to answer the bridge's `initialize`. Default 60 s.
    pub worker_start_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 64,
            session_idle_timeout: Some(Duration::from_secs(30 * 60)),
            replay_events: 256,
            backlog_messages: 256,
            max_message_bytes: 16 * 1024 * 1024,
            worker_start_timeout: Duration::from_secs(60),
        }
    }
}

/// What the bridge runs and how it serves it.
#[derive(Clone, Debug)]
pub struct BridgeConfig {
    /// The stdio MCP server's executable (looked up in `PATH` when it has no slash).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Environment variables added to the bridge's own for each child.
    pub env: Vec<(OsString, OsString)>,
    /// Working directory of the children; the bridge's when `None`.
    pub cwd: Option<PathBuf>,
    /// The MCP endpoint path. Default `/mcp`.
    pub mcp_path: String,
    /// Graceful shutdown of each child.
    pub grace: Grace,
    /// Bounds.
    pub limits: Limits,
    /// Browser origins accepted besides the bridge's own (`*`: any). Requests carrying another
    /// `Origin` get 403; the rule is `mcp_runtime_protocol::guard`, shared with the gateway.
    pub allowed_origins: Vec<String>,
}

impl BridgeConfig {
    /// A bridge for `program args…` with the defaults.
    pub fn new<P, I, A>(program: P, args: I) -> Self
    where
        P: Into<OsString>,
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        BridgeConfig {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
            mcp_path: "/mcp".into(),
            grace: Grace::default(),
            limits: Limits::default(),
            allowed_origins: Vec::new(),
        }
    }

    fn launch(&self) -> child::Launch {
        child::Launch {
            program: self.program.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            max_line_bytes: self.limits.max_message_bytes,
        }
    }
}

/// Why [`serve`] failed. Since every listener runs the shared accept loop, which retries
/// accept errors instead of failing, `serve` no longer returns it; the type stays for callers.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The listener failed.
    #[error("accepting connections: {0}")]
    Accept(#[source] std::io::Error),
}

/// State shared by every connection.
#[derive(Debug)]
struct Shared {
    config: BridgeConfig,
    /// Whether the listener is on a loopback address: then `Host` must be a loopback name.
    loopback_listener: bool,
    launch: child::Launch,
    sessions: Mutex<Sessions>,
    worker: tokio::sync::Mutex<WorkerSlot>,
}

/// The shared stateless worker, and the last failure to start one: within a second of a failed
/// start, requests get that error instead of starting yet another process.
#[derive(Debug, Default)]
struct WorkerSlot {
    current: Option<Arc<worker::Worker>>,
    failed: Option<(std::time::Instant, String)>,
}

#[derive(Debug, Default)]
struct Sessions {
    /// Set once shutdown begins: no new process is started after it.
    closing: bool,
    by_id: HashMap<String, Arc<session::Session>>,
}

impl Shared {
    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ends a session and stops its process (in the background).
    fn end_session(self: &Arc<Self>, id: &str, reason: &str) -> bool {
        let Some(session) = self.sessions().by_id.remove(id) else {
            return false;
        };
        session.close(reason);
        let grace = self.config.grace;
        tokio::spawn(async move { session.process.terminate(grace).await });
        true
    }

    async fn shutdown(&self) {
        let sessions: Vec<Arc<session::Session>> = {
            let mut sessions = self.sessions();
            sessions.closing = true;
            sessions.by_id.drain().map(|(_, s)| s).collect()
        };
        let worker = {
            let mut slot = self.worker.lock().await;
            // Holding no lock from here on; a request racing the shutdown sees `closing`.
            slot.current.take()
        };
        let grace = self.config.grace;
        let mut stops = tokio::task::JoinSet::new();
        for session in sessions {
            session.close("the bridge is shutting down");
            stops.spawn(async move { session.process.terminate(grace).await });
        }
        if let Some(worker) = worker {
            worker.close("the bridge is shutting down");
            stops.spawn(async move { worker.process.terminate(grace).await });
        }
        while stops.join_next().await.is_some() {}
    }
}

/// Serves MCP on `listener` until `shutdown` completes, then stops every child gracefully and
/// returns. Besides the MCP path, `GET /healthz` and `GET /readyz` answer 200 while serving.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: BridgeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), BridgeError> {
    let launch = config.launch();
    let loopback_listener = listener
        .local_addr()
        .is_ok_and(|address| address.ip().is_loopback());
    let shared = Arc::new(Shared {
        config,
        loopback_listener,
        launch,
        sessions: Mutex::new(Sessions::default()),
        worker: tokio::sync::Mutex::new(WorkerSlot::default()),
    });
    let mut background = tokio::task::JoinSet::new();
    if let Some(idle) = shared.config.limits.session_idle_timeout {
        let shared = shared.clone();
        background.spawn(async move { reap_idle_sessions(shared, idle).await });
    }
    if std::process::id() == 1 {
        background.spawn(child::reap_orphans());
    }
    // The shared accept loop: an accept error (out of descriptors, a connection aborted before
    // it was accepted) is logged and retried, never fatal.
    let options = mcp_runtime_serve::Options::new("bridge").drain_timeout(DRAIN_TIMEOUT);
    let accepting = shared.clone();
    let connections = mcp_runtime_serve::accept_until(
        listener,
        options,
        shutdown,
        move |stream, _peer, drain| http_api::serve_connection(stream, accepting.clone(), drain),
    )
    .await;
    // The children stop first: that ends their sessions' streams, so the connections can
    // finish; whatever is still open after the drain bound is cut.
    shared.shutdown().await;
    connections.drain().await;
    background.shutdown().await;
    Ok(())
}

/// How long connections get to finish once the children have stopped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

async fn reap_idle_sessions(shared: Arc<Shared>, idle: Duration) {
    let period = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::time::sleep(period).await;
        let sessions: Vec<Arc<session::Session>> =
            shared.sessions().by_id.values().cloned().collect();
        let mut expired = Vec::new();
        for session in sessions {
            session.keep_alive();
            if session
                .idle_since()
                .is_some_and(|since| since.elapsed() >= idle)
            {
                expired.push(session.id.clone());
            }
        }
        for id in expired {
            tracing::info!(
                target: mcp_runtime_serve::CONSOLE,
                "mcp-runtime bridge: session {id} idle for {idle:?}: ending it"
            );
            shared.end_session(&id, "the session expired");
        }
    }
}
