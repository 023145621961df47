//! TLS for the data plane. The HTTPS client side: one rustls configuration (ring, never OpenSSL) from
//! the system trust store or a CA bundle, with an optional client certificate, and the hyper
//! connector that speaks `http` and `https` with it.
//!
//! The adapter (to a runtime URL, possibly with mTLS) and the audit sink (to an `https` Sentinel
//! ingest) both use it, so certificate handling has one set of rules and one set of errors.
//! The server side ([`ReloadingServerConfig`]) is the gateway's own TLS listener in
//! `auth.mode: mtls`, with hot reload of its files.

mod server;

pub use server::{
    GATEWAY_FILE_NAMES, PeerCertificate, ReloadingServerConfig, ServerFileNames, ServerTlsFiles,
};

use hyper_rustls::{ConfigBuilderExt, HttpsConnector};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The PEM files of a TLS client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificates to trust instead of the system's trust store.
    pub ca_bundle: Option<PathBuf>,
    /// The client certificate chain to present.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<PathBuf>,
}

/// How the caller names each file in messages: a flag (`--tls-ca-bundle`) or a variable
/// (`ANALYTICS_CA_BUNDLE`).
#[derive(Clone, Copy, Debug)]
pub struct FileNames {
    pub ca_bundle: &'static str,
    pub client_cert: &'static str,
    pub client_key: &'static str,
}

/// A TLS setting that cannot be used. Each message is one line naming the file's flag or
/// variable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{name} {path}: {reason}")]
    Pem {
        name: &'static str,
        path: String,
        reason: String,
    },
    #[error("{0}")]
    Tls(String),
}

fn pem_error(name: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::Pem {
        name,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads a PEM file (a missing or unreadable file is reported as the I/O error, not as "no
/// certificate").
fn read_pem(name: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| pem_error(name, path, error))
}

fn certificates(
    name: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(name, path, format!("not PEM certificates ({error})")))?;
    if certificates.is_empty() {
        return Err(pem_error(name, path, "contains no PEM certificate"));
    }
    Ok(certificates)
}

/// The CA certificates of a bundle, as a trust store.
fn roots(name: &'static str, path: &Path, pem: &[u8]) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(name, path, pem)? {
        roots
            .add(certificate)
            .map_err(|error| pem_error(name, path, format!("not a CA certificate ({error})")))?;
    }
    Ok(roots)
}

/// The rustls client configuration for `files`. Without a CA bundle the system trust store is
/// used, except when `https` is false (an `http` URL never uses it, so none is required).
pub fn client_config(
    files: &TlsFiles,
    names: FileNames,
    https: bool,
) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Tls(error.to_string()))?;
    let builder = match &files.ca_bundle {
        Some(path) => builder.with_root_certificates(roots(
            names.ca_bundle,
            path,
            &read_pem(names.ca_bundle, path)?,
        )?),
        None if !https => builder.with_root_certificates(rustls::RootCertStore::empty()),
        None => builder.with_native_roots().map_err(|error| {
            TlsError::Tls(format!(
                "no system trust store ({error}); give the server's CA with {}",
                names.ca_bundle
            ))
        })?,
    };
    // hyper-rustls sets ALPN (http/1.1) itself.
    let config = match (&files.client_cert, &files.client_key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(names.client_cert, cert, &read_pem(names.client_cert, cert)?)?;
            let pem = read_pem(names.client_key, key)?;
            let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
                pem_error(
                    names.client_key,
                    key,
                    format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) ({error})"),
                )
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| TlsError::Tls(format!("client certificate: {error}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// A rustls server configuration: the certificate chain and key a server presents, and, when
/// `client_ca` is given, client certificates required and verified against it (mTLS).
pub fn server_config(
    cert_chain: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    names: FileNames,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(
        names.client_cert,
        cert_chain,
        &read_pem(names.client_cert, cert_chain)?,
    )?;
    let pem = read_pem(names.client_key, key)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
        pem_error(
            names.client_key,
            key,
            format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) ({error})"),
        )
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Tls(error.to_string()))?;
    let builder = match client_ca {
        Some(path) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(
                    names.ca_bundle,
                    path,
                    &read_pem(names.ca_bundle, path)?,
                )?),
                provider,
            )
            .build()
            .map_err(|error| TlsError::Tls(format!("client verifier: {error}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|error| TlsError::Tls(format!("server certificate: {error}")))
}

/// A connector for `http` and `https` URLs with `tls`, `TCP_NODELAY` and a connect timeout.
pub fn connector(
    tls: rustls::ClientConfig,
    connect_timeout: Duration,
) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}
