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

/// The key that signs the local audit chain's checkpoints, made on first run (mode 0600).
pub const SIGNING_KEY_FILE: &str = "audit-signing-key.pem";
/// Its public half, for `mcp-runtime sentinel verify --public-key`.
pub const PUBLIC_KEY_FILE: &str = "audit-signing-key.pub.pem";
/// How often the local chain head is signed when it moved (and at shutdown).
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

/// Loads the state directory's signing key, creating it (and its public half) on first run.
fn signing_key(state_dir: &Path) -> anyhow::Result<mcp_runtime_audit::Signer> {
    use anyhow::Context as _;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = state_dir.join(SIGNING_KEY_FILE);
    let pem = match std::fs::read_to_string(&path) {
        Ok(pem) => pem,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pem = mcp_runtime_audit::Signer::generate_pem()?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            file.write_all(pem.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            pem
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let signer = mcp_runtime_audit::Signer::from_pem(&pem)
        .with_context(|| format!("{}: not an Ed25519 PKCS#8 key", path.display()))?;
    let public = state_dir.join(PUBLIC_KEY_FILE);
    if std::fs::read_to_string(&public).ok().as_deref() != Some(signer.public_key_pem().as_str()) {
        std::fs::write(&public, signer.public_key_pem())
            .with_context(|| format!("writing {}", public.display()))?;
    }
    Ok(signer)
}

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

/// Opens (or creates) `state_dir/sentinel.db`, keeping events for `retention`. Events are
/// chained, and the chain head is signed with the state directory's key
/// ([`SIGNING_KEY_FILE`]), which the embedded Sentinel trusts.
pub async fn open(state_dir: &Path, retention: Option<Duration>) -> anyhow::Result<Embedded> {
    let store = StoreUrl::Sqlite(state_dir.join("sentinel.db"));
    let signer = Arc::new(signing_key(state_dir)?);
    let mut config = SentinelConfig::new(store);
    config.retention = retention;
    config.chain_keys = vec![signer.public_key()];
    let sentinel = Sentinel::open(config).await?;
    let sink = Arc::new(sentinel.chained_sink(Some(signer), CHECKPOINT_INTERVAL));
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
