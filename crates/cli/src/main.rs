//! `mcp-runtime`: one binary for every role of the platform, plus the user verbs.

mod access_cmd;
mod access_simulate;
mod adapter_cmd;
mod bridge_cmd;
mod catalog;
mod catalog_cmd;
mod cluster_verbs;
mod connect_cmd;
mod crd;
mod example_server_cmd;
mod gateway_cmd;
mod import_cmd;
mod install_cmd;
mod metadata_cmd;
mod operator_cmd;
mod pin_cmd;
mod policy_cmd;
mod sentinel_cmd;
mod server_cmd;
mod server_policy_cmd;
mod setup_cmd;
mod signals;
mod status_cmd;
mod up_cmd;
mod validate;

/// mimalloc instead of the system allocator: the gateway allocates per request on its hot path
/// (headers, bodies, audit events), and mimalloc's thread-local free lists make that cheaper
/// than glibc's malloc (measured in `bench/gateway`, see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
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
    Up(up_cmd::UpArgs),
    /// Show the servers of a running `mcp-runtime up`: phase, URL, tools and problems.
    Status(status_cmd::StatusArgs),
    /// Install mcp-runtime into a cluster (CRDs, namespaces, RBAC, operator, Sentinel), or
    /// remove it with --uninstall.
    Setup(setup_cmd::SetupArgs),
    /// Run the Kubernetes operator (controllers for the three CRDs).
    Operator(operator_cmd::OperatorArgs),
    /// Run the MCP gateway (the policy-enforcing reverse proxy).
    Gateway(Box<gateway_cmd::GatewayArgs>),
    /// Run Sentinel (audit ingest, storage, query API and UI).
    Sentinel(sentinel_cmd::SentinelArgs),
    /// Serve a stdio MCP server over streamable HTTP: `mcp-runtime bridge -- CMD [ARGS…]`.
    Bridge(bridge_cmd::BridgeArgs),
    /// Copy this executable elsewhere (the stdio pod's init container runs it).
    Install(install_cmd::InstallArgs),
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
    /// Work with MCPServers: metadata, manifests, client configuration and the cluster verbs.
    Server {
        #[command(subcommand)]
        command: server_cmd::ServerCommand,
    },
    /// Browse the tools the MCPServers declare, and their drift from what the servers list live.
    Catalog {
        #[command(subcommand)]
        command: catalog_cmd::CatalogCommand,
    },
    /// Inspect access: explain decisions for a caller and a tool, simulate a change over the
    /// recorded traffic, manage grants and sessions.
    Access {
        #[command(subcommand)]
        command: policy_cmd::AccessCommand,
    },
    /// Run the client-side adapter (a local proxy or a stdio server) that forwards to a
    /// gateway-guarded server with the identity headers.
    Adapter {
        #[command(subcommand)]
        command: adapter_cmd::AdapterCommand,
    },
    /// Run the built-in example MCP server (stdio, or streamable HTTP with --http ADDR).
    ExampleServer(example_server_cmd::ExampleServerArgs),
    /// Run a command that dies with its parent (used by `up` for every server it starts).
    #[command(name = "guard-child", hide = true)]
    GuardChild {
        /// The pid of the parent to outlive no longer than.
        #[arg(long)]
        parent: u32,
        /// The program and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
    /// Exit 0 when something accepts TCP connections at ADDRESS (within 1 s), 1 otherwise: the
    /// probe of a stdio server whose bridge listens on the pod's loopback address only.
    #[command(hide = true)]
    Probe {
        /// The kind of check; only `tcp`.
        #[arg(value_parser = ["tcp"])]
        kind: String,
        /// host:port, for example 127.0.0.1:8088.
        address: std::net::SocketAddr,
    },
    /// Print a shell completion script.
    Completion {
        /// Shell to generate for.
        shell: clap_complete::Shell,
    },
}

/// Warnings and errors from every role go to stderr; `MCP_RUNTIME_LOG` (a tracing filter such
/// as `info` or `mcp_runtime_gateway=debug`) shows more. Lines meant for the person at the
/// terminal (the `mcp_runtime_serve::CONSOLE` target: `up | serving on …`, a bridged server's
/// stderr) are printed as they are, whatever the filter.
///
/// `verb`: a verb that prints a result (see [`Command::only_prints`]). Its errors are reported
/// once, as one line naming what failed; kube's client also warns about an error answer that is
/// not a Kubernetes Status (`404 page not found` for a kind whose CRD is missing) before it
/// returns the same error, so for verbs that line is dropped.
fn init_logging(verb: bool) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // Both filters are static (per target and level), so a disabled callsite is decided once
    // and costs nothing afterwards: the request path has spans and events at levels that are
    // usually off.
    let console_off = format!("{}=off", mcp_runtime_serve::CONSOLE);
    // kube's client logs every failed request at ERROR; the caller reports the same error with
    // what it was doing, so the client's own line is only noise.
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("MCP_RUNTIME_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(if verb {
                "warn,kube_client::client=error,kube_client::client::builder=off"
            } else {
                "warn,kube_client::client::builder=off"
            })
        });
    let filter = match console_off.parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_filter(filter);
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(ConsoleLine)
        .with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target(mcp_runtime_serve::CONSOLE, tracing::Level::INFO),
        );
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(console)
        .try_init();
}

/// A console line: the message alone, as `eprintln!` would print it.
struct ConsoleLine;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for ConsoleLine
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        context
            .field_format()
            .format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

impl Command {
    /// Verbs that print a result and exit, as opposed to the roles that serve.
    ///
    /// Rust ignores SIGPIPE, so `println!` into a closed pipe (`mcp-runtime crd | head -5`)
    /// panics. These verbs get the default action back and end quietly, with the shell's usual
    /// SIGPIPE status, as `cat` does. The serving roles keep ignoring it: a peer that closes a
    /// socket or a stdio child that exits must surface as an error, never kill the process.
    fn only_prints(&self) -> bool {
        match self {
            Command::Crd(_)
            | Command::Validate(_)
            | Command::Import(_)
            | Command::Policy { .. }
            | Command::Server { .. }
            | Command::Access { .. }
            | Command::Catalog { .. }
            | Command::Status(_)
            | Command::Probe { .. }
            | Command::Completion { .. } => true,
            Command::Setup(_) => false,
            Command::Sentinel(args) => args.only_prints(),
            Command::Up(_)
            | Command::Operator(_)
            | Command::Gateway(_)
            | Command::ExampleServer(_)
            | Command::Bridge(_)
            | Command::Adapter { .. }
            | Command::Install(_)
            | Command::GuardChild { .. } => false,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verb = cli.command.only_prints();
    if verb {
        sigpipe::reset();
    }
    init_logging(verb);
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
        Command::Catalog { command } => catalog_cmd::run(&command),
        Command::Completion { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "mcp-runtime",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Up(args) => up_cmd::run_up(&args),
        Command::Status(args) => status_cmd::run(&args),
        Command::Setup(args) => setup_cmd::run(&args),
        Command::Operator(args) => operator_cmd::run(&args),
        Command::Gateway(args) => gateway_cmd::run(&args),
        Command::ExampleServer(args) => example_server_cmd::run(&args),
        Command::Sentinel(args) => sentinel_cmd::run(&args),
        Command::Bridge(args) => bridge_cmd::run(&args),
        Command::Adapter { command } => adapter_cmd::run(&command),
        Command::Install(args) => install_cmd::run(&args),
        Command::Probe { address, .. } => {
            match std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(1))
            {
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(error) => {
                    eprintln!("nothing accepts connections at {address}: {error}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::GuardChild { parent, command } => {
            Ok(mcp_runtime_local::guard::run(parent, &command))
        }
    }
}
