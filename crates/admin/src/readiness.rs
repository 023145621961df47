//! Is the install running, and if not, exactly what stands in the way: no node, a pod that
//! cannot be scheduled, an image that cannot be pulled, a crashing container, an unbound volume.

use crate::ApiError;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};

/// Why the Deployments `names` in `namespace` are not available; empty when each has at least
/// one available replica.
pub async fn problems(
    client: &kube::Client,
    namespace: &str,
    names: &[&str],
) -> Result<Vec<String>, ApiError> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut problems = Vec::new();
    let mut waiting = Vec::new();
    for name in names {
        let Some(deployment) = deployments
            .get_opt(name)
            .await
            .map_err(|e| ApiError::new(format!("reading Deployment {name}"), e))?
        else {
            problems.push(format!("Deployment {name} does not exist in {namespace}"));
            continue;
        };
        let available = deployment
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0);
        if available > 0 {
            continue;
        }
        waiting.push(*name);
        let selector = deployment
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.as_ref())
            .map(|labels| {
                labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let listed = pods
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| ApiError::new(format!("listing the pods of {name}"), e))?;
        if listed.items.is_empty() {
            problems.push(format!(
                "{name}: no pod has been created (is kube-controller-manager running?)"
            ));
        }
        for pod in &listed.items {
            problems.extend(pod_problems(name, pod));
        }
    }
    if !waiting.is_empty() {
        let nodes: Api<Node> = Api::all(client.clone());
        if let Ok(list) = nodes.list_metadata(&ListParams::default().limit(1)).await
            && list.items.is_empty()
        {
            problems.insert(
                0,
                format!(
                    "no node can run pods: the cluster has no nodes ({} waiting)",
                    waiting.join(", ")
                ),
            );
        }
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
        if let Ok(list) = claims.list(&ListParams::default()).await {
            for claim in list.items {
                if claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending") {
                    problems.push(format!(
                        "PersistentVolumeClaim {} is not bound (no default StorageClass? pass --sentinel-store postgres://… or set one)",
                        claim.metadata.name.unwrap_or_default()
                    ));
                }
            }
        }
    }
    if problems.is_empty() && !waiting.is_empty() {
        problems.push(format!("{} not available yet", waiting.join(", ")));
    }
    Ok(problems)
}

/// What keeps one pod of `deployment` from running.
fn pod_problems(deployment: &str, pod: &Pod) -> Vec<String> {
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    let mut problems = Vec::new();
    let status = pod.status.clone().unwrap_or_default();
    for condition in status.conditions.unwrap_or_default() {
        if condition.type_ == "PodScheduled" && condition.status == "False" {
            problems.push(format!(
                "{deployment}: pod {name} cannot be scheduled: {}",
                condition
                    .message
                    .or(condition.reason)
                    .unwrap_or_else(|| "no reason given".into())
            ));
        }
    }
    for container in status.container_statuses.unwrap_or_default() {
        let Some(waiting) = container.state.and_then(|s| s.waiting) else {
            continue;
        };
        let reason = waiting.reason.unwrap_or_default();
        let message = waiting.message.unwrap_or_default();
        match reason.as_str() {
            "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" => problems.push(format!(
                "{deployment}: pod {name} cannot pull image {}: {message} (load the image into the cluster, or pass --image)",
                container.image
            )),
            "CrashLoopBackOff" => problems.push(format!(
                "{deployment}: container {} of pod {name} keeps crashing (kubectl logs -n {} {name})",
                container.name,
                pod.metadata.namespace.as_deref().unwrap_or_default()
            )),
            "ContainerCreating" | "PodInitializing" | "" => {}
            other => problems.push(format!(
                "{deployment}: container {} of pod {name} is waiting: {other} {message}",
                container.name
            )),
        }
    }
    if status.phase.as_deref() == Some("Pending") && problems.is_empty() {
        problems.push(format!("{deployment}: pod {name} is Pending"));
    }
    problems
}
