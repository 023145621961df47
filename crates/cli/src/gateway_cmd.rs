//! `mcp-runtime gateway`: the policy-enforcing MCP proxy, configured by flags or by the Go
//! mcp-runtime sidecar's environment variables (so the operator renders MR-compatible pods).

use anyhow::{Context, Result};
use mcp_runtime_audit::{AuditSink, HttpSink, HttpSinkConfig, StdoutSink};
use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::fanout::FanOut;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::metrics::{GatewayMetrics, ServerLabelSet};
use mcp_runtime_gateway::policy_source::{
    DocumentDefaults, PolicyStore, parse_auth_mode, startup_check, watch_file,
};
use mcp_runtime_gateway::proxy::{IdentityMode, OAuthConfig, Proxy, ProxyConfig, ServerLabels};
use mcp_runtime_gateway::server::serve_gateway;
use mcp_runtime_gateway::tls_listener::TlsListener;
use mcp_runtime_gateway::upstream_token::UpstreamTokenDir;
use mcp_runtime_tls::{GATEWAY_FILE_NAMES, ReloadingServerConfig, ServerTlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8091)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDRESS", default_value = "0.0.0.0")]
    address: std::net::IpAddr,
    /// The MCP server to forward to, e.g. http://127.0.0.1:8088.
    #[arg(long, env = "UPSTREAM_URL")]
    upstream_url: String,
    /// The policy document, reloaded when it changes.
    #[arg(
        long,
        env = "POLICY_FILE",
        default_value = "/var/run/mcp-runtime/policy/policy.json"
    )]
    policy_file: PathBuf,
    /// Also watch the policy ConfigMap `<namespace>/<name>` (key `policy.json`) through the
    /// Kubernetes API, so a revocation arrives within about a second instead of after the
    /// kubelet's refresh of the mounted file. Uses the in-cluster ServiceAccount token, or
    /// KUBECONFIG. The file stays the fallback: the newest valid document of either wins, and a
    /// watch that fails keeps the last good policy (reported on /config/status and in metrics).
    #[arg(long, env = "POLICY_CONFIGMAP", value_name = "NAMESPACE/NAME")]
    policy_configmap: Option<mcp_runtime_policy_watch::ConfigMapRef>,
    /// Path prefix removed before forwarding.
    #[arg(long, env = "STRIP_PREFIX")]
    strip_prefix: Option<String>,
    /// How long the upstream may take to start its response before the caller gets a 504
    /// (`upstream_timeout`, audited); a response that has started streaming is never cut.
    #[arg(long, env = "UPSTREAM_TIMEOUT", default_value = "120s", value_parser = upstream_timeout)]
    upstream_timeout: std::time::Duration,
    /// Caller identification. The policy document's `auth.mode` decides; this may only repeat
    /// it (a different value is refused) or fill it when the document has none (default then:
    /// `header`). `none`, `header`, `oauth` (bearer JWTs from the policy's `auth.issuer_url`) or
    /// `mtls` (a client certificate whose SPIFFE ID names a live session; needs TLS_CERT_FILE,
    /// TLS_KEY_FILE and TLS_CLIENT_CA_FILE, without which every MCP request is refused with 503
    /// `auth_mode_unavailable`).
    #[arg(long, env = "AUTH_MODE")]
    auth_mode: Option<String>,
    /// Fallbacks from MR's sidecar environment for fields the policy document leaves unset; the
    /// document (rendered from the same spec) wins whenever it sets them.
    #[command(flatten)]
    document_defaults: DocumentDefaultArgs,
    /// Threads that serve requests. Default: one per CPU of the process's CPU limit (its
    /// cgroup quota, as a Kubernetes CPU limit sets it, or a narrower CPU set), at most 4;
    /// without a limit, 1. With 1 the whole gateway runs on one thread, so a request never
    /// crosses threads between the caller's connection and the upstream's.
    #[arg(long, env = "GATEWAY_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=256))]
    worker_threads: Option<u16>,
    /// How denials are written: `jsonrpc` (JSON-RPC errors, the default) or `http` (the Go
    /// mcp-runtime's 401/403/503 JSON bodies).
    #[arg(long, env = "DENY_ENCODING", default_value = "jsonrpc")]
    deny_encoding: DenyEncoding,
    /// Sentinel ingest URL for audit events (batched, spooled to disk while unreachable);
    /// `http://` or `https://`.
    #[arg(long, env = "ANALYTICS_INGEST_URL")]
    analytics_ingest_url: Option<String>,
    /// For an https ingest: CA certificates (PEM) to trust instead of the system's trust store.
    #[arg(long, env = "ANALYTICS_CA_BUNDLE", value_name = "FILE")]
    analytics_ca_bundle: Option<std::path::PathBuf>,
    /// For an https ingest that wants mTLS: the client certificate chain (PEM).
    #[arg(
        long,
        env = "ANALYTICS_CLIENT_CERT",
        value_name = "FILE",
        requires = "analytics_client_key"
    )]
    analytics_client_cert: Option<std::path::PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(
        long,
        env = "ANALYTICS_CLIENT_KEY",
        value_name = "FILE",
        requires = "analytics_client_cert"
    )]
    analytics_client_key: Option<std::path::PathBuf>,
    /// API key sent as `x-api-key` to the ingest.
    #[arg(long, env = "ANALYTICS_API_KEY", hide_env_values = true)]
    analytics_api_key: Option<String>,
    /// Audit event source. Default `<server>-gateway`.
    #[arg(long, env = "ANALYTICS_SOURCE")]
    analytics_source: Option<String>,
    /// Audit event type.
    #[arg(long, env = "ANALYTICS_EVENT_TYPE", default_value = "mcp.request")]
    analytics_event_type: String,
    /// Directory for audit events the ingest has not acknowledged yet.
    #[arg(
        long,
        env = "AUDIT_SPOOL_DIR",
        default_value = "/tmp/mcp-runtime-audit-spool"
    )]
    audit_spool_dir: PathBuf,
    /// Bound on the spool's size on disk, in bytes. While the ingest is unreachable, events that
    /// no longer fit are dropped and counted in `mcp_gateway_audit_dropped_events_total`.
    #[arg(long, env = "AUDIT_SPOOL_MAX_BYTES", default_value_t = 64 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    audit_spool_max_bytes: u64,
    /// Also write every audit event to stdout as a JSON line.
    #[arg(long, env = "AUDIT_STDOUT")]
    audit_stdout: bool,
    /// Ed25519 private key (PKCS#8 PEM, e.g. from `openssl genpkey -algorithm ed25519`) that
    /// signs checkpoints of this gateway's audit chain. Without it, events are still chained but
    /// the chain head is never signed.
    #[arg(long, env = "AUDIT_SIGNING_KEY_FILE", value_name = "FILE")]
    audit_signing_key_file: Option<PathBuf>,
    /// How often the audit chain head is signed when it moved (also at shutdown).
    #[arg(long, env = "AUDIT_CHECKPOINT_INTERVAL", default_value = "60s", value_parser = upstream_timeout)]
    audit_checkpoint_interval: std::time::Duration,
    /// Server name for audit events.
    #[arg(long, env = "MCP_SERVER_NAME", default_value = "")]
    server_name: String,
    /// Server namespace for audit events.
    #[arg(long, env = "MCP_SERVER_NAMESPACE", default_value = "")]
    server_namespace: String,
    /// Owning team for audit events.
    #[arg(long, env = "MCP_TEAM_ID", default_value = "")]
    team_id: String,
    /// Cluster name for audit events.
    #[arg(long, env = "MCP_CLUSTER_NAME", default_value = "local")]
    cluster_name: String,
    /// Separate port serving only `/metrics` (0 disables it; `/metrics` is also on the main port).
    #[arg(long, env = "METRICS_PORT", default_value_t = 9103)]
    metrics_port: u16,
    /// Browser origins accepted besides the gateway's own, comma-separated (`*`: any). Requests
    /// carrying another `Origin` get 403 (DNS-rebinding protection).
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Request bodies read at once; one more is answered 503 with `Retry-After: 1`. Bounds the
    /// memory that bodies in flight take (this many times MAX_BODY_BYTES) against slow or many
    /// callers.
    #[arg(long, env = "MAX_CONCURRENT_BODIES", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent_bodies: u32,
    /// The gateway's public base URL, e.g. https://mcp.example.com (oauth mode): the resource
    /// URL is this plus the request path, published in the protected-resource metadata and
    /// expected as the token audience when the policy's `auth.audience` is empty. Unset: taken
    /// from each request's Host, which is trusted as an audience only on a loopback listener.
    #[arg(long, env = "EXTERNAL_BASE_URL")]
    external_base_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first): the gateway terminates TLS
    /// itself, as `auth.mode: mtls` needs. Reloaded when it changes.
    #[arg(
        long,
        env = "TLS_CERT_FILE",
        value_name = "FILE",
        requires = "tls_key_file"
    )]
    tls_cert_file: Option<PathBuf>,
    /// The private key of TLS_CERT_FILE (PEM: PKCS#8, PKCS#1 or SEC1). Reloaded when it changes.
    #[arg(
        long,
        env = "TLS_KEY_FILE",
        value_name = "FILE",
        requires = "tls_cert_file"
    )]
    tls_key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates are verified against; a certificate from
    /// another CA ends the handshake. Reloaded when it changes.
    #[arg(
        long,
        env = "TLS_CLIENT_CA_FILE",
        value_name = "FILE",
        requires = "tls_cert_file"
    )]
    tls_client_ca_file: Option<PathBuf>,
    /// How often the TLS files are checked for changes; new handshakes use the new files,
    /// established connections keep theirs.
    #[arg(long, env = "TLS_RELOAD_INTERVAL", default_value = "10s", value_parser = upstream_timeout)]
    tls_reload_interval: std::time::Duration,
    /// The ingress-terminated mtls variant: the URI SAN (a SPIFFE ID) of the proxy that
    /// terminates the clients' TLS. Only a peer whose verified certificate carries it is
    /// believed, and the caller's identity is then the SPIFFE ID it forwards in
    /// X-MCP-Verified-SPIFFE-ID. Unset: the caller's own certificate is the identity.
    #[arg(
        long,
        env = "TRUSTED_PROXY_SPIFFE_ID",
        value_name = "SPIFFE_ID",
        requires = "tls_client_ca_file"
    )]
    trusted_proxy_spiffe_id: Option<String>,
    /// Where the sessions' own upstream tokens are read, as <DIR>/<namespace>/<secret>/<key>
    /// (an MCPAgentSession's upstreamTokenSecretRef; the operator projects those Secret keys
    /// here). Read again for every request that carries one, so a rotation needs no restart.
    #[arg(
        long,
        env = "UPSTREAM_TOKEN_DIR",
        value_name = "DIR",
        default_value = mcp_runtime_gateway::upstream_token::DEFAULT_UPSTREAM_TOKEN_DIR
    )]
    upstream_token_dir: PathBuf,
    /// Clock skew tolerated on a token's `exp` and `nbf`, in seconds (oauth mode).
    #[arg(long, env = "OAUTH_LEEWAY_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=300))]
    oauth_leeway_seconds: u64,
    /// Accept a plain-http issuer (and key set) on a non-loopback host (oauth mode). Without
    /// it only https is used, except for loopback hosts.
    #[arg(long, env = "OAUTH_ALLOW_HTTP_ISSUER")]
    oauth_allow_http_issuer: bool,
    /// How many verified bearer tokens are remembered (oauth mode): a token's signature is
    /// checked on its first use, and its `exp`, `nbf` and audience on every use; a key refresh
    /// forgets them all. 0 checks the signature on every request.
    #[arg(
        long,
        env = "OAUTH_VERIFIED_TOKEN_CACHE",
        default_value_t = 1024,
        value_name = "TOKENS"
    )]
    oauth_verified_token_cache: usize,
}

pub fn run(args: &GatewayArgs) -> Result<ExitCode> {
    let mut defaults: DocumentDefaults = args.document_defaults.clone().into();
    defaults.auth_mode = parse_auth_mode(args.auth_mode.as_deref().unwrap_or_default())
        .map_err(anyhow::Error::msg)?;
    startup_check(&args.policy_file, &defaults)
        .with_context(|| format!("policy file {}", args.policy_file.display()))?;
    let upstream = args
        .upstream_url
        .parse::<http::Uri>()
        .ok()
        .filter(|u| u.authority().is_some())
        .with_context(|| {
            format!(
                "UPSTREAM_URL {:?} is not an absolute http URL",
                args.upstream_url
            )
        })?;
    let worker_threads = args
        .worker_threads
        .map_or_else(default_worker_threads, usize::from);
    tracing::debug!(worker_threads, "gateway runtime");
    let runtime = if worker_threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .enable_all()
            .build()
    }
    .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Arc::new(PolicyStore::with_defaults(defaults));
        let _watch = watch_file(store.clone(), args.policy_file.clone())
            .await
            .with_context(|| format!("watching {}", args.policy_file.display()))?;
        let _api_watch = match &args.policy_configmap {
            Some(target) => {
                let client = mcp_runtime_policy_watch::client().await.with_context(|| {
                    format!("POLICY_CONFIGMAP={}/{}", target.namespace, target.name)
                })?;
                store.register_source(mcp_runtime_gateway::policy_source::SOURCE_API);
                Some(AbortOnDrop(mcp_runtime_policy_watch::spawn(
                    client,
                    target.clone(),
                    store.clone(),
                )))
            }
            None => None,
        };
        if let Some(error) = store.status().last_reload_error {
            eprintln!("warning: {error} (the gateway answers 503 until a valid policy appears)");
        }
        let (audit, http_sink) = audit_sink(args)?;
        let reload_store = store.clone();
        let metrics = Arc::new(
            GatewayMetrics::new(
                ServerLabelSet {
                    namespace: args.server_namespace.clone(),
                    server: args.server_name.clone(),
                    cluster: args.cluster_name.clone(),
                    team_id: args.team_id.clone(),
                },
                Some(Box::new(move || {
                    reload_store.reload_counts().by_result().to_vec()
                })),
            )
            .with_audit_dropped({
                let sink = http_sink.clone();
                Box::new(move || sink.as_ref().map_or(0, |s| s.dropped_total()))
            })
            .with_policy_sources({
                let store = store.clone();
                Box::new(move || (store.source_health(), store.policy_age_seconds()))
            }),
        );
        let policy_store = store.clone();
        let status_store = store.clone();
        let proxy = Proxy::new(ProxyConfig {
            upstream,
            strip_prefix: args.strip_prefix.clone().filter(|p| !p.is_empty()),
            deny_encoding: args.deny_encoding,
            limits: Limits {
                max_body_bytes: args.max_body_bytes,
                ..Limits::default()
            },
            policy: Arc::new(move || policy_store.current()),
            config_status: Some(Arc::new(move || {
                serde_json::to_value(status_store.status()).unwrap_or_default()
            })),
            audit,
            metrics: Some(metrics.clone()),
            allowed_origins: args
                .allowed_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            oauth: OAuthConfig {
                public_url: args
                    .external_base_url
                    .clone()
                    .filter(|url| !url.trim().is_empty()),
                loopback_hosts_only: false,
                verification: mcp_runtime_oauth::Settings {
                    leeway: std::time::Duration::from_secs(args.oauth_leeway_seconds),
                    allow_http: args.oauth_allow_http_issuer,
                    verified_tokens: args.oauth_verified_token_cache,
                    ..mcp_runtime_oauth::Settings::default()
                },
            },
            labels: ServerLabels {
                server: args.server_name.clone(),
                namespace: args.server_namespace.clone(),
                team_id: args.team_id.clone(),
                cluster: args.cluster_name.clone(),
                source: args
                    .analytics_source
                    .clone()
                    .unwrap_or_else(|| format!("{}-gateway", args.server_name)),
                event_type: args.analytics_event_type.clone(),
            },
        })
        .with_upstream_timeout(args.upstream_timeout)
        .with_max_concurrent_bodies(args.max_concurrent_bodies as usize)
        .with_upstream_token_dir(UpstreamTokenDir::new(&args.upstream_token_dir));
        let tls = tls_listener(args)?;
        let policy_wants_mtls = store
            .current()
            .is_some_and(|policy| IdentityMode::of(&policy) == IdentityMode::Mtls);
        if tls.is_none() && (policy_wants_mtls || args.auth_mode.as_deref().map(str::trim) == Some("mtls")) {
            eprintln!(
                "warning: auth.mode is mtls but TLS_CERT_FILE and TLS_KEY_FILE are not set: every MCP request is refused (503 auth_mode_unavailable)"
            );
        }
        let _reload = tls
            .as_ref()
            .map(|tls| tls.spawn_reloader(args.tls_reload_interval));
        let address = SocketAddr::new(args.address, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listening on {address}"))?;
        // Tests and scripts read the address as the first word after "listening on".
        eprintln!(
            "mcp-runtime gateway listening on {} -> {}{}",
            listener.local_addr()?,
            args.upstream_url,
            if tls.is_some() { " (TLS)" } else { "" }
        );
        let metrics_listener = if args.metrics_port == 0 {
            None
        } else {
            let metrics_address = SocketAddr::new(args.address, args.metrics_port);
            let listener = tokio::net::TcpListener::bind(metrics_address)
                .await
                .with_context(|| format!("listening on {metrics_address} for metrics"))?;
            Some((listener, metrics))
        };
        // SIGTERM (or Ctrl-C) stops both listeners: no new connections, the requests in flight
        // finish (within the drain bound), then the audit queue is flushed.
        let shutdown = async {
            crate::signals::shutdown_signal().await;
            eprintln!("shutting down");
        };
        serve_gateway(proxy, listener, tls, metrics_listener, shutdown)
            .await
            .context("serving")?;
        // Queued audit events go to the ingest or, failing that, to the spool: none is lost.
        if let Some(sink) = http_sink {
            sink.shutdown().await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The TLS listener, when TLS_CERT_FILE is set; a file that does not load stops the gateway
/// with a message naming its variable.
fn tls_listener(args: &GatewayArgs) -> Result<Option<Arc<TlsListener>>> {
    let (Some(cert), Some(key)) = (&args.tls_cert_file, &args.tls_key_file) else {
        return Ok(None);
    };
    if args.tls_client_ca_file.is_none() {
        eprintln!(
            "warning: TLS without TLS_CLIENT_CA_FILE asks for no client certificate: auth.mode mtls refuses every MCP request (401 missing_client_certificate)"
        );
    }
    let files = ServerTlsFiles {
        cert: cert.clone(),
        key: key.clone(),
        client_ca: args.tls_client_ca_file.clone(),
    };
    let config = ReloadingServerConfig::load(files, GATEWAY_FILE_NAMES)?;
    Ok(Some(TlsListener::new(
        config,
        args.trusted_proxy_spiffe_id.clone(),
    )))
}

/// Aborts the API watch when the gateway stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// MR's sidecar variables that describe the policy and the identity headers.
#[derive(Clone, Debug, clap::Args)]
struct DocumentDefaultArgs {
    /// Policy mode when the document has none: `allow-list` or `observe`.
    #[arg(long, env = "POLICY_MODE")]
    policy_mode: Option<String>,
    /// Default decision when the document has none: `deny` or `allow`.
    #[arg(long, env = "POLICY_DEFAULT_DECISION")]
    policy_default_decision: Option<String>,
    /// Policy version reported when the document has none.
    #[arg(long, env = "POLICY_VERSION")]
    policy_version: Option<String>,
    /// Human ID header when the document names none (default X-MCP-Human-ID).
    #[arg(long, env = "HUMAN_ID_HEADER")]
    human_id_header: Option<String>,
    /// Agent ID header when the document names none (default X-MCP-Agent-ID).
    #[arg(long, env = "AGENT_ID_HEADER")]
    agent_id_header: Option<String>,
    /// Team ID header when the document names none (default X-MCP-Team-ID).
    #[arg(long, env = "TEAM_ID_HEADER")]
    team_id_header: Option<String>,
    /// Session ID header when the document names none (default X-MCP-Agent-Session).
    #[arg(long, env = "SESSION_ID_HEADER")]
    session_id_header: Option<String>,
}

impl From<DocumentDefaultArgs> for DocumentDefaults {
    fn from(args: DocumentDefaultArgs) -> Self {
        DocumentDefaults {
            auth_mode: None,
            policy_mode: args.policy_mode,
            default_decision: args.policy_default_decision,
            policy_version: args.policy_version,
            human_id_header: args.human_id_header,
            agent_id_header: args.agent_id_header,
            team_id_header: args.team_id_header,
            session_id_header: args.session_id_header,
        }
    }
}

/// Must run inside the tokio runtime (the HTTP sink starts its delivery task).
type Sinks = (Option<Arc<dyn AuditSink>>, Option<Arc<HttpSink>>);

fn audit_sink(args: &GatewayArgs) -> Result<Sinks> {
    let mut sinks: Vec<Arc<dyn AuditSink>> = Vec::new();
    let mut http = None;
    if args.audit_stdout {
        sinks.push(Arc::new(StdoutSink));
    }
    if let Some(url) = args
        .analytics_ingest_url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        let mut config = HttpSinkConfig::new(url, args.audit_spool_dir.clone());
        config.api_key = args.analytics_api_key.clone().filter(|k| !k.is_empty());
        config.spool_max_bytes = args.audit_spool_max_bytes;
        config.tls = mcp_runtime_tls::TlsFiles {
            ca_bundle: args.analytics_ca_bundle.clone(),
            client_cert: args.analytics_client_cert.clone(),
            client_key: args.analytics_client_key.clone(),
        };
        if let Some(path) = &args.audit_signing_key_file {
            config.signing_key = Some(Arc::new(read_signing_key(path)?));
        }
        config.checkpoint_interval = args.audit_checkpoint_interval;
        let sink = HttpSink::new(config).with_context(|| format!("audit delivery to {url}"))?;
        http = Some(Arc::new(sink));
    }
    if let Some(sink) = &http {
        sinks.push(sink.clone());
    }
    Ok((FanOut::combine(sinks), http))
}

/// Reads the audit-chain signing key, naming the file and the variable on failure.
fn read_signing_key(path: &std::path::Path) -> Result<mcp_runtime_audit::Signer> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "AUDIT_SIGNING_KEY_FILE / --audit-signing-key-file {}: cannot read the audit signing key",
            path.display()
        )
    })?;
    mcp_runtime_audit::Signer::from_pem(&text).with_context(|| {
        format!(
            "AUDIT_SIGNING_KEY_FILE / --audit-signing-key-file {}: expected an Ed25519 PKCS#8 PEM \
             (openssl genpkey -algorithm ed25519)",
            path.display()
        )
    })
}

fn upstream_timeout(value: &str) -> Result<std::time::Duration, String> {
    mcp_runtime_sentinel::parse_duration(value)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{value:?} is not a duration such as 30s, 2m or 120s"))
}

/// Most threads the gateway starts on its own: past this, a sidecar proxy gains nothing and
/// pays in memory (each thread keeps its own allocator caches); `GATEWAY_WORKER_THREADS` can
/// still ask for more.
const MAX_DEFAULT_WORKER_THREADS: usize = 4;

/// One worker thread per CPU of the process's limit: `available_parallelism` reads the cgroup's
/// CPU quota (a container's CPU limit) and the affinity mask, so a sidecar limited to one CPU
/// runs single-threaded. A process with no limit (as many CPUs available as are online) gets
/// one thread: it shares the node's cores with everything else, and one thread measured best
/// there (docs/gateway.md, "Sizing the sidecar").
fn default_worker_threads() -> usize {
    let available = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| count_cpu_list(&list));
    worker_threads_for(available, online)
}

fn worker_threads_for(available: usize, online: Option<usize>) -> usize {
    match online {
        Some(online) if available < online => available.clamp(1, MAX_DEFAULT_WORKER_THREADS),
        // No limit, or no way to tell: one thread.
        _ => 1,
    }
}

/// Counts the CPUs of a kernel CPU list such as `0-3,8,10-11`.
fn count_cpu_list(list: &str) -> Option<usize> {
    let mut count = 0;
    for part in list.trim().split(',') {
        count += match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (first.parse::<usize>().ok()?, last.parse::<usize>().ok()?);
                last.checked_sub(first)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::{count_cpu_list, worker_threads_for};

    #[test]
    fn kernel_cpu_lists_are_counted() {
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(count_cpu_list(""), None);
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(count_cpu_list("a-b"), None);
    }

    #[test]
    fn threads_follow_a_cpu_limit_and_stay_at_one_without() {
        // A limit below the machine's CPUs (a cgroup quota, rounded up, or a CPU set).
        assert_eq!(worker_threads_for(1, Some(8)), 1);
        assert_eq!(worker_threads_for(2, Some(8)), 2);
        assert_eq!(worker_threads_for(6, Some(8)), 4, "clamped");
        // No limit: every online CPU is available.
        assert_eq!(worker_threads_for(8, Some(8)), 1);
        assert_eq!(worker_threads_for(2, Some(2)), 1);
        // The CPU list unreadable: one thread.
        assert_eq!(worker_threads_for(4, None), 1);
    }
}
