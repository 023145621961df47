//! The MCPAccessGrant and MCPAgentSession controllers: status only (the server controller renders
//! them into the policy).
//!
//! - grants: phase `Accepted`; conditions `Accepted` and `ServerFound`;
//! - sessions: phase `Active`, `Expired` or `Revoked`; conditions `Active` and `ServerFound`, with
//!   a requeue at the expiry time so the phase flips when it passes.
//!
//! Both read the process's shared reflectors ([`super::shared`]): their own kind, and the
//! MCPServers, whose appearance or disappearance re-reconciles exactly the objects that
//! reference them (found through the `serverRef` index the server controller renders from).

use super::shared::{Shared, Watches};
use super::{AccessIndex, Context, Error, RefIndex, server_ref};
use crate::apply::FIELD_MANAGER;
use crate::status::{self, Reason, ServerLookup};
use futures::StreamExt;
use jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::{Event as KubeEvent, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::Event as WatchEvent;
use kube::{Resource, ResourceExt};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer, ObjectStatus, ServerRef};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// What the two access kinds have in common.
pub trait AccessObject:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    const CONTROLLER: &'static str;
    fn server_ref(&self) -> &ServerRef;
    fn object_status(&self) -> Option<&ObjectStatus>;
    fn compute_status(&self, server: &ServerLookup, now: Timestamp) -> ObjectStatus;
    /// When the status will change by itself.
    fn expires_at(&self) -> Option<Timestamp>;
    /// This kind's `serverRef` index.
    fn index(index: &AccessIndex) -> &RefIndex<Self>;
    /// This kind's shared reflector.
    fn shared(watches: &Watches) -> &Arc<Shared<Self>>;
}

impl AccessObject for MCPAccessGrant {
    const CONTROLLER: &'static str = "mcpaccessgrant";
    fn server_ref(&self) -> &ServerRef {
        &self.spec.server_ref
    }
    fn object_status(&self) -> Option<&ObjectStatus> {
        self.status.as_ref()
    }
    fn compute_status(&self, server: &ServerLookup, now: Timestamp) -> ObjectStatus {
        status::grant_status(
            self.metadata.generation,
            server,
            self.expires_at(),
            self.spec.disabled,
            self.status.as_ref(),
            now,
        )
    }
    fn expires_at(&self) -> Option<Timestamp> {
        self.spec.expires_at.as_ref().map(|t| t.0)
    }
    fn index(index: &AccessIndex) -> &RefIndex<Self> {
        &index.grants
    }
    fn shared(watches: &Watches) -> &Arc<Shared<Self>> {
        &watches.grants
    }
}

impl AccessObject for MCPAgentSession {
    const CONTROLLER: &'static str = "mcpagentsession";
    fn server_ref(&self) -> &ServerRef {
        &self.spec.server_ref
    }
    fn object_status(&self) -> Option<&ObjectStatus> {
        self.status.as_ref()
    }
    fn compute_status(&self, server: &ServerLookup, now: Timestamp) -> ObjectStatus {
        status::session_status(
            self.metadata.generation,
            server,
            self.spec.revoked,
            self.expires_at(),
            self.status.as_ref(),
            now,
        )
    }
    fn expires_at(&self) -> Option<Timestamp> {
        self.spec.expires_at.as_ref().map(|t| t.0)
    }
    fn index(index: &AccessIndex) -> &RefIndex<Self> {
        &index.sessions
    }
    fn shared(watches: &Watches) -> &Arc<Shared<Self>> {
        &watches.sessions
    }
}

struct AccessContext {
    ctx: Arc<Context>,
    servers: Arc<Shared<MCPServer>>,
}

/// The MCPAccessGrant controller, to run until `shutdown`; it subscribes to `watches` at once.
pub fn grant_controller(
    ctx: Arc<Context>,
    watches: &Watches,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    access_controller::<MCPAccessGrant>(ctx, watches, shutdown)
}

/// The MCPAgentSession controller, to run until `shutdown`; it subscribes to `watches` at once.
pub fn session_controller(
    ctx: Arc<Context>,
    watches: &Watches,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    access_controller::<MCPAgentSession>(ctx, watches, shutdown)
}

fn access_controller<K: AccessObject>(
    ctx: Arc<Context>,
    watches: &Watches,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let objects = K::shared(watches);
    let object_events = super::settled_objects(objects.events(), objects.store.clone());
    let controller = Controller::for_stream(object_events, objects.store.clone())
        .with_config(ControllerConfig::default().concurrency(ctx.max_concurrent_reconciles))
        // kube-runtime's default shared trigger backoff stalls every trigger for tens of
        // seconds after an API server restart (see `TriggerBackoff`).
        .trigger_backoff(super::TriggerBackoff::default());
    // Only a server's appearance or disappearance matters here; the serverRef index names the
    // objects that reference it.
    let servers = watches.servers.clone();
    let index = watches.index.clone();
    let known = Arc::new(Mutex::new(HashSet::<ObjectRef<MCPServer>>::new()));
    let listed = servers.store.clone();
    let triggers = servers
        .events()
        .filter_map(move |event| {
            let mut known = known.lock().unwrap_or_else(|p| p.into_inner());
            let changed: HashSet<ObjectRef<MCPServer>> = match event {
                Ok(WatchEvent::Apply(s)) => {
                    let r = ObjectRef::from_obj(&s);
                    known.insert(r.clone()).then_some(r).into_iter().collect()
                }
                Ok(WatchEvent::Delete(s)) => {
                    let r = ObjectRef::from_obj(&s);
                    known.remove(&r).then_some(r).into_iter().collect()
                }
                // A (re)list is compared as a whole once it is in the store: servers created or
                // deleted while the watch was away are the difference.
                Ok(WatchEvent::InitDone) => {
                    let now: HashSet<ObjectRef<MCPServer>> = listed
                        .state()
                        .iter()
                        .map(|s| ObjectRef::from_obj(s.as_ref()))
                        .collect();
                    let changed = known.symmetric_difference(&now).cloned().collect();
                    *known = now;
                    changed
                }
                Ok(WatchEvent::Init | WatchEvent::InitApply(_)) | Err(_) => HashSet::new(),
            };
            let index = K::index(&index);
            let refs: Vec<ObjectRef<K>> = changed
                .iter()
                .flat_map(|server| index.referencing(server))
                .collect();
            std::future::ready(Some(futures::stream::iter(refs)))
        })
        .flatten();
    let context = Arc::new(AccessContext { ctx, servers });
    controller
        .reconcile_on(triggers)
        .graceful_shutdown_on(shutdown)
        .run(reconcile::<K>, error_policy::<K>, context)
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(error = %e, "access reconcile");
            }
            std::future::ready(())
        })
}

fn key_of<K: AccessObject>(object: &K) -> String {
    format!(
        "{}/{}/{}",
        K::CONTROLLER,
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

fn error_policy<K: AccessObject>(object: Arc<K>, error: &Error, cx: Arc<AccessContext>) -> Action {
    tracing::warn!(object = %key_of(object.as_ref()), error = %error, "reconcile failed, retrying");
    cx.ctx
        .metrics
        .errors
        .get_or_create(&super::ErrorLabels {
            controller: K::CONTROLLER.into(),
            error: error.metric_label(),
        })
        .inc();
    Action::requeue(cx.ctx.next_backoff(&key_of(object.as_ref())))
}

async fn reconcile<K: AccessObject>(
    object: Arc<K>,
    cx: Arc<AccessContext>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let labels = super::ControllerLabels {
        controller: K::CONTROLLER.into(),
    };
    cx.ctx.metrics.reconciles.get_or_create(&labels).inc();
    let span = super::reconcile_span(K::kind(&()).as_ref(), object.as_ref());
    let result = reconcile_access(object.as_ref(), &cx)
        .instrument(span)
        .await;
    cx.ctx
        .metrics
        .duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    if result.is_ok() {
        cx.ctx.succeeded(&key_of(object.as_ref()));
    }
    result
}

async fn reconcile_access<K: AccessObject>(
    object: &K,
    cx: &AccessContext,
) -> Result<Action, Error> {
    if !cx.servers.wait_synced(super::shared::SYNC_WAIT).await {
        return Ok(Action::requeue(Duration::from_millis(100)));
    }
    if object.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = object.namespace().ok_or(Error::MissingMetadata)?;
    let name = object.meta().name.clone().ok_or(Error::MissingMetadata)?;
    let now = cx.ctx.clock.now();
    let sref = server_ref(object.server_ref(), &ns);
    let lookup = ServerLookup {
        reference: format!(
            "{}/{}",
            sref.namespace.clone().unwrap_or_default(),
            sref.name
        ),
        found: cx
            .servers
            .store
            .get(&ObjectRef::new(&sref.name).within(sref.namespace.as_deref().unwrap_or_default()))
            .is_some(),
    };
    let status = object.compute_status(&lookup, now);
    let previous = object.object_status();
    if previous != Some(&status) {
        let api: Api<K> = Api::namespaced(cx.ctx.client.clone(), &ns);
        let body = serde_json::json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "status": status,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await?;
        publish_transition(object, previous, &status, cx).await;
    }
    // Requeue when the status changes by itself: at the expiry time.
    Ok(match object.expires_at() {
        Some(at) if at > now => {
            let millis = u64::try_from(at.as_millisecond() - now.as_millisecond()).unwrap_or(0);
            Action::requeue(Duration::from_millis(millis + 20))
        }
        _ => Action::await_change(),
    })
}

/// An Event when the phase or the ServerFound condition changes.
async fn publish_transition<K: AccessObject>(
    object: &K,
    previous: Option<&ObjectStatus>,
    status: &ObjectStatus,
    cx: &AccessContext,
) {
    let found = |s: &ObjectStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == "ServerFound")
            .map(|c| c.status.clone())
    };
    let phase_changed = previous.and_then(|p| p.phase.clone()) != status.phase;
    let found_changed = previous.and_then(found) != found(status);
    if !phase_changed && !found_changed {
        return;
    }
    let server_missing = found(status).as_deref() == Some("False");
    let phase = status.phase.clone().unwrap_or_default();
    let (type_, reason) = if server_missing {
        (EventType::Warning, Reason::ServerNotFound.to_string())
    } else {
        (EventType::Normal, phase.clone())
    };
    let event = KubeEvent {
        type_,
        reason,
        note: status.message.clone(),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = cx
        .ctx
        .recorder
        .publish(&event, &object.object_ref(&()))
        .await
    {
        tracing::warn!(error = %e, "publishing an event failed");
    }
}
