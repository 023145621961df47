//! The server's Ingress (`<name>`), absent in mTLS mode.

use super::Context;
use crate::config::OperatorConfig;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use mcp_runtime_api::server::AuthMode;
use std::collections::BTreeMap;

pub(super) fn ingress(ctx: &Context<'_>) -> Ingress {
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
pub(super) fn class_annotations(class: &str, config: &OperatorConfig) -> Vec<(String, String)> {
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
