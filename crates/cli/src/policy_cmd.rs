//! `mcp-runtime policy render` and `mcp-runtime access explain`: the policy engine, offline, over a
//! directory of manifests.

use anyhow::{Context, Result, bail};
use mcp_runtime_api::MCPServer;
use mcp_runtime_api::manifest::{LoadResult, load_dir};
use mcp_runtime_policy::render::render;
use mcp_runtime_policy::{CompiledPolicy, Identity, PolicyDocument, Request};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status of `access explain` when the call would be denied.
pub const EXIT_DENIED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct ManifestSelection {
    /// Directory (or file) of MCPServer, MCPAccessGrant and MCPAgentSession manifests.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "PATH",
        required_unless_present = "live"
    )]
    path: Option<PathBuf>,
    /// Read the server, grants and sessions from the cluster (the current context, or
    /// --kubeconfig / --context) instead of files.
    #[arg(long, conflicts_with = "path")]
    live: bool,
    #[command(flatten)]
    target: crate::setup_cmd::ClusterArgs,
    /// Name of the MCPServer.
    #[arg(long, value_name = "NAME")]
    server: String,
    /// Namespace of the MCPServer; needed only when several servers share the name.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Cluster name written into the policy (as the operator's `MCP_CLUSTER_NAME`).
    #[arg(long, default_value = "local", value_name = "NAME")]
    cluster: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the policy document (policy.json) the gateway of a server would load.
    Render(RenderArgs),
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    selection: ManifestSelection,
}

#[derive(Debug, clap::Subcommand)]
pub enum AccessCommand {
    /// Explain whether a caller may call a tool, and why: the grants considered, the session and
    /// the trust numbers. Exits 0 when allowed and 3 when denied.
    Explain(ExplainArgs),
    /// Replay the recorded tool-call decisions (Sentinel, or `up`'s embedded store) against the
    /// policies a proposed set of manifests would render, and report every decision that would
    /// change. Exits 3 when --fail-on-new-deny or --fail-on-new-allow matches.
    Simulate(Box<crate::access_simulate::SimulateArgs>),
    /// MCPAccessGrants in the cluster: init, apply, list, get, enable, disable, delete.
    Grant {
        #[command(subcommand)]
        command: crate::access_cmd::GrantCommand,
    },
    /// MCPAgentSessions in the cluster: init, apply, list, get, revoke, unrevoke, delete.
    Session {
        #[command(subcommand)]
        command: crate::access_cmd::SessionCommand,
    },
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    selection: ManifestSelection,
    /// The caller's human identity.
    #[arg(long, value_name = "ID")]
    human: Option<String>,
    /// The caller's agent identity.
    #[arg(long, value_name = "ID")]
    agent: Option<String>,
    /// The caller's team identity.
    #[arg(long, value_name = "ID")]
    team: Option<String>,
    /// The agent session the caller presents.
    #[arg(long, value_name = "NAME")]
    session: Option<String>,
    /// The tool to call.
    #[arg(long, value_name = "TOOL")]
    tool: String,
    /// Evaluate at this time (RFC 3339) instead of now, e.g. to check an expiry.
    #[arg(long, value_name = "TIME")]
    at: Option<jiff::Timestamp>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run_policy(command: &PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Render(args) => {
            let document = render_selected(&args.selection, jiff::Timestamp::now())?;
            println!("{}", document.to_json_pretty()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run_access(command: &AccessCommand) -> Result<ExitCode> {
    match command {
        AccessCommand::Explain(args) => explain(args),
        AccessCommand::Simulate(args) => crate::access_simulate::run(args),
        AccessCommand::Grant { command } => crate::access_cmd::run_grant(command),
        AccessCommand::Session { command } => crate::access_cmd::run_session(command),
    }
}

fn explain(args: &ExplainArgs) -> Result<ExitCode> {
    let now = args.at.unwrap_or_else(jiff::Timestamp::now);
    let document = render_selected(&args.selection, now)?;
    let policy = CompiledPolicy::new(document).context("compiling the rendered policy")?;
    let mut identity = Identity::default();
    if let Some(human) = &args.human {
        identity = identity.with_human(human);
    }
    if let Some(agent) = &args.agent {
        identity = identity.with_agent(agent);
    }
    if let Some(team) = &args.team {
        identity = identity.with_team(team);
    }
    let mut request = Request::tool_call(identity, &args.tool, now);
    if let Some(session) = &args.session {
        request = request.with_session(session);
    }
    let decision = policy.explain(&request);
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&decision)?),
        Format::Text => {
            println!(
                "{} {} (HTTP {}): {}",
                if decision.allowed { "ALLOW" } else { "DENY" },
                args.tool,
                decision.http_status,
                decision.reason.as_str()
            );
            if let Some(trace) = &decision.trace {
                println!("{trace}");
            }
        }
    }
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DENIED)
    })
}

/// Loads the manifests, picks the server and renders its policy.
fn render_selected(selection: &ManifestSelection, now: jiff::Timestamp) -> Result<PolicyDocument> {
    Ok(select(selection, now)?.1)
}

/// Loads the manifests (warning about refused documents), picks the server and renders its
/// policy.
pub fn select(
    selection: &ManifestSelection,
    now: jiff::Timestamp,
) -> Result<(MCPServer, PolicyDocument)> {
    let loaded = match &selection.path {
        Some(path) => load(path)?,
        None => live(&selection.target)?,
    };
    for error in &loaded.errors {
        eprintln!("warning: skipped {error}");
    }
    let server = pick_server(&loaded, &selection.server, selection.namespace.as_deref())?;
    let document = render(
        server,
        loaded.grants(),
        loaded.sessions(),
        &selection.cluster,
        now,
    )
    .with_context(|| format!("rendering the policy of MCPServer {}", selection.server))?;
    Ok((server.clone(), document))
}

/// Every MCPServer, grant and session of the cluster, as if read from files.
fn live(target: &crate::setup_cmd::ClusterArgs) -> Result<LoadResult> {
    use mcp_runtime_admin::objects::list;
    use mcp_runtime_api::manifest::{Loaded, Manifest, Source};
    use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession};
    crate::cluster_verbs::block_on(async {
        let client = mcp_runtime_admin::connect(&target.target()).await?.0;
        let servers = list::<MCPServer>(&client, None).await?;
        let grants = list::<MCPAccessGrant>(&client, None).await?;
        let sessions = list::<MCPAgentSession>(&client, None).await?;
        let manifests = servers
            .into_iter()
            .map(|s| Manifest::Server(Box::new(s)))
            .chain(grants.into_iter().map(|g| Manifest::Grant(Box::new(g))))
            .chain(sessions.into_iter().map(|s| Manifest::Session(Box::new(s))));
        Ok(LoadResult {
            loaded: manifests
                .enumerate()
                .map(|(i, manifest)| Loaded {
                    manifest,
                    source: Source {
                        file: None,
                        document: i + 1,
                    },
                })
                .collect(),
            errors: Vec::new(),
        })
    })
}

/// The manifests of a directory or a file, as `up` and `server apply` load them.
pub(crate) fn load(path: &std::path::Path) -> Result<LoadResult> {
    if path.is_dir() {
        load_dir(path).with_context(|| format!("reading {}", path.display()))
    } else {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(mcp_runtime_api::manifest::parse_manifests(
            &text,
            Some(path),
        ))
    }
}

fn pick_server<'a>(
    loaded: &'a LoadResult,
    name: &str,
    namespace: Option<&str>,
) -> Result<&'a MCPServer> {
    let candidates: Vec<&MCPServer> = loaded
        .servers()
        .filter(|s| s.metadata.name.as_deref() == Some(name))
        .filter(|s| {
            namespace.is_none_or(|ns| s.metadata.namespace.as_deref().unwrap_or("default") == ns)
        })
        .collect();
    match candidates.as_slice() {
        [server] => Ok(server),
        [] => {
            let known: Vec<String> = loaded
                .servers()
                .map(|s| {
                    format!(
                        "{}/{}",
                        s.metadata.namespace.as_deref().unwrap_or("default"),
                        s.metadata.name.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            bail!(
                "no MCPServer named {name:?} in the manifests (found: {})",
                known.join(", ")
            )
        }
        _ => bail!("several MCPServers are named {name:?}; choose one with --namespace"),
    }
}
