//! The gateway's read access to its own policy ConfigMap: a Role `<name>-gateway-policy-reader`
//! (get, list, watch on `<name>-gateway-policy` only, by `resourceNames`) and a RoleBinding of
//! the same name to the ServiceAccount the pods run as. With it the sidecar watches the ConfigMap
//! through the API (`POLICY_CONFIGMAP`), so a revocation arrives in about a second instead of
//! after the kubelet's refresh of the mounted file. Owned by the server, so they go with it.
//!
//! The pods' ServiceAccount is the namespace's shared `mcp-workload` unless the spec names one,
//! so every gateway in a namespace may read the policy ConfigMap of every gateway server there
//! (the union of these Roles), and nothing else: no other ConfigMap, no Secret, no other
//! namespace. Only the gateway container gets the token (a projected volume mounted there
//! alone); the server container has none. See docs/operator.md, "The gateway's API access".

use super::{Context, WORKLOAD_SERVICE_ACCOUNT};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

/// The name of the Role and the RoleBinding.
pub fn gateway_reader_name(server: &str) -> String {
    format!("{server}-gateway-policy-reader")
}

pub(super) fn gateway_role(ctx: &Context<'_>) -> Option<Role> {
    ctx.gateway()?;
    Some(Role {
        metadata: ctx.metadata(gateway_reader_name(&ctx.name), ctx.labels()),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["configmaps".into()]),
            resource_names: Some(vec![format!("{}-gateway-policy", ctx.name)]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            non_resource_urls: None,
        }]),
    })
}

pub(super) fn gateway_role_binding(ctx: &Context<'_>) -> Option<RoleBinding> {
    ctx.gateway()?;
    let name = gateway_reader_name(&ctx.name);
    Some(RoleBinding {
        metadata: ctx.metadata(name.clone(), ctx.labels()),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name,
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: ctx
                .server
                .spec
                .service_account_name
                .clone()
                .unwrap_or_else(|| WORKLOAD_SERVICE_ACCOUNT.into()),
            namespace: ctx.namespace.clone(),
            api_group: None,
        }]),
    })
}
