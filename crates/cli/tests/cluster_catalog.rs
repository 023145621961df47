//! `mcp-runtime catalog tools|tool` and `mcp-runtime server policy inspect` on a real API server
//! (Kubernetes 1.26) with the shipped `mcpruntime.org` CRDs.
//!
//! No operator runs here: the test writes what it would. `status.tools` goes through the status
//! subresource as the operator's handshake would write it (so the CRD's schema must keep it), and
//! the policy ConfigMap holds what `mcp-runtime policy render --live` renders from the live
//! objects, as the operator renders it. Installing CRDs is cluster-wide, so the test runs on a
//! control plane of its own. Built to run when `MCP_RUNTIME_TEST_KUBECONFIG` is set or `CI=true`
//! (see `build.rs`).

use mcp_runtime_testkit::cluster::{self as t6, PrivateControlPlane};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");

struct Cluster {
    kubeconfig: String,
}

impl Cluster {
    /// `mcp-runtime ARGS --kubeconfig …`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .args(["--kubeconfig", &self.kubeconfig])
            .env_remove("KUBECONFIG")
            .output()
            .expect("run mcp-runtime")
    }

    /// `mcp-runtime ARGS`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "mcp-runtime {args:?} failed: {}{}",
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }

    /// `mcp-runtime ARGS`, which must fail with exit status 1 and one error line; that line.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "mcp-runtime {args:?}: {}{message}",
            stdout(&output)
        );
        assert_eq!(message.lines().count(), 1, "one line: {message}");
        assert!(message.starts_with("error: "), "{message}");
        message
    }

    fn kubectl(&self, args: &[&str], input: Option<&str>) -> String {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).expect("write");
        }
        drop(stdin);
        let output = child.wait_with_output().expect("kubectl");
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// Writes `status` (merged) through the status subresource, as the operator would.
    fn patch_status(&self, namespace: &str, name: &str, status: serde_json::Value) {
        self.kubectl(
            &[
                "patch",
                "mcpserver",
                name,
                "-n",
                namespace,
                "--subresource=status",
                "--type=merge",
                "-p",
                &serde_json::json!({ "status": status }).to_string(),
            ],
            None,
        );
    }

    /// The policy document of `server`, rendered from the live objects, as the operator would.
    fn render(&self, namespace: &str, server: &str) -> String {
        self.ok(&[
            "policy", "render", "--live", "--server", server, "-n", namespace,
        ])
    }

    /// Creates or replaces the policy ConfigMap of `server` with `policy`.
    fn write_policy(&self, namespace: &str, server: &str, policy: &str, dir: &Path) {
        let file = dir.join("policy.json");
        std::fs::write(&file, policy).expect("write policy");
        let manifest = self.kubectl(
            &[
                "create",
                "configmap",
                &format!("{server}-gateway-policy"),
                "-n",
                namespace,
                &format!("--from-file=policy.json={}", file.display()),
                "--dry-run=client",
                "-o",
                "yaml",
            ],
            None,
        );
        self.kubectl(&["apply", "--server-side", "-f", "-"], Some(&manifest));
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The table's data rows, each with its cells joined by one space.
fn rows(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// `SERVER/TOOL` of every data row of a `catalog tools -A` table (NAMESPACE first).
fn tools_of(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            format!("{}/{}", cells[1], cells[2])
        })
        .collect()
}

const SERVERS: &str = r#"
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: web
  namespace: mcp-servers
spec:
  image: ghcr.io/example/web-tools:1.0
  teamID: alpha
  gateway:
    enabled: true
  tools:
    - name: search
      description: Full-text search of the documentation, ranked by relevance and recency of each page
      sideEffect: read
      riskLevel: low
      labels:
        area: docs
    - name: deploy
      description: Roll out a release
      sideEffect: write
      requiredTrust: medium
      riskLevel: high
    - name: wipe
      sideEffect: destructive
      requiredTrust: high
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: ops
  namespace: team-b
spec:
  image: ghcr.io/example/ops:2.0
  teamID: beta
  tools:
    - name: status
      sideEffect: read
    - name: restart
      sideEffect: write
      requiredTrust: medium
      riskLevel: medium
---
apiVersion: mcpruntime.org/v1alpha1
kind: MCPServer
metadata:
  name: dark
  namespace: mcp-servers
spec:
  image: ghcr.io/example/dark:1.0
  teamID: gamma
  tools:
    - name: probe
      sideEffect: read
"#;

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn catalog_and_policy_inspect_read_the_live_servers_and_policy() {
    // Under CI the shared cluster is required for every real-cluster test; this one only needs
    // the control-plane script.
    let _ = t6::kubeconfig_path();
    let plane = PrivateControlPlane::start();
    let k = Cluster {
        kubeconfig: plane.kubeconfig.clone(),
    };
    let scratch = tempfile::tempdir().expect("scratch");

    // Without the CRDs, each verb says how to get them, in one line.
    for args in [
        &["catalog", "tools", "-A"][..],
        &["catalog", "tool", "search"],
        &["server", "policy", "inspect", "web"],
    ] {
        let message = k.fails(args);
        assert!(
            message.contains("the MCPServer CRD is not installed in this cluster (install it with `mcp-runtime setup`"),
            "{args:?}: {message}"
        );
    }

    // The CRDs as shipped, two namespaces, three servers of three teams.
    let crds = Command::new(BIN)
        .arg("crd")
        .output()
        .expect("mcp-runtime crd");
    assert!(crds.status.success(), "{}", stderr(&crds));
    let crds = stdout(&crds);
    k.kubectl(&["apply", "--server-side", "-f", "-"], Some(&crds));
    // `kubectl wait`, not a jsonpath filter over the conditions: a CRD read in the instant
    // before the API server writes its first status has no conditions, and the filter fails.
    k.kubectl(
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/mcpservers.mcpruntime.org",
            "crd/mcpaccessgrants.mcpruntime.org",
            "crd/mcpagentsessions.mcpruntime.org",
        ],
        None,
    );
    for ns in ["mcp-servers", "team-b", "empty"] {
        k.kubectl(&["create", "namespace", ns], None);
    }
    let manifests = scratch.path().join("servers.yaml");
    std::fs::write(&manifests, SERVERS).expect("write");
    k.ok(&["server", "apply", "-f", manifests.to_str().expect("path")]);

    // Before any handshake: every declared tool, and no live inventory to compare.
    let table = k.ok(&["catalog", "tools"]);
    assert!(
        table.starts_with("SERVER")
            && table.lines().next().is_some_and(|h| {
                h.split("  ")
                    .filter(|c| !c.is_empty())
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    == [
                        "SERVER",
                        "TOOL",
                        "SIDE EFFECT",
                        "TRUST",
                        "RISK",
                        "TEAM",
                        "DESCRIPTION",
                    ]
            }),
        "{table}"
    );
    assert_eq!(
        rows(&table),
        [
            "dark probe read low - gamma",
            "web deploy write medium high alpha Roll out a release",
            "web search read low low alpha Full-text search of the documentation, ranked by…",
            "web wipe destructive high - alpha",
        ],
        "{table}"
    );
    let drift = k.run(&["catalog", "tools", "-A", "--drift", "missing"]);
    assert!(stdout(&drift).is_empty(), "{}", stdout(&drift));
    assert!(
        stderr(&drift).contains("No tools match.")
            && stderr(&drift).contains(
                "note: live tools unknown for mcp-servers/dark, mcp-servers/web, team-b/ops (no status.tools"
            ),
        "unknown is never counted as missing: {}",
        stderr(&drift)
    );

    // The operator's handshake wrote what each server lists: web lists an undeclared tool
    // (shell) and not a declared one (wipe); ops lists exactly what it declares; dark is not
    // handshaken yet.
    k.patch_status(
        "mcp-servers",
        "web",
        serde_json::json!({"tools": ["deploy", "search", "shell"]}),
    );
    k.patch_status(
        "team-b",
        "ops",
        serde_json::json!({"tools": ["restart", "status"]}),
    );
    let stored = k.kubectl(
        &[
            "get",
            "mcpserver",
            "web",
            "-n",
            "mcp-servers",
            "-o",
            "jsonpath={.status.tools}",
        ],
        None,
    );
    assert_eq!(
        stored, r#"["deploy","search","shell"]"#,
        "the CRD keeps status.tools"
    );

    let every = k.ok(&["catalog", "tools", "-A"]);
    assert!(every.starts_with("NAMESPACE"), "{every}");
    assert_eq!(
        tools_of(&every),
        [
            "dark/probe",
            "web/deploy",
            "web/search",
            "web/wipe",
            "ops/restart",
            "ops/status"
        ],
        "declared tools only, by namespace, server and tool: {every}"
    );
    assert!(
        rows(&every).contains(&"team-b ops restart write medium medium beta".to_owned()),
        "{every}"
    );
    // Each filter.
    for (args, expected) in [
        (&["--server", "ops"][..], &["ops/restart", "ops/status"][..]),
        (
            &["--team", "alpha"],
            &["web/deploy", "web/search", "web/wipe"],
        ),
        (&["--side-effect", "destructive"], &["web/wipe"]),
        (&["--trust", "medium"], &["web/deploy", "ops/restart"]),
        (&["--risk", "high"], &["web/deploy"]),
        (&["-q", "DOCUMENTATION"], &["web/search"]),
        (&["--query", "area=docs"], &["web/search"]),
        (
            &["--team", "beta", "--side-effect", "read"],
            &["ops/status"],
        ),
    ] {
        let mut command = vec!["catalog", "tools", "-A"];
        command.extend_from_slice(args);
        let table = k.ok(&command);
        assert_eq!(tools_of(&table), expected, "{args:?}: {table}");
    }
    // -n (default mcp-servers) versus another namespace, and an empty one.
    let team_b = k.ok(&["catalog", "tools", "-n", "team-b"]);
    assert_eq!(
        rows(&team_b),
        [
            "ops restart write medium medium beta",
            "ops status read low - beta"
        ],
        "{team_b}"
    );
    let empty = k.run(&["catalog", "tools", "-n", "empty"]);
    assert!(
        empty.status.success() && stderr(&empty).contains("No MCPServers in namespace empty."),
        "{}",
        stderr(&empty)
    );

    // Drift, each kind. The server without a live inventory is named, never counted.
    for (kind, expected) in [
        (
            "declared",
            &["web/deploy", "web/search", "ops/restart", "ops/status"][..],
        ),
        ("ungoverned", &["web/shell"]),
        ("missing", &["web/wipe"]),
    ] {
        let output = k.run(&["catalog", "tools", "-A", "--drift", kind]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            tools_of(&stdout(&output)),
            expected,
            "--drift {kind}: {}",
            stdout(&output)
        );
        assert!(
            stderr(&output).contains("note: live tools unknown for mcp-servers/dark (")
                && stderr(&output).contains("not part of --drift"),
            "--drift {kind}: {}",
            stderr(&output)
        );
    }
    let ungoverned = k.ok(&["catalog", "tools", "-A", "--drift", "ungoverned"]);
    assert_eq!(
        rows(&ungoverned),
        ["mcp-servers web shell (undeclared) - - alpha"],
        "{ungoverned}"
    );
    // Filters apply to drift rows too.
    let beta_missing = k.run(&[
        "catalog", "tools", "-A", "--drift", "missing", "--team", "beta",
    ]);
    assert!(
        stdout(&beta_missing).is_empty() && stderr(&beta_missing).contains("No tools match."),
        "{}",
        stderr(&beta_missing)
    );

    // -o json: the rows and the servers whose live tools are unknown.
    let json: serde_json::Value = serde_json::from_str(
        &k.ok(&["catalog", "tools", "-A", "--drift", "missing", "-o", "json"]),
    )
    .expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "tools": [{
                "namespace": "mcp-servers", "server": "web", "team": "alpha", "name": "wipe",
                "declared": true, "sideEffect": "destructive", "requiredTrust": "high",
                "live": false, "drift": "missing",
            }],
            "liveUnknown": ["mcp-servers/dark"],
        })
    );
    let all: serde_json::Value =
        serde_json::from_str(&k.ok(&["catalog", "tools", "-o", "json"])).expect("json");
    let search = &all["tools"].as_array().expect("tools")[2];
    assert_eq!(search["name"], "search");
    assert_eq!(
        search["description"],
        "Full-text search of the documentation, ranked by relevance and recency of each page",
        "untruncated in JSON"
    );
    assert_eq!(search["labels"], serde_json::json!({"area": "docs"}));
    let yaml = k.ok(&["catalog", "tools", "-o", "yaml", "--server", "dark"]);
    assert!(
        yaml.contains("name: probe") && yaml.contains("liveUnknown:\n- mcp-servers/dark"),
        "{yaml}"
    );

    // One tool in detail.
    let deploy = k.ok(&["catalog", "tool", "deploy", "-A"]);
    for line in [
        "Tool:         deploy",
        "Server:       mcp-servers/web",
        "Team:         alpha",
        "Side effect:  write",
        "Trust:        medium",
        "Risk:         high",
        "Live:         yes (listed by the server)",
        "Description:  Roll out a release",
    ] {
        assert!(deploy.contains(line), "{line:?} missing from\n{deploy}");
    }
    let wipe = k.ok(&["catalog", "tool", "wipe"]);
    assert!(
        wipe.contains("Live:         no: declared, but the server does not list it (missing)"),
        "{wipe}"
    );
    let shell = k.ok(&["catalog", "tool", "shell", "-A"]);
    assert!(
        shell.contains("Declared:     no: the server lists it, spec.tools does not declare it"),
        "{shell}"
    );
    let probe = k.ok(&["catalog", "tool", "probe"]);
    assert!(probe.contains("Live:         unknown"), "{probe}");
    let probe_json: serde_json::Value =
        serde_json::from_str(&k.ok(&["catalog", "tool", "probe", "-o", "json"])).expect("json");
    assert_eq!(probe_json["tools"][0]["server"], "dark");
    assert!(probe_json["tools"][0].get("live").is_none(), "{probe_json}");
    let nope = k.fails(&["catalog", "tool", "nope", "-A"]);
    assert!(
        nope.contains("no MCPServer in any namespace declares or lists a tool \"nope\""),
        "{nope}"
    );
    // The tool exists, but not in this namespace.
    let elsewhere = k.fails(&["catalog", "tool", "restart"]);
    assert!(
        elsewhere
            .contains("no MCPServer in namespace mcp-servers declares or lists a tool \"restart\""),
        "{elsewhere}"
    );

    // `server policy inspect`: the careless user's errors first.
    let unknown = k.fails(&["server", "policy", "inspect", "nope"]);
    assert!(
        unknown.contains("no MCPServer \"nope\" in namespace mcp-servers"),
        "{unknown}"
    );
    let no_gateway = k.fails(&["server", "policy", "inspect", "ops", "-n", "team-b"]);
    assert!(
        no_gateway.contains("mcpserver/ops in namespace team-b has no gateway"),
        "{no_gateway}"
    );
    let not_rendered = k.fails(&["server", "policy", "inspect", "web"]);
    assert!(
        not_rendered.contains("the policy ConfigMap mcp-servers/web-gateway-policy does not exist: the operator has not rendered"),
        "{not_rendered}"
    );

    // The operator renders the policy and reports its revision.
    let first: serde_json::Value =
        serde_json::from_str(&k.render("mcp-servers", "web")).expect("policy json");
    let first_revision = first["revision"].as_str().expect("revision").to_owned();
    k.write_policy(
        "mcp-servers",
        "web",
        &serde_json::to_string_pretty(&first).expect("json"),
        scratch.path(),
    );
    k.patch_status(
        "mcp-servers",
        "web",
        serde_json::json!({"policyRevision": first_revision}),
    );
    let inspected = k.ok(&["server", "policy", "inspect", "web"]);
    for line in [
        "Server:        mcp-servers/web".to_owned(),
        "Team:          alpha".to_owned(),
        format!("Revision:      {first_revision}"),
        "Status:        matches status.policyRevision".to_owned(),
        "Mode:          allow-list, default decision deny".to_owned(),
        "Grants (0):".to_owned(),
        "Sessions (0):".to_owned(),
        "Tools (3):".to_owned(),
    ] {
        assert!(
            inspected.contains(&line),
            "{line:?} missing from\n{inspected}"
        );
    }
    assert!(!inspected.contains("Invalid:"), "{inspected}");

    // A grant and a revoked session: the next render has another revision, which the status
    // does not report yet.
    let access = scratch.path().join("access.yaml");
    std::fs::write(
        &access,
        "apiVersion: mcpruntime.org/v1alpha1\nkind: MCPAccessGrant\nmetadata:\n  name: dev\n  namespace: mcp-servers\n\
         spec:\n  serverRef:\n    name: web\n  subject:\n    agentID: claude\n  maxTrust: medium\n  allowedSideEffects: [read, write]\n\
         \x20 toolRules:\n    - name: deploy\n      decision: allow\n      requiredTrust: medium\n---\n\
         apiVersion: mcpruntime.org/v1alpha1\nkind: MCPAgentSession\nmetadata:\n  name: s1\n  namespace: mcp-servers\n\
         spec:\n  serverRef:\n    name: web\n  subject:\n    humanID: alice\n  consentedTrust: low\n  revoked: true\n",
    )
    .expect("write");
    k.ok(&["server", "apply", "-f", access.to_str().expect("path")]);
    let second = k.render("mcp-servers", "web");
    let second_value: serde_json::Value = serde_json::from_str(&second).expect("policy json");
    let second_revision = second_value["revision"]
        .as_str()
        .expect("revision")
        .to_owned();
    assert_ne!(second_revision, first_revision);
    k.write_policy("mcp-servers", "web", &second, scratch.path());
    let inspected = k.ok(&["server", "policy", "inspect", "web"]);
    for line in [
        format!("Revision:      {second_revision}"),
        format!(
            "Status:        differs from status.policyRevision {first_revision}: the operator has not finished with this revision, so the gateway may not have it yet"
        ),
        "Grants (1):".to_owned(),
        "Sessions (1):".to_owned(),
    ] {
        assert!(
            inspected.contains(&line),
            "{line:?} missing from\n{inspected}"
        );
    }
    let flat = rows(&inspected);
    assert!(
        flat.contains(
            &"mcp-servers/dev agent=claude,team=alpha medium read,write enabled deploy=allow:medium"
                .to_owned()
        ),
        "the grant, its subject (team inherited from the server), trust and rules:\n{inspected}"
    );
    assert!(
        flat.contains(&"mcp-servers/s1 human=alice,team=alpha low revoked -".to_owned()),
        "{inspected}"
    );
    // -o json|yaml print the document itself.
    let printed: serde_json::Value =
        serde_json::from_str(&k.ok(&["server", "policy", "inspect", "web", "-o", "json"]))
            .expect("json");
    assert_eq!(printed, second_value);
    let yaml = k.ok(&["server", "policy", "inspect", "web", "-o", "yaml"]);
    assert!(
        yaml.contains(&second_revision) && yaml.contains("- name: dev"),
        "{yaml}"
    );
    // The operator reports it: in effect.
    k.patch_status(
        "mcp-servers",
        "web",
        serde_json::json!({"policyRevision": second_revision}),
    );
    let inspected = k.ok(&["server", "policy", "inspect", "web"]);
    assert!(
        inspected.contains("Status:        matches status.policyRevision"),
        "{inspected}"
    );
    drop(plane);
}
