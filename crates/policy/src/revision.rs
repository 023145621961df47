//! The document revision: `sha256:<hex>` of the canonical JSON of the normalized document
//! without `revision` and `generated_at`.
//!
//! Canonical JSON here means: object keys sorted by their UTF-8 bytes at every level, no
//! insignificant whitespace, strings escaped as `serde_json` does. Empty optional fields are
//! omitted (see [`PolicyDocument`]), so "absent" and "empty" hash the same.
//!
//! The hash is taken over a [normalized](PolicyDocument::normalize) copy, so the revision does
//! not depend on the order in which grants, sessions, tools, tool rules or side effects were
//! listed. A changed `generated_at` alone never changes the revision, which is what lets the
//! operator keep an unchanged ConfigMap byte for byte.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::document::PolicyDocument;
use crate::error::PolicyError;

/// Prefix of every revision string.
pub const REVISION_PREFIX: &str = "sha256:";

/// Computes the revision of `document` (its current `revision` and `generated_at` are ignored).
pub fn compute_revision(document: &PolicyDocument) -> Result<String, PolicyError> {
    // Written straight from the document (no `serde_json::Value` in between): this is about
    // half the cost of a reload. A rendered document is already normalized, so it is hashed as
    // it is instead of a sorted copy.
    let mut canonical = Vec::with_capacity(64 * 1024);
    if document.is_normalized() {
        mcp_runtime_canonical_json::write(document, UNHASHED_FIELDS, &mut canonical)?;
    } else {
        let mut normalized = document.clone();
        normalized.normalize();
        mcp_runtime_canonical_json::write(&normalized, UNHASHED_FIELDS, &mut canonical)?;
    }
    let digest = Sha256::digest(&canonical);
    Ok(format!("{REVISION_PREFIX}{}", hex::encode(digest)))
}

/// Top-level fields the revision does not cover: the revision itself, and the time the
/// document was written (see the module docs).
const UNHASHED_FIELDS: &[&str] = &["revision", "generated_at"];

/// Computes the revision and stores it in `document.revision`. Unlike
/// [`PolicyDocument::finalize`] it changes nothing else.
pub fn stamp_revision(document: &mut PolicyDocument) -> Result<(), PolicyError> {
    document.revision = compute_revision(document)?;
    Ok(())
}

/// Serializes `value` with object keys sorted recursively and no whitespace.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, PolicyError> {
    Ok(mcp_runtime_canonical_json::to_vec(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Grant;

    #[test]
    fn canonical_json_sorts_keys_recursively_without_whitespace() -> Result<(), PolicyError> {
        let value: Value = serde_json::from_str(
            r#"{ "b": [ {"z": 1, "a": "x\"y"} ], "a": { "d": true, "c": null } }"#,
        )?;
        let canonical = String::from_utf8_lossy(&canonical_json(&value)?).into_owned();
        assert_eq!(
            canonical,
            r#"{"a":{"c":null,"d":true},"b":[{"a":"x\"y","z":1}]}"#
        );
        Ok(())
    }

    #[test]
    fn revision_is_the_sha256_of_a_hand_written_canonical_form() -> Result<(), PolicyError> {
        let mut document = PolicyDocument {
            schema_version: "v1".into(),
            revision: "ignored".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            ..PolicyDocument::default()
        };
        document.server.name = "files".into();
        document.server.namespace = "tools".into();
        let mut grant = Grant::new("tools", "g");
        grant.agent_id = "claude".into();
        document.grants.push(grant);
        // Written by hand from the rules in the module docs: sorted keys, omitted empties,
        // always-present sections and lists, no revision/generated_at.
        let expected_canonical = concat!(
            r#"{"auth":{},"grants":[{"agent_id":"claude","allowed_side_effects":[],"#,
            r#""name":"g","namespace":"tools"}],"policy":{},"schema_version":"v1","#,
            r#""server":{"name":"files","namespace":"tools"},"session":{"required":false},"#,
            r#""sessions":[],"tools":[]}"#
        );
        let expected = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(expected_canonical.as_bytes()))
        );
        assert_eq!(compute_revision(&document)?, expected);
        Ok(())
    }

    #[test]
    fn generated_at_and_the_old_revision_do_not_change_the_revision() -> Result<(), PolicyError> {
        let mut document = PolicyDocument::default();
        document.server.name = "files".into();
        let before = compute_revision(&document)?;
        document.generated_at = "2030-01-01T00:00:00Z".into();
        document.revision = "sha256:00".into();
        assert_eq!(compute_revision(&document)?, before);
        document.server.cluster = "east".into();
        assert_ne!(compute_revision(&document)?, before);
        Ok(())
    }
}
