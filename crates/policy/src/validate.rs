//! `policy.Validate`: the rules a document must satisfy before it is written (operator) or
//! activated (gateway). "An invalid document is never accepted."
//!
//! Unlike MR, which stops at the first problem, every problem is reported, each with the JSON
//! path it concerns, e.g. `grants[2].tool_rules[0].decision: unknown decision "maybe"`.
//! Paths index the lists as they appear in the document (before normalization).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use crate::document::{
    PolicyDocument, SCHEMA_V1, SUPPORTED_SCHEMA_VERSIONS, SessionBinding, Tool, parse_rfc3339,
};
use crate::error::PolicyError;
use crate::revision::compute_revision;
use crate::vocabulary::{AuthMode, Lenient, Vocabulary};

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path of the offending value, e.g. `grants[2].tool_rules[0].decision`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every broken rule of a document, in document order. Never empty when returned as an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// The individual errors.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// True when some error concerns exactly `path`.
    pub fn mentions(&self, path: &str) -> bool {
        self.0.iter().any(|error| error.path == path)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, error) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl PolicyDocument {
    /// Checks every rule of MR's `policy.Validate` plus the `expires_at` rules of [MR-org]:
    ///
    /// * `schema_version` is `v1` or `v2`, and `v2` when a grant has `expires_at`;
    /// * `revision` equals the recomputed revision; `server.name` is present;
    /// * `auth.mode` ∈ {"", none, header, oauth, mtls}; oauth needs `issuer_url`, mtls needs
    ///   `trust_domain`;
    /// * `policy.mode` ∈ {"", allow-list, observe}, `default_decision` ∈ {"", allow, deny};
    /// * tool names present and unique; trust, side-effect and risk values known (empty is
    ///   allowed: it takes the documented default, or fails closed for a side effect);
    /// * grant names present and unique per namespace; allowed side effects known, non-empty
    ///   and not repeated; rule names present and unique within the grant; decisions and
    ///   trust values known; `expires_at` is RFC 3339;
    /// * session names present and unique (the session header carries the name only);
    ///   consented trust known; `expires_at` is RFC 3339.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_against_revision(compute_revision(self))
    }

    /// [`PolicyDocument::validate`] with the revision already computed (or failed), so a caller
    /// can compute it concurrently with other work: it is the most expensive check.
    pub(crate) fn validate_against_revision(
        &self,
        computed_revision: Result<String, PolicyError>,
    ) -> Result<(), ValidationErrors> {
        let mut errors = Errors::default();
        self.validate_header(computed_revision, &mut errors);
        self.validate_settings(&mut errors);
        validate_tools(&self.tools, &mut errors);
        self.validate_grants(&mut errors);
        validate_sessions(&self.sessions, &mut errors);
        if errors.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors.0))
        }
    }

    fn validate_header(&self, computed_revision: Result<String, PolicyError>, errors: &mut Errors) {
        if !SUPPORTED_SCHEMA_VERSIONS.contains(&self.schema_version.as_str()) {
            errors.push(
                "schema_version",
                format!(
                    "unsupported schema version {:?} (supported: {})",
                    self.schema_version,
                    SUPPORTED_SCHEMA_VERSIONS.join(", ")
                ),
            );
        }
        match computed_revision {
            Ok(computed) if computed == self.revision => {}
            Ok(computed) => errors.push(
                "revision",
                format!(
                    "{:?} does not match the document content (computed {computed})",
                    self.revision
                ),
            ),
            Err(error) => errors.push("revision", format!("cannot be computed: {error}")),
        }
        if self.server.name.trim().is_empty() {
            errors.push("server.name", "is required".to_owned());
        }
    }

    fn validate_settings(&self, errors: &mut Errors) {
        let auth = &self.auth;
        check_known(&auth.mode, "auth.mode", "auth mode", errors);
        match auth.mode.known() {
            Some(AuthMode::Oauth) if auth.issuer_url.trim().is_empty() => {
                errors.push(
                    "auth.issuer_url",
                    "is required when auth.mode is oauth".into(),
                );
            }
            Some(AuthMode::Mtls) if auth.trust_domain.trim().is_empty() => {
                errors.push(
                    "auth.trust_domain",
                    "is required when auth.mode is mtls".into(),
                );
            }
            _ => {}
        }
        check_known(&self.policy.mode, "policy.mode", "policy mode", errors);
        check_known(
            &self.policy.default_decision,
            "policy.default_decision",
            "default decision",
            errors,
        );
        check_known(
            &self.policy.on_tool_drift,
            "policy.on_tool_drift",
            "tool drift action",
            errors,
        );
        // Settings with a single meaning in this version: another value asks for behaviour the
        // gateway does not have, and would otherwise be silently ignored.
        check_only(
            &self.policy.enforce_on,
            "policy.enforce_on",
            "call_tool",
            errors,
        );
        check_only(&self.session.store, "session.store", "kubernetes", errors);
    }

    fn validate_grants(&self, errors: &mut Errors) {
        let mut first_index: HashMap<(&str, &str), usize> = HashMap::new();
        for (index, grant) in self.grants.iter().enumerate() {
            let path = format!("grants[{index}]");
            if grant.name.trim().is_empty() {
                errors.push(format!("{path}.name"), "is required".into());
            } else {
                match first_index.entry((grant.namespace.as_str(), grant.name.as_str())) {
                    Entry::Occupied(first) => errors.push(
                        format!("{path}.name"),
                        format!(
                            "duplicate grant \"{}/{}\" (first at grants[{}])",
                            grant.namespace,
                            grant.name,
                            first.get()
                        ),
                    ),
                    Entry::Vacant(slot) => {
                        slot.insert(index);
                    }
                }
            }
            check_known(
                &grant.max_trust,
                &format!("{path}.max_trust"),
                "trust level",
                errors,
            );
            let mut seen_side_effects = Vec::new();
            for (position, side_effect) in grant.allowed_side_effects.iter().enumerate() {
                let item_path = format!("{path}.allowed_side_effects[{position}]");
                match side_effect {
                    Lenient::Unset => errors.push(item_path, "empty side effect".into()),
                    Lenient::Unknown(raw) => {
                        errors.push(item_path, format!("unknown side effect {raw:?}"));
                    }
                    Lenient::Known(known) if seen_side_effects.contains(known) => {
                        errors.push(
                            item_path,
                            format!("duplicate side effect {:?}", known.as_str()),
                        );
                    }
                    Lenient::Known(known) => seen_side_effects.push(*known),
                }
            }
            let mut rule_index: HashMap<&str, usize> = HashMap::new();
            for (position, rule) in grant.tool_rules.iter().enumerate() {
                let rule_path = format!("{path}.tool_rules[{position}]");
                if rule.name.trim().is_empty() {
                    errors.push(format!("{rule_path}.name"), "is required".into());
                } else {
                    match rule_index.entry(rule.name.as_str()) {
                        Entry::Occupied(first) => errors.push(
                            format!("{rule_path}.name"),
                            format!(
                                "duplicate rule for tool {:?} (first at {path}.tool_rules[{}])",
                                rule.name,
                                first.get()
                            ),
                        ),
                        Entry::Vacant(slot) => {
                            slot.insert(position);
                        }
                    }
                }
                check_known(
                    &rule.decision,
                    &format!("{rule_path}.decision"),
                    "decision",
                    errors,
                );
                check_known(
                    &rule.required_trust,
                    &format!("{rule_path}.required_trust"),
                    "trust level",
                    errors,
                );
            }
            if !grant.expires_at.trim().is_empty() {
                if parse_rfc3339(&grant.expires_at).is_none() {
                    errors.push(
                        format!("{path}.expires_at"),
                        format!("not an RFC 3339 timestamp: {:?}", grant.expires_at),
                    );
                }
                // A v1 reader predates grant expiry and would keep honouring the grant.
                if self.schema_version == SCHEMA_V1 {
                    errors.push(
                        format!("{path}.expires_at"),
                        "requires schema_version v2".into(),
                    );
                }
            }
        }
    }
}

fn validate_tools(tools: &[Tool], errors: &mut Errors) {
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (index, tool) in tools.iter().enumerate() {
        let path = format!("tools[{index}]");
        if tool.name.trim().is_empty() {
            errors.push(format!("{path}.name"), "is required".into());
        } else {
            match first_index.entry(tool.name.as_str()) {
                Entry::Occupied(first) => errors.push(
                    format!("{path}.name"),
                    format!(
                        "duplicate tool name {:?} (first at tools[{}])",
                        tool.name,
                        first.get()
                    ),
                ),
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
        check_known(
            &tool.required_trust,
            &format!("{path}.required_trust"),
            "trust level",
            errors,
        );
        check_known(
            &tool.side_effect,
            &format!("{path}.side_effect"),
            "side effect",
            errors,
        );
        check_known(
            &tool.risk_level,
            &format!("{path}.risk_level"),
            "risk level",
            errors,
        );
        if !tool.digest.is_empty() && !crate::pin::is_digest(&tool.digest) {
            errors.push(
                format!("{path}.digest"),
                format!(
                    "{:?} is not a digest: expected sha256: and 64 lower-case hex digits",
                    tool.digest
                ),
            );
        }
    }
}

fn validate_sessions(sessions: &[SessionBinding], errors: &mut Errors) {
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (index, session) in sessions.iter().enumerate() {
        let path = format!("sessions[{index}]");
        if session.name.trim().is_empty() {
            errors.push(format!("{path}.name"), "is required".into());
        } else {
            match first_index.entry(session.name.as_str()) {
                Entry::Occupied(first) => errors.push(
                    format!("{path}.name"),
                    format!(
                        "duplicate session name {:?} (first at sessions[{}])",
                        session.name,
                        first.get()
                    ),
                ),
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
        check_known(
            &session.consented_trust,
            &format!("{path}.consented_trust"),
            "trust level",
            errors,
        );
        if !session.expires_at.trim().is_empty() && parse_rfc3339(&session.expires_at).is_none() {
            errors.push(
                format!("{path}.expires_at"),
                format!("not an RFC 3339 timestamp: {:?}", session.expires_at),
            );
        }
    }
}

/// Rejects a set value this version does not know; unset values are fine.
fn check_known<T: Vocabulary>(value: &Lenient<T>, path: &str, what: &str, errors: &mut Errors) {
    if let Lenient::Unknown(raw) = value {
        errors.push(path, format!("unknown {what} {raw:?}"));
    }
}

#[derive(Default)]
struct Errors(Vec<ValidationError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: String) {
        self.0.push(ValidationError {
            path: path.into(),
            message,
        });
    }
}

/// `value` must be empty or `only`: the one behaviour this version implements.
fn check_only(value: &str, path: &str, only: &str, errors: &mut Errors) {
    let value = value.trim();
    if !value.is_empty() && value != only {
        errors.push(
            path,
            format!("{value:?} is not supported: the only value is {only:?} (or leave it unset)"),
        );
    }
}
