//! The server's Deployment (`<name>`, and `<name>-canary` for a canary rollout).

use super::containers::{
    audit_signing_secret, bridge_installer, gateway_container, server_container,
};
use super::{
    APP_LABEL, BuildError, CONFIG_HASH_ANNOTATION, Context, GATEWAY_TLS_VOLUME, NON_ROOT_UID,
    ROLLOUT_TRACK_LABEL, Track, WORKLOAD_SERVICE_ACCOUNT, gateway_tls_secret, non_empty,
};
use crate::config::OperatorConfig;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    ConfigMapProjection, ConfigMapVolumeSource, DownwardAPIProjection, DownwardAPIVolumeFile,
    EmptyDirVolumeSource, KeyToPath, LocalObjectReference, ObjectFieldSelector, PodSecurityContext,
    PodSpec, PodTemplateSpec, ProjectedVolumeSource, SeccompProfile, SecretVolumeSource,
    ServiceAccountTokenProjection, Volume, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mcp_runtime_api::MCPServer;
use mcp_runtime_api::defaults::IMAGE_TAG;
use mcp_runtime_api::server::{RolloutStrategy, Transport};
use std::collections::BTreeMap;

pub(super) fn deployment(
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
        volumes.push(gateway_token_volume());
        volumes.extend(ctx.upstream_token_volume());
        if ctx.mtls_trust_domain().is_some() {
            volumes.push(Volume {
                name: GATEWAY_TLS_VOLUME.into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(gateway_tls_secret(&ctx.name)),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
        if let Some(secret) = audit_signing_secret(ctx) {
            // Only the key the gateway reads, mounted into the gateway container alone (readable
            // by its non-root user: the pod sets no fsGroup); a missing Secret keeps the pod
            // from starting (its event names the Secret) rather than running unsigned.
            volumes.push(Volume {
                name: super::AUDIT_SIGNING_VOLUME.into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(secret.to_owned()),
                    items: Some(vec![KeyToPath {
                        key: super::AUDIT_SIGNING_KEY.into(),
                        path: super::AUDIT_SIGNING_KEY.into(),
                        mode: None,
                    }]),
                    default_mode: Some(0o444),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
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

/// The gateway's API credentials, as the kubelet would automount them (token, cluster CA,
/// namespace) but as a volume mounted in the gateway container only: the pod keeps
/// `automountServiceAccountToken: false`, so the server container has no token.
fn gateway_token_volume() -> Volume {
    Volume {
        name: "gateway-api-token".into(),
        projected: Some(ProjectedVolumeSource {
            default_mode: None,
            sources: Some(vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        path: "token".into(),
                        expiration_seconds: Some(3607),
                        audience: None,
                    }),
                    ..VolumeProjection::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: "kube-root-ca.crt".into(),
                        items: Some(vec![KeyToPath {
                            key: "ca.crt".into(),
                            path: "ca.crt".into(),
                            mode: None,
                        }]),
                        optional: None,
                    }),
                    ..VolumeProjection::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardAPIProjection {
                        items: Some(vec![DownwardAPIVolumeFile {
                            path: "namespace".into(),
                            field_ref: Some(ObjectFieldSelector {
                                api_version: Some("v1".into()),
                                field_path: "metadata.namespace".into(),
                            }),
                            ..DownwardAPIVolumeFile::default()
                        }]),
                    }),
                    ..VolumeProjection::default()
                },
            ]),
        }),
        ..Volume::default()
    }
}

pub(super) fn pull_secrets(ctx: &Context<'_>) -> Option<Vec<LocalObjectReference>> {
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

pub(super) fn rewrite_registry(image: &str, registry: &str) -> String {
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

/// A rollout bound as the Deployment API takes it. The Go mcp-runtime types `maxSurge` and
/// `maxUnavailable` as strings and parses them with `intstr.Parse`, so `"5"` means five pods;
/// the Deployment API only takes a string when it is a percentage and refuses `"5"`.
pub(super) fn int_or_percent(value: &IntOrString) -> IntOrString {
    match value {
        IntOrString::String(text) => match text.trim().parse::<i32>() {
            Ok(count) => IntOrString::Int(count),
            Err(_) => value.clone(),
        },
        IntOrString::Int(_) => value.clone(),
    }
}
