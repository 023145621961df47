//! `mcp-runtime status`: what a running `mcp-runtime up` is doing.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mcp_runtime_local::{STATUS_PATH, UpStatus};
use std::process::ExitCode;
use std::time::Duration;

/// Show what runs: the servers of a running `mcp-runtime up` (phase, URL, tools, restarts and
/// problems), or a cluster's install (CRDs, operator, Sentinel) and every MCPServer with its
/// phase and why it is not Ready.
///
/// Which one: `--cluster` or `--local`; otherwise an `up` answering on the port is shown, and
/// without one the current kubectl context. Exit status 3 when something is not Ready.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Show the cluster (the current kubectl context, or --kubeconfig / --context).
    #[arg(long, conflicts_with_all = ["local", "url"])]
    cluster: bool,
    /// Show the local `mcp-runtime up`.
    #[arg(long)]
    local: bool,
    #[command(flatten)]
    target: crate::setup_cmd::ClusterArgs,
    /// Base URL of the running `mcp-runtime up` (default: http://127.0.0.1:PORT).
    #[arg(long, env = "MCP_RUNTIME_URL")]
    url: Option<String>,
    /// Port of the running `mcp-runtime up` on this machine, as given to `up --port` (the same
    /// variable, so one export serves both); `--url` wins when both are set.
    #[arg(long, env = "MCP_RUNTIME_UP_PORT", default_value_t = 8080)]
    port: u16,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    output: Format,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn run(args: &StatusArgs) -> Result<ExitCode> {
    let named_cluster = args.target.kubeconfig.is_some() || args.target.context.is_some();
    let cluster = args.cluster
        || (!args.local && named_cluster)
        || (!args.local && args.url.is_none() && !up_answers(args.port) && has_kubeconfig());
    if cluster {
        return cluster_status(args);
    }
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", args.port));
    let url = format!("{}{STATUS_PATH}", base.trim_end_matches('/'));
    let body = get(&url).with_context(|| {
        format!(
            "reading {url}: is `mcp-runtime up` running there? (start it with `mcp-runtime up -f \
             DIR`, or pass --port or --url)"
        )
    })?;
    let status: UpStatus =
        serde_json::from_slice(&body).with_context(|| format!("{url} is not an up status"))?;
    // Recent denials come from the embedded Sentinel; a status without them is still useful.
    let denials = status.sentinel_url.as_ref().and_then(|sentinel| {
        let url = format!("{sentinel}/api/v1/events?decision=deny&limit={RECENT_DENIALS}");
        let body = get(&url).ok()?;
        let page: serde_json::Value = serde_json::from_slice(&body).ok()?;
        page["events"].as_array().cloned()
    });
    match args.output {
        Format::Json => {
            let mut document = serde_json::to_value(&status)?;
            document["recent_denials"] = serde_json::json!(denials.unwrap_or_default());
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        Format::Table => {
            print!("{}", table(&status));
            if let Some(denials) = denials {
                print!("{}", denial_table(&denials));
            }
        }
    }
    let healthy = status.problems.is_empty()
        && status
            .servers
            .iter()
            .all(|s| s.phase == mcp_runtime_local::status::Phase::Ready);
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Whether something accepts connections on the local `up` port.
fn up_answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// Whether kubectl would find a cluster: KUBECONFIG or ~/.kube/config.
fn has_kubeconfig() -> bool {
    std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty())
        || std::env::var_os("HOME")
            .map(|home| std::path::Path::new(&home).join(".kube/config").exists())
            .unwrap_or(false)
}

fn cluster_status(args: &StatusArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let status = runtime.block_on(async {
        let (client, url) = mcp_runtime_admin::connect(&args.target.target()).await?;
        anyhow::Ok(mcp_runtime_admin::status::read(&client, &url).await?)
    })?;
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&status)?),
        Format::Table => print!("{}", mcp_runtime_admin::status::table(&status)),
    }
    Ok(if status.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// How many denials `status` shows.
const RECENT_DENIALS: usize = 5;

fn denial_table(events: &[serde_json::Value]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if events.is_empty() {
        let _ = writeln!(out, "\nNo denials recorded.");
        return out;
    }
    let _ = writeln!(out, "\nRecent denials (newest first):");
    for event in events {
        let payload = &event["payload"];
        let text = |key: &str| payload[key].as_str().unwrap_or("").to_owned();
        let caller = [text("agent_id"), text("human_id")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}  {}",
            event["timestamp"].as_str().unwrap_or(""),
            text("server"),
            if text("tool_name").is_empty() {
                text("rpc_method")
            } else {
                text("tool_name")
            },
            if caller.is_empty() {
                "(anonymous)".to_owned()
            } else {
                caller
            },
            text("reason"),
        );
    }
    out
}

fn table(status: &UpStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "mcp-runtime up at {} ({})", status.url, status.dir);
    let _ = writeln!(
        out,
        "{:<20} {:<11} {:>8} {:<40} TOOLS",
        "NAME", "PHASE", "RESTARTS", "URL"
    );
    for server in &status.servers {
        let tools = server
            .facts
            .as_ref()
            .map(|facts| facts.tools.join(","))
            .unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(
            out,
            "{:<20} {:<11} {:>8} {:<40} {tools}",
            server.name,
            server.phase.as_str(),
            server.restarts,
            server.url
        );
        if let Some(error) = &server.last_error {
            let _ = writeln!(out, "  last error: {error}");
        }
        if let Some(exit) = &server.last_exit {
            let _ = writeln!(out, "  last exit: {exit}");
        }
        if let Some(error) = &server.policy_error {
            let _ = writeln!(out, "  policy error (last good policy in force): {error}");
        }
        for warning in &server.warnings {
            let _ = writeln!(out, "  warning: {warning}");
        }
    }
    if !status.problems.is_empty() {
        let _ = writeln!(out, "\nRefused manifests:");
        for problem in &status.problems {
            let _ = writeln!(out, "  {problem}");
        }
    }
    if let Some(url) = &status.sentinel_url {
        let _ = writeln!(out, "\nSentinel UI: {url}/");
    }
    out
}

/// One GET on a fresh runtime; the CLI verbs are one request each.
pub fn get(url: &str) -> Result<Bytes> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("{url:?} is not a URL"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let response = tokio::time::timeout(Duration::from_secs(10), client.get(uri))
            .await
            .context("timed out after 10 s")??;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(body)
    })
}
