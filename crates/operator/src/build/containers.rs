//! The containers of a server's pod: the server itself, the bridge installer of a stdio
//! server and the gateway sidecar.

use super::deployment::resolve_image;
use super::{
    AUDIT_SIGNING_DIR, AUDIT_SIGNING_KEY, AUDIT_SIGNING_VOLUME, BRIDGE_BIN_DIR, BuildError,
    Context, GATEWAY_CONTAINER, GATEWAY_TLS_DIR, GATEWAY_TLS_VOLUME, GATEWAY_TOKEN_DIR, POLICY_KEY,
    POLICY_MOUNT_DIR, env_literal, env_secret, resources, restricted_security_context, tcp_probe,
    traefik_spiffe_id,
};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, ExecAction, HTTPGetAction, Probe, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mcp_runtime_api::defaults::GATEWAY_METRICS_PORT;
use mcp_runtime_api::server::{GatewayConfig, Transport, VolumePermissions};

pub(super) fn server_container(
    ctx: &Context<'_>,
    volumes: &mut Vec<Volume>,
) -> Result<Container, BuildError> {
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

    // A stdio server runs behind the bridge, which serves MCP over HTTP on the server port. Behind
    // a gateway sidecar that forwards to the loopback address, the bridge listens on loopback
    // only: nothing outside the pod can reach the server except through the gateway.
    let loopback_bridge = spec.transport == Transport::Stdio && gateway_forwards_to_loopback(ctx);
    let (command, args) = match spec.transport {
        Transport::Stdio => {
            let listen = if loopback_bridge {
                ["--listen".to_owned(), format!("127.0.0.1:{}", spec.port)]
            } else {
                ["--port".to_owned(), spec.port.to_string()]
            };
            let mut args = vec!["bridge".to_owned()];
            args.extend(listen);
            args.extend(["--path".to_owned(), spec.mcp_path.clone(), "--".to_owned()]);
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
                .unwrap_or_else(|| server_probe(spec.port, loopback_bridge, 5, 10)),
        ),
        readiness_probe: Some(
            spec.readiness_probe
                .clone()
                .unwrap_or_else(|| server_probe(spec.port, loopback_bridge, 3, 5)),
        ),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    })
}

/// Copies the `mcp-runtime` binary from the runtime image into the shared emptyDir.
/// The gateway sidecar is on and forwards to this pod's loopback address (its default).
fn gateway_forwards_to_loopback(ctx: &Context<'_>) -> bool {
    ctx.gateway().is_some_and(|gateway| {
        gateway.upstream_url.as_deref().is_none_or(|url| {
            url.parse::<http::Uri>()
                .ok()
                .and_then(|uri| uri.host().map(str::to_owned))
                .is_some_and(|host| host == "127.0.0.1" || host == "localhost")
        })
    })
}

/// The server container's default probe: a TCP connect to its port, or, when the bridge listens
/// on loopback (the kubelet probes the pod IP and would never connect), the same connect made
/// from inside the container by the bridge's own binary.
fn server_probe(port: i32, loopback: bool, initial_delay: i32, period: i32) -> Probe {
    if !loopback {
        return tcp_probe(port, initial_delay, period);
    }
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                format!("{BRIDGE_BIN_DIR}/mcp-runtime"),
                "probe".to_owned(),
                "tcp".to_owned(),
                format!("127.0.0.1:{port}"),
            ]),
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        ..Probe::default()
    }
}

pub(super) fn bridge_installer(ctx: &Context<'_>) -> Result<Container, BuildError> {
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

pub(super) fn gateway_container(
    ctx: &Context<'_>,
    gateway: &GatewayConfig,
) -> Result<Container, BuildError> {
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
        // The live source: the same ConfigMap through the API (the file stays the fallback).
        env_literal(
            "POLICY_CONFIGMAP",
            format!(
                "{}/{}-gateway-policy",
                ctx.namespace.clone().unwrap_or_else(|| "default".into()),
                ctx.name
            ),
        ),
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
    let trust_domain = ctx.mtls_trust_domain();
    if let Some(trust_domain) = trust_domain {
        // MR's sidecar variables: the gateway terminates TLS with the mounted Secret and, behind
        // Traefik, believes forwarded identities from Traefik's client certificate only.
        env.push(env_literal(
            "TLS_CERT_FILE",
            format!("{GATEWAY_TLS_DIR}/tls.crt"),
        ));
        env.push(env_literal(
            "TLS_KEY_FILE",
            format!("{GATEWAY_TLS_DIR}/tls.key"),
        ));
        env.push(env_literal(
            "TLS_CLIENT_CA_FILE",
            format!("{GATEWAY_TLS_DIR}/ca.crt"),
        ));
        if spec.ingress_class == "traefik" {
            env.push(env_literal(
                "TRUSTED_PROXY_SPIFFE_ID",
                traefik_spiffe_id(trust_domain),
            ));
        }
    }
    if ctx.upstream_token_mount().is_some() {
        env.push(env_literal(
            "UPSTREAM_TOKEN_DIR",
            super::UPSTREAM_TOKEN_DIR.to_owned(),
        ));
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
    let signing_secret = audit_signing_secret(ctx);
    if signing_secret.is_some() {
        env.push(env_literal(
            "AUDIT_SIGNING_KEY_FILE",
            format!("{AUDIT_SIGNING_DIR}/{AUDIT_SIGNING_KEY}"),
        ));
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
            // Over HTTPS in mtls mode: the kubelet presents no client certificate, which the
            // gateway accepts for its probes (MCP requests without one get 401).
            http_get: Some(HTTPGetAction {
                path: Some("/ready".into()),
                port: IntOrString::Int(gateway.port),
                scheme: trust_domain.map(|_| "HTTPS".to_owned()),
                ..HTTPGetAction::default()
            }),
            initial_delay_seconds: Some(2),
            period_seconds: Some(5),
            ..Probe::default()
        }),
        volume_mounts: Some(
            vec![
                VolumeMount {
                    name: "gateway-policy".into(),
                    mount_path: POLICY_MOUNT_DIR.into(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                },
                VolumeMount {
                    name: "gateway-api-token".into(),
                    mount_path: GATEWAY_TOKEN_DIR.into(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                },
            ]
            .into_iter()
            .chain(trust_domain.map(|_| VolumeMount {
                name: GATEWAY_TLS_VOLUME.into(),
                mount_path: GATEWAY_TLS_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            }))
            .chain(signing_secret.map(|_| VolumeMount {
                name: AUDIT_SIGNING_VOLUME.into(),
                mount_path: AUDIT_SIGNING_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            }))
            .chain(ctx.upstream_token_mount())
            .collect(),
        ),
        ..Container::default()
    })
}

/// The Secret holding the audit-chain signing key, when the operator is configured with one
/// and the gateway sends audit events (a gateway without them has no chain to sign).
pub(super) fn audit_signing_secret<'a>(ctx: &'a Context<'_>) -> Option<&'a str> {
    let disabled = ctx
        .server
        .spec
        .analytics
        .as_ref()
        .and_then(|a| a.disabled)
        .unwrap_or(false);
    ctx.config
        .audit_signing_key_secret
        .as_deref()
        .filter(|_| !disabled)
}

/// The wire string of a serde enum (`allow-list`, `deny`).
pub(super) fn serde_value<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
