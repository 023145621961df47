//! Sentinel's event decoder: the body of `POST /events` (one event or a batch, read by
//! `ingest::parse_body`), and the audit event type it reads into (`AuditEvent`).
//!
//! Input: a request body. It is read without a `traceparent` and with one.
//!
//! Beyond "never panics", what must hold:
//! * every event received is either kept or refused with its index and a field name, in order;
//! * a kept event's stored JSON, read again on the slow path, gives the same record (the fast path
//!   that keeps the text as received agrees with the authoritative one);
//! * an `AuditEvent` that deserialises round-trips through its JSON form.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime_audit::AuditEvent;
use mcp_runtime_sentinel::ingest::{parse_body, record_from_value};
use serde_json::Value;
use serde_json::value::RawValue;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn check_audit_event(text: &str) {
    let Ok(event) = serde_json::from_str::<AuditEvent>(text) else {
        return;
    };
    let _ = event.validate();
    let written = serde_json::to_string(&event).expect("an audit event serialises");
    let reread: AuditEvent = serde_json::from_str(&written)
        .unwrap_or_else(|error| panic!("written back, it is refused: {error}\n{written}"));
    assert_eq!(reread, event, "written back, it reads differently");
}

fuzz_target!(|data: &[u8]| {
    for trace_id in [None, Some(TRACE_ID)] {
        let Ok(parsed) = parse_body(data, trace_id) else {
            continue;
        };
        assert_eq!(
            parsed.received,
            parsed.records.len() + parsed.rejected.len(),
            "an event was neither kept nor refused"
        );
        let mut last_index = None;
        for rejection in &parsed.rejected {
            assert!(rejection.index < parsed.received);
            assert!(
                last_index < Some(rejection.index),
                "rejections out of order"
            );
            last_index = Some(rejection.index);
            assert!(!rejection.field.is_empty() && !rejection.error.is_empty());
        }
        for record in &parsed.records {
            let value: Value = serde_json::from_str(&record.json)
                .unwrap_or_else(|error| panic!("a kept event's JSON is unreadable: {error}"));
            assert!(value.is_object());
            let mut slow = record_from_value(value).unwrap_or_else(|(field, error)| {
                panic!("a kept event is refused on the slow path at {field}: {error}")
            });
            slow.json.clone_from(&record.json);
            assert_eq!(&slow, record, "the fast and the slow path disagree");
            if trace_id.is_some() {
                assert!(record.trace_id.is_some(), "the traceparent was not applied");
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match serde_json::from_str::<Vec<&RawValue>>(text) {
        Ok(items) => items.iter().for_each(|item| check_audit_event(item.get())),
        Err(_) => check_audit_event(text),
    }
});
