//! `mcp-runtime bridge`: serves a stdio MCP server over streamable HTTP.

use anyhow::{Context, Result};
use mcp_runtime_bridge::{BridgeConfig, Grace, Limits};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Serve a stdio MCP server over streamable HTTP.
///
/// Legacy clients (protocol 2024-11-05 … 2025-11-25) get one server process per session
/// (`Mcp-Session-Id`); stateless clients (2026-07-28) share one worker process. On SIGTERM or
/// Ctrl-C every process gets its stdin closed, then SIGTERM, then SIGKILL.
///
/// Example: `mcp-runtime bridge --listen 127.0.0.1:8088 -- npx -y @modelcontextprotocol/server-everything stdio`
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Legacy clients (2024-11-05 … 2025-11-25) get one server process per session; stateless clients
(2026-07-28) share one worker process. SIGTERM, Ctrl-C or (--exit-on-stdin-eof) stdin EOF stop
the bridge: each server's stdin is closed, then SIGTERM, then SIGKILL. GET /healthz answers 200.

Example:
  mcp-runtime bridge --listen 127.0.0.1:8088 -- npx -y @modelcontextprotocol/server-everything stdio")]
pub struct BridgeArgs {
    /// Port to listen on, on all interfaces (the MCPServer's `port`).
    #[arg(long, env = "PORT", default_value_t = 8088)]
    port: u16,
    /// Address to listen on, e.g. 127.0.0.1:8088 (port 0 picks a free one); overrides --port.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The MCP endpoint path.
    #[arg(long, default_value = "/mcp")]
    path: String,
    /// Exit (stopping every server process) when the bridge's own stdin reaches end of file, so
    /// a supervising parent that dies takes the bridge with it.
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Seconds a server process gets to exit after its stdin is closed, before SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    stdin_close_grace: f64,
    /// Seconds a server process gets to exit after SIGTERM, before SIGKILL.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    sigterm_grace: f64,
    /// Most concurrent sessions (one server process each); more get 503.
    #[arg(long, default_value_t = 64)]
    max_sessions: usize,
    /// Seconds after which a session without requests or open streams is ended (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    session_idle_timeout: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Browser origins accepted besides loopback ones and the bridge's own host, comma-separated
    /// (`*`: any). Requests carrying another `Origin` get 403.
    #[arg(long, value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// The stdio MCP server command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag} must be a number of seconds ≥ 0"))
}

pub fn run(args: &BridgeArgs) -> Result<ExitCode> {
    let (program, rest) = args
        .command
        .split_first()
        .context("no server command given: mcp-runtime bridge -- COMMAND [ARGS…]")?;
    let mut config = BridgeConfig::new(program, rest);
    config.mcp_path = if args.path.starts_with('/') {
        args.path.clone()
    } else {
        format!("/{}", args.path)
    };
    config.grace = Grace {
        after_stdin_close: seconds(args.stdin_close_grace, "--stdin-close-grace")?,
        after_sigterm: seconds(args.sigterm_grace, "--sigterm-grace")?,
    };
    config.limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_sessions: args.max_sessions,
        session_idle_timeout: (args.session_idle_timeout > 0)
            .then(|| Duration::from_secs(args.session_idle_timeout)),
        ..Limits::default()
    };
    config.allowed_origins = args
        .allowed_origins
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    let address = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], args.port)));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let exit_on_stdin_eof = args.exit_on_stdin_eof;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listening on {address}"))?;
        eprintln!(
            "mcp-runtime bridge listening on http://{}{} -> {}",
            listener.local_addr()?,
            config.mcp_path,
            args.command.join(" ")
        );
        let shutdown = shutdown_signal(exit_on_stdin_eof)?;
        mcp_runtime_bridge::serve(listener, config, shutdown)
            .await
            .context("serving")?;
        eprintln!("mcp-runtime bridge: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Completes on SIGTERM, SIGINT or (if asked) end of file on stdin.
fn shutdown_signal(exit_on_stdin_eof: bool) -> Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    if exit_on_stdin_eof {
        // A plain thread: a blocking read must not hold up the runtime's shutdown.
        std::thread::spawn(move || {
            let mut sink = [0_u8; 1024];
            let mut stdin = std::io::stdin().lock();
            loop {
                match std::io::Read::read(&mut stdin, &mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = eof_tx.send(());
        });
    }
    Ok(async move {
        let stdin_eof = async move {
            match eof_rx.await {
                Ok(()) => {}
                // Not watching stdin: never completes.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = terminate.recv() => eprintln!("mcp-runtime bridge: SIGTERM, stopping"),
            _ = interrupt.recv() => eprintln!("mcp-runtime bridge: SIGINT, stopping"),
            () = stdin_eof => eprintln!("mcp-runtime bridge: stdin closed, stopping"),
        }
    })
}
