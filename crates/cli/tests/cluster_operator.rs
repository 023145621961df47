//! Real-cluster tests (T6) of the operator *process* (`mcp-runtime operator`): leader election
//! between two processes, and an API server restart under a running operator.
//!
//! Enabled like `crates/operator/tests/cluster.rs` (build script: `MCP_RUNTIME_TEST_KUBECONFIG` or
//! `CI=true` turn on `cfg(mcp_cluster)`; otherwise `SKIPPED (no cluster)`).
//!
//! - Leader election runs on the shared cluster, in a namespace of its own. Each process talks to
//!   the API server through its own recording proxy, which impersonates the operator's
//!   ServiceAccount (the shipped RBAC, as in the in-process tests): the test sees exactly which
//!   process made which call, so "only the leader writes" is checked on the wire.
//! - The API server restart needs a control plane of its own (restarting the shared one would
//!   break every test running beside it): `../shared/k8s/control-plane` with a private state
//!   directory and free ports, stopped at the end even when the test fails. That cluster being
//!   the test's alone, the operator watches every namespace there, as deployed, impersonating its
//!   ServiceAccount through the kubeconfig: the shipped RBAC judges its cluster-wide calls too.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, Patch, PatchParams, PostParams};
use mcp_runtime_api::MCPServer;
use mcp_runtime_operator::runtime::LEASE_NAME;
use mcp_runtime_peers::{KillOnDrop, free_port};
use mcp_runtime_testkit::cluster::{
    self as t6, PrivateControlPlane, RecordingProxy, TestNamespace, impersonating_kubeconfig,
};
use mcp_runtime_testkit::{ApiCall, eventually};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
/// How long the operator may take to converge after an API server restart.
const AFTER_RESTART: Duration = Duration::from_secs(180);

/// An `mcp-runtime operator` process; its stderr goes to a log file, printed when a check fails.
struct Operator {
    child: KillOnDrop,
    log: PathBuf,
}

impl Operator {
    fn spawn(kubeconfig: &Path, log: PathBuf, args: &[&str]) -> Operator {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .arg("operator")
            .args(["--health-addr", &address, "--metrics-addr", &address])
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("MCP_RUNTIME_LOG", "info")
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

    fn assert_running(&mut self) {
        let status = self.child.0.try_wait().expect("operator status");
        assert!(
            status.is_none(),
            "the operator exited ({status:?}):\n{}",
            self.log()
        );
    }
}

fn writes(calls: &[ApiCall]) -> Vec<ApiCall> {
    calls.iter().filter(|c| c.is_write()).cloned().collect()
}

fn server(ns: &str, name: &str) -> MCPServer {
    serde_json::from_value(json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"image": "ghcr.io/example/tools", "imageTag": "1.0", "replicas": 2},
    }))
    .expect("server")
}

/// Waits until the operator has reconciled the server's current generation into a Deployment;
/// on timeout, fails with the operator's log.
async fn reconciled(admin: &kube::Client, ns: &str, name: &str, timeout: Duration, by: &Operator) {
    let wait = tokio::time::timeout(timeout, is_reconciled(admin, ns, name)).await;
    assert!(
        wait.is_ok(),
        "{name} not reconciled within {timeout:?}; operator log:\n{}",
        by.log()
    );
}

async fn is_reconciled(admin: &kube::Client, ns: &str, name: &str) {
    let servers: Api<MCPServer> = Api::namespaced(admin.clone(), ns);
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), ns);
    eventually(&format!("{name} reconciled"), Duration::MAX / 4, || async {
        let s = servers.get_opt(name).await.ok()??;
        let replicas = s.spec.replicas;
        let status = s.status?;
        let d = deployments.get_opt(name).await.ok()??;
        (status.observed_generation == s.metadata.generation && d.spec?.replicas == Some(replicas))
            .then_some(())
    })
    .await;
}

async fn lease_holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt(LEASE_NAME)
        .await
        .ok()??
        .spec?
        .holder_identity
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_leader_election_between_two_processes_only_the_leader_writes_and_takeover_after_sigkill()
 {
    let kubeconfig = t6::kubeconfig_path();
    let admin_config = t6::config_from(&kubeconfig).await;
    let admin = t6::client(admin_config.clone());
    t6::install_crds(&admin).await;
    let namespace = TestNamespace::create(&admin, &kubeconfig, "leader").await;
    let ns = namespace.name.clone();
    let user = t6::install_operator_rbac(&admin_config, &namespace).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Lease of 6 s: renewed every 2 s, free for another replica 6 s after the last renewal.
    let args = |identity: &'static str| {
        let ns = ns.clone();
        move || {
            [
                "--namespace",
                &ns,
                "--lease-namespace",
                &ns,
                "--lease-duration-seconds",
                "6",
                "--identity",
                identity,
            ]
            .map(str::to_owned)
        }
    };
    let mut replicas = Vec::new();
    for identity in ["replica-a", "replica-b"] {
        let proxy =
            RecordingProxy::start(t6::client(t6::impersonating(admin_config.clone(), &user))).await;
        let config = dir.path().join(format!("{identity}.kubeconfig"));
        proxy.kubeconfig(&config);
        replicas.push((identity, proxy, config));
    }
    let leases: Api<Lease> = Api::namespaced(admin.clone(), &ns);
    let servers: Api<MCPServer> = Api::namespaced(admin.clone(), &ns);

    // A starts first and leads; B starts as a standby.
    let argv_a = args("replica-a")();
    let mut a = Operator::spawn(
        &replicas[0].2,
        dir.path().join("a.log"),
        &argv_a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    eventually("replica-a leads", WAIT, || async {
        (lease_holder(&leases).await? == "replica-a").then_some(())
    })
    .await;
    let argv_b = args("replica-b")();
    let mut b = Operator::spawn(
        &replicas[1].2,
        dir.path().join("b.log"),
        &argv_b.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let (proxy_a, proxy_b) = (&replicas[0].1, &replicas[1].1);
    // B is up and polling the Lease (a standby that crashed would make the checks below vacuous).
    eventually("replica-b polls the Lease", WAIT, || async {
        let polls = proxy_b
            .recording
            .calls()
            .iter()
            .filter(|c| c.resource == "leases" && c.verb == "get")
            .count();
        (polls >= 2).then_some(())
    })
    .await;

    servers
        .create(&PostParams::default(), &server(&ns, "one"))
        .await
        .expect("server one");
    reconciled(&admin, &ns, "one", WAIT, &a).await;
    a.assert_running();
    b.assert_running();
    assert!(
        writes(&proxy_a.recording.calls())
            .iter()
            .any(|c| c.resource == "deployments" && c.name.as_deref() == Some("one")),
        "the leader wrote server one's Deployment"
    );
    let standby_calls = proxy_b.recording.calls();
    assert_eq!(
        writes(&standby_calls),
        Vec::<ApiCall>::new(),
        "the standby wrote while replica-a led\n{}",
        b.log()
    );
    assert!(
        standby_calls
            .iter()
            .all(|c| c.resource == "leases" || (c.resource == "mcpservers" && c.verb == "list")),
        "the standby only checks the CRDs once and polls the Lease: {standby_calls:#?}"
    );

    // SIGKILL the leader: no release, so B must wait for the Lease to expire, then take over.
    let killed = Instant::now();
    a.child.0.kill().expect("SIGKILL replica-a");
    a.child.0.wait().expect("reap replica-a");
    let calls_of_a = proxy_a.recording.calls().len();
    eventually(
        "replica-b takes the Lease over",
        Duration::from_secs(15),
        || async { (lease_holder(&leases).await? == "replica-b").then_some(()) },
    )
    .await;
    let takeover = killed.elapsed();
    eprintln!("takeover after SIGKILL: {takeover:?} (lease duration 6 s)");

    // The new leader reconciles a change made after the takeover, and repairs the old one.
    servers
        .create(&PostParams::default(), &server(&ns, "two"))
        .await
        .expect("server two");
    servers
        .patch(
            "one",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("scale server one");
    reconciled(&admin, &ns, "two", WAIT, &b).await;
    reconciled(&admin, &ns, "one", WAIT, &b).await;
    b.assert_running();
    assert!(
        writes(&proxy_b.recording.calls())
            .iter()
            .any(|c| c.resource == "deployments" && c.name.as_deref() == Some("two")),
        "the new leader wrote server two's Deployment\n{}",
        b.log()
    );
    assert_eq!(
        proxy_a.recording.calls().len(),
        calls_of_a,
        "a killed process makes no calls"
    );
    for proxy in [proxy_a, proxy_b] {
        let denied = proxy.recording.denied();
        assert!(denied.is_empty(), "RBAC refused: {denied:#?}");
    }
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_api_server_restart_the_running_operator_resumes_its_watches_and_converges() {
    // Under CI the shared cluster is required for every T6 test; this one only needs the script.
    let _ = t6::kubeconfig_path();
    // Blocking calls here are fine: the operator under test is another process.
    let plane = PrivateControlPlane::start();
    let admin_config = t6::config_from(&plane.kubeconfig).await;
    let admin = t6::client(admin_config.clone());
    t6::install_crds(&admin).await;
    let namespace = TestNamespace::create(&admin, &plane.kubeconfig, "restart").await;
    let ns = namespace.name.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    // The control plane is this test's alone, so the operator can watch every namespace, as
    // deployed: its cluster-wide calls are judged by the shipped RBAC too (impersonation in the
    // kubeconfig). Straight to the API server (no proxy: its connections must really break), with
    // leader election on; a lease long enough to outlast the restart.
    let user = t6::install_operator_rbac(&admin_config, &namespace).await;
    let kubeconfig = dir.path().join("operator.kubeconfig");
    impersonating_kubeconfig(Path::new(&plane.kubeconfig), &user, &kubeconfig);
    let mut operator = Operator::spawn(
        &kubeconfig,
        dir.path().join("operator.log"),
        &[
            "--lease-namespace",
            &ns,
            "--lease-duration-seconds",
            "120",
            "--identity",
            "restart-test",
        ],
    );
    let servers: Api<MCPServer> = Api::namespaced(admin.clone(), &ns);
    servers
        .create(&PostParams::default(), &server(&ns, "before"))
        .await
        .expect("server before");
    reconciled(&admin, &ns, "before", WAIT, &operator).await;

    // RBAC refusals read "... is forbidden: User ... cannot ..." (a bare "403" could be a
    // resourceVersion).
    let refused = |log: &str| log.to_lowercase().contains("forbidden");
    let log = operator.log();
    assert!(
        !refused(&log),
        "the API server refused calls of the operator's ServiceAccount:\n{log}"
    );

    let restart = Instant::now();
    plane.kill_api_server();
    // `start` starts only what is not running: kube-apiserver, on the same etcd.
    plane.run("start");
    eprintln!("kube-apiserver down and back in {:?}", restart.elapsed());

    // Changes made after the restart reach the same operator process through resumed watches.
    servers
        .create(&PostParams::default(), &server(&ns, "after"))
        .await
        .expect("server after");
    servers
        .patch(
            "before",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .expect("scale server before");
    let resumed = Instant::now();
    // A restarted kube-apiserver refuses (403) until its RBAC cache has synced again, which
    // takes seconds on an idle machine and much longer on a loaded one: the bound is generous,
    // the convergence itself is what is judged.
    reconciled(&admin, &ns, "after", AFTER_RESTART, &operator).await;
    reconciled(&admin, &ns, "before", AFTER_RESTART, &operator).await;
    eprintln!(
        "converged {:?} after the API server was back",
        resumed.elapsed()
    );
    operator.assert_running();
    // A restarted kube-apiserver answers 403 for a moment, until its RBAC cache has synced: the
    // operator retries like any error. Once it converged, its calls are granted again.
    let converged_log = operator.log().len();
    servers
        .create(&PostParams::default(), &server(&ns, "last"))
        .await
        .expect("server last");
    reconciled(&admin, &ns, "last", WAIT, &operator).await;
    let log = operator.log();
    assert!(
        !refused(&log[converged_log..]),
        "the API server refused calls of the operator's ServiceAccount:\n{log}"
    );
    drop(operator);
    drop(namespace);
    drop(plane);
}
