//! Rendering MCPServer + grants + sessions into the policy document.

use mcp_runtime_api::manifest::parse_manifests;
use mcp_runtime_policy::render::render;
use mcp_runtime_policy::{CompiledPolicy, Identity, Request};

const MANIFESTS: &str = r#"
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: files, namespace: tools}
spec:
  image: example/files:1
  teamID: storage
  tools:
    - {name: read_file, sideEffect: read}
    - {name: write_file, sideEffect: write, requiredTrust: medium}
  session: {required: true}
  gateway: {enabled: true}
  analytics: {disabled: true}
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAccessGrant
metadata: {name: bob, namespace: tools}
spec:
  serverRef: {name: files}
  subject: {humanID: bob}
  maxTrust: medium
  allowedSideEffects: [write, read]
  expiresAt: "2030-01-01T00:00:00Z"
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAccessGrant
metadata: {name: other-server, namespace: tools}
spec:
  serverRef: {name: something-else}
  subject: {humanID: bob}
  allowedSideEffects: [read]
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAccessGrant
metadata: {name: same-name-other-namespace, namespace: elsewhere}
spec:
  serverRef: {name: files}
  subject: {humanID: bob}
  allowedSideEffects: [read]
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAccessGrant
metadata: {name: cross-namespace, namespace: elsewhere}
spec:
  serverRef: {name: files, namespace: tools}
  subject: {agentID: indexer, teamID: search}
  allowedSideEffects: [read]
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPAgentSession
metadata: {name: bob-1, namespace: tools}
spec:
  serverRef: {name: files}
  subject: {humanID: bob}
  consentedTrust: medium
  expiresAt: "2029-06-01T00:00:00Z"
  upstreamTokenSecretRef: {name: bob-token, key: token}
"#;

fn now() -> jiff::Timestamp {
    "2026-06-01T00:00:00Z".parse().expect("time")
}

#[test]
fn renders_only_what_references_the_server_with_mr_rules() {
    let loaded = parse_manifests(MANIFESTS, None);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let server = loaded.servers().next().expect("server");
    let document =
        render(server, loaded.grants(), loaded.sessions(), "prod-eu", now()).expect("renders");
    let json = serde_json::to_value(&document).expect("json");

    assert_eq!(json["server"]["cluster"], "prod-eu");
    assert_eq!(json["server"]["team_id"], "storage");
    // A grant expires, so the document is v2.
    assert_eq!(json["schema_version"], "v2");
    let grants: Vec<&str> = json["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .map(|g| g["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        grants,
        ["cross-namespace", "bob"],
        "sorted by namespace/name; foreign refs dropped"
    );
    // An empty subject team inherits the server's; an explicit one is kept.
    assert_eq!(json["grants"][1]["team_id"], "storage");
    assert_eq!(json["grants"][0]["team_id"], "search");
    assert_eq!(
        json["grants"][1]["allowed_side_effects"],
        serde_json::json!(["read", "write"])
    );
    assert_eq!(json["grants"][1]["expires_at"], "2030-01-01T00:00:00Z");
    assert_eq!(json["sessions"][0]["upstream_token_ref"], "bob-token/token");
    assert_eq!(json["sessions"][0]["team_id"], "storage");
    assert_eq!(json["session"]["required"], true);
    assert_eq!(json["tools"][1]["required_trust"], "medium");

    // The rendered document is one the gateway accepts and evaluates.
    let policy = CompiledPolicy::new(document).expect("valid");
    let bob = Identity::default().with_human("bob").with_team("storage");
    let call = Request::tool_call(bob, "write_file", now()).with_session("bob-1");
    let decision = policy.evaluate(&call);
    assert!(decision.allowed, "{decision:?}");
}

#[test]
fn the_revision_does_not_depend_on_input_order_or_render_time() {
    let loaded = parse_manifests(MANIFESTS, None);
    let server = loaded.servers().next().expect("server");
    let forward = render(server, loaded.grants(), loaded.sessions(), "c", now()).expect("renders");
    let grants: Vec<_> = loaded.grants().collect();
    let later = now()
        .checked_add(jiff::SignedDuration::from_hours(5))
        .expect("time");
    let backward = render(
        server,
        grants.into_iter().rev(),
        loaded.sessions(),
        "c",
        later,
    )
    .expect("renders");
    assert_eq!(forward.revision, backward.revision);
    assert_ne!(forward.generated_at, backward.generated_at);

    // Any real change moves the revision.
    let mut changed = loaded.clone();
    if let Some(mcp_runtime_api::Manifest::Grant(grant)) = changed
        .loaded
        .iter_mut()
        .map(|l| &mut l.manifest)
        .find(|m| matches!(m, mcp_runtime_api::Manifest::Grant(_)))
    {
        grant.spec.disabled = true;
    }
    let server = changed.servers().next().expect("server");
    let disabled =
        render(server, changed.grants(), changed.sessions(), "c", now()).expect("renders");
    assert_ne!(forward.revision, disabled.revision);
}

#[test]
fn a_server_without_auth_or_policy_blocks_renders_mr_defaults() {
    let loaded = parse_manifests(
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: bare}\nspec: {image: x/y}\n",
        None,
    );
    let server = loaded.servers().next().expect("server");
    let document = render(server, [], [], "local", now()).expect("renders");
    let json = serde_json::to_value(&document).expect("json");
    assert_eq!(json["server"]["namespace"], "default");
    assert_eq!(json["auth"]["mode"], "header");
    assert_eq!(json["auth"]["human_id_header"], "X-MCP-Human-ID");
    assert_eq!(json["policy"]["mode"], "allow-list");
    assert_eq!(json["policy"]["default_decision"], "deny");
    assert_eq!(json["schema_version"], "v1");
    assert_eq!(json["grants"], serde_json::json!([]));
}

#[test]
fn pins_render_with_the_drift_the_last_handshake_saw() {
    let pinned = format!("sha256:{}", "a".repeat(64));
    let other = format!("sha256:{}", "b".repeat(64));
    let loaded = parse_manifests(MANIFESTS, None);
    let unpinned = loaded.servers().next().expect("server").clone();
    let plain = render(&unpinned, loaded.grants(), loaded.sessions(), "c", now()).expect("plain");
    let plain_json = serde_json::to_value(&plain).expect("json");
    assert!(plain_json["policy"].get("on_tool_drift").is_none());
    assert!(plain_json["tools"][0].get("digest").is_none());

    let mut server = unpinned.clone();
    server.spec.tools[0].digest = Some(pinned.clone());
    // No handshake yet: pinned, not drifted, quarantine by default.
    let document = render(&server, loaded.grants(), loaded.sessions(), "c", now()).expect("ok");
    let json = serde_json::to_value(&document).expect("json");
    assert_eq!(json["policy"]["on_tool_drift"], "quarantine");
    assert_eq!(json["tools"][0]["digest"], pinned.as_str());
    assert!(json["tools"][0].get("drifted").is_none());
    assert_ne!(document.revision, plain.revision);

    // The handshake listed read_file with another definition.
    server.status = Some(mcp_runtime_api::MCPServerStatus {
        tool_digests: Some(vec![
            mcp_runtime_api::server::ToolDigest {
                name: "read_file".into(),
                digest: other.clone(),
            },
            mcp_runtime_api::server::ToolDigest {
                name: "write_file".into(),
                digest: other,
            },
        ]),
        ..Default::default()
    });
    let document = render(&server, loaded.grants(), loaded.sessions(), "c", now()).expect("ok");
    let json = serde_json::to_value(&document).expect("json");
    assert_eq!(json["tools"][0]["drifted"], true);
    assert!(
        json["tools"][1].get("drifted").is_none(),
        "write_file is not pinned"
    );
    let policy = CompiledPolicy::new(document).expect("valid");
    let bob = Identity::default().with_human("bob").with_team("storage");
    let call = Request::tool_call(bob, "read_file", now()).with_session("bob-1");
    assert_eq!(policy.evaluate(&call).reason.as_str(), "tool_quarantined");
}
