//! The accept loop every HTTP listener of mcp-runtime runs: the gateway, its metrics port, the
//! operator's health and metrics port, the local mode's daemon and the bridge.
//!
//! One policy for all of them:
//!
//! * **An accept error never ends the server.** A listener that stops accepting while the
//!   process keeps running is the worst failure a proxy can have: it looks alive to its
//!   supervisor and serves nobody. Running out of file descriptors (`EMFILE`, `ENFILE`) or
//!   kernel memory (`ENOBUFS`, `ENOMEM`) is a passing condition: the error is logged through
//!   `tracing`, counted in the caller's [`Counter`], and the accept is retried after a short
//!   backoff that doubles up to [`MAX_BACKOFF`] (a pending connection stays in the kernel's
//!   backlog meanwhile, and is served once descriptors free up). An error that concerns one
//!   connection only (`ECONNABORTED`, `ECONNRESET`, `EINTR`) is counted and retried at once.
//! * **Shutdown drains.** When the shutdown future completes the listener is closed (new
//!   connections are refused), every connection is told to finish ([`Drain`]: an HTTP/1
//!   connection answers the request in progress and then closes), and the connections get up to
//!   a bound ([`Options::drain_timeout`]) to end before they are cut.

use prometheus_client::metrics::counter::Counter;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The `tracing` target of lines meant for the person at the terminal (`up | serving on …`, a
/// child's stderr relayed by the bridge): the binary prints them as they are, without time,
/// level or target, whatever `MCP_RUNTIME_LOG` says; other events are logs, filtered by it.
pub const CONSOLE: &str = "mcp_runtime::console";

/// The first pause after a resource error; it doubles with each further error in a row.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest pause between two accepts while errors last: short, so that a server recovers
/// within half a second of descriptors freeing up.
pub const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// How long connections get to finish after a shutdown, unless the caller says otherwise.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How one listener is served.
#[derive(Clone, Debug)]
pub struct Options {
    name: &'static str,
    accept_errors: Option<Counter>,
    drain_timeout: Duration,
    nodelay: bool,
}

impl Options {
    /// Options for the listener called `name` in logs (`gateway`, `gateway metrics`, …), with
    /// `TCP_NODELAY` on every accepted connection and the default drain bound.
    pub fn new(name: &'static str) -> Self {
        Options {
            name,
            accept_errors: None,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            nodelay: true,
        }
    }

    /// Counts every accept error in `counter` (which the caller exports).
    #[must_use]
    pub fn count_accept_errors(mut self, counter: Counter) -> Self {
        self.accept_errors = Some(counter);
        self
    }

    /// How long connections may take to finish once shutdown has started.
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// The listener's name in logs.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Tells a connection that the server is shutting down. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Drain(watch::Receiver<bool>);

impl Drain {
    /// Resolves once shutdown has started (at once if it already has).
    pub async fn started(&mut self) {
        // An error means the server is gone, which is a shutdown too.
        let _ = self.0.wait_for(|draining| *draining).await;
    }

    /// Whether shutdown has started.
    pub fn is_started(&self) -> bool {
        *self.0.borrow()
    }
}

/// Whether an accept error concerns one connection only (the next accept can succeed at once)
/// rather than the process's resources.
pub fn is_connection_error(error: &io::Error) -> bool {
    use io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    )
}

/// The pause before the next accept after `streak` errors in a row, the last one `error`.
fn backoff(error: &io::Error, streak: u32) -> Duration {
    if is_connection_error(error) {
        return Duration::ZERO;
    }
    let doublings = streak.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// The connections of a listener that has stopped accepting; [`Connections::drain`] ends them.
#[derive(Debug)]
pub struct Connections {
    name: &'static str,
    tasks: JoinSet<()>,
    drain: watch::Sender<bool>,
    timeout: Duration,
}

impl Connections {
    /// Connections still open.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether every connection has ended.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Tells every connection to finish, waits for them up to the drain bound, then cuts the
    /// ones still open.
    pub async fn drain(mut self) {
        let _ = self.drain.send(true);
        let tasks = &mut self.tasks;
        let finished = tokio::time::timeout(self.timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                listener = self.name,
                open = self.tasks.len(),
                "connections still open after {:?}: closing them",
                self.timeout
            );
            self.tasks.shutdown().await;
        }
    }
}

/// Accepts connections on `listener` and runs `handle` for each one, until `shutdown`
/// completes; then closes the listener and returns the open connections, for the caller to
/// [drain](Connections::drain) once it has done what must come first (the bridge stops its
/// children first, so that their streams end).
pub async fn accept_until<H, F>(
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()>,
    mut handle: H,
) -> Connections
where
    H: FnMut(TcpStream, SocketAddr, Drain) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let Options {
        name,
        accept_errors,
        drain_timeout,
        nodelay,
    } = options;
    let (drain, draining) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut streak: u32 = 0;
    tokio::pin!(shutdown);
    loop {
        let pause = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if streak > 0 {
                        tracing::info!(listener = name, errors = streak, "accepting connections again");
                        streak = 0;
                    }
                    if nodelay {
                        let _ = stream.set_nodelay(true);
                    }
                    tasks.spawn(handle(stream, peer, Drain(draining.clone())));
                    continue;
                }
                Err(error) => {
                    streak = streak.saturating_add(1);
                    if let Some(counter) = &accept_errors {
                        counter.inc();
                    }
                    let pause = backoff(&error, streak);
                    if streak == 1 {
                        tracing::warn!(listener = name, %error, "accept failed; retrying in {pause:?} (the server keeps running)");
                    } else {
                        tracing::debug!(listener = name, %error, errors = streak, "accept failed again; retrying in {pause:?}");
                    }
                    pause
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        if pause.is_zero() {
            continue;
        }
        // A shutdown during the pause still stops the server at once.
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    drop(listener);
    Connections {
        name,
        tasks,
        drain,
        timeout: drain_timeout,
    }
}

/// [`accept_until`] `shutdown`, then [drains](Connections::drain) the connections.
pub async fn serve<H, F>(
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()>,
    handle: H,
) where
    H: FnMut(TcpStream, SocketAddr, Drain) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    accept_until(listener, options, shutdown, handle)
        .await
        .drain()
        .await;
}

/// Serves one HTTP/1.1 connection with `service`. When shutdown starts the connection finishes
/// the request in progress, if any, and closes (an idle keep-alive connection closes at once).
pub async fn serve_http1<S, B>(stream: TcpStream, service: S, mut drain: Drain)
where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = hyper::Response<B>,
        >,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = drain.started() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// A future that never completes: for a listener that serves until its task is dropped.
pub fn never() -> impl Future<Output = ()> {
    std::future::pending()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_errors_back_off_doubling_up_to_the_cap() {
        let emfile = io::Error::from_raw_os_error(24);
        assert_eq!(backoff(&emfile, 1), FIRST_BACKOFF);
        assert_eq!(backoff(&emfile, 2), FIRST_BACKOFF * 2);
        assert_eq!(backoff(&emfile, 3), FIRST_BACKOFF * 4);
        assert_eq!(backoff(&emfile, 10), MAX_BACKOFF);
        assert_eq!(backoff(&emfile, u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn connection_errors_are_retried_at_once() {
        for kind in [
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::Interrupted,
        ] {
            assert_eq!(
                backoff(&io::Error::from(kind), 5),
                Duration::ZERO,
                "{kind:?}"
            );
        }
        // ECONNABORTED as the kernel reports it.
        assert!(is_connection_error(&io::Error::from_raw_os_error(103)));
        assert!(!is_connection_error(&io::Error::from_raw_os_error(23))); // ENFILE
    }
}
