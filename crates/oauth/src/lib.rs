//! The resource-server side of OAuth 2.1 for the gateway (`auth.mode: oauth`).
//!
//! * [`discovery`]: the issuer's metadata, from `/.well-known/oauth-authorization-server` or
//!   `/.well-known/openid-configuration`, with the path-inserted forms of RFC 8414 §3.1 for an
//!   issuer with a path; its `jwks_uri`.
//! * [`Verifier`]: one issuer's key cache and token verification. Keys are fetched on first use,
//!   refreshed when older than [`Settings::max_key_age`], and refreshed once when a token names an
//!   unknown `kid` (at most once per [`Settings::min_refresh_interval`]), so the issuer can rotate
//!   keys without a restart. A fetch that fails leaves no key to verify with: the caller answers
//!   503 (fail closed), never allows.
//! * Algorithms: RS256/384/512, PS256/384/512, ES256/384 and EdDSA ([`ALLOWED_ALGORITHMS`]).
//!   `none` and HS* are refused before any key is looked up, so an HS256 token "signed" with the
//!   issuer's public RSA key (key confusion) never verifies. A key's own `alg` and `use`, when the
//!   JWKS states them, must agree with the token.
//! * Claims: `iss` exact, `aud` must contain the expected audience, `exp` required, `exp`/`nbf`
//!   with [`Settings::leeway`]. [`Claims`] maps them as MR does: `sub` → human,
//!   `azp`/`client_id` → agent, `team_id`/`tenant_id`/`tid` → team, `sid` → session.
//!
//! Plain `http` is accepted for the issuer and its `jwks_uri` only when the host is a loopback
//! address or name (tests, a provider on the same machine) or [`Settings::allow_http`] is set.

pub mod discovery;
mod fetch;
mod ring_verify;
mod verifier;

pub use ring_verify::install as install_crypto_provider;
pub use verifier::{ALLOWED_ALGORITHMS, Claims, Error, Issuers, Settings, Verifier};
