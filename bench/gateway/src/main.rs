//! Gateway benchmark: `tools/call` through `mcp-runtime gateway` against the same rmcp upstream
//! (`mcp-runtime example-server`, `TCP_NODELAY`) called directly, measured side by side in one
//! run, plus the gateway's resident memory with idle SSE streams open.
//!
//! The gateway runs as the real binary with header identity, an enforcing policy and audit
//! delivery to an ingest (a stub in this process that counts the events). Requests are
//! 2026-07-28 stateless `tools/call add(1, 2)` POSTs, each checked for the result `3`. Rounds
//! alternate direct and gateway so that drift in machine load hits both alike.
//!
//! With `--auth oauth` a second gateway runs beside the header one, in `auth.mode: oauth`
//! against an issuer served by this process (metadata and key set, keys from
//! `crates/oauth/tests/keys`), and its requests carry a bearer JWT minted here: the difference
//! between the two gateways is what verifying the token costs per request once the key is cached.
//! The same mode measures the verification alone, in process (`mcp_runtime_oauth::Verifier`), per
//! algorithm: a token's first use (signature and claims checked) and its later uses (the
//! verifier remembers a verified token and checks only `exp`, `nbf` and the audience again).
//!
//! One-line command (from the repository root):
//!   cargo build --release -p mcp-runtime -p mcp-runtime-bench && target/release/gateway-bench
//!   (… && target/release/gateway-bench --auth oauth, for the OAuth figures)

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mcp_runtime_bench::{
    Process, Sender, agent_read_policy, connect, free_port, ingest, load_average, max_open_files,
    open_legacy_stream, rss_kib, start_upstream, wait_ready,
};
use mcp_runtime_policy::{AuthMode, SideEffect, Tool, Trust};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Parser)]
#[command(
    name = "gateway-bench",
    about = "Gateway overhead against a direct baseline"
)]
struct Args {
    /// The mcp-runtime binary (a release build).
    #[arg(long, default_value = "target/release/mcp-runtime")]
    bin: PathBuf,
    /// Rounds; each measures direct and gateway once per concurrency, alternating their order.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Sequential requests per round and target at concurrency 1 (after a warm-up).
    #[arg(long, default_value_t = 3000)]
    c1_requests: usize,
    /// Connections of the throughput measurement.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds per round and target of the throughput measurement.
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
    /// Idle SSE streams held open through the gateway for the memory measurement.
    #[arg(long, default_value_t = 1000)]
    idle_streams: usize,
    /// Diagnostic: run the gateway without audit delivery, to attribute the audit's cost.
    #[arg(long)]
    without_audit: bool,
    /// The gateway's worker threads (`--worker-threads`); unset: the gateway's own default
    /// (one per CPU the process may use)
    #[arg(long)]
    gateway_threads: Option<u16>,
    /// `oauth`: also run a gateway in `auth.mode: oauth` beside the header one, its requests
    /// carrying a bearer JWT, and measure token verification alone in process.
    #[arg(long, value_enum, default_value = "header")]
    auth: AuthArg,
    /// `--auth oauth`: the algorithm of the gateway's bearer token.
    #[arg(long, value_enum, default_value = "rs256")]
    oauth_alg: OAuthAlg,
    /// `--auth oauth`: verifications of an already verified token per algorithm, in process.
    #[arg(long, default_value_t = 20_000)]
    verifications: usize,
    /// `--auth oauth`: distinct tokens verified for the first time per algorithm, in process
    /// (each is signed first, which takes about a millisecond for RSA).
    #[arg(long, default_value_t = 2_000)]
    first_verifications: usize,
    /// Internal: serve as the bare HTTP/1 proxy baseline in front of this upstream (the bench
    /// starts itself with it).
    #[arg(long, hide = true)]
    serve_http_relay: Option<SocketAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum AuthArg {
    Header,
    Oauth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OAuthAlg {
    Rs256,
    Es256,
    Eddsa,
}

impl OAuthAlg {
    const ALL: [OAuthAlg; 3] = [OAuthAlg::Rs256, OAuthAlg::Es256, OAuthAlg::Eddsa];

    fn algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            OAuthAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
            OAuthAlg::Es256 => jsonwebtoken::Algorithm::ES256,
            OAuthAlg::Eddsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }

    /// The signing key (a fixture of the oauth crate's tests: RSA 2048, P-256, Ed25519) and
    /// its public JWK with `kid`.
    fn key(self) -> Result<(jsonwebtoken::EncodingKey, serde_json::Value)> {
        use jsonwebtoken::EncodingKey;
        let (key, kid) = match self {
            OAuthAlg::Rs256 => (
                EncodingKey::from_rsa_pem(include_bytes!(
                    "../../../crates/oauth/tests/keys/rsa1.pem"
                ))?,
                "rsa",
            ),
            OAuthAlg::Es256 => (
                EncodingKey::from_ec_pem(include_bytes!(
                    "../../../crates/oauth/tests/keys/ec1.pem"
                ))?,
                "ec",
            ),
            OAuthAlg::Eddsa => (
                EncodingKey::from_ed_pem(include_bytes!(
                    "../../../crates/oauth/tests/keys/ed1.pem"
                ))?,
                "ed",
            ),
        };
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, self.algorithm())?;
        let mut jwk = serde_json::to_value(jwk)?;
        jwk["kid"] = kid.into();
        jwk["use"] = "sig".into();
        Ok((key, jwk))
    }

    /// A token for the bench agent, valid for an hour, signed with this algorithm's key.
    fn token(self, issuer: &str) -> Result<String> {
        self.token_with_id(issuer, "bench-token")
    }

    /// [`OAuthAlg::token`] with its own `jti`: tokens with different ids are different tokens.
    fn token_with_id(self, issuer: &str, jti: &str) -> Result<String> {
        let (key, jwk) = self.key()?;
        let mut header = jsonwebtoken::Header::new(self.algorithm());
        header.kid = jwk["kid"].as_str().map(str::to_owned);
        let now = jsonwebtoken::get_current_timestamp();
        let claims = serde_json::json!({
            "iss": issuer, "aud": OAUTH_AUDIENCE, "sub": "bench-human", "azp": AGENT,
            "jti": jti, "iat": now, "exp": now + 3600,
        });
        Ok(jsonwebtoken::encode(&header, &claims, &key)?)
    }
}

/// The audience of the oauth gateway's tokens (its policy's `auth.audience`).
const OAUTH_AUDIENCE: &str = "https://bench.example/mcp";

const AGENT: &str = "bench-agent";

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"gateway-bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

fn call_request(authority: &str, bearer: Option<&str>) -> Result<http::Request<Full<Bytes>>> {
    let mut builder = http::Request::post("/mcp");
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    Ok(builder
        .header("host", authority)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "add")
        .header("x-mcp-agent-id", AGENT)
        .body(Full::new(Bytes::from_static(CALL.as_bytes())))?)
}

/// One `tools/call`; Ok only for a 200 whose body carries the result `3`.
async fn call_once(sender: &mut Sender, authority: &str, bearer: Option<&str>) -> Result<()> {
    sender.ready().await?;
    let response = sender
        .send_request(call_request(authority, bearer)?)
        .await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let text = std::str::from_utf8(&body).unwrap_or_default();
    if status != 200 || !text.contains(r#""text":"3""#) {
        bail!("unexpected reply {status}: {text}");
    }
    Ok(())
}

#[derive(Default)]
struct Sample {
    latencies_ns: Vec<u64>,
    ok: u64,
    errors: u64,
    elapsed: Duration,
    /// Warm-up requests sent before the measurement (not in the figures).
    warm: u64,
}

impl Sample {
    fn merge(&mut self, other: Sample) {
        self.latencies_ns.extend(other.latencies_ns);
        self.ok += other.ok;
        self.errors += other.errors;
        self.elapsed = self.elapsed.max(other.elapsed);
        self.warm += other.warm;
    }

    /// Every request sent, warm-up included.
    fn sent(&self) -> u64 {
        self.ok + self.errors + self.warm
    }

    fn percentile_us(&mut self, p: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return f64::NAN;
        }
        self.latencies_ns.sort_unstable();
        let rank = ((p / 100.0) * (self.latencies_ns.len() - 1) as f64).round() as usize;
        self.latencies_ns[rank] as f64 / 1_000.0
    }

    fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Where requests go, and the bearer token they carry (for an oauth gateway).
#[derive(Clone)]
struct Target {
    name: &'static str,
    address: SocketAddr,
    bearer: Option<Arc<str>>,
    /// The process whose CPU a request of this target costs (the upstream for `direct`).
    pid: u32,
    /// Whether its requests are audited (the gateways).
    audited: bool,
}

/// A closed loop on one connection: `count` requests, or until `deadline`.
async fn closed_loop(target: Target, count: Option<usize>, deadline: Option<Instant>) -> Sample {
    let address = target.address;
    let authority = address.to_string();
    let mut sample = Sample::default();
    let started = Instant::now();
    let mut sender = None;
    loop {
        if count.is_some_and(|n| sample.ok + sample.errors >= n as u64)
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let begun = Instant::now();
        let result = async {
            if sender.is_none() {
                sender = Some(connect(address).await?);
            }
            match sender.as_mut() {
                Some(s) => call_once(s, &authority, target.bearer.as_deref()).await,
                None => bail!("no connection"),
            }
        }
        .await;
        match result {
            Ok(()) => {
                sample.ok += 1;
                sample
                    .latencies_ns
                    .push(u64::try_from(begun.elapsed().as_nanos()).unwrap_or(u64::MAX));
            }
            Err(_) => {
                sample.errors += 1;
                sender = None;
            }
        }
    }
    sample.elapsed = started.elapsed();
    sample
}

async fn concurrent(target: &Target, connections: usize, seconds: f64) -> Sample {
    // Warm every connection up first, then measure for `seconds`.
    let warm = Instant::now() + Duration::from_millis(500);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        tasks.push(tokio::spawn(closed_loop(target.clone(), None, Some(warm))));
    }
    let mut warm_requests = 0;
    for task in tasks {
        if let Ok(sample) = task.await {
            warm_requests += sample.ok + sample.errors;
        }
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        tasks.push(tokio::spawn(closed_loop(
            target.clone(),
            None,
            Some(deadline),
        )));
    }
    let mut total = Sample {
        warm: warm_requests,
        ..Sample::default()
    };
    for task in tasks {
        if let Ok(sample) = task.await {
            total.merge(sample);
        }
    }
    total
}

/// A plain TCP relay (no HTTP at all) in front of `upstream`: the floor cost of one more
/// loopback hop on this machine, for comparison with the gateway's c=1 figures.
async fn tcp_relay(upstream: SocketAddr) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut downstream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut upstream) = TcpStream::connect(upstream).await {
                    let _ = downstream.set_nodelay(true);
                    let _ = upstream.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut downstream, &mut upstream).await;
                }
            });
        }
    });
    Ok(address)
}

/// A bare HTTP/1 reverse proxy in front of `upstream`, on the same hyper as the gateway, with
/// keep-alive upstream connections and nothing else: no identity, no policy, no JSON, no audit.
/// It runs in a process of its own on one thread, like the gateway, so that the difference
/// between the two is the gateway's own work. Prints its address, then serves until killed.
async fn serve_http_relay(upstream: SocketAddr) -> Result<()> {
    use hyper::body::Incoming;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build(connector);
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", listener.local_addr()?)?;
    stdout.flush()?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let client = client.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
                    let client = client.clone();
                    let path = request
                        .uri()
                        .path_and_query()
                        .map_or("/", http::uri::PathAndQuery::as_str)
                        .to_owned();
                    let uri = format!("http://{upstream}{path}").parse::<http::Uri>();
                    async move {
                        *request.uri_mut() = uri.map_err(anyhow::Error::from)?;
                        client.request(request).await.map_err(anyhow::Error::from)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Starts this bench as the bare HTTP/1 proxy baseline ([`serve_http_relay`]) in front of
/// `upstream`.
fn start_http_relay(upstream: SocketAddr) -> Result<(Process, SocketAddr)> {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve-http-relay", &upstream.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the HTTP proxy baseline")?;
    let stdout = child.stdout.take().context("the proxy's stdout")?;
    let process = Process(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let address = line.trim().parse().context("the proxy's address")?;
    Ok((process, address))
}

/// The bench policy; with `oauth_issuer`, in `auth.mode: oauth` trusting that issuer.
fn write_policy(path: &Path, oauth_issuer: Option<&str>) -> Result<()> {
    let mut document = agent_read_policy("bench", AGENT);
    if let Some(issuer) = oauth_issuer {
        document.auth.mode = AuthMode::Oauth.into();
        document.auth.issuer_url = issuer.into();
        document.auth.audience = OAUTH_AUDIENCE.into();
    }
    document
        .tools
        .push(Tool::new("echo", SideEffect::Read, Trust::Low));
    document.tools.push(Tool::new(
        "delete_note",
        SideEffect::Destructive,
        Trust::High,
    ));
    mcp_runtime_bench::write_policy(path, document)
}

/// An OAuth issuer on loopback: its metadata (RFC 8414) and key set, with the public keys of
/// every algorithm the bench signs with. Returns the issuer URL.
async fn issuer() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let keys: Vec<serde_json::Value> = OAuthAlg::ALL
        .iter()
        .map(|alg| alg.key().map(|(_, jwk)| jwk))
        .collect::<Result<_>>()?;
    let metadata = Bytes::from(
        serde_json::json!({"issuer": url, "jwks_uri": format!("{url}/jwks")}).to_string(),
    );
    let jwks = Bytes::from(serde_json::json!({ "keys": keys }).to_string());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (metadata, jwks) = (metadata.clone(), jwks.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let (status, body) = match request.uri().path() {
                            "/.well-known/oauth-authorization-server" => (200, metadata.clone()),
                            "/jwks" => (200, jwks.clone()),
                            _ => (404, Bytes::from_static(b"{}")),
                        };
                        let response = http::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(body));
                        async move { response }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(url)
}

/// Verifying a token with its key cached, in process: what the gateway's oauth mode adds to
/// each request, without the HTTP around it, per algorithm.
struct VerificationCost {
    alg: OAuthAlg,
    /// A token's first use: the signature and claims are checked (`first_use` distinct tokens).
    first_use: Sample,
    /// Later uses of the 64 tokens verified last: remembered, only `exp`, `nbf` and `aud`
    /// checked.
    repeat_use: Sample,
}

fn time_ns(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

async fn verification_cost(
    issuer: &str,
    first_use: usize,
    repeat_use: usize,
) -> Result<Vec<VerificationCost>> {
    let verifier =
        mcp_runtime_oauth::Verifier::new(issuer, mcp_runtime_oauth::Settings::default())?;
    let mut figures = Vec::new();
    for alg in OAuthAlg::ALL {
        // The first verification fetches the metadata and keys; the rest find them cached.
        verifier.verify(&alg.token(issuer)?, OAUTH_AUDIENCE).await?;
        let tokens = (0..first_use)
            .map(|n| alg.token_with_id(issuer, &format!("bench-token-{n}")))
            .collect::<Result<Vec<_>>>()?;
        let mut cost = VerificationCost {
            alg,
            first_use: Sample::default(),
            repeat_use: Sample::default(),
        };
        for token in &tokens {
            let started = Instant::now();
            verifier.verify(token, OAUTH_AUDIENCE).await?;
            cost.first_use.latencies_ns.push(time_ns(started));
        }
        // Later uses: the 64 tokens verified last (as from 64 clients, each reusing its token),
        // well within the verifier's default memory of 1,024 tokens.
        let recent = &tokens[tokens.len().saturating_sub(64)..];
        for n in 0..repeat_use {
            let token = &recent[n % recent.len().max(1)];
            let started = Instant::now();
            verifier.verify(token, OAUTH_AUDIENCE).await?;
            cost.repeat_use.latencies_ns.push(time_ns(started));
        }
        figures.push(cost);
    }
    Ok(figures)
}

/// CPU time the process has used so far (all its threads, user and kernel), in nanoseconds,
/// from `/proc/<pid>/task/*/schedstat`. Unlike latency, CPU per request barely moves with the
/// load on the machine, so it compares builds run at different times.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Opens a legacy session and its GET stream through the gateway; returns the open stream.
async fn open_idle_stream(address: SocketAddr) -> Result<http::Response<hyper::body::Incoming>> {
    let (_session, sender, response) = open_legacy_stream(address, AGENT, "gateway-bench").await?;
    // The connection task keeps running; the stream stays open while the response lives.
    std::mem::forget(sender);
    Ok(response)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(upstream) = args.serve_http_relay {
        // One thread, as the gateway runs by default.
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(serve_http_relay(upstream));
    }
    if !args.bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p mcp-runtime`",
            args.bin.display()
        );
    }
    let needed = 2 * args.idle_streams as u64 + 256;
    if let Some(limit) = max_open_files()
        && limit < needed
    {
        bail!("open-file limit {limit} is below {needed}: raise it with `ulimit -n {needed}`");
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

/// Starts `mcp-runtime gateway` in front of `upstream` with `policy`; its audit goes to
/// `ingest` unless `--without-audit`.
fn start_gateway(
    args: &Args,
    policy: &Path,
    auth_mode: &str,
    upstream: SocketAddr,
    ingest: SocketAddr,
    spool: &Path,
) -> Result<(Process, SocketAddr)> {
    let port = free_port()?;
    let mut command = Command::new(&args.bin);
    command.arg("gateway");
    if !args.without_audit {
        command.args(["--analytics-ingest-url", &format!("http://{ingest}/events")]);
    }
    if let Some(threads) = args.gateway_threads {
        command.args(["--worker-threads", &threads.to_string()]);
    }
    let child = command
        .args(["--address", "127.0.0.1", "--metrics-port", "0"])
        .args(["--port", &port.to_string()])
        .args(["--upstream-url", &format!("http://{upstream}")])
        .arg("--policy-file")
        .arg(policy)
        .args(["--auth-mode", auth_mode])
        .arg("--audit-spool-dir")
        .arg(spool)
        .args(["--server-name", "bench"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the gateway")?;
    Ok((Process(child), SocketAddr::from(([127, 0, 0, 1], port))))
}

async fn run(args: Args) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let policy = scratch.path().join("policy.json");
    write_policy(&policy, None)?;
    let (ingest, audited) = ingest().await?;
    let (upstream_process, upstream) = start_upstream(&args.bin)?;
    let upstream_pid = upstream_process.0.id();
    let (gateway_process, gateway) = start_gateway(
        &args,
        &policy,
        "header",
        upstream,
        ingest,
        &scratch.path().join("spool"),
    )?;
    let gateway_pid = gateway_process.0.id();
    wait_ready(gateway).await?;
    let rss_start = rss_kib(gateway_pid)?;

    let mut targets = vec![
        Target {
            name: "direct",
            address: upstream,
            bearer: None,
            pid: upstream_pid,
            audited: false,
        },
        Target {
            name: "gateway",
            address: gateway,
            bearer: None,
            pid: gateway_pid,
            audited: true,
        },
    ];
    // `--auth oauth`: the same gateway in oauth mode, beside the header one.
    let mut _oauth_process = None;
    let mut verification = Vec::new();
    if args.auth == AuthArg::Oauth {
        // Before any token is signed: ring verifies in this process, as in the gateway.
        mcp_runtime_oauth::install_crypto_provider();
        let issuer = issuer().await?;
        let oauth_policy = scratch.path().join("policy-oauth.json");
        write_policy(&oauth_policy, Some(&issuer))?;
        let (process, address) = start_gateway(
            &args,
            &oauth_policy,
            "oauth",
            upstream,
            ingest,
            &scratch.path().join("spool-oauth"),
        )?;
        wait_ready(address).await?;
        targets.push(Target {
            name: "oauth gateway",
            address,
            bearer: Some(Arc::from(args.oauth_alg.token(&issuer)?)),
            pid: process.0.id(),
            audited: true,
        });
        _oauth_process = Some(process);
        verification =
            verification_cost(&issuer, args.first_verifications, args.verifications).await?;
    }
    let oauth_index = (targets.len() > 2).then_some(2);
    // The floor for any proxy that reads HTTP: the same hop with none of the gateway's work.
    let (http_relay_process, http_relay) = start_http_relay(upstream)?;
    let http_relay_index = targets.len();
    targets.push(Target {
        name: "http proxy",
        address: http_relay,
        bearer: None,
        pid: http_relay_process.0.id(),
        audited: false,
    });
    let n = targets.len();

    // Every target must answer correctly before anything is measured (the oauth gateway's
    // first call fetches the issuer's metadata and keys: the measurement has them cached).
    for target in &targets {
        let sample = closed_loop(target.clone(), Some(1), None).await;
        if sample.ok != 1 {
            let mut sender = connect(target.address).await?;
            call_once(
                &mut sender,
                &target.address.to_string(),
                target.bearer.as_deref(),
            )
            .await
            .with_context(|| format!("checking {}", target.name))?;
        }
    }

    println!("# Gateway benchmark");
    println!();
    println!(
        "machine: {} cores, {}; load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        load_average()
    );
    println!(
        "rounds: {}; c=1: {} requests per round and target; c={}: {} s per round and target; audit {}{}",
        args.rounds,
        args.c1_requests,
        args.concurrency,
        args.seconds,
        if args.without_audit { "OFF" } else { "on" },
        if args.auth == AuthArg::Oauth {
            format!("; oauth gateway token {:?}", args.oauth_alg.algorithm())
        } else {
            String::new()
        }
    );

    let relay = Target {
        name: "relay",
        address: tcp_relay(upstream).await?,
        bearer: None,
        pid: 0,
        audited: false,
    };
    let mut c1_relay = Sample::default();
    let mut c1: Vec<Sample> = (0..n).map(|_| Sample::default()).collect();
    let mut cn: Vec<Sample> = (0..n).map(|_| Sample::default()).collect();
    let mut rps_rounds: Vec<Vec<f64>> = vec![Vec::new(); n];
    // Requests sent through each gateway (every one is audited).
    let mut gateway_calls = 0u64;
    // CPU time at c=1 of each target's process: the upstream's for direct, each gateway's own.
    let mut c1_cpu_ns = vec![0u64; n];
    let mut c1_cpu_requests = vec![0u64; n];
    for round in 0..args.rounds {
        // Rotate which target goes first, so drift in machine load hits all alike.
        let order: Vec<usize> = (0..n).map(|k| (k + round) % n).collect();
        for &i in &order {
            let target = &targets[i];
            let warm = closed_loop(target.clone(), Some(200), None).await;
            let cpu_before = cpu_ns(target.pid);
            let sample = closed_loop(target.clone(), Some(args.c1_requests), None).await;
            c1_cpu_ns[i] += cpu_ns(target.pid).saturating_sub(cpu_before);
            if target.audited {
                gateway_calls += warm.sent() + sample.sent();
            }
            c1_cpu_requests[i] += sample.sent();
            c1[i].merge(sample);
        }
        let _warm = closed_loop(relay.clone(), Some(200), None).await;
        c1_relay.merge(closed_loop(relay.clone(), Some(args.c1_requests), None).await);
        for &i in &order {
            let sample = concurrent(&targets[i], args.concurrency, args.seconds).await;
            rps_rounds[i].push(sample.rps());
            if targets[i].audited {
                gateway_calls += sample.sent();
            }
            cn[i].merge(sample);
        }
        eprintln!("round {} done", round + 1);
    }
    let rss_after_load = rss_kib(gateway_pid)?;

    // Idle SSE streams through the (header) gateway.
    let mut streams = Vec::with_capacity(args.idle_streams);
    let mut stream_errors = 0;
    for _ in 0..args.idle_streams {
        match open_idle_stream(gateway).await {
            Ok(stream) => streams.push(stream),
            Err(_) => stream_errors += 1,
        }
    }
    // Let the processes settle, then read the gateway's resident set with the streams open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_streams = rss_kib(gateway_pid)?;
    let open = streams.len();
    drop(streams);

    // Every MCP POST through a gateway is audited (the calls, the first checks, and each
    // stream's initialize and initialized); wait (bounded) for the ingest to have them all.
    let audited_targets = targets.iter().filter(|t| t.audited).count() as u64;
    let expected_events = gateway_calls + audited_targets + 2 * open as u64;
    let deadline = Instant::now() + Duration::from_secs(15);
    while audited.load(Ordering::Relaxed) < expected_events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = audited.load(Ordering::Relaxed);

    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let rps: Vec<f64> = rps_rounds.iter_mut().map(median).collect();
    let p = |samples: &mut Vec<Sample>, i: usize, q: f64| samples[i].percentile_us(q);
    let (p50_d, p50_g) = (p(&mut c1, 0, 50.0), p(&mut c1, 1, 50.0));
    let (p99_d, p99_g) = (p(&mut c1, 0, 99.0), p(&mut c1, 1, 99.0));
    let (rps_d, rps_g) = (rps[0], rps[1]);
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };

    println!("load average at end {}", load_average());
    println!();
    println!("| measure | direct | gateway | gateway − direct / ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| c=1 p50 | {p50_d:.0} µs | {p50_g:.0} µs | +{:.0} µs | ≤ +100 µs: {} |",
        p50_g - p50_d,
        verdict(p50_g - p50_d <= 100.0)
    );
    let (p90_d, p90_g) = (p(&mut c1, 0, 90.0), p(&mut c1, 1, 90.0));
    println!(
        "| c=1 p90 | {p90_d:.0} µs | {p90_g:.0} µs | +{:.0} µs | – |",
        p90_g - p90_d
    );
    println!(
        "| c=1 p99 | {p99_d:.0} µs | {p99_g:.0} µs | +{:.0} µs | ≤ +500 µs: {} |",
        p99_g - p99_d,
        verdict(p99_g - p99_d <= 500.0)
    );
    println!(
        "| c=1 p50 / p99 through a plain TCP relay (one more hop, no HTTP) | {:.0} / {:.0} µs | | +{:.0} / +{:.0} µs | – |",
        c1_relay.percentile_us(50.0),
        c1_relay.percentile_us(99.0),
        c1_relay.percentile_us(50.0) - p50_d,
        c1_relay.percentile_us(99.0) - p99_d
    );
    let per_request_us = |i: usize| c1_cpu_ns[i] as f64 / c1_cpu_requests[i].max(1) as f64 / 1000.0;
    let h = http_relay_index;
    println!(
        "| c=1 p50 / p99 through a bare HTTP/1 proxy (hyper, own process, one thread; no identity, policy, JSON or audit) | {p50_d:.0} / {p99_d:.0} µs | {:.0} / {:.0} µs | +{:.0} / +{:.0} µs | – |",
        p(&mut c1, h, 50.0),
        p(&mut c1, h, 99.0),
        p(&mut c1, h, 50.0) - p50_d,
        p(&mut c1, h, 99.0) - p99_d
    );
    println!(
        "| c=1 CPU per request of the bare HTTP/1 proxy | | {:.1} µs | | – |",
        per_request_us(h)
    );
    println!(
        "| c={} RPS through the bare HTTP/1 proxy (median of rounds) | {rps_d:.0} | {:.0} | {:.0} % | – |",
        args.concurrency,
        rps[h],
        100.0 * rps[h] / rps_d
    );
    println!(
        "| c=1 CPU per request: the upstream's (direct), the gateway's own (gateway) | {:.1} µs | {:.1} µs | {:.2} × | – |",
        per_request_us(0),
        per_request_us(1),
        per_request_us(1) / per_request_us(0)
    );
    println!("| c=1 errors | {} | {} | | 0 |", c1[0].errors, c1[1].errors);
    println!(
        "| c={} RPS (median of rounds) | {rps_d:.0} | {rps_g:.0} | {:.0} % | ≥ 50 %: {} |",
        args.concurrency,
        100.0 * rps_g / rps_d,
        verdict(rps_g >= 0.5 * rps_d)
    );
    println!(
        "| c={} p50 / p99 | {:.0} / {:.0} µs | {:.0} / {:.0} µs | | – |",
        args.concurrency,
        p(&mut cn, 0, 50.0),
        p(&mut cn, 0, 99.0),
        p(&mut cn, 1, 50.0),
        p(&mut cn, 1, 99.0)
    );
    let errors_ok = cn.iter().all(|s| s.errors == 0);
    println!(
        "| c={} errors | {} | {} | | 0: {} |",
        args.concurrency,
        cn[0].errors,
        cn[1].errors,
        verdict(errors_ok)
    );
    println!(
        "| gateway RSS: start / after load / {open} idle SSE streams | | {:.1} / {:.1} / {:.1} MiB | | < 100 MB: {} |",
        rss_start as f64 / 1024.0,
        rss_after_load as f64 / 1024.0,
        rss_streams as f64 / 1024.0,
        verdict(rss_streams * 1024 < 100_000_000 && open == args.idle_streams)
    );
    if let Some(o) = oauth_index {
        // The oauth gateway against the header gateway of the same run: the cost of verifying
        // the bearer token (header, signature, claims) with the key cached.
        let (p50_o, p90_o, p99_o) = (
            p(&mut c1, o, 50.0),
            p(&mut c1, o, 90.0),
            p(&mut c1, o, 99.0),
        );
        println!();
        println!(
            "| OAuth ({:?} bearer token) | header gateway | oauth gateway | oauth − header | target |",
            args.oauth_alg.algorithm()
        );
        println!("|---|---|---|---|---|");
        println!(
            "| c=1 p50 | {p50_g:.0} µs | {p50_o:.0} µs | {:+.0} µs | ≤ +20 µs: {} |",
            p50_o - p50_g,
            verdict(p50_o - p50_g <= 20.0)
        );
        println!(
            "| c=1 p90 | {p90_g:.0} µs | {p90_o:.0} µs | {:+.0} µs | – |",
            p90_o - p90_g
        );
        println!(
            "| c=1 p99 | {p99_g:.0} µs | {p99_o:.0} µs | {:+.0} µs | – |",
            p99_o - p99_g
        );
        println!(
            "| c=1 CPU per request (the gateway's own) | {:.1} µs | {:.1} µs | {:+.1} µs | – |",
            per_request_us(1),
            per_request_us(o),
            per_request_us(o) - per_request_us(1)
        );
        println!(
            "| c={} RPS (median of rounds) | {rps_g:.0} | {:.0} | {:.0} % | – |",
            args.concurrency,
            rps[o],
            100.0 * rps[o] / rps_g
        );
        println!(
            "| errors c=1 / c={} | {} / {} | {} / {} | | 0 |",
            args.concurrency, c1[1].errors, cn[1].errors, c1[o].errors, cn[o].errors
        );
        println!();
        println!(
            "| verification alone, in process, key cached | first use p50 | p99 | repeat use p50 | p99 |"
        );
        println!("|---|---|---|---|---|");
        for cost in &mut verification {
            println!(
                "| {:?} ({} / {}) | {:.1} µs | {:.1} µs | {:.2} µs | {:.2} µs |",
                cost.alg.algorithm(),
                cost.first_use.latencies_ns.len(),
                cost.repeat_use.latencies_ns.len(),
                cost.first_use.percentile_us(50.0),
                cost.first_use.percentile_us(99.0),
                cost.repeat_use.percentile_us(50.0),
                cost.repeat_use.percentile_us(99.0),
            );
        }
    }
    println!();
    println!(
        "rounds, c={} RPS: {}",
        args.concurrency,
        targets
            .iter()
            .zip(&rps_rounds)
            .map(|(target, rounds)| format!(
                "{} {:?}",
                target.name,
                rounds.iter().map(|r| r.round() as u64).collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "idle streams: {open} open, {stream_errors} failed; audit events received by the ingest: {events} for {expected_events} MCP requests through the gateways"
    );
    Ok(())
}
