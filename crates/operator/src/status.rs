//! Status: observed children → MCPServer status, and the grant and session statuses. Pure.
//!
//! Condition reasons name the real cause (`ImagePullBackOff`, `CrashLoopBackOff`,
//! `IngressNotAdmitted`, `PolicyInvalid` …), never the phase string, and `lastTransitionTime`
//! only moves when a condition's status flips.

use crate::config::IngressReadiness;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use mcp_runtime_api::server::{ServerAddress, ServerInfo, ServerPhase, ToolDigest};
use mcp_runtime_api::{MCPServerStatus, ObjectStatus};

/// Declares [`Reason`]: each variant and the exact string written to the API (tests, docs and
/// users' alerts match on those strings, so they never change).
macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// The reason of a condition, as written to the API.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($(#[$doc])* $variant,)*
        }

        impl Reason {
            /// Every reason, for tests and docs.
            pub const ALL: &[Reason] = &[$(Reason::$variant,)*];

            /// The string written to the condition's `reason`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $text,)*
                }
            }
        }
    };
}

reasons! {
    /// `Ready`: every child is ready.
    Available => "Available",
    /// The Deployment has every replica ready.
    ReplicasReady => "ReplicasReady",
    /// The Deployment is scaled to zero.
    ScaledToZero => "ScaledToZero",
    DeploymentMissing => "DeploymentMissing",
    ReplicasNotReady => "ReplicasNotReady",
    // The pods' own failures (container waiting reasons, last termination, scheduling).
    ImagePullBackOff => "ImagePullBackOff",
    ErrImagePull => "ErrImagePull",
    CrashLoopBackOff => "CrashLoopBackOff",
    CreateContainerConfigError => "CreateContainerConfigError",
    InvalidImageName => "InvalidImageName",
    CreateContainerError => "CreateContainerError",
    OomKilled => "OOMKilled",
    Unschedulable => "Unschedulable",
    ClusterIpAssigned => "ClusterIPAssigned",
    ClusterIpPending => "ClusterIPPending",
    ServiceMissing => "ServiceMissing",
    /// No Ingress in mTLS mode.
    NotRequired => "NotRequired",
    /// Strict readiness: an ingress controller published an address.
    Admitted => "Admitted",
    IngressNotAdmitted => "IngressNotAdmitted",
    /// Permissive readiness: the Ingress has rules.
    RulesPresent => "RulesPresent",
    NoRules => "NoRules",
    IngressMissing => "IngressMissing",
    PolicyWritten => "PolicyWritten",
    PolicyMissing => "PolicyMissing",
    PolicyInvalid => "PolicyInvalid",
    GatewayDisabled => "GatewayDisabled",
    SidecarReady => "SidecarReady",
    NoCanary => "NoCanary",
    HandshakeSucceeded => "HandshakeSucceeded",
    /// `ToolDrift` True: a pinned tool's live definition differs from its pin.
    ToolDefinitionChanged => "ToolDefinitionChanged",
    /// `ToolDrift` False: every pinned tool the server lists matches its pin.
    PinsMatch => "PinsMatch",
    /// `ToolDrift` False: the live definitions are not known (yet).
    LiveToolsUnknown => "LiveToolsUnknown",
    AwaitingPods => "AwaitingPods",
    McpEndpointUnavailable => "MCPEndpointUnavailable",
    /// The spec fails validation or cannot be built.
    ConfigurationInvalid => "ConfigurationInvalid",
    /// A child exists and someone else controls it.
    OwnershipConflict => "OwnershipConflict",
    // Grants and sessions.
    Found => "Found",
    ServerNotFound => "ServerNotFound",
    Valid => "Valid",
    Active => "Active",
    Expired => "Expired",
    Revoked => "Revoked",
}

impl Reason {
    /// A container waiting reason that explains a Deployment that is not ready.
    fn container_waiting(reason: &str) -> Option<Reason> {
        [
            Reason::ImagePullBackOff,
            Reason::ErrImagePull,
            Reason::CrashLoopBackOff,
            Reason::CreateContainerConfigError,
            Reason::InvalidImageName,
            Reason::CreateContainerError,
        ]
        .into_iter()
        .find(|r| r.as_str() == reason)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> String {
        reason.as_str().to_owned()
    }
}

/// What one readiness check found: ready or not, with a reason and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub ready: bool,
    pub reason: Reason,
    pub message: String,
}

impl Check {
    fn ok(reason: Reason, message: impl Into<String>) -> Check {
        Check {
            ready: true,
            reason,
            message: message.into(),
        }
    }
    fn not(reason: Reason, message: impl Into<String>) -> Check {
        Check {
            ready: false,
            reason,
            message: message.into(),
        }
    }
}

/// Everything the status of a server is computed from.
#[derive(Clone, Debug, Default)]
pub struct Observed<'a> {
    pub generation: Option<i64>,
    pub deployment: Option<&'a Deployment>,
    /// Desired stable replicas.
    pub desired_replicas: i32,
    /// `Some(desired canary replicas)` when a canary is configured.
    pub canary_wanted: Option<i32>,
    pub canary: Option<&'a Deployment>,
    pub service: Option<&'a Service>,
    /// False in mTLS mode (no Ingress is built).
    pub ingress_wanted: bool,
    pub ingress: Option<&'a Ingress>,
    pub ingress_mode: IngressReadiness,
    pub gateway_enabled: bool,
    pub policy_config_map: Option<&'a ConfigMap>,
    pub policy_revision: Option<String>,
    /// Pods of the server, listed only when the Deployment is not ready.
    pub pods: &'a [Pod],
    pub url: Option<String>,
    pub address: Option<String>,
    pub server_info: Option<ServerInfo>,
    /// The names of the tools the server listed (sorted), when the handshake listed them.
    pub tools: Option<Vec<String>>,
    /// Their definition digests, when the handshake listed them.
    pub tool_digests: Option<Vec<ToolDigest>>,
    /// The pins (`spec.tools[].digest`): tool name and approved digest.
    pub pins: Vec<(String, String)>,
    /// `spec.policy.onToolDrift` is `warn` (else drifted tools are quarantined).
    pub drift_warn_only: bool,
    /// Why the MCP handshake failed, when it ran and failed.
    pub handshake_error: Option<String>,
}

/// Condition types of an MCPServer.
pub mod types {
    pub const DEPLOYMENT: &str = "DeploymentReady";
    pub const SERVICE: &str = "ServiceReady";
    pub const INGRESS: &str = "IngressReady";
    pub const GATEWAY: &str = "GatewayReady";
    pub const POLICY: &str = "PolicyReady";
    pub const CANARY: &str = "CanaryReady";
    pub const VERIFIED: &str = "Verified";
    /// Present when a tool is pinned: True while a pinned tool's live definition differs.
    pub const TOOL_DRIFT: &str = "ToolDrift";
    pub const READY: &str = "Ready";
}

/// The pinned tools whose live digest differs from the pin, with both digests, by name. A pinned
/// tool the server does not list is not drift (`catalog tools --drift missing` reports it).
pub fn drifted_tools<'a>(
    pins: &'a [(String, String)],
    live: &'a [ToolDigest],
) -> Vec<(&'a str, &'a str, &'a str)> {
    let mut drifted: Vec<(&str, &str, &str)> = pins
        .iter()
        .filter_map(|(name, pin)| {
            live.iter()
                .find(|l| &l.name == name)
                .filter(|l| &l.digest != pin)
                .map(|l| (name.as_str(), pin.as_str(), l.digest.as_str()))
        })
        .collect();
    drifted.sort();
    drifted
}

/// The `ToolDrift` condition, when a tool is pinned. Its status is True while there is drift.
fn tool_drift_check(observed: &Observed<'_>) -> Option<Check> {
    if observed.pins.is_empty() {
        return None;
    }
    let Some(live) = observed.tool_digests.as_deref() else {
        return Some(Check::not(
            Reason::LiveToolsUnknown,
            "the live tool definitions are not known yet (no tools/list handshake)",
        ));
    };
    let drifted = drifted_tools(&observed.pins, live);
    if drifted.is_empty() {
        return Some(Check::not(
            Reason::PinsMatch,
            format!(
                "the {} pinned tool(s) match their pins",
                observed.pins.len()
            ),
        ));
    }
    let names: Vec<String> = drifted
        .iter()
        .map(|(name, pin, live)| format!("{name} (pinned {pin}, live {live})"))
        .collect();
    let action = if observed.drift_warn_only {
        "onToolDrift: warn, still served"
    } else {
        "quarantined: hidden from tools/list, calls denied with tool_quarantined"
    };
    Some(Check::ok(
        Reason::ToolDefinitionChanged,
        format!(
            "live definition differs from the pin: {} ({action}); re-pin with mcp-runtime server pin once reviewed",
            names.join(", ")
        ),
    ))
}

/// Readiness of a Deployment, with the pods' failure as the reason when there is one.
pub fn deployment_check(deployment: Option<&Deployment>, desired: i32, pods: &[Pod]) -> Check {
    let Some(deployment) = deployment else {
        return Check::not(
            Reason::DeploymentMissing,
            "the Deployment does not exist yet",
        );
    };
    let status = deployment.status.clone().unwrap_or_default();
    let ready = status.ready_replicas.unwrap_or(0);
    if desired == 0 {
        return Check::ok(Reason::ScaledToZero, "scaled to zero replicas");
    }
    if ready >= desired {
        return Check::ok(
            Reason::ReplicasReady,
            format!("{ready}/{desired} replicas ready"),
        );
    }
    if let Some((reason, message)) = pod_failure(pods) {
        return Check::not(reason, message);
    }
    Check::not(
        Reason::ReplicasNotReady,
        format!("{ready}/{desired} replicas ready"),
    )
}

/// The first real failure among the pods' containers: waiting reasons such as
/// `ImagePullBackOff`, `ErrImagePull`, `CrashLoopBackOff`, `CreateContainerConfigError`, or a last
/// termination by `OOMKilled`; otherwise `Unschedulable` when the scheduler says so.
pub fn pod_failure(pods: &[Pod]) -> Option<(Reason, String)> {
    for pod in pods {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let Some(status) = &pod.status else { continue };
        let containers = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten());
        for container in containers {
            if let Some(waiting) = container.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                let waiting_reason = waiting.reason.as_deref().unwrap_or_default();
                if let Some(reason) = Reason::container_waiting(waiting_reason) {
                    let detail = waiting.message.clone().unwrap_or_default();
                    let mut message =
                        format!("pod {pod_name} container {}: {reason}", container.name);
                    if container
                        .last_state
                        .as_ref()
                        .and_then(|s| s.terminated.as_ref())
                        .is_some_and(|t| t.reason.as_deref() == Some("OOMKilled"))
                    {
                        return Some((
                            Reason::OomKilled,
                            format!("pod {pod_name} container {} was OOMKilled", container.name),
                        ));
                    }
                    if !detail.is_empty() {
                        message.push_str(&format!(" ({detail})"));
                    }
                    return Some((reason, message));
                }
            }
        }
        for condition in status.conditions.iter().flatten() {
            if condition.type_ == "PodScheduled"
                && condition.status == "False"
                && condition.reason.as_deref() == Some("Unschedulable")
            {
                return Some((
                    Reason::Unschedulable,
                    format!(
                        "pod {pod_name}: {}",
                        condition.message.clone().unwrap_or_default()
                    ),
                ));
            }
        }
    }
    None
}

fn service_check(service: Option<&Service>) -> Check {
    match service
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.cluster_ip.as_deref())
    {
        Some(ip) if !ip.is_empty() => {
            Check::ok(Reason::ClusterIpAssigned, format!("cluster IP {ip}"))
        }
        _ if service.is_none() => {
            Check::not(Reason::ServiceMissing, "the Service does not exist yet")
        }
        _ => Check::not(
            Reason::ClusterIpPending,
            "the Service has no cluster IP yet",
        ),
    }
}

fn ingress_check(wanted: bool, ingress: Option<&Ingress>, mode: IngressReadiness) -> Check {
    if !wanted {
        return Check::ok(Reason::NotRequired, "no Ingress in mTLS mode");
    }
    let Some(ingress) = ingress else {
        return Check::not(Reason::IngressMissing, "the Ingress does not exist yet");
    };
    let has_rules = ingress
        .spec
        .as_ref()
        .and_then(|s| s.rules.as_ref())
        .is_some_and(|r| !r.is_empty());
    let admitted = ingress
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .is_some_and(|i| !i.is_empty());
    match mode {
        IngressReadiness::Strict if admitted => Check::ok(
            Reason::Admitted,
            "the ingress controller published an address",
        ),
        IngressReadiness::Strict => Check::not(
            Reason::IngressNotAdmitted,
            "no ingress controller has published an address for the Ingress",
        ),
        IngressReadiness::Permissive if has_rules => Check::ok(
            Reason::RulesPresent,
            "the Ingress has rules (permissive readiness)",
        ),
        IngressReadiness::Permissive => Check::not(Reason::NoRules, "the Ingress has no rules"),
    }
}

fn policy_check(enabled: bool, config_map: Option<&ConfigMap>) -> Check {
    if !enabled {
        return Check::ok(Reason::GatewayDisabled, "no gateway, no policy");
    }
    match config_map {
        Some(cm)
            if cm
                .data
                .as_ref()
                .is_some_and(|d| d.contains_key(crate::build::POLICY_KEY)) =>
        {
            Check::ok(
                Reason::PolicyWritten,
                "policy.json is in the policy ConfigMap",
            )
        }
        _ => Check::not(
            Reason::PolicyMissing,
            "the policy ConfigMap does not exist yet",
        ),
    }
}

/// Computes the status of a server from what was observed. `previous` keeps the
/// `lastTransitionTime` of conditions whose status did not change.
pub fn server_status(
    observed: &Observed<'_>,
    previous: Option<&MCPServerStatus>,
    now: Timestamp,
) -> MCPServerStatus {
    let deployment = deployment_check(
        observed.deployment,
        observed.desired_replicas,
        observed.pods,
    );
    let service = service_check(observed.service);
    let ingress = ingress_check(
        observed.ingress_wanted,
        observed.ingress,
        observed.ingress_mode,
    );
    let policy = policy_check(observed.gateway_enabled, observed.policy_config_map);
    let gateway = if observed.gateway_enabled {
        Check {
            reason: if deployment.ready {
                Reason::SidecarReady
            } else {
                deployment.reason
            },
            ..deployment.clone()
        }
    } else {
        Check::ok(Reason::GatewayDisabled, "no gateway sidecar")
    };
    let canary = match observed.canary_wanted {
        Some(replicas) => deployment_check(observed.canary, replicas, &[]),
        None => Check::ok(Reason::NoCanary, "no canary configured"),
    };

    let mut required: Vec<(&str, &Check)> = vec![
        (types::DEPLOYMENT, &deployment),
        (types::SERVICE, &service),
        (types::INGRESS, &ingress),
    ];
    if observed.gateway_enabled {
        required.push((types::GATEWAY, &gateway));
        required.push((types::POLICY, &policy));
    }
    if observed.canary_wanted.is_some() {
        required.push((types::CANARY, &canary));
    }
    let ready_count = required.iter().filter(|(_, c)| c.ready).count();
    let first_failure = required.iter().find(|(_, c)| !c.ready);
    let (phase, ready_check) = match first_failure {
        None => (
            ServerPhase::Ready,
            Check::ok(Reason::Available, "all children are ready"),
        ),
        Some((kind, check)) => (
            if ready_count > 0 {
                ServerPhase::PartiallyReady
            } else {
                ServerPhase::Pending
            },
            Check::not(check.reason, format!("{kind}: {}", check.message)),
        ),
    };
    let verified = match (&observed.server_info, &observed.handshake_error) {
        (Some(info), _) => Check::ok(
            Reason::HandshakeSucceeded,
            format!(
                "initialize answered by {} {}",
                info.name.clone().unwrap_or_default(),
                info.version.clone().unwrap_or_default()
            ),
        ),
        (None, Some(error)) => Check::not(Reason::McpEndpointUnavailable, error.clone()),
        (None, None) => Check::not(
            Reason::AwaitingPods,
            "the handshake runs once pods are ready",
        ),
    };

    let prev = previous.map(|p| p.conditions.as_slice()).unwrap_or(&[]);
    let condition =
        |type_: &str, check: &Check| make_condition(type_, check, observed.generation, prev, now);
    let mut conditions = vec![
        condition(types::READY, &ready_check),
        condition(types::DEPLOYMENT, &deployment),
        condition(types::SERVICE, &service),
        condition(types::INGRESS, &ingress),
        condition(types::POLICY, &policy),
        condition(types::GATEWAY, &gateway),
        condition(types::CANARY, &canary),
        condition(types::VERIFIED, &verified),
    ];
    if let Some(drift) = tool_drift_check(observed) {
        conditions.push(condition(types::TOOL_DRIFT, &drift));
    }
    conditions.sort_by(|a, b| a.type_.cmp(&b.type_));

    let replicas = [observed.deployment, observed.canary]
        .iter()
        .flatten()
        .map(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
        .sum::<i32>();
    let ready_replicas = [observed.deployment, observed.canary]
        .iter()
        .flatten()
        .map(|d| {
            d.status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0)
        })
        .sum::<i32>();

    MCPServerStatus {
        observed_generation: observed.generation,
        phase: Some(phase),
        message: Some(ready_check.message.clone()),
        deployment_ready: deployment.ready,
        service_ready: service.ready,
        ingress_ready: ingress.ready,
        gateway_ready: observed.gateway_enabled && gateway.ready,
        policy_ready: observed.gateway_enabled && policy.ready,
        canary_ready: observed.canary_wanted.is_some() && canary.ready,
        conditions,
        url: observed.url.clone(),
        address: observed.address.clone().map(|url| ServerAddress { url }),
        deployment_name: observed.deployment.and_then(|d| d.metadata.name.clone()),
        service_name: observed.service.and_then(|s| s.metadata.name.clone()),
        server_info: observed.server_info.clone(),
        tools: observed.tools.clone(),
        tool_digests: observed.tool_digests.clone(),
        replicas: observed.deployment.map(|_| replicas),
        ready_replicas: observed.deployment.map(|_| ready_replicas),
        policy_revision: observed.policy_revision.clone(),
    }
}

/// The status of a server that could not be reconciled: phase Error and a `Ready` condition whose
/// reason is the cause (e.g. `ConfigurationInvalid`, `PolicyInvalid`, `OwnershipConflict`).
pub fn error_status(
    previous: Option<&MCPServerStatus>,
    generation: Option<i64>,
    reason: Reason,
    message: &str,
    now: Timestamp,
) -> MCPServerStatus {
    let mut status = previous.cloned().unwrap_or_default();
    let prev = previous.map(|p| p.conditions.clone()).unwrap_or_default();
    let check = Check::not(reason, message);
    let ready = make_condition(types::READY, &check, generation, &prev, now);
    status.conditions.retain(|c| c.type_ != types::READY);
    status.conditions.push(ready);
    if reason == Reason::PolicyInvalid {
        let policy = make_condition(types::POLICY, &check, generation, &prev, now);
        status.conditions.retain(|c| c.type_ != types::POLICY);
        status.conditions.push(policy);
        status.policy_ready = false;
    }
    status.conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
    status.phase = Some(ServerPhase::Error);
    status.message = Some(message.to_owned());
    status.observed_generation = generation;
    status
}

/// A condition that keeps the previous `lastTransitionTime` unless its status flips.
pub fn make_condition(
    type_: &str,
    check: &Check,
    generation: Option<i64>,
    previous: &[Condition],
    now: Timestamp,
) -> Condition {
    let status = if check.ready { "True" } else { "False" };
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or(Time(truncate(now)));
    Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: check.reason.into(),
        message: check.message.clone(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// Kubernetes stores condition times at second precision; keeping that here makes a re-read
/// status compare equal to the computed one.
fn truncate(now: Timestamp) -> Timestamp {
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// Whether the referenced server exists, for grants and sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLookup {
    /// `namespace/name` of the referenced server.
    pub reference: String,
    pub found: bool,
}

fn server_found_condition(
    server: &ServerLookup,
    generation: Option<i64>,
    prev: &[Condition],
    now: Timestamp,
) -> Condition {
    let check = if server.found {
        Check::ok(
            Reason::Found,
            format!("MCPServer {} exists", server.reference),
        )
    } else {
        Check::not(
            Reason::ServerNotFound,
            format!(
                "MCPServer {} does not exist; this has no effect until it does",
                server.reference
            ),
        )
    };
    make_condition("ServerFound", &check, generation, prev, now)
}

/// Status of a grant: `Accepted`, with `ServerFound` telling whether its server exists.
pub fn grant_status(
    generation: Option<i64>,
    server: &ServerLookup,
    expires_at: Option<Timestamp>,
    disabled: bool,
    previous: Option<&ObjectStatus>,
    now: Timestamp,
) -> ObjectStatus {
    let prev = previous.map(|p| p.conditions.as_slice()).unwrap_or(&[]);
    let accepted = Check::ok(Reason::Valid, "the grant is part of its server's policy");
    let message = if !server.found {
        format!("MCPServer {} not found", server.reference)
    } else if disabled {
        "disabled: the grant matches nothing".to_owned()
    } else {
        match expires_at {
            Some(at) if at <= now => format!("expired at {at}"),
            Some(at) => format!("active until {at}"),
            None => "active".to_owned(),
        }
    };
    let mut conditions = vec![
        make_condition("Accepted", &accepted, generation, prev, now),
        server_found_condition(server, generation, prev, now),
    ];
    conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
    ObjectStatus {
        observed_generation: generation,
        phase: Some("Accepted".into()),
        message: Some(message),
        conditions,
    }
}

/// Phase of a session at `now`.
pub fn session_phase(revoked: bool, expires_at: Option<Timestamp>, now: Timestamp) -> &'static str {
    if revoked {
        "Revoked"
    } else if expires_at.is_some_and(|at| at <= now) {
        "Expired"
    } else {
        "Active"
    }
}

/// Status of a session: phase `Active`, `Expired` or `Revoked`, plus `ServerFound`.
pub fn session_status(
    generation: Option<i64>,
    server: &ServerLookup,
    revoked: bool,
    expires_at: Option<Timestamp>,
    previous: Option<&ObjectStatus>,
    now: Timestamp,
) -> ObjectStatus {
    let prev = previous.map(|p| p.conditions.as_slice()).unwrap_or(&[]);
    let phase = session_phase(revoked, expires_at, now);
    let check = match phase {
        "Revoked" => Check::not(Reason::Revoked, "the session was revoked"),
        "Expired" => Check::not(
            Reason::Expired,
            format!(
                "expired at {}",
                expires_at.map(|t| t.to_string()).unwrap_or_default()
            ),
        ),
        _ => Check::ok(
            Reason::Active,
            match expires_at {
                Some(at) => format!("active until {at}"),
                None => "active, no expiry".to_owned(),
            },
        ),
    };
    let message = if server.found {
        check.message.clone()
    } else {
        format!(
            "MCPServer {} not found; {}",
            server.reference, check.message
        )
    };
    let mut conditions = vec![
        make_condition("Active", &check, generation, prev, now),
        server_found_condition(server, generation, prev, now),
    ];
    conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
    ObjectStatus {
        observed_generation: generation,
        phase: Some(phase.to_owned()),
        message: Some(message),
        conditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentStatus;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateWaiting, ContainerStatus, PodStatus, ServiceSpec,
    };
    use k8s_openapi::api::networking::v1::{
        IngressLoadBalancerIngress, IngressLoadBalancerStatus, IngressStatus,
    };

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn deployment(ready: i32) -> Deployment {
        Deployment {
            status: Some(DeploymentStatus {
                ready_replicas: Some(ready),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn service() -> Service {
        Service {
            spec: Some(ServiceSpec {
                cluster_ip: Some("10.0.0.1".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn waiting_pod(reason: &str) -> Pod {
        Pod {
            status: Some(PodStatus {
                container_statuses: Some(vec![ContainerStatus {
                    name: "srv".into(),
                    state: Some(ContainerState {
                        waiting: Some(ContainerStateWaiting {
                            reason: Some(reason.into()),
                            message: Some("back-off pulling image".into()),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn reasons_name_the_real_cause() {
        let pods = [waiting_pod("ImagePullBackOff")];
        let d = deployment(0);
        let s = service();
        let observed = Observed {
            deployment: Some(&d),
            desired_replicas: 1,
            service: Some(&s),
            ingress_wanted: true,
            pods: &pods,
            ..Default::default()
        };
        let status = server_status(&observed, None, ts("2026-01-01T00:00:00Z"));
        assert_eq!(status.phase, Some(ServerPhase::PartiallyReady));
        let reason = |t: &str| {
            status
                .conditions
                .iter()
                .find(|c| c.type_ == t)
                .map(|c| c.reason.clone())
                .expect("condition")
        };
        assert_eq!(reason(types::DEPLOYMENT), "ImagePullBackOff");
        assert_eq!(reason(types::READY), "ImagePullBackOff");
        assert_eq!(reason(types::INGRESS), "IngressMissing");
        assert!(status.service_ready);
    }

    #[test]
    fn ingress_readiness_modes() {
        let mut ingress = Ingress {
            spec: Some(k8s_openapi::api::networking::v1::IngressSpec {
                rules: Some(vec![Default::default()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            ingress_check(true, Some(&ingress), IngressReadiness::Strict).reason,
            "IngressNotAdmitted"
        );
        assert!(ingress_check(true, Some(&ingress), IngressReadiness::Permissive).ready);
        ingress.status = Some(IngressStatus {
            load_balancer: Some(IngressLoadBalancerStatus {
                ingress: Some(vec![IngressLoadBalancerIngress {
                    ip: Some("1.2.3.4".into()),
                    ..Default::default()
                }]),
            }),
        });
        assert!(ingress_check(true, Some(&ingress), IngressReadiness::Strict).ready);
    }

    #[test]
    fn transition_time_is_stable_until_the_status_flips() {
        let d = deployment(1);
        let s = service();
        let observed = Observed {
            deployment: Some(&d),
            desired_replicas: 1,
            service: Some(&s),
            ingress_wanted: false,
            ..Default::default()
        };
        let first = server_status(&observed, None, ts("2026-01-01T00:00:00Z"));
        assert_eq!(first.phase, Some(ServerPhase::Ready));
        let second = server_status(&observed, Some(&first), ts("2026-01-01T01:00:00Z"));
        assert_eq!(first, second);
        let d0 = deployment(0);
        let flipped = Observed {
            deployment: Some(&d0),
            ..observed.clone()
        };
        let third = server_status(&flipped, Some(&second), ts("2026-01-01T02:00:00Z"));
        let time = |s: &MCPServerStatus, t: &str| {
            s.conditions
                .iter()
                .find(|c| c.type_ == t)
                .map(|c| c.last_transition_time.0)
                .expect("condition")
        };
        assert_eq!(time(&third, types::DEPLOYMENT), ts("2026-01-01T02:00:00Z"));
        assert_eq!(time(&third, types::SERVICE), ts("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn session_phases() {
        let now = ts("2026-01-01T00:00:00Z");
        assert_eq!(session_phase(true, None, now), "Revoked");
        assert_eq!(
            session_phase(false, Some(ts("2025-12-31T00:00:00Z")), now),
            "Expired"
        );
        assert_eq!(
            session_phase(false, Some(ts("2026-01-02T00:00:00Z")), now),
            "Active"
        );
        let missing = ServerLookup {
            reference: "ns/gone".into(),
            found: false,
        };
        let status = session_status(Some(1), &missing, false, None, None, now);
        assert!(
            status
                .message
                .expect("message")
                .contains("ns/gone not found")
        );
    }

    #[test]
    fn tool_drift_names_the_drifted_tools_only_when_something_is_pinned() {
        let live = vec![
            ToolDigest {
                name: "fetch".into(),
                digest: "sha256:new".into(),
            },
            ToolDigest {
                name: "search".into(),
                digest: "sha256:s".into(),
            },
        ];
        let unpinned = Observed {
            tool_digests: Some(live.clone()),
            ..Default::default()
        };
        let now = ts("2026-01-01T00:00:00Z");
        let status = server_status(&unpinned, None, now);
        assert!(
            status
                .conditions
                .iter()
                .all(|c| c.type_ != types::TOOL_DRIFT)
        );
        assert_eq!(status.tool_digests, Some(live.clone()));

        let drift = |observed: &Observed<'_>| {
            server_status(observed, None, now)
                .conditions
                .into_iter()
                .find(|c| c.type_ == types::TOOL_DRIFT)
                .expect("ToolDrift")
        };
        let pinned = Observed {
            pins: vec![
                ("fetch".into(), "sha256:old".into()),
                ("search".into(), "sha256:s".into()),
                ("gone".into(), "sha256:g".into()),
            ],
            ..unpinned.clone()
        };
        let condition = drift(&pinned);
        assert_eq!(
            (condition.status.as_str(), condition.reason.as_str()),
            ("True", "ToolDefinitionChanged")
        );
        assert!(
            condition
                .message
                .contains("fetch (pinned sha256:old, live sha256:new)")
        );
        assert!(
            !condition.message.contains("search"),
            "{}",
            condition.message
        );
        assert!(condition.message.contains("quarantined"));

        let matching = Observed {
            pins: vec![("search".into(), "sha256:s".into())],
            ..unpinned.clone()
        };
        assert_eq!(drift(&matching).reason, "PinsMatch");
        let unknown = Observed {
            tool_digests: None,
            ..pinned
        };
        assert_eq!(drift(&unknown).reason, "LiveToolsUnknown");
    }

    /// The reasons are API: each is written exactly as documented, and no two variants share a
    /// string.
    #[test]
    fn every_reason_is_documented_and_distinct() {
        let docs = include_str!("../../../docs/operator.md");
        let mut seen = std::collections::HashSet::new();
        for reason in Reason::ALL {
            let text = reason.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                docs.contains(&format!("`{text}`")) || docs.contains(&format!("/{text}`")),
                "{text} is not in docs/operator.md"
            );
        }
        assert_eq!(Reason::OomKilled.to_string(), "OOMKilled");
        assert_eq!(Reason::McpEndpointUnavailable, "MCPEndpointUnavailable");
    }
}
