//! The client side: one pooled HTTP/1.1 client (rustls for `https`) to the runtime URL, with
//! the header rules applied to every request.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};
use http::{Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::{ConfigError, RuntimeConfig, TlsFlags};
use crate::headers::HeaderRules;

/// How long a TCP connection to the runtime may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The runtime the adapter forwards to.
#[derive(Clone)]
pub struct Runtime {
    url: Uri,
    /// The URL as printed in messages (it carries no credentials: those are refused).
    display: Arc<str>,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    rules: HeaderRules,
    protocol_version: Option<HeaderValue>,
    request_timeout: Option<Duration>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("url", &self.display)
            .field("rules", &self.rules)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// A request the runtime did not answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No connection, a TLS failure, or the connection broke before the response headers.
    #[error("the runtime at {url} is unreachable: {detail}")]
    Unreachable {
        /// The runtime URL.
        url: Arc<str>,
        /// The cause (its whole chain, on one line).
        detail: String,
    },
    /// No response headers within `--request-timeout`.
    #[error("the runtime at {url} did not answer within {timeout:?}")]
    Timeout {
        /// The runtime URL.
        url: Arc<str>,
        /// The limit.
        timeout: Duration,
    },
}

impl SendError {
    /// The HTTP status a proxy answers with: 504 for a timeout, else 502.
    pub fn status(&self) -> http::StatusCode {
        match self {
            SendError::Unreachable { .. } => http::StatusCode::BAD_GATEWAY,
            SendError::Timeout { .. } => http::StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// An error with its sources, on one line (`client error (Connect): tcp connect error: …`).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

fn parse_url(raw: &str) -> Result<(Uri, bool), ConfigError> {
    let fail = |reason: &str| ConfigError::Url {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    if !raw.contains("://") {
        return Err(fail(
            "not an absolute URL (expected e.g. https://mcp.example.com/notes/mcp)",
        ));
    }
    let uri: Uri = raw
        .trim()
        .parse()
        .map_err(|_| fail("not a URL (expected e.g. https://mcp.example.com/notes/mcp)"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        Some(_) => return Err(fail("the scheme must be http or https")),
        None => {
            return Err(fail(
                "not an absolute URL (expected e.g. https://mcp.example.com/notes/mcp)",
            ));
        }
    };
    let Some(authority) = uri.authority() else {
        return Err(fail("the URL names no host"));
    };
    if authority.as_str().contains('@') {
        return Err(fail(
            "credentials in the URL are not supported: use --token (or MCP_RUNTIME_TOKEN)",
        ));
    }
    if authority.host().is_empty() {
        return Err(fail("the URL names no host"));
    }
    Ok((uri, https))
}

/// How the adapter's TLS flags are named in messages.
const FLAGS: mcp_runtime_tls::FileNames = mcp_runtime_tls::FileNames {
    ca_bundle: "--tls-ca-bundle",
    client_cert: "--tls-client-cert",
    client_key: "--tls-client-key",
};

impl Runtime {
    /// A client for `config`; errors name the flag at fault. Needs a Tokio runtime only when
    /// requests are sent.
    pub fn new(config: &RuntimeConfig) -> Result<Runtime, ConfigError> {
        let (url, https) = parse_url(&config.url)?;
        config
            .tls
            .validate(https, config.require_client_certificate)?;
        let rules = HeaderRules::new(config)?;
        let protocol_version = config
            .protocol_version
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                HeaderValue::from_str(v.trim()).map_err(|_| ConfigError::HeaderValue {
                    flag: "--protocol-version".to_owned(),
                })
            })
            .transpose()?;
        let tls = mcp_runtime_tls::client_config(&config.tls, FLAGS, https)?;
        let connector = mcp_runtime_tls::connector(tls, CONNECT_TIMEOUT);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Runtime {
            display: Arc::from(url.to_string()),
            url,
            client,
            rules,
            protocol_version,
            request_timeout: config.request_timeout.filter(|t| !t.is_zero()),
        })
    }

    /// The runtime URL, for messages.
    pub fn url(&self) -> &str {
        &self.display
    }

    /// The `MCP-Protocol-Version` configured with `--protocol-version`.
    pub(crate) fn protocol_version(&self) -> Option<&HeaderValue> {
        self.protocol_version.as_ref()
    }

    /// Sends one request to the runtime URL: `headers` are rewritten by the header rules first.
    /// Resolves when the response headers arrive; the body streams as the runtime sends it.
    pub async fn send(
        &self,
        method: Method,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Result<Response<Incoming>, SendError> {
        self.rules.apply(&mut headers);
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = self.url.clone();
        *request.headers_mut() = headers;
        let sent = self.client.request(request);
        let result = match self.request_timeout {
            Some(timeout) => match tokio::time::timeout(timeout, sent).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(SendError::Timeout {
                        url: self.display.clone(),
                        timeout,
                    });
                }
            },
            None => sent.await,
        };
        result.map_err(|error| SendError::Unreachable {
            url: self.display.clone(),
            detail: chain(&error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_with_one_line_reasons() {
        for (url, reason) in [
            ("not a url", "not an absolute URL"),
            ("https://exa mple.com/mcp", "not a URL"),
            ("ftp://example.com/mcp", "scheme must be http or https"),
            ("/mcp", "not an absolute URL"),
            ("mcp.example.com/notes/mcp", "not an absolute URL"),
            ("https://", "not a URL"),
            (
                "https://user:secret@example.com/mcp",
                "credentials in the URL",
            ),
        ] {
            let error = parse_url(url).expect_err(url).to_string();
            assert!(error.contains(reason), "{url}: {error}");
            assert!(!error.contains('\n'), "{url}: {error}");
            assert!(error.starts_with("--runtime-url"), "{url}: {error}");
        }
        assert!(
            parse_url("https://mcp.example.com/notes/mcp")
                .expect("https")
                .1
        );
        assert!(!parse_url("http://127.0.0.1:8091/mcp").expect("http").1);
    }
}
