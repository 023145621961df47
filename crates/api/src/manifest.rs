//! Reading manifests: multi-document YAML (or JSON) files holding MCPServer, MCPAccessGrant and
//! MCPAgentSession objects, each validated as the API server would validate it.
//!
//! Errors name the file, the document, the object and the field, and one bad document never hides
//! the good ones: callers get every valid object and every error.

use crate::validation::{FieldError, Kind, validate_object};
use crate::{API_VERSION, MCPAccessGrant, MCPAgentSession, MCPServer};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A valid object of one of the three kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum Manifest {
    Server(Box<MCPServer>),
    Grant(Box<MCPAccessGrant>),
    Session(Box<MCPAgentSession>),
}

impl Manifest {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Manifest::Server(_) => Kind::Server,
            Manifest::Grant(_) => Kind::Grant,
            Manifest::Session(_) => Kind::Session,
        }
    }

    fn metadata(&self) -> &kube::core::ObjectMeta {
        match self {
            Manifest::Server(o) => &o.metadata,
            Manifest::Grant(o) => &o.metadata,
            Manifest::Session(o) => &o.metadata,
        }
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace`, `default` when unset (as `kubectl apply` would place it).
    pub fn namespace(&self) -> &str {
        self.metadata()
            .namespace
            .as_deref()
            .unwrap_or(DEFAULT_NAMESPACE)
    }
}

/// Namespace of objects that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Where a document came from: file and 1-based document index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// File, when read from one.
    pub file: Option<PathBuf>,
    /// 1-based position of the document in its file.
    pub document: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{} (document {})", file.display(), self.document),
            None => write!(f, "document {}", self.document),
        }
    }
}

/// Why a document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// Where the document came from.
    pub source: Source,
    /// `Kind namespace/name`, when the document got far enough to say.
    pub object: Option<String>,
    /// The problems, each naming its field.
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(object) = &self.object {
            write!(f, " {object}")?;
        }
        match self.errors.as_slice() {
            [single] => write!(f, ": {single}"),
            many => {
                f.write_str(":")?;
                many.iter().try_for_each(|e| write!(f, "\n  - {e}"))
            }
        }
    }
}

impl std::error::Error for ManifestError {}

/// A valid object and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub manifest: Manifest,
    pub source: Source,
}

/// Everything read from a set of files: the valid objects and the refused documents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadResult {
    pub loaded: Vec<Loaded>,
    pub errors: Vec<ManifestError>,
}

impl LoadResult {
    /// The servers.
    pub fn servers(&self) -> impl Iterator<Item = &MCPServer> {
        self.loaded.iter().filter_map(|l| match &l.manifest {
            Manifest::Server(s) => Some(s.as_ref()),
            _ => None,
        })
    }

    /// The grants.
    pub fn grants(&self) -> impl Iterator<Item = &MCPAccessGrant> {
        self.loaded.iter().filter_map(|l| match &l.manifest {
            Manifest::Grant(g) => Some(g.as_ref()),
            _ => None,
        })
    }

    /// The sessions.
    pub fn sessions(&self) -> impl Iterator<Item = &MCPAgentSession> {
        self.loaded.iter().filter_map(|l| match &l.manifest {
            Manifest::Session(s) => Some(s.as_ref()),
            _ => None,
        })
    }
}

/// Parses every document in `text`. `file` is only used in error messages.
pub fn parse_manifests(text: &str, file: Option<&Path>) -> LoadResult {
    let mut result = LoadResult::default();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let source = Source {
            file: file.map(Path::to_path_buf),
            document: index + 1,
        };
        let value = match Value::deserialize(document) {
            Ok(Value::Null) => continue, // an empty document, e.g. a trailing `---`
            Ok(value) => value,
            Err(error) => {
                result.errors.push(ManifestError {
                    source,
                    object: None,
                    errors: vec![FieldError::new("", format!("not valid YAML: {error}"))],
                });
                // A syntax error leaves the stream in an unknown state: stop reading this file.
                break;
            }
        };
        match parse_object(&value) {
            Ok(manifest) => result.loaded.push(Loaded { manifest, source }),
            Err((object, errors)) => result.errors.push(ManifestError {
                source,
                object,
                errors,
            }),
        }
    }
    result
}

type ObjectError = (Option<String>, Vec<FieldError>);

/// Validates and types one object.
pub fn parse_object(value: &Value) -> Result<Manifest, ObjectError> {
    if !value.is_object() {
        return Err((
            None,
            vec![FieldError::new(
                "",
                "a manifest must be a mapping (an object)",
            )],
        ));
    }
    let kind_name = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    let namespace = value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_NAMESPACE);
    let object = Some(format!("{kind_name} {namespace}/{name}"));

    let Some(kind) = Kind::from_kind(kind_name) else {
        let message = if kind_name.is_empty() {
            "required field is missing".to_owned()
        } else {
            format!(
                "unsupported kind {kind_name:?}; expected MCPServer, MCPAccessGrant or MCPAgentSession"
            )
        };
        return Err((object, vec![FieldError::new("kind", message)]));
    };
    if api_version != API_VERSION {
        return Err((
            object,
            vec![FieldError::new(
                "apiVersion",
                format!("unsupported apiVersion {api_version:?}; expected {API_VERSION:?}"),
            )],
        ));
    }
    let defaulted = validate_object(kind, value).map_err(|errors| (object.clone(), errors))?;
    let typed = match kind {
        Kind::Server => serde_json::from_value(defaulted).map(|o| Manifest::Server(Box::new(o))),
        Kind::Grant => serde_json::from_value(defaulted).map(|o| Manifest::Grant(Box::new(o))),
        Kind::Session => serde_json::from_value(defaulted).map(|o| Manifest::Session(Box::new(o))),
    };
    typed.map_err(|error| (object, vec![FieldError::new("", error.to_string())]))
}

/// Reads every `*.yaml`, `*.yml` and `*.json` file directly in `dir` (not recursively, like
/// `kubectl apply -f DIR`), in name order. A second object with the same kind, namespace and name
/// is refused, naming the first one's file.
pub fn load_dir(dir: &Path) -> std::io::Result<LoadResult> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.is_file()
                && matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .collect();
    files.sort();
    let mut result = LoadResult::default();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let parsed = parse_manifests(&text, Some(&file));
        result.loaded.extend(parsed.loaded);
        result.errors.extend(parsed.errors);
    }
    reject_duplicates(&mut result);
    Ok(result)
}

fn reject_duplicates(result: &mut LoadResult) {
    let mut first_seen: BTreeMap<(Kind, String, String), Source> = BTreeMap::new();
    let mut kept = Vec::with_capacity(result.loaded.len());
    for loaded in std::mem::take(&mut result.loaded) {
        let key = (
            loaded.manifest.kind(),
            loaded.manifest.namespace().to_owned(),
            loaded.manifest.name().to_owned(),
        );
        if let Some(first) = first_seen.get(&key) {
            result.errors.push(ManifestError {
                object: Some(format!("{} {}/{}", key.0, key.1, key.2)),
                errors: vec![FieldError::new(
                    "metadata.name",
                    format!("duplicate name: already defined in {first}"),
                )],
                source: loaded.source,
            });
        } else {
            first_seen.insert(key, loaded.source.clone());
            kept.push(loaded);
        }
    }
    result.loaded = kept;
}
