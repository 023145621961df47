//! `mcp-runtime operator`: the Kubernetes controllers for MCPServer, MCPAccessGrant and
//! MCPAgentSession. Settings come from the Go mcp-runtime's environment variable names
//! (`MCP_DEFAULT_INGRESS_HOST`, `MCP_GATEWAY_PROXY_IMAGE`, …; see docs/operator.md).

use anyhow::{Context as _, Result};
use mcp_runtime_operator::config::OperatorConfig;
use mcp_runtime_operator::runtime::{self, Exit, LEASE_NAME, Options};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct OperatorArgs {
    /// Take a Lease before reconciling, so only one replica acts (`--leader-elect=false` to
    /// disable, e.g. for a single replica run locally).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// Address of `/healthz` and `/readyz`.
    #[arg(
        long,
        alias = "health-probe-bind-address",
        default_value = "0.0.0.0:8081"
    )]
    health_addr: SocketAddr,
    /// Address of Prometheus `/metrics` (may equal --health-addr).
    #[arg(long, alias = "metrics-bind-address", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// Namespace of the leader-election Lease (the operator's own).
    #[arg(long, env = "POD_NAMESPACE", default_value = "mcp-runtime-system")]
    lease_namespace: String,
    /// Name of the leader-election Lease.
    #[arg(long, default_value = LEASE_NAME)]
    lease_name: String,
    /// Lease duration; the holder renews every third of it.
    #[arg(long, default_value_t = 15)]
    lease_duration_seconds: u64,
    /// This replica's identity in the Lease.
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
}

pub fn run(args: &OperatorArgs) -> Result<ExitCode> {
    let identity = args.identity.clone().unwrap_or_else(|| {
        std::env::var("HOSTNAME").unwrap_or_else(|_| format!("mcp-runtime-{}", std::process::id()))
    });
    let options = Options {
        leader_elect: args.leader_elect,
        lease_namespace: args.lease_namespace.clone(),
        lease_name: args.lease_name.clone(),
        identity,
        lease_duration: Duration::from_secs(args.lease_duration_seconds.max(3)),
        health_addr: args.health_addr,
        metrics_addr: args.metrics_addr,
        namespace: args.namespace.clone().filter(|n| !n.is_empty()),
    };
    let config = OperatorConfig::from_lookup(|name| std::env::var(name).ok());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let exit = runtime
        .block_on(runtime::run(options, config))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(match exit {
        Exit::Shutdown => ExitCode::SUCCESS,
        Exit::LostLease => ExitCode::from(1),
    })
}
