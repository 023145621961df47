//! Turns `MCP_RUNTIME_TEST_KUBECONFIG` (or `CI=true`) into `cfg(mcp_cluster)`, which enables the
//! operator's process-level real-cluster tests (`tests/operator_cluster.rs`); otherwise they are
//! ignored as `SKIPPED (no cluster)`. Under CI they always run, and fail without a cluster.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mcp_cluster)");
    println!("cargo::rerun-if-env-changed=MCP_RUNTIME_TEST_KUBECONFIG");
    println!("cargo::rerun-if-env-changed=CI");
    let kubeconfig =
        std::env::var("MCP_RUNTIME_TEST_KUBECONFIG").is_ok_and(|path| !path.trim().is_empty());
    let ci = std::env::var("CI").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if kubeconfig || ci {
        println!("cargo::rustc-cfg=mcp_cluster");
    }
}
