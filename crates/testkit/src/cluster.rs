//! Helpers for the real-cluster tests (T6): the admin client from `MCP_RUNTIME_TEST_KUBECONFIG`,
//! a namespace per test that is deleted even when the test fails, the CRDs, and the operator's
//! shipped RBAC (`deploy/operator/rbac.yaml`) bound to a ServiceAccount of the test's namespace,
//! so the operator can run as that ServiceAccount through impersonation.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use mcp_runtime_api::MCPServer;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The variable naming the kubeconfig of the cluster the T6 tests run against.
pub const KUBECONFIG_VAR: &str = "MCP_RUNTIME_TEST_KUBECONFIG";

/// The field manager of everything the tests themselves apply.
pub const TEST_MANAGER: &str = "mcp-runtime-tests";

/// The operator's ServiceAccount name in `deploy/operator/rbac.yaml`.
pub const OPERATOR_SERVICE_ACCOUNT: &str = "mcp-runtime-operator";

/// The repository root (for `deploy/` and the control-plane script next to it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The kubeconfig path. The T6 tests are only built enabled when the variable is set or under
/// `CI=true`; in CI a missing variable must fail the run, so this panics naming it.
pub fn kubeconfig_path() -> String {
    match std::env::var(KUBECONFIG_VAR) {
        Ok(path) if !path.trim().is_empty() => path,
        _ => panic!(
            "{KUBECONFIG_VAR} is not set: the real-cluster tests need a kubeconfig (CI starts \
             ../shared/k8s/control-plane and exports it); they never skip under CI=true"
        ),
    }
}

/// The admin configuration of the kubeconfig at `path`.
pub async fn config_from(path: &str) -> kube::Config {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("reading the kubeconfig {path} ({KUBECONFIG_VAR}): {e}"));
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("kubeconfig {path}: {e}"))
}

/// The admin configuration of the test cluster.
pub async fn admin_config() -> kube::Config {
    config_from(&kubeconfig_path()).await
}

/// A client from `config`.
pub fn client(config: kube::Config) -> kube::Client {
    kube::Client::try_from(config).expect("kube client")
}

/// `config`, acting as `user` (Impersonate-User): RBAC then judges every call as that user's.
pub fn impersonating(mut config: kube::Config, user: &str) -> kube::Config {
    config.auth_info.impersonate = Some(user.to_owned());
    config
}

/// The username of a ServiceAccount.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

#[derive(Debug)]
/// A namespace of one test. Dropping it deletes the namespace (without waiting), also when the
/// test panicked, so a failing test leaves nothing behind but its cluster-scoped objects, which
/// are owned by the namespace and garbage-collected with it.
pub struct TestNamespace {
    pub name: String,
    pub uid: String,
    kubeconfig: String,
}

impl TestNamespace {
    /// Creates `mcp-t6-<test>-<suffix>`.
    pub async fn create(admin: &kube::Client, kubeconfig: &str, test: &str) -> TestNamespace {
        let suffix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() % 100_000_000)
            .unwrap_or_default();
        let name = format!("mcp-t6-{test}-{suffix}");
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
        let created = Api::<Namespace>::all(admin.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        TestNamespace {
            uid: created.metadata.uid.expect("namespace uid"),
            name,
            kubeconfig: kubeconfig.to_owned(),
        }
    }

    /// An ownerReference to this namespace, for cluster-scoped objects of the test.
    pub fn owner_reference(&self) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace", "name": self.name, "uid": self.uid})
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // Drop cannot await; kubectl is on every machine that runs the control plane.
        let _ = std::process::Command::new("kubectl")
            .arg(format!("--kubeconfig={}", self.kubeconfig))
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Installs (server-side applies) the CRDs and waits until they are established.
pub async fn install_crds(admin: &kube::Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    for crd in mcp_runtime_api::crd::all() {
        let name = crd.metadata.name.clone().expect("crd name");
        crds.patch(
            &name,
            &PatchParams::apply(TEST_MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("installing CRD {name}: {e}"));
        crate::eventually(
            &format!("CRD {name} established"),
            Duration::from_secs(30),
            || async {
                let crd = crds.get(&name).await.ok()?;
                crd.status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            },
        )
        .await;
    }
}

/// The documents of `deploy/operator/rbac.yaml`, moved into `namespace`: the ServiceAccount, the
/// leader-election Role and RoleBinding live there; the ClusterRole and ClusterRoleBinding get a
/// name of their own (`<namespace>-operator`) and an ownerReference to the namespace, so tests
/// running in parallel never share or overwrite each other's RBAC. The rules are the shipped ones,
/// unchanged.
pub fn operator_rbac(namespace: &TestNamespace) -> Vec<Value> {
    let path = workspace_root().join("deploy/operator/rbac.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let cluster_name = format!("{}-operator", namespace.name);
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(&text) {
        let mut value: Value =
            serde::Deserialize::deserialize(document).expect("deploy/operator/rbac.yaml");
        if value.is_null() {
            continue;
        }
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let metadata = &mut value["metadata"];
        match kind.as_str() {
            "ClusterRole" | "ClusterRoleBinding" => {
                metadata["name"] = json!(cluster_name);
                metadata["ownerReferences"] = json!([namespace.owner_reference()]);
            }
            _ => metadata["namespace"] = json!(namespace.name),
        }
        if kind == "ClusterRoleBinding" {
            value["roleRef"]["name"] = json!(cluster_name);
        }
        // `get_mut`, not indexing: indexing a JSON object inserts the missing key as null.
        if let Some(subjects) = value.get_mut("subjects").and_then(Value::as_array_mut) {
            for subject in subjects {
                if subject["kind"] == "ServiceAccount" {
                    subject["namespace"] = json!(namespace.name);
                }
            }
        }
        documents.push(value);
    }
    documents
}

/// Applies [`operator_rbac`] and waits until the API server authorizes the operator's
/// ServiceAccount with it. Returns the ServiceAccount's username, for impersonation.
pub async fn install_operator_rbac(
    admin_config: &kube::Config,
    namespace: &TestNamespace,
) -> String {
    let admin = client(admin_config.clone());
    for document in operator_rbac(namespace) {
        let object: DynamicObject = serde_json::from_value(document.clone()).expect("rbac object");
        let types = object.types.clone().expect("apiVersion and kind");
        let (group, version) = match types.api_version.split_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            None => (String::new(), types.api_version.clone()),
        };
        let resource = ApiResource {
            group,
            version,
            api_version: types.api_version.clone(),
            kind: types.kind.clone(),
            plural: format!("{}s", types.kind.to_lowercase()),
        };
        let name = object.metadata.name.clone().expect("name");
        let api: Api<DynamicObject> = match &object.metadata.namespace {
            Some(ns) => Api::namespaced_with(admin.clone(), ns, &resource),
            None => Api::all_with(admin.clone(), &resource),
        };
        api.patch(
            &name,
            &PatchParams::apply(TEST_MANAGER).force(),
            &Patch::Apply(&document),
        )
        .await
        .unwrap_or_else(|e| panic!("applying {} {name}: {e}", types.kind));
    }
    let user = service_account_user(&namespace.name, OPERATOR_SERVICE_ACCOUNT);
    // The RBAC authorizer works from a cache of the roles: wait until it sees the new binding.
    let config = impersonating(admin_config.clone(), &user);
    let servers: Api<MCPServer> = Api::namespaced(client(config), &namespace.name);
    crate::eventually(
        "the operator's RBAC in effect",
        Duration::from_secs(30),
        || async { servers.list(&ListParams::default()).await.ok() },
    )
    .await;
    user
}

/// A plain-HTTP proxy on 127.0.0.1 in front of a [`RecordingApi`]: an operator *process* pointed
/// at it (see [`RecordingProxy::kubeconfig`]) talks to the real API server with the proxy's
/// credentials (impersonating its ServiceAccount), and every call it makes is recorded, so a test
/// can tell which process wrote what. Responses, watch streams included, are streamed through.
#[derive(Debug)]
pub struct RecordingProxy {
    pub recording: crate::RecordingApi,
    pub address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`.
    pub async fn start(upstream: kube::Client) -> RecordingProxy {
        let recording = crate::RecordingApi::new(upstream);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        let client = recording.client();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let client = client.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| forward(client.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RecordingProxy {
            recording,
            address,
            task,
        }
    }

    /// Writes a kubeconfig pointing at this proxy (no credentials: the proxy holds them).
    pub fn kubeconfig(&self, path: &std::path::Path) {
        // JSON is YAML: a kubeconfig in JSON needs no templating.
        let kubeconfig = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "proxy", "cluster": {"server": format!("http://{}", self.address)}}],
            "users": [{"name": "proxy", "user": {}}],
            "contexts": [{"name": "proxy", "context": {"cluster": "proxy", "user": "proxy"}}],
            "current-context": "proxy",
        });
        let text = kubeconfig.to_string();
        std::fs::write(path, text).expect("write the proxy kubeconfig");
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards one request (method, path and query, headers, body) and streams the answer back.
async fn forward(
    client: kube::Client,
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<kube::client::Body>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let mut forwarded = http::Request::builder().method(parts.method).uri(path);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "connection" | "content-length") {
            forwarded = forwarded.header(name, value);
        }
    }
    let answer = match forwarded.body(kube::client::Body::from(body.to_vec())) {
        Ok(request) => client.send(request).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    Ok(answer.unwrap_or_else(|error| {
        let mut response = http::Response::new(kube::client::Body::from(error.into_bytes()));
        *response.status_mut() = http::StatusCode::BAD_GATEWAY;
        response
    }))
}

/// A control plane of one test only (own state directory and ports), stopped when dropped: for
/// tests that restart it or change what is cluster-wide (CRDs, ClusterRoles).
#[derive(Debug)]
pub struct PrivateControlPlane {
    script: PathBuf,
    state: tempfile::TempDir,
    ports: [(&'static str, u16); 3],
    pub kubeconfig: String,
}

impl PrivateControlPlane {
    /// The script: `../shared/k8s/control-plane` relative to the repository root.
    fn script() -> PathBuf {
        let script = workspace_root().join("../shared/k8s/control-plane");
        assert!(
            script.exists(),
            "{} is missing: tests with a private control plane need the shared control-plane script",
            script.display()
        );
        script
    }

    fn command(&self, verb: &str) -> Command {
        let mut command = Command::new("bash");
        command
            .arg(&self.script)
            .arg(verb)
            .env("K8S_STATE_DIR", self.state.path());
        for (name, port) in self.ports {
            command.env(name, port.to_string());
        }
        command
    }

    pub fn start() -> PrivateControlPlane {
        // etcd takes two ports (client, and peer one above).
        let etcd = loop {
            let port = free_port();
            if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
                break port;
            }
        };
        let mut plane = PrivateControlPlane {
            script: Self::script(),
            state: tempfile::tempdir().expect("state dir"),
            ports: [
                ("K8S_API_PORT", free_port()),
                ("K8S_ETCD_PORT", etcd),
                ("K8S_KCM_PORT", free_port()),
            ],
            kubeconfig: String::new(),
        };
        plane.kubeconfig = plane.run("start");
        plane
    }

    /// Runs a verb of the script; returns the last line it printed.
    pub fn run(&self, verb: &str) -> String {
        let output = self
            .command(verb)
            .output()
            .expect("run the control-plane script");
        assert!(
            output.status.success(),
            "control-plane {verb} failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    }

    /// Kills kube-apiserver (SIGKILL: no graceful drain, connections just drop) and waits until
    /// its port refuses connections. (Its process stays a zombie where nothing reaps orphans, and
    /// the thread group leader turns zombie before the other threads have closed the listener.)
    pub fn kill_api_server(&self) {
        let pid_file = self.state.path().join("run/kube-apiserver.pid");
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .expect("kube-apiserver pid file")
            .trim()
            .parse()
            .expect("pid");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("kill kube-apiserver");
        let port = self.ports[0].1;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(Instant::now() < deadline, "kube-apiserver still listens");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateControlPlane {
    fn drop(&mut self) {
        let _ = self.command("stop").stdout(Stdio::null()).status();
    }
}

/// A copy of the kubeconfig at `admin` whose user acts as `user` (kubeconfig `as:`).
pub fn impersonating_kubeconfig(admin: &Path, user: &str, to: &Path) {
    let text = std::fs::read_to_string(admin).expect("admin kubeconfig");
    let mut config: serde_json::Value = serde_norway::from_str(&text).expect("kubeconfig yaml");
    for entry in config["users"].as_array_mut().expect("kubeconfig users") {
        entry["user"]["as"] = json!(user);
    }
    std::fs::write(to, config.to_string()).expect("write kubeconfig");
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
