//! `mcp-runtime server policy inspect NAME`: the policy a server's gateway enforces, read from the
//! live `<name>-gateway-policy` ConfigMap (`policy.json`), next to what the MCPServer's status
//! says the operator rendered (`status.policyRevision`).

use crate::cluster_verbs::block_on;
use crate::server_cmd::{Output, Scope};
use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use mcp_runtime_admin::{ApiError, objects};
use mcp_runtime_api::MCPServer;
use mcp_runtime_operator::build::POLICY_KEY;
use mcp_runtime_policy::{Grant, PolicyDocument, SessionBinding};
use std::fmt::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Show the policy a server's gateway enforces, from the live <NAME>-gateway-policy
    /// ConfigMap: its revision and whether it is the one the operator last reported
    /// (status.policyRevision), the mode and default decision, the grants and sessions it was
    /// rendered from (subject, trust, disabled, revoked, expired) and the tools. -o json|yaml
    /// prints the document itself.
    Inspect(InspectArgs),
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The MCPServer's name.
    name: String,
    #[command(flatten)]
    scope: Scope,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    output: Output,
}

pub fn run(command: &PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Inspect(args) => inspect(args),
    }
}

/// The name of a server's policy ConfigMap.
fn config_map_name(server: &str) -> String {
    format!("{server}-gateway-policy")
}

fn inspect(args: &InspectArgs) -> Result<ExitCode> {
    let ns = &args.scope.namespace;
    let name = &args.name;
    let (server, text) = block_on(async {
        let client = mcp_runtime_admin::connect(&args.scope.cluster.target())
            .await?
            .0;
        let server = objects::get::<MCPServer>(&client, ns, name).await?;
        if !server.spec.gateway.as_ref().is_some_and(|g| g.enabled) {
            bail!(
                "mcpserver/{name} in namespace {ns} has no gateway (spec.gateway.enabled is not true), so it has no policy: nothing checks calls to its tools"
            );
        }
        let cm_name = config_map_name(name);
        let config_map = Api::<ConfigMap>::namespaced(client, ns)
            .get_opt(&cm_name)
            .await
            .map_err(|e| ApiError::new(format!("reading configmap {cm_name}"), e))?;
        let Some(config_map) = config_map else {
            bail!(
                "the policy ConfigMap {ns}/{cm_name} does not exist: the operator has not rendered the policy of mcpserver/{name} yet (is it running? see `mcp-runtime server status {name} -n {ns}`)"
            );
        };
        let Some(text) = config_map.data.and_then(|mut data| data.remove(POLICY_KEY)) else {
            bail!("the policy ConfigMap {ns}/{cm_name} has no {POLICY_KEY} key");
        };
        Ok((server, text))
    })?;
    let raw: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{ns}/{}: {POLICY_KEY} is not JSON", config_map_name(name)))?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&raw)?),
        Output::Yaml => print!("{}", serde_norway::to_string(&raw)?),
        Output::Table => {
            let document: PolicyDocument = serde_json::from_value(raw).with_context(|| {
                format!(
                    "{ns}/{}: {POLICY_KEY} is not a policy document",
                    config_map_name(name)
                )
            })?;
            print!("{}", summary(&server, &document, jiff::Timestamp::now()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a grant grants now.
fn grant_state(grant: &Grant, now: jiff::Timestamp) -> String {
    if grant.disabled {
        "disabled".into()
    } else if let Some(at) = expired(&grant.expires_at, now) {
        format!("expired {at}")
    } else {
        "enabled".into()
    }
}

/// Whether a session is usable now.
fn session_state(session: &SessionBinding, now: jiff::Timestamp) -> String {
    if session.revoked {
        "revoked".into()
    } else if let Some(at) = expired(&session.expires_at, now) {
        format!("expired {at}")
    } else {
        "active".into()
    }
}

/// `Some(expires_at)` when it is a time that has passed.
fn expired(expires_at: &str, now: jiff::Timestamp) -> Option<&str> {
    let at: jiff::Timestamp = expires_at.trim().parse().ok()?;
    (at <= now).then_some(expires_at)
}

fn subject(human: &str, agent: &str, team: &str) -> String {
    let parts: Vec<String> = [("human", human), ("agent", agent), ("team", team)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() {
        "* (any identified caller)".into()
    } else {
        parts.join(",")
    }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// Left-aligned columns as wide as their widest cell.
fn columns(rows: &[Vec<String>]) -> String {
    let count = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..count)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < count {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The text of `policy inspect`.
fn summary(server: &MCPServer, document: &PolicyDocument, now: jiff::Timestamp) -> String {
    let mut out = String::new();
    let ns = server.metadata.namespace.as_deref().unwrap_or_default();
    let name = server.metadata.name.as_deref().unwrap_or_default();
    let reported = server
        .status
        .as_ref()
        .and_then(|s| s.policy_revision.as_deref());
    let _ = writeln!(out, "Server:        {ns}/{name}");
    if !document.server.team_id.is_empty() {
        let _ = writeln!(out, "Team:          {}", document.server.team_id);
    }
    let _ = writeln!(out, "Revision:      {}", or_dash(&document.revision));
    let _ = writeln!(out, "Generated at:  {}", or_dash(&document.generated_at));
    let status = match reported {
        Some(r) if r == document.revision => {
            "matches status.policyRevision (the operator's latest render)".to_owned()
        }
        Some(r) => format!(
            "differs from status.policyRevision {r}: the operator has not finished with this revision, so the gateway may not have it yet"
        ),
        None => "status.policyRevision is not set yet: the operator has not reported this revision, so the gateway may not have it yet".to_owned(),
    };
    let _ = writeln!(out, "Status:        {status}");
    let _ = writeln!(
        out,
        "Mode:          {}, default decision {}",
        or_dash(document.policy.mode.as_str()),
        or_dash(document.policy.default_decision.as_str())
    );
    let _ = writeln!(
        out,
        "Identity:      auth {}, session {}",
        or_dash(document.auth.mode.as_str()),
        if document.session.required {
            "required"
        } else {
            "not required"
        }
    );
    if let Err(errors) = document.validate() {
        let _ = writeln!(
            out,
            "Invalid:       {errors} (a gateway refuses this document and keeps its last good policy)"
        );
    }

    let _ = writeln!(out, "\nGrants ({}):", document.grants.len());
    if document.grants.is_empty() {
        let _ = writeln!(
            out,
            "  none: only the default decision applies to tool calls"
        );
    } else {
        let mut rows = vec![
            [
                "NAME",
                "SUBJECT",
                "MAX TRUST",
                "SIDE EFFECTS",
                "STATE",
                "TOOL RULES",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for grant in &document.grants {
            let effects: Vec<&str> = grant
                .allowed_side_effects
                .iter()
                .map(|e| e.as_str())
                .collect();
            let rules: Vec<String> = grant
                .tool_rules
                .iter()
                .map(|r| {
                    format!(
                        "{}={}:{}",
                        r.name,
                        r.decision.as_str(),
                        r.required_trust.as_str()
                    )
                })
                .collect();
            rows.push(vec![
                format!("{}/{}", grant.namespace, grant.name),
                subject(&grant.human_id, &grant.agent_id, &grant.team_id),
                or_dash(grant.max_trust.as_str()).to_owned(),
                if effects.is_empty() {
                    "none".to_owned()
                } else {
                    effects.join(",")
                },
                grant_state(grant, now),
                or_dash(&rules.join(",")).to_owned(),
            ]);
        }
        out.push_str(&columns(&rows));
    }

    let _ = writeln!(out, "\nSessions ({}):", document.sessions.len());
    if document.sessions.is_empty() {
        let _ = writeln!(out, "  none");
    } else {
        let mut rows = vec![
            ["NAME", "SUBJECT", "TRUST", "STATE", "EXPIRES"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for session in &document.sessions {
            rows.push(vec![
                format!("{}/{}", session.namespace, session.name),
                subject(&session.human_id, &session.agent_id, &session.team_id),
                or_dash(session.consented_trust.as_str()).to_owned(),
                session_state(session, now),
                or_dash(&session.expires_at).to_owned(),
            ]);
        }
        out.push_str(&columns(&rows));
    }

    let _ = writeln!(out, "\nTools ({}):", document.tools.len());
    if document.tools.is_empty() {
        let _ = writeln!(out, "  none declared: no tool call can be granted");
    } else {
        let mut rows = vec![
            ["NAME", "SIDE EFFECT", "TRUST", "RISK"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for tool in &document.tools {
            rows.push(vec![
                tool.name.clone(),
                or_dash(tool.side_effect.as_str()).to_owned(),
                or_dash(tool.required_trust.as_str()).to_owned(),
                or_dash(tool.risk_level.as_str()).to_owned(),
            ]);
        }
        out.push_str(&columns(&rows));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn server(revision: Option<&str>) -> MCPServer {
        let mut object = json!({
            "apiVersion": "mcpruntime.org/v1alpha1",
            "kind": "MCPServer",
            "metadata": {"name": "web", "namespace": "tools"},
            "spec": {"image": "ghcr.io/example/web:1", "gateway": {"enabled": true}},
        });
        if let Some(revision) = revision {
            object["status"] = json!({"policyRevision": revision});
        }
        serde_json::from_value(object).expect("server")
    }

    fn document() -> PolicyDocument {
        serde_json::from_value(json!({
            "schema_version": "v2",
            "revision": "sha256:abc",
            "generated_at": "2026-01-01T00:00:00Z",
            "server": {"name": "web", "namespace": "tools", "team_id": "alpha"},
            "policy": {"mode": "allow-list", "default_decision": "deny"},
            "auth": {"mode": "header"},
            "tools": [{"name": "search", "side_effect": "read", "required_trust": "low"}],
            "grants": [
                {"name": "on", "namespace": "tools", "agent_id": "claude", "max_trust": "medium",
                 "allowed_side_effects": ["read"],
                 "tool_rules": [{"name": "search", "decision": "allow", "required_trust": "low"}]},
                {"name": "off", "namespace": "tools", "human_id": "bob", "max_trust": "low",
                 "allowed_side_effects": [], "disabled": true},
                {"name": "old", "namespace": "tools", "team_id": "alpha", "max_trust": "low",
                 "allowed_side_effects": ["read"], "expires_at": "2026-01-02T00:00:00Z"},
            ],
            "sessions": [
                {"name": "s1", "namespace": "tools", "human_id": "alice", "consented_trust": "low",
                 "expires_at": "2026-06-01T00:00:00Z"},
                {"name": "s2", "namespace": "tools", "human_id": "alice", "revoked": true},
                {"name": "s3", "namespace": "tools", "agent_id": "a", "consented_trust": "high",
                 "expires_at": "2026-02-01T00:00:00Z"},
            ],
        }))
        .expect("document")
    }

    #[test]
    fn the_summary_names_every_grant_and_session_with_its_state() {
        let now: jiff::Timestamp = "2026-03-01T00:00:00Z".parse().expect("time");
        let text = summary(&server(Some("sha256:abc")), &document(), now);
        for line in [
            "Server:        tools/web",
            "Team:          alpha",
            "Revision:      sha256:abc",
            "Generated at:  2026-01-01T00:00:00Z",
            "Status:        matches status.policyRevision",
            "Mode:          allow-list, default decision deny",
            "Identity:      auth header, session not required",
            "Grants (3):",
            "Sessions (3):",
            "Tools (1):",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        let line_of = |name: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            line_of("tools/on"),
            "tools/on agent=claude medium read enabled search=allow:low"
        );
        assert_eq!(
            line_of("tools/off"),
            "tools/off human=bob low none disabled -"
        );
        assert_eq!(
            line_of("tools/old"),
            "tools/old team=alpha low read expired 2026-01-02T00:00:00Z -"
        );
        assert_eq!(
            line_of("tools/s1"),
            "tools/s1 human=alice low active 2026-06-01T00:00:00Z"
        );
        assert_eq!(line_of("tools/s2"), "tools/s2 human=alice - revoked -");
        assert_eq!(
            line_of("tools/s3"),
            "tools/s3 agent=a high expired 2026-02-01T00:00:00Z 2026-02-01T00:00:00Z"
        );
    }

    #[test]
    fn a_revision_the_status_does_not_report_may_not_be_in_the_gateway_yet() {
        let now = jiff::Timestamp::now();
        let differs = summary(&server(Some("sha256:old")), &document(), now);
        assert!(
            differs.contains("differs from status.policyRevision sha256:old")
                && differs.contains("the gateway may not have it yet"),
            "{differs}"
        );
        let unset = summary(&server(None), &document(), now);
        assert!(
            unset.contains("status.policyRevision is not set yet"),
            "{unset}"
        );
        // The example's revision is not the document's hash: a gateway would refuse it.
        assert!(differs.contains("Invalid:"), "{differs}");
    }
}
