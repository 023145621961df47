//! Rendering: an MCPServer plus the grants and sessions that reference it → the policy document.
//!
//! This is what the operator writes into `<server>-gateway-policy` and what `mcp-runtime up` feeds
//! its gateway. It is pure: the caller passes the objects, the cluster name and the time.
//!
//! Rules (the Go mcp-runtime's `internal/operator/policy.go`):
//! - only grants and sessions whose `serverRef` (namespace defaulted to their own) points at the
//!   server are included;
//! - an empty subject `teamID` inherits the server's `teamID`;
//! - empty trust values render as `low`, an empty rule decision as `allow` (the schema defaults
//!   make these explicit already);
//! - `upstreamTokenSecretRef` renders as `"<secret>/<key>"`;
//! - a pinned tool (`spec.tools[].digest`) renders its pin, and is marked `drifted` when
//!   `status.toolDigests` (the last handshake) lists it with another digest; `policy.on_tool_drift`
//!   is written only when some tool is pinned, so documents without pins keep their revision;
//! - the document is normalized, versioned (`v2` when a grant expires), stamped with its revision
//!   and validated: an invalid render is an error, never a document.

use crate::document::{
    AuthSettings, Grant, PolicyDocument, PolicySettings, Server, SessionBinding, SessionSettings,
    Tool, ToolRule,
};
use crate::error::PolicyError;
use crate::vocabulary::{
    AuthMode, DefaultDecision, Lenient, PolicyMode, RiskLevel, RuleDecision, SideEffect,
    ToolDriftAction, Trust,
};
use jiff::Timestamp;
use mcp_runtime_api::server::{
    AuthConfig, AuthMode as ApiAuthMode, Decision as ApiDecision, PolicyConfig,
    PolicyMode as ApiPolicyMode, SessionConfig, ToolDriftAction as ApiToolDriftAction,
};
use mcp_runtime_api::{
    MCPAccessGrant, MCPAgentSession, MCPServer, RiskLevel as ApiRisk, SideEffect as ApiSideEffect,
    Subject, TrustLevel,
};

/// Namespace assumed for objects that carry none (as `kubectl apply` places them).
const DEFAULT_NAMESPACE: &str = "default";

/// Renders the policy of `server` from every grant and session given; those referencing other
/// servers are skipped, so callers may pass all they have.
pub fn render<'a>(
    server: &MCPServer,
    grants: impl IntoIterator<Item = &'a MCPAccessGrant>,
    sessions: impl IntoIterator<Item = &'a MCPAgentSession>,
    cluster: &str,
    now: Timestamp,
) -> Result<PolicyDocument, PolicyError> {
    let name = server.metadata.name.clone().unwrap_or_default();
    let namespace = namespace_of(&server.metadata);
    let spec = &server.spec;
    let team_id = spec.team_id.clone().unwrap_or_default();

    let mut document = PolicyDocument {
        server: Server {
            name: name.clone(),
            namespace: namespace.clone(),
            team_id: team_id.clone(),
            cluster: cluster.to_owned(),
        },
        auth: auth_settings(&spec.auth.clone().unwrap_or_default()),
        policy: policy_settings(&spec.policy.clone().unwrap_or_default()),
        session: session_settings(&spec.session.clone().unwrap_or_default()),
        tools: spec.tools.iter().map(render_tool).collect(),
        ..PolicyDocument::default()
    };
    if document.tools.iter().any(|tool| !tool.digest.is_empty()) {
        let action = spec
            .policy
            .as_ref()
            .and_then(|p| p.on_tool_drift)
            .unwrap_or_default();
        document.policy.on_tool_drift = Lenient::Known(match action {
            ApiToolDriftAction::Quarantine => ToolDriftAction::Quarantine,
            ApiToolDriftAction::Warn => ToolDriftAction::Warn,
        });
        let live = server.status.as_ref().and_then(|s| s.tool_digests.as_ref());
        for tool in &mut document.tools {
            tool.drifted = !tool.digest.is_empty()
                && live
                    .and_then(|live| live.iter().find(|l| l.name == tool.name))
                    .is_some_and(|l| l.digest != tool.digest);
        }
    }

    let references_server = |reference: &mcp_runtime_api::ServerRef,
                             own: &kube::core::ObjectMeta| {
        let own_namespace = namespace_of(own);
        reference.name == name && reference.namespace_or(&own_namespace) == namespace
    };
    document.grants = grants
        .into_iter()
        .filter(|grant| references_server(&grant.spec.server_ref, &grant.metadata))
        .map(|grant| render_grant(grant, &team_id))
        .collect();
    document.sessions = sessions
        .into_iter()
        .filter(|session| references_server(&session.spec.server_ref, &session.metadata))
        .map(|session| render_session(session, &team_id))
        .collect();

    document.finalize(now)?;
    document.validate().map_err(PolicyError::Invalid)?;
    Ok(document)
}

fn namespace_of(metadata: &kube::core::ObjectMeta) -> String {
    metadata
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

fn auth_settings(auth: &AuthConfig) -> AuthSettings {
    AuthSettings {
        mode: Lenient::Known(match auth.mode {
            ApiAuthMode::None => AuthMode::None,
            ApiAuthMode::Header => AuthMode::Header,
            ApiAuthMode::Oauth => AuthMode::Oauth,
            ApiAuthMode::Mtls => AuthMode::Mtls,
        }),
        human_id_header: auth.human_id_header.clone(),
        agent_id_header: auth.agent_id_header.clone(),
        team_id_header: auth.team_id_header.clone(),
        session_id_header: auth.session_id_header.clone(),
        token_header: auth.token_header.clone(),
        issuer_url: auth.issuer_url.clone().unwrap_or_default(),
        audience: auth.audience.clone().unwrap_or_default(),
        trust_domain: auth.trust_domain.clone().unwrap_or_default(),
    }
}

fn policy_settings(policy: &PolicyConfig) -> PolicySettings {
    PolicySettings {
        mode: Lenient::Known(match policy.mode {
            ApiPolicyMode::AllowList => PolicyMode::AllowList,
            ApiPolicyMode::Observe => PolicyMode::Observe,
        }),
        default_decision: Lenient::Known(match policy.default_decision {
            ApiDecision::Allow => DefaultDecision::Allow,
            ApiDecision::Deny => DefaultDecision::Deny,
        }),
        enforce_on: policy.enforce_on.clone(),
        policy_version: policy.policy_version.clone(),
        // Set by `render` when a tool is pinned.
        on_tool_drift: Lenient::Unset,
    }
}

fn session_settings(session: &SessionConfig) -> SessionSettings {
    SessionSettings {
        required: session.required,
        store: session.store.clone(),
        header_name: session.header_name.clone(),
        max_lifetime: session.max_lifetime.clone(),
        idle_timeout: session.idle_timeout.clone(),
        upstream_token_header: session.upstream_token_header.clone(),
    }
}

fn trust(level: TrustLevel) -> Lenient<Trust> {
    Lenient::Known(match level {
        TrustLevel::Low => Trust::Low,
        TrustLevel::Medium => Trust::Medium,
        TrustLevel::High => Trust::High,
    })
}

fn side_effect(effect: ApiSideEffect) -> Lenient<SideEffect> {
    Lenient::Known(match effect {
        ApiSideEffect::Read => SideEffect::Read,
        ApiSideEffect::Write => SideEffect::Write,
        ApiSideEffect::Destructive => SideEffect::Destructive,
    })
}

fn render_tool(tool: &mcp_runtime_api::server::ToolConfig) -> Tool {
    Tool {
        name: tool.name.clone(),
        description: tool.description.clone().unwrap_or_default(),
        required_trust: trust(tool.required_trust),
        side_effect: side_effect(tool.side_effect),
        risk_level: match tool.risk_level {
            None => Lenient::Unset,
            Some(ApiRisk::Low) => Lenient::Known(RiskLevel::Low),
            Some(ApiRisk::Medium) => Lenient::Known(RiskLevel::Medium),
            Some(ApiRisk::High) => Lenient::Known(RiskLevel::High),
        },
        labels: tool.labels.clone(),
        digest: tool.digest.clone().unwrap_or_default(),
        drifted: false,
    }
}

/// The subject fields, with an empty team inheriting the server's.
fn subject_fields(subject: &Subject, server_team: &str) -> (String, String, String) {
    let team = match subject.team_id.as_deref() {
        Some(team) if !team.is_empty() => team.to_owned(),
        _ => server_team.to_owned(),
    };
    (
        subject.human_id.clone().unwrap_or_default(),
        subject.agent_id.clone().unwrap_or_default(),
        team,
    )
}

fn render_grant(grant: &MCPAccessGrant, server_team: &str) -> Grant {
    let spec = &grant.spec;
    let (human_id, agent_id, team_id) = subject_fields(&spec.subject, server_team);
    Grant {
        name: grant.metadata.name.clone().unwrap_or_default(),
        namespace: namespace_of(&grant.metadata),
        human_id,
        agent_id,
        team_id,
        max_trust: trust(spec.max_trust),
        allowed_side_effects: spec
            .allowed_side_effects
            .iter()
            .copied()
            .map(side_effect)
            .collect(),
        policy_version: spec.policy_version.clone().unwrap_or_default(),
        disabled: spec.disabled,
        expires_at: spec
            .expires_at
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
        tool_rules: spec
            .tool_rules
            .iter()
            .map(|rule| ToolRule {
                name: rule.name.clone(),
                decision: Lenient::Known(match rule.decision {
                    ApiDecision::Allow => RuleDecision::Allow,
                    ApiDecision::Deny => RuleDecision::Deny,
                }),
                required_trust: trust(rule.required_trust),
            })
            .collect(),
    }
}

fn render_session(session: &MCPAgentSession, server_team: &str) -> SessionBinding {
    let spec = &session.spec;
    let (human_id, agent_id, team_id) = subject_fields(&spec.subject, server_team);
    SessionBinding {
        name: session.metadata.name.clone().unwrap_or_default(),
        namespace: namespace_of(&session.metadata),
        human_id,
        agent_id,
        team_id,
        consented_trust: trust(spec.consented_trust),
        revoked: spec.revoked,
        expires_at: spec
            .expires_at
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
        policy_version: spec.policy_version.clone().unwrap_or_default(),
        upstream_token_ref: spec
            .upstream_token_secret_ref
            .as_ref()
            .map(|r| format!("{}/{}", r.name, r.key))
            .unwrap_or_default(),
    }
}
