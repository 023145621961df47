//! PostgreSQL-only behaviour of the store.
//!
//! Upgrading a PostgreSQL store from the first schema version: the migration that adds the hourly
//! usage rollup backfills it from the events already stored, so the analytics of an upgraded
//! store answer as if the rollup had been kept from the start.
//!
//! The old store is made the way a Sentinel of the first schema version leaves it: the events
//! table full of events, no `usage_rollup` table, and migration 1 as the last one applied. The
//! events are ingested by the current Sentinel (so they are stored exactly as ingest stores
//! them) and the rollup and its migration record are then removed; the rows the current
//! Sentinel maintained while ingesting are kept aside as the expected backfill.

// The shared helpers re-export `eventually`, which this test has no use for.
#[allow(unused_imports)]
mod common;

use common::{Seed, dataset, get, post_json, seed, start};
use mcp_runtime_sentinel::{SentinelConfig, StoreUrl};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// Every rollup row, sorted by its key.
const ROLLUP_ROWS: &str = "SELECT dimension, dim_value, decision, hour_ts, events, latency_ms, \
     first_ts, last_ts FROM usage_rollup ORDER BY dimension, dim_value, decision, hour_ts";

type RollupRow = (String, String, String, i64, i64, i64, i64, i64);

async fn rollup_rows(db: &tokio_postgres::Client) -> Vec<RollupRow> {
    db.query(ROLLUP_ROWS, &[])
        .await
        .expect("read usage_rollup")
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
            )
        })
        .collect()
}

async fn has_rollup_table(db: &tokio_postgres::Client) -> bool {
    db.query_one("SELECT to_regclass('usage_rollup') IS NOT NULL", &[])
        .await
        .expect("look up usage_rollup")
        .get(0)
}

async fn applied_migrations(db: &tokio_postgres::Client) -> Vec<i64> {
    db.query(
        "SELECT version FROM sentinel_migrations ORDER BY version",
        &[],
    )
    .await
    .expect("read sentinel_migrations")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The usage analytics over the whole range, answered from the rollup (no filter) and from the
/// events (a `namespace` filter every event matches makes Sentinel scan the events).
async fn usage(base: &str) -> (Value, Value) {
    let url = format!("{base}/api/v1/analytics/usage?bucket=1h&series=tool&top=50");
    let rolled_up = get(&url).await;
    assert_eq!(rolled_up.status, 200, "{}", rolled_up.text);
    let scanned = get(&format!("{url}&namespace=mcp-servers")).await;
    assert_eq!(scanned.status, 200, "{}", scanned.text);
    (rolled_up.body, scanned.body)
}

fn count_of(groups: &Value, key: &str) -> u64 {
    groups
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["key"] == key)
        .map_or(0, |g| g["count"].as_u64().expect("count"))
}

/// A fresh PostgreSQL store and a connection of the test's own to its database.
async fn store_and_connection() -> (common::TestStore, tokio_postgres::Client) {
    let store = common::postgres().await;
    let StoreUrl::Postgres(url) = store.url.clone() else {
        unreachable!("a PostgreSQL store")
    };
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    (store, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_a_first_version_store_backfills_the_rollup_from_its_events() {
    let (store, db) = store_and_connection().await;

    // Ten hours of events, so the rollup has many hours, dimensions and decisions.
    let data: Vec<Seed> = dataset(1200);
    {
        let current = start(SentinelConfig::new(store.url.clone())).await;
        seed(&current.base, None, &data).await;
    }
    let maintained = rollup_rows(&db).await;
    assert!(
        maintained.len() > 100,
        "the current schema keeps a rollup while ingesting: {} rows",
        maintained.len()
    );

    // Back to the first schema version: the events stay; the rollup, what the later migrations
    // added (the replay columns, the audit-chain tables) and their records go.
    db.batch_execute(
        "DROP TABLE usage_rollup; DROP TABLE chain_links; DROP TABLE chain_checkpoints; \
         ALTER TABLE events DROP COLUMN subject_team_id, DROP COLUMN required_trust, \
         DROP COLUMN required_side_effect, DROP COLUMN matched_grant, \
         DROP COLUMN matched_session; \
         DELETE FROM sentinel_migrations WHERE version > 1;",
    )
    .await
    .expect("make the store a first-version store");
    assert!(!has_rollup_table(&db).await);
    assert_eq!(applied_migrations(&db).await, [1]);
    let events: i64 = db
        .query_one("SELECT COUNT(*) FROM events", &[])
        .await
        .expect("count events")
        .get(0);
    assert_eq!(events, data.len() as i64);

    // Opening the old store with the current Sentinel migrates it and backfills the rollup.
    let upgraded = start(SentinelConfig::new(store.url.clone())).await;
    assert_eq!(applied_migrations(&db).await, [1, 2, 3, 4, 5]);
    // The rollup's key puts the hour after the dimension, so a time range is one index range.
    let key: String = db
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'usage_rollup_pkey'",
            &[],
        )
        .await
        .expect("read the rollup key")
        .get(0);
    assert!(
        key.ends_with("(dimension, hour_ts, dim_value, decision)"),
        "{key}"
    );
    assert_eq!(
        rollup_rows(&db).await,
        maintained,
        "the backfilled rollup equals the one kept while ingesting"
    );

    // The analytics read the backfilled rollup and agree with the events and the dataset.
    let (rolled_up, scanned) = usage(&upgraded.base).await;
    assert_eq!(rolled_up, scanned);
    assert_eq!(rolled_up["summary"]["total_events"], data.len());
    let denied = data.iter().filter(|s| s.decision == "deny").count();
    assert_eq!(
        rolled_up["summary"]["denied"], denied,
        "{}",
        rolled_up["summary"]
    );
    for agent in common::AGENTS {
        let want = data.iter().filter(|s| s.agent == agent).count() as u64;
        assert_eq!(
            count_of(&rolled_up["by_agent"], agent),
            want,
            "agent {agent}"
        );
    }

    // Ingest after the upgrade keeps adding to the backfilled rollup.
    let later = json!({
        "event_id": uuid::Uuid::now_v7().to_string(),
        "timestamp": jiff::Timestamp::now().to_string(),
        "source": "files-gateway",
        "event_type": "mcp.request",
        "payload": {"status": 200, "latency_ms": 7, "agent_id": "late-agent",
                    "namespace": "mcp-servers", "decision": "allow", "tool_name": "read_file"},
    });
    let reply = post_json(&format!("{}/events", upgraded.base), None, &later).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.body["stored"], 1, "{}", reply.text);
    let (rolled_up, scanned) = usage(&upgraded.base).await;
    assert_eq!(rolled_up, scanned);
    assert_eq!(rolled_up["summary"]["total_events"], data.len() + 1);
    assert_eq!(count_of(&rolled_up["by_agent"], "late-agent"), 1);
}

/// The planner needs statistics to page through one server's events by its index: Sentinel
/// runs `ANALYZE events` itself once it has stored `ANALYZE_FIRST_ROWS` events, instead of
/// serving a burst with guessed plans until autovacuum's next round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_events_gets_the_table_analyzed_without_waiting_for_autovacuum() {
    let (store, db) = store_and_connection().await;
    let analyzed = async || -> bool {
        db.query_one(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'events'",
            &[],
        )
        .await
        .expect("read pg_stat_user_tables")
        .get(0)
    };
    let sentinel = start(SentinelConfig::new(store.url.clone())).await;
    let first = usize::try_from(mcp_runtime_sentinel::store::ANALYZE_FIRST_ROWS).expect("usize");
    let data = dataset(first);
    seed(&sentinel.base, None, &data[..first - 1]).await;
    assert!(!analyzed().await, "analyzed before the threshold");
    seed(&sentinel.base, None, &data[first - 1..]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !analyzed().await {
        assert!(
            std::time::Instant::now() < deadline,
            "events was not analyzed within 30 s of the {first}th stored event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
