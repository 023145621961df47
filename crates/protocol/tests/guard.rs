//! The one Host/Origin rule, as a table: every row is a request a listener gets, and what the
//! gateway and the bridge (both call `Guard::check`) answer.

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};
use mcp_runtime_protocol::guard::{Guard, Refusal};

struct Case {
    name: &'static str,
    loopback_listener: bool,
    allowed: &'static [&'static str],
    host: Option<&'static [u8]>,
    origin: Option<&'static [u8]>,
    expected: Result<(), Refusal>,
}

const LOOPBACK: bool = true;
const POD: bool = false;
use Refusal::{HostNotLoopback, OriginNotAllowed};

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Clients that are not browsers send no Origin.
    Case { name: "no origin, pod", loopback_listener: POD, allowed: &[], host: Some(b"notes.default.svc:8088"), origin: None, expected: Ok(()) },
    Case { name: "no origin, loopback", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"127.0.0.1:8080"), origin: None, expected: Ok(()) },
    Case { name: "no host, no origin", loopback_listener: LOOPBACK, allowed: &[], host: None, origin: None, expected: Ok(()) },
    // The listener's own origin.
    Case { name: "own origin, localhost", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"http://localhost:8080"), expected: Ok(()) },
    Case { name: "own origin, IPv4", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"127.0.0.1:8080"), origin: Some(b"http://127.0.0.1:8080"), expected: Ok(()) },
    Case { name: "own origin, IPv6", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"[::1]:8080"), origin: Some(b"http://[::1]:8080"), expected: Ok(()) },
    Case { name: "own origin, trailing slash", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"http://localhost:8080/"), expected: Ok(()) },
    Case { name: "own origin, letter case", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"LocalHost:8080"), origin: Some(b"http://localhost:8080"), expected: Ok(()) },
    Case { name: "own origin, https, pod", loopback_listener: POD, allowed: &[], host: Some(b"mcp.example.com"), origin: Some(b"https://mcp.example.com"), expected: Ok(()) },
    // Another site, even on the same machine.
    Case { name: "another loopback port", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"http://localhost:3000"), expected: Err(OriginNotAllowed) },
    Case { name: "another loopback name", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"http://127.0.0.1:8080"), expected: Err(OriginNotAllowed) },
    Case { name: "loopback origin at a pod", loopback_listener: POD, allowed: &[], host: Some(b"mcp.example.com"), origin: Some(b"http://localhost"), expected: Err(OriginNotAllowed) },
    Case { name: "foreign origin, pod", loopback_listener: POD, allowed: &[], host: Some(b"mcp.example.com"), origin: Some(b"http://evil.example"), expected: Err(OriginNotAllowed) },
    Case { name: "origin with a path", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"http://localhost:8080/x"), expected: Err(OriginNotAllowed) },
    Case { name: "origin without a scheme", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"localhost:8080"), expected: Err(OriginNotAllowed) },
    Case { name: "null origin", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost:8080"), origin: Some(b"null"), expected: Err(OriginNotAllowed) },
    Case { name: "origin, no host", loopback_listener: LOOPBACK, allowed: &[], host: None, origin: Some(b"http://localhost:8080"), expected: Err(OriginNotAllowed) },
    Case { name: "non-UTF-8 origin", loopback_listener: POD, allowed: &["*"], host: Some(b"mcp.example.com"), origin: Some(b"http://\xFF"), expected: Err(OriginNotAllowed) },
    // The allow-list.
    Case { name: "listed origin", loopback_listener: LOOPBACK, allowed: &["http://localhost:3000"], host: Some(b"localhost:8080"), origin: Some(b"http://localhost:3000"), expected: Ok(()) },
    Case { name: "listed with a slash, letter case", loopback_listener: POD, allowed: &["https://App.example/"], host: Some(b"mcp.example.com"), origin: Some(b"https://app.example"), expected: Ok(()) },
    Case { name: "wildcard", loopback_listener: POD, allowed: &["*"], host: Some(b"mcp.example.com"), origin: Some(b"http://evil.example"), expected: Ok(()) },
    Case { name: "unlisted besides a listed one", loopback_listener: POD, allowed: &["https://app.example"], host: Some(b"mcp.example.com"), origin: Some(b"https://app.example.evil"), expected: Err(OriginNotAllowed) },
    // DNS rebinding: Host and Origin agree on the attacker's name.
    Case { name: "rebound name on loopback", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"evil.example:8080"), origin: Some(b"http://evil.example:8080"), expected: Err(HostNotLoopback) },
    Case { name: "rebound name, no origin", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"evil.example:8080"), origin: None, expected: Err(HostNotLoopback) },
    Case { name: "rebound name, even with a wildcard", loopback_listener: LOOPBACK, allowed: &["*"], host: Some(b"evil.example"), origin: Some(b"http://evil.example"), expected: Err(HostNotLoopback) },
    Case { name: "a pod does not restrict Host", loopback_listener: POD, allowed: &[], host: Some(b"evil.example:8080"), origin: Some(b"http://evil.example:8080"), expected: Ok(()) },
    // Loopback names.
    Case { name: "localhost with a trailing dot", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost.:8080"), origin: None, expected: Ok(()) },
    Case { name: "all of 127/8", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"127.1.2.3"), origin: None, expected: Ok(()) },
    Case { name: "IPv6 loopback without a port", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"[::1]"), origin: None, expected: Ok(()) },
    Case { name: "a name that starts with localhost", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"localhost.evil.example"), origin: None, expected: Err(HostNotLoopback) },
    Case { name: "junk after the IPv6 bracket", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"[::1]x"), origin: None, expected: Err(HostNotLoopback) },
    Case { name: "IPv4-mapped loopback is not a loopback name", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"[::ffff:127.0.0.1]"), origin: None, expected: Err(HostNotLoopback) },
    Case { name: "an unspecified address", loopback_listener: LOOPBACK, allowed: &[], host: Some(b"0.0.0.0:8080"), origin: None, expected: Err(HostNotLoopback) },
];

#[test]
fn the_host_and_origin_rule() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut headers = HeaderMap::new();
        if let Some(host) = case.host {
            headers.insert(HOST, HeaderValue::from_bytes(host).expect("host value"));
        }
        if let Some(origin) = case.origin {
            headers.insert(
                ORIGIN,
                HeaderValue::from_bytes(origin).expect("origin value"),
            );
        }
        let allowed: Vec<String> = case.allowed.iter().map(|a| (*a).to_owned()).collect();
        let guard = Guard {
            allowed_origins: &allowed,
            loopback_listener: case.loopback_listener,
        };
        let got = guard.check(&headers);
        if got != case.expected {
            failures.push(format!(
                "{}: expected {:?}, got {got:?}",
                case.name, case.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
