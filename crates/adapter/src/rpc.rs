//! The JSON-RPC messages the adapter reads and writes itself.

use mcp_runtime_protocol::inspect::META_PROTOCOL_VERSION;
use serde_json::{Map, Value, json};

pub use mcp_runtime_protocol::codes;

/// What a client message is, as far as the adapter cares.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    /// Has a `method` and an `id`: the client waits for a reply.
    Request { id: Value, method: String },
    /// Has a `method` and no `id`.
    Notification { method: String },
    /// A response to a server request (`result` or `error`), or anything else the runtime
    /// judges.
    Other,
}

pub(crate) fn kind(message: &Value) -> Kind {
    let Some(object) = message.as_object() else {
        return Kind::Other;
    };
    match (
        object.get("method").and_then(Value::as_str),
        object.get("id"),
    ) {
        (Some(method), Some(id)) => Kind::Request {
            id: id.clone(),
            method: method.to_owned(),
        },
        (Some(method), None) => Kind::Notification {
            method: method.to_owned(),
        },
        _ => Kind::Other,
    }
}

/// The protocol version a modern (2026-07-28 and later) message carries in its `_meta`.
pub(crate) fn modern_version(message: &Value) -> Option<&str> {
    message
        .get("params")?
        .get("_meta")?
        .get(META_PROTOCOL_VERSION)?
        .as_str()
}

/// What `Mcp-Name` carries: `params.name` of `tools/call` and `prompts/get`, `params.uri` of
/// `resources/read`.
pub(crate) fn target_name<'a>(message: &'a Value, method: &str) -> Option<&'a str> {
    let member = match method {
        "tools/call" | "call_tool" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return None,
    };
    message.get("params")?.get(member)?.as_str()
}

/// A JSON-RPC error response.
pub(crate) fn error(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), json!(code));
    error.insert("message".into(), json!(message));
    if let Some(data) = data {
        error.insert("data".into(), data);
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

/// The `id` of a request body, for an error reply about it (`null` when there is none).
pub(crate) fn request_id(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|message| match kind(&message) {
            Kind::Request { id, .. } => Some(id),
            _ => None,
        })
        .unwrap_or(Value::Null)
}

/// Whether a body is an `initialize` request (it negotiates the protocol version, so none is
/// added to it).
pub(crate) fn is_initialize(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(
        |message| matches!(kind(&message), Kind::Request { method, .. } if method == "initialize"),
    )
}
