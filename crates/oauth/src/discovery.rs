//! Authorization-server metadata discovery (RFC 8414, OpenID Connect Discovery 1.0).

use crate::fetch::{FetchError, Fetcher};
use http::Uri;

/// The metadata URLs tried for `issuer`, in order.
///
/// For an issuer without a path (`https://as.example`): `/.well-known/oauth-authorization-server`
/// and `/.well-known/openid-configuration` at its root. For an issuer with a path
/// (`https://as.example/tenant1`): the path-inserted forms of RFC 8414 §3.1
/// (`https://as.example/.well-known/oauth-authorization-server/tenant1`, the same for
/// `openid-configuration`), then OpenID's appended form
/// (`https://as.example/tenant1/.well-known/openid-configuration`).
pub fn metadata_urls(issuer: &str) -> Result<Vec<String>, String> {
    let uri: Uri = issuer
        .parse()
        .map_err(|error| format!("issuer {issuer:?} is not a URL: {error}"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("issuer {issuer:?} is not an absolute URL"));
    };
    if uri.query().is_some() {
        return Err(format!(
            "issuer {issuer:?} has a query (RFC 8414 §2 forbids it)"
        ));
    }
    let origin = format!("{scheme}://{authority}");
    let path = uri.path().trim_end_matches('/');
    Ok(if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    })
}

/// What the gateway needs from the issuer's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The metadata's `issuer`, equal to the configured one.
    pub issuer: String,
    /// Where the signing keys are.
    pub jwks_uri: String,
}

/// Reads the metadata of `issuer`: the first URL of [`metadata_urls`] that answers 200 with JSON
/// whose `issuer` equals `issuer` exactly (RFC 8414 §3.3) and that names a `jwks_uri`.
pub(crate) async fn discover(fetcher: &Fetcher, issuer: &str) -> Result<Metadata, FetchError> {
    let mut failures = Vec::new();
    for url in metadata_urls(issuer)? {
        let uri: Uri = match url.parse() {
            Ok(uri) => uri,
            Err(error) => {
                failures.push(format!("{url}: {error}"));
                continue;
            }
        };
        let document = match fetcher.json(&uri).await {
            Ok(document) => document,
            Err(error) => {
                failures.push(error);
                continue;
            }
        };
        match parse_metadata(&document, issuer) {
            Ok(metadata) => return Ok(metadata),
            Err(error) => failures.push(format!("{url}: {error}")),
        }
    }
    Err(format!(
        "no authorization-server metadata for issuer {issuer}: {}",
        failures.join("; ")
    ))
}

/// Checks one metadata document against the configured issuer.
pub fn parse_metadata(document: &serde_json::Value, issuer: &str) -> Result<Metadata, String> {
    let stated = document
        .get("issuer")
        .and_then(|v| v.as_str())
        .ok_or("the metadata has no issuer")?;
    if stated != issuer {
        return Err(format!(
            "the metadata names issuer {stated:?}, not {issuer:?}"
        ));
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or("the metadata has no jwks_uri")?;
    Ok(Metadata {
        issuer: stated.to_owned(),
        jwks_uri: jwks_uri.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_issuers_use_the_two_well_known_documents() {
        assert_eq!(
            metadata_urls("https://as.example").expect("urls"),
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            metadata_urls("https://as.example/").expect("urls"),
            metadata_urls("https://as.example").expect("urls")
        );
    }

    #[test]
    fn issuers_with_a_path_use_the_inserted_forms_then_the_appended_one() {
        assert_eq!(
            metadata_urls("https://as.example:8443/realms/mcp").expect("urls"),
            [
                "https://as.example:8443/.well-known/oauth-authorization-server/realms/mcp",
                "https://as.example:8443/.well-known/openid-configuration/realms/mcp",
                "https://as.example:8443/realms/mcp/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn bad_issuers_are_refused() {
        assert!(metadata_urls("as.example").is_err());
        assert!(metadata_urls("https://as.example/?tenant=1").is_err());
    }

    #[test]
    fn the_metadata_must_name_the_same_issuer_and_a_jwks_uri() {
        let good = serde_json::json!({"issuer": "https://as.example", "jwks_uri": "https://as.example/jwks"});
        assert_eq!(
            parse_metadata(&good, "https://as.example")
                .expect("metadata")
                .jwks_uri,
            "https://as.example/jwks"
        );
        assert!(parse_metadata(&good, "https://as.example/").is_err());
        assert!(parse_metadata(&good, "https://evil.example").is_err());
        let no_keys = serde_json::json!({"issuer": "https://as.example"});
        assert!(parse_metadata(&no_keys, "https://as.example").is_err());
    }
}
