//! The embedded Sentinel of the local mode: SQLite in the state directory, events handed over in
//! process (no HTTP hop, nothing to lose in between), and the UI and query API mounted under
//! [`SENTINEL_PATH`] on the local port.

use crate::daemon::MountedHandler;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_runtime_sentinel::{Sentinel, SentinelConfig, SentinelSink, StoreUrl};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Where the embedded Sentinel lives on the local port.
pub const SENTINEL_PATH: &str = "/sentinel";

/// An open embedded Sentinel.
#[derive(Clone)]
pub struct Embedded {
    pub sentinel: Sentinel,
    pub sink: Arc<SentinelSink>,
    pub handler: MountedHandler,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").finish_non_exhaustive()
    }
}

/// Opens (or creates) `state_dir/sentinel.db`, keeping events for `retention`.
pub async fn open(state_dir: &Path, retention: Option<Duration>) -> anyhow::Result<Embedded> {
    let store = StoreUrl::Sqlite(state_dir.join("sentinel.db"));
    let mut config = SentinelConfig::new(store);
    config.retention = retention;
    let sentinel = Sentinel::open(config).await?;
    let sink = Arc::new(sentinel.sink());
    // Nesting (rather than stripping the prefix by hand) keeps the original URI visible to the
    // router, so its redirects and the UI's relative links resolve under the prefix.
    // `/sentinel/` (what the banner, `status` and the docs print) is not matched by the nest,
    // whose catch-all needs a non-empty rest: send it to the UI too.
    let app = axum::Router::new()
        .route(
            &format!("{SENTINEL_PATH}/"),
            axum::routing::get(|| async { axum::response::Redirect::to("ui/") }),
        )
        .nest(SENTINEL_PATH, sentinel.router());
    let handler: MountedHandler = Arc::new(move |request| {
        let app = app.clone();
        Box::pin(async move {
            let request = request.map(axum::body::Body::new);
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            // Sentinel's answers are small pages and JSON (never streams), and axum's body is not
            // `Sync`: buffer it into the gateway's body type.
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|collected| collected.to_bytes())
                .unwrap_or_else(|_| Bytes::new());
            http::Response::from_parts(
                parts,
                Full::new(bytes).map_err(|never| match never {}).boxed(),
            )
        })
    });
    Ok(Embedded {
        sentinel,
        sink,
        handler,
    })
}
