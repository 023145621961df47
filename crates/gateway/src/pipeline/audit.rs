//! Stage 7, audit: once the response is known, the request is counted in the metrics and, when
//! it carried an MCP method (or tried to), written as an audit event.

use super::identity::Caller;
use crate::metrics::Observation;
use crate::proxy::{ProxyBody, ProxyConfig};
use http::header;
use http::{Request, Response};
use mcp_runtime_audit::{AuditEvent, RequestPayload};
use mcp_runtime_policy::{Decision, Vocabulary};
use std::time::Instant;

/// What the pipeline learned about a request, for its audit event.
#[derive(Debug, Default)]
pub(crate) struct AuditRecord {
    pub caller: Caller,
    pub rpc_method: Option<String>,
    pub tool_name: Option<String>,
    pub bytes_in: u64,
    /// Set once the request is known to be an MCP message (or an attempt at one).
    pub decision: Option<Decision>,
}

/// What is kept of a request when it arrives, before the stages consume it.
#[derive(Debug)]
pub(crate) struct Arrival {
    at: Instant,
    method: String,
    path: String,
}

impl Arrival {
    pub(crate) fn of<B>(request: &Request<B>) -> Arrival {
        Arrival {
            at: Instant::now(),
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
        }
    }
}

/// Records the finished request in the metrics (except scrapes of `/metrics` itself) and emits
/// its audit event when it was decided.
pub(crate) fn finish(
    config: &ProxyConfig,
    arrival: Arrival,
    mut record: AuditRecord,
    response: &Response<ProxyBody>,
) {
    let bytes_out = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let status = response.status().as_u16();
    let decision_label = match record.decision.as_ref() {
        Some(d) if d.allowed => "allow",
        Some(_) => "deny",
        None => "none",
    };
    tracing::debug!(
        status,
        decision = decision_label,
        rpc_method = record.rpc_method.as_deref(),
        tool = record.tool_name.as_deref(),
        "request finished"
    );
    if let Some(metrics) = &config.metrics
        && arrival.path != "/metrics"
    {
        metrics.observe(&Observation {
            method: &arrival.method,
            rpc_method: record.rpc_method.as_deref(),
            decision: decision_label,
            reason: record.decision.as_ref().map(|d| d.reason.as_str()),
            status,
            seconds: arrival.at.elapsed().as_secs_f64(),
            bytes_in: record.bytes_in,
            bytes_out,
        });
    }
    if let (Some(sink), Some(decision)) = (&config.audit, record.decision.take()) {
        let context = AuditContext {
            latency_ms: u64::try_from(arrival.at.elapsed().as_millis()).unwrap_or(u64::MAX),
            method: arrival.method,
            path: arrival.path,
            status,
            bytes_in: record.bytes_in,
            bytes_out,
        };
        sink.emit(audit_event(config, &context, &record, &decision));
    }
}

struct AuditContext {
    method: String,
    path: String,
    status: u16,
    latency_ms: u64,
    bytes_in: u64,
    bytes_out: u64,
}

fn audit_event(
    config: &ProxyConfig,
    context: &AuditContext,
    record: &AuditRecord,
    decision: &Decision,
) -> AuditEvent {
    let labels = &config.labels;
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
        auth_method: caller.auth_method.map(str::to_owned),
        token_id: caller.token_id.clone(),
        cert_serial: caller.cert_serial.clone(),
        ..RequestPayload::default()
    };
    decision_into_payload(decision, &mut payload);
    payload.status = context.status;
    AuditEvent::new(labels.source.clone(), labels.event_type.clone(), payload)
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

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_runtime_policy::{ObjectRef, Reason, RiskLevel, SideEffect, Trust};

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
