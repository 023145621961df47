//! `mcp-runtime server …`: `init` and `generate` (the `.mcp/` metadata files), `render`
//! (offline: the objects the operator would apply for a server), `connect-config`, and the
//! cluster verbs `apply`, `list`, `get`, `status` and `delete`.

use crate::policy_cmd::{ManifestSelection, select};
use anyhow::Result;
use mcp_runtime_operator::build::build;
use mcp_runtime_operator::config::OperatorConfig;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ServerCommand {
    /// Write a server's metadata file (.mcp/NAME.yaml, the Go mcp-runtime's format): route,
    /// image, tools, gateway on, an allow-list policy and required sessions.
    Init(crate::metadata_cmd::InitArgs),
    /// Turn the metadata files (.mcp/*.yaml) into MCPServer manifests, validated; nothing is
    /// written unless every server is valid.
    Generate(crate::metadata_cmd::GenerateArgs),
    /// Print the objects the operator would apply for an MCPServer (policy ConfigMap,
    /// Deployments, Service, Ingress, NetworkPolicy), without a cluster. Operator settings are read
    /// from the same environment variables as the operator (MCP_GATEWAY_PROXY_IMAGE,
    /// MCP_SENTINEL_INGEST_URL, MCP_DEFAULT_INGRESS_HOST, …).
    Render(RenderArgs),
    /// Validate manifests (as `mcp-runtime validate`) and, only if all are valid, apply them to
    /// the cluster by server-side apply (field manager `mcp-runtime`).
    Apply(ApplyArgs),
    /// List the MCPServers of a namespace (or every namespace with -A), with the CRD's columns.
    List(ListArgs),
    /// Print one MCPServer.
    Get(GetArgs),
    /// Show an MCPServer's conditions and why it is not Ready.
    Status(NameArgs),
    /// Delete an MCPServer (the operator's garbage collection removes its children).
    Delete(NameArgs),
    /// Print the configuration an MCP client (Claude Desktop, Cursor, VS Code) needs to reach a
    /// server: its URL and identity headers.
    ConnectConfig(crate::connect_cmd::ConnectConfigArgs),
    /// Write the digests of the server's live tool definitions into its manifest
    /// (spec.tools[].digest): from the cluster's status.toolDigests, or from a handshake with
    /// --url. The file is rewritten by the YAML serializer (comments are not kept).
    Pin(crate::pin_cmd::PinArgs),
    /// Inspect the live policy of a server's gateway.
    Policy {
        #[command(subcommand)]
        command: crate::server_policy_cmd::PolicyCommand,
    },
}

/// Where in the cluster.
#[derive(Debug, clap::Args)]
pub struct Scope {
    #[command(flatten)]
    pub cluster: crate::setup_cmd::ClusterArgs,
    /// Namespace (objects that name their own keep it).
    #[arg(short, long, value_name = "NAMESPACE", default_value = "mcp-servers")]
    pub namespace: String,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Manifest files or directories.
    #[arg(short = 'f', long = "filename", required = true, value_name = "PATH")]
    pub(crate) paths: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub(crate) scope: Scope,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Every namespace.
    #[arg(short = 'A', long)]
    pub(crate) all_namespaces: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
}

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The object's name.
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) scope: Scope,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Yaml)]
    pub(crate) output: Output,
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    /// The object's name.
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) scope: Scope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    selection: ManifestSelection,
}

pub fn run(command: &ServerCommand) -> Result<ExitCode> {
    match command {
        ServerCommand::Init(args) => crate::metadata_cmd::init(args),
        ServerCommand::Generate(args) => crate::metadata_cmd::generate_manifests(args),
        ServerCommand::ConnectConfig(args) => crate::connect_cmd::run(args),
        ServerCommand::Apply(args) => crate::cluster_verbs::apply(&args.paths, &args.scope),
        ServerCommand::List(args) => {
            crate::cluster_verbs::list_servers(&args.scope, args.all_namespaces, args.output)
        }
        ServerCommand::Get(args) => {
            crate::cluster_verbs::get_server(&args.scope, &args.name, args.output)
        }
        ServerCommand::Status(args) => crate::cluster_verbs::server_status(&args.scope, &args.name),
        ServerCommand::Delete(args) => crate::cluster_verbs::delete_server(&args.scope, &args.name),
        ServerCommand::Policy { command } => crate::server_policy_cmd::run(command),
        ServerCommand::Pin(args) => crate::pin_cmd::run(args),
        ServerCommand::Render(args) => {
            let (server, policy) = select(&args.selection, jiff::Timestamp::now())?;
            let config = OperatorConfig::from_lookup(|name| std::env::var(name).ok());
            let desired = build(&server, Some(&policy), &config, None)?;
            let mut objects = Vec::new();
            if let Some(config_map) = &desired.policy_config_map {
                objects.push(serde_json::to_value(config_map)?);
            }
            if let Some(role) = &desired.gateway_role {
                objects.push(serde_json::to_value(role)?);
            }
            if let Some(binding) = &desired.gateway_role_binding {
                objects.push(serde_json::to_value(binding)?);
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
            // mtls behind Traefik: its routing objects (and certificates), which the operator
            // does not apply.
            for object in &desired.mtls_objects {
                objects.push(serde_json::to_value(object)?);
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
