//! Apply: read the live children, refuse to take over any that someone else controls, and
//! server-side apply what differs (a child already holding every desired field is not written).

use crate::apply::{Ownership, apply_if_changed, is_subset, ownership};
use crate::build::{self, Desired, POLICY_KEY};
use crate::controller::echo::OwnWrites;
use crate::controller::error::OwnershipConflict;
use crate::controller::{Context, Error};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Resource;
use kube::api::{Api, GetParams};
use mcp_runtime_api::MCPServer;
use mcp_runtime_policy::PolicyDocument;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// The APIs of a server's children, in its namespace.
pub struct Children {
    namespace: String,
    /// The server's name (its children's, or their prefix).
    name: String,
    pub deployments: Api<Deployment>,
    pub services: Api<Service>,
    pub ingresses: Api<Ingress>,
    pub network_policies: Api<NetworkPolicy>,
    pub config_maps: Api<ConfigMap>,
    pub roles: Api<Role>,
    pub role_bindings: Api<RoleBinding>,
}

impl Children {
    pub fn new(client: &kube::Client, ns: &str, name: &str) -> Children {
        Children {
            namespace: ns.to_owned(),
            name: name.to_owned(),
            deployments: Api::namespaced(client.clone(), ns),
            services: Api::namespaced(client.clone(), ns),
            ingresses: Api::namespaced(client.clone(), ns),
            network_policies: Api::namespaced(client.clone(), ns),
            config_maps: Api::namespaced(client.clone(), ns),
            roles: Api::namespaced(client.clone(), ns),
            role_bindings: Api::namespaced(client.clone(), ns),
        }
    }
}

/// The live children, read once per reconcile.
#[derive(Debug, Default)]
pub struct Live {
    pub deployment: Option<Deployment>,
    pub canary: Option<Deployment>,
    pub service: Option<Service>,
    pub ingress: Option<Ingress>,
    pub network_policy: Option<NetworkPolicy>,
    pub policy: Option<ConfigMap>,
    pub gateway_role: Option<Role>,
    pub gateway_role_binding: Option<RoleBinding>,
}

fn policy_name(name: &str) -> String {
    format!("{name}-gateway-policy")
}

fn canary_name(name: &str) -> String {
    format!("{name}-canary")
}

impl Children {
    /// Reads the live children.
    pub async fn read_live(&self) -> Result<Live, Error> {
        let name = self.name.as_str();
        let (canary, policy) = (canary_name(name), policy_name(name));
        let reader = build::gateway_reader_name(name);
        // Side by side: a reconcile's latency is its chain of round trips, and with a bounded
        // number of reconciles in flight that latency is what limits a cold start.
        let (
            deployment,
            canary,
            service,
            ingress,
            network_policy,
            policy,
            gateway_role,
            gateway_role_binding,
        ) = tokio::try_join!(
            cached(&self.deployments, name),
            cached(&self.deployments, &canary),
            cached(&self.services, name),
            cached(&self.ingresses, name),
            cached(&self.network_policies, name),
            cached(&self.config_maps, &policy),
            cached(&self.roles, &reader),
            cached(&self.role_bindings, &reader),
        )
        .map_err(Error::Apply)?;
        Ok(Live {
            deployment,
            canary,
            service,
            ingress,
            network_policy,
            policy,
            gateway_role,
            gateway_role_binding,
        })
    }
}

/// `name` from the API server's watch cache (`resourceVersion=0`), `None` when absent.
///
/// A quorum read goes to etcd for every child of every reconcile; at 10,000 servers those reads
/// compete with the writes for the same saturated control plane. The watch cache is what the
/// operator's own watches are served from, so it already holds whatever change triggered this
/// reconcile. A copy that lags behind a write made milliseconds earlier costs one idempotent
/// apply; the window in which a foreign object created meanwhile goes unseen exists with a
/// quorum read too (between the read and the apply), and is only milliseconds wider.
async fn cached<K>(api: &Api<K>, name: &str) -> Result<Option<K>, kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    match api.get_with(name, &GetParams::any()).await {
        Ok(object) => Ok(Some(object)),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Never take over children someone else controls: the first desired child that exists and
/// is not this server's (`name`, `uid`). Pure.
pub fn check_ownership(
    desired: &Desired,
    live: &Live,
    ns: &str,
    name: &str,
    uid: &str,
) -> Result<(), OwnershipConflict> {
    let wanted = |wanted: bool, ownership: Ownership| {
        if wanted { ownership } else { Ownership::Ours }
    };
    let conflicts = [
        (
            "Deployment",
            name.to_owned(),
            ownership(live.deployment.as_ref(), name, uid),
        ),
        (
            "Deployment",
            canary_name(name),
            wanted(
                desired.canary.is_some(),
                ownership(live.canary.as_ref(), name, uid),
            ),
        ),
        (
            "Service",
            name.to_owned(),
            ownership(live.service.as_ref(), name, uid),
        ),
        (
            "Ingress",
            name.to_owned(),
            wanted(
                desired.ingress.is_some(),
                ownership(live.ingress.as_ref(), name, uid),
            ),
        ),
        (
            "NetworkPolicy",
            name.to_owned(),
            wanted(
                desired.network_policy.is_some(),
                ownership(live.network_policy.as_ref(), name, uid),
            ),
        ),
        (
            "ConfigMap",
            policy_name(name),
            wanted(
                desired.policy_config_map.is_some(),
                ownership(live.policy.as_ref(), name, uid),
            ),
        ),
        (
            "Role",
            build::gateway_reader_name(name),
            wanted(
                desired.gateway_role.is_some(),
                ownership(live.gateway_role.as_ref(), name, uid),
            ),
        ),
        (
            "RoleBinding",
            build::gateway_reader_name(name),
            wanted(
                desired.gateway_role_binding.is_some(),
                ownership(live.gateway_role_binding.as_ref(), name, uid),
            ),
        ),
    ];
    match conflicts
        .into_iter()
        .find(|(_, _, o)| matches!(o, Ownership::Foreign(_)))
    {
        Some((kind, child, Ownership::Foreign(holder))) => Err(OwnershipConflict {
            kind,
            namespace: ns.to_owned(),
            name: child,
            holder,
        }),
        _ => Ok(()),
    }
}

/// The children as they are after the apply (the applied object, or the live one when nothing
/// was written).
#[derive(Debug, Default)]
pub struct Applied {
    pub policy: Option<ConfigMap>,
    pub deployment: Option<Deployment>,
    pub canary: Option<Deployment>,
    pub service: Option<Service>,
    pub ingress: Option<Ingress>,
}

impl Children {
    /// Applies every desired child that differs from its live object (the children are
    /// independent of each other: side by side), and the namespace's shared ServiceAccount and
    /// pull Secret.
    pub async fn apply(
        &self,
        server: &MCPServer,
        ctx: &Context,
        desired: &Desired,
        live: &Live,
        policy: Option<&PolicyDocument>,
    ) -> Result<Applied, Error> {
        let own = &ctx.own_writes;
        let apply_policy = async {
            Ok::<_, kube::Error>(match &desired.policy_config_map {
                Some(cm) if !policy_up_to_date(cm, live.policy.as_ref(), policy) => {
                    apply_child(own, &self.config_maps, cm, None)
                        .await?
                        .or(live.policy.clone())
                }
                Some(_) => live.policy.clone(),
                None => None,
            })
        };
        let apply_deployment = async {
            Ok::<_, kube::Error>(
                apply_child(
                    own,
                    &self.deployments,
                    &desired.deployment,
                    live.deployment.as_ref(),
                )
                .await?
                .or(live.deployment.clone()),
            )
        };
        let apply_canary = async {
            Ok::<_, kube::Error>(match &desired.canary {
                Some(c) => apply_child(own, &self.deployments, c, live.canary.as_ref())
                    .await?
                    .or(live.canary.clone()),
                None => None,
            })
        };
        let apply_service = async {
            Ok::<_, kube::Error>(
                apply_child(own, &self.services, &desired.service, live.service.as_ref())
                    .await?
                    .or(live.service.clone()),
            )
        };
        let apply_ingress = async {
            Ok::<_, kube::Error>(match &desired.ingress {
                Some(i) => apply_child(own, &self.ingresses, i, live.ingress.as_ref())
                    .await?
                    .or(live.ingress.clone()),
                None => None,
            })
        };
        let apply_network_policy = async {
            if let Some(np) = &desired.network_policy {
                apply_child(
                    own,
                    &self.network_policies,
                    np,
                    live.network_policy.as_ref(),
                )
                .await?;
            }
            Ok::<_, kube::Error>(())
        };
        // Roles are not watched, so their writes have no echo to remember.
        // The Role before its binding: binding a Role needs the binder to hold its rules, which
        // the API server can only check once the Role exists.
        let apply_gateway_rbac = async {
            if let Some(role) = &desired.gateway_role {
                apply_if_changed(&self.roles, role, live.gateway_role.as_ref()).await?;
            }
            if let Some(binding) = &desired.gateway_role_binding {
                apply_if_changed(
                    &self.role_bindings,
                    binding,
                    live.gateway_role_binding.as_ref(),
                )
                .await?;
            }
            Ok::<_, kube::Error>(())
        };
        let ((), policy, deployment, canary, service, ingress, (), ()) = tokio::try_join!(
            shared(server, ctx, &self.namespace),
            apply_policy,
            apply_deployment,
            apply_canary,
            apply_service,
            apply_ingress,
            apply_network_policy,
            apply_gateway_rbac,
        )
        .map_err(Error::Apply)?;
        Ok(Applied {
            policy,
            deployment,
            canary,
            service,
            ingress,
        })
    }
}

/// [`apply_if_changed`] of a watched child, remembering the write so that its watch echo does
/// not trigger another reconcile (see [`OwnWrites`]).
async fn apply_child<K>(
    own: &OwnWrites,
    api: &Api<K>,
    desired: &K,
    live: Option<&K>,
) -> Result<Option<K>, kube::Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Serialize
        + DeserializeOwned
        + Debug,
{
    let written = apply_if_changed(api, desired, live).await?;
    if let Some(written) = &written {
        own.record(&K::kind(&()), written.meta());
    }
    Ok(written)
}

/// The policy ConfigMap is rewritten only when the policy revision (or its metadata) changed:
/// `generated_at` alone never causes a write, so gateways do not reload for nothing.
fn policy_up_to_date(
    desired: &ConfigMap,
    live: Option<&ConfigMap>,
    policy: Option<&PolicyDocument>,
) -> bool {
    let (Some(live), Some(policy)) = (live, policy) else {
        return false;
    };
    let live_revision = live
        .data
        .as_ref()
        .and_then(|d| d.get(POLICY_KEY))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|v| {
            v.get("revision")
                .and_then(|r| r.as_str())
                .map(str::to_owned)
        });
    if live_revision.as_deref() != Some(policy.revision.as_str()) {
        return false;
    }
    let meta = |cm: &ConfigMap| serde_json::to_value(&cm.metadata).unwrap_or_default();
    let mut desired_meta = meta(desired);
    if let Some(m) = desired_meta.as_object_mut() {
        m.remove("resourceVersion");
    }
    is_subset(&desired_meta, &meta(live))
}

/// The per-namespace workload ServiceAccount and the registry pull Secret (not owned by any
/// server).
async fn shared(server: &MCPServer, ctx: &Context, ns: &str) -> Result<(), kube::Error> {
    if server.spec.service_account_name.is_none() {
        let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), ns);
        let desired = build::workload_service_account(ns);
        let live = cached(&api, build::WORKLOAD_SERVICE_ACCOUNT).await?;
        apply_if_changed(&api, &desired, live.as_ref()).await?;
    }
    if let Some(secret) = build::registry_pull_secret(ns, &ctx.config)
        .filter(|_| server.spec.image_pull_secrets.is_empty())
    {
        let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
        let live = cached(&api, &ctx.config.provisioned_registry_secret_name).await?;
        apply_if_changed(&api, &secret, live.as_ref()).await?;
    }
    Ok(())
}
