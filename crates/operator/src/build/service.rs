//! The server's Service (`<name>`), selecting both rollout tracks.

use super::{APP_LABEL, Context};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mcp_runtime_api::defaults::GATEWAY_METRICS_PORT;
use mcp_runtime_api::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use std::collections::BTreeMap;

pub(super) fn service(ctx: &Context<'_>) -> Service {
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
