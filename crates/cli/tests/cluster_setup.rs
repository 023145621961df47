//! `mcp-runtime setup` on a real API server: refused before any write without permissions,
//! install, the reason it does not run (no nodes), a second run that changes nothing, and
//! `--uninstall` leaving nothing it made. The careless user's errors (no cluster, wrong context)
//! are one line each.
//!
//! Setup writes cluster-wide objects (CRDs, a ClusterRole) and deletes them again, so it runs on
//! a control plane of its own, never the shared one. Built to run when
//! `MCP_RUNTIME_TEST_KUBECONFIG` is set or `CI=true` (see `build.rs`).

use mcp_runtime_testkit::cluster::{self as t6, PrivateControlPlane, impersonating_kubeconfig};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");
const MADE_BY_SETUP: &str = "app.kubernetes.io/managed-by=mcp-runtime-setup";

fn setup(kubeconfig: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("setup")
        .args(["--kubeconfig", kubeconfig])
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run mcp-runtime setup")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `kubectl get KINDS -l <made by setup> -o name` (all namespaces), sorted.
fn made_by_setup(kubeconfig: &str, kinds: &str) -> Vec<String> {
    let output = Command::new("kubectl")
        .args([
            "--kubeconfig",
            kubeconfig,
            "get",
            kinds,
            "-A",
            "-l",
            MADE_BY_SETUP,
        ])
        .args(["-o", "name"])
        .output()
        .expect("kubectl");
    assert!(output.status.success(), "{}", stderr(&output));
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn kubectl_ok(kubeconfig: &str, args: &[&str], input: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl");
    if let Some(input) = input {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    let output = child.wait_with_output().expect("kubectl");
    assert!(
        output.status.success(),
        "kubectl {args:?}: {}",
        stderr(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const KINDS: &str = "customresourcedefinitions,namespaces,clusterroles,clusterrolebindings,serviceaccounts,roles,rolebindings,deployments,services,persistentvolumeclaims,secrets,configmaps";

#[test]
fn setup_dry_run_prints_every_object_without_a_cluster() {
    let output = Command::new(BIN)
        .args([
            "setup",
            "--dry-run",
            "--image",
            "registry.example/mcp-runtime:1.2.3",
        ])
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    let mut kinds = Vec::new();
    for document in serde_norway::Deserializer::from_str(&text) {
        let object: serde_json::Value = serde::Deserialize::deserialize(document).expect("YAML");
        kinds.push(object["kind"].as_str().expect("kind").to_owned());
    }
    for kind in [
        "CustomResourceDefinition",
        "Namespace",
        "ClusterRole",
        "Deployment",
        "Service",
        "PersistentVolumeClaim",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing: {kinds:?}");
    }
    assert!(text.contains("registry.example/mcp-runtime:1.2.3"));
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn setup_installs_says_why_nothing_runs_changes_nothing_twice_and_uninstalls_what_it_made() {
    // Under CI the shared cluster is required for every real-cluster test; this one only needs
    // the control-plane script.
    let _ = t6::kubeconfig_path();
    let plane = PrivateControlPlane::start();
    let admin = plane.kubeconfig.clone();
    let scratch = tempfile::tempdir().expect("scratch");

    // A caller without permissions is refused before anything is written, with every missing
    // permission named.
    let nobody = scratch.path().join("nobody.kubeconfig");
    impersonating_kubeconfig(Path::new(&admin), "nobody@example.com", &nobody);
    let refused = setup(nobody.to_str().expect("path"), &[]);
    let message = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{message}");
    assert!(
        message.contains("you may not install mcp-runtime")
            && message
                .contains("create customresourcedefinitions.apiextensions.k8s.io (cluster-wide)")
            && message.contains("create deployments.apps in mcp-runtime"),
        "{message}"
    );
    assert_eq!(
        message.matches("error:").count(),
        1,
        "one error line: {message}"
    );
    assert!(
        made_by_setup(&admin, KINDS).is_empty(),
        "nothing was written"
    );

    // The careless user's errors: a context that does not exist, a cluster that is not there.
    let wrong = setup(&admin, &["--context", "no-such-context"]);
    assert!(
        stderr(&wrong).contains("no context \"no-such-context\" in the kubeconfig"),
        "{}",
        stderr(&wrong)
    );
    let closed_port = mcp_runtime_peers::free_port();
    let unreachable = scratch.path().join("unreachable.kubeconfig");
    let text = std::fs::read_to_string(&admin).expect("kubeconfig");
    let api_port = text
        .split("https://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .expect("server port")
        .to_owned();
    std::fs::write(
        &unreachable,
        text.replace(
            &format!("127.0.0.1:{api_port}"),
            &format!("127.0.0.1:{closed_port}"),
        ),
    )
    .expect("write");
    let down = setup(unreachable.to_str().expect("path"), &[]);
    assert!(
        stderr(&down).contains("cannot reach the Kubernetes API at https://127.0.0.1:")
            && stderr(&down).contains("is the cluster running"),
        "{}",
        stderr(&down)
    );

    // Install, with a key to sign the gateways' audit chains. The control plane has no nodes,
    // so nothing can run: --wait says so.
    let signing_key = scratch.path().join("audit-signing.pem");
    std::fs::write(
        &signing_key,
        mcp_runtime_audit::Signer::generate_pem().expect("key"),
    )
    .expect("write key");
    let signing_key = signing_key.to_str().expect("path");
    let not_a_key = setup(&admin, &["--audit-signing-key", &admin]);
    assert!(
        stderr(&not_a_key).contains("expected an Ed25519 private key in PKCS#8 PEM"),
        "{}",
        stderr(&not_a_key)
    );
    let installed = setup(
        &admin,
        &["--wait", "10s", "--audit-signing-key", signing_key],
    );
    let log = stderr(&installed);
    assert_eq!(installed.status.code(), Some(1), "{log}");
    for line in [
        "✓ Preflight checks: Kubernetes 1.26",
        "✓ CustomResourceDefinitions: 3 created",
        "✓ Namespaces: 2 created",
        "✓ RBAC: 5 created",
        "✓ Audit signing key: 2 created",
        "✓ Operator: 1 created",
        "✓ Sentinel: 4 created",
        "no node can run pods",
    ] {
        assert!(log.contains(line), "{line:?} missing from\n{log}");
    }
    let made = made_by_setup(&admin, KINDS);
    for object in [
        "customresourcedefinition.apiextensions.k8s.io/mcpservers.mcpruntime.org",
        "namespace/mcp-runtime",
        "namespace/mcp-servers",
        "clusterrole.rbac.authorization.k8s.io/mcp-runtime-operator",
        "deployment.apps/mcp-runtime-operator",
        "deployment.apps/mcp-sentinel",
        "persistentvolumeclaim/mcp-sentinel-data",
        "secret/mcp-sentinel-keys",
    ] {
        assert!(
            made.iter().any(|m| m == object),
            "{object} missing: {made:?}"
        );
    }
    // The API server took the signing key's objects and the mounts as planned.
    let secret_key = kubectl_ok(
        &admin,
        &[
            "get",
            "secret",
            "mcp-audit-signing",
            "-n",
            "mcp-servers",
            "-o",
            "jsonpath={.data.signing-key\\.pem}",
        ],
        None,
    );
    assert!(
        !secret_key.is_empty(),
        "the signing key Secret holds the key"
    );
    let operator_env = kubectl_ok(
        &admin,
        &[
            "get",
            "deployment",
            "mcp-runtime-operator",
            "-n",
            "mcp-runtime",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"MCP_AUDIT_SIGNING_KEY_SECRET\")].value}",
        ],
        None,
    );
    assert_eq!(operator_env, "mcp-audit-signing");
    let public_key = kubectl_ok(
        &admin,
        &[
            "get",
            "configmap",
            "mcp-sentinel-audit-keys",
            "-n",
            "mcp-runtime",
            "-o",
            "jsonpath={.data.signing-key\\.pub\\.pem}",
        ],
        None,
    );
    assert!(
        public_key.starts_with("-----BEGIN PUBLIC KEY-----"),
        "{public_key}"
    );
    let sentinel_keys = kubectl_ok(
        &admin,
        &[
            "get",
            "deployment",
            "mcp-sentinel",
            "-n",
            "mcp-runtime",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"SENTINEL_AUDIT_PUBLIC_KEYS\")].value}",
        ],
        None,
    );
    assert_eq!(
        sentinel_keys,
        "/etc/mcp-runtime/audit-keys/signing-key.pub.pem"
    );
    let generation = |kind: &str, namespace: &str| {
        kubectl_ok(
            &admin,
            &[
                "get",
                kind,
                "-n",
                namespace,
                "-o",
                "jsonpath={range .items[*]}{.metadata.name}={.metadata.generation} {end}",
            ],
            None,
        )
    };
    let before = (
        generation("deployments", "mcp-runtime"),
        kubectl_ok(
            &admin,
            &[
                "get",
                "crd,clusterrole",
                "-l",
                MADE_BY_SETUP,
                "-o",
                "jsonpath={.items[*].metadata.resourceVersion}",
            ],
            None,
        ),
    );

    // Again: the existing install is recognised and nothing changes.
    let again = setup(&admin, &["--audit-signing-key", signing_key]);
    let log = stderr(&again);
    assert!(again.status.success(), "{log}");
    assert!(
        log.contains("is installed in mcp-runtime: applying it again"),
        "{log}"
    );
    assert!(
        !log.contains("created") && !log.contains("updated"),
        "{log}"
    );
    let after = (
        generation("deployments", "mcp-runtime"),
        kubectl_ok(
            &admin,
            &[
                "get",
                "crd,clusterrole",
                "-l",
                MADE_BY_SETUP,
                "-o",
                "jsonpath={.items[*].metadata.resourceVersion}",
            ],
            None,
        ),
    );
    assert_eq!(before, after, "a second setup changed objects");

    // The server verbs, in the servers namespace. An invalid manifest next to a valid one: both
    // refused, nothing applied.
    let manifests = scratch.path().join("manifests");
    std::fs::create_dir(&manifests).expect("dir");
    std::fs::write(
        manifests.join("kept.yaml"),
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata:\n  name: kept\nspec:\n  image: ghcr.io/example/server:1.0.0\n",
    )
    .expect("write");
    let bad = scratch.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata:\n  name: bad\nspec:\n  image: ghcr.io/example/server:1.0.0\n  prot: 3\n",
    )
    .expect("write");
    let server = |args: &[&str]| {
        Command::new(BIN)
            .arg("server")
            .args(args)
            .args(["--kubeconfig", &admin])
            .output()
            .expect("mcp-runtime server")
    };
    let dir = manifests.to_str().expect("path");
    // A user without RBAC for MCPServers: one line that says what to do about it.
    let forbidden = Command::new(BIN)
        .args(["server", "list", "--kubeconfig"])
        .arg(&nobody)
        .output()
        .expect("mcp-runtime server list");
    assert_eq!(forbidden.status.code(), Some(1));
    assert!(
        stderr(&forbidden).contains("forbidden")
            && stderr(&forbidden).contains("kubectl auth can-i --list")
            && stderr(&forbidden).lines().count() == 1,
        "{}",
        stderr(&forbidden)
    );
    let refused = server(&["apply", "-f", bad.to_str().expect("path"), "-f", dir]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("spec.prot: unknown field (did you mean port?)")
            && stderr(&refused).contains("nothing was applied"),
        "{}",
        stderr(&refused)
    );
    let stdout = |output: &Output| String::from_utf8_lossy(&output.stdout).into_owned();
    let listed = server(&["list"]);
    assert!(
        stderr(&listed).contains("No MCPServers in namespace mcp-servers"),
        "{}",
        stderr(&listed)
    );
    assert_eq!(
        stdout(&server(&["apply", "-f", dir])),
        "mcpserver/kept created\n"
    );
    assert_eq!(
        stdout(&server(&["apply", "-f", dir])),
        "mcpserver/kept unchanged\n"
    );
    let listed = stdout(&server(&["list", "-A"]));
    assert!(
        listed.starts_with("NAMESPACE") && listed.contains("mcp-servers          kept"),
        "{listed}"
    );
    let got: serde_json::Value =
        serde_json::from_str(&stdout(&server(&["get", "kept", "-o", "json"]))).expect("json");
    assert_eq!(
        got["spec"]["port"], 8088,
        "served with the schema's defaults: {got}"
    );
    let status = server(&["status", "kept"]);
    assert_eq!(status.status.code(), Some(3));
    assert!(
        stdout(&status).contains("not reconciled yet"),
        "{}",
        stdout(&status)
    );
    // The developer path: metadata (`server init`), manifests (`server generate`), applied; then
    // a client configuration from the live object.
    let in_scratch = |args: &[&str]| {
        Command::new(BIN)
            .current_dir(scratch.path())
            .arg("server")
            .args(args)
            .output()
            .expect("mcp-runtime server")
    };
    let init = in_scratch(&["init", "notes", "--tool", "list_notes"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let generated = in_scratch(&["generate", "--output", "generated"]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let generated_dir = scratch.path().join("generated");
    assert_eq!(
        stdout(&server(&[
            "apply",
            "-f",
            generated_dir.to_str().expect("path")
        ])),
        "mcpserver/notes created\n"
    );
    let hostless = server(&["connect-config", "notes", "--client", "cursor"]);
    assert_eq!(hostless.status.code(), Some(1));
    assert!(
        stderr(&hostless).contains("MCPServer notes has no public host")
            && stderr(&hostless).contains("/notes/mcp"),
        "{}",
        stderr(&hostless)
    );
    let config: serde_json::Value = serde_json::from_str(&stdout(&server(&[
        "connect-config",
        "notes",
        "--client",
        "vscode",
        "--url",
        "https://mcp.example.com/notes/mcp",
    ])))
    .expect("json");
    assert_eq!(
        config["servers"]["notes"]["headers"]["X-MCP-Agent-Session"], "<your-session-id>",
        "the generated server requires sessions: {config}"
    );
    assert!(server(&["delete", "notes"]).status.success());

    let unknown = server(&["get", "nope"]);
    assert!(
        stderr(&unknown).contains("no MCPServer \"nope\" in namespace mcp-servers"),
        "{}",
        stderr(&unknown)
    );
    let gone = server(&["delete", "nope"]);
    assert_eq!(gone.status.code(), Some(1));

    // The access verbs: init | apply -f -, then disable / revoke, seen by list.
    let access = |args: &[&str], input: Option<&[u8]>| {
        use std::io::Write;
        let mut child = Command::new(BIN)
            .arg("access")
            .args(args)
            // `init` only prints a manifest: no cluster.
            .args(if args[1] == "init" {
                vec![]
            } else {
                vec!["--kubeconfig", admin.as_str()]
            })
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("mcp-runtime access");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(input) = input {
            stdin.write_all(input).expect("write");
        }
        drop(stdin);
        child.wait_with_output().expect("access")
    };
    let grant = access(
        &[
            "grant",
            "init",
            "dev",
            "--server",
            "kept",
            "--agent-id",
            "claude",
            "--trust",
            "medium",
            "--side-effect",
            "read",
        ],
        None,
    );
    assert!(grant.status.success(), "{}", stderr(&grant));
    assert_eq!(
        stdout(&access(&["grant", "apply", "-f", "-"], Some(&grant.stdout))),
        "mcpaccessgrant/dev created\n"
    );
    let misspelled = access(
        &["grant", "init", "x", "--server", "kept", "--trust", "hgh"],
        None,
    );
    assert!(
        stderr(&misspelled).contains("did you mean \"high\""),
        "{}",
        stderr(&misspelled)
    );
    assert!(access(&["grant", "disable", "dev"], None).status.success());
    let grants = stdout(&access(&["grant", "list"], None));
    assert!(
        grants.contains("dev") && grants.contains("agent=claude") && grants.contains("Disabled"),
        "{grants}"
    );
    let session = access(
        &[
            "session",
            "init",
            "s1",
            "--server",
            "kept",
            "--human-id",
            "alice",
            "--expires-in",
            "8h",
        ],
        None,
    );
    assert!(session.status.success(), "{}", stderr(&session));
    assert_eq!(
        stdout(&access(
            &["session", "apply", "-f", "-"],
            Some(&session.stdout)
        )),
        "mcpagentsession/s1 created\n"
    );
    assert!(access(&["session", "revoke", "s1"], None).status.success());
    let sessions = stdout(&access(&["session", "list", "-A"], None));
    assert!(
        sessions.contains("s1") && sessions.contains("Revoked"),
        "{sessions}"
    );

    // `access explain` on the live objects: the disabled grant is considered and refuses.
    let explained = access(
        &[
            "explain",
            "--live",
            "--server",
            "kept",
            "-n",
            "mcp-servers",
            "--agent",
            "claude",
            "--tool",
            "search",
        ],
        None,
    );
    assert_eq!(
        explained.status.code(),
        Some(3),
        "denied: {}{}",
        stdout(&explained),
        stderr(&explained)
    );
    assert!(stdout(&explained).contains("dev"), "{}", stdout(&explained));

    // `status` of the cluster: the install, why it does not run, and the servers.
    let status = Command::new(BIN)
        .args(["status", "--kubeconfig", &admin])
        .output()
        .expect("status");
    let table = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.status.code(),
        Some(3),
        "not everything runs: {table}{}",
        stderr(&status)
    );
    for line in [
        "(Kubernetes 1.26)",
        "mcpservers.mcpruntime.org v1alpha1",
        "Operator  mcp-runtime/mcp-runtime-operator 0.1.0: 0/2 available",
        "no node can run pods",
        "Sentinel  mcp-runtime/mcp-sentinel 0.1.0",
        "mcp-servers      kept",
    ] {
        assert!(table.contains(line), "{line:?} missing from\n{table}");
    }

    // The server in the servers namespace: uninstall keeps it, its namespace and the CRDs.
    let removed = setup(&admin, &["--uninstall"]);
    let log = stderr(&removed);
    assert!(removed.status.success(), "{log}");
    assert!(
        log.contains("kept namespace mcp-servers (it holds 1 MCPServer"),
        "{log}"
    );
    assert_eq!(
        made_by_setup(&admin, KINDS),
        [
            "customresourcedefinition.apiextensions.k8s.io/mcpaccessgrants.mcpruntime.org",
            "customresourcedefinition.apiextensions.k8s.io/mcpagentsessions.mcpruntime.org",
            "customresourcedefinition.apiextensions.k8s.io/mcpservers.mcpruntime.org",
            "namespace/mcp-servers",
        ],
        "{log}"
    );
    kubectl_ok(
        &admin,
        &["get", "mcpserver", "kept", "-n", "mcp-servers"],
        None,
    );

    // --crds: warned about, and then nothing setup made is left.
    let everything = setup(&admin, &["--uninstall", "--crds"]);
    let log = stderr(&everything);
    assert!(everything.status.success(), "{log}");
    assert!(
        log.contains("WARNING: deleting the CRDs deletes every MCPServer")
            && log.contains("1 server,"),
        "{log}"
    );
    assert_eq!(made_by_setup(&admin, KINDS), Vec::<String>::new(), "{log}");
    let crds = kubectl_ok(&admin, &["get", "crd", "-o", "name"], None);
    assert!(!crds.contains("mcpruntime.org"), "{crds}");
    // Without the CRDs, the verbs say how to get them.
    let missing = server(&["list"]);
    assert!(
        stderr(&missing).contains("the MCPServer CRD is not installed in this cluster (install it with `mcp-runtime setup`"),
        "{}",
        stderr(&missing)
    );
    let delete = server(&["delete", "kept"]);
    assert!(
        !delete.status.success() && stderr(&delete).contains("CRD is not installed"),
        "{}",
        stderr(&delete)
    );
    drop(plane);
}
