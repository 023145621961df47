//! The hourly usage rollup: per hour, decision and value of each analytics dimension, how many
//! events, their summed latency and their first and last time. Both stores maintain it in the
//! same transaction as the events it counts, so the analytics endpoints can read thousands of
//! rollup rows instead of scanning millions of events.
//!
//! This module is pure: the table's DDL and backfill, the rows a batch of newly stored events
//! adds, and how a time range splits into whole hours (answered by the rollup) and partial
//! edge hours (answered from the events).

use std::collections::BTreeMap;

use super::{Dialect, EventRecord};

/// One hour in nanoseconds: the rollup's granularity.
pub(crate) const HOUR_NS: i64 = 3_600 * 1_000_000_000;

/// The table name.
pub(crate) const TABLE: &str = "usage_rollup";

/// The `dimension` value of the rows that count every event (with an empty `dim_value`).
pub(crate) const ALL: &str = "*";

/// The columns of the events table that are rolled up, by the name stored in `dimension`
/// (the column name itself). Rows with an empty value are not rolled up, as the analytics skip
/// empty values.
pub(crate) const DIMENSIONS: [&str; 8] = [
    "source",
    "event_type",
    "server",
    "tool_name",
    "agent_id",
    "human_id",
    "decision",
    "reason",
];

/// The start of the hour holding `ts_ns`, with the same truncating division the SQL uses.
pub(crate) fn hour_of(ts_ns: i64) -> i64 {
    (ts_ns / HOUR_NS) * HOUR_NS
}

/// The rollup table's columns, before its key.
const COLUMNS: &str = "dimension TEXT NOT NULL, dim_value TEXT NOT NULL, decision TEXT NOT NULL, \
     hour_ts BIGINT NOT NULL, events BIGINT NOT NULL, latency_ms BIGINT NOT NULL, \
     first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,";

/// The DDL and the backfill from existing events (a migration: stores that already hold events
/// get their rollup in the same step).
pub(crate) fn migration() -> String {
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} ({COLUMNS}
            PRIMARY KEY (dimension, dim_value, decision, hour_ts)
        );
        CREATE INDEX IF NOT EXISTS {TABLE}_hour ON {TABLE} (hour_ts);\n"
    );
    let hour = format!("(ts / {HOUR_NS}) * {HOUR_NS}");
    let aggregates = "COUNT(*), SUM(latency_ms), MIN(ts), MAX(ts)";
    sql.push_str(&format!(
        "INSERT INTO {TABLE} SELECT '{ALL}', '', decision, {hour}, {aggregates} FROM events \
         GROUP BY decision, {hour};\n"
    ));
    for column in DIMENSIONS {
        sql.push_str(&format!(
            "INSERT INTO {TABLE} SELECT '{column}', {column}, decision, {hour}, {aggregates} \
             FROM events WHERE {column} <> '' GROUP BY {column}, decision, {hour};\n"
        ));
    }
    sql
}

/// Puts the hour right after the dimension in the rollup's key, so that an aggregation over a
/// time range reads only that range's rows of its dimension (with the hour last it read every
/// hour ever kept for the dimension and filtered). In SQLite the table becomes `WITHOUT ROWID`:
/// the rows are stored in key order, so that read is one contiguous range.
pub(crate) fn key_order_migration(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => format!(
            "CREATE TABLE {TABLE}_by_hour ({COLUMNS}
                PRIMARY KEY (dimension, hour_ts, dim_value, decision)
            ) WITHOUT ROWID;
            INSERT INTO {TABLE}_by_hour SELECT dimension, dim_value, decision, hour_ts, events, \
             latency_ms, first_ts, last_ts FROM {TABLE};
            DROP TABLE {TABLE};
            ALTER TABLE {TABLE}_by_hour RENAME TO {TABLE};
            CREATE INDEX IF NOT EXISTS {TABLE}_hour ON {TABLE} (hour_ts);\n"
        ),
        Dialect::Postgres => format!(
            "ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey, \
             ADD PRIMARY KEY (dimension, hour_ts, dim_value, decision);\n"
        ),
    }
}

/// One rollup row's increment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RollupRow {
    pub dimension: &'static str,
    pub value: String,
    pub decision: String,
    pub hour_ts: i64,
    pub events: i64,
    pub latency_ms: i64,
    pub first_ts: i64,
    pub last_ts: i64,
}

fn dimension_value<'r>(record: &'r EventRecord, dimension: &str) -> &'r str {
    match dimension {
        "source" => &record.source,
        "event_type" => &record.event_type,
        "server" => &record.server,
        "tool_name" => &record.tool_name,
        "agent_id" => &record.agent_id,
        "human_id" => &record.human_id,
        "decision" => &record.decision,
        "reason" => &record.reason,
        _ => "",
    }
}

/// The increments that newly stored `records` add to the rollup, sorted by the table's key (so
/// concurrent writers lock rows in the same order).
pub(crate) fn increments<'r>(records: impl IntoIterator<Item = &'r EventRecord>) -> Vec<RollupRow> {
    // The table's key order: dimension, hour, value, decision.
    type Key<'a> = (&'static str, i64, &'a str, &'a str);
    let mut rows: BTreeMap<Key<'r>, (i64, i64, i64, i64)> = BTreeMap::new();
    for record in records {
        let hour_ts = hour_of(record.ts_ns);
        let keys = std::iter::once((ALL, ""))
            .chain(DIMENSIONS.iter().map(|d| (*d, dimension_value(record, d))))
            .filter(|(dimension, value)| *dimension == ALL || !value.is_empty());
        for (dimension, value) in keys {
            let entry = rows
                .entry((dimension, hour_ts, value, record.decision.as_str()))
                .or_insert((0, 0, i64::MAX, i64::MIN));
            entry.0 += 1;
            entry.1 += record.latency_ms;
            entry.2 = entry.2.min(record.ts_ns);
            entry.3 = entry.3.max(record.ts_ns);
        }
    }
    rows.into_iter()
        .map(
            |((dimension, hour_ts, value, decision), (events, latency_ms, first_ts, last_ts))| {
                RollupRow {
                    dimension,
                    value: value.to_owned(),
                    decision: decision.to_owned(),
                    hour_ts,
                    events,
                    latency_ms,
                    first_ts,
                    last_ts,
                }
            },
        )
        .collect()
}

/// The upsert clause that adds an increment to an existing row.
pub(crate) fn on_conflict(dialect: Dialect) -> String {
    let (least, greatest) = match dialect {
        Dialect::Sqlite => ("min", "max"),
        Dialect::Postgres => ("LEAST", "GREATEST"),
    };
    format!(
        "ON CONFLICT (dimension, hour_ts, dim_value, decision) DO UPDATE SET \
         events = {TABLE}.events + excluded.events, \
         latency_ms = {TABLE}.latency_ms + excluded.latency_ms, \
         first_ts = {least}({TABLE}.first_ts, excluded.first_ts), \
         last_ts = {greatest}({TABLE}.last_ts, excluded.last_ts)"
    )
}

/// Where a `[from, to)` range is answered from: whole hours `[hours_from, hours_to)` from the
/// rollup, the rest (at most two partial hours) from the events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    /// Whole hours read from the rollup (`None`: unbounded on that side). `None` when no whole
    /// hour is inside the range.
    pub hours: Option<(Option<i64>, Option<i64>)>,
    /// Sub-ranges read from the events.
    pub edges: Vec<(i64, i64)>,
}

/// Splits `[from, to)` at hour boundaries. `None` when the rollup cannot serve the range
/// (times before 1970, where the hour arithmetic differs).
pub(crate) fn split(from: Option<i64>, to: Option<i64>) -> Option<Split> {
    if from.is_some_and(|f| f < 0) || to.is_some_and(|t| t < 0) {
        return None;
    }
    // First whole hour at or after `from`, and the end of the last whole hour before `to`.
    let first = from.map(|f| {
        let h = hour_of(f);
        if h == f { h } else { h.saturating_add(HOUR_NS) }
    });
    let last = to.map(hour_of);
    let mut edges = Vec::new();
    match (first, last) {
        (Some(first), Some(last)) if first >= last => {
            // No whole hour inside: the whole range is an edge.
            if let (Some(f), Some(t)) = (from, to)
                && f < t
            {
                edges.push((f, t));
            }
            return Some(Split { hours: None, edges });
        }
        _ => {}
    }
    if let (Some(f), Some(first)) = (from, first)
        && f < first
    {
        edges.push((f, first));
    }
    if let (Some(t), Some(last)) = (to, last)
        && last < t
    {
        edges.push((last, t));
    }
    Some(Split {
        hours: Some((first, last)),
        edges,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An event record for tests.
    pub(crate) fn record(ts_ns: i64, decision: &str, tool: &str, latency_ms: i64) -> EventRecord {
        EventRecord {
            event_id: format!("e{ts_ns}"),
            ts_ns,
            trace_id: None,
            source: "gw".into(),
            event_type: "mcp.request".into(),
            server: "files".into(),
            namespace: "ns".into(),
            cluster: "c".into(),
            team_id: "t".into(),
            human_id: "alice".into(),
            agent_id: String::new(),
            session_id: "s".into(),
            decision: decision.into(),
            reason: "allowed".into(),
            tool_name: tool.into(),
            rpc_method: "tools/call".into(),
            status: 200,
            latency_ms,
            json: "{}".into(),
            replay: crate::store::ReplayColumns::default(),
            chain: None,
        }
    }

    #[test]
    fn increments_group_by_dimension_decision_and_hour() {
        let records = [
            record(10, "allow", "read", 5),
            record(20, "allow", "read", 7),
            record(HOUR_NS + 1, "allow", "read", 1),
            record(30, "deny", "", 3),
        ];
        let rows = increments(&records);
        let find = |dimension: &str, value: &str, decision: &str, hour_ts: i64| {
            rows.iter()
                .find(|r| {
                    r.dimension == dimension
                        && r.value == value
                        && r.decision == decision
                        && r.hour_ts == hour_ts
                })
                .map(|r| (r.events, r.latency_ms, r.first_ts, r.last_ts))
        };
        assert_eq!(find(ALL, "", "allow", 0), Some((2, 12, 10, 20)));
        assert_eq!(
            find(ALL, "", "allow", HOUR_NS),
            Some((1, 1, HOUR_NS + 1, HOUR_NS + 1))
        );
        assert_eq!(find(ALL, "", "deny", 0), Some((1, 3, 30, 30)));
        assert_eq!(find("tool_name", "read", "allow", 0), Some((2, 12, 10, 20)));
        // Empty values are not rolled up; the total still counts the event.
        assert_eq!(find("tool_name", "", "deny", 0), None);
        assert!(rows.iter().all(|r| r.dimension != "agent_id"));
        // Sorted by the table key.
        let keys: Vec<_> = rows
            .iter()
            .map(|r| (r.dimension, r.hour_ts, r.value.clone(), r.decision.clone()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn ranges_split_into_whole_hours_and_edges() {
        let h = HOUR_NS;
        assert_eq!(
            split(None, None),
            Some(Split {
                hours: Some((None, None)),
                edges: vec![]
            })
        );
        assert_eq!(
            split(Some(h + 5), Some(4 * h + 7)),
            Some(Split {
                hours: Some((Some(2 * h), Some(4 * h))),
                edges: vec![(h + 5, 2 * h), (4 * h, 4 * h + 7)]
            })
        );
        assert_eq!(
            split(Some(h), Some(3 * h)),
            Some(Split {
                hours: Some((Some(h), Some(3 * h))),
                edges: vec![]
            })
        );
        // Inside one hour, or across one boundary without a whole hour: all from the events.
        assert_eq!(
            split(Some(h + 5), Some(h + 9)),
            Some(Split {
                hours: None,
                edges: vec![(h + 5, h + 9)]
            })
        );
        assert_eq!(
            split(Some(h + 5), Some(2 * h + 9)),
            Some(Split {
                hours: None,
                edges: vec![(h + 5, 2 * h + 9)]
            })
        );
        assert_eq!(
            split(Some(5 * h), Some(2 * h)),
            Some(Split {
                hours: None,
                edges: vec![]
            })
        );
        assert_eq!(
            split(None, Some(2 * h + 1)),
            Some(Split {
                hours: Some((None, Some(2 * h))),
                edges: vec![(2 * h, 2 * h + 1)]
            })
        );
        assert_eq!(split(Some(-1), None), None);
    }
}
