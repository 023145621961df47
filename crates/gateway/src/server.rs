//! The gateway's listeners: the MCP port (plain HTTP, or TLS in `auth.mode: mtls`, see
//! [`crate::tls_listener`]) and the separate metrics port (MR's `METRICS_PORT`), served until a
//! shutdown signal, then drained.

use crate::metrics::GatewayMetrics;
use crate::proxy::Proxy;
use crate::tls_listener::TlsListener;
use bytes::Bytes;
use http_body_util::Full;
use mcp_runtime_serve::Options;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves `proxy` on `listener` (over TLS when `tls` is given) and, when given, the metrics on
/// their own (plain HTTP) listener, until
/// `shutdown` completes; then both stop accepting and their connections drain. Accept errors
/// never end serving.
pub async fn serve_gateway(
    proxy: Proxy,
    listener: TcpListener,
    tls: Option<Arc<TlsListener>>,
    metrics: Option<(TcpListener, Arc<GatewayMetrics>)>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let metrics_server = metrics
        .map(|(listener, metrics)| tokio::spawn(serve_metrics(listener, metrics, stopped())));
    let options = proxy.serve_options();
    let serving = async {
        match tls {
            Some(tls) => {
                proxy
                    .serve_tls_until(listener, tls, options, stopped())
                    .await
            }
            None => proxy.serve_until(listener, options, stopped()).await,
        }
    };
    tokio::pin!(serving);
    tokio::select! {
        served = &mut serving => served?,
        () = shutdown => {
            let _ = stop.send(true);
            serving.await?;
        }
    }
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    Ok(())
}

/// Serves `metrics` on `listener` (every path answers with them) until `shutdown` completes. Accept errors are counted in the
/// same `mcp_gateway_accept_errors_total` as the main listener's, and never end serving.
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<GatewayMetrics>,
    shutdown: impl Future<Output = ()>,
) {
    let options = Options::new("gateway metrics").count_accept_errors(metrics.accept_errors());
    mcp_runtime_serve::serve(listener, options, shutdown, move |stream, _peer, drain| {
        let metrics = metrics.clone();
        let service = hyper::service::service_fn(move |_request| {
            let body = metrics.encode();
            async move {
                http::Response::builder()
                    .header(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )
                    .body(Full::new(Bytes::from(body)))
            }
        });
        mcp_runtime_serve::serve_http1(stream, service, drain)
    })
    .await;
}
