//! GET of a small JSON document over http(s), with a timeout and a size limit.

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// How TLS files would be named in messages: the issuer is trusted through the system's trust
/// store only, so none is read today.
const TLS_NAMES: mcp_runtime_tls::FileNames = mcp_runtime_tls::FileNames {
    ca_bundle: "the system trust store (no CA bundle option for issuers yet)",
    client_cert: "no client certificate",
    client_key: "no client key",
};

/// Metadata and key sets are small; anything bigger is refused.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Why a fetch failed (a message for logs, `/ready` and the 503 body's audit).
pub(crate) type FetchError = String;

#[derive(Clone, Debug)]
pub(crate) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    allow_http: bool,
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration, allow_http: bool) -> Result<Fetcher, FetchError> {
        let files = mcp_runtime_tls::TlsFiles::default();
        let tls = mcp_runtime_tls::client_config(&files, TLS_NAMES, true).or_else(|error| {
            tracing::warn!(%error, "no system trust store: https issuers cannot be verified");
            mcp_runtime_tls::client_config(&files, TLS_NAMES, false)
        });
        let tls = tls.map_err(|error| format!("TLS client settings: {error}"))?;
        let connector = mcp_runtime_tls::connector(tls, timeout);
        Ok(Fetcher {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
            allow_http,
        })
    }

    /// Whether `url` may be fetched: `https`, or `http` to a loopback host (or with the opt-in).
    pub(crate) fn check_scheme(&self, url: &Uri) -> Result<(), FetchError> {
        match url.scheme_str() {
            Some("https") => Ok(()),
            Some("http") if self.allow_http || url.host().is_some_and(is_loopback) => Ok(()),
            Some("http") => Err(format!(
                "{url}: plain http is only used for a loopback host unless OAUTH_ALLOW_HTTP_ISSUER is set"
            )),
            _ => Err(format!("{url}: not an http(s) URL")),
        }
    }

    /// GETs `url` and parses its JSON body. Only 200 counts.
    pub(crate) async fn json(&self, url: &Uri) -> Result<serde_json::Value, FetchError> {
        self.check_scheme(url)?;
        let request = http::Request::get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|error| format!("{url}: {error}"))?;
        let fetch = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| format!("{url}: {}", error_chain(&error)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|error| format!("{url}: reading the body: {error}"))?
                .to_bytes();
            if status != http::StatusCode::OK {
                return Err(format!("{url}: HTTP {status}"));
            }
            serde_json::from_slice(&body).map_err(|error| format!("{url}: not JSON ({error})"))
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| format!("{url}: no answer within {:?}", self.timeout))?
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}
