//! The MCPServer controller: validate → render policy → build (pure) → apply (SSA, one field
//! manager) → prune → status.

use super::access::AccessObject;
use super::{AccessIndex, Context, Error, RefIndex, server_ref};
use crate::apply::{FIELD_MANAGER, Ownership, apply_if_changed, is_subset, ownership, prune};
use crate::build::{self, APP_LABEL, POLICY_KEY};
use crate::status::{self, Observed, types};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::{Event as KubeEvent, EventType};
use kube::runtime::reflector::{self, ObjectRef, Store, reflector};
use kube::runtime::watcher::{self, Event as WatchEvent, watcher};
use kube::{Resource, ResourceExt};
use mcp_runtime_api::server::ServerPhase;
use mcp_runtime_api::validation::{Kind, validate_object};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer, MCPServerStatus};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONTROLLER: &str = "mcpserver";

/// What the server reconciler reads besides the server itself.
#[derive(Debug)]
pub struct ServerContext {
    pub ctx: Arc<Context>,
    pub grants: Store<MCPAccessGrant>,
    pub sessions: Store<MCPAgentSession>,
    pub index: Arc<AccessIndex>,
    pub config_refs: Arc<ConfigRefIndex>,
    grants_synced: Arc<AtomicBool>,
    sessions_synced: Arc<AtomicBool>,
}

/// A ConfigMap or Secret a server's pods reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigRef {
    ConfigMap(String),
    Secret(String),
}

/// A referenced object: its namespace and which one.
type ConfigKey = (String, ConfigRef);

/// Referenced ConfigMap/Secret → servers, so a data change reaches exactly those servers.
#[derive(Debug, Default)]
pub struct ConfigRefIndex {
    inner: Mutex<HashMap<ConfigKey, HashSet<ObjectRef<MCPServer>>>>,
    of_server: Mutex<HashMap<ObjectRef<MCPServer>, Vec<ConfigKey>>>,
}

impl ConfigRefIndex {
    fn set(&self, server: &ObjectRef<MCPServer>, namespace: &str, refs: &[ConfigRef]) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut of_server = self.of_server.lock().unwrap_or_else(|p| p.into_inner());
        for key in of_server.remove(server).unwrap_or_default() {
            if let Some(set) = inner.get_mut(&key) {
                set.remove(server);
                if set.is_empty() {
                    inner.remove(&key);
                }
            }
        }
        let keys: Vec<ConfigKey> = refs
            .iter()
            .map(|r| (namespace.to_owned(), r.clone()))
            .collect();
        for key in &keys {
            inner.entry(key.clone()).or_default().insert(server.clone());
        }
        if !keys.is_empty() {
            of_server.insert(server.clone(), keys);
        }
    }

    fn servers(&self, namespace: &str, reference: ConfigRef) -> Vec<ObjectRef<MCPServer>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .get(&(namespace.to_owned(), reference))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The ConfigMaps and Secrets the server's pods reference (env, envFrom, volumes, secret env
/// vars and the analytics API key), sorted and de-duplicated.
pub fn config_refs(server: &MCPServer) -> Vec<ConfigRef> {
    let spec = &server.spec;
    let mut refs = BTreeSet::new();
    for s in &spec.secret_env_vars {
        refs.insert(ConfigRef::Secret(s.secret_key_ref.name.clone()));
    }
    for env in &spec.env {
        if let Some(from) = &env.value_from {
            if let Some(cm) = &from.config_map_key_ref {
                refs.insert(ConfigRef::ConfigMap(cm.name.clone()));
            }
            if let Some(s) = &from.secret_key_ref {
                refs.insert(ConfigRef::Secret(s.name.clone()));
            }
        }
    }
    for from in &spec.env_from {
        if let Some(cm) = &from.config_map_ref {
            refs.insert(ConfigRef::ConfigMap(cm.name.clone()));
        }
        if let Some(s) = &from.secret_ref {
            refs.insert(ConfigRef::Secret(s.name.clone()));
        }
    }
    for volume in &spec.volumes {
        if let Some(cm) = &volume.config_map {
            refs.insert(ConfigRef::ConfigMap(cm.name.clone()));
        }
        if let Some(s) = volume.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            refs.insert(ConfigRef::Secret(s));
        }
    }
    if let Some(key) = spec
        .analytics
        .as_ref()
        .and_then(|a| a.api_key_secret_ref.as_ref())
    {
        refs.insert(ConfigRef::Secret(key.name.clone()));
    }
    refs.retain(|r| match r {
        ConfigRef::ConfigMap(n) | ConfigRef::Secret(n) => !n.is_empty(),
    });
    refs.into_iter().collect()
}

/// Builds the MCPServer controller and runs it until `shutdown`.
pub async fn controller(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let wc = watcher::Config::default();
    let index = Arc::new(AccessIndex::default());
    let (grants, grant_writer) = reflector::store::<MCPAccessGrant>();
    let (sessions, session_writer) = reflector::store::<MCPAgentSession>();
    let grants_synced = Arc::new(AtomicBool::new(false));
    let sessions_synced = Arc::new(AtomicBool::new(false));

    // Grants and sessions: one reflector each. Its events update the serverRef index and trigger
    // exactly the servers concerned; the reconciler reads the same store, already updated.
    let grant_triggers = reference_triggers(
        &ctx,
        &wc,
        (grants.clone(), grant_writer),
        index.clone(),
        |index| &index.grants,
        grants_synced.clone(),
    );
    let session_triggers = reference_triggers(
        &ctx,
        &wc,
        (sessions.clone(), session_writer),
        index.clone(),
        |index| &index.sessions,
        sessions_synced.clone(),
    );

    let config_refs = Arc::new(ConfigRefIndex::default());
    let cm_refs = config_refs.clone();
    let server_context = Arc::new(ServerContext {
        ctx: ctx.clone(),
        grants,
        sessions,
        index,
        config_refs,
        grants_synced,
        sessions_synced,
    });

    // The servers themselves: the only full objects this controller caches, without their
    // managed fields.
    let (servers, server_writer) = reflector::store::<MCPServer>();
    let server_events = super::settled_objects(
        watcher(ctx.scoped_api::<MCPServer>(), wc.clone())
            .backoff(super::TriggerBackoff::default())
            .modify(|server: &mut MCPServer| super::trim_metadata(&mut server.metadata))
            .reflect(server_writer),
        servers.clone(),
    );

    // Children and ConfigMaps only trigger reconciles (the reconciler reads the live children
    // itself), so they are watched metadata-only: no spec, no data, no rendered policy goes
    // through the operator's memory.
    Controller::for_stream(server_events, servers)
        .with_config(ControllerConfig::default().concurrency(ctx.max_concurrent_reconciles))
        // kube-runtime's default shared trigger backoff stalls every trigger for tens of
        // seconds after an API server restart (see `TriggerBackoff`).
        .trigger_backoff(super::TriggerBackoff::default())
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
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, server_context)
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(error = %e, "mcpserver reconcile");
            }
            std::future::ready(())
        })
        .boxed()
        .await;
}

/// The servers to reconcile as grants (or sessions) change, from one reflector of them that
/// also keeps `index` (serverRef → referencing objects) and the store the reconciler reads.
///
/// A change reaches exactly the servers concerned: the one referenced now and, when the
/// reference moved or the object was deleted, the previous one. A (re)list is taken as a whole
/// once the reflector has swapped it into the store: objects changed or deleted while the watch
/// was away are only known from the complete list, and a reconcile triggered earlier would read
/// the previous list.
fn reference_triggers<K: AccessObject>(
    ctx: &Context,
    wc: &watcher::Config,
    (store, writer): (Store<K>, reflector::store::Writer<K>),
    index: Arc<AccessIndex>,
    references: fn(&AccessIndex) -> &RefIndex<K>,
    synced: Arc<AtomicBool>,
) -> impl futures::Stream<Item = ObjectRef<MCPServer>> + Send + 'static {
    let referenced = |object: &K| {
        let ns = object.namespace().unwrap_or_default();
        (
            ObjectRef::from_obj(object),
            server_ref(object.server_ref(), &ns),
        )
    };
    reflector(
        writer,
        watcher(ctx.scoped_api::<K>(), wc.clone())
            .backoff(super::TriggerBackoff::default())
            // The policy reads an object's name, namespace and spec only.
            .modify(|object: &mut K| {
                super::trim_metadata(object.meta_mut());
                object.forget_status();
            }),
    )
    .filter_map(move |event| {
        let index = references(&index);
        let servers = match event {
            Ok(WatchEvent::Apply(object)) => {
                let (object, server) = referenced(&object);
                index.update(object, Some(server))
            }
            Ok(WatchEvent::Delete(object)) => index.update(ObjectRef::from_obj(&object), None),
            Ok(WatchEvent::InitDone) => {
                let servers = index.relisted(store.state().iter().map(|o| referenced(o)));
                synced.store(true, Ordering::SeqCst);
                servers
            }
            Ok(WatchEvent::Init | WatchEvent::InitApply(_)) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, kind = K::CONTROLLER, "watch failed");
                Vec::new()
            }
        };
        std::future::ready(Some(futures::stream::iter(servers)))
    })
    .flatten()
}

/// A metadata-only watch (`PartialObjectMeta`) of `K` in the operator's scope, trimmed.
fn owned_metadata<K>(
    ctx: &Context,
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
    let result = reconcile_server(&server, &cx).await;
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

/// Live children, read once per reconcile.
struct Live {
    deployment: Option<Deployment>,
    canary: Option<Deployment>,
    service: Option<Service>,
    ingress: Option<Ingress>,
    network_policy: Option<NetworkPolicy>,
    policy: Option<ConfigMap>,
}

async fn reconcile_server(server: &MCPServer, cx: &ServerContext) -> Result<Action, Error> {
    let ctx = &cx.ctx;
    if !(cx.grants_synced.load(Ordering::SeqCst) && cx.sessions_synced.load(Ordering::SeqCst)) {
        // Rendering before the grant and session caches are filled would drop their entries.
        return Ok(Action::requeue(Duration::from_millis(100)));
    }
    let ns = server.namespace().ok_or(Error::MissingMetadata)?;
    let name = server.metadata.name.clone().ok_or(Error::MissingMetadata)?;
    let uid = server.metadata.uid.clone().ok_or(Error::MissingMetadata)?;
    if server.metadata.deletion_timestamp.is_some() {
        ctx.metrics.set_conditions(&ns, &name, Vec::new());
        return Ok(Action::await_change());
    }
    let now = ctx.clock.now();
    let generation = server.metadata.generation;
    let previous = server.status.as_ref();
    let sref = ObjectRef::from_obj(server);

    // 1. Validate, as the API server would (schema and CEL rules).
    if let Err(message) = validate(server) {
        return fail(server, cx, "ConfigurationInvalid", &message).await;
    }

    // 2. Render the policy from the grants and sessions that reference this server.
    let gateway_enabled = server.spec.gateway.as_ref().is_some_and(|g| g.enabled);
    let policy = if gateway_enabled {
        let grants: Vec<Arc<MCPAccessGrant>> = cx
            .index
            .grants
            .referencing(&sref)
            .iter()
            .filter_map(|r| cx.grants.get(r))
            .collect();
        let sessions: Vec<Arc<MCPAgentSession>> = cx
            .index
            .sessions
            .referencing(&sref)
            .iter()
            .filter_map(|r| cx.sessions.get(r))
            .collect();
        match mcp_runtime_policy::render::render(
            server,
            grants.iter().map(Arc::as_ref),
            sessions.iter().map(Arc::as_ref),
            &ctx.config.cluster_name,
            now,
        ) {
            Ok(document) => Some(document),
            Err(e) => return fail(server, cx, "PolicyInvalid", &e.to_string()).await,
        }
    } else {
        None
    };

    // 3. Config hash over the referenced ConfigMaps and Secrets.
    let refs = config_refs(server);
    cx.config_refs.set(&sref, &ns, &refs);
    let config_hash = if refs.is_empty() {
        None
    } else {
        Some(config_hash(ctx, &ns, &refs).await?)
    };

    // 4. Build (pure).
    let desired = match build::build(server, policy.as_ref(), &ctx.config, config_hash.as_deref()) {
        Ok(desired) => desired,
        Err(e) => return fail(server, cx, "ConfigurationInvalid", &e.to_string()).await,
    };

    // 5. Read the live children.
    let client = &ctx.client;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), &ns);
    let network_policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let policy_name = format!("{name}-gateway-policy");
    let canary_name = format!("{name}-canary");
    // Side by side: a reconcile's latency is its chain of round trips, and with a bounded
    // number of reconciles in flight that latency is what limits a cold start.
    let (deployment, canary, service, ingress, network_policy, policy_cm) = tokio::try_join!(
        deployments.get_opt(&name),
        deployments.get_opt(&canary_name),
        services.get_opt(&name),
        ingresses.get_opt(&name),
        network_policies.get_opt(&name),
        config_maps.get_opt(&policy_name),
    )?;
    let live = Live {
        deployment,
        canary,
        service,
        ingress,
        network_policy,
        policy: policy_cm,
    };

    // 6. Never take over children someone else controls.
    let conflicts = [
        (
            "Deployment",
            &name,
            ownership(live.deployment.as_ref(), &name, &uid),
        ),
        (
            "Deployment",
            &canary_name,
            if desired.canary.is_some() {
                ownership(live.canary.as_ref(), &name, &uid)
            } else {
                Ownership::Ours
            },
        ),
        (
            "Service",
            &name,
            ownership(live.service.as_ref(), &name, &uid),
        ),
        (
            "Ingress",
            &name,
            if desired.ingress.is_some() {
                ownership(live.ingress.as_ref(), &name, &uid)
            } else {
                Ownership::Ours
            },
        ),
        (
            "NetworkPolicy",
            &name,
            if desired.network_policy.is_some() {
                ownership(live.network_policy.as_ref(), &name, &uid)
            } else {
                Ownership::Ours
            },
        ),
        (
            "ConfigMap",
            &policy_name,
            if desired.policy_config_map.is_some() {
                ownership(live.policy.as_ref(), &name, &uid)
            } else {
                Ownership::Ours
            },
        ),
    ];
    if let Some((kind, child, Ownership::Foreign(who))) = conflicts
        .iter()
        .find(|(_, _, o)| matches!(o, Ownership::Foreign(_)))
    {
        let message = format!(
            "{kind} {ns}/{child} already exists and is {who}; the operator does not adopt it (delete it or rename the MCPServer)"
        );
        fail(server, cx, "OwnershipConflict", &message).await?;
        return Ok(Action::requeue(ctx.timing.not_ready_requeue));
    }

    // 7. Apply what differs (the children are independent of each other: side by side).
    let apply_policy = async {
        Ok::<_, Error>(match &desired.policy_config_map {
            Some(cm) if !policy_up_to_date(cm, live.policy.as_ref(), policy.as_ref()) => {
                apply_if_changed(&config_maps, cm, None)
                    .await?
                    .or(live.policy.clone())
            }
            Some(_) => live.policy.clone(),
            None => None,
        })
    };
    let apply_deployment = async {
        Ok::<_, Error>(
            apply_if_changed(&deployments, &desired.deployment, live.deployment.as_ref())
                .await?
                .or(live.deployment.clone()),
        )
    };
    let apply_canary = async {
        Ok::<_, Error>(match &desired.canary {
            Some(c) => apply_if_changed(&deployments, c, live.canary.as_ref())
                .await?
                .or(live.canary.clone()),
            None => None,
        })
    };
    let apply_service = async {
        Ok::<_, Error>(
            apply_if_changed(&services, &desired.service, live.service.as_ref())
                .await?
                .or(live.service.clone()),
        )
    };
    let apply_ingress = async {
        Ok::<_, Error>(match &desired.ingress {
            Some(i) => apply_if_changed(&ingresses, i, live.ingress.as_ref())
                .await?
                .or(live.ingress.clone()),
            None => None,
        })
    };
    let apply_network_policy = async {
        if let Some(np) = &desired.network_policy {
            apply_if_changed(&network_policies, np, live.network_policy.as_ref()).await?;
        }
        Ok::<_, Error>(())
    };
    let ((), policy_cm, deployment, canary, service, ingress, ()) = tokio::try_join!(
        apply_shared(server, ctx, &ns),
        apply_policy,
        apply_deployment,
        apply_canary,
        apply_service,
        apply_ingress,
        apply_network_policy,
    )?;

    // 8. Prune the children of features switched off.
    if desired.canary.is_none() {
        prune(&deployments, live.canary.as_ref(), &uid).await?;
    }
    if desired.policy_config_map.is_none() {
        prune(&config_maps, live.policy.as_ref(), &uid).await?;
    }
    if desired.ingress.is_none() {
        prune(&ingresses, live.ingress.as_ref(), &uid).await?;
    }
    if desired.network_policy.is_none() {
        prune(&network_policies, live.network_policy.as_ref(), &uid).await?;
    }

    // 9. Observe and write the status.
    let desired_replicas = desired
        .deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let deployment_ready =
        status::deployment_check(deployment.as_ref(), desired_replicas, &[]).ready;
    let pods: Vec<Pod> = if deployment.is_some() && !deployment_ready {
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        // From the API server's watch cache (`resourceVersion=0`), not a quorum read of every
        // pod in the namespace from etcd: these pods only explain why the Deployment is not
        // ready, and a reconcile runs again on the next Deployment change.
        pods.list(
            &ListParams::default()
                .labels(&format!("{APP_LABEL}={name}"))
                .match_any(),
        )
        .await?
        .items
    } else {
        Vec::new()
    };
    let address = format!(
        "http://{name}.{ns}.svc.cluster.local:{}{}",
        server.spec.service_port, server.spec.mcp_path
    );
    let (server_info, handshake_error) = handshake(
        server,
        ctx,
        previous,
        deployment_ready && desired_replicas > 0,
        &address,
    )
    .await;
    let verified = server_info.is_some();
    let policy_revision = policy.as_ref().map(|p| p.revision.clone());
    let observed = Observed {
        generation,
        deployment: deployment.as_ref(),
        desired_replicas,
        canary_wanted: desired
            .canary
            .as_ref()
            .map(|c| c.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)),
        canary: canary.as_ref(),
        service: service.as_ref(),
        ingress_wanted: desired.ingress.is_some(),
        ingress: ingress.as_ref(),
        ingress_mode: ctx.config.ingress_readiness,
        gateway_enabled,
        policy_config_map: policy_cm.as_ref(),
        policy_revision: policy_revision.or_else(|| {
            previous
                .and_then(|p| p.policy_revision.clone())
                .filter(|_| gateway_enabled)
        }),
        pods: &pods,
        url: Some(desired.url.clone()),
        address: verified.then_some(address),
        server_info,
        handshake_error,
    };
    let status = status::server_status(&observed, previous, now);
    let phase = status.phase.unwrap_or_default();
    write_status(server, cx, status).await?;
    let recheck = ctx.recheck_after(&key_of(server), phase == ServerPhase::Ready);
    Ok(Action::requeue(requeue_after(
        recheck,
        &refs,
        ctx.secret_recheck,
    )))
}

/// When to look at a reconciled server again: at `recheck` (see `Context::recheck_after`), and
/// no later than `secret_recheck` when its pods reference Secrets (they are not watched, so
/// re-reading them is how a change reaches the config hash).
fn requeue_after(recheck: Duration, refs: &[ConfigRef], secret_recheck: Duration) -> Duration {
    let requeue = recheck;
    if refs.iter().any(|r| matches!(r, ConfigRef::Secret(_))) {
        requeue.min(secret_recheck)
    } else {
        requeue
    }
}

/// The policy ConfigMap is rewritten only when the policy revision (or its metadata) changed:
/// `generated_at` alone never causes a write, so gateways do not reload for nothing.
fn policy_up_to_date(
    desired: &ConfigMap,
    live: Option<&ConfigMap>,
    policy: Option<&mcp_runtime_policy::PolicyDocument>,
) -> bool {
    let (Some(live), Some(policy)) = (live, policy) else {
        return false;
    };
    let live_revision = live
        .data
        .as_ref()
        .and_then(|d| d.get(POLICY_KEY))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|v| {
            v.get("revision")
                .and_then(|r| r.as_str())
                .map(str::to_owned)
        });
    if live_revision.as_deref() != Some(policy.revision.as_str()) {
        return false;
    }
    let meta = |cm: &ConfigMap| serde_json::to_value(&cm.metadata).unwrap_or_default();
    let mut desired_meta = meta(desired);
    if let Some(m) = desired_meta.as_object_mut() {
        m.remove("resourceVersion");
    }
    is_subset(&desired_meta, &meta(live))
}

/// The per-namespace workload ServiceAccount and the registry pull Secret (not owned by any
/// server).
async fn apply_shared(server: &MCPServer, ctx: &Context, ns: &str) -> Result<(), Error> {
    if server.spec.service_account_name.is_none() {
        let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), ns);
        let desired = build::workload_service_account(ns);
        let live = api.get_opt(build::WORKLOAD_SERVICE_ACCOUNT).await?;
        apply_if_changed(&api, &desired, live.as_ref()).await?;
    }
    if let Some(secret) = build::registry_pull_secret(ns, &ctx.config)
        .filter(|_| server.spec.image_pull_secrets.is_empty())
    {
        let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
        let live = api
            .get_opt(&ctx.config.provisioned_registry_secret_name)
            .await?;
        apply_if_changed(&api, &secret, live.as_ref()).await?;
    }
    Ok(())
}

/// SHA-256 over the data of every referenced ConfigMap and Secret (absent ones hash as absent,
/// so their creation rolls the pods too).
async fn config_hash(ctx: &Context, ns: &str, refs: &[ConfigRef]) -> Result<String, Error> {
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let mut hasher = Sha256::new();
    for reference in refs {
        let (label, data) = match reference {
            ConfigRef::ConfigMap(name) => {
                let cm = config_maps.get_opt(name).await?;
                (
                    format!("configmap/{name}"),
                    cm.map(|cm| serde_json::json!({"data": cm.data, "binaryData": cm.binary_data})),
                )
            }
            ConfigRef::Secret(name) => {
                let secret = secrets.get_opt(name).await?;
                (
                    format!("secret/{name}"),
                    secret
                        .map(|s| serde_json::json!({"data": s.data, "stringData": s.string_data})),
                )
            }
        };
        hasher.update(label.as_bytes());
        hasher.update([0]);
        match data {
            Some(value) => hasher.update(value.to_string().as_bytes()),
            None => hasher.update(b"<absent>"),
        }
        hasher.update([0]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

/// The server's MCP `initialize`, once its pods are ready. A previous answer is kept for the same
/// generation; a new generation handshakes again.
async fn handshake(
    server: &MCPServer,
    ctx: &Context,
    previous: Option<&MCPServerStatus>,
    ready: bool,
    address: &str,
) -> (Option<mcp_runtime_api::server::ServerInfo>, Option<String>) {
    let same_generation =
        previous.and_then(|p| p.observed_generation) == server.metadata.generation;
    if let Some(info) = previous
        .and_then(|p| p.server_info.clone())
        .filter(|_| same_generation)
    {
        return (Some(info), None);
    }
    if !ready {
        return (None, None);
    }
    match ctx.handshake.initialize(address).await {
        Ok(info) => (Some(info), None),
        Err(e) => (None, Some(e.to_string())),
    }
}

fn validate(server: &MCPServer) -> Result<(), String> {
    let object = serde_json::json!({
        "apiVersion": mcp_runtime_api::API_VERSION,
        "kind": "MCPServer",
        "metadata": {"name": server.metadata.name, "namespace": server.metadata.namespace},
        "spec": server.spec,
    });
    validate_object(Kind::Server, &object)
        .map(|_| ())
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| {
                    if e.field.is_empty() {
                        e.message.clone()
                    } else {
                        format!("{}: {}", e.field, e.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
}

/// Records a reconcile that cannot proceed until the spec (or the world) changes: phase Error,
/// the reason on the `Ready` condition, a Warning event.
async fn fail(
    server: &MCPServer,
    cx: &ServerContext,
    reason: &str,
    message: &str,
) -> Result<Action, Error> {
    let now = cx.ctx.clock.now();
    let status = status::error_status(
        server.status.as_ref(),
        server.metadata.generation,
        reason,
        message,
        now,
    );
    write_status(server, cx, status).await?;
    Ok(Action::await_change())
}

/// Writes the status when it differs from the current one (server-side apply on `/status`), and
/// publishes an Event and the condition metrics on transitions.
async fn write_status(
    server: &MCPServer,
    cx: &ServerContext,
    status: MCPServerStatus,
) -> Result<(), Error> {
    let ctx = &cx.ctx;
    let ns = server.namespace().unwrap_or_default();
    let name = server.name_any();
    ctx.metrics.set_conditions(
        &ns,
        &name,
        status
            .conditions
            .iter()
            .map(|c| super::ConditionValue {
                r#type: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
            })
            .collect(),
    );
    let previous = server.status.as_ref();
    if previous == Some(&status) {
        return Ok(());
    }
    let api: Api<MCPServer> = Api::namespaced(ctx.client.clone(), &ns);
    let body = serde_json::json!({
        "apiVersion": mcp_runtime_api::API_VERSION,
        "kind": "MCPServer",
        "status": status,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await?;
    let ready_reason = |s: &MCPServerStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == types::READY)
            .map(|c| c.reason.clone())
    };
    let changed = previous.and_then(|p| p.phase) != status.phase
        || previous.and_then(ready_reason) != ready_reason(&status);
    if changed {
        let phase = status.phase.unwrap_or_default();
        let reason = ready_reason(&status).unwrap_or_else(|| format!("{phase:?}"));
        let event = KubeEvent {
            type_: match phase {
                ServerPhase::Error => EventType::Warning,
                ServerPhase::Ready | ServerPhase::Pending => EventType::Normal,
                ServerPhase::PartiallyReady if reason == "ReplicasNotReady" => EventType::Normal,
                ServerPhase::PartiallyReady => EventType::Warning,
            },
            reason,
            note: status
                .message
                .clone()
                .map(|m| format!("{phase:?}: {m}").chars().take(1000).collect()),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &server.object_ref(&())).await {
            tracing::warn!(error = %e, "publishing an event failed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_referencing_secrets_are_rechecked_within_the_secret_recheck() {
        let timing = super::super::Timing::default();
        let recheck = Duration::from_secs(60);
        let configmap = [ConfigRef::ConfigMap("settings".into())];
        let secret = [
            ConfigRef::ConfigMap("settings".into()),
            ConfigRef::Secret("token".into()),
        ];
        assert_eq!(
            requeue_after(timing.resync, &configmap, recheck),
            timing.resync
        );
        assert_eq!(requeue_after(timing.resync, &secret, recheck), recheck);
        // A sooner requeue (not ready) is kept.
        assert_eq!(
            requeue_after(timing.not_ready_requeue, &secret, recheck),
            timing.not_ready_requeue
        );
    }
}
