//! The span each request runs in: a request id, and the W3C trace id of the caller's
//! `traceparent` header when it carries a well-formed one, so the gateway's log lines can be
//! joined with the caller's and the upstream's traces.

use http::Request;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::field::Empty;

/// Request ids: unique in the process, in arrival order.
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// The span of one request. Its fields are computed only when a subscriber wants the span, so
/// a gateway logging at the default level pays nothing for it.
pub(crate) fn span<B>(request: &Request<B>) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        id = Empty,
        trace_id = Empty,
        method = %request.method(),
        path = request.uri().path(),
    );
    if !span.is_disabled() {
        span.record("id", NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed));
        if let Some(trace_id) = request
            .headers()
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .and_then(trace_id)
        {
            span.record("trace_id", trace_id);
        }
    }
    span
}

/// The trace id of a W3C `traceparent` value (`version-traceid-parentid-flags`, lowercase hex),
/// or `None` when the value is not well-formed: version `ff`, an all-zero trace or parent id,
/// upper-case hex, or (version `00`) anything after the flags are refused, as the W3C Trace
/// Context recommendation says. A later version may append fields after another `-`.
pub(crate) fn trace_id(traceparent: &str) -> Option<&str> {
    let value = traceparent.trim();
    let bytes = value.as_bytes();
    if bytes.len() < 55 {
        return None;
    }
    let hex = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    let dashes = bytes[2] == b'-' && bytes[35] == b'-' && bytes[52] == b'-';
    if !dashes || !hex(0..2) || !hex(3..35) || !hex(36..52) || !hex(53..55) {
        return None;
    }
    let version = &value[0..2];
    match (version, bytes.len()) {
        ("ff", _) => return None,
        ("00", 55) => {}
        ("00", _) => return None,
        (_, 55) => {}
        (_, _) if bytes[55] == b'-' => {}
        _ => return None,
    }
    let trace_id = &value[3..35];
    let parent_id = &value[36..52];
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    (!zero(trace_id) && !zero(parent_id)).then_some(trace_id)
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    #[test]
    fn a_well_formed_traceparent_gives_its_trace_id() {
        let cases = [
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            ),
            // A later version may carry more fields.
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra",
                Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            ),
            // Malformed: refused.
            ("", None),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", None),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                None,
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                None,
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                None,
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                None,
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(trace_id(value), expected, "{value:?}");
        }
    }
}
