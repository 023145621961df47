//! The adapter's configuration, as values (the CLI fills them from flags and environment).

use std::time::Duration;

use http::HeaderName;
use mcp_runtime_protocol::governance;

/// Where to forward and what to assert there.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The MCP endpoint of the server behind the gateway, e.g.
    /// `https://mcp.example.com/notes/mcp` (`http` or `https`).
    pub url: String,
    /// The identity the adapter asserts.
    pub identity: Identity,
    /// The names of the governance headers (the gateway's `auth.*Header` settings).
    pub header_names: HeaderNames,
    /// A bearer token sent on every request in [`RuntimeConfig::token_header`].
    pub token: Option<Token>,
    /// The header carrying the token (default `Authorization`).
    pub token_header: String,
    /// `Host` to send instead of the runtime URL's authority.
    pub host_header: Option<String>,
    /// `MCP-Protocol-Version` to send when the client's request carries none (not on
    /// `initialize`, which negotiates it).
    pub protocol_version: Option<String>,
    /// How long to wait for the runtime's response headers (a stream that has started is never
    /// cut); `None`: no limit.
    pub request_timeout: Option<Duration>,
    /// TLS settings for an `https` runtime URL.
    pub tls: TlsFiles,
    /// `--auth mtls`: a client certificate is required (and the URL must be `https`).
    pub require_client_certificate: bool,
}

impl RuntimeConfig {
    /// A configuration for `url` with MR's header names and nothing asserted yet.
    pub fn new(url: impl Into<String>) -> RuntimeConfig {
        RuntimeConfig {
            url: url.into(),
            identity: Identity::default(),
            header_names: HeaderNames::default(),
            token: None,
            token_header: governance::TOKEN_HEADER.to_owned(),
            host_header: None,
            protocol_version: None,
            request_timeout: None,
            tls: TlsFiles::default(),
            require_client_certificate: false,
        }
    }
}

/// The identity asserted to the gateway; a field left `None` (or empty) is sent as no header.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// The human the agent acts for.
    pub human: Option<String>,
    /// The agent.
    pub agent: Option<String>,
    /// The team.
    pub team: Option<String>,
    /// The agent session (an MCPAgentSession's name).
    pub session: Option<String>,
}

/// The governance header names; MR's by default.
#[derive(Clone, Debug)]
pub struct HeaderNames {
    /// Human identity header.
    pub human: String,
    /// Agent identity header.
    pub agent: String,
    /// Team identity header.
    pub team: String,
    /// Agent session header.
    pub session: String,
}

impl Default for HeaderNames {
    fn default() -> Self {
        HeaderNames {
            human: governance::HUMAN_ID_HEADER.to_owned(),
            agent: governance::AGENT_ID_HEADER.to_owned(),
            team: governance::TEAM_ID_HEADER.to_owned(),
            session: governance::SESSION_ID_HEADER.to_owned(),
        }
    }
}

/// A bearer token. Never printed: `Debug` shows only that there is one.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token value.
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    /// The header value: `Bearer <token>` in `Authorization` (unless the token already names its
    /// scheme), the token itself in any other header.
    pub(crate) fn header_value(&self, header: &HeaderName) -> String {
        let token = self.0.trim();
        let has_scheme = token
            .split_once(' ')
            .is_some_and(|(scheme, rest)| !rest.trim().is_empty() && !scheme.is_empty());
        if *header == http::header::AUTHORIZATION && !has_scheme {
            format!("Bearer {token}")
        } else {
            token.to_owned()
        }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

pub use mcp_runtime_tls::TlsFiles;

/// The adapter's rules for its TLS flags.
pub(crate) trait TlsFlags {
    fn validate(&self, https: bool, required: bool) -> Result<(), ConfigError>;
}

impl TlsFlags for TlsFiles {
    fn validate(&self, https: bool, required: bool) -> Result<(), ConfigError> {
        let any =
            self.ca_bundle.is_some() || self.client_cert.is_some() || self.client_key.is_some();
        if !https && any {
            return Err(ConfigError::TlsNeedsHttps);
        }
        match (&self.client_cert, &self.client_key) {
            (Some(_), None) => {
                return Err(ConfigError::Pair("--tls-client-cert", "--tls-client-key"));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Pair("--tls-client-key", "--tls-client-cert"));
            }
            (None, None) if required => return Err(ConfigError::MtlsNeedsCertificate),
            _ => {}
        }
        if required && !https {
            return Err(ConfigError::TlsNeedsHttps);
        }
        Ok(())
    }
}

/// A configuration the adapter cannot run with. Each message is one line naming the flag.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The runtime URL does not parse, or is not `http`/`https` with a host.
    #[error("--runtime-url {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header name flag holds something that is not an HTTP header name.
    #[error("{flag} {value:?} is not a valid HTTP header name")]
    HeaderName {
        /// The flag.
        flag: String,
        /// Its value.
        value: String,
    },
    /// A value cannot be carried in an HTTP header (control characters, a line break…).
    #[error(
        "{flag}: the value cannot be sent in an HTTP header (control characters or non-ASCII bytes)"
    )]
    HeaderValue {
        /// The flag.
        flag: String,
    },
    /// TLS files were given for an `http` URL (or `--auth mtls` with one).
    #[error("the --tls-* flags and --auth mtls need an https --runtime-url")]
    TlsNeedsHttps,
    /// One of the client certificate and its key without the other.
    #[error("{0} needs {1}")]
    Pair(&'static str, &'static str),
    /// `--auth mtls` without a client certificate.
    #[error("--auth mtls needs --tls-client-cert and --tls-client-key")]
    MtlsNeedsCertificate,
    /// A PEM file that cannot be read or holds nothing usable, or a configuration rustls refuses
    /// (e.g. a key that does not match the certificate).
    #[error(transparent)]
    Tls(#[from] mcp_runtime_tls::TlsError),
}
