//! The identity stage in `auth.mode: mtls`: the caller is the agent session a SPIFFE ID names,
//! `spiffe://<auth.trust_domain>/ns/<namespace>/session/<name>`.
//!
//! Two variants, as in the Go gateway:
//!
//! * **Direct** (no `TRUSTED_PROXY_SPIFFE_ID`): the client's own certificate, verified against
//!   the client CA bundle during the handshake, carries the SPIFFE ID as its URI SAN.
//! * **Ingress-terminated** (`TRUSTED_PROXY_SPIFFE_ID` set): the peer of the connection is a
//!   proxy that terminated the client's TLS. Its certificate (verified against the same bundle)
//!   must carry exactly that URI SAN; only then is the client's SPIFFE ID taken from the
//!   `X-MCP-Verified-SPIFFE-ID` header the proxy sets. The trust assumption is the proxy's:
//!   it verified the client's certificate and overwrites any such header the client sent.
//!
//! Either way the session must exist in the policy under that namespace and name, and be
//! neither revoked nor expired (the evaluator's own checks); its subject is the caller. The
//! governance headers a client sends are never read in this mode.

use super::identity::Caller;
use crate::tls_listener::TlsPeer;
use http::HeaderMap;
use http::header::HeaderName;
use mcp_runtime_policy::{CompiledPolicy, Decision, Reason};

/// The header through which the pinned proxy forwards the client's verified SPIFFE ID (set by
/// the Go mcp-runtime's Traefik `spiffe-identity` plugin).
pub(crate) const VERIFIED_SPIFFE_ID_HEADER: HeaderName =
    HeaderName::from_static("x-mcp-verified-spiffe-id");

/// The caller of a request that arrived over the gateway's TLS listener, or the denial.
pub(crate) fn authenticate(
    headers: &HeaderMap,
    peer: &TlsPeer,
    policy: &CompiledPolicy,
    now: jiff::Timestamp,
) -> Result<Caller, Decision> {
    let refuse = |reason: Reason| Err(Decision::denied_by_stage(reason));
    let Some(certificate) = &peer.certificate else {
        return refuse(Reason::MissingClientCertificate);
    };
    let spiffe_id = match &peer.trusted_proxy {
        Some(proxy) => {
            if !certificate.uri_sans.iter().any(|uri| uri == &**proxy) {
                return refuse(Reason::UntrustedProxy);
            }
            match super::identity::read_single(headers, &Some(VERIFIED_SPIFFE_ID_HEADER)) {
                Some(id) => id,
                None => return refuse(Reason::MissingVerifiedIdentity),
            }
        }
        None => {
            let mut spiffe = certificate
                .uri_sans
                .iter()
                .filter(|uri| uri.starts_with(SCHEME));
            // A certificate naming two identities names none.
            match (spiffe.next(), spiffe.next()) {
                (Some(id), None) => id.clone(),
                _ => return refuse(Reason::InvalidSpiffeIdentity),
            }
        }
    };
    let trust_domain = &policy.document().auth.trust_domain;
    let Some(session) = SessionId::parse(&spiffe_id, trust_domain) else {
        tracing::debug!(%spiffe_id, %trust_domain, "SPIFFE ID refused");
        return refuse(Reason::InvalidSpiffeIdentity);
    };
    let subject = policy.live_session_subject(session.namespace, session.name, now)?;
    let owned = |value: Option<&str>| value.map(str::to_owned);
    Ok(Caller {
        human: owned(subject.human_id),
        agent: owned(subject.agent_id),
        team: owned(subject.team_id),
        session: Some(session.name.to_owned()),
        auth_method: Some("mtls"),
        token_id: None,
        cert_serial: Some(certificate.serial_hex.clone()),
    })
}

const SCHEME: &str = "spiffe://";

/// The session a SPIFFE ID names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SessionId<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> SessionId<'a> {
    /// `spiffe://<trust_domain>/ns/<namespace>/session/<name>`, in `trust_domain` exactly
    /// (trust domains are lowercase; compared without case). Anything else — another trust
    /// domain, another path shape, an empty or non-SPIFFE segment, a query or fragment — is
    /// `None`.
    pub(crate) fn parse(id: &'a str, trust_domain: &str) -> Option<Self> {
        let rest = id.strip_prefix(SCHEME)?;
        let (domain, path) = rest.split_once('/')?;
        let trust_domain = trust_domain.trim();
        if trust_domain.is_empty() || !domain.eq_ignore_ascii_case(trust_domain) {
            return None;
        }
        let mut segments = path.split('/');
        let shape = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        );
        let (Some("ns"), Some(namespace), Some("session"), Some(name), None) = shape else {
            return None;
        };
        // SPIFFE path segments: letters, digits, `.`, `-`, `_`; never `.` or `..` alone.
        let valid = |segment: &str| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        };
        (valid(namespace) && valid(name)).then_some(SessionId { namespace, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_session_ids_in_the_trust_domain_only() {
        let parse = |id| SessionId::parse(id, "example.org");
        assert_eq!(
            parse("spiffe://example.org/ns/team-a/session/alice-claude"),
            Some(SessionId {
                namespace: "team-a",
                name: "alice-claude"
            })
        );
        assert!(parse("spiffe://Example.ORG/ns/a/session/b").is_some());
        for refused in [
            "spiffe://evil.org/ns/a/session/b",
            "spiffe://example.org.evil.org/ns/a/session/b",
            "spiffe://example.org/ns/a/session/b/c",
            "spiffe://example.org/ns/a/sa/b",
            "spiffe://example.org/ns//session/b",
            "spiffe://example.org/ns/a/session/",
            "spiffe://example.org/ns/../session/b",
            "spiffe://example.org/ns/a/session/b?x=1",
            "spiffe://example.org/ns/a/session/b#f",
            "spiffe://example.org/ns/a/session/b%2f",
            "https://example.org/ns/a/session/b",
            "spiffe://example.org",
            "",
        ] {
            assert_eq!(parse(refused), None, "{refused}");
        }
        assert_eq!(
            SessionId::parse("spiffe://example.org/ns/a/session/b", ""),
            None,
            "no trust domain configured: nothing is trusted"
        );
    }
}
