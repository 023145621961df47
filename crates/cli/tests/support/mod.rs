//! Helpers shared by the process-level tests: locating peers, raw HTTP, polling.
#![allow(dead_code)] // each test binary uses a different subset

pub use mcp_runtime_peers::{python, workspace};
use std::io::{Read, Write};
use std::net::TcpStream;

/// Runs the Python SDK client script `examples/quickstart/mcp_call.py` once and parses its JSON.
pub fn mcp_call(url: &str, mode: &str, headers: &[&str], action: &[&str]) -> serde_json::Value {
    let mut command = std::process::Command::new(python());
    command
        .arg(workspace().join("examples/quickstart/mcp_call.py"))
        .arg(url)
        .arg(mode);
    for header in headers {
        command.arg("-H").arg(header);
    }
    let output = command
        .args(action)
        .output()
        .expect("run the Python client");
    assert!(
        output.status.success(),
        "Python client failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "client printed no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A raw HTTP/1.1 exchange on a fresh connection; returns (status, body).
pub fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("host: {address}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// GETs `path` as a browser would, following redirects (relative ones too, at most five), and
/// returns the final status and path.
pub fn get_following_redirects(address: &str, path: &str) -> (u16, String) {
    let mut path = path.to_owned();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(address).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status: u16 = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let location = response
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("location")
                    .then(|| value.trim().to_owned())
            });
        match location {
            Some(location) if (300..400).contains(&status) => {
                path = if location.starts_with('/') {
                    location
                } else {
                    let directory = &path[..=path.rfind('/').unwrap_or(0)];
                    format!("{directory}{location}")
                };
            }
            _ => return (status, path),
        }
    }
    panic!("more than five redirects from {path}")
}

/// Polls until `check` holds (the workspace's one blocking poll).
#[allow(unused_imports)] // each test binary uses a different subset
pub use mcp_runtime_testkit::eventually_blocking as wait_for;

/// A process of the binary (or a wrapper around it), killed and reaped when dropped.
pub struct Gateway {
    pub child: std::process::Child,
    /// The `host:port` it listens on.
    pub address: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` with its stderr piped and waits for the line starting with `prefix`;
/// returns the child and the first word after the prefix (the listen address). The rest of
/// stderr is drained in the background so the child never blocks on it.
pub fn spawn_announcing(
    mut command: std::process::Command,
    prefix: &str,
    what: &str,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let address = loop {
        let Some(line) = lines.next() else {
            let status = child.wait().expect("wait");
            panic!("{what} exited before listening ({status})");
        };
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix(prefix) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

pub fn start_gateway(upstream: &str, policy: &std::path::Path) -> Gateway {
    start_gateway_with(upstream, policy, &[])
}

pub fn start_gateway_with(
    upstream: &str,
    policy: &std::path::Path,
    env: &[(&str, String)],
) -> Gateway {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-runtime"));
    command.arg("gateway");
    spawn_gateway(command, upstream, policy, env)
}

/// Starts `command` (the gateway, possibly wrapped) on a free loopback port with the policy
/// file, and waits for its listen address.
pub fn spawn_gateway(
    mut command: std::process::Command,
    upstream: &str,
    policy: &std::path::Path,
    env: &[(&str, String)],
) -> Gateway {
    command
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORT", "0")
        .env("METRICS_PORT", "0")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("UPSTREAM_URL", upstream)
        .env("POLICY_FILE", policy);
    let (child, address) =
        spawn_announcing(command, "mcp-runtime gateway listening on ", "the gateway");
    Gateway { child, address }
}

/// Writes a policy document as a ConfigMap update would appear: to a temporary file, then
/// renamed over `path` (never a half-written file).
pub fn write_policy_document(
    path: &std::path::Path,
    document: &mcp_runtime_policy::PolicyDocument,
) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, document.to_json_pretty().expect("json")).expect("write");
    std::fs::rename(&temporary, path).expect("rename");
}

/// Whether a peer the test needs is installed. When it is not, the test is skipped (with a
/// line saying so) unless `CI=true`, where a missing peer fails the test: CI installs every
/// peer (`bash .ci/run`).
pub fn peer_present(present: bool, what: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} is missing under CI=true: run `bash .ci/run` to install the peers"
    );
    eprintln!("SKIPPED: {what} is not installed (run `bash .ci/run` to install the peers)");
    false
}

/// Certificates made for one test (rcgen): a CA, server certificates for `localhost` and
/// 127.0.0.1, and client certificates carrying URI SANs (SPIFFE IDs).
pub struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

/// A certificate and its key, as PEM.
pub struct Issued {
    pub cert: String,
    pub key: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().expect("key");
        TestCa {
            issuer: rcgen::CertifiedIssuer::self_signed(params, key).expect("CA"),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn server(&self) -> Issued {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    pub fn client(&self, serial: u64, uri: &str) -> Issued {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .subject_alt_names
            .push(rcgen::SanType::URI(uri.try_into().expect("ia5")));
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        params.serial_number = Some(serial.into());
        self.sign(params)
    }

    fn sign(&self, params: rcgen::CertificateParams) -> Issued {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Writes `tls.crt`, `tls.key` (a server certificate) and `ca.crt` (this CA) into `dir`.
    pub fn write_server_files(&self, dir: &std::path::Path) -> [std::path::PathBuf; 3] {
        let server = self.server();
        let paths = [dir.join("tls.crt"), dir.join("tls.key"), dir.join("ca.crt")];
        std::fs::write(&paths[0], server.cert).expect("write");
        std::fs::write(&paths[1], server.key).expect("write");
        std::fs::write(&paths[2], self.pem()).expect("write");
        paths
    }

    /// A TLS client trusting this CA, presenting `client` when given.
    pub fn client_config(&self, client: Option<&Issued>) -> std::sync::Arc<rustls::ClientConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.pem().as_bytes()) {
            roots.add(cert.expect("pem")).expect("root");
        }
        let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
        std::sync::Arc::new(match client {
            Some(client) => builder
                .with_client_auth_cert(
                    CertificateDer::pem_slice_iter(client.cert.as_bytes())
                        .collect::<Result<Vec<_>, _>>()
                        .expect("chain"),
                    PrivateKeyDer::from_pem_slice(client.key.as_bytes()).expect("key"),
                )
                .expect("client auth"),
            None => builder.with_no_client_auth(),
        })
    }
}

/// A raw HTTP/1.1 exchange over TLS on a fresh connection (server name `localhost`); returns
/// (status, head, body), or the I/O error that ended the connection (a refused handshake).
pub fn https(
    address: &str,
    tls: &std::sync::Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String, String)> {
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let connection =
        rustls::ClientConnection::new(tls.clone(), name).map_err(std::io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(connection, TcpStream::connect(address)?);
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        // A server that closes without close_notify after a complete response is fine here.
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {
        }
        Err(error) => return Err(error),
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .unwrap_or_default();
    Ok((status, head, body))
}
