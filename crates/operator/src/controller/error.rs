//! Errors of a reconcile, one variant per stage that can fail. Each has a stable metrics label.
//!
//! Two families:
//! - **API errors** of a stage (reading references, applying, pruning, writing the status) are
//!   retried with an exponential backoff and counted in `reconcile_errors_total` by the kind of
//!   API error (`conflict`, `server_error`, …), whichever stage met it;
//! - **spec errors** (validation, policy rendering, build, ownership conflicts) cannot be
//!   retried away: the reconciler records them in the status, with [`Error::condition_reason`]
//!   as the `Ready` condition's reason, and waits for a change.

use crate::build::BuildError;
use crate::status::Reason;
use mcp_runtime_api::validation::FieldError;
use mcp_runtime_policy::PolicyError;

/// Errors of a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("the object has no namespace or name")]
    MissingMetadata,
    /// Reading the ConfigMaps and Secrets the pods reference.
    #[error("reading the referenced ConfigMaps and Secrets: {0}")]
    Dereference(#[source] kube::Error),
    /// The spec breaks a rule of the CRD.
    #[error(transparent)]
    Validate(#[from] ValidationError),
    /// The policy does not render from the spec, grants and sessions.
    #[error(transparent)]
    Render(#[from] PolicyError),
    /// The children cannot be built from the spec and the operator's settings.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A child exists and someone else controls it.
    #[error(transparent)]
    Ownership(#[from] OwnershipConflict),
    /// Reading or applying the children.
    #[error("applying the children: {0}")]
    Apply(#[source] kube::Error),
    /// Deleting the children of features switched off.
    #[error("pruning: {0}")]
    Prune(#[source] kube::Error),
    /// Observing the children (pods) or writing the status.
    #[error("status: {0}")]
    Status(#[source] kube::Error),
}

impl Error {
    /// Bounded label for metrics. An API error is labelled by its kind, whichever stage met it,
    /// so a dashboard's `conflict` or `server_error` series count them all.
    pub fn metric_label(&self) -> String {
        match self {
            Error::Kube(e)
            | Error::Dereference(e)
            | Error::Apply(e)
            | Error::Prune(e)
            | Error::Status(e) => api_label(e).into(),
            Error::MissingMetadata => "missing_metadata".into(),
            Error::Validate(_) => "invalid_spec".into(),
            Error::Render(_) => "invalid_policy".into(),
            Error::Build(_) => "build_failed".into(),
            Error::Ownership(_) => "ownership_conflict".into(),
        }
    }

    /// The `Ready` reason of an error that only a change of the spec (or of the children) can
    /// resolve; `None` for errors a retry may resolve.
    pub fn condition_reason(&self) -> Option<Reason> {
        match self {
            Error::Validate(_) | Error::Build(_) => Some(Reason::ConfigurationInvalid),
            Error::Render(_) => Some(Reason::PolicyInvalid),
            Error::Ownership(_) => Some(Reason::OwnershipConflict),
            Error::Kube(_)
            | Error::MissingMetadata
            | Error::Dereference(_)
            | Error::Apply(_)
            | Error::Prune(_)
            | Error::Status(_) => None,
        }
    }
}

fn api_label(error: &kube::Error) -> &'static str {
    match error {
        kube::Error::Api(e) => match e.code {
            409 => "conflict",
            404 => "not_found",
            403 => "forbidden",
            500..=599 => "server_error",
            _ => "api_error",
        },
        _ => "client_error",
    }
}

/// The spec's validation errors, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError(pub Vec<FieldError>);

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.field.is_empty() {
                f.write_str(&e.message)?;
            } else {
                write!(f, "{}: {}", e.field, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// A child the server would own exists and is not its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} {namespace}/{name} already exists and is {holder}; the operator does not adopt it (delete it or rename the MCPServer)"
)]
pub struct OwnershipConflict {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// Who holds it, as [`crate::apply::Ownership::Foreign`] words it.
    pub holder: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            ..kube::core::Status::default()
        }))
    }

    #[test]
    fn api_errors_keep_their_label_whichever_stage_met_them() {
        for (code, label) in [
            (409, "conflict"),
            (404, "not_found"),
            (403, "forbidden"),
            (503, "server_error"),
            (422, "api_error"),
        ] {
            for error in [
                Error::Kube(api(code)),
                Error::Dereference(api(code)),
                Error::Apply(api(code)),
                Error::Prune(api(code)),
                Error::Status(api(code)),
            ] {
                assert_eq!(error.metric_label(), label, "{error}");
                assert_eq!(error.condition_reason(), None);
            }
        }
    }

    #[test]
    fn spec_errors_name_their_field_and_their_reason() {
        let error = Error::from(ValidationError(vec![
            FieldError {
                field: "spec.port".into(),
                message: "must be at most 65535".into(),
            },
            FieldError {
                field: String::new(),
                message: "something else".into(),
            },
        ]));
        assert_eq!(
            error.to_string(),
            "spec.port: must be at most 65535; something else"
        );
        assert_eq!(error.metric_label(), "invalid_spec");
        assert_eq!(error.condition_reason(), Some(Reason::ConfigurationInvalid));
        let conflict = Error::from(OwnershipConflict {
            kind: "Service",
            namespace: "ns".into(),
            name: "srv".into(),
            holder: "controlled by Deployment other".into(),
        });
        assert_eq!(conflict.metric_label(), "ownership_conflict");
        assert_eq!(conflict.condition_reason(), Some(Reason::OwnershipConflict));
        assert!(
            conflict.to_string().starts_with(
                "Service ns/srv already exists and is controlled by Deployment other;"
            )
        );
    }
}
