//! What to run for a set of manifests: the pure step of the local mode.
//!
//! The same manifests a cluster accepts describe local processes here:
//!
//! * `transport: stdio` with a `command`: the command runs behind `mcp-runtime bridge`;
//! * a `command` with the default `streamable-http` transport: the command runs as an HTTP
//!   server on a port the local mode assigns (`PORT` in its environment, `$(PORT)` in its
//!   arguments, as Kubernetes expands `$(VAR)`);
//! * no `command` but a `gateway.upstreamURL`: an MCP server that already runs elsewhere.
//!
//! A container `image` alone cannot run locally; such a server is reported, not guessed at.
//! Nothing here does I/O, so every rule is unit tested.

use mcp_runtime_api::manifest::LoadResult;
use mcp_runtime_api::route::Route;
use mcp_runtime_api::server::{MCPServer, Transport};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// The command name that means "this very binary" (the bridge, the example server).
pub const SELF_COMMAND: &str = "mcp-runtime";

/// Namespace and name: the identity of a server across reloads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ServerKey {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// How one server is started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Launch {
    /// A stdio server behind the bridge.
    Stdio {
        program: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    /// An HTTP server that listens on the port given in `PORT`.
    Http {
        program: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
        mcp_path: String,
    },
    /// An MCP endpoint that is already running.
    External { url: String },
}

impl Launch {
    /// The program to start, if this launch starts one.
    pub fn program(&self) -> Option<&str> {
        match self {
            Launch::Stdio { program, .. } | Launch::Http { program, .. } => Some(program),
            Launch::External { .. } => None,
        }
    }
}

/// Everything the local mode needs to run, route and guard one server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerPlan {
    pub key: ServerKey,
    /// The public path on the local port, for example `/notes/mcp`.
    pub route: String,
    pub launch: Launch,
    /// Changes exactly when the process must be restarted (launch settings), not when only
    /// policy inputs change: those are re-rendered in place.
    pub fingerprint: String,
    /// The request headers that carry the caller's human, agent and team IDs.
    pub identity_headers: [String; 3],
    pub team_id: String,
    /// Where the manifest came from, for messages.
    pub source: String,
    /// Things that run but differ from a cluster (for example a `valueFrom` that was skipped).
    pub warnings: Vec<String>,
}

/// A manifest that was refused, or a server that cannot run locally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    /// File and document, and the object when known.
    pub source: String,
    /// What is wrong, naming the field.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

/// The servers to run and everything that was refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    pub servers: Vec<ServerPlan>,
    pub problems: Vec<Problem>,
}

/// Plans `load`. `environment` looks up the local mode's own environment, which is where a
/// `secretEnvVars` entry is read from (there is no Secret store locally).
pub fn plan(load: &LoadResult, environment: &dyn Fn(&str) -> Option<String>) -> Plan {
    let mut result = Plan::default();
    for error in &load.errors {
        result.problems.push(Problem {
            source: match &error.object {
                Some(object) => format!("{} {object}", error.source),
                None => error.source.to_string(),
            },
            message: error
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    let mut routes: BTreeMap<String, ServerKey> = BTreeMap::new();
    for loaded in &load.loaded {
        let mcp_runtime_api::manifest::Manifest::Server(server) = &loaded.manifest else {
            continue;
        };
        let key = key_of(server);
        let source = format!("{} MCPServer {key}", loaded.source);
        match plan_server(server, &key, environment) {
            Ok(mut planned) => {
                planned.source = source.clone();
                if let Some(first) = routes.get(&planned.route) {
                    result.problems.push(Problem {
                        source,
                        message: format!(
                            "route {} is already served by MCPServer {first}; set \
                             spec.publicPathPrefix or spec.ingressPath to tell them apart",
                            planned.route
                        ),
                    });
                    continue;
                }
                routes.insert(planned.route.clone(), key);
                result.servers.push(planned);
            }
            Err(error) => result.problems.push(Problem {
                source,
                message: error.to_string(),
            }),
        }
    }
    result
}

fn key_of(server: &MCPServer) -> ServerKey {
    ServerKey {
        namespace: server
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        name: server.metadata.name.clone().unwrap_or_default(),
    }
}

fn plan_server(
    server: &MCPServer,
    key: &ServerKey,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerPlan, ServerPlanError> {
    let spec = &server.spec;
    let mut warnings = Vec::new();
    // The gateway takes the identity mode from the rendered policy, as in a cluster. `oauth`
    // verifies bearer tokens from `auth.issuerURL`; `mtls` is served on the TLS port only (the
    // daemon adds the warning that says where, since it depends on how `up` was started).
    let external = spec
        .gateway
        .as_ref()
        .and_then(|gateway| gateway.upstream_url.clone())
        .filter(|url| !url.trim().is_empty());
    let launch = match (spec.command.split_first(), external) {
        (Some((program, rest)), _) => {
            let mut args: Vec<String> = rest.to_vec();
            args.extend(spec.args.iter().cloned());
            let env = environment_of(server, environment, &mut warnings);
            match spec.transport {
                Transport::Stdio => Launch::Stdio {
                    program: program.clone(),
                    args,
                    env,
                },
                Transport::StreamableHttp => Launch::Http {
                    program: program.clone(),
                    args,
                    env,
                    mcp_path: normalized_path(&spec.mcp_path),
                },
            }
        }
        (None, Some(url)) => Launch::External {
            url: external_url(&url, &spec.mcp_path)?,
        },
        (None, None) => {
            return Err(ServerPlanError::ImageOnly {
                image: spec.image.clone(),
            });
        }
    };
    // The path a cluster would publish the server at (hosts mean nothing on one port).
    let route = Route::of(server, None).path;
    let fingerprint = fingerprint_of(&launch);
    Ok(ServerPlan {
        key: key.clone(),
        route,
        launch,
        fingerprint,
        identity_headers: {
            let auth = spec.auth.clone().unwrap_or_default();
            [
                auth.human_id_header,
                auth.agent_id_header,
                auth.team_id_header,
            ]
        },
        team_id: spec.team_id.clone().unwrap_or_default(),
        source: String::new(),
        warnings,
    })
}

/// MR's `envVars`, then the Kubernetes `env` (later entries win, as in a pod), then
/// `secretEnvVars` from the local mode's environment.
fn environment_of(
    server: &MCPServer,
    environment: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let spec = &server.spec;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: String| {
        env.retain(|(existing, _)| existing != name);
        env.push((name.to_owned(), value));
    };
    for var in &spec.env_vars {
        set(&var.name, var.value.clone());
    }
    for var in &spec.env {
        match (&var.value, &var.value_from) {
            (_, Some(_)) => warnings.push(format!(
                "spec.env[{}].valueFrom is skipped in the local mode (no Kubernetes API); \
                 set the variable in the environment of `mcp-runtime up` and use value",
                var.name
            )),
            (value, None) => set(&var.name, value.clone().unwrap_or_default()),
        }
    }
    for var in &spec.secret_env_vars {
        match environment(&var.name) {
            Some(value) => set(&var.name, value),
            None => warnings.push(format!(
                "spec.secretEnvVars[{}]: not set in the environment of `mcp-runtime up` (the \
                 local mode reads secrets from there, by the variable's name)",
                var.name
            )),
        }
    }
    if !spec.env_from.is_empty() {
        warnings.push(
            "spec.envFrom is skipped in the local mode (no ConfigMaps or Secrets)".to_owned(),
        );
    }
    env
}

/// Why a server cannot run in the local mode; each message names the field.
#[derive(Debug, thiserror::Error)]
enum ServerPlanError {
    #[error(
        "spec.command: the local mode runs servers as processes, and the image {image:?} only \
         runs in a cluster; set spec.command (with spec.transport: stdio for a stdio server) or \
         spec.gateway.upstreamURL for a server that already runs"
    )]
    ImageOnly { image: String },
    #[error("spec.gateway.upstreamURL: {url:?} is not a URL: {source}")]
    UpstreamNotAUrl {
        url: String,
        #[source]
        source: http::uri::InvalidUri,
    },
    #[error(
        "spec.gateway.upstreamURL: {url:?} must be an http:// URL with a host (TLS upstreams \
         are not supported by the local mode yet)"
    )]
    UpstreamNotHttp { url: String },
}

/// An upstream URL with a path is the endpoint itself; without one, `mcpPath` is appended (MR's
/// `gateway.upstreamURL` is a base such as `http://127.0.0.1:8088`).
fn external_url(url: &str, mcp_path: &str) -> Result<String, ServerPlanError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|source| ServerPlanError::UpstreamNotAUrl {
            url: url.to_owned(),
            source,
        })?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(ServerPlanError::UpstreamNotHttp {
            url: url.to_owned(),
        });
    }
    if uri.path().trim_matches('/').is_empty() {
        Ok(format!(
            "{}{}",
            url.trim_end_matches('/'),
            normalized_path(mcp_path)
        ))
    } else {
        Ok(url.to_owned())
    }
}

fn normalized_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

fn fingerprint_of(launch: &Launch) -> String {
    let bytes = serde_json::to_vec(launch).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..8])
}

/// Expands `$(NAME)` from `env` as Kubernetes does for `command` and `args`: `$$(NAME)` stays
/// literal `$(NAME)`, and an unknown name is left as written.
pub fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(escaped) = tail.strip_prefix("$$(") {
            out.push_str("$(");
            rest = escaped;
            continue;
        }
        if let Some(open) = tail.strip_prefix("$(")
            && let Some(close) = open.find(')')
        {
            let name = &open[..close];
            match env.iter().rev().find(|(key, _)| key == name) {
                Some((_, value)) => out.push_str(value),
                None => out.push_str(&tail[..close + 3]),
            }
            rest = &open[close + 1..];
            continue;
        }
        out.push('$');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_runtime_api::manifest::parse_manifests;
    use pretty_assertions::assert_eq;

    fn planned(yaml: &str) -> Plan {
        let load = parse_manifests(yaml, None);
        plan(&load, &|name| {
            (name == "API_TOKEN").then(|| "s3cret".to_owned())
        })
    }

    const HEADER: &str = "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\n";

    #[test]
    fn stdio_command_runs_behind_the_bridge() {
        let plan = planned(&format!(
            "{HEADER}metadata: {{name: notes}}\nspec:\n  image: unused\n  transport: stdio\n  \
             command: [mcp-runtime, example-server]\n  args: [--verbose]\n  envVars: [{{name: A, \
             value: '1'}}]\n"
        ));
        assert_eq!(plan.problems, vec![]);
        let server = &plan.servers[0];
        assert_eq!(server.route, "/notes/mcp");
        assert_eq!(
            server.launch,
            Launch::Stdio {
                program: "mcp-runtime".into(),
                args: vec!["example-server".into(), "--verbose".into()],
                env: vec![("A".into(), "1".into())],
            }
        );
    }

    #[test]
    fn http_command_gets_its_mcp_path_and_a_public_prefix_route() {
        let plan = planned(&format!(
            "{HEADER}metadata: {{name: web}}\nspec:\n  image: unused\n  command: [python3, \
             server.py, --port, $(PORT)]\n  mcpPath: /rpc\n  publicPathPrefix: tools\n"
        ));
        let server = &plan.servers[0];
        assert_eq!(server.route, "/tools/mcp");
        let Launch::Http { mcp_path, args, .. } = &server.launch else {
            panic!("expected an HTTP launch, got {:?}", server.launch);
        };
        assert_eq!(mcp_path, "/rpc");
        assert_eq!(args, &vec!["server.py", "--port", "$(PORT)"]);
    }

    #[test]
    fn external_upstream_gets_the_mcp_path_when_it_has_none() {
        let plan = planned(&format!(
            "{HEADER}metadata: {{name: ext}}\nspec:\n  image: unused\n  gateway: {{enabled: \
             true, upstreamURL: 'http://127.0.0.1:9000'}}\n"
        ));
        assert_eq!(
            plan.servers[0].launch,
            Launch::External {
                url: "http://127.0.0.1:9000/mcp".into()
            }
        );
    }

    #[test]
    fn image_only_server_is_reported_with_the_field() {
        let plan = planned(&format!(
            "{HEADER}metadata: {{name: img}}\nspec:\n  image: ghcr.io/x/y\n"
        ));
        assert!(plan.servers.is_empty());
        assert!(
            plan.problems[0].message.starts_with("spec.command:"),
            "{:?}",
            plan.problems
        );
        assert!(plan.problems[0].source.contains("MCPServer default/img"));
    }

    #[test]
    fn colliding_routes_keep_the_first_server() {
        let one = format!(
            "{HEADER}metadata: {{name: a}}\nspec:\n  image: x\n  command: [x]\n  ingressPath: \
             /same/mcp\n"
        );
        let two = format!(
            "{HEADER}metadata: {{name: b}}\nspec:\n  image: x\n  command: [x]\n  ingressPath: \
             /same/mcp\n"
        );
        let plan = planned(&format!("{one}---\n{two}"));
        assert_eq!(plan.servers.len(), 1);
        assert!(
            plan.problems[0]
                .message
                .contains("already served by MCPServer default/a")
        );
    }

    #[test]
    fn secrets_come_from_the_environment_and_missing_ones_warn() {
        let plan = planned(&format!(
            "{HEADER}metadata: {{name: s}}\nspec:\n  image: x\n  command: [x]\n  \
             secretEnvVars:\n  - {{name: API_TOKEN, secretKeyRef: {{name: s, key: k}}}}\n  - \
             {{name: OTHER, secretKeyRef: {{name: s, key: k}}}}\n"
        ));
        let server = &plan.servers[0];
        let Launch::Http { env, .. } = &server.launch else {
            panic!("expected an HTTP launch");
        };
        assert_eq!(env, &vec![("API_TOKEN".to_owned(), "s3cret".to_owned())]);
        assert_eq!(server.warnings.len(), 1);
        assert!(server.warnings[0].contains("secretEnvVars[OTHER]"));
    }

    #[test]
    fn fingerprint_ignores_policy_inputs_but_not_the_command() {
        let base = format!("{HEADER}metadata: {{name: f}}\nspec:\n  image: x\n  command: [x]\n");
        let with_tools =
            format!("{base}  tools: [{{name: t, requiredTrust: high, sideEffect: read}}]\n");
        let other_command = base.replace("command: [x]", "command: [y]");
        let fp = |yaml: &str| {
            let plan = planned(yaml);
            assert_eq!(plan.problems, vec![]);
            plan.servers[0].fingerprint.clone()
        };
        assert_eq!(fp(&base), fp(&with_tools));
        assert_ne!(fp(&base), fp(&other_command));
    }

    #[test]
    fn expands_like_kubernetes() {
        let env = vec![("PORT".to_owned(), "8080".to_owned())];
        assert_eq!(expand("--port=$(PORT)", &env), "--port=8080");
        assert_eq!(expand("$$(PORT)", &env), "$(PORT)");
        assert_eq!(expand("$(NOPE)", &env), "$(NOPE)");
        assert_eq!(expand("a$b", &env), "a$b");
        assert_eq!(expand("$(PORT", &env), "$(PORT");
    }
}
