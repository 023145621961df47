//! docs/compatibility.md lists every field of the Go project's kinds.

use mcp_runtime_api::crd;
use mcp_runtime_api::validation::Kind;
use serde_json::Value;
use std::path::Path;

/// Leaf paths of `value` relative to `spec` (`tools[].name`), stopping at maps (schema
/// `additionalProperties`), which are one field.
fn leaf_paths(value: &Value, schema: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) if schema.get("additionalProperties").is_none() => {
            for (key, field) in fields {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                let field_schema = schema
                    .pointer(&format!("/properties/{key}"))
                    .unwrap_or(&Value::Null);
                leaf_paths(field, field_schema, &path, out);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let item_schema = schema.get("items").unwrap_or(&Value::Null);
            for item in items {
                leaf_paths(item, item_schema, &format!("{prefix}[]"), out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

#[test]
fn every_go_field_is_listed_in_the_compatibility_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../../docs/compatibility.md")).expect("doc");
    let fixture =
        std::fs::read_to_string(root.join("tests/fixtures/corpus/valid/mr-all-fields.yaml"))
            .expect("fixture");
    let mut unlisted = Vec::new();
    for document in serde_norway::Deserializer::from_str(&fixture) {
        let object: Value = serde::Deserialize::deserialize(document).expect("yaml");
        let kind = Kind::from_kind(object["kind"].as_str().expect("kind")).expect("known kind");
        let spec_schema = crd::schema_of(kind)
            .pointer("/properties/spec")
            .cloned()
            .expect("spec schema");
        let mut paths = Vec::new();
        leaf_paths(&object["spec"], &spec_schema, "", &mut paths);
        paths.sort();
        paths.dedup();
        for path in paths {
            if !doc.contains(&format!("`{path}`")) {
                unlisted.push(format!("{kind}: {path}"));
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "fields missing from docs/compatibility.md:\n{}",
        unlisted.join("\n")
    );
}
