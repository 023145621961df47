//! `mcp-runtime validate` and the API server agree on every manifest of the corpus
//! (`crates/api/tests/fixtures/corpus/`): the same verdict, and a refusal names the same field in
//! both error texts. The server is the judge.
//!
//! The server sees each object through `kubectl create --dry-run=server --validate=strict`: a plain
//! create, with unknown fields refused rather than pruned, as `kubectl apply` does by default. That is
//! what `validate` mirrors (docs/api.md, introduction).
//!
//! The CRDs are installed under a group of their own, so that the verdicts are those of this
//! build's CRDs whatever else is installed on the cluster.
//!
//! Built to run when `MCP_RUNTIME_TEST_KUBECONFIG` is set or `CI=true` (see `build.rs`).

mod cluster;
#[path = "../../api/tests/corpus/mod.rs"]
mod corpus;

use cluster::{TestGroupCrds, TestNamespace, four_at_a_time, kubectl, kubectl_ok};
use mcp_runtime_api::validation::{FieldError, Kind, validate_object};
use serde_json::Value;

/// One manifest judged twice.
struct Verdicts {
    source: String,
    /// `None` when `validate` accepts.
    validate: Option<Vec<FieldError>>,
    /// `None` when the API server accepts; its error text otherwise.
    server: Option<String>,
}

fn judge_with_validate(object: &Value) -> Option<Vec<FieldError>> {
    let kind = Kind::from_kind(corpus::kind_of(object)).expect("a kind of this API");
    validate_object(kind, object).err()
}

/// The API server's verdict on `object`, sent as the test group's kind into `namespace`.
fn judge_with_server(object: &Value, group: &str, namespace: &str) -> Option<String> {
    let mut object = object.clone();
    object["apiVersion"] = Value::String(format!("{group}/v1alpha1"));
    object["metadata"]["namespace"] = Value::String(namespace.to_owned());
    let body = serde_json::to_vec(&object).expect("JSON");
    let output = kubectl(
        &[
            "create",
            "--dry-run=server",
            "--validate=strict",
            "-o",
            "name",
            "-f",
            "-",
        ],
        Some(&body),
    );
    if output.status.success() {
        None
    } else {
        Some(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `object` as `validate` sees it: in the test namespace, as the server sees it.
fn in_namespace(object: &Value, namespace: &str) -> Value {
    let mut object = object.clone();
    object["metadata"]["namespace"] = Value::String(namespace.to_owned());
    object
}

/// Judges every `(source, object)` with both, four kubectl processes at a time.
fn judge_all(objects: &[(String, Value)], group: &str, namespace: &str) -> Vec<Verdicts> {
    four_at_a_time(objects, |(source, object)| {
        let object = in_namespace(object, namespace);
        Verdicts {
            source: source.clone(),
            validate: judge_with_validate(&object),
            server: judge_with_server(&object, group, namespace),
        }
    })
}

fn rendered(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn validate_and_the_api_server_agree_on_every_manifest_of_the_corpus() {
    let crds = TestGroupCrds::new("validate");
    kubectl_ok(
        &["apply", "--server-side", "-f", "-"],
        Some(crds.yaml.as_bytes()),
    );
    crds.wait_established();
    let namespace = TestNamespace::create("validate");

    let valid = corpus::valid();
    let invalid = corpus::invalid();
    let objects: Vec<(String, Value)> = valid
        .iter()
        .map(|v| (v.source.clone(), v.object.clone()))
        .chain(
            invalid
                .iter()
                .map(|i| (format!("{} ({})", i.case, i.source), i.object.clone())),
        )
        .collect();
    let verdicts = judge_all(&objects, &crds.group, &namespace.name);

    let mut disagreements = Vec::new();
    let (valid_verdicts, invalid_verdicts) = verdicts.split_at(valid.len());
    for verdict in valid_verdicts {
        match (&verdict.validate, &verdict.server) {
            (None, None) => {}
            (validate, server) => disagreements.push(format!(
                "{}: must be accepted; validate: {}; server: {}",
                verdict.source,
                validate.as_deref().map_or("accepted".into(), rendered),
                server.as_deref().unwrap_or("accepted").trim()
            )),
        }
    }
    for (case, verdict) in invalid.iter().zip(invalid_verdicts) {
        let field = &case.field;
        let validate_names = verdict.validate.as_ref().is_some_and(|errors| {
            errors.iter().any(|e| {
                e.field == *field
                    || e.field.starts_with(&format!("{field}."))
                    || e.to_string().contains(field.as_str())
            })
        });
        let server_names = verdict
            .server
            .as_ref()
            .is_some_and(|text| text.contains(field.as_str()));
        if !(validate_names && server_names) {
            disagreements.push(format!(
                "{}: both must refuse it naming {field}; validate: {}; server: {}",
                verdict.source,
                verdict
                    .validate
                    .as_deref()
                    .map_or("accepted".into(), rendered),
                verdict.server.as_deref().unwrap_or("accepted").trim()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} manifests:\n{}",
        disagreements.len(),
        verdicts.len(),
        disagreements.join("\n")
    );
}
