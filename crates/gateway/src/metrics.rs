//! Prometheus metrics with the Go mcp-runtime gateway's names (`mcp_gateway_*`) and bounded
//! label values, so existing dashboards and alerts keep working.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// The server labels every series carries.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabelSet {
    pub namespace: String,
    pub server: String,
    pub cluster: String,
    pub team_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    namespace: String,
    server: String,
    cluster: String,
    team_id: String,
    method: &'static str,
    rpc_method: &'static str,
    decision: &'static str,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    namespace: String,
    server: String,
    cluster: String,
    team_id: String,
    decision: &'static str,
    reason: &'static str,
    rpc_method: &'static str,
}

/// The label values of a request series that vary from request to request.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct SeriesKey {
    /// [`method_label`] of the HTTP method.
    method: &'static str,
    rpc_method: &'static str,
    decision: &'static str,
    reason: Option<&'static str>,
    status: u16,
}

/// Handles to the series of one label combination (clones share the counts).
#[derive(Debug)]
struct Series {
    requests: Counter,
    duration: Histogram,
    request_bytes: Counter,
    response_bytes: Counter,
    /// `mcp_gateway_policy_decisions`, for decided tool calls and denials only.
    decisions: Option<Counter>,
}

/// Bound on the cached label combinations.
const SERIES_CACHE_LIMIT: usize = 1024;

/// MR's bounded set of `rpc_method` label values; anything else is `other`.
const KNOWN_METHODS: [&str; 13] = [
    "initialize",
    "notifications/initialized",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];

/// The HTTP method as a bounded label value: the methods of RFC 9110 (and `PATCH`); any
/// extension method a client makes up is `other`, so it cannot add series without end.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

/// Maps a JSON-RPC method to a bounded label value (`none` when there is no method).
pub fn rpc_method_label(method: Option<&str>) -> &'static str {
    match method {
        None => "none",
        Some(method) => KNOWN_METHODS
            .iter()
            .find(|known| **known == method)
            .copied()
            .unwrap_or("other"),
    }
}

/// Reload outcomes by result, read at scrape time from the policy source.
pub type ReloadCounter = Box<dyn Fn() -> Vec<(&'static str, u64)> + Send + Sync>;

/// The gateway's metrics.
pub struct GatewayMetrics {
    registry: Registry,
    server: ServerLabelSet,
    requests: Family<RequestLabels, Counter>,
    duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
    request_bytes: Family<RequestLabels, Counter>,
    response_bytes: Family<RequestLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    /// The one series of `inflight` (the server labels never change).
    inflight_gauge: Gauge,
    /// The metric handles of each label combination seen so far (see [`GatewayMetrics::series`]).
    series: Mutex<HashMap<SeriesKey, Arc<Series>>>,
    accept_errors: Counter,
    reloads: Option<ReloadCounter>,
    audit_dropped: Option<DroppedCounter>,
    policy_sources: Option<PolicySourceGauges>,
}

/// Read at scrape time from the policy store: each live source as `(label, up, seconds since
/// it last confirmed it was up to date)`, and the age of the active policy in seconds.
pub type PolicySourceGauges =
    Box<dyn Fn() -> (Vec<(&'static str, bool, Option<f64>)>, Option<f64>) + Send + Sync>;

/// Reads how many audit events were dropped (spool full or unwritable).
pub type DroppedCounter = Box<dyn Fn() -> u64 + Send + Sync>;

impl std::fmt::Debug for GatewayMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayMetrics")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

fn default_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// One finished request, as the metrics see it.
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    pub method: &'a str,
    pub rpc_method: Option<&'a str>,
    /// `allow`, `deny`, or `none` for requests that were not decided.
    pub decision: &'static str,
    /// MR reason code, when decided.
    pub reason: Option<&'static str>,
    pub status: u16,
    pub seconds: f64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl GatewayMetrics {
    /// Metrics for one server; `reloads` reports policy reloads by result.
    pub fn new(server: ServerLabelSet, reloads: Option<ReloadCounter>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            default_buckets as fn() -> Histogram,
        );
        let request_bytes = Family::<RequestLabels, Counter>::default();
        let response_bytes = Family::<RequestLabels, Counter>::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        let inflight = Family::<ServerLabelSet, Gauge>::default();
        registry.register(
            "mcp_gateway_requests",
            "MCP gateway requests",
            requests.clone(),
        );
        registry.register(
            "mcp_gateway_request_duration_seconds",
            "MCP gateway request latency",
            duration.clone(),
        );
        registry.register(
            "mcp_gateway_request_bytes",
            "Request body bytes",
            request_bytes.clone(),
        );
        registry.register(
            "mcp_gateway_response_bytes",
            "Response body bytes",
            response_bytes.clone(),
        );
        registry.register(
            "mcp_gateway_policy_decisions",
            "Policy decisions",
            decisions.clone(),
        );
        registry.register(
            "mcp_gateway_inflight_requests",
            "Requests in flight",
            inflight.clone(),
        );
        let accept_errors = Counter::default();
        registry.register(
            "mcp_gateway_accept_errors",
            "Failed accepts of new connections (out of file descriptors, connection aborted); each is retried",
            accept_errors.clone(),
        );
        let inflight_gauge = inflight.get_or_create(&server).clone();
        GatewayMetrics {
            registry,
            server,
            inflight_gauge,
            series: Mutex::new(HashMap::new()),
            requests,
            duration,
            request_bytes,
            response_bytes,
            decisions,
            accept_errors,
            reloads,
            audit_dropped: None,
            policy_sources: None,
        }
    }

    /// Also exposes `mcp_gateway_audit_dropped_events_total`, read from `dropped` at each
    /// scrape, so that an audit event lost to a full spool is never silent.
    #[must_use]
    pub fn with_audit_dropped(mut self, dropped: DroppedCounter) -> Self {
        self.audit_dropped = Some(dropped);
        self
    }

    /// Also exposes `mcp_gateway_policy_source_up{source}`,
    /// `mcp_gateway_policy_source_age_seconds{source}` and `mcp_gateway_policy_age_seconds`,
    /// read from `gauges` at each scrape, so a gateway cut off from its policy source is visible.
    #[must_use]
    pub fn with_policy_sources(mut self, gauges: PolicySourceGauges) -> Self {
        self.policy_sources = Some(gauges);
        self
    }

    /// The counter of failed accepts, for the accept loops of the gateway's listeners.
    pub fn accept_errors(&self) -> Counter {
        self.accept_errors.clone()
    }

    /// Marks a request as started; the guard marks it finished when dropped.
    pub fn start(&self) -> InflightGuard<'_> {
        self.inflight_gauge.inc();
        InflightGuard(self)
    }

    /// Records a finished request.
    pub fn observe(&self, observation: &Observation<'_>) {
        let rpc_method = rpc_method_label(observation.rpc_method);
        let key = SeriesKey {
            method: method_label(observation.method),
            rpc_method,
            decision: observation.decision,
            reason: observation.reason,
            status: observation.status,
        };
        let series = self.series(&key);
        series.requests.inc();
        series.duration.observe(observation.seconds);
        series.request_bytes.inc_by(observation.bytes_in);
        series.response_bytes.inc_by(observation.bytes_out);
        if let Some(decisions) = &series.decisions {
            decisions.inc();
        }
    }

    /// The series of one label combination. Looked up in a small cache keyed by the label
    /// values that vary, so a request pays one hash of a few short fields instead of building
    /// and hashing the full label sets of five families (with their string copies).
    fn series(&self, key: &SeriesKey) -> Arc<Series> {
        let mut cache = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = cache.get(key) {
            return series.clone();
        }
        let server = &self.server;
        let labels = RequestLabels {
            namespace: server.namespace.clone(),
            server: server.server.clone(),
            cluster: server.cluster.clone(),
            team_id: server.team_id.clone(),
            method: key.method,
            rpc_method: key.rpc_method,
            decision: key.decision,
            status: key.status.to_string(),
        };
        let decisions = key
            .reason
            .filter(|_| key.rpc_method == "tools/call" || key.decision == "deny")
            .map(|reason| {
                let labels = DecisionLabels {
                    namespace: server.namespace.clone(),
                    server: server.server.clone(),
                    cluster: server.cluster.clone(),
                    team_id: server.team_id.clone(),
                    decision: key.decision,
                    reason,
                    rpc_method: key.rpc_method,
                };
                self.decisions.get_or_create(&labels).clone()
            });
        let series = Arc::new(Series {
            requests: self.requests.get_or_create(&labels).clone(),
            duration: self.duration.get_or_create(&labels).clone(),
            request_bytes: self.request_bytes.get_or_create(&labels).clone(),
            response_bytes: self.response_bytes.get_or_create(&labels).clone(),
            decisions,
        });
        // Every label is bounded, but their product is large: the cache starts over when full
        // (the series themselves stay registered).
        if cache.len() >= SERIES_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(*key, series.clone());
        series
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            return String::new();
        }
        // Counters read from elsewhere at scrape time, appended before the OpenMetrics
        // terminator in the same text format.
        let mut tail = String::new();
        if let Some(reloads) = &self.reloads {
            tail.push_str(
                "# HELP mcp_gateway_policy_reload Policy reloads by result.\n# TYPE mcp_gateway_policy_reload counter\n",
            );
            for (result, count) in reloads() {
                let _ = writeln!(
                    tail,
                    "mcp_gateway_policy_reload_total{{result=\"{result}\"}} {count}"
                );
            }
        }
        if let Some(dropped) = &self.audit_dropped {
            let _ = write!(
                tail,
                "# HELP mcp_gateway_audit_dropped_events Audit events dropped because the spool was full or unwritable.\n\
                 # TYPE mcp_gateway_audit_dropped_events counter\n\
                 mcp_gateway_audit_dropped_events_total {}\n",
                dropped()
            );
        }
        if let Some(gauges) = &self.policy_sources {
            let (sources, policy_age) = gauges();
            if !sources.is_empty() {
                tail.push_str(
                    "# HELP mcp_gateway_policy_source_up Whether a live policy source (the API watch) is connected and up to date.\n\
                     # TYPE mcp_gateway_policy_source_up gauge\n",
                );
                for (source, up, _) in &sources {
                    let _ = writeln!(
                        tail,
                        "mcp_gateway_policy_source_up{{source=\"{source}\"}} {}",
                        u8::from(*up)
                    );
                }
                tail.push_str(
                    "# HELP mcp_gateway_policy_source_age_seconds Seconds since a live policy source last confirmed it was up to date.\n\
                     # TYPE mcp_gateway_policy_source_age_seconds gauge\n",
                );
                for (source, _, age) in &sources {
                    if let Some(age) = age {
                        let _ = writeln!(
                            tail,
                            "mcp_gateway_policy_source_age_seconds{{source=\"{source}\"}} {age:.3}"
                        );
                    }
                }
            }
            if let Some(age) = policy_age {
                let _ = write!(
                    tail,
                    "# HELP mcp_gateway_policy_age_seconds Seconds since the active policy was swapped in.\n\
                     # TYPE mcp_gateway_policy_age_seconds gauge\n\
                     mcp_gateway_policy_age_seconds {age:.3}\n"
                );
            }
        }
        if !tail.is_empty() {
            let body = out.strip_suffix("# EOF\n").unwrap_or(&out).to_owned();
            out = format!("{body}{tail}# EOF\n");
        }
        out
    }
}

/// Decrements the in-flight gauge when dropped.
#[derive(Debug)]
pub struct InflightGuard<'a>(&'a GatewayMetrics);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.inflight_gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_audit_events_are_exposed_before_the_terminator() {
        let metrics = GatewayMetrics::new(
            ServerLabelSet {
                namespace: "ns".into(),
                server: "files".into(),
                cluster: "c".into(),
                team_id: "t".into(),
            },
            None,
        )
        .with_audit_dropped(Box::new(|| 3));
        let text = metrics.encode();
        assert!(
            text.contains("# TYPE mcp_gateway_audit_dropped_events counter\nmcp_gateway_audit_dropped_events_total 3\n"),
            "{text}"
        );
        assert!(text.ends_with("mcp_gateway_audit_dropped_events_total 3\n# EOF\n"));
        assert_eq!(text.matches("# EOF").count(), 1);
    }

    #[test]
    fn rpc_method_labels_are_bounded() {
        assert_eq!(rpc_method_label(Some("tools/call")), "tools/call");
        assert_eq!(rpc_method_label(Some("tools/call/../x")), "other");
        assert_eq!(rpc_method_label(None), "none");
    }

    #[test]
    fn observations_appear_with_mr_names() {
        let metrics = GatewayMetrics::new(
            ServerLabelSet {
                server: "files".into(),
                ..ServerLabelSet::default()
            },
            Some(Box::new(|| vec![("success", 2), ("failure", 1)])),
        );
        {
            let _guard = metrics.start();
            metrics.observe(&Observation {
                method: "POST",
                rpc_method: Some("tools/call"),
                decision: "deny",
                reason: Some("tool_denied"),
                status: 200,
                seconds: 0.002,
                bytes_in: 90,
                bytes_out: 120,
            });
        }
        let text = metrics.encode();
        assert!(text.contains("mcp_gateway_requests_total{"), "{text}");
        assert!(
            text.contains(r#"rpc_method="tools/call",decision="deny",status="200"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"mcp_gateway_policy_decisions_total{namespace="",server="files",cluster="",team_id="",decision="deny",reason="tool_denied",rpc_method="tools/call"} 1"#), "{text}");
        assert!(
            text.contains("mcp_gateway_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains(r#"mcp_gateway_inflight_requests{namespace="",server="files",cluster="",team_id=""} 0"#), "{text}");
        assert!(
            text.contains(r#"mcp_gateway_policy_reload_total{result="success"} 2"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
