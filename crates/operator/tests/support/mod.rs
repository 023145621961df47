//! Shared by the controller tests: a running operator against the fake API, fixtures, polling,
//! and the RBAC contract check.

#![allow(dead_code)]

use futures::future::BoxFuture;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use mcp_runtime_api::server::{ServerCapabilities, ServerInfo};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use mcp_runtime_operator::config::OperatorConfig;
use mcp_runtime_operator::controller::{self, Context, Timing};
use mcp_runtime_operator::handshake::{Answer, Depth, Handshake, HandshakeError};
use mcp_runtime_testkit::{ApiCall, FakeApi};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

pub const NS: &str = "team-a";
pub const WAIT: Duration = Duration::from_secs(10);

/// Stands in for the MCP server behind the Service (no pod ever runs in the fake).
#[derive(Debug, Default)]
pub struct StubHandshake {
    pub calls: AtomicUsize,
    /// The tool names `tools/list` answers with, in the order the server lists them.
    pub tools: Mutex<Vec<String>>,
    /// How far each call went.
    pub depths: Mutex<Vec<Depth>>,
}

impl StubHandshake {
    /// A server that lists these tools.
    pub fn listing(tools: &[&str]) -> StubHandshake {
        let stub = StubHandshake::default();
        stub.set_tools(tools);
        stub
    }

    /// From now on the server lists these tools.
    pub fn set_tools(&self, tools: &[&str]) {
        *self.tools.lock().expect("tools") = tools.iter().map(|t| (*t).to_owned()).collect();
    }

    pub fn depths(&self) -> Vec<Depth> {
        self.depths.lock().expect("depths").clone()
    }
}

impl Handshake for StubHandshake {
    fn handshake<'a>(
        &'a self,
        _url: &'a str,
        depth: Depth,
    ) -> BoxFuture<'a, Result<Answer, HandshakeError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.depths.lock().expect("depths").push(depth);
        let tools = (depth == Depth::ListTools).then(|| self.tools.lock().expect("tools").clone());
        Box::pin(async move {
            Ok(Answer::new(
                ServerInfo {
                    name: Some("stub-server".into()),
                    version: Some("1.2.3".into()),
                    protocol_version: Some("2025-06-18".into()),
                    instructions: None,
                    capabilities: ServerCapabilities {
                        tools: true,
                        ..Default::default()
                    },
                },
                tools,
            ))
        })
    }
}

pub fn config() -> OperatorConfig {
    OperatorConfig::from_lookup(|name| {
        match name {
            "MCP_GATEWAY_PROXY_IMAGE" => Some("ghcr.io/mcp-runtime/mcp-runtime:0.1.0"),
            "MCP_SENTINEL_INGEST_URL" => Some("http://sentinel.mcp-sentinel.svc:8080/events"),
            "MCP_CLUSTER_NAME" => Some("test-cluster"),
            _ => None,
        }
        .map(str::to_owned)
    })
}

pub fn fast_timing() -> Timing {
    Timing {
        error_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(2),
        not_ready_requeue: Duration::from_millis(300),
        // Constant: the tests count on a reconcile every 300 ms while not ready.
        not_ready_requeue_max: Duration::from_millis(300),
        not_ready_rechecks_per_second:
            mcp_runtime_operator::controller::DEFAULT_NOT_READY_RECHECKS_PER_SECOND,
        resync: Duration::from_secs(60),
    }
}

/// A running operator. Dropping it stops the controllers.
pub struct Running {
    pub fake: FakeApi,
    pub client: kube::Client,
    pub context: Arc<Context>,
    pub handshake: Arc<StubHandshake>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn start(fake: FakeApi) -> Running {
        Running::start_with(fake, config()).await
    }

    pub async fn start_with(fake: FakeApi, config: OperatorConfig) -> Running {
        Running::start_with_handshake(fake, config, StubHandshake::default()).await
    }

    /// With `handshake` standing in for the servers' MCP endpoints.
    pub async fn start_with_handshake(
        fake: FakeApi,
        config: OperatorConfig,
        handshake: StubHandshake,
    ) -> Running {
        let client = fake.test_client();
        let handshake = Arc::new(handshake);
        let context = Arc::new(
            Context::new(fake.client(), config, handshake.clone()).with_timing(fast_timing()),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(controller::run(context.clone(), async move {
            let _ = stopped.await;
        }));
        Running {
            fake,
            client,
            context,
            handshake,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the controllers gracefully and waits for them.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(WAIT, task).await;
        }
    }

    pub fn reconciles(&self, controller: &str) -> u64 {
        self.context
            .metrics
            .reconciles
            .get_or_create(&mcp_runtime_operator::controller::ControllerLabels {
                controller: controller.into(),
            })
            .get()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

pub fn server(name: &str, spec: serde_json::Value) -> MCPServer {
    let mut server: MCPServer = serde_json::from_value(serde_json::json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }))
    .expect("server");
    server.metadata.namespace = Some(NS.into());
    server
}

pub fn grant(name: &str, server: &str, human: &str) -> MCPAccessGrant {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPAccessGrant",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "serverRef": {"name": server},
            "subject": {"humanID": human},
            "maxTrust": "medium",
            "allowedSideEffects": ["read"],
        },
    }))
    .expect("grant")
}

pub fn session(name: &str, server: &str, expires_at: Option<String>) -> MCPAgentSession {
    let mut spec = serde_json::json!({
        "serverRef": {"name": server},
        "subject": {"humanID": "alice", "agentID": "claude"},
        "consentedTrust": "low",
    });
    if let Some(at) = expires_at {
        spec["expiresAt"] = serde_json::Value::String(at);
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPAgentSession",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }))
    .expect("session")
}

pub use mcp_runtime_testkit::eventually;

/// The rules of `deploy/operator/rbac.yaml`: the ClusterRole and the leader-election Role.
pub fn rbac_rules() -> Vec<PolicyRule> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/operator/rbac.yaml");
    let text = std::fs::read_to_string(&path).expect("deploy/operator/rbac.yaml");
    let mut rules = Vec::new();
    for document in serde_norway::Deserializer::from_str(&text) {
        let value: serde_json::Value =
            serde::Deserialize::deserialize(document).expect("rbac yaml");
        match value["kind"].as_str() {
            Some("ClusterRole") => {
                let role: ClusterRole = serde_json::from_value(value).expect("ClusterRole");
                rules.extend(role.rules.unwrap_or_default());
            }
            Some("Role") => {
                let role: Role = serde_json::from_value(value).expect("Role");
                rules.extend(role.rules.unwrap_or_default());
            }
            _ => {}
        }
    }
    rules
}

fn allows(rule: &PolicyRule, call: &ApiCall) -> bool {
    let has = |list: &Option<Vec<String>>, value: &str| {
        list.as_ref()
            .is_some_and(|l| l.iter().any(|v| v == "*" || v == value))
    };
    let resource = match &call.subresource {
        Some(sub) => format!("{}/{sub}", call.resource),
        None => call.resource.clone(),
    };
    has(&rule.api_groups, &call.group)
        && has(&rule.resources, &resource)
        && rule.verbs.iter().any(|v| v == "*" || *v == call.verb)
        && match (&rule.resource_names, &call.name) {
            (Some(names), Some(name)) if !names.is_empty() => names.contains(name),
            (Some(names), None) if !names.is_empty() => false,
            _ => true,
        }
}

/// The RBAC contract: every call the operator made is granted by `deploy/`.
pub fn assert_rbac_covers(calls: &[ApiCall]) {
    let rules = rbac_rules();
    assert!(!rules.is_empty(), "no RBAC rules found");
    let mut missing: Vec<String> = calls
        .iter()
        .filter(|call| !rules.iter().any(|rule| allows(rule, call)))
        .map(|c| {
            format!(
                "{} {}/{}{}",
                c.verb,
                if c.group.is_empty() { "core" } else { &c.group },
                c.resource,
                c.subresource
                    .as_ref()
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "calls not granted by deploy/operator/rbac.yaml: {missing:#?}"
    );
}
