//! Storage: the [`Store`] trait, its SQLite and PostgreSQL implementations, and the typed
//! queries the API runs on top of it (shared SQL, so both stores answer identically).

pub mod chain;
mod postgres;
pub(crate) mod queries;
pub mod replay;
mod rollup;
mod sqlite;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use futures_util::future::BoxFuture;

pub use chain::{CheckpointRecord, LinkRecord};
pub use postgres::{ANALYZE_FIRST_ROWS, PostgresStore};
pub use queries::{
    Bucket, Cursor, Dimension, EventFilter, EventPage, EventQuery, GroupCount, Summary,
};
pub use replay::{DecisionBatch, DecisionStream, RecordedDecision, ReplayColumns};
pub use sqlite::SqliteStore;

/// Where events are stored, parsed from a URL.
///
/// - `sqlite://PATH` (also `sqlite:PATH` or a bare path): the embedded store, a single file
///   (created if missing). `sqlite://./sentinel.db` is relative, `sqlite:///var/lib/s.db` absolute.
/// - `postgres://…` or `postgresql://…`: a PostgreSQL server (libpq URL syntax).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for StoreUrl {
    /// Shows the store without the PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => write!(f, "{}", redact_password(url)),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_owned()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() {
            return Err(StoreError::Config(format!(
                "store URL {s:?}: expected sqlite://PATH or postgres://…"
            )));
        }
        if path.contains("://") {
            return Err(StoreError::Config(format!(
                "store URL {s:?}: unsupported scheme; expected sqlite://PATH or postgres://…"
            )));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store configuration is invalid.
    #[error("{0}")]
    Config(String),
    /// An SQLite error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL error.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// The store's writer has stopped.
    #[error("the store writer has stopped")]
    WriterGone,
    /// The database file is no longer the one the store opened: deleted, or replaced by
    /// another file. Writing on would go to a file nobody can read again.
    #[error("{0}")]
    FileGone(String),
    /// A blocking task failed.
    #[error("store task failed: {0}")]
    Task(String),
}

/// One stored event: the filter fields denormalized into columns, plus the event's full JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The event's unique id (the dedupe key).
    pub event_id: String,
    /// Event time, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Trace id, when present.
    pub trace_id: Option<String>,
    /// Envelope `source`.
    pub source: String,
    /// Envelope `event_type`.
    pub event_type: String,
    /// `payload.server`.
    pub server: String,
    /// `payload.namespace`.
    pub namespace: String,
    /// `payload.cluster`.
    pub cluster: String,
    /// `payload.team_id`.
    pub team_id: String,
    /// `payload.human_id`.
    pub human_id: String,
    /// `payload.agent_id`.
    pub agent_id: String,
    /// `payload.session_id`.
    pub session_id: String,
    /// `payload.decision` (`allow` or `deny`).
    pub decision: String,
    /// `payload.reason`.
    pub reason: String,
    /// `payload.tool_name` (empty when unset).
    pub tool_name: String,
    /// `payload.rpc_method` (empty when unset).
    pub rpc_method: String,
    /// `payload.status`.
    pub status: i64,
    /// `payload.latency_ms`.
    pub latency_ms: i64,
    /// The event as received (JSON object text).
    pub json: String,
    /// What policy replay needs beyond the columns above.
    pub replay: ReplayColumns,
    /// Its place in its emitter's hash chain, when it has one (stored in `chain_links`).
    pub chain: Option<LinkRecord>,
}

/// SQL flavour of a store: placeholders and the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (`?N` placeholders).
    Sqlite,
    /// PostgreSQL (`$N` placeholders).
    Postgres,
}

impl Dialect {
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Self::Sqlite => format!("?{n}"),
            Self::Postgres => format!("${n}"),
        }
    }
}

/// A bound SQL parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
}

/// The type of a result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (NULL allowed).
    Text,
    /// 64-bit integer (NULL allowed).
    Int,
}

/// A result cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text or NULL.
    Text(Option<String>),
    /// Integer or NULL.
    Int(Option<i64>),
}

impl Cell {
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Text(t) => t.clone().unwrap_or_default(),
            Self::Int(i) => i.map(|i| i.to_string()).unwrap_or_default(),
        }
    }

    pub(crate) fn int(&self) -> i64 {
        match self {
            Self::Int(i) => i.unwrap_or(0),
            Self::Text(t) => t.as_deref().and_then(|t| t.parse().ok()).unwrap_or(0),
        }
    }

    pub(crate) fn opt_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => *i,
            Self::Text(t) => t.as_deref().and_then(|t| t.parse().ok()),
        }
    }
}

/// A read query: SQL text in the store's dialect, its parameters and the result column kinds.
#[derive(Debug, Clone)]
pub struct SqlQuery {
    /// SQL text.
    pub sql: String,
    /// Positional parameters (`?1`/`$1` …).
    pub params: Vec<SqlValue>,
    /// Kind of each result column.
    pub kinds: Vec<Kind>,
}

/// An event store. Both implementations share the schema (one `events` table with the filter
/// fields as indexed columns and the full event JSON) and every read query, so they answer the
/// query API identically; only writing, deleting and connection handling differ.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The SQL dialect of [`Store::fetch`].
    fn dialect(&self) -> Dialect;
    /// Stores events durably, ignoring any whose `event_id` is already stored (also within
    /// `records`). Resolves to the number of events newly stored, once they are committed.
    fn insert(&self, records: Vec<EventRecord>) -> BoxFuture<'static, Result<u64, StoreError>>;
    /// Stores checkpoints, ignoring any already stored for the same chain and seq; resolves to
    /// the number newly stored.
    fn insert_checkpoints(
        &self,
        checkpoints: Vec<CheckpointRecord>,
    ) -> BoxFuture<'static, Result<u64, StoreError>>;
    /// Runs a read query.
    fn fetch(&self, query: SqlQuery) -> BoxFuture<'static, Result<Vec<Vec<Cell>>, StoreError>>;
    /// Deletes the events of the whole hours before the hour holding `ts_ns` (retention works
    /// in whole hours, as the usage rollup does); resolves to the number deleted.
    fn delete_before(&self, ts_ns: i64) -> BoxFuture<'static, Result<u64, StoreError>>;
    /// Checks that the store answers.
    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>>;
    /// Streams the replay inputs of every recorded tool-call decision in `[from_ns, to_ns)`, in
    /// batches of up to [`replay::BATCH_ROWS`] rows, in no particular order. The scan stops when
    /// the receiver is dropped.
    fn scan_decisions(&self, from_ns: i64, to_ns: i64) -> DecisionStream;
}

/// The columns of the `events` table, in insert order (`seq` is assigned by the store).
pub(crate) const COLUMNS: [&str; 24] = [
    "event_id",
    "ts",
    "trace_id",
    "source",
    "event_type",
    "server",
    "namespace",
    "cluster",
    "team_id",
    "human_id",
    "agent_id",
    "session_id",
    "decision",
    "reason",
    "tool_name",
    "rpc_method",
    "status",
    "latency_ms",
    "event",
    "subject_team_id",
    "matched_grant",
    "matched_session",
    "required_trust",
    "required_side_effect",
];

/// Indexes shared by both stores: time order (every page is read newest first, so any filter
/// can walk this index and stop after a page of matches), plus (column, time) for the filters
/// whose values are rare enough that walking the time index would read most of the table:
/// trace, session, agent, server and tool. Each index costs ingest throughput (SQLite: about
/// 10% per index), so human, decision, reason, source, event type, namespace and cluster ride on
/// the time index.
pub(crate) const INDEXES: [(&str, &str); 6] = [
    ("events_ts", "ts, event_id"),
    ("events_trace", "trace_id"),
    ("events_session_ts", "session_id, ts"),
    ("events_agent_ts", "agent_id, ts"),
    ("events_server_ts", "server, ts"),
    ("events_tool_ts", "tool_name, ts"),
];

/// Opens the store a URL names, applying migrations.
pub async fn open(url: &StoreUrl) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match url {
        StoreUrl::Sqlite(path) => std::sync::Arc::new(SqliteStore::open(path).await?),
        StoreUrl::Postgres(url) => std::sync::Arc::new(PostgresStore::connect(url).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_parse() {
        assert_eq!(
            "sqlite://./s.db".parse::<StoreUrl>().ok(),
            Some(StoreUrl::Sqlite("./s.db".into()))
        );
        assert_eq!(
            "sqlite:///var/s.db".parse::<StoreUrl>().ok(),
            Some(StoreUrl::Sqlite("/var/s.db".into()))
        );
        assert_eq!(
            "data/s.db".parse::<StoreUrl>().ok(),
            Some(StoreUrl::Sqlite("data/s.db".into()))
        );
        assert!(matches!(
            "postgres://u:p@h/db".parse::<StoreUrl>(),
            Ok(StoreUrl::Postgres(_))
        ));
        assert!("mysql://h/db".parse::<StoreUrl>().is_err());
        assert!("".parse::<StoreUrl>().is_err());
        let shown = StoreUrl::Postgres("postgres://u:secret@h:5432/db".into()).to_string();
        assert_eq!(shown, "postgres://u:***@h:5432/db");
    }
}
