//! Policy evaluation cost: one `tools/call` decision against documents with 10, 1,000 and
//! 10,000 grants, the `tools/list` filter over 50 tools, explain, and reload (parse +
//! validate + compile).
//!
//! Baseline: a linear scan of every grant's subject, which is the part of MR's evaluator
//! (`matchingGrants`) that the subject index replaces, measured in the same run.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-policy cargo bench -p mcp-runtime-policy -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use mcp_runtime_policy::{
    CompiledPolicy, Grant, Identity, PolicyDocument, Request, SessionBinding, SideEffect, Tool,
    ToolRule, Trust,
};
use serde_json::{Value, json};

/// The allocator the `mcp-runtime` binary uses, so reloads and decisions are measured as the
/// gateway runs them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 4] = [10, 1_000, 10_000, 100_000];
/// The size the reload is measured at: the largest document the targets name.
const RELOAD_SIZE: usize = 100_000;
/// Grants that match the benchmark caller; the rest belong to other subjects.
const CALLER_GRANTS: usize = 3;
const TOOLS: usize = 50;

fn now() -> Timestamp {
    Timestamp::from_second(1_782_907_200).unwrap_or(Timestamp::UNIX_EPOCH) // 2026-07-01T12:00:00Z
}

fn tool_name(index: usize) -> String {
    if index == 0 {
        "read_file".to_owned()
    } else {
        format!("tool_{index}")
    }
}

/// A realistic document: 50 tools; `grants` grants, of which 3 match the caller (agent,
/// human and team grants, two with tool rules) and the others belong to other agents, humans
/// and teams (a third with tool rules, a tenth expiring, a few disabled); one session per ten
/// grants, the caller's among them; sessions required.
fn document(grants: usize) -> PolicyDocument {
    let side_effects = [SideEffect::Read, SideEffect::Write, SideEffect::Destructive];
    let trusts = [Trust::Low, Trust::Medium, Trust::High];
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "tools".into();
    document.session.required = true;
    document.policy.policy_version = "v1".into();
    document.tools = (0..TOOLS)
        .map(|index| Tool::new(tool_name(index), side_effects[index % 3], trusts[index % 3]))
        .collect();

    let other = grants.saturating_sub(CALLER_GRANTS);
    for index in 0..other {
        let mut grant = Grant::new(format!("team-{}", index % 20), format!("grant-{index}"));
        match index % 4 {
            0 | 1 => grant.agent_id = format!("agent-{index}"),
            2 => grant.human_id = format!("user-{}", index % 700),
            _ => grant.team_id = format!("team-{}", index % 50),
        }
        grant.max_trust = trusts[index % 3].into();
        grant.allowed_side_effects = side_effects[..1 + index % 3]
            .iter()
            .map(|&side_effect| side_effect.into())
            .collect();
        if index % 3 == 0 {
            grant.tool_rules = (0..3)
                .map(|rule| ToolRule::allow(tool_name((index + rule) % TOOLS), Trust::Low))
                .collect();
        }
        if index % 10 == 0 {
            grant.expires_at = "2027-01-01T00:00:00Z".into();
        }
        grant.disabled = index % 97 == 0;
        document.grants.push(grant);
    }

    let mut by_agent = Grant::new("tools", "claude-ops");
    by_agent.agent_id = "claude".into();
    by_agent.max_trust = Trust::High.into();
    by_agent.allowed_side_effects = vec![SideEffect::Read.into(), SideEffect::Write.into()];
    by_agent.tool_rules = (0..TOOLS)
        .step_by(2)
        .map(|index| ToolRule::allow(tool_name(index), Trust::Low))
        .chain([ToolRule::deny("tool_7")])
        .collect();
    let mut by_human = Grant::new("tools", "alice-read");
    by_human.human_id = "alice".into();
    by_human.max_trust = Trust::Medium.into();
    by_human.allowed_side_effects = vec![SideEffect::Read.into()];
    let mut by_team = Grant::new("tools", "platform");
    by_team.team_id = "platform".into();
    by_team.max_trust = Trust::Low.into();
    by_team.allowed_side_effects = vec![SideEffect::Read.into()];
    by_team.tool_rules = vec![ToolRule::allow("read_file", Trust::Low)];
    document.grants.extend([by_agent, by_human, by_team]);

    for index in 0..grants / 10 {
        let mut session = SessionBinding::new("tools", format!("sess-{index}"));
        session.agent_id = format!("agent-{index}");
        session.consented_trust = Trust::Medium.into();
        document.sessions.push(session);
    }
    let mut caller_session = SessionBinding::new("tools", "sess-claude");
    caller_session.agent_id = "claude".into();
    caller_session.human_id = "alice".into();
    caller_session.consented_trust = Trust::Medium.into();
    caller_session.expires_at = "2026-07-02T00:00:00Z".into();
    document.sessions.push(caller_session);

    document
        .finalize(now())
        .unwrap_or_else(|error| panic!("finalize: {error}"));
    document
}

fn compile(grants: usize) -> CompiledPolicy {
    CompiledPolicy::new(document(grants)).unwrap_or_else(|error| panic!("invalid: {error}"))
}

fn caller() -> Identity<'static> {
    Identity::default()
        .with_human("alice")
        .with_agent("claude")
        .with_team("platform")
}

fn bench_tools_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("tools_call");
    for size in SIZES {
        let policy = compile(size);
        let request = Request::tool_call(caller(), "read_file", now()).with_session("sess-claude");
        assert!(
            policy.evaluate(&request).allowed,
            "benchmark request must be allowed"
        );
        group.bench_with_input(
            BenchmarkId::new("evaluate", size),
            &request,
            |b, request| b.iter(|| policy.evaluate(black_box(request))),
        );
        // Baseline: MR scans every grant's subject on every decision.
        let document = policy.document();
        group.bench_with_input(
            BenchmarkId::new("baseline_linear_subject_scan", size),
            &request,
            |b, request| {
                b.iter(|| {
                    let identity = black_box(request).identity;
                    document
                        .grants
                        .iter()
                        .filter(|grant| {
                            let field = |want: &str, have: Option<&str>| {
                                want.is_empty() || have == Some(want)
                            };
                            field(&grant.human_id, identity.human_id)
                                && field(&grant.agent_id, identity.agent_id)
                                && field(&grant.team_id, identity.team_id)
                        })
                        .count()
                })
            },
        );
    }
    let policy = compile(10_000);
    let request = Request::tool_call(caller(), "read_file", now()).with_session("sess-claude");
    group.bench_function(BenchmarkId::new("explain", 10_000), |b| {
        b.iter(|| policy.explain(black_box(&request)))
    });
    group.finish();
}

fn tools_list_result() -> Value {
    json!({
        "tools": (0..TOOLS).map(|index| json!({
            "name": tool_name(index),
            "description": format!("Tool number {index}"),
            "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}
        })).collect::<Vec<_>>()
    })
}

fn bench_tools_list(c: &mut Criterion) {
    let mut group = c.benchmark_group("tools_list");
    let policy = compile(10_000);
    let request = Request::method(caller(), "tools/list", now()).with_session("sess-claude");
    let result = tools_list_result();
    let mut probe = result.clone();
    let removed = policy.filter_tools_list_result(&mut probe, &request);
    assert!(
        removed > 0 && removed < TOOLS,
        "filter should keep some tools"
    );
    group.bench_function(BenchmarkId::new("filter_50_tools", 10_000), |b| {
        b.iter_batched(
            || result.clone(),
            |mut value| policy.filter_tools_list_result(&mut value, black_box(&request)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn bench_reload(c: &mut Criterion) {
    let mut group = c.benchmark_group("reload");
    group.sample_size(10);
    for size in [10_000, RELOAD_SIZE] {
        let bytes = document(size)
            .to_json_pretty()
            .unwrap_or_else(|error| panic!("serialize: {error}"));
        eprintln!(
            "reload: policy.json of {size} grants, {} bytes",
            bytes.len()
        );
        group.bench_function(BenchmarkId::new("parse_validate_compile", size), |b| {
            b.iter(|| CompiledPolicy::from_json(black_box(bytes.as_bytes())))
        });
        // Baseline: parsing the same bytes into JSON values, without our types, validation or
        // indexes: the floor any reader of this document pays.
        group.bench_function(BenchmarkId::new("baseline_json_parse", size), |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(bytes.as_bytes())))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_tools_call, bench_tools_list, bench_reload);
criterion_main!(benches);
