//! Everything the project ships applies to a real API server (`--dry-run=server`, strict field
//! validation): every manifest in `examples/`, every Kubernetes object in a fenced YAML block of
//! `docs/*.md` and `README.md`, the objects `mcp-runtime server render` produces for every example
//! server, and the `kubectl kustomize deploy` output.
//!
//! Objects go into a namespace of the test's own; the mcpruntime.org kinds are sent to a copy of
//! the CRDs under a test group, so the verdicts are this build's whatever else is installed.
//!
//! Built to run when `MCP_RUNTIME_TEST_KUBECONFIG` is set or `CI=true` (see `build.rs`).

mod cluster;

use cluster::{
    GROUP, TestGroupCrds, TestNamespace, four_at_a_time, kubectl, kubectl_ok, workspace,
};
use mcp_runtime_api::manifest::load_dir;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The YAML documents of `text` that are Kubernetes objects (they have `apiVersion` and `kind`).
fn objects_in(text: &str, origin: &str) -> Vec<(String, Value)> {
    serde_norway::Deserializer::from_str(text)
        .enumerate()
        .map(|(index, document)| {
            let value: Value = serde::Deserialize::deserialize(document)
                .unwrap_or_else(|error| panic!("{origin}#{index}: not YAML: {error}"));
            (format!("{origin}#{index}"), value)
        })
        .filter(|(_, value)| value.get("apiVersion").is_some() && value.get("kind").is_some())
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    files
}

/// The bodies of the fenced ```yaml / ```yml blocks of a Markdown text.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```yaml") || fence.starts_with("```yml") => {
                current = Some(String::new());
            }
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// `object` as sent: in `namespace`, and a mcpruntime.org kind under `group`.
fn retargeted(object: &Value, group: &str, namespace: &str) -> Value {
    let mut object = object.clone();
    if let Some(api_version) = object["apiVersion"].as_str()
        && let Some(version) = api_version.strip_prefix(&format!("{GROUP}/"))
    {
        object["apiVersion"] = json!(format!("{group}/{version}"));
    }
    if object["kind"] != "Namespace" {
        object["metadata"]["namespace"] = json!(namespace);
    }
    object
}

/// Sends each object to the API server in a dry-run create (four at a time), each in `namespace`
/// and the mcpruntime.org kinds under `group`; returns one line per object the server refused.
fn refused_by_the_server(objects: &[(String, Value)], group: &str, namespace: &str) -> Vec<String> {
    four_at_a_time(objects, |(source, object)| {
        let body = serde_json::to_vec(&retargeted(object, group, namespace)).expect("JSON");
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
        (!output.status.success()).then(|| {
            format!(
                "{source} ({} {}): {}",
                object["kind"].as_str().unwrap_or_default(),
                object["metadata"]["name"].as_str().unwrap_or_default(),
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })
    })
    .into_iter()
    .flatten()
    .collect()
}

fn assert_all_apply(what: &str, objects: &[(String, Value)]) {
    let crds = TestGroupCrds::new("shipped");
    kubectl_ok(
        &["apply", "--server-side", "-f", "-"],
        Some(crds.yaml.as_bytes()),
    );
    crds.wait_established();
    let namespace = TestNamespace::create("shipped");
    let refused = refused_by_the_server(objects, &crds.group, &namespace.name);
    assert!(
        refused.is_empty(),
        "the API server refused {} of {} {what}:\n{}",
        refused.len(),
        objects.len(),
        refused.join("\n")
    );
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn every_example_and_every_manifest_in_the_docs_applies() {
    let root = workspace();
    let mut objects = Vec::new();
    for dir in ["examples", "examples/quickstart"] {
        for file in yaml_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).expect("example");
            let origin = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            objects.extend(objects_in(&text, &origin));
        }
    }
    let examples = objects.len();
    assert!(examples >= 10, "only {examples} example objects found");

    let mut markdown: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    markdown.push(root.join("README.md"));
    markdown.sort();
    for file in markdown {
        let text = std::fs::read_to_string(&file).expect("doc");
        let origin = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (index, block) in yaml_blocks(&text).iter().enumerate() {
            objects.extend(objects_in(block, &format!("{origin} block {index}")));
        }
    }
    eprintln!(
        "{examples} objects from examples/, {} from fenced YAML blocks in docs/ and README.md",
        objects.len() - examples
    );
    assert_all_apply("shipped manifests", &objects);
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn the_rendered_objects_of_every_example_server_apply() {
    let root = workspace();
    let mut objects = Vec::new();
    let mut servers = 0;
    for dir in ["examples", "examples/quickstart"] {
        let dir = root.join(dir);
        let loaded = load_dir(&dir).expect("examples load");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        for server in loaded.servers() {
            let name = server.metadata.name.clone().expect("server name");
            servers += 1;
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-runtime"))
                .args(["server", "render", "--server", &name, "-f"])
                .arg(&dir)
                // The settings of the shipped operator Deployment (deploy/operator), plus the
                // ingest URL and default host the examples with analytics or no host need.
                .env(
                    "MCP_GATEWAY_PROXY_IMAGE",
                    "ghcr.io/mcp-runtime/mcp-runtime:0.1.0",
                )
                .env("MCP_RUNTIME_IMAGE", "ghcr.io/mcp-runtime/mcp-runtime:0.1.0")
                .env(
                    "MCP_SENTINEL_INGEST_URL",
                    "http://sentinel.mcp-runtime-system.svc/events",
                )
                .env("MCP_DEFAULT_INGRESS_HOST", "mcp.example.com")
                .output()
                .expect("run mcp-runtime server render");
            assert!(
                output.status.success(),
                "server render {name} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let rendered = objects_in(&String::from_utf8_lossy(&output.stdout), &name);
            assert!(
                rendered.iter().any(|(_, o)| o["kind"] == "Deployment"),
                "{name} renders a Deployment"
            );
            objects.extend(rendered);
        }
    }
    assert!(servers >= 7, "only {servers} example servers found");
    eprintln!("{} objects rendered for {servers} servers", objects.len());
    assert_all_apply("rendered objects", &objects);
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn the_kustomize_output_passes_a_server_dry_run() {
    // A real apply and re-apply of the same output is in cluster_crds.rs; this one checks it with
    // strict field validation, as every other shipped manifest here.
    let deploy = workspace().join("deploy");
    let manifests = kubectl_ok(&["kustomize", deploy.to_str().expect("UTF-8 path")], None);
    let output = kubectl(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--dry-run=server",
            "--validate=strict",
            "-f",
            "-",
        ],
        Some(manifests.as_bytes()),
    );
    assert!(
        output.status.success(),
        "the API server refused the kustomize output:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
