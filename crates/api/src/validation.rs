//! Client-side validation of objects against the generated CRDs, as the API server would do it:
//! defaulting from the schema, structural validation (types, enums, patterns, ranges, required
//! fields), strict unknown-field detection, list uniqueness (`x-kubernetes-list-type`) and the CEL
//! rules (`x-kubernetes-validations`).
//!
//! `mcp-runtime up`, the CLI and the tests use this, so a manifest that `up` accepts is one the
//! cluster accepts too. Every error names the offending field (`spec.tools[1].sideEffect`).

use crate::crd;
use kube::core::cel::Validator as CelValidator;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

/// One of the three kinds of this API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Server,
    Grant,
    Session,
}

impl Kind {
    /// All kinds, in dependency order (servers first).
    pub const ALL: [Kind; 3] = [Kind::Server, Kind::Grant, Kind::Session];

    /// The `kind` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Server => "MCPServer",
            Kind::Grant => "MCPAccessGrant",
            Kind::Session => "MCPAgentSession",
        }
    }

    /// Parses a `kind` string.
    pub fn from_kind(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == kind)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, e.g. `spec.tools[1].sideEffect`; empty for the whole object.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else if self.message.starts_with(&self.field) {
            // CEL messages are written to name their field already.
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Everything needed to validate one kind, built once.
struct CompiledKind {
    /// The CRD's `openAPIV3Schema`, as the API server sees it (for defaulting and CEL).
    schema: Value,
    /// The same schema made strict (no unknown fields) for structural validation.
    structural: jsonschema::Validator,
}

fn compiled(kind: Kind) -> &'static CompiledKind {
    static CACHE: OnceLock<[CompiledKind; 3]> = OnceLock::new();
    let all = CACHE.get_or_init(|| Kind::ALL.map(compile_kind));
    &all[kind as usize]
}

fn compile_kind(kind: Kind) -> CompiledKind {
    let schema = crd::schema_of(kind);
    let mut strict = schema.clone();
    // The API server supplies these three for every kind; CRD schemas do not declare them.
    if let Some(Value::Object(properties)) = strict.get_mut("properties") {
        properties.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
        properties.insert("kind".into(), serde_json::json!({"type": "string"}));
        properties.insert(
            "metadata".into(),
            serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    }
    make_strict(&mut strict);
    let structural = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&strict)
        // The schema is generated from our own types at build time; a failure here is a bug that
        // every test would hit, not a runtime condition.
        .unwrap_or_else(|error| panic!("generated {kind} schema does not compile: {error}"));
    CompiledKind { schema, structural }
}

/// Rewrites an OpenAPI v3 structural schema into JSON Schema that rejects unknown fields, the way
/// the API server's strict field validation (kubectl's default) does, and that accepts `null` where
/// the schema says `nullable`.
fn make_strict(schema: &mut Value) {
    let Value::Object(node) = schema else { return };
    let preserves_unknown =
        node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if node.contains_key("properties")
        && !node.contains_key("additionalProperties")
        && !preserves_unknown
    {
        node.insert("additionalProperties".into(), Value::Bool(false));
    }
    if node.get("nullable") == Some(&Value::Bool(true))
        && let Some(Value::String(ty)) = node.get("type").cloned()
    {
        node.insert(
            "type".into(),
            Value::Array(vec![Value::String(ty), "null".into()]),
        );
    }
    // IntOrString fields carry no `type`; JSON Schema then accepts anything, so pin it.
    if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        && !node.contains_key("type")
    {
        node.insert("type".into(), serde_json::json!(["integer", "string"]));
    }
    for (key, child) in node.iter_mut() {
        match key.as_str() {
            "properties" => {
                if let Value::Object(props) = child {
                    props.values_mut().for_each(make_strict);
                }
            }
            "items" | "additionalProperties" => make_strict(child),
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(alternatives) = child {
                    alternatives.iter_mut().for_each(make_strict);
                }
            }
            _ => {}
        }
    }
}

/// Validates an object of `kind` (the whole object: apiVersion, kind, metadata, spec) and returns
/// it with the schema defaults applied, as the API server would store it.
pub fn validate_object(kind: Kind, object: &Value) -> Result<Value, Vec<FieldError>> {
    let compiled = compiled(kind);
    let mut errors = Vec::new();
    validate_metadata(object, &mut errors);

    let defaulted = apply_defaults(&compiled.schema, object);

    for error in compiled.structural.iter_errors(&defaulted) {
        errors.extend(describe_schema_error(&compiled.schema, &error));
    }
    check_list_uniqueness(&compiled.schema, &defaulted, "", &mut errors);

    // CEL rules assume a structurally valid object; evaluating them on a broken one only adds noise.
    if errors.is_empty()
        && let Err(cel_errors) =
            CelValidator::new().validate(&compiled.schema, &without_null_fields(&defaulted), None)
    {
        for error in cel_errors.iter() {
            errors.push(FieldError::new(
                cel_error_field(&error.field_path, &error.message),
                error.message.clone(),
            ));
        }
    }

    if errors.is_empty() {
        Ok(defaulted)
    } else {
        Err(errors)
    }
}

/// The object as the API server's CEL rules see it: "null valued fields are treated as absent
/// fields in CEL expressions", so `has(self.issuerURL)` is false for `issuerURL: null`. Without
/// this, an explicit null would satisfy a rule that requires the field, and the object would be
/// accepted here, refused by the API server, and read by the typed form as if the field were
/// missing.
fn without_null_fields(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_null_fields(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_null_fields).collect()),
        other => other.clone(),
    }
}

/// The field a CEL rule's error is about. Rules carry no `fieldPath` (Kubernetes 1.26 refuses it),
/// so an error is reported at the node holding the rule (`spec`), as the API server does. Where
/// the rule's message starts with a deeper field path under that node
/// (`spec.rollout.canaryReplicas: ...`, `spec.gateway.port must ...`), that field is the one meant.
fn cel_error_field(rule_path: &str, message: &str) -> String {
    let named = message
        .split([' ', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches(['.', ',']);
    let is_field_path = !named.is_empty()
        && named
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._[]".contains(&b));
    let under_rule_path = rule_path.is_empty()
        || named
            .strip_prefix(rule_path)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['));
    if is_field_path && under_rule_path {
        named.to_owned()
    } else {
        rule_path.to_owned()
    }
}

/// `metadata.name` is validated by the API server itself, not by the CRD schema.
fn validate_metadata(object: &Value, errors: &mut Vec<FieldError>) {
    let metadata = object.get("metadata");
    match metadata.and_then(|m| m.get("name")) {
        None => errors.push(FieldError::new(
            "metadata.name",
            "required field is missing",
        )),
        Some(Value::String(name)) => {
            if let Some(problem) = dns_subdomain_problem(name) {
                errors.push(FieldError::new("metadata.name", problem));
            }
        }
        Some(_) => errors.push(FieldError::new("metadata.name", "must be a string")),
    }
    for (field, check_value) in [("labels", true), ("annotations", false)] {
        match metadata.and_then(|m| m.get(field)) {
            None | Some(Value::Null) => {}
            Some(Value::Object(entries)) => {
                for (key, value) in entries {
                    let problem = qualified_name_problem(key)
                        .map(|p| format!("key {key:?}: {p}"))
                        .or_else(|| match value {
                            Value::String(v) if check_value => {
                                label_value_problem(v).map(|p| format!("value {v:?}: {p}"))
                            }
                            Value::String(_) => None,
                            _ => Some(format!("value of {key:?} must be a string")),
                        });
                    if let Some(problem) = problem {
                        errors.push(FieldError::new(format!("metadata.{field}"), problem));
                    }
                }
            }
            Some(_) => errors.push(FieldError::new(
                format!("metadata.{field}"),
                "must be a map of strings",
            )),
        }
    }
    if let Some(namespace) = metadata.and_then(|m| m.get("namespace")) {
        match namespace.as_str() {
            Some(ns) => {
                if let Some(problem) = dns_label_problem(ns) {
                    errors.push(FieldError::new("metadata.namespace", problem));
                }
            }
            None => errors.push(FieldError::new("metadata.namespace", "must be a string")),
        }
    }
}

/// Why `name` is not a valid RFC 1123 subdomain, if it is not.
pub fn dns_subdomain_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 253 {
        return Some(format!("{name:?} must be 1 to 253 characters"));
    }
    if name
        .split('.')
        .any(|label| dns_label_problem(label).is_some())
    {
        return Some(format!(
            "{name:?} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ));
    }
    None
}

/// Why `name` is not a valid label or annotation key (`[prefix/]name`: a DNS subdomain prefix and a
/// name of at most 63 alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric), if it is not.
pub fn qualified_name_problem(name: &str) -> Option<String> {
    let (prefix, short) = match name.split_once('/') {
        Some((prefix, short)) => (Some(prefix), short),
        None => (None, name),
    };
    if let Some(problem) = prefix.and_then(dns_subdomain_problem) {
        return Some(format!("prefix {problem}"));
    }
    if short.is_empty() || label_value_problem(short).is_some() {
        return Some(
            "must be an optional DNS subdomain prefix and '/', and a name of at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character".to_owned(),
        );
    }
    None
}

/// Why `value` is not a valid label value (empty, or at most 63 alphanumerics, `-`, `_` or `.`,
/// starting and ending alphanumeric), if it is not.
pub fn label_value_problem(value: &str) -> Option<String> {
    let valid_chars = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    let valid_ends = value.is_empty()
        || (value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && value
                .bytes()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric()));
    if value.len() > 63 || !valid_chars || !valid_ends {
        Some(
            "must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character".to_owned(),
        )
    } else {
        None
    }
}

/// Why `label` is not a valid RFC 1123 label, if it is not.
pub fn dns_label_problem(label: &str) -> Option<String> {
    let valid_chars = label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let valid_ends = label
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && label
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if label.is_empty() || label.len() > 63 || !valid_chars || !valid_ends {
        Some(format!(
            "{label:?} must be 1 to 63 lower case alphanumeric characters or '-', starting and ending with an alphanumeric character"
        ))
    } else {
        None
    }
}

/// Applies `default` values from the schema to absent fields, recursing into defaulted values too
/// (a parent defaulted to `{}` gets its children's defaults, as on the API server).
pub fn apply_defaults(schema: &Value, value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let Some(Value::Object(properties)) = schema.get("properties") else {
                return match schema.get("additionalProperties") {
                    Some(entry_schema @ Value::Object(_)) => Value::Object(
                        fields
                            .iter()
                            .map(|(k, v)| (k.clone(), apply_defaults(entry_schema, v)))
                            .collect(),
                    ),
                    _ => value.clone(),
                };
            };
            let mut result = Map::new();
            for (key, field) in fields {
                let field_schema = properties.get(key).unwrap_or(&Value::Null);
                result.insert(key.clone(), apply_defaults(field_schema, field));
            }
            for (key, field_schema) in properties {
                if !result.contains_key(key)
                    && let Some(default) = field_schema.get("default")
                {
                    result.insert(key.clone(), apply_defaults(field_schema, default));
                }
            }
            Value::Object(result)
        }
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => Value::Array(
                items
                    .iter()
                    .map(|item| apply_defaults(item_schema, item))
                    .collect(),
            ),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

/// Enforces `x-kubernetes-list-type: map` (unique keys) and `set` (unique values), which the API
/// server checks natively and JSON Schema cannot express.
fn check_list_uniqueness(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, field) in fields {
                let field_schema = properties
                    .and_then(|p| p.get(key))
                    .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()));
                if let Some(field_schema) = field_schema {
                    check_list_uniqueness(field_schema, field, &join_field(path, key), errors);
                }
            }
        }
        Value::Array(items) => {
            match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("map") => {
                    let keys: Vec<&str> = schema
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let mut seen = HashSet::new();
                    for (index, item) in items.iter().enumerate() {
                        let key: Vec<&Value> = keys
                            .iter()
                            .map(|k| item.get(k).unwrap_or(&Value::Null))
                            .collect();
                        if !seen.insert(serde_json::to_string(&key).unwrap_or_default()) {
                            let described = keys
                                .iter()
                                .zip(&key)
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect::<Vec<_>>()
                                .join(", ");
                            errors.push(FieldError::new(
                                format!("{path}[{index}]"),
                                format!("duplicate entry with {described}; entries must be unique"),
                            ));
                        }
                    }
                }
                Some("set") => {
                    let mut seen = HashSet::new();
                    for (index, item) in items.iter().enumerate() {
                        if !seen.insert(serde_json::to_string(item).unwrap_or_default()) {
                            errors.push(FieldError::new(
                                format!("{path}[{index}]"),
                                format!("duplicate value {item}; values must be unique"),
                            ));
                        }
                    }
                }
                _ => {}
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check_list_uniqueness(item_schema, item, &format!("{path}[{index}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn join_field(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Turns a JSON pointer (`/spec/tools/0/name`) into a field path (`spec.tools[0].name`).
pub fn pointer_to_field(pointer: &str) -> String {
    let mut field = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            field.push_str(&format!("[{segment}]"));
        } else {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(&segment);
        }
    }
    field
}

fn describe_schema_error(
    schema: &Value,
    error: &jsonschema::ValidationError<'_>,
) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as K;
    let pointer = error.instance_path().to_string();
    let field = pointer_to_field(&pointer);
    match error.kind() {
        K::Required { property } => vec![FieldError::new(
            join_field(&field, property.as_str().unwrap_or_default()),
            "required field is missing",
        )],
        // One error per unknown field, each with its full path, as the API server's strict field
        // validation reports them (`unknown field "spec.imagePulPolicy"`), plus the likely typo.
        K::AdditionalProperties { unexpected } => {
            let known = known_fields(schema, &pointer);
            unexpected
                .iter()
                .map(|name| {
                    let hint = did_you_mean(name, known.iter().map(String::as_str))
                        .map(|close| format!(" (did you mean {close}?)"))
                        .unwrap_or_default();
                    FieldError::new(join_field(&field, name), format!("unknown field{hint}"))
                })
                .collect()
        }
        K::Enum { options } => {
            let offered = error.instance();
            let hint = offered
                .as_str()
                .and_then(|offered| {
                    let values = options.as_array()?;
                    did_you_mean(offered, values.iter().filter_map(Value::as_str))
                })
                .map(|close| format!("; did you mean {close:?}?"))
                .unwrap_or_default();
            vec![FieldError::new(
                field,
                format!(
                    "unsupported value {offered}; supported values: {}{hint}",
                    list_options(options)
                ),
            )]
        }
        // The generated schema writes integral bounds as floats (65535.0); say them as written.
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => vec![FieldError::new(
            field,
            format!(
                "{} is greater than the maximum of {}",
                error.instance(),
                number(limit)
            ),
        )],
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => vec![FieldError::new(
            field,
            format!(
                "{} is less than the minimum of {}",
                error.instance(),
                number(limit)
            ),
        )],
        _ => vec![FieldError::new(field, error.to_string())],
    }
}

/// A JSON number as a person writes it: `65535`, not `65535.0`.
fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(float) if float.fract() == 0.0 && float.abs() < 1e15 => format!("{}", float as i64),
        _ => value.to_string(),
    }
}

/// The closest of `candidates` to `typed`, when it is a likely typo (edit distance 1 or 2, and
/// shorter than the word itself, so `a` does not suggest `b`).
pub fn did_you_mean<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .filter(|candidate| *candidate != typed)
        .map(|candidate| (strsim::levenshtein(typed, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2 && *distance < candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The property names the schema allows at the object `pointer` names (an instance pointer such
/// as `/spec/tools/0`): what an unknown field there may have been meant to be.
fn known_fields(schema: &Value, pointer: &str) -> Vec<String> {
    let mut node = schema;
    for segment in pointer.split('/').skip(1) {
        let next = if segment.bytes().all(|b| b.is_ascii_digit()) {
            node.get("items")
        } else {
            node.get("properties").and_then(|p| p.get(segment))
        };
        match next {
            Some(next) => node = next,
            None => return Vec::new(),
        }
    }
    let mut names: Vec<String> = node
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    if pointer.is_empty() {
        names.extend(["apiVersion", "kind", "metadata"].map(String::from));
    }
    names
}

fn list_options(options: &Value) -> String {
    match options {
        // Optional enums list `null` among their values; it is not something to suggest.
        Value::Array(values) => values
            .iter()
            .filter(|v| !v.is_null())
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion_and_bounds_read_as_written() {
        let server = serde_json::json!({
            "apiVersion": "mcpruntime.org/v1alpha1", "kind": "MCPServer",
            "metadata": {"name": "a"},
            "spec": {"image": "x", "port": 70000, "imagePulPolicy": "Always", "transport": "stdoi",
                     "tools": [{"name": "t", "sideEfect": "read"}]},
        });
        let errors = validate_object(Kind::Server, &server).expect_err("invalid");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for expected in [
            "spec.port: 70000 is greater than the maximum of 65535",
            "spec.imagePulPolicy: unknown field (did you mean imagePullPolicy?)",
            "spec.tools[0].sideEfect: unknown field (did you mean sideEffect?)",
            "; did you mean \"stdio\"?",
        ] {
            assert!(
                text.iter().any(|line| line.contains(expected)),
                "{expected:?} in {text:#?}"
            );
        }
        // Far from every known name: no guess.
        assert_eq!(did_you_mean("zzz", ["image", "port"].into_iter()), None);
        assert_eq!(did_you_mean("a", ["b"].into_iter()), None);
    }

    #[test]
    fn pointers_become_field_paths() {
        assert_eq!(
            pointer_to_field("/spec/tools/0/sideEffect"),
            "spec.tools[0].sideEffect"
        );
        assert_eq!(pointer_to_field(""), "");
        assert_eq!(
            pointer_to_field("/metadata/annotations/a~1b"),
            "metadata.annotations.a/b"
        );
    }

    #[test]
    fn cel_errors_name_the_field_their_message_starts_with() {
        let field = |path, message| cel_error_field(path, message);
        assert_eq!(
            field("spec", "spec.rollout.canaryReplicas: needs replicas"),
            "spec.rollout.canaryReplicas"
        );
        assert_eq!(
            field("spec", "spec.gateway.port must differ from spec.port"),
            "spec.gateway.port"
        );
        assert_eq!(
            field("spec.auth", "spec.auth.issuerURL is required"),
            "spec.auth.issuerURL"
        );
        // A message naming the rule's own node, or another part of the object, keeps the rule's path.
        assert_eq!(
            field(
                "spec.command",
                "spec.command must not contain empty strings"
            ),
            "spec.command"
        );
        assert_eq!(
            field("spec.auth", "spec.gateway.enabled must be true"),
            "spec.auth"
        );
        assert_eq!(
            field(
                "spec.volumes[0]",
                "exactly one of configMap, secret or emptyDir"
            ),
            "spec.volumes[0]"
        );
    }

    /// Found by fuzzing the manifest loader: `issuerURL: #...` is YAML for `issuerURL: null`, which
    /// satisfied the `has(self.issuerURL)` rule here (the API server treats it as absent), so the
    /// object loaded, and then failed to load again once written back without the null.
    #[test]
    fn an_explicit_null_does_not_satisfy_a_rule_that_requires_the_field() {
        let text = "apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: crm-tools
spec:
  image: ghcr.io/example/crm-mcp:1.2.0
  gateway:
    enabled: true
  auth:
    mode: oauth
    issuerURL: ####crm.mcp.example.com
";
        let loaded = crate::manifest::parse_manifests(text, None);
        assert!(loaded.loaded.is_empty(), "{:?}", loaded.loaded);
        let errors: Vec<(&str, &str)> = loaded
            .errors
            .iter()
            .flat_map(|e| e.errors.iter())
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            errors,
            [(
                "spec.auth.issuerURL",
                "spec.auth.issuerURL is required when spec.auth.mode is oauth"
            )]
        );
        // The same rule with the field missing, and a null elsewhere that no rule needs, still
        // behave as before.
        let missing = text.replace("    issuerURL: ####crm.mcp.example.com\n", "");
        assert_eq!(
            crate::manifest::parse_manifests(&missing, None)
                .errors
                .len(),
            1
        );
        let valid = text.replace("####", "https://");
        let valid = format!("{valid}  description: null\n");
        let loaded = crate::manifest::parse_manifests(&valid, None);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    }

    #[test]
    fn label_keys_and_values() {
        assert!(qualified_name_problem("app.kubernetes.io/name").is_none());
        assert!(qualified_name_problem("cost-center").is_none());
        assert!(qualified_name_problem("Example.com/x").is_some());
        assert!(qualified_name_problem("a/b/c").is_some());
        assert!(qualified_name_problem("example.com/").is_some());
        assert!(label_value_problem("").is_none());
        assert!(label_value_problem("v1.2_rc-3").is_none());
        assert!(label_value_problem("b c").is_some());
        assert!(label_value_problem("-x").is_some());
        assert!(label_value_problem(&"x".repeat(64)).is_some());
    }

    #[test]
    fn dns_names() {
        assert!(dns_subdomain_problem("github.tools-1").is_none());
        assert!(dns_subdomain_problem("Github").is_some());
        assert!(dns_subdomain_problem("-x").is_some());
        assert!(dns_subdomain_problem("").is_some());
    }

    #[test]
    fn defaults_recurse_into_defaulted_parents() {
        let schema = serde_json::json!({
            "properties": {"a": {"default": {}, "properties": {"b": {"default": 3}}}}
        });
        assert_eq!(
            apply_defaults(&schema, &serde_json::json!({})),
            serde_json::json!({"a": {"b": 3}})
        );
    }
}
