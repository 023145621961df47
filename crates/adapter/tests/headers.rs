//! The header rules as a table: what a local client sends, what the runtime receives.

use http::{HeaderMap, HeaderName, HeaderValue};
use mcp_runtime_adapter::headers::HeaderRules;
use mcp_runtime_adapter::{ConfigError, HeaderNames, Identity, RuntimeConfig, Token};

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    headers
}

/// The headers as sorted `name: value` lines (every value of a repeated header).
fn lines(headers: &HeaderMap) -> Vec<String> {
    let mut lines: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.to_str().expect("text")))
        .collect();
    lines.sort();
    lines
}

/// What a hostile or confused local client sends: forged identity (default names, in any
/// case), credentials, hop-by-hop headers, and the MCP headers that must pass.
fn client_headers() -> HeaderMap {
    map(&[
        ("X-MCP-Human-ID", "mallory"),
        ("x-mcp-agent-id", "forged-agent"),
        ("X-MCP-Agent-ID", "second-forged-agent"),
        ("X-MCP-Team-ID", "forged-team"),
        ("X-MCP-Agent-Session", "forged-session"),
        ("Authorization", "Bearer client-token"),
        ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
        ("Cookie", "session=abc"),
        ("Host", "127.0.0.1:8099"),
        ("Origin", "http://127.0.0.1:8099"),
        ("Connection", "keep-alive, x-hop"),
        ("x-hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Upgrade", "websocket"),
        ("Transfer-Encoding", "chunked"),
        ("Mcp-Session-Id", "session-1"),
        ("MCP-Protocol-Version", "2025-06-18"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "add"),
        ("Last-Event-ID", "42"),
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
    ])
}

/// What always passes through unchanged.
const PASSED: &[&str] = &[
    "accept: application/json, text/event-stream",
    "content-type: application/json",
    "last-event-id: 42",
    "mcp-method: tools/call",
    "mcp-name: add",
    "mcp-protocol-version: 2025-06-18",
    "mcp-session-id: session-1",
    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
];

struct Case {
    name: &'static str,
    config: RuntimeConfig,
    /// Headers the runtime receives besides [`PASSED`].
    added: &'static [&'static str],
}

fn config(identity: Identity) -> RuntimeConfig {
    let mut config = RuntimeConfig::new("http://127.0.0.1:8091/mcp");
    config.identity = identity;
    config
}

fn cases() -> Vec<Case> {
    let human_and_agent = Identity {
        human: Some("alice@example.com".into()),
        agent: Some("claude".into()),
        ..Identity::default()
    };
    let everything = Identity {
        human: Some("alice@example.com".into()),
        agent: Some("claude".into()),
        team: Some("platform".into()),
        session: Some("alice-claude".into()),
    };
    let mut with_token = config(human_and_agent.clone());
    with_token.token = Some(Token::new("s3cret"));
    let mut token_with_scheme = config(Identity::default());
    token_with_scheme.token = Some(Token::new("Basic dXNlcjpwYXNz"));
    let mut api_key = config(Identity::default());
    api_key.token = Some(Token::new("k-123"));
    api_key.token_header = "X-Api-Key".into();
    let mut custom_names = config(human_and_agent.clone());
    custom_names.header_names = HeaderNames {
        human: "X-Human".into(),
        agent: "X-Agent".into(),
        team: "X-Team".into(),
        session: "X-Session".into(),
    };
    let mut host = config(Identity::default());
    host.host_header = Some("notes.mcp.example.com".into());
    vec![
        Case {
            name: "no identity: every forged header is removed, nothing is set",
            config: config(Identity::default()),
            added: &[],
        },
        Case {
            name: "human and agent: exactly one value each, team and session stay absent",
            config: config(human_and_agent),
            added: &[
                "x-mcp-agent-id: claude",
                "x-mcp-human-id: alice@example.com",
            ],
        },
        Case {
            name: "every identity field",
            config: config(everything),
            added: &[
                "x-mcp-agent-id: claude",
                "x-mcp-agent-session: alice-claude",
                "x-mcp-human-id: alice@example.com",
                "x-mcp-team-id: platform",
            ],
        },
        Case {
            name: "a token replaces the client's Authorization",
            config: with_token,
            added: &[
                "authorization: Bearer s3cret",
                "x-mcp-agent-id: claude",
                "x-mcp-human-id: alice@example.com",
            ],
        },
        Case {
            name: "a token that names its scheme is sent as it is",
            config: token_with_scheme,
            added: &["authorization: Basic dXNlcjpwYXNz"],
        },
        Case {
            name: "a token in another header: raw, and Authorization is still removed",
            config: api_key,
            added: &["x-api-key: k-123"],
        },
        Case {
            name: "custom header names: set under them, MR's default names still removed",
            config: custom_names,
            added: &["x-agent: claude", "x-human: alice@example.com"],
        },
        Case {
            name: "--host-header",
            config: host,
            added: &["host: notes.mcp.example.com"],
        },
    ]
}

#[test]
fn the_runtime_receives_only_the_adapters_identity_and_credentials() {
    for case in cases() {
        let rules = HeaderRules::new(&case.config).expect(case.name);
        let mut headers = client_headers();
        rules.apply(&mut headers);
        let mut expected: Vec<String> = PASSED.iter().map(|s| (*s).to_owned()).collect();
        expected.extend(case.added.iter().map(|s| (*s).to_owned()));
        expected.sort();
        assert_eq!(lines(&headers), expected, "{}", case.name);
    }
}

#[test]
fn a_client_using_the_custom_names_cannot_forge_them_either() {
    let mut config = config(Identity {
        agent: Some("claude".into()),
        ..Identity::default()
    });
    config.header_names.agent = "X-Agent".into();
    config.header_names.session = "X-Session".into();
    let rules = HeaderRules::new(&config).expect("rules");
    let mut headers = map(&[
        ("x-agent", "forged"),
        ("X-Session", "forged"),
        ("X-MCP-Agent-ID", "forged"),
    ]);
    rules.apply(&mut headers);
    assert_eq!(lines(&headers), ["x-agent: claude"]);
}

#[test]
fn the_token_is_marked_sensitive_and_never_printed() {
    let mut config = config(Identity::default());
    config.token = Some(Token::new("s3cret-token"));
    let rules = HeaderRules::new(&config).expect("rules");
    let mut headers = HeaderMap::new();
    rules.apply(&mut headers);
    assert!(headers["authorization"].is_sensitive());
    for printed in [format!("{config:?}"), format!("{rules:?}")] {
        assert!(!printed.contains("s3cret"), "{printed}");
    }
}

#[test]
fn values_http_cannot_carry_are_refused_naming_the_flag_not_the_value() {
    let mut bad_agent = config(Identity {
        agent: Some("claude\r\nX-MCP-Human-ID: admin".into()),
        ..Identity::default()
    });
    let error = HeaderRules::new(&bad_agent).expect_err("CRLF");
    assert!(
        matches!(error, ConfigError::HeaderValue { ref flag } if flag == "--agent-id"),
        "{error}"
    );
    bad_agent.identity.agent = None;
    bad_agent.token = Some(Token::new("line\nbreak-secret"));
    let error = HeaderRules::new(&bad_agent).expect_err("token").to_string();
    assert!(error.starts_with("--token"), "{error}");
    assert!(!error.contains("secret"), "{error}");

    let mut bad_name = config(Identity::default());
    bad_name.header_names.human = "X Human".into();
    let error = HeaderRules::new(&bad_name).expect_err("name").to_string();
    assert_eq!(
        error,
        "--human-id-header \"X Human\" is not a valid HTTP header name"
    );
}
