//! Dereference: what a server refers to. The grants and sessions that reference it, from the
//! shared caches through the `serverRef` index (no API call); the ConfigMaps and Secrets its pods
//! reference, read with GET and hashed so that a data change rolls the pods.

use super::ServerContext;
use crate::controller::Error;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The grants and sessions that reference a server, as cached.
#[derive(Debug, Default)]
pub struct Access {
    pub grants: Vec<Arc<MCPAccessGrant>>,
    pub sessions: Vec<Arc<MCPAgentSession>>,
}

/// The grants and sessions referencing `server` (only read when the gateway renders a policy).
pub fn access(server: &ObjectRef<MCPServer>, cx: &ServerContext) -> Access {
    let index = &cx.watches.index;
    Access {
        grants: index
            .grants
            .referencing(server)
            .iter()
            .filter_map(|r| cx.watches.grants.store.get(r))
            .collect(),
        sessions: index
            .sessions
            .referencing(server)
            .iter()
            .filter_map(|r| cx.watches.sessions.store.get(r))
            .collect(),
    }
}

/// A ConfigMap or Secret a server's pods reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigRef {
    ConfigMap(String),
    Secret(String),
}

/// A referenced object: its namespace and which one.
type ConfigKey = (String, ConfigRef);

/// Referenced ConfigMap/Secret → servers, so a data change reaches exactly those servers.
#[derive(Debug, Default)]
pub struct ConfigRefIndex {
    inner: Mutex<HashMap<ConfigKey, HashSet<ObjectRef<MCPServer>>>>,
    of_server: Mutex<HashMap<ObjectRef<MCPServer>, Vec<ConfigKey>>>,
}

impl ConfigRefIndex {
    fn set(&self, server: &ObjectRef<MCPServer>, namespace: &str, refs: &[ConfigRef]) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut of_server = self.of_server.lock().unwrap_or_else(|p| p.into_inner());
        for key in of_server.remove(server).unwrap_or_default() {
            if let Some(set) = inner.get_mut(&key) {
                set.remove(server);
                if set.is_empty() {
                    inner.remove(&key);
                }
            }
        }
        let keys: Vec<ConfigKey> = refs
            .iter()
            .map(|r| (namespace.to_owned(), r.clone()))
            .collect();
        for key in &keys {
            inner.entry(key.clone()).or_default().insert(server.clone());
        }
        if !keys.is_empty() {
            of_server.insert(server.clone(), keys);
        }
    }

    /// The servers whose pods reference `reference` in `namespace`.
    pub fn servers(&self, namespace: &str, reference: ConfigRef) -> Vec<ObjectRef<MCPServer>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .get(&(namespace.to_owned(), reference))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The ConfigMaps and Secrets the server's pods reference (env, envFrom, volumes, secret env
/// vars and the analytics API key), sorted and de-duplicated.
pub fn config_refs(server: &MCPServer) -> Vec<ConfigRef> {
    let spec = &server.spec;
    let mut refs = BTreeSet::new();
    for s in &spec.secret_env_vars {
        refs.insert(ConfigRef::Secret(s.secret_key_ref.name.clone()));
    }
    for env in &spec.env {
        if let Some(from) = &env.value_from {
            if let Some(cm) = &from.config_map_key_ref {
                refs.insert(ConfigRef::ConfigMap(cm.name.clone()));
            }
            if let Some(s) = &from.secret_key_ref {
                refs.insert(ConfigRef::Secret(s.name.clone()));
            }
        }
    }
    for from in &spec.env_from {
        if let Some(cm) = &from.config_map_ref {
            refs.insert(ConfigRef::ConfigMap(cm.name.clone()));
        }
        if let Some(s) = &from.secret_ref {
            refs.insert(ConfigRef::Secret(s.name.clone()));
        }
    }
    for volume in &spec.volumes {
        if let Some(cm) = &volume.config_map {
            refs.insert(ConfigRef::ConfigMap(cm.name.clone()));
        }
        if let Some(s) = volume.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            refs.insert(ConfigRef::Secret(s));
        }
    }
    if let Some(key) = spec
        .analytics
        .as_ref()
        .and_then(|a| a.api_key_secret_ref.as_ref())
    {
        refs.insert(ConfigRef::Secret(key.name.clone()));
    }
    refs.retain(|r| match r {
        ConfigRef::ConfigMap(n) | ConfigRef::Secret(n) => !n.is_empty(),
    });
    refs.into_iter().collect()
}

/// What the pods' configuration dereferences to.
#[derive(Debug)]
pub struct Config {
    /// The referenced ConfigMaps and Secrets.
    pub refs: Vec<ConfigRef>,
    /// Their hash, for the pod template; `None` when nothing is referenced.
    pub hash: Option<String>,
}

/// Records what the server's pods reference (so a ConfigMap change triggers it) and hashes
/// their data.
pub async fn config(
    server: &MCPServer,
    sref: &ObjectRef<MCPServer>,
    ns: &str,
    cx: &ServerContext,
) -> Result<Config, Error> {
    let refs = config_refs(server);
    cx.config_refs.set(sref, ns, &refs);
    let hash = if refs.is_empty() {
        None
    } else {
        Some(
            config_hash(cx, ns, &refs)
                .await
                .map_err(Error::Dereference)?,
        )
    };
    Ok(Config { refs, hash })
}

/// SHA-256 over the data of every referenced ConfigMap and Secret (absent ones hash as absent,
/// so their creation rolls the pods too).
async fn config_hash(
    cx: &ServerContext,
    ns: &str,
    refs: &[ConfigRef],
) -> Result<String, kube::Error> {
    let config_maps: Api<ConfigMap> = Api::namespaced(cx.ctx.client.clone(), ns);
    let secrets: Api<Secret> = Api::namespaced(cx.ctx.client.clone(), ns);
    let mut hasher = Sha256::new();
    for reference in refs {
        let (label, data) = match reference {
            ConfigRef::ConfigMap(name) => {
                let cm = config_maps.get_opt(name).await?;
                (
                    format!("configmap/{name}"),
                    cm.map(|cm| serde_json::json!({"data": cm.data, "binaryData": cm.binary_data})),
                )
            }
            ConfigRef::Secret(name) => {
                let secret = secrets.get_opt(name).await?;
                (
                    format!("secret/{name}"),
                    secret
                        .map(|s| serde_json::json!({"data": s.data, "stringData": s.string_data})),
                )
            }
        };
        hasher.update(label.as_bytes());
        hasher.update([0]);
        match data {
            Some(value) => hasher.update(value.to_string().as_bytes()),
            None => hasher.update(b"<absent>"),
        }
        hasher.update([0]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}
