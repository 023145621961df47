//! `setup --uninstall`: deletes what setup made (objects carrying its `managed-by` label), in the
//! reverse order of the install. The CRDs only on request, because deleting a CRD deletes every
//! object of its kind in the cluster.

use crate::ApiError;
use crate::install::{Kinds, made_by_setup};
use crate::plan::Step;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use std::time::{Duration, Instant};

/// What deleting the CRDs would take with them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Custom {
    pub servers: usize,
    pub grants: usize,
    pub sessions: usize,
}

/// Counts the MCPServers, grants and sessions in the cluster (0 when the CRDs are gone).
pub async fn count_custom(client: &kube::Client) -> Custom {
    async fn count<K>(client: &kube::Client) -> usize
    where
        K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let api: Api<K> = Api::all(client.clone());
        api.list_metadata(&ListParams::default())
            .await
            .map(|l| l.items.len())
            .unwrap_or(0)
    }
    Custom {
        servers: count::<MCPServer>(client).await,
        grants: count::<MCPAccessGrant>(client).await,
        sessions: count::<MCPAgentSession>(client).await,
    }
}

/// One object found to remove.
#[derive(Debug)]
pub struct Removal {
    pub api: Api<DynamicObject>,
    pub name: String,
    pub description: String,
}

/// The objects of `steps` that exist and were made by setup, last installed first. CRDs only
/// with `with_crds`; the namespace `keep_if_servers` only if it holds no MCPServer (its servers
/// are the user's), which is reported in `kept`.
pub async fn removals(
    client: &kube::Client,
    kinds: &mut Kinds,
    steps: &[Step],
    with_crds: bool,
    servers_namespace: &str,
) -> Result<(Vec<Removal>, Vec<String>), ApiError> {
    let mut found = Vec::new();
    let mut kept = Vec::new();
    for object in steps.iter().rev().flat_map(|s| s.objects.iter().rev()) {
        if object["kind"] == "CustomResourceDefinition" && !with_crds {
            continue;
        }
        let located = kinds.locate(object).await?;
        let Some(live) = located
            .api
            .get_opt(&located.name)
            .await
            .map_err(|e| ApiError::new(format!("reading {}", located.describe()), e))?
        else {
            continue;
        };
        if !made_by_setup(&live) {
            continue;
        }
        if located.resource.kind == "Namespace" && located.name == servers_namespace && !with_crds {
            let servers: Api<MCPServer> = Api::namespaced(client.clone(), servers_namespace);
            let held = servers
                .list_metadata(&ListParams::default())
                .await
                .map(|l| l.items.len())
                .unwrap_or(0);
            if held > 0 {
                kept.push(format!(
                    "namespace {servers_namespace} (it holds {held} MCPServer{}; delete them, or use --crds)",
                    if held == 1 { "" } else { "s" }
                ));
                continue;
            }
        }
        found.push(Removal {
            description: located.describe(),
            api: located.api,
            name: located.name,
        });
    }
    Ok((found, kept))
}

/// Deletes one object (foreground: its dependents go first) and waits until it is gone.
pub async fn remove(removal: &Removal, timeout: Duration) -> Result<bool, ApiError> {
    match removal
        .api
        .delete(&removal.name, &DeleteParams::foreground())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(true),
        Err(e) => {
            return Err(ApiError::new(
                format!("deleting {}", removal.description),
                e,
            ));
        }
    }
    let deadline = Instant::now() + timeout;
    loop {
        let gone = removal
            .api
            .get_metadata_opt(&removal.name)
            .await
            .map_err(|e| ApiError::new(format!("reading {}", removal.description), e))?
            .is_none();
        if gone {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
