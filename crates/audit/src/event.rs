//! The audit envelope and the request payload (MR `pkg/events/envelope.go`,
//! `proxy.go: auditPayload`).

use serde::{Deserialize, Serialize};

use crate::chain::{ChainLink, Checkpoint, EVENT_TYPE_CHECKPOINT};

/// The `event_type` of a gateway request event.
pub const EVENT_TYPE_REQUEST: &str = "mcp.request";

/// One audit event: MR's envelope plus a unique `event_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// A UUIDv7 string: unique and ordered by creation within a process.
    /// Receivers dedupe on it.
    #[serde(default)]
    pub event_id: String,
    /// When the event was created; serialized as RFC 3339 with up to
    /// nanosecond precision.
    pub timestamp: jiff::Timestamp,
    /// Trace id, when known (MR's ingest sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Emitter, e.g. `<server>-gateway`.
    #[serde(default)]
    pub source: String,
    /// Event kind, e.g. [`EVENT_TYPE_REQUEST`].
    #[serde(default)]
    pub event_type: String,
    /// The payload; `None` serializes as `null` and fails [`AuditEvent::validate`] (except in
    /// a checkpoint event).
    #[serde(default)]
    pub payload: Option<RequestPayload>,
    /// The event's place in its emitter's hash chain (set by the sink that delivers it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainLink>,
    /// In a checkpoint event ([`EVENT_TYPE_CHECKPOINT`]): the signed chain head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// Why an [`AuditEvent`] is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// `source` is empty.
    #[error("audit event: source is required")]
    MissingSource,
    /// `event_type` is empty.
    #[error("audit event: event_type is required")]
    MissingEventType,
    /// `payload` is missing or null.
    #[error("audit event: payload is required")]
    MissingPayload,
    /// A checkpoint event without its `checkpoint`.
    #[error("audit event: checkpoint is required in a {EVENT_TYPE_CHECKPOINT} event")]
    MissingCheckpoint,
}

impl AuditEvent {
    /// A new event with a fresh UUIDv7 `event_id` and the current time.
    pub fn new(
        source: impl Into<String>,
        event_type: impl Into<String>,
        payload: RequestPayload,
    ) -> Self {
        Self {
            event_id: uuid::Uuid::now_v7().to_string(),
            timestamp: jiff::Timestamp::now(),
            trace_id: None,
            source: source.into(),
            event_type: event_type.into(),
            payload: Some(payload),
            chain: None,
            checkpoint: None,
        }
    }

    /// A checkpoint event: the signed head of `source`'s chain, no payload.
    pub fn checkpoint(source: impl Into<String>, checkpoint: Checkpoint) -> Self {
        Self {
            event_id: uuid::Uuid::now_v7().to_string(),
            timestamp: jiff::Timestamp::now(),
            trace_id: None,
            source: source.into(),
            event_type: EVENT_TYPE_CHECKPOINT.into(),
            payload: None,
            chain: None,
            checkpoint: Some(checkpoint),
        }
    }

    /// A gateway request event as MR emits it: source `<server>-gateway`,
    /// event type `mcp.request`.
    pub fn request(payload: RequestPayload) -> Self {
        let source = format!("{}-gateway", payload.server);
        Self::new(source, EVENT_TYPE_REQUEST, payload)
    }

    /// Sets the trace id.
    #[must_use]
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// MR's validation: `source`, `event_type` and a non-null `payload` are required (a
    /// checkpoint event carries its checkpoint instead of a payload).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.source.trim().is_empty() {
            return Err(ValidationError::MissingSource);
        }
        if self.event_type.trim().is_empty() {
            return Err(ValidationError::MissingEventType);
        }
        if self.event_type == EVENT_TYPE_CHECKPOINT {
            return match self.checkpoint {
                Some(_) => Ok(()),
                None => Err(ValidationError::MissingCheckpoint),
            };
        }
        if self.payload.is_none() {
            return Err(ValidationError::MissingPayload);
        }
        Ok(())
    }
}

/// The policy decision recorded for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The request was forwarded.
    #[default]
    Allow,
    /// The request was refused.
    Deny,
}

/// MR's request audit payload. The first group of fields is always
/// serialized; the `Option` fields are omitted when unset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestPayload {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// HTTP status returned to the caller.
    pub status: u16,
    /// Total latency in milliseconds.
    pub latency_ms: u64,
    /// Request body bytes.
    pub bytes_in: u64,
    /// Response body bytes.
    pub bytes_out: u64,
    /// MCPServer name.
    pub server: String,
    /// MCPServer namespace.
    pub namespace: String,
    /// The server's team.
    pub team_id: String,
    /// Cluster name.
    pub cluster: String,
    /// Caller's human identity.
    pub human_id: String,
    /// Caller's agent identity.
    pub agent_id: String,
    /// Caller's team.
    pub subject_team_id: String,
    /// Session id presented by the caller.
    pub session_id: String,
    /// Allow or deny.
    pub decision: Decision,
    /// Reason code of the decision.
    pub reason: String,
    /// Policy version that decided.
    pub policy_version: String,

    /// JSON-RPC method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_method: Option<String>,
    /// Tool name for `tools/call`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// Name of the matched grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_grant: Option<String>,
    /// Namespace of the matched grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_grant_namespace: Option<String>,
    /// Name of the matched session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_session: Option<String>,
    /// Namespace of the matched session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_session_namespace: Option<String>,
    /// Trust the tool requires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_trust: Option<String>,
    /// Side effect the tool declares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_side_effect: Option<String>,
    /// Tool risk level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<String>,
    /// Trust granted by the admin (grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_trust: Option<String>,
    /// Trust consented in the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consented_trust: Option<String>,
    /// Effective trust (the lower of admin and consented).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_trust: Option<String>,
    /// How the caller was authenticated (`oauth`, `mtls`); absent in header mode, as in MR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
    /// The bearer token's `jti` (never the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// `mtls`: the serial number (lowercase hex) of the client certificate presented to the
    /// gateway (the proxy's own, in the ingress-terminated variant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_serial: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pretty_assertions::assert_eq;

    const ALWAYS: [&str; 17] = [
        "method",
        "path",
        "status",
        "latency_ms",
        "bytes_in",
        "bytes_out",
        "server",
        "namespace",
        "team_id",
        "cluster",
        "human_id",
        "agent_id",
        "subject_team_id",
        "session_id",
        "decision",
        "reason",
        "policy_version",
    ];
    const OPTIONAL: [&str; 12] = [
        "rpc_method",
        "tool_name",
        "matched_grant",
        "matched_grant_namespace",
        "matched_session",
        "matched_session_namespace",
        "required_trust",
        "required_side_effect",
        "risk_level",
        "admin_trust",
        "consented_trust",
        "effective_trust",
    ];

    fn sample() -> RequestPayload {
        RequestPayload {
            method: "POST".into(),
            path: "/mcp".into(),
            status: 200,
            latency_ms: 12,
            bytes_in: 100,
            bytes_out: 200,
            server: "weather".into(),
            namespace: "mcp-servers".into(),
            team_id: "team-a".into(),
            cluster: "dev".into(),
            human_id: "alice".into(),
            agent_id: "claude".into(),
            subject_team_id: "team-a".into(),
            session_id: "s1".into(),
            decision: Decision::Deny,
            reason: "trust_too_low".into(),
            policy_version: "v1".into(),
            ..RequestPayload::default()
        }
    }

    fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn envelope_has_mr_keys_and_omits_unset_optionals() {
        let ev = AuditEvent::request(sample());
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            keys(&v),
            ["event_id", "event_type", "payload", "source", "timestamp"]
        );
        assert_eq!(v["source"], "weather-gateway");
        assert_eq!(v["event_type"], "mcp.request");
        assert_eq!(v["payload"]["decision"], "deny");
        let mut want: Vec<String> = ALWAYS.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(keys(&v["payload"]), want);
        // RFC 3339 timestamp that parses back.
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z'), "{ts}");
        ts.parse::<jiff::Timestamp>().unwrap();
        // event_id is a UUIDv7.
        let id = uuid::Uuid::parse_str(v["event_id"].as_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 7);
    }

    #[test]
    fn optional_fields_serialized_when_set_and_round_trip() {
        let mut p = sample();
        p.decision = Decision::Allow;
        for (i, f) in [
            &mut p.rpc_method,
            &mut p.tool_name,
            &mut p.matched_grant,
            &mut p.matched_grant_namespace,
            &mut p.matched_session,
            &mut p.matched_session_namespace,
            &mut p.required_trust,
            &mut p.required_side_effect,
            &mut p.risk_level,
            &mut p.admin_trust,
            &mut p.consented_trust,
            &mut p.effective_trust,
        ]
        .into_iter()
        .enumerate()
        {
            *f = Some(format!("value-{i}"));
        }
        let ev = AuditEvent::request(p).with_trace_id("abc");
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["trace_id"], "abc");
        assert_eq!(v["payload"]["decision"], "allow");
        let mut want: Vec<String> = ALWAYS
            .iter()
            .chain(OPTIONAL.iter())
            .map(|s| s.to_string())
            .collect();
        want.sort();
        assert_eq!(keys(&v["payload"]), want);
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
        // Nanosecond timestamps survive the round trip.
        let json = serde_json::to_string(&ev).unwrap();
        let back: AuditEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back.timestamp, ev.timestamp);
    }

    #[test]
    fn event_ids_unique_and_ordered() {
        let ids: Vec<String> = (0..10_000)
            .map(|_| AuditEvent::request(sample()).event_id)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "ids are in creation order");
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "ids are unique");
    }

    #[test]
    fn validate_requires_source_event_type_payload() {
        let ev = AuditEvent::request(sample());
        assert_eq!(ev.validate(), Ok(()));
        let mut e = ev.clone();
        e.source = String::new();
        assert_eq!(e.validate(), Err(ValidationError::MissingSource));
        let mut e = ev.clone();
        e.event_type = " ".into();
        assert_eq!(e.validate(), Err(ValidationError::MissingEventType));
        let json = r#"{"timestamp":"2026-01-01T00:00:00.123456789Z","source":"s","event_type":"t","payload":null}"#;
        let e: AuditEvent = serde_json::from_str(json).unwrap();
        assert_eq!(e.validate(), Err(ValidationError::MissingPayload));
        let json = r#"{"timestamp":"2026-01-01T00:00:00Z","source":"s","event_type":"t"}"#;
        let e: AuditEvent = serde_json::from_str(json).unwrap();
        assert_eq!(e.validate(), Err(ValidationError::MissingPayload));
        let v = serde_json::to_value(&e).unwrap();
        assert!(
            v["payload"].is_null(),
            "a missing payload serializes as null"
        );
    }
}
