//! Operator scale benchmark (not a test, not run by CI).
//!
//! Creates N MCPServers (default 1,000; `MCP_BENCH_SERVERS` to change) against the in-process fake
//! API with the real controllers running, and reports the time until every server is reconciled
//! (children applied and a status for its generation written) and the process's peak RSS.
//!
//! Baseline, measured in the same run on a fresh fake: the same child objects and statuses written
//! directly (build + server-side apply, one server after the other, no controller), i.e. the cost
//! of the API writes alone.
//!
//! `cargo bench -p mcp-runtime-operator --bench operator_scale`

use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use mcp_runtime_api::MCPServer;
use mcp_runtime_operator::build;
use mcp_runtime_operator::config::OperatorConfig;
use mcp_runtime_operator::controller::{self, Context, Timing};
use mcp_runtime_operator::handshake::HttpHandshake;
use mcp_runtime_testkit::FakeApi;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NS: &str = "bench";

fn config() -> OperatorConfig {
    OperatorConfig::from_lookup(|name| {
        match name {
            "MCP_GATEWAY_PROXY_IMAGE" => Some("ghcr.io/mcp-runtime/mcp-runtime:0.1.0"),
            "MCP_SENTINEL_INGEST_URL" => Some("http://sentinel.mcp-sentinel.svc:8080/events"),
            _ => None,
        }
        .map(str::to_owned)
    })
}

fn server(i: usize) -> MCPServer {
    let mut server: MCPServer = serde_json::from_value(serde_json::json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": format!("srv-{i:04}"), "namespace": NS},
        "spec": {
            "image": "ghcr.io/example/tools",
            "imageTag": "1.0",
            "ingressHost": "mcp.example.com",
            "gateway": {"enabled": true},
            "tools": [{"name": "search", "sideEffect": "read"}, {"name": "write", "sideEffect": "write"}],
        },
    }))
    .expect("server");
    server.metadata.namespace = Some(NS.into());
    server
}

/// Peak and current resident set size of this process, in MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

async fn all_reconciled(client: &kube::Client, n: usize) -> bool {
    let servers: Api<MCPServer> = Api::namespaced(client.clone(), NS);
    let Ok(list) = servers.list(&ListParams::default()).await else {
        return false;
    };
    list.items.len() == n
        && list.items.iter().all(|s| {
            s.status.as_ref().is_some_and(|st| {
                st.observed_generation == s.metadata.generation && st.url.is_some()
            })
        })
}

async fn with_operator(n: usize) -> (Duration, u64) {
    let fake = FakeApi::with_mcp_runtime().await;
    let client = fake.test_client();
    let context = Arc::new(
        Context::new(fake.client(), config(), Arc::new(HttpHandshake::default()))
            .with_timing(Timing::default()),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(controller::run(context.clone(), async move {
        let _ = stopped.await;
    }));
    let servers: Api<MCPServer> = Api::namespaced(client.clone(), NS);
    let started = Instant::now();
    for i in 0..n {
        servers
            .create(&PostParams::default(), &server(i))
            .await
            .expect("create");
    }
    let created = started.elapsed();
    while !all_reconciled(&client, n).await {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(900) {
            panic!("not all servers reconciled after 15 minutes");
        }
    }
    let elapsed = started.elapsed();
    let reconciles = context
        .metrics
        .reconciles
        .get_or_create(&controller::ControllerLabels {
            controller: "mcpserver".into(),
        })
        .get();
    eprintln!("  creating {n} servers took {created:?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
    (elapsed, reconciles)
}

async fn baseline(n: usize) -> Duration {
    let fake = FakeApi::with_mcp_runtime().await;
    let client = fake.test_client();
    let servers: Api<MCPServer> = Api::namespaced(client.clone(), NS);
    let config = config();
    let apply = PatchParams::apply("bench").force();
    let started = Instant::now();
    for i in 0..n {
        let created = servers
            .create(&PostParams::default(), &server(i))
            .await
            .expect("create");
        let policy =
            mcp_runtime_policy::render::render(&created, [], [], "local", jiff::Timestamp::now())
                .expect("render");
        let desired = build::build(&created, Some(&policy), &config, None).expect("build");
        let name = created.metadata.name.clone().expect("name");
        let cm = desired.policy_config_map.expect("cm");
        let mut values = vec![
            ("configmaps", serde_json::to_value(&cm).expect("json")),
            (
                "deployments",
                serde_json::to_value(&desired.deployment).expect("json"),
            ),
            (
                "services",
                serde_json::to_value(&desired.service).expect("json"),
            ),
        ];
        if let Some(ingress) = &desired.ingress {
            values.push(("ingresses", serde_json::to_value(ingress).expect("json")));
        }
        for (kind, value) in values {
            let object_name = value["metadata"]["name"].as_str().expect("name").to_owned();
            match kind {
                "configmaps" => {
                    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
                        Api::namespaced(client.clone(), NS);
                    let mut v = value;
                    v["apiVersion"] = "v1".into();
                    v["kind"] = "ConfigMap".into();
                    api.patch(&object_name, &apply, &Patch::Apply(&v))
                        .await
                        .expect("cm");
                }
                "deployments" => {
                    let api: Api<k8s_openapi::api::apps::v1::Deployment> =
                        Api::namespaced(client.clone(), NS);
                    let mut v = value;
                    v["apiVersion"] = "apps/v1".into();
                    v["kind"] = "Deployment".into();
                    api.patch(&object_name, &apply, &Patch::Apply(&v))
                        .await
                        .expect("deploy");
                }
                "services" => {
                    let api: Api<k8s_openapi::api::core::v1::Service> =
                        Api::namespaced(client.clone(), NS);
                    let mut v = value;
                    v["apiVersion"] = "v1".into();
                    v["kind"] = "Service".into();
                    api.patch(&object_name, &apply, &Patch::Apply(&v))
                        .await
                        .expect("svc");
                }
                _ => {
                    let api: Api<k8s_openapi::api::networking::v1::Ingress> =
                        Api::namespaced(client.clone(), NS);
                    let mut v = value;
                    v["apiVersion"] = "networking.k8s.io/v1".into();
                    v["kind"] = "Ingress".into();
                    api.patch(&object_name, &apply, &Patch::Apply(&v))
                        .await
                        .expect("ing");
                }
            }
        }
        let status = serde_json::json!({
            "apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
            "status": {"observedGeneration": created.metadata.generation, "url": desired.url},
        });
        servers
            .patch_status(&name, &apply, &Patch::Apply(&status))
            .await
            .expect("status");
    }
    started.elapsed()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is parsed.
    let n: usize = std::env::var("MCP_BENCH_SERVERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (hwm_start, _) = rss();
        eprintln!("baseline: {n} servers, children and statuses written directly");
        let base = baseline(n).await;
        let (hwm_after_baseline, rss_after_baseline) = rss();
        eprintln!("operator: {n} servers created, controllers running");
        let (op, reconciles) = with_operator(n).await;
        let (hwm_end, _) = rss();
        println!("servers                         {n}");
        println!("baseline (direct writes)        {:.2} s", base.as_secs_f64());
        println!("operator (create → reconciled)  {:.2} s", op.as_secs_f64());
        println!(
            "ratio operator / baseline       {:.2}",
            op.as_secs_f64() / base.as_secs_f64()
        );
        println!("mcpserver reconciles            {reconciles}");
        println!("peak RSS at start               {hwm_start:.1} MiB");
        println!("peak RSS after baseline         {hwm_after_baseline:.1} MiB (RSS {rss_after_baseline:.1} MiB)");
        println!("peak RSS after operator run     {hwm_end:.1} MiB");
    });
}
