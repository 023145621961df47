//! The gateway's policy source: the mounted `policy.json`, reloaded on change notification, and
//! live sources (the API watch of `mcp-runtime-policy-watch`) through [`PolicySink`]; with both,
//! the newest document wins ([`PolicyStore::install_from`]) and a live source that is down is
//! reported stale while the last good policy stays active.
//!
//! MR re-reads the mounted file every 5 s (reference §6.5, gap 13). Here the file is watched
//! instead, so a revocation written by the operator takes effect as soon as the kubelet has
//! updated the volume:
//!
//! * [`PolicyStore`] holds the active [`CompiledPolicy`] behind an [`ArcSwapOption`], so the
//!   request path reads it lock-free with [`PolicyStore::current`], and the
//!   `/config/status` view ([`PolicyStatus`]) plus reload counters for
//!   `mcp_gateway_policy_reloads_total{result}` ([`ReloadCounts`]).
//! * [`PolicyStore::load_file`] reads and compiles the file. A failed reload keeps the last
//!   good policy and records `last_reload_error`; a reload with an unchanged revision swaps
//!   nothing (the operator keeps an unchanged ConfigMap byte for byte anyway).
//! * [`watch_file`] loads once, then reloads on every change in the file's **parent
//!   directory**. A Kubernetes ConfigMap volume never rewrites `policy.json` in place: the
//!   file is a symlink `policy.json -> ..data/policy.json`, and an update writes a new
//!   timestamped directory and atomically renames a new `..data` symlink over the old one. A
//!   watch on the file's inode would keep watching the old, deleted version; the events of
//!   that rename happen in the parent directory.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use jiff::Timestamp;
use mcp_runtime_policy::{AuthMode, CompiledPolicy, Vocabulary};
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Where the operator mounts the policy ConfigMap in the gateway container.
pub const DEFAULT_POLICY_PATH: &str = "/var/run/mcp-runtime/policy/policy.json";

/// Quiet period after a file-system event before the file is re-read, so that the burst of
/// events of one update (a ConfigMap swap produces several) gives one reload.
pub const DEBOUNCE: Duration = Duration::from_millis(75);

/// Upper bound on how long a continuous stream of events can postpone a reload.
pub const MAX_DEBOUNCE: Duration = Duration::from_millis(500);

/// Interval of the safety-net re-read, independent of events.
///
/// Change notification can miss an update: the inotify queue can overflow (the kernel then
/// drops events), some volume types (network and FUSE file systems) deliver no events at all,
/// and a watch silently ends if its directory is unmounted and mounted again. Re-reading the
/// file this often bounds the staleness in those cases; it costs one small read and a hash
/// comparison, because an unchanged revision swaps nothing.
pub const SAFETY_NET_INTERVAL: Duration = Duration::from_secs(30);

/// Largest policy file accepted. A ConfigMap holds at most 1 MiB, so anything larger is not
/// a policy the operator wrote.
pub const MAX_POLICY_BYTES: u64 = 4 * 1024 * 1024;

/// The `/config/status` body (reference §7.1): `{ready, schema_version, revision, loaded_at,
/// last_reload_error}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PolicyStatus {
    /// A valid policy is active (`/ready` is 503 `policy_not_loaded` until then).
    pub ready: bool,
    /// `schema_version` of the active document.
    pub schema_version: Option<String>,
    /// `revision` of the active document.
    pub revision: Option<String>,
    /// When the active document was swapped in (RFC 3339, UTC, whole seconds).
    pub loaded_at: Option<String>,
    /// Why the most recent reload failed; cleared by the next successful one.
    pub last_reload_error: Option<String>,
    /// Where the active document came from (`file` or `api`); only when a live source (the API
    /// watch) is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Some source that should deliver updates cannot: the active policy may be stale (it is
    /// still enforced; see docs/gateway.md, "Staleness").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    /// The health of each live source besides the file (the API watch), by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, SourceStatus>,
}

/// The health of one live policy source (the API watch), on `/config/status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    /// The source is connected and up to date.
    pub up: bool,
    /// When it last confirmed it was up to date (connected, listed or delivered), RFC 3339.
    pub last_seen: Option<String>,
    /// Seconds since `last_seen` at the time of the status.
    pub age_seconds: Option<i64>,
    /// Why it is down, when it is.
    pub last_error: Option<String>,
}

/// The label of the mounted file source.
pub const SOURCE_FILE: &str = "file";
/// The label of the Kubernetes API watch source.
pub const SOURCE_API: &str = "api";

/// The kube-free side of a live policy source: whatever watches the policy elsewhere (the
/// `mcp-runtime-policy-watch` crate watches the ConfigMap through the Kubernetes API) hands
/// documents and its own health to this, and never needs to know how the gateway applies them.
///
/// Implementations must fail closed: a document that does not validate changes nothing, and a
/// source that goes down leaves the last good policy active.
pub trait PolicySink: Send + Sync {
    /// A new policy document arrived from `source` (`origin` names it for the logs).
    fn policy_text(&self, source: &'static str, origin: &str, text: &str);
    /// `source` is connected and up to date (a watch was established or listed).
    fn source_up(&self, source: &'static str);
    /// `source` lost its connection or failed; `error` says why.
    fn source_down(&self, source: &'static str, error: &str);
}

#[derive(Clone, Debug, Default)]
struct SourceHealth {
    up: bool,
    last_seen: Option<Timestamp>,
    last_error: Option<String>,
}

/// How many reloads ended which way, for `mcp_gateway_policy_reloads_total{result}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReloadCounts {
    /// A valid document with a new revision was swapped in.
    pub success: u64,
    /// A valid document with the active revision was read; nothing changed.
    pub unchanged: u64,
    /// The file could not be read or is not a valid policy; the last good one stays.
    pub failure: u64,
}

impl ReloadCounts {
    /// `(result label, count)` pairs, in a fixed order.
    pub fn by_result(&self) -> [(&'static str, u64); 3] {
        [
            ("success", self.success),
            ("unchanged", self.unchanged),
            ("failure", self.failure),
        ]
    }
}

/// The active policy and its reload status.
pub struct PolicyStore {
    current: ArcSwapOption<CompiledPolicy>,
    /// Held for a whole reload (so concurrent reloads cannot swap in an older read) and by
    /// [`PolicyStore::status`] (so a status is never half old, half new). Never taken on the
    /// request path.
    state: Mutex<State>,
    /// Settings from the pod environment for fields a document leaves unset.
    defaults: DocumentDefaults,
    success: AtomicU64,
    unchanged: AtomicU64,
    failure: AtomicU64,
}

#[derive(Default)]
struct State {
    loaded_at: Option<Timestamp>,
    last_reload_error: Option<String>,
    /// The source of the active document.
    active_source: Option<&'static str>,
    /// Health of the live sources (not the file), by label.
    sources: BTreeMap<&'static str, SourceHealth>,
}

impl fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.current.load();
        f.debug_struct("PolicyStore")
            .field(
                "revision",
                &current.as_ref().map(|policy| policy.revision()),
            )
            .field("reloads", &self.reload_counts())
            .finish_non_exhaustive()
    }
}

impl Default for PolicyStore {
    fn default() -> Self {
        PolicyStore::new()
    }
}

impl PolicyStore {
    /// An empty store: not ready until a policy is loaded.
    pub fn new() -> Self {
        PolicyStore {
            current: ArcSwapOption::empty(),
            state: Mutex::new(State::default()),
            defaults: DocumentDefaults::default(),
            success: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
            failure: AtomicU64::new(0),
        }
    }

    /// An empty store that fills fields its documents leave unset from `defaults` (MR's sidecar
    /// environment: `POLICY_MODE`, `HUMAN_ID_HEADER`, …).
    pub fn with_defaults(defaults: DocumentDefaults) -> Self {
        PolicyStore {
            defaults,
            ..PolicyStore::new()
        }
    }

    /// A store that starts with `policy` active (for local mode and tests).
    pub fn with_policy(policy: CompiledPolicy) -> Self {
        let store = PolicyStore::new();
        store.current.store(Some(Arc::new(policy)));
        store.lock().loaded_at = Some(now());
        store
    }

    /// The active policy, or `None` before the first valid load. Lock-free.
    pub fn current(&self) -> Option<Arc<CompiledPolicy>> {
        self.current.load_full()
    }

    /// A policy is active.
    pub fn is_ready(&self) -> bool {
        self.current.load().is_some()
    }

    /// The `/config/status` view.
    pub fn status(&self) -> PolicyStatus {
        let state = self.lock();
        let current = self.current.load();
        let document = current.as_ref().map(|policy| policy.document());
        let now = Timestamp::now();
        PolicyStatus {
            ready: document.is_some(),
            schema_version: document.map(|document| document.schema_version.clone()),
            revision: document.map(|document| document.revision.clone()),
            loaded_at: state.loaded_at.map(|at| at.to_string()),
            last_reload_error: state.last_reload_error.clone(),
            // Only with a live source: a file-only gateway keeps the reference's status shape.
            source: state
                .active_source
                .filter(|_| !state.sources.is_empty())
                .map(str::to_owned),
            stale: state.sources.values().any(|health| !health.up),
            sources: state
                .sources
                .iter()
                .map(|(name, health)| {
                    (
                        (*name).to_owned(),
                        SourceStatus {
                            up: health.up,
                            last_seen: health.last_seen.map(|at| at.to_string()),
                            age_seconds: health
                                .last_seen
                                .map(|at| now.as_second().saturating_sub(at.as_second()).max(0)),
                            last_error: health.last_error.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Declares a live source (the API watch) before it first connects, so that it is reported
    /// down (and the policy stale) until it does.
    pub fn register_source(&self, source: &'static str) {
        self.lock().sources.entry(source).or_default();
    }

    /// `(source, up, seconds since it last confirmed it was up to date)` of every live source,
    /// for `mcp_gateway_policy_source_up` and `mcp_gateway_policy_source_age_seconds`.
    pub fn source_health(&self) -> Vec<(&'static str, bool, Option<f64>)> {
        let now = Timestamp::now();
        self.lock()
            .sources
            .iter()
            .map(|(name, health)| {
                let age = health
                    .last_seen
                    .map(|at| now.duration_since(at).as_secs_f64().max(0.0));
                (*name, health.up, age)
            })
            .collect()
    }

    /// Seconds since the active policy was swapped in.
    pub fn policy_age_seconds(&self) -> Option<f64> {
        let loaded_at = self.lock().loaded_at?;
        Some(
            Timestamp::now()
                .duration_since(loaded_at)
                .as_secs_f64()
                .max(0.0),
        )
    }

    /// Compiles `text` (a policy document from `source`) and activates it with the rules of
    /// [`PolicyStore::install_from`]. An invalid document keeps the last good policy.
    pub fn load_text(
        &self,
        source: &'static str,
        origin: &str,
        text: &str,
    ) -> Result<(), PolicyTextError> {
        let policy = if text.len() as u64 > MAX_POLICY_BYTES {
            Err(PolicyTextError::TooLarge {
                origin: origin.to_owned(),
            })
        } else {
            CompiledPolicy::from_json(text.as_bytes())
                .map_err(|source| PolicyTextError::Invalid {
                    origin: origin.to_owned(),
                    source,
                })
                .and_then(|policy| {
                    self.defaults
                        .apply(policy)
                        .map_err(|source| PolicyTextError::AuthMode {
                            origin: origin.to_owned(),
                            source,
                        })
                })
        };
        self.install_from(source, origin, policy)
    }

    /// Reload outcomes so far.
    pub fn reload_counts(&self) -> ReloadCounts {
        ReloadCounts {
            success: self.success.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            failure: self.failure.load(Ordering::Relaxed),
        }
    }

    /// When the active policy was swapped in (for
    /// `mcp_gateway_policy_last_reload_success_timestamp_seconds`).
    pub fn loaded_at(&self) -> Option<Timestamp> {
        self.lock().loaded_at
    }

    /// Reads, validates and compiles `path`, and activates it.
    ///
    /// On failure the previous policy stays active, `last_reload_error` records the message
    /// (which names the file) and it is returned. A document with the active revision swaps
    /// nothing but still clears a stale error. Blocking: call it off the async runtime.
    pub fn load_file(&self, path: &Path) -> Result<(), PolicyFileError> {
        let policy = read_policy(path).and_then(|policy| {
            self.defaults
                .apply(policy)
                .map_err(|source| PolicyFileError::AuthMode {
                    path: path.to_owned(),
                    source,
                })
        });
        self.install_from(SOURCE_FILE, &path.display().to_string(), policy)
    }

    /// Activates a policy produced elsewhere (the local mode renders it in process), with the
    /// same rules as [`PolicyStore::load_file`]: an error keeps the last good policy and is
    /// reported on `/config/status`. `origin` names where it came from in the logs.
    pub fn install<E: fmt::Display>(
        &self,
        origin: &str,
        outcome: Result<CompiledPolicy, E>,
    ) -> Result<(), E> {
        self.install_from(SOURCE_FILE, origin, outcome)
    }

    /// [`PolicyStore::install`] for a document from `source` (`file` or `api`).
    ///
    /// With two sources (the mounted file, which the kubelet refreshes late, and the API
    /// watch) the newest document wins: a valid document whose `generated_at` is older than the
    /// active one's is ignored (counted as `unchanged`), so the file cannot roll back a
    /// revocation the API already delivered. On equal `generated_at`, a document from another
    /// source does not replace one from the API. Documents without a parseable `generated_at`
    /// (hand-written files) are not ordered: the latest arrival wins.
    pub fn install_from<E: fmt::Display>(
        &self,
        source: &'static str,
        origin: &str,
        outcome: Result<CompiledPolicy, E>,
    ) -> Result<(), E> {
        let mut state = self.lock();
        match outcome {
            Ok(policy) => {
                let active = self.current.load_full();
                let unchanged = active
                    .as_ref()
                    .is_some_and(|active| active.revision() == policy.revision());
                let older = !unchanged
                    && active.as_ref().is_some_and(|active| {
                        match (
                            generated_at(active.document()),
                            generated_at(policy.document()),
                        ) {
                            (Some(active_at), Some(new_at)) => {
                                new_at < active_at
                                    || (new_at == active_at
                                        && state.active_source == Some(SOURCE_API)
                                        && source != SOURCE_API)
                            }
                            _ => false,
                        }
                    });
                if unchanged || older {
                    self.unchanged.fetch_add(1, Ordering::Relaxed);
                    if older {
                        tracing::debug!(
                            origin,
                            revision = policy.revision(),
                            "policy older than the active one; ignored"
                        );
                    } else {
                        tracing::debug!(origin, revision = policy.revision(), "policy unchanged");
                    }
                } else {
                    tracing::info!(
                        origin,
                        revision = policy.revision(),
                        schema_version = policy.document().schema_version,
                        "policy loaded"
                    );
                    self.current.store(Some(Arc::new(policy)));
                    state.loaded_at = Some(now());
                    state.active_source = Some(source);
                    self.success.fetch_add(1, Ordering::Relaxed);
                }
                state.last_reload_error = None;
                Ok(())
            }
            Err(error) => {
                self.failure.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    origin,
                    error = %error,
                    ready = self.is_ready(),
                    "policy reload failed; keeping the last good policy"
                );
                state.last_reload_error = Some(error.to_string());
                Err(error)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data that stays consistent even if a holder panicked.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl PolicySink for PolicyStore {
    fn policy_text(&self, source: &'static str, origin: &str, text: &str) {
        // The outcome is recorded in the store (status, counters, log).
        let _ = self.load_text(source, origin, text);
        let mut state = self.lock();
        let health = state.sources.entry(source).or_default();
        health.last_seen = Some(Timestamp::now());
    }

    fn source_up(&self, source: &'static str) {
        let mut state = self.lock();
        let health = state.sources.entry(source).or_default();
        if !health.up {
            tracing::info!(source, "policy source up");
        }
        health.up = true;
        health.last_seen = Some(Timestamp::now());
        health.last_error = None;
    }

    fn source_down(&self, source: &'static str, error: &str) {
        let mut state = self.lock();
        let health = state.sources.entry(source).or_default();
        if health.up {
            tracing::warn!(
                source,
                error,
                "policy source down; keeping the last good policy (it may be stale)"
            );
        }
        health.up = false;
        health.last_error = Some(error.to_owned());
    }
}

fn generated_at(document: &mcp_runtime_policy::PolicyDocument) -> Option<Timestamp> {
    document.generated_at.parse().ok()
}

/// Why a policy document from a live source was not activated. Every message names its origin.
#[derive(Debug, thiserror::Error)]
pub enum PolicyTextError {
    /// The document is over [`MAX_POLICY_BYTES`].
    #[error("policy from {origin} is larger than {MAX_POLICY_BYTES} bytes")]
    TooLarge { origin: String },
    /// The document is not a valid policy.
    #[error("policy from {origin}: {source}")]
    Invalid {
        origin: String,
        #[source]
        source: mcp_runtime_policy::PolicyError,
    },
    /// The document's `auth.mode` disagrees with `AUTH_MODE`.
    #[error("policy from {origin}: {source}")]
    AuthMode {
        origin: String,
        #[source]
        source: AuthModeConflict,
    },
}

fn now() -> Timestamp {
    // MR formats with Go's `time.RFC3339`: whole seconds.
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Values from MR's sidecar environment (`AUTH_MODE`, `POLICY_MODE`, `POLICY_DEFAULT_DECISION`,
/// `POLICY_VERSION`, `HUMAN_ID_HEADER`, `AGENT_ID_HEADER`, `TEAM_ID_HEADER`,
/// `SESSION_ID_HEADER`).
///
/// The policy document is rendered from the same `spec.policy` and `spec.auth` as these
/// variables, so it stays the authority: a variable only fills a field the document leaves
/// unset (for example a hand-written or older document). It can never loosen a field the
/// document sets, such as turning `allow-list` into `observe`.
///
/// `AUTH_MODE` is stricter still: how callers are identified is the security boundary, so a
/// document whose `auth.mode` differs from it is refused ([`AuthModeConflict`]) rather than
/// either value silently winning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentDefaults {
    /// `none`, `header`, `oauth` or `mtls`; checked with [`parse_auth_mode`] at startup.
    pub auth_mode: Option<AuthMode>,
    pub policy_mode: Option<String>,
    pub default_decision: Option<String>,
    pub policy_version: Option<String>,
    pub human_id_header: Option<String>,
    pub agent_id_header: Option<String>,
    pub team_id_header: Option<String>,
    pub session_id_header: Option<String>,
}

impl DocumentDefaults {
    /// Fills the unset fields of `policy`'s document. The revision stays the document's own:
    /// it names what the operator rendered. Fails when the document's `auth.mode` disagrees
    /// with `AUTH_MODE`.
    pub fn apply(&self, policy: CompiledPolicy) -> Result<CompiledPolicy, AuthModeConflict> {
        self.check_auth_mode(&policy)?;
        if *self == DocumentDefaults::default() {
            return Ok(policy);
        }
        let mut document = policy.document().clone();
        if document.auth.mode.is_unset()
            && let Some(mode) = self.auth_mode
        {
            document.auth.mode = mode.into();
        }
        let fill = |field: &mut String, value: &Option<String>| {
            if field.is_empty()
                && let Some(value) = value.as_ref().filter(|v| !v.is_empty())
            {
                field.clone_from(value);
            }
        };
        fill(&mut document.auth.human_id_header, &self.human_id_header);
        fill(&mut document.auth.agent_id_header, &self.agent_id_header);
        fill(&mut document.auth.team_id_header, &self.team_id_header);
        fill(
            &mut document.auth.session_id_header,
            &self.session_id_header,
        );
        fill(&mut document.policy.policy_version, &self.policy_version);
        if document.policy.mode.is_unset()
            && let Some(mode) = lenient(&self.policy_mode)
        {
            document.policy.mode = mode;
        }
        if document.policy.default_decision.is_unset()
            && let Some(decision) = lenient(&self.default_decision)
        {
            document.policy.default_decision = decision;
        }
        Ok(CompiledPolicy::new_unvalidated(document))
    }

    /// `AUTH_MODE` may only repeat what the document says (or fill it when unset).
    pub fn check_auth_mode(&self, policy: &CompiledPolicy) -> Result<(), AuthModeConflict> {
        let document_mode = &policy.document().auth.mode;
        match self.auth_mode {
            Some(variable)
                if !document_mode.is_unset() && document_mode.known() != Some(variable) =>
            {
                Err(AuthModeConflict {
                    document: document_mode.as_str().to_owned(),
                    variable: variable.as_str(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// The document's `auth.mode` and `AUTH_MODE` disagree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "auth.mode is {document:?} but AUTH_MODE is {variable:?}; AUTH_MODE may only repeat the \
     policy's mode (unset it and the policy decides)"
)]
pub struct AuthModeConflict {
    /// The document's `auth.mode`.
    pub document: String,
    /// The `AUTH_MODE` value.
    pub variable: &'static str,
}

/// An `AUTH_MODE` value that names no identity mode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown AUTH_MODE {0:?}: expected none, header, oauth or mtls")]
pub struct UnknownAuthMode(pub String);

/// Parses an `AUTH_MODE` value; empty means unset.
pub fn parse_auth_mode(raw: &str) -> Result<Option<AuthMode>, UnknownAuthMode> {
    match raw.trim() {
        "" => Ok(None),
        other => AuthMode::ALL
            .iter()
            .copied()
            .find(|mode| mode.as_str() == other)
            .map(Some)
            .ok_or_else(|| UnknownAuthMode(other.to_owned())),
    }
}

/// Checks the policy file as the gateway starts: a readable, valid document whose `auth.mode`
/// disagrees with `AUTH_MODE` is a configuration error worth refusing to start for. A missing
/// or invalid file is not (the gateway answers 503 until a valid one appears, as a ConfigMap
/// volume may lag behind the container).
pub fn startup_check(path: &Path, defaults: &DocumentDefaults) -> Result<(), AuthModeConflict> {
    match read_policy(path) {
        Ok(policy) => defaults.check_auth_mode(&policy),
        Err(_) => Ok(()),
    }
}

/// A vocabulary value from an environment string, as the document would read it (an unknown
/// word stays unknown, and the evaluator treats it as the document would: fail closed).
fn lenient<T: serde::de::DeserializeOwned>(value: &Option<String>) -> Option<T> {
    let value = value.as_ref().filter(|v| !v.trim().is_empty())?;
    serde_json::from_value(serde_json::Value::String(value.trim().to_owned())).ok()
}

/// Why a policy file was not activated. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    /// The file could not be opened or read.
    #[error("reading policy file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is over [`MAX_POLICY_BYTES`].
    #[error("policy file {} is larger than {MAX_POLICY_BYTES} bytes", path.display())]
    TooLarge { path: PathBuf },
    /// The document is not a valid policy.
    #[error("policy file {}: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: mcp_runtime_policy::PolicyError,
    },
    /// The document's `auth.mode` disagrees with `AUTH_MODE`.
    #[error("policy file {}: {source}", path.display())]
    AuthMode {
        path: PathBuf,
        #[source]
        source: AuthModeConflict,
    },
}

fn read_policy(path: &Path) -> Result<CompiledPolicy, PolicyFileError> {
    let read_error = |source| PolicyFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        return Err(PolicyFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    CompiledPolicy::from_json(&bytes).map_err(|source| PolicyFileError::Invalid {
        path: path.to_owned(),
        source,
    })
}

/// Why [`watch_file`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The directory holding the policy file could not be watched (it must exist).
    #[error("watching policy directory {}: {source}", dir.display())]
    Watch {
        /// The directory.
        dir: PathBuf,
        /// The watcher's error.
        #[source]
        source: notify::Error,
    },
}

/// A running [`watch_file`]; dropping it stops the watcher and its task.
pub struct WatchHandle {
    _watcher: RecommendedWatcher,
    task: JoinHandle<()>,
    path: PathBuf,
}

impl fmt::Debug for WatchHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchHandle")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Loads `path` into `store` once, then keeps reloading it on change until the returned
/// handle is dropped.
///
/// The watch is on the parent directory (see the module docs), so the file may be missing at
/// start: the store is then not ready, and the file is loaded when it appears. Events are
/// debounced ([`DEBOUNCE`], at most [`MAX_DEBOUNCE`]), and the file is re-read every
/// [`SAFETY_NET_INTERVAL`] regardless. Fails only when the parent directory cannot be
/// watched.
pub async fn watch_file(store: Arc<PolicyStore>, path: PathBuf) -> Result<WatchHandle, WatchError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };

    // Capacity 1: a queued wake-up already means "re-read", so further events can be dropped.
    let (wake, mut woken) = mpsc::channel::<()>(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = match &event {
            // Opening and reading (ours included) change nothing; a close after writing does.
            Ok(event) => match event.kind {
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
                EventKind::Access(_) => false,
                _ => true,
            },
            Err(error) => {
                tracing::warn!(%error, "policy watcher error; re-reading the policy");
                true
            }
        };
        if relevant {
            let _ = wake.try_send(());
        }
    })
    .map_err(|source| WatchError::Watch {
        dir: dir.clone(),
        source,
    })?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|source| WatchError::Watch {
            dir: dir.clone(),
            source,
        })?;

    // Load after the watch is in place, so an update in between is not missed.
    reload(&store, &path).await;

    let task = tokio::spawn({
        let path = path.clone();
        async move {
            let mut safety_net = tokio::time::interval(SAFETY_NET_INTERVAL);
            safety_net.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            safety_net.tick().await; // The first tick is immediate; the file was just loaded.
            loop {
                tokio::select! {
                    woke = woken.recv() => {
                        if woke.is_none() {
                            return; // The watcher is gone.
                        }
                        debounce(&mut woken).await;
                    }
                    _ = safety_net.tick() => {}
                }
                reload(&store, &path).await;
                safety_net.reset();
            }
        }
    });

    Ok(WatchHandle {
        _watcher: watcher,
        task,
        path,
    })
}

/// Waits until no event arrived for [`DEBOUNCE`], or [`MAX_DEBOUNCE`] passed.
async fn debounce(woken: &mut mpsc::Receiver<()>) {
    let deadline = tokio::time::Instant::now() + MAX_DEBOUNCE;
    loop {
        let quiet_until = (tokio::time::Instant::now() + DEBOUNCE).min(deadline);
        match tokio::time::timeout_at(quiet_until, woken.recv()).await {
            Ok(Some(())) if tokio::time::Instant::now() < deadline => continue,
            _ => return,
        }
    }
}

async fn reload(store: &Arc<PolicyStore>, path: &Path) {
    let store = Arc::clone(store);
    let path = path.to_path_buf();
    // Reading and compiling a policy is blocking work; the outcome is recorded in the store.
    let _ = tokio::task::spawn_blocking(move || store.load_file(&path)).await;
}
