//! A real OpenID provider (panva's `oidc-provider`, see `tests/peers/node/oidc-provider.mjs`) for
//! the oauth-mode tests, and the tokens a test needs: real ones from its token endpoint
//! (client credentials + resource indicator) and forged ones signed with keys the test holds.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_runtime_peers::{KillOnDrop, free_port, oidc_provider};
use std::path::{Path, PathBuf};

/// A running provider and the files of its signing key.
pub struct Provider {
    pub issuer: String,
    pub port: u16,
    pub keys: PathBuf,
    pub process: KillOnDrop,
}

impl Provider {
    /// A provider on a free port with a new key set in `dir/<name>.json`.
    pub fn start(dir: &Path, name: &str, alg: &str) -> Provider {
        let port = free_port();
        Provider::start_on(port, dir.join(format!("{name}.json")), alg)
    }

    /// A provider on `port` signing with `keys` (created when missing).
    pub fn start_on(port: u16, keys: PathBuf, alg: &str) -> Provider {
        let process = oidc_provider(port, &keys, alg);
        Provider {
            issuer: format!("http://127.0.0.1:{port}"),
            port,
            keys,
            process,
        }
    }

    /// Stops this provider and starts another on the same port (same issuer) with `keys`: a key
    /// rotation as the gateway sees it.
    pub fn restart_with(self, keys: PathBuf, alg: &str) -> Provider {
        let port = self.port;
        drop(self.process);
        Provider::start_on(port, keys, alg)
    }

    /// The `kid` of the provider's signing key.
    pub fn kid(&self) -> String {
        let set: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&self.keys).expect("keys")).expect("JSON");
        set["keys"][0]["kid"].as_str().expect("kid").to_owned()
    }

    /// The signing key's private PEM (PKCS#8).
    pub fn private_pem(&self) -> Vec<u8> {
        std::fs::read(format!("{}.pem", self.keys.display())).expect("private PEM")
    }

    /// The signing key's public PEM (SPKI).
    pub fn public_pem(&self) -> Vec<u8> {
        std::fs::read(format!("{}.pub.pem", self.keys.display())).expect("public PEM")
    }

    /// An access token for `client` from the token endpoint (client credentials, client secret
    /// in HTTP Basic) for `resource` (RFC 8707).
    pub async fn token(&self, client: &str, secret: &str, resource: &str) -> String {
        let (status, body) = self.token_response(client, secret, resource).await;
        assert_eq!(status, 200, "token endpoint: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("token JSON");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    async fn token_response(&self, client: &str, secret: &str, resource: &str) -> (u16, String) {
        use base64::Engine as _;
        let form = format!(
            "grant_type=client_credentials&scope=mcp&resource={}",
            percent(resource)
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"));
        let request = http::Request::post(format!("{}/token", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {basic}"))
            .body(Full::new(Bytes::from(form)))
            .expect("request");
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(hyper_util::client::legacy::connect::HttpConnector::new());
        let response = client.request(request).await.expect("token endpoint");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The payload of a JWT, decoded without verification (to read `jti`, or to re-sign it).
pub fn payload(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Signs `claims` with a PEM private key (RS256 or ES256) under `kid`.
pub fn sign(
    pem: &[u8],
    alg: jsonwebtoken::Algorithm,
    kid: &str,
    claims: &serde_json::Value,
) -> String {
    let key = match alg {
        jsonwebtoken::Algorithm::ES256 => jsonwebtoken::EncodingKey::from_ec_pem(pem),
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(pem),
    }
    .expect("private key");
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// An HS256 token whose HMAC key is the issuer's *public* key PEM: the key-confusion attack on
/// verifiers that take the algorithm from the token.
pub fn key_confusion(public_pem: &[u8], kid: &str, claims: &serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(public_pem).expect("hmac key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// `alg: none`, no signature.
pub fn unsigned(kid: &str, claims: &serde_json::Value) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header =
        engine.encode(serde_json::json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let body = engine.encode(claims.to_string());
    format!("{header}.{body}.")
}
