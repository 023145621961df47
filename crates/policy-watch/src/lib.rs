//! The gateway's live policy source: a watch on its one policy ConfigMap through the Kubernetes
//! API (`fieldSelector=metadata.name=<name>`), so a revocation reaches the gateway as soon as the
//! operator has written it, instead of after the kubelet's refresh of the mounted file (about a
//! minute by default).
//!
//! This crate is the only part of the gateway role that links Kubernetes crates: the gateway
//! itself stays kube-free (crates/cli/tests/layering.rs) and receives documents through
//! [`PolicySink`]. What the watch guarantees:
//!
//! * Every `ADDED`/`MODIFIED` event (and every object of a relist after a reconnect) hands the
//!   document under the key to the sink, which keeps the last good policy when it is invalid.
//! * A deleted ConfigMap changes nothing (the gateway keeps enforcing its last good policy; the
//!   operator deletes the ConfigMap only with the gateway or the server).
//! * Any error (connection refused or reset, 403, a watch that ends) marks the source down in the
//!   sink; the watch reconnects with a backoff capped at [`MAX_BACKOFF`] and marks it up again
//!   after the relist. Never fails open: the sink keeps the active policy throughout.
//! * The server ends a quiet watch after [`WATCH_TIMEOUT`], and the client gives up on a
//!   connection that sent nothing for [`READ_TIMEOUT`], so a silently dead link is noticed
//!   (and reported stale) within about a minute.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, utils::Backoff};
pub use mcp_runtime_gateway::policy_source::PolicySink;
use mcp_runtime_gateway::policy_source::SOURCE_API;
use tokio::task::JoinHandle;

/// Server-side timeout of one watch request; the watcher then re-watches from where it was.
pub const WATCH_TIMEOUT: u32 = 50;
/// Client read timeout for the watch connection (longer than [`WATCH_TIMEOUT`]).
pub const READ_TIMEOUT: Duration = Duration::from_secs(65);
/// First reconnect delay after an error; doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest reconnect delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The ConfigMap to watch (`<namespace>/<name>`) and the key holding the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMapRef {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl fmt::Display for ConfigMapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ConfigMap {}/{} key {}",
            self.namespace, self.name, self.key
        )
    }
}

/// A `POLICY_CONFIGMAP` value that is not `<namespace>/<name>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not <namespace>/<name>")]
pub struct BadConfigMapRef(pub String);

impl FromStr for ConfigMapRef {
    type Err = BadConfigMapRef;

    /// `<namespace>/<name>`, key `policy.json`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(ConfigMapRef {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    key: "policy.json".to_owned(),
                })
            }
            _ => Err(BadConfigMapRef(raw.to_owned())),
        }
    }
}

/// Reconnect delays: 100 ms doubling to 2 s, reset after a successful event.
#[derive(Clone, Copy, Debug)]
struct ReconnectBackoff {
    next: Duration,
}

impl Iterator for ReconnectBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (current * 2).min(MAX_BACKOFF);
        Some(current)
    }
}

impl Backoff for ReconnectBackoff {
    fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }
}

/// The client for the watch: the in-cluster ServiceAccount (the operator mounts a token into
/// the gateway container only) or `KUBECONFIG`, with the read timeout the watch needs (see
/// [`READ_TIMEOUT`]).
pub async fn client() -> Result<kube::Client, ClientError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = kube::Config::infer().await.map_err(ClientError::Config)?;
    config.read_timeout = Some(READ_TIMEOUT);
    kube::Client::try_from(config).map_err(ClientError::Client)
}

/// Why [`client`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no Kubernetes client configuration (in-cluster or KUBECONFIG): {0}")]
    Config(#[source] kube::config::InferConfigError),
    #[error("building the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
}

/// Starts watching `target` and feeding `sink` until the returned task is aborted. The sink is
/// told the source exists (down) right away, so `/config/status` reports it until the first
/// list succeeds.
pub fn spawn(
    client: kube::Client,
    target: ConfigMapRef,
    sink: Arc<dyn PolicySink>,
) -> JoinHandle<()> {
    sink.source_down(SOURCE_API, "not connected yet");
    tokio::spawn(run(client, target, sink))
}

async fn run(client: kube::Client, target: ConfigMapRef, sink: Arc<dyn PolicySink>) {
    let api: Api<ConfigMap> = Api::namespaced(client, &target.namespace);
    let config = watcher::Config::default()
        .fields(&format!("metadata.name={}", target.name))
        .timeout(WATCH_TIMEOUT);
    let origin = target.to_string();
    let stream = watcher::watcher(api, config).backoff(ReconnectBackoff {
        next: FIRST_BACKOFF,
    });
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(config_map) | Event::InitApply(config_map)) => {
                // Parsing and compiling a large document takes a core for a while (about
                // 0.25 s at 100,000 grants): off the runtime, so requests keep being served from
                // the current policy meanwhile. Awaited, so documents still apply in order.
                let (sink, target, origin) = (sink.clone(), target.clone(), origin.clone());
                let delivered = tokio::task::spawn_blocking(move || {
                    deliver(&*sink, &target, &origin, &config_map);
                })
                .await;
                if let Err(error) = delivered {
                    tracing::error!(%error, "policy delivery failed");
                }
            }
            Ok(Event::InitDone) => sink.source_up(SOURCE_API),
            Ok(Event::Init) => {}
            Ok(Event::Delete(_)) => {
                tracing::warn!(
                    configmap = %origin,
                    "policy ConfigMap deleted; keeping the last good policy"
                );
            }
            Err(error) => {
                tracing::debug!(configmap = %origin, %error, "policy watch error");
                sink.source_down(SOURCE_API, &error.to_string());
            }
        }
    }
}

fn deliver(sink: &dyn PolicySink, target: &ConfigMapRef, origin: &str, config_map: &ConfigMap) {
    if config_map.metadata.name.as_deref() != Some(target.name.as_str()) {
        return; // Not ours (a field selector the server ignored would show up here).
    }
    match config_map
        .data
        .as_ref()
        .and_then(|data| data.get(&target.key))
    {
        Some(text) => sink.policy_text(SOURCE_API, origin, text),
        None => tracing::warn!(
            configmap = %origin,
            "policy ConfigMap has no key {}; keeping the last good policy",
            target.key
        ),
    }
    sink.source_up(SOURCE_API);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_refs_are_namespace_slash_name() {
        assert_eq!(
            "tools/files-gateway-policy".parse::<ConfigMapRef>(),
            Ok(ConfigMapRef {
                namespace: "tools".into(),
                name: "files-gateway-policy".into(),
                key: "policy.json".into(),
            })
        );
        for bad in ["", "tools", "/x", "tools/", "a/b/c"] {
            assert!(bad.parse::<ConfigMapRef>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reconnects_back_off_to_two_seconds_and_reset() {
        let mut backoff = ReconnectBackoff {
            next: FIRST_BACKOFF,
        };
        let delays: Vec<Duration> = backoff.by_ref().take(7).collect();
        assert_eq!(delays.first(), Some(&FIRST_BACKOFF));
        assert_eq!(delays.last(), Some(&MAX_BACKOFF));
        backoff.reset();
        assert_eq!(backoff.next(), Some(FIRST_BACKOFF));
    }
}
