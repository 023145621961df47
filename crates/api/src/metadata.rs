//! The `.mcp/` metadata format of the Go mcp-runtime (`server init` writes it, `server generate`
//! turns it into MCPServer manifests).
//!
//! A metadata file is YAML:
//!
//! ```yaml
//! version: v1
//! servers:
//!   - name: notes
//!     namespace: mcp-servers     # optional; the generator's default otherwise
//!     route: /notes/mcp          # optional; becomes spec.ingressPath
//!     image: ghcr.io/acme/notes  # every other key is an MCPServer spec field, as written
//!     tools:
//!       - {name: list_notes, sideEffect: read}
//! ```
//!
//! The conversion is pure. Its output is validated like any manifest (schema, defaults, CEL
//! rules), and each error names the metadata field it came from (`servers[0].tools[1].sideEffect`)
//! rather than the generated manifest's (`spec.tools[1].sideEffect`), because the metadata file is
//! what the user edits.

use crate::manifest::{Manifest, parse_object};
use crate::validation::FieldError;
use serde_json::{Map, Value, json};

/// The only metadata version there is.
pub const METADATA_VERSION: &str = "v1";
/// Where `server init` writes and `server generate` reads by default.
pub const DEFAULT_METADATA_DIR: &str = ".mcp";

/// Keys of a `servers[]` entry that are not spec fields.
const ENTRY_KEYS: [&str; 3] = ["name", "namespace", "route"];

/// One server of a metadata file, converted and validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// The server's name.
    pub name: String,
    /// The MCPServer as written (no schema defaults), ready to print.
    pub object: Value,
    /// The same object validated and typed.
    pub manifest: Manifest,
}

/// Converts a metadata document (already parsed from YAML) into MCPServer manifests. Every server
/// is checked; the errors of all of them are returned together, each naming its metadata field.
pub fn generate(
    document: &Value,
    default_namespace: &str,
) -> Result<Vec<Generated>, Vec<FieldError>> {
    let Some(top) = document.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "a metadata file must be a mapping with `version` and `servers`",
        )]);
    };
    let mut errors = Vec::new();
    match top.get("version").and_then(Value::as_str) {
        Some(METADATA_VERSION) => {}
        Some(other) => errors.push(FieldError::new(
            "version",
            format!("unsupported metadata version {other:?}; expected {METADATA_VERSION:?}"),
        )),
        None => errors.push(FieldError::new(
            "version",
            format!("required field is missing (write `version: {METADATA_VERSION}`)"),
        )),
    }
    for key in top.keys() {
        if key != "version" && key != "servers" {
            errors.push(FieldError::new(
                key.clone(),
                "unknown field; a metadata file has `version` and `servers`",
            ));
        }
    }
    let servers = match top.get("servers") {
        Some(Value::Array(servers)) if !servers.is_empty() => servers.as_slice(),
        Some(Value::Array(_)) | None => {
            errors.push(FieldError::new(
                "servers",
                "no servers: add at least one entry (`mcp-runtime server init NAME` writes one)",
            ));
            &[]
        }
        Some(_) => {
            errors.push(FieldError::new("servers", "must be a list"));
            &[]
        }
    };
    let mut generated: Vec<Generated> = Vec::new();
    for (index, entry) in servers.iter().enumerate() {
        let at = format!("servers[{index}]");
        match server(entry, default_namespace, &at) {
            Ok(server) => {
                if generated.iter().any(|other| {
                    other.name == server.name
                        && other.manifest.namespace() == server.manifest.namespace()
                }) {
                    errors.push(FieldError::new(
                        format!("{at}.name"),
                        format!("server {:?} is listed twice", server.name),
                    ));
                } else {
                    generated.push(server);
                }
            }
            Err(mut more) => errors.append(&mut more),
        }
    }
    if errors.is_empty() {
        Ok(generated)
    } else {
        Err(errors)
    }
}

/// One `servers[]` entry as an MCPServer, validated.
fn server(entry: &Value, default_namespace: &str, at: &str) -> Result<Generated, Vec<FieldError>> {
    let Some(fields) = entry.as_object() else {
        return Err(vec![FieldError::new(at, "must be a mapping")]);
    };
    let text = |key: &str| -> Result<Option<String>, FieldError> {
        match fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(FieldError::new(format!("{at}.{key}"), "must be a string")),
        }
    };
    let mut errors = Vec::new();
    let mut field = |key: &str| {
        text(key).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let name = field("name");
    let namespace = field("namespace").unwrap_or_else(|| default_namespace.to_owned());
    let route = field("route");
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        errors.push(FieldError::new(
            format!("{at}.name"),
            "required field is missing",
        ));
        return Err(errors);
    };
    let mut spec: Map<String, Value> = fields
        .iter()
        .filter(|(key, _)| !ENTRY_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if let Some(route) = route {
        if !route.starts_with('/') {
            errors.push(FieldError::new(
                format!("{at}.route"),
                format!("must be a path starting with `/`, such as /{name}/mcp"),
            ));
        }
        if spec.contains_key("ingressPath") {
            errors.push(FieldError::new(
                format!("{at}.route"),
                "set `route` or `ingressPath`, not both (route becomes spec.ingressPath)",
            ));
        }
        spec.insert("ingressPath".into(), Value::String(route));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let object = json!({
        "apiVersion": crate::API_VERSION,
        "kind": "MCPServer",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    });
    match parse_object(&object) {
        Ok(manifest) => Ok(Generated {
            name,
            object,
            manifest,
        }),
        Err((_, field_errors)) => Err(field_errors
            .into_iter()
            .map(|error| FieldError {
                field: metadata_field(&error.field, at),
                message: error.message,
            })
            .collect()),
    }
}

/// The metadata field a manifest field came from: `spec.x` → `servers[i].x`,
/// `metadata.name` → `servers[i].name`, `spec.ingressPath` → `servers[i].route` when the route
/// was given that way is not distinguishable here, so the spec name is kept.
fn metadata_field(manifest_field: &str, at: &str) -> String {
    if let Some(rest) = manifest_field.strip_prefix("spec.") {
        format!("{at}.{rest}")
    } else if manifest_field == "spec" {
        at.to_owned()
    } else if let Some(rest) = manifest_field.strip_prefix("metadata.") {
        format!("{at}.{rest}")
    } else if manifest_field.is_empty() {
        at.to_owned()
    } else {
        format!("{at} ({manifest_field})")
    }
}

/// What `server init` writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitOptions {
    pub name: String,
    pub namespace: Option<String>,
    pub image: Option<String>,
    pub image_tag: Option<String>,
    pub port: Option<i32>,
    /// Tool names; each gets `--tool-risk`, trust `low` and side effect `read` unless a
    /// `tool_specs` entry names it.
    pub tools: Vec<String>,
    /// `name:trust:sideEffect` entries.
    pub tool_specs: Vec<ToolSpec>,
    pub tool_risk: Option<String>,
    pub policy_mode: String,
    pub default_decision: String,
    pub session_required: bool,
}

/// A `--tool-spec name:trust:sideEffect` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolSpec {
    pub name: String,
    pub trust: String,
    pub side_effect: String,
}

impl std::str::FromStr for ToolSpec {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let parts: Vec<&str> = value.split(':').collect();
        match parts.as_slice() {
            [name, trust, side_effect] if !name.is_empty() => Ok(ToolSpec {
                name: (*name).to_owned(),
                trust: (*trust).to_owned(),
                side_effect: (*side_effect).to_owned(),
            }),
            _ => Err(format!(
                "expected NAME:TRUST:SIDE_EFFECT, such as delete_note:high:destructive; got {value:?}"
            )),
        }
    }
}

/// The metadata document `server init` writes for one server: the route, the gateway on, an
/// allow-list policy and required sessions (MR's `server init` defaults). The result goes through
/// [`generate`] before it is written, so `init` never writes a file `generate` would refuse.
pub fn init_document(options: &InitOptions) -> Value {
    let name = &options.name;
    let mut entry = Map::new();
    entry.insert("name".into(), json!(name));
    if let Some(namespace) = &options.namespace {
        entry.insert("namespace".into(), json!(namespace));
    }
    entry.insert("route".into(), json!(format!("/{name}/mcp")));
    entry.insert(
        "image".into(),
        json!(options.image.clone().unwrap_or_else(|| name.clone())),
    );
    entry.insert(
        "imageTag".into(),
        json!(options.image_tag.clone().unwrap_or_else(|| "latest".into())),
    );
    entry.insert("port".into(), json!(options.port.unwrap_or(8088)));
    let mut tools: Vec<Value> = Vec::new();
    let mut push_tool = |tool_name: &str, trust: &str, side_effect: &str| {
        let mut tool = Map::new();
        tool.insert("name".into(), json!(tool_name));
        tool.insert("requiredTrust".into(), json!(trust));
        tool.insert("sideEffect".into(), json!(side_effect));
        if let Some(risk) = &options.tool_risk {
            tool.insert("riskLevel".into(), json!(risk));
        }
        tools.push(Value::Object(tool));
    };
    for tool in &options.tools {
        if !options.tool_specs.iter().any(|spec| &spec.name == tool) {
            push_tool(tool, "low", "read");
        }
    }
    for spec in &options.tool_specs {
        push_tool(&spec.name, &spec.trust, &spec.side_effect);
    }
    if !tools.is_empty() {
        entry.insert("tools".into(), Value::Array(tools));
    }
    entry.insert("gateway".into(), json!({"enabled": true}));
    entry.insert(
        "policy".into(),
        json!({"mode": options.policy_mode, "defaultDecision": options.default_decision}),
    );
    entry.insert(
        "session".into(),
        json!({"required": options.session_required}),
    );
    json!({"version": METADATA_VERSION, "servers": [Value::Object(entry)]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Value {
        serde_norway::from_str(yaml).expect("yaml")
    }

    #[test]
    fn a_server_entry_becomes_an_mcpserver_with_route_as_ingress_path() {
        let servers = generate(
            &doc(
                "version: v1\nservers:\n- name: notes\n  route: /n/mcp\n  image: ghcr.io/acme/notes\n  tools:\n  - {name: list_notes, sideEffect: read}\n",
            ),
            "mcp-servers",
        )
        .expect("valid");
        assert_eq!(servers.len(), 1);
        assert_eq!(
            servers[0].object,
            json!({
                "apiVersion": "mcpruntime.org/v1alpha1",
                "kind": "MCPServer",
                "metadata": {"name": "notes", "namespace": "mcp-servers"},
                "spec": {
                    "image": "ghcr.io/acme/notes",
                    "tools": [{"name": "list_notes", "sideEffect": "read"}],
                    "ingressPath": "/n/mcp",
                },
            })
        );
        assert_eq!(servers[0].manifest.namespace(), "mcp-servers");
    }

    #[test]
    fn errors_name_the_metadata_field_and_every_server_is_checked() {
        let errors = generate(
            &doc(
                "version: v1\nservers:\n- name: a\n  image: x\n  tools:\n  - {name: t, sideEffect: sideways}\n- image: y\n- name: c\n  image: z\n  route: c/mcp\n",
            ),
            "mcp-servers",
        )
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"servers[0].tools[0].sideEffect"),
            "{errors:?}"
        );
        assert!(fields.contains(&"servers[1].name"), "{errors:?}");
        assert!(fields.contains(&"servers[2].route"), "{errors:?}");
    }

    #[test]
    fn version_unknown_keys_empty_lists_and_duplicates_are_refused() {
        for (yaml, field) in [
            ("servers: [{name: a, image: x}]\n", "version"),
            ("version: v2\nservers: [{name: a, image: x}]\n", "version"),
            ("version: v1\nservers: []\n", "servers"),
            (
                "version: v1\nserver: []\nservers: [{name: a, image: x}]\n",
                "server",
            ),
            (
                "version: v1\nservers: [{name: a, image: x}, {name: a, image: y}]\n",
                "servers[1].name",
            ),
            (
                "version: v1\nservers: [{name: a, image: x, route: /a/mcp, ingressPath: /b}]\n",
                "servers[0].route",
            ),
        ] {
            let errors = generate(&doc(yaml), "mcp-servers").expect_err(yaml);
            assert!(
                errors.iter().any(|e| e.field == field),
                "{yaml}: expected an error at {field}, got {errors:?}"
            );
        }
    }

    #[test]
    fn init_writes_what_generate_accepts() {
        let options = InitOptions {
            name: "notes".into(),
            tools: vec!["list_notes".into(), "delete_note".into()],
            tool_specs: vec!["delete_note:high:destructive".parse().expect("spec")],
            tool_risk: Some("medium".into()),
            policy_mode: "allow-list".into(),
            default_decision: "deny".into(),
            session_required: true,
            ..InitOptions::default()
        };
        let document = init_document(&options);
        let servers = generate(&document, "mcp-servers").expect("init output is valid");
        let spec = &servers[0].object["spec"];
        assert_eq!(spec["ingressPath"], "/notes/mcp");
        assert_eq!(spec["image"], "notes");
        assert_eq!(spec["tools"][0]["name"], "list_notes");
        assert_eq!(spec["tools"][1]["sideEffect"], "destructive");
        assert_eq!(spec["tools"][1]["requiredTrust"], "high");
        assert_eq!(spec["session"]["required"], true);
        assert!("x:y".parse::<ToolSpec>().is_err());
    }
}
