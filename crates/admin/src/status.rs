//! The cluster's side of `mcp-runtime status`: the CRDs and their versions, the operator and
//! Sentinel (and why they do not run), every MCPServer with its phase and the reason it is not
//! Ready.

use crate::ApiError;
use crate::plan::{SENTINEL, VERSION_ANNOTATION};
use crate::readiness;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use mcp_runtime_api::MCPServer;
use serde::Serialize;

/// Everything `status` shows of a cluster.
#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    pub url: String,
    pub kubernetes: String,
    pub crds: Vec<CrdState>,
    /// `None`: no operator found.
    pub operator: Option<Workload>,
    pub sentinel: Option<Workload>,
    pub servers: Vec<ServerRow>,
}

#[derive(Debug, Serialize)]
pub struct CrdState {
    pub name: String,
    pub versions: Vec<String>,
    pub established: bool,
}

/// A Deployment of the install.
#[derive(Debug, Serialize)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    pub available: i32,
    pub desired: i32,
    /// Why it does not run (empty when it does).
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ServerRow {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub url: Option<String>,
    /// The first condition that is not True, as `Type: reason: message`.
    pub reason: Option<String>,
}

impl ClusterStatus {
    /// Everything installed runs and every server is Ready.
    pub fn healthy(&self) -> bool {
        self.crds.len() == 3
            && self.crds.iter().all(|c| c.established)
            && self
                .operator
                .as_ref()
                .is_some_and(|o| o.problems.is_empty())
            && self.sentinel.as_ref().is_none_or(|s| s.problems.is_empty())
            && self.servers.iter().all(|s| s.phase == "Ready")
    }
}

/// Reads the cluster's status.
pub async fn read(client: &kube::Client, url: &str) -> Result<ClusterStatus, ApiError> {
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| ApiError::new("reading the server version", e))?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut crd_states = Vec::new();
    for crd in mcp_runtime_api::crd::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        if let Some(live) = crds
            .get_opt(&name)
            .await
            .map_err(|e| ApiError::new(format!("reading CRD {name}"), e))?
        {
            crd_states.push(CrdState {
                versions: live.spec.versions.iter().map(|v| v.name.clone()).collect(),
                established: live
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True"),
                name,
            });
        }
    }
    let deployments: Api<Deployment> = Api::all(client.clone());
    let operators = deployments
        .list(&ListParams::default().labels("app.kubernetes.io/name=mcp-runtime-operator"))
        .await
        .map_err(|e| ApiError::new("looking for the operator", e))?;
    let mut operator = None;
    let mut sentinel = None;
    if let Some(found) = operators.items.into_iter().next() {
        let namespace = found.metadata.namespace.clone().unwrap_or_default();
        operator = Some(workload(client, &found).await?);
        let in_namespace: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
        if let Some(found) = in_namespace
            .get_opt(SENTINEL)
            .await
            .map_err(|e| ApiError::new("looking for Sentinel", e))?
        {
            sentinel = Some(workload(client, &found).await?);
        }
    }
    let mut servers = Vec::new();
    if crd_states.iter().any(|c| c.name.starts_with("mcpservers.")) {
        let all: Api<MCPServer> = Api::all(client.clone());
        for server in all
            .list(&ListParams::default())
            .await
            .map_err(|e| ApiError::new("listing MCPServers", e))?
        {
            let status = server.status.clone().unwrap_or_default();
            let reason = status
                .conditions
                .iter()
                .find(|c| c.status != "True")
                .map(|c| format!("{}: {}: {}", c.type_, c.reason, c.message));
            servers.push(ServerRow {
                namespace: server.metadata.namespace.clone().unwrap_or_default(),
                name: server.metadata.name.clone().unwrap_or_default(),
                phase: status
                    .phase
                    .map(|p| format!("{p:?}"))
                    .unwrap_or_else(|| "Unknown".into()),
                url: status.url.clone(),
                reason,
            });
        }
    }
    Ok(ClusterStatus {
        url: url.to_owned(),
        kubernetes: format!("{}.{}", version.major, version.minor),
        crds: crd_states,
        operator,
        sentinel,
        servers,
    })
}

async fn workload(client: &kube::Client, deployment: &Deployment) -> Result<Workload, ApiError> {
    let namespace = deployment.metadata.namespace.clone().unwrap_or_default();
    let name = deployment.metadata.name.clone().unwrap_or_default();
    let problems = readiness::problems(client, &namespace, &[&name]).await?;
    Ok(Workload {
        version: deployment
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(VERSION_ANNOTATION))
            .cloned(),
        available: deployment
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0),
        desired: deployment
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1),
        problems,
        namespace,
        name,
    })
}

/// The table `status` prints.
pub fn table(status: &ClusterStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cluster   {} (Kubernetes {})",
        status.url, status.kubernetes
    );
    if status.crds.is_empty() {
        let _ = writeln!(out, "CRDs      not installed (run `mcp-runtime setup`)");
    } else {
        let crds: Vec<String> = status
            .crds
            .iter()
            .map(|c| {
                format!(
                    "{} {}{}",
                    c.name,
                    c.versions.join(","),
                    if c.established {
                        ""
                    } else {
                        " (not established)"
                    }
                )
            })
            .collect();
        let _ = writeln!(out, "CRDs      {}", crds.join(", "));
    }
    for (label, workload) in [
        ("Operator", &status.operator),
        ("Sentinel", &status.sentinel),
    ] {
        match workload {
            None => {
                let _ = writeln!(out, "{label:<9} not installed");
            }
            Some(w) => {
                let version = w
                    .version
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{label:<9} {}/{}{version}: {}/{} available",
                    w.namespace, w.name, w.available, w.desired
                );
                for problem in &w.problems {
                    let _ = writeln!(out, "            {problem}");
                }
            }
        }
    }
    let _ = writeln!(out);
    if status.servers.is_empty() {
        let _ = writeln!(out, "No MCPServers.");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<16} {:<24} {:<15} {:<40} REASON",
        "NAMESPACE", "NAME", "PHASE", "URL"
    );
    for server in &status.servers {
        let _ = writeln!(
            out,
            "{:<16} {:<24} {:<15} {:<40} {}",
            server.namespace,
            server.name,
            server.phase,
            server.url.as_deref().unwrap_or("-"),
            server.reason.as_deref().unwrap_or("")
        );
    }
    out
}
