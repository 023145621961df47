//! One issuer's key cache and token verification; [`Issuers`] holds one [`Verifier`] per issuer.

use crate::discovery;
use crate::fetch::Fetcher;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The signature algorithms a token may use. `none` and the HMAC family are never accepted: a
/// resource server holds no shared secret with the issuer, and accepting HS* would let anyone
/// holding the (public) verification key forge tokens.
pub const ALLOWED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// How tokens are verified and keys fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Clock skew tolerated on `exp` and `nbf` (default 60 s).
    pub leeway: Duration,
    /// Accept plain `http` issuers and key sets on non-loopback hosts (default off).
    pub allow_http: bool,
    /// The least time between two fetches of an issuer's keys (default 10 s): a token with an
    /// unknown `kid` triggers at most one refresh per interval.
    pub min_refresh_interval: Duration,
    /// Keys older than this are fetched again before use (default 10 min, as MR).
    pub max_key_age: Duration,
    /// Bound on one metadata or key-set fetch (default 5 s).
    pub fetch_timeout: Duration,
    /// How many verified tokens are remembered (default 1,024; 0 turns the cache off). A client
    /// sends the same access token on every request until it expires, so the signature is
    /// checked once per token and key set, not once per request; `exp`, `nbf` and the audience
    /// are still checked on every request. See [`Verifier::verify`].
    pub verified_tokens: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            leeway: Duration::from_secs(60),
            allow_http: false,
            min_refresh_interval: Duration::from_secs(10),
            max_key_age: Duration::from_secs(600),
            fetch_timeout: Duration::from_secs(5),
            verified_tokens: 1024,
        }
    }
}

/// Why a token was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The token is not valid (401 `invalid_token`).
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The issuer's metadata or keys could not be fetched, so the token cannot be checked
    /// (503 `oauth_provider_unavailable`; fail closed).
    #[error("OAuth provider unavailable: {0}")]
    Provider(String),
}

/// The identity a verified token carries, mapped as MR does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// `sub`: the human (or, for a client-credentials token, usually the client).
    pub subject: Option<String>,
    /// `azp`, else `client_id`: the agent.
    pub agent: Option<String>,
    /// `team_id`, else `tenant_id`, else `tid`: the team.
    pub team: Option<String>,
    /// `sid`: the session.
    pub session: Option<String>,
    /// `jti`: the token's id, for the audit (the token itself is never recorded).
    pub jti: Option<String>,
    /// `scope` (space-separated), when present.
    pub scope: Option<String>,
}

impl Claims {
    /// Maps a verified claim set. Only non-empty string claims count.
    pub fn from_claims(claims: &Map<String, Value>) -> Claims {
        let text = |names: &[&str]| {
            names.iter().find_map(|name| {
                claims
                    .get(*name)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            })
        };
        Claims {
            subject: text(&["sub"]),
            agent: text(&["azp", "client_id"]),
            team: text(&["team_id", "tenant_id", "tid"]),
            session: text(&["sid"]),
            jti: text(&["jti"]),
            scope: text(&["scope"]),
        }
    }
}

/// A key from the issuer's key set.
struct Key {
    kid: Option<String>,
    /// The key's own `alg`, when the key set states it.
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    key: DecodingKey,
}

struct KeySet {
    keys: Vec<Key>,
    fetched_at: Instant,
    /// Tokens verified against these keys, by the token's exact text. It lives and dies with
    /// the key set: when the keys are fetched again (rotation, age), every token is verified
    /// again against the new set, so a key the issuer withdrew stops verifying anything.
    verified: Mutex<HashMap<Box<str>, Verified>>,
}

/// A token whose signature, issuer and required claims were checked against a key set, and the
/// parts of it that must still be checked on every use.
#[derive(Clone, Debug)]
struct Verified {
    claims: Claims,
    /// The audience it was verified for.
    audience: Box<str>,
    /// `exp`, seconds since the epoch.
    expires: u64,
    /// `nbf`, when the token has one.
    not_before: Option<u64>,
}

impl Verified {
    /// Whether the remembered token may be used now for `audience`: the same checks, with the
    /// same leeway, that `jsonwebtoken` made when it was verified.
    fn usable(&self, audience: &str, now: u64, leeway: u64) -> bool {
        *self.audience == *audience
            && self.unexpired(now, leeway)
            && self
                .not_before
                .is_none_or(|nbf| now.saturating_add(leeway) >= nbf)
    }

    /// Whether `exp` (with the leeway) has not passed at `now`.
    fn unexpired(&self, now: u64, leeway: u64) -> bool {
        now <= self.expires.saturating_add(leeway)
    }
}

/// Frees room in a full memory of verified tokens: the expired ones go first, and if the memory
/// is still full of live tokens, the half that expires soonest goes too. More live tokens than
/// the capacity then still mostly verify once, instead of the memory starting over each time it
/// fills; the sort runs once per `capacity / 2` new tokens.
fn make_room(verified: &mut HashMap<Box<str>, Verified>, capacity: usize, now: u64, leeway: u64) {
    verified.retain(|_, entry| entry.unexpired(now, leeway));
    if verified.len() < capacity {
        return;
    }
    let mut by_expiry: Vec<(u64, Box<str>)> = verified
        .iter()
        .map(|(token, entry)| (entry.expires, token.clone()))
        .collect();
    by_expiry.sort_unstable();
    let excess = verified.len() - capacity / 2;
    for (_, token) in by_expiry.into_iter().take(excess) {
        verified.remove(&token);
    }
}

impl KeySet {
    /// The memory of verified tokens (a panic elsewhere while it was held leaves it usable: each
    /// entry is written whole).
    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Verified>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key for a token with `kid` and `alg`: same `kid` (or, for a token without one, the
    /// only key of the algorithm's family), same family, and the key's `alg` if it has one.
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Key> {
        let mut candidates = self
            .keys
            .iter()
            .filter(|key| key.family == alg.family() && key.alg.is_none_or(|own| own == alg));
        match kid {
            Some(kid) => candidates.find(|key| key.kid.as_deref() == Some(kid)),
            None => {
                let first = candidates.next();
                // Several candidates and no kid: ambiguous, refused.
                if candidates.next().is_some() {
                    None
                } else {
                    first
                }
            }
        }
    }
}

#[derive(Default)]
struct State {
    jwks_uri: Option<http::Uri>,
    keys: Option<Arc<KeySet>>,
    last_attempt: Option<Instant>,
    /// The error of the last fetch, when it failed.
    last_error: Option<String>,
    fetches: u64,
}

/// One issuer: its metadata, its cached keys and the checks a token must pass.
pub struct Verifier {
    issuer: String,
    settings: Settings,
    fetcher: Fetcher,
    state: Mutex<State>,
    /// Held while fetching, so concurrent requests wait for one fetch instead of starting many.
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

enum Lookup {
    Found(Arc<KeySet>),
    /// Keys are fresh and the token's key is not among them.
    Unknown,
    /// The keys must be fetched (none yet, too old, or the token's key is unknown).
    Refresh,
}

impl Verifier {
    /// A verifier for `issuer`; nothing is fetched until the first token.
    pub fn new(issuer: &str, settings: Settings) -> Result<Verifier, Error> {
        crate::ring_verify::install();
        discovery::metadata_urls(issuer).map_err(Error::Provider)?;
        let fetcher =
            Fetcher::new(settings.fetch_timeout, settings.allow_http).map_err(Error::Provider)?;
        let issuer_uri: http::Uri = issuer
            .parse()
            .map_err(|error| Error::Provider(format!("issuer {issuer:?}: {error}")))?;
        fetcher.check_scheme(&issuer_uri).map_err(Error::Provider)?;
        Ok(Verifier {
            issuer: issuer.to_owned(),
            settings,
            fetcher,
            state: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// The issuer this verifier checks tokens against.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How many times the keys were fetched (successfully or not); for tests and metrics.
    pub fn fetches(&self) -> u64 {
        self.lock().fetches
    }

    /// Verifies `token` (the bearer value, without `Bearer `) for `audience`.
    ///
    /// A token already verified against the current key set is not checked again: its
    /// signature cannot have changed (the cache is keyed by the token's exact text), so only
    /// what time and the caller can change is checked — `exp`, `nbf` and the audience. The
    /// key set and its cache are replaced together, so rotation re-verifies every token.
    pub async fn verify(&self, token: &str, audience: &str) -> Result<Claims, Error> {
        if let Some(claims) = self.remembered(token, audience) {
            return Ok(claims);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Error::Invalid(describe_bad_header(token)))?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(Error::Invalid(format!(
                "algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let kid = header.kid.as_deref();
        let keys = self.keys_for(kid, header.alg).await?;
        let key = keys
            .find(kid, header.alg)
            .ok_or_else(|| Error::Invalid(unknown_key(kid)))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|error| Error::Invalid(describe(&error)))?;
        let claims = Claims::from_claims(&data.claims);
        self.remember(&keys, token, audience, &data.claims, &claims);
        Ok(claims)
    }

    /// The claims of `token` when it was verified against the current, fresh key set and is
    /// still usable for `audience`.
    fn remembered(&self, token: &str, audience: &str) -> Option<Claims> {
        if self.settings.verified_tokens == 0 {
            return None;
        }
        let keys = self
            .lock()
            .keys
            .clone()
            .filter(|keys| keys.fetched_at.elapsed() < self.settings.max_key_age)?;
        let verified = keys.verified();
        let entry = verified.get(token)?;
        entry
            .usable(
                audience,
                jsonwebtoken::get_current_timestamp(),
                self.settings.leeway.as_secs(),
            )
            .then(|| entry.claims.clone())
    }

    /// Remembers a token just verified against `keys` (see [`make_room`] when the memory is
    /// full).
    fn remember(
        &self,
        keys: &KeySet,
        token: &str,
        audience: &str,
        raw: &Map<String, Value>,
        claims: &Claims,
    ) {
        let capacity = self.settings.verified_tokens;
        if capacity == 0 {
            return;
        }
        // `exp` is required and was validated as a number; a token without a usable one (or
        // with an `nbf` that is not a whole number) is simply not remembered.
        let Some(expires) = raw.get("exp").and_then(Value::as_u64) else {
            return;
        };
        let not_before = raw.get("nbf").and_then(Value::as_u64);
        if raw.contains_key("nbf") && not_before.is_none() {
            return;
        }
        let mut verified = keys.verified();
        if verified.len() >= capacity {
            make_room(
                &mut verified,
                capacity,
                jsonwebtoken::get_current_timestamp(),
                self.settings.leeway.as_secs(),
            );
        }
        verified.insert(
            token.into(),
            Verified {
                claims: claims.clone(),
                audience: audience.into(),
                expires,
                not_before,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let state = self.lock();
        match &state.keys {
            Some(keys) if keys.fetched_at.elapsed() < self.settings.max_key_age => {
                if keys.find(kid, alg).is_some() {
                    Lookup::Found(keys.clone())
                } else if state.last_error.is_none()
                    && state
                        .last_attempt
                        .is_some_and(|at| at.elapsed() < self.settings.min_refresh_interval)
                {
                    Lookup::Unknown
                } else {
                    Lookup::Refresh
                }
            }
            _ => Lookup::Refresh,
        }
    }

    /// The key set to verify a token with `kid` and `alg`, fetched when needed.
    async fn keys_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<KeySet>, Error> {
        match self.lookup(kid, alg) {
            Lookup::Found(keys) => return Ok(keys),
            Lookup::Unknown => return Err(Error::Invalid(unknown_key(kid))),
            Lookup::Refresh => {}
        }
        let _fetching = self.refreshing.lock().await;
        // Another request may have fetched while this one waited.
        match self.lookup(kid, alg) {
            Lookup::Found(keys) => return Ok(keys),
            Lookup::Unknown => return Err(Error::Invalid(unknown_key(kid))),
            Lookup::Refresh => {}
        }
        let rate_limited = self
            .lock()
            .last_attempt
            .is_some_and(|at| at.elapsed() < self.settings.min_refresh_interval);
        if !rate_limited {
            self.refresh().await;
        }
        let state = self.lock();
        let fresh = state
            .keys
            .as_ref()
            .filter(|keys| keys.fetched_at.elapsed() < self.settings.max_key_age);
        match (&state.last_error, fresh) {
            // The last fetch failed: the token cannot be checked against current keys.
            (Some(error), _) => Err(Error::Provider(error.clone())),
            (None, Some(keys)) => Ok(keys.clone()),
            (None, None) => Err(Error::Provider(
                "the issuer's keys are out of date and were fetched too recently to retry"
                    .to_owned(),
            )),
        }
    }

    /// Fetches the metadata (once) and the key set; records the outcome.
    async fn refresh(&self) {
        {
            let mut state = self.lock();
            state.last_attempt = Some(Instant::now());
            state.fetches += 1;
        }
        let result = self.fetch_keys().await;
        let mut state = self.lock();
        match result {
            Ok((jwks_uri, keys)) => {
                state.jwks_uri = Some(jwks_uri);
                state.keys = Some(Arc::new(keys));
                state.last_error = None;
            }
            Err(error) => {
                tracing::warn!(issuer = %self.issuer, %error, "fetching the OAuth issuer's keys failed");
                // Discover again next time: the metadata may have moved.
                state.jwks_uri = None;
                state.last_error = Some(error);
            }
        }
    }

    async fn fetch_keys(&self) -> Result<(http::Uri, KeySet), String> {
        let known = self.lock().jwks_uri.clone();
        let jwks_uri = match known {
            Some(uri) => uri,
            None => {
                let metadata = discovery::discover(&self.fetcher, &self.issuer).await?;
                metadata
                    .jwks_uri
                    .parse::<http::Uri>()
                    .map_err(|error| format!("jwks_uri {:?}: {error}", metadata.jwks_uri))?
            }
        };
        let document = self.fetcher.json(&jwks_uri).await?;
        let keys = parse_key_set(&document).map_err(|error| format!("{jwks_uri}: {error}"))?;
        Ok((jwks_uri, keys))
    }
}

/// The usable signature keys of a JWKS document. Keys of other uses, of unknown types, with an
/// unknown or disallowed `alg`, or that fail to parse are skipped; none left is an error.
fn parse_key_set(document: &Value) -> Result<KeySet, String> {
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("not a JWK set (no \"keys\" array)")?;
    let keys: Vec<Key> = entries.iter().filter_map(parse_key).collect();
    if keys.is_empty() {
        return Err("the key set has no usable signature key".to_owned());
    }
    Ok(KeySet {
        keys,
        fetched_at: Instant::now(),
        verified: Mutex::default(),
    })
}

fn parse_key(entry: &Value) -> Option<Key> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).ok()?;
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let alg = match jwk.common.key_algorithm {
        Some(alg) => {
            // Same names in both enums; KeyAlgorithm also has encryption algorithms.
            let name = serde_json::to_value(alg).ok()?;
            let alg: Algorithm = name.as_str()?.parse().ok()?;
            if !ALLOWED_ALGORITHMS.contains(&alg) {
                return None;
            }
            Some(alg)
        }
        None => None,
    };
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
        AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
        AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
        // Symmetric (`oct`) keys are never used to verify.
        _ => return None,
    };
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg,
        family,
        key,
    })
}

fn unknown_key(kid: Option<&str>) -> String {
    match kid {
        Some(kid) => format!("no key {kid:?} in the issuer's key set"),
        None => "the token names no key (kid) and the issuer's key set has several".to_owned(),
    }
}

/// A reason for a token whose header does not parse, naming a refused `alg` when there is one.
fn describe_bad_header(token: &str) -> String {
    let alg = token
        .split('.')
        .next()
        .and_then(|segment| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(segment.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|header| header.get("alg").and_then(Value::as_str).map(str::to_owned));
    match alg {
        Some(alg) => format!("algorithm {alg:?} is not allowed"),
        None => "not a JWT (unreadable header)".to_owned(),
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidIssuer => "wrong issuer".to_owned(),
        ErrorKind::InvalidAudience => "wrong audience".to_owned(),
        ErrorKind::InvalidSignature => "bad signature".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("no {claim} claim"),
        ErrorKind::InvalidAlgorithm => "the algorithm does not match the key".to_owned(),
        other => format!("{other:?}"),
    }
}

/// One [`Verifier`] per issuer, created on first use and kept (the issuers come from the policy
/// documents, so there are few).
#[derive(Debug)]
pub struct Issuers {
    settings: Settings,
    verifiers: Mutex<HashMap<String, Arc<Verifier>>>,
}

impl Issuers {
    /// An empty registry.
    pub fn new(settings: Settings) -> Issuers {
        crate::ring_verify::install();
        Issuers {
            settings,
            verifiers: Mutex::default(),
        }
    }

    /// The settings every verifier gets.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The verifier of `issuer`.
    pub fn get(&self, issuer: &str) -> Result<Arc<Verifier>, Error> {
        let mut verifiers = self
            .verifiers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(verifier) = verifiers.get(issuer) {
            return Ok(verifier.clone());
        }
        let verifier = Arc::new(Verifier::new(issuer, self.settings.clone())?);
        // Bounded: a policy that changed issuers many times does not grow this forever.
        if verifiers.len() >= 16 {
            verifiers.clear();
        }
        verifiers.insert(issuer.to_owned(), verifier.clone());
        Ok(verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memory_drops_the_expired_then_the_soonest_expiring_half() {
        let entry = |expires| Verified {
            claims: Claims::default(),
            audience: "a".into(),
            expires,
            not_before: None,
        };
        let mut memory: HashMap<Box<str>, Verified> = (0..8u64)
            .map(|n| (format!("t{n}").into(), entry(1_000 + n)))
            .collect();
        // Two have expired (with a leeway of 10 s, at 1,012 s: t0 and t1 are past).
        make_room(&mut memory, 8, 1_012, 10);
        assert_eq!(memory.len(), 6);
        assert!(!memory.contains_key("t0") && !memory.contains_key("t1"));
        // Room enough: nothing else goes.
        make_room(&mut memory, 8, 1_012, 10);
        assert_eq!(memory.len(), 6);
        // Full of live tokens: the half expiring soonest goes, the latest stay.
        make_room(&mut memory, 6, 1_012, 10);
        let mut left: Vec<_> = memory.keys().map(|k| k.to_string()).collect();
        left.sort();
        assert_eq!(left, ["t5", "t6", "t7"]);
        // A capacity of one keeps nothing before the next insert.
        make_room(&mut memory, 1, 1_012, 10);
        assert!(memory.is_empty());
    }

    #[test]
    fn a_remembered_token_is_checked_for_time_and_audience_on_every_use() {
        let verified = Verified {
            claims: Claims::default(),
            audience: "https://mcp.example/a".into(),
            expires: 1_000,
            not_before: Some(900),
        };
        let leeway = 60;
        assert!(verified.usable("https://mcp.example/a", 950, leeway));
        // Within the leeway on both sides, as jsonwebtoken allows.
        assert!(verified.usable("https://mcp.example/a", 1_060, leeway));
        assert!(verified.usable("https://mcp.example/a", 840, leeway));
        // Past exp + leeway, before nbf - leeway, or for another resource: not usable.
        assert!(!verified.usable("https://mcp.example/a", 1_061, leeway));
        assert!(!verified.usable("https://mcp.example/a", 839, leeway));
        assert!(!verified.usable("https://mcp.example/b", 950, leeway));
        assert!(!verified.usable("https://mcp.example/a", 1_001, 0));
    }

    #[test]
    fn claims_map_as_mr_does() {
        let claims = serde_json::json!({
            "sub": "alice", "client_id": "claude", "tid": "t1", "tenant_id": "tenant",
            "sid": "s-1", "jti": "j-1", "scope": "mcp", "azp": " ",
        });
        let mapped = Claims::from_claims(claims.as_object().expect("object"));
        assert_eq!(mapped.subject.as_deref(), Some("alice"));
        // A blank azp does not count: client_id is used.
        assert_eq!(mapped.agent.as_deref(), Some("claude"));
        assert_eq!(mapped.team.as_deref(), Some("tenant"));
        assert_eq!(mapped.session.as_deref(), Some("s-1"));
        assert_eq!(mapped.jti.as_deref(), Some("j-1"));
        let numbers = serde_json::json!({"sub": 7, "azp": "agent"});
        let mapped = Claims::from_claims(numbers.as_object().expect("object"));
        assert_eq!(mapped.subject, None);
        assert_eq!(mapped.agent.as_deref(), Some("agent"));
    }

    #[test]
    fn symmetric_and_encryption_keys_are_never_used() {
        let set = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "alg": "HS256", "kid": "mislabelled", "n": "sXch", "e": "AQAB"},
        ]});
        assert!(parse_key_set(&set).is_err());
    }

    #[test]
    fn a_bad_header_names_the_refused_algorithm() {
        // {"alg":"none","typ":"JWT"}
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.e30.";
        assert!(jsonwebtoken::decode_header(token).is_err());
        assert_eq!(
            describe_bad_header(token),
            "algorithm \"none\" is not allowed"
        );
        assert_eq!(
            describe_bad_header("garbage"),
            "not a JWT (unreadable header)"
        );
    }
}
