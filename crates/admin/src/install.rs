//! Server-side apply of the plan: one field manager, conflicts forced (setup owns what it
//! installs), idempotent: a second run changes nothing.

use crate::ApiError;
use crate::plan::{FIELD_MANAGER, MANAGED_BY, Step};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use serde_json::Value;
use std::collections::HashMap;

/// The API resource of each kind the plan uses, discovered once.
#[derive(Clone)]
pub struct Kinds {
    client: kube::Client,
    known: HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)>,
}

/// One object of the plan, located on the server.
#[derive(Debug)]
pub struct Located {
    pub api: Api<DynamicObject>,
    pub resource: ApiResource,
    pub namespace: Option<String>,
    pub name: String,
}

impl Located {
    /// `kind/name` (and the namespace), for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{} in {ns}", self.resource.kind, self.name),
            None => format!("{}/{}", self.resource.kind, self.name),
        }
    }
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kinds")
            .field("known", &self.known.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Kinds {
    pub fn new(client: kube::Client) -> Kinds {
        Kinds {
            client,
            known: HashMap::new(),
        }
    }

    /// Where `object` lives on the server.
    pub async fn locate(&mut self, object: &Value) -> Result<Located, ApiError> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        if !self.known.contains_key(&gvk) {
            let found = kube::discovery::pinned_kind(&self.client, &gvk)
                .await
                .map_err(|e| ApiError::new(format!("looking up {api_version} {kind}"), e))?;
            self.known.insert(gvk.clone(), found);
        }
        let (resource, capabilities) = &self.known[&gvk];
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (api, namespace) = match capabilities.scope {
            Scope::Namespaced => {
                let ns = object["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_owned();
                (
                    Api::namespaced_with(self.client.clone(), &ns, resource),
                    Some(ns),
                )
            }
            Scope::Cluster => (Api::all_with(self.client.clone(), resource), None),
        };
        Ok(Located {
            api,
            resource: resource.clone(),
            namespace,
            name,
        })
    }
}

/// What applying one object did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// A namespace that existed before setup: used as it is, never adopted (so uninstall leaves
    /// it).
    LeftAsFound,
}

/// Whether `object` carries setup's `managed-by` label.
pub fn made_by_setup(object: &DynamicObject) -> bool {
    object
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/managed-by"))
        .is_some_and(|v| v == MANAGED_BY)
}

/// What an object holds, without the bookkeeping a write may touch even when nothing changed
/// (a PersistentVolumeClaim's resourceVersion moves on every identical apply), nor status.
fn content(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    // Controllers write status at any time; setup never does.
    if let Some(object) = value.as_object_mut() {
        object.remove("status");
    }
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for bookkeeping in ["resourceVersion", "managedFields", "generation"] {
            metadata.remove(bookkeeping);
        }
    }
    value
}

/// Applies every object of `step`, in order.
pub async fn apply_step(
    kinds: &mut Kinds,
    step: &Step,
) -> Result<Vec<(String, Outcome)>, ApiError> {
    let mut outcomes = Vec::new();
    for object in &step.objects {
        let located = kinds.locate(object).await?;
        let before = located
            .api
            .get_opt(&located.name)
            .await
            .map_err(|e| ApiError::new(format!("reading {}", located.describe()), e))?;
        if located.resource.kind == "Namespace"
            && before.as_ref().is_some_and(|ns| !made_by_setup(ns))
        {
            outcomes.push((located.describe(), Outcome::LeftAsFound));
            continue;
        }
        let after = located
            .api
            .patch(
                &located.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(object),
            )
            .await
            .map_err(|e| ApiError::new(format!("applying {}", located.describe()), e))?;
        let outcome = match before {
            None => Outcome::Created,
            Some(before) if content(&before) == content(&after) => Outcome::Unchanged,
            Some(_) => Outcome::Updated,
        };
        outcomes.push((located.describe(), outcome));
    }
    Ok(outcomes)
}
