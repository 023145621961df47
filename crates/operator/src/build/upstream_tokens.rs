//! The sessions' upstream tokens (`MCPAgentSession.spec.upstreamTokenSecretRef`): each
//! referenced Secret key is projected, read-only, into the gateway container only, at
//! `<UPSTREAM_TOKEN_DIR>/<namespace>/<secret>/<key>`, where the gateway reads it for every
//! request of that session. The policy ConfigMap names the key (`upstream_token_ref`), never
//! the token.
//!
//! - A pod can mount Secrets of its own namespace only, so only sessions in the server's
//!   namespace get their token; a session elsewhere has no file, and the gateway refuses its
//!   requests (503 `upstream_token_unavailable`) rather than forward them without it.
//! - The projections are `optional`: a Secret or key that does not exist (yet) leaves its file
//!   absent instead of keeping the whole pod from starting.
//! - The kubelet refreshes projected Secret files in place, so a rotated token reaches the
//!   gateway without a restart. Adding or removing a *reference* changes the pod template (a
//!   new projection), which rolls the pods.

use super::Context;
use k8s_openapi::api::core::v1::{
    KeyToPath, ProjectedVolumeSource, SecretProjection, Volume, VolumeMount, VolumeProjection,
};
use mcp_runtime_policy::PolicyDocument;
use std::collections::{BTreeMap, BTreeSet};

/// The volume with the projected tokens.
pub const UPSTREAM_TOKEN_VOLUME: &str = "gateway-upstream-tokens";
/// Where it is mounted in the gateway container (the gateway's `UPSTREAM_TOKEN_DIR`).
pub const UPSTREAM_TOKEN_DIR: &str = "/var/run/mcp-runtime/upstream-tokens";

/// Secret name → keys, of the sessions in `namespace` that name an upstream token.
pub(super) fn referenced(
    policy: Option<&PolicyDocument>,
    namespace: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut secrets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for session in policy.iter().flat_map(|document| &document.sessions) {
        if session.namespace != namespace {
            continue;
        }
        if let Some((secret, key)) = session.upstream_token_ref.trim().split_once('/')
            && !secret.is_empty()
            && !key.is_empty()
        {
            secrets
                .entry(secret.to_owned())
                .or_default()
                .insert(key.to_owned());
        }
    }
    secrets
}

impl Context<'_> {
    fn token_namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }

    /// The projected volume of the referenced Secret keys, when there are any.
    pub(super) fn upstream_token_volume(&self) -> Option<Volume> {
        if self.upstream_tokens.is_empty() {
            return None;
        }
        let namespace = self.token_namespace();
        let sources = self
            .upstream_tokens
            .iter()
            .map(|(secret, keys)| VolumeProjection {
                secret: Some(SecretProjection {
                    name: secret.clone(),
                    items: Some(
                        keys.iter()
                            .map(|key| KeyToPath {
                                key: key.clone(),
                                path: format!("{namespace}/{secret}/{key}"),
                                mode: None,
                            })
                            .collect(),
                    ),
                    optional: Some(true),
                }),
                ..VolumeProjection::default()
            })
            .collect();
        Some(Volume {
            name: UPSTREAM_TOKEN_VOLUME.into(),
            projected: Some(ProjectedVolumeSource {
                default_mode: None,
                sources: Some(sources),
            }),
            ..Volume::default()
        })
    }

    /// Its read-only mount in the gateway container, when there is one.
    pub(super) fn upstream_token_mount(&self) -> Option<VolumeMount> {
        (!self.upstream_tokens.is_empty()).then(|| VolumeMount {
            name: UPSTREAM_TOKEN_VOLUME.into(),
            mount_path: UPSTREAM_TOKEN_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        })
    }
}
