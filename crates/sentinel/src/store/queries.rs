//! The typed read queries, written once as SQL both stores run.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Cell, Dialect, Kind, SqlQuery, SqlValue, Store, StoreError, rollup};

/// Equality filters of `/api/v1/events` and the analytics endpoints, with the time range.
/// Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Exact `trace_id`.
    pub trace_id: Option<String>,
    /// Exact envelope `source`.
    pub source: Option<String>,
    /// Exact envelope `event_type`.
    pub event_type: Option<String>,
    /// Exact `payload.server`.
    pub server: Option<String>,
    /// Exact `payload.namespace`.
    pub namespace: Option<String>,
    /// Exact `payload.cluster`.
    pub cluster: Option<String>,
    /// Exact `payload.human_id`.
    pub human_id: Option<String>,
    /// Exact `payload.agent_id`.
    pub agent_id: Option<String>,
    /// Exact `payload.session_id`.
    pub session_id: Option<String>,
    /// `allow` or `deny`.
    pub decision: Option<String>,
    /// Exact `payload.tool_name`.
    pub tool_name: Option<String>,
    /// Exact `payload.reason`.
    pub reason: Option<String>,
    /// Events at or after this time (ns since the epoch).
    pub from_ns: Option<i64>,
    /// Events before this time (ns since the epoch).
    pub to_ns: Option<i64>,
}

impl EventFilter {
    /// The (query parameter = column) equality filters that are set.
    pub(crate) fn equalities(&self) -> Vec<(&'static str, &str)> {
        [
            ("trace_id", &self.trace_id),
            ("source", &self.source),
            ("event_type", &self.event_type),
            ("server", &self.server),
            ("namespace", &self.namespace),
            ("cluster", &self.cluster),
            ("human_id", &self.human_id),
            ("agent_id", &self.agent_id),
            ("session_id", &self.session_id),
            ("decision", &self.decision),
            ("tool_name", &self.tool_name),
            ("reason", &self.reason),
        ]
        .into_iter()
        .filter_map(|(c, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (c, v)))
        .collect()
    }
}

/// The position after the last event of a page: events are ordered newest first by
/// (timestamp, event_id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Timestamp of the last event returned (ns).
    pub ts_ns: i64,
    /// `event_id` of the last event returned.
    pub event_id: String,
}

impl Cursor {
    /// The opaque text form used in `next_cursor` / `cursor`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.ts_ns, self.event_id)
    }

    /// Parses [`Cursor::encode`]'s form.
    pub fn decode(s: &str) -> Option<Self> {
        let (ts, id) = s.split_once('_')?;
        Some(Self {
            ts_ns: ts.parse().ok()?,
            event_id: id.to_owned(),
        })
    }
}

/// A page request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// The filters.
    pub filter: EventFilter,
    /// Page size.
    pub limit: u32,
    /// Continue after this position.
    pub cursor: Option<Cursor>,
}

/// A page of events, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// The events as received.
    pub events: Vec<serde_json::Value>,
    /// Where the next page starts, when there may be one.
    pub next_cursor: Option<Cursor>,
}

/// A grouping column of the analytics queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Envelope `source`.
    Source,
    /// Envelope `event_type`.
    EventType,
    /// `payload.server`.
    Server,
    /// `payload.tool_name`.
    Tool,
    /// `payload.agent_id`.
    Agent,
    /// `payload.human_id`.
    Human,
    /// `payload.decision`.
    Decision,
    /// `payload.reason`.
    Reason,
    /// `payload.session_id`.
    Session,
    /// `payload.namespace`.
    Namespace,
}

impl Dimension {
    fn column(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::EventType => "event_type",
            Self::Server => "server",
            Self::Tool => "tool_name",
            Self::Agent => "agent_id",
            Self::Human => "human_id",
            Self::Decision => "decision",
            Self::Reason => "reason",
            Self::Session => "session_id",
            Self::Namespace => "namespace",
        }
    }
}

/// Counts for one value of a [`Dimension`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    /// The value.
    pub key: String,
    /// Events with it.
    pub count: i64,
    /// Of which denied.
    pub denied: i64,
    /// Average latency of its calls, in milliseconds.
    pub avg_latency_ms: i64,
    /// Its most recent event time (RFC 3339).
    pub last_seen: Option<String>,
}

/// Counts for one time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Bucket start (RFC 3339).
    pub start: String,
    /// Events in it.
    pub count: i64,
    /// Of which denied.
    pub denied: i64,
}

/// Totals over a filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Events.
    pub total_events: i64,
    /// Allowed events.
    pub allowed: i64,
    /// Denied events.
    pub denied: i64,
    /// `denied / total_events` (0 when empty).
    pub deny_rate: f64,
    /// Distinct servers.
    pub servers: i64,
    /// Distinct agents.
    pub agents: i64,
    /// Distinct humans.
    pub humans: i64,
    /// Distinct tools.
    pub tools: i64,
    /// Distinct sources (not computed by the usage endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<i64>,
    /// Distinct event types (not computed by the usage endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_types: Option<i64>,
    /// Oldest event time (RFC 3339).
    pub first_event: Option<String>,
    /// Newest event time (RFC 3339).
    pub last_event: Option<String>,
}

pub(crate) fn rfc3339(ts_ns: i64) -> Option<String> {
    jiff::Timestamp::from_nanosecond(i128::from(ts_ns))
        .ok()
        .map(|t| t.to_string())
}

/// Builds `WHERE …` for a filter (and optionally a cursor), numbering placeholders from 1.
fn where_clause(
    dialect: Dialect,
    filter: &EventFilter,
    cursor: Option<&Cursor>,
) -> (String, Vec<SqlValue>) {
    let mut parts = Vec::new();
    let mut params = Vec::new();
    for (column, value) in filter.equalities() {
        params.push(SqlValue::Text(value.to_owned()));
        parts.push(format!("{column} = {}", dialect.placeholder(params.len())));
    }
    if let Some(from) = filter.from_ns {
        params.push(SqlValue::Int(from));
        parts.push(format!("ts >= {}", dialect.placeholder(params.len())));
    }
    if let Some(to) = filter.to_ns {
        params.push(SqlValue::Int(to));
        parts.push(format!("ts < {}", dialect.placeholder(params.len())));
    }
    if let Some(cursor) = cursor {
        params.push(SqlValue::Int(cursor.ts_ns));
        let ts = dialect.placeholder(params.len());
        params.push(SqlValue::Text(cursor.event_id.clone()));
        let id = dialect.placeholder(params.len());
        parts.push(format!("(ts, event_id) < ({ts}, {id})"));
    }
    if parts.is_empty() {
        (String::new(), params)
    } else {
        (format!(" WHERE {}", parts.join(" AND ")), params)
    }
}

const DENIED: &str = "SUM(CASE WHEN decision = 'deny' THEN 1 ELSE 0 END)";

/// A page of events matching the query, newest first.
pub async fn events(store: &dyn Store, query: &EventQuery) -> Result<EventPage, StoreError> {
    let limit = query.limit.clamp(1, 1000);
    let (where_sql, params) = where_clause(store.dialect(), &query.filter, query.cursor.as_ref());
    let sql = format!(
        "SELECT ts, event_id, event FROM events{where_sql} ORDER BY ts DESC, event_id DESC LIMIT {}",
        limit + 1
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params,
            kinds: vec![Kind::Int, Kind::Text, Kind::Text],
        })
        .await?;
    let more = rows.len() > limit as usize;
    let mut events = Vec::with_capacity(rows.len().min(limit as usize));
    let mut last = None;
    for row in rows.into_iter().take(limit as usize) {
        let [ts, id, json] = <[Cell; 3]>::try_from(row)
            .map_err(|_| StoreError::Task("unexpected column count".into()))?;
        events.push(serde_json::from_str(&json.text()).unwrap_or(serde_json::Value::Null));
        last = Some(Cursor {
            ts_ns: ts.int(),
            event_id: id.text(),
        });
    }
    Ok(EventPage {
        events,
        next_cursor: if more { last } else { None },
    })
}

/// One event by id.
pub async fn event(
    store: &dyn Store,
    event_id: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    let sql = format!(
        "SELECT event FROM events WHERE event_id = {}",
        store.dialect().placeholder(1)
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params: vec![SqlValue::Text(event_id.to_owned())],
            kinds: vec![Kind::Text],
        })
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|c| serde_json::from_str(&c.text()).ok()))
}

/// What one (value, time bucket) of an aggregation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    events: i64,
    denied: i64,
    latency_ms: i64,
    first_ts: i64,
    last_ts: i64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.events += other.events;
        self.denied += other.denied;
        self.latency_ms += other.latency_ms;
        self.first_ts = self.first_ts.min(other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
    }
}

/// Tallies keyed by (dimension value, bucket start); the value is empty when not grouping by a
/// dimension, the bucket 0 when not bucketing.
type Tallies = BTreeMap<(String, i64), Tally>;

fn merge_into(into: &mut Tallies, from: Tallies) {
    for (key, tally) in from {
        match into.get_mut(&key) {
            Some(existing) => existing.merge(tally),
            None => {
                into.insert(key, tally);
            }
        }
    }
}

impl Dimension {
    /// Whether the usage rollup counts this dimension.
    fn rolled_up(self) -> bool {
        rollup::DIMENSIONS.contains(&self.column())
    }
}

/// The parts of `filter`'s range the rollup answers, when it can answer this aggregation at
/// all: no equality filter but `decision`, a rolled-up dimension, buckets of whole hours.
fn rollup_split(
    filter: &EventFilter,
    dimension: Option<Dimension>,
    bucket_ns: Option<i64>,
) -> Option<rollup::Split> {
    let only_decision = filter.equalities().iter().all(|(c, _)| *c == "decision");
    let dimension_ok = dimension.is_none_or(Dimension::rolled_up);
    let bucket_ok = bucket_ns.is_none_or(|b| b % rollup::HOUR_NS == 0);
    if only_decision && dimension_ok && bucket_ok {
        rollup::split(filter.from_ns, filter.to_ns)
    } else {
        None
    }
}

/// Runs a tally query: its columns are value, bucket, events, denied, latency sum, first and
/// last time.
async fn fetch_tallies(
    store: &dyn Store,
    sql: String,
    params: Vec<SqlValue>,
) -> Result<Tallies, StoreError> {
    let rows = store
        .fetch(SqlQuery {
            sql,
            params,
            kinds: TALLY_KINDS.to_vec(),
        })
        .await?;
    Ok(tallies_from(rows))
}

fn tallies_from(rows: Vec<Vec<Cell>>) -> Tallies {
    rows.into_iter()
        .filter_map(|row| {
            let int = |i: usize| row.get(i).map(Cell::int).unwrap_or(0);
            let tally = Tally {
                events: int(2),
                denied: int(3),
                latency_ms: int(4),
                first_ts: int(5),
                last_ts: int(6),
            };
            // An aggregate without GROUP BY answers one row even over no events.
            (tally.events > 0).then(|| {
                (
                    (row.first().map(Cell::text).unwrap_or_default(), int(1)),
                    tally,
                )
            })
        })
        .collect()
}

const TALLY_KINDS: [Kind; 7] = [
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
];

/// `SELECT value, bucket` expressions and the `GROUP BY` clause for them.
fn grouping(value: Option<&str>, time: &str, bucket_ns: Option<i64>) -> (String, String) {
    let bucket = bucket_ns.map(|b| format!("({time} / {b}) * {b}"));
    let group_by: Vec<&str> = value.into_iter().chain(bucket.as_deref()).collect();
    let select = format!(
        "{}, {}",
        value.unwrap_or("''"),
        bucket.as_deref().unwrap_or("CAST(0 AS BIGINT)")
    );
    let group_by = if group_by.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", group_by.join(", "))
    };
    (select, group_by)
}

/// Aggregates straight from the events.
async fn tally_events(
    store: &dyn Store,
    dimension: Option<Dimension>,
    filter: &EventFilter,
    bucket_ns: Option<i64>,
) -> Result<Tallies, StoreError> {
    let column = dimension.map(Dimension::column);
    let (mut where_sql, params) = where_clause(store.dialect(), filter, None);
    if let Some(column) = column {
        where_sql.push_str(if where_sql.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        where_sql.push_str(&format!("{column} <> ''"));
    }
    let (select, group_by) = grouping(column, "ts", bucket_ns);
    let sql = format!(
        "SELECT {select}, COUNT(*), {DENIED}, CAST(SUM(latency_ms) AS BIGINT), MIN(ts), MAX(ts) \
         FROM events{where_sql}{group_by}"
    );
    fetch_tallies(store, sql, params).await
}

/// Aggregates from the rollup over whole hours `[from, to)`.
async fn tally_rollup(
    store: &dyn Store,
    dimension: Option<Dimension>,
    decision: Option<&str>,
    (from, to): (Option<i64>, Option<i64>),
    bucket_ns: Option<i64>,
) -> Result<Tallies, StoreError> {
    let dialect = store.dialect();
    let mut params = vec![SqlValue::Text(
        dimension.map_or(rollup::ALL, Dimension::column).to_owned(),
    )];
    let mut where_sql = format!(" WHERE dimension = {}", dialect.placeholder(1));
    let conditions = [
        (
            "decision = ",
            decision.map(|d| SqlValue::Text(d.to_owned())),
        ),
        ("hour_ts >= ", from.map(SqlValue::Int)),
        ("hour_ts < ", to.map(SqlValue::Int)),
    ];
    for (condition, value) in conditions {
        if let Some(value) = value {
            params.push(value);
            where_sql.push_str(&format!(
                " AND {condition}{}",
                dialect.placeholder(params.len())
            ));
        }
    }
    let (select, group_by) = grouping(dimension.map(|_| "dim_value"), "hour_ts", bucket_ns);
    let sql = format!(
        "SELECT {select}, CAST(SUM(events) AS BIGINT), \
         CAST(SUM(CASE WHEN decision = 'deny' THEN events ELSE 0 END) AS BIGINT), \
         CAST(SUM(latency_ms) AS BIGINT), MIN(first_ts), MAX(last_ts) \
         FROM {}{where_sql}{group_by}",
        rollup::TABLE
    );
    fetch_tallies(store, sql, params).await
}

/// The events of the partial hours at the edges of a range, with the rolled-up columns only,
/// read once so that the several aggregations of one request tally them in memory: the usage
/// endpoint runs nine, and at millions of events each re-reading the edges cost more than all
/// of its rollup reads together.
#[derive(Debug, Default)]
pub struct EdgeEvents {
    /// The `[from, to)` ranges read.
    ranges: Vec<(i64, i64)>,
    rows: Vec<EdgeEvent>,
}

#[derive(Debug)]
struct EdgeEvent {
    ts: i64,
    latency_ms: i64,
    /// The values of [`rollup::DIMENSIONS`], in that order.
    values: [String; rollup::DIMENSIONS.len()],
}

/// Most edge events kept in memory for one request; past it each aggregation reads its own.
const MAX_EDGE_EVENTS: usize = 100_000;

impl EdgeEvents {
    /// Reads the edge events of `filter`'s range when the rollup answers it (`None` when it
    /// does not, the range has no partial hour, or the edges hold more than
    /// [`MAX_EDGE_EVENTS`]). The decision filter is applied when tallying, so one read serves
    /// the allowed and denied aggregations alike.
    pub async fn read(store: &dyn Store, filter: &EventFilter) -> Result<Option<Self>, StoreError> {
        let Some(split) = rollup_split(filter, None, None).filter(|s| !s.edges.is_empty()) else {
            return Ok(None);
        };
        let columns = rollup::DIMENSIONS.join(", ");
        let mut edges = Self::default();
        for (from, to) in split.edges {
            let dialect = store.dialect();
            let rows = store
                .fetch(SqlQuery {
                    sql: format!(
                        "SELECT ts, latency_ms, {columns} FROM events WHERE ts >= {} AND ts < {} \
                         LIMIT {}",
                        dialect.placeholder(1),
                        dialect.placeholder(2),
                        MAX_EDGE_EVENTS + 1 - edges.rows.len()
                    ),
                    params: vec![SqlValue::Int(from), SqlValue::Int(to)],
                    kinds: [Kind::Int, Kind::Int]
                        .into_iter()
                        .chain([Kind::Text; rollup::DIMENSIONS.len()])
                        .collect(),
                })
                .await?;
            for row in rows {
                let int = |i: usize| row.get(i).map(Cell::int).unwrap_or(0);
                edges.rows.push(EdgeEvent {
                    ts: int(0),
                    latency_ms: int(1),
                    values: std::array::from_fn(|i| {
                        row.get(i + 2).map(Cell::text).unwrap_or_default()
                    }),
                });
            }
            if edges.rows.len() > MAX_EDGE_EVENTS {
                return Ok(None);
            }
            edges.ranges.push((from, to));
        }
        Ok(Some(edges))
    }

    /// What [`tally_events`] answers for the events of `range` (one of those read), or `None`
    /// when `range` was not read.
    fn tally(
        &self,
        range: (i64, i64),
        dimension: Option<Dimension>,
        decision: Option<&str>,
        bucket_ns: Option<i64>,
    ) -> Option<Tallies> {
        if !self.ranges.contains(&range) {
            return None;
        }
        let position = |column: &str| rollup::DIMENSIONS.iter().position(|d| *d == column);
        let decision_at = position("decision")?;
        let value_at = match dimension {
            Some(d) => Some(position(d.column())?),
            None => None,
        };
        let mut out = Tallies::new();
        let in_range = self
            .rows
            .iter()
            .filter(|e| e.ts >= range.0 && e.ts < range.1);
        for event in in_range {
            let event_decision = event.values[decision_at].as_str();
            if decision.is_some_and(|d| d != event_decision) {
                continue;
            }
            let value = value_at.map_or("", |i| event.values[i].as_str());
            if value_at.is_some() && value.is_empty() {
                continue;
            }
            let bucket = bucket_ns.map_or(0, |b| (event.ts / b) * b);
            let tally = Tally {
                events: 1,
                denied: i64::from(event_decision == "deny"),
                latency_ms: event.latency_ms,
                first_ts: event.ts,
                last_ts: event.ts,
            };
            match out.get_mut(&(value.to_owned(), bucket)) {
                Some(existing) => existing.merge(tally),
                None => {
                    out.insert((value.to_owned(), bucket), tally);
                }
            }
        }
        Some(out)
    }
}

/// Aggregates events matching `filter`, per value of `dimension` and per time bucket when
/// given: from the rollup for the whole hours when it can answer (plus the events of the
/// partial hours at the range's edges, from `edges` when they were read), else from the
/// events. Every path gives the same answer.
async fn tally(
    store: &dyn Store,
    edges: Option<&EdgeEvents>,
    dimension: Option<Dimension>,
    filter: &EventFilter,
    bucket_ns: Option<i64>,
) -> Result<Tallies, StoreError> {
    let Some(split) = rollup_split(filter, dimension, bucket_ns) else {
        return tally_events(store, dimension, filter, bucket_ns).await;
    };
    let mut out = Tallies::new();
    let decision = filter.decision.as_deref().filter(|d| !d.is_empty());
    if let Some(hours) = split.hours {
        merge_into(
            &mut out,
            tally_rollup(store, dimension, decision, hours, bucket_ns).await?,
        );
    }
    for (from, to) in split.edges {
        let in_memory =
            edges.and_then(|edges| edges.tally((from, to), dimension, decision, bucket_ns));
        let tallies = match in_memory {
            Some(tallies) => tallies,
            None => {
                let edge = EventFilter {
                    from_ns: Some(from),
                    to_ns: Some(to),
                    ..filter.clone()
                };
                tally_events(store, dimension, &edge, bucket_ns).await?
            }
        };
        merge_into(&mut out, tallies);
    }
    Ok(out)
}

fn summary_of(tallies: &Tallies) -> Summary {
    let mut total: Option<Tally> = None;
    for tally in tallies.values() {
        match total.as_mut() {
            Some(t) => t.merge(*tally),
            None => total = Some(*tally),
        }
    }
    let total = total.unwrap_or(Tally {
        events: 0,
        denied: 0,
        latency_ms: 0,
        first_ts: 0,
        last_ts: 0,
    });
    let empty = total.events == 0;
    Summary {
        total_events: total.events,
        allowed: total.events - total.denied,
        denied: total.denied,
        deny_rate: if empty {
            0.0
        } else {
            total.denied as f64 / total.events as f64
        },
        servers: 0,
        agents: 0,
        humans: 0,
        tools: 0,
        sources: None,
        event_types: None,
        first_event: (!empty).then_some(total.first_ts).and_then(rfc3339),
        last_event: (!empty).then_some(total.last_ts).and_then(rfc3339),
    }
}

/// Totals over a filter, with the distinct counts.
pub async fn summary(store: &dyn Store, filter: &EventFilter) -> Result<Summary, StoreError> {
    if rollup_split(filter, Some(Dimension::Server), None).is_some() {
        // The rollup holds every rolled-up dimension's values: count them there.
        let edges = EdgeEvents::read(store, filter).await?;
        let edges = edges.as_ref();
        let mut summary = totals(store, edges, filter).await?;
        let distinct = async |dimension| {
            tally(store, edges, Some(dimension), filter, None)
                .await
                .map(|t| i64::try_from(t.len()).unwrap_or(i64::MAX))
        };
        summary.servers = distinct(Dimension::Server).await?;
        summary.agents = distinct(Dimension::Agent).await?;
        summary.humans = distinct(Dimension::Human).await?;
        summary.tools = distinct(Dimension::Tool).await?;
        summary.sources = Some(distinct(Dimension::Source).await?);
        summary.event_types = Some(distinct(Dimension::EventType).await?);
        return Ok(summary);
    }
    let (where_sql, params) = where_clause(store.dialect(), filter, None);
    let sql = format!(
        "SELECT COUNT(*), {DENIED}, COUNT(DISTINCT server), COUNT(DISTINCT agent_id), \
         COUNT(DISTINCT human_id), COUNT(DISTINCT NULLIF(tool_name, '')), COUNT(DISTINCT source), \
         COUNT(DISTINCT event_type), MIN(ts), MAX(ts) FROM events{where_sql}"
    );
    let rows = store
        .fetch(SqlQuery {
            sql,
            params,
            kinds: vec![Kind::Int; 10],
        })
        .await?;
    let row = rows.into_iter().next().unwrap_or_default();
    let get = |i: usize| row.get(i).map(Cell::int).unwrap_or(0);
    let total = get(0);
    let denied = get(1);
    Ok(Summary {
        total_events: total,
        allowed: total - denied,
        denied,
        deny_rate: if total > 0 {
            denied as f64 / total as f64
        } else {
            0.0
        },
        servers: get(2),
        agents: get(3),
        humans: get(4),
        tools: get(5),
        sources: Some(get(6)),
        event_types: Some(get(7)),
        first_event: row.get(8).and_then(Cell::opt_int).and_then(rfc3339),
        last_event: row.get(9).and_then(Cell::opt_int).and_then(rfc3339),
    })
}

/// Totals over a filter without the distinct counts (those are left at 0), for callers that
/// count distinct values from their own groupings. `edges`: see [`EdgeEvents`].
pub async fn totals(
    store: &dyn Store,
    edges: Option<&EdgeEvents>,
    filter: &EventFilter,
) -> Result<Summary, StoreError> {
    Ok(summary_of(&tally(store, edges, None, filter, None).await?))
}

/// Counts per value of `dimension`, most frequent first (empty values skipped). `edges`: see
/// [`EdgeEvents`].
pub async fn group(
    store: &dyn Store,
    edges: Option<&EdgeEvents>,
    dimension: Dimension,
    filter: &EventFilter,
    limit: u32,
) -> Result<Vec<GroupCount>, StoreError> {
    let mut groups: Vec<GroupCount> = tally(store, edges, Some(dimension), filter, None)
        .await?
        .into_iter()
        .map(|((key, _), t)| GroupCount {
            key,
            count: t.events,
            denied: t.denied,
            avg_latency_ms: if t.events > 0 {
                t.latency_ms / t.events
            } else {
                0
            },
            last_seen: rfc3339(t.last_ts),
        })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    groups.truncate(limit.clamp(1, 10_000) as usize);
    Ok(groups)
}

fn bucket_of(start: i64, t: Tally) -> Bucket {
    Bucket {
        start: rfc3339(start).unwrap_or_default(),
        count: t.events,
        denied: t.denied,
    }
}

/// Counts per time bucket of `bucket_ns`, oldest first (empty buckets omitted). `edges`: see
/// [`EdgeEvents`].
pub async fn timeline(
    store: &dyn Store,
    edges: Option<&EdgeEvents>,
    filter: &EventFilter,
    bucket_ns: i64,
) -> Result<Vec<Bucket>, StoreError> {
    Ok(tally(store, edges, None, filter, Some(bucket_ns.max(1)))
        .await?
        .into_iter()
        .map(|((_, start), t)| bucket_of(start, t))
        .collect())
}

/// Counts per (value of `dimension`, time bucket): the rows are (value, bucket), ordered by
/// value then time (empty values skipped). `edges`: see [`EdgeEvents`].
pub async fn series(
    store: &dyn Store,
    edges: Option<&EdgeEvents>,
    dimension: Dimension,
    filter: &EventFilter,
    bucket_ns: i64,
) -> Result<Vec<(String, Bucket)>, StoreError> {
    Ok(tally(
        store,
        edges,
        Some(dimension),
        filter,
        Some(bucket_ns.max(1)),
    )
    .await?
    .into_iter()
    .map(|((key, start), t)| (key, bucket_of(start, t)))
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_clause_numbers_placeholders_per_dialect() {
        let filter = EventFilter {
            server: Some("files".into()),
            decision: Some("deny".into()),
            agent_id: Some(String::new()),
            from_ns: Some(5),
            ..EventFilter::default()
        };
        let cursor = Cursor {
            ts_ns: 9,
            event_id: "e".into(),
        };
        let (sql, params) = where_clause(Dialect::Postgres, &filter, Some(&cursor));
        assert_eq!(
            sql,
            " WHERE server = $1 AND decision = $2 AND ts >= $3 AND (ts, event_id) < ($4, $5)"
        );
        assert_eq!(params.len(), 5);
        let (sql, _) = where_clause(Dialect::Sqlite, &filter, None);
        assert_eq!(sql, " WHERE server = ?1 AND decision = ?2 AND ts >= ?3");
        assert_eq!(
            where_clause(Dialect::Sqlite, &EventFilter::default(), None).0,
            ""
        );
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            ts_ns: 1_700_000_000_000_000_000,
            event_id: "0190_abc".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nope"), None);
    }
}
