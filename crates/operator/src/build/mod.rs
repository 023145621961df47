//! Build: MCPServer → desired child objects. Pure; the reconciler applies the result with
//! server-side apply and prunes what is absent.
//!
//! One module per child kind: [`deployment`] (and the pod's [`containers`]), [`service`],
//! [`ingress`] (or, in mTLS mode, the gateway's TLS and the Traefik objects of [`mtls`]),
//! [`network_policy`], [`policy_config_map`], and the per-namespace
//! [`service_account`] and [`pull_secret`]. This module holds what they share: the names,
//! labels and owner of every child, and the container helpers.
//!
//! Names, labels and shapes follow the Go mcp-runtime's reconciler so dashboards, NetworkPolicies
//! and scripts written against it keep working; the lifecycle-operator features (command, args,
//! volumes, probes, security contexts, NetworkPolicy, session affinity) are layered on top.

mod containers;
mod deployment;
mod gateway_rbac;
mod ingress;
mod mtls;
mod network_policy;
mod policy_config_map;
mod pull_secret;
mod service;
mod service_account;
mod upstream_tokens;

pub use deployment::resolve_image;
pub use gateway_rbac::gateway_reader_name;
pub use mcp_runtime_api::route::Route;
pub use mtls::{
    GATEWAY_TLS_DIR, TRAEFIK_API_VERSION, ca_secret, gateway_tls_secret, traefik_client_secret,
    traefik_spiffe_id,
};
pub use pull_secret::registry_pull_secret;
pub use service_account::workload_service_account;
pub use upstream_tokens::{UPSTREAM_TOKEN_DIR, UPSTREAM_TOKEN_VOLUME};

use crate::config::OperatorConfig;
use deployment::deployment;
use ingress::ingress;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, EnvVar, EnvVarSource, Probe, ResourceRequirements, SecretKeySelector,
    SecurityContext, Service, TCPSocketAction,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;
use mcp_runtime_api::server::{AuthMode, GatewayConfig, ResourceList, RolloutStrategy};
use mcp_runtime_api::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, MCPServer};
use mcp_runtime_policy::PolicyDocument;
use network_policy::network_policy;
use policy_config_map::policy_config_map;
use service::service;
use std::collections::BTreeMap;

/// Label carrying the server name on every child (MR's selector key).
pub const APP_LABEL: &str = "app";
/// Label telling the stable pods from the canary pods.
pub const ROLLOUT_TRACK_LABEL: &str = "mcpruntime.org/rollout-track";
/// Pod-template annotation hashing referenced ConfigMaps and Secrets, so data changes roll pods.
pub const CONFIG_HASH_ANNOTATION: &str = "mcpruntime.org/config-hash";
/// Name of the gateway sidecar container.
pub const GATEWAY_CONTAINER: &str = "mcp-gateway";
/// Where the gateway sidecar (only it) gets a ServiceAccount token to watch its policy ConfigMap.
pub const GATEWAY_TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The gateway's TLS Secret volume (mtls mode).
pub const GATEWAY_TLS_VOLUME: &str = "gateway-tls";
/// The volume of the audit-chain signing key (`MCP_AUDIT_SIGNING_KEY_SECRET`).
pub const AUDIT_SIGNING_VOLUME: &str = "audit-signing-key";
/// Where the gateway finds it.
pub const AUDIT_SIGNING_DIR: &str = "/var/run/mcp-runtime/audit-signing";
/// The key in the Secret (and the file name in the mount).
pub const AUDIT_SIGNING_KEY: &str = "signing-key.pem";
/// Where the policy ConfigMap is mounted in the sidecar.
pub const POLICY_MOUNT_DIR: &str = "/var/run/mcp-runtime/policy";
/// The ConfigMap key holding the policy document.
pub const POLICY_KEY: &str = "policy.json";
/// ServiceAccount every server pod runs as unless the spec names one.
pub const WORKLOAD_SERVICE_ACCOUNT: &str = "mcp-workload";
/// Where stdio pods get the `mcp-runtime` binary for the bridge.
pub const BRIDGE_BIN_DIR: &str = "/mcp-runtime-bin";
const NON_ROOT_UID: i64 = 65532;

/// Every object an MCPServer wants to exist. Absent options are to be pruned.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// `<name>-gateway-policy` with `policy.json`, when the gateway is enabled.
    pub policy_config_map: Option<ConfigMap>,
    /// `<name>-gateway-policy-reader`: the Role letting the gateway watch its policy ConfigMap
    /// through the API, when the gateway is enabled.
    pub gateway_role: Option<Role>,
    /// `<name>-gateway-policy-reader`: binds that Role to the pods' ServiceAccount.
    pub gateway_role_binding: Option<RoleBinding>,
    /// `<name>`: the stable track.
    pub deployment: Deployment,
    /// `<name>-canary`, when the rollout strategy is Canary.
    pub canary: Option<Deployment>,
    /// `<name>`: selects both tracks.
    pub service: Service,
    /// `<name>`; absent in mTLS mode, which has no Ingress.
    pub ingress: Option<Ingress>,
    /// mTLS mode behind the `traefik` class: the Traefik routing objects (`TLSOption`,
    /// `ServersTransport`, `Middleware`, `IngressRoute`) and, with `MCP_MTLS_CLUSTER_ISSUER`,
    /// the cert-manager `Certificate`s. Rendered for `server render`; the operator does not
    /// apply them (docs/operator.md).
    pub mtls_objects: Vec<kube::api::DynamicObject>,
    /// `<name>`, when `spec.networkPolicy` is set.
    pub network_policy: Option<NetworkPolicy>,
    /// The public URL the Ingress serves.
    pub url: String,
}

/// Why a server cannot be built. Each message names the field to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("spec.gateway.image is not set and the operator has no MCP_GATEWAY_PROXY_IMAGE")]
    GatewayImageMissing,
    #[error(
        "spec.analytics.ingestURL is not set and the operator has no MCP_SENTINEL_INGEST_URL (set one, or spec.analytics.disabled: true)"
    )]
    AnalyticsUrlMissing,
    #[error("spec.gateway.enabled needs a rendered policy document")]
    PolicyMissing,
    #[error("the policy document does not serialize: {0}")]
    PolicyJson(String),
    #[error("metadata.name is missing")]
    NameMissing,
    #[error(
        "spec.transport is stdio but no image carries the mcp-runtime binary (set MCP_RUNTIME_IMAGE or MCP_GATEWAY_PROXY_IMAGE)"
    )]
    BridgeImageMissing,
}

/// Builds everything `server` wants. `policy` is its rendered document (required when the
/// gateway is enabled); `config_hash` is the hash of the ConfigMaps and Secrets it references.
pub fn build(
    server: &MCPServer,
    policy: Option<&PolicyDocument>,
    config: &OperatorConfig,
    config_hash: Option<&str>,
) -> Result<Desired, BuildError> {
    let mut ctx = Context::new(server, config)?;
    ctx.upstream_tokens =
        upstream_tokens::referenced(policy, ctx.namespace.as_deref().unwrap_or("default"));
    let policy_config_map = match (ctx.gateway(), policy) {
        (Some(_), Some(document)) => Some(policy_config_map(&ctx, document)?),
        (Some(_), None) => return Err(BuildError::PolicyMissing),
        (None, _) => None,
    };
    let canary_replicas = match server.spec.rollout.as_ref() {
        Some(rollout) if rollout.strategy == RolloutStrategy::Canary => rollout.canary_replicas,
        _ => None,
    };
    let total = server.spec.replicas;
    let (stable_replicas, canary) = match canary_replicas {
        Some(canary) => (
            total - canary,
            Some(deployment(&ctx, Track::Canary, canary, config_hash)?),
        ),
        None => (total, None),
    };
    Ok(Desired {
        policy_config_map,
        gateway_role: gateway_rbac::gateway_role(&ctx),
        gateway_role_binding: gateway_rbac::gateway_role_binding(&ctx),
        deployment: deployment(&ctx, Track::Stable, stable_replicas, config_hash)?,
        canary,
        service: service(&ctx),
        ingress: (server.spec.auth.as_ref().map(|a| a.mode) != Some(AuthMode::Mtls))
            .then(|| ingress(&ctx)),
        network_policy: network_policy(&ctx),
        mtls_objects: mtls::mtls_objects(&ctx),
        url: ctx.route.url(),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Track {
    Stable,
    Canary,
}

impl Track {
    fn label(self) -> &'static str {
        match self {
            Track::Stable => "stable",
            Track::Canary => "canary",
        }
    }
}

/// The server and everything derived from it that several builders need.
struct Context<'a> {
    server: &'a MCPServer,
    config: &'a OperatorConfig,
    name: String,
    namespace: Option<String>,
    owner: Option<OwnerReference>,
    route: Route,
    /// Secret name → keys of the sessions' upstream tokens to project into the gateway.
    upstream_tokens: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl<'a> Context<'a> {
    fn new(server: &'a MCPServer, config: &'a OperatorConfig) -> Result<Self, BuildError> {
        let name = server
            .metadata
            .name
            .clone()
            .ok_or(BuildError::NameMissing)?;
        Ok(Context {
            server,
            config,
            namespace: server.metadata.namespace.clone(),
            owner: server.controller_owner_ref(&()),
            route: Route::of(server, config.default_ingress_host.as_deref()),
            upstream_tokens: BTreeMap::new(),
            name,
        })
    }

    fn gateway(&self) -> Option<&'a GatewayConfig> {
        self.server.spec.gateway.as_ref().filter(|g| g.enabled)
    }

    /// Labels of every child: `app` + managed-by, plus the user's extra labels (which cannot
    /// override the reserved keys).
    fn labels(&self) -> BTreeMap<String, String> {
        let mut labels: BTreeMap<String, String> = self
            .server
            .spec
            .extra_labels
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    APP_LABEL | MANAGED_BY_LABEL | ROLLOUT_TRACK_LABEL
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert(APP_LABEL.into(), self.name.clone());
        labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
        labels
    }

    fn metadata(&self, name: String, labels: BTreeMap<String, String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: self.namespace.clone(),
            labels: Some(labels),
            annotations: non_empty(self.server.spec.extra_annotations.clone()),
            owner_references: self.owner.clone().map(|o| vec![o]),
            ..ObjectMeta::default()
        }
    }

    fn service_target_port(&self) -> i32 {
        self.gateway().map_or(self.server.spec.port, |g| g.port)
    }
}

fn non_empty(map: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!map.is_empty()).then_some(map)
}

fn quantities(list: &ResourceList) -> Option<BTreeMap<String, Quantity>> {
    let mut out = BTreeMap::new();
    if let Some(cpu) = &list.cpu {
        out.insert("cpu".to_owned(), Quantity(cpu.clone()));
    }
    if let Some(memory) = &list.memory {
        out.insert("memory".to_owned(), Quantity(memory.clone()));
    }
    (!out.is_empty()).then_some(out)
}

fn resources(r: &mcp_runtime_api::server::ResourceRequirements) -> ResourceRequirements {
    ResourceRequirements {
        requests: quantities(&r.requests),
        limits: quantities(&r.limits),
        ..ResourceRequirements::default()
    }
}

fn tcp_probe(port: i32, initial_delay: i32, period: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(port),
            host: None,
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        ..Probe::default()
    }
}

/// MR's container hardening: no privilege escalation, non-root, every capability dropped.
fn restricted_security_context(read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        run_as_non_root: Some(true),
        read_only_root_filesystem: read_only_root.then_some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        ..SecurityContext::default()
    }
}

fn env_literal(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn env_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::deployment::pull_secrets;
    use super::*;
    use mcp_runtime_api::MCPServerSpec;

    fn server(image: &str, tag: Option<&str>, registry: Option<&str>) -> MCPServer {
        let spec: MCPServerSpec =
            serde_json::from_value(serde_json::json!({"image": image})).expect("spec");
        let mut server = MCPServer::new(
            "srv",
            MCPServerSpec {
                image_tag: tag.map(Into::into),
                registry_override: registry.map(Into::into),
                ..spec
            },
        );
        server.metadata.namespace = Some("ns".into());
        server
    }

    #[test]
    fn image_resolution_follows_the_go_rules() {
        let config = OperatorConfig::default();
        assert_eq!(
            resolve_image(&server("myorg/srv", Some("v1"), None), &config),
            "myorg/srv:v1"
        );
        assert_eq!(
            resolve_image(&server("myorg/srv", None, None), &config),
            "myorg/srv:latest"
        );
        assert_eq!(
            resolve_image(&server("myorg/srv:2", Some("v1"), None), &config),
            "myorg/srv:2"
        );
        assert_eq!(
            resolve_image(&server("myorg/srv@sha256:abc", Some("v1"), None), &config),
            "myorg/srv@sha256:abc"
        );
        assert_eq!(
            resolve_image(
                &server("myorg/srv", Some("v1"), Some("reg.local:5000")),
                &config
            ),
            "reg.local:5000/myorg/srv:v1"
        );
        assert_eq!(
            resolve_image(
                &server("ghcr.io/a/b:2", None, Some("reg.local:5000")),
                &config
            ),
            "reg.local:5000/a/b:2"
        );
        assert_eq!(
            resolve_image(
                &server("localhost/a:1", None, Some("reg.local:5000")),
                &config
            ),
            "reg.local:5000/a:1"
        );
        // A registry port after the last slash is not mistaken for a tag.
        assert_eq!(
            resolve_image(&server("reg:5000/a", None, None), &config),
            "reg:5000/a:latest"
        );
    }

    #[test]
    fn provisioned_registry_replaces_the_override_or_falls_back_to_the_pull_host() {
        let mut s = server("myorg/srv", Some("v1"), Some("mine.example"));
        s.spec.use_provisioned_registry = true;
        let with_url = OperatorConfig::from_lookup(|k| {
            (k == "PROVISIONED_REGISTRY_URL").then(|| "prov.example:5000".into())
        });
        assert_eq!(
            resolve_image(&s, &with_url),
            "prov.example:5000/myorg/srv:v1"
        );
        assert_eq!(
            resolve_image(&s, &OperatorConfig::default()),
            "mine.example/myorg/srv:v1"
        );
        s.spec.registry_override = None;
        assert_eq!(
            resolve_image(&s, &OperatorConfig::default()),
            "registry.registry.svc.cluster.local:5000/myorg/srv:v1"
        );
    }

    #[test]
    fn pull_secret_only_with_full_credentials() {
        assert!(registry_pull_secret("ns", &OperatorConfig::default()).is_none());
        let config = OperatorConfig::from_lookup(|k| match k {
            "PROVISIONED_REGISTRY_URL" => Some("https://reg.example:5000/".into()),
            "PROVISIONED_REGISTRY_USERNAME" => Some("bot".into()),
            "PROVISIONED_REGISTRY_PASSWORD" => Some("s3cret".into()),
            _ => None,
        });
        let secret = registry_pull_secret("ns", &config).expect("secret");
        assert_eq!(
            secret.metadata.name.as_deref(),
            Some("mcp-runtime-registry-pull")
        );
        let data = &secret.data.expect("data")[".dockerconfigjson"].0;
        let json: serde_json::Value = serde_json::from_slice(data).expect("json");
        assert_eq!(
            json["auths"]["reg.example:5000"]["auth"],
            "Ym90OnMzY3JldA=="
        );
        // Servers without their own pull secrets reference it.
        let s = server("x", None, None);
        let ctx = Context::new(&s, &config).expect("ctx");
        assert_eq!(
            pull_secrets(&ctx).expect("refs")[0].name,
            "mcp-runtime-registry-pull"
        );
        assert!(workload_service_account("ns").automount_service_account_token == Some(false));
    }

    fn built(spec: serde_json::Value, config: &OperatorConfig) -> Desired {
        let spec: MCPServerSpec = serde_json::from_value(spec).expect("spec");
        let mut server = MCPServer::new("srv", spec);
        server.metadata.namespace = Some("ns".into());
        build(&server, None, config, None).expect("build")
    }

    fn ingress_annotations(class: &str, config: &OperatorConfig) -> BTreeMap<String, String> {
        let desired = built(
            serde_json::json!({"image": "x", "ingressHost": "h.example", "ingressClass": class}),
            config,
        );
        desired
            .ingress
            .expect("ingress")
            .metadata
            .annotations
            .unwrap_or_default()
    }

    #[test]
    fn each_ingress_class_gets_its_annotations() {
        let plain = OperatorConfig::default();
        let traefik = ingress_annotations("traefik", &plain);
        assert!(traefik.contains_key("traefik.ingress.kubernetes.io/router.entrypoints"));
        assert!(!traefik.contains_key("traefik.ingress.kubernetes.io/router.tls"));
        let tls = OperatorConfig::from_lookup(|k| {
            (k == "MCP_DEFAULT_INGRESS_TLS").then(|| "true".into())
        });
        assert_eq!(
            ingress_annotations("traefik", &tls)
                .get("traefik.ingress.kubernetes.io/router.tls")
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(
            ingress_annotations("nginx", &plain)
                .get("nginx.ingress.kubernetes.io/ssl-redirect")
                .map(String::as_str),
            Some("false")
        );
        assert_eq!(
            ingress_annotations("istio", &plain)
                .get("kubernetes.io/ingress.class")
                .map(String::as_str),
            Some("istio")
        );
        assert_eq!(
            ingress_annotations("contour", &plain)
                .get("ingress.kubernetes.io/rewrite-target")
                .map(String::as_str),
            Some("/")
        );
    }

    #[test]
    fn numeric_rollout_strings_become_pod_counts_as_go_intstr_parses_them() {
        let config = OperatorConfig::default();
        let rolling = built(
            serde_json::json!({"image": "x", "rollout": {
                "strategy": "RollingUpdate", "maxSurge": "5", "maxUnavailable": "10%"}}),
            &config,
        )
        .deployment
        .spec
        .and_then(|s| s.strategy)
        .and_then(|s| s.rolling_update)
        .expect("rolling update");
        assert_eq!(rolling.max_surge, Some(IntOrString::Int(5)));
        assert_eq!(
            rolling.max_unavailable,
            Some(IntOrString::String("10%".into()))
        );
    }

    #[test]
    fn rollout_strategies_set_the_deployment_strategy() {
        let config = OperatorConfig::default();
        let strategy = |rollout: serde_json::Value| {
            built(
                serde_json::json!({"image": "x", "rollout": rollout}),
                &config,
            )
            .deployment
            .spec
            .and_then(|s| s.strategy)
            .and_then(|s| s.type_)
        };
        assert_eq!(
            strategy(serde_json::json!({"strategy": "Recreate"})).as_deref(),
            Some("Recreate")
        );
        assert_eq!(
            strategy(serde_json::json!({"strategy": "RollingUpdate"})).as_deref(),
            Some("RollingUpdate")
        );
        let canary = built(
            serde_json::json!({"image": "x", "replicas": 4,
                "rollout": {"strategy": "Canary", "canaryReplicas": 1}}),
            &config,
        );
        assert_eq!(canary.deployment.spec.and_then(|s| s.replicas), Some(3));
        assert_eq!(
            canary.canary.and_then(|c| c.spec).and_then(|s| s.replicas),
            Some(1)
        );
    }

    /// The stdio bridge of a server behind the gateway listens on loopback only, and its probes
    /// connect from inside the container; without a gateway, or with a gateway that forwards to
    /// another address, it keeps listening on the pod IP with TCP probes.
    #[test]
    fn a_stdio_bridge_behind_the_gateway_listens_on_loopback_only() {
        let bridge = |gateway: serde_json::Value| {
            let spec: MCPServerSpec = serde_json::from_value(serde_json::json!({
                "image": "node:22", "transport": "stdio", "command": ["npx", "server"],
                "port": 8088, "gateway": gateway,
            }))
            .expect("spec");
            let mut server = MCPServer::new("srv", spec);
            server.metadata.namespace = Some("ns".into());
            let config = OperatorConfig {
                gateway_proxy_image: Some("mcp-runtime:1".into()),
                sentinel_ingest_url: Some("http://sentinel/events".into()),
                ..OperatorConfig::default()
            };
            let document = PolicyDocument::default();
            let desired = build(&server, Some(&document), &config, None).expect("build");
            let pod = desired
                .deployment
                .spec
                .and_then(|s| s.template.spec)
                .expect("pod");
            let container = pod
                .containers
                .into_iter()
                .find(|c| c.name == "srv")
                .expect("server container");
            let args = container.args.expect("args").join(" ");
            let probe = container.readiness_probe.expect("probe");
            (args, probe.exec.is_some(), probe.tcp_socket.is_some())
        };
        let (args, exec, _) = bridge(serde_json::json!({"enabled": true}));
        assert!(
            args.starts_with("bridge --listen 127.0.0.1:8088 "),
            "{args}"
        );
        assert!(exec, "the kubelet cannot reach a loopback listener");
        let (args, _, tcp) = bridge(serde_json::json!({"enabled": false}));
        assert!(args.starts_with("bridge --port 8088 "), "{args}");
        assert!(tcp);
        let (args, _, tcp) = bridge(
            serde_json::json!({"enabled": true, "upstreamURL": "http://srv-upstream.ns.svc:8088"}),
        );
        assert!(args.starts_with("bridge --port 8088 "), "{args}");
        assert!(tcp);
    }
}
