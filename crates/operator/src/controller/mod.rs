//! The three controllers and what they share.
//!
//! - [`server`]: MCPServer → validate → dereference → render policy → build → apply (SSA) →
//!   prune → status. It watches its children (`owns`) and the ConfigMaps its pods reference
//!   (config hash), metadata-only; the grants and sessions that reference a server trigger it
//!   through their `serverRef` index, so a grant change re-renders only its server.
//! - [`access`]: MCPAccessGrant and MCPAgentSession status (ServerFound; Active / Expired /
//!   Revoked with a requeue at the expiry time).
//! - [`shared`]: one reflector per kind (MCPServer, MCPAccessGrant, MCPAgentSession) for the
//!   whole process, fanned out to the controllers, with the `serverRef` index kept in step.

pub mod access;
pub mod echo;
mod error;
pub mod server;
pub mod shared;

pub use error::{Error, OwnershipConflict, ValidationError};

use crate::config::OperatorConfig;
use crate::handshake::Handshake;
use jiff::Timestamp;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::Event as WatchEvent;
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer, ServerRef};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The time source; tests may substitute their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Wall-clock time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Backoff of a `Controller`'s trigger streams and of the watch streams given to it. kube-runtime applies one backoff to the merged
/// watch streams of a controller (its own, `owns`, `watches`, `reconcile_on`). Its default (up to
/// 30 s, reset only after 120 s without errors) turned an API server restart into minutes without
/// reconciles: every watch broken by the restart reports its error in turn, and each error
/// paused *all* triggers for up to 30 s. Short and capped at 1 s, reconnect attempts stay at
/// about one a second while the API server is away, and a restart costs seconds.
#[derive(Clone, Copy, Debug)]
pub struct TriggerBackoff {
    next: Duration,
}

impl TriggerBackoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(1);
}

impl Default for TriggerBackoff {
    fn default() -> Self {
        TriggerBackoff { next: Self::FIRST }
    }
}

impl Iterator for TriggerBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (current * 2).min(Self::MAX);
        Some(current)
    }
}

impl kube::runtime::utils::Backoff for TriggerBackoff {
    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: String,
    pub error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    pub name: String,
    pub namespace: String,
    #[prometheus(flatten)]
    pub condition: ConditionValue,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionValue {
    pub r#type: String,
    pub status: String,
    pub reason: String,
}

/// The operator's Prometheus metrics.
#[derive(Debug)]
pub struct Metrics {
    pub registry: Mutex<Registry>,
    pub reconciles: Family<ControllerLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub duration: Family<ControllerLabels, Histogram>,
    pub conditions: Family<ConditionLabels, Gauge>,
    /// The condition series currently set per server, to remove them on change and deletion.
    condition_series: Mutex<HashMap<(String, String), Vec<ConditionLabels>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("mcp_runtime_operator");
        let reconciles = Family::<ControllerLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration = Family::<ControllerLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let conditions = Family::<ConditionLabels, Gauge>::default();
        registry.register(
            "reconciles",
            "Reconciles run, per controller",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconciles that failed, per controller and error kind",
            errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration, per controller",
            duration.clone(),
        );
        registry.register(
            "mcpserver_condition_info",
            "MCPServer conditions (always 1), by type, status and reason",
            conditions.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            reconciles,
            errors,
            duration,
            conditions,
            condition_series: Mutex::default(),
        }
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Metrics {
    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    /// Replaces the condition series of one server (an empty list removes them).
    pub fn set_conditions(&self, namespace: &str, name: &str, values: Vec<ConditionValue>) {
        let key = (namespace.to_owned(), name.to_owned());
        let mut series = self
            .condition_series
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for old in series.remove(&key).unwrap_or_default() {
            self.conditions.remove(&old);
        }
        let labels: Vec<ConditionLabels> = values
            .into_iter()
            .map(|condition| ConditionLabels {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                condition,
            })
            .collect();
        for l in &labels {
            self.conditions.get_or_create(l).set(1);
        }
        if !labels.is_empty() {
            series.insert(key, labels);
        }
    }

    /// Counter value, for tests.
    pub fn error_count(&self, controller: &str) -> u64 {
        let series = self.errors.clone();
        [
            "conflict",
            "server_error",
            "not_found",
            "forbidden",
            "api_error",
            "client_error",
        ]
        .iter()
        .map(|e| {
            series
                .get_or_create(&ErrorLabels {
                    controller: controller.into(),
                    error: (*e).into(),
                })
                .get()
        })
        .sum()
    }
}

/// `serverRef` → the grants (or sessions) referencing it, kept up to date from the watch events
/// of the reflector that also feeds the store, so a change maps to exactly the servers concerned:
/// the one referenced now and, when the reference moved or the object was deleted, the previous
/// one.
#[derive(Debug)]
pub struct RefIndex<K: kube::Resource<DynamicType = ()>> {
    inner: Mutex<IndexInner<K>>,
}

#[derive(Debug)]
struct IndexInner<K: kube::Resource<DynamicType = ()>> {
    by_server: HashMap<ObjectRef<MCPServer>, HashSet<ObjectRef<K>>>,
    server_of: HashMap<ObjectRef<K>, ObjectRef<MCPServer>>,
}

impl<K: kube::Resource<DynamicType = ()>> Default for RefIndex<K> {
    fn default() -> Self {
        RefIndex {
            inner: Mutex::new(IndexInner {
                by_server: HashMap::new(),
                server_of: HashMap::new(),
            }),
        }
    }
}

impl<K: kube::Resource<DynamicType = ()>> RefIndex<K> {
    /// Records that `object` now references `server` (or, when `server` is `None`, that it is
    /// gone) and returns every server affected.
    pub fn update(
        &self,
        object: ObjectRef<K>,
        server: Option<ObjectRef<MCPServer>>,
    ) -> Vec<ObjectRef<MCPServer>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut affected = Vec::new();
        if let Some(previous) = inner.server_of.remove(&object) {
            if let Some(set) = inner.by_server.get_mut(&previous) {
                set.remove(&object);
                if set.is_empty() {
                    inner.by_server.remove(&previous);
                }
            }
            affected.push(previous);
        }
        if let Some(server) = server {
            inner
                .by_server
                .entry(server.clone())
                .or_default()
                .insert(object.clone());
            inner.server_of.insert(object, server.clone());
            if !affected.contains(&server) {
                affected.push(server);
            }
        }
        affected
    }

    /// Replaces the whole index with `present` (every object of a fresh list and the server it
    /// references) and returns every server referenced before or after: objects changed or
    /// deleted while the watch was away are only known from the list as a whole.
    pub fn relisted(
        &self,
        present: impl IntoIterator<Item = (ObjectRef<K>, ObjectRef<MCPServer>)>,
    ) -> Vec<ObjectRef<MCPServer>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut affected: HashSet<ObjectRef<MCPServer>> = inner.by_server.keys().cloned().collect();
        inner.by_server.clear();
        inner.server_of.clear();
        for (object, server) in present {
            inner
                .by_server
                .entry(server.clone())
                .or_default()
                .insert(object.clone());
            inner.server_of.insert(object, server.clone());
            affected.insert(server);
        }
        affected.into_iter().collect()
    }

    /// The objects referencing `server`.
    pub fn referencing(&self, server: &ObjectRef<MCPServer>) -> Vec<ObjectRef<K>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .by_server
            .get(server)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The objects a reflected watch has settled on, for `Controller::for_stream`: each object as it
/// is applied, and at the end of every (re)list every object in the store.
///
/// `applied_objects()` would yield a relist's objects as they arrive (`InitApply`), while the
/// reflector still buffers them and the store holds the previous list. The controller looks each
/// trigger up in that store: an object created while the watch was away is not there yet, and
/// its trigger is dropped for good; one changed while away is reconciled from its old copy. After
/// `InitDone` the store is the new list, so every object in it is triggered then. On the first
/// list this is what the controller does anyway (it holds reconciles until the store is ready);
/// on a relist (after an expired resourceVersion, e.g. an API server restart) it reconciles
/// every object once, which is what an informer resync does.
pub fn settled_objects<K, S>(
    events: S,
    store: Store<K>,
) -> impl futures::Stream<Item = Result<K, kube::runtime::watcher::Error>> + Send + 'static
where
    K: kube::Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    S: futures::Stream<Item = Result<WatchEvent<K>, kube::runtime::watcher::Error>>
        + Send
        + 'static,
{
    use futures::StreamExt;
    events
        .map(move |event| {
            let settled: Vec<Result<K, kube::runtime::watcher::Error>> = match event {
                Ok(WatchEvent::Apply(object)) => vec![Ok(object)],
                Ok(WatchEvent::InitDone) => store
                    .state()
                    .into_iter()
                    .map(|object| Ok(object.as_ref().clone()))
                    .collect(),
                Ok(WatchEvent::Init | WatchEvent::InitApply(_) | WatchEvent::Delete(_)) => {
                    Vec::new()
                }
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(settled)
        })
        .flatten()
}

/// The server a `serverRef` points at (namespace defaulting to the referencing object's own).
pub fn server_ref(reference: &ServerRef, own_namespace: &str) -> ObjectRef<MCPServer> {
    ObjectRef::new(&reference.name).within(reference.namespace_or(own_namespace).as_ref())
}

/// Tuning that tests shorten.
#[derive(Clone, Debug)]
pub struct Timing {
    /// First retry delay after an error; doubles per consecutive failure.
    pub error_backoff: Duration,
    /// Cap of the error backoff.
    pub max_backoff: Duration,
    /// First requeue while a server is not ready (MR: 10 s). It doubles for every further
    /// reconcile that still finds it not ready, up to `not_ready_requeue_max`: a change of its
    /// children reaches the operator through the watches anyway, so the requeue is only a safety
    /// net, and 1,000 servers that cannot become ready (no nodes, a missing image) would
    /// otherwise fill every reconcile slot with re-checks and starve the servers not reconciled
    /// yet.
    pub not_ready_requeue: Duration,
    /// Cap of the not-ready requeue (equal to `not_ready_requeue`: no growth).
    pub not_ready_requeue_max: Duration,
    /// The not-ready re-checks of all servers together, per second, at most (on average): with
    /// N servers not ready, none is re-checked sooner than N / `not_ready_rechecks_per_second`
    /// seconds after its last reconcile. Below that many servers the doubling above decides
    /// alone. At 10,000 servers that cannot become ready, the doubling alone re-checked 33 of them
    /// every second once it reached its cap, and on the way there most reconcile slots went to
    /// re-checks while servers never reconciled waited.
    pub not_ready_rechecks_per_second: u32,
    /// Resync of ready servers.
    pub resync: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            error_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            not_ready_requeue: Duration::from_secs(10),
            not_ready_requeue_max: Duration::from_secs(300),
            not_ready_rechecks_per_second: DEFAULT_NOT_READY_RECHECKS_PER_SECOND,
            resync: Duration::from_secs(300),
        }
    }
}

/// Default of [`Timing::not_ready_rechecks_per_second`]: about a fifth of what 16 reconcile slots
/// get through on a loaded control plane (45 reconciles a second at 10,000 servers on two cores).
pub const DEFAULT_NOT_READY_RECHECKS_PER_SECOND: u32 = 10;

/// The wait before re-checking the server `key` after `streak` consecutive reconciles found it
/// not ready, with `not_ready` servers not ready in all: `not_ready_requeue` doubled per repeat
/// up to `not_ready_requeue_max`, or the share of the re-check budget when that is longer
/// (`Timing::not_ready_rechecks_per_second`), stretched by up to a fifth by an amount fixed per
/// server (a hash of its key).
fn not_ready_wait(timing: &Timing, key: &str, streak: u32, not_ready: usize) -> Duration {
    let factor = 2u32.saturating_pow(streak.saturating_sub(1).min(16));
    let doubled = timing
        .not_ready_requeue
        .saturating_mul(factor)
        .min(timing.not_ready_requeue_max.max(timing.not_ready_requeue));
    let rate = f64::from(timing.not_ready_rechecks_per_second.max(1));
    let budget = Duration::from_secs_f64(not_ready as f64 / rate);
    let base = doubled.max(budget);
    let spread = key.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    }) % 20;
    base + base * spread / 100
}

/// Default of [`Context::max_concurrent_reconciles`].
pub const DEFAULT_MAX_CONCURRENT_RECONCILES: u16 = 16;

/// Default of [`Context::secret_recheck`].
pub const DEFAULT_SECRET_RECHECK: Duration = Duration::from_secs(60);

/// Drops what no reconciler reads from an object before it is cached: the managed fields (on
/// objects written with server-side apply they are often as large as the object itself) and
/// kubectl's last-applied copy of the whole object.
pub fn trim_metadata(metadata: &mut kube::core::ObjectMeta) {
    metadata.managed_fields = None;
    if let Some(annotations) = metadata.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        if annotations.is_empty() {
            metadata.annotations = None;
        }
    }
}

/// Everything the reconcilers share.
pub struct Context {
    pub client: kube::Client,
    pub config: OperatorConfig,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub handshake: Arc<dyn Handshake>,
    pub timing: Timing,
    /// Namespace scope; `None` watches every namespace.
    pub namespace: Option<String>,
    /// Reconciles of one controller running at once. Unbounded, a cold start with a thousand
    /// servers runs a thousand reconciles side by side: their requests overload the API server
    /// and their live objects pile up in memory.
    pub max_concurrent_reconciles: u16,
    /// How often a server referencing Secrets re-reads them (Secrets are read with GET, never
    /// listed or watched, so this bounds how long a Secret change takes to roll the pods).
    pub secret_recheck: Duration,
    /// This process's last write of each watched child and server status, so that the watch
    /// echo of a write does not trigger a reconcile.
    pub own_writes: echo::OwnWrites,
    /// Consecutive failures per object, for the error backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// Consecutive reconciles that found a server not ready, per server.
    not_ready: Mutex<HashMap<String, u32>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("namespace", &self.namespace)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub fn new(
        client: kube::Client,
        config: OperatorConfig,
        handshake: Arc<dyn Handshake>,
    ) -> Context {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "mcp-runtime-operator".into(),
                instance: std::env::var("POD_NAME").ok(),
            },
        );
        Context {
            client,
            config,
            clock: Arc::new(SystemClock),
            metrics: Arc::new(Metrics::default()),
            recorder,
            handshake,
            timing: Timing::default(),
            namespace: None,
            max_concurrent_reconciles: DEFAULT_MAX_CONCURRENT_RECONCILES,
            secret_recheck: DEFAULT_SECRET_RECHECK,
            own_writes: echo::OwnWrites::default(),
            failures: Mutex::default(),
            not_ready: Mutex::default(),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    pub fn with_namespace(mut self, namespace: Option<String>) -> Self {
        self.namespace = namespace;
        self
    }

    pub fn with_max_concurrent_reconciles(mut self, max: u16) -> Self {
        self.max_concurrent_reconciles = max.max(1);
        self
    }

    pub fn with_secret_recheck(mut self, every: Duration) -> Self {
        self.secret_recheck = every;
        self
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// `Api` for `K` in the configured scope.
    pub fn scoped_api<K>(&self) -> kube::Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => kube::Api::namespaced(self.client.clone(), ns),
            None => kube::Api::all(self.client.clone()),
        }
    }

    /// The next retry delay for `key` (exponential), counting this failure.
    pub fn next_backoff(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(key.to_owned()).or_insert(0);
        *n += 1;
        let factor = 2u32.saturating_pow(n.saturating_sub(1).min(16));
        self.timing
            .error_backoff
            .saturating_mul(factor)
            .min(self.timing.max_backoff)
    }

    /// When to look at the server `key` again after a reconcile that found it `ready` or not:
    /// the resync when ready; otherwise `not_ready_requeue`, doubling per consecutive not-ready
    /// reconcile up to `not_ready_requeue_max`, stretched by up to a fifth by a per-server amount so that
    /// servers created together do not come back together.
    pub fn recheck_after(&self, key: &str, ready: bool) -> Duration {
        let mut streaks = self.not_ready.lock().unwrap_or_else(|p| p.into_inner());
        if ready {
            streaks.remove(key);
            return self.timing.resync;
        }
        let streak = streaks.entry(key.to_owned()).or_insert(0);
        *streak += 1;
        let streak = *streak;
        not_ready_wait(&self.timing, key, streak, streaks.len())
    }

    /// Forgets the failures of `key` after a successful reconcile.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The grant and session indexes, shared by the server controller's reconciler and its mappers.
#[derive(Debug, Default)]
pub struct AccessIndex {
    pub grants: RefIndex<MCPAccessGrant>,
    pub sessions: RefIndex<MCPAgentSession>,
}

/// Runs the three controllers until `shutdown` resolves (graceful: in-flight reconciles finish).
pub async fn run(
    context: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown));
    let watches = Arc::new(shared::Watches::new(&context));
    // Every controller subscribes to the shared reflectors here, before they start.
    let server = server::controller(context.clone(), watches.clone(), shutdown.clone());
    let grants = access::grant_controller(context.clone(), &watches, shutdown.clone());
    let sessions = access::session_controller(context, &watches, shutdown);
    let controllers = async {
        futures::join!(server, grants, sessions);
    };
    // The watches run until the controllers have stopped.
    futures::pin_mut!(controllers);
    let drive = watches.drive();
    futures::pin_mut!(drive);
    futures::future::select(controllers, drive).await;
}

/// The span of one reconcile: every log line of it carries the object and its generation.
fn reconcile_span<K: kube::Resource>(kind: &str, object: &K) -> tracing::Span {
    let meta = object.meta();
    tracing::info_span!(
        "reconcile",
        kind,
        namespace = meta.namespace.as_deref().unwrap_or_default(),
        name = meta.name.as_deref().unwrap_or_default(),
        generation = meta.generation,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::utils::Backoff;

    #[test]
    fn not_ready_rechecks_double_up_to_the_resync_with_a_per_server_spread() {
        let timing = Timing {
            not_ready_requeue: Duration::from_secs(10),
            not_ready_requeue_max: Duration::from_secs(300),
            ..Timing::default()
        };
        let waits = |key: &str| -> Vec<Duration> {
            (1..=7)
                .map(|streak| not_ready_wait(&timing, key, streak, 1))
                .collect()
        };
        let a = waits("ns/a");
        for (wait, base) in a.iter().zip([10, 20, 40, 80, 160, 300, 300]) {
            let base = Duration::from_secs(base);
            assert!(*wait >= base && *wait < base + base / 5, "{a:?}");
        }
        // The same server always gets the same stretch; two servers rarely the same.
        assert_eq!(a, waits("ns/a"));
        let spreads: std::collections::BTreeSet<Duration> = (0..20)
            .map(|i| not_ready_wait(&timing, &format!("ns/server-{i}"), 1, 1))
            .collect();
        assert!(spreads.len() > 5, "{spreads:?}");
    }

    #[test]
    fn many_servers_not_ready_share_the_recheck_budget() {
        let timing = Timing {
            not_ready_requeue: Duration::from_secs(10),
            not_ready_requeue_max: Duration::from_secs(300),
            not_ready_rechecks_per_second: 10,
            ..Timing::default()
        };
        let base = |streak: u32, not_ready: usize| {
            let wait = not_ready_wait(&timing, "ns/a", streak, not_ready);
            // Undo the per-server stretch (at most a fifth) to compare bases.
            (wait.as_secs_f64() / 1.2, wait.as_secs_f64())
        };
        // Up to 100 servers not ready, the doubling decides alone (10 s = 100 / 10 per second).
        let (low, high) = base(1, 100);
        assert!(low <= 10.0 && high >= 10.0, "{low} {high}");
        let (low, high) = base(7, 100);
        assert!(low <= 300.0 && high >= 300.0, "{low} {high}");
        // 10,000 servers not ready: 10 re-checks a second in all, so 1,000 s each, whatever
        // the streak.
        for streak in [1, 7] {
            let (low, high) = base(streak, 10_000);
            assert!(low <= 1000.0 && high >= 1000.0, "{low} {high}");
        }
        // A rate of 0 is read as 1.
        let zero = Timing {
            not_ready_rechecks_per_second: 0,
            ..timing.clone()
        };
        assert!(not_ready_wait(&zero, "ns/a", 1, 600) >= Duration::from_secs(600));
    }

    /// `recheck_after` counts the servers not ready now: each new one lengthens the wait once
    /// the budget is below the doubling, and a server found ready leaves the count.
    #[tokio::test]
    async fn the_recheck_budget_counts_the_servers_not_ready_now() {
        // The client is never used: `recheck_after` makes no request.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = kube::Config::new("http://127.0.0.1:1".parse().expect("url"));
        let client = kube::Client::try_from(config).expect("client");
        let ctx = Context::new(
            client,
            OperatorConfig::default(),
            Arc::new(crate::handshake::HttpHandshake::default()),
        )
        .with_timing(Timing {
            not_ready_rechecks_per_second: 1,
            ..Timing::default()
        });
        for i in 0..49 {
            ctx.recheck_after(&format!("ns/s{i}"), false);
        }
        // The 50th server not ready, at 1 re-check a second: at least 50 s, not 10 s.
        let wait = ctx.recheck_after("ns/s49", false);
        assert!(wait >= Duration::from_secs(50), "{wait:?}");
        for i in 0..45 {
            assert_eq!(
                ctx.recheck_after(&format!("ns/s{i}"), true),
                ctx.timing.resync
            );
        }
        // Five not ready now (its own second streak: 20 s), well under the 50 s budget above.
        let wait = ctx.recheck_after("ns/s49", false);
        assert!(wait < Duration::from_secs(25), "{wait:?}");
    }

    fn config_map(name: &str, version: &str) -> k8s_openapi::api::core::v1::ConfigMap {
        let mut cm = k8s_openapi::api::core::v1::ConfigMap::default();
        cm.metadata.name = Some(name.into());
        cm.metadata.namespace = Some("ns".into());
        cm.metadata.resource_version = Some(version.into());
        cm
    }

    /// A relist yields nothing while it is buffered and then the whole new list, read from the
    /// store after the swap: an object created while the watch was away (`c`) is in the store
    /// when its trigger is looked up, one changed while away (`a`) is triggered with its new
    /// version, and one deleted while away (`b`) is not triggered.
    #[tokio::test]
    async fn settled_objects_trigger_a_relist_only_once_it_is_in_the_store() {
        use futures::StreamExt;
        use kube::runtime::reflector::{reflector, store};
        let (reader, writer) = store::<k8s_openapi::api::core::v1::ConfigMap>();
        let events = vec![
            Ok(WatchEvent::Init),
            Ok(WatchEvent::InitApply(config_map("a", "1"))),
            Ok(WatchEvent::InitApply(config_map("b", "1"))),
            Ok(WatchEvent::InitDone),
            Ok(WatchEvent::Apply(config_map("a", "2"))),
            // The watch expired and relisted.
            Ok(WatchEvent::Init),
            Ok(WatchEvent::InitApply(config_map("a", "3"))),
            Ok(WatchEvent::InitApply(config_map("c", "1"))),
            Ok(WatchEvent::InitDone),
        ];
        let store_seen = reader.clone();
        let yielded: Vec<(String, String, usize)> =
            settled_objects(reflector(writer, futures::stream::iter(events)), reader)
                .map(|object| {
                    let object = object.expect("no error");
                    // What the controller does with a trigger: look the object up in the store.
                    let found = store_seen.get(&ObjectRef::from_obj(&object));
                    let version = object.metadata.resource_version.clone().unwrap_or_default();
                    assert_eq!(
                        found.and_then(|o| o.metadata.resource_version.clone()),
                        Some(version.clone()),
                        "a triggered object is in the store, as triggered"
                    );
                    (
                        object.metadata.name.clone().unwrap_or_default(),
                        version,
                        store_seen.state().len(),
                    )
                })
                .collect()
                .await;
        let mut first: Vec<_> = yielded[..2].to_vec();
        first.sort();
        assert_eq!(
            first,
            [("a".into(), "1".into(), 2), ("b".into(), "1".into(), 2)]
        );
        assert_eq!(yielded[2], ("a".into(), "2".into(), 2));
        let mut relisted: Vec<_> = yielded[3..].to_vec();
        relisted.sort();
        assert_eq!(
            relisted,
            [("a".into(), "3".into(), 2), ("c".into(), "1".into(), 2)]
        );
    }

    #[test]
    fn a_relisted_index_affects_every_server_referenced_before_or_after() {
        let index = RefIndex::<MCPAccessGrant>::default();
        let server = |name: &str| ObjectRef::<MCPServer>::new(name).within("ns");
        let grant = |name: &str| ObjectRef::<MCPAccessGrant>::new(name).within("ns");
        index.update(grant("g1"), Some(server("s1")));
        index.update(grant("g2"), Some(server("s2")));
        // While away: g1 moved to s3, g2 was deleted, g3 appeared for s4.
        let mut affected =
            index.relisted([(grant("g1"), server("s3")), (grant("g3"), server("s4"))]);
        affected.sort_by_key(|s| s.name.clone());
        let names: Vec<_> = affected.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s1", "s2", "s3", "s4"]);
        assert!(index.referencing(&server("s1")).is_empty());
        assert!(index.referencing(&server("s2")).is_empty());
        assert_eq!(index.referencing(&server("s3")), [grant("g1")]);
        assert_eq!(index.referencing(&server("s4")), [grant("g3")]);
        // A later delete of g1 still finds its server.
        assert_eq!(index.update(grant("g1"), None), [server("s3")]);
    }

    #[test]
    fn trigger_backoff_is_short_capped_and_resets() {
        let mut backoff = TriggerBackoff::default();
        let waits: Vec<u128> = backoff.by_ref().take(6).map(|d| d.as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next(), Some(Duration::from_millis(100)));
    }
}
