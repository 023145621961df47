//! `mcp-runtime`: one binary for every role of the platform, plus the user verbs.

mod crd;
mod gateway_cmd;
mod import_cmd;
mod operator_cmd;
mod policy_cmd;
mod server_cmd;
mod validate;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// A Kubernetes-native control plane for MCP servers.
///
/// Declare MCP tool servers as MCPServer resources; mcp-runtime runs them, exposes them at stable
/// routes, guards every tool call with identity, trust and consent (MCPAccessGrant,
/// MCPAgentSession) and records what every agent did.
#[derive(Debug, Parser)]
#[command(
    name = "mcp-runtime",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole platform on this machine from a directory of manifests (no cluster needed).
    Up(RoleArgs),
    /// Run the Kubernetes operator (controllers for the three CRDs).
    Operator(operator_cmd::OperatorArgs),
    /// Run the MCP gateway (the policy-enforcing reverse proxy).
    Gateway(gateway_cmd::GatewayArgs),
    /// Run Sentinel (audit ingest, storage, query API and UI).
    Sentinel(RoleArgs),
    /// Serve a stdio MCP server over streamable HTTP: `mcp-runtime bridge -- CMD [ARGS…]`.
    Bridge(RoleArgs),
    /// Print the CustomResourceDefinitions as YAML (for `kubectl apply -f -`).
    Crd(crd::CrdArgs),
    /// Validate manifests as the cluster would (schema, defaults and CEL rules) without applying.
    Validate(validate::ValidateArgs),
    /// Convert kubernetes-sigs mcp-lifecycle-operator (mcp.x-k8s.io) MCPServers to this API.
    Import(import_cmd::ImportArgs),
    /// Work with rendered policy documents.
    Policy {
        #[command(subcommand)]
        command: policy_cmd::PolicyCommand,
    },
    /// Work with MCPServers: render the objects the operator would apply.
    Server {
        #[command(subcommand)]
        command: server_cmd::ServerCommand,
    },
    /// Inspect access: explain decisions for a caller and a tool.
    Access {
        #[command(subcommand)]
        command: policy_cmd::AccessCommand,
    },
    /// Print a shell completion script.
    Completion {
        /// Shell to generate for.
        shell: clap_complete::Shell,
    },
}

/// Arguments of a role that is not available in this build yet.
#[derive(Debug, clap::Args)]
struct RoleArgs {
    /// Arguments for the role.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
    /// Manifests directory (for `up`).
    #[arg(short = 'f', long = "filename", hide = true)]
    dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Crd(args) => crd::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Import(args) => import_cmd::run(&args),
        Command::Policy { command } => policy_cmd::run_policy(&command),
        Command::Server { command } => server_cmd::run(&command),
        Command::Access { command } => policy_cmd::run_access(&command),
        Command::Completion { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "mcp-runtime",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Up(_) => not_implemented("up"),
        Command::Operator(args) => operator_cmd::run(&args),
        Command::Gateway(args) => gateway_cmd::run(&args),
        Command::Sentinel(_) => not_implemented("sentinel"),
        Command::Bridge(_) => not_implemented("bridge"),
    }
}

/// Roles that are not built yet say so plainly and fail, so scripts never mistake them for success.
fn not_implemented(role: &str) -> Result<ExitCode> {
    eprintln!("mcp-runtime {role}: not implemented yet in this version");
    Ok(ExitCode::from(2))
}
