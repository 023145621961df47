//! `auth.mode: oauth` against a real OpenID provider (panva's `oidc-provider` 9.13.3, installed
//! by `.ci/run`, configured by `tests/peers/node/oidc-provider.mjs`): client-credentials tokens
//! with the gateway's resource URL as audience (RFC 8707). A recording upstream shows what got
//! through: only requests with a valid token, and never the token itself.

mod oauth_common;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use jsonwebtoken::Algorithm;
use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::inspect::Limits;
use mcp_runtime_gateway::proxy::{OAuthConfig, Proxy, ProxyConfig, ServerLabels};
use mcp_runtime_policy::{
    AuthMode, CompiledPolicy, Grant, Lenient, PolicyDocument, SideEffect, Tool, ToolRule, Trust,
};
use oauth_common::{Provider, key_confusion, payload, sign, unsigned};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

mod recording_upstream;
use recording_upstream::upstream;

/// `read_file` allowed and `rm_rf` denied for the agent `agent-claude` (the provider's client).
fn policy(issuer: &str) -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = "tools".into();
    document.auth.mode = Lenient::Known(AuthMode::Oauth);
    document.auth.issuer_url = issuer.to_owned();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    document
        .tools
        .push(Tool::new("rm_rf", SideEffect::Destructive, Trust::High));
    let mut grant = Grant::new("tools", "claude");
    grant.agent_id = "agent-claude".into();
    grant.max_trust = Trust::High.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into(), SideEffect::Destructive.into()];
    grant.tool_rules = vec![
        ToolRule::allow("read_file", Trust::Low),
        ToolRule::deny("rm_rf"),
    ];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

#[derive(Default)]
struct Collected(Mutex<Vec<mcp_runtime_audit::AuditEvent>>);

impl mcp_runtime_audit::AuditSink for Collected {
    fn emit(&self, event: mcp_runtime_audit::AuditEvent) {
        self.0.lock().expect("lock").push(event);
    }
}

impl Collected {
    fn payloads(&self) -> Vec<serde_json::Value> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .map(|event| serde_json::to_value(&event.payload).expect("payload"))
            .collect()
    }
}

struct Gateway {
    /// `http://127.0.0.1:<port>`: also the resource's base URL (from Host, on loopback).
    url: String,
    audit: Arc<Collected>,
}

impl Gateway {
    fn resource(&self) -> String {
        format!("{}/mcp", self.url)
    }

    fn metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.url)
    }
}

async fn gateway(
    upstream: &str,
    policy: Arc<CompiledPolicy>,
    encoding: DenyEncoding,
    bind: &str,
) -> Gateway {
    let listener = TcpListener::bind(bind).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let audit: Arc<Collected> = Arc::default();
    let proxy = Proxy::new(ProxyConfig {
        upstream: upstream.parse().expect("uri"),
        strip_prefix: None,
        deny_encoding: encoding,
        limits: Limits::default(),
        policy: Arc::new(move || Some(policy.clone())),
        config_status: None,
        audit: Some(audit.clone()),
        labels: ServerLabels {
            server: "files".into(),
            ..ServerLabels::default()
        },
        metrics: None,
        allowed_origins: Vec::new(),
        oauth: OAuthConfig {
            public_url: None,
            loopback_hosts_only: false,
            verification: mcp_runtime_oauth::Settings {
                leeway: Duration::from_secs(1),
                min_refresh_interval: Duration::from_secs(2),
                ..mcp_runtime_oauth::Settings::default()
            },
        },
    });
    tokio::spawn(proxy.serve(listener));
    Gateway {
        url: format!("http://127.0.0.1:{port}"),
        audit,
    }
}

struct Reply {
    status: u16,
    challenge: Option<String>,
    body: String,
}

async fn request(method: http::Method, uri: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = client
        .request(
            builder
                .body(Full::new(Bytes::from(body.to_owned())))
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("text").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        challenge,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn call(gateway: &Gateway, tool: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        // Forged identity next to the token: ignored in oauth mode.
        ("x-mcp-agent-id", "someone-else"),
        ("x-mcp-human-id", "admin"),
    ];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    );
    request(http::Method::POST, &gateway.resource(), &body, &headers).await
}

fn reason(reply: &Reply, encoding: DenyEncoding) -> String {
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON body");
    match encoding {
        DenyEncoding::JsonRpc => body["error"]["data"]["reason"].as_str(),
        DenyEncoding::Http => body["error"].as_str(),
    }
    .unwrap_or_default()
    .to_owned()
}

#[tokio::test]
async fn provider_tokens_pass_and_every_bad_token_is_refused_with_a_challenge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = Provider::start(dir.path(), "a", "RS256");
    let other = Provider::start(dir.path(), "b", "RS256");
    for encoding in [DenyEncoding::JsonRpc, DenyEncoding::Http] {
        let (upstream_url, seen) = upstream().await;
        let gateway = gateway(
            &upstream_url,
            policy(&provider.issuer),
            encoding,
            "127.0.0.1:0",
        )
        .await;
        let context = format!("{encoding:?}");
        let resource = gateway.resource();

        // A valid token from the provider: the allowed call reaches the upstream, without the
        // token, with the identity the token carries.
        let token = provider
            .token("agent-claude", "claude-secret", &resource)
            .await;
        let reply = call(&gateway, "read_file", Some(&token)).await;
        assert_eq!(reply.status, 200, "{context}: {}", reply.body);
        assert!(reply.body.contains("done"), "{context}: {}", reply.body);
        {
            let seen = seen.lock().expect("lock");
            assert_eq!(seen.len(), 1, "{context}");
            let headers = &seen[0].headers;
            assert!(
                headers.get("authorization").is_none(),
                "{context}: no token passthrough"
            );
            assert!(
                !format!("{headers:?}").contains(&token),
                "{context}: the token reaches the upstream in no header"
            );
            assert_eq!(
                headers["x-mcp-agent-id"], "agent-claude",
                "{context}: azp/client_id"
            );
            assert_eq!(headers["x-mcp-human-id"], "agent-claude", "{context}: sub");
            assert_eq!(headers["x-mcp-team-id"], "storage", "{context}: tid");
        }
        // The same token for a denied tool: a policy denial, not forwarded.
        let reply = call(&gateway, "rm_rf", Some(&token)).await;
        assert_eq!(
            reason(&reply, encoding),
            "tool_denied",
            "{context}: {}",
            reply.body
        );
        assert_eq!(reply.challenge, None, "{context}");

        // No token: 401 missing_bearer_token, challenge without an error.
        let reply = call(&gateway, "read_file", None).await;
        assert_eq!(reply.status, 401, "{context}: {}", reply.body);
        assert_eq!(
            reason(&reply, encoding),
            "missing_bearer_token",
            "{context}"
        );
        assert_eq!(
            reply.challenge.as_deref(),
            Some(
                format!(
                    r#"Bearer realm="mcp-runtime", resource_metadata="{}""#,
                    gateway.metadata_url()
                )
                .as_str()
            ),
            "{context}"
        );

        // Bad tokens: 401 invalid_token with error="invalid_token".
        let claims = payload(&token);
        let mut foreign = claims.clone();
        foreign["jti"] = "forged".into();
        let wrong_audience = provider
            .token(
                "agent-claude",
                "claude-secret",
                "http://127.0.0.1:1/other/mcp",
            )
            .await;
        let wrong_issuer = other
            .token("agent-claude", "claude-secret", &resource)
            .await;
        let short = provider
            .token("short-lived", "short-secret", &resource)
            .await;
        let mut bad = vec![
            ("wrong audience", wrong_audience),
            ("wrong issuer", wrong_issuer),
            (
                "signed by another key under the provider's kid",
                sign(
                    &other.private_pem(),
                    Algorithm::RS256,
                    &provider.kid(),
                    &foreign,
                ),
            ),
            ("alg none", unsigned(&provider.kid(), &foreign)),
            (
                "HS256 signed with the provider's public key",
                key_confusion(&provider.public_pem(), &provider.kid(), &foreign),
            ),
            ("not a JWT", "opaque-token".to_owned()),
        ];
        if encoding == DenyEncoding::JsonRpc {
            // 1 s lifetime, 1 s leeway, whole seconds: past exp + leeway within 3.1 s.
            tokio::time::sleep(Duration::from_millis(3100)).await;
            bad.push(("expired", short));
        }
        for (name, token) in &bad {
            let reply = call(&gateway, "read_file", Some(token)).await;
            assert_eq!(reply.status, 401, "{context}: {name}: {}", reply.body);
            assert_eq!(
                reason(&reply, encoding),
                "invalid_token",
                "{context}: {name}"
            );
            assert_eq!(
                reply.challenge.as_deref(),
                Some(
                    format!(
                        r#"Bearer realm="mcp-runtime", resource_metadata="{}", error="invalid_token""#,
                        gateway.metadata_url()
                    )
                    .as_str()
                ),
                "{context}: {name}"
            );
        }
        assert_eq!(
            seen.lock().expect("lock").len(),
            1,
            "{context}: nothing else reached the upstream"
        );

        // Every request is audited, with the method and the token's jti (never the token).
        let payloads = gateway.audit.payloads();
        assert_eq!(payloads.len(), 3 + bad.len(), "{context}: {payloads:?}");
        assert_eq!(payloads[0]["decision"], "allow");
        assert_eq!(payloads[0]["auth_method"], "oauth");
        assert_eq!(payloads[0]["token_id"], claims["jti"]);
        assert_eq!(payloads[0]["agent_id"], "agent-claude");
        assert_eq!(payloads[1]["reason"], "tool_denied");
        assert_eq!(payloads[2]["reason"], "missing_bearer_token");
        for payload in &payloads[3..] {
            assert_eq!(payload["reason"], "invalid_token", "{context}");
            assert_eq!(payload["auth_method"], "oauth", "{context}");
        }
        let all = serde_json::to_string(&payloads).expect("json");
        assert!(
            !all.contains(&token),
            "{context}: the audit never holds a token"
        );
    }
}

#[tokio::test]
async fn es256_tokens_verify_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = Provider::start(dir.path(), "ec", "ES256");
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(
        &upstream_url,
        policy(&provider.issuer),
        DenyEncoding::JsonRpc,
        "127.0.0.1:0",
    )
    .await;
    let token = provider
        .token("agent-claude", "claude-secret", &gateway.resource())
        .await;
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.alg, Algorithm::ES256);
    let reply = call(&gateway, "read_file", Some(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn keys_rotate_without_a_gateway_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = Provider::start(dir.path(), "first", "RS256");
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(
        &upstream_url,
        policy(&provider.issuer),
        DenyEncoding::JsonRpc,
        "127.0.0.1:0",
    )
    .await;
    let resource = gateway.resource();
    let old_token = provider
        .token("agent-claude", "claude-secret", &resource)
        .await;
    assert_eq!(
        call(&gateway, "read_file", Some(&old_token)).await.status,
        200
    );
    let old_kid = provider.kid();

    // The provider restarts with a new key set (same issuer).
    let provider = provider.restart_with(dir.path().join("second.json"), "RS256");
    assert_ne!(provider.kid(), old_kid);
    let new_token = provider
        .token("agent-claude", "claude-secret", &resource)
        .await;
    // The gateway refetches keys at most every 2 s (this test's interval): a token with the
    // new key is accepted once that interval has passed, without a restart.
    let reply =
        mcp_runtime_testkit::eventually("the new key accepted", Duration::from_secs(10), || {
            let (gateway, token) = (&gateway, &new_token);
            async move {
                let reply = call(gateway, "read_file", Some(token)).await;
                (reply.status == 200).then_some(reply)
            }
        })
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // The old key is gone from the set the gateway now holds.
    let reply = call(&gateway, "read_file", Some(&old_token)).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn an_unreachable_provider_fails_closed_with_503() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = Provider::start(dir.path(), "gone", "RS256");
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(
        &upstream_url,
        policy(&provider.issuer),
        DenyEncoding::Http,
        "127.0.0.1:0",
    )
    .await;
    let token = provider
        .token("agent-claude", "claude-secret", &gateway.resource())
        .await;
    drop(provider);
    let reply = call(&gateway, "read_file", Some(&token)).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body, "{\"error\":\"oauth_provider_unavailable\"}\n");
    assert!(seen.lock().expect("lock").is_empty());
    assert_eq!(
        gateway.audit.payloads()[0]["reason"],
        "oauth_provider_unavailable"
    );
}

#[tokio::test]
async fn protected_resource_metadata_names_the_resource_and_the_issuer() {
    let issuer = "http://127.0.0.1:9/realms/mcp";
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(
        &upstream_url,
        policy(issuer),
        DenyEncoding::JsonRpc,
        "127.0.0.1:0",
    )
    .await;
    let reply = request(http::Method::GET, &gateway.metadata_url(), "", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(
        body,
        json!({
            "resource": gateway.resource(),
            "authorization_servers": [issuer],
            "bearer_methods_supported": ["header"],
        })
    );
    // The root document names the base URL.
    let root = request(
        http::Method::GET,
        &format!("{}/.well-known/oauth-protected-resource", gateway.url),
        "",
        &[],
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&root.body).expect("JSON");
    assert_eq!(body["resource"], gateway.url.as_str());
    assert!(
        seen.lock().expect("lock").is_empty(),
        "answered by the gateway"
    );
    assert!(
        gateway.audit.payloads().is_empty(),
        "not an MCP request: not audited"
    );

    // Header mode: 404 oauth_not_enabled, as MR.
    let mut header_mode = (*policy(issuer)).document().clone();
    header_mode.auth.mode = Lenient::Known(AuthMode::Header);
    header_mode
        .finalize(jiff::Timestamp::now())
        .expect("finalize");
    let header_mode = Arc::new(CompiledPolicy::new(header_mode).expect("valid"));
    let gateway = gateway_fn(&upstream_url, header_mode).await;
    let reply = request(http::Method::GET, &gateway.metadata_url(), "", &[]).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.body.contains("oauth_not_enabled"), "{}", reply.body);
    assert!(seen.lock().expect("lock").is_empty());
}

async fn gateway_fn(upstream: &str, policy: Arc<CompiledPolicy>) -> Gateway {
    gateway(upstream, policy, DenyEncoding::Http, "127.0.0.1:0").await
}

#[tokio::test]
async fn without_an_audience_or_public_url_a_non_loopback_gateway_refuses() {
    // Listening on every address: Host is not restricted, so it cannot name the audience.
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = Provider::start(dir.path(), "a", "RS256");
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(
        &upstream_url,
        policy(&provider.issuer),
        DenyEncoding::Http,
        "0.0.0.0:0",
    )
    .await;
    let token = provider
        .token("agent-claude", "claude-secret", &gateway.resource())
        .await;
    let reply = call(&gateway, "read_file", Some(&token)).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body, "{\"error\":\"oauth_config_missing\"}\n");
    assert!(seen.lock().expect("lock").is_empty());
}
