//! Every rule of the API refuses a bad manifest, and the error names the offending field.
//!
//! The cases are the corpus in `tests/fixtures/corpus/` (see `corpus/mod.rs`); the CLI's
//! real-cluster test `cluster_validate.rs` judges the same corpus with the API server and checks
//! that both verdicts agree.

mod corpus;

use mcp_runtime_api::crd;
use mcp_runtime_api::validation::{FieldError, Kind, validate_object};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn server() -> Value {
    json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": "github-tools", "namespace": "mcp"},
        "spec": {
            "image": "ghcr.io/example/github-mcp:1.0.0",
            "teamID": "platform",
            "tools": [{"name": "list_issues", "sideEffect": "read"}],
            "gateway": {"enabled": true},
        }
    })
}

/// Sets `pointer` (creating parents) to `value`, or removes it when `value` is `None`.
fn with(mut object: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let mut node = &mut object;
    for segment in parent.split('/').skip(1) {
        node = match node {
            Value::Array(items) => &mut items[segment.parse::<usize>().expect("index")],
            _ => node
                .as_object_mut()
                .expect("object")
                .entry(segment)
                .or_insert_with(|| json!({})),
        };
    }
    match (node, value) {
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().expect("index")] = v,
        (node, Some(v)) => {
            node.as_object_mut()
                .expect("object")
                .insert(key.to_owned(), v);
        }
        (node, None) => {
            node.as_object_mut().expect("object").remove(key);
        }
    }
    object
}

fn kind(object: &Value) -> Kind {
    Kind::from_kind(corpus::kind_of(object)).expect("a kind of this API")
}

/// Whether an error of `validate` names `field`: it is that field, lies under it, or its text
/// contains it.
fn names_field(errors: &[FieldError], field: &str) -> bool {
    errors.iter().any(|e| {
        e.field == field
            || e.field.starts_with(&format!("{field}."))
            || e.to_string().contains(field)
    })
}

#[test]
fn every_valid_manifest_of_the_corpus_is_accepted() {
    let valid = corpus::valid();
    assert!(
        valid.len() >= 6,
        "the valid corpus has {} documents",
        valid.len()
    );
    let refused: Vec<String> = valid
        .iter()
        .filter_map(|v| {
            validate_object(kind(&v.object), &v.object)
                .err()
                .map(|errors| format!("{}: {errors:?}", v.source))
        })
        .collect();
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

/// Spec fields whose values are Kubernetes' own types (`EnvVar`, `Probe`, `NetworkPolicyPeer`, …):
/// the corpus sets each of them, but not every field inside them.
const EMBEDDED_KUBERNETES_TYPES: &[&str] = &[
    "env",
    "envFrom",
    "readinessProbe",
    "livenessProbe",
    "podSecurityContext",
    "securityContext",
    "volumes[].configMap",
    "volumes[].secret",
    "volumes[].emptyDir",
    "networkPolicy.ingressFrom",
    "networkPolicy.egressTo",
    "networkPolicy.egressPorts",
    "networkPolicy.dnsEgressPeer",
];

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Every field path the spec schema declares (`tools[].name`), down to maps and embedded
/// Kubernetes types, which count as one field.
fn schema_fields(schema: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if !prefix.is_empty() {
        out.insert(prefix.to_owned());
    }
    if EMBEDDED_KUBERNETES_TYPES.contains(&prefix) {
        return;
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (key, child) in properties {
            schema_fields(child, &join(prefix, key), out);
        }
    }
    if let Some(items) = schema.get("items") {
        schema_fields(items, &format!("{prefix}[]"), out);
    }
}

/// Every field path set in `value`, in the same notation.
fn set_fields(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if !prefix.is_empty() {
        out.insert(prefix.to_owned());
    }
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                set_fields(field, &join(prefix, key), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                set_fields(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_valid_corpus_sets_every_field_of_every_kind() {
    let valid = corpus::valid();
    let mut unset = Vec::new();
    for kind in Kind::ALL {
        let mut declared = BTreeSet::new();
        let spec_schema = crd::schema_of(kind)
            .pointer("/properties/spec")
            .cloned()
            .expect("spec schema");
        schema_fields(&spec_schema, "", &mut declared);
        let mut set = BTreeSet::new();
        for v in valid
            .iter()
            .filter(|v| corpus::kind_of(&v.object) == kind.as_str())
        {
            set_fields(&v.object["spec"], "", &mut set);
        }
        unset.extend(
            declared
                .difference(&set)
                .map(|field| format!("{kind}: spec.{field}")),
        );
    }
    assert!(
        unset.is_empty(),
        "fields no valid manifest of the corpus sets:\n{}",
        unset.join("\n")
    );
}

/// `spec.tools[0].name` → `spec.tools[].name`.
fn without_indexes(field: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// The fields a schema constrains in mcp-runtime's own types, where a refusal points: the field
/// itself for value constraints, each required child, and the items of a list with unique keys.
/// CEL rules are listed by message.
fn constrained_fields(
    schema: &Value,
    path: &str,
    fields: &mut BTreeSet<String>,
    rules: &mut BTreeSet<String>,
) {
    let relative = path.strip_prefix("spec.").unwrap_or("");
    if EMBEDDED_KUBERNETES_TYPES.contains(&relative) {
        return;
    }
    for keyword in [
        "enum",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "maxItems",
    ] {
        if schema.get(keyword).is_some() {
            fields.insert(path.to_owned());
        }
    }
    if let Some(Value::Array(required)) = schema.get("required") {
        fields.extend(
            required
                .iter()
                .filter_map(Value::as_str)
                .map(|r| format!("{path}.{r}")),
        );
    }
    if schema.get("x-kubernetes-list-type").is_some() {
        fields.insert(format!("{path}[]"));
    }
    if let Some(Value::Array(validations)) = schema.get("x-kubernetes-validations") {
        rules.extend(
            validations
                .iter()
                .filter_map(|v| v["message"].as_str())
                .map(str::to_owned),
        );
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (key, child) in properties {
            constrained_fields(child, &format!("{path}.{key}"), fields, rules);
        }
    }
    if let Some(items) = schema.get("items") {
        constrained_fields(items, &format!("{path}[]"), fields, rules);
    }
}

#[test]
fn the_invalid_corpus_breaks_every_constraint_and_every_cel_rule() {
    let cases = corpus::invalid();
    let mut fields = BTreeSet::new();
    let mut rules = BTreeSet::new();
    for kind in Kind::ALL {
        let spec_schema = crd::schema_of(kind)
            .pointer("/properties/spec")
            .cloned()
            .expect("spec schema");
        constrained_fields(&spec_schema, "spec", &mut fields, &mut rules);
    }
    let named: BTreeSet<String> = cases.iter().map(|c| without_indexes(&c.field)).collect();
    let unbroken: Vec<&String> = fields.iter().filter(|f| !named.contains(*f)).collect();
    let messages: BTreeSet<String> = cases
        .iter()
        .filter_map(|c| validate_object(kind(&c.object), &c.object).err())
        .flatten()
        .map(|e| e.message)
        .collect();
    let unhit: Vec<&String> = rules.iter().filter(|r| !messages.contains(*r)).collect();
    assert!(
        unbroken.is_empty() && unhit.is_empty(),
        "constrained fields no invalid case names: {unbroken:#?}\nCEL rules no invalid case breaks: {unhit:#?}"
    );
}

#[test]
fn every_rule_refuses_its_manifest_and_names_the_field() {
    let cases = corpus::invalid();
    assert!(cases.len() >= 52, "the corpus covers {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        match validate_object(kind(&case.object), &case.object) {
            Ok(_) => failures.push(format!("{} ({}): accepted", case.case, case.source)),
            Err(errors) => {
                if !names_field(&errors, &case.field) {
                    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    failures.push(format!(
                        "{} ({}): no error names {}: {rendered:?}",
                        case.case, case.source, case.field
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn defaults_are_applied_like_the_api_server() {
    let defaulted = validate_object(Kind::Server, &server()).expect("valid");
    assert_eq!(defaulted["spec"]["port"], 8088);
    assert_eq!(defaulted["spec"]["servicePort"], 80);
    assert_eq!(defaulted["spec"]["replicas"], 1);
    assert_eq!(defaulted["spec"]["ingressClass"], "traefik");
    assert_eq!(defaulted["spec"]["mcpPath"], "/mcp");
    assert_eq!(defaulted["spec"]["gateway"]["port"], 8091);
    assert_eq!(defaulted["spec"]["tools"][0]["requiredTrust"], "low");
    assert_eq!(defaulted["spec"]["resources"]["limits"]["memory"], "256Mi");
    // A block that is absent stays absent: auth is only defaulted when written.
    assert!(defaulted["spec"].get("auth").is_none());
    let with_auth = with(server(), "/spec/auth", Some(json!({})));
    let defaulted = validate_object(Kind::Server, &with_auth).expect("valid");
    assert_eq!(defaulted["spec"]["auth"]["mode"], "header");
    assert_eq!(defaulted["spec"]["auth"]["humanIDHeader"], "X-MCP-Human-ID");
}
