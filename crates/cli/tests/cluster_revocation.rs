//! Real-cluster test (T6) of revocation end to end: `kubectl patch` of a session or a grant →
//! the operator re-renders `<server>-gateway-policy` → the gateway's API watch delivers it → the
//! next call through the gateway is denied. 20 revocations; p95 must be ≤ 2 s.
//!
//! Both roles run as processes against the shared control plane, in a namespace of their own:
//! the operator watches only that namespace (`--namespace`, Lease there too), as its
//! ServiceAccount with the shipped RBAC (kubeconfig `as:`), so the per-server Role and
//! RoleBinding it creates pass the API server's escalation checks for real; the gateway runs as
//! the namespace's `mcp-workload` ServiceAccount, the identity of the pods, so only the Role the
//! operator created lets it watch its ConfigMap. No mounted file is ever written (the cluster has
//! no nodes): the API watch is the only source.
//!
//! The gateway reaches the API server through a TCP proxy of the test, which is then killed: the
//! gateway must keep enforcing its last good policy and report the staleness on
//! `/config/status` and in its metrics.
//!
//! Enabled like the other `cluster_*` tests (`cfg(mcp_cluster)`).

mod support;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use mcp_runtime_peers::{KillOnDrop, free_port};
use mcp_runtime_testkit::cluster::{self as t6, TestNamespace, impersonating_kubeconfig};
use mcp_runtime_testkit::eventually;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const ROUNDS: usize = 20;
const P95_BOUND: Duration = Duration::from_secs(2);

/// A loopback upstream answering every POST with a tool result ("ok").
fn upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let reply = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}"#;
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
            });
        }
    });
    format!("http://{address}")
}

/// A TCP proxy to the API server that can be cut: every connection is dropped and no new one is
/// accepted.
struct CuttableProxy {
    port: u16,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl CuttableProxy {
    async fn start(upstream: String) -> CuttableProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let registry = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().expect("tasks").push(task.abort_handle());
            }
        });
        tasks.lock().expect("tasks").push(accept.abort_handle());
        CuttableProxy { port, tasks }
    }

    fn cut(&self) {
        for task in self.tasks.lock().expect("tasks").drain(..) {
            task.abort();
        }
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// `admin`'s kubeconfig acting as `user`, optionally pointed at `127.0.0.1:<port>` (the API
/// server's certificate is issued for 127.0.0.1, so TLS still verifies).
fn kubeconfig_as(admin: &Path, user: &str, to: &Path, port: Option<u16>) {
    impersonating_kubeconfig(admin, user, to);
    if let Some(port) = port {
        let text = std::fs::read_to_string(to).expect("kubeconfig");
        let mut config: serde_json::Value = serde_json::from_str(&text).expect("json kubeconfig");
        for cluster in config["clusters"].as_array_mut().expect("clusters") {
            cluster["cluster"]["server"] = json!(format!("https://127.0.0.1:{port}"));
        }
        std::fs::write(to, config.to_string()).expect("write kubeconfig");
    }
}

fn call(gateway: &str) -> (u16, String) {
    support::http(
        gateway,
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("x-mcp-human-id", "alice"),
            ("x-mcp-agent-id", "claude"),
            ("x-mcp-agent-session", "s1"),
        ],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#,
    )
}

fn allowed(gateway: &str) -> bool {
    let (status, body) = call(gateway);
    status == 200 && body.contains(r#""text":"ok""#)
}

fn get(gateway: &str, path: &str) -> String {
    support::http(gateway, "GET", path, &[], "").1
}

/// Polls the gateway until `want` (allowed or not) holds; returns the time it took.
async fn until(gateway: &str, want_allowed: bool, within: Duration, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        let target = gateway.to_owned();
        let ok = tokio::task::spawn_blocking(move || allowed(&target))
            .await
            .expect("call");
        if ok == want_allowed {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{what}: not seen within {within:?}; last answer: {:?}",
            call(gateway)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
async fn t6_revocation_reaches_the_gateway_within_2_s_p95_and_a_cut_off_gateway_keeps_its_policy() {
    let kubeconfig = t6::kubeconfig_path();
    let admin_config = t6::config_from(&kubeconfig).await;
    let admin = t6::client(admin_config.clone());
    t6::install_crds(&admin).await;
    let namespace = TestNamespace::create(&admin, &kubeconfig, "revoke").await;
    let ns = namespace.name.clone();
    let operator_user = t6::install_operator_rbac(&admin_config, &namespace).await;
    let dir = tempfile::tempdir().expect("temp dir");

    // The operator, as its ServiceAccount, watching this namespace only.
    let operator_kubeconfig = dir.path().join("operator.kubeconfig");
    kubeconfig_as(
        Path::new(&kubeconfig),
        &operator_user,
        &operator_kubeconfig,
        None,
    );
    let operator_log = dir.path().join("operator.log");
    let health = format!("127.0.0.1:{}", free_port());
    let _operator = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
            .arg("operator")
            .args(["--health-addr", &health, "--metrics-addr", &health])
            .args(["--namespace", &ns, "--lease-namespace", &ns])
            .env("KUBECONFIG", &operator_kubeconfig)
            .env("MCP_RUNTIME_LOG", "info")
            .env_remove("WATCH_NAMESPACE")
            .env_remove("POD_NAMESPACE")
            .env_remove("POD_NAME")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&operator_log).expect("operator log"))
            .spawn()
            .expect("start mcp-runtime operator"),
    );
    let operator_log = || std::fs::read_to_string(&operator_log).unwrap_or_default();

    let servers: Api<MCPServer> = Api::namespaced(admin.clone(), &ns);
    let grants: Api<MCPAccessGrant> = Api::namespaced(admin.clone(), &ns);
    let sessions: Api<MCPAgentSession> = Api::namespaced(admin.clone(), &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(admin.clone(), &ns);
    let server: MCPServer = serde_json::from_value(json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": "tools", "namespace": ns},
        "spec": {
            "image": "ghcr.io/example/tools",
            "imageTag": "1.0",
            "tools": [{"name": "echo", "requiredTrust": "low", "sideEffect": "read"}],
            "auth": {"mode": "header"},
            "policy": {"mode": "allow-list", "defaultDecision": "deny"},
            "session": {"required": true},
            "gateway": {"enabled": true, "image": "ghcr.io/mcp-runtime/mcp-runtime:0.1.0"},
            "analytics": {"disabled": true},
        },
    }))
    .expect("server");
    servers
        .create(&PostParams::default(), &server)
        .await
        .expect("server");
    let grant: MCPAccessGrant = serde_json::from_value(json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPAccessGrant",
        "metadata": {"name": "alice", "namespace": ns},
        "spec": {
            "serverRef": {"name": "tools"},
            "subject": {"humanID": "alice", "agentID": "claude"},
            "maxTrust": "low",
            "allowedSideEffects": ["read"],
        },
    }))
    .expect("grant");
    grants
        .create(&PostParams::default(), &grant)
        .await
        .expect("grant");
    let session: MCPAgentSession = serde_json::from_value(json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPAgentSession",
        "metadata": {"name": "s1", "namespace": ns},
        "spec": {
            "serverRef": {"name": "tools"},
            "subject": {"humanID": "alice", "agentID": "claude"},
            "consentedTrust": "low",
        },
    }))
    .expect("session");
    sessions
        .create(&PostParams::default(), &session)
        .await
        .expect("session");
    let waited = tokio::time::timeout(
        WAIT,
        eventually("the policy ConfigMap", Duration::MAX / 4, || async {
            config_maps.get_opt("tools-gateway-policy").await.ok()?
        }),
    )
    .await;
    assert!(
        waited.is_ok(),
        "no policy ConfigMap; operator log:\n{}",
        operator_log()
    );

    // The gateway, as the pods' ServiceAccount, through the cuttable proxy; no policy file.
    let api_server = admin_config
        .cluster_url
        .authority()
        .expect("API server address")
        .to_string();
    let proxy = CuttableProxy::start(api_server).await;
    let gateway_kubeconfig = dir.path().join("gateway.kubeconfig");
    kubeconfig_as(
        Path::new(&kubeconfig),
        &t6::service_account_user(&ns, "mcp-workload"),
        &gateway_kubeconfig,
        Some(proxy.port),
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-runtime"));
    command
        .arg("gateway")
        .env("KUBECONFIG", &gateway_kubeconfig)
        .env("POLICY_CONFIGMAP", format!("{ns}/tools-gateway-policy"))
        .env("AUTH_MODE", "header");
    let gateway =
        support::spawn_gateway(command, &upstream(), &dir.path().join("policy.json"), &[]);
    let address = gateway.address.clone();

    // Allowed once the watch delivered the first document (the Role must be in effect).
    until(
        &address,
        true,
        WAIT,
        "the first policy through the API watch",
    )
    .await;

    let patch = |value: serde_json::Value| Patch::Merge(value);
    let params = PatchParams::default();
    // Revokes (or restores) the session, or disables (or enables) the grant.
    let revoke = |by_session: bool, revoked: bool| {
        let (sessions, grants, params) = (&sessions, &grants, &params);
        async move {
            if by_session {
                sessions
                    .patch("s1", params, &patch(json!({"spec": {"revoked": revoked}})))
                    .await
                    .expect("patch the session");
            } else {
                grants
                    .patch(
                        "alice",
                        params,
                        &patch(json!({"spec": {"disabled": revoked}})),
                    )
                    .await
                    .expect("patch the grant");
            }
        }
    };
    let mut latencies = Vec::new();
    for round in 0..ROUNDS {
        let by_session = round.is_multiple_of(2);
        let started = Instant::now();
        revoke(by_session, true).await;
        until(&address, false, Duration::from_secs(30), "the revocation").await;
        latencies.push(started.elapsed());
        if round + 1 == ROUNDS {
            break; // Leave the last revocation in place for the cut-off below.
        }
        // Restore, untimed.
        revoke(by_session, false).await;
        until(&address, true, Duration::from_secs(30), "the restore").await;
    }
    let mut sorted = latencies.clone();
    sorted.sort();
    let percentile =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "revocation latencies (ms, patch -> first denied call), in order: {:?}",
        latencies.iter().map(|d| ms(*d).round()).collect::<Vec<_>>()
    );
    eprintln!(
        "revocation latency over {ROUNDS}: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        ms(percentile(0.50)),
        ms(percentile(0.95)),
        ms(*sorted.last().expect("latencies"))
    );
    assert!(
        percentile(0.95) <= P95_BOUND,
        "p95 {:?} > {P95_BOUND:?}: {latencies:?}",
        percentile(0.95)
    );
    let status: serde_json::Value =
        serde_json::from_str(&get(&address, "/config/status")).expect("status json");
    assert_eq!(status["source"], "api", "{status}");
    assert_eq!(status["sources"]["api"]["up"], true, "{status}");

    // Cut the gateway off from the API server.
    proxy.cut();
    let revision = status["revision"].clone();
    let stale = eventually("the gateway reports the stale source", WAIT, || async {
        let address = address.clone();
        let body = tokio::task::spawn_blocking(move || get(&address, "/config/status"))
            .await
            .ok()?;
        let status: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status["stale"] == true && status["sources"]["api"]["up"] == false).then_some(status)
    })
    .await;
    eprintln!("status after the cut: {stale}");
    assert_eq!(stale["ready"], true, "the last good policy stays active");
    assert_eq!(stale["revision"], revision);
    assert!(stale["sources"]["api"]["last_error"].is_string(), "{stale}");
    let metrics = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || get(&address, "/metrics"))
            .await
            .expect("metrics")
    };
    assert!(
        metrics.contains(r#"mcp_gateway_policy_source_up{source="api"} 0"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"mcp_gateway_policy_source_age_seconds{source="api"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("mcp_gateway_policy_age_seconds"),
        "{metrics}"
    );
    let ready = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || support::http(&address, "GET", "/ready", &[], ""))
            .await
            .expect("ready")
    };
    assert_eq!(
        ready.0, 200,
        "a stale gateway still serves its last good policy: {ready:?}"
    );

    // Undoing the revocation in the cluster cannot reach it: it keeps enforcing (never fails
    // open, never drops its policy) for as long as it is cut off.
    let last_by_session = (ROUNDS - 1).is_multiple_of(2);
    if last_by_session {
        sessions
            .patch("s1", &params, &patch(json!({"spec": {"revoked": false}})))
            .await
            .expect("restore the session");
    } else {
        grants
            .patch(
                "alice",
                &params,
                &patch(json!({"spec": {"disabled": false}})),
            )
            .await
            .expect("enable the grant");
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let address = address.clone();
        let ok = tokio::task::spawn_blocking(move || allowed(&address))
            .await
            .expect("call");
        assert!(!ok, "a cut-off gateway changed its policy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(gateway);
}
