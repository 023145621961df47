//! The web UI in real headless Chromium (driven through chromedriver's WebDriver API), with
//! Sentinel nested under `/sentinel` as an embedding process mounts it. Screenshots go to
//! `artifacts/sentinel-ui/` at the workspace root.
//!
//! Needs `chromium` and `chromedriver` (`apt-get install chromium chromium-driver`, which
//! `.ci/run` does); `MCP_RUNTIME_TEST_CHROMIUM` / `MCP_RUNTIME_TEST_CHROMEDRIVER` override the
//! paths.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Seed, dataset, eventually, request, seed};
use mcp_runtime_sentinel::{Sentinel, SentinelConfig};
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn program(env: &str, candidates: &[&str]) -> PathBuf {
    if let Ok(path) = std::env::var(env) {
        return PathBuf::from(path);
    }
    for candidate in candidates {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let path = Path::new(dir).join(candidate);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!(
        "{} not found: install headless Chromium with `apt-get install chromium chromium-driver` \
         (.ci/run does) or set {env}",
        candidates.join(" / ")
    );
}

struct Driver {
    child: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Self {
        let chromedriver = program("MCP_RUNTIME_TEST_CHROMEDRIVER", &["chromedriver"]);
        let chromium = program(
            "MCP_RUNTIME_TEST_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut driver = Self {
            child,
            base,
            session: String::new(),
            _profile: profile,
        };
        let status_url = format!("{}/status", driver.base);
        eventually("chromedriver", Duration::from_secs(20), async || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && request("GET", &status_url, &[], Vec::new()).await.body["value"]["ready"] == true
        })
        .await;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1440,1000",
                    format!("--user-data-dir={}", driver._profile.path().display()),
                ]
            }
        }}});
        let reply = driver.call("POST", "/session", capabilities).await;
        driver.session = reply["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {reply}"))
            .to_owned();
        driver
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let session = if self.session.is_empty() {
            String::new()
        } else {
            format!("/session/{}", self.session)
        };
        let url = if path == "/session" {
            format!("{}/session", self.base)
        } else {
            format!("{}{session}{path}", self.base)
        };
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).expect("json")
        };
        let reply = request(method, &url, &[("content-type", "application/json")], bytes).await;
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text);
        reply.body["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url})).await;
    }

    async fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    async fn find(&self, css: &str) -> String {
        let value = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        value[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {value}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/click"), json!({}))
            .await;
    }

    /// Polls a script until it returns `want`.
    async fn wait_for(&self, what: &str, script: &str, want: Value) {
        let mut last = Value::Null;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.run(script).await;
            if got == want {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{what}: expected {want}, last saw {got} (before that {last})");
            }
            last = got;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let data = self.call("GET", "/screenshot", Value::Null).await;
        let png = base64_decode(data.as_str().expect("base64"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/sentinel-ui");
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let Some(v) = value(c) else { continue };
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

const ROWS: &str =
    "return [...document.querySelectorAll('tr[data-event-id]')].map(r => r.dataset.eventId).sort()";

fn ids(data: &[Seed], keep: impl Fn(&Seed) -> bool) -> Value {
    let set: BTreeSet<String> = data
        .iter()
        .filter(|s| keep(s))
        .map(|s| s.event_id.clone())
        .collect();
    json!(set.into_iter().collect::<Vec<_>>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_shows_the_dataset_filters_activity_and_links_deny_reasons() {
    let store = common::sqlite();
    let sentinel = Sentinel::open(SentinelConfig::new(store.url.clone()))
        .await
        .expect("open");
    // Mounted under a prefix, as `mcp-runtime up` does.
    let app = axum::Router::new().nest("/sentinel", sentinel.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let base = format!("http://{address}/sentinel");
    let data = dataset(45);
    seed(&base, None, &data).await;
    let denied = data.iter().filter(|s| s.decision == "deny").count();

    let driver = Driver::start().await;

    // Overview: the counts of the seeded dataset.
    driver.goto(&base).await;
    driver
        .wait_for(
            "the overview's call count",
            "const e = document.querySelector('[data-stat=calls] .stat-value'); return e && e.textContent",
            json!("45"),
        )
        .await;
    let url = driver.run("return location.pathname").await;
    assert_eq!(url, "/sentinel/ui/", "the prefix is kept");
    let deny_rate = format!("{:.0}%", 100.0 * denied as f64 / 45.0);
    assert_eq!(
        driver
            .run("return document.querySelector('[data-stat=deny-rate] .stat-value').textContent")
            .await,
        json!(deny_rate)
    );
    assert_eq!(
        driver
            .run("return document.querySelector('[data-stat=servers] .stat-value').textContent")
            .await,
        json!("3")
    );
    assert_eq!(
        driver
            .run("return document.querySelectorAll('[data-testid=top-agents] li').length")
            .await,
        json!(3)
    );
    let humans: std::collections::BTreeSet<&str> = data.iter().map(|s| s.human).collect();
    assert_eq!(humans.len(), 2, "the dataset has two humans");
    assert_eq!(
        driver
            .run("return document.querySelector('[data-stat=agents] .stat-sub').textContent")
            .await,
        json!("2 humans")
    );
    // One is one human, not "1 humans".
    assert_eq!(
        driver
            .run("return [plural(1, 'human', 'humans'), plural(0, 'human', 'humans')]")
            .await,
        json!(["1 human", "0 humans"])
    );
    assert_eq!(
        driver
            .run("return document.querySelectorAll('svg.chart rect').length > 0")
            .await,
        json!(true),
        "the timeline chart is drawn"
    );
    driver.screenshot("overview").await;

    // Calls spanning seconds: one-second bars, each a small part of the chart (not one bar
    // across it), and axis labels that differ from each other (not the same minute five times).
    let chart = driver
        .run(
            "const now = Date.parse('2026-12-07T10:00:00Z');
             const buckets = [0, 1, 2].map((i) => ({ start: new Date(now + i * 1000).toISOString(), count: 2 + i, denied: i }));
             const svg = timeline(buckets, 1).querySelector('svg');
             const plot = svg.viewBox.baseVal.width;
             return {
               widest: Math.max(...[...svg.querySelectorAll('rect')].map((r) => r.width.baseVal.value)) / plot,
               labels: [...svg.querySelectorAll('text.axis')].map((t) => t.textContent).filter((t) => /:/.test(t)),
             };",
        )
        .await;
    let widest = chart["widest"].as_f64().expect("bar width");
    assert!(
        widest < 0.05,
        "one bar takes {widest} of the chart: {chart}"
    );
    let labels: Vec<&str> = chart["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let distinct: BTreeSet<&str> = labels.iter().copied().collect();
    assert!(
        labels.len() >= 3 && distinct.len() == labels.len(),
        "axis labels of a chart spanning seconds: {labels:?}"
    );

    // Activity: every event, then narrowed by agent, then by decision.
    driver.click("#nav a[data-page=activity]").await;
    driver
        .wait_for("all rows", ROWS, ids(&data, |_| true))
        .await;
    driver.click("#f-agent_id option[value=claude]").await;
    driver
        .wait_for(
            "rows of agent claude",
            ROWS,
            ids(&data, |s| s.agent == "claude"),
        )
        .await;
    driver.click("#f-decision option[value=deny]").await;
    let want = ids(&data, |s| s.agent == "claude" && s.decision == "deny");
    assert!(
        !want.as_array().expect("array").is_empty(),
        "the dataset has denied calls of claude"
    );
    driver
        .wait_for("denied rows of agent claude", ROWS, want)
        .await;
    let hash = driver.run("return location.hash").await;
    assert!(
        hash.as_str().expect("hash").contains("agent_id=claude")
            && hash.as_str().expect("hash").contains("decision=deny"),
        "filters are in the URL: {hash}"
    );
    driver.screenshot("activity-filtered").await;

    // Policy decisions: a deny reason links to its events.
    driver.click("#nav a[data-page=decisions]").await;
    driver
        .wait_for(
            "the deny reasons table",
            "return document.querySelectorAll('[data-reason-row]').length",
            json!(2),
        )
        .await;
    driver.screenshot("decisions").await;
    driver.click("a[data-reason=trust_too_low]").await;
    driver
        .wait_for(
            "the events denied for trust_too_low",
            ROWS,
            ids(&data, |s| s.reason == "trust_too_low"),
        )
        .await;

    // Event detail: the trust numbers, the matched grant and session.
    let first = driver
        .run("return document.querySelector('tr[data-event-id]').dataset.eventId")
        .await;
    driver.click("tr[data-event-id] td a").await;
    driver
        .wait_for(
            "the event page",
            "const e = document.querySelector('[data-trust=effective] .trust-value'); return e && e.textContent",
            json!("medium"),
        )
        .await;
    driver.screenshot("event").await;
    let seed_event = data
        .iter()
        .find(|s| json!(s.event_id) == first)
        .expect("a seeded event");
    let agent = seed_event.agent;
    assert_eq!(
        driver
            .run("return document.querySelector('[data-testid=grant]').textContent")
            .await,
        json!(format!("mcp-servers/{agent}-grant"))
    );
    assert_eq!(
        driver
            .run("return document.querySelector('[data-testid=session]').textContent")
            .await,
        json!(format!("mcp-servers/sess-{agent}"))
    );
    assert_eq!(
        driver
            .run("return document.querySelector('[data-trust=required] .trust-value').textContent")
            .await,
        json!("medium")
    );

    // Per-agent page.
    driver.goto(&format!("{base}/ui/#/agent/cursor")).await;
    driver
        .wait_for(
            "the agent page",
            "const e = document.querySelector('[data-stat=calls] .stat-value'); return e && e.textContent",
            json!(data.iter().filter(|s| s.agent == "cursor").count().to_string()),
        )
        .await;
    driver.screenshot("agent").await;

    // Per-server page.
    driver.goto(&format!("{base}/ui/#/server/github")).await;
    driver
        .wait_for(
            "the server page",
            "const e = document.querySelector('[data-stat=calls] .stat-value'); return e && e.textContent",
            json!(data.iter().filter(|s| s.server == "github").count().to_string()),
        )
        .await;
    driver.screenshot("server").await;

    driver.call("DELETE", "", Value::Null).await;
    server.abort();
}
