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
//!
//! With `MCP_BENCH_KUBECONFIG=<file>` it measures a real API server instead: the floor of what
//! any controller creating these objects could take there. N servers are created first (not
//! timed); then, 16 servers at a time (the operator's concurrent reconciles), each server's
//! children are built by the operator's own code and server-side applied, and its status is
//! applied, with no reads, no watches, no Events and no controller. Compare it with
//! `bench/operator-cluster.sh` (the release operator on the same kind of control plane, from
//! its start until every server is reconciled):
//!
//! `MCP_BENCH_SERVERS=10000 MCP_BENCH_KUBECONFIG=/tmp/k/admin.kubeconfig cargo bench -p mcp-runtime-operator --bench operator_scale`

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
    server_in(i, NS)
}

fn server_in(i: usize, namespace: &str) -> MCPServer {
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
    server.metadata.namespace = Some(namespace.into());
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

/// What the operator renders for `server` with no grants or sessions: its policy, then its
/// children.
fn desired(server: &MCPServer, config: &OperatorConfig) -> build::Desired {
    let policy =
        mcp_runtime_policy::render::render(server, [], [], "local", jiff::Timestamp::now())
            .expect("render");
    build::build(server, Some(&policy), config, None).expect("build")
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
        let desired = desired(&created, &config);
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

/// Server-side applies `object` (a typed object serialized with its `apiVersion` and `kind`).
async fn apply_value(client: &kube::Client, namespace: &str, object: serde_json::Value) {
    use kube::api::{ApiResource, DynamicObject};
    use kube::core::GroupVersionKind;
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().expect("kind");
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let name = object["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    api.patch(
        &name,
        &PatchParams::apply("bench-floor").force(),
        &Patch::Apply(&object),
    )
    .await
    .unwrap_or_else(|e| panic!("applying {kind} {name}: {e}"));
}

/// The real-API-server floor described at the top.
async fn real_cluster_floor(kubeconfig: &str, n: usize, concurrency: usize) {
    use futures::StreamExt;
    // kube uses rustls; ring, as the operator picks it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kube_config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(kubeconfig).expect("read the kubeconfig"),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("kubeconfig");
    let client = kube::Client::try_from(kube_config).expect("client");
    let namespace = format!("floor-{}", jiff::Timestamp::now().as_second());
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns_object: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": namespace}}))
            .expect("namespace");
    namespaces
        .create(&PostParams::default(), &ns_object)
        .await
        .expect("create the namespace");
    let servers: Api<MCPServer> = Api::namespaced(client.clone(), &namespace);
    let started = Instant::now();
    let created: Vec<MCPServer> = futures::stream::iter(0..n)
        .map(|i| {
            let servers = servers.clone();
            let namespace = namespace.clone();
            async move {
                servers
                    .create(&PostParams::default(), &server_in(i, &namespace))
                    .await
                    .expect("create a server")
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    eprintln!(
        "  created {n} servers in {:.1} s (not timed)",
        started.elapsed().as_secs_f64()
    );
    let operator_config = config();
    let started = Instant::now();
    let writes: usize = futures::stream::iter(created)
        .map(|server| {
            let client = client.clone();
            let namespace = namespace.clone();
            let operator_config = &operator_config;
            async move {
                let desired = desired(&server, operator_config);
                let mut children = vec![
                    serde_json::to_value(&desired.deployment).expect("json"),
                    serde_json::to_value(&desired.service).expect("json"),
                ];
                let optional = [
                    desired.policy_config_map.map(serde_json::to_value),
                    desired.gateway_role.map(serde_json::to_value),
                    desired.gateway_role_binding.map(serde_json::to_value),
                    desired.canary.map(serde_json::to_value),
                    desired.ingress.map(serde_json::to_value),
                    desired.network_policy.map(serde_json::to_value),
                ];
                children.extend(optional.into_iter().flatten().map(|v| v.expect("json")));
                let count = children.len() + 1;
                futures::future::join_all(
                    children
                        .into_iter()
                        .map(|child| apply_value(&client, &namespace, child)),
                )
                .await;
                let name = server.metadata.name.clone().expect("name");
                let status = serde_json::json!({
                    "apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
                    "status": {"observedGeneration": server.metadata.generation, "url": desired.url},
                });
                Api::<MCPServer>::namespaced(client.clone(), &namespace)
                    .patch_status(&name, &PatchParams::apply("bench-floor").force(), &Patch::Apply(&status))
                    .await
                    .expect("status");
                count
            }
        })
        .buffer_unordered(concurrency)
        .fold(0, |total, count| async move { total + count })
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    println!("servers                         {n} (namespace {namespace}, left in place)");
    println!(
        "writes                          {writes} ({:.1} per server: children and status)",
        writes as f64 / n as f64
    );
    println!("concurrency                     {concurrency} servers at a time");
    println!(
        "floor (build + apply, no reads) {elapsed:.1} s ({:.0} servers/s, {:.0} writes/s)",
        n as f64 / elapsed,
        writes as f64 / elapsed
    );
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
    if let Ok(kubeconfig) = std::env::var("MCP_BENCH_KUBECONFIG") {
        runtime.block_on(real_cluster_floor(&kubeconfig, n, 16));
        return;
    }
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
