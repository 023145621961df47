//! The HTTP surface: ingest, health, query API, metrics and the UI.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::ingest::{BodyError, Rejection, parse_body};
use crate::store::queries::{self, Cursor, Dimension, EventFilter, EventQuery};
use crate::{Inner, ui};

type Shared = Arc<Inner>;

/// JSON error body: `{"ok": false, "error": code, "message": …}` plus extra fields.
fn error(status: StatusCode, code: &str, message: impl Into<String>, extra: Value) -> Response {
    let mut body = json!({"ok": false, "error": code, "message": message.into()});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    (status, axum::Json(body)).into_response()
}

pub(crate) fn router(inner: Shared) -> Router {
    let api = Router::new()
        .route("/api/v1/events", get(list_events))
        .route("/api/v1/events/{event_id}", get(get_event))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/sources", get(sources))
        .route("/api/v1/event-types", get(event_types))
        .route("/api/v1/analytics/usage", get(usage))
        .route("/api/v1/decisions", get(crate::decisions::decisions))
        .route("/api/v1/chains", get(chains))
        .route("/api/v1/chains/{chain_id}/events", get(chain_events))
        .route(
            "/api/v1/chains/{chain_id}/checkpoints",
            get(chain_checkpoints),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            inner.clone(),
            read_auth,
        ));
    Router::new()
        .route("/events", post(ingest))
        .route(
            "/live",
            get(|| async { axum::Json(json!({"status": "live"})) }),
        )
        .route("/ready", get(ready))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .merge(api)
        .merge(ui::routes())
        .layer(axum::middleware::from_fn_with_state(inner.clone(), timing))
        .with_state(inner)
}

async fn timing(State(inner): State<Shared>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".into());
    let start = Instant::now();
    let response = next.run(request).await;
    inner.metrics.observe(&route, start.elapsed().as_secs_f64());
    response
}

fn key_matches(keys: &[String], presented: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    // Compare every key in full so the time taken does not reveal a matching prefix.
    keys.iter().fold(false, |found, key| {
        let a = key.as_bytes();
        let b = presented.as_bytes();
        let mut diff = a.len() ^ b.len();
        for i in 0..a.len().max(b.len()) {
            diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
        }
        found | (diff == 0)
    })
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-api-key").and_then(|v| v.to_str().ok())
}

async fn read_auth(State(inner): State<Shared>, request: Request, next: Next) -> Response {
    let keys = &inner.config.read_api_keys;
    if !keys.is_empty() && !key_matches(keys, presented_key(request.headers())) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid x-api-key",
            Value::Null,
        );
    }
    next.run(request).await
}

// ---------------------------------------------------------------------------------------------
// Ingest

async fn ingest(State(inner): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let response = ingest_inner(&inner, &headers, body).await;
    inner.metrics.ingest_request(response.status().as_u16());
    response
}

async fn ingest_inner(inner: &Inner, headers: &HeaderMap, body: Body) -> Response {
    let keys = &inner.config.api_keys;
    if !keys.is_empty() && !key_matches(keys, presented_key(headers)) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid x-api-key",
            Value::Null,
        );
    }
    let limit = inner.config.max_body_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body exceeds {limit} bytes; send smaller batches"),
            json!({"limit_bytes": limit}),
        )
    };
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > limit as u64
    {
        return too_large();
    }
    // Bounded memory: at most `max_inflight_requests` bodies are buffered at once.
    let Ok(Ok(_permit)) = tokio::time::timeout(
        inner.config.ingest_wait,
        inner.ingest_permits.clone().acquire_owned(),
    )
    .await
    else {
        let mut response = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many concurrent ingest requests; retry later",
            Value::Null,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                if bytes.len() + chunk.len() > limit {
                    return too_large();
                }
                bytes.extend_from_slice(&chunk);
            }
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    format!("reading the body: {e}"),
                    Value::Null,
                );
            }
        }
    }
    let trace_id = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(crate::ingest::trace_id_from_traceparent);
    let parsed = match parse_body(&bytes, trace_id.as_deref()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = match e {
                BodyError::InvalidJson(_) => "invalid_json",
                BodyError::NotAnEvent => "invalid_event",
                BodyError::EmptyBatch => "empty_batch",
                BodyError::TooManyEvents(_) => "too_many_events",
            };
            return error(StatusCode::BAD_REQUEST, code, e.to_string(), Value::Null);
        }
    };
    if parsed.records.is_empty() && parsed.checkpoints.is_empty() {
        inner
            .metrics
            .events("rejected", parsed.rejected.len() as u64);
        let first = parsed.rejected.first();
        let message = first.map(|r| r.error.clone()).unwrap_or_default();
        let message = if parsed.received > 1 {
            format!(
                "no valid event in the batch; first error (event {}): {message}",
                first.map(|r| r.index).unwrap_or(0)
            )
        } else {
            message
        };
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_event",
            message,
            json!({
                "field": first.map(|r| r.field.clone()),
                "received": parsed.received,
                "rejected": parsed.rejected,
            }),
        );
    }
    match inner
        .store_records(parsed.records, parsed.checkpoints, parsed.rejected)
        .await
    {
        Ok(outcome) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({
                "ok": true,
                "received": parsed.received,
                "stored": outcome.stored,
                "duplicates": outcome.duplicates,
                "rejected": outcome.rejected,
            })),
        )
            .into_response(),
        Err(e) => {
            // The batch is one transaction, so none of it was kept: the sender retries it whole
            // (a gateway's sink keeps it in its spool meanwhile).
            tracing::warn!(error = %e, "sentinel: storing events failed");
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                format!("the events were not stored: {e}"),
                Value::Null,
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(STORE_RETRY_AFTER_SECONDS),
            );
            response
        }
    }
}

/// `Retry-After` of an ingest refused because the store failed: long enough for a database
/// restart or failover to progress, short enough that delivery resumes soon after it.
const STORE_RETRY_AFTER_SECONDS: &str = "5";

/// What happened to the events of one request or in-process hand-over.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestOutcome {
    /// Newly stored.
    pub stored: u64,
    /// Already stored (same `event_id`), ignored.
    pub duplicates: u64,
    /// Refused as invalid.
    pub rejected: Vec<Rejection>,
}

// ---------------------------------------------------------------------------------------------
// Health and metrics

async fn ready(State(inner): State<Shared>) -> Response {
    match inner.store.ping().await {
        Ok(()) => {
            axum::Json(json!({"status": "ready", "store": inner.store.backend()})).into_response()
        }
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            e.to_string(),
            json!({"status": "unavailable", "store": inner.store.backend()}),
        ),
    }
}

async fn health(State(inner): State<Shared>) -> Response {
    let store = match inner.store.ping().await {
        Ok(()) => json!({"backend": inner.store.backend(), "ok": true}),
        Err(e) => json!({"backend": inner.store.backend(), "ok": false, "error": e.to_string()}),
    };
    let ok = store["ok"] == true;
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "store": store,
        "ingest_auth": !inner.config.api_keys.is_empty(),
        "read_auth": !inner.config.read_api_keys.is_empty(),
        "retention_seconds": inner.config.retention.map(|r| r.as_secs()),
        "uptime_seconds": inner.started.elapsed().as_secs(),
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(inner): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        inner.metrics.encode(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Query API

/// A query-parameter error: 400 naming the parameter.
pub(crate) struct BadParam(pub(crate) String, pub(crate) String);

impl IntoResponse for BadParam {
    fn into_response(self) -> Response {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            self.1,
            json!({"parameter": self.0}),
        )
    }
}

/// Parses a time: RFC 3339, Unix seconds, or a duration ago (`15m`, `24h`, `7d`).
pub(crate) fn parse_time(value: &str, now: jiff::Timestamp) -> Option<i64> {
    let value = value.trim();
    if let Ok(ts) = value.parse::<jiff::Timestamp>() {
        return i64::try_from(ts.as_nanosecond()).ok();
    }
    if let Ok(seconds) = value.parse::<i64>() {
        return seconds.checked_mul(1_000_000_000);
    }
    let ago = crate::parse_duration(value)?;
    let now = i64::try_from(now.as_nanosecond()).ok()?;
    now.checked_sub(i64::try_from(ago.as_nanos()).ok()?)
}

const FILTER_PARAMS: [&str; 12] = [
    "trace_id",
    "source",
    "event_type",
    "server",
    "namespace",
    "cluster",
    "human_id",
    "agent_id",
    "session_id",
    "decision",
    "tool_name",
    "reason",
];

/// Reads the filter parameters (with the aliases `agent`, `human`, `tool`, `session`,
/// `since`/`start`, `until`/`end`); `extra` names the other parameters the endpoint takes.
fn filter_from(params: &HashMap<String, String>, extra: &[&str]) -> Result<EventFilter, BadParam> {
    let mut filter = EventFilter::default();
    let now = jiff::Timestamp::now();
    for (name, value) in params {
        let canonical = match name.as_str() {
            "agent" => "agent_id",
            "human" => "human_id",
            "tool" => "tool_name",
            "session" => "session_id",
            "since" | "start" => "from",
            "until" | "end" => "to",
            other => other,
        };
        if value.is_empty() {
            continue;
        }
        let slot = match canonical {
            "trace_id" => &mut filter.trace_id,
            "source" => &mut filter.source,
            "event_type" => &mut filter.event_type,
            "server" => &mut filter.server,
            "namespace" => &mut filter.namespace,
            "cluster" => &mut filter.cluster,
            "human_id" => &mut filter.human_id,
            "agent_id" => &mut filter.agent_id,
            "session_id" => &mut filter.session_id,
            "decision" => {
                if value != "allow" && value != "deny" {
                    return Err(BadParam(
                        name.clone(),
                        format!("decision must be allow or deny, got {value:?}"),
                    ));
                }
                &mut filter.decision
            }
            "tool_name" => &mut filter.tool_name,
            "reason" => &mut filter.reason,
            "from" | "to" => {
                let ts = parse_time(value, now).ok_or_else(|| {
                    BadParam(
                        name.clone(),
                        format!(
                            "{name}={value:?}: expected an RFC 3339 time, Unix seconds or a duration ago (15m, 24h, 7d)"
                        ),
                    )
                })?;
                if canonical == "from" {
                    filter.from_ns = Some(ts);
                } else {
                    filter.to_ns = Some(ts);
                }
                continue;
            }
            other if extra.contains(&other) => continue,
            _ => {
                return Err(BadParam(
                    name.clone(),
                    format!(
                        "unknown query parameter {name:?}; filters: {}, from, to",
                        FILTER_PARAMS.join(", ")
                    ),
                ));
            }
        };
        *slot = Some(value.clone());
    }
    Ok(filter)
}

fn store_failed(e: crate::store::StoreError) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        e.to_string(),
        Value::Null,
    )
}

async fn list_events(
    State(inner): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    let filter = filter_from(&params, &["limit", "cursor"])?;
    let limit = match params.get("limit").filter(|l| !l.is_empty()) {
        None => 100,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| {
                BadParam("limit".into(), format!("limit must be 1..=1000, got {l:?}"))
            })?,
    };
    let cursor = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| {
            BadParam(
                "cursor".into(),
                format!("cursor {c:?} is not a cursor returned by this API"),
            )
        })?),
    };
    let query = EventQuery {
        filter,
        limit,
        cursor,
    };
    Ok(match queries::events(inner.store.as_ref(), &query).await {
        Ok(page) => axum::Json(json!({
            "count": page.events.len(),
            "limit": limit,
            "next_cursor": page.next_cursor.map(|c| c.encode()),
            "events": page.events,
        }))
        .into_response(),
        Err(e) => store_failed(e),
    })
}

async fn get_event(State(inner): State<Shared>, Path(event_id): Path<String>) -> Response {
    match queries::event(inner.store.as_ref(), &event_id).await {
        Ok(Some(event)) => axum::Json(event).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no event with event_id {event_id:?}"),
            Value::Null,
        ),
        Err(e) => store_failed(e),
    }
}

async fn stats(
    State(inner): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    let filter = filter_from(&params, &[])?;
    Ok(
        match queries::summary(inner.store.as_ref(), &filter).await {
            Ok(summary) => axum::Json(summary).into_response(),
            Err(e) => store_failed(e),
        },
    )
}

async fn grouped(
    inner: &Inner,
    params: &HashMap<String, String>,
    dimension: Dimension,
    key: &str,
) -> Result<Response, BadParam> {
    let filter = filter_from(params, &["limit"])?;
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<u32>().ok())
        .unwrap_or(1000);
    Ok(
        match queries::group(inner.store.as_ref(), None, dimension, &filter, limit).await {
            Ok(groups) => {
                let names: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
                axum::Json(json!({ key: names, "counts": groups })).into_response()
            }
            Err(e) => store_failed(e),
        },
    )
}

async fn sources(
    State(inner): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    grouped(&inner, &params, Dimension::Source, "sources").await
}

async fn event_types(
    State(inner): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    grouped(&inner, &params, Dimension::EventType, "event_types").await
}

/// Groups fetched whole by the usage endpoint (so their sizes are the distinct counts).
const ALL_GROUPS: u32 = 10_000;

/// Picks a bucket width giving at most ~60 buckets over `span_ns`.
fn auto_bucket(span_ns: i64) -> i64 {
    const SECOND: i64 = 1_000_000_000;
    let steps = [
        SECOND,
        10 * SECOND,
        60 * SECOND,
        5 * 60 * SECOND,
        15 * 60 * SECOND,
        3600 * SECOND,
        6 * 3600 * SECOND,
        86_400 * SECOND,
        7 * 86_400 * SECOND,
    ];
    steps
        .into_iter()
        .find(|step| span_ns / step <= 60)
        .unwrap_or(30 * 86_400 * SECOND)
}

async fn usage(
    State(inner): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    let filter = filter_from(&params, &["bucket", "top", "series"])?;
    let series_dimension = match params.get("series").map(String::as_str) {
        None | Some("") => None,
        Some("server") => Some(Dimension::Server),
        Some("tool" | "tool_name") => Some(Dimension::Tool),
        Some("agent" | "agent_id") => Some(Dimension::Agent),
        Some("human" | "human_id") => Some(Dimension::Human),
        Some("decision") => Some(Dimension::Decision),
        Some("reason") => Some(Dimension::Reason),
        Some(other) => {
            return Err(BadParam(
                "series".into(),
                format!(
                    "series must be server, tool, agent, human, decision or reason, got {other:?}"
                ),
            ));
        }
    };
    let top = match params.get("top").filter(|t| !t.is_empty()) {
        None => 10,
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|t| (1..=1000).contains(t))
            .ok_or_else(|| BadParam("top".into(), format!("top must be 1..=1000, got {t:?}")))?,
    };
    let explicit_bucket = match params.get("bucket").filter(|b| !b.is_empty() && *b != "auto") {
        None => None,
        Some(b) => Some(
            crate::parse_duration(b)
                .and_then(|d| i64::try_from(d.as_nanos()).ok())
                .filter(|ns| *ns >= 1_000_000_000)
                .ok_or_else(|| BadParam("bucket".into(), format!("bucket must be a duration of at least 1s (e.g. 1m, 1h, 1d) or auto, got {b:?}")))?,
        ),
    };
    let store = inner.store.as_ref();
    // One cheap totals scan; the distinct counts come from the groupings below (fetched whole,
    // then cut to `top`), which saves the costly COUNT(DISTINCT …) pass over the range.
    // The edge hours' events, read once for the nine aggregations below.
    let edges = match queries::EdgeEvents::read(store, &filter).await {
        Ok(edges) => edges,
        Err(e) => return Ok(store_failed(e)),
    };
    let edges = edges.as_ref();
    let mut summary = match queries::totals(store, edges, &filter).await {
        Ok(s) => s,
        Err(e) => return Ok(store_failed(e)),
    };
    // Auto buckets follow the data actually in range, so a sparse week still gets fine bars.
    let bucket_ns = explicit_bucket.unwrap_or_else(|| {
        let now = jiff::Timestamp::now();
        let at = |t: &Option<String>| t.as_deref().and_then(|t| parse_time(t, now));
        match (at(&summary.first_event), at(&summary.last_event)) {
            (Some(first), Some(last)) => auto_bucket(last - first),
            _ => auto_bucket(0),
        }
    });
    let deny_filter = EventFilter {
        decision: Some("deny".into()),
        ..filter.clone()
    };
    let (servers, tools, agents, humans, decisions, reasons, timeline) = tokio::join!(
        queries::group(store, edges, Dimension::Server, &filter, ALL_GROUPS),
        queries::group(store, edges, Dimension::Tool, &filter, ALL_GROUPS),
        queries::group(store, edges, Dimension::Agent, &filter, ALL_GROUPS),
        queries::group(store, edges, Dimension::Human, &filter, ALL_GROUPS),
        queries::group(store, edges, Dimension::Decision, &filter, top),
        queries::group(store, edges, Dimension::Reason, &deny_filter, top),
        queries::timeline(store, edges, &filter, bucket_ns),
    );
    let cut = |groups: Result<Vec<queries::GroupCount>, crate::store::StoreError>,
               count: &mut i64| {
        groups.map(|mut g| {
            *count = i64::try_from(g.len()).unwrap_or(i64::MAX);
            g.truncate(top as usize);
            g
        })
    };
    let servers = cut(servers, &mut summary.servers);
    let tools = cut(tools, &mut summary.tools);
    let agents = cut(agents, &mut summary.agents);
    let humans = cut(humans, &mut summary.humans);
    // Per-value series over time for the top values of one dimension, when asked.
    let series = match series_dimension {
        None => None,
        Some(dimension) => {
            let top_keys = match dimension {
                Dimension::Server => servers.as_ref().ok(),
                Dimension::Tool => tools.as_ref().ok(),
                Dimension::Agent => agents.as_ref().ok(),
                Dimension::Human => humans.as_ref().ok(),
                Dimension::Decision => decisions.as_ref().ok(),
                _ => reasons.as_ref().ok(),
            }
            .map(|groups| groups.iter().map(|g| g.key.clone()).collect::<Vec<_>>())
            .unwrap_or_default();
            let series_filter = if dimension == Dimension::Reason {
                &deny_filter
            } else {
                &filter
            };
            match queries::series(store, edges, dimension, series_filter, bucket_ns).await {
                Ok(rows) => Some(
                    top_keys
                        .into_iter()
                        .map(|key| {
                            let buckets: Vec<&queries::Bucket> = rows
                                .iter()
                                .filter(|(k, _)| *k == key)
                                .map(|(_, b)| b)
                                .collect();
                            json!({"key": key, "timeline": buckets})
                        })
                        .collect::<Vec<_>>(),
                ),
                Err(e) => return Ok(store_failed(e)),
            }
        }
    };
    let result = (|| {
        Ok::<_, crate::store::StoreError>(json!({
            "series": series,
            "summary": summary,
            "bucket_seconds": bucket_ns / 1_000_000_000,
            "by_server": servers?,
            "by_tool": tools?,
            "by_agent": agents?,
            "by_human": humans?,
            "by_decision": decisions?,
            "deny_reasons": reasons?,
            "timeline": timeline?,
        }))
    })();
    Ok(match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => store_failed(e),
    })
}

// ---------------------------------------------------------------------------------------------
// Audit chains

/// Reads `since` (default: everything) as nanoseconds.
fn since_param(params: &HashMap<String, String>) -> Result<i64, BadParam> {
    match params.get("since").filter(|s| !s.is_empty()) {
        None => Ok(i64::MIN),
        Some(value) => parse_time(value, jiff::Timestamp::now()).ok_or_else(|| {
            BadParam(
                "since".into(),
                format!(
                    "since={value:?}: expected an RFC 3339 time, Unix seconds or a duration ago (15m, 24h, 7d)"
                ),
            )
        }),
    }
}

fn only_params(params: &HashMap<String, String>, allowed: &[&str]) -> Result<(), BadParam> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(BadParam(
            unknown.clone(),
            format!(
                "unknown query parameter {unknown:?}; this endpoint takes {}",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// `GET /api/v1/chains`: per chain (gateway instance), what was recorded on receipt.
async fn chains(
    State(inner): State<Shared>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    only_params(&params, &["since"])?;
    let since = since_param(&params)?;
    Ok(
        match crate::store::chain::statuses(inner.store.as_ref(), since, 1000).await {
            Ok(chains) => axum::Json(json!({
                "chains": chains,
                "signature_keys": inner.config.chain_keys.iter().map(|k| k.key_id()).collect::<Vec<_>>(),
            }))
            .into_response(),
            Err(e) => store_failed(e),
        },
    )
}

/// `GET /api/v1/chains/{chain_id}/events`: a page of the chain's links in seq order, each with
/// the hash computed on receipt and the event as stored now.
async fn chain_events(
    State(inner): State<Shared>,
    Path(chain_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, BadParam> {
    only_params(&params, &["since", "after", "limit"])?;
    let since = since_param(&params)?;
    let after = match params.get("after").filter(|a| !a.is_empty()) {
        None => 0,
        Some(a) => a.parse::<i64>().map_err(|_| {
            BadParam(
                "after".into(),
                format!("after must be a sequence number, got {a:?}"),
            )
        })?,
    };
    let limit = match params.get("limit").filter(|l| !l.is_empty()) {
        None => 1000,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=10_000).contains(l))
            .ok_or_else(|| {
                BadParam(
                    "limit".into(),
                    format!("limit must be 1..=10000, got {l:?}"),
                )
            })?,
    };
    Ok(
        match crate::store::chain::linked_events(
            inner.store.as_ref(),
            &chain_id,
            after,
            since,
            limit,
        )
        .await
        {
            Ok(events) => {
                let next_after = (events.len() == limit as usize)
                    .then(|| events.last().map(|e| e.seq))
                    .flatten();
                axum::Json(json!({
                    "chain_id": chain_id,
                    "events": events,
                    "next_after": next_after,
                }))
                .into_response()
            }
            Err(e) => store_failed(e),
        },
    )
}

/// `GET /api/v1/chains/{chain_id}/checkpoints`: every stored checkpoint of the chain.
async fn chain_checkpoints(State(inner): State<Shared>, Path(chain_id): Path<String>) -> Response {
    match crate::store::chain::checkpoints(inner.store.as_ref(), &chain_id).await {
        Ok(checkpoints) => {
            axum::Json(json!({"chain_id": chain_id, "checkpoints": checkpoints})).into_response()
        }
        Err(e) => store_failed(e),
    }
}

/// `/` and `/ui` redirect to `ui/` relative to where the router is mounted.
pub(crate) async fn to_ui(OriginalUri(uri): OriginalUri) -> Response {
    let path = uri.path();
    let location = if path.ends_with('/') {
        "ui/".to_owned()
    } else {
        let last = path.rsplit('/').next().unwrap_or("");
        if last == "ui" {
            "ui/".to_owned()
        } else {
            format!("{last}/ui/")
        }
    };
    (
        StatusCode::FOUND,
        [(header::LOCATION, location)],
        "The Sentinel UI is at ui/",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_match_exactly() {
        let keys = vec!["alpha".to_owned(), "beta-key".to_owned()];
        assert!(key_matches(&keys, Some("alpha")));
        assert!(key_matches(&keys, Some("beta-key")));
        assert!(!key_matches(&keys, Some("alph")));
        assert!(!key_matches(&keys, Some("alphaa")));
        assert!(!key_matches(&keys, None));
    }

    #[test]
    fn times_parse_in_three_forms() {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let base = 1_767_225_600_000_000_000i64;
        assert_eq!(parse_time("2026-01-01T00:00:00Z", now), Some(base));
        assert_eq!(parse_time("1767225600", now), Some(base));
        assert_eq!(parse_time("1h", now), Some(base - 3_600_000_000_000));
        assert_eq!(parse_time("soon", now), None);
    }

    #[test]
    fn filters_reject_unknown_parameters_and_bad_values() {
        let p = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let f = filter_from(&p(&[("agent", "claude"), ("decision", "deny")]), &[]).ok();
        assert_eq!(
            f.as_ref().and_then(|f| f.agent_id.as_deref()),
            Some("claude")
        );
        assert!(filter_from(&p(&[("agnet_id", "x")]), &[]).is_err());
        assert!(filter_from(&p(&[("decision", "maybe")]), &[]).is_err());
        assert!(filter_from(&p(&[("from", "whenever")]), &[]).is_err());
        assert!(filter_from(&p(&[("limit", "5")]), &["limit"]).is_ok());
    }
}
