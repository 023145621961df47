//! An in-process fake Kubernetes API that a real kube-runtime `Controller` can run against.
//!
//! [`FakeApi`] wraps `kube-fake-client` (an in-memory API server without watch) in a tower layer
//! that adds what the controllers need and what the tests check:
//!
//! - **watch**: `GET …?watch=true` returns a streaming body of newline-delimited watch events. A
//!   write's response object is diffed against what each watch last saw, so a write that changed
//!   nothing but `resourceVersion`, `generation` or `managedFields` emits **no** event (the fake
//!   bumps `resourceVersion` on no-op writes; a real API server does not, and echoing those writes
//!   makes a correct controller spin). A DELETE re-lists every watched collection, so cascading
//!   garbage collection shows up as DELETED events too. A LIST answers with a resourceVersion
//!   token for its snapshot, so a watch started from it first catches up on what changed since.
//! - **a call recorder**: every request as (verb, group, resource, subresource, namespace), for the
//!   RBAC contract test;
//! - **fault injection**: the next N requests matching a verb and resource fail with a status code
//!   (409 conflicts, 500s).
//!
//! Known limits: selectors on watches are ignored; no bookmarks and no `410 Gone`; timing is
//! synchronous, unlike a real informer; and the fake's own gaps remain (SSA behaves like a merge,
//! so dropped fields are not removed; delete ignores finalizers; generation bumps on metadata-only
//! changes). The real-cluster tests cover those.

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use kube::client::Body as KubeBody;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

pub use kube_fake_client::ClientBuilder;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ResponseBody = BoxBody<Bytes, BoxError>;

/// One request made to the fake API.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiCall {
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Resource plural, e.g. `deployments`.
    pub resource: String,
    /// Subresource, e.g. `status`.
    pub subresource: Option<String>,
    /// Namespace, when namespaced.
    pub namespace: Option<String>,
    /// Object name, when addressed.
    pub name: Option<String>,
}

impl ApiCall {
    /// True for calls that change state.
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }
}

/// A fault to inject: the next `times` requests with `verb` on `resource` (plural, with
/// `/subresource` when relevant) answer `status`.
#[derive(Clone, Debug)]
pub struct Fault {
    pub verb: String,
    pub resource: String,
    pub status: u16,
    pub times: usize,
}

/// The parsed address of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Address {
    group: String,
    version: String,
    resource: String,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

impl Address {
    fn parse(path: &str) -> Option<Address> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (group, version, rest) = match parts.as_slice() {
            ["api", version, rest @ ..] => (String::new(), (*version).to_owned(), rest),
            ["apis", group, version, rest @ ..] => {
                ((*group).to_owned(), (*version).to_owned(), rest)
            }
            _ => return None,
        };
        let (namespace, rest) = match rest {
            ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some((*ns).to_owned()), rest),
            _ => (None, rest),
        };
        let (resource, name, subresource) = match rest {
            [resource] => ((*resource).to_owned(), None, None),
            [resource, name] => ((*resource).to_owned(), Some((*name).to_owned()), None),
            [resource, name, sub] => (
                (*resource).to_owned(),
                Some((*name).to_owned()),
                Some((*sub).to_owned()),
            ),
            _ => return None,
        };
        Some(Address {
            group,
            version,
            resource,
            namespace,
            name,
            subresource,
        })
    }

    fn collection_path(&self) -> String {
        let mut path = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = &self.namespace {
            path.push_str(&format!("/namespaces/{ns}"));
        }
        path.push('/');
        path.push_str(&self.resource);
        path
    }
}

type ObjectKey = (String, String);

/// A live watch: the collection it covers, what it last saw, and where its events go.
struct Watch {
    address: Address,
    seen: HashMap<ObjectKey, Value>,
    tx: mpsc::UnboundedSender<Result<Bytes, Infallible>>,
}

#[derive(Default)]
struct State {
    calls: Vec<ApiCall>,
    /// Calls the real API server refused with 401 or 403 ([`RecordingApi`] only).
    denied: Vec<ApiCall>,
    faults: Vec<Fault>,
    watches: Vec<Watch>,
    /// Snapshots handed out with LIST responses, by resourceVersion token.
    snapshots: HashMap<String, HashMap<ObjectKey, Value>>,
    next_token: u64,
}

/// The fake API: hand out [`FakeApi::client`] to the code under test.
#[derive(Clone)]
pub struct FakeApi {
    inner: kube::Client,
    state: Arc<Mutex<State>>,
    /// Serializes writes with their watch fan-out, so events keep the order of the writes.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// False for the handle the test itself writes through (its calls are not the operator's).
    record: bool,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi").finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakeApi {
    /// Wraps a fake client built by [`ClientBuilder`] (register custom resources and status
    /// subresources there).
    pub fn new(inner: kube::Client) -> FakeApi {
        FakeApi {
            inner,
            state: Arc::default(),
            write_lock: Arc::default(),
            record: true,
        }
    }

    /// A fake preloaded with the mcp-runtime CRDs (status subresources included) and the
    /// status subresources of the built-in kinds the operator reads status from.
    pub async fn with_mcp_runtime() -> FakeApi {
        use k8s_openapi::api::apps::v1::Deployment;
        use k8s_openapi::api::networking::v1::Ingress;
        use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession, MCPServer};
        let inner = ClientBuilder::new()
            .with_resource::<MCPServer>()
            .with_resource::<MCPAccessGrant>()
            .with_resource::<MCPAgentSession>()
            .with_status_subresource::<Marker<MCPServer>>()
            .with_status_subresource::<Marker<MCPAccessGrant>>()
            .with_status_subresource::<Marker<MCPAgentSession>>()
            .with_status_subresource::<Deployment>()
            .with_status_subresource::<Ingress>()
            .build()
            .await
            .expect("fake client");
        FakeApi::new(inner)
    }

    /// A client whose requests go through the watch layer, the recorder and the faults.
    pub fn client(&self) -> kube::Client {
        kube::Client::new(self.clone(), "default")
    }

    /// A client for the test's own requests: same API and watches, but its calls are not recorded
    /// and faults do not apply to them.
    pub fn test_client(&self) -> kube::Client {
        let mut unrecorded = self.clone();
        unrecorded.record = false;
        kube::Client::new(unrecorded, "default")
    }

    /// Every call made so far.
    pub fn calls(&self) -> Vec<ApiCall> {
        lock(&self.state).calls.clone()
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        lock(&self.state).calls.clear();
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    /// Faults not consumed yet.
    pub fn pending_faults(&self) -> usize {
        lock(&self.state).faults.iter().map(|f| f.times).sum()
    }

    /// Number of open watches.
    pub fn watch_count(&self) -> usize {
        let mut state = lock(&self.state);
        state.watches.retain(|w| !w.tx.is_closed());
        state.watches.len()
    }

    async fn list(&self, address: &Address) -> Result<Vec<Value>, BoxError> {
        let request = Request::get(address.collection_path())
            .body(KubeBody::empty())
            .map_err(Box::new)?;
        let response = self.inner.send(request).await.map_err(Box::new)?;
        let bytes = response.into_body().collect().await?.to_bytes();
        let list: Value = serde_json::from_slice(&bytes)?;
        Ok(list
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    async fn handle(self, request: Request<KubeBody>) -> Result<Response<ResponseBody>, BoxError> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query: BTreeMap<String, String> = request
            .uri()
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let Some(address) = Address::parse(&path) else {
            return self.forward(request).await;
        };
        let watch = method == Method::GET && query.get("watch").is_some_and(|v| v == "true");
        let verb = match (&method, address.name.is_some()) {
            (&Method::GET, _) if watch => "watch",
            (&Method::GET, true) => "get",
            (&Method::GET, false) => "list",
            (&Method::POST, _) => "create",
            (&Method::PUT, _) => "update",
            (&Method::PATCH, _) => "patch",
            (&Method::DELETE, true) => "delete",
            (&Method::DELETE, false) => "deletecollection",
            _ => "unknown",
        };
        let call = ApiCall {
            verb: verb.to_owned(),
            group: address.group.clone(),
            resource: address.resource.clone(),
            subresource: address.subresource.clone(),
            namespace: address.namespace.clone(),
            name: address.name.clone(),
        };
        let resource_key = match &address.subresource {
            Some(sub) => format!("{}/{sub}", address.resource),
            None => address.resource.clone(),
        };
        let fault = if !self.record {
            None
        } else {
            let mut state = lock(&self.state);
            state.calls.push(call.clone());
            let hit = state
                .faults
                .iter_mut()
                .find(|f| f.times > 0 && f.verb == verb && f.resource == resource_key);
            hit.map(|f| {
                f.times -= 1;
                f.status
            })
        };
        if let Some(status) = fault {
            return Ok(status_response(status, &format!("injected {status}")));
        }
        if watch {
            return self
                .start_watch(address, query.get("resourceVersion"))
                .await;
        }
        if method == Method::GET {
            let response = self.forward(request).await?;
            if address.name.is_some() {
                return Ok(response);
            }
            return self.tokenize_list(response).await;
        }
        let _guard = self.write_lock.clone().lock_owned().await;
        let (parts, body) = self
            .inner
            .send(request)
            .await
            .map_err(Box::new)?
            .into_parts();
        let bytes = body.collect().await?.to_bytes();
        if parts.status.is_success() {
            if method == Method::DELETE {
                self.relist_all().await;
            } else if let Ok(object) = serde_json::from_slice::<Value>(&bytes) {
                self.observe(&address, object);
            }
        }
        Ok(Response::from_parts(parts, full(bytes)))
    }

    async fn forward(
        &self,
        request: Request<KubeBody>,
    ) -> Result<Response<ResponseBody>, BoxError> {
        let (parts, body) = self
            .inner
            .send(request)
            .await
            .map_err(Box::new)?
            .into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, full(bytes)))
    }

    /// Rewrites a LIST response's resourceVersion to a token for its snapshot.
    async fn tokenize_list(
        &self,
        response: Response<ResponseBody>,
    ) -> Result<Response<ResponseBody>, BoxError> {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        let Ok(mut list) = serde_json::from_slice::<Value>(&bytes) else {
            return Ok(Response::from_parts(parts, full(bytes)));
        };
        if !parts.status.is_success() {
            return Ok(Response::from_parts(parts, full(bytes)));
        }
        let snapshot: HashMap<ObjectKey, Value> = list
            .get("items")
            .and_then(Value::as_array)
            .map(|items| items.iter().map(|o| (key_of(o), o.clone())).collect())
            .unwrap_or_default();
        let token = {
            let mut state = lock(&self.state);
            state.next_token += 1;
            let token = format!("fake-{}", state.next_token);
            state.snapshots.insert(token.clone(), snapshot);
            token
        };
        list["metadata"]["resourceVersion"] = Value::String(token);
        Ok(Response::from_parts(
            parts,
            full(Bytes::from(list.to_string())),
        ))
    }

    async fn start_watch(
        &self,
        address: Address,
        resource_version: Option<&String>,
    ) -> Result<Response<ResponseBody>, BoxError> {
        let _guard = self.write_lock.clone().lock_owned().await;
        let current = self.list(&address).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = lock(&self.state);
        let baseline = resource_version.and_then(|rv| state.snapshots.remove(rv));
        let mut watch = Watch {
            address,
            seen: baseline.unwrap_or_else(|| {
                current
                    .iter()
                    .map(|o| (key_of(o), o.clone()))
                    .collect::<HashMap<_, _>>()
            }),
            tx,
        };
        // Catch up on what changed between the LIST and this watch.
        diff_into(&mut watch, &current);
        state.watches.push(watch);
        let stream = tokio_stream_from(rx).map(|chunk| chunk.map(http_body::Frame::data));
        let body = StreamBody::new(stream).map_err(|e: Infallible| -> BoxError { match e {} });
        Ok(Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(BoxBody::new(body))?)
    }

    /// Emits the event a successful write of `object` causes, to the watches covering it.
    fn observe(&self, address: &Address, object: Value) {
        if object.get("kind").and_then(Value::as_str) == Some("Status") {
            return;
        }
        let key = key_of(&object);
        let mut state = lock(&self.state);
        state.watches.retain(|w| !w.tx.is_closed());
        for watch in &mut state.watches {
            let covered = watch.address.group == address.group
                && watch.address.resource == address.resource
                && watch
                    .address
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == key.0);
            if !covered {
                continue;
            }
            let kind = match watch.seen.get(&key) {
                None => "ADDED",
                Some(old) if !same_object(old, &object) => "MODIFIED",
                Some(_) => continue,
            };
            watch.seen.insert(key.clone(), object.clone());
            send(watch, kind, &object);
        }
    }

    /// After a delete (which may cascade): re-list every watched collection and emit the diff.
    async fn relist_all(&self) {
        let addresses: Vec<Address> = {
            let mut state = lock(&self.state);
            state.watches.retain(|w| !w.tx.is_closed());
            let mut addresses: Vec<Address> =
                state.watches.iter().map(|w| w.address.clone()).collect();
            addresses.dedup();
            addresses
        };
        let mut lists = Vec::new();
        for address in addresses {
            if let Ok(items) = self.list(&address).await {
                lists.push((address, items));
            }
        }
        let mut state = lock(&self.state);
        for watch in &mut state.watches {
            if let Some((_, items)) = lists.iter().find(|(a, _)| *a == watch.address) {
                diff_into(watch, items);
            }
        }
    }
}

/// Emits ADDED / MODIFIED / DELETED for the difference between what `watch` saw and `current`.
fn diff_into(watch: &mut Watch, current: &[Value]) {
    let now: HashMap<ObjectKey, &Value> = current.iter().map(|o| (key_of(o), o)).collect();
    let gone: Vec<ObjectKey> = watch
        .seen
        .keys()
        .filter(|k| !now.contains_key(*k))
        .cloned()
        .collect();
    for key in gone {
        if let Some(old) = watch.seen.remove(&key) {
            send(watch, "DELETED", &old);
        }
    }
    for (key, object) in now {
        let kind = match watch.seen.get(&key) {
            None => "ADDED",
            Some(old) if !same_object(old, object) => "MODIFIED",
            Some(_) => continue,
        };
        watch.seen.insert(key, object.clone());
        send(watch, kind, object);
    }
}

fn send(watch: &Watch, kind: &str, object: &Value) {
    let mut line = serde_json::json!({"type": kind, "object": object}).to_string();
    line.push('\n');
    let _ = watch.tx.send(Ok(Bytes::from(line)));
}

fn key_of(object: &Value) -> ObjectKey {
    let meta = &object["metadata"];
    (
        meta["namespace"].as_str().unwrap_or_default().to_owned(),
        meta["name"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Equal apart from what the fake changes on writes that change nothing.
fn same_object(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            meta.remove("generation");
            meta.remove("managedFields");
        }
        v
    }
    strip(a) == strip(b)
}

fn full(bytes: Bytes) -> ResponseBody {
    BoxBody::new(Full::new(bytes).map_err(|e: Infallible| -> BoxError { match e {} }))
}

fn status_response(code: u16, message: &str) -> Response<ResponseBody> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = match code {
        409 => "Conflict",
        404 => "NotFound",
        403 => "Forbidden",
        _ => "InternalError",
    };
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    let mut response = Response::new(full(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

impl tower_service::Service<Request<KubeBody>> for FakeApi {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<KubeBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(this.handle(request))
    }
}

/// `with_status_subresource` wants a `Default` object to read the apiVersion and kind from; the
/// custom resources have required spec fields, so this stands in for them.
#[derive(serde::Serialize)]
struct Marker<K> {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    metadata: kube::core::ObjectMeta,
    #[serde(skip)]
    _kind: std::marker::PhantomData<K>,
}

impl<K: kube::Resource<DynamicType = ()>> Default for Marker<K> {
    fn default() -> Self {
        Marker {
            api_version: K::api_version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            metadata: kube::core::ObjectMeta::default(),
            _kind: std::marker::PhantomData,
        }
    }
}

impl<K: kube::Resource<DynamicType = ()>> kube::Resource for Marker<K> {
    type DynamicType = ();
    type Scope = K::Scope;
    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        K::kind(&())
    }
    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        K::group(&())
    }
    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        K::version(&())
    }
    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        K::plural(&())
    }
    fn meta(&self) -> &kube::core::ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut kube::core::ObjectMeta {
        &mut self.metadata
    }
}

/// A recording layer over a real cluster's client: every call is recorded as [`ApiCall`] (for the
/// RBAC contract on a real API server) and [`Fault`]s apply, as with [`FakeApi`].
#[derive(Clone)]
pub struct RecordingApi {
    inner: kube::Client,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for RecordingApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingApi").finish_non_exhaustive()
    }
}

impl RecordingApi {
    pub fn new(inner: kube::Client) -> RecordingApi {
        RecordingApi {
            inner,
            state: Arc::default(),
        }
    }

    /// A client whose calls are recorded.
    pub fn client(&self) -> kube::Client {
        let namespace = self.inner.default_namespace().to_owned();
        kube::Client::new(self.clone(), namespace)
    }

    pub fn calls(&self) -> Vec<ApiCall> {
        lock(&self.state).calls.clone()
    }

    pub fn clear_calls(&self) {
        lock(&self.state).calls.clear();
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    /// The calls the API server refused as unauthenticated or forbidden (401, 403): with an
    /// impersonated client, every call RBAC does not grant.
    pub fn denied(&self) -> Vec<ApiCall> {
        lock(&self.state).denied.clone()
    }

    async fn handle(self, request: Request<KubeBody>) -> Result<Response<KubeBody>, BoxError> {
        let call = classify(&request).map(|(call, _)| call);
        let fault = classify(&request).and_then(|(call, key)| {
            let mut state = lock(&self.state);
            state.calls.push(call.clone());
            let hit = state
                .faults
                .iter_mut()
                .find(|f| f.times > 0 && f.verb == call.verb && f.resource == key)?;
            hit.times -= 1;
            Some(hit.status)
        });
        if let Some(status) = fault {
            let (parts, body) = status_response(status, "injected").into_parts();
            let bytes = body.collect().await?.to_bytes();
            return Ok(Response::from_parts(parts, KubeBody::from(bytes.to_vec())));
        }
        let response = self.inner.send(request).await.map_err(Box::new)?;
        if matches!(response.status().as_u16(), 401 | 403)
            && let Some(call) = call
        {
            lock(&self.state).denied.push(call);
        }
        Ok(response)
    }
}

impl tower_service::Service<Request<KubeBody>> for RecordingApi {
    type Response = Response<KubeBody>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<KubeBody>) -> Self::Future {
        Box::pin(self.clone().handle(request))
    }
}

/// The call a request makes, and its `resource[/subresource]` key for faults.
fn classify(request: &Request<KubeBody>) -> Option<(ApiCall, String)> {
    let address = Address::parse(request.uri().path())?;
    let watch = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true"));
    let verb = match (request.method(), address.name.is_some()) {
        (&Method::GET, _) if watch => "watch",
        (&Method::GET, true) => "get",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => "unknown",
    };
    let key = match &address.subresource {
        Some(sub) => format!("{}/{sub}", address.resource),
        None => address.resource.clone(),
    };
    Some((
        ApiCall {
            verb: verb.to_owned(),
            group: address.group,
            resource: address.resource,
            subresource: address.subresource,
            namespace: address.namespace,
            name: address.name,
        },
        key,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = Address::parse("/apis/apps/v1/namespaces/ns/deployments/web/status").expect("a");
        assert_eq!(a.group, "apps");
        assert_eq!(a.namespace.as_deref(), Some("ns"));
        assert_eq!(a.name.as_deref(), Some("web"));
        assert_eq!(a.subresource.as_deref(), Some("status"));
        assert_eq!(
            a.collection_path(),
            "/apis/apps/v1/namespaces/ns/deployments"
        );
        let core = Address::parse("/api/v1/configmaps").expect("core");
        assert_eq!(core.group, "");
        assert_eq!(core.namespace, None);
        assert_eq!(core.resource, "configmaps");
        let ns = Address::parse("/api/v1/namespaces/ns").expect("namespace object");
        assert_eq!(ns.resource, "namespaces");
        assert_eq!(ns.name.as_deref(), Some("ns"));
    }

    #[test]
    fn no_op_writes_are_not_changes() {
        let a = serde_json::json!({"metadata": {"name": "a", "resourceVersion": "1"}, "data": {"k": "v"}});
        let b = serde_json::json!({"metadata": {"name": "a", "resourceVersion": "2"}, "data": {"k": "v"}});
        let c = serde_json::json!({"metadata": {"name": "a", "resourceVersion": "3"}, "data": {"k": "w"}});
        assert!(same_object(&a, &b));
        assert!(!same_object(&a, &c));
    }
}
