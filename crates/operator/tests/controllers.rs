//! Stateful controller tests (T4): the real kube-runtime controllers against the in-process fake
//! API (`mcp-runtime-testkit`). Every test ends with the RBAC contract: each API call the operator
//! made is granted by `deploy/operator/rbac.yaml`.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use mcp_runtime_api::server::ServerPhase;
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use mcp_runtime_operator::apply::APPLIED_HASH_ANNOTATION;
use mcp_runtime_operator::build::CONFIG_HASH_ANNOTATION;
use mcp_runtime_testkit::{FakeApi, Fault};
use serde_json::json;
use support::*;

fn gateway_spec() -> serde_json::Value {
    json!({
        "image": "ghcr.io/example/web-tools",
        "imageTag": "1.0",
        "replicas": 3,
        "ingressHost": "mcp.example.com",
        "gateway": {"enabled": true},
        "rollout": {"strategy": "Canary", "canaryReplicas": 1},
        "networkPolicy": {},
        "tools": [{"name": "search", "sideEffect": "read"}],
    })
}

fn condition(server: &MCPServer, type_: &str) -> Option<(String, String)> {
    server
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

async fn get<K>(client: &kube::Client, name: &str) -> Option<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    Api::<K>::namespaced(client.clone(), NS)
        .get_opt(name)
        .await
        .expect("get")
}

async fn create_server(client: &kube::Client, server: &MCPServer) -> MCPServer {
    Api::<MCPServer>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), server)
        .await
        .expect("create server")
}

fn policy_revision(cm: &ConfigMap) -> String {
    let json = &cm.data.as_ref().expect("data")["policy.json"];
    let value: serde_json::Value = serde_json::from_str(json).expect("policy json");
    value["revision"].as_str().expect("revision").to_owned()
}

#[tokio::test]
async fn create_builds_every_child_and_the_status() {
    let fake = FakeApi::with_mcp_runtime().await;
    // The server lists a tool, but a gateway is in front: its `tools/list` is filtered for the
    // caller, so the operator does not ask and `status.tools` stays unset.
    let op =
        Running::start_with_handshake(fake.clone(), config(), StubHandshake::listing(&["search"]))
            .await;
    let c = op.client.clone();
    create_server(&c, &server("web", gateway_spec())).await;

    let status = eventually("server status with every condition", WAIT, || async {
        let s: MCPServer = get(&c, "web").await?;
        (s.status.as_ref()?.conditions.len() == 8 && get::<Ingress>(&c, "web").await.is_some())
            .then_some(s)
    })
    .await;
    let deployment: Deployment = get(&c, "web").await.expect("deployment");
    assert_eq!(deployment.spec.as_ref().and_then(|s| s.replicas), Some(2));
    let canary: Deployment = get(&c, "web-canary").await.expect("canary");
    assert_eq!(canary.spec.as_ref().and_then(|s| s.replicas), Some(1));
    assert!(get::<Service>(&c, "web").await.is_some());
    assert!(get::<NetworkPolicy>(&c, "web").await.is_some());
    let cm: ConfigMap = get(&c, "web-gateway-policy")
        .await
        .expect("policy configmap");
    let sa: ServiceAccount = get(&c, "mcp-workload")
        .await
        .expect("workload service account");
    assert_eq!(sa.automount_service_account_token, Some(false));
    // Children are controlled by the server (garbage collection).
    let owner = &deployment
        .metadata
        .owner_references
        .as_ref()
        .expect("owners")[0];
    assert_eq!(owner.kind, "MCPServer");
    assert_eq!(owner.controller, Some(true));

    let st = status.status.clone().expect("status");
    assert_eq!(st.observed_generation, status.metadata.generation);
    assert_eq!(st.url.as_deref(), Some("http://mcp.example.com/web/mcp"));
    assert_eq!(
        st.policy_revision.as_deref(),
        Some(policy_revision(&cm).as_str())
    );
    assert!(st.policy_ready);
    assert!(!st.deployment_ready);
    assert_ne!(st.phase, Some(ServerPhase::Ready));
    // Reasons are causes, not the phase.
    assert_eq!(
        condition(&status, "IngressReady"),
        Some(("False".into(), "IngressNotAdmitted".into()))
    );
    assert_eq!(
        condition(&status, "DeploymentReady"),
        Some(("False".into(), "ReplicasNotReady".into()))
    );

    // Pods become ready (the fake runs none: report it as the Deployment controller would) and
    // the ingress controller admits the Ingress: the handshake fills serverInfo and the address.
    let deployments = Api::<Deployment>::namespaced(c.clone(), NS);
    for (name, ready) in [("web", 2), ("web-canary", 1)] {
        deployments
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"readyReplicas": ready, "replicas": ready}})),
            )
            .await
            .expect("deployment status");
    }
    Api::<Ingress>::namespaced(c.clone(), NS)
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}})),
        )
        .await
        .expect("ingress status");
    Api::<Service>::namespaced(c.clone(), NS)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"clusterIP": "10.96.0.10"}})),
        )
        .await
        .expect("service cluster IP");
    let ready = eventually("server Ready with serverInfo", WAIT, || async {
        let s: MCPServer = get(&c, "web").await?;
        let st = s.status.clone()?;
        (st.phase == Some(ServerPhase::Ready) && st.server_info.is_some()).then_some(st)
    })
    .await;
    assert_eq!(
        ready.server_info.as_ref().and_then(|i| i.name.as_deref()),
        Some("stub-server")
    );
    assert_eq!(
        ready.address.map(|a| a.url).as_deref(),
        Some("http://web.team-a.svc.cluster.local:80/mcp")
    );
    assert_eq!(ready.ready_replicas, Some(3));
    assert!(ready.deployment_ready && ready.canary_ready && ready.ingress_ready);
    assert_eq!(
        ready.tools, None,
        "behind a gateway the live inventory is unknown"
    );
    assert!(
        op.handshake
            .depths()
            .iter()
            .all(|d| *d == mcp_runtime_operator::handshake::Depth::Initialize),
        "{:?}",
        op.handshake.depths()
    );
    let metrics = op.context.metrics.encode();
    assert!(
        metrics.contains("mcp_runtime_operator_mcpserver_condition_info{name=\"web\",namespace=\"team-a\",type=\"Ready\",status=\"True\",reason=\"Available\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "mcp_runtime_operator_reconcile_duration_seconds_count{controller=\"mcpserver\"}"
    ));

    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

/// Deployment ready, Service with a cluster IP, Ingress admitted: what the scheduler, kubelet and
/// ingress controller would report (the fake runs none of them).
async fn report_children_ready(c: &kube::Client, name: &str, replicas: i32) {
    Api::<Deployment>::namespaced(c.clone(), NS)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"readyReplicas": replicas, "replicas": replicas}})),
        )
        .await
        .expect("deployment status");
    Api::<Ingress>::namespaced(c.clone(), NS)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}})),
        )
        .await
        .expect("ingress status");
    Api::<Service>::namespaced(c.clone(), NS)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"clusterIP": "10.96.0.10"}})),
        )
        .await
        .expect("service cluster IP");
}

/// Without a gateway the handshake lists the tools: `status.tools` holds their names, sorted,
/// once; it is not rewritten while nothing changes, and a new generation lists them again.
#[tokio::test]
async fn the_live_tool_inventory_is_recorded_in_status_once() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start_with_handshake(
        fake.clone(),
        config(),
        StubHandshake::listing(&["zeta", "search", "undeclared"]),
    )
    .await;
    let c = op.client.clone();
    let spec = json!({
        "image": "ghcr.io/example/web-tools:1.0",
        "ingressHost": "mcp.example.com",
        "tools": [
            {"name": "search", "sideEffect": "read"},
            {"name": "zeta", "sideEffect": "write"},
            {"name": "missing", "sideEffect": "destructive"},
        ],
    });
    create_server(&c, &server("plain", spec)).await;
    eventually("deployment", WAIT, || async {
        get::<Deployment>(&c, "plain").await
    })
    .await;
    report_children_ready(&c, "plain", 1).await;
    let ready = eventually("Ready with the live tools", WAIT, || async {
        let s: MCPServer = get(&c, "plain").await?;
        let st = s.status.clone()?;
        (st.phase == Some(ServerPhase::Ready) && st.tools.is_some()).then_some(s)
    })
    .await;
    let status = ready.status.clone().expect("status");
    assert_eq!(
        status.tools,
        Some(vec![
            "search".to_owned(),
            "undeclared".to_owned(),
            "zeta".to_owned()
        ]),
        "the live names as listed, sorted; declared-only names are not invented"
    );
    assert!(
        op.handshake
            .depths()
            .iter()
            .all(|d| *d == mcp_runtime_operator::handshake::Depth::ListTools)
    );

    // Nothing changes: events that reconcile the server without changing it (its Deployment's
    // status moves in a field the status does not read; the fake bumps the generation on any
    // edit of the server itself) neither handshake again nor write the status.
    let calls = op.handshake.calls.load(std::sync::atomic::Ordering::SeqCst);
    fake.clear_calls();
    let deployments = Api::<Deployment>::namespaced(c.clone(), NS);
    for round in 0..3 {
        let before = op.reconciles("mcpserver");
        deployments
            .patch_status(
                "plain",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"observedGeneration": 100 + round}})),
            )
            .await
            .expect("deployment status");
        eventually("a reconcile", WAIT, || async {
            (op.reconciles("mcpserver") > before).then_some(())
        })
        .await;
    }
    let status_writes: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|call| {
            call.is_write() && call.resource == "mcpservers" && call.subresource.is_some()
        })
        .collect();
    assert!(status_writes.is_empty(), "{status_writes:#?}");
    assert_eq!(
        op.handshake.calls.load(std::sync::atomic::Ordering::SeqCst),
        calls,
        "the answer is kept for the generation"
    );

    // A new generation (another image) handshakes again, and a changed inventory is written.
    op.handshake.set_tools(&["search"]);
    Api::<MCPServer>::namespaced(c.clone(), NS)
        .patch(
            "plain",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"image": "ghcr.io/example/web-tools:1.1"}})),
        )
        .await
        .expect("new image");
    eventually("the new inventory", WAIT, || async {
        let s: MCPServer = get(&c, "plain").await?;
        (s.status?.tools? == ["search"]).then_some(())
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

/// An operator that did not list tools left `serverInfo` for the current generation and no
/// `tools`: the next one completes the answer once, without waiting for a new generation.
#[tokio::test]
async fn an_answer_without_tools_for_this_generation_is_completed_once() {
    let fake = FakeApi::with_mcp_runtime().await;
    let c = fake.test_client();
    let spec = json!({
        "image": "ghcr.io/example/web-tools:1.0",
        "ingressHost": "mcp.example.com",
        "tools": [{"name": "search", "sideEffect": "read"}],
    });
    let created = create_server(&c, &server("older", spec)).await;
    let servers = Api::<MCPServer>::namespaced(c.clone(), NS);
    servers
        .patch_status(
            "older",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {
                "observedGeneration": created.metadata.generation,
                "serverInfo": {"name": "stub-server", "protocolVersion": "2025-06-18"},
            }})),
        )
        .await
        .expect("status");
    let before: MCPServer = get(&c, "older").await.expect("server");
    assert_eq!(
        before.metadata.generation, created.metadata.generation,
        "a status write is not a new generation"
    );
    let op =
        Running::start_with_handshake(fake.clone(), config(), StubHandshake::listing(&["search"]))
            .await;
    eventually("deployment", WAIT, || async {
        get::<Deployment>(&c, "older").await
    })
    .await;
    report_children_ready(&c, "older", 1).await;
    let done = eventually("the tools listed", WAIT, || async {
        let s: MCPServer = get(&c, "older").await?;
        let st = s.status?;
        (st.tools.is_some() && st.phase == Some(ServerPhase::Ready)).then_some(st)
    })
    .await;
    assert_eq!(done.tools, Some(vec!["search".to_owned()]));
    assert_eq!(done.observed_generation, created.metadata.generation);
    // Once: more reconciles of the same generation do not handshake again.
    let calls = op.handshake.calls.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(calls, 1, "{:?}", op.handshake.depths());
    let deployments = Api::<Deployment>::namespaced(c.clone(), NS);
    for round in 0..2 {
        let before = op.reconciles("mcpserver");
        deployments
            .patch_status(
                "older",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"observedGeneration": 200 + round}})),
            )
            .await
            .expect("deployment status");
        eventually("a reconcile", WAIT, || async {
            (op.reconciles("mcpserver") > before).then_some(())
        })
        .await;
    }
    assert_eq!(
        op.handshake.calls.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    op.stop().await;
}

#[tokio::test]
async fn a_steady_state_reconcile_makes_no_writes() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("web", gateway_spec())).await;
    eventually("children and status", WAIT, || async {
        let s: MCPServer = get(&c, "web").await?;
        let cm: ConfigMap = get(&c, "web-gateway-policy").await?;
        (s.status?.conditions.len() == 8 && cm.data.is_some()).then_some(())
    })
    .await;
    // Let the creation settle, then watch several full reconciles (the not-ready requeue runs one
    // every 300 ms).
    let settled = op.reconciles("mcpserver");
    eventually("a few reconciles", WAIT, || async {
        (op.reconciles("mcpserver") >= settled + 2).then_some(())
    })
    .await;
    fake.clear_calls();
    let before = op.reconciles("mcpserver");
    eventually("three more reconciles", WAIT, || async {
        (op.reconciles("mcpserver") >= before + 3).then_some(())
    })
    .await;
    let writes: Vec<_> = fake.calls().into_iter().filter(|c| c.is_write()).collect();
    assert!(
        writes.is_empty(),
        "steady-state reconciles wrote: {writes:#?}"
    );
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.verb == "get" && c.resource == "deployments")
    );
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn drift_on_a_child_is_repaired() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("web", gateway_spec())).await;
    eventually("deployment", WAIT, || async {
        get::<Deployment>(&c, "web").await
    })
    .await;
    // Someone scales the Deployment and rewrites the policy by hand.
    Api::<Deployment>::namespaced(c.clone(), NS)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .expect("drift");
    eventually("replicas repaired", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        (d.spec?.replicas == Some(2)).then_some(())
    })
    .await;
    let cm: ConfigMap = get(&c, "web-gateway-policy").await.expect("cm");
    let revision = policy_revision(&cm);
    Api::<ConfigMap>::namespaced(c.clone(), NS)
        .patch(
            "web-gateway-policy",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"policy.json": "{}"}})),
        )
        .await
        .expect("policy drift");
    eventually("policy repaired", WAIT, || async {
        let cm: ConfigMap = get(&c, "web-gateway-policy").await?;
        let json = cm.data?.get("policy.json")?.clone();
        json.contains(&revision).then_some(())
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn fields_removed_from_the_spec_are_removed_from_the_children() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    let mut spec = gateway_spec();
    spec["args"] = json!(["--verbose"]);
    spec["extraAnnotations"] = json!({"team.example.com/owner": "search"});
    create_server(&c, &server("web", spec)).await;
    let annotated = |d: &Deployment| {
        d.metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("team.example.com/owner"))
    };
    let args = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|p| p.containers.iter().find(|c| c.name != "mcp-gateway"))
            .and_then(|c| c.args.clone())
            .unwrap_or_default()
    };
    eventually("args and annotation applied", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        (annotated(&d) && args(&d) == ["--verbose"]).then_some(())
    })
    .await;
    let applied_hash = |d: &Deployment| {
        d.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(APPLIED_HASH_ANNOTATION).cloned())
    };
    let before = applied_hash(&get::<Deployment>(&c, "web").await.expect("deployment"))
        .expect("the applied-hash annotation");
    // Both are removed from the spec. A subset check alone would still find the live object
    // holding every desired field and never apply; the applied hash changes, so the operator
    // applies, and server-side apply drops the fields its manager no longer sets. (The fake's
    // apply merges instead of dropping them, so this test checks that the apply is sent; the
    // real-cluster test checks that the fields are gone.)
    Api::<MCPServer>::namespaced(c.clone(), NS)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"args": null, "extraAnnotations": null}})),
        )
        .await
        .expect("edit the server");
    eventually("the new desired Deployment applied", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        let after = applied_hash(&d)?;
        (after != before).then_some(())
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn features_switched_off_are_pruned() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("web", gateway_spec())).await;
    eventually("every child", WAIT, || async {
        get::<Deployment>(&c, "web-canary").await?;
        get::<NetworkPolicy>(&c, "web").await?;
        get::<Ingress>(&c, "web").await?;
        get::<ConfigMap>(&c, "web-gateway-policy").await
    })
    .await;
    // No canary, no gateway (so no policy), no NetworkPolicy.
    Api::<MCPServer>::namespaced(c.clone(), NS)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {
                "rollout": {"strategy": "RollingUpdate", "canaryReplicas": null},
                "gateway": {"enabled": false},
                "networkPolicy": null,
            }})),
        )
        .await
        .expect("switch off");
    eventually("canary, policy and NetworkPolicy pruned", WAIT, || async {
        let gone = get::<Deployment>(&c, "web-canary").await.is_none()
            && get::<ConfigMap>(&c, "web-gateway-policy").await.is_none()
            && get::<NetworkPolicy>(&c, "web").await.is_none();
        gone.then_some(())
    })
    .await;
    let d: Deployment = get(&c, "web").await.expect("stable stays");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(3));
    // mTLS mode has no Ingress: it is pruned as well.
    Api::<MCPServer>::namespaced(c.clone(), NS)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {
                "gateway": {"enabled": true},
                "ingressClass": "traefik",
                "auth": {"mode": "mtls", "trustDomain": "example.org"},
            }})),
        )
        .await
        .expect("mtls");
    eventually("ingress pruned", WAIT, || async {
        get::<Ingress>(&c, "web").await.is_none().then_some(())
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn a_grant_change_re_renders_only_its_server() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("alpha", gateway_spec())).await;
    create_server(&c, &server("beta", gateway_spec())).await;
    let (alpha_rev, beta_before) = eventually("both policies", WAIT, || async {
        let a: ConfigMap = get(&c, "alpha-gateway-policy").await?;
        let b: ConfigMap = get(&c, "beta-gateway-policy").await?;
        let s: MCPServer = get(&c, "alpha").await?;
        s.status?.policy_revision?;
        Some((policy_revision(&a), b))
    })
    .await;
    fake.clear_calls();
    let grants = Api::<MCPAccessGrant>::namespaced(c.clone(), NS);
    grants
        .create(
            &PostParams::default(),
            &grant("alice-alpha", "alpha", "alice"),
        )
        .await
        .expect("grant");
    let new_rev = eventually("alpha's policy re-rendered", WAIT, || async {
        let a: ConfigMap = get(&c, "alpha-gateway-policy").await?;
        let rev = policy_revision(&a);
        (rev != alpha_rev && a.data?["policy.json"].contains("alice")).then_some(rev)
    })
    .await;
    eventually("alpha's status carries the new revision", WAIT, || async {
        let s: MCPServer = get(&c, "alpha").await?;
        (s.status?.policy_revision.as_deref() == Some(new_rev.as_str())).then_some(())
    })
    .await;
    eventually("grant accepted", WAIT, || async {
        let g: MCPAccessGrant = get(&c, "alice-alpha").await?;
        let st = g.status?;
        (st.phase.as_deref() == Some("Accepted")
            && st
                .conditions
                .iter()
                .any(|c| c.type_ == "ServerFound" && c.status == "True"))
        .then_some(())
    })
    .await;
    // beta was not touched: its policy ConfigMap saw no write and is unchanged.
    let beta_after: ConfigMap = get(&c, "beta-gateway-policy").await.expect("beta");
    assert_eq!(beta_after.data, beta_before.data);
    let beta_writes: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|call| {
            call.is_write() && call.name.as_deref().is_some_and(|n| n.starts_with("beta"))
        })
        .collect();
    assert!(beta_writes.is_empty(), "{beta_writes:#?}");
    // Servers find their grants and sessions in the indexed reflector stores: no reconcile
    // lists them from the API (the watches' own LISTs ran before the calls were cleared).
    let lists: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|call| {
            call.verb == "list"
                && (call.resource == "mcpaccessgrants" || call.resource == "mcpagentsessions")
        })
        .collect();
    assert!(
        lists.is_empty(),
        "reconciles listed grants or sessions: {lists:#?}"
    );
    // Deleting the grant re-renders alpha back.
    grants
        .delete("alice-alpha", &DeleteParams::default())
        .await
        .expect("delete grant");
    eventually("grant removed from the policy", WAIT, || async {
        let a: ConfigMap = get(&c, "alpha-gateway-policy").await?;
        (policy_revision(&a) == alpha_rev).then_some(())
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn grants_and_sessions_for_a_missing_server_say_so() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    Api::<MCPAccessGrant>::namespaced(c.clone(), NS)
        .create(&PostParams::default(), &grant("orphan", "nowhere", "bob"))
        .await
        .expect("grant");
    let status = eventually("grant status", WAIT, || async {
        let g: MCPAccessGrant = get(&c, "orphan").await?;
        g.status
    })
    .await;
    let found = status
        .conditions
        .iter()
        .find(|c| c.type_ == "ServerFound")
        .expect("ServerFound");
    assert_eq!(
        (found.status.as_str(), found.reason.as_str()),
        ("False", "ServerNotFound")
    );
    assert!(
        status
            .message
            .expect("message")
            .contains("team-a/nowhere not found")
    );
    // The server appears: the grant is re-reconciled.
    create_server(&c, &server("nowhere", json!({"image": "x"}))).await;
    eventually("ServerFound turns True", WAIT, || async {
        let g: MCPAccessGrant = get(&c, "orphan").await?;
        g.status?
            .conditions
            .iter()
            .any(|c| c.type_ == "ServerFound" && c.status == "True")
            .then_some(())
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn a_session_expires_at_its_expiry_time() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("web", gateway_spec())).await;
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let expires = jiff::Timestamp::from_second(expires.as_second()).expect("time");
    Api::<MCPAgentSession>::namespaced(c.clone(), NS)
        .create(
            &PostParams::default(),
            &session("alice-claude", "web", Some(expires.to_string())),
        )
        .await
        .expect("session");
    let active = eventually("session Active", WAIT, || async {
        let s: MCPAgentSession = get(&c, "alice-claude").await?;
        let st = s.status?;
        (st.phase.as_deref() == Some("Active")).then_some(jiff::Timestamp::now())
    })
    .await;
    assert!(
        active < expires,
        "the session must be Active before its expiry"
    );
    let expired_seen = eventually("session Expired", WAIT, || async {
        let s: MCPAgentSession = get(&c, "alice-claude").await?;
        (s.status?.phase.as_deref() == Some("Expired")).then_some(jiff::Timestamp::now())
    })
    .await;
    assert!(expired_seen >= expires, "flipped before the expiry time");
    assert!(
        expired_seen < expires + jiff::SignedDuration::from_secs(2),
        "flipped {expired_seen} long after the expiry {expires}: no requeue at the expiry time"
    );
    // The session is in the server's policy.
    let cm: ConfigMap = get(&c, "web-gateway-policy").await.expect("cm");
    assert!(cm.data.expect("data")["policy.json"].contains("alice-claude"));
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn conflicts_and_server_errors_are_retried_with_backoff() {
    let fake = FakeApi::with_mcp_runtime().await;
    fake.inject(Fault {
        verb: "patch".into(),
        resource: "deployments".into(),
        status: 409,
        times: 2,
    });
    fake.inject(Fault {
        verb: "patch".into(),
        resource: "mcpservers/status".into(),
        status: 500,
        times: 2,
    });
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    let started = std::time::Instant::now();
    create_server(&c, &server("web", json!({"image": "x"}))).await;
    eventually("status written after the faults", WAIT, || async {
        let s: MCPServer = get(&c, "web").await?;
        s.status?.phase
    })
    .await;
    assert_eq!(fake.pending_faults(), 0);
    assert_eq!(op.context.metrics.error_count("mcpserver"), 4);
    // The two conflicts come first, and nothing else triggers the server meanwhile, so the 50 ms
    // doubling backoff spaces them by at least 50 + 100 ms. (Later retries may be pre-empted by
    // the watch events of the Deployment written in between.)
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(150),
        "retried too fast: {:?}",
        started.elapsed()
    );
    assert!(get::<Deployment>(&c, "web").await.is_some());
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn deleting_the_server_removes_its_children() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("web", gateway_spec())).await;
    eventually("children", WAIT, || async {
        get::<Ingress>(&c, "web").await?;
        get::<Deployment>(&c, "web-canary").await
    })
    .await;
    Api::<MCPServer>::namespaced(c.clone(), NS)
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("children garbage-collected", WAIT, || async {
        let gone = get::<Deployment>(&c, "web").await.is_none()
            && get::<Deployment>(&c, "web-canary").await.is_none()
            && get::<Service>(&c, "web").await.is_none()
            && get::<Ingress>(&c, "web").await.is_none()
            && get::<NetworkPolicy>(&c, "web").await.is_none()
            && get::<ConfigMap>(&c, "web-gateway-policy").await.is_none();
        gone.then_some(())
    })
    .await;
    // The shared workload ServiceAccount is not owned and stays.
    assert!(get::<ServiceAccount>(&c, "mcp-workload").await.is_some());
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn children_owned_by_someone_else_are_not_adopted() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    let foreign: Service = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": NS, "labels": {"owner": "someone"}},
        "spec": {"ports": [{"port": 1234}]},
    }))
    .expect("service");
    Api::<Service>::namespaced(c.clone(), NS)
        .create(&PostParams::default(), &foreign)
        .await
        .expect("foreign service");
    create_server(&c, &server("web", json!({"image": "x"}))).await;
    let s = eventually("ownership conflict reported", WAIT, || async {
        let s: MCPServer = get(&c, "web").await?;
        (s.status.as_ref()?.phase == Some(ServerPhase::Error)).then_some(s)
    })
    .await;
    assert_eq!(
        condition(&s, "Ready"),
        Some(("False".into(), "OwnershipConflict".into()))
    );
    let svc: Service = get(&c, "web").await.expect("service");
    assert_eq!(svc.spec.and_then(|s| s.ports).expect("ports")[0].port, 1234);
    assert!(svc.metadata.owner_references.is_none());
    // The transition is published as a Warning Event on the server.
    let events = Api::<k8s_openapi::api::events::v1::Event>::namespaced(c.clone(), NS);
    let event = eventually("a Warning event", WAIT, || async {
        let list = events.list(&Default::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("OwnershipConflict"))
    })
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.regarding.and_then(|r| r.name).as_deref(), Some("web"));
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn a_referenced_configmap_change_rolls_the_pods() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    let settings: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "settings", "namespace": NS},
        "data": {"LEVEL": "info"},
    }))
    .expect("cm");
    let cms = Api::<ConfigMap>::namespaced(c.clone(), NS);
    cms.create(&PostParams::default(), &settings)
        .await
        .expect("settings");
    create_server(
        &c,
        &server(
            "web",
            json!({"image": "x", "envFrom": [{"configMapRef": {"name": "settings"}}]}),
        ),
    )
    .await;
    let hash = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(CONFIG_HASH_ANNOTATION).cloned())
    };
    let first = eventually("config hash", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        hash(&d)
    })
    .await;
    cms.patch(
        "settings",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"LEVEL": "debug"}})),
    )
    .await
    .expect("change settings");
    eventually("config hash changed", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        hash(&d).filter(|h| *h != first)
    })
    .await;
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn a_referenced_secret_change_rolls_the_pods_without_watching_secrets() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    let token: Secret = serde_json::from_value(json!({
        "metadata": {"name": "token", "namespace": NS},
        "stringData": {"TOKEN": "one"},
    }))
    .expect("secret");
    let secrets = Api::<Secret>::namespaced(c.clone(), NS);
    secrets
        .create(&PostParams::default(), &token)
        .await
        .expect("token");
    create_server(
        &c,
        &server(
            "web",
            json!({"image": "x", "envFrom": [{"secretRef": {"name": "token"}}]}),
        ),
    )
    .await;
    let hash = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(CONFIG_HASH_ANNOTATION).cloned())
    };
    let first = eventually("config hash", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        hash(&d)
    })
    .await;
    secrets
        .patch(
            "token",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"TOKEN": "two"}})),
        )
        .await
        .expect("change token");
    eventually("config hash changed", WAIT, || async {
        let d: Deployment = get(&c, "web").await?;
        hash(&d).filter(|h| *h != first)
    })
    .await;
    // The change was found by reading the Secret, not from a cache of the cluster's Secrets.
    let secret_calls: Vec<String> = fake
        .calls()
        .iter()
        .filter(|call| call.resource == "secrets")
        .map(|call| call.verb.clone())
        .collect();
    assert!(secret_calls.iter().any(|v| v == "get"), "{secret_calls:?}");
    assert!(
        !secret_calls.iter().any(|v| v == "list" || v == "watch"),
        "{secret_calls:?}"
    );
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

#[tokio::test]
async fn an_invalid_spec_is_reported_not_retried() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    // The fake does not enforce the CEL rules; the operator validates as the API server would.
    let mut bad = server(
        "bad",
        json!({"image": "x", "port": 8091, "gateway": {"enabled": true, "port": 8091}}),
    );
    bad.metadata.namespace = Some(NS.into());
    create_server(&c, &bad).await;
    let s = eventually("Error status", WAIT, || async {
        let s: MCPServer = get(&c, "bad").await?;
        (s.status.as_ref()?.phase == Some(ServerPhase::Error)).then_some(s)
    })
    .await;
    let (status, reason) = condition(&s, "Ready").expect("Ready");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "ConfigurationInvalid")
    );
    assert!(
        s.status
            .and_then(|st| st.message)
            .expect("message")
            .contains("gateway.port")
    );
    assert!(get::<Deployment>(&c, "bad").await.is_none());
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}

/// One reflector per kind for the whole process: the three controllers share the watch of
/// MCPServers, grants and sessions (previously the servers were watched three times, grants and
/// sessions twice), and every child kind is watched once too.
#[tokio::test]
async fn each_kind_is_watched_once_by_the_three_controllers() {
    let fake = FakeApi::with_mcp_runtime().await;
    let op = Running::start(fake.clone()).await;
    let c = op.client.clone();
    create_server(&c, &server("alpha", gateway_spec())).await;
    Api::<MCPAccessGrant>::namespaced(c.clone(), NS)
        .create(
            &PostParams::default(),
            &grant("alice-alpha", "alpha", "alice"),
        )
        .await
        .expect("grant");
    Api::<MCPAgentSession>::namespaced(c.clone(), NS)
        .create(&PostParams::default(), &session("s1", "alpha", None))
        .await
        .expect("session");
    // Every controller is running on its shared caches: the grant and the session found their
    // server, and the server's policy holds the grant.
    for name in ["alice-alpha", "s1"] {
        eventually("ServerFound on the grant and the session", WAIT, || async {
            let found =
                |conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition]| {
                    conditions
                        .iter()
                        .any(|c| c.type_ == "ServerFound" && c.status == "True")
                };
            let grant: Option<MCPAccessGrant> = get(&c, name).await;
            let session: Option<MCPAgentSession> = get(&c, name).await;
            let conditions = grant
                .and_then(|g| g.status)
                .or_else(|| session.and_then(|s| s.status))?
                .conditions;
            found(&conditions).then_some(())
        })
        .await;
    }
    eventually("the grant in alpha's policy", WAIT, || async {
        let cm: ConfigMap = get(&c, "alpha-gateway-policy").await?;
        cm.data?.get("policy.json")?.contains("alice").then_some(())
    })
    .await;
    let mut watches = std::collections::BTreeMap::<String, usize>::new();
    for call in fake.calls().into_iter().filter(|c| c.verb == "watch") {
        *watches.entry(call.resource).or_default() += 1;
    }
    let expected: std::collections::BTreeMap<String, usize> = [
        "configmaps",
        "deployments",
        "ingresses",
        "mcpaccessgrants",
        "mcpagentsessions",
        "mcpservers",
        "networkpolicies",
        "services",
    ]
    .into_iter()
    .map(|resource| (resource.to_owned(), 1))
    .collect();
    assert_eq!(watches, expected);
    assert_rbac_covers(&fake.calls());
    op.stop().await;
}
