//! The shared worker for stateless (2026-07-28) requests.
//!
//! One process serves every modern client. The bridge performs the `initialize` handshake with
//! it once (as a handshake-era client, which every stdio server understands), then forwards each
//! request with its id — and its progress token — rewritten to a bridge-unique value, so
//! concurrent clients never collide, and maps the response back. Results are made valid for a
//! 2026-07-28 client (`resultType`, and `ttlMs`/`cacheScope` on lists). The per-request
//! envelope (`_meta["io.modelcontextprotocol/…"]`) is removed before forwarding: the worker is in
//! a handshake-era conversation, and dual-era servers (the Python SDK's) refuse modern envelopes
//! there. Server→client requests
//! have no channel in the stateless era: the bridge answers them with an error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::child::{self, ChildProcess, Launch};
use crate::rpc::{self, codes};

#[derive(Debug)]
enum Waiter {
    Json(oneshot::Sender<Value>),
    Sse(mpsc::Sender<Bytes>),
}

#[derive(Debug)]
struct Pending {
    original_id: Value,
    method: String,
    progress: Option<(String, Value)>,
    waiter: Waiter,
}

#[derive(Debug, Default)]
struct State {
    closed: bool,
    next_id: u64,
    pending: HashMap<u64, Pending>,
}

#[derive(Debug)]
pub(crate) struct Worker {
    pub process: Arc<ChildProcess>,
    /// The server's InitializeResult.
    pub initialize_result: Value,
    state: Arc<Mutex<State>>,
}

/// How a modern request wants its reply.
pub(crate) enum Reply {
    Json(oneshot::Receiver<Value>),
    Sse(mpsc::Receiver<Bytes>),
}

/// Removes a request that is abandoned before its response (the client went away) and tells
/// the server with `notifications/cancelled`, as closing the response stream is the
/// cancellation in the stateless era.
#[derive(Debug)]
pub(crate) struct CancelOnDrop {
    worker: Arc<Worker>,
    id: u64,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let removed = lock(&self.worker.state).pending.remove(&self.id).is_some();
        if removed {
            let process = self.worker.process.clone();
            let id = self.id;
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = process
                        .send(&json!({
                            "jsonrpc": "2.0",
                            "method": "notifications/cancelled",
                            "params": {"requestId": id, "reason": "the client closed the request"},
                        }))
                        .await;
                });
            }
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a worker could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("could not start the MCP server: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("the MCP server did not complete the initialize handshake: {0}")]
    Handshake(String),
}

impl Worker {
    /// Spawns and initializes a worker.
    pub(crate) async fn start(
        launch: &Launch,
        timeout: Duration,
    ) -> Result<Arc<Worker>, StartError> {
        let (process, mut messages) =
            child::spawn(launch, "stateless worker").map_err(StartError::Spawn)?;
        let state = Arc::new(Mutex::new(State {
            next_id: 1,
            ..State::default()
        }));
        let initialize = json!({
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": rpc::WORKER_PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "mcp-runtime-bridge", "version": env!("CARGO_PKG_VERSION")},
            },
        });
        let handshake = async {
            process
                .send(&initialize)
                .await
                .map_err(|e| StartError::Handshake(e.to_string()))?;
            // Servers may write notifications before the result (server-everything does).
            while let Some(message) = messages.recv().await {
                if rpc::is_response(&message) && message.get("id") == Some(&json!(0)) {
                    if let Some(result) = message.get("result") {
                        return Ok(result.clone());
                    }
                    return Err(StartError::Handshake(
                        message
                            .get("error")
                            .map(Value::to_string)
                            .unwrap_or_default(),
                    ));
                }
            }
            Err(StartError::Handshake(
                "the process exited before answering".into(),
            ))
        };
        let initialize_result = match tokio::time::timeout(timeout, handshake).await {
            Ok(Ok(result)) => result,
            Ok(Err(error)) => {
                process.terminate(child::Grace::default()).await;
                return Err(error);
            }
            Err(_) => {
                process.terminate(child::Grace::default()).await;
                return Err(StartError::Handshake(format!(
                    "no answer within {timeout:?}"
                )));
            }
        };
        let _ = process
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        let worker = Arc::new(Worker {
            process,
            initialize_result,
            state,
        });
        let dispatcher = worker.clone();
        tokio::spawn(async move {
            while let Some(message) = messages.recv().await {
                dispatcher.dispatch(message).await;
            }
            dispatcher.process.exited().await;
            dispatcher.close("the MCP server process exited");
        });
        Ok(worker)
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed || self.process.has_exited()
    }

    /// The `server/discover` result, derived from the handshake.
    pub(crate) fn discover_result(&self) -> Value {
        let init = &self.initialize_result;
        let mut result = json!({
            "supportedVersions": rpc::MODERN_VERSIONS,
            "capabilities": init.get("capabilities").cloned().unwrap_or_else(|| json!({})),
            "resultType": "complete",
            "cacheScope": "private",
            "ttlMs": 0,
        });
        if let Some(instructions) = init.get("instructions").filter(|i| i.is_string())
            && let Some(object) = result.as_object_mut()
        {
            object.insert("instructions".into(), instructions.clone());
        }
        if let Some(info) = init.get("serverInfo")
            && let Some(object) = result.as_object_mut()
        {
            object.insert(
                "_meta".into(),
                json!({"io.modelcontextprotocol/serverInfo": info}),
            );
        }
        result
    }

    /// Forwards a request under a fresh id. The guard cancels it if dropped before the reply.
    pub(crate) async fn request(
        self: &Arc<Self>,
        mut message: Value,
        sse: bool,
    ) -> Result<(Reply, CancelOnDrop), Value> {
        let original_id = message.get("id").cloned().unwrap_or(Value::Null);
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (id, reply) = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(rpc::error(
                    Some(&original_id),
                    codes::INTERNAL_ERROR,
                    "the MCP server process exited",
                    None,
                ));
            }
            let id = state.next_id;
            state.next_id += 1;
            let progress = rpc::progress_token(&message).cloned().map(|original| {
                let token = format!("mcp-runtime-bridge-{id}");
                (token, original)
            });
            if let Some((token, _)) = &progress
                && let Some(meta) = message
                    .get_mut("params")
                    .and_then(|p| p.get_mut("_meta"))
                    .and_then(Value::as_object_mut)
            {
                meta.insert("progressToken".into(), token.clone().into());
            }
            let (waiter, reply) = if sse {
                let (tx, rx) = mpsc::channel(64);
                (Waiter::Sse(tx), Reply::Sse(rx))
            } else {
                let (tx, rx) = oneshot::channel();
                (Waiter::Json(tx), Reply::Json(rx))
            };
            state.pending.insert(
                id,
                Pending {
                    original_id: original_id.clone(),
                    method,
                    progress,
                    waiter,
                },
            );
            (id, reply)
        };
        let guard = CancelOnDrop {
            worker: self.clone(),
            id,
        };
        if let Some(object) = message.as_object_mut() {
            object.insert("id".into(), id.into());
        }
        rpc::strip_modern_envelope(&mut message);
        if self.process.send(&message).await.is_err() {
            lock(&self.state).pending.remove(&id);
            return Err(rpc::error(
                Some(&original_id),
                codes::INTERNAL_ERROR,
                "the MCP server process is not accepting input",
                None,
            ));
        }
        Ok((reply, guard))
    }

    async fn dispatch(&self, mut message: Value) {
        if rpc::is_response(&message) {
            let Some(id) = message.get("id").and_then(Value::as_u64) else {
                return;
            };
            let Some(pending) = lock(&self.state).pending.remove(&id) else {
                return;
            };
            if let Some(object) = message.as_object_mut() {
                object.insert("id".into(), pending.original_id);
            }
            rpc::modernize_result(&pending.method, &mut message);
            match pending.waiter {
                Waiter::Json(tx) => {
                    let _ = tx.send(message);
                }
                Waiter::Sse(tx) => {
                    let _ = tx.try_send(rpc::sse_event(None, &message));
                }
            }
            return;
        }
        if let Some(token) = rpc::progress_notification_token(&message).and_then(Value::as_str) {
            let target = {
                let state = lock(&self.state);
                state.pending.values().find_map(|pending| {
                    match (&pending.progress, &pending.waiter) {
                        (Some((bridge, original)), Waiter::Sse(tx)) if bridge == token => {
                            Some((original.clone(), tx.clone()))
                        }
                        _ => None,
                    }
                })
            };
            if let Some((original, tx)) = target {
                if let Some(params) = message.get_mut("params").and_then(Value::as_object_mut) {
                    params.insert("progressToken".into(), original);
                }
                let _ = tx.try_send(rpc::sse_event(None, &message));
            }
            return;
        }
        if let Some(id) = message.get("id").cloned() {
            // A server→client request: no client can answer it in the stateless era.
            let method = message.get("method").and_then(Value::as_str).unwrap_or("");
            let error = rpc::error(
                Some(&id),
                codes::METHOD_NOT_FOUND,
                &format!(
                    "{method} is not available: the client uses the stateless protocol, which has no server-to-client requests"
                ),
                None,
            );
            let _ = self.process.send(&error).await;
        }
        // Other notifications (list_changed, logging) have no stateless stream to go to.
    }

    /// Fails every waiting request; the worker is replaced on the next request.
    pub(crate) fn close(&self, reason: &str) {
        let pending: Vec<Pending> = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.pending.drain().map(|(_, p)| p).collect()
        };
        for pending in pending {
            let error = rpc::error(
                Some(&pending.original_id),
                codes::INTERNAL_ERROR,
                reason,
                None,
            );
            match pending.waiter {
                Waiter::Json(tx) => {
                    let _ = tx.send(error);
                }
                Waiter::Sse(tx) => {
                    let _ = tx.try_send(rpc::sse_event(None, &error));
                }
            }
        }
    }
}
