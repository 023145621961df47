//! The verifier against a small issuer on loopback that serves its metadata and key set (the
//! keys are fixtures in `tests/keys`, generated with `openssl genpkey`). The gateway tests run the
//! same verifier against a real OpenID provider (`crates/gateway/tests/oauth.rs`).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime_oauth::{Error, Settings, Verifier};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

const AUDIENCE: &str = "http://127.0.0.1:8091/files/mcp";

struct Issuer {
    url: String,
    jwks: Arc<Mutex<Value>>,
    jwks_hits: Arc<AtomicU64>,
}

/// Serves `/.well-known/openid-configuration` (the OAuth document is 404, as oidc-provider
/// does) and `/jwks`.
async fn issuer(path: &str) -> Issuer {
    // Before any signing: the verifier's ring provider is then the one under test.
    mcp_runtime_oauth::install_crypto_provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let url = format!("http://{address}{path}");
    let jwks = Arc::new(Mutex::new(json!({"keys": []})));
    let jwks_hits = Arc::new(AtomicU64::new(0));
    let (served, hits, issuer_url) = (jwks.clone(), jwks_hits.clone(), url.clone());
    let metadata_path = format!("/.well-known/openid-configuration{path}");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (served, hits, issuer_url, metadata_path) = (
                served.clone(),
                hits.clone(),
                issuer_url.clone(),
                metadata_path.clone(),
            );
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: http::Request<Incoming>| {
                        let (served, hits, issuer_url, metadata_path) = (
                            served.clone(),
                            hits.clone(),
                            issuer_url.clone(),
                            metadata_path.clone(),
                        );
                        async move {
                            let path = request.uri().path().to_owned();
                            let (status, body) = if path == metadata_path {
                                let jwks_uri = format!("http://{address}/jwks");
                                (200, json!({"issuer": issuer_url, "jwks_uri": jwks_uri}))
                            } else if path == "/jwks" {
                                hits.fetch_add(1, Ordering::SeqCst);
                                (200, served.lock().expect("lock").clone())
                            } else {
                                (404, json!({"error": "not found"}))
                            };
                            Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body.to_string())))
                                    .expect("response"),
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Issuer {
        url,
        jwks,
        jwks_hits,
    }
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))).expect("key file")
}

/// A signing key and its public JWK under `kid`.
fn key(name: &str, alg: Algorithm, kid: &str) -> (EncodingKey, Value) {
    let bytes = pem(name);
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&bytes),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&bytes),
        _ => EncodingKey::from_rsa_pem(&bytes),
    }
    .expect("private key");
    let jwk = Jwk::from_encoding_key(&key, alg).expect("jwk");
    let mut jwk = serde_json::to_value(jwk).expect("json");
    jwk["kid"] = kid.into();
    jwk["use"] = "sig".into();
    (key, jwk)
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer, "aud": AUDIENCE, "sub": "alice", "azp": "claude", "tid": "storage",
        "jti": "token-1", "iat": now(), "exp": now() + 300,
    })
}

fn sign(key: &EncodingKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

fn settings() -> Settings {
    Settings {
        leeway: Duration::from_secs(5),
        min_refresh_interval: Duration::from_millis(500),
        ..Settings::default()
    }
}

#[tokio::test]
async fn valid_tokens_of_every_key_type_verify_and_map_their_claims() {
    let issuer = issuer("").await;
    let keys = [
        ("rsa1.pem", Algorithm::RS256, "rsa"),
        ("rsa1.pem", Algorithm::PS256, "rsa"),
        ("ec1.pem", Algorithm::ES256, "ec"),
        ("ed1.pem", Algorithm::EdDSA, "ed"),
    ];
    let jwks: Vec<Value> = keys
        .iter()
        .filter(|(_, alg, _)| *alg != Algorithm::PS256)
        .map(|(file, alg, kid)| key(file, *alg, kid).1)
        .collect();
    // The RSA key's JWK says RS256; PS256 needs a key that does not pin its alg.
    let mut jwks = jwks;
    jwks[0].as_object_mut().expect("jwk").remove("alg");
    *issuer.jwks.lock().expect("lock") = json!({ "keys": jwks });
    let verifier = Verifier::new(&issuer.url, settings()).expect("verifier");
    for (file, alg, kid) in keys {
        let (signing, _) = key(file, alg, kid);
        let token = sign(&signing, alg, Some(kid), &claims(&issuer.url));
        let mapped = verifier
            .verify(&token, AUDIENCE)
            .await
            .unwrap_or_else(|error| panic!("{alg:?}: {error}"));
        assert_eq!(mapped.subject.as_deref(), Some("alice"));
        assert_eq!(mapped.agent.as_deref(), Some("claude"));
        assert_eq!(mapped.team.as_deref(), Some("storage"));
        assert_eq!(mapped.jti.as_deref(), Some("token-1"));
    }
    assert_eq!(
        issuer.jwks_hits.load(Ordering::SeqCst),
        1,
        "the keys are cached"
    );
}

#[tokio::test]
async fn bad_tokens_are_invalid() {
    let issuer = issuer("/realms/mcp").await;
    let (signing, jwk) = key("rsa1.pem", Algorithm::RS256, "k1");
    let (other, _) = key("rsa2.pem", Algorithm::RS256, "k1");
    *issuer.jwks.lock().expect("lock") = json!({ "keys": [jwk] });
    let verifier = Verifier::new(&issuer.url, settings()).expect("verifier");
    let good = claims(&issuer.url);
    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let without = |field: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().expect("object").remove(field);
        claims
    };
    let rs256 = |claims: &Value| sign(&signing, Algorithm::RS256, Some("k1"), claims);
    let public_pem = pem("rsa1.pub.pem");
    let cases: Vec<(&str, String, &str)> = vec![
        ("expired", rs256(&with("exp", json!(now() - 60))), "expired"),
        (
            "not yet valid",
            rs256(&with("nbf", json!(now() + 60))),
            "nbf",
        ),
        (
            "wrong audience",
            rs256(&with("aud", json!("http://other/mcp"))),
            "audience",
        ),
        (
            "wrong issuer",
            rs256(&with("iss", json!("http://127.0.0.1:1/"))),
            "issuer",
        ),
        ("no exp", rs256(&without("exp")), "exp"),
        ("no aud", rs256(&without("aud")), "aud"),
        (
            "signed by another key",
            sign(&other, Algorithm::RS256, Some("k1"), &good),
            "signature",
        ),
        (
            "alg none",
            {
                let header = "eyJhbGciOiJub25lIiwia2lkIjoiazEifQ"; // {"alg":"none","kid":"k1"}
                let rs = rs256(&good);
                let payload = rs.split('.').nth(1).expect("payload");
                format!("{header}.{payload}.")
            },
            "\"none\" is not allowed",
        ),
        (
            // Not in the allow-list: jsonwebtoken has no ES512 (and ring no P-521), so the header
            // itself does not parse.
            "alg ES512",
            {
                let header = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImsxIn0"; // {"alg":"ES512","kid":"k1"}
                let rs = rs256(&good);
                let payload = rs.split('.').nth(1).expect("payload");
                format!("{header}.{payload}.c2ln")
            },
            "\"ES512\" is not allowed",
        ),
        (
            "HS256 signed with the RSA public key (key confusion)",
            sign(
                &EncodingKey::from_secret(&public_pem).expect("hmac key"),
                Algorithm::HS256,
                Some("k1"),
                &good,
            ),
            "HS256",
        ),
        ("garbage", "not.a.jwt".to_owned(), "JWT"),
    ];
    for (name, token, expected) in cases {
        match verifier.verify(&token, AUDIENCE).await {
            Err(Error::Invalid(reason)) => {
                assert!(reason.contains(expected), "{name}: {reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // Each case above was checked against the one cached key set.
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);
    // A good token still verifies (issuer with a path: path-inserted discovery).
    verifier
        .verify(&rs256(&good), AUDIENCE)
        .await
        .expect("valid");
}

#[tokio::test]
async fn an_unknown_kid_triggers_one_rate_limited_refresh_so_keys_rotate() {
    let issuer = issuer("").await;
    let (old, old_jwk) = key("rsa1.pem", Algorithm::RS256, "old");
    let (new, new_jwk) = key("rsa2.pem", Algorithm::RS256, "new");
    *issuer.jwks.lock().expect("lock") = json!({ "keys": [old_jwk] });
    let verifier = Verifier::new(&issuer.url, settings()).expect("verifier");
    let good = claims(&issuer.url);
    verifier
        .verify(&sign(&old, Algorithm::RS256, Some("old"), &good), AUDIENCE)
        .await
        .expect("old key");
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);

    // The issuer rotates. The refresh interval since the first fetch has not passed: a token
    // with the new kid is refused without a fetch.
    *issuer.jwks.lock().expect("lock") = json!({ "keys": [new_jwk] });
    let rotated = sign(&new, Algorithm::RS256, Some("new"), &good);
    assert!(matches!(
        verifier.verify(&rotated, AUDIENCE).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1, "rate-limited");

    tokio::time::sleep(Duration::from_millis(600)).await;
    verifier
        .verify(&rotated, AUDIENCE)
        .await
        .expect("new key after one refresh");
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 2);
    // Many tokens with unknown kids right after: no further fetch.
    for kid in ["x", "y", "z"] {
        let token = sign(&new, Algorithm::RS256, Some(kid), &good);
        assert!(matches!(
            verifier.verify(&token, AUDIENCE).await,
            Err(Error::Invalid(_))
        ));
    }
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 2);
    // The old key is gone from the set: its tokens fail now, including the very token that was
    // verified (and remembered) before the rotation (RS256 signatures are deterministic).
    let stale = sign(&old, Algorithm::RS256, Some("old"), &good);
    assert_eq!(stale, sign(&old, Algorithm::RS256, Some("old"), &good));
    assert!(matches!(
        verifier.verify(&stale, AUDIENCE).await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn a_remembered_token_is_still_checked_for_its_audience_and_expiry() {
    let issuer = issuer("").await;
    let (signing, jwk) = key("rsa1.pem", Algorithm::RS256, "k");
    *issuer.jwks.lock().expect("lock") = json!({ "keys": [jwk] });
    for (round, cache) in [0, 1024].into_iter().enumerate() {
        let verifier = Verifier::new(
            &issuer.url,
            Settings {
                leeway: Duration::ZERO,
                verified_tokens: cache,
                ..settings()
            },
        )
        .expect("verifier");
        let token = sign(&signing, Algorithm::RS256, Some("k"), &claims(&issuer.url));
        let first = verifier.verify(&token, AUDIENCE).await.expect("first use");
        let again = verifier.verify(&token, AUDIENCE).await.expect("second use");
        assert_eq!(first, again, "cache {cache}");
        // The same token presented to another resource: refused, remembered or not.
        assert!(
            matches!(
                verifier.verify(&token, "https://other.example/mcp").await,
                Err(Error::Invalid(_))
            ),
            "cache {cache}"
        );
        // A token that expires in a second, used until it has expired: refused once expired.
        let mut short = claims(&issuer.url);
        short["exp"] = (now() + 1).into();
        let short = sign(&signing, Algorithm::RS256, Some("k"), &short);
        verifier
            .verify(&short, AUDIENCE)
            .await
            .expect("not yet expired");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match verifier.verify(&short, AUDIENCE).await {
                Ok(_) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(_) => panic!("cache {cache}: an expired token still verifies"),
                Err(error) => {
                    assert_eq!(error, Error::Invalid("the token has expired".into()));
                    break;
                }
            }
        }
        // One key fetch per verifier, whether tokens are remembered or not.
        assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), round as u64 + 1);
    }
}

#[tokio::test]
async fn an_unreachable_issuer_fails_closed_as_provider_unavailable() {
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let verifier = Verifier::new(&url, settings()).expect("verifier");
    let (signing, _) = key("rsa1.pem", Algorithm::RS256, "k1");
    let token = sign(&signing, Algorithm::RS256, Some("k1"), &claims(&url));
    match verifier.verify(&token, AUDIENCE).await {
        Err(Error::Provider(reason)) => assert!(reason.contains("metadata"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Within the refresh interval: still unavailable, not allowed, no new fetch.
    assert!(matches!(
        verifier.verify(&token, AUDIENCE).await,
        Err(Error::Provider(_))
    ));
    assert_eq!(verifier.fetches(), 1);
}

#[test]
fn plain_http_issuers_need_a_loopback_host_or_the_opt_in() {
    assert!(Verifier::new("http://issuer.example", Settings::default()).is_err());
    assert!(Verifier::new("http://localhost:9000", Settings::default()).is_ok());
    assert!(Verifier::new("http://[::1]:9000/realm", Settings::default()).is_ok());
    assert!(Verifier::new("https://issuer.example", Settings::default()).is_ok());
    let opted_in = Settings {
        allow_http: true,
        ..Settings::default()
    };
    assert!(Verifier::new("http://issuer.example", opted_in).is_ok());
}
