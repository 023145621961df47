//! One reflector per kind for the whole process, its events fanned out to every controller that
//! needs them.
//!
//! The three controllers need overlapping caches: the server controller reads MCPServers,
//! grants and sessions; the grant and session controllers read their own objects and need to
//! know which servers exist. Each kind is watched once here, cached once in a [`Store`], and
//! every subscriber receives the same watch events in order, each delivered only after the store
//! has applied it (a relist's `InitDone` only once the new list is swapped in).
//!
//! Grants and sessions also keep their `serverRef` index ([`RefIndex`]) here, updated in the
//! same step as the store, so that whoever reads the store can read the index as well: the
//! server controller renders a server's policy from the objects that reference it, and the
//! access controllers map a server that appears or disappears to those same objects.

use super::access::AccessObject;
use super::{AccessIndex, Context, RefIndex, TriggerBackoff, server_ref, trim_metadata};
use futures::channel::mpsc;
use futures::{Stream, StreamExt};
use kube::ResourceExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store, reflector};
use kube::runtime::watcher::{self, Event as WatchEvent, watcher};
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

type EventStream<K> =
    futures::stream::BoxStream<'static, Result<WatchEvent<K>, kube::runtime::watcher::Error>>;

/// Maps an event (already applied to the store) to the servers it concerns.
type ServerHook<K> = Box<dyn FnMut(&WatchEvent<K>) -> Vec<ObjectRef<MCPServer>> + Send>;

/// How long a reconcile waits for a shared cache's first list before it gives its slot back and
/// requeues. Waiting, not requeueing every 100 ms: with 2,500 grants waiting for the list of
/// 10,000 servers, the polling made 176,000 empty reconciles. Bounded, so that a shutdown before
/// a cache ever fills (an unreachable API server) still ends.
pub const SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A reflector of `K` shared by every controller of the process.
pub struct Shared<K: kube::Resource<DynamicType = ()> + 'static> {
    /// The one cache of `K`.
    pub store: Store<K>,
    /// Set once the first list is in the store (and in the index, for grants and sessions).
    synced: watch::Sender<bool>,
    events: Mutex<Vec<mpsc::UnboundedSender<WatchEvent<K>>>>,
    servers: Mutex<Vec<mpsc::UnboundedSender<ObjectRef<MCPServer>>>>,
    source: Mutex<Option<(EventStream<K>, ServerHook<K>)>>,
}

impl<K: kube::Resource<DynamicType = ()> + 'static> std::fmt::Debug for Shared<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("kind", &K::kind(&()))
            .field("synced", &*self.synced.borrow())
            .finish_non_exhaustive()
    }
}

impl<K> Shared<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    /// A shared reflector over `events` (a watch not yet reflected); `hook` sees every event
    /// once the store holds it and names the servers it concerns (see [`Shared::servers`]).
    fn new(
        events: impl Stream<Item = Result<WatchEvent<K>, kube::runtime::watcher::Error>>
        + Send
        + 'static,
        store: Store<K>,
        hook: ServerHook<K>,
    ) -> Arc<Self> {
        Arc::new(Shared {
            store,
            synced: watch::channel(false).0,
            events: Mutex::default(),
            servers: Mutex::default(),
            source: Mutex::new(Some((events.boxed(), hook))),
        })
    }

    /// Whether the first list is in the store.
    pub fn synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Waits up to `limit` for the first list to be in the store; true when it is.
    pub async fn wait_synced(&self, limit: std::time::Duration) -> bool {
        let mut synced = self.synced.subscribe();
        // The sender lives as long as `self`, so the wait ends only by syncing or the limit.
        tokio::time::timeout(limit, synced.wait_for(|done| *done))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }

    /// Every watch event from now on, each delivered after the store applied it; a (re)list
    /// arrives as its `InitDone` alone, once the whole list is in the store (read it there).
    /// Subscribe before [`Shared::drive`] starts: events are not replayed.
    pub fn events(
        &self,
    ) -> impl Stream<Item = Result<WatchEvent<K>, kube::runtime::watcher::Error>> + Send + 'static
    {
        let (sender, receiver) = mpsc::unbounded();
        lock(&self.events).push(sender);
        receiver.map(Ok)
    }

    /// The servers concerned by each event (for grants and sessions: the one an object
    /// references now and, when the reference moved or the object went, the previous one; at the
    /// end of a relist, every server referenced before or after).
    pub fn servers(&self) -> impl Stream<Item = ObjectRef<MCPServer>> + Send + 'static {
        let (sender, receiver) = mpsc::unbounded();
        lock(&self.servers).push(sender);
        receiver
    }

    /// Runs the watch: applies each event to the store, then hands it to every subscriber.
    /// Runs until the process drops it (a watch never ends by itself); a second call returns at
    /// once.
    pub async fn drive(&self) {
        let Some((events, mut hook)) = lock(&self.source).take() else {
            return;
        };
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(e) => {
                    // The watch backs off and resumes by itself (`TriggerBackoff`).
                    tracing::warn!(error = %e, kind = %K::kind(&()), "watch failed");
                    continue;
                }
            };
            let servers = hook(&event);
            match event {
                WatchEvent::InitDone => {
                    self.synced.send_replace(true);
                }
                // A list being buffered: no subscriber acts on it before it is in the store (at
                // `InitDone`), so its objects are not copied to each of them.
                WatchEvent::Init | WatchEvent::InitApply(_) => continue,
                WatchEvent::Apply(_) | WatchEvent::Delete(_) => {}
            }
            lock(&self.events).retain(|s| s.unbounded_send(event.clone()).is_ok());
            if !servers.is_empty() {
                lock(&self.servers)
                    .retain(|s| servers.iter().all(|r| s.unbounded_send(r.clone()).is_ok()));
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The shared reflectors of the three kinds and the grant and session indexes.
#[derive(Debug)]
pub struct Watches {
    pub servers: Arc<Shared<MCPServer>>,
    pub grants: Arc<Shared<MCPAccessGrant>>,
    pub sessions: Arc<Shared<MCPAgentSession>>,
    pub index: Arc<AccessIndex>,
}

impl Watches {
    /// The watches of the operator's scope; nothing is read until [`Watches::drive`].
    pub fn new(ctx: &Context) -> Watches {
        let index = Arc::new(AccessIndex::default());
        // The servers: the only full objects the server controller caches, without their
        // managed fields; the access controllers only look up whether a server exists.
        let (store, writer) = reflector::store::<MCPServer>();
        let servers = Shared::new(
            reflector(
                writer,
                watcher(ctx.scoped_api::<MCPServer>(), watcher::Config::default())
                    .backoff(TriggerBackoff::default())
                    .modify(|server: &mut MCPServer| trim_metadata(&mut server.metadata)),
            ),
            store,
            Box::new(|_| Vec::new()),
        );
        Watches {
            servers,
            grants: referencing(ctx, index.clone()),
            sessions: referencing(ctx, index.clone()),
            index,
        }
    }

    /// Runs the three watches (until dropped).
    pub async fn drive(&self) {
        futures::join!(
            self.servers.drive(),
            self.grants.drive(),
            self.sessions.drive()
        );
    }
}

/// A shared reflector of grants (or sessions) that keeps their `serverRef` index in step with
/// the store.
///
/// A (re)list is indexed as a whole once the reflector has swapped it into the store: objects
/// changed or deleted while the watch was away are only known from the complete list, and
/// servers triggered earlier would be rendered from the previous list.
fn referencing<K: AccessObject>(ctx: &Context, index: Arc<AccessIndex>) -> Arc<Shared<K>> {
    let (store, writer) = reflector::store::<K>();
    let hook = index_hook(store.clone(), index);
    Shared::new(
        reflector(
            writer,
            watcher(ctx.scoped_api::<K>(), watcher::Config::default())
                .backoff(TriggerBackoff::default())
                .modify(|object: &mut K| trim_metadata(object.meta_mut())),
        ),
        store,
        hook,
    )
}

/// Keeps `K`'s `serverRef` index in step with `store` and names the servers each event
/// concerns.
fn index_hook<K: AccessObject>(store: Store<K>, index: Arc<AccessIndex>) -> ServerHook<K> {
    let referenced = |object: &K| {
        let ns = object.namespace().unwrap_or_default();
        (
            ObjectRef::from_obj(object),
            server_ref(object.server_ref(), &ns),
        )
    };
    // The generation last seen per object. The policy is rendered from a grant's or session's
    // name and spec only, so a change that leaves the generation alone (its own status write,
    // a label) re-renders nothing and triggers no server. Objects without a generation always
    // trigger.
    let mut generations: HashMap<ObjectRef<K>, i64> = HashMap::new();
    Box::new(move |event: &WatchEvent<K>| {
        let index: &RefIndex<K> = K::index(&index);
        match event {
            WatchEvent::Apply(object) => {
                let generation = object.meta().generation;
                let (object, server) = referenced(object);
                let previous = match generation {
                    Some(g) => generations.insert(object.clone(), g),
                    None => generations.remove(&object),
                };
                let affected = index.update(object, Some(server.clone()));
                let same_spec = generation.is_some() && previous == generation;
                if same_spec && affected == [server] {
                    Vec::new()
                } else {
                    affected
                }
            }
            WatchEvent::Delete(object) => {
                let object = ObjectRef::from_obj(object);
                generations.remove(&object);
                index.update(object, None)
            }
            WatchEvent::InitDone => {
                let present = store.state();
                generations = present
                    .iter()
                    .filter_map(|o| Some((ObjectRef::from_obj(o.as_ref()), o.meta().generation?)))
                    .collect();
                index.relisted(present.iter().map(|o| referenced(o)))
            }
            WatchEvent::Init | WatchEvent::InitApply(_) => Vec::new(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_runtime_api::MCPAccessGrantSpec;

    fn grant(name: &str, server: &str) -> MCPAccessGrant {
        let spec: MCPAccessGrantSpec =
            serde_json::from_value(serde_json::json!({"serverRef": {"name": server}}))
                .expect("spec");
        let mut grant = MCPAccessGrant::new(name, spec);
        grant.metadata.namespace = Some("ns".into());
        grant
    }

    /// Every subscriber sees each event after the store holds it (a list as its `InitDone`),
    /// and a list's servers are named once it is in the store and the index.
    #[tokio::test]
    async fn subscribers_see_events_after_the_store_and_the_index() {
        let (store, writer) = reflector::store::<MCPAccessGrant>();
        let index = Arc::new(AccessIndex::default());
        let events = vec![
            Ok(WatchEvent::Init),
            Ok(WatchEvent::InitApply(grant("g1", "s1"))),
            Ok(WatchEvent::InitDone),
            Ok(WatchEvent::Apply(grant("g1", "s2"))),
            Ok(WatchEvent::Delete(grant("g1", "s2"))),
        ];
        let shared = Shared::new(
            reflector(writer, futures::stream::iter(events)),
            store.clone(),
            index_hook(store.clone(), index.clone()),
        );
        let first = shared.events();
        let second = shared.events();
        let servers = shared.servers();
        assert!(!shared.synced());
        shared.drive().await;
        assert!(shared.synced());
        drop(shared);
        let kinds = |events: Vec<Result<WatchEvent<MCPAccessGrant>, _>>| -> Vec<&'static str> {
            events
                .into_iter()
                .map(|e| match e.expect("no error") {
                    WatchEvent::Init => "init",
                    WatchEvent::InitApply(_) => "init-apply",
                    WatchEvent::InitDone => "init-done",
                    WatchEvent::Apply(_) => "apply",
                    WatchEvent::Delete(_) => "delete",
                })
                .collect()
        };
        // The list reaches the subscribers once it is in the store, as its `InitDone`.
        let expected = ["init-done", "apply", "delete"];
        assert_eq!(kinds(first.collect().await), expected);
        assert_eq!(kinds(second.collect().await), expected);
        let names: Vec<String> = servers.map(|s| s.name).collect().await;
        // The list (s1), the move (s1 then s2), the delete (s2).
        assert_eq!(names, ["s1", "s1", "s2", "s2"]);
        assert!(store.state().is_empty());
        assert!(
            index
                .grants
                .referencing(&ObjectRef::new("s2").within("ns"))
                .is_empty()
        );
    }

    /// A grant's own status write (or any change that leaves its generation alone) renders the
    /// same policy, so it triggers no server; a spec change, a new grant, a move and a delete
    /// do. A grant without a generation always triggers.
    #[tokio::test]
    async fn only_a_new_generation_of_a_grant_triggers_its_server() {
        let (store, writer) = reflector::store::<MCPAccessGrant>();
        let index = Arc::new(AccessIndex::default());
        let at = |name: &str, server: &str, generation: Option<i64>, version: &str| {
            let mut g = grant(name, server);
            g.metadata.generation = generation;
            g.metadata.resource_version = Some(version.into());
            g
        };
        let events = vec![
            Ok(WatchEvent::Init),
            Ok(WatchEvent::InitApply(at("g1", "s1", Some(1), "1"))),
            Ok(WatchEvent::InitDone),
            // Its status written: same generation.
            Ok(WatchEvent::Apply(at("g1", "s1", Some(1), "2"))),
            // Its spec changed.
            Ok(WatchEvent::Apply(at("g1", "s1", Some(2), "3"))),
            // A new grant, then its status.
            Ok(WatchEvent::Apply(at("g2", "s2", Some(1), "4"))),
            Ok(WatchEvent::Apply(at("g2", "s2", Some(1), "5"))),
            // Moved to another server.
            Ok(WatchEvent::Apply(at("g2", "s3", Some(2), "6"))),
            // No generation: always a trigger.
            Ok(WatchEvent::Apply(at("g3", "s4", None, "7"))),
            Ok(WatchEvent::Apply(at("g3", "s4", None, "8"))),
            Ok(WatchEvent::Delete(at("g1", "s1", Some(2), "9"))),
        ];
        let shared = Shared::new(
            reflector(writer, futures::stream::iter(events)),
            store.clone(),
            index_hook(store, index),
        );
        let servers = shared.servers();
        shared.drive().await;
        drop(shared);
        let names: Vec<String> = servers.map(|s| s.name).collect().await;
        assert_eq!(names, ["s1", "s1", "s2", "s2", "s3", "s4", "s4", "s1"]);
    }
}
