//! Helpers for the real-cluster tests (`cluster_*.rs`): kubectl against the cluster named by
//! `MCP_RUNTIME_TEST_KUBECONFIG`, throwaway namespaces, and the CRDs installed under a group of
//! their own so that creating and deleting them never disturbs anyone else on a shared cluster.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The API group of the CRDs as shipped.
pub const GROUP: &str = "mcpruntime.org";

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The kubeconfig of the test cluster. Fails (never skips) when it is not given: these tests are
/// only built to run when a cluster is expected (see `build.rs`).
pub fn kubeconfig() -> PathBuf {
    let path = std::env::var("MCP_RUNTIME_TEST_KUBECONFIG").unwrap_or_default();
    assert!(
        !path.trim().is_empty(),
        "MCP_RUNTIME_TEST_KUBECONFIG is not set: start a control plane \
         (../shared/k8s/control-plane start, as .ci/run does) and export \
         MCP_RUNTIME_TEST_KUBECONFIG=$(../shared/k8s/control-plane kubeconfig)"
    );
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "MCP_RUNTIME_TEST_KUBECONFIG={} is not a file",
        path.display()
    );
    path
}

fn kubectl_program() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned())
}

/// Runs kubectl against the test cluster, feeding `stdin` when given.
pub fn kubectl(args: &[&str], stdin: Option<&[u8]>) -> Output {
    ensure_reachable();
    run_kubectl(args, stdin)
}

fn run_kubectl(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(kubectl_program());
    command
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .arg("--request-timeout=60s")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|error| {
        panic!(
            "cannot run kubectl ({error}): install it (apt-get install -y kubernetes-client) or set KUBECTL"
        )
    });
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("kubectl stdin")
            .write_all(input)
            .expect("write kubectl stdin");
    }
    child.wait_with_output().expect("kubectl finishes")
}

/// Runs kubectl and returns its stdout, failing the test with kubectl's stderr when it fails.
pub fn kubectl_ok(args: &[&str], stdin: Option<&[u8]>) -> String {
    let output = kubectl(args, stdin);
    assert!(
        output.status.success(),
        "kubectl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Fails the test at once when the cluster does not answer, rather than with a confusing error
/// from the first real request.
fn ensure_reachable() {
    static REACHABLE: OnceLock<()> = OnceLock::new();
    REACHABLE.get_or_init(|| {
        let output = run_kubectl(&["get", "--raw", "/readyz"], None);
        assert!(
            output.status.success(),
            "the test cluster of MCP_RUNTIME_TEST_KUBECONFIG={} does not answer /readyz:\n{}",
            kubeconfig().display(),
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// The `mcp-runtime` binary under test.
pub fn mcp_runtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
        .args(args)
        .output()
        .expect("run mcp-runtime")
}

/// A name no other test run uses: `<prefix>-<pid>-<nanoseconds>`, a valid DNS label.
pub fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000_000
    );
    assert!(name.len() <= 63, "{name} is too long for a DNS label");
    name
}

/// A namespace of the test's own, deleted (without waiting) when dropped.
#[derive(Debug)]
pub struct TestNamespace {
    pub name: String,
}

impl TestNamespace {
    pub fn create(prefix: &str) -> Self {
        let name = unique_name(prefix);
        kubectl_ok(&["create", "namespace", &name], None);
        Self { name }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let _ = run_kubectl(
            &[
                "delete",
                "namespace",
                &self.name,
                "--wait=false",
                "--ignore-not-found",
            ],
            None,
        );
    }
}

/// Polls until the CRD `name` is `Established` (served), for up to 60 s. `kubectl wait` is not
/// used: it fails outright when it reads the CRD before the server has written any condition.
pub fn wait_crd_established(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        let output = kubectl(
            &[
                "get",
                "crd",
                name,
                "-o",
                r#"jsonpath={.status.conditions[?(@.type=="Established")].status}"#,
            ],
            None,
        );
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() && last.trim() == "True" {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("CRD {name} not Established within 60 s: {last}");
}

/// `mcp-runtime crd`'s output with the API group replaced by `group` everywhere (CRD names,
/// `spec.group`), so it can be created and deleted without touching the shipped CRDs.
pub fn crds_in_group(group: &str) -> String {
    let output = mcp_runtime(&["crd"]);
    assert!(
        output.status.success(),
        "mcp-runtime crd failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).replace(GROUP, group)
}

/// The shipped CRDs installed under a test group of their own; deleted when dropped.
#[derive(Debug)]
pub struct TestGroupCrds {
    pub group: String,
    pub yaml: String,
}

impl TestGroupCrds {
    /// A fresh group, `<unique>.test.mcpruntime.org`; nothing is created yet.
    pub fn new(prefix: &str) -> Self {
        let group = format!("{}.test.{GROUP}", unique_name(prefix));
        let yaml = crds_in_group(&group);
        Self { group, yaml }
    }

    /// The CRD object names, `<plural>.<group>`.
    pub fn names(&self) -> Vec<String> {
        ["mcpservers", "mcpaccessgrants", "mcpagentsessions"]
            .iter()
            .map(|plural| format!("{plural}.{}", self.group))
            .collect()
    }

    /// Waits until the API server serves every CRD (`Established`).
    pub fn wait_established(&self) {
        for name in self.names() {
            wait_crd_established(&name);
        }
    }
}

impl Drop for TestGroupCrds {
    fn drop(&mut self) {
        let mut args = vec!["delete", "crd", "--ignore-not-found", "--wait=false"];
        let names = self.names();
        args.extend(names.iter().map(String::as_str));
        let _ = run_kubectl(&args, None);
    }
}

/// What the cluster holds now for one object: its `resourceVersion` (changes on every write) and
/// `generation` (changes when the spec does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versions {
    pub resource_version: String,
    pub generation: Option<i64>,
}

/// `kind/namespace/name` → [`Versions`] of every object in a manifest stream, as the cluster has
/// them now.
pub fn object_versions(manifests: &str) -> BTreeMap<String, Versions> {
    let listed: Value = serde_json::from_str(&kubectl_ok(
        &["get", "-f", "-", "-o", "json"],
        Some(manifests.as_bytes()),
    ))
    .expect("kubectl get -o json prints JSON");
    let items = match listed.get("items") {
        Some(Value::Array(items)) => items.clone(),
        // A single object is printed as itself, not as a List.
        _ => vec![listed],
    };
    items
        .iter()
        .map(|item| {
            let metadata = &item["metadata"];
            let key = format!(
                "{}/{}/{}",
                item["kind"].as_str().unwrap_or_default(),
                metadata["namespace"].as_str().unwrap_or_default(),
                metadata["name"].as_str().unwrap_or_default()
            );
            let versions = Versions {
                resource_version: metadata["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                generation: metadata["generation"].as_i64(),
            };
            (key, versions)
        })
        .collect()
}

/// `kind/namespace/name` → `metadata.resourceVersion` of every object in a manifest stream.
pub fn resource_versions(manifests: &str) -> BTreeMap<String, String> {
    object_versions(manifests)
        .into_iter()
        .map(|(key, versions)| (key, versions.resource_version))
        .collect()
}

/// `judge` applied to every item, four at a time (kubectl round trips dominate these tests), in
/// the items' order.
pub fn four_at_a_time<T: Sync, R: Send>(items: &[T], judge: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let chunk = items.len().div_ceil(4).max(1);
    let judge = &judge;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(judge).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("worker thread"))
            .collect()
    })
}
