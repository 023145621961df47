//! `deploy/` is a kustomize base that renders offline, and its objects fit together.

use std::path::Path;
use std::process::Command;

fn kustomize(dir: &str) -> Vec<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let output = Command::new("kubectl")
        .args(["kustomize"])
        .arg(&path)
        .output()
        .expect("kubectl is required: install it with `apt-get install kubernetes-client` (.ci/run does)");
    assert!(
        output.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .collect()
}

#[test]
fn the_kustomize_base_renders_offline_and_hangs_together() {
    let objects = kustomize("deploy");
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    for kind in [
        "CustomResourceDefinition",
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Deployment",
    ] {
        assert!(
            kinds.contains(&kind),
            "{kind} missing from deploy/: {kinds:?}"
        );
    }
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "CustomResourceDefinition")
            .count(),
        3
    );
    let find = |kind: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind}"))
    };
    let deployment = find("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let sa = find("ServiceAccount")["metadata"]["name"].clone();
    assert_eq!(pod["serviceAccountName"], sa);
    for binding in ["ClusterRoleBinding", "RoleBinding"] {
        assert_eq!(find(binding)["subjects"][0]["name"], sa, "{binding}");
    }
    let args = pod["containers"][0]["args"].as_array().expect("args");
    assert_eq!(args[0], "operator");
    assert!(args.iter().any(|a| a == "--leader-elect=true"));
    // The leader-election Role lives where the Lease is (the operator's namespace).
    assert_eq!(
        find("Role")["metadata"]["namespace"],
        deployment["metadata"]["namespace"]
    );
    // The RBAC objects are valid typed Kubernetes objects.
    let _: k8s_openapi::api::rbac::v1::ClusterRole =
        serde_json::from_value(find("ClusterRole").clone()).expect("ClusterRole");
    let _: k8s_openapi::api::apps::v1::Deployment =
        serde_json::from_value(deployment.clone()).expect("Deployment");
    // No wildcard grants.
    let rules = find("ClusterRole")["rules"]
        .as_array()
        .expect("rules")
        .clone();
    for rule in rules {
        for field in ["apiGroups", "resources", "verbs"] {
            assert!(
                !rule[field]
                    .as_array()
                    .expect(field)
                    .iter()
                    .any(|v| v == "*"),
                "wildcard in {rule}"
            );
        }
    }
    assert_eq!(kustomize("deploy/operator").len(), objects.len() - 3);
}
