//! The data plane: an HTTP/1.1 reverse proxy for MCP streamable HTTP.
//!
//! Pipeline per request: **parse → identify → authorize → forward**.
//! - `POST` bodies are read up to the limit and inspected strictly ([`crate::inspect`]); the exact
//!   bytes that were inspected are the bytes forwarded, so the upstream never reads something the
//!   policy did not see.
//! - Identity follows the active policy's `auth.mode` ([`IdentityMode::of`]). In header mode it
//!   is taken from the governance headers; every governance header, token header and the
//!   caller's `Authorization` are removed before forwarding, and the authenticated identity is
//!   written back. The caller's token never reaches the upstream. A mode this version cannot
//!   provide (`oauth`, `mtls`) refuses every request with 503 `auth_mode_unavailable`.
//! - Every `tools/call` (in a batch: every element) is decided by the policy; one denied element
//!   refuses the whole request, which is then never forwarded. No policy loaded → 503, fail closed.
//! - `tools/list` results are filtered to the tools the caller may call, in JSON and in SSE
//!   replies (each SSE event is rewritten as it passes; nothing else is buffered).
//! - Other responses stream through byte for byte, with `TCP_NODELAY` on both legs.

use crate::deny::{AuthStyle, DenyEncoding, GovernanceHeaders, encode_denial};
use crate::inspect::{Inspected, Limits, PostInput, inspect_post};
use crate::metrics::{GatewayMetrics, Observation};
use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcp_runtime_audit::{AuditEvent, AuditSink, RequestPayload};
use mcp_runtime_policy::{
    AuthMode, CompiledPolicy, Decision, Identity, Lenient, PolicyMode, Reason,
    Request as PolicyRequest, Vocabulary,
};
pub use mcp_runtime_protocol::guard::{is_loopback_host, origin_allowed};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// Response body type of the proxy.
pub type ProxyBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Supplies the current policy; `None` until one is loaded. Called once per request.
pub type PolicyProvider = Arc<dyn Fn() -> Option<Arc<CompiledPolicy>> + Send + Sync>;

/// Supplies the JSON body of `/config/status`.
pub type StatusProvider = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// How callers are identified: always the active policy's `auth.mode`, read with the policy
/// itself, so a reload that changes the mode changes it atomically with everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityMode {
    /// No identity; only meaningful with an `observe` policy.
    None,
    /// Governance headers set by a trusted adapter or ingress (see docs: trust boundary).
    Header,
    /// A mode this gateway cannot provide yet (`oauth`, `mtls`): every MCP request is refused
    /// with 503 `auth_mode_unavailable` and nothing is forwarded (fail closed). Trusting
    /// headers instead would let anyone who can reach the port name themselves.
    Unavailable,
}

impl IdentityMode {
    /// The identity mode `policy` asks for. An unset `auth.mode` is `header` (MR's default; the
    /// gateway's `AUTH_MODE` fills it before the policy is activated). An unknown one never
    /// passes validation, and would fail closed if it did.
    pub fn of(policy: &CompiledPolicy) -> IdentityMode {
        match &policy.document().auth.mode {
            Lenient::Unset | Lenient::Known(AuthMode::Header) => IdentityMode::Header,
            Lenient::Known(AuthMode::None) => IdentityMode::None,
            Lenient::Known(AuthMode::Oauth | AuthMode::Mtls) | Lenient::Unknown(_) => {
                IdentityMode::Unavailable
            }
        }
    }
}

/// Gateway settings for one upstream.
#[derive(Clone)]
pub struct ProxyConfig {
    /// Base URL of the upstream MCP server, e.g. `http://127.0.0.1:8088`.
    pub upstream: Uri,
    /// Path prefix removed before forwarding (MR's `STRIP_PREFIX`).
    pub strip_prefix: Option<String>,
    /// How denials are encoded.
    pub deny_encoding: DenyEncoding,
    /// Body limit and batch policy.
    pub limits: Limits,
    /// The policy.
    pub policy: PolicyProvider,
    /// `/config/status`; absent → 404.
    pub config_status: Option<StatusProvider>,
    /// Where audit events go; `None` disables auditing.
    pub audit: Option<Arc<dyn AuditSink>>,
    /// Who this gateway speaks for, stamped on every audit event.
    pub labels: ServerLabels,
    /// Prometheus metrics, served at `/metrics`; `None` disables them.
    pub metrics: Option<Arc<GatewayMetrics>>,
    /// Browser origins allowed besides the gateway's own (`*` allows any). A request with any
    /// other `Origin` is refused with 403 (DNS-rebinding protection, as the MCP spec requires).
    pub allowed_origins: Vec<String>,
}

/// The server identity written into audit events (MR's `server`, `namespace`, `team_id`,
/// `cluster`, plus the envelope's `source` and `event_type`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerLabels {
    pub server: String,
    pub namespace: String,
    pub team_id: String,
    pub cluster: String,
    /// Envelope `source`, default `<server>-gateway`.
    pub source: String,
    /// Envelope `event_type`, default `mcp.request`.
    pub event_type: String,
}

impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("upstream", &self.upstream)
            .field("strip_prefix", &self.strip_prefix)
            .field("deny_encoding", &self.deny_encoding)
            .finish_non_exhaustive()
    }
}

/// The proxy: cheap to clone, shared by every connection.
#[derive(Clone, Debug)]
pub struct Proxy {
    config: Arc<ProxyConfig>,
    client: Client<HttpConnector, Full<Bytes>>,
    streaming_client: Client<HttpConnector, Incoming>,
    /// Set by [`Proxy::serve`] on a loopback listener: only loopback `Host`s are accepted.
    loopback_hosts_only: bool,
}

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

impl Proxy {
    /// A proxy for `config`, with a pooled, `TCP_NODELAY` upstream client.
    pub fn new(config: ProxyConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector.clone());
        let streaming_client = Client::builder(TokioExecutor::new()).build(connector);
        Proxy {
            config: Arc::new(config),
            client,
            streaming_client,
            loopback_hosts_only: false,
        }
    }

    /// Serves on `listener` until the task is dropped.
    ///
    /// On a loopback listener (local mode) a request whose `Host` is not a loopback name is
    /// refused with 403 (DNS-rebinding protection: a rebound name carries a matching `Origin`,
    /// so the Origin check alone cannot catch it, and the upstream never sees the caller's Host).
    pub async fn serve(mut self, listener: TcpListener) -> std::io::Result<()> {
        self.loopback_hosts_only = listener.local_addr()?.ip().is_loopback();
        loop {
            let (stream, _peer): (_, SocketAddr) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let proxy = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let proxy = proxy.clone();
                    async move { Ok::<_, Infallible>(proxy.handle(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    /// Handles one request and audits it when it carried an MCP method (or tried to).
    pub async fn handle(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let started = Instant::now();
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let mut record = AuditRecord::default();
        let _inflight = self.config.metrics.as_ref().map(|m| m.start());
        let response = self.handle_inner(request, &mut record).await;
        let bytes_out = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if let Some(metrics) = &self.config.metrics
            && path != "/metrics"
        {
            let decision = record.decision.as_ref();
            metrics.observe(&Observation {
                method: &method,
                rpc_method: record.rpc_method.as_deref(),
                decision: match decision {
                    Some(d) if d.allowed => "allow",
                    Some(_) => "deny",
                    None => "none",
                },
                reason: decision.map(|d| d.reason.as_str()),
                status: response.status().as_u16(),
                seconds: started.elapsed().as_secs_f64(),
                bytes_in: record.bytes_in,
                bytes_out,
            });
        }
        if let (Some(sink), Some(decision)) = (&self.config.audit, record.decision.take()) {
            let context = AuditContext {
                method,
                path,
                status: response.status().as_u16(),
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                bytes_in: record.bytes_in,
                bytes_out,
            };
            sink.emit(self.audit_event(&context, &record, &decision));
        }
        response
    }

    fn audit_event(
        &self,
        context: &AuditContext,
        record: &AuditRecord,
        decision: &Decision,
    ) -> AuditEvent {
        let labels = &self.config.labels;
        let caller = &record.caller;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        // Built field by field (not through a JSON value): this runs for every request.
        let mut payload = RequestPayload {
            method: context.method.clone(),
            path: context.path.clone(),
            latency_ms: context.latency_ms,
            bytes_in: context.bytes_in,
            bytes_out: context.bytes_out,
            server: labels.server.clone(),
            namespace: labels.namespace.clone(),
            team_id: labels.team_id.clone(),
            cluster: labels.cluster.clone(),
            human_id: text(&caller.human),
            agent_id: text(&caller.agent),
            subject_team_id: text(&caller.team),
            session_id: text(&caller.session),
            rpc_method: record.rpc_method.clone(),
            tool_name: record.tool_name.clone(),
            ..RequestPayload::default()
        };
        decision_into_payload(decision, &mut payload);
        payload.status = context.status;
        AuditEvent::new(labels.source.clone(), labels.event_type.clone(), payload)
    }

    async fn handle_inner(
        &self,
        request: Request<Incoming>,
        record: &mut AuditRecord,
    ) -> Response<ProxyBody> {
        match request.uri().path() {
            "/health" => return json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec()),
            "/ready" => return self.readiness(),
            "/metrics" => {
                if let Some(metrics) = &self.config.metrics {
                    return bytes_response(
                        StatusCode::OK,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        metrics.encode().into_bytes(),
                    );
                }
            }
            "/config/status" => {
                if let Some(status) = &self.config.config_status {
                    return json_response(StatusCode::OK, status().to_string().into_bytes());
                }
            }
            _ => {}
        }
        if self.loopback_hosts_only
            && let Some(host) = request.headers().get(header::HOST)
            && !is_loopback_host(host)
        {
            return jsonrpc_error(
                StatusCode::FORBIDDEN,
                crate::codes::INVALID_REQUEST,
                "host not allowed: a gateway listening on loopback only answers loopback host names",
            );
        }
        if let Some(origin) = request.headers().get(header::ORIGIN)
            && !origin_allowed(
                origin,
                request.headers().get(header::HOST),
                &self.config.allowed_origins,
            )
        {
            return jsonrpc_error(
                StatusCode::FORBIDDEN,
                crate::codes::INVALID_REQUEST,
                "origin not allowed: set ALLOWED_ORIGINS to accept browser clients from it",
            );
        }
        let Some(policy) = (self.config.policy)() else {
            if request.method() == Method::POST {
                record.decision = Some(Decision::policy_unavailable());
            }
            return self.deny(&Decision::policy_unavailable(), None, None);
        };
        let identity = IdentityMode::of(&policy);
        if identity == IdentityMode::Unavailable {
            // Every MCP request, whatever its method: none is forwarded, and each is audited.
            let decision = Decision::auth_mode_unavailable();
            record.decision = Some(decision.clone());
            return self.deny(&decision, None, Some(&policy));
        }
        let (mut parts, body) = request.into_parts();
        let names = governance_names(&policy);
        let caller = Caller::from_headers(&parts.headers, &names, identity);
        record.caller = caller.clone();
        scrub_headers(&mut parts.headers, &names, &policy);

        if parts.method != Method::POST {
            caller.write_headers(&mut parts.headers, &names);
            // A GET stream can carry a tools/list result too (a resumed stream replays it), so
            // its events are filtered like a POST's reply.
            let filter_tools = parts.method == Method::GET && !observe_mode(&policy);
            return self
                .forward_streaming(parts, body, filter_tools, caller, policy)
                .await;
        }

        let bytes = match Limited::new(body, self.config.limits.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                // Refused before it could be read: audited like any other refused message.
                record.bytes_in = self.config.limits.max_body_bytes as u64;
                let decision = Decision::denied_by_stage(Reason::RpcInspectionFailed);
                record.decision = Some(decision.clone());
                if self.config.deny_encoding == DenyEncoding::Http {
                    // MR's answer to any inspection failure: 403 `rpc_inspection_failed`.
                    return self.deny(&decision, None, Some(&policy));
                }
                return jsonrpc_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    crate::codes::INVALID_REQUEST,
                    &format!(
                        "request body exceeds the limit of {} bytes",
                        self.config.limits.max_body_bytes
                    ),
                );
            }
        };
        // Header names are compared before scrubbing changed nothing relevant to inspection.
        let inspected = match inspect_post(
            &PostInput::from_header_map(&parts.headers, &bytes),
            &self.config.limits,
        ) {
            Ok(inspected) => inspected,
            Err(error) => {
                record.bytes_in = bytes.len() as u64;
                let decision = Decision::denied_by_stage(Reason::RpcInspectionFailed);
                record.decision = Some(decision.clone());
                if self.config.deny_encoding == DenyEncoding::Http {
                    return self.deny(&decision, None, Some(&policy));
                }
                let status =
                    StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
                return bytes_response(status, "application/json", error.to_jsonrpc_body());
            }
        };

        let now = jiff::Timestamp::now();
        record.bytes_in = bytes.len() as u64;
        let mut lists_tools = false;
        for message in inspected.messages() {
            if message.method() == Some("tools/list") {
                lists_tools = true;
            }
            if record.rpc_method.is_none() {
                record.rpc_method = message.method().map(str::to_owned);
            }
            if message.is_tool_call() {
                let decision = policy
                    .evaluate(&caller.request_for(message.tool_name().unwrap_or_default(), now));
                record.rpc_method = message.method().map(str::to_owned);
                record.tool_name = message.tool_name().map(str::to_owned);
                record.decision = Some(decision.clone());
                if !decision.allowed {
                    let id = match &inspected {
                        Inspected::Single(single) => single.id().cloned(),
                        Inspected::Batch(_) => None,
                    };
                    return self.deny(&decision, id.as_ref(), Some(&policy));
                }
            }
        }
        if record.decision.is_none() && record.rpc_method.is_some() {
            // Non-tool methods pass without a grant check, as in MR.
            record.decision = Some(Decision::allowed_without_check());
        }
        caller.write_headers(&mut parts.headers, &names);
        let filter_tools = lists_tools && !observe_mode(&policy);
        self.forward_buffered(parts, bytes, filter_tools, caller, policy)
            .await
    }

    /// `/ready`: 200 only when a policy is active and its identity mode is available.
    fn readiness(&self) -> Response<ProxyBody> {
        let not_ready = |body: serde_json::Value| {
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                body.to_string().into_bytes(),
            )
        };
        match (self.config.policy)() {
            None => not_ready(serde_json::json!({
                "status": "not_ready",
                "reason": "policy_not_loaded",
            })),
            Some(policy) if IdentityMode::of(&policy) == IdentityMode::Unavailable => {
                not_ready(serde_json::json!({
                    "status": "not_ready",
                    "reason": Reason::AuthModeUnavailable.as_str(),
                    "message": format!(
                        "the policy's auth.mode {:?} is not available in this gateway; every MCP request is refused",
                        policy.document().auth.mode.as_str()
                    ),
                }))
            }
            Some(_) => json_response(StatusCode::OK, br#"{"status":"ready"}"#.to_vec()),
        }
    }

    fn deny(
        &self,
        decision: &Decision,
        id: Option<&serde_json::Value>,
        policy: Option<&CompiledPolicy>,
    ) -> Response<ProxyBody> {
        let defaults = mcp_runtime_policy::AuthSettings::default();
        let auth = policy.map_or(&defaults, |p| &p.document().auth);
        let style = AuthStyle::Headers(GovernanceHeaders::from_auth(auth));
        let denial = encode_denial(self.config.deny_encoding, decision, id, &style);
        let status = StatusCode::from_u16(denial.status).unwrap_or(StatusCode::FORBIDDEN);
        let mut response = bytes_response(status, denial.content_type, denial.body);
        if let Some(challenge) = denial
            .www_authenticate
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }

    fn upstream_uri(&self, original: &Uri) -> Option<Uri> {
        let mut path = original.path();
        // A trailing slash on the prefix does not change what it names: `/x/` strips `/x` from
        // `/x` and `/x/mcp` alike, and never from `/xy`.
        if let Some(prefix) = self
            .config
            .strip_prefix
            .as_deref()
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| !p.is_empty())
            && let Some(rest) = path.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            path = rest;
        }
        let base = &self.config.upstream;
        let base_path = base.path().trim_end_matches('/');
        let joined = match original.query() {
            Some(query) => format!("{base_path}{path}?{query}"),
            None => format!("{base_path}{path}"),
        };
        let joined = if joined.starts_with('/') {
            joined
        } else {
            format!("/{joined}")
        };
        Uri::builder()
            .scheme(base.scheme_str().unwrap_or("http"))
            .authority(base.authority()?.as_str())
            .path_and_query(joined)
            .build()
            .ok()
    }

    fn prepare_upstream_headers(&self, headers: &mut HeaderMap) {
        strip_hop_by_hop(headers);
        // The upstream sees itself as the host; a browser Origin means nothing to it.
        headers.remove(header::HOST);
        headers.remove(header::ORIGIN);
        if let Some(authority) = self.config.upstream.authority()
            && let Ok(host) = HeaderValue::from_str(authority.as_str())
        {
            headers.insert(header::HOST, host);
        }
    }

    async fn forward_buffered(
        &self,
        parts: http::request::Parts,
        body: Bytes,
        filter_tools: bool,
        caller: Caller,
        policy: Arc<CompiledPolicy>,
    ) -> Response<ProxyBody> {
        let filter = filter_tools.then_some((caller, policy));
        self.forward(&self.client, parts, Full::new(body), filter)
            .await
    }

    async fn forward_streaming(
        &self,
        parts: http::request::Parts,
        body: Incoming,
        filter_tools: bool,
        caller: Caller,
        policy: Arc<CompiledPolicy>,
    ) -> Response<ProxyBody> {
        let filter = filter_tools.then_some((caller, policy));
        self.forward(&self.streaming_client, parts, body, filter)
            .await
    }

    /// Sends the request upstream and relays the answer; any upstream failure is a 502.
    async fn forward<B>(
        &self,
        client: &Client<HttpConnector, B>,
        mut parts: http::request::Parts,
        body: B,
        filter: Option<(Caller, Arc<CompiledPolicy>)>,
    ) -> Response<ProxyBody>
    where
        B: hyper::body::Body + Send + Unpin + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(uri) = self.upstream_uri(&parts.uri) else {
            return upstream_error();
        };
        parts.uri = uri;
        self.prepare_upstream_headers(&mut parts.headers);
        match client.request(Request::from_parts(parts, body)).await {
            Ok(response) => relay(response, filter),
            Err(_) => upstream_error(),
        }
    }
}

/// What the pipeline learned about a request, for its audit event.
#[derive(Debug, Default)]
struct AuditRecord {
    caller: Caller,
    rpc_method: Option<String>,
    tool_name: Option<String>,
    bytes_in: u64,
    /// Set once the request is known to be an MCP message (or an attempt at one).
    decision: Option<Decision>,
}

/// Writes a decision's audit fields (decision, reason, status, policy version, trust numbers,
/// matched grant and session) into a payload: the fields `Decision` serializes.
fn decision_into_payload(decision: &Decision, payload: &mut RequestPayload) {
    let name = |v: Option<&'static str>| v.map(str::to_owned);
    let object = |r: Option<&mcp_runtime_policy::ObjectRef>| {
        r.map(|r| (r.name.to_string(), r.namespace.to_string()))
            .unzip()
    };
    payload.decision = if decision.allowed {
        mcp_runtime_audit::Decision::Allow
    } else {
        mcp_runtime_audit::Decision::Deny
    };
    payload.reason = decision.reason.as_str().to_owned();
    payload.status = decision.http_status;
    payload.policy_version = decision.policy_version.as_deref().unwrap_or("").to_owned();
    (payload.matched_grant, payload.matched_grant_namespace) =
        object(decision.matched_grant.as_ref());
    (payload.matched_session, payload.matched_session_namespace) =
        object(decision.matched_session.as_ref());
    payload.required_trust = name(decision.required_trust.map(Vocabulary::as_str));
    payload.required_side_effect = name(decision.required_side_effect.map(Vocabulary::as_str));
    payload.risk_level = name(decision.risk_level.map(Vocabulary::as_str));
    payload.admin_trust = name(decision.admin_trust.map(Vocabulary::as_str));
    payload.consented_trust = name(decision.consented_trust.map(Vocabulary::as_str));
    payload.effective_trust = name(decision.effective_trust.map(Vocabulary::as_str));
}

struct AuditContext {
    method: String,
    path: String,
    status: u16,
    latency_ms: u64,
    bytes_in: u64,
    bytes_out: u64,
}

fn observe_mode(policy: &CompiledPolicy) -> bool {
    policy.document().policy.mode.known() == Some(PolicyMode::Observe)
}

/// The authenticated caller.
#[derive(Clone, Debug, Default)]
struct Caller {
    human: Option<String>,
    agent: Option<String>,
    team: Option<String>,
    session: Option<String>,
}

/// The human, agent, team and session header names of a policy, parsed once per request
/// (`None` where a configured name is not a valid header name, so it can never be read).
type GovernanceNames = [Option<HeaderName>; 4];

fn governance_names(policy: &CompiledPolicy) -> GovernanceNames {
    GovernanceHeaders::from_auth(&policy.document().auth)
        .names()
        .map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
}

impl Caller {
    fn from_headers(headers: &HeaderMap, names: &GovernanceNames, mode: IdentityMode) -> Caller {
        if mode != IdentityMode::Header {
            return Caller::default();
        }
        let [human, agent, team, session] = names;
        // A repeated governance header is ambiguous: treat the field as absent (fails closed).
        let read = |name: &Option<HeaderName>| {
            let mut values = headers.get_all(name.as_ref()?).iter();
            match (values.next(), values.next()) {
                (Some(value), None) => value
                    .to_str()
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
                _ => None,
            }
        };
        Caller {
            human: read(human),
            agent: read(agent),
            team: read(team),
            session: read(session),
        }
    }

    fn request_for<'a>(&'a self, tool: &'a str, now: jiff::Timestamp) -> PolicyRequest<'a> {
        let identity = Identity {
            human_id: self.human.as_deref(),
            agent_id: self.agent.as_deref(),
            team_id: self.team.as_deref(),
        };
        let request = PolicyRequest::tool_call(identity, tool, now);
        match self.session.as_deref() {
            Some(session) => request.with_session(session),
            None => request,
        }
    }

    /// Writes the authenticated identity back for the upstream (MR behaviour).
    fn write_headers(&self, headers: &mut HeaderMap, names: &GovernanceNames) {
        for (name, value) in names
            .iter()
            .zip([&self.human, &self.agent, &self.team, &self.session])
        {
            if let (Some(name), Some(Ok(value))) =
                (name, value.as_deref().map(HeaderValue::from_str))
            {
                headers.insert(name.clone(), value);
            }
        }
    }
}

/// Removes every governance header and the caller's credentials: the token header, and the
/// header a gateway writes an upstream token into (`session.upstream_token_header`), which an
/// upstream may trust as coming from the gateway, so a caller must never be able to set it.
fn scrub_headers(headers: &mut HeaderMap, names: &GovernanceNames, policy: &CompiledPolicy) {
    for name in names.iter().flatten() {
        headers.remove(name);
    }
    let document = policy.document();
    for token_header in [
        &document.auth.token_header,
        &document.session.upstream_token_header,
    ] {
        let token_header = token_header.trim().to_ascii_lowercase();
        if !token_header.is_empty() {
            headers.remove(token_header.as_str());
        }
    }
    headers.remove(header::AUTHORIZATION);
    headers.remove(header::COOKIE);
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named by `Connection` are hop-by-hop too.
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .collect();
    for name in HOP_BY_HOP.iter().map(|s| s.to_string()).chain(named) {
        headers.remove(name.as_str());
    }
}

/// Relays an upstream response; rewrites `tools/list` results when a filter is given.
fn relay(
    response: Response<Incoming>,
    filter: Option<(Caller, Arc<CompiledPolicy>)>,
) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let is_sse = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
    if is_sse {
        parts
            .headers
            .insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    let body: ProxyBody = match filter {
        None => body.map_err(|e| Box::new(e) as _).boxed(),
        Some(filter) => {
            // The body length changes when tools are removed.
            parts.headers.remove(header::CONTENT_LENGTH);
            if is_sse {
                sse_filtered(body, filter)
            } else {
                json_filtered(body, filter)
            }
        }
    };
    Response::from_parts(parts, body)
}

fn filter_value(value: &mut serde_json::Value, (caller, policy): &(Caller, Arc<CompiledPolicy>)) {
    let identity = Identity {
        human_id: caller.human.as_deref(),
        agent_id: caller.agent.as_deref(),
        team_id: caller.team.as_deref(),
    };
    let mut request = PolicyRequest::method(identity, "tools/list", jiff::Timestamp::now());
    if let Some(session) = caller.session.as_deref() {
        request = request.with_session(session);
    }
    let targets: Vec<&mut serde_json::Value> = match value {
        serde_json::Value::Array(items) => items.iter_mut().collect(),
        single => vec![single],
    };
    for target in targets {
        policy.filter_tools_list_result(target, &request);
    }
}

/// A JSON reply: buffered (it is one JSON-RPC response), filtered, re-serialized. A body that is
/// not JSON is passed on unchanged: filtering only ever removes tools.
fn json_filtered(body: Incoming, filter: (Caller, Arc<CompiledPolicy>)) -> ProxyBody {
    let stream = futures_util::stream::once(async move {
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => return Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
        };
        let filtered = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(mut value) => {
                filter_value(&mut value, &filter);
                Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec()))
            }
            Err(_) => bytes,
        };
        Ok(Frame::data(filtered))
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// An SSE reply: each event (terminated by a blank line) is rewritten as it passes when its data
/// is a JSON-RPC response carrying a tools list; every other byte streams through unchanged.
fn sse_filtered(body: Incoming, filter: (Caller, Arc<CompiledPolicy>)) -> ProxyBody {
    let (sender, receiver) = tokio::sync::mpsc::channel::<
        Result<Frame<Bytes>, Box<dyn std::error::Error + Send + Sync>>,
    >(16);
    tokio::spawn(async move {
        let mut body = body;
        let mut pending = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(error) => {
                    let _ = sender.send(Err(Box::new(error))).await;
                    return;
                }
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            pending.extend_from_slice(&data);
            while let Some(end) = event_end(&pending) {
                let event = pending.split_to(end);
                let rewritten = rewrite_sse_event(&event, &filter);
                if sender.send(Ok(Frame::data(rewritten))).await.is_err() {
                    return; // the client went away: dropping `body` aborts the upstream read
                }
            }
        }
        if !pending.is_empty() {
            let _ = sender.send(Ok(Frame::data(pending.freeze()))).await;
        }
    });
    let mut receiver = receiver;
    BodyExt::boxed(StreamBody::new(futures_util::stream::poll_fn(move |cx| {
        receiver.poll_recv(cx)
    })))
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

fn rewrite_sse_event(event: &[u8], filter: &(Caller, Arc<CompiledPolicy>)) -> Bytes {
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
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&data.join("\n")) else {
        return Bytes::copy_from_slice(event);
    };
    if value.pointer("/result/tools").is_none() {
        return Bytes::copy_from_slice(event);
    }
    filter_value(&mut value, filter);
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

fn bytes_response(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<ProxyBody> {
    bytes_response(status, "application/json", body)
}

pub(crate) fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    json_response(status, body.to_string().into_bytes())
}

fn upstream_error() -> Response<ProxyBody> {
    json_response(
        StatusCode::BAD_GATEWAY,
        br#"{"error":"upstream_error"}"#.to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_runtime_policy::{ObjectRef, RiskLevel, SideEffect, Trust};

    #[test]
    fn the_audit_payload_carries_every_field_the_decision_serializes() {
        let decision = Decision {
            allowed: false,
            reason: Reason::TrustTooLow,
            http_status: 403,
            policy_version: Some("rev-7".into()),
            required_trust: Some(Trust::High),
            required_side_effect: Some(SideEffect::Write),
            risk_level: Some(RiskLevel::Medium),
            admin_trust: Some(Trust::High),
            consented_trust: Some(Trust::Medium),
            effective_trust: Some(Trust::Medium),
            matched_grant: Some(ObjectRef {
                name: "claude".into(),
                namespace: "team-a".into(),
            }),
            matched_session: Some(ObjectRef {
                name: "sess-1".into(),
                namespace: "team-a".into(),
            }),
            trace: None,
        };
        let mut payload = RequestPayload::default();
        decision_into_payload(&decision, &mut payload);
        let payload = serde_json::to_value(&payload).expect("payload");
        let serde_json::Value::Object(fields) = serde_json::to_value(&decision).expect("decision")
        else {
            panic!("a decision serializes as an object");
        };
        assert!(fields.len() >= 14, "{fields:?}");
        for (key, value) in fields {
            assert_eq!(payload[&key], value, "{key}");
        }
    }
}
