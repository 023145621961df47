//! The gateway's and the bridge's MCP request inspector (`inspect_post`), on hostile headers and
//! bodies.
//!
//! Input: an optional header block, then the body. When the input holds a blank line (`\n\n`),
//! the lines before it are headers (`Name: value`; `Content-Type`, `Content-Encoding`,
//! `Mcp-Method`, `Mcp-Name` and `MCP-Protocol-Version` are read, a name given twice is a
//! repeated header) and the rest is the body; otherwise the whole input is a body sent as
//! `Content-Type: application/json`.
//!
//! Beyond "never panics", what must hold:
//! * an accepted body is exactly what a lenient JSON reader (serde_json, last duplicate wins)
//!   reads, so no duplicate-key or trailing-data trick makes the upstream read another message;
//! * a message judged not to be a tool call has no member that a case-insensitive reader (Go's
//!   `encoding/json`) takes for `method`, and no method that such an upstream routes to a tool
//!   call;
//! * an accepted body, re-serialised, is accepted again with the same decision inputs (kind,
//!   method, tool name, target name, id);
//! * a refusal carries one of the documented statuses and codes, and its JSON-RPC body says so.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime_protocol::inspect::{
    HeaderField, InspectError, Inspected, Limits, Message, PostInput, inspect_post,
};
use serde_json::Value;

const TOOL_CALL_METHODS: &[&str] = &["tools/call", "call_tool"];

#[derive(Default)]
struct Headers<'a> {
    content_type: Vec<&'a [u8]>,
    content_encoding: Vec<&'a [u8]>,
    mcp_method: Vec<&'a [u8]>,
    mcp_name: Vec<&'a [u8]>,
    protocol_version: Vec<&'a [u8]>,
}

fn split_input(data: &[u8]) -> (Headers<'_>, &[u8]) {
    let Some(blank) = data.windows(2).position(|w| w == b"\n\n") else {
        let headers = Headers {
            content_type: vec![b"application/json"],
            ..Headers::default()
        };
        return (headers, data);
    };
    let mut headers = Headers::default();
    for line in data[..blank].split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let value = &line[colon + 1..];
        let value = value.strip_prefix(b" ").unwrap_or(value);
        let slot = match line[..colon].to_ascii_lowercase().as_slice() {
            b"content-type" => &mut headers.content_type,
            b"content-encoding" => &mut headers.content_encoding,
            b"mcp-method" => &mut headers.mcp_method,
            b"mcp-name" => &mut headers.mcp_name,
            b"mcp-protocol-version" => &mut headers.protocol_version,
            _ => continue,
        };
        slot.push(value);
    }
    (headers, &data[blank + 2..])
}

fn post_input<'a>(headers: &'a Headers<'a>, body: &'a [u8]) -> PostInput<'a> {
    let field = |values: &'a Vec<&'a [u8]>| HeaderField::from_values(values.iter().copied());
    PostInput {
        body,
        content_type: field(&headers.content_type),
        content_encoding: field(&headers.content_encoding),
        mcp_method: field(&headers.mcp_method),
        mcp_name: field(&headers.mcp_name),
        protocol_version: field(&headers.protocol_version),
    }
}

/// Equal to `word` for a reader that ignores letter case (lower- or upper-casing both sides, which
/// also catches `K` (Kelvin) and `ſ` (long s)).
fn case_insensitively_equal(text: &str, word: &str) -> bool {
    text.to_lowercase() == word.to_lowercase() || text.to_uppercase() == word.to_uppercase()
}

fn check_not_a_hidden_tool_call(message: &Message) {
    let Value::Object(object) = message.value() else {
        panic!(
            "an accepted message is not an object: {:?}",
            message.value()
        );
    };
    for key in object.keys() {
        if case_insensitively_equal(key, "method") {
            assert_eq!(key, "method", "a case variant of \"method\" was accepted");
        }
    }
    if let Some(method) = message.method() {
        assert!(
            !method.chars().any(char::is_control),
            "an accepted method holds a control character: {method:?}"
        );
        if !message.is_tool_call() {
            for tool_call in TOOL_CALL_METHODS {
                assert!(
                    !case_insensitively_equal(method.trim(), tool_call),
                    "{method:?} was accepted as a non-tool-call but reads as {tool_call:?}"
                );
            }
        }
    }
    if message.is_tool_call() {
        assert!(
            message.tool_name().is_some(),
            "a tool call was accepted without a string params.name"
        );
    }
}

fn check_same_reading(inspected: &Inspected, body: &[u8]) {
    let lenient: Value = serde_json::from_slice(body)
        .unwrap_or_else(|error| panic!("accepted, but serde_json refuses it: {error}"));
    let accepted = match inspected {
        Inspected::Single(message) => message.value().clone(),
        Inspected::Batch(messages) => {
            Value::Array(messages.iter().map(|m| m.value().clone()).collect())
        }
    };
    assert_eq!(
        lenient, accepted,
        "the inspector read another message than serde_json does"
    );
}

fn same_id(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::String(a)), Some(Value::String(b))) => a == b,
        // Floats may move by one unit in the last place through print and parse.
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            a.as_i64() == b.as_i64() && a.as_u64() == b.as_u64()
        }
        (Some(Value::Null), Some(Value::Null)) => true,
        _ => false,
    }
}

fn check_reinspection(inspected: &Inspected, input: &PostInput<'_>, limits: &Limits) {
    let reserialised = match inspected {
        Inspected::Single(message) => serde_json::to_vec(message.value()),
        Inspected::Batch(messages) => {
            serde_json::to_vec(&messages.iter().map(Message::value).collect::<Vec<_>>())
        }
    }
    .expect("a JSON value serialises");
    if reserialised.len() > limits.max_body_bytes {
        return; // escapes can only shrink, but stay clear of the limit edge
    }
    let again = PostInput {
        body: &reserialised,
        ..*input
    };
    let reinspected = inspect_post(&again, limits).unwrap_or_else(|error| {
        panic!(
            "accepted, but refused once re-serialised ({error}): {}",
            String::from_utf8_lossy(&reserialised)
        )
    });
    assert_eq!(inspected.is_batch(), reinspected.is_batch());
    assert_eq!(inspected.messages().len(), reinspected.messages().len());
    for (first, second) in inspected.messages().iter().zip(reinspected.messages()) {
        assert_eq!(first.kind(), second.kind());
        assert_eq!(first.method(), second.method());
        assert_eq!(first.is_tool_call(), second.is_tool_call());
        assert_eq!(first.tool_name(), second.tool_name());
        assert_eq!(first.target_name(), second.target_name());
        assert!(same_id(first.id(), second.id()), "the id changed");
    }
}

fn check_refusal(error: &InspectError) {
    assert!(
        matches!(error.http_status, 400 | 413 | 415),
        "undocumented status {}",
        error.http_status
    );
    assert!(
        matches!(error.code, -32700 | -32600 | -32602 | -32020),
        "undocumented code {}",
        error.code
    );
    let body: Value =
        serde_json::from_slice(&error.to_jsonrpc_body()).expect("the error body is JSON");
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["error"]["code"], error.code);
    assert!(matches!(
        body["id"],
        Value::Null | Value::String(_) | Value::Number(_)
    ));
}

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split_input(data);
    let input = post_input(&headers, body);
    for allow_batches in [false, true] {
        let limits = Limits {
            allow_batches,
            ..Limits::default()
        };
        match inspect_post(&input, &limits) {
            Ok(inspected) => {
                assert!(!body.is_empty() && body.len() <= limits.max_body_bytes);
                assert!(allow_batches || !inspected.is_batch());
                assert!(!inspected.messages().is_empty());
                inspected
                    .messages()
                    .iter()
                    .for_each(check_not_a_hidden_tool_call);
                assert_eq!(
                    inspected.has_tool_call(),
                    inspected.messages().iter().any(Message::is_tool_call)
                );
                check_same_reading(&inspected, body);
                check_reinspection(&inspected, &input, &limits);
            }
            Err(error) => check_refusal(&error),
        }
    }
});
