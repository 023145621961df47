//! Turns `MCP_RUNTIME_TEST_KUBECONFIG` into `cfg(mcp_cluster)`, which enables the real-cluster
//! tests in `tests/cluster.rs`; without it they are ignored as `SKIPPED (no cluster)`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mcp_cluster)");
    println!("cargo::rerun-if-env-changed=MCP_RUNTIME_TEST_KUBECONFIG");
    match std::env::var("MCP_RUNTIME_TEST_KUBECONFIG") {
        Ok(path) if !path.trim().is_empty() => println!("cargo::rustc-cfg=mcp_cluster"),
        _ => println!(
            "cargo::warning=real-cluster tests (crates/operator/tests/cluster.rs) SKIPPED (no cluster): MCP_RUNTIME_TEST_KUBECONFIG is not set"
        ),
    }
}
