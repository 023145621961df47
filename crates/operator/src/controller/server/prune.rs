//! Prune: delete the children of features switched off (canary, policy ConfigMap and the
//! gateway's Role and RoleBinding, Ingress, NetworkPolicy), only when this server controls them. Everything else goes by ownerReference
//! garbage collection when the server is deleted.

use super::apply::{Children, Live};
use crate::apply::prune;
use crate::build::Desired;
use crate::controller::Error;

/// Deletes every live child that `desired` no longer wants and the server `uid` controls.
pub async fn switched_off(
    children: &Children,
    desired: &Desired,
    live: &Live,
    uid: &str,
) -> Result<(), Error> {
    if desired.canary.is_none() {
        prune(&children.deployments, live.canary.as_ref(), uid)
            .await
            .map_err(Error::Prune)?;
    }
    if desired.policy_config_map.is_none() {
        prune(&children.config_maps, live.policy.as_ref(), uid)
            .await
            .map_err(Error::Prune)?;
    }
    if desired.gateway_role_binding.is_none() {
        prune(
            &children.role_bindings,
            live.gateway_role_binding.as_ref(),
            uid,
        )
        .await
        .map_err(Error::Prune)?;
    }
    if desired.gateway_role.is_none() {
        prune(&children.roles, live.gateway_role.as_ref(), uid)
            .await
            .map_err(Error::Prune)?;
    }
    if desired.ingress.is_none() {
        prune(&children.ingresses, live.ingress.as_ref(), uid)
            .await
            .map_err(Error::Prune)?;
    }
    if desired.network_policy.is_none() {
        prune(
            &children.network_policies,
            live.network_policy.as_ref(),
            uid,
        )
        .await
        .map_err(Error::Prune)?;
    }
    Ok(())
}
