//! Audit events for mcp-runtime and their delivery.
//!
//! # Envelope
//!
//! [`AuditEvent`] keeps MR's envelope (`timestamp`, `trace_id`, `source`,
//! `event_type`, `payload`) and adds a unique, time-ordered `event_id`
//! (a UUIDv7 string). The request payload ([`RequestPayload`]) carries MR's
//! field names: the always-present fields are always serialized, the optional
//! ones are omitted when unset.
//!
//! # Delivery semantics
//!
//! Delivery through [`HttpSink`] is **at-least-once**:
//!
//! - [`AuditSink::emit`] never blocks on the network. Events go to a bounded
//!   in-memory queue; when that queue is full they wait in an overflow behind
//!   it (later events line up behind them), so that the order of delivery
//!   stays the order of emission. Beyond 16 times the queue's capacity they
//!   are appended to the disk spool instead of being dropped (kept, but then
//!   possibly ahead of older events).
//! - A background task batches events (up to `batch_max` events or
//!   `batch_interval`) and POSTs them as a JSON array. A batch that is not
//!   acknowledged with a 2xx (error status, connection error, 3 s timeout) is
//!   appended to the disk spool (append-only JSON-lines segment files).
//! - While the spool is non-empty, the task retries with exponential backoff
//!   and replays the spool in order before it sends anything new; new batches
//!   are appended behind the spooled ones meanwhile. Spool files survive a
//!   restart: a new sink over the same directory replays them.
//! - A batch (or a spool segment) may be sent more than once, for example when
//!   the ingest stored it but the acknowledgement was lost, or when a segment
//!   is only partly replayed before the ingest fails again. **Receivers must
//!   dedupe by `event_id`** (Sentinel does).
//! - Events are only lost when the spool is full (its total size is bounded)
//!   or the spool cannot be written. Such drops are counted
//!   ([`HttpSink::dropped_total`]) and logged with `tracing::warn!` at every
//!   power of two of the count; nothing is dropped silently.
//!
//! Operational notes:
//!
//! - Use one [`HttpSink`] per spool directory at a time.
//! - `http://` and `https://` ingest URLs (rustls with the system trust store or a CA bundle,
//!   and an optional client certificate; see `mcp-runtime-tls`).
//! - Call [`HttpSink::shutdown`] on graceful shutdown: it delivers what it can
//!   and spools the rest for the next instance. Dropping the sink does the
//!   same on a best-effort basis while the runtime is still running.
//!
//! [`StdoutSink`] writes one JSON object per line to stdout.

pub mod chain;
mod event;
mod sink;
mod spool;

pub use chain::{Chainer, Checkpoint, EVENT_TYPE_CHECKPOINT, PublicKey, Signer};
pub use event::{AuditEvent, Decision, EVENT_TYPE_REQUEST, RequestPayload, ValidationError};
pub use sink::{AuditSink, HttpSink, HttpSinkConfig, HttpSinkError, StdoutSink};
