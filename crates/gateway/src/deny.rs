//! Encodings of a policy denial.
//!
//! Every denial carries MR's reason code ([`Reason::as_str`]). Two encodings:
//!
//! ## [`DenyEncoding::JsonRpc`] (default)
//!
//! A JSON-RPC error response with the request's `id`, `Content-Type: application/json`, and
//! `error.data = {"reason": <MR code>, "http_status": <MR class>}`. For `missing_identity` and
//! `missing_session` outside OAuth, `data` also carries `adapter_required: true` and
//! `required_headers` (the four governance header names), as MR's body does.
//!
//! | MR class | HTTP | JSON-RPC code | message |
//! |---|---|---|---|
//! | 403 policy (`tool_denied`, `trust_too_low`, `undecided`, …), request | **200** | -32602 | `Tool call denied: <reason>` |
//! | 403 policy, notification (no id) | 403 | -32602 | same, `id: null` |
//! | 403 `rpc_inspection_failed` | 400 | -32600 | `Invalid request: <reason>` |
//! | 401 identity / session / authentication | **401** | -32600 | `Unauthorized: <reason>` |
//! | 404 (`oauth_not_enabled`) | 404 | -32601 | `Not found: <reason>` |
//! | 5xx (`policy_unavailable`, `upstream_error`, …) | same 5xx | -32603 | `Gateway error: <reason>` |
//!
//! Why:
//!
//! * **HTTP 200 for policy denials** of a request: real clients surface a 200 + JSON-RPC error
//!   as a clean protocol error, while a 403 becomes an opaque transport error in TS clients
//!   (transport reference §9.3, §9.4; agentgateway and Pomerium moved the same way).
//! * **-32602** is the code MCP uses for a tool the caller cannot call ("Unknown tool"), and it
//!   is spec-defined in every revision. -32001 / -32003 sit in the legacy
//!   implementation-defined range -32000..-32019 that 2026-07-28 says new implementations
//!   should not use, and -32020..-32099 is reserved for the spec. The message is not disguised
//!   as "Unknown tool": `data.reason` says why anyway, so honesty costs nothing.
//! * **401 stays 401**: clients need the status (and, with OAuth, `WWW-Authenticate`) to start
//!   authentication. The body is still a JSON-RPC error so the reason is readable.
//! * **Notifications** get no JSON-RPC response, so a denied one is answered with a 4xx and an
//!   id-less error body (§9.4) rather than a 200 that would read as "accepted".
//! * **5xx stays 5xx**: the gateway could not decide; that is retryable infrastructure trouble,
//!   not a verdict about the tool.
//!
//! ## [`DenyEncoding::Http`] (`DENY_ENCODING=http`)
//!
//! MR's `writeDeniedResponse`, byte for byte: the decision's status, `application/json`, body
//! `{"error":"<reason>"}` plus, for `missing_identity` / `missing_session` outside OAuth,
//! `message`, `adapter_required: true` and `required_headers`. Like Go's `encoding/json` on a
//! map, keys are sorted, `<`, `>`, `&`, U+2028 and U+2029 are `\u`-escaped, and the body ends
//! in a newline.
//!
//! In both encodings, with OAuth, `missing_bearer_token` and `invalid_token` carry MR's
//! challenge: `Bearer realm="mcp-runtime", resource_metadata="<url>"` (+ `, error="invalid_token"`).
//!
//! An *allowed* decision passed here is a caller bug; it is encoded as `undecided` (403 class)
//! so the mistake fails closed.

use std::fmt;
use std::str::FromStr;

use mcp_runtime_policy::{AuthSettings, Decision, Reason};
use serde_json::{Map, Value, json};

use crate::codes::{INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND};

/// The environment variable selecting the encoding.
pub const DENY_ENCODING_ENV: &str = "DENY_ENCODING";

/// The content type of every denial body.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// MR's `message` for `missing_identity` and `missing_session` (`proxy.go: gatewayDeniedPayload`).
pub const ADAPTER_REQUIRED_MESSAGE: &str = "This MCP server uses MCP Runtime header/session \
governance. Direct clients must connect through the mcp-runtime adapter proxy or stdio adapter, \
or send an adapter-issued identity/session.";

/// How denials are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DenyEncoding {
    /// JSON-RPC error responses (the default).
    #[default]
    JsonRpc,
    /// MR's HTTP bodies (`DENY_ENCODING=http`).
    Http,
}

/// An unknown `DENY_ENCODING` value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown deny encoding {0:?}: expected \"jsonrpc\" or \"http\"")]
pub struct UnknownDenyEncoding(pub String);

impl FromStr for DenyEncoding {
    type Err = UnknownDenyEncoding;

    /// `jsonrpc` (also `json-rpc` or empty) or `http`, case-insensitive.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = value.trim();
        if trimmed.is_empty()
            || trimmed.eq_ignore_ascii_case("jsonrpc")
            || trimmed.eq_ignore_ascii_case("json-rpc")
        {
            Ok(DenyEncoding::JsonRpc)
        } else if trimmed.eq_ignore_ascii_case("http") {
            Ok(DenyEncoding::Http)
        } else {
            Err(UnknownDenyEncoding(value.to_owned()))
        }
    }
}

impl fmt::Display for DenyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DenyEncoding::JsonRpc => "jsonrpc",
            DenyEncoding::Http => "http",
        })
    }
}

/// The four governance header names MR lists in `required_headers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GovernanceHeaders<'a> {
    /// Human ID header.
    pub human: &'a str,
    /// Agent ID header.
    pub agent: &'a str,
    /// Team ID header.
    pub team: &'a str,
    /// Agent session header.
    pub session: &'a str,
}

impl GovernanceHeaders<'static> {
    /// MR's defaults.
    pub const DEFAULT: GovernanceHeaders<'static> = GovernanceHeaders {
        human: mcp_runtime_protocol::governance::HUMAN_ID_HEADER,
        agent: mcp_runtime_protocol::governance::AGENT_ID_HEADER,
        team: mcp_runtime_protocol::governance::TEAM_ID_HEADER,
        session: mcp_runtime_protocol::governance::SESSION_ID_HEADER,
    };
}

impl Default for GovernanceHeaders<'static> {
    fn default() -> Self {
        GovernanceHeaders::DEFAULT
    }
}

impl<'a> GovernanceHeaders<'a> {
    /// The policy's header names, trimmed, each defaulting to MR's when blank.
    pub fn from_auth(auth: &'a AuthSettings) -> Self {
        let pick = |configured: &'a str, default: &'static str| -> &'a str {
            match configured.trim() {
                "" => default,
                name => name,
            }
        };
        let default = GovernanceHeaders::DEFAULT;
        GovernanceHeaders {
            human: pick(&auth.human_id_header, default.human),
            agent: pick(&auth.agent_id_header, default.agent),
            team: pick(&auth.team_id_header, default.team),
            session: pick(&auth.session_id_header, default.session),
        }
    }

    /// Human, agent, team, session: MR's order.
    pub fn names(&self) -> [&'a str; 4] {
        [self.human, self.agent, self.team, self.session]
    }
}

/// The gateway's authentication style, which shapes identity denials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthStyle<'a> {
    /// `none` or `header`: identity denials name the governance headers.
    Headers(GovernanceHeaders<'a>),
    /// `mtls`: certificate denials say a client certificate is required (MR's
    /// `client_certificate_required: true`); bodies carry no adapter hints, since headers
    /// cannot identify anyone in this mode.
    Mtls,
    /// `oauth`: bearer denials carry a `WWW-Authenticate` challenge pointing at this
    /// protected-resource metadata URL; bodies carry no adapter hints.
    OAuth {
        /// `<public URL>/.well-known/oauth-protected-resource<path>`.
        resource_metadata_url: &'a str,
    },
}

impl Default for AuthStyle<'static> {
    fn default() -> Self {
        AuthStyle::Headers(GovernanceHeaders::DEFAULT)
    }
}

/// A denial ready to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
    /// `WWW-Authenticate`, when the denial is an OAuth challenge.
    pub www_authenticate: Option<String>,
}

/// Encodes a denial. `id` is the request's JSON-RPC id (`None` for a notification or when
/// unknown); only the JSON-RPC encoding uses it.
pub fn encode_denial(
    encoding: DenyEncoding,
    decision: &Decision,
    id: Option<&Value>,
    auth: &AuthStyle<'_>,
) -> DenyResponse {
    match encoding {
        DenyEncoding::JsonRpc => encode_jsonrpc(decision, id, auth),
        DenyEncoding::Http => encode_http(decision, auth),
    }
}

/// The reason and MR HTTP class to encode; allowed decisions fail closed as `undecided`.
fn denial_of(decision: &Decision) -> (Reason, u16) {
    if decision.allowed || decision.reason == Reason::Allowed {
        return (Reason::Undecided, Reason::Undecided.http_status());
    }
    let status = if (400..=599).contains(&decision.http_status) {
        decision.http_status
    } else {
        decision.reason.http_status()
    };
    let status = if status < 400 { 403 } else { status };
    (decision.reason, status)
}

fn adapter_hints<'a>(reason: Reason, auth: &AuthStyle<'a>) -> Option<GovernanceHeaders<'a>> {
    match (reason, auth) {
        (Reason::MissingIdentity | Reason::MissingSession, AuthStyle::Headers(headers)) => {
            Some(*headers)
        }
        _ => None,
    }
}

/// MR marks the mTLS authentication reasons with `client_certificate_required: true`.
fn needs_client_certificate(reason: Reason, auth: &AuthStyle<'_>) -> bool {
    matches!(auth, AuthStyle::Mtls) && reason.stage() == mcp_runtime_policy::Stage::MtlsAuth
}

fn challenge(reason: Reason, status: u16, auth: &AuthStyle<'_>) -> Option<String> {
    let AuthStyle::OAuth {
        resource_metadata_url,
    } = auth
    else {
        return None;
    };
    if status != 401 || !matches!(reason, Reason::MissingBearerToken | Reason::InvalidToken) {
        return None;
    }
    let mut value =
        format!("Bearer realm=\"mcp-runtime\", resource_metadata=\"{resource_metadata_url}\"");
    if reason == Reason::InvalidToken {
        value.push_str(", error=\"invalid_token\"");
    }
    Some(value)
}

fn encode_jsonrpc(decision: &Decision, id: Option<&Value>, auth: &AuthStyle<'_>) -> DenyResponse {
    let (reason, class) = denial_of(decision);
    let id = id
        .filter(|id| matches!(id, Value::String(_) | Value::Number(_)))
        .cloned();
    let (status, code, label) = match class {
        401 => (401, INVALID_REQUEST, "Unauthorized"),
        404 => (404, METHOD_NOT_FOUND, "Not found"),
        403 if reason == Reason::RpcInspectionFailed => (400, INVALID_REQUEST, "Invalid request"),
        400..=499 => (
            if id.is_some() { 200 } else { 403 },
            INVALID_PARAMS,
            "Tool call denied",
        ),
        _ => (class, INTERNAL_ERROR, "Gateway error"),
    };
    let mut data = Map::new();
    data.insert("reason".to_owned(), Value::from(reason.as_str()));
    data.insert("http_status".to_owned(), Value::from(class));
    if let Some(headers) = adapter_hints(reason, auth) {
        data.insert("adapter_required".to_owned(), Value::Bool(true));
        data.insert("required_headers".to_owned(), json!(headers.names()));
    }
    if needs_client_certificate(reason, auth) {
        data.insert("client_certificate_required".to_owned(), Value::Bool(true));
    }
    let body = json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": {
            "code": code,
            "message": format!("{label}: {reason}"),
            "data": data,
        },
    });
    DenyResponse {
        status,
        content_type: JSON_CONTENT_TYPE,
        body: body.to_string().into_bytes(),
        www_authenticate: challenge(reason, class, auth),
    }
}

fn encode_http(decision: &Decision, auth: &AuthStyle<'_>) -> DenyResponse {
    let (reason, status) = denial_of(decision);
    // Go encodes a map with sorted keys; insert in that order (serde_json keeps it).
    let mut payload = Map::new();
    let hints = adapter_hints(reason, auth);
    if hints.is_some() {
        payload.insert("adapter_required".to_owned(), Value::Bool(true));
    }
    if needs_client_certificate(reason, auth) {
        payload.insert("client_certificate_required".to_owned(), Value::Bool(true));
    }
    payload.insert("error".to_owned(), Value::from(reason.as_str()));
    if let Some(headers) = hints {
        payload.insert("message".to_owned(), Value::from(ADAPTER_REQUIRED_MESSAGE));
        payload.insert("required_headers".to_owned(), json!(headers.names()));
    }
    let mut body = go_json_escape(&Value::Object(payload).to_string()).into_bytes();
    body.push(b'\n');
    DenyResponse {
        status,
        content_type: JSON_CONTENT_TYPE,
        body,
        www_authenticate: challenge(reason, status, auth),
    }
}

/// Applies Go `encoding/json`'s HTML-safe escaping to serialized JSON. These characters can
/// only occur inside strings, so a textual replacement is exact.
fn go_json_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_escape_matches_encoding_json() {
        assert_eq!(
            go_json_escape(r#"{"a":"<b>&\u2028"}"#),
            r#"{"a":"\u003cb\u003e\u0026\u2028"}"#
        );
        assert_eq!(go_json_escape("x\u{2029}y"), "x\\u2029y");
    }

    #[test]
    fn deny_encoding_parses_env_values() {
        assert_eq!("http".parse(), Ok(DenyEncoding::Http));
        assert_eq!(" HTTP ".parse(), Ok(DenyEncoding::Http));
        assert_eq!("jsonrpc".parse(), Ok(DenyEncoding::JsonRpc));
        assert_eq!("".parse(), Ok(DenyEncoding::JsonRpc));
        assert!("grpc".parse::<DenyEncoding>().is_err());
    }
}
