//! `mcp-runtime server render`: the Kubernetes objects the operator would apply for a server.

use crate::policy_cmd::{ManifestSelection, select};
use anyhow::Result;
use mcp_runtime_operator::build::build;
use mcp_runtime_operator::config::OperatorConfig;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ServerCommand {
    /// Print the objects the operator would apply for an MCPServer (policy ConfigMap,
    /// Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read
    /// from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE,
    /// MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …).
    Render(RenderArgs),
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    selection: ManifestSelection,
}

pub fn run(command: &ServerCommand) -> Result<ExitCode> {
    match command {
        ServerCommand::Render(args) => {
            let (server, policy) = select(&args.selection, jiff::Timestamp::now())?;
            let config = OperatorConfig::from_lookup(|name| std::env::var(name).ok());
            let desired = build(&server, Some(&policy), &config, None)?;
            let mut objects = Vec::new();
            if let Some(config_map) = &desired.policy_config_map {
                objects.push(serde_json::to_value(config_map)?);
            }
            objects.push(serde_json::to_value(&desired.deployment)?);
            if let Some(canary) = &desired.canary {
                objects.push(serde_json::to_value(canary)?);
            }
            objects.push(serde_json::to_value(&desired.service)?);
            if let Some(ingress) = &desired.ingress {
                objects.push(serde_json::to_value(ingress)?);
            }
            if let Some(policy) = &desired.network_policy {
                objects.push(serde_json::to_value(policy)?);
            }
            let mut out = String::new();
            for object in &objects {
                out.push_str("---\n");
                out.push_str(&serde_norway::to_string(object)?);
            }
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
