//! The server's NetworkPolicy (`<name>`): when `spec.networkPolicy` is set, and for every server
//! behind a gateway unless `spec.gateway.restrictDirectAccess` is false.
//!
//! Behind a gateway the pods admit ingress only on the gateway's port and its metrics port. The
//! server's own port listens on the pod IP too (a container cannot be made to listen on loopback
//! from outside), so without this any pod in the cluster could call it directly and bypass every
//! policy.

use super::{APP_LABEL, Context};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mcp_runtime_api::defaults::GATEWAY_METRICS_PORT;
use mcp_runtime_api::server::NetworkPolicyConfig;
use std::collections::BTreeMap;

pub(super) fn network_policy(ctx: &Context<'_>) -> Option<NetworkPolicy> {
    let isolate = ctx.gateway().is_some_and(|g| g.restrict_direct_access);
    let default_config = NetworkPolicyConfig::default();
    let config = match ctx.server.spec.network_policy.as_ref() {
        Some(config) => config,
        None if isolate => &default_config,
        None => return None,
    };
    let tcp = |port: i32| NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".into()),
        end_port: None,
    };
    let mut ports = vec![tcp(ctx.service_target_port())];
    if ctx.gateway().is_some() {
        ports.push(tcp(GATEWAY_METRICS_PORT));
    }
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
