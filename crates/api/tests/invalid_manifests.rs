//! Every rule of the API refuses a bad manifest, and the error names the offending field.

use mcp_runtime_api::validation::{Kind, validate_object};
use serde_json::{Value, json};

fn server() -> Value {
    json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": "github-tools", "namespace": "mcp"},
        "spec": {
            "image": "ghcr.io/example/github-mcp:1.0.0",
            "teamID": "platform",
            "tools": [{"name": "list_issues", "sideEffect": "read"}],
            "gateway": {"enabled": true},
        }
    })
}

fn grant() -> Value {
    json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPAccessGrant",
        "metadata": {"name": "alice", "namespace": "mcp"},
        "spec": {
            "serverRef": {"name": "github-tools"},
            "subject": {"humanID": "alice"},
            "maxTrust": "medium",
            "allowedSideEffects": ["read"],
            "toolRules": [{"name": "list_issues", "decision": "allow"}],
        }
    })
}

fn session() -> Value {
    json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPAgentSession",
        "metadata": {"name": "alice-1", "namespace": "mcp"},
        "spec": {
            "serverRef": {"name": "github-tools"},
            "subject": {"humanID": "alice", "agentID": "claude"},
            "consentedTrust": "low",
            "expiresAt": "2030-01-01T00:00:00Z",
        }
    })
}

/// Sets `pointer` (creating parents) to `value`, or removes it when `value` is `None`.
fn with(mut object: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let mut node = &mut object;
    for segment in parent.split('/').skip(1) {
        node = match node {
            Value::Array(items) => &mut items[segment.parse::<usize>().expect("index")],
            _ => node
                .as_object_mut()
                .expect("object")
                .entry(segment)
                .or_insert_with(|| json!({})),
        };
    }
    match (node, value) {
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().expect("index")] = v,
        (node, Some(v)) => {
            node.as_object_mut()
                .expect("object")
                .insert(key.to_owned(), v);
        }
        (node, None) => {
            node.as_object_mut().expect("object").remove(key);
        }
    }
    object
}

struct Case {
    name: &'static str,
    kind: Kind,
    manifest: Value,
    /// The field path the error must name.
    field: &'static str,
}

fn case(name: &'static str, kind: Kind, manifest: Value, field: &'static str) -> Case {
    Case {
        name,
        kind,
        manifest,
        field,
    }
}

fn cases() -> Vec<Case> {
    use Kind::{Grant, Server, Session};
    let s = server;
    vec![
        case(
            "image is required",
            Server,
            with(s(), "/spec/image", None),
            "spec.image",
        ),
        case(
            "teamID has no whitespace",
            Server,
            with(s(), "/spec/teamID", Some(json!("plat form"))),
            "spec.teamID",
        ),
        case(
            "teamID is at most 128 characters",
            Server,
            with(s(), "/spec/teamID", Some(json!("t".repeat(129)))),
            "spec.teamID",
        ),
        case(
            "auth.mode enum",
            Server,
            with(s(), "/spec/auth/mode", Some(json!("kerberos"))),
            "spec.auth.mode",
        ),
        case(
            "oauth needs issuerURL",
            Server,
            with(s(), "/spec/auth/mode", Some(json!("oauth"))),
            "spec.auth.issuerURL",
        ),
        case(
            "mtls needs the gateway",
            Server,
            with(
                with(
                    with(s(), "/spec/auth/mode", Some(json!("mtls"))),
                    "/spec/auth/trustDomain",
                    Some(json!("example.org")),
                ),
                "/spec/gateway/enabled",
                Some(json!(false)),
            ),
            "spec.gateway.enabled",
        ),
        case(
            "mtls needs a trustDomain",
            Server,
            with(s(), "/spec/auth/mode", Some(json!("mtls"))),
            "spec.auth.trustDomain",
        ),
        case(
            "mtls needs ingress class traefik",
            Server,
            with(
                with(
                    with(s(), "/spec/auth/mode", Some(json!("mtls"))),
                    "/spec/auth/trustDomain",
                    Some(json!("example.org")),
                ),
                "/spec/ingressClass",
                Some(json!("nginx")),
            ),
            "spec.ingressClass",
        ),
        case(
            "gateway.port differs from port",
            Server,
            with(s(), "/spec/gateway/port", Some(json!(8088))),
            "spec.gateway.port",
        ),
        case(
            "canary needs canaryReplicas",
            Server,
            with(
                with(s(), "/spec/replicas", Some(json!(3))),
                "/spec/rollout/strategy",
                Some(json!("Canary")),
            ),
            "spec.rollout.canaryReplicas",
        ),
        case(
            "canaryReplicas below replicas",
            Server,
            with(
                with(
                    with(s(), "/spec/replicas", Some(json!(2))),
                    "/spec/rollout/strategy",
                    Some(json!("Canary")),
                ),
                "/spec/rollout/canaryReplicas",
                Some(json!(2)),
            ),
            "spec.rollout.canaryReplicas",
        ),
        case(
            "canaryReplicas above zero",
            Server,
            with(
                with(
                    with(s(), "/spec/replicas", Some(json!(2))),
                    "/spec/rollout/strategy",
                    Some(json!("Canary")),
                ),
                "/spec/rollout/canaryReplicas",
                Some(json!(0)),
            ),
            "spec.rollout.canaryReplicas",
        ),
        case(
            "rollout.strategy enum",
            Server,
            with(s(), "/spec/rollout/strategy", Some(json!("BlueGreen"))),
            "spec.rollout.strategy",
        ),
        case(
            "maxSurge is a number or a percentage",
            Server,
            with(s(), "/spec/rollout/maxSurge", Some(json!("lots"))),
            "spec.rollout.maxSurge",
        ),
        case(
            "maxUnavailable is non-negative",
            Server,
            with(s(), "/spec/rollout/maxUnavailable", Some(json!(-1))),
            "spec.rollout.maxUnavailable",
        ),
        case(
            "tool names are unique",
            Server,
            with(
                s(),
                "/spec/tools",
                Some(
                    json!([{"name": "a", "sideEffect": "read"}, {"name": "a", "sideEffect": "write"}]),
                ),
            ),
            "spec.tools[1]",
        ),
        case(
            "tool sideEffect is required",
            Server,
            with(s(), "/spec/tools/0/sideEffect", None),
            "spec.tools[0].sideEffect",
        ),
        case(
            "tool sideEffect enum",
            Server,
            with(s(), "/spec/tools/0/sideEffect", Some(json!("delete"))),
            "spec.tools[0].sideEffect",
        ),
        case(
            "tool requiredTrust enum",
            Server,
            with(s(), "/spec/tools/0/requiredTrust", Some(json!("extreme"))),
            "spec.tools[0].requiredTrust",
        ),
        case(
            "tool riskLevel enum",
            Server,
            with(s(), "/spec/tools/0/riskLevel", Some(json!("critical"))),
            "spec.tools[0].riskLevel",
        ),
        case(
            "policy.mode enum",
            Server,
            with(s(), "/spec/policy/mode", Some(json!("enforce"))),
            "spec.policy.mode",
        ),
        case(
            "policy.defaultDecision enum",
            Server,
            with(s(), "/spec/policy/defaultDecision", Some(json!("maybe"))),
            "spec.policy.defaultDecision",
        ),
        case(
            "secretEnvVars need a key",
            Server,
            with(
                s(),
                "/spec/secretEnvVars",
                Some(json!([{"name": "TOKEN", "secretKeyRef": {"name": "gh"}}])),
            ),
            "spec.secretEnvVars[0].secretKeyRef.key",
        ),
        case(
            "unknown fields are refused",
            Server,
            with(s(), "/spec/imagePulPolicy", Some(json!("Always"))),
            "imagePulPolicy",
        ),
        case(
            "port is 1..65535",
            Server,
            with(s(), "/spec/port", Some(json!(70000))),
            "spec.port",
        ),
        case(
            "port is an integer",
            Server,
            with(s(), "/spec/port", Some(json!("http"))),
            "spec.port",
        ),
        case(
            "analytics needs the gateway",
            Server,
            with(
                with(s(), "/spec/gateway/enabled", Some(json!(false))),
                "/spec/analytics/ingestURL",
                Some(json!("http://sentinel/events")),
            ),
            "spec.analytics",
        ),
        case(
            "stdio needs a command",
            Server,
            with(s(), "/spec/transport", Some(json!("stdio"))),
            "spec.command",
        ),
        case(
            "transport enum",
            Server,
            with(s(), "/spec/transport", Some(json!("sse"))),
            "spec.transport",
        ),
        case(
            "a volume has exactly one source",
            Server,
            with(
                s(),
                "/spec/volumes",
                Some(json!([{"path": "/data", "emptyDir": {}, "configMap": {"name": "x"}}])),
            ),
            "spec.volumes[0]",
        ),
        case(
            "a volume path is absolute",
            Server,
            with(
                s(),
                "/spec/volumes",
                Some(json!([{"path": "data", "emptyDir": {}}])),
            ),
            "spec.volumes[0].path",
        ),
        case(
            "volume permissions enum",
            Server,
            with(
                s(),
                "/spec/volumes",
                Some(json!([{"path": "/data", "permissions": "WriteOnly", "emptyDir": {}}])),
            ),
            "spec.volumes[0].permissions",
        ),
        case(
            "mcpPath starts with a slash",
            Server,
            with(s(), "/spec/mcpPath", Some(json!("mcp"))),
            "spec.mcpPath",
        ),
        case(
            "publicPathPrefix has a non-slash character",
            Server,
            with(s(), "/spec/publicPathPrefix", Some(json!("//"))),
            "spec.publicPathPrefix",
        ),
        case(
            "command has no empty strings",
            Server,
            with(s(), "/spec/command", Some(json!(["node", ""]))),
            "spec.command",
        ),
        case(
            "metadata.name is a DNS subdomain",
            Server,
            with(s(), "/metadata/name", Some(json!("Bad_Name"))),
            "metadata.name",
        ),
        case(
            "metadata.name is required",
            Server,
            with(s(), "/metadata/name", None),
            "metadata.name",
        ),
        case(
            "grant serverRef is required",
            Grant,
            with(grant(), "/spec/serverRef", None),
            "spec.serverRef",
        ),
        case(
            "grant serverRef.name is required",
            Grant,
            with(grant(), "/spec/serverRef/name", None),
            "spec.serverRef.name",
        ),
        case(
            "grant maxTrust enum",
            Grant,
            with(grant(), "/spec/maxTrust", Some(json!("root"))),
            "spec.maxTrust",
        ),
        case(
            "grant allowedSideEffects enum",
            Grant,
            with(
                grant(),
                "/spec/allowedSideEffects",
                Some(json!(["read", "exec"])),
            ),
            "spec.allowedSideEffects[1]",
        ),
        case(
            "grant allowedSideEffects has no duplicates",
            Grant,
            with(
                grant(),
                "/spec/allowedSideEffects",
                Some(json!(["read", "read"])),
            ),
            "spec.allowedSideEffects[1]",
        ),
        case(
            "grant toolRules decision enum",
            Grant,
            with(grant(), "/spec/toolRules/0/decision", Some(json!("maybe"))),
            "spec.toolRules[0].decision",
        ),
        case(
            "grant toolRules names are unique",
            Grant,
            with(
                grant(),
                "/spec/toolRules",
                Some(
                    json!([{"name": "a", "decision": "allow"}, {"name": "a", "decision": "deny"}]),
                ),
            ),
            "spec.toolRules[1]",
        ),
        case(
            "grant toolRules requiredTrust enum",
            Grant,
            with(
                grant(),
                "/spec/toolRules/0/requiredTrust",
                Some(json!("ultra")),
            ),
            "spec.toolRules[0].requiredTrust",
        ),
        case(
            "grant expiresAt is a date-time",
            Grant,
            with(grant(), "/spec/expiresAt", Some(json!("next tuesday"))),
            "spec.expiresAt",
        ),
        case(
            "grant subject teamID has no whitespace",
            Grant,
            with(grant(), "/spec/subject/teamID", Some(json!("a b"))),
            "spec.subject.teamID",
        ),
        case(
            "session subject needs a field",
            Session,
            with(session(), "/spec/subject", Some(json!({}))),
            "spec.subject",
        ),
        case(
            "session subject needs a non-empty field",
            Session,
            with(session(), "/spec/subject", Some(json!({"humanID": ""}))),
            "spec.subject",
        ),
        case(
            "session subject is required",
            Session,
            with(session(), "/spec/subject", None),
            "spec.subject",
        ),
        case(
            "session consentedTrust enum",
            Session,
            with(session(), "/spec/consentedTrust", Some(json!("total"))),
            "spec.consentedTrust",
        ),
        case(
            "session revoked is a boolean",
            Session,
            with(session(), "/spec/revoked", Some(json!("yes"))),
            "spec.revoked",
        ),
    ]
}

#[test]
fn the_valid_bases_are_valid() {
    for (kind, object) in [
        (Kind::Server, server()),
        (Kind::Grant, grant()),
        (Kind::Session, session()),
    ] {
        if let Err(errors) = validate_object(kind, &object) {
            panic!("{kind} base is invalid: {errors:?}");
        }
    }
}

#[test]
fn every_rule_refuses_its_manifest_and_names_the_field() {
    let cases = cases();
    assert!(cases.len() >= 20, "the table must cover at least 20 rules");
    let mut failures = Vec::new();
    for case in &cases {
        match validate_object(case.kind, &case.manifest) {
            Ok(_) => failures.push(format!("{}: accepted", case.name)),
            Err(errors) => {
                let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
                let names_field = errors.iter().any(|e| {
                    (e.field == case.field || e.field.starts_with(&format!("{}.", case.field)))
                        || e.to_string().contains(case.field)
                });
                if !names_field {
                    failures.push(format!(
                        "{}: no error names {}: {rendered:?}",
                        case.name, case.field
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn defaults_are_applied_like_the_api_server() {
    let defaulted = validate_object(Kind::Server, &server()).expect("valid");
    assert_eq!(defaulted["spec"]["port"], 8088);
    assert_eq!(defaulted["spec"]["servicePort"], 80);
    assert_eq!(defaulted["spec"]["replicas"], 1);
    assert_eq!(defaulted["spec"]["ingressClass"], "traefik");
    assert_eq!(defaulted["spec"]["mcpPath"], "/mcp");
    assert_eq!(defaulted["spec"]["gateway"]["port"], 8091);
    assert_eq!(defaulted["spec"]["tools"][0]["requiredTrust"], "low");
    assert_eq!(defaulted["spec"]["resources"]["limits"]["memory"], "256Mi");
    // A block that is absent stays absent: auth is only defaulted when written.
    assert!(defaulted["spec"].get("auth").is_none());
    let with_auth = with(server(), "/spec/auth", Some(json!({})));
    let defaulted = validate_object(Kind::Server, &with_auth).expect("valid");
    assert_eq!(defaulted["spec"]["auth"]["mode"], "header");
    assert_eq!(defaulted["spec"]["auth"]["humanIDHeader"], "X-MCP-Human-ID");
}
