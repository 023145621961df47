//! What the adapter does to the headers of every request it sends to the runtime.
//!
//! | Header on the local client's request | Sent to the runtime |
//! |---|---|
//! | a governance header (the configured names **and** MR's defaults: human, agent, team, session) | removed; the adapter's own values are set instead (a value the adapter has none for stays absent) |
//! | `Authorization`, `Proxy-Authorization`, `Cookie`, the configured token header | removed; the adapter's token is set when it has one |
//! | `Host` | the runtime URL's authority, or `--host-header` |
//! | `Origin` | removed (the runtime would judge it against its own origin; the adapter checked it) |
//! | hop-by-hop headers (`Connection`, `Keep-Alive`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`, and those `Connection` names) | removed |
//! | everything else (`Mcp-Session-Id`, `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Last-Event-ID`, `Accept`, `Content-Type`, …) | passed unchanged |
//!
//! Removing before setting means a local client can never add to, or repeat, the identity the
//! adapter asserts: the gateway treats a repeated governance header as absent, so appending
//! would let a client turn the adapter's identity into none at all.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::config::{ConfigError, RuntimeConfig};
use mcp_runtime_protocol::{governance, hop_by_hop};

/// The prepared header rules of one adapter (names parsed and values checked once).
#[derive(Clone)]
pub struct HeaderRules {
    /// Removed from every request before the adapter's own headers are set.
    strip: Vec<HeaderName>,
    /// Set on every request (identity values and the token).
    inject: Vec<(HeaderName, HeaderValue)>,
    /// `Host` to send, when `--host-header` overrides the runtime URL's authority.
    host: Option<HeaderValue>,
}

impl std::fmt::Debug for HeaderRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are not printed: one of them may be the token.
        f.debug_struct("HeaderRules")
            .field("strip", &self.strip)
            .field(
                "inject",
                &self.inject.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("host", &self.host)
            .finish()
    }
}

fn header_name(flag: &str, value: &str) -> Result<HeaderName, ConfigError> {
    HeaderName::from_bytes(value.trim().as_bytes()).map_err(|_| ConfigError::HeaderName {
        flag: flag.to_owned(),
        value: value.to_owned(),
    })
}

fn header_value(flag: &str, value: &str) -> Result<HeaderValue, ConfigError> {
    HeaderValue::from_str(value.trim()).map_err(|_| ConfigError::HeaderValue {
        flag: flag.to_owned(),
    })
}

impl HeaderRules {
    /// The rules for `config`; a header name or value that HTTP cannot carry is an error
    /// naming its flag (never its value, which may be the token).
    pub fn new(config: &RuntimeConfig) -> Result<HeaderRules, ConfigError> {
        let names = &config.header_names;
        let identity = &config.identity;
        let configured = [
            (
                "--human-id-header",
                &names.human,
                "--human-id",
                &identity.human,
            ),
            (
                "--agent-id-header",
                &names.agent,
                "--agent-id",
                &identity.agent,
            ),
            ("--team-id-header", &names.team, "--team-id", &identity.team),
            (
                "--session-id-header",
                &names.session,
                "--session-id",
                &identity.session,
            ),
        ];
        let mut strip: Vec<HeaderName> = Vec::new();
        let mut add_strip = |name: HeaderName| {
            if !strip.contains(&name) {
                strip.push(name);
            }
        };
        for name in hop_by_hop::HOP_BY_HOP {
            add_strip(HeaderName::from_static(name));
        }
        for default in [
            governance::HUMAN_ID_HEADER,
            governance::AGENT_ID_HEADER,
            governance::TEAM_ID_HEADER,
            governance::SESSION_ID_HEADER,
        ] {
            add_strip(header_name("default", default)?);
        }
        add_strip(header::AUTHORIZATION);
        add_strip(header::COOKIE);
        add_strip(header::HOST);
        add_strip(header::ORIGIN);
        let token_header = header_name("--auth-header", &config.token_header)?;
        add_strip(token_header.clone());

        let mut inject = Vec::new();
        for (name_flag, name, value_flag, value) in configured {
            let name = header_name(name_flag, name)?;
            add_strip(name.clone());
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                inject.push((name, header_value(value_flag, value)?));
            }
        }
        if let Some(token) = &config.token {
            let mut value = header_value("--token", &token.header_value(&token_header))?;
            value.set_sensitive(true);
            inject.push((token_header, value));
        }
        let host = config
            .host_header
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            .map(|h| header_value("--host-header", h))
            .transpose()?;
        Ok(HeaderRules {
            strip,
            inject,
            host,
        })
    }

    /// Rewrites the headers of a request for the runtime: removes what a local client may not
    /// set (the table in the module docs), then sets the adapter's own headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        strip_hop_by_hop(headers);
        for name in &self.strip {
            headers.remove(name);
        }
        for (name, value) in &self.inject {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(host) = &self.host {
            headers.insert(header::HOST, host.clone());
        }
    }
}

pub use mcp_runtime_protocol::hop_by_hop::strip as strip_hop_by_hop;
