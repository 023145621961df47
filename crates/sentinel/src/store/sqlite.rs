//! The embedded SQLite store: WAL, one writer thread that batches concurrent inserts into one
//! transaction, and a small pool of read connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags, params_from_iter};
use tokio::sync::oneshot;

use super::{
    COLUMNS, Cell, CheckpointRecord, DecisionBatch, DecisionStream, Dialect, EventRecord, INDEXES,
    Kind, SqlQuery, SqlValue, Store, StoreError, chain, replay, rollup,
};

/// Largest number of events committed in one transaction.
const MAX_TRANSACTION_EVENTS: usize = 20_000;
/// Database page size for new files.
const PAGE_SIZE: i64 = 8192;
/// Read connections kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

enum Job {
    Insert(Vec<EventRecord>, oneshot::Sender<Result<u64, StoreError>>),
    InsertCheckpoints(
        Vec<CheckpointRecord>,
        oneshot::Sender<Result<u64, StoreError>>,
    ),
    DeleteBefore(i64, oneshot::Sender<Result<u64, StoreError>>),
}

/// The SQLite store. Cloning shares it.
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    file: DatabaseFile,
    writer: std::sync::mpsc::SyncSender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

/// The database file the store opened, by device and inode. Open connections keep working on
/// that file even after it is deleted or replaced at its path (a volume remounted, a restore
/// copied over it), so each write and readiness check first makes sure the path still names it.
#[derive(Clone, Debug)]
struct DatabaseFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl DatabaseFile {
    fn identify(path: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)
            .map_err(|e| StoreError::Config(format!("{}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            dev: metadata.dev(),
            ino: metadata.ino(),
        })
    }

    /// Ok while the path still names the opened file.
    fn check(&self) -> Result<(), StoreError> {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(&self.path) {
            Ok(m) if m.dev() == self.dev && m.ino() == self.ino => Ok(()),
            Ok(_) => Err(StoreError::FileGone(format!(
                "the SQLite database {} was replaced by another file since it was opened",
                self.path.display()
            ))),
            Err(e) => Err(StoreError::FileGone(format!(
                "the SQLite database {} is gone: {e}",
                self.path.display()
            ))),
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    Ok(())
}

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
fn migrations() -> Vec<String> {
    let mut first = String::from(
        "CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            ts INTEGER NOT NULL,
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
            status INTEGER NOT NULL,
            latency_ms INTEGER NOT NULL,
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
        replay::migration(Dialect::Sqlite),
        chain::migration(),
        rollup::key_order_migration(Dialect::Sqlite),
    ]
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in migrations().iter().enumerate() {
        let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
        if version <= applied {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, switches it to WAL and applies the
    /// migrations, then starts the writer thread.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let opened = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(parent) = opened.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Config(format!("creating {}: {e}", parent.display()))
                })?;
            }
            // The connection never leaves the writer thread: SQLite's own locking is not needed.
            let mut conn = Connection::open_with_flags(
                &opened,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&conn)?;
            // Takes effect only when the file is created (before the switch to WAL).
            conn.pragma_update(None, "page_size", PAGE_SIZE)?;
            let mode: String =
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Config(format!(
                    "{}: cannot switch SQLite to WAL mode (got {mode})",
                    opened.display()
                )));
            }
            // WAL with NORMAL sync is durable across process crashes; a power loss can lose the
            // last transactions, not corrupt the database.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // The writer keeps the hot ends of the indexes in memory (64 MiB page cache).
            conn.pragma_update(None, "cache_size", -65_536)?;
            // Checkpoints (copying the WAL into the database file) run on their own thread, so
            // the writer only appends to the WAL.
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        let checkpointer = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&checkpointer)?;
        let (committed, commits) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("sentinel-sqlite-checkpoint".into())
            .spawn(move || checkpoint(checkpointer, commits))
            .map_err(|e| StoreError::Task(format!("starting the checkpoint thread: {e}")))?;
        let file = DatabaseFile::identify(&path)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(1024);
        let writer_file = file.clone();
        std::thread::Builder::new()
            .name("sentinel-sqlite-writer".into())
            .spawn(move || writer(conn, &writer_file, rx, committed))
            .map_err(|e| StoreError::Task(format!("starting the writer thread: {e}")))?;
        Ok(Self {
            path,
            file,
            writer: tx,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        // Readers map the file (256 MiB) instead of copying pages into a private cache.
        conn.pragma_update(None, "mmap_size", 268_435_456)?;
        Ok(conn)
    }

    fn put_back(&self, conn: Connection) {
        let mut idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        // The channel is bounded: a full queue blocks briefly (backpressure), so do it off the
        // async threads.
        self.writer.send(job).map_err(|_| StoreError::WriterGone)
    }
}

fn insert_sql() -> String {
    let placeholders: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT OR IGNORE INTO events ({}) VALUES ({})",
        COLUMNS.join(", "),
        placeholders.join(", ")
    )
}

/// Runs the prepared [`insert_sql`] for one record; 1 when it was stored, 0 for a duplicate.
fn insert_record(stmt: &mut rusqlite::Statement<'_>, r: &EventRecord) -> rusqlite::Result<usize> {
    stmt.execute(rusqlite::params![
        r.event_id,
        r.ts_ns,
        r.trace_id,
        r.source,
        r.event_type,
        r.server,
        r.namespace,
        r.cluster,
        r.team_id,
        r.human_id,
        r.agent_id,
        r.session_id,
        r.decision,
        r.reason,
        r.tool_name,
        r.rpc_method,
        r.status,
        r.latency_ms,
        r.json,
        r.replay.subject_team_id,
        r.replay.matched_grant,
        r.replay.matched_session,
        r.replay.required_trust,
        r.replay.required_side_effect,
    ])
}

fn upsert_rollup_sql() -> String {
    format!(
        "INSERT INTO {} (dimension, dim_value, decision, hour_ts, events, latency_ms, first_ts, \
         last_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) {}",
        rollup::TABLE,
        rollup::on_conflict(Dialect::Sqlite)
    )
}

/// Inserts every job's events in one transaction, with the rollup rows of those newly stored;
/// returns each job's count of newly stored events.
fn insert_batch(
    conn: &mut Connection,
    jobs: &[Vec<EventRecord>],
) -> Result<Vec<u64>, rusqlite::Error> {
    let tx = conn.transaction()?;
    let mut counts = Vec::with_capacity(jobs.len());
    let mut stored: Vec<&EventRecord> = Vec::new();
    {
        let mut stmt = tx.prepare_cached(&insert_sql())?;
        let mut link = tx.prepare_cached(&chain::insert_link_sql(Dialect::Sqlite))?;
        for records in jobs {
            let mut inserted = 0u64;
            for r in records {
                let new = insert_record(&mut stmt, r)? > 0;
                if new {
                    inserted += 1;
                    stored.push(r);
                    if let Some(l) = &r.chain {
                        link.execute(rusqlite::params![
                            r.event_id,
                            l.chain_id,
                            l.seq,
                            l.prev_hash,
                            l.hash,
                            r.ts_ns,
                            r.source
                        ])?;
                    }
                }
            }
            counts.push(inserted);
        }
        let mut upsert = tx.prepare_cached(&upsert_rollup_sql())?;
        for row in rollup::increments(stored) {
            upsert.execute(rusqlite::params![
                row.dimension,
                row.value,
                row.decision,
                row.hour_ts,
                row.events,
                row.latency_ms,
                row.first_ts,
                row.last_ts,
            ])?;
        }
    }
    tx.commit()?;
    Ok(counts)
}

fn insert_checkpoints(
    conn: &mut Connection,
    checkpoints: &[CheckpointRecord],
) -> Result<u64, rusqlite::Error> {
    let tx = conn.transaction()?;
    let mut inserted = 0u64;
    {
        let mut stmt = tx.prepare_cached(&chain::insert_checkpoint_sql(Dialect::Sqlite))?;
        for c in checkpoints {
            let cp = &c.checkpoint;
            inserted += stmt.execute(rusqlite::params![
                cp.chain_id,
                i64::try_from(cp.seq).unwrap_or(i64::MAX),
                cp.hash,
                cp.key_id,
                cp.signature,
                c.signature_valid.map(i64::from),
                c.ts_ns,
                c.source,
                c.event_id,
            ])? as u64;
        }
    }
    tx.commit()?;
    Ok(inserted)
}

fn delete_before(conn: &Connection, ts_ns: i64) -> Result<u64, rusqlite::Error> {
    // Whole hours only, so the rollup keeps matching the events.
    let cutoff = rollup::hour_of(ts_ns);
    // In chunks, so the writer never holds one huge transaction.
    let mut total = 0u64;
    loop {
        let n = conn.execute(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE ts < ?1 LIMIT 10000)",
            [cutoff],
        )?;
        total += n as u64;
        if n < 10_000 {
            break;
        }
    }
    conn.execute(
        &format!("DELETE FROM {} WHERE hour_ts < ?1", rollup::TABLE),
        [cutoff],
    )?;
    for sql in chain::delete_before_sql(Dialect::Sqlite) {
        conn.execute(&sql, [cutoff])?;
    }
    Ok(total)
}

/// WAL frames after which the checkpoint thread also truncates the WAL file, so that a burst
/// does not leave a large file behind (SQLite's default checkpoint threshold is 1,000).
const WAL_TRUNCATE_FRAMES: i64 = 100_000;

/// The checkpoint thread: after each commit the writer signals, copies the WAL into the
/// database file without blocking the writer or readers (`PASSIVE`). Ends with the writer.
fn checkpoint(conn: Connection, commits: std::sync::mpsc::Receiver<()>) {
    while commits.recv().is_ok() {
        let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
        match frames {
            Ok(frames) if frames > WAL_TRUNCATE_FRAMES => {
                // Waits for readers to leave the WAL; the writer keeps going meanwhile.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "sentinel: WAL truncation postponed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sentinel: SQLite checkpoint failed"),
        }
    }
}

/// The writer thread: takes every job queued at the moment, commits all inserts in one
/// transaction and acknowledges each job after the commit.
fn writer(
    mut conn: Connection,
    file: &DatabaseFile,
    rx: std::sync::mpsc::Receiver<Job>,
    committed: std::sync::mpsc::SyncSender<()>,
) {
    let mut pending: Option<Job> = None;
    loop {
        let first = match pending.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match first {
            Job::InsertCheckpoints(checkpoints, ack) => {
                let result = file.check().and_then(|()| {
                    insert_checkpoints(&mut conn, &checkpoints).map_err(StoreError::from)
                });
                let _ = ack.send(result);
            }
            Job::DeleteBefore(ts, ack) => {
                let _ = ack.send(delete_before(&conn, ts).map_err(StoreError::from));
            }
            Job::Insert(records, ack) => {
                let mut size = records.len();
                let mut batch = vec![records];
                let mut acks = vec![ack];
                while size < MAX_TRANSACTION_EVENTS {
                    match rx.try_recv() {
                        Ok(Job::Insert(records, ack)) => {
                            size += records.len();
                            batch.push(records);
                            acks.push(ack);
                        }
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if let Err(gone) = file.check() {
                    // Refused whole, as a failed transaction is: nothing goes to a lost file.
                    let message = gone.to_string();
                    tracing::warn!(%message, "sentinel: SQLite insert refused");
                    for ack in acks {
                        let _ = ack.send(Err(StoreError::FileGone(message.clone())));
                    }
                    continue;
                }
                match insert_batch(&mut conn, &batch) {
                    Ok(counts) => {
                        // Wake the checkpoint thread (a wake-up already pending is enough).
                        let _ = committed.try_send(());
                        for (ack, n) in acks.into_iter().zip(counts) {
                            let _ = ack.send(Ok(n));
                        }
                    }
                    Err(err) => {
                        let message = err.to_string();
                        tracing::warn!(%message, "sentinel: SQLite insert failed");
                        for ack in acks {
                            let _ = ack
                                .send(Err(StoreError::Task(format!("sqlite insert: {message}"))));
                        }
                    }
                }
            }
        }
    }
}

fn to_sql(values: &[SqlValue]) -> Vec<rusqlite::types::Value> {
    values
        .iter()
        .map(|v| match v {
            SqlValue::Text(t) => rusqlite::types::Value::Text(t.clone()),
            SqlValue::Int(i) => rusqlite::types::Value::Integer(*i),
        })
        .collect()
}

fn run_query(conn: &Connection, query: &SqlQuery) -> Result<Vec<Vec<Cell>>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(&query.sql)?;
    let mut rows = stmt.query(params_from_iter(to_sql(&query.params)))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(query.kinds.len());
        for (i, kind) in query.kinds.iter().enumerate() {
            cells.push(match kind {
                Kind::Text => Cell::Text(row.get::<_, Option<String>>(i)?),
                Kind::Int => Cell::Int(row.get::<_, Option<i64>>(i)?),
            });
        }
        out.push(cells);
    }
    Ok(out)
}

async fn ask(
    store: SqliteStore,
    make: impl FnOnce(oneshot::Sender<Result<u64, StoreError>>) -> Job + Send + 'static,
) -> Result<u64, StoreError> {
    let (ack, done) = oneshot::channel();
    let job = make(ack);
    tokio::task::spawn_blocking(move || store.send(job))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
    done.await.map_err(|_| StoreError::WriterGone)?
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn insert(&self, records: Vec<EventRecord>) -> BoxFuture<'static, Result<u64, StoreError>> {
        let store = self.clone();
        Box::pin(async move {
            if records.is_empty() {
                return Ok(0);
            }
            ask(store, move |ack| Job::Insert(records, ack)).await
        })
    }

    fn insert_checkpoints(
        &self,
        checkpoints: Vec<CheckpointRecord>,
    ) -> BoxFuture<'static, Result<u64, StoreError>> {
        let store = self.clone();
        Box::pin(async move {
            if checkpoints.is_empty() {
                return Ok(0);
            }
            ask(store, move |ack| Job::InsertCheckpoints(checkpoints, ack)).await
        })
    }

    fn fetch(&self, query: SqlQuery) -> BoxFuture<'static, Result<Vec<Vec<Cell>>, StoreError>> {
        let store = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = store.reader()?;
                let result = run_query(&conn, &query);
                store.put_back(conn);
                result.map_err(StoreError::from)
            })
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
        })
    }

    fn delete_before(&self, ts_ns: i64) -> BoxFuture<'static, Result<u64, StoreError>> {
        let store = self.clone();
        Box::pin(async move { ask(store, move |ack| Job::DeleteBefore(ts_ns, ack)).await })
    }

    fn scan_decisions(&self, from_ns: i64, to_ns: i64) -> DecisionStream {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let scanned = store.reader().and_then(|conn| {
                let result = scan_decisions(&conn, from_ns, to_ns, &sender);
                store.put_back(conn);
                result
            });
            if let Err(error) = scanned {
                let _ = sender.blocking_send(Err(error));
            }
        });
        receiver
    }

    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        // A query that reads the database file itself (its schema), not only a connection.
        let query = SqlQuery {
            sql: "SELECT CAST(COUNT(*) AS BIGINT) FROM sqlite_master".into(),
            params: Vec::new(),
            kinds: vec![Kind::Int],
        };
        let file = self.file.clone();
        let fetch = self.fetch(query);
        Box::pin(async move {
            file.check()?;
            fetch.await.map(drop)
        })
    }
}

/// Steps through the replay rows, reading each text cell in place (no copy but into the batch),
/// and sends full batches; returns when done or when the receiver is gone.
fn scan_decisions(
    conn: &Connection,
    from_ns: i64,
    to_ns: i64,
    sender: &tokio::sync::mpsc::Sender<Result<DecisionBatch, StoreError>>,
) -> Result<(), StoreError> {
    let mut statement = conn.prepare(&replay::scan_sql(Dialect::Sqlite))?;
    let mut rows = statement.query(rusqlite::params![from_ns, to_ns])?;
    let mut batch = DecisionBatch::new();
    while let Some(row) = rows.next()? {
        let text = |i: usize| -> Result<&str, StoreError> {
            Ok(row
                .get_ref(i)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
                .unwrap_or_default())
        };
        batch.push(
            row.get(0)?,
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
            if sender.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.blocking_send(Ok(batch));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::queries::{self, Dimension, EventFilter};
    use crate::store::rollup::tests::record;

    /// Inserts a record into a store of the first schema version (its 19 columns).
    fn insert_v1(conn: &Connection, r: &EventRecord) {
        let columns = &COLUMNS[..19];
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        conn.execute(
            &format!(
                "INSERT INTO events ({}) VALUES ({})",
                columns.join(", "),
                placeholders.join(", ")
            ),
            rusqlite::params![
                r.event_id,
                r.ts_ns,
                r.trace_id,
                r.source,
                r.event_type,
                r.server,
                r.namespace,
                r.cluster,
                r.team_id,
                r.human_id,
                r.agent_id,
                r.session_id,
                r.decision,
                r.reason,
                r.tool_name,
                r.rpc_method,
                r.status,
                r.latency_ms,
                r.json,
            ],
        )
        .expect("insert");
    }

    #[tokio::test]
    async fn upgrading_a_store_fills_the_replay_columns_of_its_tool_calls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sentinel.db");
        let payload = |team: &str, grant: Option<(&str, &str)>| {
            let mut event =
                mcp_runtime_audit::AuditEvent::request(mcp_runtime_audit::RequestPayload {
                    subject_team_id: team.into(),
                    matched_grant: grant.map(|(_, name)| name.into()),
                    matched_grant_namespace: grant.map(|(namespace, _)| namespace.into()),
                    required_trust: Some("medium".into()),
                    required_side_effect: Some("write".into()),
                    ..Default::default()
                });
            event.event_id = format!("e-{team}");
            serde_json::to_string(&event).expect("json")
        };
        {
            // A store as the rollup migration left it, before the replay columns.
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(&migrations()[0]).expect("schema v1");
            conn.execute_batch(&migrations()[1]).expect("schema v2");
            conn.pragma_update(None, "user_version", 2)
                .expect("version");
            let mut call = record(10, "allow", "write_file", 4);
            call.event_id = "e-platform".into();
            call.json = payload("platform", Some(("tools", "writers")));
            insert_v1(&conn, &call);
            let mut list = record(20, "allow", "", 4);
            list.event_id = "e-lister".into();
            list.rpc_method = "tools/list".into();
            list.json = payload("lister", None);
            insert_v1(&conn, &list);
        }
        let store = SqliteStore::open(&path).await.expect("upgrade");
        let conn = store.reader().expect("reader");
        let mut rows = conn
            .prepare(
                "SELECT event_id, subject_team_id, matched_grant, matched_session,                  required_trust, required_side_effect FROM events ORDER BY event_id",
            )
            .expect("prepare");
        let rows: Vec<[String; 6]> = rows
            .query_map([], |r| {
                Ok([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ])
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let row = |values: [&str; 6]| values.map(str::to_owned);
        assert_eq!(
            rows,
            [
                // Not a tool call: never replayed, so left empty.
                row(["e-lister", "", "", "", "", ""]),
                row([
                    "e-platform",
                    "platform",
                    "tools/writers",
                    "",
                    "medium",
                    "write"
                ]),
            ]
        );
        let mut scan = store.scan_decisions(0, 100);
        let batch = scan.recv().await.expect("a batch").expect("scanned");
        let ids: Vec<&str> = batch.iter().map(|row| row.event_id).collect();
        assert_eq!(ids, ["e-platform"]);
        assert!(scan.recv().await.is_none(), "one batch");
    }

    #[tokio::test]
    async fn upgrading_a_store_backfills_the_rollup_from_its_events() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sentinel.db");
        {
            // A store as the first schema version left it, holding events.
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(&migrations()[0]).expect("schema v1");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
            for r in [
                record(10, "allow", "read", 4),
                record(rollup::HOUR_NS + 10, "deny", "write", 6),
                record(rollup::HOUR_NS + 20, "allow", "read", 8),
            ] {
                insert_v1(&conn, &r);
            }
        }
        let store = SqliteStore::open(&path).await.expect("upgrade");
        let all = EventFilter::default();
        let totals = queries::totals(&store, None, &all).await.expect("totals");
        assert_eq!((totals.total_events, totals.denied), (3, 1));
        let tools = queries::group(&store, None, Dimension::Tool, &all, 10)
            .await
            .expect("tools");
        let counts: Vec<(&str, i64, i64, i64)> = tools
            .iter()
            .map(|g| (g.key.as_str(), g.count, g.denied, g.avg_latency_ms))
            .collect();
        assert_eq!(counts, [("read", 2, 0, 6), ("write", 1, 1, 6)]);
        let one = |sql: &str| -> rusqlite::types::Value {
            let reader = store.reader().expect("reader");
            reader.query_row(sql, [], |r| r.get(0)).expect(sql)
        };
        let rolled = one("SELECT SUM(events) FROM usage_rollup WHERE dimension = '*'");
        assert_eq!(
            rolled,
            rusqlite::types::Value::Integer(3),
            "the rollup was backfilled"
        );
        let rusqlite::types::Value::Text(table) =
            one("SELECT sql FROM sqlite_master WHERE name = 'usage_rollup'")
        else {
            panic!("no rollup schema")
        };
        assert!(
            table.contains("PRIMARY KEY (dimension, hour_ts, dim_value, decision)")
                && table.ends_with("WITHOUT ROWID"),
            "the rollup is kept in (dimension, hour) order: {table}"
        );
    }

    #[tokio::test]
    async fn the_checkpoint_thread_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sentinel.db");
        let store = SqliteStore::open(&path).await.expect("open");
        let empty = std::fs::metadata(&path).expect("db file").len();
        for batch in 0..20i64 {
            let records: Vec<EventRecord> = (0..100)
                .map(|i| {
                    let mut r = record(batch * 1_000 + i, "allow", "read", 1);
                    r.json = "x".repeat(1_000);
                    r
                })
                .collect();
            assert_eq!(store.insert(records).await.expect("insert"), 100);
        }
        // The writer never checkpoints itself: the data reaches the main file only through the
        // checkpoint thread.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let size = std::fs::metadata(&path).expect("db file").len();
            if size > empty + 2_000_000 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {size} bytes (empty: {empty})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
