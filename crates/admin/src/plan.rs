//! What `mcp-runtime setup` installs, as plain objects: pure, no cluster needed (`--dry-run`
//! prints it).
//!
//! The operator's namespace, RBAC and Deployment are the shipped `deploy/operator/*.yaml` (the
//! same files `kubectl kustomize deploy` installs), moved to the chosen namespace and image; the
//! CRDs are the ones `mcp-runtime crd` prints; Sentinel is built here. Every object carries the
//! labels that let `setup --uninstall` find exactly what setup made.

use serde_json::{Value, json};

/// The field manager of every setup write (server-side apply).
pub const FIELD_MANAGER: &str = "mcp-runtime-setup";
/// `app.kubernetes.io/managed-by` value on every object setup made.
pub const MANAGED_BY: &str = "mcp-runtime-setup";
/// Annotation on the operator Deployment: the mcp-runtime version that installed it.
pub const VERSION_ANNOTATION: &str = "mcpruntime.org/installed-version";
/// Name of the operator Deployment (from deploy/operator/deployment.yaml).
pub const OPERATOR: &str = "mcp-runtime-operator";
/// Name of Sentinel's Deployment and Service.
pub const SENTINEL: &str = "mcp-sentinel";
/// Sentinel's port (its default).
pub const SENTINEL_PORT: u16 = 8083;
/// The Secret (in the servers namespace) holding the gateways' audit-chain signing key, and the
/// operator's `MCP_AUDIT_SIGNING_KEY_SECRET`.
pub const AUDIT_SIGNING_SECRET: &str = "mcp-audit-signing";
/// The ConfigMap (in the operator's namespace) with the public half, mounted into Sentinel.
pub const AUDIT_PUBLIC_KEYS: &str = "mcp-sentinel-audit-keys";
/// Where Sentinel finds the public key.
const AUDIT_PUBLIC_KEYS_DIR: &str = "/etc/mcp-runtime/audit-keys";
const AUDIT_PUBLIC_KEY_FILE: &str = "signing-key.pub.pem";

const OPERATOR_NAMESPACE_YAML: &str = include_str!("../../../deploy/operator/namespace.yaml");
const OPERATOR_RBAC_YAML: &str = include_str!("../../../deploy/operator/rbac.yaml");
const OPERATOR_DEPLOYMENT_YAML: &str = include_str!("../../../deploy/operator/deployment.yaml");
/// The namespace the shipped YAML names; setup moves everything to `Options::namespace`.
const SHIPPED_NAMESPACE: &str = "mcp-runtime-system";

/// Where Sentinel keeps its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SentinelStore {
    /// The embedded SQLite store on a PersistentVolumeClaim of this size.
    Sqlite { size: String },
    /// A PostgreSQL URL (kept in a Secret, never in the Deployment).
    Postgres { url: String },
}

/// What to install.
#[derive(Clone, Debug)]
pub struct Options {
    /// The operator's and Sentinel's namespace.
    pub namespace: String,
    /// The namespace for MCP servers (created empty).
    pub servers_namespace: String,
    /// The mcp-runtime image the operator, the gateways and Sentinel run.
    pub image: String,
    /// `None`: no Sentinel (`--without-sentinel`).
    pub sentinel: Option<SentinelStore>,
    /// Key the Sentinel query API and UI require; `None` keeps the existing Secret as it is.
    pub sentinel_read_key: Option<String>,
    /// The gateways' audit-chain signing key (`--audit-signing-key`), when checkpoints are to
    /// be signed.
    pub audit_signing: Option<AuditSigning>,
    /// The version recorded on the operator Deployment.
    pub version: String,
}

/// An Ed25519 key pair for the gateways' audit-chain checkpoints, as PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSigning {
    /// The PKCS#8 private key: a Secret in the servers namespace, mounted into each gateway.
    pub private_pem: String,
    /// The SubjectPublicKeyInfo public key: a ConfigMap Sentinel checks checkpoints against.
    pub public_pem: String,
}

/// One step of the install: a title and the objects it applies, in order.
#[derive(Clone, Debug)]
pub struct Step {
    pub title: &'static str,
    pub objects: Vec<Value>,
}

/// A shipped manifest that does not have the expected shape (a packaging bug, not user input).
#[derive(Debug, thiserror::Error)]
#[error("the shipped manifest {file} cannot be used: {problem}")]
pub struct PlanError {
    file: &'static str,
    problem: String,
}

/// The default image: this build's version of the published image.
pub fn default_image(version: &str) -> String {
    format!("ghcr.io/mcp-runtime/mcp-runtime:{version}")
}

/// The install, step by step.
pub fn plan(options: &Options) -> Result<Vec<Step>, PlanError> {
    let mut steps = vec![
        Step {
            title: "CustomResourceDefinitions",
            objects: mcp_runtime_api::crd::all()
                .into_iter()
                .map(|crd| serde_json::to_value(crd).expect("a CRD serializes"))
                .collect(),
        },
        Step {
            title: "Namespaces",
            objects: namespaces(options)?,
        },
        Step {
            title: "RBAC",
            objects: documents("deploy/operator/rbac.yaml", OPERATOR_RBAC_YAML)?
                .into_iter()
                .map(|object| relocated(object, &options.namespace))
                .collect(),
        },
    ];
    if let Some(signing) = &options.audit_signing {
        // Before the operator step, so no gateway waits for its key.
        steps.push(Step {
            title: "Audit signing key",
            objects: audit_signing(options, signing),
        });
    }
    steps.push(Step {
        title: "Operator",
        objects: vec![operator(options)?],
    });
    if let Some(store) = &options.sentinel {
        steps.push(Step {
            title: "Sentinel",
            objects: sentinel(options, store),
        });
    }
    for object in steps.iter_mut().flat_map(|step| step.objects.iter_mut()) {
        label(object);
    }
    Ok(steps)
}

/// Every object an install into these namespaces may have made, whichever Sentinel store it
/// used (or none): what `--uninstall` looks for.
pub fn everything(options: &Options) -> Result<Vec<Step>, PlanError> {
    let mut sqlite = options.clone();
    sqlite.sentinel = Some(SentinelStore::Sqlite {
        size: String::new(),
    });
    sqlite.sentinel_read_key = Some(String::new());
    sqlite.audit_signing = Some(AuditSigning {
        private_pem: String::new(),
        public_pem: String::new(),
    });
    let mut steps = plan(&sqlite)?;
    let mut postgres = sqlite.clone();
    postgres.sentinel = Some(SentinelStore::Postgres { url: String::new() });
    let extra = plan(&postgres)?
        .pop()
        .map(|step| step.objects)
        .unwrap_or_default();
    if let Some(sentinel) = steps.last_mut() {
        for object in extra {
            let same = |o: &Value| {
                o["kind"] == object["kind"] && o["metadata"]["name"] == object["metadata"]["name"]
            };
            if !sentinel.objects.iter().any(same) {
                sentinel.objects.insert(0, object);
            }
        }
    }
    Ok(steps)
}

/// Every object of the plan as one multi-document YAML stream (`--dry-run`).
pub fn to_yaml(steps: &[Step]) -> String {
    let mut out = String::new();
    for object in steps.iter().flat_map(|step| &step.objects) {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(object).expect("JSON values serialize as YAML"));
    }
    out
}

/// The in-cluster URL gateways send audit events to.
pub fn sentinel_ingest_url(namespace: &str) -> String {
    format!("http://{SENTINEL}.{namespace}.svc:{SENTINEL_PORT}/events")
}

fn documents(file: &'static str, text: &str) -> Result<Vec<Value>, PlanError> {
    let mut objects = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(document).map_err(|e| PlanError {
            file,
            problem: e.to_string(),
        })?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

/// `object` with every mention of the shipped namespace (its own, and its subjects') moved.
fn relocated(mut object: Value, namespace: &str) -> Value {
    if object["metadata"]["namespace"] == SHIPPED_NAMESPACE {
        object["metadata"]["namespace"] = json!(namespace);
    }
    if let Some(subjects) = object.get_mut("subjects").and_then(Value::as_array_mut) {
        for subject in subjects {
            if subject["namespace"] == SHIPPED_NAMESPACE {
                subject["namespace"] = json!(namespace);
            }
        }
    }
    object
}

fn label(object: &mut Value) {
    let metadata = &mut object["metadata"];
    if !metadata["labels"].is_object() {
        metadata["labels"] = json!({});
    }
    metadata["labels"]["app.kubernetes.io/part-of"] = json!("mcp-runtime");
    metadata["labels"]["app.kubernetes.io/managed-by"] = json!(MANAGED_BY);
}

fn namespaces(options: &Options) -> Result<Vec<Value>, PlanError> {
    let file = "deploy/operator/namespace.yaml";
    let mut shipped = documents(file, OPERATOR_NAMESPACE_YAML)?;
    let mut system = shipped.pop().ok_or_else(|| PlanError {
        file,
        problem: "no Namespace in it".into(),
    })?;
    system["metadata"]["name"] = json!(options.namespace);
    let servers = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": options.servers_namespace},
    });
    Ok(if options.servers_namespace == options.namespace {
        vec![system]
    } else {
        vec![system, servers]
    })
}

fn operator(options: &Options) -> Result<Value, PlanError> {
    let file = "deploy/operator/deployment.yaml";
    let mut deployment = documents(file, OPERATOR_DEPLOYMENT_YAML)?
        .pop()
        .ok_or_else(|| PlanError {
            file,
            problem: "no Deployment in it".into(),
        })?;
    deployment = relocated(deployment, &options.namespace);
    if !deployment["metadata"]["annotations"].is_object() {
        deployment["metadata"]["annotations"] = json!({});
    }
    deployment["metadata"]["annotations"][VERSION_ANNOTATION] = json!(options.version);
    let container = deployment["spec"]["template"]["spec"]["containers"]
        .get_mut(0)
        .ok_or_else(|| PlanError {
            file,
            problem: "no container".into(),
        })?;
    container["image"] = json!(options.image);
    let env = container["env"].as_array_mut().ok_or_else(|| PlanError {
        file,
        problem: "the operator container has no env list".into(),
    })?;
    // The gateways and stdio pods run the same image as the operator.
    for variable in env.iter_mut() {
        if matches!(
            variable["name"].as_str(),
            Some("MCP_GATEWAY_PROXY_IMAGE" | "MCP_RUNTIME_IMAGE")
        ) {
            variable["value"] = json!(options.image);
        }
    }
    if options.sentinel.is_some() {
        env.push(json!({
            "name": "MCP_SENTINEL_INGEST_URL",
            "value": sentinel_ingest_url(&options.namespace),
        }));
    }
    if options.audit_signing.is_some() {
        env.push(json!({
            "name": "MCP_AUDIT_SIGNING_KEY_SECRET",
            "value": AUDIT_SIGNING_SECRET,
        }));
    }
    Ok(deployment)
}

/// The signing key for the gateways of the servers namespace, and its public half for Sentinel.
/// Servers in other namespaces need the same Secret there (the operator mounts it from the
/// server's own namespace, and a gateway without it does not start rather than sign nothing).
fn audit_signing(options: &Options, signing: &AuditSigning) -> Vec<Value> {
    let mut objects = vec![json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": AUDIT_SIGNING_SECRET, "namespace": options.servers_namespace},
        "type": "Opaque",
        "stringData": {"signing-key.pem": signing.private_pem},
    })];
    if options.sentinel.is_some() {
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": AUDIT_PUBLIC_KEYS, "namespace": options.namespace},
            "data": {AUDIT_PUBLIC_KEY_FILE: signing.public_pem},
        }));
    }
    objects
}

fn sentinel(options: &Options, store: &SentinelStore) -> Vec<Value> {
    let namespace = &options.namespace;
    let selector = json!({"app.kubernetes.io/name": SENTINEL});
    let mut objects = Vec::new();
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let store_variable = match store {
        SentinelStore::Sqlite { size } => {
            objects.push(json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": format!("{SENTINEL}-data"), "namespace": namespace},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                },
            }));
            volumes.push(json!({"name": "data", "persistentVolumeClaim": {"claimName": format!("{SENTINEL}-data")}}));
            mounts.push(json!({"name": "data", "mountPath": "/data"}));
            json!({"name": "SENTINEL_STORE", "value": "sqlite:///data/sentinel.db"})
        }
        SentinelStore::Postgres { url } => {
            objects.push(json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": format!("{SENTINEL}-store"), "namespace": namespace},
                "type": "Opaque",
                "stringData": {"url": url},
            }));
            json!({"name": "SENTINEL_STORE", "valueFrom": {"secretKeyRef": {"name": format!("{SENTINEL}-store"), "key": "url"}}})
        }
    };
    if let Some(key) = &options.sentinel_read_key {
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": format!("{SENTINEL}-keys"), "namespace": namespace},
            "type": "Opaque",
            "stringData": {"read": key},
        }));
    }
    // The query API and the UI need the read key; ingest stays open to the gateways of the
    // cluster (the Service is cluster-internal, and the gateways of every namespace would need
    // the key), which Sentinel only accepts on a pod address when told so: SENTINEL_INSECURE_OPEN.
    let read_keys = json!({"name": "SENTINEL_READ_API_KEYS", "valueFrom": {"secretKeyRef": {"name": format!("{SENTINEL}-keys"), "key": "read"}}});
    // /tmp is the only writable path besides /data (read-only root filesystem).
    volumes.push(json!({"name": "tmp", "emptyDir": {}}));
    mounts.push(json!({"name": "tmp", "mountPath": "/tmp"}));
    let mut env = vec![
        store_variable,
        read_keys,
        json!({"name": "SENTINEL_INSECURE_OPEN", "value": "true"}),
    ];
    if options.audit_signing.is_some() {
        // Checkpoints are checked on receipt (the UI's chain status); `sentinel verify` takes
        // its trusted keys from the user, never from the cluster.
        volumes.push(json!({"name": "audit-keys", "configMap": {"name": AUDIT_PUBLIC_KEYS}}));
        mounts.push(
            json!({"name": "audit-keys", "mountPath": AUDIT_PUBLIC_KEYS_DIR, "readOnly": true}),
        );
        env.push(json!({
            "name": "SENTINEL_AUDIT_PUBLIC_KEYS",
            "value": format!("{AUDIT_PUBLIC_KEYS_DIR}/{AUDIT_PUBLIC_KEY_FILE}"),
        }));
    }
    objects.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": SENTINEL,
            "namespace": namespace,
            "labels": selector.clone(),
            "annotations": {VERSION_ANNOTATION: options.version},
        },
        "spec": {
            "replicas": 1,
            // One writer of the SQLite file: the old pod stops before the new one starts.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector.clone()},
            "template": {
                "metadata": {"labels": selector.clone()},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 65532,
                        "fsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [{
                        "name": "sentinel",
                        "image": options.image,
                        "args": ["sentinel", "--address", "0.0.0.0", "--port", SENTINEL_PORT.to_string()],
                        "env": env,
                        "ports": [{"name": "http", "containerPort": SENTINEL_PORT}],
                        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10, "initialDelaySeconds": 5},
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "64Mi"},
                            "limits": {"cpu": "1", "memory": "512Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "volumeMounts": mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    }));
    objects.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": SENTINEL, "namespace": namespace},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": SENTINEL_PORT, "targetPort": "http"}],
        },
    }));
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            namespace: "mcp-runtime".into(),
            servers_namespace: "mcp-servers".into(),
            image: "registry.example/mcp-runtime:9.9.9".into(),
            sentinel: Some(SentinelStore::Sqlite { size: "1Gi".into() }),
            sentinel_read_key: Some("k".into()),
            audit_signing: None,
            version: "9.9.9".into(),
        }
    }

    fn object<'a>(steps: &'a [Step], kind: &str, name: &str) -> Option<&'a Value> {
        steps
            .iter()
            .flat_map(|s| &s.objects)
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
    }

    #[test]
    fn an_audit_signing_key_goes_to_the_gateways_and_its_public_half_to_sentinel() {
        let without = plan(&options()).expect("plan");
        assert!(object(&without, "Secret", AUDIT_SIGNING_SECRET).is_none());
        assert!(!to_yaml(&without).contains("AUDIT"));

        let mut with = options();
        with.audit_signing = Some(AuditSigning {
            private_pem: "PRIVATE".into(),
            public_pem: "PUBLIC".into(),
        });
        let steps = plan(&with).expect("plan");
        let titles: Vec<_> = steps.iter().map(|s| s.title).collect();
        assert_eq!(titles[3], "Audit signing key", "{titles:?}");
        assert_eq!(titles[4], "Operator", "before the operator: {titles:?}");
        let secret = object(&steps, "Secret", AUDIT_SIGNING_SECRET).expect("secret");
        assert_eq!(secret["metadata"]["namespace"], "mcp-servers");
        assert_eq!(secret["stringData"]["signing-key.pem"], "PRIVATE");
        let public = object(&steps, "ConfigMap", AUDIT_PUBLIC_KEYS).expect("configmap");
        assert_eq!(public["metadata"]["namespace"], "mcp-runtime");
        assert_eq!(public["data"]["signing-key.pub.pem"], "PUBLIC");
        let operator = object(&steps, "Deployment", OPERATOR).expect("operator");
        let env = operator["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
        assert!(
            env.contains(r#"{"name":"MCP_AUDIT_SIGNING_KEY_SECRET","value":"mcp-audit-signing"}"#),
            "{env}"
        );
        let sentinel = object(&steps, "Deployment", SENTINEL).expect("sentinel");
        let pod = &sentinel["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert!(
            container["env"].to_string().contains(
                r#"{"name":"SENTINEL_AUDIT_PUBLIC_KEYS","value":"/etc/mcp-runtime/audit-keys/signing-key.pub.pem"}"#
            ),
            "{container}"
        );
        assert!(
            container["volumeMounts"]
                .to_string()
                .contains(r#""mountPath":"/etc/mcp-runtime/audit-keys""#),
            "{container}"
        );
        // The private key is only in its Secret.
        let elsewhere: Vec<_> = steps
            .iter()
            .flat_map(|s| &s.objects)
            .filter(|o| o["kind"] != "Secret" && o.to_string().contains("PRIVATE"))
            .collect();
        assert!(elsewhere.is_empty(), "{elsewhere:?}");

        // Without Sentinel there is nothing to give the public key to.
        with.sentinel = None;
        let steps = plan(&with).expect("plan");
        assert!(object(&steps, "Secret", AUDIT_SIGNING_SECRET).is_some());
        assert!(object(&steps, "ConfigMap", AUDIT_PUBLIC_KEYS).is_none());
        // Uninstall looks for both.
        let all = everything(&options()).expect("everything");
        assert!(object(&all, "Secret", AUDIT_SIGNING_SECRET).is_some());
        assert!(object(&all, "ConfigMap", AUDIT_PUBLIC_KEYS).is_some());
    }

    fn kinds(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .flat_map(|s| &s.objects)
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    #[test]
    fn the_plan_installs_crds_namespaces_rbac_operator_and_sentinel_in_order() {
        let steps = plan(&options()).expect("plan");
        let titles: Vec<_> = steps.iter().map(|s| s.title).collect();
        assert_eq!(
            titles,
            [
                "CustomResourceDefinitions",
                "Namespaces",
                "RBAC",
                "Operator",
                "Sentinel"
            ]
        );
        let kinds = kinds(&steps);
        for expected in [
            "CustomResourceDefinition/mcpservers.mcpruntime.org",
            "Namespace/mcp-runtime",
            "Namespace/mcp-servers",
            "ServiceAccount/mcp-runtime-operator",
            "ClusterRole/mcp-runtime-operator",
            "Deployment/mcp-runtime-operator",
            "PersistentVolumeClaim/mcp-sentinel-data",
            "Secret/mcp-sentinel-keys",
            "Deployment/mcp-sentinel",
            "Service/mcp-sentinel",
        ] {
            assert!(
                kinds.contains(&expected.to_owned()),
                "{expected} missing from {kinds:?}"
            );
        }
        let service_account = steps
            .iter()
            .flat_map(|s| &s.objects)
            .find(|o| o["kind"] == "ServiceAccount")
            .expect("service account");
        assert!(
            service_account.get("subjects").is_none(),
            "{service_account}"
        );
        let text = to_yaml(&steps);
        assert!(
            !text.contains(SHIPPED_NAMESPACE),
            "every object moved to the chosen namespace"
        );
        for object in steps.iter().flat_map(|s| &s.objects) {
            assert_eq!(
                object["metadata"]["labels"]["app.kubernetes.io/managed-by"], MANAGED_BY,
                "{object}"
            );
        }
    }

    #[test]
    fn the_operator_runs_the_chosen_image_and_sends_audit_to_the_installed_sentinel() {
        let steps = plan(&options()).expect("plan");
        let operator = steps
            .iter()
            .flat_map(|s| &s.objects)
            .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == OPERATOR)
            .expect("operator");
        let container = &operator["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "registry.example/mcp-runtime:9.9.9");
        let env = |name: &str| {
            container["env"]
                .as_array()
                .expect("env")
                .iter()
                .find(|v| v["name"] == name)
                .map(|v| v["value"].clone())
        };
        assert_eq!(
            env("MCP_GATEWAY_PROXY_IMAGE"),
            Some(json!("registry.example/mcp-runtime:9.9.9"))
        );
        assert_eq!(
            env("MCP_RUNTIME_IMAGE"),
            Some(json!("registry.example/mcp-runtime:9.9.9"))
        );
        assert_eq!(
            env("MCP_SENTINEL_INGEST_URL"),
            Some(json!("http://mcp-sentinel.mcp-runtime.svc:8083/events"))
        );
        assert_eq!(
            operator["metadata"]["annotations"][VERSION_ANNOTATION],
            "9.9.9"
        );
        let binding = steps
            .iter()
            .flat_map(|s| &s.objects)
            .find(|o| o["kind"] == "ClusterRoleBinding")
            .expect("binding");
        assert_eq!(binding["subjects"][0]["namespace"], "mcp-runtime");
    }

    #[test]
    fn uninstall_looks_for_both_sentinel_stores_even_without_sentinel() {
        let mut without = options();
        without.sentinel = None;
        let kinds = kinds(&everything(&without).expect("plan"));
        for expected in [
            "PersistentVolumeClaim/mcp-sentinel-data",
            "Secret/mcp-sentinel-store",
            "Secret/mcp-sentinel-keys",
            "Deployment/mcp-sentinel",
        ] {
            assert!(
                kinds.contains(&expected.to_owned()),
                "{expected} missing from {kinds:?}"
            );
        }
    }

    #[test]
    fn without_sentinel_or_with_postgres() {
        let mut without = options();
        without.sentinel = None;
        let steps = plan(&without).expect("plan");
        assert!(!kinds(&steps).iter().any(|k| k.contains(SENTINEL)));
        let operator = steps
            .iter()
            .find(|s| s.title == "Operator")
            .expect("operator step");
        assert!(
            !operator.objects[0]
                .to_string()
                .contains("MCP_SENTINEL_INGEST_URL")
        );

        let mut postgres = options();
        postgres.sentinel = Some(SentinelStore::Postgres {
            url: "postgres://u:secret@db/events".into(),
        });
        let steps = plan(&postgres).expect("plan");
        let kinds = kinds(&steps);
        assert!(kinds.contains(&"Secret/mcp-sentinel-store".to_owned()));
        assert!(!kinds.iter().any(|k| k.starts_with("PersistentVolumeClaim")));
        let deployment = steps
            .iter()
            .flat_map(|s| &s.objects)
            .find(|o| o["metadata"]["name"] == SENTINEL && o["kind"] == "Deployment")
            .expect("sentinel");
        assert!(
            !deployment.to_string().contains("secret@db"),
            "the URL is only in the Secret"
        );
    }
}
