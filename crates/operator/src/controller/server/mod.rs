//! The MCPServer controller. A reconcile is a short list of named stages, each in its own
//! module with its own [`Error`] variant:
//!
//! 1. [`validate`] the spec (pure);
//! 2. [`dereference`] the grants and sessions that reference the server (shared caches) and,
//!    after rendering, the ConfigMaps and Secrets its pods reference (GET, hashed);
//! 3. [`render`] the gateway's policy (pure);
//! 4. [`build`] the desired children (pure);
//! 5. [`apply`]: read the live children, refuse foreign ones, server-side apply what differs;
//! 6. [`prune`] the children of features switched off;
//! 7. [`status`]: observe, compute (pure) and write the status.
//!
//! A spec error (validation, rendering, build, ownership) is recorded in the status and waits
//! for a change; an API error is retried with an exponential backoff.

mod apply;
mod build;
mod dereference;
mod prune;
mod render;
mod status;
mod validate;

pub use dereference::{ConfigRef, ConfigRefIndex, config_refs};

use super::shared::Watches;
use super::{Context, Error};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::{self, watcher};
use kube::{Resource, ResourceExt};
use mcp_runtime_api::MCPServer;
use mcp_runtime_api::server::ServerPhase;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

const CONTROLLER: &str = "mcpserver";

/// What the server reconciler reads besides the server itself.
#[derive(Debug)]
pub struct ServerContext {
    pub ctx: Arc<Context>,
    /// The shared caches of grants and sessions and their `serverRef` index.
    pub watches: Arc<Watches>,
    pub config_refs: Arc<ConfigRefIndex>,
}

/// The MCPServer controller, to run until `shutdown`; it subscribes to `watches` at once.
///
/// It is triggered by its servers (the shared reflector), by its children and the ConfigMaps
/// (metadata-only watches of its own), and by the grants and sessions referencing a server (the
/// shared reflectors name exactly the servers concerned).
pub fn controller(
    ctx: Arc<Context>,
    watches: Arc<Watches>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let wc = watcher::Config::default();
    let config_refs = Arc::new(ConfigRefIndex::default());
    let cm_refs = config_refs.clone();
    let servers = &watches.servers;
    let server_events = super::settled_objects(servers.events(), servers.store.clone())
        .filter(not_own_echo(&ctx, "MCPServer".into()));
    let grant_triggers = watches.grants.servers();
    let session_triggers = watches.sessions.servers();
    let controller = Controller::for_stream(server_events, servers.store.clone())
        .with_config(ControllerConfig::default().concurrency(ctx.max_concurrent_reconciles))
        // kube-runtime's default shared trigger backoff stalls every trigger for tens of
        // seconds after an API server restart (see `TriggerBackoff`).
        .trigger_backoff(super::TriggerBackoff::default())
        // Children and ConfigMaps only trigger reconciles (the reconciler reads the live
        // children itself), so they are watched metadata-only: no spec, no data, no rendered
        // policy goes through the operator's memory.
        .owns_stream(owned_metadata::<Deployment>(&ctx, &wc))
        .owns_stream(owned_metadata::<Service>(&ctx, &wc))
        .owns_stream(owned_metadata::<Ingress>(&ctx, &wc))
        .owns_stream(owned_metadata::<NetworkPolicy>(&ctx, &wc))
        // ConfigMaps: the policy ConfigMap (owned) and those the pods reference (config hash).
        // Referenced Secrets are not watched (the operator may not list Secrets): the reconciler
        // reads them with GET and requeues their servers every `secret_recheck`.
        .watches_stream(
            owned_metadata::<ConfigMap>(&ctx, &wc),
            move |cm: PartialObjectMeta<ConfigMap>| {
                let ns = cm.namespace().unwrap_or_default();
                let mut refs = cm_refs.servers(&ns, ConfigRef::ConfigMap(cm.name_any()));
                refs.extend(owner_server(&cm));
                refs
            },
        )
        .reconcile_on(grant_triggers)
        .reconcile_on(session_triggers)
        .graceful_shutdown_on(shutdown);
    let server_context = Arc::new(ServerContext {
        ctx,
        watches,
        config_refs,
    });
    controller
        .run(reconcile, error_policy, server_context)
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(error = %e, "mcpserver reconcile");
            }
            std::future::ready(())
        })
}

/// A metadata-only watch (`PartialObjectMeta`) of `K` in the operator's scope, trimmed.
fn owned_metadata<K>(
    ctx: &Arc<Context>,
    wc: &watcher::Config,
) -> impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    watcher(ctx.scoped_api::<PartialObjectMeta<K>>(), wc.clone())
        .backoff(super::TriggerBackoff::default())
        .modify(|object: &mut PartialObjectMeta<K>| super::trim_metadata(&mut object.metadata))
        .touched_objects()
        .filter(not_own_echo(ctx, K::kind(&()).into_owned()))
}

/// A stream filter that drops the watch echo of this operator's own write of a `kind` object:
/// it triggers nothing (see `OwnWrites`).
fn not_own_echo<T: Resource, E>(
    ctx: &Arc<Context>,
    kind: String,
) -> impl FnMut(&Result<T, E>) -> std::future::Ready<bool> + Send + 'static {
    let ctx = Arc::clone(ctx);
    move |object| {
        let echo = matches!(object, Ok(o) if ctx.own_writes.is_echo(&kind, o.meta()));
        std::future::ready(!echo)
    }
}

fn owner_server<K: Resource>(object: &K) -> Option<ObjectRef<MCPServer>> {
    let ns = object.meta().namespace.clone()?;
    object
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true) && r.kind == "MCPServer")
        .map(|r| ObjectRef::new(&r.name).within(&ns))
}

fn key_of(server: &MCPServer) -> String {
    format!(
        "MCPServer/{}/{}",
        server.namespace().unwrap_or_default(),
        server.name_any()
    )
}

fn error_policy(server: Arc<MCPServer>, error: &Error, cx: Arc<ServerContext>) -> Action {
    let label = error.metric_label();
    tracing::warn!(server = %key_of(&server), error = %error, "reconcile failed, retrying");
    cx.ctx
        .metrics
        .errors
        .get_or_create(&super::ErrorLabels {
            controller: CONTROLLER.into(),
            error: label,
        })
        .inc();
    Action::requeue(cx.ctx.next_backoff(&key_of(&server)))
}

async fn reconcile(server: Arc<MCPServer>, cx: Arc<ServerContext>) -> Result<Action, Error> {
    let started = Instant::now();
    let labels = super::ControllerLabels {
        controller: CONTROLLER.into(),
    };
    cx.ctx.metrics.reconciles.get_or_create(&labels).inc();
    let span = super::reconcile_span("MCPServer", server.as_ref());
    let result = reconcile_server(&server, &cx).instrument(span).await;
    cx.ctx
        .metrics
        .duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    if result.is_ok() {
        cx.ctx.succeeded(&key_of(&server));
    }
    result
}

/// The reconcile of one server: the stages in order. A spec error is recorded in the status
/// (see [`spec_error`]); an API error goes to the error policy.
async fn reconcile_server(server: &MCPServer, cx: &ServerContext) -> Result<Action, Error> {
    let ctx = &cx.ctx;
    // Rendering before the grant and session caches are filled would drop their entries.
    if !(cx
        .watches
        .grants
        .wait_synced(super::shared::SYNC_WAIT)
        .await
        && cx
            .watches
            .sessions
            .wait_synced(super::shared::SYNC_WAIT)
            .await)
    {
        return Ok(Action::requeue(Duration::from_millis(100)));
    }
    let ns = server.namespace().ok_or(Error::MissingMetadata)?;
    let name = server.metadata.name.clone().ok_or(Error::MissingMetadata)?;
    let uid = server.metadata.uid.clone().ok_or(Error::MissingMetadata)?;
    if server.metadata.deletion_timestamp.is_some() {
        ctx.metrics.set_conditions(&ns, &name, Vec::new());
        return Ok(Action::await_change());
    }
    let sref = ObjectRef::from_obj(server);
    let stages = async {
        validate::spec(server)?;
        let access = dereference::access(&sref, cx);
        let policy = render::policy(server, &access, &ctx.config.cluster_name, ctx.clock.now())?;
        let config = dereference::config(server, &sref, &ns, cx).await?;
        let desired = build::desired(server, policy.as_ref(), &ctx.config, config.hash.as_deref())?;
        let children = apply::Children::new(&ctx.client, &ns, &name);
        let live = children.read_live().await?;
        apply::check_ownership(&desired, &live, &ns, &name, &uid)?;
        let applied = children
            .apply(server, ctx, &desired, &live, policy.as_ref())
            .await?;
        prune::switched_off(&children, &desired, &live, &uid).await?;
        let status = status::observe(server, ctx, &desired, &applied, policy.as_ref()).await?;
        let ready = status.phase == Some(ServerPhase::Ready);
        status::write(server, ctx, status).await?;
        let recheck = ctx.recheck_after(&key_of(server), ready);
        Ok(Action::requeue(status::requeue_after(
            recheck,
            &config.refs,
            ctx.secret_recheck,
        )))
    };
    match stages.await {
        Err(error) => spec_error(server, cx, error).await,
        done => done,
    }
}

/// A spec error (see [`Error::condition_reason`]) becomes phase `Error` with its reason and a
/// Warning Event, and waits for a change of the server (an ownership conflict is also retried:
/// the foreign child may go); any other error is returned for the error policy.
async fn spec_error(server: &MCPServer, cx: &ServerContext, error: Error) -> Result<Action, Error> {
    let Some(reason) = error.condition_reason() else {
        return Err(error);
    };
    status::fail(server, cx, reason, &error.to_string()).await?;
    Ok(match error {
        Error::Ownership(_) => Action::requeue(cx.ctx.timing.not_ready_requeue),
        _ => Action::await_change(),
    })
}
