//! `mcp-runtime gateway`: the policy-enforcing MCP proxy, configured by flags or by the Go
//! mcp-runtime sidecar's environment variables (so the operator renders MR-compatible pods).

use anyhow::{Context, Result, bail};
use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::policy_source::{PolicyStore, watch_file};
use mcp_runtime_gateway::proxy::{IdentityMode, Proxy, ProxyConfig};
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
    /// Path prefix removed before forwarding.
    #[arg(long, env = "STRIP_PREFIX")]
    strip_prefix: Option<String>,
    /// Caller identification: `header` (governance headers from a trusted adapter or ingress) or
    /// `none`.
    #[arg(long, env = "AUTH_MODE", default_value = "header")]
    auth_mode: String,
    /// How denials are written: `jsonrpc` (JSON-RPC errors, the default) or `http` (the Go
    /// mcp-runtime's 401/403/503 JSON bodies).
    #[arg(long, env = "DENY_ENCODING", default_value = "jsonrpc")]
    deny_encoding: DenyEncoding,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
}

pub fn run(args: &GatewayArgs) -> Result<ExitCode> {
    let identity = match args.auth_mode.trim() {
        "" | "header" => IdentityMode::Header,
        "none" => IdentityMode::None,
        other @ ("oauth" | "mtls") => {
            bail!(
                "AUTH_MODE={other} is not supported by this version of the gateway yet; use header or none"
            )
        }
        other => bail!("unknown AUTH_MODE {other:?}: expected none, header, oauth or mtls"),
    };
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Arc::new(PolicyStore::new());
        let _watch = watch_file(store.clone(), args.policy_file.clone())
            .await
            .with_context(|| format!("watching {}", args.policy_file.display()))?;
        if let Some(error) = store.status().last_reload_error {
            eprintln!("warning: {error} (the gateway answers 503 until a valid policy appears)");
        }
        let policy_store = store.clone();
        let status_store = store.clone();
        let proxy = Proxy::new(ProxyConfig {
            upstream,
            strip_prefix: args.strip_prefix.clone().filter(|p| !p.is_empty()),
            identity,
            deny_encoding: args.deny_encoding,
            limits: Limits {
                max_body_bytes: args.max_body_bytes,
                ..Limits::default()
            },
            policy: Arc::new(move || policy_store.current()),
            config_status: Some(Arc::new(move || {
                serde_json::to_value(status_store.status()).unwrap_or_default()
            })),
        });
        let address = SocketAddr::new(args.address, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listening on {address}"))?;
        eprintln!(
            "mcp-runtime gateway listening on {} -> {}",
            listener.local_addr()?,
            args.upstream_url
        );
        tokio::select! {
            served = proxy.serve(listener) => served.context("serving")?,
            _ = tokio::signal::ctrl_c() => eprintln!("shutting down"),
        }
        Ok(ExitCode::SUCCESS)
    })
}
