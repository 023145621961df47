//! Apply: server-side apply of desired objects with one field manager, skipped when the live
//! object already holds every desired field (so a steady-state reconcile writes nothing), and the
//! ownership rule that refuses to take over objects someone else controls.
//!
//! "Holds every desired field" alone cannot see a field that the desired object no longer has
//! (a removed argument, label or annotation): the live object would still hold it. So each
//! applied object carries [`APPLIED_HASH_ANNOTATION`], a digest of what was applied; a new
//! desired object has a new digest, is not a subset of the live one, and is applied, and server-side
//! apply then removes the fields this field manager no longer sets.

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;

/// The one field manager the operator applies with.
pub const FIELD_MANAGER: &str = "mcp-runtime-operator";

/// Annotation on every applied object: the SHA-256 of the desired object as last applied.
pub const APPLIED_HASH_ANNOTATION: &str = "mcpruntime.org/applied-hash";

/// True when every field of `desired` is present in `live` with the same value. Objects compare
/// key by key (extra live keys, such as API-server defaults, are fine); arrays must have the same
/// length and match element by element.
pub fn is_subset(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => d.iter().all(|(k, dv)| match l.get(k) {
            Some(lv) => is_subset(dv, lv),
            // A desired null or empty value is satisfied by an absent one.
            None => is_empty(dv),
        }),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(dv, lv)| is_subset(dv, lv))
        }
        (Value::Number(d), Value::Number(l)) => d.as_f64() == l.as_f64(),
        (d, l) => d == l,
    }
}

/// Values the API server stores as absent. Go's `omitempty` drops empty strings (an `env` entry
/// with `value: ""` comes back without `value`), so a desired `""` must not count as drift, or
/// every reconcile would re-apply.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Who controls an existing object, relative to the server applying it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Absent, or controlled by this server.
    Ours,
    /// Controlled by an MCPServer of the same name that was deleted and re-created: adopted.
    Adoptable,
    /// No controller, or another controller: never taken over.
    Foreign(String),
}

/// Decides whether `live` (when it exists) may be applied over by the server `owner_uid` of kind
/// MCPServer named `owner_name`.
pub fn ownership<K: Resource>(live: Option<&K>, owner_name: &str, owner_uid: &str) -> Ownership {
    let Some(live) = live else {
        return Ownership::Ours;
    };
    let controller = live
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true));
    match controller {
        Some(r) if r.uid == owner_uid => Ownership::Ours,
        Some(r) if r.kind == "MCPServer" && r.name == owner_name => Ownership::Adoptable,
        Some(r) => Ownership::Foreign(format!("controlled by {} {}", r.kind, r.name)),
        None => Ownership::Foreign("exists without a controller".into()),
    }
}

/// Applies `desired` unless `live` already matches it. Returns the written object when a write
/// was made.
pub async fn apply_if_changed<K>(
    api: &Api<K>,
    desired: &K,
    live: Option<&K>,
) -> Result<Option<K>, kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + Serialize + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    let mut desired_value = serde_json::to_value(desired).map_err(kube::Error::SerdeError)?;
    stamp_applied_hash(&mut desired_value);
    if let Some(live) = live {
        let live_value = serde_json::to_value(live).map_err(kube::Error::SerdeError)?;
        if is_subset(&strip_meta(&desired_value), &live_value) {
            return Ok(None);
        }
    }
    let name = desired.name_any();
    let mut body = desired_value;
    let dt = K::DynamicType::default();
    body["apiVersion"] = Value::String(K::api_version(&dt).into_owned());
    body["kind"] = Value::String(K::kind(&dt).into_owned());
    let written = api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await?;
    Ok(Some(written))
}

/// Adds [`APPLIED_HASH_ANNOTATION`] to a desired object: the digest of its content (without
/// server-owned metadata), so the annotation changes whenever the desired object does.
fn stamp_applied_hash(desired: &mut Value) {
    use sha2::Digest;
    let content = strip_meta(desired);
    let digest = sha2::Sha256::digest(content.to_string().as_bytes());
    let hex = hex::encode(&digest[..16]);
    if let Some(meta) = desired.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(APPLIED_HASH_ANNOTATION.into(), Value::String(hex));
        }
    }
}

/// The desired value without the metadata fields the API server owns.
fn strip_meta(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        meta.remove("uid");
        meta.remove("creationTimestamp");
        meta.remove("managedFields");
    }
    if let Some(obj) = value.as_object_mut() {
        obj.remove("apiVersion");
        obj.remove("kind");
    }
    value
}

/// Deletes `name` when `live` exists and is controlled by this server. Returns whether it did.
pub async fn prune<K>(api: &Api<K>, live: Option<&K>, owner_uid: &str) -> Result<bool, kube::Error>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
{
    let Some(live) = live else {
        return Ok(false);
    };
    let ours = live
        .owner_references()
        .iter()
        .any(|r| r.controller == Some(true) && r.uid == owner_uid);
    if !ours {
        return Ok(false);
    }
    match api
        .delete(&live.name_any(), &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_ignores_server_defaults() {
        let desired = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        let live = json!({"spec": {"replicas": 1, "progressDeadlineSeconds": 600, "template": {"spec": {"containers": [{"name": "a", "image": "x", "terminationMessagePath": "/dev/termination-log"}]}}}});
        assert!(is_subset(&desired, &live));
        let drifted = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        assert!(!is_subset(&desired, &drifted));
        let extra_container = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}}});
        assert!(!is_subset(&desired, &extra_container));
        assert!(is_subset(&json!({"a": null, "b": {}}), &json!({})));
        // As a real API server stores `env: [{name, value: ""}]`: without the empty value.
        assert!(is_subset(
            &json!({"env": [{"name": "A", "value": ""}]}),
            &json!({"env": [{"name": "A"}]})
        ));
        assert!(!is_subset(
            &json!({"env": [{"name": "A", "value": ""}]}),
            &json!({"env": [{"name": "A", "value": "x"}]})
        ));
    }

    #[test]
    fn foreign_children_are_never_adopted() {
        use k8s_openapi::api::core::v1::ConfigMap;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        let mut cm = ConfigMap::default();
        assert_eq!(ownership(None::<&ConfigMap>, "s", "u1"), Ownership::Ours);
        assert!(matches!(
            ownership(Some(&cm), "s", "u1"),
            Ownership::Foreign(_)
        ));
        cm.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "mcpruntime.org/v1alpha1".into(),
            kind: "MCPServer".into(),
            name: "s".into(),
            uid: "u0".into(),
            controller: Some(true),
            block_owner_deletion: None,
        }]);
        assert_eq!(ownership(Some(&cm), "s", "u0"), Ownership::Ours);
        assert_eq!(ownership(Some(&cm), "s", "u1"), Ownership::Adoptable);
        assert!(matches!(
            ownership(Some(&cm), "other", "u1"),
            Ownership::Foreign(_)
        ));
    }
}
