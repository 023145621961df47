//! Several upstreams behind one listener, chosen by path.
//!
//! In a pod the gateway fronts exactly one server. The local mode (`mcp-runtime up`) runs every
//! server on one port instead, so it needs a table from public path (`/notes/mcp`,
//! `/tools/mcp`, …) to a [`Proxy`] configured for that server: its own upstream, policy,
//! labels and audit identity. The table is swapped atomically, so adding or removing a server
//! never drops requests in flight to the others.

use crate::pipeline::jsonrpc_error;
use crate::proxy::{Proxy, ProxyBody};
use arc_swap::ArcSwap;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::fmt;
use std::sync::Arc;

/// Says whether a route's upstream can take traffic now, and if not, why. Checked before each
/// request, so a client gets a clear 503 instead of a connection error while a server starts or
/// restarts.
pub type ReadyCheck = Arc<dyn Fn() -> Result<(), NotReady> + Send + Sync>;

/// Why a route's upstream cannot take traffic: the client sees this in the 503's JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReady {
    /// The server, as its owner names it (`default/notes`).
    pub server: String,
    /// Its lifecycle phase (`Starting`, `Restarting`, `Failed`, …).
    pub phase: String,
    /// The last error its supervisor saw, if any.
    pub last_error: Option<String>,
    /// Where to look for more, for example "see `mcp-runtime status`".
    pub hint: Option<String>,
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MCP server {} is not ready (phase {})",
            self.server, self.phase
        )?;
        if let Some(error) = &self.last_error {
            write!(f, ": {error}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NotReady {}

/// One public path and the proxy that serves it.
#[derive(Clone)]
pub struct Route {
    /// The public path, for example `/notes/mcp`. It matches itself and anything below it
    /// (`/notes/mcp/…`), never a sibling that merely shares its characters (`/notes/mcpx`).
    pub path: String,
    /// The proxy for this route. Its `strip_prefix` should be `path`, so the upstream sees its
    /// own MCP path.
    pub proxy: Proxy,
    /// Optional gate in front of the proxy.
    pub ready: Option<ReadyCheck>,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("path", &self.path)
            .field("proxy", &self.proxy)
            .field("gated", &self.ready.is_some())
            .finish()
    }
}

/// A route table that can be replaced while serving.
#[derive(Debug, Default)]
pub struct Router {
    table: ArcSwap<Vec<Route>>,
}

impl Router {
    /// An empty router: every request is answered with 404 until routes are installed.
    pub fn new() -> Self {
        Router::default()
    }

    /// Installs a new table. Longer paths win over their prefixes, whatever the order given.
    pub fn replace(&self, mut routes: Vec<Route>) {
        for route in &mut routes {
            route.path = normalize(&route.path);
        }
        routes.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.path.cmp(&b.path)));
        self.table.store(Arc::new(routes));
    }

    /// The installed public paths, longest first.
    pub fn paths(&self) -> Vec<String> {
        self.table.load().iter().map(|r| r.path.clone()).collect()
    }

    /// The route that serves `path`, if any.
    pub fn lookup(&self, path: &str) -> Option<Route> {
        let table = self.table.load();
        table
            .iter()
            .find(|route| path_matches(&route.path, path))
            .cloned()
    }

    /// Routes one request. An unknown path gets a JSON-RPC error naming the known routes, so a
    /// client pointed at a typo learns where the servers are.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        // `/.well-known/oauth-protected-resource/<route path>` belongs to that route (RFC 9728
        // path-inserted metadata).
        let path = request.uri().path();
        let routed = crate::pipeline::identity::protected_resource_path(path)
            .filter(|rest| !rest.is_empty())
            .unwrap_or(path);
        match self.lookup(routed) {
            Some(route) => {
                if let Some(Err(not_ready)) = route.ready.as_ref().map(|check| check()) {
                    return jsonrpc_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        crate::codes::INTERNAL_ERROR,
                        &not_ready.to_string(),
                    );
                }
                route.proxy.handle(request).await
            }
            None => {
                let known = self.paths();
                let message = if known.is_empty() {
                    format!("no MCP server is routed at {}", request.uri().path())
                } else {
                    format!(
                        "no MCP server is routed at {}; routes: {}",
                        request.uri().path(),
                        known.join(", ")
                    )
                };
                jsonrpc_error(
                    StatusCode::NOT_FOUND,
                    crate::codes::INVALID_REQUEST,
                    &message,
                )
            }
        }
    }
}

/// `/a/b/` and `a/b` both become `/a/b`; the root stays `/`.
fn normalize(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    format!("/{trimmed}")
}

/// Whether `route` serves `path`: equal, or `path` continues below it at a `/`.
fn path_matches(route: &str, path: &str) -> bool {
    if route == "/" {
        return true;
    }
    match path.strip_prefix(route) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_on_segment_boundaries_only() {
        assert!(path_matches("/notes/mcp", "/notes/mcp"));
        assert!(path_matches("/notes/mcp", "/notes/mcp/"));
        assert!(path_matches("/notes/mcp", "/notes/mcp/extra"));
        assert!(!path_matches("/notes/mcp", "/notes/mcpx"));
        assert!(!path_matches("/notes/mcp", "/notes"));
        assert!(!path_matches("/notes/mcp", "/other/mcp"));
        assert!(path_matches("/", "/anything"));
    }

    #[test]
    fn normalizes_slashes() {
        assert_eq!(normalize("notes/mcp/"), "/notes/mcp");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize(""), "/");
    }
}
