//! The pure part of `tools/list` filtering on the reply side: finding the events of an SSE
//! stream, rewriting the ones that carry a tools list, and filtering a JSON reply (one response
//! or a batch of them). No I/O: the proxy's reply stage feeds it the upstream's bytes as they
//! arrive, and the fuzz target `sse_filter` feeds it arbitrary bytes in arbitrary pieces.

use bytes::{Bytes, BytesMut};
use mcp_runtime_policy::{CompiledPolicy, DriftTracker, Request, ToolDrift};
use serde_json::Value;

/// Removes from every `tools/list` result in `value` (one JSON-RPC response, or a batch of
/// them) the tools that `request`'s caller may not call.
pub fn filter_tools_lists(value: &mut Value, policy: &CompiledPolicy, request: &Request<'_>) {
    let targets: Vec<&mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        single => vec![single],
    };
    for target in targets {
        policy.filter_tools_list_result(target, request);
    }
}

/// Checks every `tools/list` result in `value` (one JSON-RPC response, or a batch of them)
/// against the policy's pins: see [`CompiledPolicy::check_pinned_tools`]. Returns the drifts
/// seen for the first time.
pub fn check_pinned_tools_lists(
    value: &mut Value,
    policy: &CompiledPolicy,
    live: &DriftTracker,
) -> Vec<ToolDrift> {
    let targets: Vec<&mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        single => vec![single],
    };
    targets
        .into_iter()
        .flat_map(|target| policy.check_pinned_tools(target, live))
        .collect()
}

/// Splits an SSE stream into events as its bytes arrive. An event ends with its blank line
/// (`\n\n` or `\r\n\r\n`), which stays part of it; bytes after the last one wait for more.
/// Where the stream is cut into pieces does not change the events found.
#[derive(Debug, Default)]
pub struct SseEventSplitter {
    pending: BytesMut,
}

impl SseEventSplitter {
    /// An empty splitter.
    pub fn new() -> Self {
        SseEventSplitter::default()
    }

    /// Appends the next bytes received.
    pub fn push(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
    }

    /// The next complete event, with its blank-line terminator, if one has arrived.
    pub fn next_event(&mut self) -> Option<Bytes> {
        event_end(&self.pending).map(|end| self.pending.split_to(end).freeze())
    }

    /// The bytes left after the last complete event (an unterminated event at the end of the
    /// stream), if any.
    pub fn into_rest(self) -> Option<Bytes> {
        (!self.pending.is_empty()).then(|| self.pending.freeze())
    }
}

/// End (exclusive) of the first complete SSE event, including its blank-line terminator.
fn event_end(buffer: &[u8]) -> Option<usize> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Rewrites one SSE event whose data is a JSON-RPC response carrying a tools list (at
/// `/result/tools`): `filter` edits the parsed data, which is written back as one `data:` line
/// in place of the first one; the other fields stay. Any other event (not UTF-8, no data, data
/// that is not JSON or carries no tools list) is returned byte for byte.
pub fn rewrite_sse_event(event: &[u8], filter: impl FnOnce(&mut Value)) -> Bytes {
    let Ok(text) = std::str::from_utf8(event) else {
        return Bytes::copy_from_slice(event);
    };
    let data: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    if data.is_empty() {
        return Bytes::copy_from_slice(event);
    }
    let Ok(mut value) = serde_json::from_str::<Value>(&data.join("\n")) else {
        return Bytes::copy_from_slice(event);
    };
    if value.pointer("/result/tools").is_none() {
        return Bytes::copy_from_slice(event);
    }
    filter(&mut value);
    let mut out = String::with_capacity(text.len());
    let mut wrote_data = false;
    for line in text.lines() {
        if line.starts_with("data:") {
            if !wrote_data {
                out.push_str("data: ");
                out.push_str(&value.to_string());
                out.push('\n');
                wrote_data = true;
            }
        } else if !line.is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use mcp_runtime_policy::{Grant, Identity, PolicyDocument, SideEffect, Tool, Trust};

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }

    /// `claude` may call `read_file`, not `delete_file`.
    fn policy() -> CompiledPolicy {
        let mut document = PolicyDocument::default();
        document.server.name = "files".into();
        document.server.namespace = "tools".into();
        document
            .tools
            .push(Tool::new("read_file", SideEffect::Read, Trust::Low));
        document.tools.push(Tool::new(
            "delete_file",
            SideEffect::Destructive,
            Trust::High,
        ));
        let mut grant = Grant::new("tools", "claude-read");
        grant.agent_id = "claude".into();
        grant.max_trust = Trust::Medium.into();
        grant.allowed_side_effects = vec![SideEffect::Read.into()];
        document.grants.push(grant);
        document.finalize(now()).unwrap();
        CompiledPolicy::new(document).unwrap()
    }

    fn filter(policy: &CompiledPolicy) -> impl Fn(&mut Value) + '_ {
        move |value| {
            let request = Request::method(
                Identity::default().with_agent("claude"),
                "tools/list",
                now(),
            );
            filter_tools_lists(value, policy, &request);
        }
    }

    fn run(stream: &[u8], piece: usize, policy: &CompiledPolicy) -> Vec<u8> {
        let mut splitter = SseEventSplitter::new();
        let mut out = Vec::new();
        for chunk in stream.chunks(piece) {
            splitter.push(chunk);
            while let Some(event) = splitter.next_event() {
                out.extend_from_slice(&rewrite_sse_event(&event, filter(policy)));
            }
        }
        out.extend_from_slice(&splitter.into_rest().unwrap_or_default());
        out
    }

    const TOOLS: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read_file"},{"name":"delete_file"}]}}"#;

    #[test]
    fn a_tools_list_event_is_filtered_wherever_the_stream_is_cut() {
        let policy = policy();
        let stream = format!(": ping\n\nevent: message\r\ndata: {TOOLS}\r\n\r\ndata: {{}}\n\ntail");
        let expected = format!(
            ": ping\n\nevent: message\ndata: {}\n\ndata: {{}}\n\ntail",
            r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read_file"}]}}"#
        );
        for piece in 1..=stream.len() {
            assert_eq!(
                String::from_utf8(run(stream.as_bytes(), piece, &policy)).unwrap(),
                expected,
                "pieces of {piece} bytes"
            );
        }
    }

    #[test]
    fn events_without_a_tools_list_pass_byte_for_byte() {
        let policy = policy();
        for event in [
            "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n".as_bytes(),
            b"data: not json\n\n",
            b"id: 4\nretry: 10\n\n",
            b"data: \xff{\"result\":{\"tools\":[]}}\n\n",
        ] {
            assert_eq!(&rewrite_sse_event(event, filter(&policy))[..], event);
        }
    }
}
