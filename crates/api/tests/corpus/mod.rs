//! The manifest corpus in `tests/fixtures/corpus/`, judged by `validate` (`invalid_manifests.rs`)
//! and, in the CLI's real-cluster tests, by the API server too (`cluster_validate.rs`).
//!
//! - `valid/*.yaml`: plain manifests, every one accepted. Together they set every field of the Go
//!   mcp-runtime and of the lifecycle operator at least once.
//! - `invalid/*.yaml`: one case per document, `{case, field, object}`: `object` must be refused,
//!   and the refusal must name `field`.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The corpus directory.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../api/tests/fixtures/corpus")
        .canonicalize()
        .expect("the corpus directory exists")
}

/// A manifest that must be accepted.
#[derive(Clone, Debug)]
pub struct Valid {
    /// `<file>#<document index>`, for messages.
    pub source: String,
    pub object: Value,
}

/// A manifest that must be refused, naming `field`.
#[derive(Clone, Debug)]
pub struct Invalid {
    pub case: String,
    pub field: String,
    pub object: Value,
    /// `<file>#<document index>`, for messages.
    pub source: String,
}

fn yaml_files(sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir().join(sub))
        .expect("corpus subdirectory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn documents(path: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(path).expect("corpus file");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    serde_norway::Deserializer::from_str(&text)
        .enumerate()
        .map(|(index, document)| {
            let value: Value = serde::Deserialize::deserialize(document)
                .unwrap_or_else(|error| panic!("{name}#{index}: {error}"));
            (format!("invalid/{name}#{index}"), value)
        })
        .filter(|(_, value)| !value.is_null())
        .collect()
}

pub fn valid() -> Vec<Valid> {
    yaml_files("valid")
        .iter()
        .flat_map(|path| documents(path))
        .map(|(source, object)| Valid {
            source: source.replacen("invalid/", "valid/", 1),
            object,
        })
        .collect()
}

pub fn invalid() -> Vec<Invalid> {
    yaml_files("invalid")
        .iter()
        .flat_map(|path| documents(path))
        .map(|(source, document)| {
            let text = |key: &str| {
                document[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{source}: `{key}` is missing"))
                    .to_owned()
            };
            Invalid {
                case: text("case"),
                field: text("field"),
                object: document["object"].clone(),
                source: source.clone(),
            }
        })
        .collect()
}

/// The `kind` of an object.
pub fn kind_of(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}
