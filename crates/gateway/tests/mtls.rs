//! `auth.mode: mtls`: the gateway terminates TLS itself and the caller is the session named by
//! the SPIFFE ID of a verified client certificate (or, in the ingress-terminated variant, the
//! SPIFFE ID a pinned proxy forwards). Every certificate is generated here (rcgen); the client
//! is a real rustls client over a real TCP connection, and a recording upstream counts what
//! gets through.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use mcp_runtime_gateway::DenyEncoding;
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig, ServerLabels};
use mcp_runtime_gateway::tls_listener::TlsListener;
use mcp_runtime_policy::{
    AuthMode, CompiledPolicy, Grant, PolicyDocument, SessionBinding, SideEffect, Tool, ToolRule,
    Trust,
};
use mcp_runtime_tls::{GATEWAY_FILE_NAMES, ReloadingServerConfig, ServerTlsFiles};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

mod recording_upstream;
use recording_upstream::{upstream, upstream_with_gate};

const TRUST_DOMAIN: &str = "example.org";
const NAMESPACE: &str = "team-a";
const TRAEFIK: &str = "spiffe://example.org/ns/traefik/sa/traefik";

// ----- certificates -----------------------------------------------------------------------

/// A certificate authority made for one test.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Issued {
    cert: String,
    key: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key");
        Ca {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA"),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `localhost` and 127.0.0.1 with this serial.
    fn server(&self, serial: u64) -> Issued {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.serial_number = Some(serial.into());
        self.sign(params)
    }

    /// A client certificate whose URI SANs are `uris`.
    fn client(&self, serial: u64, uris: &[&str]) -> Issued {
        self.sign(Ca::client_params(serial, uris))
    }

    /// A client certificate that expired in 2021.
    fn expired_client(&self, serial: u64, uris: &[&str]) -> Issued {
        let mut params = Ca::client_params(serial, uris);
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        self.sign(params)
    }

    /// A certificate with the session's SPIFFE ID whose extended key usage allows only
    /// server authentication: not issued for client use.
    fn server_usage_only(&self, serial: u64, uris: &[&str]) -> Issued {
        let mut params = Ca::client_params(serial, uris);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    fn client_params(serial: u64, uris: &[&str]) -> CertificateParams {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, "client");
        for uri in uris {
            params
                .subject_alt_names
                .push(SanType::URI((*uri).try_into().expect("ia5")));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.serial_number = Some(serial.into());
        params
    }

    fn sign(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

fn session_uri(name: &str) -> String {
    format!("spiffe://{TRUST_DOMAIN}/ns/{NAMESPACE}/session/{name}")
}

// ----- policy -----------------------------------------------------------------------------

/// `read_file` for agent `claude`; sessions `alice-claude` (live), `revoked` and `expired`,
/// all of `claude`; `mtls` with the trust domain `example.org`.
fn policy() -> Arc<CompiledPolicy> {
    policy_where_alice_is(false)
}

/// [`policy`], with `alice-claude` revoked when `revoked`.
fn policy_where_alice_is(alice_revoked: bool) -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = "files".into();
    document.server.namespace = NAMESPACE.into();
    document.auth.mode = AuthMode::Mtls.into();
    document.auth.trust_domain = TRUST_DOMAIN.into();
    document
        .tools
        .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
    document
        .tools
        .push(Tool::new("rm_rf", SideEffect::Destructive, Trust::High));
    let mut grant = Grant::new(NAMESPACE, "claude");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::High.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    grant.tool_rules = vec![ToolRule::allow("read_file", Trust::Low)];
    document.grants.push(grant);
    for (name, revoked, expires_at) in [
        ("alice-claude", alice_revoked, "2999-01-01T00:00:00Z"),
        ("revoked", true, ""),
        ("expired", false, "2020-01-01T00:00:00Z"),
    ] {
        let mut session = SessionBinding::new(NAMESPACE, name);
        session.human_id = "alice@example.com".into();
        session.agent_id = "claude".into();
        session.consented_trust = Trust::Medium.into();
        session.revoked = revoked;
        session.expires_at = expires_at.into();
        document.sessions.push(session);
    }
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

// ----- upstream, gateway, client ----------------------------------------------------------

#[derive(Default)]
struct Collected(Mutex<Vec<mcp_runtime_audit::AuditEvent>>);

impl mcp_runtime_audit::AuditSink for Collected {
    fn emit(&self, event: mcp_runtime_audit::AuditEvent) {
        self.0.lock().expect("lock").push(event);
    }
}

impl Collected {
    fn payloads(&self) -> Vec<serde_json::Value> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .map(|event| serde_json::to_value(&event.payload).expect("payload"))
            .collect()
    }
}

/// The gateway's TLS files in a directory of their own.
struct Files {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    client_ca: PathBuf,
}

impl Files {
    fn new(server: &Issued, client_ca: &str) -> Files {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = Files {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
            client_ca: dir.path().join("ca.crt"),
            _dir: dir,
        };
        files.write_server(server);
        std::fs::write(&files.client_ca, client_ca).expect("write");
        files
    }

    fn write_server(&self, server: &Issued) {
        std::fs::write(&self.key, &server.key).expect("write");
        std::fs::write(&self.cert, &server.cert).expect("write");
    }

    fn server_files(&self) -> ServerTlsFiles {
        ServerTlsFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_ca: Some(self.client_ca.clone()),
        }
    }
}

struct Gateway {
    address: std::net::SocketAddr,
    tls: Arc<TlsListener>,
    audit: Arc<Collected>,
    /// The policy every request is judged by; replace it to reload.
    policy: Arc<Mutex<Arc<CompiledPolicy>>>,
}

async fn gateway(
    upstream: &str,
    files: &Files,
    trusted_proxy: Option<&str>,
    encoding: DenyEncoding,
) -> Gateway {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let audit: Arc<Collected> = Arc::default();
    let policy = Arc::new(Mutex::new(policy()));
    let active = policy.clone();
    let proxy = Proxy::new(ProxyConfig {
        upstream: upstream.parse().expect("uri"),
        strip_prefix: None,
        deny_encoding: encoding,
        limits: Default::default(),
        policy: Arc::new(move || Some(active.lock().expect("lock").clone())),
        config_status: None,
        audit: Some(audit.clone()),
        labels: ServerLabels {
            server: "files".into(),
            namespace: NAMESPACE.into(),
            ..ServerLabels::default()
        },
        metrics: None,
        allowed_origins: Vec::new(),
        oauth: Default::default(),
    });
    let config =
        ReloadingServerConfig::load(files.server_files(), GATEWAY_FILE_NAMES).expect("TLS files");
    let tls = TlsListener::new(config, trusted_proxy.map(str::to_owned));
    tokio::spawn(proxy.serve_tls_until(
        listener,
        tls.clone(),
        mcp_runtime_serve::Options::new("gateway"),
        mcp_runtime_serve::never(),
    ));
    Gateway {
        address,
        tls,
        audit,
        policy,
    }
}

/// One client connection: its request sender and the serial of the certificate the server
/// presented.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    server_serial: String,
}

/// Opens a TLS connection trusting `server_ca`, presenting `client` when given.
async fn connect(
    address: std::net::SocketAddr,
    server_ca: &str,
    client: Option<&Issued>,
) -> std::io::Result<Connection> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(server_ca.as_bytes()) {
        roots.add(cert.expect("pem")).expect("root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots);
    let config = match client {
        Some(client) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(client.cert.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .expect("chain"),
                PrivateKeyDer::from_pem_slice(client.key.as_bytes()).expect("key"),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(address).await?;
    let tls = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await?;
    let leaf = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("server certificate");
    let server_serial = mcp_runtime_tls::PeerCertificate::parse(leaf)
        .expect("parse")
        .serial_hex;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(Connection {
        sender,
        server_serial,
    })
}

impl Connection {
    /// POSTs `body` to `/mcp` with `headers`; (status, body), or the error that ended the
    /// connection.
    async fn post(
        &mut self,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, String), hyper::Error> {
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri("/mcp")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .sender
            .send_request(
                request
                    .body(Full::new(Bytes::from(body.to_owned())))
                    .expect("request"),
            )
            .await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let request = http::Request::builder()
            .uri(path)
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

fn call(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    )
}

const LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;

/// Governance headers a client might forge: another human, agent, team and session, and a
/// SPIFFE header naming another session.
const FORGED: &[(&str, &str)] = &[
    ("x-mcp-human-id", "root@example.com"),
    ("x-mcp-agent-id", "admin-bot"),
    ("x-mcp-team-id", "platform"),
    ("x-mcp-agent-session", "someone-else"),
    (
        "x-mcp-verified-spiffe-id",
        "spiffe://example.org/ns/team-a/session/revoked",
    ),
];

/// The JSON-RPC denial reason of a reply.
fn reason(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).expect(body);
    json["error"]["data"]["reason"]
        .as_str()
        .or_else(|| json["error"].as_str())
        .unwrap_or_default()
        .to_owned()
}

// ----- tests ------------------------------------------------------------------------------

#[tokio::test]
async fn a_live_session_certificate_reaches_the_upstream_and_forged_headers_change_nothing() {
    let ca = Ca::new("clients and server");
    let files = Files::new(&ca.server(1), &ca.pem());
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(&upstream_url, &files, None, DenyEncoding::JsonRpc).await;
    let alice = ca.client(0x0a11ce, &[&session_uri("alice-claude")]);

    let mut connection = connect(gateway.address, &ca.pem(), Some(&alice))
        .await
        .expect("handshake");
    let (status, body) = connection
        .post(&call("read_file"), &[])
        .await
        .expect("reply");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("done"), "{body}");

    // The same call with every governance header forged: the certificate still decides.
    let (status, body) = connection
        .post(&call("read_file"), FORGED)
        .await
        .expect("reply");
    assert_eq!(status, 200, "{body}");
    {
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 2, "both calls reached the upstream");
        for parts in seen.iter() {
            let header = |name: &str| {
                parts
                    .headers
                    .get(name)
                    .map(|v| v.to_str().expect("text").to_owned())
            };
            assert_eq!(
                header("x-mcp-human-id").as_deref(),
                Some("alice@example.com")
            );
            assert_eq!(header("x-mcp-agent-id").as_deref(), Some("claude"));
            assert_eq!(header("x-mcp-team-id"), None, "the forged team is gone");
            assert_eq!(
                header("x-mcp-agent-session").as_deref(),
                Some("alice-claude")
            );
            assert_eq!(
                header("x-mcp-verified-spiffe-id"),
                None,
                "the SPIFFE header is never forwarded"
            );
        }
    }

    // A tool the session's grants do not allow is still decided by the policy.
    let (_, body) = connection
        .post(&call("rm_rf"), FORGED)
        .await
        .expect("reply");
    assert_eq!(reason(&body), "tool_not_granted", "{body}");
    assert_eq!(
        seen.lock().expect("lock").len(),
        2,
        "the denial never reached the upstream"
    );

    let payloads = gateway.audit.payloads();
    assert_eq!(payloads.len(), 3);
    for payload in &payloads {
        assert_eq!(payload["auth_method"], "mtls");
        assert_eq!(payload["cert_serial"], "0a11ce");
        assert_eq!(payload["human_id"], "alice@example.com");
        assert_eq!(payload["agent_id"], "claude");
        assert_eq!(payload["session_id"], "alice-claude");
    }
    assert_eq!(payloads[0]["decision"], "allow");
    assert_eq!(
        payloads[0]["consented_trust"], "medium",
        "the session's consent applied"
    );
    assert_eq!(payloads[2]["decision"], "deny");

    // Probes need no client certificate.
    let mut anonymous = connect(gateway.address, &ca.pem(), None)
        .await
        .expect("handshake");
    assert_eq!(anonymous.get("/health").await.0, 200);
    let (status, body) = anonymous.get("/ready").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn revoked_expired_unknown_and_foreign_identities_are_refused_before_the_upstream() {
    let ca = Ca::new("clients and server");
    let files = Files::new(&ca.server(1), &ca.pem());
    let (upstream_url, seen) = upstream().await;
    for encoding in [DenyEncoding::JsonRpc, DenyEncoding::Http] {
        let gateway = gateway(&upstream_url, &files, None, encoding).await;
        let cases: Vec<(&str, Vec<String>, &str)> = vec![
            (
                "revoked session",
                vec![session_uri("revoked")],
                "session_revoked",
            ),
            (
                "expired session",
                vec![session_uri("expired")],
                "session_expired",
            ),
            (
                "unknown session",
                vec![session_uri("nobody")],
                "session_not_found",
            ),
            (
                "session of another namespace",
                vec!["spiffe://example.org/ns/team-b/session/alice-claude".into()],
                "session_not_found",
            ),
            (
                "wrong trust domain",
                vec!["spiffe://evil.example/ns/team-a/session/alice-claude".into()],
                "invalid_spiffe_identity",
            ),
            (
                "not a session ID",
                vec!["spiffe://example.org/ns/team-a/sa/claude".into()],
                "invalid_spiffe_identity",
            ),
            ("no SPIFFE ID", vec![], "invalid_spiffe_identity"),
            (
                "two SPIFFE IDs",
                vec![session_uri("alice-claude"), session_uri("revoked")],
                "invalid_spiffe_identity",
            ),
        ];
        for (serial, (case, uris, expected)) in (100u64..).zip(cases) {
            let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
            let client = ca.client(serial, &uris);
            let mut connection = connect(gateway.address, &ca.pem(), Some(&client))
                .await
                .expect("handshake");
            for body in [call("read_file"), LIST.to_owned()] {
                let (status, reply) = connection.post(&body, FORGED).await.expect("reply");
                let context = format!("{case} ({encoding:?}): {body} -> {status} {reply}");
                assert_eq!(status, 401, "{context}");
                assert_eq!(reason(&reply), expected, "{context}");
                if expected == "invalid_spiffe_identity" {
                    assert!(reply.contains("client_certificate_required"), "{context}");
                }
                assert!(
                    !reply.contains("required_headers"),
                    "no header hints: {context}"
                );
            }
        }
        // No client certificate at all: the handshake completes, every MCP request is 401.
        let mut anonymous = connect(gateway.address, &ca.pem(), None)
            .await
            .expect("handshake");
        let (status, reply) = anonymous
            .post(&call("read_file"), FORGED)
            .await
            .expect("reply");
        assert_eq!(status, 401, "{reply}");
        assert_eq!(reason(&reply), "missing_client_certificate", "{reply}");
        assert!(reply.contains("client_certificate_required"), "{reply}");

        let payloads = gateway.audit.payloads();
        assert_eq!(payloads.len(), 17, "every refusal is audited");
        for payload in &payloads {
            assert_eq!(payload["decision"], "deny");
            assert_eq!(payload["auth_method"], "mtls");
            assert_ne!(
                payload["human_id"], "root@example.com",
                "forged headers ignored"
            );
        }
        assert_eq!(payloads[0]["cert_serial"], "64", "serial 100 in hex");
    }
    assert!(
        seen.lock().expect("lock").is_empty(),
        "no denial reached the upstream"
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_expired_or_not_for_client_use_ends_the_handshake() {
    let ca = Ca::new("clients and server");
    let other = Ca::new("someone else");
    let files = Files::new(&ca.server(1), &ca.pem());
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(&upstream_url, &files, None, DenyEncoding::JsonRpc).await;
    // Same SPIFFE ID as a valid client: only the issuer, or the validity, differs.
    let alice = session_uri("alice-claude");
    for (case, client) in [
        ("another CA", other.client(7, &[&alice])),
        ("expired", ca.expired_client(8, &[&alice])),
        (
            "server authentication only",
            ca.server_usage_only(10, &[&alice]),
        ),
    ] {
        // With TLS 1.3 the client learns of the refusal when it next reads: either the
        // handshake or the first request fails, and nothing is answered.
        let refused = match connect(gateway.address, &ca.pem(), Some(&client)).await {
            Err(_) => true,
            Ok(mut connection) => connection.post(&call("read_file"), &[]).await.is_err(),
        };
        assert!(refused, "{case}: must not be served");
    }
    // The same session with a valid certificate of the CA is served: the refusals were the
    // certificates'.
    let mut valid = connect(gateway.address, &ca.pem(), Some(&ca.client(9, &[&alice])))
        .await
        .expect("handshake");
    assert_eq!(
        valid.post(&call("read_file"), &[]).await.expect("reply").0,
        200
    );
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "only the valid call arrived"
    );
    assert_eq!(
        gateway.audit.payloads().len(),
        1,
        "no refused request was read"
    );
}

#[tokio::test]
async fn behind_the_pinned_proxy_the_forwarded_spiffe_id_is_the_caller() {
    let ca = Ca::new("mesh");
    let files = Files::new(&ca.server(1), &ca.pem());
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(&upstream_url, &files, Some(TRAEFIK), DenyEncoding::JsonRpc).await;
    let proxy = ca.client(0xbeef, &[TRAEFIK]);
    let alice = session_uri("alice-claude");

    let mut connection = connect(gateway.address, &ca.pem(), Some(&proxy))
        .await
        .expect("handshake");
    let (status, body) = connection
        .post(&call("read_file"), &[("x-mcp-verified-spiffe-id", &alice)])
        .await
        .expect("reply");
    assert_eq!(status, 200, "{body}");
    assert_eq!(seen.lock().expect("lock").len(), 1);

    // The proxy forwards nothing: refused.
    let (status, body) = connection
        .post(&call("read_file"), &[])
        .await
        .expect("reply");
    assert_eq!(
        (status, reason(&body).as_str()),
        (401, "missing_verified_identity"),
        "{body}"
    );
    // The forwarded session is revoked: refused.
    let revoked = session_uri("revoked");
    let (status, body) = connection
        .post(
            &call("read_file"),
            &[("x-mcp-verified-spiffe-id", &revoked)],
        )
        .await
        .expect("reply");
    assert_eq!(
        (status, reason(&body).as_str()),
        (401, "session_revoked"),
        "{body}"
    );

    // A client of the same CA that is not the proxy cannot forward an identity, even its own.
    let client = ca.client(0xc11e, &[&alice]);
    let mut direct = connect(gateway.address, &ca.pem(), Some(&client))
        .await
        .expect("handshake");
    let (status, body) = direct
        .post(&call("read_file"), &[("x-mcp-verified-spiffe-id", &alice)])
        .await
        .expect("reply");
    assert_eq!(
        (status, reason(&body).as_str()),
        (401, "untrusted_proxy"),
        "{body}"
    );
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "no refusal reached the upstream"
    );

    let payloads = gateway.audit.payloads();
    assert_eq!(payloads[0]["auth_method"], "mtls");
    assert_eq!(payloads[0]["session_id"], "alice-claude");
    assert_eq!(
        payloads[0]["cert_serial"], "beef",
        "the certificate presented to the gateway"
    );
}

#[tokio::test]
async fn a_new_server_certificate_is_used_by_new_connections_while_open_ones_keep_working() {
    let ca = Ca::new("clients and server");
    let files = Files::new(&ca.server(0x01), &ca.pem());
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(&upstream_url, &files, None, DenyEncoding::JsonRpc).await;
    let reload = gateway.tls.spawn_reloader(Duration::from_millis(50));
    let alice = ca.client(0x0a11ce, &[&session_uri("alice-claude")]);

    let mut old = connect(gateway.address, &ca.pem(), Some(&alice))
        .await
        .expect("handshake");
    assert_eq!(old.server_serial, "01");
    assert_eq!(
        old.post(&call("read_file"), &[]).await.expect("reply").0,
        200
    );

    files.write_server(&ca.server(0x02));
    let mut new = mcp_runtime_testkit::eventually(
        "a new connection sees the new certificate",
        Duration::from_secs(10),
        async || {
            let connection = connect(gateway.address, &ca.pem(), Some(&alice))
                .await
                .ok()?;
            (connection.server_serial == "02").then_some(connection)
        },
    )
    .await;
    assert_eq!(
        new.post(&call("read_file"), &[]).await.expect("reply").0,
        200
    );

    // The connection opened before the reload still serves requests.
    let (status, body) = old
        .post(&call("read_file"), &[])
        .await
        .expect("old connection");
    assert_eq!(status, 200, "{body}");
    assert_eq!(seen.lock().expect("lock").len(), 3);

    // A new client CA: its clients are served from the next handshake on, the old CA's are not.
    drop(reload);
    let next_ca = Ca::new("next clients");
    std::fs::write(&files.client_ca, next_ca.pem()).expect("write");
    assert!(gateway.tls.reload_now().expect("the new bundle loads"));
    let mut rotated = connect(
        gateway.address,
        &ca.pem(),
        Some(&next_ca.client(0x0b0b, &[&session_uri("alice-claude")])),
    )
    .await
    .expect("handshake");
    assert_eq!(
        rotated
            .post(&call("read_file"), &[])
            .await
            .expect("reply")
            .0,
        200
    );
    let refused = match connect(gateway.address, &ca.pem(), Some(&alice)).await {
        Err(_) => true,
        Ok(mut connection) => connection.post(&call("read_file"), &[]).await.is_err(),
    };
    assert!(refused, "the old CA's client is no longer accepted");
    assert_eq!(seen.lock().expect("lock").len(), 4);

    // A broken rotation (a key that does not match the certificate) keeps the last good one.
    std::fs::write(&files.key, ca.server(0x03).key).expect("write");
    let error = gateway
        .tls
        .reload_now()
        .expect_err("a mismatched key does not load");
    assert!(error.to_string().contains("TLS_CERT_FILE"), "{error}");
    let connection = connect(gateway.address, &ca.pem(), Some(&alice))
        .await
        .expect("the last good certificate is still served");
    assert_eq!(connection.server_serial, "02");
}

#[tokio::test]
async fn a_session_revoked_while_its_connection_is_open_is_refused_on_the_next_request() {
    let ca = Ca::new("clients and server");
    let files = Files::new(&ca.server(1), &ca.pem());
    let (upstream_url, seen) = upstream().await;
    let gateway = gateway(&upstream_url, &files, None, DenyEncoding::JsonRpc).await;
    let alice = ca.client(0x0a11ce, &[&session_uri("alice-claude")]);
    let mut connection = connect(gateway.address, &ca.pem(), Some(&alice))
        .await
        .expect("handshake");
    assert_eq!(
        connection
            .post(&call("read_file"), &[])
            .await
            .expect("reply")
            .0,
        200
    );

    // The revocation arrives with the next policy; the certificate is still valid and the
    // connection was authenticated before it, but the session is checked on every request.
    *gateway.policy.lock().expect("lock") = policy_where_alice_is(true);
    for body in [call("read_file"), LIST.to_owned()] {
        let (status, reply) = connection.post(&body, &[]).await.expect("reply");
        assert_eq!(
            (status, reason(&reply).as_str()),
            (401, "session_revoked"),
            "{body} -> {reply}"
        );
    }
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "only the call made before the revocation reached the upstream"
    );
    let payloads = gateway.audit.payloads();
    assert_eq!(payloads.len(), 3);
    assert_eq!(payloads[1]["decision"], "deny");
    assert_eq!(payloads[1]["reason"], "session_revoked");
    assert_eq!(payloads[1]["cert_serial"], "0a11ce");
}

#[tokio::test]
async fn a_request_in_flight_during_a_server_certificate_reload_completes() {
    let ca = Ca::new("clients and server");
    let files = Files::new(&ca.server(0x01), &ca.pem());
    let gate = Arc::new(tokio::sync::Notify::new());
    let (upstream_url, seen) = upstream_with_gate(gate.clone()).await;
    let gateway = gateway(&upstream_url, &files, None, DenyEncoding::JsonRpc).await;
    let alice = ca.client(0x0a11ce, &[&session_uri("alice-claude")]);

    let mut old = connect(gateway.address, &ca.pem(), Some(&alice))
        .await
        .expect("handshake");
    assert_eq!(old.server_serial, "01");
    let in_flight =
        tokio::spawn(async move { old.post(&call("read_file"), &[("x-hold", "1")]).await });
    mcp_runtime_testkit::eventually(
        "the held request reaches the upstream",
        Duration::from_secs(10),
        async || (seen.lock().expect("lock").len() == 1).then_some(()),
    )
    .await;

    // The certificate changes while that request waits for its reply.
    files.write_server(&ca.server(0x02));
    assert!(gateway.tls.reload_now().expect("the new certificate loads"));
    let mut new = connect(gateway.address, &ca.pem(), Some(&alice))
        .await
        .expect("handshake");
    assert_eq!(new.server_serial, "02", "a new handshake sees the new one");
    assert_eq!(
        new.post(&call("read_file"), &[]).await.expect("reply").0,
        200
    );
    assert!(!in_flight.is_finished(), "the held request is still open");

    gate.notify_one();
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the held request finishes")
        .expect("task")
        .expect("the connection opened before the reload still answers");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("done"), "the whole reply arrived: {body}");
}

#[test]
fn files_that_do_not_load_are_refused_naming_their_variable() {
    let ca = Ca::new("ca");
    let files = Files::new(&ca.server(1), "not a certificate");
    let error = ReloadingServerConfig::load(files.server_files(), GATEWAY_FILE_NAMES)
        .expect_err("bad CA bundle");
    assert!(error.to_string().contains("TLS_CLIENT_CA_FILE"), "{error}");
    let mut missing = files.server_files();
    missing.key = Path::new("/nonexistent/tls.key").to_path_buf();
    let error = ReloadingServerConfig::load(missing, GATEWAY_FILE_NAMES).expect_err("no key");
    assert!(error.to_string().contains("TLS_KEY_FILE"), "{error}");
}
