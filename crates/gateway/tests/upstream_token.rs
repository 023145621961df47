//! A session's own upstream token (`spec.upstreamTokenSecretRef`): the gateway sends the
//! Secret's token, read from `<dir>/<namespace>/<secret>/<key>`, in
//! `session.upstream_token_header`, and never the caller's credentials. A recording upstream
//! shows what arrives.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig};
use mcp_runtime_gateway::upstream_token::UpstreamTokenDir;
use mcp_runtime_policy::{
    CompiledPolicy, Grant, PolicyDocument, SessionBinding, SideEffect, Tool, ToolRule, Trust,
};
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

mod recording_upstream;
use recording_upstream::upstream;

const NAMESPACE: &str = "team-a";

/// Header mode; `read_file` for agent `claude`; sessions of `claude`: `with-token` (names the
/// Secret key `github-pat/token`), `revoked-with-token` (revoked, names it too), `no-token`,
/// and `missing-token` (names a key that has no file).
fn policy(upstream_token_header: &str) -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = NAMESPACE.into();
    document.session.upstream_token_header = upstream_token_header.into();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    let mut grant = Grant::new(NAMESPACE, "claude");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::Low.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    grant.tool_rules = vec![ToolRule::allow("read_file", Trust::Low)];
    document.grants.push(grant);
    for (name, revoked, reference) in [
        ("with-token", false, "github-pat/token"),
        ("revoked-with-token", true, "github-pat/token"),
        ("no-token", false, ""),
        ("missing-token", false, "absent/token"),
    ] {
        let mut session = SessionBinding::new(NAMESPACE, name);
        session.agent_id = "claude".into();
        session.revoked = revoked;
        session.upstream_token_ref = reference.into();
        document.sessions.push(session);
    }
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

async fn gateway(upstream: &str, policy: Arc<CompiledPolicy>, tokens: &Path) -> String {
    gateway_reading(upstream, policy, UpstreamTokenDir::new(tokens)).await
}

async fn gateway_reading(
    upstream: &str,
    policy: Arc<CompiledPolicy>,
    tokens: UpstreamTokenDir,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let proxy = Proxy::new(ProxyConfig {
        upstream: upstream.parse().expect("uri"),
        strip_prefix: None,
        deny_encoding: Default::default(),
        limits: Default::default(),
        policy: Arc::new(move || Some(policy.clone())),
        config_status: None,
        audit: None,
        labels: Default::default(),
        metrics: None,
        allowed_origins: Vec::new(),
        oauth: Default::default(),
    })
    .with_upstream_token_dir(tokens);
    tokio::spawn(proxy.serve(listener));
    format!("http://{address}/mcp")
}

fn write_token(dir: &Path, secret: &str, token: &str) {
    let path = dir.join(NAMESPACE).join(secret);
    std::fs::create_dir_all(&path).expect("mkdir");
    std::fs::write(path.join("token"), token).expect("write");
}

/// POSTs `body` as agent `claude` in `session`, with the caller's own bearer token beside it.
async fn post(url: &str, body: &str, session: &str) -> (u16, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let request = http::Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-mcp-agent-id", "claude")
        .header("x-mcp-agent-session", session)
        .header("authorization", "Bearer the-callers-own-token")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{}}}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;

fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| value.to_str().expect("text").to_owned())
}

#[tokio::test]
async fn the_upstream_gets_the_sessions_secret_token_never_the_callers_and_rotation_needs_no_restart()
 {
    let tokens = tempfile::tempdir().expect("tempdir");
    write_token(tokens.path(), "github-pat", "secret-one\n");
    let (upstream_url, seen) = upstream().await;
    let url = gateway(&upstream_url, policy("Authorization"), tokens.path()).await;

    // Tool calls and other methods of the session alike carry its token.
    for body in [CALL, LIST] {
        let (status, reply) = post(&url, body, "with-token").await;
        assert_eq!(status, 200, "{reply}");
    }
    // The Secret is rotated (a projected volume swaps the file; here it is rewritten): the
    // next request carries the new token.
    write_token(tokens.path(), "github-pat", "secret-two");
    assert_eq!(post(&url, CALL, "with-token").await.0, 200);
    // A session without a token, and a revoked one that names a token: no token at all.
    assert_eq!(post(&url, CALL, "no-token").await.0, 200);
    assert_eq!(post(&url, LIST, "revoked-with-token").await.0, 200);

    let seen = seen.lock().expect("lock");
    let authorization: Vec<Option<String>> = seen
        .iter()
        .map(|parts| header(&parts.headers, "authorization"))
        .collect();
    assert_eq!(
        authorization,
        [
            Some("Bearer secret-one".to_owned()),
            Some("Bearer secret-one".to_owned()),
            Some("Bearer secret-two".to_owned()),
            None,
            None,
        ]
    );
    for headers in seen.iter().map(|parts| &parts.headers) {
        assert_eq!(header(headers, "x-mcp-agent-id").as_deref(), Some("claude"));
        for value in headers.values() {
            assert!(
                !value.as_bytes().windows(9).any(|w| w == b"the-calle"),
                "the caller's token was forwarded: {headers:?}"
            );
        }
    }
}

#[tokio::test]
async fn another_header_gets_the_bare_token_and_the_callers_authorization_is_dropped() {
    let tokens = tempfile::tempdir().expect("tempdir");
    write_token(tokens.path(), "github-pat", "  ghp_abc123 \n");
    let (upstream_url, seen) = upstream().await;
    let url = gateway(&upstream_url, policy("X-Upstream-Token"), tokens.path()).await;
    assert_eq!(post(&url, CALL, "with-token").await.0, 200);
    let seen = seen.lock().expect("lock");
    let headers = &seen.first().expect("forwarded").headers;
    assert_eq!(
        header(headers, "x-upstream-token").as_deref(),
        Some("ghp_abc123")
    );
    assert_eq!(header(headers, "authorization"), None);
}

#[tokio::test]
async fn a_session_whose_token_cannot_be_read_is_refused_before_the_upstream() {
    let tokens = tempfile::tempdir().expect("tempdir");
    write_token(tokens.path(), "github-pat", "secret-one");
    let (upstream_url, seen) = upstream().await;
    let url = gateway(&upstream_url, policy("Authorization"), tokens.path()).await;
    for body in [CALL, LIST] {
        let (status, reply) = post(&url, body, "missing-token").await;
        assert_eq!(status, 503, "{reply}");
        assert!(reply.contains("upstream_token_unavailable"), "{reply}");
    }
    assert!(
        seen.lock().expect("lock").is_empty(),
        "nothing was forwarded without the session's token"
    );
    // An empty file is no token either.
    write_token(tokens.path(), "absent", "\n");
    assert_eq!(post(&url, CALL, "missing-token").await.0, 503);
    assert!(seen.lock().expect("lock").is_empty());
    // The token appears: the same session is served, with no restart.
    write_token(tokens.path(), "absent", "late-token");
    assert_eq!(post(&url, CALL, "missing-token").await.0, 200);
    assert_eq!(
        header(&seen.lock().expect("lock")[0].headers, "authorization").as_deref(),
        Some("Bearer late-token")
    );
}

/// Local mode (`up`): a token whose file does not exist comes from
/// `MCP_UPSTREAM_TOKEN_<SECRET>_<KEY>`; a file, when there is one, wins.
#[tokio::test]
async fn in_local_mode_a_missing_file_falls_back_to_the_environment() {
    let tokens = tempfile::tempdir().expect("tempdir");
    let environment = std::collections::HashMap::from([
        (
            "MCP_UPSTREAM_TOKEN_GITHUB_PAT_TOKEN",
            "from-the-environment",
        ),
        (
            "MCP_UPSTREAM_TOKEN_ABSENT_TOKEN",
            "absent-from-the-environment",
        ),
    ]);
    let source = UpstreamTokenDir::new(tokens.path()).with_env_lookup(Arc::new(move |name| {
        environment.get(name).map(|value| (*value).to_owned())
    }));
    let (upstream_url, seen) = upstream().await;
    let url = gateway_reading(&upstream_url, policy("Authorization"), source).await;
    assert_eq!(post(&url, CALL, "with-token").await.0, 200);
    write_token(tokens.path(), "github-pat", "from-the-file");
    assert_eq!(post(&url, CALL, "with-token").await.0, 200);
    assert_eq!(post(&url, CALL, "missing-token").await.0, 200);
    let seen = seen.lock().expect("lock");
    let authorization: Vec<Option<String>> = seen
        .iter()
        .map(|parts| header(&parts.headers, "authorization"))
        .collect();
    assert_eq!(
        authorization,
        [
            Some("Bearer from-the-environment".to_owned()),
            Some("Bearer from-the-file".to_owned()),
            Some("Bearer absent-from-the-environment".to_owned()),
        ]
    );
}
