//! Stage 3, identity: the active policy, the identity mode it asks for, and the caller.
//! Governance headers and credentials are removed here, before anything is forwarded.

use super::audit::AuditRecord;
use super::{Step, denial};
use crate::deny::GovernanceHeaders;
use crate::proxy::ProxyConfig;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request};
use hyper::body::Incoming;
use mcp_runtime_policy::{
    AuthMode, CompiledPolicy, Decision, Identity, Lenient, Request as PolicyRequest,
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
    /// A mode this gateway cannot provide yet (`oauth`, `mtls`): every MCP request is refused
    /// with 503 `auth_mode_unavailable` and nothing is forwarded (fail closed). Trusting
    /// headers instead would let anyone who can reach the port name themselves.
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
            Lenient::Known(AuthMode::Oauth | AuthMode::Mtls) | Lenient::Unknown(_) => {
                IdentityMode::Unavailable
            }
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
}

/// Loads the policy (none → 503, fail closed), refuses every request when its identity mode is
/// unavailable, reads the caller and scrubs the headers.
pub(crate) fn establish(
    config: &ProxyConfig,
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
        ));
    };
    let mode = IdentityMode::of(&policy);
    if mode == IdentityMode::Unavailable {
        // Every MCP request, whatever its method: none is forwarded, and each is audited.
        let decision = Decision::auth_mode_unavailable();
        record.decision = Some(decision.clone());
        return ControlFlow::Break(denial(config.deny_encoding, &decision, None, Some(&policy)));
    }
    let (mut parts, body) = request.into_parts();
    let names = governance_names(&policy);
    let caller = Caller::from_headers(&parts.headers, &names, mode);
    record.caller = caller.clone();
    scrub_headers(&mut parts.headers, &names, &policy);
    ControlFlow::Continue((
        Identified {
            parts,
            policy,
            caller,
            names,
        },
        body,
    ))
}

/// The authenticated caller.
#[derive(Clone, Debug, Default)]
pub(crate) struct Caller {
    pub human: Option<String>,
    pub agent: Option<String>,
    pub team: Option<String>,
    pub session: Option<String>,
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
        // A repeated governance header is ambiguous: treat the field as absent (fails closed).
        let read = |name: &Option<HeaderName>| {
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
        };
        Caller {
            human: read(human),
            agent: read(agent),
            team: read(team),
            session: read(session),
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
}
