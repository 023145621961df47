//! Turns the presence of a test cluster into `cfg(mcp_cluster)`, which enables the real-cluster
//! tests (`tests/cluster_*.rs`).
//!
//! - `MCP_RUNTIME_TEST_KUBECONFIG` set: the tests run against that cluster.
//! - `CI=true` without it: the tests run too, and fail naming the missing variable; CI starts a
//!   control plane, so a real-cluster test there must never be skipped.
//! - Otherwise they are ignored as `SKIPPED (no cluster)`, reported as skipped and never as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mcp_cluster)");
    println!("cargo::rerun-if-env-changed=MCP_RUNTIME_TEST_KUBECONFIG");
    println!("cargo::rerun-if-env-changed=CI");
    let has_cluster =
        std::env::var("MCP_RUNTIME_TEST_KUBECONFIG").is_ok_and(|path| !path.trim().is_empty());
    let in_ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
    if has_cluster || in_ci {
        println!("cargo::rustc-cfg=mcp_cluster");
    } else {
        println!(
            "cargo::warning=real-cluster tests (crates/cli/tests/cluster_*.rs) SKIPPED (no cluster): MCP_RUNTIME_TEST_KUBECONFIG is not set"
        );
    }
}
