//! `mcp-runtime up`: the whole platform on this machine, from a directory of manifests.

use anyhow::{Context, Result};
use mcp_runtime_gateway::tls_listener::TlsListener;
use mcp_runtime_local::{TlsPort, UpConfig, run};
use mcp_runtime_tls::{ReloadingServerConfig, ServerFileNames, ServerTlsFiles};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

/// Run MCPServers from a directory of manifests as local processes behind one gateway.
///
/// Every MCPServer, MCPAccessGrant and MCPAgentSession in DIR is validated as the cluster would
/// validate it. Servers run as local processes: `transport: stdio` commands through the
/// bridge, other commands as HTTP servers on an assigned port (`PORT`, or `$(PORT)` in args),
/// or an existing endpoint from `gateway.upstreamURL`. Each is routed at `/{name}/mcp` (or its
/// `publicPathPrefix`) on one port, with the policy rendered from the local grants and
/// sessions. DIR is watched: edits apply without a restart. Ctrl-C stops every server.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Directory of manifests (`*.yaml`, `*.yml`, `*.json`, not recursive).
    #[arg(short = 'f', long = "filename", value_name = "DIR")]
    dir: PathBuf,
    /// Port of the gateway, the status endpoint and the Sentinel UI.
    #[arg(long, env = "MCP_RUNTIME_UP_PORT", default_value_t = 8080)]
    port: u16,
    /// Address to listen on. Keep loopback unless callers elsewhere are trusted: the default
    /// header identity believes the X-MCP-* headers it receives.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    listen: IpAddr,
    /// Where local state lives (the embedded Sentinel's database and the audit spool).
    #[arg(long, value_name = "DIR", default_value = ".mcp-runtime")]
    state_dir: PathBuf,
    /// Cluster name written into policies and audit events.
    #[arg(long, default_value = "local")]
    cluster: String,
    /// Human ID for requests that carry no identity header at all (clients that cannot set
    /// headers, such as the MCP Inspector CLI). Default: $USER when listening on loopback,
    /// none otherwise. An empty value turns it off.
    #[arg(long, value_name = "ID")]
    default_human_id: Option<String>,
    /// Also serve every route over TLS on --tls-port with this certificate chain (PEM), for
    /// servers with `auth.mode: mtls` (which the plain port refuses). Reloaded when it changes.
    #[arg(long, env = "MCP_RUNTIME_UP_TLS_CERT_FILE", value_name = "FILE", requires_all = ["tls_key_file", "tls_client_ca_file"])]
    tls_cert_file: Option<PathBuf>,
    /// The private key of --tls-cert-file (PEM).
    #[arg(
        long,
        env = "MCP_RUNTIME_UP_TLS_KEY_FILE",
        value_name = "FILE",
        requires = "tls_cert_file"
    )]
    tls_key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates are verified against on the TLS port.
    #[arg(
        long,
        env = "MCP_RUNTIME_UP_TLS_CLIENT_CA_FILE",
        value_name = "FILE",
        requires = "tls_cert_file"
    )]
    tls_client_ca_file: Option<PathBuf>,
    /// The TLS port (with --tls-cert-file); `0` picks a free one (printed on start).
    #[arg(long, env = "MCP_RUNTIME_UP_TLS_PORT", default_value_t = 8443)]
    tls_port: u16,
    /// Where the sessions' upstream tokens (an MCPAgentSession's upstreamTokenSecretRef) are
    /// read, as <DIR>/<namespace>/<secret>/<key>; when that file does not exist, the variable
    /// MCP_UPSTREAM_TOKEN_<SECRET>_<KEY> (upper case, - and . as _). Default:
    /// <state-dir>/upstream-tokens.
    #[arg(long, env = "MCP_RUNTIME_UP_UPSTREAM_TOKEN_DIR", value_name = "DIR")]
    upstream_token_dir: Option<PathBuf>,
}

/// How `up` names its TLS files in messages.
const UP_FILE_NAMES: ServerFileNames = ServerFileNames {
    cert: "--tls-cert-file",
    key: "--tls-key-file",
    client_ca: "--tls-client-ca-file",
};

pub fn run_up(args: &UpArgs) -> Result<ExitCode> {
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("manifests directory {}", args.dir.display()))?;
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    std::fs::create_dir_all(&args.state_dir)
        .with_context(|| format!("creating the state directory {}", args.state_dir.display()))?;
    let self_exe = std::env::current_exe().context("locating the mcp-runtime executable")?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let address = SocketAddr::new(args.listen, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| {
                format!("listening on {address} (is another `mcp-runtime up` running? use --port)")
            })?;
        let tls_port = match (&args.tls_cert_file, &args.tls_key_file) {
            (Some(cert), Some(key)) => {
                let files = ServerTlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: args.tls_client_ca_file.clone(),
                };
                let config = ReloadingServerConfig::load(files, UP_FILE_NAMES)?;
                let address = SocketAddr::new(args.listen, args.tls_port);
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("listening on {address} for TLS (use --tls-port)"))?;
                Some(TlsPort {
                    listener,
                    tls: TlsListener::new(config, None),
                })
            }
            _ => None,
        };
        let embedded = mcp_runtime_local::embedded::open(&args.state_dir, None)
            .await
            .with_context(|| {
                format!(
                    "opening the embedded Sentinel in {}",
                    args.state_dir.display()
                )
            })?;
        let sentinel_path = mcp_runtime_local::embedded::SENTINEL_PATH.to_owned();
        let config = UpConfig {
            dir,
            self_exe,
            cluster: args.cluster.clone(),
            audit: Some(embedded.sink.clone()),
            mounts: vec![(sentinel_path.clone(), embedded.handler.clone())],
            sentinel_path: Some(sentinel_path),
            upstream_tokens: mcp_runtime_gateway::upstream_token::UpstreamTokenDir::new(
                args.upstream_token_dir
                    .clone()
                    .unwrap_or_else(|| args.state_dir.join("upstream-tokens")),
            )
            .with_env_fallback(),
            default_human_id: match &args.default_human_id {
                Some(id) => Some(id.clone()).filter(|id| !id.is_empty()),
                None if args.listen.is_loopback() => {
                    Some(std::env::var("USER").unwrap_or_else(|_| "local-user".to_owned()))
                        .filter(|id| !id.is_empty())
                }
                None => None,
            },
        };
        let served = run(
            config,
            listener,
            tls_port,
            crate::signals::shutdown_signal(),
        )
        .await;
        // Events of the last calls are still queued for the store: write them, and the last
        // checkpoint of the audit chain, before exiting.
        embedded.sink.close(std::time::Duration::from_secs(5)).await;
        served
    })?;
    Ok(ExitCode::SUCCESS)
}
