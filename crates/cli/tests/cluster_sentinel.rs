//! `mcp-runtime sentinel status|events --in-cluster`: the Sentinel found in the cluster, asked
//! through the API server's service proxy with the read key from its Secret.
//!
//! The control plane has no nodes, so no Sentinel pod can run. The Service is therefore backed by
//! hand, in a namespace of the test's own: a Sentinel runs on this machine, listening on a
//! non-loopback address of it; a Pod that never runs is given that address as its `podIP`
//! (status subresource, as a kubelet would); a selector-less `mcp-sentinel` Service has an
//! Endpoints object naming that Pod. (The API server proxies only to an endpoint whose Pod has
//! the endpoint's IP.) Everything between the CLI and that process is real: kubeconfig, service
//! proxy, Secret, Sentinel's read-key check.
//!
//! Built to run when `MCP_RUNTIME_TEST_KUBECONFIG` is set or `CI=true` (see `build.rs`).

mod cluster;

use cluster::{TestNamespace, kubeconfig, kubectl_ok};
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-runtime");
const READ_KEY: &str = "read-key-of-the-test";

/// A child killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An IPv4 address of this machine that is not loopback: the one its default route uses. No
/// packet is sent (a UDP "connect" only picks the route).
fn non_loopback_address() -> IpAddr {
    let socket = UdpSocket::bind("0.0.0.0:0").expect("udp socket");
    socket
        .connect("192.0.2.255:9")
        .or_else(|_| socket.connect("10.255.255.255:9"))
        .expect("this machine has a route to a non-loopback network");
    let address = socket.local_addr().expect("local address").ip();
    assert!(
        !address.is_loopback() && !address.is_unspecified(),
        "no non-loopback address on this machine ({address}): the API server only proxies to \
         such addresses"
    );
    address
}

fn start_sentinel(address: IpAddr, dir: &std::path::Path) -> (Process, u16) {
    let mut child = Command::new(BIN)
        .args(["sentinel", "--port", "0", "--address"])
        .arg(address.to_string())
        .arg("--store")
        .arg(format!("sqlite://{}", dir.join("sentinel.db").display()))
        .env("SENTINEL_READ_API_KEYS", READ_KEY)
        .env("SENTINEL_API_KEYS", "ingest-key")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sentinel");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("sentinel exited before listening")
            .expect("line");
        if let Some(rest) = line.strip_prefix("mcp-runtime sentinel listening on ") {
            let address = rest.split_whitespace().next().expect("address");
            break address
                .rsplit(':')
                .next()
                .and_then(|p| p.parse::<u16>().ok())
                .expect("port");
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (Process(child), port)
}

/// One audit event, POSTed as a gateway would.
fn ingest(address: IpAddr, port: u16) {
    let body = serde_json::json!({
        "event_id": "0193c0de-0000-7000-8000-000000000001",
        "timestamp": jiff::Timestamp::now().to_string(),
        "event_type": "mcp.request", "source": "notes-gateway",
        "payload": {"server": "notes", "agent_id": "claude", "tool_name": "list_notes",
                     "decision": "allow", "status": 200}
    })
    .to_string();
    let mut stream = TcpStream::connect((address, port)).expect("connect to sentinel");
    write!(
        stream,
        "POST /events HTTP/1.1\r\nHost: sentinel\r\nContent-Type: application/json\r\n\
         x-api-key: ingest-key\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).expect("read");
    assert!(
        reply.starts_with("HTTP/1.1 2"),
        "ingest refused the event: {reply}"
    );
}

fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .output()
        .expect("run mcp-runtime")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
#[cfg_attr(
    not(mcp_cluster),
    ignore = "SKIPPED (no cluster): set MCP_RUNTIME_TEST_KUBECONFIG to a kubeconfig and rebuild"
)]
fn sentinel_verbs_find_the_installed_sentinel_through_the_api_server() {
    let namespace = TestNamespace::create("sentinel");
    let ns = namespace.name.as_str();

    // Nothing installed in the namespace yet: one line naming the fix.
    let missing = cli(&[
        "sentinel",
        "status",
        "--in-cluster",
        "--sentinel-namespace",
        ns,
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains(&format!("no Sentinel in namespace {ns}"))
            && text(&missing.stderr).contains("mcp-runtime setup"),
        "{}",
        text(&missing.stderr)
    );

    let address = non_loopback_address();
    let scratch = tempfile::tempdir().expect("tempdir");
    let (_sentinel, port) = start_sentinel(address, scratch.path());
    ingest(address, port);
    let stand_in = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: sentinel-stand-in, namespace: {ns}}}\n\
         spec:\n  containers: [{{name: sentinel, image: mcp-runtime}}]\n"
    );
    kubectl_ok(&["apply", "-f", "-"], Some(stand_in.as_bytes()));
    kubectl_ok(
        &[
            "-n",
            ns,
            "patch",
            "pod",
            "sentinel-stand-in",
            "--subresource=status",
            "--type=merge",
            "-p",
            &format!(r#"{{"status":{{"podIP":"{address}","podIPs":[{{"ip":"{address}"}}]}}}}"#),
        ],
        None,
    );
    let objects = format!(
        r#"
apiVersion: v1
kind: Service
metadata: {{name: mcp-sentinel, namespace: {ns}}}
spec:
  ports: [{{name: http, port: 8083, targetPort: {port}}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: mcp-sentinel, namespace: {ns}}}
subsets:
- addresses: [{{ip: "{address}", targetRef: {{kind: Pod, name: sentinel-stand-in, namespace: {ns}}}}}]
  ports: [{{name: http, port: {port}}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: mcp-sentinel-keys, namespace: {ns}}}
stringData: {{read: {READ_KEY}}}
"#
    );
    kubectl_ok(&["apply", "-f", "-"], Some(objects.as_bytes()));

    // The event shows up through the proxy; the read key came from the Secret (Sentinel refuses
    // the query API without it).
    let deadline = Instant::now() + Duration::from_secs(30);
    let events = loop {
        let events = cli(&[
            "sentinel",
            "events",
            "--in-cluster",
            "--sentinel-namespace",
            ns,
            "-o",
            "json",
        ]);
        if events.status.success() || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(events.status.success(), "{}", text(&events.stderr));
    let body: serde_json::Value = serde_json::from_slice(&events.stdout).expect("JSON");
    assert_eq!(
        body["events"][0]["payload"]["tool_name"], "list_notes",
        "{body}"
    );

    let status = cli(&[
        "sentinel",
        "status",
        "--in-cluster",
        "--sentinel-namespace",
        ns,
    ]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout)
            .starts_with(&format!("Sentinel cluster service {ns}/mcp-sentinel: ok")),
        "{}",
        text(&status.stdout)
    );

    // A wrong key in the Secret: Sentinel's own refusal comes back, not a proxy error.
    kubectl_ok(
        &[
            "-n",
            ns,
            "patch",
            "secret",
            "mcp-sentinel-keys",
            "-p",
            r#"{"stringData":{"read":"wrong"}}"#,
        ],
        None,
    );
    let refused = cli(&[
        "sentinel",
        "events",
        "--in-cluster",
        "--sentinel-namespace",
        ns,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("Sentinel answered 401"),
        "{}",
        text(&refused.stderr)
    );

    // The Service without a ready endpoint (the pod went away): the API server's 503 is
    // explained.
    let no_endpoint = format!(
        "apiVersion: v1\nkind: Endpoints\nmetadata: {{name: mcp-sentinel, namespace: {ns}}}\nsubsets: []\n"
    );
    kubectl_ok(&["apply", "-f", "-"], Some(no_endpoint.as_bytes()));
    let no_pod = cli(&[
        "sentinel",
        "status",
        "--in-cluster",
        "--sentinel-namespace",
        ns,
    ]);
    assert_eq!(no_pod.status.code(), Some(1));
    assert!(
        text(&no_pod.stderr).contains("no pod serves it yet"),
        "{}{}",
        text(&no_pod.stdout),
        text(&no_pod.stderr)
    );
}
