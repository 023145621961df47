//! Enables the real-cluster tests (`tests/cluster_*.rs`) when a test cluster is configured; see
//! `mcp-runtime-test-cluster-cfg`.

fn main() {
    mcp_runtime_test_cluster_cfg::emit();
}
