//! Strict inspection of MCP streamable-HTTP `POST` requests.
//!
//! The security goal: **no denied `tools/call` reaches an upstream through an encoding trick**.
//! The gateway decides on the message this module returns and forwards the *same bytes* it
//! inspected, so everything that could make the upstream read the body differently from us is
//! refused instead of normalized:
//!
//! | Input | Outcome |
//! |---|---|
//! | body over [`Limits::max_body_bytes`] (default 4 MiB) | 413, -32600 |
//! | empty body | 400, -32600 |
//! | `Content-Encoding` other than absent / `identity`, or repeated | 415, -32600 |
//! | `Content-Type` not `application/json` (parameters allowed; a `charset` must be UTF-8), absent or repeated | 415, -32600 |
//! | UTF-8 byte-order mark, invalid UTF-8, invalid JSON, trailing data, nesting deeper than serde_json's 128 levels | 400, -32700 |
//! | a duplicate object key at any depth (after `\u` unescaping) | 400, -32700 |
//! | not an object, `jsonrpc` not `"2.0"`, bad `id`, `method` and `result` together, … | 400, -32600 |
//! | a top-level member that case-folds to a JSON-RPC member without being it (`"Method"`) | 400, -32600 |
//! | a method that case-folds to a policed method without being it (`"Tools/Call"`) | 400, -32600 |
//! | a policed method with malformed `params`, e.g. `tools/call` without a string `params.name` | 400, -32602 |
//! | a batch (top-level array) unless [`Limits::allow_batches`]; an empty batch | 400, -32600 |
//! | `Mcp-Method` / `Mcp-Name` / `MCP-Protocol-Version` disagreeing with the body, repeated, on a batch, or missing where required | 400, -32020 |
//!
//! Notes on the choices:
//!
//! * **Method names are compared exactly** (case-sensitive, as JSON-RPC). `Tools/Call` is
//!   therefore not a tool call. Rather than forward it as an unknown method, it is refused,
//!   so an upstream with case-insensitive routing cannot be used to bypass the policy. The
//!   same applies to variants with surrounding whitespace and to Unicode case folding
//!   (`toolſ/call`, with U+017F, folds to `tools/call`). Policed methods: `tools/call`,
//!   `call_tool`, `resources/read`, `prompts/get`.
//! * **Case-variant members.** Go's `encoding/json` matches struct fields case-insensitively
//!   (with Unicode folding), so `{"method":"ping","Method":"tools/call"}` is a tool call for a
//!   Go upstream. Top-level members that fold to `jsonrpc`, `id`, `method`, `params`, `result`
//!   or `error` without being exactly that name are refused, and so are members of a policed
//!   method's `params` that fold to `name`, `uri`, `arguments` or `_meta`. Deeper objects
//!   (tool arguments) may legitimately hold keys differing only in case and are not checked.
//! * **Control characters** (U+0000–U+001F, U+007F) are refused in methods, tool names and URIs,
//!   so a C-string upstream cannot read `tools/call\u0000x` as `tools/call`.
//! * **Notifications are policed like requests**: a `tools/call` without an `id` is still a
//!   tool call ([`Message::is_tool_call`]); the caller must decide it too. `"id": null` is
//!   refused on requests (MCP forbids null ids) and allowed only on error responses.
//! * **Modern-era headers.** `Mcp-Method` must equal the body `method`; `Mcp-Name` must equal
//!   `params.name` (`tools/call`, `call_tool`, `prompts/get`) or `params.uri`
//!   (`resources/read`) and is refused on any other message. Values of the form
//!   `=?base64?…?=` are decoded first. The protocol version is the `MCP-Protocol-Version`
//!   header, else `params._meta["io.modelcontextprotocol/protocolVersion"]` (they must agree
//!   when both are present). From `2026-07-28` on, or for a version that is not a date, a tool
//!   call must carry both `Mcp-Method` and `Mcp-Name`.
//! * The caller must bound the body while reading it; [`Limits::max_body_bytes`] is checked
//!   again here so the limit holds whatever the transport did.

use std::fmt;

use mcp_runtime_policy::Reason;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::codes::{HEADER_MISMATCH, INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR};

/// The default body limit, 4 MiB (the Python SDK's limit).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The first protocol revision whose tool calls must carry `Mcp-Method` and `Mcp-Name`.
pub const MODERN_PROTOCOL_VERSION: &str = "2026-07-28";

/// The `_meta` key carrying the protocol version in modern requests.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The JSON-RPC members of a message.
const ENVELOPE_MEMBERS: &[&str] = &["jsonrpc", "id", "method", "params", "result", "error"];

/// Members of a policed method's `params` that must not appear in another letter case.
const PARAMS_MEMBERS: &[&str] = &["name", "uri", "arguments", "_meta"];

/// Methods the gateway polices (or will): a case variant of one of these is refused.
const POLICED_METHODS: &[&str] = &["tools/call", "call_tool", "resources/read", "prompts/get"];

/// Inspection limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted body, in bytes (inclusive). Default [`DEFAULT_MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// Accept top-level arrays (2025-03-26 batches). Default `false`: refused with 400 / -32600.
    pub allow_batches: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            allow_batches: false,
        }
    }
}

/// One request header as received: absent, once, or more than once.
///
/// A repeated header is never merged: every header the inspection reads must appear at most
/// once (a repeated `Mcp-Method` could be read differently by the upstream).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeaderField<'a> {
    /// Not sent.
    #[default]
    Absent,
    /// Sent once, with this raw value.
    Single(&'a [u8]),
    /// Sent more than once.
    Repeated,
}

impl<'a> HeaderField<'a> {
    /// Classifies all the values received for one header name.
    pub fn from_values<I>(values: I) -> Self
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut values = values.into_iter();
        match (values.next(), values.next()) {
            (None, _) => HeaderField::Absent,
            (Some(value), None) => HeaderField::Single(value),
            (Some(_), Some(_)) => HeaderField::Repeated,
        }
    }

    /// One value given as a string.
    pub fn single(value: &'a str) -> Self {
        HeaderField::Single(value.as_bytes())
    }
}

/// What [`inspect_post`] reads from a `POST`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PostInput<'a> {
    /// The complete body, exactly as it will be forwarded.
    pub body: &'a [u8],
    /// `Content-Type`.
    pub content_type: HeaderField<'a>,
    /// `Content-Encoding`.
    pub content_encoding: HeaderField<'a>,
    /// `Mcp-Method`.
    pub mcp_method: HeaderField<'a>,
    /// `Mcp-Name`.
    pub mcp_name: HeaderField<'a>,
    /// `MCP-Protocol-Version`.
    pub protocol_version: HeaderField<'a>,
}

impl<'a> PostInput<'a> {
    /// A body sent as `Content-Type: application/json` with no other header.
    pub fn json(body: &'a [u8]) -> Self {
        PostInput {
            body,
            content_type: HeaderField::single("application/json"),
            ..PostInput::default()
        }
    }

    /// Reads the relevant headers from an [`http::HeaderMap`] (names are case-insensitive).
    pub fn from_header_map(headers: &'a http::HeaderMap, body: &'a [u8]) -> Self {
        let field = |name: &str| {
            HeaderField::from_values(headers.get_all(name).iter().map(|value| value.as_bytes()))
        };
        PostInput {
            body,
            content_type: field("content-type"),
            content_encoding: field("content-encoding"),
            mcp_method: field("mcp-method"),
            mcp_name: field("mcp-name"),
            protocol_version: field("mcp-protocol-version"),
        }
    }
}

/// The kind of a JSON-RPC message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A `method` with a string or number `id`.
    Request,
    /// A `method` without an `id`.
    Notification,
    /// A `result` or `error` (a client's answer to a server request; legacy era).
    Response,
}

/// One inspected JSON-RPC message. Only [`inspect_post`] builds it, so its invariants hold:
/// a tool call has a string `params.name`, `method` (if any) is a string, `id` (if any) is a
/// string or a number (or `null` on an error response).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    kind: Kind,
    value: Value,
}

impl Message {
    /// Request, notification or response.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The JSON-RPC method; `None` for a response.
    pub fn method(&self) -> Option<&str> {
        self.value.get("method").and_then(Value::as_str)
    }

    /// The JSON-RPC id; `None` for a notification.
    pub fn id(&self) -> Option<&Value> {
        self.value.get("id")
    }

    /// True for `tools/call` and the legacy `call_tool` (exact names), requests and
    /// notifications alike.
    pub fn is_tool_call(&self) -> bool {
        self.method()
            .is_some_and(mcp_runtime_policy::is_tool_call_method)
    }

    /// The tool name of a tool call (`params.name`); `None` for anything else.
    pub fn tool_name(&self) -> Option<&str> {
        if self.is_tool_call() {
            self.param_str("name")
        } else {
            None
        }
    }

    /// What `Mcp-Name` must equal: `params.name` for `tools/call`, `call_tool` and
    /// `prompts/get`, `params.uri` for `resources/read`, else `None`.
    pub fn target_name(&self) -> Option<&str> {
        name_member(self.method()?).and_then(|member| self.param_str(member))
    }

    /// The parsed message.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The parsed message, by value.
    pub fn into_value(self) -> Value {
        self.value
    }

    fn param_str(&self, member: &str) -> Option<&str> {
        self.value.get("params")?.get(member)?.as_str()
    }
}

/// A successfully inspected body.
#[derive(Clone, Debug, PartialEq)]
pub enum Inspected {
    /// One message.
    Single(Message),
    /// A batch (only with [`Limits::allow_batches`]); never empty. The caller decides every
    /// element and refuses the whole batch if any element is denied.
    Batch(Vec<Message>),
}

impl Inspected {
    /// Every message, in body order.
    pub fn messages(&self) -> &[Message] {
        match self {
            Inspected::Single(message) => std::slice::from_ref(message),
            Inspected::Batch(messages) => messages,
        }
    }

    /// True for a batch.
    pub fn is_batch(&self) -> bool {
        matches!(self, Inspected::Batch(_))
    }

    /// True if any message is a tool call.
    pub fn has_tool_call(&self) -> bool {
        self.messages().iter().any(Message::is_tool_call)
    }
}

/// Why a body was refused, with its HTTP status and JSON-RPC error.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} (HTTP {http_status}, JSON-RPC {code})")]
pub struct InspectError {
    /// 400, 413 or 415.
    pub http_status: u16,
    /// -32700, -32600, -32602 or -32020.
    pub code: i64,
    /// A human-readable explanation (client data in it is quoted and truncated).
    pub message: String,
    /// The message's id when it was readable, else `None` (encoded as `null`).
    pub id: Option<Value>,
}

impl InspectError {
    fn new(http_status: u16, code: i64, message: impl Into<String>) -> Self {
        InspectError {
            http_status,
            code,
            message: message.into(),
            id: None,
        }
    }

    fn bad_request(code: i64, message: impl Into<String>) -> Self {
        InspectError::new(400, code, message)
    }

    fn with_id(mut self, id: Option<&Value>) -> Self {
        self.id = id.filter(|id| is_valid_id(id)).cloned();
        self
    }

    /// The MR reason code for audit: always `rpc_inspection_failed`.
    pub fn reason(&self) -> Reason {
        Reason::RpcInspectionFailed
    }

    /// `{"jsonrpc":"2.0","id":<id or null>,"error":{"code":…,"message":…}}`.
    pub fn to_jsonrpc_body(&self) -> Vec<u8> {
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": self.id.clone().unwrap_or(Value::Null),
            "error": {"code": self.code, "message": self.message},
        });
        body.to_string().into_bytes()
    }
}

/// Inspects a `POST` body and its headers; see the [module documentation](self) for the rules.
pub fn inspect_post(input: &PostInput<'_>, limits: &Limits) -> Result<Inspected, InspectError> {
    check_content_encoding(input.content_encoding)?;
    check_content_type(input.content_type)?;
    let body = input.body;
    if body.len() > limits.max_body_bytes {
        return Err(InspectError::new(
            413,
            INVALID_REQUEST,
            format!(
                "request body of {} bytes exceeds the limit of {} bytes",
                body.len(),
                limits.max_body_bytes
            ),
        ));
    }
    if body.is_empty() {
        return Err(InspectError::bad_request(
            INVALID_REQUEST,
            "empty request body",
        ));
    }
    if body.starts_with(UTF8_BOM) {
        return Err(InspectError::bad_request(
            PARSE_ERROR,
            "parse error: a UTF-8 byte order mark is not allowed",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|error| {
        InspectError::bad_request(
            PARSE_ERROR,
            format!("parse error: invalid UTF-8 at byte {}", error.valid_up_to()),
        )
    })?;
    match parse_strict(text)? {
        Value::Array(items) => inspect_batch(items, input, limits),
        value => {
            let message = check_message(value)?;
            check_headers(&message, input).map_err(|error| error.with_id(message.id()))?;
            Ok(Inspected::Single(message))
        }
    }
}

fn inspect_batch(
    items: Vec<Value>,
    input: &PostInput<'_>,
    limits: &Limits,
) -> Result<Inspected, InspectError> {
    if !limits.allow_batches {
        return Err(InspectError::bad_request(
            INVALID_REQUEST,
            "batches are not supported",
        ));
    }
    if items.is_empty() {
        return Err(InspectError::bad_request(INVALID_REQUEST, "empty batch"));
    }
    if input.mcp_method != HeaderField::Absent || input.mcp_name != HeaderField::Absent {
        return Err(InspectError::bad_request(
            HEADER_MISMATCH,
            "Mcp-Method and Mcp-Name headers are not allowed on a batch",
        ));
    }
    let messages = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            check_message(item).map_err(|error| {
                // The whole batch is refused, so no single id applies.
                InspectError {
                    message: format!("batch element {index}: {}", error.message),
                    id: None,
                    ..error
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (index, message) in messages.iter().enumerate() {
        // A batch cannot carry per-message headers, so a modern tool call cannot be batched.
        if message.is_tool_call() && is_modern(protocol_version(message, input)?.as_deref()) {
            return Err(InspectError::bad_request(
                HEADER_MISMATCH,
                format!(
                    "batch element {index}: a tool call needs Mcp-Method and Mcp-Name headers \
                     from protocol version {MODERN_PROTOCOL_VERSION} on, so it cannot be batched"
                ),
            ));
        }
    }
    Ok(Inspected::Batch(messages))
}

// ---------------------------------------------------------------------------------------------
// Headers

fn check_content_encoding(field: HeaderField<'_>) -> Result<(), InspectError> {
    let refuse = |detail: String| {
        Err(InspectError::new(
            415,
            INVALID_REQUEST,
            format!("{detail}: the gateway only accepts unencoded (identity) request bodies"),
        ))
    };
    match field {
        HeaderField::Absent => Ok(()),
        HeaderField::Repeated => refuse("repeated Content-Encoding header".to_owned()),
        HeaderField::Single(raw) => {
            if trim_ows(raw).eq_ignore_ascii_case(b"identity") {
                Ok(())
            } else {
                refuse(format!(
                    "Content-Encoding {} refused",
                    quoted(&String::from_utf8_lossy(raw))
                ))
            }
        }
    }
}

fn check_content_type(field: HeaderField<'_>) -> Result<(), InspectError> {
    let refuse = |detail: String| {
        Err(InspectError::new(
            415,
            INVALID_REQUEST,
            format!("{detail}: Content-Type must be application/json"),
        ))
    };
    let raw = match field {
        HeaderField::Absent => return refuse("missing Content-Type".to_owned()),
        HeaderField::Repeated => return refuse("repeated Content-Type header".to_owned()),
        HeaderField::Single(raw) => raw,
    };
    let Ok(text) = std::str::from_utf8(raw) else {
        return refuse("Content-Type is not valid UTF-8".to_owned());
    };
    let mut parts = text.split(';');
    let media_type = parts.next().unwrap_or_default().trim_matches(is_ows);
    if !media_type.eq_ignore_ascii_case("application/json") {
        return refuse(format!("unsupported Content-Type {}", quoted(text)));
    }
    for parameter in parts {
        let parameter = parameter.trim_matches(is_ows);
        if parameter.is_empty() {
            continue;
        }
        let Some((name, value)) = parameter.split_once('=') else {
            return refuse(format!(
                "malformed Content-Type parameter {}",
                quoted(parameter)
            ));
        };
        if name.trim_matches(is_ows).eq_ignore_ascii_case("charset") {
            let charset = value.trim_matches(is_ows);
            let charset = charset
                .strip_prefix('"')
                .and_then(|inner| inner.strip_suffix('"'))
                .unwrap_or(charset);
            if !charset.eq_ignore_ascii_case("utf-8") {
                return refuse(format!("unsupported charset {}", quoted(charset)));
            }
        }
    }
    Ok(())
}

fn check_headers(message: &Message, input: &PostInput<'_>) -> Result<(), InspectError> {
    let version = protocol_version(message, input)?;
    let body_method = message.method();
    let mismatch = |text: String| InspectError::bad_request(HEADER_MISMATCH, text);

    if let Some(header) = header_text("Mcp-Method", input.mcp_method)? {
        match body_method {
            None => {
                return Err(mismatch(
                    "Mcp-Method header on a message without a method".to_owned(),
                ));
            }
            Some(method) if method != header => {
                return Err(mismatch(format!(
                    "Mcp-Method header {} does not match the body method {}",
                    quoted(&header),
                    quoted(method)
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(header) = header_text("Mcp-Name", input.mcp_name)? {
        match message.target_name() {
            None => {
                return Err(mismatch(format!(
                    "Mcp-Name header on a message without a name ({})",
                    body_method.map_or_else(|| "a response".to_owned(), quoted)
                )));
            }
            Some(name) if name != header => {
                return Err(mismatch(format!(
                    "Mcp-Name header {} does not match the body name {}",
                    quoted(&header),
                    quoted(name)
                )));
            }
            Some(_) => {}
        }
    }
    if message.is_tool_call() && is_modern(version.as_deref()) {
        for (name, field) in [
            ("Mcp-Method", input.mcp_method),
            ("Mcp-Name", input.mcp_name),
        ] {
            if field == HeaderField::Absent {
                return Err(mismatch(format!(
                    "missing {name} header: required on tool calls from protocol version \
                     {MODERN_PROTOCOL_VERSION} on"
                )));
            }
        }
    }
    Ok(())
}

/// The request's protocol version: the header, else the body's `_meta` (they must agree).
fn protocol_version(
    message: &Message,
    input: &PostInput<'_>,
) -> Result<Option<String>, InspectError> {
    let header = header_text("MCP-Protocol-Version", input.protocol_version)?;
    let meta = message
        .value
        .get("params")
        .and_then(|params| params.get("_meta"))
        .and_then(|meta| meta.get(META_PROTOCOL_VERSION));
    let meta = match meta {
        None => None,
        Some(Value::String(version)) => Some(version.as_str()),
        Some(_) => {
            return Err(InspectError::bad_request(
                INVALID_PARAMS,
                format!("params._meta[{META_PROTOCOL_VERSION:?}] must be a string"),
            ));
        }
    };
    match (header, meta) {
        (Some(header), Some(meta)) if header != meta => Err(InspectError::bad_request(
            HEADER_MISMATCH,
            format!(
                "MCP-Protocol-Version header {} does not match the body's {}",
                quoted(&header),
                quoted(meta)
            ),
        )),
        (Some(header), _) => Ok(Some(header)),
        (None, meta) => Ok(meta.map(str::to_owned)),
    }
}

/// True from 2026-07-28 on; also for any version that is not a `YYYY-MM-DD` date, so an odd
/// version string cannot switch the header requirement off. `None` (legacy default) is false.
fn is_modern(version: Option<&str>) -> bool {
    let Some(version) = version else {
        return false;
    };
    let is_date = version.len() == 10
        && version
            .bytes()
            .enumerate()
            .all(|(index, byte)| match index {
                4 | 7 => byte == b'-',
                _ => byte.is_ascii_digit(),
            });
    !is_date || version >= MODERN_PROTOCOL_VERSION
}

/// A single header's value as text: trimmed, `=?base64?…?=` decoded, UTF-8.
fn header_text(name: &str, field: HeaderField<'_>) -> Result<Option<String>, InspectError> {
    let raw = match field {
        HeaderField::Absent => return Ok(None),
        HeaderField::Single(raw) => trim_ows(raw),
        HeaderField::Repeated => {
            return Err(InspectError::bad_request(
                HEADER_MISMATCH,
                format!("repeated {name} header"),
            ));
        }
    };
    let invalid =
        |what: &str| InspectError::bad_request(HEADER_MISMATCH, format!("{name} header {what}"));
    let bytes = match strip_base64_wrapper(raw) {
        Some(encoded) => {
            base64_decode(encoded).ok_or_else(|| invalid("has invalid =?base64?…?= encoding"))?
        }
        None => raw.to_vec(),
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| invalid("is not valid UTF-8"))
}

/// The payload of `=?base64?<payload>?=` (the `base64` label is case-insensitive).
fn strip_base64_wrapper(raw: &[u8]) -> Option<&[u8]> {
    const PREFIX: &[u8] = b"=?base64?";
    if raw.len() < PREFIX.len() + 2 || !raw[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    raw[PREFIX.len()..].strip_suffix(b"?=")
}

/// Standard-alphabet base64 as MCP's `=?base64?…?=` header values use it: padding optional (but
/// when present, the input is whole 4-character groups), no whitespace, no URL-safe alphabet;
/// `None` on anything else. Non-zero trailing bits are accepted, as Python's `b64decode` (the
/// reference SDK's decoder) accepts them: the decoded text is what is compared with the body, so
/// two spellings of one value cannot make the header and the body disagree.
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const HEADER_BASE64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    // The engine's `Indifferent` mode also takes partial padding (`YQ=`); padding, when there
    // is any, must complete the last group.
    if input.ends_with(b"=") && !input.len().is_multiple_of(4) {
        return None;
    }
    HEADER_BASE64.decode(input).ok()
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn trim_ows(raw: &[u8]) -> &[u8] {
    let start = raw
        .iter()
        .position(|byte| !matches!(byte, b' ' | b'\t'))
        .unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|byte| !matches!(byte, b' ' | b'\t'))
        .map_or(start, |index| index + 1);
    &raw[start..end]
}

// ---------------------------------------------------------------------------------------------
// Message structure

fn check_message(value: Value) -> Result<Message, InspectError> {
    let Value::Object(object) = value else {
        return Err(InspectError::bad_request(
            INVALID_REQUEST,
            format!(
                "a JSON-RPC message must be an object, not {}",
                type_name(&value)
            ),
        ));
    };
    let id = object.get("id");
    let invalid = |code: i64, text: String| InspectError::bad_request(code, text).with_id(id);

    for key in object.keys() {
        if let Some(member) = case_variant_of(key, ENVELOPE_MEMBERS) {
            return Err(invalid(
                INVALID_REQUEST,
                format!(
                    "member {} is a letter-case variant of {member:?}",
                    quoted(key)
                ),
            ));
        }
    }
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(
            INVALID_REQUEST,
            "\"jsonrpc\" must be \"2.0\"".to_owned(),
        ));
    }
    let has_result = object.contains_key("result");
    let has_error = object.contains_key("error");

    let kind = match object.get("method") {
        Some(Value::String(method)) => {
            if has_result || has_error {
                return Err(invalid(
                    INVALID_REQUEST,
                    "a message cannot carry both a method and a result or error".to_owned(),
                ));
            }
            let kind = match id {
                None => Kind::Notification,
                Some(Value::String(_) | Value::Number(_)) => Kind::Request,
                Some(other) => {
                    return Err(invalid(
                        INVALID_REQUEST,
                        format!(
                            "\"id\" must be a string or a number, not {}",
                            type_name(other)
                        ),
                    ));
                }
            };
            check_method(method, &object).map_err(|error| error.with_id(id))?;
            kind
        }
        Some(other) => {
            return Err(invalid(
                INVALID_REQUEST,
                format!("\"method\" must be a string, not {}", type_name(other)),
            ));
        }
        None => {
            if has_result == has_error {
                return Err(invalid(
                    INVALID_REQUEST,
                    "a message needs a method, or exactly one of result and error".to_owned(),
                ));
            }
            match id {
                Some(Value::String(_) | Value::Number(_)) => {}
                Some(Value::Null) if has_error => {}
                _ => {
                    return Err(invalid(
                        INVALID_REQUEST,
                        "a response needs a string or number \"id\"".to_owned(),
                    ));
                }
            }
            Kind::Response
        }
    };
    Ok(Message {
        kind,
        value: Value::Object(object),
    })
}

fn check_method(method: &str, object: &Map<String, Value>) -> Result<(), InspectError> {
    if method.chars().any(char::is_control) {
        return Err(InspectError::bad_request(
            INVALID_REQUEST,
            format!("method {} contains a control character", quoted(method)),
        ));
    }
    if !POLICED_METHODS.contains(&method) {
        let folded = fold(method.trim());
        if let Some(policed) = POLICED_METHODS.iter().find(|policed| **policed == folded) {
            return Err(InspectError::bad_request(
                INVALID_REQUEST,
                format!(
                    "method name case variant refused: {} is not {policed:?}",
                    quoted(method)
                ),
            ));
        }
        return match object.get("params") {
            None | Some(Value::Object(_) | Value::Array(_)) => Ok(()),
            Some(other) => Err(InspectError::bad_request(
                INVALID_PARAMS,
                format!(
                    "\"params\" must be an object or an array, not {}",
                    type_name(other)
                ),
            )),
        };
    }
    let params = match object.get("params") {
        Some(Value::Object(params)) => Some(params),
        None => None,
        Some(other) => {
            return Err(InspectError::bad_request(
                INVALID_PARAMS,
                format!(
                    "{method}: \"params\" must be an object, not {}",
                    type_name(other)
                ),
            ));
        }
    };
    if let Some(params) = params {
        for key in params.keys() {
            if let Some(member) = case_variant_of(key, PARAMS_MEMBERS) {
                return Err(InspectError::bad_request(
                    INVALID_PARAMS,
                    format!(
                        "{method}: params member {} is a letter-case variant of {member:?}",
                        quoted(key)
                    ),
                ));
            }
        }
    }
    let Some(member) = name_member(method) else {
        return Ok(());
    };
    let required = mcp_runtime_policy::is_tool_call_method(method);
    match params.and_then(|params| params.get(member)) {
        Some(Value::String(name)) => {
            if name.chars().any(char::is_control) {
                return Err(InspectError::bad_request(
                    INVALID_PARAMS,
                    format!("{method}: params.{member} contains a control character"),
                ));
            }
            Ok(())
        }
        None if !required => Ok(()),
        None => Err(InspectError::bad_request(
            INVALID_PARAMS,
            format!("{method}: params.{member} is required"),
        )),
        Some(other) => Err(InspectError::bad_request(
            INVALID_PARAMS,
            format!(
                "{method}: params.{member} must be a string, not {}",
                type_name(other)
            ),
        )),
    }
}

/// The `params` member naming the target of a method (what `Mcp-Name` carries).
fn name_member(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "call_tool" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// `Some(member)` when `key` case-folds to `member` without being equal to it.
fn case_variant_of(key: &str, members: &[&'static str]) -> Option<&'static str> {
    if members.contains(&key) {
        return None;
    }
    let folded = fold(key);
    members.iter().copied().find(|member| *member == folded)
}

/// An approximation of Unicode simple case folding (what Go's `EqualFold` uses): upper- then
/// lower-casing maps `ſ` (U+017F) to `s` and `K` (U+212A) to `k`.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_uppercase)
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_valid_id(id: &Value) -> bool {
    matches!(id, Value::String(_) | Value::Number(_))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Client-supplied text for an error message: debug-quoted, at most 64 characters.
fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    match text.char_indices().nth(MAX_CHARS) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}…", &text[..end]),
    }
}

// ---------------------------------------------------------------------------------------------
// Strict JSON

/// Parses one JSON value, refusing duplicate object keys at any depth and trailing data.
/// serde_json's recursion limit (128) bounds the nesting, so a deep body cannot overflow the
/// stack.
fn parse_strict(text: &str) -> Result<Value, InspectError> {
    let parse_error = |error: serde_json::Error| {
        InspectError::bad_request(PARSE_ERROR, format!("parse error: {error}"))
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = StrictValue
        .deserialize(&mut deserializer)
        .map_err(parse_error)?;
    deserializer.end().map_err(parse_error)?;
    Ok(value)
}

/// Deserializes a [`Value`], refusing duplicate object keys.
#[derive(Clone, Copy, Debug)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate object key {}",
                    quoted(&key)
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_vectors() {
        assert_eq!(base64_decode(b"YWRk").as_deref(), Some(&b"add"[..]));
        assert_eq!(base64_decode(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64_decode(b"").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode(b"Y"), None);
        assert_eq!(base64_decode(b"YQ="), None);
        assert_eq!(base64_decode(b"Y Q=="), None);
        assert_eq!(base64_decode(b"YW-k"), None);
        // Whitespace anywhere, URL-safe letters, a padding character inside, too much padding,
        // a padded group that is not whole, and a lone quantum of one character are all refused.
        assert_eq!(base64_decode(b" YWRk"), None);
        assert_eq!(base64_decode(b"YWRk\n"), None);
        assert_eq!(base64_decode(b"YW_k"), None);
        assert_eq!(base64_decode(b"YQ==YQ=="), None);
        assert_eq!(base64_decode(b"YQ==="), None);
        assert_eq!(base64_decode(b"YWRkY=="), None);
        assert_eq!(base64_decode(b"YWRkY"), None);
        assert_eq!(base64_decode(b"===="), None);
        // Longer inputs and every byte value survive a round trip.
        assert_eq!(
            base64_decode(b"dG9vbHMvY2FsbA==").as_deref(),
            Some(&b"tools/call"[..])
        );
        assert_eq!(
            base64_decode(b"AP8A/w").as_deref(),
            Some(&[0u8, 255, 0, 255][..])
        );
        // Non-canonical trailing bits decode as Python's b64decode decodes them.
        assert_eq!(base64_decode(b"YR").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"YR==").as_deref(), Some(&b"a"[..]));
    }

    /// The decoder this module had before it used the `base64` crate, kept as the reference:
    /// the crate must accept exactly what it accepted and decode it to the same bytes.
    fn former_base64_decode(input: &[u8]) -> Option<Vec<u8>> {
        let unpadded = match input {
            [rest @ .., b'=', b'='] => rest,
            [rest @ .., b'='] => rest,
            _ => input,
        };
        if input.len() != unpadded.len() && !input.len().is_multiple_of(4) {
            return None;
        }
        if unpadded.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::new();
        let mut buffer: u32 = 0;
        let mut bits = 0;
        for &byte in unpadded {
            let sextet = match byte {
                b'A'..=b'Z' => byte - b'A',
                b'a'..=b'z' => byte - b'a' + 26,
                b'0'..=b'9' => byte - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            };
            buffer = (buffer << 6) | u32::from(sextet);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push(((buffer >> bits) & 0xFF) as u8);
            }
        }
        Some(out)
    }

    proptest::proptest! {
        #[test]
        fn base64_accepts_and_decodes_as_the_former_decoder(
            input in proptest::collection::vec(
                proptest::sample::select(b"AQRYZagz09+/=-_ \n.".to_vec()), 0..24)
        ) {
            proptest::prop_assert_eq!(base64_decode(&input), former_base64_decode(&input));
        }

        #[test]
        fn base64_round_trips_any_bytes(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..48)) {
            use base64::Engine as _;
            let padded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
            proptest::prop_assert_eq!(base64_decode(padded.as_bytes()), Some(bytes.clone()));
            proptest::prop_assert_eq!(base64_decode(unpadded.as_bytes()), Some(bytes));
        }
    }

    #[test]
    fn fold_matches_go_equal_fold_specials() {
        assert_eq!(fold("Tools/Call"), "tools/call");
        assert_eq!(fold("toolſ/call"), "tools/call");
        assert_eq!(fold("\u{212A}ey"), "key");
    }

    #[test]
    fn versions_compare_as_dates_and_odd_ones_count_as_modern() {
        assert!(!is_modern(None));
        assert!(!is_modern(Some("2025-11-25")));
        assert!(is_modern(Some("2026-07-28")));
        assert!(is_modern(Some("2027-01-01")));
        assert!(is_modern(Some("DRAFT-2026-v1")));
        assert!(is_modern(Some("")));
    }

    #[test]
    fn quoted_truncates_long_client_text() {
        let long = "x".repeat(100);
        let quoted = quoted(&long);
        assert!(quoted.ends_with('…'));
        assert_eq!(quoted.chars().count(), 64 + 3);
    }

    #[test]
    fn trim_ows_trims_spaces_and_tabs_only() {
        assert_eq!(trim_ows(b" \tabc\t "), b"abc");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b"\nabc"), b"\nabc");
    }
}
