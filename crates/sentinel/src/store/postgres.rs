//! The PostgreSQL store: the same `events` table, migrations applied at start under an advisory
//! lock, inserts as one `INSERT … SELECT FROM UNNEST(…) ON CONFLICT DO NOTHING` per batch.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::{Pool, PoolConfig, Runtime, Timeouts};
use futures_util::future::BoxFuture;
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use super::{
    COLUMNS, Cell, CheckpointRecord, DecisionBatch, DecisionStream, Dialect, EventRecord, INDEXES,
    Kind, SqlQuery, SqlValue, Store, StoreError, chain, replay, rollup,
};

/// Any constant: the advisory lock that serializes migrations between Sentinel replicas.
const MIGRATION_LOCK: i64 = 0x5e47_1e1a;

/// The PostgreSQL store. Cloning shares the connection pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    statistics: Arc<Statistics>,
}

/// Rows stored by this process before the first `ANALYZE events` it runs.
pub const ANALYZE_FIRST_ROWS: u64 = 10_000;

/// When this process runs `ANALYZE events` itself: after [`ANALYZE_FIRST_ROWS`] stored rows, then
/// each time the rows it stored since the last one reach those it had stored before it. The
/// filtered pages' plans depend on the planner knowing how many events each server or agent has:
/// without statistics it guesses a few thousand, and a page of a server's events that takes a
/// millisecond by walking its `(server, ts)` index backwards took 100–300 ms by sorting all of
/// them. Autovacuum analyzes the table too, but only at its next round (a minute by default), so
/// a burst (a gateway's spool replayed after an outage, an import) would be served with those
/// plans meanwhile. Doubling keeps the count of `ANALYZE`s logarithmic in the table's size.
#[derive(Debug, Default)]
struct Statistics {
    stored: AtomicU64,
    next_analyze_at: AtomicU64,
}

impl Statistics {
    /// Counts `rows` newly stored; true when this call crossed the next threshold (exactly one
    /// caller sees it).
    fn stored(&self, rows: u64) -> bool {
        let total = self.stored.fetch_add(rows, Ordering::Relaxed) + rows;
        let next = self.next_analyze_at.load(Ordering::Relaxed);
        total >= next.max(ANALYZE_FIRST_ROWS)
            && self
                .next_analyze_at
                .compare_exchange(
                    next,
                    total.saturating_mul(2),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

fn migrations() -> Vec<String> {
    let mut first = String::from(
        "CREATE TABLE IF NOT EXISTS events (
            seq BIGSERIAL PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            ts BIGINT NOT NULL,
            trace_id TEXT,
            source TEXT NOT NULL,
            event_type TEXT NOT NULL,
            server TEXT NOT NULL,
            namespace TEXT NOT NULL,
            cluster TEXT NOT NULL,
            team_id TEXT NOT NULL,
            human_id TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            decision TEXT NOT NULL,
            reason TEXT NOT NULL,
            tool_name TEXT NOT NULL,
            rpc_method TEXT NOT NULL,
            status BIGINT NOT NULL,
            latency_ms BIGINT NOT NULL,
            event TEXT NOT NULL
        );\n",
    );
    for (name, columns) in INDEXES {
        first.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS {name} ON events ({columns});\n"
        ));
    }
    vec![
        first,
        rollup::migration(),
        replay::migration(Dialect::Postgres),
        chain::migration(),
        rollup::key_order_migration(Dialect::Postgres),
    ]
}

fn pool_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

impl PostgresStore {
    /// Connects to `url` (a libpq-style `postgres://` URL, no TLS) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.to_owned());
        config.pool = Some(PoolConfig {
            max_size: 16,
            timeouts: Timeouts {
                wait: Some(Duration::from_secs(10)),
                create: Some(Duration::from_secs(5)),
                recycle: Some(Duration::from_secs(5)),
            },
            ..PoolConfig::default()
        });
        let pool = config
            .create_pool(Some(Runtime::Tokio1), NoTls)
            .map_err(|e| StoreError::Config(format!("postgres URL: {e}")))?;
        let store = Self {
            pool,
            statistics: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS sentinel_migrations (
                version BIGINT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
        let applied: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM sentinel_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        for (i, sql) in migrations().iter().enumerate() {
            let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
            if version <= applied {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO sentinel_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn insert_sql() -> String {
    let types = [
        "text", "int8", "text", "text", "text", "text", "text", "text", "text", "text", "text",
        "text", "text", "text", "text", "text", "int8", "int8", "text", "text", "text", "text",
        "text", "text",
    ];
    let arrays: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}[]", i + 1))
        .collect();
    format!(
        "INSERT INTO events ({}) SELECT * FROM UNNEST({}) ON CONFLICT (event_id) DO NOTHING \
         RETURNING event_id",
        COLUMNS.join(", "),
        arrays.join(", ")
    )
}

/// The chain links of a batch's newly stored events, in one statement.
const INSERT_LINKS_SQL: &str = "INSERT INTO chain_links (event_id, chain_id, seq, prev_hash, \
     hash, ts, source) SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], \
     $5::text[], $6::int8[], $7::text[]) ON CONFLICT DO NOTHING";

fn upsert_rollup_sql() -> String {
    // Rows in key order, so concurrent batches lock rollup rows in the same order.
    format!(
        "INSERT INTO {table} (dimension, dim_value, decision, hour_ts, events, latency_ms, \
         first_ts, last_ts) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], \
         $6::int8[], $7::int8[], $8::int8[]) \
         AS u(dimension, dim_value, decision, hour_ts, events, latency_ms, first_ts, last_ts) \
         ORDER BY dimension, hour_ts, dim_value, decision {conflict}",
        table = rollup::TABLE,
        conflict = rollup::on_conflict(Dialect::Postgres)
    )
}

async fn insert(pool: Pool, records: Vec<EventRecord>) -> Result<u64, StoreError> {
    // Keep the first of any duplicates within the batch, and insert in `event_id` order so that
    // concurrent overlapping batches wait on each other instead of deadlocking.
    let mut seen = HashSet::with_capacity(records.len());
    let mut records: Vec<EventRecord> = records
        .into_iter()
        .filter(|r| seen.insert(r.event_id.clone()))
        .collect();
    if records.is_empty() {
        return Ok(0);
    }
    records.sort_unstable_by(|a, b| a.event_id.cmp(&b.event_id));
    macro_rules! column {
        ($rows:expr, $field:ident) => {
            $rows.iter().map(|r| r.$field.clone()).collect::<Vec<_>>()
        };
    }
    let event_id = column!(records, event_id);
    let ts = column!(records, ts_ns);
    let trace_id = column!(records, trace_id);
    let source = column!(records, source);
    let event_type = column!(records, event_type);
    let server = column!(records, server);
    let namespace = column!(records, namespace);
    let cluster = column!(records, cluster);
    let team_id = column!(records, team_id);
    let human_id = column!(records, human_id);
    let agent_id = column!(records, agent_id);
    let session_id = column!(records, session_id);
    let decision = column!(records, decision);
    let reason = column!(records, reason);
    let tool_name = column!(records, tool_name);
    let rpc_method = column!(records, rpc_method);
    let status = column!(records, status);
    let latency_ms = column!(records, latency_ms);
    let json = column!(records, json);
    let replay_column = |field: fn(&EventRecord) -> &String| {
        records.iter().map(|r| field(r).clone()).collect::<Vec<_>>()
    };
    let subject_team_id = replay_column(|r| &r.replay.subject_team_id);
    let matched_grant = replay_column(|r| &r.replay.matched_grant);
    let matched_session = replay_column(|r| &r.replay.matched_session);
    let required_trust = replay_column(|r| &r.replay.required_trust);
    let required_side_effect = replay_column(|r| &r.replay.required_side_effect);
    let params: [&(dyn ToSql + Sync); 24] = [
        &event_id,
        &ts,
        &trace_id,
        &source,
        &event_type,
        &server,
        &namespace,
        &cluster,
        &team_id,
        &human_id,
        &agent_id,
        &session_id,
        &decision,
        &reason,
        &tool_name,
        &rpc_method,
        &status,
        &latency_ms,
        &json,
        &subject_team_id,
        &matched_grant,
        &matched_session,
        &required_trust,
        &required_side_effect,
    ];
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let statement = tx.prepare_cached(&insert_sql()).await?;
    let inserted: HashSet<String> = tx
        .query(&statement, &params)
        .await?
        .iter()
        .map(|row| row.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?;
    let new_links: Vec<(&EventRecord, &chain::LinkRecord)> = records
        .iter()
        .filter(|r| inserted.contains(&r.event_id))
        .filter_map(|r| r.chain.as_ref().map(|l| (r, l)))
        .collect();
    if !new_links.is_empty() {
        // One statement per batch, as for the events.
        let event_id: Vec<&str> = new_links.iter().map(|(r, _)| r.event_id.as_str()).collect();
        let chain_id: Vec<&str> = new_links.iter().map(|(_, l)| l.chain_id.as_str()).collect();
        let seq: Vec<i64> = new_links.iter().map(|(_, l)| l.seq).collect();
        let prev_hash: Vec<&str> = new_links
            .iter()
            .map(|(_, l)| l.prev_hash.as_str())
            .collect();
        let hash: Vec<&str> = new_links.iter().map(|(_, l)| l.hash.as_str()).collect();
        let ts: Vec<i64> = new_links.iter().map(|(r, _)| r.ts_ns).collect();
        let source: Vec<&str> = new_links.iter().map(|(r, _)| r.source.as_str()).collect();
        let link = tx.prepare_cached(INSERT_LINKS_SQL).await?;
        tx.execute(
            &link,
            &[&event_id, &chain_id, &seq, &prev_hash, &hash, &ts, &source],
        )
        .await?;
    }
    let rows = rollup::increments(records.iter().filter(|r| inserted.contains(&r.event_id)));
    if !rows.is_empty() {
        let dimension: Vec<&str> = rows.iter().map(|r| r.dimension).collect();
        let value = column!(rows, value);
        let decision = column!(rows, decision);
        let hour_ts = column!(rows, hour_ts);
        let events = column!(rows, events);
        let latency_ms = column!(rows, latency_ms);
        let first_ts = column!(rows, first_ts);
        let last_ts = column!(rows, last_ts);
        let upsert = tx.prepare_cached(&upsert_rollup_sql()).await?;
        tx.execute(
            &upsert,
            &[
                &dimension,
                &value,
                &decision,
                &hour_ts,
                &events,
                &latency_ms,
                &first_ts,
                &last_ts,
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(u64::try_from(inserted.len()).unwrap_or(u64::MAX))
}

async fn fetch(pool: Pool, query: SqlQuery) -> Result<Vec<Vec<Cell>>, StoreError> {
    let params: Vec<Box<dyn ToSql + Sync + Send>> = query
        .params
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                SqlValue::Text(t) => Box::new(t.clone()),
                SqlValue::Int(i) => Box::new(*i),
            }
        })
        .collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| -> &(dyn ToSql + Sync) { p.as_ref() })
        .collect();
    let client = pool.get().await.map_err(pool_error)?;
    let statement = client.prepare_cached(&query.sql).await?;
    let rows = client.query(&statement, &refs).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(query.kinds.len());
        for (i, kind) in query.kinds.iter().enumerate() {
            cells.push(match kind {
                Kind::Text => Cell::Text(row.try_get::<_, Option<String>>(i)?),
                Kind::Int => Cell::Int(row.try_get::<_, Option<i64>>(i)?),
            });
        }
        out.push(cells);
    }
    Ok(out)
}

/// Streams the replay rows as the server sends them (no client-side buffering of the result) and
/// sends full batches; returns when done or when the receiver is gone.
async fn scan_decisions(
    pool: Pool,
    from_ns: i64,
    to_ns: i64,
    sender: &tokio::sync::mpsc::Sender<Result<DecisionBatch, StoreError>>,
) -> Result<(), StoreError> {
    use futures_util::StreamExt;
    let client = pool.get().await.map_err(pool_error)?;
    let statement = client
        .prepare_cached(&replay::scan_sql(Dialect::Postgres))
        .await?;
    let rows = client
        .query_raw(&statement, [&from_ns as &(dyn ToSql + Sync), &to_ns])
        .await?;
    let mut rows = std::pin::pin!(rows);
    let mut batch = DecisionBatch::new();
    while let Some(row) = rows.next().await {
        let row = row?;
        let text = |i: usize| -> Result<&str, StoreError> { Ok(row.try_get::<_, &str>(i)?) };
        batch.push(
            row.try_get(0)?,
            [
                text(1)?,
                text(2)?,
                text(3)?,
                text(4)?,
                text(5)?,
                text(6)?,
                text(7)?,
                text(8)?,
                text(9)?,
                text(10)?,
                text(11)?,
                text(12)?,
                text(13)?,
                text(14)?,
                text(15)?,
            ],
        )?;
        if batch.len() >= replay::BATCH_ROWS {
            let full = std::mem::replace(&mut batch, DecisionBatch::new());
            if sender.send(Ok(full)).await.is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(Ok(batch)).await;
    }
    Ok(())
}

async fn delete_before(pool: Pool, ts_ns: i64) -> Result<u64, StoreError> {
    // Whole hours only, so the rollup keeps matching the events.
    let cutoff = rollup::hour_of(ts_ns);
    let client = pool.get().await.map_err(pool_error)?;
    let mut total = 0;
    loop {
        let n = client
            .execute(
                "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE ts < $1 LIMIT 10000)",
                &[&cutoff],
            )
            .await?;
        total += n;
        if n < 10_000 {
            break;
        }
    }
    client
        .execute(
            &format!("DELETE FROM {} WHERE hour_ts < $1", rollup::TABLE),
            &[&cutoff],
        )
        .await?;
    for sql in chain::delete_before_sql(Dialect::Postgres) {
        client.execute(&sql, &[&cutoff]).await?;
    }
    Ok(total)
}

async fn insert_checkpoints(
    pool: Pool,
    checkpoints: Vec<CheckpointRecord>,
) -> Result<u64, StoreError> {
    if checkpoints.is_empty() {
        return Ok(0);
    }
    let client = pool.get().await.map_err(pool_error)?;
    let statement = client
        .prepare_cached(&chain::insert_checkpoint_sql(Dialect::Postgres))
        .await?;
    let mut inserted = 0;
    for c in &checkpoints {
        let cp = &c.checkpoint;
        let seq = i64::try_from(cp.seq).unwrap_or(i64::MAX);
        let valid = c.signature_valid.map(i64::from);
        inserted += client
            .execute(
                &statement,
                &[
                    &cp.chain_id,
                    &seq,
                    &cp.hash,
                    &cp.key_id,
                    &cp.signature,
                    &valid,
                    &c.ts_ns,
                    &c.source,
                    &c.event_id,
                ],
            )
            .await?;
    }
    Ok(inserted)
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn insert(&self, records: Vec<EventRecord>) -> BoxFuture<'static, Result<u64, StoreError>> {
        let pool = self.pool.clone();
        let statistics = self.statistics.clone();
        Box::pin(async move {
            let stored = insert(pool.clone(), records).await?;
            if statistics.stored(stored) {
                // Off the ingest path: the batch is acknowledged without waiting for it.
                tokio::spawn(async move {
                    let analyzed = match pool.get().await {
                        Ok(client) => client
                            .batch_execute("ANALYZE events")
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    if let Err(error) = analyzed {
                        tracing::warn!(%error, "sentinel: ANALYZE events failed; autovacuum will analyze it later");
                    }
                });
            }
            Ok(stored)
        })
    }

    fn insert_checkpoints(
        &self,
        checkpoints: Vec<CheckpointRecord>,
    ) -> BoxFuture<'static, Result<u64, StoreError>> {
        Box::pin(insert_checkpoints(self.pool.clone(), checkpoints))
    }

    fn fetch(&self, query: SqlQuery) -> BoxFuture<'static, Result<Vec<Vec<Cell>>, StoreError>> {
        Box::pin(fetch(self.pool.clone(), query))
    }

    fn delete_before(&self, ts_ns: i64) -> BoxFuture<'static, Result<u64, StoreError>> {
        Box::pin(delete_before(self.pool.clone(), ts_ns))
    }

    fn scan_decisions(&self, from_ns: i64, to_ns: i64) -> DecisionStream {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(error) = scan_decisions(pool, from_ns, to_ns, &sender).await {
                let _ = sender.send(Err(error)).await;
            }
        });
        receiver
    }

    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let pool = self.pool.clone();
        Box::pin(async move {
            let client = pool.get().await.map_err(pool_error)?;
            client.simple_query("SELECT 1").await?;
            Ok(())
        })
    }
}
