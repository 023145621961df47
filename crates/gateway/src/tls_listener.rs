//! The gateway terminating TLS itself (`auth.mode: mtls`): the handshake on each accepted
//! connection, the verified client certificate attached to every request of that connection
//! ([`TlsPeer`]), and the reload of the certificate, key and client CA files.
//!
//! The identity stage reads the [`TlsPeer`] extension; a request without one arrived on a plain
//! HTTP listener, where `mtls` cannot be served and fails closed.

use crate::proxy::{Proxy, ProxyBody};
use http::{Request, Response};
use hyper::body::Incoming;
use mcp_runtime_serve::{Drain, Options};
use mcp_runtime_tls::{PeerCertificate, ReloadingServerConfig};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long a client may take to complete the TLS handshake: a connection that opens and says
/// nothing must not hold a task forever.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the files are checked for changes by default (the Go gateway checks every 60 s;
/// a Secret volume update reaches the pod within about a minute anyway).
pub const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// What the TLS listener knows about the peer of a connection; attached to each of its
/// requests as an extension.
#[derive(Clone, Debug)]
pub struct TlsPeer {
    /// The client certificate, verified against the client CA bundle during the handshake;
    /// `None` when the client presented none.
    pub certificate: Option<Arc<PeerCertificate>>,
    /// `TRUSTED_PROXY_SPIFFE_ID`: when set, the peer must be this proxy (its certificate
    /// carries this URI SAN), and the caller's identity is the SPIFFE ID the proxy forwards.
    pub trusted_proxy: Option<Arc<str>>,
}

/// The gateway's TLS listener settings: the reloading server configuration and the pinned
/// proxy identity of the ingress-terminated variant.
#[derive(Debug)]
pub struct TlsListener {
    config: Arc<ReloadingServerConfig>,
    trusted_proxy: Option<Arc<str>>,
}

impl TlsListener {
    /// A listener presenting `config` (whose client CA bundle verifies client certificates),
    /// trusting forwarded identities only from `trusted_proxy` when it is set.
    pub fn new(config: ReloadingServerConfig, trusted_proxy: Option<String>) -> Arc<Self> {
        Arc::new(TlsListener {
            config: Arc::new(config),
            trusted_proxy: trusted_proxy
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty())
                .map(Arc::from),
        })
    }

    /// Checks the files every `interval` and swaps in new material when they change (a change
    /// that does not load is logged once; the last good material stays). The task ends when the
    /// returned guard is dropped.
    pub fn spawn_reloader(&self, interval: Duration) -> ReloadTask {
        let config = self.config.clone();
        ReloadTask(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                match config.reload_if_changed() {
                    Ok(true) => tracing::info!(
                        target: mcp_runtime_serve::CONSOLE,
                        "gateway | TLS certificate, key or client CA changed: new connections use the new files"
                    ),
                    Ok(false) => {}
                    Err(error) => tracing::warn!(
                        %error,
                        "TLS files changed but do not load; the previous certificate stays in use"
                    ),
                }
            }
        }))
    }

    /// Re-reads the files now (what the reload task does at each tick): `Ok(true)` when new
    /// material is in use, `Ok(false)` when nothing changed, an error when a change does not
    /// load (the last good material stays).
    pub fn reload_now(&self) -> Result<bool, mcp_runtime_tls::TlsError> {
        self.config.reload_if_changed()
    }

    /// Completes the TLS handshake on `stream` and serves its HTTP/1.1 requests with `handler`,
    /// each carrying the connection's [`TlsPeer`]. A failed handshake (no TLS, a certificate
    /// from another CA, a timeout) closes the connection; it is logged at debug level only,
    /// since anyone can cause it.
    pub async fn serve_connection<H, F>(
        self: Arc<Self>,
        stream: TcpStream,
        handler: H,
        drain: Drain,
    ) where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<ProxyBody>> + Send + 'static,
    {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.config.current());
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%error, "TLS handshake refused");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        };
        let certificate = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| match PeerCertificate::parse(leaf) {
                Ok(certificate) => Some(Arc::new(certificate)),
                Err(error) => {
                    // Verified by rustls but unreadable here: treated as no certificate, which
                    // fails closed in mtls mode.
                    tracing::warn!(%error, "client certificate could not be read");
                    None
                }
            });
        let peer = TlsPeer {
            certificate,
            trusted_proxy: self.trusted_proxy.clone(),
        };
        let handler = Arc::new(handler);
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            // Set by the listener, never by the caller: extensions do not come off the wire.
            request.extensions_mut().insert(peer.clone());
            let response = handler(request);
            async move { Ok::<_, Infallible>(response.await) }
        });
        serve_http1(stream, service, drain).await;
    }
}

/// Ends the reload task when dropped.
#[derive(Debug)]
pub struct ReloadTask(tokio::task::JoinHandle<()>);

impl Drop for ReloadTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One HTTP/1.1 connection over TLS, finishing the request in progress when shutdown starts
/// (as `mcp_runtime_serve::serve_http1` does for plain TCP).
async fn serve_http1<S>(
    stream: tokio_rustls::server::TlsStream<TcpStream>,
    service: S,
    mut drain: Drain,
) where
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<ProxyBody>,
            Error = Infallible,
        >,
    S::Future: Send,
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

impl Proxy {
    /// Serves on `listener` over TLS (see [`TlsListener`]) until `shutdown` completes, then
    /// drains as [`Proxy::serve_until`] does.
    pub async fn serve_tls_until(
        self,
        listener: TcpListener,
        tls: Arc<TlsListener>,
        options: Options,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let proxy = self.bound_to(&listener)?;
        mcp_runtime_serve::serve(listener, options, shutdown, move |stream, _peer, drain| {
            let proxy = proxy.clone();
            tls.clone().serve_connection(
                stream,
                move |request| {
                    let proxy = proxy.clone();
                    async move { proxy.handle(request).await }
                },
                drain,
            )
        })
        .await;
        Ok(())
    }
}
