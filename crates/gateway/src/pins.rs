//! Tool-definition pins in the gateway: what it saw live of each server's pinned tools, and the
//! audit event of a drift.
//!
//! The record of what a server lists ([`DriftTracker`]) is kept per upstream and server for the
//! life of the process, not per policy revision or per route: a new pin is judged against the
//! definitions the server lists now, and a route rebuilt by `up` keeps what was seen. Nothing
//! here runs unless the policy pins a tool.

use crate::proxy::ProxyConfig;
use mcp_runtime_audit::{AuditEvent, RequestPayload};
use mcp_runtime_policy::{CompiledPolicy, DriftTracker, ToolDrift};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

type TrackerKey = (String, String, String);

fn trackers() -> &'static Mutex<HashMap<TrackerKey, Arc<DriftTracker>>> {
    static TRACKERS: OnceLock<Mutex<HashMap<TrackerKey, Arc<DriftTracker>>>> = OnceLock::new();
    TRACKERS.get_or_init(Mutex::default)
}

/// The record of the live definitions of the server `policy` is for, behind `config`'s
/// upstream.
pub(crate) fn tracker(config: &ProxyConfig, policy: &CompiledPolicy) -> Arc<DriftTracker> {
    let server = &policy.document().server;
    let key = (
        config.upstream.to_string(),
        server.namespace.clone(),
        server.name.clone(),
    );
    trackers()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

/// What the reply side needs to check a `tools/list` reply against the pins.
#[derive(Clone)]
pub(crate) struct PinCheck {
    pub live: Arc<DriftTracker>,
    pub config: Arc<ProxyConfig>,
}

impl std::fmt::Debug for PinCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinCheck").finish_non_exhaustive()
    }
}

/// Logs a drift the gateway just saw and writes its audit event: a `tools/list` event naming
/// the tool, decision `deny` with reason `tool_quarantined` when the tool is quarantined, else
/// `allow` with reason `tool_drift` (`onToolDrift: warn`).
pub(crate) fn report(
    config: &ProxyConfig,
    policy: &CompiledPolicy,
    drift: &ToolDrift,
    caller: &crate::pipeline::identity::Caller,
) {
    let quarantined = policy.quarantines_on_drift();
    tracing::warn!(
        tool = %drift.tool,
        pinned = %drift.pinned,
        live = %drift.live,
        quarantined,
        "a pinned tool is listed with another definition"
    );
    let Some(sink) = &config.audit else { return };
    let labels = &config.labels;
    let payload = RequestPayload {
        method: "POST".into(),
        server: labels.server.clone(),
        namespace: labels.namespace.clone(),
        team_id: labels.team_id.clone(),
        cluster: labels.cluster.clone(),
        human_id: caller.human.clone().unwrap_or_default(),
        agent_id: caller.agent.clone().unwrap_or_default(),
        subject_team_id: caller.team.clone().unwrap_or_default(),
        session_id: caller.session.clone().unwrap_or_default(),
        rpc_method: Some("tools/list".into()),
        tool_name: Some(drift.tool.clone()),
        decision: if quarantined {
            mcp_runtime_audit::Decision::Deny
        } else {
            mcp_runtime_audit::Decision::Allow
        },
        reason: if quarantined {
            mcp_runtime_policy::Reason::ToolQuarantined.as_str().into()
        } else {
            "tool_drift".into()
        },
        status: 200,
        policy_version: policy.document().policy.policy_version.clone(),
        ..RequestPayload::default()
    };
    sink.emit(AuditEvent::new(
        labels.source.clone(),
        labels.event_type.clone(),
        payload,
    ));
}
