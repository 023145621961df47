//! Status: observe what the apply left (the pods when the Deployment is not ready, the MCP
//! handshake once it is), compute the status ([`crate::status`], pure) and write it when it
//! changed, with an Event on phase or reason transitions.

use super::ServerContext;
use super::apply::Applied;
use super::dereference::ConfigRef;
use crate::apply::FIELD_MANAGER;
use crate::build::{APP_LABEL, Desired};
use crate::controller::{ConditionValue, Context, Error};
use crate::handshake::{Answer, Depth};
use crate::status::{self, Observed, Reason, types};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::events::{Event as KubeEvent, EventType};
use kube::{Resource, ResourceExt};
use mcp_runtime_api::server::ServerPhase;
use mcp_runtime_api::{MCPServer, MCPServerStatus};
use mcp_runtime_policy::PolicyDocument;
use std::time::Duration;

/// Observes the children after the apply and computes the server's status.
pub async fn observe(
    server: &MCPServer,
    ctx: &Context,
    desired: &Desired,
    applied: &Applied,
    policy: Option<&PolicyDocument>,
) -> Result<MCPServerStatus, Error> {
    let gateway_enabled = super::render::gateway_enabled(server);
    let ns = server.namespace().unwrap_or_default();
    let name = server.name_any();
    let previous = server.status.as_ref();
    let desired_replicas = desired
        .deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let deployment_ready =
        status::deployment_check(applied.deployment.as_ref(), desired_replicas, &[]).ready;
    // Pods can only explain a Deployment that has some: until its status counts one (a
    // Deployment just created has no status yet), listing them finds nothing, and the status
    // update that counts them triggers the next reconcile.
    let has_pods = applied
        .deployment
        .as_ref()
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.replicas)
        .is_some_and(|replicas| replicas > 0);
    let pods: Vec<Pod> = if has_pods && !deployment_ready {
        let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
        // From the API server's watch cache (`resourceVersion=0`), not a quorum read of every
        // pod in the namespace from etcd: these pods only explain why the Deployment is not
        // ready, and a reconcile runs again on the next Deployment change.
        pods.list(
            &ListParams::default()
                .labels(&format!("{APP_LABEL}={name}"))
                .match_any(),
        )
        .await
        .map_err(Error::Status)?
        .items
    } else {
        Vec::new()
    };
    let address = format!(
        "http://{name}.{ns}.svc.cluster.local:{}{}",
        server.spec.service_port, server.spec.mcp_path
    );
    let pins = pins(server);
    let ready = deployment_ready && desired_replicas > 0;
    // Behind a gateway, pinned tools are checked against what the server itself lists: the
    // handshake goes to a ready pod's server port, past the gateway (which filters tools/list).
    let direct = if gateway_enabled && !pins.is_empty() && ready {
        server_pod_address(server, ctx, &ns, &name).await?
    } else {
        None
    };
    let (answer, handshake_error) = handshake(
        server,
        ctx,
        previous,
        ready,
        direct.as_deref().unwrap_or(&address),
        gateway_enabled && direct.is_none(),
        !pins.is_empty(),
    )
    .await;
    let verified = answer.is_some();
    let (server_info, tools, tool_digests) = match answer {
        Some(answer) => (Some(answer.server_info), answer.tools, answer.tool_digests),
        None => (None, None, None),
    };
    let policy_revision = policy.map(|p| p.revision.clone());
    let observed = Observed {
        generation: server.metadata.generation,
        deployment: applied.deployment.as_ref(),
        desired_replicas,
        canary_wanted: desired
            .canary
            .as_ref()
            .map(|c| c.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)),
        canary: applied.canary.as_ref(),
        service: applied.service.as_ref(),
        ingress_wanted: desired.ingress.is_some(),
        ingress: applied.ingress.as_ref(),
        ingress_mode: ctx.config.ingress_readiness,
        gateway_enabled,
        policy_config_map: applied.policy.as_ref(),
        policy_revision: policy_revision.or_else(|| {
            previous
                .and_then(|p| p.policy_revision.clone())
                .filter(|_| gateway_enabled)
        }),
        pods: &pods,
        url: Some(desired.url.clone()),
        address: verified.then_some(address),
        server_info,
        tools,
        tool_digests,
        pins,
        drift_warn_only: server.spec.policy.as_ref().and_then(|p| p.on_tool_drift)
            == Some(mcp_runtime_api::server::ToolDriftAction::Warn),
        handshake_error,
    };
    Ok(status::server_status(&observed, previous, ctx.clock.now()))
}

/// The server's MCP handshake, once its pods are ready. A previous answer is kept for the same
/// generation; a new generation handshakes again.
///
/// With no gateway in front, the handshake also lists the tools (`status.tools`, the live
/// inventory). A gateway answers `tools/list` with the tools the caller may call, and the
/// operator calls without an identity, so that list says nothing about the server: behind a
/// gateway only `initialize` runs and `status.tools` stays unset (unknown, never claimed empty).
///
/// A server with pinned tools is handshaken at every reconcile (not once per generation), so a
/// definition that changes under its pin is seen at the next resync at the latest.
async fn handshake(
    server: &MCPServer,
    ctx: &Context,
    previous: Option<&MCPServerStatus>,
    ready: bool,
    address: &str,
    behind_gateway: bool,
    pinned: bool,
) -> (Option<Answer>, Option<String>) {
    let depth = if behind_gateway {
        Depth::Initialize
    } else {
        Depth::ListTools
    };
    let same_generation =
        previous.and_then(|p| p.observed_generation) == server.metadata.generation;
    let cached = previous.filter(|_| same_generation).and_then(|p| {
        Some(Answer {
            server_info: p.server_info.clone()?,
            tools: p.tools.clone().filter(|_| depth == Depth::ListTools),
            tool_digests: p.tool_digests.clone().filter(|_| depth == Depth::ListTools),
        })
    });
    // An answer without tools where they are wanted comes from an operator that did not list
    // them yet (a real `initialize` answer carries the negotiated protocol version; a 401/403
    // carries nothing): it is completed once, not kept for the rest of the generation.
    let incomplete = cached.as_ref().is_some_and(|answer| {
        depth == Depth::ListTools
            && answer.tools.is_none()
            && answer.server_info.protocol_version.is_some()
    });
    if cached.is_some() && ((!incomplete && !pinned) || !ready) {
        return (cached, None);
    }
    if !ready {
        return (None, None);
    }
    match ctx.handshake.handshake(address, depth).await {
        Ok(answer) => (Some(answer), None),
        // Completing an earlier answer failed: keep what it said.
        Err(_) if cached.is_some() => (cached, None),
        // `to_string` whatever error type the handshake client reports.
        Err(e) => (None, Some(e.to_string())),
    }
}

/// The pins of `spec.tools[].digest`: tool name and approved digest.
fn pins(server: &MCPServer) -> Vec<(String, String)> {
    server
        .spec
        .tools
        .iter()
        .filter_map(|tool| Some((tool.name.clone(), tool.digest.clone()?)))
        .collect()
}

/// `http://<pod IP>:<spec.port><spec.mcpPath>` of a ready pod of the server, if there is one.
async fn server_pod_address(
    server: &MCPServer,
    ctx: &Context,
    ns: &str,
    name: &str,
) -> Result<Option<String>, Error> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let pods = pods
        .list(
            &ListParams::default()
                .labels(&format!("{APP_LABEL}={name}"))
                .match_any(),
        )
        .await
        .map_err(Error::Status)?;
    let ready_ip = pods.items.iter().find_map(|pod| {
        let status = pod.status.as_ref()?;
        let ready = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        status.pod_ip.clone().filter(|ip| ready && !ip.is_empty())
    });
    Ok(ready_ip.map(|ip| {
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip
        };
        format!("http://{host}:{}{}", server.spec.port, server.spec.mcp_path)
    }))
}

/// When to look at a reconciled server again: at `recheck` (see `Context::recheck_after`), and
/// no later than `secret_recheck` when its pods reference Secrets (they are not watched, so
/// re-reading them is how a change reaches the config hash).
pub fn requeue_after(recheck: Duration, refs: &[ConfigRef], secret_recheck: Duration) -> Duration {
    let requeue = recheck;
    if refs.iter().any(|r| matches!(r, ConfigRef::Secret(_))) {
        requeue.min(secret_recheck)
    } else {
        requeue
    }
}

/// Records a reconcile that cannot proceed until the spec (or the world) changes: phase Error,
/// the reason on the `Ready` condition, a Warning event.
pub async fn fail(
    server: &MCPServer,
    cx: &ServerContext,
    reason: Reason,
    message: &str,
) -> Result<(), Error> {
    let now = cx.ctx.clock.now();
    let status = status::error_status(
        server.status.as_ref(),
        server.metadata.generation,
        reason,
        message,
        now,
    );
    write(server, &cx.ctx, status).await
}

/// Writes the status when it differs from the current one (server-side apply on `/status`), and
/// publishes an Event and the condition metrics on transitions.
pub async fn write(
    server: &MCPServer,
    ctx: &Context,
    status: MCPServerStatus,
) -> Result<(), Error> {
    let ns = server.namespace().unwrap_or_default();
    let name = server.name_any();
    ctx.metrics.set_conditions(
        &ns,
        &name,
        status
            .conditions
            .iter()
            .map(|c| ConditionValue {
                r#type: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
            })
            .collect(),
    );
    let previous = server.status.as_ref();
    if previous == Some(&status) {
        return Ok(());
    }
    let api: Api<MCPServer> = Api::namespaced(ctx.client.clone(), &ns);
    let body = serde_json::json!({
        "apiVersion": mcp_runtime_api::API_VERSION,
        "kind": "MCPServer",
        "status": status,
    });
    let written = api
        .patch_status(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
        .map_err(Error::Status)?;
    ctx.own_writes.record("MCPServer", &written.metadata);
    let ready_reason = |s: &MCPServerStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == types::READY)
            .map(|c| c.reason.clone())
    };
    publish_tool_drift(server, ctx, previous, &status).await;
    let changed = previous.and_then(|p| p.phase) != status.phase
        || previous.and_then(ready_reason) != ready_reason(&status);
    if changed {
        let phase = status.phase.unwrap_or_default();
        let reason = ready_reason(&status).unwrap_or_else(|| format!("{phase:?}"));
        let event = KubeEvent {
            type_: match phase {
                ServerPhase::Error => EventType::Warning,
                ServerPhase::Ready | ServerPhase::Pending => EventType::Normal,
                ServerPhase::PartiallyReady if reason == Reason::ReplicasNotReady.as_str() => {
                    EventType::Normal
                }
                ServerPhase::PartiallyReady => EventType::Warning,
            },
            reason,
            note: status
                .message
                .clone()
                .map(|m| format!("{phase:?}: {m}").chars().take(1000).collect()),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &server.object_ref(&())).await {
            tracing::warn!(error = %e, "publishing an event failed");
        }
    }
    Ok(())
}

/// A Warning Event when a `ToolDrift` condition turns True or names other tools, and a Normal
/// one when it clears.
async fn publish_tool_drift(
    server: &MCPServer,
    ctx: &Context,
    previous: Option<&MCPServerStatus>,
    status: &MCPServerStatus,
) {
    let drift = |s: &MCPServerStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == types::TOOL_DRIFT)
            .map(|c| (c.status == "True", c.message.clone()))
    };
    let before = previous.and_then(drift);
    let after = drift(status);
    let event = match (&before, &after) {
        (_, Some((true, message))) if before.as_ref() != after.as_ref() => KubeEvent {
            type_: EventType::Warning,
            reason: types::TOOL_DRIFT.into(),
            note: Some(message.chars().take(1000).collect()),
            action: "CheckToolPins".into(),
            secondary: None,
        },
        (Some((true, _)), Some((false, message))) => KubeEvent {
            type_: EventType::Normal,
            reason: "ToolDriftResolved".into(),
            note: Some(message.chars().take(1000).collect()),
            action: "CheckToolPins".into(),
            secondary: None,
        },
        _ => return,
    };
    if let Err(e) = ctx.recorder.publish(&event, &server.object_ref(&())).await {
        tracing::warn!(error = %e, "publishing an event failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_referencing_secrets_are_rechecked_within_the_secret_recheck() {
        let timing = crate::controller::Timing::default();
        let recheck = Duration::from_secs(60);
        let configmap = [ConfigRef::ConfigMap("settings".into())];
        let secret = [
            ConfigRef::ConfigMap("settings".into()),
            ConfigRef::Secret("token".into()),
        ];
        assert_eq!(
            requeue_after(timing.resync, &configmap, recheck),
            timing.resync
        );
        assert_eq!(requeue_after(timing.resync, &secret, recheck), recheck);
        // A sooner requeue (not ready) is kept.
        assert_eq!(
            requeue_after(timing.not_ready_requeue, &secret, recheck),
            timing.not_ready_requeue
        );
    }
}
