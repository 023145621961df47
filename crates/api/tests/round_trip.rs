//! Manifests in the Go mcp-runtime's shape, and our examples, survive our types unchanged.

use mcp_runtime_api::manifest::{Manifest, load_dir, parse_manifests};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every leaf of `expected` must be present, equal, in `actual` (which may add defaults).
fn assert_contains(expected: &Value, actual: &Value, path: &str, missing: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, value) in want {
                match got.get(key) {
                    Some(found) => assert_contains(value, found, &format!("{path}.{key}"), missing),
                    None => missing.push(format!("{path}.{key} is missing")),
                }
            }
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (index, (w, g)) in want.iter().zip(got).enumerate() {
                assert_contains(w, g, &format!("{path}[{index}]"), missing);
            }
        }
        (want, got) if want == got => {}
        (want, got) => missing.push(format!("{path}: expected {want}, got {got}")),
    }
}

fn to_value(manifest: &Manifest) -> Value {
    match manifest {
        Manifest::Server(o) => serde_json::to_value(o),
        Manifest::Grant(o) => serde_json::to_value(o),
        Manifest::Session(o) => serde_json::to_value(o),
    }
    .expect("serializes")
}

#[test]
fn a_manifest_with_every_go_field_set_round_trips_without_loss() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/valid/mr-all-fields.yaml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let result = parse_manifests(&text, Some(&path));
    assert!(result.errors.is_empty(), "refused: {:#?}", result.errors);
    assert_eq!(result.loaded.len(), 3);

    let originals: Vec<Value> = serde_norway::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("yaml"))
        .collect();
    for (original, loaded) in originals.iter().zip(&result.loaded) {
        let typed = to_value(&loaded.manifest);
        let mut missing = Vec::new();
        assert_contains(original, &typed, "", &mut missing);
        assert!(
            missing.is_empty(),
            "{}: lost fields:\n{}",
            loaded.manifest.name(),
            missing.join("\n")
        );
        // And the typed form is itself a valid manifest that parses back to the same object.
        let again = mcp_runtime_api::manifest::parse_object(&typed).expect("re-validates");
        assert_eq!(again, loaded.manifest);
    }
}

fn example_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut dirs = vec![root.clone()];
    let mut index = 0;
    while index < dirs.len() {
        let entries = std::fs::read_dir(&dirs[index]).expect("examples dir");
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            }
        }
        index += 1;
    }
    dirs
}

#[test]
fn every_example_is_valid_against_the_crd_schema_and_cel_rules() {
    let mut total = 0;
    for dir in example_dirs() {
        let result = load_dir(&dir).expect("readable");
        let errors: Vec<String> = result.errors.iter().map(ToString::to_string).collect();
        assert!(
            errors.is_empty(),
            "invalid examples in {}:\n{}",
            dir.display(),
            errors.join("\n")
        );
        for loaded in &result.loaded {
            // Typed objects serialize back to manifests that are still valid.
            let typed = to_value(&loaded.manifest);
            mcp_runtime_api::manifest::parse_object(&typed)
                .unwrap_or_else(|e| panic!("{}: typed form invalid: {e:?}", loaded.source));
        }
        total += result.loaded.len();
    }
    assert!(
        total >= 10,
        "expected the examples to hold at least 10 objects, found {total}"
    );
}

#[test]
fn documents_in_error_do_not_hide_valid_ones() {
    let text = r#"
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: good}
spec: {image: example/good}
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata: {name: bad}
spec: {image: example/bad, port: 0}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
"#;
    let result = parse_manifests(text, None);
    assert_eq!(result.loaded.len(), 1);
    assert_eq!(result.loaded[0].manifest.name(), "good");
    let errors: Vec<String> = result.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("document 2") && errors[0].contains("spec.port"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("document 3") && errors[1].contains("kind"),
        "{}",
        errors[1]
    );
}

#[test]
fn a_yaml_syntax_error_names_the_file_and_position() {
    let result = parse_manifests(
        "kind: MCPServer\nspec: [unclosed\n",
        Some(Path::new("bad.yaml")),
    );
    assert!(result.loaded.is_empty());
    let message = result.errors[0].to_string();
    assert!(
        message.contains("bad.yaml") && message.contains("line"),
        "{message}"
    );
}

#[test]
fn duplicate_names_in_a_directory_are_refused_naming_the_first_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: twin}\nspec: {image: example/twin}\n";
    std::fs::write(dir.path().join("a.yaml"), server).expect("write");
    std::fs::write(dir.path().join("b.yaml"), server).expect("write");
    let result = load_dir(dir.path()).expect("readable");
    assert_eq!(result.loaded.len(), 1);
    let message = result.errors[0].to_string();
    assert!(
        message.contains("b.yaml") && message.contains("a.yaml") && message.contains("duplicate"),
        "{message}"
    );
}
