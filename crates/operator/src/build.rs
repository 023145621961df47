//! Build: MCPServer → desired child objects. Pure; the reconciler applies the result with
//! server-side apply and prunes what is absent.
//!
//! Names, labels and shapes follow the Go mcp-runtime's reconciler so dashboards, NetworkPolicies
//! and scripts written against it keep working; the lifecycle-operator features (command, args,
//! volumes, probes, security contexts, NetworkPolicy, session affinity) are layered on top.

use crate::config::OperatorConfig;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HTTPGetAction, LocalObjectReference, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretKeySelector,
    SecurityContext, Service, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, NetworkPolicy, NetworkPolicyEgressRule,
    NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;
use mcp_runtime_api::defaults::{GATEWAY_METRICS_PORT, IMAGE_TAG};
pub use mcp_runtime_api::route::Route;
use mcp_runtime_api::server::{
    AuthMode, GatewayConfig, ResourceList, RolloutStrategy, Transport, VolumePermissions,
};
use mcp_runtime_api::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, MCPServer};
use mcp_runtime_policy::PolicyDocument;
use std::collections::BTreeMap;

/// Label carrying the server name on every child (MR's selector key).
pub const APP_LABEL: &str = "app";
/// Label telling the stable pods from the canary pods.
pub const ROLLOUT_TRACK_LABEL: &str = "mcpruntime.org/rollout-track";
/// Pod-template annotation hashing referenced ConfigMaps and Secrets, so data changes roll pods.
pub const CONFIG_HASH_ANNOTATION: &str = "mcpruntime.org/config-hash";
/// Name of the gateway sidecar container.
pub const GATEWAY_CONTAINER: &str = "mcp-gateway";
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
    /// `<name>`: the stable track.
    pub deployment: Deployment,
    /// `<name>-canary`, when the rollout strategy is Canary.
    pub canary: Option<Deployment>,
    /// `<name>`: selects both tracks.
    pub service: Service,
    /// `<name>`; absent in mTLS mode, which has no Ingress (its Traefik TLS routing objects are
    /// not built yet: mTLS arrives with the OAuth and mTLS identity work).
    pub ingress: Option<Ingress>,
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
    let ctx = Context::new(server, config)?;
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
        deployment: deployment(&ctx, Track::Stable, stable_replicas, config_hash)?,
        canary,
        service: service(&ctx),
        ingress: (server.spec.auth.as_ref().map(|a| a.mode) != Some(AuthMode::Mtls))
            .then(|| ingress(&ctx)),
        network_policy: network_policy(&ctx),
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

/// Resolves the server image (`deployment.go: resolveImage`): append `imageTag` when the image
/// has neither tag nor digest, then rewrite the registry when an override is in effect.
pub fn resolve_image(server: &MCPServer, config: &OperatorConfig) -> String {
    let spec = &server.spec;
    let mut image = spec.image.clone();
    let last_segment = image.rsplit('/').next().unwrap_or_default();
    if !image.contains('@') && !last_segment.contains(':') {
        let tag = spec
            .image_tag
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or(IMAGE_TAG);
        image = format!("{image}:{tag}");
    }
    let mut registry = spec.registry_override.clone().filter(|r| !r.is_empty());
    if spec.use_provisioned_registry {
        if let Some(url) = &config.provisioned_registry_url {
            registry = Some(url.clone());
        } else if registry.is_none() {
            registry = Some(config.registry_pull_host.clone());
        }
    }
    match registry {
        Some(registry) => rewrite_registry(&image, &registry),
        None => image,
    }
}

fn rewrite_registry(image: &str, registry: &str) -> String {
    let registry = registry
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut parts: Vec<&str> = image.split('/').collect();
    if parts.len() > 1
        && let Some(first) = parts.first()
        && (first.contains('.') || first.contains(':') || *first == "localhost")
    {
        parts.remove(0);
    }
    format!("{registry}/{}", parts.join("/"))
}

fn policy_config_map(
    ctx: &Context<'_>,
    document: &PolicyDocument,
) -> Result<ConfigMap, BuildError> {
    let json = document
        .to_json_pretty()
        .map_err(|e| BuildError::PolicyJson(e.to_string()))?;
    Ok(ConfigMap {
        metadata: ctx.metadata(format!("{}-gateway-policy", ctx.name), ctx.labels()),
        data: Some(BTreeMap::from([(POLICY_KEY.to_owned(), json)])),
        ..ConfigMap::default()
    })
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

fn deployment(
    ctx: &Context<'_>,
    track: Track,
    replicas: i32,
    config_hash: Option<&str>,
) -> Result<Deployment, BuildError> {
    let spec = &ctx.server.spec;
    let name = match track {
        Track::Stable => ctx.name.clone(),
        Track::Canary => format!("{}-canary", ctx.name),
    };
    let mut labels = ctx.labels();
    labels.insert(ROLLOUT_TRACK_LABEL.into(), track.label().into());
    let selector = BTreeMap::from([
        (APP_LABEL.to_owned(), ctx.name.clone()),
        (ROLLOUT_TRACK_LABEL.to_owned(), track.label().to_owned()),
    ]);

    let mut volumes = Vec::new();
    let mut containers = vec![server_container(ctx, &mut volumes)?];
    let mut init_containers = Vec::new();
    if spec.transport == Transport::Stdio {
        init_containers.push(bridge_installer(ctx)?);
        volumes.push(Volume {
            name: "mcp-runtime-bin".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
    }
    if let Some(gateway) = ctx.gateway() {
        containers.push(gateway_container(ctx, gateway)?);
        volumes.push(Volume {
            name: "gateway-policy".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: format!("{}-gateway-policy", ctx.name),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
    }

    let pod_annotations = config_hash.map(|hash| {
        let mut annotations = spec.extra_annotations.clone();
        annotations.insert(CONFIG_HASH_ANNOTATION.into(), hash.into());
        annotations
    });
    let image_pull_secrets = pull_secrets(ctx);
    let strategy = match spec.rollout.as_ref().map(|r| r.strategy) {
        Some(RolloutStrategy::Recreate) => DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        },
        _ => {
            let rollout = spec.rollout.as_ref();
            DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(rollout.map_or(IntOrString::String("25%".into()), |r| {
                        int_or_percent(&r.max_unavailable)
                    })),
                    max_surge: Some(rollout.map_or(IntOrString::String("25%".into()), |r| {
                        int_or_percent(&r.max_surge)
                    })),
                }),
            }
        }
    };

    Ok(Deployment {
        metadata: ctx.metadata(name, labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(selector),
                match_expressions: None,
            },
            strategy: Some(strategy),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: pod_annotations
                        .or_else(|| non_empty(spec.extra_annotations.clone())),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(
                        spec.service_account_name
                            .clone()
                            .unwrap_or_else(|| WORKLOAD_SERVICE_ACCOUNT.into()),
                    ),
                    automount_service_account_token: Some(false),
                    security_context: Some(spec.pod_security_context.clone().unwrap_or_else(
                        || PodSecurityContext {
                            run_as_non_root: Some(true),
                            run_as_user: Some(NON_ROOT_UID),
                            seccomp_profile: Some(SeccompProfile {
                                type_: "RuntimeDefault".into(),
                                localhost_profile: None,
                            }),
                            ..PodSecurityContext::default()
                        },
                    )),
                    image_pull_secrets,
                    init_containers: (!init_containers.is_empty()).then_some(init_containers),
                    containers,
                    volumes: (!volumes.is_empty()).then_some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

fn pull_secrets(ctx: &Context<'_>) -> Option<Vec<LocalObjectReference>> {
    let names: Vec<String> = if !ctx.server.spec.image_pull_secrets.is_empty() {
        ctx.server
            .spec
            .image_pull_secrets
            .iter()
            .filter(|n| !n.is_empty())
            .cloned()
            .collect()
    } else if ctx.config.has_registry_credentials() {
        vec![ctx.config.provisioned_registry_secret_name.clone()]
    } else {
        Vec::new()
    };
    (!names.is_empty()).then(|| {
        names
            .into_iter()
            .map(|name| LocalObjectReference { name })
            .collect()
    })
}

fn server_container(ctx: &Context<'_>, volumes: &mut Vec<Volume>) -> Result<Container, BuildError> {
    let spec = &ctx.server.spec;
    let mut env: Vec<EnvVar> = spec
        .env_vars
        .iter()
        .map(|e| env_literal(&e.name, e.value.clone()))
        .collect();
    env.extend(
        spec.secret_env_vars
            .iter()
            .map(|e| env_secret(&e.name, &e.secret_key_ref.name, &e.secret_key_ref.key)),
    );
    env.extend(spec.env.iter().cloned());

    let mut mounts = Vec::new();
    for (index, volume) in spec.volumes.iter().enumerate() {
        let name = format!("vol-{index}");
        volumes.push(Volume {
            name: name.clone(),
            config_map: volume.config_map.clone(),
            secret: volume.secret.clone(),
            empty_dir: volume.empty_dir.clone(),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name,
            mount_path: volume.path.clone(),
            read_only: Some(volume.permissions != VolumePermissions::ReadWrite),
            recursive_read_only: (volume.permissions == VolumePermissions::RecursiveReadOnly)
                .then(|| "Enabled".to_owned()),
            ..VolumeMount::default()
        });
    }

    // A stdio server runs behind the bridge, which serves MCP over HTTP on the server port.
    let (command, args) = match spec.transport {
        Transport::Stdio => {
            let mut args = vec![
                "bridge".to_owned(),
                "--port".to_owned(),
                spec.port.to_string(),
                "--path".to_owned(),
                spec.mcp_path.clone(),
                "--".to_owned(),
            ];
            args.extend(spec.command.iter().cloned());
            args.extend(spec.args.iter().cloned());
            mounts.push(VolumeMount {
                name: "mcp-runtime-bin".into(),
                mount_path: BRIDGE_BIN_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
            (
                Some(vec![format!("{BRIDGE_BIN_DIR}/mcp-runtime")]),
                Some(args),
            )
        }
        Transport::StreamableHttp => (
            (!spec.command.is_empty()).then(|| spec.command.clone()),
            (!spec.args.is_empty()).then(|| spec.args.clone()),
        ),
    };

    Ok(Container {
        name: ctx.name.clone(),
        image: Some(resolve_image(ctx.server, ctx.config)),
        image_pull_policy: Some(
            spec.image_pull_policy
                .map_or("IfNotPresent", |p| match p {
                    mcp_runtime_api::server::ImagePullPolicy::Always => "Always",
                    mcp_runtime_api::server::ImagePullPolicy::IfNotPresent => "IfNotPresent",
                    mcp_runtime_api::server::ImagePullPolicy::Never => "Never",
                })
                .into(),
        ),
        command,
        args,
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: spec.port,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: (!env.is_empty()).then_some(env),
        env_from: (!spec.env_from.is_empty()).then(|| spec.env_from.clone()),
        resources: Some(resources(&spec.resources)),
        security_context: Some(
            spec.security_context
                .clone()
                .unwrap_or_else(|| restricted_security_context(false)),
        ),
        liveness_probe: Some(
            spec.liveness_probe
                .clone()
                .unwrap_or_else(|| tcp_probe(spec.port, 5, 10)),
        ),
        readiness_probe: Some(
            spec.readiness_probe
                .clone()
                .unwrap_or_else(|| tcp_probe(spec.port, 3, 5)),
        ),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    })
}

/// Copies the `mcp-runtime` binary from the runtime image into the shared emptyDir.
fn bridge_installer(ctx: &Context<'_>) -> Result<Container, BuildError> {
    let image = ctx
        .config
        .runtime_image
        .clone()
        .or_else(|| ctx.config.gateway_proxy_image.clone())
        .ok_or(BuildError::BridgeImageMissing)?;
    Ok(Container {
        name: "install-mcp-runtime".into(),
        image: Some(image),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec![
            "/mcp-runtime".into(),
            "install".into(),
            "--to".into(),
            format!("{BRIDGE_BIN_DIR}/mcp-runtime"),
        ]),
        security_context: Some(restricted_security_context(true)),
        volume_mounts: Some(vec![VolumeMount {
            name: "mcp-runtime-bin".into(),
            mount_path: BRIDGE_BIN_DIR.into(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    })
}

fn gateway_container(ctx: &Context<'_>, gateway: &GatewayConfig) -> Result<Container, BuildError> {
    let spec = &ctx.server.spec;
    let image = gateway
        .image
        .clone()
        .filter(|i| !i.is_empty())
        .or_else(|| ctx.config.gateway_proxy_image.clone())
        .ok_or(BuildError::GatewayImageMissing)?;
    let auth = spec.auth.clone().unwrap_or_default();
    let policy = spec.policy.clone().unwrap_or_default();
    let upstream = gateway
        .upstream_url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", spec.port));
    let external_base = ctx
        .route
        .host
        .as_ref()
        .map(|h| format!("http://{h}"))
        .unwrap_or_default();

    let mut env = vec![
        env_literal("PORT", gateway.port.to_string()),
        env_literal("METRICS_PORT", GATEWAY_METRICS_PORT.to_string()),
        env_literal("UPSTREAM_URL", upstream),
        env_literal("POLICY_FILE", format!("{POLICY_MOUNT_DIR}/{POLICY_KEY}")),
        env_literal("MCP_SERVER_NAME", ctx.name.clone()),
        env_literal(
            "MCP_SERVER_NAMESPACE",
            ctx.namespace.clone().unwrap_or_else(|| "default".into()),
        ),
        env_literal("MCP_CLUSTER_NAME", ctx.config.cluster_name.clone()),
        env_literal("EXTERNAL_BASE_URL", external_base),
        env_literal("OTEL_SERVICE_NAME", format!("{}-gateway", ctx.name)),
        env_literal("POLICY_MODE", serde_value(&policy.mode)),
        env_literal(
            "POLICY_DEFAULT_DECISION",
            serde_value(&policy.default_decision),
        ),
        env_literal("POLICY_VERSION", policy.policy_version.clone()),
        env_literal("HUMAN_ID_HEADER", auth.human_id_header.clone()),
        env_literal("AGENT_ID_HEADER", auth.agent_id_header.clone()),
        env_literal("TEAM_ID_HEADER", auth.team_id_header.clone()),
        env_literal("SESSION_ID_HEADER", auth.session_id_header.clone()),
        env_literal("AUTH_MODE", auth.mode.as_str()),
        env_literal(
            "STRIP_PREFIX",
            gateway.strip_prefix.clone().unwrap_or_default(),
        ),
    ];
    if let Some(endpoint) = &ctx.config.gateway_otlp_endpoint {
        env.push(env_literal("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()));
    }
    let analytics = spec.analytics.clone().unwrap_or_default();
    if !analytics.disabled.unwrap_or(false) {
        let ingest = analytics
            .ingest_url
            .clone()
            .or_else(|| ctx.config.sentinel_ingest_url.clone())
            .ok_or(BuildError::AnalyticsUrlMissing)?;
        env.push(env_literal("ANALYTICS_INGEST_URL", ingest));
        env.push(env_literal(
            "ANALYTICS_SOURCE",
            analytics
                .source
                .clone()
                .unwrap_or_else(|| format!("{}-gateway", ctx.name)),
        ));
        env.push(env_literal(
            "ANALYTICS_EVENT_TYPE",
            analytics
                .event_type
                .clone()
                .unwrap_or_else(|| mcp_runtime_api::defaults::ANALYTICS_EVENT_TYPE.into()),
        ));
        if let Some(key) = &analytics.api_key_secret_ref {
            env.push(env_secret("ANALYTICS_API_KEY", &key.name, &key.key));
        }
    }

    Ok(Container {
        name: GATEWAY_CONTAINER.into(),
        image: Some(image),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(vec!["gateway".into()]),
        ports: Some(vec![
            ContainerPort {
                name: Some("gateway".into()),
                container_port: gateway.port,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("metrics".into()),
                container_port: GATEWAY_METRICS_PORT,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
        ]),
        env: Some(env),
        resources: Some(resources(&gateway.resources)),
        security_context: Some(restricted_security_context(true)),
        liveness_probe: Some(tcp_probe(gateway.port, 5, 10)),
        readiness_probe: Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some("/ready".into()),
                port: IntOrString::Int(gateway.port),
                ..HTTPGetAction::default()
            }),
            initial_delay_seconds: Some(2),
            period_seconds: Some(5),
            ..Probe::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: "gateway-policy".into(),
            mount_path: POLICY_MOUNT_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    })
}

/// The wire string of a serde enum (`allow-list`, `deny`).
fn serde_value<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn service(ctx: &Context<'_>) -> Service {
    let spec = &ctx.server.spec;
    let mut ports = vec![ServicePort {
        name: Some("http".into()),
        port: spec.service_port,
        target_port: Some(IntOrString::Int(ctx.service_target_port())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    }];
    let mut metadata = ctx.metadata(ctx.name.clone(), ctx.labels());
    if ctx.gateway().is_some() {
        ports.push(ServicePort {
            name: Some("metrics".into()),
            port: GATEWAY_METRICS_PORT,
            target_port: Some(IntOrString::Int(GATEWAY_METRICS_PORT)),
            protocol: Some("TCP".into()),
            ..ServicePort::default()
        });
        let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
        annotations.insert("prometheus.io/scrape".into(), "true".into());
        annotations.insert(
            "prometheus.io/port".into(),
            GATEWAY_METRICS_PORT.to_string(),
        );
        annotations.insert("prometheus.io/path".into(), "/metrics".into());
    }
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            // Both rollout tracks: traffic splits by pod count.
            selector: Some(BTreeMap::from([
                (APP_LABEL.to_owned(), ctx.name.clone()),
                (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
            ])),
            ports: Some(ports),
            session_affinity: Some(if spec.stateless { "None" } else { "ClientIP" }.into()),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn ingress(ctx: &Context<'_>) -> Ingress {
    let spec = &ctx.server.spec;
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: ctx.name.clone(),
            port: Some(ServiceBackendPort {
                number: Some(spec.service_port),
                name: None,
            }),
        }),
        resource: None,
    };
    let mut paths = vec![HTTPIngressPath {
        path: Some(ctx.route.path.clone()),
        path_type: "Prefix".into(),
        backend: backend.clone(),
    }];
    if spec.auth.as_ref().map(|a| a.mode) == Some(AuthMode::Oauth) {
        paths.push(HTTPIngressPath {
            path: Some(format!(
                "/.well-known/oauth-protected-resource{}",
                ctx.route.path
            )),
            path_type: "Prefix".into(),
            backend,
        });
    }
    let mut annotations = spec.ingress_annotations.clone();
    for (key, value) in class_annotations(&spec.ingress_class, ctx.config) {
        annotations.entry(key).or_insert(value);
    }
    let mut metadata = ctx.metadata(ctx.name.clone(), ctx.labels());
    metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .extend(annotations);
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(spec.ingress_class.clone()),
            rules: Some(vec![IngressRule {
                host: ctx.route.host.clone(),
                http: Some(HTTPIngressRuleValue { paths }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    }
}

/// Default annotations per ingress class; the user's `ingressAnnotations` win.
fn class_annotations(class: &str, config: &OperatorConfig) -> Vec<(String, String)> {
    match class {
        "traefik" => {
            let mut out = vec![(
                "traefik.ingress.kubernetes.io/router.entrypoints".to_owned(),
                config.ingress_entrypoints.clone(),
            )];
            if config.ingress_tls {
                out.push((
                    "traefik.ingress.kubernetes.io/router.tls".into(),
                    "true".into(),
                ));
            }
            out
        }
        "nginx" => vec![(
            "nginx.ingress.kubernetes.io/ssl-redirect".into(),
            "false".into(),
        )],
        "istio" => vec![("kubernetes.io/ingress.class".into(), "istio".into())],
        _ => vec![("ingress.kubernetes.io/rewrite-target".into(), "/".into())],
    }
}

fn network_policy(ctx: &Context<'_>) -> Option<NetworkPolicy> {
    let config = ctx.server.spec.network_policy.as_ref()?;
    let ports = vec![NetworkPolicyPort {
        port: Some(IntOrString::Int(ctx.service_target_port())),
        protocol: Some("TCP".into()),
        end_port: None,
    }];
    let ingress = NetworkPolicyIngressRule {
        from: (!config.ingress_from.is_empty()).then(|| config.ingress_from.clone()),
        ports: Some(ports),
    };
    let restrict_egress = !config.egress_to.is_empty() || !config.egress_ports.is_empty();
    let mut policy_types = vec!["Ingress".to_owned()];
    let egress = restrict_egress.then(|| {
        policy_types.push("Egress".into());
        // DNS first, or the server cannot resolve the names it is allowed to reach.
        let dns_ports = ["UDP", "TCP"]
            .map(|protocol| NetworkPolicyPort {
                port: Some(IntOrString::Int(53)),
                protocol: Some(protocol.into()),
                end_port: None,
            })
            .to_vec();
        vec![
            NetworkPolicyEgressRule {
                to: config
                    .dns_egress_peer
                    .clone()
                    .map(|peer: NetworkPolicyPeer| vec![peer]),
                ports: Some(dns_ports),
            },
            NetworkPolicyEgressRule {
                to: (!config.egress_to.is_empty()).then(|| config.egress_to.clone()),
                ports: (!config.egress_ports.is_empty()).then(|| config.egress_ports.clone()),
            },
        ]
    });
    Some(NetworkPolicy {
        metadata: ctx.metadata(ctx.name.clone(), ctx.labels()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(APP_LABEL.to_owned(), ctx.name.clone())])),
                match_expressions: None,
            }),
            policy_types: Some(policy_types),
            ingress: Some(vec![ingress]),
            egress,
        }),
    })
}

/// The per-namespace ServiceAccount server pods run as: no API token is mounted. Not owned by any
/// server (shared by all of them in the namespace), as in the Go operator.
pub fn workload_service_account(namespace: &str) -> k8s_openapi::api::core::v1::ServiceAccount {
    k8s_openapi::api::core::v1::ServiceAccount {
        metadata: ObjectMeta {
            name: Some(WORKLOAD_SERVICE_ACCOUNT.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY_VALUE.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}

/// The `kubernetes.io/dockerconfigjson` pull Secret for the provisioned registry, when the
/// operator has its URL, username and password. Not owned by any server.
pub fn registry_pull_secret(
    namespace: &str,
    config: &OperatorConfig,
) -> Option<k8s_openapi::api::core::v1::Secret> {
    use base64::Engine;
    let (Some(url), Some(user), Some(password)) = (
        &config.provisioned_registry_url,
        &config.provisioned_registry_username,
        &config.provisioned_registry_password,
    ) else {
        return None;
    };
    let registry = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let docker_config = serde_json::json!({
        "auths": {registry: {"username": user, "password": password, "auth": auth}}
    });
    Some(k8s_openapi::api::core::v1::Secret {
        metadata: ObjectMeta {
            name: Some(config.provisioned_registry_secret_name.clone()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY_VALUE.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/dockerconfigjson".into()),
        data: Some(BTreeMap::from([(
            ".dockerconfigjson".to_owned(),
            k8s_openapi::ByteString(docker_config.to_string().into_bytes()),
        )])),
        ..Default::default()
    })
}

/// A rollout bound as the Deployment API takes it. The Go mcp-runtime types `maxSurge` and
/// `maxUnavailable` as strings and parses them with `intstr.Parse`, so `"5"` means five pods;
/// the Deployment API only takes a string when it is a percentage and refuses `"5"`.
fn int_or_percent(value: &IntOrString) -> IntOrString {
    match value {
        IntOrString::String(text) => match text.trim().parse::<i32>() {
            Ok(count) => IntOrString::Int(count),
            Err(_) => value.clone(),
        },
        IntOrString::Int(_) => value.clone(),
    }
}

#[cfg(test)]
mod tests {
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
}
