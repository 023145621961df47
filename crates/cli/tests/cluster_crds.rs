//! The CRDs install on a real API server (Kubernetes 1.26, the oldest supported), the three ways a
//! platform team installs them, and installing again changes nothing.
//!
//! Fresh installs use the CRDs of `mcp-runtime crd` under a group of their own
//! (`<unique>.test.mcpruntime.org`), created and deleted by the test, so that a shared cluster's
//! `mcpruntime.org` CRDs are never deleted. The kustomize test applies `deploy/` itself.
//!
//! Built to run when `MCP_RUNTIME_TEST_KUBECONFIG` is set or `CI=true` (see `build.rs`).

mod cluster;

use cluster::{
    TestGroupCrds, TestNamespace, kubectl, kubectl_ok, object_versions, resource_versions,
    wait_crd_established, workspace,
};

/// An MCPServer whose canary split breaks a CEL rule: a CRD whose rules do not compile or run
/// would not refuse it.
fn bad_canary_server(group: &str, namespace: &str) -> String {
    format!(
        "apiVersion: {group}/v1alpha1\nkind: MCPServer\nmetadata:\n  name: canary\n  namespace: {namespace}\n\
         spec:\n  image: ghcr.io/example/server:1.0.0\n  replicas: 2\n  rollout:\n    strategy: Canary\n    canaryReplicas: 2\n"
    )
}

/// The installed CRDs serve their kinds: a valid object is accepted with its defaults, and an
/// object that breaks a CEL rule is refused naming the field.
fn assert_crds_serve_objects(crds: &TestGroupCrds) {
    let namespace = TestNamespace::create("crd-serve");
    let group = &crds.group;
    let ns = &namespace.name;
    let created = kubectl_ok(
        &["create", "-o", "json", "-f", "-"],
        Some(
            format!(
                "apiVersion: {group}/v1alpha1\nkind: MCPServer\nmetadata:\n  name: minimal\n  namespace: {ns}\n\
                 spec:\n  image: ghcr.io/example/server:1.0.0\n"
            )
            .as_bytes(),
        ),
    );
    let created: serde_json::Value = serde_json::from_str(&created).expect("created object");
    assert_eq!(
        created["spec"]["port"], 8088,
        "schema defaults are applied: {created}"
    );

    let refused = kubectl(
        &["create", "--dry-run=server", "-f", "-"],
        Some(bad_canary_server(group, ns).as_bytes()),
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("spec.rollout.canaryReplicas"),
        "the canary rule refuses the object, naming the field: {stderr}"
    );
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn crds_install_with_server_side_apply_and_a_reapply_changes_nothing() {
    let crds = TestGroupCrds::new("ssa");
    kubectl_ok(
        &["apply", "--server-side", "-f", "-"],
        Some(crds.yaml.as_bytes()),
    );
    crds.wait_established();
    let before = resource_versions(&crds.yaml);
    assert_eq!(before.len(), 3, "three CRDs installed: {before:?}");

    kubectl_ok(
        &["apply", "--server-side", "-f", "-"],
        Some(crds.yaml.as_bytes()),
    );
    assert_eq!(
        resource_versions(&crds.yaml),
        before,
        "a second server-side apply must not write"
    );
    assert_crds_serve_objects(&crds);
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn crds_install_with_a_client_side_create() {
    let crds = TestGroupCrds::new("create");
    let created = kubectl_ok(&["create", "-f", "-"], Some(crds.yaml.as_bytes()));
    for name in crds.names() {
        assert!(
            created.contains(&format!("{name} created")),
            "{name} created: {created}"
        );
    }
    crds.wait_established();
    assert_crds_serve_objects(&crds);
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn crds_install_with_a_client_side_apply_and_a_reapply_changes_nothing() {
    // `mcp-runtime crd | kubectl apply -f -`, as the README shows: client-side apply keeps the
    // whole object in an annotation, which must stay under the API server's 256 KiB limit.
    let crds = TestGroupCrds::new("csa");
    kubectl_ok(&["apply", "-f", "-"], Some(crds.yaml.as_bytes()));
    crds.wait_established();
    let before = resource_versions(&crds.yaml);
    let again = kubectl_ok(&["apply", "-f", "-"], Some(crds.yaml.as_bytes()));
    assert_eq!(
        again.matches("unchanged").count(),
        3,
        "kubectl finds nothing to change: {again}"
    );
    assert_eq!(resource_versions(&crds.yaml), before);
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn kustomize_deploy_applies_server_side_and_a_reapply_changes_nothing() {
    // The real thing, as docs/operator.md installs it: the mcpruntime.org CRDs, the
    // mcp-runtime-system namespace, RBAC and the operator Deployment (its pod stays Pending on a
    // cluster without nodes). Server-side apply of the same manifests is idempotent, so this is
    // safe on a shared cluster.
    let deploy = workspace().join("deploy");
    let manifests = kubectl_ok(&["kustomize", deploy.to_str().expect("UTF-8 path")], None);
    let kinds: Vec<&str> = manifests
        .lines()
        .filter_map(|line| line.strip_prefix("kind: "))
        .collect();
    for kind in [
        "CustomResourceDefinition",
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    ] {
        assert!(
            kinds.contains(&kind),
            "kustomize output has a {kind}: {kinds:?}"
        );
    }

    // `--force-conflicts`: the operator's real-cluster tests install the same CRDs under their own
    // field manager; where another build of them is on the cluster, taking the fields over is
    // what installing means.
    let apply = || {
        kubectl_ok(
            &["apply", "--server-side", "--force-conflicts", "-f", "-"],
            Some(manifests.as_bytes()),
        )
    };
    apply();
    for plural in ["mcpservers", "mcpaccessgrants", "mcpagentsessions"] {
        wait_crd_established(&format!("{plural}.{}", cluster::GROUP));
    }
    let before = object_versions(&manifests);
    assert_eq!(
        before.len(),
        kinds.len(),
        "every object of the kustomize output exists: {before:?}"
    );

    apply();
    let after = object_versions(&manifests);
    for (key, was) in &before {
        let now = &after[key];
        if key.starts_with("CustomResourceDefinition/") {
            // Other tests on the same cluster apply these CRDs too, which adds their field
            // manager (a write) without changing the spec. The strict resourceVersion check for
            // CRDs is in the test-group tests above; here the spec must be unchanged.
            assert_eq!(now.generation, was.generation, "{key} changed on re-apply");
        } else {
            assert_eq!(
                now.resource_version, was.resource_version,
                "{key} was written by a re-apply that should change nothing"
            );
        }
    }
}
