//! The gateway's SSE `tools/list` filter: the event splitter and the event rewriter the reply
//! stage runs on an upstream's `text/event-stream`, with a policy that hides some tools.
//!
//! Input: the first byte picks the size of the pieces the stream arrives in (1 to 64 bytes);
//! the rest is the stream.
//!
//! Beyond "never panics", what must hold:
//! * where the stream is cut into pieces changes nothing in the output;
//! * no byte is lost or invented outside rewritten events: an event without a tools list comes
//!   out byte for byte;
//! * every tools list the gateway reads in an event it passes on (its `data:` lines joined, as
//!   the gateway reads them) names only tools the caller may call.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mcp_runtime_gateway::tools_list::{SseEventSplitter, filter_tools_lists, rewrite_sse_event};
use mcp_runtime_policy::{
    CompiledPolicy, Grant, Identity, PolicyDocument, Request, SideEffect, Tool, Trust,
};
use serde_json::Value;
use std::sync::OnceLock;

const CALLER: &str = "claude";

fn now() -> jiff::Timestamp {
    jiff::Timestamp::UNIX_EPOCH
}

/// `read_file` may be called by the caller; `delete_file` may not; unknown tools are denied.
fn policy() -> &'static CompiledPolicy {
    static POLICY: OnceLock<CompiledPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
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
        grant.agent_id = CALLER.into();
        grant.max_trust = Trust::Medium.into();
        grant.allowed_side_effects = vec![SideEffect::Read.into()];
        document.grants.push(grant);
        document.finalize(now()).expect("the fuzz policy is valid");
        CompiledPolicy::new(document).expect("the fuzz policy compiles")
    })
}

fn request() -> Request<'static> {
    Request::method(Identity::default().with_agent(CALLER), "tools/list", now())
}

/// Runs the gateway's filter over `stream` arriving in pieces of `piece` bytes; returns each
/// event as received and as sent, then the unterminated rest.
fn filter_stream(stream: &[u8], piece: usize) -> (Vec<(Bytes, Bytes)>, Option<Bytes>) {
    let mut splitter = SseEventSplitter::new();
    let mut events = Vec::new();
    for chunk in stream.chunks(piece) {
        splitter.push(chunk);
        while let Some(event) = splitter.next_event() {
            let rewritten = rewrite_sse_event(&event, |value| {
                filter_tools_lists(value, policy(), &request())
            });
            events.push((event, rewritten));
        }
    }
    (events, splitter.into_rest())
}

/// The data of an event as the gateway reads it: its `data:` lines, one leading space dropped,
/// joined with newlines.
fn event_data(event: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(event).ok()?;
    let data: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.strip_prefix(' ').unwrap_or(data))
        .collect();
    (!data.is_empty()).then(|| data.join("\n"))
}

fn check_tools_allowed(tools: &Value) {
    let Some(tools) = tools.as_array() else {
        return;
    };
    for tool in tools {
        let name = tool.get("name").and_then(Value::as_str);
        assert!(
            name.is_some_and(|name| policy().allowed_tool(&request(), name)),
            "a tool the caller may not call was passed on: {tool}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first % 64) + 1;
    let whole = filter_stream(stream, stream.len().max(1));
    let pieces = filter_stream(stream, piece);
    assert_eq!(
        whole, pieces,
        "the output depends on where the stream was cut"
    );

    let (events, rest) = whole;
    let received: Vec<u8> = events
        .iter()
        .flat_map(|(event, _)| event.iter().copied())
        .chain(rest.iter().flat_map(|rest| rest.iter().copied()))
        .collect();
    assert_eq!(received, stream, "the splitter lost or invented bytes");
    for (event, sent) in &events {
        let Some(value) = event_data(sent).and_then(|d| serde_json::from_str::<Value>(&d).ok())
        else {
            continue;
        };
        let carries_tools = value.pointer("/result/tools").is_some();
        if !carries_tools {
            assert_eq!(event, sent, "an event without a tools list was changed");
            continue;
        }
        check_tools_allowed(&value["result"]["tools"]);
        if let Some(tools) = value.get("tools") {
            check_tools_allowed(tools);
        }
    }
});
