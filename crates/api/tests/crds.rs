//! The CRDs in deploy/crds are exactly what the types generate.

use mcp_runtime_api::crd;
use std::path::Path;

#[test]
fn deploy_crds_match_the_generated_crds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    let mut stale = Vec::new();
    for definition in crd::all() {
        let path = dir.join(crd::file_name(&definition));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != crd::to_yaml(&definition) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "these CRD files are out of date with the Rust types: {stale:?}\n\
         regenerate them with: cargo run -p mcp-runtime -- crd --output-dir deploy/crds"
    );
}

#[test]
fn every_crd_is_namespaced_with_a_status_subresource_and_print_columns() {
    for definition in crd::all() {
        assert_eq!(definition.spec.group, "mcpruntime.org");
        assert_eq!(definition.spec.scope, "Namespaced");
        let version = &definition.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        assert!(version.served && version.storage);
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some()
        );
        let columns: Vec<&str> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert!(
            columns.contains(&"Age"),
            "{}: {columns:?}",
            definition.spec.names.kind
        );
    }
}

#[test]
fn server_print_columns_are_the_go_projects() {
    let server = crd::crd_of(mcp_runtime_api::validation::Kind::Server);
    let columns: Vec<String> = server.spec.versions[0]
        .additional_printer_columns
        .iter()
        .flatten()
        .filter(|c| c.priority.unwrap_or(0) == 0)
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(
        columns,
        ["Team", "Phase", "Policy", "Gateway", "Ready", "Age"]
    );
}

#[test]
fn docs_api_md_matches_the_generated_reference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == mcp_runtime_api::reference::markdown(),
        "docs/api.md is out of date; regenerate it with: cargo run -p mcp-runtime -- crd --reference > docs/api.md"
    );
}
