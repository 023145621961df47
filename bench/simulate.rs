//! `access simulate` replay benchmark: fills an SQLite Sentinel store with 1,000,000 recorded
//! tool-call decisions, then times, in the same run:
//!
//! - **baseline**: a plain scan of the same rows through `Store::scan_decisions`, no evaluation;
//! - **replay (in process)**: the same scan feeding `mcp_runtime_policy::replay::Replay`;
//! - **`access simulate`**: the release binary, end to end (start, load and render the proposal,
//!   open the store, replay, print the JSON report), with a proposal that tightens one grant.
//!
//! ```sh
//! cargo bench -p mcp-runtime --bench simulate
//! ```
//!
//! `MCP_BENCH_DECISIONS=N` changes the size; `MCP_BENCH_STORE=PATH` keeps the filled store at
//! PATH and reuses it on the next run when it already holds N events.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mcp_runtime_audit::{AuditEvent, Decision, RequestPayload};
use mcp_runtime_policy::replay::{RecordedDecision, Replay};
use mcp_runtime_sentinel::store::{self, Store, StoreUrl};

const SERVERS: [&str; 3] = ["files", "github", "crm"];
const TOOLS: [(&str, &str, &str); 6] = [
    ("read_file", "read", "low"),
    ("search", "read", "low"),
    ("write_file", "write", "medium"),
    ("create_issue", "write", "medium"),
    ("delete_repo", "destructive", "high"),
    ("export", "destructive", "high"),
];
const AGENTS: usize = 50;
const HUMANS: usize = 400;
const TEAMS: usize = 10;
const SESSIONS: usize = 2_000;
const DAY_NS: i64 = 86_400_000_000_000;

fn main() {
    let total: usize = std::env::var("MCP_BENCH_DECISIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let scratch = tempfile::tempdir().expect("tempdir");
    let path = std::env::var_os("MCP_BENCH_STORE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| scratch.path().join("sentinel.db"));
    let url = StoreUrl::Sqlite(path.clone());
    let now = jiff::Timestamp::now();
    let now_ns = i64::try_from(now.as_nanosecond()).expect("now");

    runtime.block_on(async {
        let store = store::open(&url).await.expect("open the store");
        let held = count(store.as_ref(), now_ns).await;
        if held == total {
            println!("reusing {} ({held} decisions)", path.display());
        } else {
            assert_eq!(
                held,
                0,
                "{} holds {held} decisions, not {total}",
                path.display()
            );
            let started = Instant::now();
            fill(store.as_ref(), total, now_ns).await;
            println!(
                "filled {} with {total} decisions in {:.1} s",
                path.display(),
                started.elapsed().as_secs_f64()
            );
        }
    });
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("store size: {:.0} MB", size as f64 / 1e6);

    let proposal = scratch.path().join("proposal");
    write_proposal(&proposal);
    let policies = || {
        let loaded = mcp_runtime_api::manifest::load_dir(&proposal).expect("load");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let grants: Vec<_> = loaded.grants().collect();
        let sessions: Vec<_> = loaded.sessions().collect();
        loaded
            .servers()
            .map(|server| {
                let document = mcp_runtime_policy::render::render(
                    server,
                    grants.iter().copied(),
                    sessions.iter().copied(),
                    "local",
                    now,
                )
                .expect("render");
                mcp_runtime_policy::CompiledPolicy::new(document).expect("compile")
            })
            .collect::<Vec<_>>()
    };

    let mut scans = Vec::new();
    let mut replays = Vec::new();
    let mut clis = Vec::new();
    for round in 1..=3 {
        let (scan, rows) = runtime.block_on(async {
            let store = store::open(&url).await.expect("open");
            let started = Instant::now();
            let rows = count(store.as_ref(), now_ns).await;
            (started.elapsed(), rows)
        });
        assert_eq!(rows, total);
        let (replay, report) = runtime.block_on(async {
            let store = store::open(&url).await.expect("open");
            let started = Instant::now();
            let mut replay = Replay::new(policies());
            let mut stream = store.scan_decisions(i64::MIN, now_ns + 1);
            while let Some(batch) = stream.recv().await {
                for row in batch.expect("batch").iter() {
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
                        ..RecordedDecision::default()
                    });
                }
            }
            let report = replay.finish();
            (started.elapsed(), report)
        });
        assert_eq!(report.read as usize, total);
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .args(["access", "simulate", "--since", "7d", "-o", "json", "-f"])
            .arg(&proposal)
            .arg("--store")
            .arg(format!("sqlite://{}", path.display()))
            .output()
            .expect("run access simulate");
        let cli = started.elapsed();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let cli_report = &json["report"];
        assert_eq!(cli_report["replayed"], report.replayed);
        assert_eq!(cli_report["new_denies"], report.new_denies);
        println!(
            "round {round}: scan {:.2} s, replay {:.2} s ({} distinct inputs, {} allow→deny, {} \
             deny→allow), access simulate {:.2} s",
            scan.as_secs_f64(),
            replay.as_secs_f64(),
            report.evaluations,
            report.new_denies,
            report.new_allows,
            cli.as_secs_f64()
        );
        scans.push(scan);
        replays.push(replay);
        clis.push(cli);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (scan, replay, cli) = (median(scans), median(replays), median(clis));
    println!(
        "\n{total} decisions (median of 3): plain scan {:.2} s ({:.0} rows/s); scan + replay {:.2} \
         s ({:.2}x the scan); `access simulate` end to end {:.2} s",
        scan.as_secs_f64(),
        total as f64 / scan.as_secs_f64(),
        replay.as_secs_f64(),
        replay.as_secs_f64() / scan.as_secs_f64(),
        cli.as_secs_f64()
    );
}

/// Rows the replay scan sees.
async fn count(store: &dyn Store, now_ns: i64) -> usize {
    let mut rows = 0;
    let mut stream = store.scan_decisions(i64::MIN, now_ns + 1);
    while let Some(batch) = stream.recv().await {
        rows += batch.expect("batch").len();
    }
    rows
}

/// `total` decisions over the last six days. A session belongs to one human, agent and team,
/// as in real traffic; each call picks a session, a server and a tool. Decisions are the
/// live policy's (the proposal with `writers` still allowing writes).
async fn fill(store: &dyn Store, total: usize, now_ns: i64) {
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..total {
        let session = (i * 7_919) % SESSIONS;
        let human = session % HUMANS;
        let agent = session % AGENTS;
        let team = session % TEAMS;
        let server = SERVERS[i % SERVERS.len()];
        let (tool, side_effect, trust) = TOOLS[(i / 3 + session) % TOOLS.len()];
        // Live policy: team grants allow read and write up to medium; nothing else.
        let allowed = matches!(side_effect, "read" | "write");
        let (reason, grant) = if allowed {
            ("allowed", Some(format!("team-{team}-{server}")))
        } else {
            ("side_effect_not_allowed", None)
        };
        let ts_ns = now_ns - 6 * DAY_NS + (i as i64) * (6 * DAY_NS / total as i64);
        let mut event = AuditEvent::request(RequestPayload {
            method: "POST".into(),
            path: format!("/{server}/mcp"),
            status: if allowed { 200 } else { 403 },
            latency_ms: 3,
            bytes_in: 180,
            bytes_out: 420,
            server: server.into(),
            namespace: "tools".into(),
            team_id: "platform".into(),
            cluster: "local".into(),
            human_id: format!("human-{human}@example.com"),
            agent_id: format!("agent-{agent}"),
            subject_team_id: format!("team-{team}"),
            session_id: format!("session-{session}"),
            decision: if allowed {
                Decision::Allow
            } else {
                Decision::Deny
            },
            reason: reason.into(),
            policy_version: "rev-1".into(),
            rpc_method: Some("tools/call".into()),
            tool_name: Some(tool.into()),
            matched_grant: grant,
            matched_grant_namespace: allowed.then(|| "tools".into()),
            required_trust: Some(trust.into()),
            required_side_effect: Some(side_effect.into()),
            ..RequestPayload::default()
        });
        event.timestamp = jiff::Timestamp::from_nanosecond(i128::from(ts_ns)).expect("ts");
        batch.push(mcp_runtime_sentinel::ingest::record_from_event(&event).expect("record"));
        if batch.len() == 20_000 {
            store
                .insert(std::mem::take(&mut batch))
                .await
                .expect("insert");
        }
    }
    if !batch.is_empty() {
        store.insert(batch).await.expect("insert");
    }
}

/// Three servers declaring the six tools, and one grant per team allowing read and write up to
/// medium trust, except team-3's, which the proposal tightens to read only.
fn write_proposal(dir: &Path) {
    std::fs::create_dir_all(dir).expect("proposal dir");
    let mut text = String::new();
    for server in SERVERS {
        text.push_str(&format!(
            "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {{name: {server}, \
             namespace: tools}}\nspec:\n  image: example/{server}:1\n  policy: {{mode: allow-list, \
             defaultDecision: deny}}\n  tools:\n"
        ));
        for (tool, side_effect, trust) in TOOLS {
            text.push_str(&format!(
                "    - {{name: {tool}, requiredTrust: {trust}, sideEffect: {side_effect}}}\n"
            ));
        }
        text.push_str("---\n");
        for team in 0..TEAMS {
            let effects = if team == 3 { "[read]" } else { "[read, write]" };
            text.push_str(&format!(
                "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPAccessGrant\nmetadata: {{name: \
                 team-{team}-{server}, namespace: tools}}\nspec:\n  serverRef: {{name: {server}}}\n  \
                 subject: {{teamID: team-{team}}}\n  maxTrust: medium\n  allowedSideEffects: \
                 {effects}\n---\n"
            ));
        }
    }
    std::fs::write(dir.join("proposal.yaml"), text).expect("write the proposal");
}
