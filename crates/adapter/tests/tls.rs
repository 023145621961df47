//! TLS to an `https` runtime: the adapter trusts --tls-ca-bundle and presents its client
//! certificate to a rustls server that requires one (the test material is in `crates/tls/tests/fixtures/`).

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use http_body_util::Full;
use mcp_runtime_adapter::{ConfigError, Runtime, RuntimeConfig, SendError, TlsFiles};

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tls/tests/fixtures")
        .join(name)
}

const FIXTURES: mcp_runtime_tls::FileNames = mcp_runtime_tls::FileNames {
    ca_bundle: "client CA",
    client_cert: "server certificate",
    client_key: "server key",
};

/// An HTTPS server on 127.0.0.1 that requires a client certificate issued by the test CA and
/// answers with the number of certificates the client presented.
async fn mtls_server() -> u16 {
    let config = mcp_runtime_tls::server_config(
        &file("server.pem"),
        &file("server.key"),
        Some(&file("ca.pem")),
        FIXTURES,
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let presented = tls.get_ref().1.peer_certificates().map_or(0, <[_]>::len);
                let service = hyper::service::service_fn(move |_request| async move {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                        "client certificates: {presented}"
                    )))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    port
}

fn config(port: u16, tls: TlsFiles) -> RuntimeConfig {
    let mut config = RuntimeConfig::new(format!("https://127.0.0.1:{port}/mcp"));
    config.tls = tls;
    config
}

fn with_client_cert() -> TlsFiles {
    TlsFiles {
        ca_bundle: Some(file("ca.pem")),
        client_cert: Some(file("client.pem")),
        client_key: Some(file("client.key")),
    }
}

async fn get(runtime: &Runtime) -> Result<String, SendError> {
    use http_body_util::BodyExt;
    let response = runtime
        .send(Method::GET, HeaderMap::new(), Bytes::new())
        .await?;
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_client_certificate_is_presented_to_a_runtime_that_requires_one() {
    let port = mtls_server().await;
    let mut mtls = config(port, with_client_cert());
    mtls.require_client_certificate = true;
    let runtime = Runtime::new(&mtls).expect("runtime");
    assert_eq!(
        get(&runtime).await.expect("answer"),
        "client certificates: 1"
    );
}

#[tokio::test]
async fn without_a_client_certificate_the_runtime_refuses_the_connection() {
    let port = mtls_server().await;
    let runtime = Runtime::new(&config(
        port,
        TlsFiles {
            ca_bundle: Some(file("ca.pem")),
            ..TlsFiles::default()
        },
    ))
    .expect("runtime");
    let error = get(&runtime).await.expect_err("refused").to_string();
    assert!(error.contains("unreachable"), "{error}");
}

#[tokio::test]
async fn a_server_outside_the_trusted_cas_is_refused() {
    let port = mtls_server().await;
    let tls = TlsFiles {
        ca_bundle: None,
        ..with_client_cert()
    };
    // The system's trust store does not hold the test CA (or there is no store at all, which
    // is refused when the adapter starts).
    match Runtime::new(&config(port, tls)) {
        Ok(runtime) => {
            let error = get(&runtime).await.expect_err("untrusted").to_string();
            assert!(error.to_lowercase().contains("certificate"), "{error}");
        }
        Err(error) => assert!(error.to_string().contains("trust store"), "{error}"),
    }
}

#[test]
fn tls_settings_that_cannot_work_are_refused_with_the_flag_named() {
    let https = |tls: TlsFiles| {
        let mut config = config(8443, tls);
        config.require_client_certificate = false;
        config
    };
    let message = |config: RuntimeConfig| Runtime::new(&config).expect_err("refused").to_string();

    let missing = message(https(TlsFiles {
        client_cert: Some(file("nope.pem")),
        ..with_client_cert()
    }));
    assert!(
        missing.starts_with("--tls-client-cert") && missing.contains("nope.pem"),
        "{missing}"
    );
    let not_a_key = message(https(TlsFiles {
        client_key: Some(file("client.pem")),
        ..with_client_cert()
    }));
    assert!(not_a_key.starts_with("--tls-client-key"), "{not_a_key}");
    let not_a_certificate = message(https(TlsFiles {
        ca_bundle: Some(file("client.key")),
        ..with_client_cert()
    }));
    assert!(
        not_a_certificate.starts_with("--tls-ca-bundle"),
        "{not_a_certificate}"
    );
    let wrong_key = message(https(TlsFiles {
        client_key: Some(file("server.key")),
        ..with_client_cert()
    }));
    assert!(wrong_key.contains("client certificate"), "{wrong_key}");

    let half = message(https(TlsFiles {
        client_key: None,
        ..with_client_cert()
    }));
    assert_eq!(half, "--tls-client-cert needs --tls-client-key");

    let mut plain = RuntimeConfig::new("http://127.0.0.1:8091/mcp");
    plain.tls = with_client_cert();
    assert!(matches!(
        Runtime::new(&plain),
        Err(ConfigError::TlsNeedsHttps)
    ));

    let mut mtls_without_certificate = https(TlsFiles::default());
    mtls_without_certificate.require_client_certificate = true;
    assert!(matches!(
        Runtime::new(&mtls_without_certificate),
        Err(ConfigError::MtlsNeedsCertificate)
    ));
}
