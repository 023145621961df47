//! Where an MCPServer is published: its Ingress host and path. The operator builds its Ingress
//! from this, and the local mode serves each server at the same path, so a server keeps its URL
//! path between a laptop and a cluster.

use crate::server::MCPServer;

/// Where the server is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Ingress host; `None` for a hostless rule.
    pub host: Option<String>,
    /// Ingress path, e.g. `/github/mcp`.
    pub path: String,
}

impl Route {
    /// Resolves host and path as the Go reconciler does: a `publicPathPrefix` gives
    /// `/<prefix>/mcp`; otherwise `ingressPath`, default `/<name>/mcp`. Without a host or a prefix
    /// `default_host` (the operator's `MCP_DEFAULT_INGRESS_HOST`) is used, and without that the
    /// route is hostless.
    pub fn of(server: &MCPServer, default_host: Option<&str>) -> Route {
        let spec = &server.spec;
        let name = server.metadata.name.as_deref().unwrap_or_default();
        let prefix = spec
            .public_path_prefix
            .as_deref()
            .map(|p| p.trim_matches('/'));
        let host = match (&spec.ingress_host, prefix) {
            (Some(host), _) if !host.is_empty() => Some(host.clone()),
            (_, Some(_)) => None,
            _ => default_host.map(str::to_owned),
        };
        let path = match (prefix, &spec.ingress_path) {
            (Some(prefix), _) => format!("/{prefix}/mcp"),
            (None, Some(path)) if !path.is_empty() => path.clone(),
            _ => format!("/{name}/mcp"),
        };
        Route { host, path }
    }

    /// `http://host/path`, or just the path for a hostless route.
    pub fn url(&self) -> String {
        match &self.host {
            Some(host) => format!("http://{host}{}", self.path),
            None => self.path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::MCPServerSpec;

    fn server(name: &str) -> MCPServer {
        let spec: MCPServerSpec =
            serde_json::from_value(serde_json::json!({"image": "ghcr.io/acme/srv"})).expect("spec");
        MCPServer::new(name, spec)
    }

    #[test]
    fn routes_follow_the_go_reconciler() {
        let default_host = Some("mcp.example");
        let mut s = server("srv");
        assert_eq!(
            Route::of(&s, default_host).url(),
            "http://mcp.example/srv/mcp"
        );
        assert_eq!(Route::of(&s, None).url(), "/srv/mcp");
        s.spec.ingress_path = Some(String::new());
        assert_eq!(
            Route::of(&s, None).url(),
            "/srv/mcp",
            "an empty path is the default"
        );
        s.spec.ingress_path = None;
        s.spec.public_path_prefix = Some("/tools/".into());
        assert_eq!(Route::of(&s, default_host).url(), "/tools/mcp");
        s.spec.ingress_host = Some("h.example".into());
        assert_eq!(
            Route::of(&s, default_host).url(),
            "http://h.example/tools/mcp"
        );
        s.spec.public_path_prefix = None;
        s.spec.ingress_path = Some("/custom".into());
        assert_eq!(Route::of(&s, default_host).url(), "http://h.example/custom");
        s.spec.ingress_host = Some(String::new());
        assert_eq!(
            Route::of(&s, default_host).url(),
            "http://mcp.example/custom",
            "an empty host is the default"
        );
    }
}
