//! The running local mode: read the directory, reconcile it into supervised servers and a
//! route table, serve one port, and follow changes until shut down.

use crate::plan::{Plan, Problem, ServerKey, ServerPlan, plan};
use crate::status::{Phase, STATUS_PATH, ServerStatus, UpStatus};
use crate::supervisor::{LaunchContext, Supervisor};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use mcp_runtime_api::manifest::{LoadResult, load_dir};
use mcp_runtime_api::server::{AuthMode, MCPServer};
use mcp_runtime_audit::{AuditSink, EVENT_TYPE_REQUEST};
use mcp_runtime_gateway::policy_source::PolicyStore;
use mcp_runtime_gateway::proxy::{
    OAuthConfig, Proxy, ProxyBody, ProxyConfig, ServerLabels, is_loopback_host,
};
use mcp_runtime_gateway::router::{NotReady, Route, Router};
use mcp_runtime_gateway::tls_listener::TlsListener;
use mcp_runtime_gateway::upstream_token::UpstreamTokenDir;
use mcp_runtime_policy::CompiledPolicy;
use mcp_runtime_serve::CONSOLE;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A handler mounted under a path prefix on the local port (the embedded Sentinel).
pub type MountedHandler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<ProxyBody>> + Send>>
        + Send
        + Sync,
>;

/// Settings of one `mcp-runtime up`.
#[derive(Clone)]
pub struct UpConfig {
    /// The manifests directory.
    pub dir: PathBuf,
    /// The running `mcp-runtime` binary (bridge and `mcp-runtime` commands).
    pub self_exe: PathBuf,
    /// Cluster name written into policies and audit events.
    pub cluster: String,
    /// Where audit events go (the embedded Sentinel).
    pub audit: Option<Arc<dyn AuditSink>>,
    /// Handlers under path prefixes, for example `/sentinel`.
    pub mounts: Vec<(String, MountedHandler)>,
    /// Shown in the status as the Sentinel UI address (a path on the local port).
    pub sentinel_path: Option<String>,
    /// The human ID given to requests that carry no identity header at all, so clients that
    /// cannot set headers (the MCP Inspector CLI) are still someone. Identity headers are
    /// trusted as sent in the header mode anyway, so on loopback this grants nothing a local
    /// process could not claim; `None` turns it off.
    pub default_human_id: Option<String>,
    /// Where the sessions' upstream tokens are read (a directory, then the environment).
    pub upstream_tokens: UpstreamTokenDir,
}

impl std::fmt::Debug for UpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpConfig")
            .field("dir", &self.dir)
            .field("self_exe", &self.self_exe)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

struct Entry {
    plan: ServerPlan,
    supervisor: Supervisor,
    policy: Arc<PolicyStore>,
}

/// What the HTTP side reads: swapped whole after each reconcile.
#[derive(Default)]
struct View {
    servers: Vec<(ServerStatusSource, Arc<PolicyStore>)>,
    /// Route path and identity header names of each server, for the default identity.
    identities: Vec<(String, [String; 3])>,
    problems: Vec<Problem>,
    reconciled_at: String,
}

type ServerStatusSource = Arc<dyn Fn() -> ServerStatus + Send + Sync>;

struct Shared {
    config: UpConfig,
    /// Listening on loopback: only loopback `Host` names are answered (DNS rebinding: a page on
    /// a rebound name sends a matching `Origin`, so the Origin check alone cannot tell).
    loopback_hosts_only: bool,
    router: Router,
    view: ArcSwap<View>,
    base_url: String,
    /// `https://<address>` of the TLS port, when `up` has one.
    tls_base_url: Option<String>,
}

/// The second port of `up` that terminates TLS, for servers with `auth.mode: mtls`: the same
/// routes as the plain port, with client certificates verified (see
/// [`mcp_runtime_gateway::tls_listener`]).
#[derive(Debug)]
pub struct TlsPort {
    pub listener: TcpListener,
    pub tls: Arc<TlsListener>,
}

/// Runs the local mode on `listener` (and on the TLS port, when given) until `shutdown`
/// completes, then stops every server and waits for their processes to exit.
pub async fn run(
    config: UpConfig,
    listener: TcpListener,
    tls_port: Option<TlsPort>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    let base_url = format!("http://{address}");
    let tls_base_url = match &tls_port {
        Some(port) => Some(format!("https://{}", port.listener.local_addr()?)),
        None => None,
    };
    let shared = Arc::new(Shared {
        config: config.clone(),
        loopback_hosts_only: address.ip().is_loopback(),
        router: Router::new(),
        view: ArcSwap::from_pointee(View::default()),
        base_url: base_url.clone(),
        tls_base_url,
    });
    let context = LaunchContext {
        self_exe: config.self_exe.clone(),
        work_dir: config.dir.clone(),
    };
    let mut servers: BTreeMap<ServerKey, Entry> = BTreeMap::new();

    let (changes_tx, mut changes) = mpsc::unbounded_channel::<()>();
    let _watcher = watch_dir(&config.dir, changes_tx)?;
    reconcile(&shared, &context, &mut servers).await;
    print_summary(&shared);

    let (stop_accepting, accepting_stopped) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut stopped = accepting_stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let tls_server = tls_port.map(|port| {
        // The files are re-read while the port serves; the task ends with it.
        let reload = port
            .tls
            .spawn_reloader(mcp_runtime_gateway::tls_listener::DEFAULT_RELOAD_INTERVAL);
        let stopped = stopped();
        tokio::spawn(serve_tls(port, shared.clone(), async move {
            stopped.await;
            drop(reload);
        }))
    });
    let server = tokio::spawn(serve(listener, shared.clone(), stopped()));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(()) = changes.recv() => {
                // Editors write a file in several steps: let the burst settle, then read once.
                tokio::time::sleep(Duration::from_millis(100)).await;
                while changes.try_recv().is_ok() {}
                tracing::info!(target: CONSOLE, "up | {} changed; reconciling", config.dir.display());
                reconcile(&shared, &context, &mut servers).await;
                print_problems(&shared.view.load().problems);
            }
        }
    }
    tracing::info!(target: CONSOLE, "up | shutting down: stopping {} server(s)", servers.len());
    // No new connections; the servers stop (which ends their streams); then the connections
    // still open get the drain bound to finish.
    let _ = stop_accepting.send(true);
    let connections = server.await.ok();
    let tls_connections = match tls_server {
        Some(server) => server.await.ok(),
        None => None,
    };
    let stops: Vec<_> = std::mem::take(&mut servers)
        .into_values()
        .map(|entry| tokio::spawn(entry.supervisor.stop()))
        .collect();
    for stop in stops {
        let _ = stop.await;
    }
    for connections in [connections, tls_connections].into_iter().flatten() {
        connections.drain().await;
    }
    Ok(())
}

fn watch_dir(
    dir: &std::path::Path,
    changes: mpsc::UnboundedSender<()>,
) -> anyhow::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = changes.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

/// Reads the directory and makes the running servers, policies and routes match it.
async fn reconcile(
    shared: &Arc<Shared>,
    context: &LaunchContext,
    servers: &mut BTreeMap<ServerKey, Entry>,
) {
    let config = &shared.config;
    let (load, mut read_problem) = match load_dir(&config.dir) {
        Ok(load) => (load, None),
        Err(error) => (
            LoadResult::default(),
            Some(Problem {
                source: config.dir.display().to_string(),
                message: format!("reading the directory: {error}"),
            }),
        ),
    };
    if read_problem.is_some() {
        // Keep what runs: an unreadable directory (mid-rename, permissions) is not an
        // instruction to stop every server.
        let mut view = View::clone_of(&shared.view.load());
        view.problems = read_problem.take().into_iter().collect();
        shared.view.store(Arc::new(view));
        return;
    }
    let mut planned: Plan = plan(&load, &|name| std::env::var(name).ok());
    for server in &mut planned.servers {
        let mtls = load.servers().any(|s| {
            key_matches(s, &server.key)
                && s.spec.auth.as_ref().map(|auth| auth.mode) == Some(AuthMode::Mtls)
        });
        if mtls {
            server.warnings.push(match &shared.tls_base_url {
                Some(url) => format!(
                    "spec.auth.mode: mtls: served at {url}{} with client certificates; the plain port refuses every call to it (503 auth_mode_unavailable)",
                    server.route
                ),
                None => "spec.auth.mode: mtls needs the TLS port (`up --tls-cert-file --tls-key-file --tls-client-ca-file`): every call to this server is refused with 503 auth_mode_unavailable".to_owned(),
            });
        }
    }

    // Stop what is gone or must restart with new launch settings.
    let wanted: BTreeMap<&ServerKey, &ServerPlan> =
        planned.servers.iter().map(|s| (&s.key, s)).collect();
    let stale: Vec<ServerKey> = servers
        .iter()
        .filter(|(key, entry)| {
            wanted
                .get(key)
                .is_none_or(|p| p.fingerprint != entry.supervisor.fingerprint)
        })
        .map(|(key, _)| key.clone())
        .collect();
    for key in stale {
        if let Some(entry) = servers.remove(&key) {
            tracing::info!(target: CONSOLE, "up | stopping {key}");
            entry.supervisor.stop().await;
        }
    }
    for server in &planned.servers {
        let url = format!("{}{}", shared.base_url, server.route);
        let entry = servers.entry(server.key.clone()).or_insert_with(|| {
            tracing::info!(target: CONSOLE, "up | starting {} at {url}", server.key);
            Entry {
                plan: server.clone(),
                supervisor: Supervisor::spawn(server, url.clone(), context),
                policy: Arc::new(PolicyStore::new()),
            }
        });
        entry.plan = server.clone();
    }

    // Policies: every server's, from every grant and session in the directory.
    let now = jiff::Timestamp::now();
    let grants: Vec<_> = load.grants().collect();
    let sessions: Vec<_> = load.sessions().collect();
    for (key, entry) in servers.iter() {
        let Some(server) = load.servers().find(|s| key_matches(s, key)) else {
            continue;
        };
        // The definitions the last handshake saw, so a pinned tool that drifted is quarantined
        // from the first call, before any tools/list through the gateway.
        let server = &with_live_digests(server, entry.supervisor.status().facts.as_ref());
        let rendered = mcp_runtime_policy::render::render(
            server,
            grants.iter().copied(),
            sessions.iter().copied(),
            &config.cluster,
            now,
        )
        .map_err(|error| error.to_string())
        .and_then(|document| CompiledPolicy::new(document).map_err(|error| error.to_string()));
        let _ = entry.policy.install(&format!("MCPServer {key}"), rendered);
    }

    shared.router.replace(
        servers
            .values()
            .map(|entry| route_for(shared, entry))
            .collect(),
    );
    let view = View {
        servers: servers
            .values()
            .map(|entry| {
                let status = entry.supervisor.status_source();
                (status, entry.policy.clone())
            })
            .collect(),
        identities: servers
            .values()
            .map(|entry| {
                (
                    entry.plan.route.clone(),
                    entry.plan.identity_headers.clone(),
                )
            })
            .collect(),
        problems: planned.problems,
        reconciled_at: jiff::Timestamp::now().to_string(),
    };
    shared.view.store(Arc::new(view));
}

impl View {
    fn clone_of(view: &View) -> View {
        View {
            servers: view.servers.clone(),
            identities: view.identities.clone(),
            problems: view.problems.clone(),
            reconciled_at: view.reconciled_at.clone(),
        }
    }
}

fn key_matches(server: &MCPServer, key: &ServerKey) -> bool {
    server.metadata.name.as_deref() == Some(key.name.as_str())
        && server.metadata.namespace.as_deref().unwrap_or("default") == key.namespace
}

fn route_for(shared: &Shared, entry: &Entry) -> Route {
    let plan = &entry.plan;
    let policy = entry.policy.clone();
    let status_policy = entry.policy.clone();
    let upstream = entry
        .supervisor
        .upstream
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("http://127.0.0.1:9"));
    let proxy = Proxy::new(ProxyConfig {
        upstream,
        strip_prefix: Some(plan.route.clone()),
        deny_encoding: Default::default(),
        limits: Default::default(),
        policy: Arc::new(move || policy.current()),
        config_status: Some(Arc::new(move || {
            serde_json::to_value(status_policy.status()).unwrap_or_default()
        })),
        audit: shared.config.audit.clone(),
        labels: ServerLabels {
            server: plan.key.name.clone(),
            namespace: plan.key.namespace.clone(),
            team_id: plan.team_id.clone(),
            cluster: shared.config.cluster.clone(),
            source: format!("{}-gateway", plan.key.name),
            event_type: EVENT_TYPE_REQUEST.to_owned(),
        },
        metrics: None,
        allowed_origins: Vec::new(),
        // The daemon answers loopback Host names only on a loopback listener, so there the
        // resource URL (and the audience an oauth server expects) can come from Host.
        oauth: OAuthConfig {
            public_url: None,
            loopback_hosts_only: shared.loopback_hosts_only,
            verification: Default::default(),
        },
    })
    .with_upstream_token_dir(shared.config.upstream_tokens.clone());
    let status = entry.supervisor.status_source();
    let name = plan.key.to_string();
    Route {
        path: plan.route.clone(),
        proxy,
        ready: Some(Arc::new(move || {
            let status = status();
            match status.phase {
                Phase::Ready => Ok(()),
                phase => Err(NotReady {
                    server: name.clone(),
                    phase: phase.as_str().to_owned(),
                    last_error: status.last_error,
                    hint: Some("see `mcp-runtime status`".to_owned()),
                }),
            }
        })),
    }
}

fn snapshot(shared: &Shared) -> UpStatus {
    let view = shared.view.load();
    UpStatus {
        dir: shared.config.dir.display().to_string(),
        url: shared.base_url.clone(),
        sentinel_url: shared
            .config
            .sentinel_path
            .as_ref()
            .map(|path| format!("{}{path}", shared.base_url)),
        servers: view
            .servers
            .iter()
            .map(|(status, policy)| {
                let mut status = status();
                let policy = policy.status();
                status.policy_revision = policy.revision;
                status.policy_error = policy.last_reload_error;
                status
            })
            .collect(),
        problems: view.problems.clone(),
        reconciled_at: view.reconciled_at.clone(),
    }
}

fn print_summary(shared: &Shared) {
    let view = shared.view.load();
    tracing::info!(target: CONSOLE, "up | serving on {}", shared.base_url);
    if let Some(url) = &shared.tls_base_url {
        tracing::info!(target: CONSOLE, "up | serving TLS (client certificates, for auth.mode mtls) on {url}");
    }
    for (status, _) in &view.servers {
        let status = status();
        tracing::info!(target: CONSOLE, "up |   {:<20} {}", status.name, status.url);
    }
    if let Some(path) = &shared.config.sentinel_path {
        tracing::info!(target: CONSOLE, "up |   Sentinel UI          {}{path}/", shared.base_url);
    }
    if let Some(human) = &shared.config.default_human_id {
        tracing::info!(target: CONSOLE,
            "up | requests without identity headers act as human {human:?} \
             (--default-human-id to change)"
        );
    }
    print_problems(&view.problems);
}

fn print_problems(problems: &[Problem]) {
    for problem in problems {
        tracing::info!(target: CONSOLE, "up | refused: {problem}");
    }
}

/// [`serve`] for the TLS port: the same handler behind the TLS handshake.
async fn serve_tls(
    port: TlsPort,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> mcp_runtime_serve::Connections {
    let options = mcp_runtime_serve::Options::new("up tls").drain_timeout(Duration::from_secs(2));
    let tls = port.tls;
    mcp_runtime_serve::accept_until(
        port.listener,
        options,
        shutdown,
        move |stream, _peer, drain| {
            let shared = shared.clone();
            tls.clone().serve_connection(
                stream,
                move |request| {
                    let shared = shared.clone();
                    async move { handle(&shared, request).await }
                },
                drain,
            )
        },
    )
    .await
}

/// Accepts until `shutdown`, through the shared accept loop (an accept error, such as running
/// out of descriptors, is logged and retried: it never ends serving), and returns the
/// connections still open.
async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> mcp_runtime_serve::Connections {
    // Short: what is still open once the servers have stopped is cut soon after.
    let options = mcp_runtime_serve::Options::new("up").drain_timeout(Duration::from_secs(2));
    mcp_runtime_serve::accept_until(listener, options, shutdown, move |stream, _peer, drain| {
        let shared = shared.clone();
        let service = hyper::service::service_fn(move |request| {
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(handle(&shared, request).await) }
        });
        mcp_runtime_serve::serve_http1(stream, service, drain)
    })
    .await
}

async fn handle(shared: &Shared, mut request: Request<Incoming>) -> Response<ProxyBody> {
    if shared.loopback_hosts_only
        && let Some(host) = request.headers().get(header::HOST)
        && !is_loopback_host(host)
    {
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": null,
            "error": {"code": -32600, "message": "host not allowed: mcp-runtime up on a loopback address only answers loopback host names"}
        });
        return json(StatusCode::FORBIDDEN, body.to_string().into_bytes());
    }
    add_default_identity(shared, &mut request);
    let path = request.uri().path();
    if path == STATUS_PATH {
        let body = serde_json::to_vec_pretty(&snapshot(shared)).unwrap_or_default();
        return json(StatusCode::OK, body);
    }
    if path == "/" {
        return json(StatusCode::OK, index(shared));
    }
    for (prefix, handler) in &shared.config.mounts {
        if path == prefix || path.starts_with(&format!("{prefix}/")) {
            return handler(request).await;
        }
    }
    shared.router.handle(request).await
}

/// Gives a request without any identity header the configured default human ID.
fn add_default_identity(shared: &Shared, request: &mut Request<Incoming>) {
    let Some(human) = &shared.config.default_human_id else {
        return;
    };
    let view = shared.view.load();
    let path = request.uri().path();
    let Some((_, names)) = view.identities.iter().find(|(route, _)| {
        path.strip_prefix(route.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }) else {
        return;
    };
    let headers = request.headers_mut();
    if names.iter().any(|name| headers.contains_key(name.as_str())) {
        return;
    }
    if let (Ok(name), Ok(value)) = (
        http::HeaderName::from_bytes(names[0].as_bytes()),
        http::HeaderValue::from_str(human),
    ) {
        headers.insert(name, value);
    }
}

/// `GET /`: where everything is, for a person who opens the port in a browser or with curl.
fn index(shared: &Shared) -> Vec<u8> {
    let status = snapshot(shared);
    let servers: Vec<_> = status
        .servers
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "url": s.url, "phase": s.phase}))
        .collect();
    let body = serde_json::json!({
        "servers": servers,
        "status": format!("{}{STATUS_PATH}", shared.base_url),
        "sentinel": status.sentinel_url.map(|url| format!("{url}/")),
    });
    serde_json::to_vec_pretty(&body).unwrap_or_default()
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// `server` with `status.toolDigests` from what `up`'s handshake learned (when it has).
fn with_live_digests(
    server: &mcp_runtime_api::MCPServer,
    facts: Option<&crate::probe::ServerFacts>,
) -> mcp_runtime_api::MCPServer {
    let mut server = server.clone();
    if let Some(facts) = facts.filter(|f| !f.tool_digests.is_empty()) {
        let status = server.status.get_or_insert_with(Default::default);
        status.tool_digests = Some(
            facts
                .tool_digests
                .iter()
                .map(|(name, digest)| mcp_runtime_api::server::ToolDigest {
                    name: name.clone(),
                    digest: digest.clone(),
                })
                .collect(),
        );
    }
    server
}
