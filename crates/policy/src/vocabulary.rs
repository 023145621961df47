//! The enumerated values of a policy document (trust levels, side effects, decisions, modes)
//! and [`Lenient`], the wrapper that lets a document carry values this version does not know.
//!
//! The Go mcp-runtime stores every enumerated value as a plain string, normalises it with
//! `strings.ToLower(strings.TrimSpace(..))` and treats unknown values in a fail-closed way.
//! We keep that tolerance at the parsing layer (so a document from a newer producer still
//! parses and can be reported on), reject unknown values in validation, and keep evaluation
//! total: every accessor below says what an unset or unknown value means.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A closed set of string values, each with its canonical lower-case spelling.
pub trait Vocabulary: Copy + Eq + fmt::Debug + 'static {
    /// Every known value, in the order used when a list of them is sorted.
    const ALL: &'static [Self];

    /// The canonical spelling written into policy documents.
    fn as_str(self) -> &'static str;

    /// Recognises a value the way MR does: surrounding whitespace and ASCII case are ignored.
    fn parse_known(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.as_str().eq_ignore_ascii_case(trimmed))
    }
}

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl Vocabulary for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                <$name as Vocabulary>::parse_known(&raw).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        raw
                    ))
                })
            }
        }
    };
}

vocabulary! {
    /// A trust level. The order is `low` < `medium` < `high`.
    pub enum Trust {
        /// `low`, rank 1.
        Low => "low",
        /// `medium`, rank 2.
        Medium => "medium",
        /// `high`, rank 3.
        High => "high",
    }
}

impl Trust {
    /// MR's numeric rank: `low`=1, `medium`=2, `high`=3. Rank 0 means "no trust" and has no
    /// `Trust` value (see [`trust_name`]).
    pub fn rank(self) -> u8 {
        match self {
            Trust::Low => 1,
            Trust::Medium => 2,
            Trust::High => 3,
        }
    }

    /// The trust level of a rank, or `None` for rank 0 ("no trust").
    pub fn from_rank(rank: u8) -> Option<Trust> {
        match rank {
            0 => None,
            1 => Some(Trust::Low),
            2 => Some(Trust::Medium),
            _ => Some(Trust::High),
        }
    }
}

/// The name of a trust rank as printed in traces: `none`, `low`, `medium` or `high`.
pub fn trust_name(rank: u8) -> &'static str {
    Trust::from_rank(rank).map_or("none", Trust::as_str)
}

vocabulary! {
    /// What a tool does to the world. A grant lists the side effects it allows.
    pub enum SideEffect {
        /// `read`: observes only.
        Read => "read",
        /// `write`: changes state.
        Write => "write",
        /// `destructive`: deletes or irreversibly changes state.
        Destructive => "destructive",
    }
}

impl SideEffect {
    /// The bit of this side effect in a compact set.
    pub(crate) fn bit(self) -> u8 {
        match self {
            SideEffect::Read => 1,
            SideEffect::Write => 2,
            SideEffect::Destructive => 4,
        }
    }
}

vocabulary! {
    /// A tool's risk level: declared, or derived from its side effect and required trust.
    /// Informational only (audit and metrics); it never changes a decision.
    pub enum RiskLevel {
        /// `low`.
        Low => "low",
        /// `medium`.
        Medium => "medium",
        /// `high`.
        High => "high",
    }
}

vocabulary! {
    /// The decision of a grant's tool rule.
    pub enum RuleDecision {
        /// `allow`: the grant allows this tool (subject to side effect and trust).
        Allow => "allow",
        /// `deny`: the tool is denied for the grant's subject, whatever other grants say.
        Deny => "deny",
    }
}

vocabulary! {
    /// `policy.mode`.
    pub enum PolicyMode {
        /// `allow-list`: tool calls need a grant (the default).
        AllowList => "allow-list",
        /// `observe`: every tool call is allowed; decisions are only recorded.
        Observe => "observe",
    }
}

vocabulary! {
    /// `policy.on_tool_drift`: what a tool whose live definition differs from its pin gets.
    pub enum ToolDriftAction {
        /// `quarantine`: hidden from `tools/list`, calls denied with `tool_quarantined` (the
        /// default when any tool is pinned).
        Quarantine => "quarantine",
        /// `warn`: reported (audit event, condition), still listed and callable.
        Warn => "warn",
    }
}

vocabulary! {
    /// `policy.default_decision`: what happens when no grant decides.
    pub enum DefaultDecision {
        /// `allow`.
        Allow => "allow",
        /// `deny` (the default).
        Deny => "deny",
    }
}

vocabulary! {
    /// `auth.mode`: how the gateway identifies callers.
    pub enum AuthMode {
        /// `none`.
        None => "none",
        /// `header`: identity headers set by a trusted adapter.
        Header => "header",
        /// `oauth`: a bearer JWT validated against `issuer_url`.
        Oauth => "oauth",
        /// `mtls`: a verified client certificate carrying a SPIFFE ID in `trust_domain`.
        Mtls => "mtls",
    }
}

/// An enumerated document value that tolerates what this version does not understand.
///
/// * `Unset` is the empty string (or a missing key); each field documents its default.
/// * `Known` is a recognised value (matched case-insensitively, whitespace trimmed).
/// * `Unknown` keeps the raw text so the document round-trips and validation can name it.
///
/// Build values with [`Lenient::from_raw`] or `T::into()`; an `Unknown` holding the spelling
/// of a known value or only whitespace would not survive a serialize/parse round trip.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lenient<T> {
    /// No value (`""` or absent).
    #[default]
    Unset,
    /// A recognised value.
    Known(T),
    /// An unrecognised value, kept verbatim.
    Unknown(String),
}

impl<T: Vocabulary> Lenient<T> {
    /// Classifies a raw document string.
    pub fn from_raw(raw: &str) -> Self {
        if raw.trim().is_empty() {
            Lenient::Unset
        } else if let Some(known) = T::parse_known(raw) {
            Lenient::Known(known)
        } else {
            Lenient::Unknown(raw.to_owned())
        }
    }

    /// The text written into the document (`""` when unset).
    pub fn as_str(&self) -> &str {
        match self {
            Lenient::Unset => "",
            Lenient::Known(value) => value.as_str(),
            Lenient::Unknown(raw) => raw,
        }
    }

    /// The recognised value, if any.
    pub fn known(&self) -> Option<T> {
        match self {
            Lenient::Known(value) => Some(*value),
            Lenient::Unset | Lenient::Unknown(_) => None,
        }
    }

    /// True for `""` / absent.
    pub fn is_unset(&self) -> bool {
        matches!(self, Lenient::Unset)
    }

    /// True when the value is set but not recognised (validation rejects it).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Lenient::Unknown(_))
    }

    /// Sort key used by [`crate::PolicyDocument::normalize`]: known values in vocabulary
    /// order, then unset, then unknown values by text.
    pub(crate) fn sort_key(&self) -> (usize, &str) {
        match self {
            Lenient::Known(value) => (
                T::ALL
                    .iter()
                    .position(|candidate| candidate == value)
                    .unwrap_or(0),
                "",
            ),
            Lenient::Unset => (T::ALL.len(), ""),
            Lenient::Unknown(raw) => (T::ALL.len() + 1, raw),
        }
    }
}

impl Lenient<Trust> {
    /// The rank of a trust value: unset counts as `if_unset`; unknown values count as `low`
    /// (MR's `NormalizeTrust`).
    pub fn rank_or(&self, if_unset: u8) -> u8 {
        match self {
            Lenient::Unset => if_unset,
            Lenient::Known(trust) => trust.rank(),
            Lenient::Unknown(_) => Trust::Low.rank(),
        }
    }
}

impl<T: Vocabulary> From<T> for Lenient<T> {
    fn from(value: T) -> Self {
        Lenient::Known(value)
    }
}

impl<T: Vocabulary> fmt::Display for Lenient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<T: Vocabulary> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de, T: Vocabulary> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Go writes "" rather than null, but a hand-edited document may say null: same meaning.
        let raw = Option::<String>::deserialize(deserializer)?;
        Ok(raw.map_or(Lenient::Unset, |raw| Lenient::from_raw(&raw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_matched_case_insensitively_and_trimmed() {
        assert_eq!(
            Lenient::<Trust>::from_raw(" High "),
            Lenient::Known(Trust::High)
        );
        assert_eq!(
            Lenient::<PolicyMode>::from_raw("Allow-List"),
            Lenient::Known(PolicyMode::AllowList)
        );
        assert_eq!(Lenient::<Trust>::from_raw("  "), Lenient::Unset);
        assert_eq!(
            Lenient::<Trust>::from_raw("root"),
            Lenient::Unknown("root".to_owned())
        );
    }

    #[test]
    fn unknown_trust_counts_as_low_and_unset_uses_the_callers_default() {
        assert_eq!(Lenient::<Trust>::Unknown("root".into()).rank_or(0), 1);
        assert_eq!(Lenient::<Trust>::Unset.rank_or(0), 0);
        assert_eq!(Lenient::<Trust>::Unset.rank_or(1), 1);
        assert_eq!(Lenient::Known(Trust::High).rank_or(0), 3);
    }

    #[test]
    fn trust_ranks_round_trip_and_zero_is_none() {
        for trust in Trust::ALL {
            assert_eq!(Trust::from_rank(trust.rank()), Some(*trust));
        }
        assert_eq!(trust_name(0), "none");
        assert_eq!(trust_name(2), "medium");
    }

    #[test]
    fn lenient_serializes_as_the_raw_string() -> Result<(), serde_json::Error> {
        let values: Vec<Lenient<SideEffect>> =
            serde_json::from_str(r#"["read", "", "teleport", null]"#)?;
        assert_eq!(
            values,
            vec![
                Lenient::Known(SideEffect::Read),
                Lenient::Unset,
                Lenient::Unknown("teleport".into()),
                Lenient::Unset
            ]
        );
        assert_eq!(
            serde_json::to_string(&values)?,
            r#"["read","","teleport",""]"#
        );
        Ok(())
    }
}
