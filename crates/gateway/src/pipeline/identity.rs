//! Stage 3, identity: the active policy, the identity mode it asks for, and the caller.
//! Governance headers and credentials are removed here, before anything is forwarded.
//!
//! In `oauth` mode the caller is the verified bearer token ([`mcp_runtime_oauth`]); the
//! protected-resource metadata (RFC 9728) is answered here too, since it depends on the policy.
//! In `mtls` mode the caller is the session a SPIFFE ID names ([`super::identity_mtls`]): from the
//! verified client certificate, or forwarded by the pinned proxy.

use super::audit::AuditRecord;
use super::{Step, denial, json_response};
use crate::deny::GovernanceHeaders;
use crate::proxy::{ProxyBody, ProxyConfig};
use crate::tls_listener::TlsPeer;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use mcp_runtime_policy::{
    AuthMode, CompiledPolicy, Decision, Identity, Lenient, Reason, Request as PolicyRequest,
};
use std::ops::ControlFlow;
use std::sync::Arc;

/// How callers are identified: always the active policy's `auth.mode`, read with the policy
/// itself, so a reload that changes the mode changes it atomically with everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityMode {
    /// No identity; only meaningful with an `observe` policy.
    None,
    /// Governance headers set by a trusted adapter or ingress (see docs: trust boundary).
    Header,
    /// A bearer JWT from the policy's `auth.issuer_url`, verified against its published keys.
    OAuth,
    /// A verified client certificate whose SPIFFE ID names a live session. Served only on the
    /// gateway's TLS listener; on a plain HTTP listener every MCP request is refused with 503
    /// `auth_mode_unavailable` (fail closed).
    Mtls,
    /// A mode this gateway does not know: every MCP request is refused with 503
    /// `auth_mode_unavailable` and nothing is forwarded (fail closed). Trusting headers instead
    /// would let anyone who can reach the port name themselves.
    Unavailable,
}

impl IdentityMode {
    /// The identity mode `policy` asks for. An unset `auth.mode` is `header` (MR's default; the
    /// gateway's `AUTH_MODE` fills it before the policy is activated). An unknown one never
    /// passes validation, and would fail closed if it did.
    pub fn of(policy: &CompiledPolicy) -> IdentityMode {
        match &policy.document().auth.mode {
            Lenient::Unset | Lenient::Known(AuthMode::Header) => IdentityMode::Header,
            Lenient::Known(AuthMode::None) => IdentityMode::None,
            Lenient::Known(AuthMode::Oauth) => IdentityMode::OAuth,
            Lenient::Known(AuthMode::Mtls) => IdentityMode::Mtls,
            Lenient::Unknown(_) => IdentityMode::Unavailable,
        }
    }
}

/// A request whose caller is known and whose governance headers and credentials are gone (its
/// body travels beside it).
#[derive(Debug)]
pub(crate) struct Identified {
    pub parts: http::request::Parts,
    pub policy: Arc<CompiledPolicy>,
    pub caller: Caller,
    pub names: GovernanceNames,
    /// In `oauth` mode, the protected-resource metadata URL that 401s point at.
    pub resource_metadata: Option<String>,
}

/// Loads the policy (none → 503, fail closed), refuses every request when its identity mode is
/// unavailable, answers the protected-resource metadata, authenticates the caller and scrubs
/// the headers.
pub(crate) async fn establish(
    config: &ProxyConfig,
    oauth: &OAuthState,
    request: Request<Incoming>,
    record: &mut AuditRecord,
) -> Step<(Identified, Incoming)> {
    let Some(policy) = (config.policy)() else {
        if request.method() == Method::POST {
            record.decision = Some(Decision::policy_unavailable());
        }
        return ControlFlow::Break(denial(
            config.deny_encoding,
            &Decision::policy_unavailable(),
            None,
            None,
            None,
        ));
    };
    let mode = IdentityMode::of(&policy);
    if let Some(resource_path) = protected_resource_path(request.uri().path()) {
        return ControlFlow::Break(protected_resource_metadata(
            config,
            oauth,
            &request,
            &policy,
            mode,
            resource_path,
        ));
    }
    // Looked up only in mtls mode: the other modes never read it.
    let tls_peer = match mode {
        IdentityMode::Mtls => request.extensions().get::<TlsPeer>().cloned(),
        _ => None,
    };
    if mode == IdentityMode::Mtls && tls_peer.is_none() {
        // Debug only: `/ready` and the startup warning already say it, once.
        tracing::debug!(
            "auth.mode is mtls but this listener does not terminate TLS (set TLS_CERT_FILE, \
             TLS_KEY_FILE and TLS_CLIENT_CA_FILE): request refused"
        );
    }
    if mode == IdentityMode::Unavailable || (mode == IdentityMode::Mtls && tls_peer.is_none()) {
        // Every MCP request, whatever its method: none is forwarded, and each is audited.
        let decision = Decision::auth_mode_unavailable();
        record.decision = Some(decision.clone());
        return ControlFlow::Break(denial(
            config.deny_encoding,
            &decision,
            None,
            Some(&policy),
            None,
        ));
    }
    let (mut parts, body) = request.into_parts();
    let names = governance_names(&policy);
    let (caller, resource_metadata) = if mode == IdentityMode::OAuth {
        let resource = oauth.resource(config, &parts.headers, &parts.uri, parts.uri.path());
        let metadata_url = resource.metadata_url(parts.uri.path());
        match authenticate(oauth, &parts.headers, &names, &policy, &resource).await {
            Ok(caller) => (caller, Some(metadata_url)),
            Err((reason, detail)) => {
                tracing::debug!(reason = reason.as_str(), %detail, "bearer token refused");
                record.caller.auth_method = Some("oauth");
                let decision = Decision::denied_by_stage(reason);
                record.decision = Some(decision.clone());
                return ControlFlow::Break(denial(
                    config.deny_encoding,
                    &decision,
                    None,
                    Some(&policy),
                    Some(&metadata_url),
                ));
            }
        }
    } else if let (IdentityMode::Mtls, Some(peer)) = (mode, &tls_peer) {
        match super::identity_mtls::authenticate(
            &parts.headers,
            peer,
            &policy,
            jiff::Timestamp::now(),
        ) {
            Ok(caller) => (caller, None),
            Err(decision) => {
                record.caller.auth_method = Some("mtls");
                record.caller.cert_serial = peer.certificate.as_ref().map(|c| c.serial_hex.clone());
                record.decision = Some(decision.clone());
                return ControlFlow::Break(denial(
                    config.deny_encoding,
                    &decision,
                    None,
                    Some(&policy),
                    None,
                ));
            }
        }
    } else {
        (Caller::from_headers(&parts.headers, &names, mode), None)
    };
    record.caller = caller.clone();
    scrub_headers(&mut parts.headers, &names, &policy);
    ControlFlow::Continue((
        Identified {
            parts,
            policy,
            caller,
            names,
            resource_metadata,
        },
        body,
    ))
}

/// The path of the RFC 9728 metadata document.
pub(crate) const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// For a request of the metadata document, the path of the resource it describes (`""` for the
/// root document).
pub(crate) fn protected_resource_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PROTECTED_RESOURCE_PATH)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// OAuth state shared by every request of a proxy: the verifiers (one per issuer, each with its
/// key cache) and where the resource is published.
#[derive(Debug)]
pub(crate) struct OAuthState {
    pub issuers: mcp_runtime_oauth::Issuers,
    /// Set when the listener answers only loopback `Host` names: only then may the audience be
    /// derived from `Host` when nothing else names it.
    pub host_trusted: bool,
}

/// The resource a request addresses, as the gateway publishes it.
pub(crate) struct Resource {
    /// `<public base URL>`, from the configuration or else from `Host`.
    base: String,
    /// Whether `base` came from the configuration (trusted) rather than from `Host`.
    configured: bool,
    /// The resource URL: base + path.
    url: String,
}

impl Resource {
    /// `<base>/.well-known/oauth-protected-resource<path>`.
    pub(crate) fn metadata_url(&self, path: &str) -> String {
        format!(
            "{}{PROTECTED_RESOURCE_PATH}{}",
            self.base,
            path.trim_end_matches('/')
        )
    }
}

impl OAuthState {
    /// The resource at `path`: the configured public base URL (`EXTERNAL_BASE_URL`), or
    /// `http://<Host>` when none is configured.
    pub(crate) fn resource(
        &self,
        config: &ProxyConfig,
        headers: &HeaderMap,
        uri: &http::Uri,
        path: &str,
    ) -> Resource {
        let configured = config
            .oauth
            .public_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/'))
            .filter(|url| !url.is_empty());
        let base = match configured {
            Some(url) => url.to_owned(),
            None => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| h.parse::<http::uri::Authority>().is_ok())
                    .map(str::to_owned)
                    .or_else(|| uri.authority().map(|a| a.to_string()))
                    .unwrap_or_else(|| "localhost".to_owned());
                format!("http://{host}")
            }
        };
        let path = path.trim_end_matches('/');
        Resource {
            url: format!("{base}{path}"),
            configured: configured.is_some(),
            base,
        }
    }
}

/// The caller of a request in `oauth` mode, or the reason (and a detail for the log) it is
/// refused.
async fn authenticate(
    oauth: &OAuthState,
    headers: &HeaderMap,
    names: &GovernanceNames,
    policy: &CompiledPolicy,
    resource: &Resource,
) -> Result<Caller, (Reason, String)> {
    let auth = &policy.document().auth;
    let issuer = auth.issuer_url.trim();
    if issuer.is_empty() {
        return Err((
            Reason::OauthIssuerMissing,
            "auth.issuer_url is empty".into(),
        ));
    }
    // RFC 8707: the token must be meant for this resource. A Host-derived resource is only
    // trusted on a loopback listener; elsewhere a caller could name any host and replay a token
    // minted for another server.
    let audience = match auth.audience.trim() {
        "" if resource.configured || oauth.host_trusted => resource.url.as_str(),
        "" => {
            return Err((
                Reason::OauthConfigMissing,
                "no auth.audience and no EXTERNAL_BASE_URL: the token's audience cannot be checked"
                    .into(),
            ));
        }
        audience => audience,
    };
    let token = bearer_token(headers, &auth.token_header)?;
    let verifier = oauth
        .issuers
        .get(issuer)
        .map_err(|error| (Reason::OauthProviderUnavailable, error.to_string()))?;
    let claims = verifier
        .verify(token, audience)
        .await
        .map_err(|error| match error {
            mcp_runtime_oauth::Error::Invalid(detail) => (Reason::InvalidToken, detail),
            mcp_runtime_oauth::Error::Provider(detail) => {
                (Reason::OauthProviderUnavailable, detail)
            }
        })?;
    // The session: the token's `sid`, else the session header (as MR). Every other governance
    // header is ignored: the token is the identity.
    let session = claims.session.or_else(|| read_single(headers, &names[3]));
    Ok(Caller {
        human: claims.subject,
        agent: claims.agent,
        team: claims.team,
        session,
        auth_method: Some("oauth"),
        token_id: claims.jti,
        cert_serial: None,
    })
}

/// The bearer token: `Authorization: Bearer <token>` (or the configured `auth.token_header`,
/// whose value may also be the bare token). Absent → `missing_bearer_token`; repeated or
/// another scheme → `invalid_token`.
fn bearer_token<'h>(
    headers: &'h HeaderMap,
    token_header: &str,
) -> Result<&'h str, (Reason, String)> {
    let name = match token_header.trim() {
        "" => header::AUTHORIZATION,
        name => HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            (
                Reason::OauthConfigMissing,
                format!("auth.token_header {name:?}"),
            )
        })?,
    };
    let mut values = headers.get_all(&name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(&name) {
            (Reason::InvalidToken, format!("{name} is repeated"))
        } else {
            (Reason::MissingBearerToken, format!("no {name} header"))
        });
    };
    let value = value
        .to_str()
        .map_err(|_| (Reason::InvalidToken, format!("{name} is not text")))?
        .trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ if name != header::AUTHORIZATION && !value.contains(' ') => value,
        _ => {
            return Err((
                Reason::MissingBearerToken,
                format!("{name} is not a Bearer token"),
            ));
        }
    };
    if token.is_empty() {
        return Err((Reason::MissingBearerToken, format!("{name} has no token")));
    }
    Ok(token)
}

/// The RFC 9728 document (GET/HEAD in `oauth` mode), or 404 `oauth_not_enabled` otherwise (MR).
/// Not audited: it is not an MCP request.
fn protected_resource_metadata(
    config: &ProxyConfig,
    oauth: &OAuthState,
    request: &Request<Incoming>,
    policy: &CompiledPolicy,
    mode: IdentityMode,
    resource_path: &str,
) -> Response<ProxyBody> {
    if mode != IdentityMode::OAuth {
        return denial(
            config.deny_encoding,
            &Decision::denied_by_stage(Reason::OauthNotEnabled),
            None,
            Some(policy),
            None,
        );
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            br#"{"error":"method_not_allowed"}"#.to_vec(),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let resource = oauth.resource(config, request.headers(), request.uri(), resource_path);
    let body = serde_json::json!({
        "resource": resource.url,
        "authorization_servers": [policy.document().auth.issuer_url.trim()],
        "bearer_methods_supported": ["header"],
    });
    let mut response = json_response(StatusCode::OK, body.to_string().into_bytes());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The authenticated caller.
#[derive(Clone, Debug, Default)]
pub(crate) struct Caller {
    pub human: Option<String>,
    pub agent: Option<String>,
    pub team: Option<String>,
    pub session: Option<String>,
    /// How the caller was authenticated, for the audit (`oauth`, `mtls`; unset in the other
    /// modes).
    pub auth_method: Option<&'static str>,
    /// The token's `jti` (never the token itself), for the audit.
    pub token_id: Option<String>,
    /// The serial (hex) of the client certificate presented to the gateway, for the audit.
    pub cert_serial: Option<String>,
}

/// The human, agent, team and session header names of a policy, parsed once per request
/// (`None` where a configured name is not a valid header name, so it can never be read).
pub(crate) type GovernanceNames = [Option<HeaderName>; 4];

fn governance_names(policy: &CompiledPolicy) -> GovernanceNames {
    GovernanceHeaders::from_auth(&policy.document().auth)
        .names()
        .map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
}

impl Caller {
    fn from_headers(headers: &HeaderMap, names: &GovernanceNames, mode: IdentityMode) -> Caller {
        if mode != IdentityMode::Header {
            return Caller::default();
        }
        let [human, agent, team, session] = names;
        let read = |name| read_single(headers, name);
        Caller {
            human: read(human),
            agent: read(agent),
            team: read(team),
            session: read(session),
            auth_method: None,
            token_id: None,
            cert_serial: None,
        }
    }

    /// The caller's identity as the policy reads it.
    pub fn identity(&self) -> Identity<'_> {
        Identity {
            human_id: self.human.as_deref(),
            agent_id: self.agent.as_deref(),
            team_id: self.team.as_deref(),
        }
    }

    /// A policy request for a `tools/call` of `tool` by this caller.
    pub fn request_for<'a>(&'a self, tool: &'a str, now: jiff::Timestamp) -> PolicyRequest<'a> {
        let request = PolicyRequest::tool_call(self.identity(), tool, now);
        match self.session.as_deref() {
            Some(session) => request.with_session(session),
            None => request,
        }
    }

    /// Writes the authenticated identity back for the upstream (MR behaviour).
    pub fn write_headers(&self, headers: &mut HeaderMap, names: &GovernanceNames) {
        for (name, value) in names
            .iter()
            .zip([&self.human, &self.agent, &self.team, &self.session])
        {
            if let (Some(name), Some(Ok(value))) =
                (name, value.as_deref().map(HeaderValue::from_str))
            {
                headers.insert(name.clone(), value);
            }
        }
    }
}

/// A governance header's value. A repeated header is ambiguous: the field is absent (fails
/// closed).
pub(crate) fn read_single(headers: &HeaderMap, name: &Option<HeaderName>) -> Option<String> {
    let mut values = headers.get_all(name.as_ref()?).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        _ => None,
    }
}

/// Removes every governance header and the caller's credentials: the token header, and the
/// header a gateway writes an upstream token into (`session.upstream_token_header`), which an
/// upstream may trust as coming from the gateway, so a caller must never be able to set it.
fn scrub_headers(headers: &mut HeaderMap, names: &GovernanceNames, policy: &CompiledPolicy) {
    for name in names.iter().flatten() {
        headers.remove(name);
    }
    let document = policy.document();
    for token_header in [
        &document.auth.token_header,
        &document.session.upstream_token_header,
    ] {
        let token_header = token_header.trim().to_ascii_lowercase();
        if !token_header.is_empty() {
            headers.remove(token_header.as_str());
        }
    }
    headers.remove(header::AUTHORIZATION);
    headers.remove(header::COOKIE);
    // Only the pinned proxy may set it, and only towards the gateway: never forwarded.
    headers.remove(super::identity_mtls::VERIFIED_SPIFFE_ID_HEADER);
}
