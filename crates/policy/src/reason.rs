//! The reason catalogue (MR `proxy.go: writeDeniedResponse`, reference §7.4).
//!
//! Every decision the gateway makes carries one of these codes, allowed or not. The HTTP class
//! separates identity and session problems (401) from policy problems (403), which the
//! cross-server isolation matrix relies on.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The pipeline stage that produces a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// [`crate::CompiledPolicy::evaluate`]: identity and session checks.
    EvaluatorIdentity,
    /// [`crate::CompiledPolicy::evaluate`]: grants, side effects and trust.
    EvaluatorPolicy,
    /// Gateway OAuth authentication.
    OauthAuth,
    /// Gateway mTLS authentication.
    MtlsAuth,
    /// Gateway JSON-RPC inspection.
    Inspect,
    /// The gateway's fail-closed starting decision.
    Gateway,
    /// Policy loading.
    Policy,
    /// The OAuth provider (discovery, JWKS).
    OauthProvider,
    /// The protected-resource metadata endpoint.
    ProtectedResourceMetadata,
    /// The upstream MCP server ([MR-org] codes).
    Upstream,
}

macro_rules! reasons {
    ($($(#[$meta:meta])* $variant:ident => $code:literal, $status:literal, $stage:ident;)+) => {
        /// A decision reason code.
        ///
        /// Serializes as MR's snake_case code. [`Reason::http_status`] is the catalogue's class;
        /// a decision allowed by `default_decision: allow` keeps its reason but answers 200.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($(#[$meta])* $variant),+
        }

        impl Reason {
            /// Every reason, in catalogue order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),+];

            /// MR's wire code, e.g. `trust_too_low`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $code),+
                }
            }

            /// The catalogue's HTTP status class for this reason.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(Reason::$variant => $status),+
                }
            }

            /// The stage that produces this reason.
            pub const fn stage(self) -> Stage {
                match self {
                    $(Reason::$variant => Stage::$stage),+
                }
            }

            /// Looks a wire code up.
            pub fn from_code(code: &str) -> Option<Reason> {
                match code {
                    $($code => Some(Reason::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

reasons! {
    /// The request is allowed.
    Allowed => "allowed", 200, EvaluatorPolicy;
    /// No human, agent or team identity on a tool call.
    MissingIdentity => "missing_identity", 401, EvaluatorIdentity;
    /// `session.required` and no session header.
    MissingSession => "missing_session", 401, EvaluatorIdentity;
    /// The presented session does not exist for this subject.
    SessionNotFound => "session_not_found", 401, EvaluatorIdentity;
    /// The session is revoked.
    SessionRevoked => "session_revoked", 401, EvaluatorIdentity;
    /// The session is past `expires_at` (or its expiry is unparseable).
    SessionExpired => "session_expired", 401, EvaluatorIdentity;
    /// OAuth mode and no bearer token.
    MissingBearerToken => "missing_bearer_token", 401, OauthAuth;
    /// OAuth token failed validation.
    InvalidToken => "invalid_token", 401, OauthAuth;
    /// mTLS mode and no verified client certificate.
    MissingClientCertificate => "missing_client_certificate", 401, MtlsAuth;
    /// The mTLS peer is not the trusted proxy.
    UntrustedProxy => "untrusted_proxy", 401, MtlsAuth;
    /// No verified SPIFFE identity header.
    MissingVerifiedIdentity => "missing_verified_identity", 401, MtlsAuth;
    /// The SPIFFE ID is malformed or outside the trust domain.
    InvalidSpiffeIdentity => "invalid_spiffe_identity", 401, MtlsAuth;
    /// No grant's subject matches the caller.
    NoMatchingGrant => "no_matching_grant", 403, EvaluatorPolicy;
    /// Matching grants exist but none allows this tool.
    ToolNotGranted => "tool_not_granted", 403, EvaluatorPolicy;
    /// Every enabled matching grant has expired ([MR-org]).
    GrantExpired => "grant_expired", 403, EvaluatorPolicy;
    /// A matching grant has a `deny` rule for this tool (deny wins).
    ToolDenied => "tool_denied", 403, EvaluatorPolicy;
    /// The tool has no declared side effect, which fails closed.
    ToolSideEffectUnknown => "tool_side_effect_unknown", 403, EvaluatorPolicy;
    /// No grant that allows the tool allows its side effect.
    SideEffectNotAllowed => "side_effect_not_allowed", 403, EvaluatorPolicy;
    /// The contributing grants confer no trust.
    GrantWithoutTrust => "grant_without_trust", 403, EvaluatorPolicy;
    /// Effective trust is below the required trust.
    TrustTooLow => "trust_too_low", 403, EvaluatorPolicy;
    /// The tool is pinned and its live definition differs from the pin
    /// (`policy.on_tool_drift: quarantine`): hidden from `tools/list`, calls denied until the
    /// pin is updated or the server lists the pinned definition again.
    ToolQuarantined => "tool_quarantined", 403, EvaluatorPolicy;
    /// The JSON-RPC body could not be inspected (bad JSON, batch, too large).
    RpcInspectionFailed => "rpc_inspection_failed", 403, Inspect;
    /// Nothing decided: the fail-closed default.
    Undecided => "undecided", 403, Gateway;
    /// No valid policy is loaded.
    PolicyUnavailable => "policy_unavailable", 503, Policy;
    /// The policy's `auth.mode` (`oauth`, `mtls`) is not available in this gateway: it refuses
    /// every request rather than identify callers some other way.
    AuthModeUnavailable => "auth_mode_unavailable", 503, Gateway;
    /// The OAuth provider could not be reached.
    OauthProviderUnavailable => "oauth_provider_unavailable", 503, OauthProvider;
    /// OAuth is selected but not configured.
    OauthConfigMissing => "oauth_config_missing", 503, OauthProvider;
    /// OAuth is selected without an issuer.
    OauthIssuerMissing => "oauth_issuer_missing", 503, OauthProvider;
    /// Protected-resource metadata requested while OAuth is off.
    OauthNotEnabled => "oauth_not_enabled", 404, ProtectedResourceMetadata;
    /// The upstream failed ([MR-org] `upstream_error`; MR answers plain-text 502).
    UpstreamError => "upstream_error", 502, Upstream;
    /// The upstream did not answer in time ([MR-org]).
    UpstreamTimeout => "upstream_timeout", 504, Upstream;
}

impl Reason {
    /// True for reasons that `default_decision: allow` turns into a 200 allow.
    pub const fn follows_default_decision(self) -> bool {
        matches!(
            self,
            Reason::NoMatchingGrant
                | Reason::ToolNotGranted
                | Reason::GrantExpired
                | Reason::GrantWithoutTrust
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Reason::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown reason code {code:?}")))
    }
}
