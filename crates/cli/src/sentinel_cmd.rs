//! `mcp-runtime sentinel`: run Sentinel (audit ingest, storage, query API, UI), query a running
//! one with `sentinel status` and `sentinel events`, or re-verify its audit chains with
//! `sentinel verify`.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use mcp_runtime_sentinel::{Sentinel, SentinelConfig, StoreUrl};
use serde_json::Value;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SentinelArgs {
    #[command(subcommand)]
    command: Option<SentinelCommand>,
    #[command(flatten)]
    serve: ServeArgs,
}

impl SentinelArgs {
    /// `sentinel status` and `sentinel events` print and exit; the server runs.
    pub fn only_prints(&self) -> bool {
        matches!(
            self.command,
            Some(
                SentinelCommand::Status(_)
                    | SentinelCommand::Events(_)
                    | SentinelCommand::Verify(_)
            )
        )
    }
}

#[derive(Debug, clap::Subcommand)]
enum SentinelCommand {
    /// Run the Sentinel server (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Show a running Sentinel's health and event totals.
    Status(StatusArgs),
    /// List events from a running Sentinel, newest first, with filters.
    Events(Box<EventsArgs>),
    /// Re-verify stored audit events against their hash chains and the signed checkpoints;
    /// report every edited, removed or reordered event and exit non-zero when there is one.
    Verify(Box<VerifyArgs>),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDRESS", default_value = "0.0.0.0")]
    address: std::net::IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 8083)]
    port: u16,
    /// Where events are stored: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB.
    #[arg(long, env = "SENTINEL_STORE", default_value = "sqlite://./sentinel.db")]
    store: String,
    /// API keys accepted by POST /events in `x-api-key`, comma-separated (also read from
    /// INGEST_API_KEYS or API_KEYS). Without any key, ingest is open to anyone who can reach it.
    #[arg(
        long,
        env = "SENTINEL_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    api_keys: Vec<String>,
    /// API keys required by the query API (/api/v1/*) in `x-api-key`, comma-separated. Without
    /// any, the query API and the UI are open.
    #[arg(
        long,
        env = "SENTINEL_READ_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    read_api_keys: Vec<String>,
    /// Delete events older than this (e.g. 7d, 12h, 30d); `off` keeps everything.
    #[arg(long, env = "SENTINEL_RETENTION", default_value = "30d")]
    retention: String,
    /// Serve ingest or the query API without keys on an address that is not loopback. Without
    /// this, Sentinel refuses to start that way: anyone who can reach it could write or read the
    /// audit trail.
    #[arg(long, env = "SENTINEL_INSECURE_OPEN")]
    insecure_open: bool,
    /// Largest accepted POST /events body, in bytes.
    #[arg(long, env = "SENTINEL_MAX_BODY_BYTES", default_value_t = mcp_runtime_sentinel::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Public keys (PEM files, comma-separated) trusted to sign the gateways' audit-chain
    /// checkpoints: each checkpoint is marked valid or invalid on receipt. Without any, they are
    /// stored unchecked.
    #[arg(
        long = "audit-public-key",
        env = "SENTINEL_AUDIT_PUBLIC_KEYS",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    audit_public_keys: Vec<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    target: Target,
    /// Read the store directly instead of asking a running Sentinel: sqlite://PATH (for
    /// `mcp-runtime up`, `sentinel.db` in its state directory) or postgres://….
    #[arg(long, value_name = "STORE_URL", conflicts_with = "in_cluster")]
    store: Option<String>,
    /// Verify events since: RFC 3339, Unix seconds, or a duration ago (15m, 24h, 7d).
    #[arg(long, default_value = "7d")]
    since: String,
    /// Only this chain (a gateway instance's chain id).
    #[arg(long, value_name = "CHAIN_ID")]
    chain: Option<String>,
    /// A public key trusted to sign checkpoints (PEM from `openssl pkey -pubout`, or base64 of
    /// the 32 raw bytes); repeatable. Take it from where the key was made, never from the store.
    #[arg(long = "public-key", value_name = "FILE")]
    public_keys: Vec<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
struct Target {
    /// Base URL of the Sentinel.
    #[arg(long, env = "SENTINEL_URL", default_value = "http://127.0.0.1:8083")]
    url: String,
    /// Ask the Sentinel that `mcp-runtime setup` installed in the cluster instead of --url:
    /// through the API server's service proxy, with the read key from its Secret.
    #[arg(long, conflicts_with = "url")]
    in_cluster: bool,
    /// Namespace of the in-cluster Sentinel (with --in-cluster).
    #[arg(long, value_name = "NAMESPACE", default_value = "mcp-runtime")]
    sentinel_namespace: String,
    #[command(flatten)]
    kube: crate::setup_cmd::ClusterArgs,
    /// API key for the query API, when it requires one.
    #[arg(long, env = "SENTINEL_READ_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    output: Output,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Output {
    /// Human-readable text.
    Table,
    /// The API's JSON.
    Json,
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
struct EventsArgs {
    #[command(flatten)]
    target: Target,
    /// Only this MCPServer.
    #[arg(long)]
    server: Option<String>,
    /// Only this agent identity.
    #[arg(long)]
    agent: Option<String>,
    /// Only this human identity.
    #[arg(long)]
    human: Option<String>,
    /// Only this session id.
    #[arg(long)]
    session: Option<String>,
    /// Only this tool.
    #[arg(long)]
    tool: Option<String>,
    /// Only allowed or only denied calls.
    #[arg(long, value_parser = ["allow", "deny"])]
    decision: Option<String>,
    /// Only this decision reason (e.g. trust_too_low).
    #[arg(long)]
    reason: Option<String>,
    /// Only this namespace.
    #[arg(long)]
    namespace: Option<String>,
    /// Only this cluster.
    #[arg(long)]
    cluster: Option<String>,
    /// Only this event source (e.g. files-gateway).
    #[arg(long)]
    source: Option<String>,
    /// Only this event type (e.g. mcp.request).
    #[arg(long)]
    event_type: Option<String>,
    /// Only this trace id.
    #[arg(long)]
    trace_id: Option<String>,
    /// Events since: RFC 3339, Unix seconds, or a duration ago (15m, 24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Events before: RFC 3339, Unix seconds, or a duration ago.
    #[arg(long)]
    until: Option<String>,
    /// Page size (1–1000).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Continue from a `next_cursor` printed by an earlier call.
    #[arg(long)]
    cursor: Option<String>,
}

pub fn run(args: &SentinelArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match &args.command {
        None => runtime.block_on(serve(&args.serve)),
        Some(SentinelCommand::Serve(serve_args)) => runtime.block_on(serve(serve_args)),
        Some(SentinelCommand::Status(status_args)) => runtime.block_on(status(status_args)),
        Some(SentinelCommand::Events(events_args)) => runtime.block_on(events(events_args)),
        Some(SentinelCommand::Verify(verify_args)) => runtime.block_on(verify(verify_args)),
    }
}

fn read_public_key(path: &std::path::Path, flag: &str) -> Result<mcp_runtime_audit::PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read the public key", path.display()))?;
    mcp_runtime_audit::PublicKey::parse(&text)
        .with_context(|| format!("{flag} {}: not an Ed25519 public key", path.display()))
}

fn env_keys(name: &str) -> Vec<String> {
    std::env::var(name)
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn clean(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    keys.into_iter()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect()
}

/// A Sentinel reachable from other machines serves ingest and the query API only behind keys,
/// unless `--insecure-open` says the operator accepts the risk.
fn refuse_open_on_the_network(args: &ServeArgs, config: &SentinelConfig) -> Result<()> {
    if args.address.is_loopback() || args.insecure_open {
        return Ok(());
    }
    let mut open = Vec::new();
    if config.api_keys.is_empty() {
        open.push("ingest (set SENTINEL_API_KEYS)");
    }
    if config.read_api_keys.is_empty() {
        open.push("the query API and UI (set SENTINEL_READ_API_KEYS)");
    }
    if open.is_empty() {
        return Ok(());
    }
    bail!(
        "refusing to serve {} without keys on {}, which is not a loopback address; listen on \
         127.0.0.1 (--address), or pass --insecure-open to let anyone who can reach it write or \
         read the audit trail",
        open.join(" and "),
        args.address
    )
}

async fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let store: StoreUrl = args.store.parse().context("--store / SENTINEL_STORE")?;
    let mut config = SentinelConfig::new(store.clone());
    config.api_keys = clean(args.api_keys.clone());
    if config.api_keys.is_empty() {
        // The Go mcp-runtime ingest's variable names.
        config.api_keys = clean(env_keys("INGEST_API_KEYS"));
    }
    if config.api_keys.is_empty() {
        config.api_keys = clean(env_keys("API_KEYS"));
    }
    config.read_api_keys = clean(args.read_api_keys.clone());
    config.retention = match args.retention.trim() {
        "off" | "0" | "none" | "" => None,
        value => Some(
            mcp_runtime_sentinel::parse_duration(value).with_context(|| {
                format!("--retention {value:?}: expected a duration such as 7d, 12h or 30d, or off")
            })?,
        ),
    };
    config.max_body_bytes = args.max_body_bytes;
    config.chain_keys = args
        .audit_public_keys
        .iter()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| read_public_key(p, "--audit-public-key / SENTINEL_AUDIT_PUBLIC_KEYS"))
        .collect::<Result<_>>()?;
    refuse_open_on_the_network(args, &config)?;
    let sentinel = Sentinel::open(config.clone())
        .await
        .context("starting Sentinel")?;
    let address = SocketAddr::new(args.address, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    let local = listener.local_addr()?;
    if config.api_keys.is_empty() {
        eprintln!(
            "WARNING: no ingest API key is configured (SENTINEL_API_KEYS): anyone who can reach \
             POST /events on {local} can write audit events. Set SENTINEL_API_KEYS=key1,key2 and give \
             the gateways ANALYTICS_API_KEY."
        );
    }
    eprintln!(
        "mcp-runtime sentinel listening on {local} (store {store}; UI at http://{local}/ui/)"
    );
    let shutdown = async {
        crate::signals::shutdown_signal().await;
        eprintln!("shutting down");
    };
    axum::serve(listener, sentinel.router())
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}

/// Where the Sentinel is asked: a URL, or the one installed in the cluster.
enum Source {
    Url(String),
    Cluster(mcp_runtime_admin::sentinel::ClusterSentinel),
}

impl Source {
    async fn of(target: &Target) -> Result<Source> {
        if !target.in_cluster {
            return Ok(Source::Url(target.url.clone()));
        }
        let (client, _) =
            mcp_runtime_admin::connect::connect_without_retries(&target.kube.target()).await?;
        let found =
            mcp_runtime_admin::sentinel::ClusterSentinel::find(client, &target.sentinel_namespace)
                .await?;
        Ok(Source::Cluster(found))
    }

    fn describe(&self) -> String {
        match self {
            Source::Url(url) => url.clone(),
            Source::Cluster(sentinel) => sentinel.describe(),
        }
    }

    /// GETs `path_and_query` and returns the status and the JSON body.
    async fn get(&self, target: &Target, path_and_query: &str) -> Result<(u16, Value)> {
        match self {
            Source::Url(_) => get_json(target, path_and_query).await,
            Source::Cluster(sentinel) => Ok(sentinel.get(path_and_query).await?),
        }
    }
}

/// GETs `path` (with its query) from the Sentinel at `--url` and returns the status and the JSON
/// body.
async fn get_json(target: &Target, path_and_query: &str) -> Result<(u16, Value)> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let base = target.url.trim_end_matches('/');
    let url = format!("{base}{path_and_query}");
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("--url {:?} is not a valid URL", target.url))?;
    if uri.scheme_str() != Some("http") {
        bail!("--url {:?}: only http:// URLs are supported", target.url);
    }
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::get(uri);
    if let Some(key) = &target.api_key {
        request = request.header("x-api-key", key);
    }
    let request = request.body(Empty::new())?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .with_context(|| format!("{url}: no answer within 30 s"))?
        .with_context(|| format!("cannot reach Sentinel at {base}"))?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    Ok((status, json))
}

fn api_error(status: u16, body: &Value) -> anyhow::Error {
    let message = body["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    anyhow::anyhow!("Sentinel answered {status}: {message}")
}

async fn status(args: &StatusArgs) -> Result<ExitCode> {
    let target = &args.target;
    let source = Source::of(target).await?;
    let (health_status, health) = source.get(target, "/health").await?;
    let (stats_status, stats) = source.get(target, "/api/v1/stats").await?;
    if matches!(target.output, Output::Json) {
        let out = serde_json::json!({"health": health, "stats": stats});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let store = &health["store"];
        println!(
            "Sentinel {}: {} (store {}, version {}, up {}s)",
            source.describe(),
            health["status"].as_str().unwrap_or("unknown"),
            store["backend"].as_str().unwrap_or("?"),
            health["version"].as_str().unwrap_or("?"),
            health["uptime_seconds"].as_u64().unwrap_or(0),
        );
        if let Some(error) = store["error"].as_str() {
            println!("  store error: {error}");
        }
        let on_off = |v: &Value| if v == true { "on" } else { "OFF" };
        let retention = health["retention_seconds"]
            .as_u64()
            .map(|s| format!("{}d", s / 86_400))
            .unwrap_or_else(|| "off".into());
        println!(
            "  ingest auth: {}, query auth: {}, retention: {retention}",
            on_off(&health["ingest_auth"]),
            on_off(&health["read_auth"]),
        );
        if stats_status == 200 {
            println!(
                "  events: {} ({} denied, {:.1}%); servers {}, agents {}, humans {}, tools {}",
                stats["total_events"],
                stats["denied"],
                stats["deny_rate"].as_f64().unwrap_or(0.0) * 100.0,
                stats["servers"],
                stats["agents"],
                stats["humans"],
                stats["tools"],
            );
            if let (Some(first), Some(last)) =
                (stats["first_event"].as_str(), stats["last_event"].as_str())
            {
                println!("  from {first} to {last}");
            }
        } else {
            println!("  stats: {}", api_error(stats_status, &stats));
        }
    }
    Ok(if health_status == 200 && stats_status == 200 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn events(args: &EventsArgs) -> Result<ExitCode> {
    let mut query = vec![("limit", args.limit.to_string())];
    for (name, value) in [
        ("server", &args.server),
        ("agent_id", &args.agent),
        ("human_id", &args.human),
        ("session_id", &args.session),
        ("tool_name", &args.tool),
        ("decision", &args.decision),
        ("reason", &args.reason),
        ("namespace", &args.namespace),
        ("cluster", &args.cluster),
        ("source", &args.source),
        ("event_type", &args.event_type),
        ("trace_id", &args.trace_id),
        ("from", &args.since),
        ("to", &args.until),
        ("cursor", &args.cursor),
    ] {
        if let Some(value) = value {
            query.push((name, value.clone()));
        }
    }
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let source = Source::of(&args.target).await?;
    let (status, body) = source
        .get(&args.target, &format!("/api/v1/events?{}", query.join("&")))
        .await?;
    if status != 200 {
        return Err(api_error(status, &body));
    }
    if matches!(args.target.output, Output::Json) {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(ExitCode::SUCCESS);
    }
    let header = [
        "TIME", "SERVER", "AGENT", "HUMAN", "TOOL", "DECISION", "REASON", "STATUS", "EVENT_ID",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| (*s).to_owned()).collect()];
    for event in body["events"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let p = &event["payload"];
        let text = |v: &Value| match v {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => "-".into(),
        };
        rows.push(vec![
            text(&event["timestamp"]),
            text(&p["server"]),
            text(&p["agent_id"]),
            text(&p["human_id"]),
            text(&p["tool_name"]),
            text(&p["decision"]),
            text(&p["reason"]),
            text(&p["status"]),
            text(&event["event_id"]),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    if rows.len() == 1 {
        eprintln!("no events match");
    }
    if let Some(cursor) = body["next_cursor"].as_str() {
        eprintln!("more: --cursor {cursor}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `verify` reads chains from: a running Sentinel's API, or the store itself.
enum ChainSource<'a> {
    Api(Source, &'a Target),
    Store(std::sync::Arc<dyn mcp_runtime_sentinel::Store>),
}

/// A chain to verify: its id and emitter.
struct ChainRef {
    id: String,
    source: String,
}

/// Pages of stored links read per request.
const VERIFY_PAGE: u32 = 5000;

impl ChainSource<'_> {
    async fn chains(&self, since: &str, since_ns: i64) -> Result<Vec<ChainRef>> {
        match self {
            ChainSource::Api(source, target) => {
                let (status, body) = source
                    .get(target, &format!("/api/v1/chains?since={}", encode(since)))
                    .await?;
                if status != 200 {
                    return Err(api_error(status, &body));
                }
                Ok(body["chains"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                    .iter()
                    .map(|c| ChainRef {
                        id: c["chain_id"].as_str().unwrap_or_default().to_owned(),
                        source: c["source"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect())
            }
            ChainSource::Store(store) => {
                Ok(
                    mcp_runtime_sentinel::store::chain::statuses(store.as_ref(), since_ns, 1000)
                        .await?
                        .into_iter()
                        .map(|c| ChainRef {
                            id: c.chain_id,
                            source: c.source,
                        })
                        .collect(),
                )
            }
        }
    }

    /// Every stored link of the chain since `since`, with its event as stored now (links
    /// whose event row is gone are left out: the verification sees them as missing).
    async fn events(
        &self,
        chain_id: &str,
        since: &str,
        since_ns: i64,
    ) -> Result<Vec<mcp_runtime_audit::chain::StoredEvent>> {
        let mut out = Vec::new();
        let mut after = 0i64;
        loop {
            let page: Vec<(i64, String, Option<String>)> = match self {
                ChainSource::Api(source, target) => {
                    let path = format!(
                        "/api/v1/chains/{}/events?since={}&after={after}&limit={VERIFY_PAGE}",
                        encode(chain_id),
                        encode(since)
                    );
                    let (status, body) = source.get(target, &path).await?;
                    if status != 200 {
                        return Err(api_error(status, &body));
                    }
                    body["events"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .map(|e| {
                            (
                                e["seq"].as_i64().unwrap_or(0),
                                e["ingest_hash"].as_str().unwrap_or_default().to_owned(),
                                e["event"].as_str().map(str::to_owned),
                            )
                        })
                        .collect()
                }
                ChainSource::Store(store) => mcp_runtime_sentinel::store::chain::linked_events(
                    store.as_ref(),
                    chain_id,
                    after,
                    since_ns,
                    VERIFY_PAGE,
                )
                .await?
                .into_iter()
                .map(|e| (e.seq, e.ingest_hash, e.event))
                .collect(),
            };
            let full = page.len() == VERIFY_PAGE as usize;
            for (seq, ingest_hash, event) in page {
                after = after.max(seq);
                if let Some(json) = event {
                    out.push(mcp_runtime_audit::chain::StoredEvent {
                        position: u64::try_from(seq).unwrap_or(0),
                        ingest_hash: Some(ingest_hash).filter(|h| !h.is_empty()),
                        json,
                    });
                }
            }
            if !full {
                return Ok(out);
            }
        }
    }

    async fn checkpoints(&self, chain_id: &str) -> Result<Vec<mcp_runtime_audit::Checkpoint>> {
        match self {
            ChainSource::Api(source, target) => {
                let path = format!("/api/v1/chains/{}/checkpoints", encode(chain_id));
                let (status, body) = source.get(target, &path).await?;
                if status != 200 {
                    return Err(api_error(status, &body));
                }
                let mut out = Vec::new();
                for c in body["checkpoints"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    out.push(
                        serde_json::from_value(c.clone())
                            .context("Sentinel answered a checkpoint this version cannot read")?,
                    );
                }
                Ok(out)
            }
            ChainSource::Store(store) => Ok(mcp_runtime_sentinel::store::chain::checkpoints(
                store.as_ref(),
                chain_id,
            )
            .await?
            .into_iter()
            .map(|c| c.checkpoint)
            .collect()),
        }
    }
}

/// `--since` as nanoseconds: RFC 3339, Unix seconds, or a duration ago.
fn since_ns(value: &str) -> Result<i64> {
    let value = value.trim();
    let parsed = if let Ok(ts) = value.parse::<jiff::Timestamp>() {
        i64::try_from(ts.as_nanosecond()).ok()
    } else if let Ok(seconds) = value.parse::<i64>() {
        seconds.checked_mul(1_000_000_000)
    } else {
        mcp_runtime_sentinel::parse_duration(value).and_then(|ago| {
            let now = i64::try_from(jiff::Timestamp::now().as_nanosecond()).ok()?;
            now.checked_sub(i64::try_from(ago.as_nanos()).ok()?)
        })
    };
    parsed.with_context(|| {
        format!(
            "--since {value:?}: expected an RFC 3339 time, Unix seconds or a duration ago (24h, 7d)"
        )
    })
}

async fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let keys: Vec<mcp_runtime_audit::PublicKey> = args
        .public_keys
        .iter()
        .map(|p| read_public_key(p, "--public-key"))
        .collect::<Result<_>>()?;
    let since_ns = since_ns(&args.since)?;
    let source = match &args.store {
        Some(url) => {
            let url: StoreUrl = url.parse().context("--store")?;
            if let StoreUrl::Sqlite(path) = &url
                && !path.exists()
            {
                bail!("--store {url}: no such database file");
            }
            let store = mcp_runtime_sentinel::store::open(&url)
                .await
                .with_context(|| format!("opening the store {url}"))?;
            ChainSource::Store(store)
        }
        None => ChainSource::Api(Source::of(&args.target).await?, &args.target),
    };
    let mut chains = source.chains(&args.since, since_ns).await?;
    if let Some(only) = &args.chain {
        chains.retain(|c| &c.id == only);
        if chains.is_empty() {
            bail!(
                "--chain {only}: no events of that chain since {}",
                args.since
            );
        }
    }
    let mut reports = Vec::new();
    for chain in &chains {
        let events = source.events(&chain.id, &args.since, since_ns).await?;
        let checkpoints = source.checkpoints(&chain.id).await?;
        let report =
            mcp_runtime_audit::chain::verify_chain(&chain.id, &events, &checkpoints, &keys);
        reports.push((chain, report));
    }
    let clean = reports.iter().all(|(_, r)| r.is_clean());
    if matches!(args.target.output, Output::Json) {
        let chains: Vec<Value> = reports
            .iter()
            .map(|(chain, report)| {
                let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
                v["source"] = Value::String(chain.source.clone());
                v["clean"] = Value::Bool(report.is_clean());
                v
            })
            .collect();
        let out = serde_json::json!({
            "clean": clean,
            "since": args.since,
            "trusted_keys": keys.iter().map(|k| k.key_id()).collect::<Vec<_>>(),
            "chains": chains,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if keys.is_empty() {
            eprintln!(
                "warning: no --public-key given: checkpoints are not checked, so a chain rewritten \
                 with recomputed hashes would go unnoticed"
            );
        }
        if reports.is_empty() {
            println!("no chained events since {}", args.since);
        }
        for (chain, report) in &reports {
            let range = match (report.first_seq, report.last_seq) {
                (Some(first), Some(last)) => format!("seq {first}-{last}"),
                _ => "no events".to_owned(),
            };
            let anchor = match report.anchored_seq {
                Some(seq) => format!("signed up to seq {seq}"),
                None if report.checkpoints_unchecked > 0 => format!(
                    "{} checkpoint(s) not checked (no --public-key)",
                    report.checkpoints_unchecked
                ),
                None if report.checkpoints_valid > 0 => format!(
                    "{} signed checkpoint(s), none vouching for an intact chain",
                    report.checkpoints_valid
                ),
                None => "no valid signed checkpoint".to_owned(),
            };
            let verdict = if report.is_clean() {
                "OK".to_owned()
            } else {
                format!("{} PROBLEM(S)", report.findings.len())
            };
            println!(
                "chain {} ({}): {} events, {range}, {anchor}: {verdict}",
                chain.id, chain.source, report.events
            );
            for finding in &report.findings {
                println!("  {finding}");
            }
        }
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
