//! Inspection tests: the bypass table, the accepted shapes, and a no-panic property.

use mcp_runtime_protocol::codes::{HEADER_MISMATCH, INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR};
use mcp_runtime_protocol::inspect::{
    HeaderField, InspectError, Inspected, Kind, Limits, PostInput, inspect_post,
};
use pretty_assertions::assert_eq;
use proptest::prelude::*;
use serde_json::{Value, json};

const TOOL_CALL: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"secret_admin"}}"#;

fn batches() -> Limits {
    Limits {
        allow_batches: true,
        ..Limits::default()
    }
}

fn refused(input: &PostInput<'_>, limits: &Limits) -> InspectError {
    match inspect_post(input, limits) {
        Ok(inspected) => panic!("expected a refusal, got {inspected:?}"),
        Err(error) => error,
    }
}

fn accepted(input: &PostInput<'_>, limits: &Limits) -> Inspected {
    match inspect_post(input, limits) {
        Ok(inspected) => inspected,
        Err(error) => panic!("expected acceptance, got {error:?}"),
    }
}

/// The single tool name the body resolves to, checking it is one tool call.
fn single_tool(inspected: &Inspected) -> &str {
    let [message] = inspected.messages() else {
        panic!("expected one message, got {inspected:?}");
    };
    assert!(message.is_tool_call(), "not a tool call: {message:?}");
    message
        .tool_name()
        .unwrap_or_else(|| panic!("no tool name"))
}

enum Expect {
    /// HTTP status, JSON-RPC code, a fragment of the message.
    Refused(u16, i64, &'static str),
    /// Accepted, and the policy sees this.
    Accepted(fn(&Inspected)),
}

struct Case {
    name: &'static str,
    body: Vec<u8>,
    headers: fn(PostInput<'_>) -> PostInput<'_>,
    limits: Limits,
    expect: Expect,
}

fn case(name: &'static str, body: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name,
        body: body.into(),
        headers: |input| input,
        limits: Limits::default(),
        expect,
    }
}

impl Case {
    fn headers(mut self, headers: fn(PostInput<'_>) -> PostInput<'_>) -> Self {
        self.headers = headers;
        self
    }

    fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

fn nested(depth: usize) -> Vec<u8> {
    let mut body = b"[".repeat(depth);
    body.extend(b"]".repeat(depth));
    body
}

#[test]
fn bypass_attempts_are_refused_or_seen_as_tool_calls() {
    use Expect::{Accepted, Refused};
    let hidden_in_batch = format!(r#"[{{"jsonrpc":"2.0","id":0,"method":"ping"}},{TOOL_CALL}]"#);
    let cases = vec![
        // Batches.
        case(
            "batch hiding a tool call, batches off",
            hidden_in_batch.clone(),
            Refused(400, INVALID_REQUEST, "batches are not supported"),
        ),
        case(
            "batch hiding a tool call, batches on",
            hidden_in_batch.clone(),
            Accepted(|inspected| {
                assert!(inspected.is_batch());
                assert!(inspected.has_tool_call());
                let tools: Vec<_> = inspected
                    .messages()
                    .iter()
                    .filter_map(|message| message.tool_name())
                    .collect();
                assert_eq!(tools, ["secret_admin"]);
            }),
        )
        .limits(batches()),
        case(
            "batch with a bad element, batches on",
            format!(r#"[{TOOL_CALL},{{"jsonrpc":"2.0","id":2,"method":"Tools/Call"}}]"#),
            Refused(400, INVALID_REQUEST, "batch element 1: method name case variant"),
        )
        .limits(batches()),
        case(
            "batch carrying Mcp-Name",
            hidden_in_batch.clone(),
            Refused(400, HEADER_MISMATCH, "not allowed on a batch"),
        )
        .limits(batches())
        .headers(|input| PostInput {
            mcp_name: HeaderField::single("harmless"),
            ..input
        }),
        case(
            "modern tool call inside a batch",
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}]"#,
            Refused(400, HEADER_MISMATCH, "cannot be batched"),
        )
        .limits(batches()),
        case(
            "empty batch",
            "[]",
            Refused(400, INVALID_REQUEST, "empty batch"),
        )
        .limits(batches()),
        // Duplicate keys.
        case(
            "duplicate method key",
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"secret_admin"}}"#,
            Refused(400, PARSE_ERROR, r#"duplicate object key "method""#),
        ),
        case(
            "duplicate name key inside params",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"secret_admin"}}"#,
            Refused(400, PARSE_ERROR, r#"duplicate object key "name""#),
        ),
        case(
            "duplicate key deep in arguments",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":[{"b":1,"b":2}]}}}"#,
            Refused(400, PARSE_ERROR, r#"duplicate object key "b""#),
        ),
        case(
            "escaped key duplicating method",
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","m\u0065thod":"tools/call","params":{"name":"secret_admin"}}"#,
            Refused(400, PARSE_ERROR, r#"duplicate object key "method""#),
        ),
        case(
            "escaped key duplicating name",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","n\u0061me":"secret_admin"}}"#,
            Refused(400, PARSE_ERROR, r#"duplicate object key "name""#),
        ),
        // Escapes are decoded before anything is compared.
        case(
            "escaped slash in the method",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"secret_admin"}}"#,
            Accepted(|inspected| assert_eq!(single_tool(inspected), "secret_admin")),
        ),
        case(
            "unicode-escaped method and name",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"secret\u005fadmin"}}"#,
            Accepted(|inspected| assert_eq!(single_tool(inspected), "secret_admin")),
        ),
        case(
            "escaped key spelling method",
            r#"{"jsonrpc":"2.0","id":1,"\u006dethod":"tools/call","params":{"\u006eame":"secret_admin"}}"#,
            Accepted(|inspected| assert_eq!(single_tool(inspected), "secret_admin")),
        ),
        // Encodings and content types.
        case(
            "gzip content encoding",
            TOOL_CALL,
            Refused(415, INVALID_REQUEST, "Content-Encoding \"gzip\" refused"),
        )
        .headers(|input| PostInput {
            content_encoding: HeaderField::single("gzip"),
            ..input
        }),
        case(
            "repeated content encoding",
            TOOL_CALL,
            Refused(415, INVALID_REQUEST, "repeated Content-Encoding"),
        )
        .headers(|input| PostInput {
            content_encoding: HeaderField::Repeated,
            ..input
        }),
        case(
            "text/plain carrying JSON",
            TOOL_CALL,
            Refused(415, INVALID_REQUEST, "unsupported Content-Type \"text/plain\""),
        )
        .headers(|input| PostInput {
            content_type: HeaderField::single("text/plain"),
            ..input
        }),
        case(
            "missing content type",
            TOOL_CALL,
            Refused(415, INVALID_REQUEST, "missing Content-Type"),
        )
        .headers(|input| PostInput {
            content_type: HeaderField::Absent,
            ..input
        }),
        case(
            "utf-16 charset",
            TOOL_CALL,
            Refused(415, INVALID_REQUEST, "unsupported charset \"utf-16\""),
        )
        .headers(|input| PostInput {
            content_type: HeaderField::single("application/json; charset=utf-16"),
            ..input
        }),
        case(
            "json suffix type",
            TOOL_CALL,
            Refused(415, INVALID_REQUEST, "unsupported Content-Type"),
        )
        .headers(|input| PostInput {
            content_type: HeaderField::single("application/json-patch+json"),
            ..input
        }),
        case(
            "UTF-8 byte order mark",
            [b"\xEF\xBB\xBF".as_slice(), TOOL_CALL.as_bytes()].concat(),
            Refused(400, PARSE_ERROR, "byte order mark"),
        ),
        case(
            "invalid UTF-8",
            [TOOL_CALL.as_bytes(), b"\xFF"].concat(),
            Refused(400, PARSE_ERROR, "invalid UTF-8"),
        ),
        case(
            "oversize body",
            TOOL_CALL,
            Refused(413, INVALID_REQUEST, "exceeds the limit of 16 bytes"),
        )
        .limits(Limits {
            max_body_bytes: 16,
            ..Limits::default()
        }),
        case(
            "empty body",
            "",
            Refused(400, INVALID_REQUEST, "empty request body"),
        ),
        // Modern-era headers.
        case(
            "Mcp-Name differs from the body",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "Mcp-Name header \"echo\" does not match"),
        )
        .headers(|input| PostInput {
            mcp_name: HeaderField::single("echo"),
            ..input
        }),
        case(
            "Mcp-Method differs from the body",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "Mcp-Method header \"tools/list\" does not match"),
        )
        .headers(|input| PostInput {
            mcp_method: HeaderField::single("tools/list"),
            ..input
        }),
        case(
            "base64 Mcp-Name differs from the body",
            TOOL_CALL,
            // "echo"
            Refused(400, HEADER_MISMATCH, "does not match"),
        )
        .headers(|input| PostInput {
            mcp_name: HeaderField::single("=?base64?ZWNobw==?="),
            ..input
        }),
        case(
            "base64 Mcp-Name equal to the body",
            TOOL_CALL,
            Accepted(|inspected| assert_eq!(single_tool(inspected), "secret_admin")),
        )
        .headers(|input| PostInput {
            mcp_method: HeaderField::single("tools/call"),
            // "secret_admin"
            mcp_name: HeaderField::single("=?base64?c2VjcmV0X2FkbWlu?="),
            ..input
        }),
        // Odd base64 that a lenient decoder (Python's `b64decode` drops every byte outside the
        // alphabet) would read as another name is refused, never guessed at.
        case(
            "base64 Mcp-Name with whitespace inside",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "invalid =?base64?…?= encoding"),
        )
        .headers(|input| PostInput {
            mcp_name: HeaderField::single("=?base64?c2VjcmV0 X2FkbWlu?="),
            ..input
        }),
        case(
            "base64 Mcp-Name in the URL-safe alphabet",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"???"}}"#,
            Refused(400, HEADER_MISMATCH, "invalid =?base64?…?= encoding"),
        )
        .headers(|input| PostInput {
            // "???" is Pz8/ in the standard alphabet; the URL-safe spelling is refused.
            mcp_name: HeaderField::single("=?base64?Pz8_?="),
            ..input
        }),
        case(
            "base64 Mcp-Name with padding inside",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "invalid =?base64?…?= encoding"),
        )
        .headers(|input| PostInput {
            mcp_name: HeaderField::single("=?base64?c2VjcmV0X2==FkbWlu?="),
            ..input
        }),
        case(
            "base64 Mcp-Name of another name with a NUL",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "does not match"),
        )
        .headers(|input| PostInput {
            // "secret_admin\0"
            mcp_name: HeaderField::single("=?base64?c2VjcmV0X2FkbWluAA==?="),
            ..input
        }),
        case(
            "base64 Mcp-Name without padding and an upper-case label",
            TOOL_CALL,
            Accepted(|inspected| assert_eq!(single_tool(inspected), "secret_admin")),
        )
        .headers(|input| PostInput {
            mcp_method: HeaderField::single("tools/call"),
            mcp_name: HeaderField::single("=?BASE64?c2VjcmV0X2FkbWlu?="),
            ..input
        }),
        case(
            "repeated Mcp-Method",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "repeated Mcp-Method header"),
        )
        .headers(|input| PostInput {
            mcp_method: HeaderField::Repeated,
            ..input
        }),
        case(
            "Mcp-Name on a method without a name",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            Refused(400, HEADER_MISMATCH, "without a name"),
        )
        .headers(|input| PostInput {
            mcp_name: HeaderField::single("secret_admin"),
            ..input
        }),
        case(
            "modern tool call without Mcp-Name",
            TOOL_CALL,
            Refused(400, HEADER_MISMATCH, "missing Mcp-Name header"),
        )
        .headers(|input| PostInput {
            mcp_method: HeaderField::single("tools/call"),
            protocol_version: HeaderField::single("2026-07-28"),
            ..input
        }),
        case(
            "modern tool call via _meta without headers",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            Refused(400, HEADER_MISMATCH, "missing Mcp-Method header"),
        ),
        case(
            "version header disagreeing with _meta",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            Refused(400, HEADER_MISMATCH, "MCP-Protocol-Version header \"2025-11-25\""),
        )
        .headers(|input| PostInput {
            protocol_version: HeaderField::single("2025-11-25"),
            ..input
        }),
        // Letter case and look-alikes.
        case(
            "Tools/Call",
            r#"{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, "method name case variant refused"),
        ),
        case(
            "TOOLS/CALL",
            r#"{"jsonrpc":"2.0","id":1,"method":"TOOLS/CALL","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, "method name case variant refused"),
        ),
        case(
            "Call_Tool",
            r#"{"jsonrpc":"2.0","id":1,"method":"Call_Tool","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, "method name case variant refused"),
        ),
        case(
            "long s folds to tools/call",
            r#"{"jsonrpc":"2.0","id":1,"method":"tool\u017f/call","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, "method name case variant refused"),
        ),
        case(
            "padded method",
            r#"{"jsonrpc":"2.0","id":1,"method":" tools/call","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, "method name case variant refused"),
        ),
        case(
            "NUL after the method",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call\u0000","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, "control character"),
        ),
        case(
            "NUL in the tool name",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo\u0000secret_admin"}}"#,
            Refused(400, INVALID_PARAMS, "control character"),
        ),
        case(
            "case-variant Method member",
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call","params":{"name":"secret_admin"}}"#,
            Refused(400, INVALID_REQUEST, r#"member "Method" is a letter-case variant"#),
        ),
        case(
            "case-variant params member (Go upstream)",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","paramſ":{"name":"secret_admin"},"params":{"name":"echo"}}"#,
            Refused(400, INVALID_REQUEST, "letter-case variant of \"params\""),
        ),
        case(
            "case-variant name in params",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"secret_admin"}}"#,
            Refused(400, INVALID_PARAMS, "letter-case variant of \"name\""),
        ),
        // Syntax and structure.
        case(
            "trailing garbage",
            format!("{TOOL_CALL} x"),
            Refused(400, PARSE_ERROR, "trailing characters"),
        ),
        case(
            "second message after the first",
            format!("{TOOL_CALL}{TOOL_CALL}"),
            Refused(400, PARSE_ERROR, "trailing characters"),
        ),
        case(
            "truncated",
            &TOOL_CALL[..TOOL_CALL.len() - 1],
            Refused(400, PARSE_ERROR, "EOF"),
        ),
        case(
            "lone surrogate",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}"#,
            Refused(400, PARSE_ERROR, "hex escape"),
        ),
        case(
            "string at top level",
            r#""tools/call""#,
            Refused(400, INVALID_REQUEST, "must be an object, not a string"),
        ),
        case(
            "number at top level",
            "42",
            Refused(400, INVALID_REQUEST, "must be an object, not a number"),
        ),
        case(
            "null at top level",
            "null",
            Refused(400, INVALID_REQUEST, "must be an object, not null"),
        ),
        case(
            "100k nested arrays",
            nested(100_000),
            Refused(400, PARSE_ERROR, "recursion limit exceeded"),
        ),
        case(
            "100k nested objects",
            r#"{"a":"#.repeat(100_000),
            Refused(400, PARSE_ERROR, "recursion limit exceeded"),
        ),
        case(
            "nesting in params",
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"x","arguments":{}}}}}"#,
                String::from_utf8_lossy(&nested(200))
            ),
            Refused(400, PARSE_ERROR, "recursion limit exceeded"),
        ),
        case(
            "wrong jsonrpc version",
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
            Refused(400, INVALID_REQUEST, r#""jsonrpc" must be "2.0""#),
        ),
        case(
            "method and result together",
            r#"{"jsonrpc":"2.0","id":1,"result":{},"method":"tools/call","params":{"name":"x"}}"#,
            Refused(400, INVALID_REQUEST, "both a method and a result"),
        ),
        case(
            "null id on a request",
            r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}"#,
            Refused(400, INVALID_REQUEST, r#""id" must be a string or a number, not null"#),
        ),
        case(
            "object id",
            r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#,
            Refused(400, INVALID_REQUEST, "not an object"),
        ),
        case(
            "non-string method",
            r#"{"jsonrpc":"2.0","id":1,"method":["tools/call"]}"#,
            Refused(400, INVALID_REQUEST, r#""method" must be a string"#),
        ),
        case(
            "tool call without a name",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,
            Refused(400, INVALID_PARAMS, "params.name is required"),
        ),
        case(
            "tool call without params",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            Refused(400, INVALID_PARAMS, "params.name is required"),
        ),
        case(
            "tool call with a numeric name",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#,
            Refused(400, INVALID_PARAMS, "params.name must be a string, not a number"),
        ),
        case(
            "tool call with array params",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["secret_admin"]}"#,
            Refused(400, INVALID_PARAMS, "\"params\" must be an object, not an array"),
        ),
        case(
            "resources/read with a non-string uri",
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":{"a":1}}}"#,
            Refused(400, INVALID_PARAMS, "params.uri must be a string"),
        ),
        case(
            "legacy call_tool",
            r#"{"jsonrpc":"2.0","id":1,"method":"call_tool","params":{"name":"secret_admin"}}"#,
            Accepted(|inspected| assert_eq!(single_tool(inspected), "secret_admin")),
        ),
        case(
            "tool call as a notification",
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"secret_admin"}}"#,
            Accepted(|inspected| {
                assert_eq!(single_tool(inspected), "secret_admin");
                assert_eq!(inspected.messages()[0].kind(), Kind::Notification);
            }),
        ),
    ];

    let mut failures = Vec::new();
    for case in &cases {
        let input = (case.headers)(PostInput::json(&case.body));
        let outcome =
            std::panic::catch_unwind(
                || match (&case.expect, inspect_post(&input, &case.limits)) {
                    (Expect::Refused(status, code, fragment), Err(error)) => {
                        assert_eq!(
                            (error.http_status, error.code),
                            (*status, *code),
                            "{error:?}"
                        );
                        assert!(
                            error.message.contains(fragment),
                            "message {:?} lacks {fragment:?}",
                            error.message
                        );
                    }
                    (Expect::Accepted(check), Ok(inspected)) => check(&inspected),
                    (Expect::Refused(..), Ok(inspected)) => panic!("accepted: {inspected:?}"),
                    (Expect::Accepted(_), Err(error)) => panic!("refused: {error:?}"),
                },
            );
        if outcome.is_err() {
            failures.push(case.name);
        }
    }
    assert!(failures.is_empty(), "failing cases: {failures:#?}");
}

#[test]
fn letter_case_variants_of_policed_methods_are_all_refused() {
    for method in [
        "Tools/call",
        "tools/Call",
        "TOOLS/call",
        "tOOLS/cALL",
        "CALL_TOOL",
        "call_Tool",
        "Resources/Read",
        "PROMPTS/GET",
        "tools/call ",
        "\u{2003}tools/call",
    ] {
        let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":{"name":"x","uri":"y"}});
        let body = body.to_string();
        let error = refused(&PostInput::json(body.as_bytes()), &Limits::default());
        assert_eq!(error.code, INVALID_REQUEST, "{method:?}");
        assert!(
            error.message.contains("case variant"),
            "{method:?}: {error:?}"
        );
        assert_eq!(error.id, Some(json!(1)));
    }
    // Unrelated methods with capitals are forwarded as unknown methods.
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"Custom/Thing"}"#;
    let inspected = accepted(&PostInput::json(body), &Limits::default());
    assert_eq!(inspected.messages()[0].method(), Some("Custom/Thing"));
    assert!(!inspected.has_tool_call());
}

#[test]
fn accepted_messages_expose_kind_method_id_and_value() {
    let limits = Limits::default();
    let inspected = accepted(&PostInput::json(TOOL_CALL.as_bytes()), &limits);
    let Inspected::Single(message) = &inspected else {
        panic!("not single");
    };
    assert_eq!(message.kind(), Kind::Request);
    assert_eq!(message.method(), Some("tools/call"));
    assert_eq!(message.id(), Some(&json!(1)));
    assert_eq!(message.tool_name(), Some("secret_admin"));
    assert_eq!(message.target_name(), Some("secret_admin"));
    assert_eq!(message.value()["params"]["name"], "secret_admin");

    let list = accepted(
        &PostInput::json(br#"{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{}}"#),
        &limits,
    );
    let message = &list.messages()[0];
    assert_eq!(message.kind(), Kind::Request);
    assert_eq!(message.id(), Some(&json!("a")));
    assert!(!message.is_tool_call());
    assert_eq!(message.tool_name(), None);

    let notification = accepted(
        &PostInput::json(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
        &limits,
    );
    assert_eq!(notification.messages()[0].kind(), Kind::Notification);
    assert_eq!(notification.messages()[0].id(), None);

    let response = accepted(
        &PostInput::json(br#"{"jsonrpc":"2.0","id":5,"result":{"action":"accept"}}"#),
        &limits,
    );
    assert_eq!(response.messages()[0].kind(), Kind::Response);
    assert_eq!(response.messages()[0].method(), None);
    let error_response = accepted(
        &PostInput::json(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#),
        &limits,
    );
    assert_eq!(error_response.messages()[0].kind(), Kind::Response);

    let read = accepted(
        &PostInput::json(
            br#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}"#,
        ),
        &limits,
    );
    assert_eq!(read.messages()[0].target_name(), Some("file:///a"));
    assert_eq!(read.messages()[0].tool_name(), None);
}

#[test]
fn responses_need_exactly_one_of_result_and_error_and_an_id() {
    for body in [
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#,
        r#"{"jsonrpc":"2.0","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
    ] {
        let error = refused(&PostInput::json(body.as_bytes()), &Limits::default());
        assert_eq!(error.code, INVALID_REQUEST, "{body}");
    }
}

#[test]
fn content_type_parameters_and_case_are_accepted() {
    for content_type in [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=\"UTF-8\"",
        "application/json ; charset=utf-8 ; profile=x",
    ] {
        let input = PostInput {
            content_type: HeaderField::single(content_type),
            ..PostInput::json(TOOL_CALL.as_bytes())
        };
        accepted(&input, &Limits::default());
    }
    let identity = PostInput {
        content_encoding: HeaderField::single("Identity"),
        ..PostInput::json(TOOL_CALL.as_bytes())
    };
    accepted(&identity, &Limits::default());
}

#[test]
fn modern_tool_call_with_matching_headers_is_accepted() {
    let body = br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let input = PostInput {
        mcp_method: HeaderField::single("tools/call"),
        mcp_name: HeaderField::single(" add "),
        protocol_version: HeaderField::single("2026-07-28"),
        ..PostInput::json(body)
    };
    let inspected = accepted(&input, &Limits::default());
    assert_eq!(single_tool(&inspected), "add");
    // Legacy tool calls need no headers.
    let legacy = PostInput {
        protocol_version: HeaderField::single("2025-11-25"),
        ..PostInput::json(TOOL_CALL.as_bytes())
    };
    accepted(&legacy, &Limits::default());
    // Non-tool modern requests need no Mcp-Name.
    let list = PostInput {
        mcp_method: HeaderField::single("tools/list"),
        protocol_version: HeaderField::single("2026-07-28"),
        ..PostInput::json(br#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#)
    };
    accepted(&list, &Limits::default());
}

#[test]
fn header_map_input_detects_repeated_headers() {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    headers.append("mcp-method", http::HeaderValue::from_static("tools/call"));
    headers.insert("MCP-Name", http::HeaderValue::from_static("secret_admin"));
    let input = PostInput::from_header_map(&headers, TOOL_CALL.as_bytes());
    assert_eq!(input.mcp_name, HeaderField::single("secret_admin"));
    accepted(&input, &Limits::default());

    headers.append("Mcp-Method", http::HeaderValue::from_static("tools/call"));
    let input = PostInput::from_header_map(&headers, TOOL_CALL.as_bytes());
    assert_eq!(input.mcp_method, HeaderField::Repeated);
    let error = refused(&input, &Limits::default());
    assert_eq!((error.http_status, error.code), (400, HEADER_MISMATCH));
}

#[test]
fn body_limit_is_inclusive_and_defaults_to_4_mib() {
    assert_eq!(Limits::default().max_body_bytes, 4 * 1024 * 1024);
    assert!(!Limits::default().allow_batches);
    let exact = Limits {
        max_body_bytes: TOOL_CALL.len(),
        ..Limits::default()
    };
    accepted(&PostInput::json(TOOL_CALL.as_bytes()), &exact);
    let mut big = TOOL_CALL.as_bytes().to_vec();
    big.resize(4 * 1024 * 1024 + 1, b' ');
    let error = refused(&PostInput::json(&big), &Limits::default());
    assert_eq!((error.http_status, error.code), (413, INVALID_REQUEST));
    // Trailing whitespace alone is valid JSON, so exactly 4 MiB passes.
    big.truncate(4 * 1024 * 1024);
    accepted(&PostInput::json(&big), &Limits::default());
}

#[test]
fn error_bodies_are_jsonrpc_with_the_id_when_readable() {
    let error = refused(
        &PostInput::json(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}}"#),
        &Limits::default(),
    );
    let body: Value = serde_json::from_slice(&error.to_jsonrpc_body()).unwrap_or_default();
    assert_eq!(
        body,
        json!({"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"tools/call: params.name is required"}})
    );
    assert_eq!(error.reason().as_str(), "rpc_inspection_failed");

    let error = refused(&PostInput::json(b"{"), &Limits::default());
    let body: Value = serde_json::from_slice(&error.to_jsonrpc_body()).unwrap_or_default();
    assert_eq!(body["id"], Value::Null);
    assert_eq!(body["error"]["code"], -32700);

    // An id echoed back must be valid: an object id is not.
    let error = refused(
        &PostInput::json(br#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#),
        &Limits::default(),
    );
    assert_eq!(error.id, None);
}

#[test]
fn client_text_in_error_messages_is_bounded() {
    let key = "k".repeat(10_000);
    let body = format!(r#"{{"{key}":1,"{key}":2}}"#);
    let error = refused(&PostInput::json(body.as_bytes()), &Limits::default());
    assert!(error.message.len() < 300, "{}", error.message.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = inspect_post(&PostInput::json(&body), &batches());
    }

    #[test]
    fn never_panics_on_json_like_text(
        body in r#"[\[\]{}":,.\\/a-zA-Z0-9 _\-ſ]{0,200}"#,
        method in proptest::option::of(r#"[=?a-zA-Z0-9/+ ]{0,24}"#),
        name in proptest::option::of(r#"[=?a-zA-Z0-9/+ ]{0,24}"#),
        version in proptest::option::of("[0-9-]{0,12}"),
    ) {
        let input = PostInput {
            mcp_method: method.as_deref().map_or(HeaderField::Absent, HeaderField::single),
            mcp_name: name.as_deref().map_or(HeaderField::Absent, HeaderField::single),
            protocol_version: version.as_deref().map_or(HeaderField::Absent, HeaderField::single),
            ..PostInput::json(body.as_bytes())
        };
        let _ = inspect_post(&input, &batches());
    }

    /// Whatever tool call wraps a name, a successful inspection reports that name.
    #[test]
    fn accepted_tool_calls_report_their_name(name in "\\PC{0,40}", id in any::<i64>()) {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":name}}).to_string();
        match inspect_post(&PostInput::json(body.as_bytes()), &Limits::default()) {
            Ok(inspected) => {
                prop_assert_eq!(inspected.messages()[0].tool_name(), Some(name.as_str()));
            }
            Err(error) => prop_assert!(name.chars().any(char::is_control), "{:?}", error),
        }
    }
}
