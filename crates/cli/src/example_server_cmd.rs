//! `mcp-runtime example-server`: the built-in example MCP server (echo, add, countdown, notes).
//!
//! Transport:
//! - stdio by default (the quickstart runs it as `command: ["mcp-runtime", "example-server"]`);
//! - `--http ADDR`: streamable HTTP at `http://ADDR/mcp` (port 0 picks a free port);
//! - without `--http`, a `--port` (or the `PORT` environment variable) serves HTTP on
//!   `--address` (default 127.0.0.1) and that port, as container images conventionally do;
//! - `--stdio` forces stdio even when `PORT` is set.
//!
//! In HTTP mode it prints `listening on ADDR` to stderr once the socket is bound.

use anyhow::{Context, Result};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExampleServerArgs {
    /// Serve streamable HTTP at `/mcp` on this address, e.g. 127.0.0.1:8088 (port 0: any free
    /// port). Without it the server speaks MCP on stdin/stdout.
    #[arg(long, value_name = "ADDR", conflicts_with = "stdio")]
    http: Option<SocketAddr>,
    /// Serve HTTP on this port when `--http` is not given (ignored with `--stdio`).
    #[arg(long, env = "PORT")]
    port: Option<u16>,
    /// Address for `--port`/`PORT`.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    address: IpAddr,
    /// Speak MCP on stdin/stdout even when `PORT` is set.
    #[arg(long)]
    stdio: bool,
}

pub fn run(args: &ExampleServerArgs) -> Result<ExitCode> {
    let http = match (args.stdio, args.http, args.port) {
        (true, _, _) => None,
        (false, Some(address), _) => Some(address),
        (false, None, Some(port)) => Some(SocketAddr::new(args.address, port)),
        (false, None, None) => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match http {
            None => mcp_runtime_example_server::serve_stdio()
                .await
                .context("serving MCP on stdio")?,
            Some(address) => {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("listening on {address}"))?;
                eprintln!("listening on {}", listener.local_addr()?);
                let shutdown = tokio_util::sync::CancellationToken::new();
                let stop = shutdown.clone();
                tokio::spawn(async move {
                    let _ = tokio::signal::ctrl_c().await;
                    stop.cancel();
                });
                mcp_runtime_example_server::serve_http(listener, shutdown)
                    .await
                    .context("serving MCP over HTTP")?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
