//! The built-in example MCP server (`mcp-runtime example-server`).
//!
//! Built on the official Rust SDK (`rmcp`), it serves six tools over stdio or streamable HTTP:
//!
//! | tool | annotations | what it does |
//! |---|---|---|
//! | `echo(message)` | read-only | returns `message` |
//! | `add(a, b)` | read-only | returns `a + b` |
//! | `countdown(steps, delay_ms)` | read-only | counts down, one `notifications/progress` per step when the request carries a `progressToken` |
//! | `create_note(text)` | write | stores a note in memory, returns it with its id |
//! | `list_notes()` | read-only | the notes, oldest first |
//! | `delete_note(id)` | destructive | removes a note |
//!
//! Notes live in memory, shared by every session of one process and lost when it exits.
//!
//! Over HTTP the MCP endpoint is `/mcp` (both protocol eras: legacy sessions with their GET
//! stream, resumption and DELETE, and stateless 2026-07-28 requests); `/health` answers 200.
//! Accepted sockets get `TCP_NODELAY`, so small replies never wait on Nagle's algorithm.

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, RequestMetaObject,
    ServerCapabilities, ServerConfig,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{
    ErrorData, Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Largest `steps` a countdown accepts.
pub const MAX_COUNTDOWN_STEPS: u32 = 1_000;
/// Largest `delay_ms` a countdown accepts.
pub const MAX_COUNTDOWN_DELAY_MS: u64 = 10_000;
/// Largest number of notes kept; `create_note` fails beyond it.
pub const MAX_NOTES: usize = 10_000;

/// One note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: u64,
    pub text: String,
}

/// The in-memory note store, shared by every session of a server.
#[derive(Debug, Default)]
pub struct Notes {
    inner: Mutex<NotesInner>,
}

#[derive(Debug, Default)]
struct NotesInner {
    next_id: u64,
    notes: Vec<Note>,
}

impl Notes {
    fn lock(&self) -> std::sync::MutexGuard<'_, NotesInner> {
        // A panic while holding the lock cannot leave the notes half-written: recover them.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a note; `None` when the store is full.
    pub fn create(&self, text: String) -> Option<Note> {
        let mut inner = self.lock();
        if inner.notes.len() >= MAX_NOTES {
            return None;
        }
        inner.next_id += 1;
        let note = Note {
            id: inner.next_id,
            text,
        };
        inner.notes.push(note.clone());
        Some(note)
    }

    /// Every note, oldest first.
    pub fn list(&self) -> Vec<Note> {
        self.lock().notes.clone()
    }

    /// Removes the note `id`; `None` when there is none.
    pub fn delete(&self, id: u64) -> Option<Note> {
        let mut inner = self.lock();
        let position = inner.notes.iter().position(|n| n.id == id)?;
        Some(inner.notes.remove(position))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// The text to send back.
    pub message: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddArgs {
    /// The first addend.
    pub a: f64,
    /// The second addend.
    pub b: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CountdownArgs {
    /// How many steps to count down (at most 1000).
    pub steps: u32,
    /// Pause before each step, in milliseconds (at most 10000).
    #[serde(default)]
    pub delay_ms: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateNoteArgs {
    /// The note's text.
    pub text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteNoteArgs {
    /// The id `create_note` returned.
    pub id: u64,
}

/// The example server: one value per MCP session, sharing the note store.
#[derive(Clone, Debug)]
pub struct ExampleServer {
    notes: Arc<Notes>,
    tool_router: ToolRouter<Self>,
}

impl Default for ExampleServer {
    fn default() -> Self {
        Self::with_notes(Arc::default())
    }
}

/// Formats a number as an integer when it is one (`3`, not `3.0`).
fn format_number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

fn json_text(value: &impl Serialize) -> ContentBlock {
    ContentBlock::text(serde_json::to_string(value).unwrap_or_default())
}

#[tool_router]
impl ExampleServer {
    /// A server with its own, empty note store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A server using `notes` (shared between the sessions of one HTTP server).
    pub fn with_notes(notes: Arc<Notes>) -> Self {
        ExampleServer {
            notes,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Return the message unchanged.",
        annotations(title = "Echo", read_only_hint = true, open_world_hint = false)
    )]
    fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        args.message
    }

    #[tool(
        description = "Add two numbers.",
        annotations(title = "Add", read_only_hint = true, open_world_hint = false)
    )]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        format_number(a + b)
    }

    #[tool(
        description = "Count down from `steps` to zero, pausing `delay_ms` before each step. \
                       Sends one notifications/progress per step when the request has a progressToken.",
        annotations(title = "Countdown", read_only_hint = true, open_world_hint = false)
    )]
    async fn countdown(
        &self,
        Parameters(args): Parameters<CountdownArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        if args.steps > MAX_COUNTDOWN_STEPS || args.delay_ms > MAX_COUNTDOWN_DELAY_MS {
            return Err(ErrorData::invalid_params(
                format!(
                    "steps must be at most {MAX_COUNTDOWN_STEPS} and delay_ms at most {MAX_COUNTDOWN_DELAY_MS}"
                ),
                None,
            ));
        }
        let token = meta.get_progress_token();
        for step in 1..=args.steps {
            if args.delay_ms > 0 {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(args.delay_ms)) => {}
                    () = cancel.cancelled() => {
                        return Ok(CallToolResult::error(vec![ContentBlock::text("countdown cancelled")]));
                    }
                }
            }
            if let Some(token) = &token {
                let remaining = args.steps - step;
                let progress = ProgressNotificationParam::new(token.clone(), f64::from(step))
                    .with_total(f64::from(args.steps))
                    .with_message(format!("{remaining} to go"));
                // A client that stopped listening still gets its result.
                let _ = peer.notify_progress(progress).await;
            }
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "liftoff after {} steps",
            args.steps
        ))]))
    }

    #[tool(
        description = "Store a note in memory. Returns the note with its id.",
        annotations(
            title = "Create note",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    fn create_note(&self, Parameters(args): Parameters<CreateNoteArgs>) -> CallToolResult {
        match self.notes.create(args.text) {
            Some(note) => CallToolResult::success(vec![json_text(&note)]),
            None => CallToolResult::error(vec![ContentBlock::text(format!(
                "the note store is full ({MAX_NOTES} notes)"
            ))]),
        }
    }

    #[tool(
        description = "List the stored notes, oldest first.",
        annotations(title = "List notes", read_only_hint = true, open_world_hint = false)
    )]
    fn list_notes(&self) -> CallToolResult {
        CallToolResult::success(vec![json_text(&self.notes.list())])
    }

    #[tool(
        description = "Delete a note by id.",
        annotations(
            title = "Delete note",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    fn delete_note(&self, Parameters(args): Parameters<DeleteNoteArgs>) -> CallToolResult {
        match self.notes.delete(args.id) {
            Some(note) => CallToolResult::success(vec![json_text(&note)]),
            None => CallToolResult::error(vec![ContentBlock::text(format!(
                "no note with id {}",
                args.id
            ))]),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ExampleServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("mcp-runtime-example-server", env!("CARGO_PKG_VERSION"))
                    .with_title("mcp-runtime example server"),
            )
            .with_instructions(
                "Example tools: echo, add, countdown (progress notifications), and in-memory notes \
                 (create_note, list_notes, delete_note).",
            )
    }
}

/// Serves one MCP session on stdin/stdout until the client closes it.
pub async fn serve_stdio() -> std::io::Result<()> {
    let running = ExampleServer::new()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

type HttpBody = http_body_util::combinators::BoxBody<bytes::Bytes, Infallible>;

fn plain(status: u16, text: &'static str) -> hyper::Response<HttpBody> {
    use http_body_util::BodyExt;
    let mut response = hyper::Response::new(
        http_body_util::Full::new(bytes::Bytes::from_static(text.as_bytes())).boxed(),
    );
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::NOT_FOUND);
    response
}

/// Serves MCP streamable HTTP at `/mcp` on `listener` until `shutdown` is cancelled.
///
/// On a loopback listener the `Host` header must name a loopback host (DNS-rebinding
/// protection); on any other address every host is accepted, since the server is then reached
/// by names it cannot know (a Kubernetes Service, a pod IP).
pub async fn serve_http(listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let mut config =
        StreamableHttpServerConfig::default().with_cancellation_token(shutdown.child_token());
    if !local.ip().is_loopback() {
        config = config.disable_allowed_hosts();
    }
    let notes = Arc::new(Notes::default());
    let service = StreamableHttpService::new(
        move || Ok(ExampleServer::with_notes(notes.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before accept: keep serving.
                Err(_) => {
                    tokio::task::yield_now().await;
                    continue;
                }
            },
            () = shutdown.cancelled() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let service = service.clone();
                async move {
                    let response = match request.uri().path() {
                        "/mcp" => service.handle(request).await,
                        "/health" => plain(200, "ok"),
                        _ => plain(404, "not found: the MCP endpoint is /mcp"),
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handler);
            tokio::select! {
                _ = connection => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
}
