//! The separate metrics listener (MR's `METRICS_PORT`): every path answers with the metrics.

use crate::metrics::GatewayMetrics;
use bytes::Bytes;
use http_body_util::Full;
use mcp_runtime_serve::Options;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves `metrics` on `listener` until `shutdown` completes. Accept errors are counted in the
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
