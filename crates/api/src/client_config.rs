//! What `server connect-config` prints: the configuration an MCP client needs to reach a server,
//! in the format that client reads.
//!
//! - **Cursor** (`~/.cursor/mcp.json`) and **VS Code** (`.vscode/mcp.json`) speak streamable HTTP
//!   and can send headers: the URL and the identity headers go in directly.
//! - **Claude Desktop** (`claude_desktop_config.json`) starts stdio servers only, so the entry runs
//!   `mcp-runtime adapter stdio`, which forwards to the URL and adds the headers.
//! - **json**: a neutral description (name, URL, transport, headers) for anything else.
//!
//! In `header` mode the headers carry the identity the gateway trusts (see docs/gateway.md for
//! where that is safe); in `oauth` mode the client authenticates itself and no identity header is
//! written; in `mtls` mode the adapter presents the client certificate.

use crate::server::{AuthMode, MCPServer};
use serde_json::{Map, Value, json};

/// A client whose configuration format is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Claude,
    Cursor,
    Vscode,
    Json,
}

/// Who the client says it is (header mode). Unset values are written as placeholders the user
/// replaces, so a copied configuration never carries someone else's identity by accident.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub human_id: Option<String>,
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    pub session_id: Option<String>,
}

/// The identity headers of `server` (names from its `auth`), in the order human, agent, team,
/// session; team and session only when given or required.
pub fn identity_headers(server: &MCPServer, identity: &Identity) -> Vec<(String, String)> {
    let auth = server.spec.auth.clone().unwrap_or_default();
    if auth.mode != AuthMode::Header {
        return Vec::new();
    }
    let session_required = server.spec.session.as_ref().is_some_and(|s| s.required);
    let value = |given: &Option<String>, placeholder: &str| {
        given.clone().unwrap_or_else(|| placeholder.to_owned())
    };
    let mut headers = vec![
        (
            auth.human_id_header.clone(),
            value(&identity.human_id, "<your-human-id>"),
        ),
        (
            auth.agent_id_header.clone(),
            value(&identity.agent_id, "<your-agent-id>"),
        ),
    ];
    if let Some(team) = &identity.team_id {
        headers.push((auth.team_id_header.clone(), team.clone()));
    }
    if identity.session_id.is_some() || session_required {
        headers.push((
            auth.session_id_header.clone(),
            value(&identity.session_id, "<your-session-id>"),
        ));
    }
    headers
}

/// The configuration for `client` to reach `server` at `url`.
pub fn render(client: Client, server: &MCPServer, url: &str, identity: &Identity) -> Value {
    let name = server.metadata.name.clone().unwrap_or_default();
    let headers = identity_headers(server, identity);
    let header_map: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mode = server
        .spec
        .auth
        .as_ref()
        .map(|a| a.mode)
        .unwrap_or_default();
    match client {
        Client::Cursor => {
            let mut entry = Map::new();
            entry.insert("url".into(), json!(url));
            if !header_map.is_empty() {
                entry.insert("headers".into(), Value::Object(header_map));
            }
            json!({"mcpServers": {name: entry}})
        }
        Client::Vscode => {
            let mut entry = Map::new();
            entry.insert("type".into(), json!("http"));
            entry.insert("url".into(), json!(url));
            if !header_map.is_empty() {
                entry.insert("headers".into(), Value::Object(header_map));
            }
            json!({"servers": {name: entry}})
        }
        Client::Claude => {
            let mut args = vec![
                "adapter".to_owned(),
                "stdio".to_owned(),
                "--runtime-url".to_owned(),
                url.to_owned(),
            ];
            let auth = server.spec.auth.clone().unwrap_or_default();
            for (header, value) in &headers {
                let flag = if *header == auth.human_id_header {
                    "--human-id"
                } else if *header == auth.agent_id_header {
                    "--agent-id"
                } else if *header == auth.team_id_header {
                    "--team-id"
                } else {
                    "--session-id"
                };
                args.push(flag.to_owned());
                args.push(value.clone());
            }
            json!({"mcpServers": {name: {"command": "mcp-runtime", "args": args}}})
        }
        Client::Json => json!({
            "name": name,
            "url": url,
            "transport": "streamable-http",
            "auth": mode.as_str(),
            "headers": Value::Object(header_map),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(spec: Value) -> MCPServer {
        let object = json!({
            "apiVersion": crate::API_VERSION, "kind": "MCPServer",
            "metadata": {"name": "notes", "namespace": "mcp-servers"}, "spec": spec,
        });
        serde_json::from_value(object).expect("server")
    }

    #[test]
    fn header_mode_writes_the_servers_header_names_and_placeholders() {
        let server = server(json!({
            "image": "x",
            "auth": {"mode": "header", "humanIDHeader": "X-Human"},
            "session": {"required": true},
        }));
        let identity = Identity {
            agent_id: Some("claude".into()),
            ..Identity::default()
        };
        let url = "https://mcp.example.com/notes/mcp";
        assert_eq!(
            render(Client::Cursor, &server, url, &identity),
            json!({"mcpServers": {"notes": {"url": url, "headers": {
                "X-Human": "<your-human-id>", "X-MCP-Agent-ID": "claude",
                "X-MCP-Agent-Session": "<your-session-id>"}}}})
        );
        assert_eq!(
            render(Client::Vscode, &server, url, &identity)["servers"]["notes"]["type"],
            "http"
        );
        assert_eq!(
            render(Client::Claude, &server, url, &identity),
            json!({"mcpServers": {"notes": {"command": "mcp-runtime", "args": [
                "adapter", "stdio", "--runtime-url", url,
                "--human-id", "<your-human-id>", "--agent-id", "claude",
                "--session-id", "<your-session-id>"]}}})
        );
    }

    #[test]
    fn oauth_mode_writes_no_identity_headers() {
        let server = server(json!({
            "image": "x",
            "auth": {"mode": "oauth", "issuerURL": "https://issuer.example.com"},
        }));
        let config = render(
            Client::Json,
            &server,
            "https://h/notes/mcp",
            &Identity::default(),
        );
        assert_eq!(config["headers"], json!({}));
        assert_eq!(config["auth"], "oauth");
    }
}
