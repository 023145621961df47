//! Real-cluster tests (T6): the same scenarios as `controllers.rs`, against a real API server.
//!
//! They run when `MCP_RUNTIME_TEST_KUBECONFIG` names a kubeconfig at build time (the build script
//! turns it into `cfg(mcp_cluster)`); otherwise every test here is ignored with the reason
//! `SKIPPED (no cluster)`, so a run without a cluster reports them as skipped, never as passed.
//! The build also prints a warning saying so.
//!
//! Requirements: Kubernetes >= 1.26; nodes are not needed (pods stay Pending, the tests assert on
//! objects and status). Garbage collection on delete needs kube-controller-manager. Each test
//! installs the CRDs (server-side apply), works in a namespace of its own and deletes it at the
//! end. The operator runs in-process, scoped to that namespace, behind a recording layer so the
//! RBAC contract is checked against what really went over the wire.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use mcp_runtime_operator::controller::{self, Context, Timing};
use mcp_runtime_operator::handshake::HttpHandshake;
use mcp_runtime_testkit::{Fault, RecordingApi};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::{assert_rbac_covers, config};

const WAIT: Duration = Duration::from_secs(60);

struct Cluster {
    admin: kube::Client,
    recording: RecordingApi,
    ns: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn connect() -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let path = std::env::var("MCP_RUNTIME_TEST_KUBECONFIG")
        .expect("MCP_RUNTIME_TEST_KUBECONFIG must be set when the cluster tests are built");
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("kube config");
    kube::Client::try_from(config).expect("client")
}

async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    mcp_runtime_testkit::eventually(what, WAIT, check).await
}

impl Cluster {
    async fn start(test: &str) -> Cluster {
        let admin = connect().await;
        let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
        for crd in mcp_runtime_api::crd::all() {
            let name = crd.metadata.name.clone().expect("crd name");
            crds.patch(
                &name,
                &PatchParams::apply("mcp-runtime-tests").force(),
                &Patch::Apply(&crd),
            )
            .await
            .expect("install CRD");
            eventually("CRD established", || async {
                let crd = crds.get(&name).await.ok()?;
                crd.status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            })
            .await;
        }
        let suffix = jiff::Timestamp::now().as_millisecond() % 1_000_000;
        let ns = format!("mcp-t6-{test}-{suffix}");
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": ns}})).expect("namespace");
        Api::<Namespace>::all(admin.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .expect("namespace");
        let recording = RecordingApi::new(admin.clone());
        let context = Arc::new(
            Context::new(
                recording.client(),
                config(),
                Arc::new(HttpHandshake::default()),
            )
            .with_namespace(Some(ns.clone()))
            .with_timing(Timing {
                error_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(5),
                not_ready_requeue: Duration::from_secs(2),
                resync: Duration::from_secs(60),
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(controller::run(context, async move {
            let _ = stopped.await;
        }));
        Cluster {
            admin,
            recording,
            ns,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.admin.clone(), &self.ns)
    }

    async fn get<K>(&self, name: &str) -> Option<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        self.api::<K>().get_opt(name).await.expect("get")
    }

    async fn create_server(&self, name: &str, spec: serde_json::Value) {
        let mut server = support::server(name, spec);
        server.metadata.namespace = Some(self.ns.clone());
        self.api::<MCPServer>()
            .create(&PostParams::default(), &server)
            .await
            .expect("create server");
    }

    async fn finish(mut self) {
        assert_rbac_covers(&self.recording.calls());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(WAIT, task).await;
        }
        let _ = Api::<Namespace>::all(self.admin.clone())
            .delete(&self.ns, &DeleteParams::default())
            .await;
    }
}

fn gateway_spec() -> serde_json::Value {
    json!({
        "image": "ghcr.io/example/web-tools",
        "imageTag": "1.0",
        "replicas": 3,
        "ingressHost": "mcp.example.com",
        "gateway": {"enabled": true},
        "rollout": {"strategy": "Canary", "canaryReplicas": 1},
        "networkPolicy": {},
    })
}

#[tokio::test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_create_builds_children_and_status_then_writes_nothing() {
    let k = Cluster::start("create").await;
    k.create_server("web", gateway_spec()).await;
    let server = eventually("status", || async {
        let s: MCPServer = k.get("web").await?;
        (s.status.as_ref()?.conditions.len() == 8).then_some(s)
    })
    .await;
    for name in ["web", "web-canary"] {
        assert!(k.get::<Deployment>(name).await.is_some(), "{name}");
    }
    let service: Service = k.get("web").await.expect("service");
    assert!(service.spec.and_then(|s| s.cluster_ip).is_some());
    assert!(k.get::<Ingress>("web").await.is_some());
    assert!(k.get::<NetworkPolicy>("web").await.is_some());
    assert!(k.get::<ConfigMap>("web-gateway-policy").await.is_some());
    let status = server.status.expect("status");
    assert_eq!(status.observed_generation, server.metadata.generation);
    // No nodes: pods stay Pending; the reason says why, not the phase.
    eventually("service ready and a pod-level reason", || async {
        let s: MCPServer = k.get("web").await?;
        let st = s.status?;
        let reason = st
            .conditions
            .iter()
            .find(|c| c.type_ == "DeploymentReady")?
            .reason
            .clone();
        (st.service_ready && ["Unschedulable", "ReplicasNotReady"].contains(&reason.as_str()))
            .then_some(())
    })
    .await;
    // Steady state: a few requeues later, nothing is written. This is an observation window
    // (proving that nothing happens), which no readiness poll can replace.
    tokio::time::sleep(Duration::from_secs(3)).await;
    k.recording.clear_calls();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let writes: Vec<_> = k
        .recording
        .calls()
        .into_iter()
        .filter(|c| c.is_write() && c.resource != "events")
        .collect();
    assert!(writes.is_empty(), "steady state wrote: {writes:#?}");
    k.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_drift_is_repaired_and_switched_off_features_are_pruned() {
    let k = Cluster::start("drift").await;
    let mut spec = gateway_spec();
    spec["args"] = json!(["--verbose"]);
    spec["extraAnnotations"] = json!({"team.example.com/owner": "search"});
    k.create_server("web", spec).await;
    eventually("children", || async {
        k.get::<Deployment>("web-canary").await?;
        k.get::<ConfigMap>("web-gateway-policy").await
    })
    .await;
    k.api::<Deployment>()
        .patch(
            "web",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 7}}),
            ),
        )
        .await
        .expect("drift");
    eventually("replicas repaired", || async {
        let d: Deployment = k.get("web").await?;
        (d.spec?.replicas == Some(2)).then_some(())
    })
    .await;
    k.api::<MCPServer>()
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {
                "rollout": {"strategy": "RollingUpdate", "canaryReplicas": null},
                "gateway": {"enabled": false},
                "networkPolicy": null,
                "args": null,
                "extraAnnotations": null,
            }})),
        )
        .await
        .expect("switch off");
    eventually("pruned", || async {
        (k.get::<Deployment>("web-canary").await.is_none()
            && k.get::<ConfigMap>("web-gateway-policy").await.is_none()
            && k.get::<NetworkPolicy>("web").await.is_none())
        .then_some(())
    })
    .await;
    // Real SSA: the gateway sidecar the operator no longer applies is removed from the pod.
    // Fields removed from the spec (arguments, annotations) are removed from the Deployment.
    eventually("sidecar, args and annotation removed", || async {
        let d: Deployment = k.get("web").await?;
        let annotated = d
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("team.example.com/owner"));
        let containers = d.spec?.template.spec?.containers;
        let no_args = containers.first()?.args.as_ref().is_none_or(Vec::is_empty);
        (containers.len() == 1 && no_args && !annotated).then_some(())
    })
    .await;
    k.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_grants_re_render_their_server_and_sessions_expire() {
    let k = Cluster::start("access").await;
    k.create_server("alpha", gateway_spec()).await;
    k.create_server("beta", gateway_spec()).await;
    let revision = |cm: &ConfigMap| -> Option<String> {
        let v: serde_json::Value =
            serde_json::from_str(cm.data.as_ref()?.get("policy.json")?).ok()?;
        v["revision"].as_str().map(str::to_owned)
    };
    let (alpha_before, beta_before) = eventually("policies", || async {
        let a: ConfigMap = k.get("alpha-gateway-policy").await?;
        let b: ConfigMap = k.get("beta-gateway-policy").await?;
        Some((revision(&a)?, b.metadata.resource_version?))
    })
    .await;
    let mut grant = support::grant("alice", "alpha", "alice");
    grant.metadata.namespace = Some(k.ns.clone());
    k.api::<MCPAccessGrant>()
        .create(&PostParams::default(), &grant)
        .await
        .expect("grant");
    eventually("alpha re-rendered", || async {
        let a: ConfigMap = k.get("alpha-gateway-policy").await?;
        (revision(&a)? != alpha_before).then_some(())
    })
    .await;
    let b: ConfigMap = k.get("beta-gateway-policy").await.expect("beta");
    assert_eq!(b.metadata.resource_version, Some(beta_before));

    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let expires = jiff::Timestamp::from_second(expires.as_second()).expect("time");
    let mut session = support::session("s1", "alpha", Some(expires.to_string()));
    session.metadata.namespace = Some(k.ns.clone());
    k.api::<MCPAgentSession>()
        .create(&PostParams::default(), &session)
        .await
        .expect("session");
    eventually("session Active", || async {
        let s: MCPAgentSession = k.get("s1").await?;
        (s.status?.phase.as_deref() == Some("Active")).then_some(())
    })
    .await;
    let seen = eventually("session Expired", || async {
        let s: MCPAgentSession = k.get("s1").await?;
        (s.status?.phase.as_deref() == Some("Expired")).then_some(jiff::Timestamp::now())
    })
    .await;
    assert!(seen >= expires && seen < expires + jiff::SignedDuration::from_secs(5));
    k.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_conflicts_and_server_errors_are_retried_and_delete_collects_children() {
    let k = Cluster::start("faults").await;
    k.recording.inject(Fault {
        verb: "patch".into(),
        resource: "deployments".into(),
        status: 409,
        times: 2,
    });
    k.recording.inject(Fault {
        verb: "patch".into(),
        resource: "mcpservers/status".into(),
        status: 500,
        times: 1,
    });
    k.create_server("web", json!({"image": "x"})).await;
    eventually("reconciled despite the faults", || async {
        let s: MCPServer = k.get("web").await?;
        s.status?.phase?;
        k.get::<Deployment>("web").await
    })
    .await;
    // Children are collected by the cluster's garbage collector through their controller
    // ownerReference: check the references, which hold on any API server.
    let server: MCPServer = k.get("web").await.expect("server");
    let uid = server.metadata.uid.clone().expect("uid");
    let owned_by_server =
        |refs: Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>| {
            refs.unwrap_or_default()
                .iter()
                .any(|r| r.uid == uid && r.controller == Some(true) && r.kind == "MCPServer")
        };
    let deployment: Deployment = k.get("web").await.expect("deployment");
    let service: Service = k.get("web").await.expect("service");
    assert!(owned_by_server(deployment.metadata.owner_references));
    assert!(owned_by_server(service.metadata.owner_references));
    k.api::<MCPServer>()
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    // A bare API server (no kube-controller-manager) has no garbage collector: say so loudly
    // instead of failing on what the operator does not control.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if k.get::<Deployment>("web").await.is_none() && k.get::<Service>("web").await.is_none() {
            break;
        }
        if std::time::Instant::now() > deadline {
            eprintln!(
                "NOTE: the children were not garbage-collected within 30 s: this cluster runs no \
                 garbage collector (kube-controller-manager); their ownerReferences were checked instead"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    k.finish().await;
}
