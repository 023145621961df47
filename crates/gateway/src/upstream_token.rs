//! The token the gateway itself sends upstream for a session (`spec.upstreamTokenSecretRef` of
//! an MCPAgentSession), never the caller's.
//!
//! The policy document names only *which* Secret key belongs to a session
//! (`sessions[].upstream_token_ref`, `<secret>/<key>`); the token itself never enters the
//! policy ConfigMap. The gateway reads it from a file, `<dir>/<namespace>/<secret>/<key>`, where
//! `<dir>` is `UPSTREAM_TOKEN_DIR`: in a pod the operator projects each referenced Secret key
//! there (read-only, in the gateway container only), and `mcp-runtime up` points it at a local
//! directory.
//!
//! The file is read again for every request that carries a token, so a rotated Secret (the
//! kubelet swaps the projected files atomically) or a rewritten local file is used by the very
//! next request, with no restart and no cache to invalidate. Only requests of sessions that name
//! a token pay for the read (a few microseconds on the tmpfs a Secret volume is); a policy
//! where no session names one costs nothing ([`CompiledPolicy::has_upstream_tokens`]).
//!
//! A session that names a token whose file cannot be read is refused with 503
//! `upstream_token_unavailable` rather than forwarded without it: the upstream expects the
//! gateway to speak for that session, and a request without the token would reach it as
//! someone else.

use crate::pipeline::identity::Caller;
use crate::proxy::ProxyBody;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use mcp_runtime_policy::CompiledPolicy;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the operator projects session tokens into the gateway container.
pub const DEFAULT_UPSTREAM_TOKEN_DIR: &str = "/var/run/mcp-runtime/upstream-tokens";

/// MR's default for `session.upstreamTokenHeader`.
const DEFAULT_HEADER: &str = "authorization";

/// Looks an environment variable up (the process environment, or a stand-in in tests).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where session tokens are read: a directory, and in local mode the environment as well.
#[derive(Clone)]
pub struct UpstreamTokenDir {
    dir: PathBuf,
    env_fallback: Option<EnvLookup>,
}

impl std::fmt::Debug for UpstreamTokenDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTokenDir")
            .field("dir", &self.dir)
            .field("env_fallback", &self.env_fallback.is_some())
            .finish()
    }
}

impl Default for UpstreamTokenDir {
    fn default() -> Self {
        UpstreamTokenDir::new(DEFAULT_UPSTREAM_TOKEN_DIR)
    }
}

impl UpstreamTokenDir {
    /// Tokens under `dir`, as `<dir>/<namespace>/<secret>/<key>`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        UpstreamTokenDir {
            dir: dir.into(),
            env_fallback: None,
        }
    }

    /// Also takes a token from the environment variable [`env_var_name`] when its file does
    /// not exist (`mcp-runtime up`, where the developer's shell is the Secret store; a gateway
    /// in a pod reads files only).
    #[must_use]
    pub fn with_env_fallback(self) -> Self {
        self.with_env_lookup(Arc::new(|name| std::env::var(name).ok()))
    }

    /// [`UpstreamTokenDir::with_env_fallback`] with another source of variables.
    #[must_use]
    pub fn with_env_lookup(mut self, lookup: EnvLookup) -> Self {
        self.env_fallback = Some(lookup);
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// The environment variable that holds the token of Secret `secret`, key `key` in local mode:
/// `MCP_UPSTREAM_TOKEN_<SECRET>_<KEY>`, upper case, with `-` and `.` as `_` (`github-pat`,
/// `token` → `MCP_UPSTREAM_TOKEN_GITHUB_PAT_TOKEN`).
pub fn env_var_name(secret: &str, key: &str) -> String {
    let upper = |part: &str| -> String {
        part.chars()
            .map(|c| match c {
                '-' | '.' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect()
    };
    format!("MCP_UPSTREAM_TOKEN_{}_{}", upper(secret), upper(key))
}

/// The token a cleared request must carry upstream: which file, and in which header.
#[derive(Debug)]
pub(crate) struct UpstreamToken {
    /// `<namespace>/<secret>/<key>`, each segment checked to be a plain file name.
    relative: PathBuf,
    /// [`env_var_name`] of the Secret key, for local mode.
    env_var: String,
    header: HeaderName,
}

/// Why a session's token cannot be sent (logged; the caller sees only the reason code).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error(
        "upstream_token_ref {0:?} of namespace {1:?} does not name a Secret key (<secret>/<key>)"
    )]
    Reference(String, String),
    #[error("session.upstream_token_header {0:?} is not a header name")]
    Header(String),
    #[error("cannot read the upstream token file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the upstream token file {0} is empty or not a valid header value")]
    Value(PathBuf),
}

/// The upstream token of `caller`'s session, when the policy gives that (live) session one.
/// An error means the session names a token that cannot be sent: the request is refused.
pub(crate) fn of_caller(
    policy: &CompiledPolicy,
    caller: &Caller,
) -> Result<Option<UpstreamToken>, TokenError> {
    if !policy.has_upstream_tokens() {
        return Ok(None);
    }
    let Some(session) = caller.session.as_deref() else {
        return Ok(None);
    };
    let now = jiff::Timestamp::now();
    let Some(found) = policy.upstream_token_of(&caller.identity(), session, now) else {
        return Ok(None);
    };
    let bad_reference =
        || TokenError::Reference(found.reference.to_owned(), found.namespace.to_owned());
    let (secret, key) = found.reference.split_once('/').ok_or_else(bad_reference)?;
    if ![found.namespace, secret, key]
        .into_iter()
        .all(plain_segment)
    {
        return Err(bad_reference());
    }
    let configured = policy.document().session.upstream_token_header.trim();
    let header = if configured.is_empty() {
        HeaderName::from_static(DEFAULT_HEADER)
    } else {
        HeaderName::try_from(configured).map_err(|_| TokenError::Header(configured.to_owned()))?
    };
    Ok(Some(UpstreamToken {
        relative: [found.namespace, secret, key].iter().collect(),
        env_var: env_var_name(secret, key),
        header,
    }))
}

/// A Kubernetes name or Secret key that is safe as one path segment: no separator, never `.`
/// or `..`, only the characters both allow.
fn plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl UpstreamToken {
    /// Reads the token now and writes it into its header: `Authorization: Bearer <token>` for
    /// `Authorization` (MR's default header), the bare token for any other header. Surrounding
    /// whitespace (a trailing newline) is not part of the token.
    pub(crate) fn write(
        &self,
        dir: &UpstreamTokenDir,
        headers: &mut HeaderMap,
    ) -> Result<(), TokenError> {
        let path = dir.dir.join(&self.relative);
        let token = match (std::fs::read_to_string(&path), &dir.env_fallback) {
            (Ok(token), _) => token,
            (Err(error), Some(lookup)) if error.kind() == std::io::ErrorKind::NotFound => {
                lookup(&self.env_var).ok_or_else(|| TokenError::Read {
                    path: path.clone(),
                    error: std::io::Error::new(
                        error.kind(),
                        format!("no such file, and {} is not set", self.env_var),
                    ),
                })?
            }
            (Err(error), _) => {
                return Err(TokenError::Read {
                    path: path.clone(),
                    error,
                });
            }
        };
        let token = token.trim();
        let value = if self.header == header::AUTHORIZATION {
            HeaderValue::try_from(format!("Bearer {token}"))
        } else {
            HeaderValue::try_from(token)
        };
        match value {
            Ok(mut value) if !token.is_empty() => {
                value.set_sensitive(true);
                headers.insert(self.header.clone(), value);
                Ok(())
            }
            _ => Err(TokenError::Value(path)),
        }
    }
}

/// 503 `upstream_token_unavailable`, in the shape of the other upstream-side errors
/// (`upstream_error`, `upstream_timeout`).
pub(crate) fn unavailable(error: &TokenError) -> Response<ProxyBody> {
    tracing::warn!(%error, "session's upstream token unavailable: request refused");
    crate::pipeline::json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        br#"{"error":"upstream_token_unavailable"}"#.to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::{env_var_name, plain_segment};

    #[test]
    fn the_environment_variable_of_a_secret_key() {
        assert_eq!(
            env_var_name("github-pat", "token"),
            "MCP_UPSTREAM_TOKEN_GITHUB_PAT_TOKEN"
        );
        assert_eq!(env_var_name("a.b", "c_d"), "MCP_UPSTREAM_TOKEN_A_B_C_D");
    }

    #[test]
    fn only_plain_names_are_path_segments() {
        for good in ["github-token", "token", "tls.key", "a_b", "x.y-z"] {
            assert!(plain_segment(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "../etc", "a\\b", "tök", "a b"] {
            assert!(!plain_segment(bad), "{bad:?}");
        }
    }
}
