//! The crate layering, checked against what Cargo resolves (docs/architecture.md, "Invariants").
//!
//! * The pure crates (`api`, `policy` with and without its `render` feature, `protocol`) do no
//!   I/O and link no Kubernetes client: none of [`IO_CRATES`] is in their normal dependency
//!   closure, resolved with their own features as `cargo build -p` would.
//! * The gateway links no Kubernetes crate at all: it reads its policy from a file, and from the
//!   API only through the kube-free `PolicySink` trait, which `mcp-runtime-policy-watch` (not a
//!   role: a source the binary plugs into the gateway role) implements with kube. Nor does the
//!   adapter, which runs on the client's machine.
//! * Role crates depend on one another only along [`ROLE_EDGES`]; the CLI is the only crate that
//!   depends on every role.
//!
//! The closures come from `cargo tree`, not from `cargo metadata`'s resolve graph, because that
//! graph unifies features over the whole workspace (there `kube` has the operator's `client`
//! feature for every crate that uses it).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

/// Crates that open sockets, files or databases, run an async runtime, or talk to an API server.
const IO_CRATES: &[&str] = &[
    "kube-client",
    "kube-runtime",
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "hyper-util",
    "h2",
    "reqwest",
    "tower",
    "notify",
    "rusqlite",
    "tokio-postgres",
    "rustls",
];

/// The role crates: each is a subcommand of the binary (the adapter is the client side of the
/// gateway's trust boundary and shares only `protocol` and `serve` with it).
const ROLES: &[&str] = &[
    "mcp-runtime-operator",
    "mcp-runtime-gateway",
    "mcp-runtime-sentinel",
    "mcp-runtime-local",
    "mcp-runtime-bridge",
    "mcp-runtime-adapter",
];

/// The only dependencies allowed between role crates: the local mode runs the gateway in process
/// and embeds Sentinel. Everything a second role needs from the operator lives in `api`.
const ROLE_EDGES: &[(&str, &str)] = &[
    ("mcp-runtime-local", "mcp-runtime-gateway"),
    ("mcp-runtime-local", "mcp-runtime-sentinel"),
];

const CLI: &str = "mcp-runtime";

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("run cargo");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("cargo prints UTF-8")
}

/// The names of the crates in `package`'s normal (non-dev, non-build) dependency closure, with
/// the features `cargo build -p package` would resolve.
fn normal_closure(package: &str, features: &[&str]) -> BTreeSet<String> {
    let mut command = cargo();
    command.args([
        "tree",
        "--locked",
        "--package",
        package,
        "--edges",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    run(&mut command)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Workspace crate -> the workspace crates it declares as normal dependencies.
fn workspace_graph() -> BTreeMap<String, BTreeSet<String>> {
    let metadata: Value = serde_json::from_str(&run(cargo().args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--locked",
    ])))
    .expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    packages
        .iter()
        .map(|package| {
            let dependencies = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|name| members.contains(*name))
                .map(str::to_owned)
                .collect();
            (
                package["name"].as_str().expect("name").to_owned(),
                dependencies,
            )
        })
        .collect()
}

fn transitive(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start.to_owned()];
    while let Some(next) = stack.pop() {
        for dependency in graph.get(&next).into_iter().flatten() {
            if seen.insert(dependency.clone()) {
                stack.push(dependency.clone());
            }
        }
    }
    seen
}

#[test]
fn pure_crates_do_no_io_and_link_no_kubernetes_client() {
    let mut violations = Vec::new();
    for (package, features) in [
        ("mcp-runtime-api", &[][..]),
        ("mcp-runtime-policy", &[][..]),
        ("mcp-runtime-policy", &["render"][..]),
        ("mcp-runtime-protocol", &[][..]),
    ] {
        let closure = normal_closure(package, features);
        assert!(
            closure.contains(package),
            "cargo tree listed no {package}: {closure:?}"
        );
        for forbidden in IO_CRATES {
            if closure.contains(*forbidden) {
                violations.push(format!("{package} {features:?} depends on {forbidden}"));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_gateway_and_the_adapter_link_no_kubernetes_crate() {
    for package in ["mcp-runtime-gateway", "mcp-runtime-adapter"] {
        let closure = normal_closure(package, &[]);
        assert!(
            closure.contains(package),
            "cargo tree listed no {package}: {closure:?}"
        );
        let kubernetes: Vec<&String> = closure
            .iter()
            .filter(|name| {
                name.starts_with("kube")
                    || name.starts_with("k8s-")
                    || *name == "mcp-runtime-api"
                    || *name == "mcp-runtime-operator"
            })
            .collect();
        assert!(kubernetes.is_empty(), "{package} depends on {kubernetes:?}");
    }
}

#[test]
fn roles_depend_on_each_other_only_along_the_allowed_edges() {
    let graph = workspace_graph();
    let mut violations = Vec::new();
    for role in ROLES {
        assert!(graph.contains_key(*role), "{role} is not a workspace crate");
        for dependency in transitive(&graph, role) {
            if ROLES.contains(&dependency.as_str())
                && !ROLE_EDGES.contains(&(*role, dependency.as_str()))
            {
                violations.push(format!("{role} depends on the role crate {dependency}"));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn only_the_cli_depends_on_every_role() {
    let graph = workspace_graph();
    let every_role: BTreeSet<String> = ROLES.iter().map(|r| (*r).to_owned()).collect();
    let with_every_role: Vec<&String> = graph
        .keys()
        .filter(|package| transitive(&graph, package).is_superset(&every_role))
        .collect();
    assert_eq!(with_every_role, [CLI]);
}
