//! The audit chain in the store: one `chain_links` row per chained event (its chain, seq,
//! prev_hash and the hash Sentinel computed on receipt) and one `chain_checkpoints` row per signed
//! checkpoint. Both tables sit beside `events` (an additive migration); the shared read queries
//! behind `/api/v1/chains` live here too.

use serde::Serialize;

use super::queries::rfc3339;
use super::{Cell, Dialect, Kind, SqlQuery, SqlValue, Store, StoreError};

/// The chain columns of one event, computed on receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The chain.
    pub chain_id: String,
    /// Its sequence number.
    pub seq: i64,
    /// The hash of its predecessor, as the event states it.
    pub prev_hash: String,
    /// The hash of the event as received.
    pub hash: String,
}

/// One stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// The checkpoint event's id (duplicates are ignored by chain and seq).
    pub event_id: String,
    /// When it was made.
    pub ts_ns: i64,
    /// The emitter (`<server>-gateway`).
    pub source: String,
    /// The signed head.
    pub checkpoint: mcp_runtime_audit::Checkpoint,
    /// Whether a configured trusted key verifies it (`None`: Sentinel has no key configured).
    pub signature_valid: Option<bool>,
}

/// The migration: the two tables and the index the chain queries walk.
pub(crate) fn migration() -> String {
    "CREATE TABLE IF NOT EXISTS chain_links (
        event_id TEXT PRIMARY KEY,
        chain_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        ts BIGINT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS chain_links_seq ON chain_links (chain_id, seq);
    CREATE INDEX IF NOT EXISTS chain_links_ts ON chain_links (ts);
    CREATE TABLE IF NOT EXISTS chain_checkpoints (
        chain_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL,
        key_id TEXT NOT NULL,
        signature TEXT NOT NULL,
        signature_valid BIGINT,
        ts BIGINT NOT NULL,
        source TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (chain_id, seq)
    );\n"
        .to_owned()
}

/// `INSERT` of a link, ignoring one already stored (placeholders 1–7: event_id, chain_id, seq,
/// prev_hash, hash, ts, source).
pub(crate) fn insert_link_sql(dialect: Dialect) -> String {
    let p: Vec<String> = (1..=7).map(|i| dialect.placeholder(i)).collect();
    format!(
        "INSERT INTO chain_links (event_id, chain_id, seq, prev_hash, hash, ts, source) \
         VALUES ({}) ON CONFLICT DO NOTHING",
        p.join(", ")
    )
}

/// `INSERT` of a checkpoint, ignoring one already stored (placeholders 1–9: chain_id, seq, hash,
/// key_id, signature, signature_valid, ts, source, event_id).
pub(crate) fn insert_checkpoint_sql(dialect: Dialect) -> String {
    let p: Vec<String> = (1..=9).map(|i| dialect.placeholder(i)).collect();
    format!(
        "INSERT INTO chain_checkpoints (chain_id, seq, hash, key_id, signature, signature_valid, \
         ts, source, event_id) VALUES ({}) ON CONFLICT DO NOTHING",
        p.join(", ")
    )
}

/// Retention: links and checkpoints older than the cutoff (the events go in the same pass).
pub(crate) fn delete_before_sql(dialect: Dialect) -> [String; 2] {
    let p = dialect.placeholder(1);
    [
        format!("DELETE FROM chain_links WHERE ts < {p}"),
        format!("DELETE FROM chain_checkpoints WHERE ts < {p}"),
    ]
}

/// The latest checkpoint of a chain, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointStatus {
    /// The head it signs.
    pub seq: i64,
    /// When it was made (RFC 3339).
    pub time: Option<String>,
    /// `valid`, `invalid`, or `unchecked` (no trusted key configured in Sentinel).
    pub signature: &'static str,
    /// Whether the stored event at `seq` hashed, on receipt, to the signed hash (`None`: that
    /// event is not stored).
    pub matches_event: Option<bool>,
}

/// The status of one chain (one gateway instance), from what was recorded on receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainStatus {
    /// The chain.
    pub chain_id: String,
    /// The emitter.
    pub source: String,
    /// Stored events.
    pub events: i64,
    /// Lowest stored seq.
    pub first_seq: i64,
    /// Highest stored seq.
    pub last_seq: i64,
    /// Sequence numbers between the first and the last that no stored event holds.
    pub gaps: i64,
    /// Events whose `prev_hash` differs from the hash of the stored event before them.
    pub mismatches: i64,
    /// Oldest event (RFC 3339).
    pub first_event: Option<String>,
    /// Newest event (RFC 3339).
    pub last_event: Option<String>,
    /// The latest checkpoint.
    pub last_checkpoint: Option<CheckpointStatus>,
}

fn signature_label(valid: Option<i64>) -> &'static str {
    match valid {
        Some(1) => "valid",
        Some(_) => "invalid",
        None => "unchecked",
    }
}

/// The chains with events since `from_ns`, newest first (at most `limit`).
pub async fn statuses(
    store: &dyn Store,
    from_ns: i64,
    limit: u32,
) -> Result<Vec<ChainStatus>, StoreError> {
    let d = store.dialect();
    // Links joined to their events, so a deleted event counts as a gap.
    let sql = format!(
        "SELECT l.chain_id, MIN(l.source), COUNT(*), MIN(l.seq), MAX(l.seq), MIN(l.ts), MAX(l.ts), \
         SUM(CASE WHEN p.hash IS NOT NULL AND p.hash <> l.prev_hash THEN 1 ELSE 0 END) \
         FROM chain_links l JOIN events e ON e.event_id = l.event_id \
         LEFT JOIN chain_links p ON p.chain_id = l.chain_id AND p.seq = l.seq - 1 \
         WHERE l.ts >= {} GROUP BY l.chain_id ORDER BY MAX(l.ts) DESC LIMIT {}",
        d.placeholder(1),
        limit.clamp(1, 1000)
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params: vec![SqlValue::Int(from_ns)],
            kinds: vec![
                Kind::Text,
                Kind::Text,
                Kind::Int,
                Kind::Int,
                Kind::Int,
                Kind::Int,
                Kind::Int,
                Kind::Int,
            ],
        })
        .await?;
    let mut chains: Vec<ChainStatus> = rows
        .iter()
        .map(|r| {
            let (events, first_seq, last_seq) = (r[2].int(), r[3].int(), r[4].int());
            ChainStatus {
                chain_id: r[0].text(),
                source: r[1].text(),
                events,
                first_seq,
                last_seq,
                gaps: (last_seq - first_seq + 1 - events).max(0),
                mismatches: r[7].int(),
                first_event: rfc3339(r[5].int()),
                last_event: rfc3339(r[6].int()),
                last_checkpoint: None,
            }
        })
        .collect();
    if chains.is_empty() {
        return Ok(chains);
    }
    let sql = format!(
        "SELECT c.chain_id, c.seq, c.signature_valid, c.ts, c.hash, l.hash FROM chain_checkpoints c \
         LEFT JOIN chain_links l ON l.chain_id = c.chain_id AND l.seq = c.seq \
         WHERE c.ts >= {} ORDER BY c.chain_id, c.seq",
        d.placeholder(1)
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params: vec![SqlValue::Int(from_ns)],
            kinds: vec![
                Kind::Text,
                Kind::Int,
                Kind::Int,
                Kind::Int,
                Kind::Text,
                Kind::Text,
            ],
        })
        .await?;
    for row in rows {
        let chain_id = row[0].text();
        let Some(chain) = chains.iter_mut().find(|c| c.chain_id == chain_id) else {
            continue;
        };
        let stored_hash = match &row[5] {
            Cell::Text(t) => t.clone(),
            Cell::Int(_) => None,
        };
        // Rows come in seq order: the last one per chain wins.
        chain.last_checkpoint = Some(CheckpointStatus {
            seq: row[1].int(),
            time: rfc3339(row[3].int()),
            signature: signature_label(row[2].opt_int()),
            matches_event: stored_hash.map(|h| h == row[4].text()),
        });
    }
    Ok(chains)
}

/// One stored link with its event, as `verify` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedEvent {
    /// The seq the store files the event under.
    pub seq: i64,
    /// The event id the link names.
    pub event_id: String,
    /// The hash computed on receipt.
    pub ingest_hash: String,
    /// The event's JSON text as stored now (`None`: the event row is gone).
    pub event: Option<String>,
}

/// A page of a chain's links in seq order, after `after_seq`, with events since `from_ns`.
pub async fn linked_events(
    store: &dyn Store,
    chain_id: &str,
    after_seq: i64,
    from_ns: i64,
    limit: u32,
) -> Result<Vec<LinkedEvent>, StoreError> {
    let d = store.dialect();
    let sql = format!(
        "SELECT l.seq, l.event_id, l.hash, e.event FROM chain_links l \
         LEFT JOIN events e ON e.event_id = l.event_id \
         WHERE l.chain_id = {} AND l.seq > {} AND l.ts >= {} ORDER BY l.seq LIMIT {}",
        d.placeholder(1),
        d.placeholder(2),
        d.placeholder(3),
        limit.clamp(1, 10_000)
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params: vec![
                SqlValue::Text(chain_id.to_owned()),
                SqlValue::Int(after_seq),
                SqlValue::Int(from_ns),
            ],
            kinds: vec![Kind::Int, Kind::Text, Kind::Text, Kind::Text],
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| LinkedEvent {
            seq: r[0].int(),
            event_id: r[1].text(),
            ingest_hash: r[2].text(),
            event: match &r[3] {
                Cell::Text(t) => t.clone(),
                Cell::Int(_) => None,
            },
        })
        .collect())
}

/// A stored checkpoint as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCheckpoint {
    /// The signed checkpoint, as received.
    #[serde(flatten)]
    pub checkpoint: mcp_runtime_audit::Checkpoint,
    /// When it was made (RFC 3339).
    pub time: Option<String>,
    /// Sentinel's own check on receipt: `valid`, `invalid` or `unchecked`.
    pub signature_on_receipt: &'static str,
}

/// Every stored checkpoint of a chain, in seq order.
pub async fn checkpoints(
    store: &dyn Store,
    chain_id: &str,
) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let sql = format!(
        "SELECT chain_id, seq, hash, key_id, signature, signature_valid, ts FROM chain_checkpoints \
         WHERE chain_id = {} ORDER BY seq",
        store.dialect().placeholder(1)
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params: vec![SqlValue::Text(chain_id.to_owned())],
            kinds: vec![
                Kind::Text,
                Kind::Int,
                Kind::Text,
                Kind::Text,
                Kind::Text,
                Kind::Int,
                Kind::Int,
            ],
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredCheckpoint {
            checkpoint: mcp_runtime_audit::Checkpoint {
                chain_id: r[0].text(),
                seq: u64::try_from(r[1].int()).unwrap_or(0),
                hash: r[2].text(),
                key_id: r[3].text(),
                signature: r[4].text(),
            },
            signature_on_receipt: signature_label(r[5].opt_int()),
            time: rfc3339(r[6].int()),
        })
        .collect())
}
