//! `mcp-runtime server connect-config NAME --client claude|cursor|vscode|json`: a client
//! configuration for a server, from the cluster (its `status.url`) or from a manifest (`-f`).

use crate::cluster_verbs::block_on;
use crate::server_cmd::Scope;
use anyhow::{Context, Result, bail};
use mcp_runtime_admin::objects;
use mcp_runtime_api::client_config::{self, Client, Identity};
use mcp_runtime_api::{MCPServer, Route};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientArg {
    /// Claude Desktop (claude_desktop_config.json): runs `mcp-runtime adapter stdio`.
    Claude,
    /// Cursor (~/.cursor/mcp.json).
    Cursor,
    /// VS Code (.vscode/mcp.json).
    Vscode,
    /// A neutral description: name, URL, transport, headers.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigOutput {
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct ConnectConfigArgs {
    /// The MCPServer's name.
    name: String,
    /// The client to configure.
    #[arg(long, value_enum, default_value_t = ClientArg::Json)]
    client: ClientArg,
    /// Read the server from this manifest instead of the cluster.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    file: Option<PathBuf>,
    /// The URL clients reach the server at (default: its status.url, or its ingress host and
    /// path).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Human identity to send (header mode; default: a placeholder to replace).
    #[arg(long, value_name = "ID")]
    human_id: Option<String>,
    /// Agent identity to send (header mode; default: a placeholder to replace).
    #[arg(long, value_name = "ID")]
    agent_id: Option<String>,
    /// Team to send (header mode).
    #[arg(long, value_name = "ID")]
    team_id: Option<String>,
    /// MCPAgentSession to send (header mode; a placeholder when the server requires sessions).
    #[arg(long, value_name = "NAME")]
    session_id: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ConfigOutput::Json)]
    output: ConfigOutput,
    #[command(flatten)]
    scope: Scope,
}

pub fn run(args: &ConnectConfigArgs) -> Result<ExitCode> {
    let server = match &args.file {
        Some(file) => from_file(file, &args.name)?,
        None => block_on(async {
            let client = mcp_runtime_admin::connect(&args.scope.cluster.target())
                .await?
                .0;
            Ok(objects::get::<MCPServer>(&client, &args.scope.namespace, &args.name).await?)
        })?,
    };
    let url = match &args.url {
        Some(url) => url.clone(),
        None => url_of(&server)?,
    };
    let identity = Identity {
        human_id: args.human_id.clone(),
        agent_id: args.agent_id.clone(),
        team_id: args.team_id.clone(),
        session_id: args.session_id.clone(),
    };
    let client = match args.client {
        ClientArg::Claude => Client::Claude,
        ClientArg::Cursor => Client::Cursor,
        ClientArg::Vscode => Client::Vscode,
        ClientArg::Json => Client::Json,
    };
    let config = client_config::render(client, &server, &url, &identity);
    match args.output {
        ConfigOutput::Json => println!("{}", serde_json::to_string_pretty(&config)?),
        ConfigOutput::Yaml => print!("{}", serde_norway::to_string(&config)?),
    }
    if let Some(hint) = where_it_goes(args.client) {
        eprintln!("{hint}");
    }
    Ok(ExitCode::SUCCESS)
}

fn where_it_goes(client: ClientArg) -> Option<&'static str> {
    match client {
        ClientArg::Claude => Some(
            "Merge into claude_desktop_config.json (mcpServers); `mcp-runtime` must be on the PATH \
             Claude Desktop sees.",
        ),
        ClientArg::Cursor => {
            Some("Merge into ~/.cursor/mcp.json or .cursor/mcp.json (mcpServers).")
        }
        ClientArg::Vscode => Some("Merge into .vscode/mcp.json (servers)."),
        ClientArg::Json => None,
    }
}

/// The public URL: `status.url` when the operator wrote one, else the route's host and path.
fn url_of(server: &MCPServer) -> Result<String> {
    if let Some(url) = server.status.as_ref().and_then(|s| s.url.clone()) {
        return Ok(url);
    }
    let route = Route::of(server, None);
    match route.host {
        Some(_) => Ok(route.url()),
        None => bail!(
            "MCPServer {} has no public host (it is served at the path {} of whatever ingress \
             address the cluster has): pass --url, for example --url https://mcp.example.com{}",
            server.metadata.name.as_deref().unwrap_or_default(),
            route.path,
            route.path
        ),
    }
}

/// The MCPServer named `name` in a manifest file, validated.
fn from_file(file: &std::path::Path, name: &str) -> Result<MCPServer> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let loaded = mcp_runtime_api::parse_manifests(&text, Some(file));
    if let Some(error) = loaded.errors.first() {
        bail!("{error}");
    }
    let servers: Vec<&MCPServer> = loaded.servers().collect();
    match servers
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(name))
    {
        Some(server) => Ok((*server).clone()),
        None => {
            let names: Vec<&str> = servers
                .iter()
                .filter_map(|s| s.metadata.name.as_deref())
                .collect();
            bail!(
                "{} has no MCPServer named {name:?} (it has: {})",
                file.display(),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
    }
}
