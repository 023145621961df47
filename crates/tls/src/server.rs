//! The server side: the gateway terminating TLS itself (`auth.mode: mtls`).
//!
//! [`ReloadingServerConfig`] holds the rustls configuration built from a certificate chain, its
//! key and, optionally, a client CA bundle, and rebuilds it when any of the three files
//! changes. Handshakes that start after a reload use the new material; connections already
//! established keep the keys they negotiated. A change that does not load (a key that does not
//! match its certificate while a rotation is half-written, a truncated bundle) is reported once
//! and the last good configuration stays in use.
//!
//! With a client CA bundle, a client certificate is **verified when presented but not required
//! at the handshake**: a certificate from another CA, expired or not meant for client
//! authentication ends the handshake, while a connection without any certificate completes so
//! that the gateway can answer probes (`/health`, `/ready`) and refuse MCP requests with a
//! clear 401 `missing_client_certificate` instead of a TLS alert.
//!
//! [`PeerCertificate::parse`] reads what the gateway needs from a verified client certificate:
//! its serial (for the audit) and its URI SANs (the SPIFFE ID).

use crate::{TlsError, certificates, pem_error, read_pem, roots};
use arc_swap::ArcSwap;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The PEM files of a TLS server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// The certificate chain the server presents (leaf first).
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates that client certificates are verified against. Without it the server
    /// asks for no client certificate.
    pub client_ca: Option<PathBuf>,
}

/// How the caller names each server file in messages (the gateway's variables).
#[derive(Clone, Copy, Debug)]
pub struct ServerFileNames {
    pub cert: &'static str,
    pub key: &'static str,
    pub client_ca: &'static str,
}

/// The gateway's variable names (MR's sidecar environment).
pub const GATEWAY_FILE_NAMES: ServerFileNames = ServerFileNames {
    cert: "TLS_CERT_FILE",
    key: "TLS_KEY_FILE",
    client_ca: "TLS_CLIENT_CA_FILE",
};

/// The bytes of the three files, compared to tell whether anything changed. Comparing contents
/// rather than modification times also catches a Kubernetes Secret volume's atomic symlink
/// swap and two writes within one timestamp tick.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Contents {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl Contents {
    fn read(files: &ServerTlsFiles, names: ServerFileNames) -> Result<Self, TlsError> {
        Ok(Contents {
            cert: read_pem(names.cert, &files.cert)?,
            key: read_pem(names.key, &files.key)?,
            client_ca: files
                .client_ca
                .as_deref()
                .map(|path| read_pem(names.client_ca, path))
                .transpose()?,
        })
    }
}

/// A server configuration that follows its files (see the module documentation).
#[derive(Debug)]
pub struct ReloadingServerConfig {
    files: ServerTlsFiles,
    names: ServerFileNames,
    current: ArcSwap<rustls::ServerConfig>,
    /// The contents last looked at, loaded or not: a bad change is reported once, not at every
    /// poll.
    seen: Mutex<Contents>,
}

impl ReloadingServerConfig {
    /// Loads the files; any problem is an error naming the file's variable.
    pub fn load(files: ServerTlsFiles, names: ServerFileNames) -> Result<Self, TlsError> {
        let contents = Contents::read(&files, names)?;
        let config = build(&files, names, &contents)?;
        Ok(ReloadingServerConfig {
            files,
            names,
            current: ArcSwap::from_pointee(config),
            seen: Mutex::new(contents),
        })
    }

    /// The configuration for the next handshake.
    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        self.current.load_full()
    }

    /// The files this configuration follows.
    pub fn files(&self) -> &ServerTlsFiles {
        &self.files
    }

    /// Re-reads the files and, when they changed, rebuilds the configuration: `Ok(true)` when
    /// new material is in use, `Ok(false)` when nothing changed, and an error (once per change)
    /// when the new files do not load, in which case the last good configuration stays.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let contents = Contents::read(&self.files, self.names)?;
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *seen == contents {
            return Ok(false);
        }
        *seen = contents.clone();
        drop(seen);
        let config = build(&self.files, self.names, &contents)?;
        self.current.store(Arc::new(config));
        Ok(true)
    }
}

fn build(
    files: &ServerTlsFiles,
    names: ServerFileNames,
    contents: &Contents,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(names.cert, &files.cert, &contents.cert)?;
    let key = PrivateKeyDer::from_pem_slice(&contents.key).map_err(|error| {
        pem_error(
            names.key,
            &files.key,
            format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) ({error})"),
        )
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Tls(error.to_string()))?;
    let builder = match (&files.client_ca, &contents.client_ca) {
        (Some(path), Some(pem)) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(names.client_ca, path, pem)?),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|error| TlsError::Tls(format!("{}: {error}", names.client_ca)))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|error| TlsError::Tls(format!("{} and {}: {error}", names.cert, names.key)))?;
    // The gateway speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// What the gateway reads from a verified client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCertificate {
    /// The serial number in lowercase hex, without separators or a leading sign byte (for the
    /// audit; `openssl x509 -noout -serial` prints the same digits in upper case).
    pub serial_hex: String,
    /// Every URI subject alternative name (a SPIFFE ID is one).
    pub uri_sans: Vec<String>,
}

impl PeerCertificate {
    /// Parses a DER certificate (the leaf a client presented).
    pub fn parse(der: &[u8]) -> Result<Self, TlsError> {
        use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
        let (_, certificate) = X509Certificate::from_der(der)
            .map_err(|error| TlsError::Tls(format!("client certificate: {error}")))?;
        // The DER integer without its sign byte, as `openssl x509 -serial` prints it.
        let raw = certificate.raw_serial();
        let significant = raw
            .iter()
            .position(|&byte| byte != 0)
            .unwrap_or(raw.len().saturating_sub(1));
        let serial_hex = raw[significant..]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let uri_sans = match certificate.subject_alternative_name() {
            Ok(Some(extension)) => extension
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::URI(uri) => Some((*uri).to_owned()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(error) => {
                return Err(TlsError::Tls(format!(
                    "client certificate subjectAltName: {error}"
                )));
            }
        };
        Ok(PeerCertificate {
            serial_hex,
            uri_sans,
        })
    }
}
