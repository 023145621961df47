//! `mcp-runtime adapter proxy|stdio`: the client-side adapter (`crates/adapter`).

use anyhow::{Context, Result};
use mcp_runtime_adapter::{
    HeaderNames, Identity, ProxyOptions, Runtime, RuntimeConfig, StdioOptions, TlsFiles, Token,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The client-side adapter: lets clients that cannot set HTTP headers (Claude Desktop, the MCP
/// Inspector) call a gateway-guarded server, asserting the identity the gateway reads.
#[derive(Debug, clap::Subcommand)]
pub enum AdapterCommand {
    /// Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity
    /// headers.
    Proxy(ProxyArgs),
    /// Serve MCP on stdin/stdout (for clients that launch servers as commands), forwarding each
    /// message to --runtime-url with the identity headers.
    Stdio(StdioArgs),
}

/// Where to forward and what to assert there (both adapters).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Runtime")]
pub struct RuntimeArgs {
    /// The server's MCP endpoint behind its gateway, e.g. https://mcp.example.com/notes/mcp.
    #[arg(long, env = "MCP_RUNTIME_URL", value_name = "URL")]
    runtime_url: String,
    /// The human the agent acts for (sent in --human-id-header).
    #[arg(long, env = "MCP_HUMAN_ID", value_name = "ID")]
    human_id: Option<String>,
    /// The agent (sent in --agent-id-header).
    #[arg(long, env = "MCP_AGENT_ID", value_name = "ID")]
    agent_id: Option<String>,
    /// The team (sent in --team-id-header).
    #[arg(long, env = "MCP_TEAM_ID", value_name = "ID")]
    team_id: Option<String>,
    /// The agent session, an MCPAgentSession's name (sent in --session-id-header).
    #[arg(long, env = "MCP_SESSION_ID", value_name = "NAME")]
    session_id: Option<String>,
    /// How the runtime authenticates the adapter: `header` (identity headers, optionally with
    /// --token) or `mtls` (also requires a client certificate: --tls-client-cert and
    /// --tls-client-key).
    #[arg(long, env = "MCP_RUNTIME_AUTH", value_enum, default_value_t = AuthMode::Header)]
    auth: AuthMode,
    /// A bearer token sent on every request in --auth-header (as `Bearer <token>` in
    /// Authorization). Never logged; prefer the environment variable to the flag, which other
    /// users of the machine can see in the process list.
    #[arg(
        long,
        env = "MCP_RUNTIME_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// The header carrying --token.
    #[arg(
        long,
        env = "MCP_RUNTIME_AUTH_HEADER",
        value_name = "NAME",
        default_value = "Authorization"
    )]
    auth_header: String,
    /// `Host` to send instead of the runtime URL's host (an ingress that routes by host name
    /// reached through another address).
    #[arg(long, env = "MCP_RUNTIME_HOST_HEADER", value_name = "HOST")]
    host_header: Option<String>,
    /// `MCP-Protocol-Version` to send on requests that carry none (never on `initialize`,
    /// which negotiates it).
    #[arg(long, env = "MCP_PROTOCOL_VERSION", value_name = "VERSION")]
    protocol_version: Option<String>,
    /// How long to wait for the runtime's response headers, e.g. 30s or 5m (0: no limit). A
    /// stream that has started is never cut.
    #[arg(
        long,
        env = "MCP_REQUEST_TIMEOUT",
        value_name = "DURATION",
        default_value = "5m"
    )]
    request_timeout: String,
    /// PEM CA certificates to trust for an https runtime instead of the system's trust store.
    #[arg(long, env = "MCP_TLS_CA_BUNDLE", value_name = "FILE")]
    tls_ca_bundle: Option<PathBuf>,
    /// PEM client certificate (chain) to present to an https runtime.
    #[arg(long, env = "MCP_TLS_CLIENT_CERT", value_name = "FILE")]
    tls_client_cert: Option<PathBuf>,
    /// PEM private key of --tls-client-cert.
    #[arg(long, env = "MCP_TLS_CLIENT_KEY", value_name = "FILE")]
    tls_client_key: Option<PathBuf>,
    /// The gateway's human identity header name.
    #[arg(
        long,
        env = "MCP_HUMAN_ID_HEADER",
        value_name = "NAME",
        default_value = "X-MCP-Human-ID"
    )]
    human_id_header: String,
    /// The gateway's agent identity header name.
    #[arg(
        long,
        env = "MCP_AGENT_ID_HEADER",
        value_name = "NAME",
        default_value = "X-MCP-Agent-ID"
    )]
    agent_id_header: String,
    /// The gateway's team identity header name.
    #[arg(
        long,
        env = "MCP_TEAM_ID_HEADER",
        value_name = "NAME",
        default_value = "X-MCP-Team-ID"
    )]
    team_id_header: String,
    /// The gateway's agent session header name.
    #[arg(
        long,
        env = "MCP_SESSION_ID_HEADER",
        value_name = "NAME",
        default_value = "X-MCP-Agent-Session"
    )]
    session_id_header: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum AuthMode {
    Header,
    Mtls,
}

/// The closing paragraph of both adapters' help (a macro, for `concat!`).
macro_rules! environment_note {
    () => {
        "\
Every flag also reads the environment variable shown with it, so a client's configuration can
keep the token out of the command line (MCP_RUNTIME_TOKEN). Any identity or credential header a
local client sends is removed and replaced by the adapter's. The gateway trusts these headers
only in header mode behind a trust boundary: see docs/adapter.md and docs/gateway.md."
    };
}

/// Serve a local streamable-HTTP endpoint that forwards to --runtime-url with the identity
/// headers.
#[derive(Debug, clap::Args)]
#[command(after_help = concat!("\
Point a client at http://127.0.0.1:8099/mcp (every path forwards to --runtime-url). Bodies over
--max-inbound-bytes get 413 and are not forwarded; responses (SSE included) stream through.

Example:
  mcp-runtime adapter proxy --runtime-url https://mcp.example.com/notes/mcp \\
      --human-id alice@example.com --agent-id claude-desktop

", environment_note!()))]
pub struct ProxyArgs {
    /// Address to listen on (a loopback address answers only loopback host names).
    #[arg(
        long,
        env = "MCP_ADAPTER_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8099"
    )]
    listen: SocketAddr,
    /// Largest request body accepted from a local client, in bytes.
    #[arg(long, env = "MCP_ADAPTER_MAX_INBOUND_BYTES", value_name = "BYTES", default_value_t = mcp_runtime_adapter::proxy::DEFAULT_MAX_INBOUND_BYTES)]
    max_inbound_bytes: usize,
    /// Browser origins accepted besides the adapter's own, comma-separated (`*`: any). Requests
    /// carrying another `Origin` get 403.
    #[arg(
        long,
        env = "MCP_ADAPTER_ALLOWED_ORIGINS",
        value_name = "ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// Serve MCP on stdin/stdout, forwarding each message to --runtime-url with the identity
/// headers.
#[derive(Debug, clap::Args)]
#[command(after_help = concat!("\
stdout carries only MCP messages; logs go to stderr (MCP_RUNTIME_LOG=info shows more). A line
that is not JSON gets a -32700 error; a request the runtime cannot be reached for gets a JSON-RPC
error naming the cause. At end of input the session is ended with DELETE.

Example (Claude Desktop's mcpServers entry runs this command):
  mcp-runtime adapter stdio --runtime-url https://mcp.example.com/notes/mcp \\
      --human-id alice@example.com --agent-id claude-desktop

", environment_note!()))]
pub struct StdioArgs {
    #[command(flatten)]
    runtime: RuntimeArgs,
}

fn request_timeout(value: &str) -> Result<Option<Duration>> {
    let value = value.trim();
    if value == "0" {
        return Ok(None);
    }
    let duration = mcp_runtime_sentinel::parse_duration(value).with_context(|| {
        format!("--request-timeout {value:?} is not a duration such as 30s or 5m (0: no limit)")
    })?;
    Ok(Some(duration).filter(|d| !d.is_zero()))
}

fn runtime(args: &RuntimeArgs) -> Result<Runtime> {
    let mut config = RuntimeConfig::new(args.runtime_url.clone());
    config.identity = Identity {
        human: args.human_id.clone(),
        agent: args.agent_id.clone(),
        team: args.team_id.clone(),
        session: args.session_id.clone(),
    };
    config.header_names = HeaderNames {
        human: args.human_id_header.clone(),
        agent: args.agent_id_header.clone(),
        team: args.team_id_header.clone(),
        session: args.session_id_header.clone(),
    };
    config.token = args
        .token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(Token::new);
    config.token_header = args.auth_header.clone();
    config.host_header = args.host_header.clone();
    config.protocol_version = args.protocol_version.clone();
    config.request_timeout = request_timeout(&args.request_timeout)?;
    config.tls = TlsFiles {
        ca_bundle: args.tls_ca_bundle.clone(),
        client_cert: args.tls_client_cert.clone(),
        client_key: args.tls_client_key.clone(),
    };
    config.require_client_certificate = args.auth == AuthMode::Mtls;
    Ok(Runtime::new(&config)?)
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(command: &AdapterCommand) -> Result<ExitCode> {
    match command {
        AdapterCommand::Proxy(args) => run_proxy(args),
        AdapterCommand::Stdio(args) => run_stdio(args),
    }
}

fn run_proxy(args: &ProxyArgs) -> Result<ExitCode> {
    let runtime = runtime(&args.runtime)?;
    let options = ProxyOptions {
        max_inbound_bytes: args.max_inbound_bytes,
        allowed_origins: args
            .allowed_origins
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect(),
    };
    tokio_runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("--listen {}: cannot listen", args.listen))?;
        let address = listener.local_addr()?;
        eprintln!(
            "mcp-runtime adapter proxy listening on {address} (http://{address}/mcp) -> {}",
            runtime.url()
        );
        let shutdown = crate::signals::shutdown_signal();
        mcp_runtime_adapter::proxy::serve(listener, runtime, options, shutdown).await;
        Ok(ExitCode::SUCCESS)
    })
}

fn run_stdio(args: &StdioArgs) -> Result<ExitCode> {
    let runtime = runtime(&args.runtime)?;
    tracing::info!("mcp-runtime adapter stdio -> {}", runtime.url());
    tokio_runtime()?.block_on(async move {
        let shutdown = crate::signals::shutdown_signal();
        mcp_runtime_adapter::stdio::run(
            tokio::io::stdin(),
            tokio::io::stdout(),
            runtime,
            StdioOptions::default(),
            shutdown,
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}
