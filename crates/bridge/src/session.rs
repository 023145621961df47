//! Legacy-era sessions (2024-11-05 … 2025-11-25): one stdio process per `Mcp-Session-Id`.
//!
//! Routing of what the process writes:
//! - a response goes to the request that is waiting for it (JSON reply or its SSE stream);
//! - a `notifications/progress` goes to the SSE stream of the request that set its token;
//! - anything else goes to the GET stream when one is open; otherwise a server request goes to
//!   the oldest in-flight SSE reply (it is almost always about that call: sampling,
//!   elicitation), and a notification waits in a bounded backlog for the next GET stream.
//!
//! Every SSE event gets the id `<stream>-<sequence>` and is kept in a bounded history, so a
//! `GET` with `Last-Event-ID` replays what came after it on that stream only.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::child::ChildProcess;
use crate::rpc::{self, codes};

/// The GET stream's number; request streams count up from 1.
pub(crate) const GET_STREAM: u64 = 0;

/// Most bytes of SSE events kept per session for `Last-Event-ID` replay.
const HISTORY_BYTES: usize = 8 * 1024 * 1024;

/// Capacity of a live SSE connection's queue. A client that falls this far behind is
/// disconnected and resumes with `Last-Event-ID`.
const STREAM_QUEUE: usize = 64;

#[derive(Debug)]
enum Waiter {
    Json(oneshot::Sender<Value>),
    Sse {
        stream: u64,
        progress_token: Option<Value>,
    },
}

#[derive(Debug)]
struct Recorded {
    stream: u64,
    sequence: u64,
    frame: Bytes,
}

#[derive(Debug, Default)]
struct State {
    closed: bool,
    pending: HashMap<String, Waiter>,
    /// Live SSE connections by stream number.
    live: HashMap<u64, mpsc::Sender<Bytes>>,
    next_stream: u64,
    next_sequence: u64,
    history: VecDeque<Recorded>,
    history_bytes: usize,
    backlog: VecDeque<Value>,
    last_active: Option<Instant>,
}

/// Bounds of one session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionLimits {
    pub history: usize,
    pub backlog: usize,
}

#[derive(Debug)]
pub(crate) struct Session {
    pub id: String,
    pub process: Arc<ChildProcess>,
    limits: SessionLimits,
    state: Mutex<State>,
}

/// How a request wants its reply.
pub(crate) enum Reply {
    Json(oneshot::Receiver<Value>),
    Sse(mpsc::Receiver<Bytes>),
}

/// Why a message could not be delivered to the session.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The session has ended (its process exited or it was deleted).
    Closed,
    /// Another request with the same id is still waiting for its response.
    DuplicateId,
}

impl Session {
    pub(crate) fn new(id: String, process: Arc<ChildProcess>, limits: SessionLimits) -> Self {
        Session {
            id,
            process,
            limits,
            state: Mutex::new(State {
                next_stream: GET_STREAM + 1,
                last_active: Some(Instant::now()),
                ..State::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn touch(&self) {
        self.lock().last_active = Some(Instant::now());
    }

    /// Idle since when, or `None` while an SSE connection or a request is open.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        let mut state = self.lock();
        state.live.retain(|_, tx| !tx.is_closed());
        if !state.live.is_empty() || !state.pending.is_empty() {
            return None;
        }
        state.last_active
    }

    /// Forwards a request and registers how its response is delivered.
    pub(crate) async fn request(&self, message: &Value, sse: bool) -> Result<Reply, SendError> {
        let key = rpc::id_key(message.get("id").unwrap_or(&Value::Null));
        let reply = {
            let mut state = self.lock();
            if state.closed {
                return Err(SendError::Closed);
            }
            if state.pending.contains_key(&key) {
                return Err(SendError::DuplicateId);
            }
            state.last_active = Some(Instant::now());
            if sse {
                let stream = state.next_stream;
                state.next_stream += 1;
                let (tx, rx) = mpsc::channel(STREAM_QUEUE);
                state.live.insert(stream, tx);
                state.pending.insert(
                    key.clone(),
                    Waiter::Sse {
                        stream,
                        progress_token: rpc::progress_token(message).cloned(),
                    },
                );
                Reply::Sse(rx)
            } else {
                let (tx, rx) = oneshot::channel();
                state.pending.insert(key.clone(), Waiter::Json(tx));
                Reply::Json(rx)
            }
        };
        if self.process.send(message).await.is_err() {
            let mut state = self.lock();
            if let Some(Waiter::Sse { stream, .. }) = state.pending.remove(&key) {
                state.live.remove(&stream);
            }
            return Err(SendError::Closed);
        }
        Ok(reply)
    }

    /// Forwards a notification or a response to a server request.
    pub(crate) async fn forward(&self, message: &Value) -> Result<(), SendError> {
        if self.is_closed() {
            return Err(SendError::Closed);
        }
        self.touch();
        self.process
            .send(message)
            .await
            .map_err(|_| SendError::Closed)
    }

    /// Routes one message from the process (see the module documentation).
    pub(crate) fn dispatch(&self, message: Value) {
        let mut state = self.lock();
        if rpc::is_response(&message) {
            let key = rpc::id_key(message.get("id").unwrap_or(&Value::Null));
            match state.pending.remove(&key) {
                Some(Waiter::Json(tx)) => {
                    let _ = tx.send(message);
                }
                Some(Waiter::Sse { stream, .. }) => {
                    self.emit(&mut state, stream, &message);
                    // The reply stream ends with its response.
                    state.live.remove(&stream);
                }
                None => tracing::warn!(
                    "[{}] dropped a response to unknown request id {key}",
                    self.process.label()
                ),
            }
            return;
        }
        if let Some(token) = rpc::progress_notification_token(&message) {
            let stream = state.pending.values().find_map(|waiter| match waiter {
                Waiter::Sse {
                    stream,
                    progress_token: Some(t),
                } if t == token => Some(*stream),
                _ => None,
            });
            if let Some(stream) = stream {
                self.emit(&mut state, stream, &message);
                return;
            }
        }
        if state.live.contains_key(&GET_STREAM) {
            self.emit(&mut state, GET_STREAM, &message);
            return;
        }
        if message.get("id").is_some() {
            let oldest = state
                .pending
                .values()
                .filter_map(|waiter| match waiter {
                    Waiter::Sse { stream, .. } if state.live.contains_key(stream) => Some(*stream),
                    _ => None,
                })
                .min();
            if let Some(stream) = oldest {
                self.emit(&mut state, stream, &message);
                return;
            }
        }
        if state.backlog.len() >= self.limits.backlog {
            state.backlog.pop_front();
            tracing::warn!(
                "[{}] no GET stream is open: dropped the oldest undelivered server message",
                self.process.label()
            );
        }
        state.backlog.push_back(message);
    }

    /// Records an event on a stream and sends it to the live connection, if any.
    fn emit(&self, state: &mut State, stream: u64, message: &Value) {
        let sequence = state.next_sequence;
        state.next_sequence += 1;
        let frame = rpc::sse_event(Some(&rpc::event_id(stream, sequence)), message);
        if self.limits.history > 0 && frame.len() <= HISTORY_BYTES {
            state.history_bytes += frame.len();
            state.history.push_back(Recorded {
                stream,
                sequence,
                frame: frame.clone(),
            });
            while state.history.len() > self.limits.history || state.history_bytes > HISTORY_BYTES {
                match state.history.pop_front() {
                    Some(old) => state.history_bytes -= old.frame.len(),
                    None => break,
                }
            }
        }
        if let Some(tx) = state.live.get(&stream)
            && tx.try_send(frame).is_err()
        {
            // Gone or too slow: the client resumes from the history with Last-Event-ID.
            state.live.remove(&stream);
        }
    }

    /// Opens a GET stream: a fresh server→client stream, or a replay after `last_event_id` of
    /// the stream that id belongs to (continuing live if that stream is still open).
    pub(crate) fn open_stream(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<mpsc::Receiver<Bytes>, SendError> {
        let mut state = self.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        state.last_active = Some(Instant::now());
        let resume = last_event_id.and_then(rpc::parse_event_id);
        let stream = resume.map_or(GET_STREAM, |(stream, _)| stream);
        // Replayed events plus whatever follows must fit, so the queue is sized to the replay.
        let replay: Vec<Bytes> = match resume {
            Some((stream, after)) => state
                .history
                .iter()
                .filter(|event| event.stream == stream && event.sequence > after)
                .map(|event| event.frame.clone())
                .collect(),
            None => Vec::new(),
        };
        let (tx, rx) = mpsc::channel(STREAM_QUEUE + replay.len() + self.limits.backlog);
        for frame in replay {
            let _ = tx.try_send(frame);
        }
        let still_open = stream == GET_STREAM
            || state
                .pending
                .values()
                .any(|waiter| matches!(waiter, Waiter::Sse { stream: s, .. } if *s == stream));
        if still_open {
            // A newer connection replaces an older one for the same stream.
            state.live.insert(stream, tx);
            if stream == GET_STREAM {
                let backlog: Vec<Value> = state.backlog.drain(..).collect();
                for message in backlog {
                    self.emit(&mut state, GET_STREAM, &message);
                }
            }
        }
        Ok(rx)
    }

    /// Sends an SSE comment on every open connection, so a client that went away is noticed
    /// (the write fails) and its stream no longer keeps the session alive.
    pub(crate) fn keep_alive(&self) {
        let mut state = self.lock();
        state
            .live
            .retain(|_, tx| tx.try_send(Bytes::from_static(b": keep-alive\n\n")).is_ok());
    }

    /// Ends the session: later requests are refused, waiting requests get an error.
    pub(crate) fn close(&self, reason: &str) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        let pending: Vec<(String, Waiter)> = state.pending.drain().collect();
        for (key, waiter) in pending {
            let id: Value = serde_json::from_str(&key).unwrap_or(Value::Null);
            let error = rpc::error(Some(&id), codes::INTERNAL_ERROR, reason, None);
            match waiter {
                Waiter::Json(tx) => {
                    let _ = tx.send(error);
                }
                Waiter::Sse { stream, .. } => {
                    self.emit(&mut state, stream, &error);
                }
            }
        }
        state.live.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::{self, Grace, Launch};
    use serde_json::json;

    /// `sleep` ignores its stdin: go straight to SIGTERM.
    const QUICK: Grace = Grace {
        after_stdin_close: std::time::Duration::ZERO,
        after_sigterm: std::time::Duration::from_secs(5),
    };

    /// A session whose process never answers: the tests play the server with `dispatch`.
    async fn session(history: usize, backlog: usize) -> Session {
        let launch = Launch {
            program: "sleep".into(),
            args: vec!["1000".into()],
            env: Vec::new(),
            cwd: None,
            max_line_bytes: 1024,
        };
        let (process, _messages) = child::spawn(&launch, "test").expect("spawn sleep");
        Session::new("s".into(), process, SessionLimits { history, backlog })
    }

    fn drain(rx: &mut mpsc::Receiver<Bytes>) -> Vec<String> {
        let mut frames = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            frames.push(String::from_utf8_lossy(&frame).into_owned());
        }
        frames
    }

    fn data(frame: &str) -> Value {
        let line = frame
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("data line");
        serde_json::from_str(line).expect("JSON")
    }

    #[tokio::test]
    async fn progress_follows_its_token_and_the_response_ends_the_stream() {
        let session = session(16, 16).await;
        let request = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"name":"slow","_meta":{"progressToken":"t"}}});
        let Ok(Reply::Sse(mut rx)) = session.request(&request, true).await else {
            panic!("an SSE reply");
        };
        session.dispatch(json!({"jsonrpc":"2.0","method":"notifications/progress",
            "params":{"progressToken":"t","progress":1}}));
        session.dispatch(json!({"jsonrpc":"2.0","method":"notifications/message",
            "params":{"level":"info","data":"elsewhere"}}));
        session.dispatch(json!({"jsonrpc":"2.0","id":1,"result":{"content":[]}}));
        let frames = drain(&mut rx);
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(data(&frames[0])["method"], "notifications/progress");
        assert_eq!(data(&frames[1])["id"], 1);
        assert!(
            rx.recv().await.is_none(),
            "the stream ends after the response"
        );

        // The log message waited for a GET stream.
        let mut get = session.open_stream(None).expect("GET");
        let frames = drain(&mut get);
        assert_eq!(frames.len(), 1);
        assert_eq!(data(&frames[0])["method"], "notifications/message");
        assert!(frames[0].starts_with("id: 0-"));
        session.process.terminate(QUICK).await;
    }

    #[tokio::test]
    async fn a_server_request_without_a_get_stream_goes_to_the_open_request_stream() {
        let session = session(16, 16).await;
        let request = json!({"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}});
        let Ok(Reply::Sse(mut rx)) = session.request(&request, true).await else {
            panic!("an SSE reply");
        };
        session.dispatch(json!({"jsonrpc":"2.0","id":0,"method":"elicitation/create","params":{}}));
        let frames = drain(&mut rx);
        assert_eq!(frames.len(), 1);
        assert_eq!(data(&frames[0])["method"], "elicitation/create");
        assert!(matches!(
            session.request(&request, true).await,
            Err(SendError::DuplicateId)
        ));
        session.process.terminate(QUICK).await;
    }

    #[tokio::test]
    async fn last_event_id_replays_only_later_events_of_that_stream() {
        let session = session(16, 16).await;
        let request = json!({"jsonrpc":"2.0","id":5,"method":"tools/call",
            "params":{"name":"slow","_meta":{"progressToken":9}}});
        let Ok(Reply::Sse(mut rx)) = session.request(&request, true).await else {
            panic!("an SSE reply");
        };
        for progress in 1..=3 {
            session.dispatch(json!({"jsonrpc":"2.0","method":"notifications/progress",
                "params":{"progressToken":9,"progress":progress}}));
        }
        let frames = drain(&mut rx);
        let first_id = frames[0]
            .lines()
            .find_map(|l| l.strip_prefix("id: "))
            .expect("id")
            .to_owned();
        drop(rx);
        let mut resumed = session.open_stream(Some(&first_id)).expect("resume");
        session.dispatch(json!({"jsonrpc":"2.0","id":5,"result":{}}));
        let replay: Vec<Value> = drain(&mut resumed).iter().map(|f| data(f)).collect();
        assert_eq!(replay.len(), 3, "{replay:?}");
        assert_eq!(replay[0]["params"]["progress"], 2);
        assert_eq!(replay[1]["params"]["progress"], 3);
        assert_eq!(replay[2]["id"], 5, "the resumed stream continues live");
        assert!(resumed.recv().await.is_none());
        session.process.terminate(QUICK).await;
    }

    #[tokio::test]
    async fn the_backlog_is_bounded_and_close_fails_waiting_requests() {
        let session = session(16, 2).await;
        for n in 0..5 {
            session.dispatch(
                json!({"jsonrpc":"2.0","method":"notifications/message","params":{"n":n}}),
            );
        }
        let request = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
        let Ok(Reply::Json(rx)) = session.request(&request, false).await else {
            panic!("a JSON reply");
        };
        let mut get = session.open_stream(None).expect("GET");
        let kept: Vec<Value> = drain(&mut get)
            .iter()
            .map(|f| data(f)["params"]["n"].clone())
            .collect();
        assert_eq!(kept, [json!(3), json!(4)], "the newest messages are kept");
        session.close("gone");
        let error = rx.await.expect("an error reply");
        assert_eq!(error["error"]["message"], "gone");
        assert!(matches!(
            session.request(&request, false).await,
            Err(SendError::Closed)
        ));
        assert!(get.recv().await.is_none(), "streams end with the session");
        session.process.terminate(QUICK).await;
    }
}
