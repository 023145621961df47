//! Small JSON-RPC and SSE helpers shared by both eras.

use bytes::Bytes;
use serde_json::{Map, Value, json};

/// JSON-RPC error codes the bridge emits.
pub(crate) mod codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Legacy-range transport errors, as the TypeScript and Python SDK servers send them
    /// (unknown or missing session, not acceptable, …).
    pub const TRANSPORT: i64 = -32000;
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// The protocol revisions with the `initialize` handshake (legacy era).
pub(crate) const LEGACY_VERSIONS: &[&str] = &[
    "2024-10-07",
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
];

/// The stateless revisions the bridge serves (modern era).
pub(crate) const MODERN_VERSIONS: &[&str] = &["2026-07-28"];

/// The version the bridge offers a stdio server when it initializes the shared worker.
pub(crate) const WORKER_PROTOCOL_VERSION: &str = "2025-11-25";

/// `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…[,"data":…]}}`.
pub(crate) fn error(id: Option<&Value>, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), code.into());
    error.insert("message".into(), message.into());
    if let Some(data) = data {
        error.insert("data".into(), data);
    }
    json!({"jsonrpc": "2.0", "id": id.cloned().unwrap_or(Value::Null), "error": error})
}

/// A stable map key for a JSON-RPC id (string and number ids never collide).
pub(crate) fn id_key(id: &Value) -> String {
    id.to_string()
}

/// True for a response (`result` or `error`, no `method`).
pub(crate) fn is_response(message: &Value) -> bool {
    message.get("method").is_none()
        && (message.get("result").is_some() || message.get("error").is_some())
}

/// The `progressToken` of a request (`params._meta.progressToken`).
pub(crate) fn progress_token(message: &Value) -> Option<&Value> {
    message.get("params")?.get("_meta")?.get("progressToken")
}

/// The `progressToken` of a `notifications/progress`.
pub(crate) fn progress_notification_token(message: &Value) -> Option<&Value> {
    if message.get("method")?.as_str()? != "notifications/progress" {
        return None;
    }
    message.get("params")?.get("progressToken")
}

/// Makes a result from a handshake-era server valid for a 2026-07-28 client: every result
/// carries `resultType` (absent means `"complete"`), and list results carry `ttlMs` and
/// `cacheScope` (the bridge cannot know more than "private, immediately stale").
pub(crate) fn modernize_result(method: &str, response: &mut Value) {
    let Some(result) = response.get_mut("result").and_then(Value::as_object_mut) else {
        return;
    };
    if !result.contains_key("resultType") {
        result.insert("resultType".into(), "complete".into());
    }
    if method.ends_with("/list") {
        if !result.contains_key("cacheScope") {
            result.insert("cacheScope".into(), "private".into());
        }
        if !result.contains_key("ttlMs") {
            result.insert("ttlMs".into(), 0.into());
        }
    }
}

/// Removes the 2026-07-28 per-request envelope (`params._meta["io.modelcontextprotocol/…"]`:
/// protocol version, client info and capabilities), turning a stateless request into one that
/// fits the worker's handshake-era conversation. Other `_meta` members (`progressToken`) stay.
pub(crate) fn strip_modern_envelope(message: &mut Value) {
    let Some(params) = message.get_mut("params").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(meta) = params.get_mut("_meta").and_then(Value::as_object_mut) else {
        return;
    };
    meta.retain(|key, _| !key.starts_with("io.modelcontextprotocol/"));
    if meta.is_empty() {
        params.remove("_meta");
    }
}

/// One SSE event carrying a JSON-RPC message.
pub(crate) fn sse_event(id: Option<&str>, message: &Value) -> Bytes {
    let data = message.to_string();
    let mut frame = String::with_capacity(data.len() + 48);
    if let Some(id) = id {
        frame.push_str("id: ");
        frame.push_str(id);
        frame.push('\n');
    }
    frame.push_str("event: message\ndata: ");
    frame.push_str(&data);
    frame.push_str("\n\n");
    Bytes::from(frame)
}

/// A legacy-session event id: `<stream>-<sequence>`. Sequences are unique per session, the
/// stream part says which stream a `Last-Event-ID` resumes.
pub(crate) fn event_id(stream: u64, sequence: u64) -> String {
    format!("{stream}-{sequence}")
}

/// Parses [`event_id`].
pub(crate) fn parse_event_id(text: &str) -> Option<(u64, u64)> {
    let (stream, sequence) = text.trim().split_once('-')?;
    Some((stream.parse().ok()?, sequence.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_results_get_result_type_and_list_cache_fields() {
        let mut list = json!({"jsonrpc":"2.0","id":1,"result":{"tools":[]}});
        modernize_result("tools/list", &mut list);
        assert_eq!(
            list["result"],
            json!({"tools":[],"resultType":"complete","cacheScope":"private","ttlMs":0})
        );
        let mut call =
            json!({"jsonrpc":"2.0","id":1,"result":{"content":[],"resultType":"input_required"}});
        modernize_result("tools/call", &mut call);
        assert_eq!(
            call["result"],
            json!({"content":[],"resultType":"input_required"})
        );
        let mut failed = json!({"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}});
        let before = failed.clone();
        modernize_result("tools/list", &mut failed);
        assert_eq!(failed, before);
    }

    #[test]
    fn the_modern_envelope_is_stripped_and_the_rest_kept() {
        let mut call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo",
            "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
                     "io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},
                     "progressToken":"p"}}});
        strip_modern_envelope(&mut call);
        assert_eq!(
            call["params"],
            json!({"name":"echo","_meta":{"progressToken":"p"}})
        );
        let mut list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{
            "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}});
        strip_modern_envelope(&mut list);
        assert_eq!(list["params"], json!({}));
    }

    #[test]
    fn event_ids_round_trip_and_reject_garbage() {
        assert_eq!(parse_event_id(&event_id(3, 17)), Some((3, 17)));
        assert_eq!(parse_event_id("abc"), None);
        assert_eq!(parse_event_id("1-x"), None);
        assert_eq!(parse_event_id("-1-2"), None);
    }

    #[test]
    fn ids_of_different_types_do_not_collide() {
        assert_ne!(id_key(&json!(1)), id_key(&json!("1")));
    }

    #[test]
    fn sse_frames_carry_one_message() {
        let frame = sse_event(Some("0-1"), &json!({"a":1}));
        assert_eq!(&frame[..], b"id: 0-1\nevent: message\ndata: {\"a\":1}\n\n");
    }
}
