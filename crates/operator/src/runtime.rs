//! The operator process: lease-based leader election (on by default), `/healthz`, `/readyz`,
//! Prometheus `/metrics`, and graceful shutdown on SIGTERM or Ctrl-C.

use crate::config::OperatorConfig;
use crate::controller::{self, Context, Metrics};
use crate::handshake::HttpHandshake;
use bytes::Bytes;
use http_body_util::Full;
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ListParams, PostParams};
use kube::core::ObjectMeta;
use mcp_runtime_api::MCPServer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Default Lease name (MR's leader-election ID).
pub const LEASE_NAME: &str = "mcp-runtime-operator.mcpruntime.org";

/// How the process runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Take a Lease before reconciling, so only one replica writes.
    pub leader_elect: bool,
    pub lease_namespace: String,
    pub lease_name: String,
    /// This replica's identity in the Lease (the pod name).
    pub identity: String,
    pub lease_duration: Duration,
    pub health_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    /// Watch only this namespace; `None` watches all.
    pub namespace: Option<String>,
}

/// A Lease-based lock (coordination.k8s.io/v1), as client-go's leader election does it: the
/// holder renews `renewTime`; anyone may take the Lease over once `renewTime +
/// leaseDurationSeconds` has passed. Optimistic concurrency (resourceVersion) decides races.
#[derive(Clone, Debug)]
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

impl LeaseLock {
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> LeaseLock {
        LeaseLock {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: identity.to_owned(),
            duration,
        }
    }

    /// Takes or renews the Lease at `now`. `Ok(true)` while this replica holds it.
    pub async fn try_acquire_or_renew(&self, now: Timestamp) -> Result<bool, kube::Error> {
        let seconds = i32::try_from(self.duration.as_secs())
            .unwrap_or(i32::MAX)
            .max(1);
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let expired = match (&spec.renew_time, spec.lease_duration_seconds) {
            (Some(renewed), Some(duration)) => {
                renewed.0 + jiff::SignedDuration::from_secs(i64::from(duration)) < now
            }
            _ => true,
        };
        let mut next = spec.clone();
        if holder == self.identity {
            next.renew_time = Some(MicroTime(now));
            next.lease_duration_seconds = Some(seconds);
        } else if holder.is_empty() || expired {
            next.holder_identity = Some(self.identity.clone());
            next.acquire_time = Some(MicroTime(now));
            next.renew_time = Some(MicroTime(now));
            next.lease_duration_seconds = Some(seconds);
            next.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        } else {
            return Ok(false);
        }
        lease.spec = Some(next);
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up (on shutdown), so a standby replica takes over at once.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }

    /// Waits until this replica holds the Lease, then keeps renewing it every third of the lease
    /// duration. `leader` turns true on acquisition and false when the Lease is lost.
    ///
    /// A failed renewal (the API server restarting, a network blip) is retried every second; the
    /// holder gives up only when it has not renewed for two thirds of the lease duration (client-go's
    /// renew deadline), which is before any other replica may take the Lease over.
    pub async fn run(self, leader: watch::Sender<bool>, mut stop: watch::Receiver<bool>) {
        let period = self.duration / 3;
        let renew_deadline = self.duration * 2 / 3;
        let retry = Duration::from_secs(1).min(period);
        let mut held = false;
        let mut last_renewed = tokio::time::Instant::now();
        loop {
            let now = Timestamp::now();
            let mut wait = period;
            match self.try_acquire_or_renew(now).await {
                Ok(true) => {
                    if !held {
                        // A line of the process's own output (as at start), whatever the log
                        // filter: operators and tests read who leads from it.
                        eprintln!("mcp-runtime operator: leading as {}", self.identity);
                    }
                    held = true;
                    last_renewed = tokio::time::Instant::now();
                    let _ = leader.send(true);
                }
                Ok(false) if held => {
                    tracing::error!(identity = %self.identity, "lost the lease");
                    let _ = leader.send(false);
                    return;
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "lease error");
                    if held {
                        if last_renewed.elapsed() >= renew_deadline {
                            // Past the renew deadline another replica may soon lead: stop first.
                            tracing::error!(
                                deadline = ?renew_deadline,
                                "could not renew the lease within the renew deadline"
                            );
                            let _ = leader.send(false);
                            return;
                        }
                        wait = retry;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {
                    if held {
                        let _ = self.release().await;
                    }
                    return;
                }
            }
        }
    }
}

/// Health, readiness and metrics endpoints.
async fn serve_admin(
    listener: TcpListener,
    metrics: Option<Arc<Metrics>>,
    health: bool,
    ready: Arc<AtomicBool>,
) {
    // The shared accept loop: an accept error (out of descriptors) is retried, never fatal.
    let options = mcp_runtime_serve::Options::new("operator admin");
    let never = mcp_runtime_serve::never();
    mcp_runtime_serve::serve(listener, options, never, move |stream, _peer, drain| {
        let metrics = metrics.clone();
        let ready = ready.clone();
        {
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                let path = request.uri().path().to_owned();
                let (status, content_type, body) = match path.as_str() {
                    "/metrics" if metrics.is_some() => (
                        200,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        metrics.as_ref().map(|m| m.encode()).unwrap_or_default(),
                    ),
                    "/healthz" if health => (200, "text/plain", "ok\n".to_owned()),
                    "/readyz" if health => {
                        if ready.load(Ordering::SeqCst) {
                            (200, "text/plain", "ok\n".to_owned())
                        } else {
                            (503, "text/plain", "not ready\n".to_owned())
                        }
                    }
                    _ => (404, "text/plain", "not found\n".to_owned()),
                };
                async move {
                    http::Response::builder()
                        .status(status)
                        .header("content-type", content_type)
                        .body(Full::new(Bytes::from(body)))
                }
            });
            mcp_runtime_serve::serve_http1(stream, service, drain)
        }
    })
    .await;
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Why the operator stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// Asked to stop.
    Shutdown,
    /// Lost the Lease: exit non-zero so the pod restarts as a standby.
    LostLease,
}

/// Runs the operator until a shutdown signal (or the loss of the Lease).
pub async fn run(
    options: Options,
    config: OperatorConfig,
) -> Result<Exit, Box<dyn std::error::Error + Send + Sync>> {
    // kube uses rustls; pick ring explicitly (another provider may be linked in too).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = kube::Client::try_default().await?;
    // Fail fast when the CRDs are missing or RBAC is wrong.
    let servers: Api<MCPServer> = match &options.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    servers
        .list(&ListParams::default().limit(1))
        .await
        .map_err(|e| format!("listing MCPServers (are the CRDs installed?): {e}"))?;

    let metrics = Arc::new(Metrics::default());
    let ready = Arc::new(AtomicBool::new(false));
    let health_listener = TcpListener::bind(options.health_addr).await?;
    if options.metrics_addr == options.health_addr {
        tokio::spawn(serve_admin(
            health_listener,
            Some(metrics.clone()),
            true,
            ready.clone(),
        ));
    } else {
        tokio::spawn(serve_admin(health_listener, None, true, ready.clone()));
        let metrics_listener = TcpListener::bind(options.metrics_addr).await?;
        tokio::spawn(serve_admin(
            metrics_listener,
            Some(metrics.clone()),
            false,
            ready.clone(),
        ));
    }
    eprintln!(
        "mcp-runtime operator: health on {}, metrics on {}",
        options.health_addr, options.metrics_addr
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let (leader_tx, leader_rx) = watch::channel(!options.leader_elect);
    let (done_tx, done_rx) = watch::channel(None::<Exit>);
    {
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = done_tx.send(Some(Exit::Shutdown));
        });
    }
    let mut lease_task = None;
    if options.leader_elect {
        let lock = LeaseLock::new(
            client.clone(),
            &options.lease_namespace,
            &options.lease_name,
            &options.identity,
            options.lease_duration,
        );
        lease_task = Some(tokio::spawn(lock.run(leader_tx.clone(), stop_rx.clone())));
    }
    // A standby replica is healthy and ready: it serves nothing but waits for the Lease.
    ready.store(true, Ordering::SeqCst);
    {
        let mut leader_rx = leader_rx.clone();
        let mut done_rx = done_rx.clone();
        tokio::select! {
            _ = leader_rx.wait_for(|leading| *leading) => {}
            _ = done_rx.wait_for(|d| d.is_some()) => {
                let _ = stop_tx.send(true);
                if let Some(task) = lease_task { let _ = task.await; }
                return Ok(Exit::Shutdown);
            }
        }
    }
    {
        let done_tx = done_tx.clone();
        let mut leader_rx = leader_rx.clone();
        tokio::spawn(async move {
            if leader_rx.wait_for(|leading| !*leading).await.is_ok() {
                let _ = done_tx.send(Some(Exit::LostLease));
            }
        });
    }

    let context = Arc::new(
        Context::new(client, config, Arc::new(HttpHandshake::default()))
            .with_metrics(metrics)
            .with_namespace(options.namespace.clone()),
    );
    let stop = {
        let mut done_rx = done_rx.clone();
        async move {
            let _ = done_rx.wait_for(|d| d.is_some()).await;
        }
    };
    eprintln!("mcp-runtime operator: controllers running");
    controller::run(context, stop).await;
    let exit = match *done_rx.borrow() {
        Some(Exit::LostLease) => Exit::LostLease,
        _ => Exit::Shutdown,
    };
    let _ = stop_tx.send(true);
    drop(leader_tx);
    if let Some(task) = lease_task {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    eprintln!("mcp-runtime operator: stopped");
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<Bytes>>();
        let response = client
            .get(format!("http://{addr}{path}").parse().expect("uri"))
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn health_readiness_and_metrics_endpoints() {
        let metrics = Arc::new(Metrics::default());
        metrics
            .reconciles
            .get_or_create(&crate::controller::ControllerLabels {
                controller: "mcpserver".into(),
            })
            .inc();
        let ready = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve_admin(listener, Some(metrics), true, ready.clone()));
        assert_eq!(get(addr, "/healthz").await.0, 200);
        assert_eq!(get(addr, "/readyz").await.0, 503);
        ready.store(true, Ordering::SeqCst);
        assert_eq!(get(addr, "/readyz").await.0, 200);
        let (status, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            body.contains("mcp_runtime_operator_reconciles_total{controller=\"mcpserver\"} 1"),
            "{body}"
        );
        assert_eq!(get(addr, "/other").await.0, 404);
    }
}
