//! One suite, run against both stores over HTTP on 127.0.0.1: SQLite in a temp dir, and
//! PostgreSQL on the real server `.ci/run` starts (each test gets its own database).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Seed, TestStore, dataset, eventually, get, post_json, request, seed, start};
use mcp_runtime_audit::{AuditEvent, AuditSink, Decision, RequestPayload};
use mcp_runtime_sentinel::{Sentinel, SentinelConfig};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::postgres().await).await;
                }
            )*
        }
    };
}

suite!(
    filters_time_range_and_pagination,
    bad_input_gets_documented_responses_and_only_valid_events_are_stored,
    aggregates_match_the_dataset,
    usage_from_the_rollup_equals_usage_from_the_events,
    retention_deletes_old_events,
    reopening_the_store_keeps_events_and_dedupes,
    concurrent_batches_store_each_event_once,
    in_process_sink_stores_events,
    health_endpoints_report_the_store,
    decisions_stream_the_replay_inputs_of_tool_calls,
    audit_chains_are_recorded_and_reported,
);

fn ids(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .expect("events array")
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_owned())
        .collect()
}

fn expected(data: &[Seed], keep: impl Fn(&Seed) -> bool) -> BTreeSet<String> {
    data.iter()
        .filter(|s| keep(s))
        .map(|s| s.event_id.clone())
        .collect()
}

async fn all_pages(base: &str, query: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/events?limit={limit}&{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let reply = get(&url).await;
        assert_eq!(reply.status, 200, "{url}: {}", reply.text);
        let page = ids(&reply.body);
        assert!(page.len() <= limit);
        out.extend(page);
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn filters_time_range_and_pagination(store: TestStore) {
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let data = dataset(90);
    seed(&server.base, None, &data).await;
    let base = &server.base;

    // Every filter narrows to exactly the matching events.
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (
            "server=github".into(),
            expected(&data, |s| s.server == "github"),
        ),
        (
            "agent_id=cursor".into(),
            expected(&data, |s| s.agent == "cursor"),
        ),
        (
            "human_id=bob%40example.com".into(),
            expected(&data, |s| s.human == "bob@example.com"),
        ),
        (
            "decision=deny".into(),
            expected(&data, |s| s.decision == "deny"),
        ),
        (
            "tool_name=delete_repo".into(),
            expected(&data, |s| s.tool == "delete_repo"),
        ),
        (
            "source=weather-gateway".into(),
            expected(&data, |s| s.server == "weather"),
        ),
        (
            "session_id=sess-copilot".into(),
            expected(&data, |s| s.agent == "copilot"),
        ),
        (
            "reason=trust_too_low".into(),
            expected(&data, |s| s.reason == "trust_too_low"),
        ),
        (
            "trace_id=trace-7".into(),
            expected(&data, |s| s.json["trace_id"] == "trace-7"),
        ),
        (
            "event_type=mcp.request&namespace=mcp-servers&cluster=dev".into(),
            expected(&data, |_| true),
        ),
        ("cluster=prod".into(), BTreeSet::new()),
        ("namespace=other".into(), BTreeSet::new()),
        ("event_type=mcp.other".into(), BTreeSet::new()),
        (
            "agent_id=claude&decision=deny&server=files".into(),
            expected(&data, |s| {
                s.agent == "claude" && s.decision == "deny" && s.server == "files"
            }),
        ),
    ];
    for (query, want) in cases {
        let got: BTreeSet<String> = all_pages(base, &query, 1000).await.into_iter().collect();
        assert_eq!(got, want, "filter {query}");
    }

    // Time range: [from, to).
    let from = data[30].ts;
    let to = data[60].ts;
    let query = format!(
        "from={}&to={}",
        from.to_string().replace('+', "%2B"),
        to.to_string().replace('+', "%2B")
    );
    let got: BTreeSet<String> = all_pages(base, &query, 1000).await.into_iter().collect();
    assert_eq!(got, expected(&data, |s| s.ts >= from && s.ts < to));
    assert_eq!(got.len(), 30);

    // Pagination: small pages return every event once, newest first.
    let paged = all_pages(base, "", 7).await;
    let mut newest_first: Vec<Seed> = data.clone();
    newest_first.sort_by(|a, b| (b.ts, &b.event_id).cmp(&(a.ts, &a.event_id)));
    let want: Vec<String> = newest_first.iter().map(|s| s.event_id.clone()).collect();
    assert_eq!(paged, want);

    // Events come back whole, with unknown fields preserved.
    let reply = get(&format!("{base}/api/v1/events/{}", data[3].event_id)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, data[3].json);
    assert_eq!(get(&format!("{base}/api/v1/events/nope")).await.status, 404);

    // Bad parameters name the parameter.
    for (query, parameter) in [
        ("decision=maybe", "decision"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("from=someday", "from"),
        ("cursor=zzz", "cursor"),
        ("agnet_id=claude", "agnet_id"),
    ] {
        let reply = get(&format!("{base}/api/v1/events?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.body["error"], "invalid_parameter", "{query}");
        assert_eq!(reply.body["parameter"], parameter, "{query}");
    }
}

async fn stored_ids(base: &str) -> BTreeSet<String> {
    all_pages(base, "", 1000).await.into_iter().collect()
}

async fn bad_input_gets_documented_responses_and_only_valid_events_are_stored(store: TestStore) {
    let mut config = SentinelConfig::new(store.url.clone());
    config.api_keys = vec!["k-1".into(), "k-2".into()];
    let server = start(config).await;
    let url = format!("{}/events", server.base);
    let data = dataset(6);
    let key = Some("k-2");

    // Wrong or missing key: 401, nothing stored.
    let body = data[0].json.clone();
    for bad_key in [None, Some("nope"), Some("k-")] {
        let reply = post_json(&url, bad_key, &body).await;
        assert_eq!(reply.status, 401, "{bad_key:?}");
        assert_eq!(reply.body["error"], "unauthorized");
    }

    // Malformed JSON: 400 invalid_json.
    let reply = request(
        "POST",
        &url,
        &[("x-api-key", "k-1"), ("content-type", "application/json")],
        b"{\"event_id\": ".to_vec(),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["error"], "invalid_json");

    // Not an event, empty batch.
    assert_eq!(
        post_json(&url, key, &json!(42)).await.body["error"],
        "invalid_event"
    );
    assert_eq!(
        post_json(&url, key, &json!([])).await.body["error"],
        "empty_batch"
    );

    // A single event with a missing field: 400 naming the field.
    for (field, edit) in [
        ("timestamp", json!({"timestamp": null})),
        ("source", json!({"source": ""})),
        ("payload", json!({"payload": null})),
        ("payload.status", json!({"payload": {"status": "teapot"}})),
    ] {
        let mut event = data[1].json.clone();
        for (k, v) in edit.as_object().expect("object") {
            event[k] = v.clone();
        }
        let reply = post_json(&url, key, &event).await;
        assert_eq!(reply.status, 400, "{field}: {}", reply.text);
        assert_eq!(reply.body["error"], "invalid_event");
        assert_eq!(reply.body["field"], field, "{}", reply.text);
        assert!(
            reply.body["message"]
                .as_str()
                .expect("message")
                .contains(field)
        );
    }

    // Oversize body: 413.
    let big = json!([{"pad": "x".repeat(1024 * 1024)}]);
    let reply = post_json(&url, key, &big).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.body["error"], "payload_too_large");

    // A chunked body (no content-length) is cut off as soon as it crosses the limit.
    let reply = chunked_post(&url, "k-1", 1024 * 1024 + 10).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("payload_too_large"), "{reply}");

    // A mixed batch: the valid events are stored, the invalid one is named.
    let mut invalid = data[2].json.clone();
    invalid["event_type"] = json!(null);
    let batch = json!([data[0].json, invalid, data[1].json, data[3].json]);
    let reply = post_json(&url, key, &batch).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.body["received"], 4);
    assert_eq!(reply.body["stored"], 3);
    assert_eq!(reply.body["duplicates"], 0);
    assert_eq!(reply.body["rejected"][0]["index"], 1);
    assert_eq!(reply.body["rejected"][0]["field"], "event_type");
    assert_eq!(
        reply.body["rejected"][0]["event_id"],
        data[2].event_id.as_str()
    );

    // Duplicates: within a batch and against the store.
    let batch = json!([data[0].json, data[4].json, data[4].json, data[1].json]);
    let reply = post_json(&url, key, &batch).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.body["stored"], 1);
    assert_eq!(reply.body["duplicates"], 3);

    let want = expected(&data, |s| {
        [&data[0], &data[1], &data[3], &data[4]]
            .iter()
            .any(|d| d.event_id == s.event_id)
    });
    assert_eq!(stored_ids(&server.base).await, want);
    let stats = get(&format!("{}/api/v1/stats", server.base)).await;
    assert_eq!(stats.body["total_events"], 4);

    // The metrics count the outcomes.
    let metrics = get(&format!("{}/metrics", server.base)).await.text;
    assert!(
        metrics.contains("sentinel_ingest_events_total{result=\"stored\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sentinel_ingest_events_total{result=\"duplicate\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sentinel_ingest_requests_total{code=\"401\"} 3"),
        "{metrics}"
    );
}

/// POSTs `size` bytes with chunked transfer encoding over a raw connection; returns the response.
async fn chunked_post(url: &str, key: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (address, path) = rest.split_at(rest.find('/').expect("path"));
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\nx-api-key: {key}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < size {
        let n = chunk.len().min(size - sent);
        let frame = format!("{n:x}\r\n");
        if stream.write_all(frame.as_bytes()).await.is_err()
            || stream.write_all(&chunk[..n]).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break; // the server stopped reading: its answer is waiting
        }
        sent += n;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut response))
        .await
        .expect("an answer")
        .expect("read");
    String::from_utf8_lossy(&response[..n]).into_owned()
}

async fn aggregates_match_the_dataset(store: TestStore) {
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let data = dataset(120);
    seed(&server.base, None, &data).await;
    let base = &server.base;
    let count = |keep: &dyn Fn(&Seed) -> bool| data.iter().filter(|s| keep(s)).count() as i64;

    let stats = get(&format!("{base}/api/v1/stats")).await.body;
    assert_eq!(stats["total_events"], 120);
    assert_eq!(stats["denied"], count(&|s| s.decision == "deny"));
    assert_eq!(stats["allowed"], count(&|s| s.decision == "allow"));
    assert_eq!(stats["servers"], 3);
    assert_eq!(stats["agents"], 3);
    assert_eq!(stats["humans"], 2);
    assert_eq!(stats["tools"], 5);
    let filtered = get(&format!("{base}/api/v1/stats?server=files")).await.body;
    assert_eq!(filtered["total_events"], count(&|s| s.server == "files"));

    let sources = get(&format!("{base}/api/v1/sources")).await.body;
    let names: BTreeSet<&str> = sources["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["files-gateway", "github-gateway", "weather-gateway"])
    );
    let types = get(&format!("{base}/api/v1/event-types")).await.body;
    assert_eq!(types["event_types"], json!(["mcp.request"]));
    assert_eq!(types["counts"][0]["count"], 120);

    let usage = get(&format!("{base}/api/v1/analytics/usage?top=20"))
        .await
        .body;
    for field in [
        "total_events",
        "denied",
        "servers",
        "agents",
        "humans",
        "tools",
    ] {
        assert_eq!(
            usage["summary"][field], stats[field],
            "usage summary {field}"
        );
    }
    // `top` cuts the lists, not the distinct counts.
    let small = get(&format!("{base}/api/v1/analytics/usage?top=2"))
        .await
        .body;
    assert_eq!(small["by_tool"].as_array().expect("by_tool").len(), 2);
    assert_eq!(small["summary"]["tools"], 5);
    let counts = |key: &str| -> Vec<(String, i64, i64)> {
        let mut v: Vec<(String, i64, i64)> = usage[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} in {usage}"))
            .iter()
            .map(|g| {
                (
                    g["key"].as_str().expect("key").to_owned(),
                    g["count"].as_i64().expect("count"),
                    g["denied"].as_i64().expect("denied"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let want = |field: fn(&Seed) -> &'static str| -> Vec<(String, i64, i64)> {
        let keys: BTreeSet<&str> = data.iter().map(field).collect();
        keys.into_iter()
            .map(|k| {
                (
                    k.to_owned(),
                    count(&|s| field(s) == k),
                    count(&|s| field(s) == k && s.decision == "deny"),
                )
            })
            .collect()
    };
    assert_eq!(counts("by_server"), want(|s| s.server));
    assert_eq!(counts("by_tool"), want(|s| s.tool));
    assert_eq!(counts("by_agent"), want(|s| s.agent));
    assert_eq!(counts("by_human"), want(|s| s.human));
    assert_eq!(counts("by_decision"), want(|s| s.decision));
    let reasons: Vec<(String, i64, i64)> = want(|s| s.reason)
        .into_iter()
        .filter(|(k, _, _)| k != "allowed")
        .collect();
    assert_eq!(counts("deny_reasons"), reasons);
    let timeline_total: i64 = usage["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|b| b["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(timeline_total, 120);
    assert!(usage["bucket_seconds"].as_i64().expect("bucket") >= 60);
    // Series: per server over time, each adding up to its total.
    let usage = get(&format!(
        "{base}/api/v1/analytics/usage?series=server&bucket=10m"
    ))
    .await
    .body;
    let series = usage["series"].as_array().expect("series");
    assert_eq!(series.len(), 3);
    for line in series {
        let server = line["key"].as_str().expect("key");
        let total: i64 = line["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .map(|b| b["count"].as_i64().expect("count"))
            .sum();
        assert_eq!(total, count(&|s| s.server == server), "{server}");
    }
    let bad = get(&format!("{base}/api/v1/analytics/usage?series=planet")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["parameter"], "series");
    let usage = get(&format!(
        "{base}/api/v1/analytics/usage?agent_id=claude&bucket=1h"
    ))
    .await
    .body;
    assert_eq!(
        usage["summary"]["total_events"],
        count(&|s| s.agent == "claude")
    );
    assert_eq!(usage["bucket_seconds"], 3600);
}

/// Analytics over whole hours come from the hourly rollup, the partial hours at a range's
/// edges from the events; a filter on `namespace` (which every event matches) makes Sentinel
/// read only the events. Both must give the same answer, and the dataset's counts.
async fn usage_from_the_rollup_equals_usage_from_the_events(store: TestStore) {
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let data = dataset(1200); // one event every 30 s over ten hours
    seed(&server.base, None, &data).await;
    let base = &server.base;
    let first = data[0].ts;
    let last = data[data.len() - 1].ts;
    let minutes = |m: i64| jiff::SignedDuration::from_mins(m);
    let ranges = [
        (None, None),
        (Some(first + minutes(37)), Some(last - minutes(95))),
        (Some(first + minutes(130)), None),
        (None, Some(first + minutes(250))),
        (Some(first + minutes(130)), Some(first + minutes(160))),
    ];
    for (from, to) in ranges {
        for decision in [None, Some("deny")] {
            let mut query = String::new();
            if let Some(from) = from {
                query.push_str(&format!("&from={from}"));
            }
            if let Some(to) = to {
                query.push_str(&format!("&to={to}"));
            }
            if let Some(decision) = decision {
                query.push_str(&format!("&decision={decision}"));
            }
            let case = format!("range {from:?}..{to:?}, decision {decision:?}");
            let usage = |extra: &'static str| {
                let url = format!(
                    "{base}/api/v1/analytics/usage?bucket=1h&series=tool&top=50{query}{extra}"
                );
                async move {
                    let reply = get(&url).await;
                    assert_eq!(reply.status, 200, "{url}: {}", reply.text);
                    reply.body
                }
            };
            let rolled_up = usage("").await;
            let scanned = usage("&namespace=mcp-servers").await;
            assert_eq!(rolled_up, scanned, "{case}");
            let stats = |extra: &'static str| {
                let url = format!("{base}/api/v1/stats?x=1{query}{extra}");
                async move { get(&url).await.body }
            };
            assert_eq!(
                stats("").await,
                stats("&namespace=mcp-servers").await,
                "{case}"
            );

            let matching: Vec<&Seed> = data
                .iter()
                .filter(|s| from.is_none_or(|f| s.ts >= f) && to.is_none_or(|t| s.ts < t))
                .filter(|s| decision.is_none_or(|d| s.decision == d))
                .collect();
            assert_eq!(
                rolled_up["summary"]["total_events"],
                matching.len(),
                "{case}"
            );
            for agent in common::AGENTS {
                let want = matching.iter().filter(|s| s.agent == agent).count();
                let got = rolled_up["by_agent"]
                    .as_array()
                    .expect("by_agent")
                    .iter()
                    .find(|g| g["key"] == agent)
                    .map_or(0, |g| g["count"].as_u64().expect("count"));
                assert_eq!(got, want as u64, "{case}: agent {agent}");
            }
            let hours: u64 = rolled_up["timeline"]
                .as_array()
                .expect("timeline")
                .iter()
                .map(|b| b["count"].as_u64().expect("count"))
                .sum();
            assert_eq!(hours, matching.len() as u64, "{case}: hourly timeline");
        }
    }
}

async fn health_endpoints_report_the_store(store: TestStore) {
    let backend = match &store.url {
        mcp_runtime_sentinel::StoreUrl::Sqlite(_) => "sqlite",
        mcp_runtime_sentinel::StoreUrl::Postgres(_) => "postgres",
    };
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let base = &server.base;
    let live = get(&format!("{base}/live")).await;
    assert_eq!((live.status, &live.body["status"]), (200, &json!("live")));
    let ready = get(&format!("{base}/ready")).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["store"], backend);
    let health = get(&format!("{base}/health")).await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert!(
        health.text.contains(backend),
        "/health names the store backend: {}",
        health.text
    );
}

async fn retention_deletes_old_events(store: TestStore) {
    let mut config = SentinelConfig::new(store.url.clone());
    config.retention = Some(Duration::from_secs(3600));
    config.retention_interval = Duration::from_millis(200);
    let server = start(config).await;
    let mut data = dataset(4);
    for seed in &mut data[..2] {
        let old = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(5);
        seed.json["timestamp"] = json!(old.to_string());
    }
    seed(&server.base, None, &data).await;
    let want = expected(&data[2..], |_| true);
    let base = server.base.clone();
    eventually(
        "retention to delete the old events",
        Duration::from_secs(10),
        async || stored_ids(&base).await == want,
    )
    .await;
    let metrics = get(&format!("{base}/metrics")).await.text;
    assert!(
        metrics.contains("sentinel_retention_deleted_events_total 2"),
        "{metrics}"
    );
}

async fn reopening_the_store_keeps_events_and_dedupes(store: TestStore) {
    let data = dataset(30);
    {
        let server = start(SentinelConfig::new(store.url.clone())).await;
        seed(&server.base, None, &data).await;
    }
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let body = Value::Array(data.iter().map(|s| s.json.clone()).collect());
    let reply = post_json(&format!("{}/events", server.base), None, &body).await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.body["stored"], 0);
    assert_eq!(reply.body["duplicates"], 30);
    assert_eq!(stored_ids(&server.base).await, expected(&data, |_| true));
}

async fn concurrent_batches_store_each_event_once(store: TestStore) {
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let data = dataset(400);
    let url = format!("{}/events", server.base);
    // Eight clients each send overlapping halves of the dataset at once.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let start = (i * 25) % 200;
        let body = Value::Array(
            data[start..start + 200]
                .iter()
                .map(|s| s.json.clone())
                .collect(),
        );
        let url = url.clone();
        tasks.push(tokio::spawn(
            async move { post_json(&url, None, &body).await },
        ));
    }
    let mut stored = 0;
    for task in tasks {
        let reply = task.await.expect("task");
        assert_eq!(reply.status, 202, "{}", reply.text);
        stored += reply.body["stored"].as_i64().expect("stored");
    }
    let want = expected(&data[..375], |_| true);
    assert_eq!(
        stored,
        want.len() as i64,
        "each event is stored by exactly one request"
    );
    assert_eq!(stored_ids(&server.base).await, want);
}

async fn in_process_sink_stores_events(store: TestStore) {
    let sentinel = Sentinel::open(SentinelConfig::new(store.url.clone()))
        .await
        .expect("open");
    let sink = sentinel.sink();
    let mut ids = BTreeSet::new();
    for i in 0..50 {
        let event = AuditEvent::request(RequestPayload {
            server: "files".into(),
            agent_id: "claude".into(),
            decision: if i % 2 == 0 {
                Decision::Allow
            } else {
                Decision::Deny
            },
            tool_name: Some("read_file".into()),
            ..RequestPayload::default()
        });
        ids.insert(event.event_id.clone());
        sink.emit(event.clone());
        if i % 10 == 0 {
            sink.emit(event); // duplicates are ignored
        }
    }
    assert!(
        sink.flush(Duration::from_secs(10)).await,
        "the sink drained"
    );
    let server = common::start_with(sentinel).await;
    assert_eq!(stored_ids(&server.base).await, ids);
    let denied = all_pages(&server.base, "decision=deny", 100).await;
    assert_eq!(denied.len(), 25);
}

/// `GET /api/v1/decisions` (what `access simulate` reads): one JSON line per recorded tool call
/// in the window, with every replay input, then the closing line with the count.
async fn decisions_stream_the_replay_inputs_of_tool_calls(store: TestStore) {
    let server = start(SentinelConfig::new(store.url.clone())).await;
    let data = dataset(120);
    seed(&server.base, None, &data).await;
    // Not tool calls: never replayed.
    let mut listing = data[5].json.clone();
    listing["event_id"] = json!("a-listing");
    listing["payload"]["rpc_method"] = json!("tools/list");
    listing["payload"]["tool_name"] = Value::Null;
    let mut other_type = data[6].json.clone();
    other_type["event_id"] = json!("a-checkpoint");
    other_type["event_type"] = json!("audit.checkpoint");
    let reply = post_json(
        &format!("{}/events", server.base),
        None,
        &json!([listing, other_type]),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.text);

    // The window starts at the 61st event: the 60 before it are left out.
    let from = data[60].ts;
    let reply = get(&format!(
        "{}/api/v1/decisions?from={}",
        server.base,
        from.to_string().replace(':', "%3A")
    ))
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.headers[http::header::CONTENT_TYPE],
        mcp_runtime_sentinel::DECISIONS_CONTENT_TYPE
    );
    let lines: Vec<Value> = reply
        .text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let (last, rows) = lines.split_last().expect("lines");
    assert_eq!(*last, json!({"end": true, "rows": 60}));
    let got: BTreeSet<String> = rows
        .iter()
        .map(|row| row[1][0].as_str().expect("event_id").to_owned())
        .collect();
    assert_eq!(got, expected(&data, |s| s.ts >= from));
    let seed = &data[61];
    let row = rows
        .iter()
        .find(|row| row[1][0] == seed.event_id.as_str())
        .expect("the row of data[61]");
    let ts_ns = i64::try_from(seed.ts.as_nanosecond()).expect("ts");
    assert_eq!(
        *row,
        json!([
            ts_ns,
            [
                seed.event_id,
                "mcp-servers",
                seed.server,
                seed.human,
                seed.agent,
                "platform",
                format!("sess-{}", seed.agent),
                "tools/call",
                seed.tool,
                seed.decision,
                seed.reason,
                format!("mcp-servers/{}-grant", seed.agent),
                format!("mcp-servers/sess-{}", seed.agent),
                "medium",
                "read"
            ]
        ])
    );

    let bad = get(&format!("{}/api/v1/decisions?from=yesterday", server.base)).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.body["parameter"], "from");
    let unknown = get(&format!("{}/api/v1/decisions?server=files", server.base)).await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
}

async fn audit_chains_are_recorded_and_reported(store: TestStore) {
    use mcp_runtime_audit::chain::{self, Chainer, Signer};
    use std::sync::Arc;
    let signer = Arc::new(Signer::from_pem(&Signer::generate_pem().expect("key")).expect("key"));
    let mut config = SentinelConfig::new(store.url.clone());
    config.chain_keys = vec![signer.public_key()];
    let sentinel = Sentinel::open(config).await.expect("open");
    let request_event = |i: u64| {
        AuditEvent::request(RequestPayload {
            server: "files".into(),
            latency_ms: i,
            ..RequestPayload::default()
        })
    };

    // The in-process sink chains what it stores and signs the head when it closes.
    let sink = sentinel.chained_sink(Some(signer.clone()), Duration::from_secs(3600));
    for i in 0..10 {
        sink.emit(request_event(i));
    }
    assert!(sink.close(Duration::from_secs(10)).await, "the sink closed");
    let sink_chain = sink.chain_id().expect("chained").to_owned();

    // Over HTTP, a chain with seq 3 lost, seq 5 linked to the wrong hash, and a checkpoint
    // signed by a key Sentinel does not trust.
    let mut chainer = Chainer::with_id("http-chain");
    let mut events = Vec::new();
    for i in 1..=6u64 {
        let mut event = request_event(i);
        chainer.link(&mut event);
        if i == 5 {
            let link = event.chain.as_mut().expect("link");
            link.prev_hash = chain::GENESIS.to_owned();
        }
        if i != 3 {
            events.push(serde_json::to_value(&event).expect("json"));
        }
    }
    let stranger = Signer::from_pem(&Signer::generate_pem().expect("key")).expect("key");
    let checkpoint = chainer.checkpoint(&stranger).expect("checkpoint");
    events.push(
        serde_json::to_value(AuditEvent::checkpoint("files-gateway", checkpoint)).expect("json"),
    );
    let server = common::start_with(sentinel).await;
    let reply = request(
        "POST",
        &format!("{}/events", server.base),
        &[
            ("content-type", "application/json"),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        ],
        serde_json::to_vec(&Value::Array(events.clone())).expect("body"),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(
        reply.body["stored"], 5,
        "checkpoints are not events: {}",
        reply.body
    );

    let chains = get(&format!("{}/api/v1/chains", server.base)).await;
    assert_eq!(chains.status, 200, "{}", chains.text);
    let find = |id: &str| {
        chains.body["chains"]
            .as_array()
            .expect("chains")
            .iter()
            .find(|c| c["chain_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("chain {id} in {}", chains.body))
    };
    let clean = find(&sink_chain);
    assert_eq!(
        (
            clean["events"].clone(),
            clean["first_seq"].clone(),
            clean["last_seq"].clone()
        ),
        (json!(10), json!(1), json!(10))
    );
    assert_eq!(
        (clean["gaps"].clone(), clean["mismatches"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(
        clean["last_checkpoint"],
        json!({"seq": 10, "time": clean["last_checkpoint"]["time"], "signature": "valid", "matches_event": true})
    );
    let broken = find("http-chain");
    assert_eq!(
        (
            broken["events"].clone(),
            broken["gaps"].clone(),
            broken["mismatches"].clone()
        ),
        // Seq 5 names the wrong predecessor, and seq 6 names seq 5 as it was before that edit.
        (json!(5), json!(1), json!(2)),
        "{broken}"
    );
    assert_eq!(broken["last_checkpoint"]["signature"], "invalid");

    // What verify reads: the links in seq order with the events exactly as sent (no trace_id
    // was added to chained events).
    let page = get(&format!("{}/api/v1/chains/http-chain/events", server.base)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let rows = page.body["events"].as_array().expect("events");
    let seqs: Vec<i64> = rows
        .iter()
        .map(|r| r["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, [1, 2, 4, 5, 6]);
    for (row, sent) in rows.iter().zip(events.iter()) {
        let stored: Value =
            serde_json::from_str(row["event"].as_str().expect("event")).expect("json");
        assert_eq!(&stored, sent);
        assert_eq!(row["ingest_hash"], chain::event_hash(sent).as_str());
    }
    let checkpoints = get(&format!(
        "{}/api/v1/chains/http-chain/checkpoints",
        server.base
    ))
    .await;
    assert_eq!(checkpoints.body["checkpoints"][0]["seq"], 6);
    assert_eq!(
        checkpoints.body["checkpoints"][0]["signature_on_receipt"],
        "invalid"
    );
    let bad = get(&format!("{}/api/v1/chains?sinse=1h", server.base)).await;
    assert_eq!(
        (bad.status, bad.body["parameter"].clone()),
        (400, json!("sinse"))
    );
}
