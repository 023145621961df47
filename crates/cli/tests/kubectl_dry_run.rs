//! `mcp-runtime crd | kubectl apply --dry-run=client -f -` accepts the CRDs.
//!
//! kubectl's client-side dry run still asks the API server's discovery endpoints which resource a
//! kind maps to, so the test serves the few discovery documents kubectl needs (for
//! `apiextensions.k8s.io/v1` only) from a loopback listener. Nothing else is faked: kubectl parses
//! the YAML stream, maps each object and runs its client-side apply logic. Schema validation of
//! the CRD object needs the server's OpenAPI document, which is not available offline, hence
//! `--validate=false`; the CRDs' own schemas are exercised by the api crate's tests.

use assert_cmd::cargo::CommandCargoExt;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

fn respond(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers; kubectl sends no body on GET.
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let (status, body) = match path {
        "/api" => ("200 OK", r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}"#.to_owned()),
        "/api/v1" => ("200 OK", r#"{"kind":"APIResourceList","groupVersion":"v1","resources":[]}"#.to_owned()),
        "/apis" => ("200 OK", r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apiextensions.k8s.io","versions":[{"groupVersion":"apiextensions.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apiextensions.k8s.io/v1","version":"v1"}}]}"#.to_owned()),
        "/apis/apiextensions.k8s.io/v1" => ("200 OK", r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apiextensions.k8s.io/v1","resources":[{"name":"customresourcedefinitions","singularName":"customresourcedefinition","namespaced":false,"kind":"CustomResourceDefinition","verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["crd","crds"]}]}"#.to_owned()),
        other => {
            let name = other.rsplit('/').next().unwrap_or_default();
            ("404 Not Found", format!(r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"{name} not found"}}"#))
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

#[test]
fn kubectl_client_dry_run_accepts_the_crds() {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned());
    if Command::new(&kubectl)
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        panic!(
            "kubectl is not installed: install it (apt-get install -y kubernetes-client) or set KUBECTL"
        );
    }

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || respond(stream));
        }
    });
    let scratch = tempfile::tempdir().expect("tempdir");
    let kubeconfig = scratch.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stub\n  cluster:\n    server: http://{address}\ncontexts:\n- name: stub\n  context:\n    cluster: stub\n    user: stub\nusers:\n- name: stub\n  user: {{}}\ncurrent-context: stub\n"
        ),
    )
    .expect("write kubeconfig");

    let crds = Command::cargo_bin("mcp-runtime")
        .expect("binary")
        .arg("crd")
        .output()
        .expect("run mcp-runtime crd");
    assert!(crds.status.success());

    let mut child = Command::new(&kubectl)
        .args([
            "apply",
            "--dry-run=client",
            "--validate=false",
            "-o",
            "name",
            "-f",
            "-",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--cache-dir")
        .arg(scratch.path().join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&crds.stdout)
        .expect("pipe CRDs");
    let output = child.wait_with_output().expect("kubectl finishes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kubectl refused the CRDs:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in ["mcpservers", "mcpaccessgrants", "mcpagentsessions"] {
        let expected =
            format!("customresourcedefinition.apiextensions.k8s.io/{name}.mcpruntime.org");
        assert!(
            stdout.contains(&expected),
            "missing {expected} in:\n{stdout}"
        );
    }
}
