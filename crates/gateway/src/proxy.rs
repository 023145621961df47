//! The data plane: an HTTP/1.1 reverse proxy for MCP streamable HTTP.
//!
//! A request passes through named stages, each in its own module under [`crate::pipeline`]:
//! **admin → guard → identity → inspect → decide → forward (filter/rewrite) → audit**.
//! [`Proxy::handle`] is that list of calls. Each stage either hands the next one what it needs
//! or ends the pipeline with a response (a denial, an error, an admin answer); the forward stage
//! only takes a request the decide stage cleared.
//! - `POST` bodies are read up to the limit and inspected strictly ([`crate::inspect`]); the exact
//!   bytes that were inspected are the bytes forwarded, so the upstream never reads something the
//!   policy did not see.
//! - Identity follows the active policy's `auth.mode` ([`IdentityMode::of`]). In header mode it
//!   is taken from the governance headers; every governance header, token header and the
//!   caller's `Authorization` are removed before forwarding, and the authenticated identity is
//!   written back. The caller's token never reaches the upstream. In `oauth` mode the caller is
//!   a verified bearer JWT ([`mcp_runtime_oauth`]); in `mtls` mode, the session a verified client
//!   certificate's SPIFFE ID names (served on the TLS listener, [`crate::tls_listener`]; on a
//!   plain HTTP listener every request is refused with 503 `auth_mode_unavailable`).
//! - Every `tools/call` (in a batch: every element) is decided by the policy; one denied element
//!   refuses the whole request, which is then never forwarded. No policy loaded → 503, fail closed.
//! - `tools/list` results are filtered to the tools the caller may call, in JSON and in SSE
//!   replies (each SSE event is rewritten as it passes; nothing else is buffered).
//! - Other responses stream through byte for byte, with `TCP_NODELAY` on both legs.
//! - Each request runs in a `request` span with a request id and, when the caller sent a
//!   well-formed `traceparent`, its W3C trace id.

use crate::deny::DenyEncoding;
use crate::inspect::Limits;
use crate::metrics::GatewayMetrics;
use crate::pipeline::audit::{self, Arrival, AuditRecord};
use crate::pipeline::guard::{self, Guard};
use crate::pipeline::{Step, admin, decide, forward, identity, inspect, trace};
use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_runtime_audit::AuditSink;
use mcp_runtime_policy::CompiledPolicy;
use mcp_runtime_serve::Options;
use std::convert::Infallible;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use tokio::net::TcpListener;
use tracing::Instrument;

pub use crate::pipeline::guard::is_loopback_host;
pub use crate::pipeline::identity::IdentityMode;
use crate::pipeline::identity::OAuthState;

/// Response body type of the proxy.
pub type ProxyBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Supplies the current policy; `None` until one is loaded. Called once per request.
pub type PolicyProvider = Arc<dyn Fn() -> Option<Arc<CompiledPolicy>> + Send + Sync>;

/// Supplies the JSON body of `/config/status`.
pub type StatusProvider = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// Gateway settings for one upstream.
#[derive(Clone)]
pub struct ProxyConfig {
    /// Base URL of the upstream MCP server, e.g. `http://127.0.0.1:8088`.
    pub upstream: Uri,
    /// Path prefix removed before forwarding (MR's `STRIP_PREFIX`).
    pub strip_prefix: Option<String>,
    /// How denials are encoded.
    pub deny_encoding: DenyEncoding,
    /// Body limit and batch policy.
    pub limits: Limits,
    /// The policy.
    pub policy: PolicyProvider,
    /// `/config/status`; absent → 404.
    pub config_status: Option<StatusProvider>,
    /// Where audit events go; `None` disables auditing.
    pub audit: Option<Arc<dyn AuditSink>>,
    /// Who this gateway speaks for, stamped on every audit event.
    pub labels: ServerLabels,
    /// Prometheus metrics, served at `/metrics`; `None` disables them.
    pub metrics: Option<Arc<GatewayMetrics>>,
    /// Browser origins allowed besides the gateway's own (`*` allows any). A request with any
    /// other `Origin` is refused with 403 (DNS-rebinding protection, as the MCP spec requires).
    pub allowed_origins: Vec<String>,
    /// `auth.mode: oauth`: where the resource is published and how tokens are verified.
    pub oauth: OAuthConfig,
}

/// The gateway side of `auth.mode: oauth` (the issuer and audience come from the policy).
#[derive(Clone, Debug, Default)]
pub struct OAuthConfig {
    /// The public base URL of this gateway (`EXTERNAL_BASE_URL`, e.g. `https://mcp.example.com`):
    /// the resource URL is this plus the request path, and it is the expected audience when
    /// the policy names none. Unset: `http://<Host>` of each request, which is trusted as an
    /// audience only when the listener answers loopback `Host` names alone (local mode);
    /// elsewhere such a gateway answers 503 `oauth_config_missing` unless `auth.audience` is set.
    pub public_url: Option<String>,
    /// Only loopback `Host` names reach this proxy (set by `mcp-runtime up`, which checks the
    /// Host itself; [`Proxy::serve`] sets it for a loopback listener).
    pub loopback_hosts_only: bool,
    /// Token checks and key fetching.
    pub verification: mcp_runtime_oauth::Settings,
}

/// The server identity written into audit events (MR's `server`, `namespace`, `team_id`,
/// `cluster`, plus the envelope's `source` and `event_type`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerLabels {
    pub server: String,
    pub namespace: String,
    pub team_id: String,
    pub cluster: String,
    /// Envelope `source`, default `<server>-gateway`.
    pub source: String,
    /// Envelope `event_type`, default `mcp.request`.
    pub event_type: String,
}

impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("upstream", &self.upstream)
            .field("strip_prefix", &self.strip_prefix)
            .field("deny_encoding", &self.deny_encoding)
            .finish_non_exhaustive()
    }
}

/// How long an upstream may take to start answering by default: longer than the MCP SDKs' own
/// request timeouts (60 s), so a slow tool is the client's call to give up on, while an upstream
/// that hangs does not hold a connection forever.
pub const DEFAULT_UPSTREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The proxy: cheap to clone, shared by every connection.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub(crate) config: Arc<ProxyConfig>,
    pub(crate) client: Client<HttpConnector, Full<Bytes>>,
    pub(crate) streaming_client: Client<HttpConnector, Incoming>,
    /// How long the upstream may take to start its response (headers); a stream that has
    /// started is never cut.
    pub(crate) upstream_timeout: std::time::Duration,
    /// Set by [`Proxy::serve`] on a loopback listener: only loopback `Host`s are accepted.
    loopback_hosts_only: bool,
    /// Verifiers and key caches of `oauth` mode.
    oauth: Arc<OAuthState>,
    /// Permits to read a `POST` body, when their number is bounded.
    pub(crate) body_permits: Option<Arc<tokio::sync::Semaphore>>,
    /// Where the sessions' own upstream tokens are read (`UPSTREAM_TOKEN_DIR`).
    pub(crate) upstream_token_dir: crate::upstream_token::UpstreamTokenDir,
}

impl Proxy {
    /// A proxy for `config`, with a pooled, `TCP_NODELAY` upstream client.
    pub fn new(config: ProxyConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector.clone());
        let streaming_client = Client::builder(TokioExecutor::new()).build(connector);
        let oauth = Arc::new(OAuthState {
            issuers: mcp_runtime_oauth::Issuers::new(config.oauth.verification.clone()),
            host_trusted: config.oauth.loopback_hosts_only,
        });
        Proxy {
            config: Arc::new(config),
            client,
            streaming_client,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            body_permits: None,
            upstream_token_dir: Default::default(),
            loopback_hosts_only: false,
            oauth,
        }
    }

    /// The same proxy with another upstream timeout (default [`DEFAULT_UPSTREAM_TIMEOUT`]): an
    /// upstream that has not started its response by then gets the caller a 504.
    pub fn with_upstream_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    /// Reads the sessions' upstream tokens from `dir` (`<dir>/<namespace>/<secret>/<key>`;
    /// default [`crate::upstream_token::DEFAULT_UPSTREAM_TOKEN_DIR`]).
    #[must_use]
    pub fn with_upstream_token_dir(mut self, dir: crate::upstream_token::UpstreamTokenDir) -> Self {
        self.upstream_token_dir = dir;
        self
    }

    /// Reads at most `limit` `POST` bodies at once (so at most `limit` × the body limit of
    /// memory goes to bodies being read, whatever slow or many callers do); one more is refused
    /// at once with 503 and `Retry-After: 1`.
    #[must_use]
    pub fn with_max_concurrent_bodies(mut self, limit: usize) -> Self {
        self.body_permits = Some(Arc::new(tokio::sync::Semaphore::new(limit.max(1))));
        self
    }

    /// Serves on `listener` until the future is dropped (its connections end with it).
    ///
    /// On a loopback listener (local mode) a request whose `Host` is not a loopback name is
    /// refused with 403 (DNS-rebinding protection: a rebound name carries a matching `Origin`,
    /// so the Origin check alone cannot catch it, and the upstream never sees the caller's Host).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let options = self.serve_options();
        self.serve_until(listener, options, mcp_runtime_serve::never())
            .await
    }

    /// The accept-loop options of this proxy's listener: accept errors are counted in its
    /// metrics (`mcp_gateway_accept_errors_total`) when it has metrics.
    pub fn serve_options(&self) -> Options {
        let options = Options::new("gateway");
        match &self.config.metrics {
            Some(metrics) => options.count_accept_errors(metrics.accept_errors()),
            None => options,
        }
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting and lets the
    /// requests in flight finish (within the drain bound of `options`). An accept error never
    /// ends serving (see [`mcp_runtime_serve`]).
    pub async fn serve_until(
        self,
        listener: TcpListener,
        options: Options,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let proxy = self.bound_to(&listener)?;
        mcp_runtime_serve::serve(listener, options, shutdown, move |stream, _peer, drain| {
            let proxy = proxy.clone();
            let service = hyper::service::service_fn(move |request| {
                let proxy = proxy.clone();
                async move { Ok::<_, Infallible>(proxy.handle(request).await) }
            });
            mcp_runtime_serve::serve_http1(stream, service, drain)
        })
        .await;
        Ok(())
    }

    /// This proxy as served on `listener`: on a loopback listener only loopback `Host`s are
    /// accepted (and may name the OAuth resource).
    pub(crate) fn bound_to(mut self, listener: &TcpListener) -> std::io::Result<Self> {
        self.loopback_hosts_only = listener.local_addr()?.ip().is_loopback();
        if self.loopback_hosts_only && !self.oauth.host_trusted {
            self.oauth = Arc::new(OAuthState {
                issuers: mcp_runtime_oauth::Issuers::new(self.config.oauth.verification.clone()),
                host_trusted: true,
            });
        }
        Ok(self)
    }

    /// Handles one request: the stages in order, then the audit of what they decided.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let span = trace::span(&request);
        async {
            let arrival = Arrival::of(&request);
            let mut record = AuditRecord::default();
            let _inflight = self.config.metrics.as_ref().map(|m| m.start());
            let response = match self.stages(request, &mut record).await {
                ControlFlow::Continue(response) | ControlFlow::Break(response) => response,
            };
            audit::finish(&self.config, arrival, record, &response);
            response
        }
        .instrument(span)
        .await
    }

    /// The request pipeline. A stage that answers (`Break`) ends it; only a request the decide
    /// stage cleared is forwarded.
    async fn stages(
        &self,
        request: Request<Incoming>,
        record: &mut AuditRecord,
    ) -> Step<Response<ProxyBody>> {
        let config = &self.config;
        let request = admin::answer(config, request)?;
        let request = guard::check(self.guard(), request)?;
        let (identified, body) = identity::establish(config, &self.oauth, request, record).await?;
        let permits = self.body_permits.as_deref();
        let inspected = inspect::read(config, permits, identified, body, record).await?;
        let cleared = decide::decide(config, inspected, record)?;
        ControlFlow::Continue(forward::send(self, cleared).await)
    }

    fn guard(&self) -> Guard<'_> {
        Guard {
            loopback_listener: self.loopback_hosts_only,
            allowed_origins: &self.config.allowed_origins,
        }
    }
}
