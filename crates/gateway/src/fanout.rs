//! Audit events to several sinks at once (stdout and the Sentinel ingest).

use mcp_runtime_audit::{AuditEvent, AuditSink};
use std::sync::Arc;

/// Sends each event to every sink, in order.
#[derive(Clone)]
pub struct FanOut(Vec<Arc<dyn AuditSink>>);

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("sinks", &self.0.len())
            .finish()
    }
}

impl FanOut {
    /// One sink for `sinks`: none for none, the sink itself for one, a fan-out for more.
    pub fn combine(mut sinks: Vec<Arc<dyn AuditSink>>) -> Option<Arc<dyn AuditSink>> {
        match sinks.len() {
            0 => None,
            1 => sinks.pop(),
            _ => Some(Arc::new(FanOut(sinks))),
        }
    }
}

impl AuditSink for FanOut {
    fn emit(&self, event: AuditEvent) {
        if let Some((last, rest)) = self.0.split_last() {
            for sink in rest {
                sink.emit(event.clone());
            }
            last.emit(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_runtime_audit::RequestPayload;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recording(Mutex<Vec<String>>);

    impl AuditSink for Recording {
        fn emit(&self, event: AuditEvent) {
            let method = event.payload.map(|p| p.method).unwrap_or_default();
            self.0.lock().expect("lock").push(method);
        }
    }

    #[test]
    fn every_sink_gets_every_event() {
        let (a, b) = (
            Arc::new(Recording::default()),
            Arc::new(Recording::default()),
        );
        let sink = FanOut::combine(vec![a.clone(), b.clone()]).expect("a sink");
        for method in ["GET", "POST"] {
            let payload = RequestPayload {
                method: method.into(),
                ..RequestPayload::default()
            };
            sink.emit(AuditEvent::new("s", "t", payload));
        }
        assert_eq!(*a.0.lock().expect("lock"), ["GET", "POST"]);
        assert_eq!(*b.0.lock().expect("lock"), ["GET", "POST"]);
        assert!(FanOut::combine(Vec::new()).is_none());
    }
}
