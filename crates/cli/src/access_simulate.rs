//! `mcp-runtime access simulate -f PROPOSED --since 7d`: what a change to servers, grants or
//! sessions would have decided differently over the recorded traffic.
//!
//! The proposed manifests are loaded as `up` and `server apply` load them, rendered into policies
//! as the operator renders them, and the recorded tool-call decisions (from a Sentinel, `up`'s
//! embedded store, or a store URL) are streamed through the gateway's evaluator
//! ([`mcp_runtime_policy::replay`]).

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use mcp_runtime_policy::replay::{Change, RecordedDecision, Replay, ReplayReport};
use mcp_runtime_policy::{CompiledPolicy, render::render};
use mcp_runtime_sentinel::store::{DecisionBatch, StoreUrl};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit status when `--fail-on-new-deny` or `--fail-on-new-allow` matched.
pub const EXIT_CHANGES_MATCHED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Directory (or file) of the proposed MCPServer, MCPAccessGrant and MCPAgentSession
    /// manifests: every server's policy is rendered from them.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    path: PathBuf,
    /// How far back to replay: a duration such as 90m, 24h, 7d or 2w.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    since: String,
    /// Read the recorded decisions from this Sentinel (its query API).
    #[arg(long, value_name = "URL", conflicts_with_all = ["store", "state_dir"])]
    sentinel_url: Option<String>,
    /// API key for the Sentinel's query API, when it requires one.
    #[arg(long, env = "SENTINEL_READ_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Read the recorded decisions from this store directly: sqlite://PATH or postgres://….
    #[arg(long, value_name = "URL", conflicts_with = "state_dir")]
    store: Option<String>,
    /// The state directory of `mcp-runtime up`, whose embedded store is read when neither
    /// --sentinel-url nor --store is given.
    #[arg(long, value_name = "DIR", default_value = ".mcp-runtime")]
    state_dir: PathBuf,
    /// Cluster name written into the rendered policies (as the operator's `MCP_CLUSTER_NAME`).
    #[arg(long, default_value = "local", value_name = "NAME")]
    cluster: String,
    /// Exit with status 3 when a recorded allow would be denied.
    #[arg(long)]
    fail_on_new_deny: bool,
    /// Exit with status 3 when a recorded deny would be allowed.
    #[arg(long)]
    fail_on_new_allow: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = crate::policy_cmd::Format::Text)]
    output: crate::policy_cmd::Format,
}

/// Where the recorded decisions come from.
enum Source {
    Sentinel {
        url: String,
        api_key: Option<String>,
    },
    Store(StoreUrl),
}

impl Source {
    fn of(args: &SimulateArgs) -> Result<Source> {
        if let Some(url) = &args.sentinel_url {
            return Ok(Source::Sentinel {
                url: url.trim_end_matches('/').to_owned(),
                api_key: args.api_key.clone(),
            });
        }
        if let Some(store) = &args.store {
            return Ok(Source::Store(
                store
                    .parse()
                    .with_context(|| format!("--store {store:?}"))?,
            ));
        }
        let path = args.state_dir.join("sentinel.db");
        if !path.is_file() {
            bail!(
                "no embedded store at {} (start `mcp-runtime up` there first, or give \
                 --state-dir, --sentinel-url or --store)",
                path.display()
            );
        }
        Ok(Source::Store(StoreUrl::Sqlite(path)))
    }

    fn describe(&self) -> String {
        match self {
            Source::Sentinel { url, .. } => format!("Sentinel {url}"),
            Source::Store(url) => format!("store {url}"),
        }
    }
}

pub fn run(args: &SimulateArgs) -> Result<ExitCode> {
    let since = mcp_runtime_sentinel::parse_duration(&args.since).with_context(|| {
        format!(
            "--since {:?} is not a duration such as 90m, 24h or 7d",
            args.since
        )
    })?;
    let now = jiff::Timestamp::now();
    let from = now
        .checked_sub(jiff::SignedDuration::try_from(since)?)
        .context("--since reaches before the year -9999")?;
    let policies = proposed_policies(args, now)?;
    let servers = policies.len();
    let source = Source::of(args)?;
    let started = Instant::now();
    let report = crate::cluster_verbs::block_on(replay(&source, policies, from, now))?;
    let elapsed = started.elapsed();
    match args.output {
        crate::policy_cmd::Format::Json => {
            let out = serde_json::json!({
                "source": source.describe(),
                "from": from.to_string(),
                "to": now.to_string(),
                "servers": servers,
                "seconds": elapsed.as_secs_f64(),
                "report": report,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        crate::policy_cmd::Format::Text => print_text(&report, &source, args, servers, elapsed),
    }
    let matched = (args.fail_on_new_deny && report.new_denies > 0)
        || (args.fail_on_new_allow && report.new_allows > 0);
    Ok(if matched {
        ExitCode::from(EXIT_CHANGES_MATCHED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every server's policy, rendered from the proposed manifests. A refused manifest is an error
/// (not a warning, as in `policy render`): a simulation that silently dropped a grant would
/// report changes the proposal does not make.
fn proposed_policies(args: &SimulateArgs, now: jiff::Timestamp) -> Result<Vec<CompiledPolicy>> {
    let loaded = crate::policy_cmd::load(&args.path)?;
    if !loaded.errors.is_empty() {
        let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        bail!(
            "the proposed manifests in {} are not valid:\n  {}",
            args.path.display(),
            errors.join("\n  ")
        );
    }
    let grants: Vec<_> = loaded.grants().collect();
    let sessions: Vec<_> = loaded.sessions().collect();
    let mut policies = Vec::new();
    for server in loaded.servers() {
        let name = format!(
            "{}/{}",
            server.metadata.namespace.as_deref().unwrap_or("default"),
            server.metadata.name.as_deref().unwrap_or_default()
        );
        let document = render(
            server,
            grants.iter().copied(),
            sessions.iter().copied(),
            &args.cluster,
            now,
        )
        .with_context(|| format!("rendering the policy of MCPServer {name}"))?;
        policies.push(
            CompiledPolicy::new(document)
                .with_context(|| format!("compiling the policy of MCPServer {name}"))?,
        );
    }
    if policies.is_empty() {
        bail!("{} holds no MCPServer manifest", args.path.display());
    }
    Ok(policies)
}

async fn replay(
    source: &Source,
    policies: Vec<CompiledPolicy>,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
) -> Result<ReplayReport> {
    let mut replay = Replay::new(policies);
    match source {
        Source::Store(url) => {
            let store = mcp_runtime_sentinel::store::open(url)
                .await
                .with_context(|| format!("opening the store {url}"))?;
            let mut scan = store.scan_decisions(nanos(from), nanos(to));
            while let Some(batch) = scan.recv().await {
                let batch = batch.with_context(|| format!("reading {url}"))?;
                replay_batch(&mut replay, &batch);
            }
        }
        Source::Sentinel { url, api_key } => {
            stream_from_sentinel(url, api_key.as_deref(), from, to, &mut replay).await?;
        }
    }
    Ok(replay.finish())
}

fn nanos(at: jiff::Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX)
}

fn replay_batch(replay: &mut Replay, batch: &DecisionBatch) {
    for row in batch.iter() {
        replay.record(&RecordedDecision {
            event_id: row.event_id,
            ts_ns: row.ts_ns,
            namespace: row.namespace,
            server: row.server,
            human_id: row.human_id,
            agent_id: row.agent_id,
            team_id: row.team_id,
            session_id: row.session_id,
            rpc_method: row.rpc_method,
            tool_name: row.tool_name,
            allowed: row.decision == "allow",
            reason: row.reason,
            matched_grant: row.matched_grant,
            matched_session: row.matched_session,
            required_trust: row.required_trust,
            required_side_effect: row.required_side_effect,
        });
    }
}

/// One line of `GET /api/v1/decisions`: a row, or the closing `{"end": …}` / `{"error": …}`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Line {
    Row(i64, Box<[String; 15]>),
    End { end: bool, rows: u64 },
    Error { error: String },
}

/// Streams `GET /api/v1/decisions` line by line into the replay.
async fn stream_from_sentinel(
    base: &str,
    api_key: Option<&str>,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
    replay: &mut Replay,
) -> Result<()> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let url = format!(
        "{base}/api/v1/decisions?from={}&to={}",
        encode_time(from),
        encode_time(to)
    );
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("--sentinel-url {base:?} is not a valid URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("--sentinel-url {base:?}: only http:// URLs are supported");
    }
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::get(uri);
    if let Some(key) = api_key {
        request = request.header("x-api-key", key);
    }
    let response = tokio::time::timeout(
        Duration::from_secs(30),
        client.request(request.body(Empty::new())?),
    )
    .await
    .with_context(|| format!("Sentinel at {base}: no answer within 30 s"))?
    .with_context(|| format!("cannot reach Sentinel at {base}"))?;
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let text = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&text).unwrap_or_default();
        let message = json["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&text).into_owned());
        bail!("Sentinel at {base} answered {}: {message}", status.as_u16());
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut batch = DecisionBatch::new();
    let mut ended = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.with_context(|| format!("reading the decisions from {base}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        let mut consumed = 0;
        while let Some(newline) = pending[consumed..].iter().position(|b| *b == b'\n') {
            let line = &pending[consumed..consumed + newline];
            consumed += newline + 1;
            match serde_json::from_slice::<Line>(line)
                .with_context(|| format!("{base} sent a line that is not a recorded decision"))?
            {
                Line::Row(ts_ns, fields) => {
                    batch.push(ts_ns, fields.each_ref().map(String::as_str))?;
                }
                Line::End { end: true, rows } => ended = Some(rows),
                Line::End { .. } => bail!("{base} sent an unknown end line"),
                Line::Error { error } => {
                    bail!("Sentinel at {base} failed reading its store: {error}")
                }
            }
        }
        pending.drain(..consumed);
        if batch.len() >= mcp_runtime_sentinel::store::replay::BATCH_ROWS {
            replay_batch(replay, &batch);
            batch = DecisionBatch::new();
        }
    }
    replay_batch(replay, &batch);
    if ended.is_none() {
        bail!("the decision stream from {base} ended early (connection closed)");
    }
    Ok(())
}

fn encode_time(at: jiff::Timestamp) -> String {
    // RFC 3339 with `:` and `+` escaped for the query string.
    at.to_string().replace(':', "%3A").replace('+', "%2B")
}

fn print_text(
    report: &ReplayReport,
    source: &Source,
    args: &SimulateArgs,
    servers: usize,
    elapsed: Duration,
) {
    println!(
        "Replayed {} recorded tool calls from the last {} ({}) against the policies of {} \
         server(s) rendered from {} ({} distinct inputs evaluated, {:.2} s).",
        report.replayed,
        args.since,
        source.describe(),
        servers,
        args.path.display(),
        report.evaluations,
        elapsed.as_secs_f64()
    );
    println!(
        "  unchanged: {}   allow→deny: {}   deny→allow: {}",
        report.unchanged, report.new_denies, report.new_allows
    );
    for (server, count) in &report.servers_not_in_proposal {
        println!(
            "  not replayed: {count} call(s) of {server}, a server the proposal does not have"
        );
    }
    let skipped: u64 = report.not_policy_decisions.values().sum();
    if skipped > 0 {
        let reasons: Vec<String> = report
            .not_policy_decisions
            .iter()
            .map(|(reason, count)| format!("{reason} {count}"))
            .collect();
        println!(
            "  not replayed: {skipped} request(s) not decided by the policy ({})",
            reasons.join(", ")
        );
    }
    if report.changes.is_empty() {
        println!("\nNo decision would change.");
        return;
    }
    for change in [Change::AllowToDeny, Change::DenyToAllow] {
        let groups: Vec<_> = report
            .changes
            .iter()
            .filter(|group| group.change == change)
            .collect();
        if groups.is_empty() {
            continue;
        }
        let total: u64 = groups.iter().map(|group| group.count).sum();
        println!("\n{} ({total}):", change.arrow().to_uppercase());
        for group in groups {
            println!(
                "  {count:>7}  {namespace}/{server}  tool {tool}  agent {agent}  {recorded} → {reason}",
                count = group.count,
                namespace = group.namespace,
                server = group.server,
                tool = group.tool,
                agent = or_dash(&group.agent),
                recorded = group.recorded_reason,
                reason = group.reason,
            );
            for example in &group.examples {
                let caller: Vec<String> = [
                    ("human", &example.human_id),
                    ("team", &example.team_id),
                    ("session", &example.session_id),
                ]
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(field, value)| format!("{field} {value}"))
                .collect();
                println!(
                    "           e.g. {} at {}{}",
                    example.event_id,
                    example.timestamp,
                    if caller.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", caller.join(", "))
                    }
                );
                println!(
                    "                was: grant {}, tool requires {} trust, side effect {}; now: grant {}",
                    or_dash(&example.recorded_grant),
                    or_dash(&example.recorded_required_trust),
                    or_dash(&example.recorded_side_effect),
                    example.grant.as_deref().unwrap_or("-"),
                );
            }
        }
    }
}

fn or_dash(value: &str) -> &str {
    if value.is_empty() { "-" } else { value }
}
