//! Signature verification by ring for `jsonwebtoken` (its RustCrypto backend stays for
//! everything else). ring is already linked for rustls, and verifies RS256 several times and
//! ES256 about five times faster than the RustCrypto crates: this is on every request's path.
//! The JOSE rules (header, algorithm/key family, claims) stay `jsonwebtoken`'s.

use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use ring::signature::{self as ring_sig, RsaPublicKeyComponents, UnparsedPublicKey};
use std::sync::LazyLock;

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| {
    let base = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    CryptoProvider {
        signer_factory: base.signer_factory,
        verifier_factory: new_verifier,
        key_utils: base.key_utils.clone(),
    }
});

/// Makes ring verify `jsonwebtoken` signatures in this process. [`crate::Issuers::new`] and
/// [`crate::Verifier::new`] call it; call it first in a program that uses `jsonwebtoken` before
/// them (its first use fixes the process's provider; verification is then only slower, not
/// different).
pub fn install() {
    let _ = LazyLock::force(&PROVIDER).install_default();
}

enum Key {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        params: &'static ring_sig::RsaParameters,
    },
    Raw {
        bytes: Vec<u8>,
        algorithm: &'static dyn ring_sig::VerificationAlgorithm,
    },
}

struct RingVerifier {
    alg: Algorithm,
    key: Key,
}

impl jsonwebtoken::signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), jsonwebtoken::signature::Error> {
        let verified = match &self.key {
            Key::Rsa { n, e, params } => {
                RsaPublicKeyComponents { n, e }.verify(params, message, signature)
            }
            Key::Raw { bytes, algorithm } => {
                UnparsedPublicKey::new(*algorithm, bytes).verify(message, signature)
            }
        };
        verified.map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if key.family() != alg.family() {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let rsa = |params: &'static ring_sig::RsaParameters| -> Result<Key> {
        match key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => Ok(Key::Rsa {
                n: strip_zeros(n),
                e: strip_zeros(e),
                params,
            }),
            DecodingKeyKind::SecretOrDer(der) => {
                // A PKCS#1 DER public key: ring parses it itself.
                Ok(Key::Raw {
                    bytes: der.clone(),
                    algorithm: rsa_der_algorithm(params),
                })
            }
        }
    };
    let raw = |algorithm: &'static dyn ring_sig::VerificationAlgorithm| -> Result<Key> {
        match key.kind() {
            DecodingKeyKind::SecretOrDer(bytes) => Ok(Key::Raw {
                bytes: bytes.clone(),
                algorithm,
            }),
            DecodingKeyKind::RsaModulusExponent { .. } => Err(ErrorKind::InvalidKeyFormat.into()),
        }
    };
    let key = match alg {
        Algorithm::RS256 => rsa(&ring_sig::RSA_PKCS1_2048_8192_SHA256)?,
        Algorithm::RS384 => rsa(&ring_sig::RSA_PKCS1_2048_8192_SHA384)?,
        Algorithm::RS512 => rsa(&ring_sig::RSA_PKCS1_2048_8192_SHA512)?,
        Algorithm::PS256 => rsa(&ring_sig::RSA_PSS_2048_8192_SHA256)?,
        Algorithm::PS384 => rsa(&ring_sig::RSA_PSS_2048_8192_SHA384)?,
        Algorithm::PS512 => rsa(&ring_sig::RSA_PSS_2048_8192_SHA512)?,
        Algorithm::ES256 => raw(&ring_sig::ECDSA_P256_SHA256_FIXED)?,
        Algorithm::ES384 => raw(&ring_sig::ECDSA_P384_SHA384_FIXED)?,
        Algorithm::EdDSA => raw(&ring_sig::ED25519)?,
        // HMAC (never accepted by the verifier) and anything else: RustCrypto decides.
        _ => {
            return (jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.verifier_factory)(
                alg, key,
            );
        }
    };
    debug_assert!(alg.family() != AlgorithmFamily::Hmac);
    Ok(Box::new(RingVerifier { alg: *alg, key }))
}

fn rsa_der_algorithm(
    params: &'static ring_sig::RsaParameters,
) -> &'static dyn ring_sig::VerificationAlgorithm {
    params
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}
