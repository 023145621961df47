//! A Kubernetes client the way kubectl finds one: `--kubeconfig`, else `KUBECONFIG`, else
//! `~/.kube/config`, else the in-cluster ServiceAccount; `--context` picks a context. Each failure
//! is one line naming the fix.

use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;

/// Where to connect.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read the kubeconfig {path}: {reason} (check --kubeconfig or KUBECONFIG)")]
    Kubeconfig { path: String, reason: String },
    #[error(
        "no context {wanted:?} in the kubeconfig (it has: {available}); pick one with --context"
    )]
    UnknownContext { wanted: String, available: String },
    #[error(
        "no cluster configured: no kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config) and not running in a pod ({reason})"
    )]
    NoCluster { reason: String },
    #[error("the kubeconfig cannot be used: {0}")]
    Invalid(String),
    #[error(
        "cannot reach the Kubernetes API at {url}: {reason} (is the cluster running, and is this the right context?)"
    )]
    Unreachable { url: String, reason: String },
}

/// A client for `target`, checked by asking the API server its version.
pub async fn connect(target: &Target) -> Result<(kube::Client, String), ConnectError> {
    connect_with(target, true).await
}

/// [`connect`] without the client's retries of 429/503/504 answers. For requests the API server
/// proxies (a Service's 503 "no endpoints available" is an answer, not a transient error, and
/// retrying it only delays the message).
pub async fn connect_without_retries(
    target: &Target,
) -> Result<(kube::Client, String), ConnectError> {
    connect_with(target, false).await
}

async fn connect_with(
    target: &Target,
    retry: bool,
) -> Result<(kube::Client, String), ConnectError> {
    // Builds that link more than one rustls provider cannot pick one by themselves.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let path = target
        .kubeconfig
        .clone()
        .or_else(|| std::env::var_os("KUBECONFIG").map(PathBuf::from));
    let config = match path {
        Some(path) => {
            // KUBECONFIG may list several files; the first one that exists is read, as kubectl
            // merges them with the first taking precedence.
            let kubeconfig =
                Kubeconfig::read_from(&path).map_err(|e| ConnectError::Kubeconfig {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            check_context(&kubeconfig, target.context.as_deref())?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| ConnectError::Invalid(e.to_string()))?
        }
        None => match Kubeconfig::read() {
            Ok(kubeconfig) => {
                check_context(&kubeconfig, target.context.as_deref())?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| ConnectError::Invalid(e.to_string()))?
            }
            Err(read) => {
                kube::Config::incluster().map_err(|incluster| ConnectError::NoCluster {
                    reason: format!("{read}; {incluster}"),
                })?
            }
        },
    };
    let mut config = config;
    config.default_retry = retry;
    let url = config.cluster_url.to_string();
    let client =
        kube::Client::try_from(config).map_err(|e| ConnectError::Invalid(e.to_string()))?;
    match client.apiserver_version().await {
        Ok(_) => Ok((client, url)),
        Err(e) => Err(ConnectError::Unreachable {
            url,
            reason: short(&e),
        }),
    }
}

fn check_context(kubeconfig: &Kubeconfig, wanted: Option<&str>) -> Result<(), ConnectError> {
    let Some(wanted) = wanted else {
        return Ok(());
    };
    if kubeconfig.contexts.iter().any(|c| c.name == wanted) {
        return Ok(());
    }
    let available: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    Err(ConnectError::UnknownContext {
        wanted: wanted.to_owned(),
        available: if available.is_empty() {
            "none".into()
        } else {
            available.join(", ")
        },
    })
}

/// The innermost cause of a client error ("Connection refused"), not its whole chain.
fn short(error: &kube::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
