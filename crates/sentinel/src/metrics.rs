//! Sentinel's Prometheus metrics (`/metrics`, OpenMetrics text).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The metric families.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `sentinel_ingest_requests_total{code}`.
    pub ingest_requests: Family<Labels, Counter>,
    /// `sentinel_ingest_events_total{result="stored|duplicate|rejected"}`.
    pub ingest_events: Family<Labels, Counter>,
    /// `sentinel_http_request_duration_seconds{route}`.
    pub request_duration: Family<Labels, Histogram, fn() -> Histogram>,
    /// `sentinel_retention_deleted_events_total`.
    pub retention_deleted: Counter,
    /// `sentinel_sink_dropped_events_total` (in-process sink queue full).
    pub sink_dropped: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every family.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let ingest_requests = Family::<Labels, Counter>::default();
        registry.register(
            "sentinel_ingest_requests",
            "POST /events requests by HTTP status code",
            ingest_requests.clone(),
        );
        let ingest_events = Family::<Labels, Counter>::default();
        registry.register(
            "sentinel_ingest_events",
            "Events received, by result: stored, duplicate (event_id already stored) or rejected (invalid)",
            ingest_events.clone(),
        );
        let request_duration =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(request_histogram);
        registry.register(
            "sentinel_http_request_duration_seconds",
            "HTTP request latency by route",
            request_duration.clone(),
        );
        let retention_deleted = Counter::default();
        registry.register(
            "sentinel_retention_deleted_events",
            "Events deleted by the retention task",
            retention_deleted.clone(),
        );
        let sink_dropped = Counter::default();
        registry.register(
            "sentinel_sink_dropped_events",
            "Events the in-process sink dropped because its queue was full",
            sink_dropped.clone(),
        );
        Self {
            registry,
            ingest_requests,
            ingest_events,
            request_duration,
            retention_deleted,
            sink_dropped,
        }
    }

    /// Counts events by result.
    pub fn events(&self, result: &str, n: u64) {
        if n > 0 {
            self.ingest_events
                .get_or_create(&vec![("result".into(), result.into())])
                .inc_by(n);
        }
    }

    /// Counts an ingest request by status.
    pub fn ingest_request(&self, code: u16) {
        self.ingest_requests
            .get_or_create(&vec![("code".into(), code.to_string())])
            .inc();
    }

    /// Records a request's duration.
    pub fn observe(&self, route: &str, seconds: f64) {
        self.request_duration
            .get_or_create(&vec![("route".into(), route.into())])
            .observe(seconds);
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
