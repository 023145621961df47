//! Checks that run before setup writes anything, so that a refused setup leaves the cluster as
//! it was: the server's version, the caller's permissions for every object of the plan
//! (SelfSubjectAccessReview), and what is installed already.

use crate::ApiError;
use crate::install::Kinds;
use crate::plan::{MANAGED_BY, OPERATOR, Step, VERSION_ANNOTATION};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, ListParams, PostParams};
use std::collections::BTreeSet;

/// The oldest Kubernetes minor version supported (docs/operator.md).
pub const MIN_MINOR: u32 = 26;

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "Kubernetes {found} is older than 1.{MIN_MINOR}, the oldest supported (docs/operator.md#supported-kubernetes-versions)"
    )]
    TooOld { found: String },
    #[error(
        "you may not {action} (SelfSubjectAccessReview): {}; ask for cluster-admin, or for these permissions",
        .denied.join(", ")
    )]
    Forbidden {
        action: &'static str,
        denied: Vec<String>,
    },
    #[error(
        "an mcp-runtime operator already runs in namespace {namespace} ({how}); two would fight over every server: remove it first, or pass --namespace {namespace}"
    )]
    OtherOperator { namespace: String, how: String },
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// What the checks found.
#[derive(Debug, Default)]
pub struct Findings {
    /// `1.26` and so on.
    pub server_version: String,
    /// The version of an install found in the target namespace.
    pub installed_version: Option<String>,
    /// Things worth saying that do not stop setup.
    pub notes: Vec<String>,
}

/// Parses the API server's minor version (`"26"`, `"26+"` on some distributions).
pub fn minor(version: &k8s_openapi::apimachinery::pkg::version::Info) -> Option<u32> {
    if version.major.trim_end_matches('+') != "1" {
        return None;
    }
    version.minor.trim_end_matches('+').parse().ok()
}

/// Every check for installing `steps` into `namespace`.
pub async fn for_install(
    client: &kube::Client,
    kinds: &mut Kinds,
    steps: &[Step],
    namespace: &str,
) -> Result<Findings, PreflightError> {
    let mut findings = Findings::default();
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| ApiError::new("reading the server version", e))?;
    findings.server_version = format!("{}.{}", version.major, version.minor);
    match minor(&version) {
        Some(minor) if minor >= MIN_MINOR => {}
        _ => {
            return Err(PreflightError::TooOld {
                found: version.git_version,
            });
        }
    }
    permissions(
        client,
        kinds,
        steps,
        &["get", "create", "patch"],
        "install mcp-runtime",
    )
    .await?;
    // An operator installed elsewhere (another namespace, or by kubectl/kustomize) would
    // reconcile the same servers.
    let deployments: Api<Deployment> = Api::all(client.clone());
    match deployments
        .list(&ListParams::default().labels("app.kubernetes.io/name=mcp-runtime-operator"))
        .await
    {
        Ok(list) => {
            for found in list.items {
                let ns = found.metadata.namespace.clone().unwrap_or_default();
                let by_setup = found
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("app.kubernetes.io/managed-by"))
                    .is_some_and(|v| v == MANAGED_BY);
                let version = found
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(VERSION_ANNOTATION))
                    .cloned();
                if ns == namespace && found.metadata.name.as_deref() == Some(OPERATOR) {
                    findings.installed_version = version.or(Some("unknown".into()));
                    if !by_setup {
                        findings.notes.push(format!(
                            "the operator in {ns} was installed by other means (kubectl or kustomize); setup takes it over"
                        ));
                    }
                } else {
                    return Err(PreflightError::OtherOperator {
                        namespace: ns,
                        how: if by_setup {
                            "installed by mcp-runtime setup".into()
                        } else {
                            "installed by kubectl or kustomize".into()
                        },
                    });
                }
            }
        }
        Err(e) => findings.notes.push(format!(
            "could not look for other mcp-runtime operators ({}); make sure only one runs",
            e
        )),
    }
    Ok(findings)
}

/// Checks that the caller may `verbs` every object of `steps`; lists every refusal at once.
pub async fn permissions(
    client: &kube::Client,
    kinds: &mut Kinds,
    steps: &[Step],
    verbs: &[&str],
    action: &'static str,
) -> Result<(), PreflightError> {
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut asked = BTreeSet::new();
    let mut denied = Vec::new();
    for object in steps.iter().flat_map(|s| &s.objects) {
        let located = kinds.locate(object).await?;
        for verb in verbs {
            let key = (
                verb.to_string(),
                located.resource.group.clone(),
                located.resource.plural.clone(),
                located.namespace.clone(),
            );
            if !asked.insert(key) {
                continue;
            }
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some(verb.to_string()),
                        group: Some(located.resource.group.clone()),
                        resource: Some(located.resource.plural.clone()),
                        namespace: located.namespace.clone(),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let answer = reviews
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| ApiError::new("asking the API server what you may do", e))?;
            if !answer.status.is_some_and(|s| s.allowed) {
                let resource = if located.resource.group.is_empty() {
                    located.resource.plural.clone()
                } else {
                    format!("{}.{}", located.resource.plural, located.resource.group)
                };
                denied.push(match &located.namespace {
                    Some(ns) => format!("{verb} {resource} in {ns}"),
                    None => format!("{verb} {resource} (cluster-wide)"),
                });
            }
        }
    }
    if denied.is_empty() {
        Ok(())
    } else {
        Err(PreflightError::Forbidden { action, denied })
    }
}

/// Reads back whether a read key Secret exists (setup keeps an existing one).
pub async fn has_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<bool, ApiError> {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), namespace);
    match secrets.get_metadata_opt(name).await {
        Ok(found) => Ok(found.is_some()),
        // The namespace does not exist yet: nothing in it either.
        Err(e) => Err(ApiError::new(
            format!("reading Secret {name} in {namespace}"),
            e,
        )),
    }
}
