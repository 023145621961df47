//! The everyday verbs on mcp-runtime's own objects in a cluster: apply (server-side, after the
//! same validation as `mcp-runtime validate`), list, get, delete; and the errors a careless user
//! meets (CRDs missing, an unknown name) as one line naming the fix.

use crate::ApiError;
use crate::install::Kinds;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::Value;

/// The field manager of objects applied with `mcp-runtime … apply`.
pub const CLI_FIELD_MANAGER: &str = "mcp-runtime";

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(
        "the {kind} CRD is not installed in this cluster (install it with `mcp-runtime setup`, or check --context)"
    )]
    CrdMissing { kind: &'static str },
    #[error("no {kind} {name:?} in namespace {namespace} (list them with `{list}`)")]
    NotFound {
        kind: &'static str,
        name: String,
        namespace: String,
        list: String,
    },
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// What `apply` did to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Created,
    Configured,
    Unchanged,
}

impl Applied {
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Configured => "configured",
            Applied::Unchanged => "unchanged",
        }
    }
}

/// Applies one document as written (no defaults added: the API server defaults it, and the CLI
/// owns only the fields the user wrote), in `namespace` when it names none.
pub async fn apply(
    kinds: &mut Kinds,
    mut document: Value,
    namespace: &str,
) -> Result<(String, Applied), ObjectError> {
    if document["metadata"]["namespace"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        document["metadata"]["namespace"] = Value::String(namespace.to_owned());
    }
    let kind: &'static str = match document["kind"].as_str() {
        Some("MCPServer") => "MCPServer",
        Some("MCPAccessGrant") => "MCPAccessGrant",
        Some("MCPAgentSession") => "MCPAgentSession",
        _ => "object",
    };
    let located = kinds.locate(&document).await.map_err(|e| match e.code() {
        Some(404) => ObjectError::CrdMissing { kind },
        _ => ObjectError::Api(e),
    })?;
    let before = located
        .api
        .get_opt(&located.name)
        .await
        .map_err(|e| ApiError::new(format!("reading {}", located.describe()), e))?;
    let after = located
        .api
        .patch(
            &located.name,
            &PatchParams::apply(CLI_FIELD_MANAGER),
            &Patch::Apply(&document),
        )
        .await
        .map_err(|e| ApiError::new(format!("applying {}", located.describe()), e))?;
    let outcome = match before {
        None => Applied::Created,
        Some(before)
            if before.metadata.generation == after.metadata.generation
                && before.metadata.labels == after.metadata.labels
                && before.metadata.annotations == after.metadata.annotations =>
        {
            Applied::Unchanged
        }
        Some(_) => Applied::Configured,
    };
    Ok((format!("{}/{}", kind.to_lowercase(), located.name), outcome))
}

/// Turns "the resource does not exist" (CRD missing) into its one-line fix.
fn crd_missing(kind: &'static str, doing: String) -> impl FnOnce(kube::Error) -> ObjectError {
    move |e| match &e {
        kube::Error::Api(status) if status.code == 404 => ObjectError::CrdMissing { kind },
        _ => ObjectError::Api(ApiError::new(doing, e)),
    }
}

/// The objects of kind `K` in `namespace` (`None`: every namespace).
pub async fn list<K>(client: &kube::Client, namespace: Option<&str>) -> Result<Vec<K>, ObjectError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let kind = kind_name::<K>();
    Ok(api
        .list(&ListParams::default())
        .await
        .map_err(crd_missing(kind, format!("listing {kind}s")))?
        .items)
}

/// One object of kind `K`.
pub async fn get<K>(client: &kube::Client, namespace: &str, name: &str) -> Result<K, ObjectError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let kind = kind_name::<K>();
    let list = format!("mcp-runtime {} list -A", verb_group::<K>());
    match api.get_opt(name).await {
        Ok(Some(object)) => Ok(object),
        Ok(None) => Err(ObjectError::NotFound {
            kind,
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            list,
        }),
        Err(e) => Err(crd_missing(kind, format!("reading {kind} {name}"))(e)),
    }
}

/// Deletes one object of kind `K` (an unknown name is an error, as with kubectl).
pub async fn delete<K>(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<(), ObjectError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    get::<K>(client, namespace, name).await?;
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let kind = kind_name::<K>();
    api.delete(name, &DeleteParams::default())
        .await
        .map_err(crd_missing(kind, format!("deleting {kind} {name}")))?;
    Ok(())
}

fn kind_name<K: kube::Resource<DynamicType = ()>>() -> &'static str {
    match K::kind(&()).as_ref() {
        "MCPServer" => "MCPServer",
        "MCPAccessGrant" => "MCPAccessGrant",
        "MCPAgentSession" => "MCPAgentSession",
        _ => "object",
    }
}

fn verb_group<K: kube::Resource<DynamicType = ()>>() -> &'static str {
    match K::kind(&()).as_ref() {
        "MCPAccessGrant" => "access grant",
        "MCPAgentSession" => "access session",
        _ => "server",
    }
}

/// Sets one boolean of an object's spec (a grant's `disabled`, a session's `revoked`) with a
/// merge patch; returns `kind/name`.
pub async fn set_spec_flag<K>(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    field: &str,
    value: bool,
) -> Result<String, ObjectError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    get::<K>(client, namespace, name).await?;
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let kind = kind_name::<K>();
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {field: value}})),
    )
    .await
    .map_err(crd_missing(kind, format!("updating {kind} {name}")))?;
    Ok(format!("{}/{name}", kind.to_lowercase()))
}
