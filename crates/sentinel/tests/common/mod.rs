//! Shared test helpers: stores (SQLite in a temp dir, or a fresh database on the PostgreSQL
//! server `.ci/run` starts), a running Sentinel on 127.0.0.1, an HTTP client and a seeded dataset.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mcp_runtime_sentinel::{Sentinel, SentinelConfig, StoreUrl};
use serde_json::{Value, json};

/// The variable `.ci/run` exports after starting its private PostgreSQL cluster.
pub const POSTGRES_ENV: &str = "MCP_RUNTIME_TEST_POSTGRES_URL";

/// A store for one test; keeps its temp dir alive.
pub struct TestStore {
    pub url: StoreUrl,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    TestStore {
        url: StoreUrl::Sqlite(dir.path().join("sentinel.db")),
        _dir: Some(dir),
    }
}

/// A new, empty database on the test PostgreSQL server. Fails (never skips) without the server.
pub async fn postgres() -> TestStore {
    let base = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_ENV} is not set: the PostgreSQL store tests need a real server. Run `bash .ci/run`, \
             which installs PostgreSQL and starts a private cluster, or start one yourself and export \
             {POSTGRES_ENV}=postgres://USER@127.0.0.1:PORT/postgres"
        )
    });
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to {POSTGRES_ENV}={base}: {e}"));
    tokio::spawn(connection);
    let name = format!("sentinel_test_{}", uuid::Uuid::now_v7().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    let (prefix, query) = match base.split_once('?') {
        Some((p, q)) => (p.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let rest = prefix.split_once("://").map(|(_, r)| r).unwrap_or(&prefix);
    let url = if rest.contains('/') {
        let (head, _) = prefix.rsplit_once('/').expect("slash");
        format!("{head}/{name}{query}")
    } else {
        format!("{prefix}/{name}{query}")
    };
    TestStore {
        url: StoreUrl::Postgres(url),
        _dir: None,
    }
}

/// A Sentinel served on an ephemeral port of 127.0.0.1.
pub struct Running {
    pub sentinel: Sentinel,
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(config: SentinelConfig) -> Running {
    let sentinel = Sentinel::open(config).await.expect("open sentinel");
    start_with(sentinel).await
}

pub async fn start_with(sentinel: Sentinel) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = sentinel.router();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running {
        sentinel,
        base,
        task,
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: http::HeaderMap,
}

pub async fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut builder = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(Full::new(Bytes::from(body))).expect("request");
    let response = tokio::time::timeout(Duration::from_secs(60), client.request(request))
        .await
        .expect("request timed out")
        .expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
        headers,
    }
}

pub async fn get(url: &str) -> Reply {
    request("GET", url, &[], Vec::new()).await
}

pub async fn post_json(url: &str, key: Option<&str>, body: &Value) -> Reply {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(key) = key {
        headers.push(("x-api-key", key));
    }
    request(
        "POST",
        url,
        &headers,
        serde_json::to_vec(body).expect("json"),
    )
    .await
}

/// One event of the seeded dataset, with its fields for computing expectations.
#[derive(Debug, Clone)]
pub struct Seed {
    pub event_id: String,
    pub server: &'static str,
    pub agent: &'static str,
    pub human: &'static str,
    pub tool: &'static str,
    pub decision: &'static str,
    pub reason: &'static str,
    pub ts: jiff::Timestamp,
    pub json: Value,
}

pub const SERVERS: [&str; 3] = ["files", "github", "weather"];
pub const AGENTS: [&str; 3] = ["claude", "cursor", "copilot"];
pub const HUMANS: [&str; 2] = ["alice@example.com", "bob@example.com"];

/// `n` events over the last `n * 30` seconds: three servers, three agents, two humans; every
/// 5th call denied (every 10th for `trust_too_low`, the others `tool_not_granted`).
pub fn dataset(n: usize) -> Vec<Seed> {
    let now = jiff::Timestamp::now();
    (0..n)
        .map(|i| {
            let server = SERVERS[i % 3];
            let agent = AGENTS[(i / 3) % 3];
            let human = HUMANS[i % 2];
            let tool = match server {
                "files" => ["read_file", "write_file"][i % 2],
                "github" => ["create_issue", "delete_repo"][i % 2],
                _ => "forecast",
            };
            let (decision, reason) = if i % 10 == 0 {
                ("deny", "trust_too_low")
            } else if i % 5 == 0 {
                ("deny", "tool_not_granted")
            } else {
                ("allow", "allowed")
            };
            let secs = i64::try_from((n - i) * 30).expect("small");
            let ts = now - jiff::SignedDuration::from_secs(secs);
            let event_id = uuid::Uuid::now_v7().to_string();
            let json = json!({
                "event_id": event_id,
                "timestamp": ts.to_string(),
                "trace_id": format!("trace-{}", i / 2),
                "source": format!("{server}-gateway"),
                "event_type": "mcp.request",
                "payload": {
                    "method": "POST", "path": "/mcp", "status": if decision == "deny" { 403 } else { 200 },
                    "latency_ms": 5 + (i % 40) as u64, "bytes_in": 120, "bytes_out": 400,
                    "server": server, "namespace": "mcp-servers", "team_id": "platform",
                    "cluster": "dev", "human_id": human, "agent_id": agent,
                    "subject_team_id": "platform", "session_id": format!("sess-{agent}"),
                    "decision": decision, "reason": reason, "policy_version": "rev-1",
                    "rpc_method": "tools/call", "tool_name": tool,
                    "matched_grant": format!("{agent}-grant"), "matched_grant_namespace": "mcp-servers",
                    "matched_session": format!("sess-{agent}"), "matched_session_namespace": "mcp-servers",
                    "required_trust": "medium", "admin_trust": "high", "consented_trust": "medium",
                    "effective_trust": "medium", "required_side_effect": "read", "risk_level": "low"
                }
            });
            Seed {
                event_id,
                server,
                agent,
                human,
                tool,
                decision,
                reason,
                ts,
                json,
            }
        })
        .collect()
}

/// Posts the dataset in batches; panics unless every event is stored.
pub async fn seed(base: &str, key: Option<&str>, events: &[Seed]) {
    for chunk in events.chunks(250) {
        let body = Value::Array(chunk.iter().map(|s| s.json.clone()).collect());
        let reply = post_json(&format!("{base}/events"), key, &body).await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        assert_eq!(reply.body["stored"], chunk.len(), "{}", reply.text);
    }
}

pub use mcp_runtime_testkit::eventually;
