//! Real-cluster test (T6) of the operator process killed mid-reconcile: `mcp-runtime operator`
//! is SIGKILLed the moment the first few children of a batch of MCPServers appear, while most
//! servers are still unreconciled, then started again. It must converge: every server reconciled
//! with its status written, each of its children existing exactly once and controlled by that
//! server (by uid), and no child left without a live owner.
//!
//! Enabled like the other `cluster_*.rs` tests (`MCP_RUNTIME_TEST_KUBECONFIG` or `CI=true` turn on
//! `cfg(mcp_cluster)`; otherwise `SKIPPED (no cluster)`). Runs on the shared cluster in a
//! namespace of its own, the operator watching only that namespace as its shipped
//! ServiceAccount (impersonation in its kubeconfig).

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::watcher;
use mcp_runtime_api::MCPServer;
use mcp_runtime_peers::{KillOnDrop, free_port};
use mcp_runtime_testkit::cluster::{self as t6, TestNamespace, impersonating_kubeconfig};
use mcp_runtime_testkit::eventually;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Servers created together, so that the operator is still busy with most of them when killed.
const SERVERS: usize = 12;
const CONVERGE: Duration = Duration::from_secs(120);
/// Deployments created (of 2 per server) when the operator is killed.
const KILL_AFTER_DEPLOYMENTS: usize = 5;

/// An `mcp-runtime operator` process; its stderr goes to a log file, printed when a check fails.
struct Operator {
    child: KillOnDrop,
    log: PathBuf,
}

impl Operator {
    fn spawn(kubeconfig: &Path, log: PathBuf, namespace: &str) -> Operator {
        let address = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .arg("operator")
            .args(["--health-addr", &address, "--metrics-addr", &address])
            .args(["--namespace", namespace, "--leader-elect=false"])
            .env("KUBECONFIG", kubeconfig)
            .env("MCP_RUNTIME_LOG", "info")
            .env(
                "MCP_GATEWAY_PROXY_IMAGE",
                "ghcr.io/example/mcp-runtime:test",
            )
            .env_remove("WATCH_NAMESPACE")
            .env_remove("POD_NAMESPACE")
            .env_remove("POD_NAME")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("operator log"))
            .spawn()
            .expect("start mcp-runtime operator");
        Operator {
            child: KillOnDrop(child),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn server_name(i: usize) -> String {
    format!("crash-{i:02}")
}

/// A server with many children: gateway (policy ConfigMap, Role and RoleBinding, default
/// NetworkPolicy), Deployment and canary Deployment, Service.
fn server(ns: &str, name: &str) -> MCPServer {
    serde_json::from_value(json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "image": "ghcr.io/example/web-tools",
            "imageTag": "1.0",
            "replicas": 2,
            "gateway": {"enabled": true},
            "analytics": {"disabled": true},
            "rollout": {"strategy": "Canary", "canaryReplicas": 1},
        },
    }))
    .expect("server")
}

/// Servers whose status the operator has written for their current generation.
async fn reconciled_servers(servers: &Api<MCPServer>) -> usize {
    servers
        .list(&ListParams::default())
        .await
        .map(|list| {
            list.items
                .iter()
                .filter(|s| {
                    s.status
                        .as_ref()
                        .is_some_and(|st| st.observed_generation == s.metadata.generation)
                })
                .count()
        })
        .unwrap_or(0)
}

/// One object the operator manages: its kind, name and ownerReferences.
#[derive(Debug, Clone)]
struct Child {
    kind: &'static str,
    name: String,
    owners: Vec<OwnerReference>,
}

/// Every object of the child kinds in the namespace that carries the operator's
/// `app.kubernetes.io/managed-by` label.
async fn managed_children(client: &kube::Client, ns: &str) -> Vec<Child> {
    async fn of<K>(client: &kube::Client, ns: &str, kind: &'static str) -> Vec<Child>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
        K::DynamicType: Default,
    {
        let selector = format!(
            "{}={}",
            mcp_runtime_api::MANAGED_BY_LABEL,
            mcp_runtime_api::MANAGED_BY_VALUE
        );
        Api::<K>::namespaced(client.clone(), ns)
            .list_metadata(&ListParams::default().labels(&selector))
            .await
            .unwrap_or_else(|e| panic!("listing {kind}s: {e}"))
            .items
            .into_iter()
            .map(|o| Child {
                kind,
                name: o.metadata.name.unwrap_or_default(),
                owners: o.metadata.owner_references.unwrap_or_default(),
            })
            .collect()
    }
    let mut children = Vec::new();
    children.extend(of::<Deployment>(client, ns, "Deployment").await);
    children.extend(of::<Service>(client, ns, "Service").await);
    children.extend(of::<ConfigMap>(client, ns, "ConfigMap").await);
    children.extend(of::<Ingress>(client, ns, "Ingress").await);
    children.extend(of::<NetworkPolicy>(client, ns, "NetworkPolicy").await);
    children.extend(of::<Role>(client, ns, "Role").await);
    children.extend(of::<RoleBinding>(client, ns, "RoleBinding").await);
    children
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_operator_sigkilled_mid_reconcile_converges_after_restart_with_each_child_once() {
    let kubeconfig = t6::kubeconfig_path();
    let admin_config = t6::config_from(&kubeconfig).await;
    let admin = t6::client(admin_config.clone());
    t6::install_crds(&admin).await;
    let namespace = TestNamespace::create(&admin, &kubeconfig, "crash").await;
    let ns = namespace.name.clone();
    let user = t6::install_operator_rbac(&admin_config, &namespace).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let operator_kubeconfig = dir.path().join("operator.kubeconfig");
    impersonating_kubeconfig(Path::new(&kubeconfig), &user, &operator_kubeconfig);

    let servers: Api<MCPServer> = Api::namespaced(admin.clone(), &ns);
    for i in 0..SERVERS {
        servers
            .create(&PostParams::default(), &server(&ns, &server_name(i)))
            .await
            .expect("create server");
    }

    // Watch the namespace's Deployments from before the operator starts, so that the first one
    // it creates is seen within milliseconds.
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &ns);
    let mut events = std::pin::pin!(watcher(deployments, watcher::Config::default()));
    loop {
        match events.next().await {
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("watching Deployments: {e}"),
            None => panic!("the Deployment watch ended"),
        }
    }
    let mut first = Operator::spawn(&operator_kubeconfig, dir.path().join("first.log"), &ns);
    // Killed once a few Deployments exist: some servers then have part of their children.
    let seen = tokio::time::timeout(CONVERGE, async {
        let mut seen = BTreeSet::new();
        while seen.len() < KILL_AFTER_DEPLOYMENTS {
            match events.next().await {
                Some(Ok(watcher::Event::Apply(d))) => {
                    seen.insert(d.metadata.name.unwrap_or_default());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("watching Deployments: {e}"),
                None => panic!("the Deployment watch ended"),
            }
        }
        seen
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the Deployments did not appear; operator log:\n{}",
            first.log()
        )
    });
    first.child.0.kill().expect("SIGKILL the operator");
    first.child.0.wait().expect("reap the operator");

    // Mid-reconcile: children exist, but most servers are not reconciled yet.
    let done_at_kill = reconciled_servers(&servers).await;
    let children_at_kill = managed_children(&admin, &ns).await.len();
    eprintln!(
        "killed after the Deployments {seen:?} appeared: {done_at_kill} of {SERVERS} servers reconciled, {children_at_kill} children"
    );
    assert!(
        done_at_kill < SERVERS,
        "the operator had finished before it was killed: nothing was interrupted"
    );
    assert!(children_at_kill > 0);

    let second = Operator::spawn(&operator_kubeconfig, dir.path().join("second.log"), &ns);
    let converged = tokio::time::timeout(
        CONVERGE,
        eventually("every server reconciled", Duration::MAX / 4, async || {
            reconciled_servers(&servers).await == SERVERS
        }),
    )
    .await;
    assert!(
        converged.is_ok(),
        "not converged within {CONVERGE:?}; operator log:\n{}",
        second.log()
    );

    let live: BTreeMap<String, String> = servers
        .list(&ListParams::default())
        .await
        .expect("list servers")
        .items
        .into_iter()
        .map(|s| {
            (
                s.metadata.name.unwrap_or_default(),
                s.metadata.uid.unwrap_or_default(),
            )
        })
        .collect();
    for name in live.keys() {
        let s = servers.get(name).await.expect("server");
        let status = s.status.expect("status written");
        assert_eq!(
            status.deployment_name.as_deref(),
            Some(name.as_str()),
            "{name}"
        );
        assert_eq!(
            status.service_name.as_deref(),
            Some(name.as_str()),
            "{name}"
        );
    }

    // Each child has exactly one controller: a live server, by uid. Group them by server.
    let mut by_server: BTreeMap<String, BTreeSet<(&'static str, String)>> = BTreeMap::new();
    let children = managed_children(&admin, &ns).await;
    for child in &children {
        let controllers: Vec<&OwnerReference> = child
            .owners
            .iter()
            .filter(|o| o.controller == Some(true))
            .collect();
        assert_eq!(controllers.len(), 1, "{child:?} has one controller");
        let owner = controllers[0];
        assert_eq!(owner.kind, "MCPServer", "{child:?}");
        assert_eq!(owner.api_version, mcp_runtime_api::API_VERSION, "{child:?}");
        assert_eq!(
            live.get(&owner.name),
            Some(&owner.uid),
            "{child:?} is controlled by a live server, by its uid (no orphan)"
        );
        let new = by_server
            .entry(owner.name.clone())
            .or_default()
            .insert((child.kind, child.name.replace(&owner.name, "<server>")));
        assert!(new, "{child:?} listed twice");
    }
    // Every server has the same set of children (no server with a missing or an extra one),
    // and that set holds every kind the spec asks for.
    let expected = by_server
        .values()
        .next()
        .cloned()
        .expect("children of the servers");
    eprintln!("children of each server: {expected:?}");
    for kind in [
        "Deployment",
        "Service",
        "ConfigMap",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
    ] {
        assert!(
            expected.iter().any(|(k, _)| *k == kind),
            "each server has a {kind}: {expected:?}"
        );
    }
    assert_eq!(
        expected.iter().filter(|(k, _)| *k == "Deployment").count(),
        2,
        "a Deployment and its canary: {expected:?}"
    );
    assert_eq!(by_server.len(), SERVERS, "every server has children");
    for (name, set) in &by_server {
        assert_eq!(set, &expected, "children of {name}");
    }
    assert_eq!(children.len(), SERVERS * expected.len());
    drop(second);
}
