//! The API reference (`docs/api.md`), generated from the CRD schemas so it lists every field with
//! its type, default and meaning, and cannot drift from the types (a test compares it).
//!
//! Regenerate with `cargo run -p mcp-runtime -- crd --reference > docs/api.md`.

use crate::crd;
use crate::validation::Kind;
use serde_json::Value;
use std::fmt::Write;

/// Fields whose value is a standard Kubernetes type: documented by Kubernetes, not expanded here.
const KUBERNETES_TYPES: &[(&str, &str)] = &[
    ("readinessProbe", "core/v1 Probe"),
    ("livenessProbe", "core/v1 Probe"),
    ("podSecurityContext", "core/v1 PodSecurityContext"),
    ("securityContext", "core/v1 SecurityContext"),
    ("env", "[]core/v1 EnvVar"),
    ("envFrom", "[]core/v1 EnvFromSource"),
    ("configMap", "core/v1 ConfigMapVolumeSource"),
    ("secret", "core/v1 SecretVolumeSource"),
    ("emptyDir", "core/v1 EmptyDirVolumeSource"),
    ("ingressFrom", "[]networking/v1 NetworkPolicyPeer"),
    ("egressTo", "[]networking/v1 NetworkPolicyPeer"),
    ("egressPorts", "[]networking/v1 NetworkPolicyPort"),
    ("dnsEgressPeer", "networking/v1 NetworkPolicyPeer"),
    ("conditions", "[]meta/v1 Condition"),
];

/// The whole reference as Markdown.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("# API reference: `mcpruntime.org/v1alpha1`\n\n");
    out.push_str(
        "Generated from the CRD schemas by `cargo run -p mcp-runtime -- crd --reference > docs/api.md`; \
         a test fails when this file is out of date. Defaults shown here are in the OpenAPI schema, so the \
         API server stores them and `kubectl get -o yaml` shows them. Defaults that depend on the object's \
         name or on operator settings are listed in the description and applied at reconcile time.\n\n\
         All three kinds are namespaced and have a status subresource written by the operator.\n\n\
         `mcp-runtime validate` (and `mcp-runtime up`) judge a manifest as the API server judges \
         `kubectl apply`: `metadata.name`, labels and annotations, the schema with its defaults, list \
         uniqueness and the CEL rules, with strict field validation, so an unknown field is refused \
         (naming it) rather than silently dropped as a non-strict request would have it. A real-cluster \
         test checks that both give the same verdict, naming the same field, on a corpus of valid and \
         invalid manifests (`crates/api/tests/fixtures/corpus/`). The CRDs need Kubernetes 1.26 or later.\n",
    );
    for kind in Kind::ALL {
        let definition = crd::crd_of(kind);
        let schema = crd::schema_of(kind);
        let names = &definition.spec.names;
        let _ = write!(
            out,
            "\n## {}\n\nPlural `{}`, short name{} {}, category `mcp-runtime`.\n",
            kind,
            names.plural,
            if names.short_names.as_ref().is_some_and(|s| s.len() > 1) {
                "s"
            } else {
                ""
            },
            names
                .short_names
                .iter()
                .flatten()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for section in ["spec", "status"] {
            if let Some(section_schema) = schema.pointer(&format!("/properties/{section}")) {
                let _ = write!(
                    out,
                    "\n### `{section}`\n\n| Field | Type | Default | Description |\n|---|---|---|---|\n"
                );
                let mut rows = Vec::new();
                collect_rows(section_schema, "", &mut rows);
                for row in rows {
                    out.push_str(&row);
                }
                let mut rules = Vec::new();
                collect_rules(section_schema, section, &mut rules);
                if !rules.is_empty() {
                    let _ = write!(
                        out,
                        "\nValidation rules (CEL, checked by the API server and by `mcp-runtime validate`):\n\n"
                    );
                    for (path, message) in rules {
                        let _ = writeln!(out, "- `{path}`: {message}");
                    }
                }
            }
        }
    }
    out
}

fn collect_rows(schema: &Value, prefix: &str, rows: &mut Vec<String>) {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, field) in properties {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let kubernetes_type = KUBERNETES_TYPES
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t);
        let type_name = kubernetes_type
            .map(str::to_owned)
            .unwrap_or_else(|| type_of(field));
        let default = match field.get("default") {
            Some(value) => format!("`{value}`"),
            None if required.contains(&name.as_str()) => "**required**".to_owned(),
            None => "–".to_owned(),
        };
        let description = field
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .replace('\n', " ")
            .replace('|', "\\|");
        rows.push(format!(
            "| `{path}` | {type_name} | {default} | {description} |\n"
        ));
        if kubernetes_type.is_some() {
            continue;
        }
        match field.get("type").and_then(Value::as_str) {
            Some("object") => collect_rows(field, &path, rows),
            Some("array") => {
                if let Some(items) = field.get("items") {
                    collect_rows(items, &format!("{path}[]"), rows);
                }
            }
            _ => {}
        }
    }
}

fn type_of(field: &Value) -> String {
    if field.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return "int or string".to_owned();
    }
    let base = field.get("type").and_then(Value::as_str).unwrap_or("any");
    let described = match base {
        "array" => {
            let items = field
                .get("items")
                .map(type_of)
                .unwrap_or_else(|| "any".to_owned());
            let list_type = match field.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("map") => format!(
                    " (unique by {})",
                    field
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|k| k
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default()
                ),
                Some("set") => " (unique)".to_owned(),
                _ => String::new(),
            };
            format!("[]{items}{list_type}")
        }
        "object" if field.get("additionalProperties").is_some() => "map[string]string".to_owned(),
        "string" => match field.get("format").and_then(Value::as_str) {
            Some("date-time") => "RFC 3339 time".to_owned(),
            _ => "string".to_owned(),
        },
        other => other.to_owned(),
    };
    match field.get("enum").and_then(Value::as_array) {
        Some(values) => {
            let values: Vec<String> = values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| format!("`{v}`"))
                .collect();
            format!("{described}: {}", values.join(" \\| "))
        }
        None => described,
    }
}

fn collect_rules(schema: &Value, path: &str, rules: &mut Vec<(String, String)>) {
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let message = rule
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        rules.push((path.to_owned(), message.to_owned()));
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, field) in properties {
            if KUBERNETES_TYPES.iter().any(|(n, _)| n == name) {
                continue;
            }
            collect_rules(field, &format!("{path}.{name}"), rules);
        }
    }
    if let Some(items) = schema.get("items") {
        collect_rules(items, &format!("{path}[]"), rules);
    }
}
