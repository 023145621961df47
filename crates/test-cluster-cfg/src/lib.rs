//! For the build scripts of crates with real-cluster tests: turns the presence of a test cluster
//! into `cfg(mcp_cluster)`, which those tests are gated on.
//!
//! - `MCP_RUNTIME_TEST_KUBECONFIG` set: the tests run against that cluster.
//! - `CI=true` without it: the tests run too, and fail naming the missing variable. CI starts a
//!   control plane, so a real-cluster test there must never be skipped.
//! - Otherwise they are ignored with the reason `SKIPPED (no cluster)`, so a run reports them as
//!   skipped, never as passed. Nothing is printed at build time: someone who only builds the
//!   product has no use for a note about tests.

/// Prints the build-script instructions described in the crate docs.
pub fn emit() {
    println!("cargo::rustc-check-cfg=cfg(mcp_cluster)");
    println!("cargo::rerun-if-env-changed=MCP_RUNTIME_TEST_KUBECONFIG");
    println!("cargo::rerun-if-env-changed=CI");
    if enabled(
        std::env::var("MCP_RUNTIME_TEST_KUBECONFIG").ok().as_deref(),
        std::env::var("CI").ok().as_deref(),
    ) {
        println!("cargo::rustc-cfg=mcp_cluster");
    }
}

/// Whether the real-cluster tests are compiled in, given the two variables.
pub fn enabled(kubeconfig: Option<&str>, ci: Option<&str>) -> bool {
    kubeconfig.is_some_and(|path| !path.trim().is_empty())
        || ci.is_some_and(|ci| ci.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::enabled;

    #[test]
    fn a_kubeconfig_or_ci_enables_the_cluster_tests() {
        assert!(enabled(Some("/tmp/kubeconfig"), None));
        assert!(enabled(None, Some("true")));
        assert!(!enabled(None, None));
        assert!(!enabled(Some("  "), Some("false")));
    }
}
