//! Snapshot tests: the desired objects for every example MCPServer.
//!
//! Review a changed snapshot like code: it is exactly what the operator will apply. Update with
//! `INSTA_UPDATE=always cargo nextest run -p mcp-runtime-operator` (or `cargo insta review`).

use mcp_runtime_api::manifest::load_dir;
use mcp_runtime_operator::build::{Desired, UPSTREAM_TOKEN_DIR, UPSTREAM_TOKEN_VOLUME, build};
use mcp_runtime_operator::config::OperatorConfig;
use mcp_runtime_policy::render::render;
use std::path::Path;

fn config() -> OperatorConfig {
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

fn to_yaml(desired: &Desired) -> String {
    let mut out = format!("# url: {}\n", desired.url);
    let mut push = |value: serde_json::Value| {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(&value).expect("yaml"));
    };
    if let Some(cm) = &desired.policy_config_map {
        push(serde_json::to_value(cm).expect("json"));
    }
    if let Some(role) = &desired.gateway_role {
        push(serde_json::to_value(role).expect("json"));
    }
    if let Some(binding) = &desired.gateway_role_binding {
        push(serde_json::to_value(binding).expect("json"));
    }
    push(serde_json::to_value(&desired.deployment).expect("json"));
    if let Some(canary) = &desired.canary {
        push(serde_json::to_value(canary).expect("json"));
    }
    push(serde_json::to_value(&desired.service).expect("json"));
    if let Some(ingress) = &desired.ingress {
        push(serde_json::to_value(ingress).expect("json"));
    }
    if let Some(policy) = &desired.network_policy {
        push(serde_json::to_value(policy).expect("json"));
    }
    for object in &desired.mtls_objects {
        push(serde_json::to_value(object).expect("json"));
    }
    out
}

/// `auth.mode: mtls` behind Traefik (MR's shape): no Ingress; the gateway mounts its TLS Secret,
/// gets MR's TLS variables and the pinned Traefik identity, and is probed over HTTPS; the
/// Traefik routing objects are rendered.
#[test]
fn an_mtls_server_builds_the_gateway_tls_volume_and_the_traefik_objects() {
    let manifest = r"
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: payments, namespace: finance, uid: 00000000-0000-0000-0000-000000000002}
spec:
  image: ghcr.io/acme/payments:1.0
  ingressHost: mcp.example.com
  ingressClass: traefik
  gateway: {enabled: true}
  auth: {mode: mtls, trustDomain: example.org}
  tools:
    - {name: refund, sideEffect: write, requiredTrust: high}
";
    let loaded = mcp_runtime_api::manifest::parse_manifests(manifest, None);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let server = loaded.servers().next().expect("server").clone();
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    let policy = render(
        &server,
        loaded.grants(),
        loaded.sessions(),
        "test-cluster",
        at,
    )
    .expect("policy");
    let desired = build(&server, Some(&policy), &config(), Some("sha256:config")).expect("builds");
    assert!(desired.ingress.is_none(), "no Ingress in mtls mode");
    let kinds: Vec<_> = desired
        .mtls_objects
        .iter()
        .filter_map(|o| o.types.as_ref().map(|t| t.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            "TLSOption",
            "ServersTransport",
            "Middleware",
            "IngressRoute"
        ]
    );
    // With MR's MCP_MTLS_CLUSTER_ISSUER, also the two cert-manager Certificates.
    let mut with_issuer = config();
    with_issuer.mtls_cluster_issuer = Some("mesh-ca".into());
    let desired =
        build(&server, Some(&policy), &with_issuer, Some("sha256:config")).expect("builds");
    let kinds: Vec<_> = desired
        .mtls_objects
        .iter()
        .filter_map(|o| o.types.as_ref().map(|t| t.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            "TLSOption",
            "ServersTransport",
            "Middleware",
            "IngressRoute",
            "Certificate",
            "Certificate"
        ]
    );
    insta::assert_snapshot!("payments-mtls", to_yaml(&desired));
}

/// A session's `upstreamTokenSecretRef`: the Secret key is projected (optional, read-only) into
/// the gateway container only, under `<namespace>/<secret>/<key>`, and the gateway is told where;
/// a session of another namespace (whose Secret the pod cannot mount) gets no projection.
#[test]
fn a_sessions_upstream_token_is_projected_into_the_gateway_container_only() {
    let manifest = r"
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: github, namespace: tools, uid: 00000000-0000-0000-0000-000000000003}
spec:
  image: ghcr.io/acme/github:1.0
  ingressHost: mcp.example.com
  gateway: {enabled: true}
  session: {upstreamTokenHeader: X-GitHub-Token}
  tools:
    - {name: list_repos, sideEffect: read}
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAgentSession
metadata: {name: alice-claude, namespace: tools}
spec:
  serverRef: {name: github}
  subject: {agentID: claude}
  upstreamTokenSecretRef: {name: github-pat, key: token}
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAgentSession
metadata: {name: bob-claude, namespace: tools}
spec:
  serverRef: {name: github}
  subject: {agentID: claude}
  upstreamTokenSecretRef: {name: github-pat, key: bob}
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAgentSession
metadata: {name: carol, namespace: elsewhere}
spec:
  serverRef: {name: github, namespace: tools}
  subject: {agentID: claude}
  upstreamTokenSecretRef: {name: carol-pat, key: token}
";
    let loaded = mcp_runtime_api::manifest::parse_manifests(manifest, None);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let server = loaded.servers().next().expect("server").clone();
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    let policy = render(
        &server,
        loaded.grants(),
        loaded.sessions(),
        "test-cluster",
        at,
    )
    .expect("policy");
    assert_eq!(policy.sessions.len(), 3, "all three sessions are rendered");
    let desired = build(&server, Some(&policy), &config(), Some("sha256:config")).expect("builds");
    let pod = serde_json::to_value(&desired.deployment).expect("json")["spec"]["template"]["spec"]
        .clone();
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == UPSTREAM_TOKEN_VOLUME)
        .expect("the token volume");
    assert_eq!(
        volume["projected"]["sources"],
        serde_json::json!([{"secret": {
            "name": "github-pat",
            "optional": true,
            "items": [
                {"key": "bob", "path": "tools/github-pat/bob"},
                {"key": "token", "path": "tools/github-pat/token"},
            ],
        }}]),
        "one projection per Secret of the server's namespace; none for carol-pat"
    );
    for container in pod["containers"].as_array().expect("containers") {
        let mounted = container["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == UPSTREAM_TOKEN_VOLUME);
        let env = container["env"].as_array().cloned().unwrap_or_default();
        let token_dir = env.iter().find(|e| e["name"] == "UPSTREAM_TOKEN_DIR");
        if container["name"] == "mcp-gateway" {
            let mounted = mounted.expect("mounted in the gateway");
            assert_eq!(mounted["mountPath"], UPSTREAM_TOKEN_DIR);
            assert_eq!(mounted["readOnly"], true);
            assert_eq!(
                token_dir.expect("UPSTREAM_TOKEN_DIR")["value"],
                UPSTREAM_TOKEN_DIR
            );
        } else {
            assert!(
                mounted.is_none(),
                "the server container never sees the tokens"
            );
            assert!(token_dir.is_none());
        }
    }
    let config_map = desired
        .policy_config_map
        .as_ref()
        .expect("policy ConfigMap");
    let document: serde_json::Value =
        serde_json::from_str(&config_map.data.as_ref().expect("data")["policy.json"])
            .expect("policy.json");
    let references: Vec<&str> = document["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|session| session["upstream_token_ref"].as_str())
        .collect();
    assert_eq!(
        references,
        ["carol-pat/token", "github-pat/token", "github-pat/bob"],
        "the policy names Secret keys, never tokens"
    );
    insta::assert_snapshot!("github-upstream-token", to_yaml(&desired));
}

#[test]
fn every_example_server_builds_to_its_snapshot() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let loaded = load_dir(&examples).expect("examples");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    let mut count = 0;
    for server in loaded.servers() {
        let mut server = server.clone();
        server.metadata.uid = Some("00000000-0000-0000-0000-000000000001".into());
        let policy = render(
            &server,
            loaded.grants(),
            loaded.sessions(),
            "test-cluster",
            at,
        )
        .expect("policy");
        let desired =
            build(&server, Some(&policy), &config(), Some("sha256:config")).expect("builds");
        let name = server.metadata.name.clone().expect("name");
        insta::assert_snapshot!(name.clone(), to_yaml(&desired));
        count += 1;
    }
    assert_eq!(count, 6);
}

#[test]
fn the_canary_splits_replicas_between_two_tracks_behind_one_service() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let loaded = load_dir(&examples).expect("examples");
    let server = loaded
        .servers()
        .find(|s| s.metadata.name.as_deref() == Some("search-tools"))
        .expect("canary example");
    let desired = build(server, None, &config(), None).expect("builds");
    let stable = desired.deployment.spec.as_ref().expect("spec");
    let canary = desired
        .canary
        .as_ref()
        .and_then(|d| d.spec.as_ref())
        .expect("canary");
    assert_eq!((stable.replicas, canary.replicas), (Some(3), Some(1)));
    let track = |spec: &k8s_openapi::api::apps::v1::DeploymentSpec| {
        spec.selector
            .match_labels
            .as_ref()
            .and_then(|l| l.get("mcpruntime.org/rollout-track").cloned())
    };
    assert_eq!(track(stable).as_deref(), Some("stable"));
    assert_eq!(track(canary).as_deref(), Some("canary"));
    let selector = desired
        .service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .expect("selector");
    assert!(
        !selector.contains_key("mcpruntime.org/rollout-track"),
        "the Service must select both tracks"
    );
}

#[test]
fn missing_gateway_image_or_ingest_url_is_an_error_naming_the_field() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let loaded = load_dir(&examples).expect("examples");
    let server = loaded
        .servers()
        .find(|s| s.metadata.name.as_deref() == Some("crm-tools"))
        .expect("oauth example");
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    let policy = render(server, [], [], "c", at).expect("policy");
    let error =
        build(server, Some(&policy), &OperatorConfig::default(), None).expect_err("no image");
    assert!(error.to_string().contains("spec.gateway.image"), "{error}");
    let mut with_analytics = server.clone();
    with_analytics.spec.analytics = None;
    let only_image =
        OperatorConfig::from_lookup(|k| (k == "MCP_GATEWAY_PROXY_IMAGE").then(|| "img".into()));
    let error =
        build(&with_analytics, Some(&policy), &only_image, None).expect_err("no ingest url");
    assert!(
        error.to_string().contains("spec.analytics.ingestURL"),
        "{error}"
    );
}

#[test]
fn the_audit_signing_key_secret_is_mounted_into_the_gateway_only() {
    let manifest = r"
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: notes, namespace: team-a, uid: 00000000-0000-0000-0000-000000000003}
spec:
  image: ghcr.io/acme/notes:1.0
  ingressHost: mcp.example.com
  gateway: {enabled: true}
";
    let loaded = mcp_runtime_api::manifest::parse_manifests(manifest, None);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let server = loaded.servers().next().expect("server").clone();
    let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    let policy = render(
        &server,
        loaded.grants(),
        loaded.sessions(),
        "test-cluster",
        at,
    )
    .expect("policy");
    let pod_of = |config: &OperatorConfig| {
        let desired = build(&server, Some(&policy), config, Some("sha256:c")).expect("builds");
        serde_json::to_value(&desired.deployment).expect("json")["spec"]["template"]["spec"].clone()
    };
    // Not configured: nothing about it.
    let pod = pod_of(&config());
    assert!(!pod.to_string().contains("AUDIT_SIGNING_KEY_FILE"), "{pod}");
    assert!(!pod.to_string().contains("audit-signing-key"), "{pod}");

    let configured = OperatorConfig {
        audit_signing_key_secret: Some("mcp-audit-signing".into()),
        ..config()
    };
    let pod = pod_of(&configured);
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "audit-signing-key")
        .expect("the signing key volume");
    assert_eq!(volume["secret"]["secretName"], "mcp-audit-signing");
    assert_eq!(volume["secret"]["items"][0]["key"], "signing-key.pem");
    for container in pod["containers"].as_array().expect("containers") {
        let mounts = container["volumeMounts"].to_string();
        let env = container["env"].to_string();
        if container["name"] == "mcp-gateway" {
            assert!(
                mounts.contains("/var/run/mcp-runtime/audit-signing"),
                "{mounts}"
            );
            assert!(
                env.contains("/var/run/mcp-runtime/audit-signing/signing-key.pem"),
                "{env}"
            );
        } else {
            assert!(!mounts.contains("audit-signing-key"), "{mounts}");
        }
    }
}
