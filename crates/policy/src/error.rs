//! Errors of this crate.

use crate::validate::ValidationErrors;

/// Why a policy document could not be accepted or produced.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The bytes are not a JSON document of the policy shape (or serialization failed).
    #[error("policy document is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The document parsed but breaks one or more validation rules.
    #[error("policy document is invalid: {0}")]
    Invalid(ValidationErrors),
}
