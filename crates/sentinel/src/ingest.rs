//! Parsing and validating `POST /events` bodies: one event or a JSON array of events in the
//! gateway's envelope. Each event is checked on its own, so one bad event never costs the valid
//! ones beside it.

use mcp_runtime_audit::{AuditEvent, ValidationError};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::store::{CheckpointRecord, EventRecord, LinkRecord, ReplayColumns};

/// Most events accepted in one request (the 1 MiB body limit usually binds first).
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;
/// Longest accepted `event_id`.
pub const MAX_EVENT_ID_LEN: usize = 128;

/// Why one event of a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Position of the event in the request (0 for a single event).
    pub index: usize,
    /// Its `event_id`, when it had a readable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The offending field, as a JSON path (`timestamp`, `payload.status`, …).
    pub field: String,
    /// What is wrong with it.
    pub error: String,
}

/// Why a whole request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The body is JSON but neither an object nor an array.
    #[error("expected one event (a JSON object) or a batch (a JSON array of events)")]
    NotAnEvent,
    /// An empty array.
    #[error("the batch is empty")]
    EmptyBatch,
    /// More than [`MAX_EVENTS_PER_REQUEST`] events.
    #[error("a batch holds at most {MAX_EVENTS_PER_REQUEST} events, got {0}")]
    TooManyEvents(usize),
}

/// The outcome of parsing a body: the valid events and the refused ones.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Events received (valid and invalid).
    pub received: usize,
    /// Valid events, ready to store.
    pub records: Vec<EventRecord>,
    /// Valid checkpoint events, ready to store (their signatures not checked yet).
    pub checkpoints: Vec<CheckpointRecord>,
    /// Refused events.
    pub rejected: Vec<Rejection>,
}

/// The trace id of a W3C `traceparent` header (`00-<trace id>-<span id>-<flags>`).
pub fn trace_id_from_traceparent(header: &str) -> Option<String> {
    let mut parts = header.trim().split('-');
    let _version = parts.next().filter(|v| v.len() == 2)?;
    let trace = parts.next()?;
    let valid = trace.len() == 32
        && trace.bytes().all(|b| b.is_ascii_hexdigit())
        && trace.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_ascii_lowercase())
}

/// Parses and validates a request body. Events without a `trace_id` get `trace_id` (from the
/// request's `traceparent`, as MR's ingest does) when given.
///
/// Each event is read straight into its typed form, and its text is stored as received; only an
/// event that this fast path refuses, or that needs a field added, is read again as a generic
/// JSON value, which names the offending field or adds the missing one.
pub fn parse_body(body: &[u8], trace_id: Option<&str>) -> Result<Parsed, BodyError> {
    let invalid_json = |e: serde_json::Error| BodyError::InvalidJson(e.to_string());
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let items: Vec<&RawValue> = match first {
        Some(b'[') => serde_json::from_slice(body).map_err(invalid_json)?,
        Some(b'{') => vec![serde_json::from_slice(body).map_err(invalid_json)?],
        _ => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(invalid_json)?;
            return Err(BodyError::NotAnEvent);
        }
    };
    if items.is_empty() {
        return Err(BodyError::EmptyBatch);
    }
    if items.len() > MAX_EVENTS_PER_REQUEST {
        return Err(BodyError::TooManyEvents(items.len()));
    }
    let mut parsed = Parsed {
        received: items.len(),
        ..Parsed::default()
    };
    for (index, raw) in items.into_iter().enumerate() {
        if let Some(record) = record_from_raw(raw, trace_id) {
            match record {
                Received::Event(record) => parsed.records.push(*record),
                Received::Checkpoint(checkpoint) => parsed.checkpoints.push(checkpoint),
            }
            continue;
        }
        let mut item: Value = match serde_json::from_str(raw.get()) {
            Ok(item) => item,
            Err(e) => {
                parsed.rejected.push(Rejection {
                    index,
                    event_id: None,
                    field: "(event)".into(),
                    error: e.to_string(),
                });
                continue;
            }
        };
        // A chained event is stored exactly as hashed: nothing is added to it.
        let chained = item.get("chain").is_some_and(|c| !c.is_null());
        if let (Some(trace_id), Some(object), false) = (trace_id, item.as_object_mut(), chained) {
            let missing = match object.get("trace_id") {
                None | Some(Value::Null) => true,
                Some(Value::String(t)) => t.is_empty(),
                Some(_) => false,
            };
            if missing {
                object.insert("trace_id".into(), Value::String(trace_id.to_owned()));
            }
        }
        let event_id = item
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match record_from_value(item) {
            Ok(record) => parsed.records.push(record),
            Err((field, error)) => parsed.rejected.push(Rejection {
                index,
                event_id,
                field,
                error,
            }),
        }
    }
    Ok(parsed)
}

/// The fast path: an event that reads as an [`AuditEvent`], passes every check and needs no
/// field added becomes a record holding its text as received. `None` sends it down the slow
/// path ([`record_from_value`]), which gives the authoritative answer.
fn record_from_raw(raw: &RawValue, trace_id: Option<&str>) -> Option<Received> {
    let event: AuditEvent = serde_json::from_str(raw.get()).ok()?;
    let needs_trace_id = trace_id.is_some()
        && event.chain.is_none()
        && event.checkpoint.is_none()
        && event.trace_id.as_deref().is_none_or(str::is_empty);
    if needs_trace_id || check_event_id(&event.event_id).is_err() || event.validate().is_err() {
        return None;
    }
    if event.checkpoint.is_some() {
        return checkpoint_of(event).map(Received::Checkpoint);
    }
    // The typed read skips unknown fields without reading their numbers; the text is stored as
    // received, so it must be text every reader of stored events can read (the slow path
    // refuses such an event, naming the number).
    serde_json::from_str::<Readable>(raw.get()).ok()?;
    record_of(event, raw.get().to_owned())
        .ok()
        .map(|r| Received::Event(Box::new(r)))
}

/// What one valid item of a body is.
enum Received {
    Event(Box<EventRecord>),
    Checkpoint(CheckpointRecord),
}

/// The record of a checkpoint event (`None` when it carries no checkpoint).
fn checkpoint_of(event: AuditEvent) -> Option<CheckpointRecord> {
    let ts_ns = i64::try_from(event.timestamp.as_nanosecond()).ok()?;
    Some(CheckpointRecord {
        event_id: event.event_id,
        ts_ns,
        source: event.source,
        checkpoint: event.checkpoint?,
        signature_valid: None,
    })
}

/// A JSON value read through, numbers included, keeping nothing: `1e999` is out of range for
/// every JSON reader that produces numbers, but not for one that skips a field.
struct Readable;

impl<'de> serde::Deserialize<'de> for Readable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ReadableVisitor)
    }
}

struct ReadableVisitor;

impl<'de> serde::de::Visitor<'de> for ReadableVisitor {
    type Value = Readable;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_str<E>(self, _: &str) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_unit<E>(self) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Readable, A::Error> {
        while seq.next_element::<Readable>()?.is_some() {}
        Ok(Readable)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Readable, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, Readable>()?
            .is_some()
        {}
        Ok(Readable)
    }
}

fn check_event_id(id: &str) -> Result<(), (String, String)> {
    if id.trim().is_empty() {
        return Err(invalid("event_id", "event_id must not be empty"));
    }
    if id.len() > MAX_EVENT_ID_LEN {
        return Err(invalid(
            "event_id",
            format!("event_id is longer than {MAX_EVENT_ID_LEN} bytes"),
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid("event_id", "event_id contains control characters"));
    }
    Ok(())
}

fn invalid(field: &str, error: impl Into<String>) -> (String, String) {
    (field.to_owned(), error.into())
}

fn required_string<'a>(
    object: &'a serde_json::Map<String, Value>,
    field: &str,
) -> Result<&'a str, (String, String)> {
    match object.get(field) {
        None | Some(Value::Null) => Err(invalid(field, format!("{field} is required"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(invalid(field, format!("{field} must not be empty")))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(field, format!("{field} must be a string"))),
    }
}

/// Validates one event (a JSON value) and turns it into a stored record. The error names the
/// offending field. An event without `event_id` gets a fresh UUIDv7 (such events cannot be
/// deduplicated: the gateway always sets one).
pub fn record_from_value(value: Value) -> Result<EventRecord, (String, String)> {
    match received_from_value(value)? {
        Received::Event(record) => Ok(*record),
        Received::Checkpoint(_) => Err(invalid(
            "event_type",
            "a checkpoint event is stored as a checkpoint, not as an event",
        )),
    }
}

fn received_from_value(mut value: Value) -> Result<Received, (String, String)> {
    let Some(object) = value.as_object_mut() else {
        return Err(invalid("(event)", "an event must be a JSON object"));
    };
    match object.get("event_id") {
        None | Some(Value::Null) => {
            object.insert(
                "event_id".into(),
                Value::String(uuid::Uuid::now_v7().to_string()),
            );
        }
        Some(Value::String(id)) => check_event_id(id)?,
        Some(_) => return Err(invalid("event_id", "event_id must be a string")),
    }
    let timestamp = required_string(object, "timestamp")?;
    if timestamp.parse::<jiff::Timestamp>().is_err() {
        return Err(invalid(
            "timestamp",
            format!(
                "timestamp {timestamp:?} is not an RFC 3339 time (e.g. 2026-01-02T03:04:05.678Z)"
            ),
        ));
    }
    required_string(object, "source")?;
    required_string(object, "event_type")?;
    match object.get("trace_id") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(_) => return Err(invalid("trace_id", "trace_id must be a string")),
    }
    let checkpoint = object.get("event_type").and_then(Value::as_str)
        == Some(mcp_runtime_audit::EVENT_TYPE_CHECKPOINT);
    match object.get("payload") {
        // A checkpoint carries its `checkpoint` instead (checked by `validate` below).
        None | Some(Value::Null) if checkpoint => {}
        None | Some(Value::Null) => return Err(invalid("payload", "payload is required")),
        Some(Value::Object(_)) => {}
        Some(_) => return Err(invalid("payload", "payload must be a JSON object")),
    }
    let event: AuditEvent = serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path.is_empty() || path == "." {
            "(event)".to_owned()
        } else {
            path
        };
        let message = format!("{field}: {}", e.into_inner());
        (field, message)
    })?;
    event.validate().map_err(|e| {
        let field = match e {
            ValidationError::MissingSource => "source",
            ValidationError::MissingEventType => "event_type",
            ValidationError::MissingPayload => "payload",
            ValidationError::MissingCheckpoint => "checkpoint",
        };
        invalid(field, e.to_string())
    })?;
    if event.checkpoint.is_some() {
        return checkpoint_of(event)
            .map(Received::Checkpoint)
            .ok_or_else(|| invalid("timestamp", "timestamp is out of range"));
    }
    let json = serde_json::to_string(&value).map_err(|e| invalid("(event)", e.to_string()))?;
    record_of(event, json).map(|r| Received::Event(Box::new(r)))
}

/// The record of a valid event; `json` is its text.
fn record_of(event: AuditEvent, json: String) -> Result<EventRecord, (String, String)> {
    let ts_ns = i64::try_from(event.timestamp.as_nanosecond())
        .map_err(|_| invalid("timestamp", "timestamp is out of range"))?;
    let chain = match event.chain {
        None => None,
        Some(link) => {
            // The hash of the event exactly as received: what a later verification compares.
            let value: Value =
                serde_json::from_str(&json).map_err(|e| invalid("(event)", e.to_string()))?;
            Some(LinkRecord {
                chain_id: link.id,
                seq: i64::try_from(link.seq)
                    .map_err(|_| invalid("chain.seq", "chain.seq is out of range"))?,
                prev_hash: link.prev_hash,
                hash: mcp_runtime_audit::chain::event_hash(&value),
            })
        }
    };
    let payload = event.payload.unwrap_or_default();
    let replay = ReplayColumns::of(&payload);
    Ok(EventRecord {
        event_id: event.event_id,
        ts_ns,
        trace_id: event.trace_id.filter(|t| !t.is_empty()),
        source: event.source,
        event_type: event.event_type,
        server: payload.server,
        namespace: payload.namespace,
        cluster: payload.cluster,
        team_id: payload.team_id,
        human_id: payload.human_id,
        agent_id: payload.agent_id,
        session_id: payload.session_id,
        decision: match payload.decision {
            mcp_runtime_audit::Decision::Allow => "allow".into(),
            mcp_runtime_audit::Decision::Deny => "deny".into(),
        },
        reason: payload.reason,
        tool_name: payload.tool_name.unwrap_or_default(),
        rpc_method: payload.rpc_method.unwrap_or_default(),
        status: i64::from(payload.status),
        latency_ms: i64::try_from(payload.latency_ms).unwrap_or(i64::MAX),
        json,
        replay,
        chain,
    })
}

/// The checkpoint record of a valid checkpoint event handed over in process.
pub fn checkpoint_from_event(event: &AuditEvent) -> Option<CheckpointRecord> {
    if event.validate().is_err() || check_event_id(&event.event_id).is_err() {
        return None;
    }
    checkpoint_of(event.clone())
}

/// Turns an [`AuditEvent`] handed over in process into a record (it is validated the same way).
pub fn record_from_event(event: &AuditEvent) -> Result<EventRecord, (String, String)> {
    if check_event_id(&event.event_id).is_ok() && event.validate().is_ok() {
        let json = serde_json::to_string(event).map_err(|e| invalid("(event)", e.to_string()))?;
        return record_of(event.clone(), json);
    }
    // Events without an id get one, and invalid ones get the named error, on the slow path.
    let value = serde_json::to_value(event).map_err(|e| invalid("(event)", e.to_string()))?;
    record_from_value(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn good(id: &str) -> Value {
        json!({
            "event_id": id,
            "timestamp": "2026-03-01T10:00:00.123456789Z",
            "source": "files-gateway",
            "event_type": "mcp.request",
            "payload": {"server": "files", "agent_id": "claude", "decision": "deny",
                        "reason": "trust_too_low", "tool_name": "read_file", "status": 403,
                        "extra_field": "kept"}
        })
    }

    fn field_of(mut v: Value, edit: impl FnOnce(&mut Value)) -> String {
        edit(&mut v);
        record_from_value(v).unwrap_err().0
    }

    /// Found by fuzzing: a number out of range in a field the typed read skips was stored by the
    /// fast path as received, though no reader of stored events (nor the slow path) can read it.
    #[test]
    fn an_out_of_range_number_in_an_unknown_field_is_refused_by_both_paths() {
        let body = br#"[{"event_id": "0190a5db1d", "timestamp": "2026-07-01T12:00:00.123456789Z", "source": "filesway", "event_type": "mcp.request", "payload": {"": 2E588888888888, "latency_ms": 12, "": "tools/call"}, "d8448eb211ime": "01bc"}]"#;
        for trace_id in [None, Some("4bf92f3577b34da6a3ce929d0e0e4736")] {
            let parsed = parse_body(body, trace_id).unwrap();
            assert!(parsed.records.is_empty(), "{:?}", parsed.records);
            assert_eq!(parsed.rejected.len(), 1);
            assert_eq!(parsed.rejected[0].field, "(event)");
            assert!(
                parsed.rejected[0].error.contains("number out of range"),
                "{}",
                parsed.rejected[0].error
            );
        }
        // In range, the same event is kept, and what is stored reads back.
        let body = String::from_utf8_lossy(body).replace("2E588888888888", "2E58");
        let parsed = parse_body(body.as_bytes(), None).unwrap();
        assert_eq!(parsed.records.len(), 1);
        serde_json::from_str::<Value>(&parsed.records[0].json).unwrap();
    }

    #[test]
    fn a_valid_event_is_denormalized_and_kept_whole() {
        let r = record_from_value(good("e1")).unwrap();
        assert_eq!(r.event_id, "e1");
        assert_eq!(r.server, "files");
        assert_eq!(r.decision, "deny");
        assert_eq!(r.tool_name, "read_file");
        assert_eq!(r.status, 403);
        assert_eq!(r.ts_ns % 1_000_000_000, 123_456_789);
        let kept: Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(kept["payload"]["extra_field"], "kept");
    }

    #[test]
    fn each_malformed_field_is_named() {
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "timestamp",
                Box::new(|v| drop(v.as_object_mut().unwrap().remove("timestamp"))),
            ),
            (
                "timestamp",
                Box::new(|v| v["timestamp"] = json!("yesterday")),
            ),
            ("source", Box::new(|v| v["source"] = json!(""))),
            (
                "source",
                Box::new(|v| drop(v.as_object_mut().unwrap().remove("source"))),
            ),
            ("event_type", Box::new(|v| v["event_type"] = json!(7))),
            ("payload", Box::new(|v| v["payload"] = Value::Null)),
            ("payload", Box::new(|v| v["payload"] = json!("x"))),
            (
                "payload.status",
                Box::new(|v| v["payload"]["status"] = json!("ok")),
            ),
            (
                "payload.decision",
                Box::new(|v| v["payload"]["decision"] = json!("maybe")),
            ),
            ("event_id", Box::new(|v| v["event_id"] = json!(""))),
            ("event_id", Box::new(|v| v["event_id"] = json!(12))),
            (
                "event_id",
                Box::new(|v| v["event_id"] = json!("x".repeat(200))),
            ),
            ("trace_id", Box::new(|v| v["trace_id"] = json!([]))),
        ];
        for (want, edit) in cases {
            assert_eq!(field_of(good("e"), edit), want);
        }
        assert_eq!(record_from_value(json!(3)).unwrap_err().0, "(event)");
    }

    #[test]
    fn a_missing_event_id_is_assigned() {
        let mut v = good("x");
        v.as_object_mut().unwrap().remove("event_id");
        let r = record_from_value(v).unwrap();
        assert_eq!(
            uuid::Uuid::parse_str(&r.event_id)
                .unwrap()
                .get_version_num(),
            7
        );
        let kept: Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(kept["event_id"], r.event_id.as_str());
    }

    #[test]
    fn a_batch_keeps_its_valid_events() {
        let mut bad = good("b");
        bad["timestamp"] = json!(1);
        let body = serde_json::to_vec(&json!([good("a"), bad, good("c")])).unwrap();
        let parsed = parse_body(&body, None).unwrap();
        assert_eq!(parsed.received, 3);
        let ids: Vec<&str> = parsed.records.iter().map(|r| r.event_id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].index, 1);
        assert_eq!(parsed.rejected[0].field, "timestamp");
        assert_eq!(parsed.rejected[0].event_id.as_deref(), Some("b"));
        assert!(matches!(
            parse_body(b"{nope", None),
            Err(BodyError::InvalidJson(_))
        ));
        assert_eq!(parse_body(b"[]", None).unwrap_err(), BodyError::EmptyBatch);
        assert_eq!(
            parse_body(b"\"x\"", None).unwrap_err(),
            BodyError::NotAnEvent
        );
    }

    #[test]
    fn traceparent_fills_missing_trace_ids() {
        let header = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
        let trace = trace_id_from_traceparent(header).unwrap();
        assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(trace_id_from_traceparent("00-0000-1-01"), None);
        assert_eq!(
            trace_id_from_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        let mut own = good("b");
        own["trace_id"] = json!("mine");
        let body = serde_json::to_vec(&json!([good("a"), own])).unwrap();
        let parsed = parse_body(&body, Some(&trace)).unwrap();
        assert_eq!(parsed.records[0].trace_id.as_deref(), Some(trace.as_str()));
        assert_eq!(parsed.records[1].trace_id.as_deref(), Some("mine"));
        let kept: Value = serde_json::from_str(&parsed.records[0].json).unwrap();
        assert_eq!(kept["trace_id"], trace.as_str());
    }

    #[test]
    fn the_fast_path_agrees_with_the_slow_one_and_keeps_the_text() {
        // Odd spacing shows which path ran: the fast path stores the text as received.
        let spaced = format!("[ {} ]", serde_json::to_string_pretty(&good("a")).unwrap());
        let parsed = parse_body(spaced.as_bytes(), None).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let fast = &parsed.records[0];
        assert!(fast.json.contains('\n'), "kept as received: {}", fast.json);
        let slow = record_from_value(good("a")).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&fast.json).unwrap(),
            serde_json::from_str::<Value>(&slow.json).unwrap()
        );
        assert_eq!(
            EventRecord {
                json: String::new(),
                ..fast.clone()
            },
            EventRecord {
                json: String::new(),
                ..slow
            }
        );
        // Events the fast path cannot take whole still come through, by the slow path.
        let mut no_id = good("x");
        no_id.as_object_mut().unwrap().remove("event_id");
        let blank_source = {
            let mut e = good("y");
            e["source"] = json!("  ");
            e
        };
        let body = serde_json::to_vec(&json!([no_id, blank_source])).unwrap();
        let parsed = parse_body(&body, None).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert!(!parsed.records[0].event_id.is_empty());
        assert_eq!(parsed.rejected[0].field, "source");
    }
}
