//! Conversion of kubernetes-sigs mcp-lifecycle-operator manifests (`mcp.x-k8s.io` MCPServer,
//! v1alpha1 or v1beta1) into `mcpruntime.org/v1alpha1` MCPServers.
//!
//! The mapping is the one in `docs/compatibility.md`. Fields with no counterpart are reported as
//! warnings naming the field, never dropped silently; the result is validated like any manifest.

use crate::manifest::{Manifest, parse_object};
use crate::validation::FieldError;
use serde_json::{Map, Value, json};

/// API group of the lifecycle operator.
pub const LIFECYCLE_GROUP: &str = "mcp.x-k8s.io";

/// A converted server and what could not be carried over.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The converted object, validated.
    pub manifest: Manifest,
    /// The converted object as written (without schema defaults), for printing.
    pub object: Value,
    /// Fields that have no counterpart, each naming the source field.
    pub warnings: Vec<FieldError>,
}

/// Converts one lifecycle-operator MCPServer. Errors name the offending source field.
pub fn import_lifecycle_server(source: &Value) -> Result<Imported, Vec<FieldError>> {
    let api_version = source
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = source
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version.split('/').next() != Some(LIFECYCLE_GROUP) || kind != "MCPServer" {
        return Err(vec![FieldError::new(
            "apiVersion",
            format!("expected an {LIFECYCLE_GROUP} MCPServer, found {kind:?} in {api_version:?}"),
        )]);
    }
    let empty = Value::Object(Map::new());
    let spec = source.get("spec").unwrap_or(&empty);
    let mut warnings = Vec::new();
    let mut out = Map::new();

    let image = spec
        .pointer("/source/containerImage/ref")
        .and_then(Value::as_str);
    match image {
        Some(image) => {
            out.insert("image".into(), json!(image));
        }
        None => {
            return Err(vec![FieldError::new(
                "spec.source.containerImage.ref",
                "required field is missing",
            )]);
        }
    }
    copy(
        spec,
        "/source/containerImage/pullPolicy",
        &mut out,
        "imagePullPolicy",
    );
    if let Some(secrets) = spec
        .pointer("/source/containerImage/imagePullSecrets")
        .and_then(Value::as_array)
    {
        let names: Vec<Value> = secrets
            .iter()
            .filter_map(|s| s.get("name").cloned())
            .collect();
        out.insert("imagePullSecrets".into(), Value::Array(names));
    }

    // LO serves the Service on the container port; keep that instead of our default of 80.
    if let Some(port) = spec.pointer("/config/port") {
        out.insert("port".into(), port.clone());
        out.insert("servicePort".into(), port.clone());
    }
    copy(spec, "/config/arguments", &mut out, "args");
    copy(spec, "/config/env", &mut out, "env");
    copy(spec, "/config/envFrom", &mut out, "envFrom");
    copy(spec, "/config/path", &mut out, "mcpPath");
    if let Some(storage) = spec.pointer("/config/storage").and_then(Value::as_array) {
        let volumes = storage
            .iter()
            .enumerate()
            .map(|(index, entry)| convert_storage(index, entry, &mut warnings))
            .collect();
        out.insert("volumes".into(), Value::Array(volumes));
    }

    copy(spec, "/runtime/replicas", &mut out, "replicas");
    copy(
        spec,
        "/runtime/security/serviceAccountName",
        &mut out,
        "serviceAccountName",
    );
    copy(
        spec,
        "/runtime/security/podSecurityContext",
        &mut out,
        "podSecurityContext",
    );
    copy(
        spec,
        "/runtime/security/securityContext",
        &mut out,
        "securityContext",
    );
    copy(
        spec,
        "/runtime/health/livenessProbe",
        &mut out,
        "livenessProbe",
    );
    copy(
        spec,
        "/runtime/health/readinessProbe",
        &mut out,
        "readinessProbe",
    );
    if let Some(resources) = spec.pointer("/runtime/resources") {
        out.insert(
            "resources".into(),
            convert_resources(resources, &mut warnings),
        );
    }

    copy(spec, "/mcp/stateless", &mut out, "stateless");
    if let Some(network) = spec.get("network").and_then(Value::as_object) {
        out.insert("networkPolicy".into(), Value::Object(network.clone()));
    }
    copy(spec, "/extraLabels", &mut out, "extraLabels");
    copy(spec, "/extraAnnotations", &mut out, "extraAnnotations");

    for (field, why) in [
        (
            "transport",
            "TLS to the server is not supported yet; the operator talks plain HTTP inside the pod network",
        ),
        (
            "gateway",
            "mcp-runtime fronts servers with its own gateway (set spec.gateway.enabled)",
        ),
        ("workloadRef", "bring-your-own workloads are not supported"),
        ("serviceRef", "bring-your-own services are not supported"),
    ] {
        if spec.get(field).is_some() {
            warnings.push(FieldError::new(
                format!("spec.{field}"),
                format!("not imported: {why}"),
            ));
        }
    }

    let mut metadata = Map::new();
    for key in ["name", "namespace", "labels", "annotations"] {
        if let Some(value) = source.pointer(&format!("/metadata/{key}")) {
            metadata.insert(key.into(), value.clone());
        }
    }
    let object = json!({
        "apiVersion": crate::API_VERSION,
        "kind": "MCPServer",
        "metadata": metadata,
        "spec": out,
    });
    let manifest = parse_object(&object).map_err(|(_, errors)| errors)?;
    Ok(Imported {
        manifest,
        object,
        warnings,
    })
}

fn copy(spec: &Value, pointer: &str, out: &mut Map<String, Value>, to: &str) {
    if let Some(value) = spec.pointer(pointer) {
        out.insert(to.to_owned(), value.clone());
    }
}

/// `storage[]{path, permissions, source{type, configMap|secret|emptyDir}}` → `volumes[]` (flat).
fn convert_storage(index: usize, entry: &Value, warnings: &mut Vec<FieldError>) -> Value {
    let mut volume = Map::new();
    for key in ["path", "permissions"] {
        if let Some(value) = entry.get(key) {
            volume.insert(key.into(), value.clone());
        }
    }
    let source = entry.get("source");
    for key in ["configMap", "secret", "emptyDir"] {
        if let Some(value) = source.and_then(|s| s.get(key)) {
            volume.insert(key.into(), value.clone());
        }
    }
    if let Some(kind) = source.and_then(|s| s.get("type")).and_then(Value::as_str)
        && !matches!(kind, "ConfigMap" | "Secret" | "EmptyDir")
    {
        warnings.push(FieldError::new(
            format!("spec.config.storage[{index}].source.type"),
            format!("unknown storage type {kind:?}"),
        ));
    }
    Value::Object(volume)
}

/// core/v1 `ResourceRequirements` → the flat CPU/memory shape; other resources are reported.
fn convert_resources(resources: &Value, warnings: &mut Vec<FieldError>) -> Value {
    let mut out = Map::new();
    for section in ["requests", "limits"] {
        let Some(list) = resources.get(section).and_then(Value::as_object) else {
            continue;
        };
        let mut kept = Map::new();
        for (name, quantity) in list {
            if matches!(name.as_str(), "cpu" | "memory") {
                kept.insert(name.clone(), Value::String(quantity_string(quantity)));
            } else {
                warnings.push(FieldError::new(
                    format!("spec.runtime.resources.{section}.{name}"),
                    "not imported: only cpu and memory are supported",
                ));
            }
        }
        out.insert(section.into(), Value::Object(kept));
    }
    if resources.get("claims").is_some() {
        warnings.push(FieldError::new(
            "spec.runtime.resources.claims",
            "not imported: resource claims are not supported",
        ));
    }
    Value::Object(out)
}

/// Quantities may be written as YAML numbers (`cpu: 1`); the flat shape holds strings.
fn quantity_string(quantity: &Value) -> String {
    match quantity {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifecycle_server() -> Value {
        json!({
            "apiVersion": "mcp.x-k8s.io/v1alpha1",
            "kind": "MCPServer",
            "metadata": {"name": "kube-docs", "namespace": "tools", "labels": {"team": "docs"}},
            "spec": {
                "source": {"type": "ContainerImage", "containerImage": {"ref": "quay.io/x/docs:1.2", "pullPolicy": "Always", "imagePullSecrets": [{"name": "quay"}]}},
                "config": {
                    "port": 8080,
                    "path": "/api/mcp",
                    "arguments": ["--verbose"],
                    "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                    "envFrom": [{"configMapRef": {"name": "cfg"}}],
                    "storage": [
                        {"path": "/data", "permissions": "RecursiveReadOnly", "source": {"type": "ConfigMap", "configMap": {"name": "data"}}},
                        {"path": "/tmp", "permissions": "ReadWrite", "source": {"type": "EmptyDir", "emptyDir": {}}}
                    ]
                },
                "runtime": {
                    "replicas": 2,
                    "security": {"serviceAccountName": "docs", "securityContext": {"runAsNonRoot": true}},
                    "resources": {"limits": {"cpu": 1, "memory": "512Mi", "nvidia.com/gpu": "1"}},
                    "health": {"readinessProbe": {"tcpSocket": {"port": 8080}}}
                },
                "mcp": {"stateless": true},
                "network": {"ingressFrom": [{"podSelector": {}}]},
                "transport": {"tls": {"enabled": true}}
            }
        })
    }

    #[test]
    fn converts_every_supported_field_and_reports_the_rest() {
        let imported = import_lifecycle_server(&lifecycle_server()).expect("imports");
        let spec = &imported.object["spec"];
        assert_eq!(spec["image"], "quay.io/x/docs:1.2");
        assert_eq!(spec["imagePullPolicy"], "Always");
        assert_eq!(spec["imagePullSecrets"], json!(["quay"]));
        assert_eq!(spec["port"], 8080);
        assert_eq!(spec["servicePort"], 8080);
        assert_eq!(spec["mcpPath"], "/api/mcp");
        assert_eq!(spec["args"], json!(["--verbose"]));
        assert_eq!(
            spec["volumes"][0],
            json!({"path": "/data", "permissions": "RecursiveReadOnly", "configMap": {"name": "data"}})
        );
        assert_eq!(spec["replicas"], 2);
        assert_eq!(spec["serviceAccountName"], "docs");
        assert_eq!(
            spec["resources"]["limits"],
            json!({"cpu": "1", "memory": "512Mi"})
        );
        assert_eq!(spec["stateless"], true);
        assert_eq!(
            spec["networkPolicy"]["ingressFrom"],
            json!([{"podSelector": {}}])
        );
        assert_eq!(imported.object["metadata"]["labels"]["team"], "docs");
        let warned: Vec<&str> = imported.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            warned,
            [
                "spec.runtime.resources.limits.nvidia.com/gpu",
                "spec.transport"
            ]
        );
        assert_eq!(imported.manifest.name(), "kube-docs");
    }

    #[test]
    fn refuses_other_kinds_and_missing_images_naming_the_field() {
        let errors = import_lifecycle_server(&json!({"apiVersion": "v1", "kind": "ConfigMap"}))
            .expect_err("refused");
        assert_eq!(errors[0].field, "apiVersion");
        let mut no_image = lifecycle_server();
        no_image["spec"]["source"] = json!({"type": "ContainerImage"});
        let errors = import_lifecycle_server(&no_image).expect_err("refused");
        assert_eq!(errors[0].field, "spec.source.containerImage.ref");
    }

    #[test]
    fn invalid_results_are_refused_with_our_field_path() {
        let mut bad = lifecycle_server();
        bad["spec"]["config"]["port"] = json!(70000);
        let errors = import_lifecycle_server(&bad).expect_err("refused");
        assert!(errors.iter().any(|e| e.field == "spec.port"), "{errors:?}");
    }
}
