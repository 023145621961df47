//! `mcp-runtime access grant …` and `access session …`: write a manifest (`init`), apply it, and
//! list, get, enable/disable (grants), revoke/unrevoke (sessions) and delete in the cluster.

use crate::cluster_verbs;
use crate::server_cmd::Scope;
use crate::server_cmd::{ApplyArgs, GetArgs, ListArgs, NameArgs, Output};
use anyhow::{Context, Result, bail};
use mcp_runtime_admin::objects;
use mcp_runtime_api::manifest::parse_manifests;
use mcp_runtime_api::{MCPAccessGrant, MCPAgentSession};
use serde_json::{Value, json};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum GrantCommand {
    /// Print an MCPAccessGrant manifest (validated), ready for `access grant apply -f -`.
    Init(Box<GrantInitArgs>),
    /// Validate and apply grant manifests (nothing is applied if one is refused).
    Apply(ApplyArgs),
    /// List the grants of a namespace (or every namespace with -A).
    List(ListArgs),
    /// Print one grant.
    Get(GetArgs),
    /// Enable a grant (spec.disabled: false).
    Enable(NameArgs),
    /// Disable a grant without deleting it (spec.disabled: true).
    Disable(NameArgs),
    /// Delete a grant.
    Delete(NameArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum SessionCommand {
    /// Print an MCPAgentSession manifest (validated), ready for `access session apply -f -`.
    Init(Box<SessionInitArgs>),
    /// Validate and apply session manifests (nothing is applied if one is refused).
    Apply(ApplyArgs),
    /// List the sessions of a namespace (or every namespace with -A).
    List(ListArgs),
    /// Print one session.
    Get(GetArgs),
    /// Revoke a session (spec.revoked: true): its calls are denied from the next policy.
    Revoke(NameArgs),
    /// Undo a revocation.
    Unrevoke(NameArgs),
    /// Delete a session.
    Delete(NameArgs),
}

/// Who and which server, shared by grant and session `init`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The object's name.
    name: String,
    /// The MCPServer it applies to.
    #[arg(long, value_name = "NAME")]
    server: String,
    /// The server's namespace, when not the object's own.
    #[arg(long, value_name = "NAMESPACE")]
    server_namespace: Option<String>,
    /// Namespace of the object.
    #[arg(short, long, value_name = "NAMESPACE", default_value = "mcp-servers")]
    namespace: String,
    /// The human it applies to.
    #[arg(long, value_name = "ID")]
    human_id: Option<String>,
    /// The agent it applies to.
    #[arg(long, value_name = "ID")]
    agent_id: Option<String>,
    /// The team it applies to.
    #[arg(long, value_name = "ID")]
    team_id: Option<String>,
    /// Trust level: low, medium or high (a grant's maximum, a session's consented trust).
    #[arg(long, value_name = "LEVEL", default_value = "low")]
    trust: String,
    /// Policy version it is tied to.
    #[arg(long, value_name = "VERSION")]
    policy_version: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Yaml)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub struct GrantInitArgs {
    #[command(flatten)]
    common: Common,
    /// A side effect the grant allows (read, write, destructive, …); repeatable.
    #[arg(long = "side-effect", value_name = "EFFECT")]
    side_effects: Vec<String>,
    /// A tool the grant allows at its trust; repeatable.
    #[arg(long = "tool", value_name = "NAME")]
    tools: Vec<String>,
    /// A tool rule NAME=allow|deny[:TRUST]; repeatable.
    #[arg(long = "tool-rule", value_name = "RULE")]
    tool_rules: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SessionInitArgs {
    #[command(flatten)]
    common: Common,
    /// When the session ends, as a duration from now (e.g. 8h, 7d).
    #[arg(long, value_name = "DURATION", conflicts_with = "expires_at")]
    expires_in: Option<String>,
    /// When the session ends (RFC 3339).
    #[arg(long, value_name = "TIME")]
    expires_at: Option<String>,
    /// Create it revoked.
    #[arg(long)]
    revoked: bool,
    /// Secret holding the upstream token the gateway sends for this session.
    #[arg(long, value_name = "SECRET", requires = "upstream_token_key")]
    upstream_token_secret: Option<String>,
    /// Key of that Secret.
    #[arg(long, value_name = "KEY", requires = "upstream_token_secret")]
    upstream_token_key: Option<String>,
}

fn base(kind: &str, common: &Common) -> Value {
    let mut subject = json!({});
    for (field, value) in [
        ("humanID", &common.human_id),
        ("agentID", &common.agent_id),
        ("teamID", &common.team_id),
    ] {
        if let Some(value) = value {
            subject[field] = json!(value);
        }
    }
    let mut server_ref = json!({"name": common.server});
    if let Some(ns) = &common.server_namespace {
        server_ref["namespace"] = json!(ns);
    }
    let mut spec = json!({"serverRef": server_ref, "subject": subject});
    if let Some(version) = &common.policy_version {
        spec["policyVersion"] = json!(version);
    }
    json!({
        "apiVersion": "mcpruntime.org/v1alpha1",
        "kind": kind,
        "metadata": {"name": common.name, "namespace": common.namespace},
        "spec": spec,
    })
}

/// Prints `manifest` after the same validation as `validate` (field errors name the flag's
/// field).
fn print_validated(manifest: &Value, output: Output) -> Result<ExitCode> {
    let text = serde_norway::to_string(manifest)?;
    let checked = parse_manifests(&text, None);
    if let Some(error) = checked.errors.first() {
        bail!("{error}");
    }
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(manifest)?),
        Output::Yaml | Output::Table => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn grant_manifest(args: &GrantInitArgs) -> Result<Value> {
    let mut grant = base("MCPAccessGrant", &args.common);
    grant["spec"]["maxTrust"] = json!(args.common.trust);
    if !args.side_effects.is_empty() {
        grant["spec"]["allowedSideEffects"] = json!(args.side_effects);
    }
    let mut rules: Vec<Value> = args
        .tools
        .iter()
        .map(|tool| json!({"name": tool, "decision": "allow", "requiredTrust": args.common.trust}))
        .collect();
    for rule in &args.tool_rules {
        let (name, decision) = rule
            .split_once('=')
            .with_context(|| format!("--tool-rule {rule:?}: expected NAME=allow|deny[:TRUST]"))?;
        let (decision, trust) = match decision.split_once(':') {
            Some((decision, trust)) => (decision, trust),
            None => (decision, args.common.trust.as_str()),
        };
        rules.push(json!({"name": name, "decision": decision, "requiredTrust": trust}));
    }
    if !rules.is_empty() {
        grant["spec"]["toolRules"] = json!(rules);
    }
    Ok(grant)
}

fn session_manifest(args: &SessionInitArgs) -> Result<Value> {
    let mut session = base("MCPAgentSession", &args.common);
    session["spec"]["consentedTrust"] = json!(args.common.trust);
    let expires = match (&args.expires_in, &args.expires_at) {
        (Some(duration), _) => {
            let duration = mcp_runtime_sentinel::parse_duration(duration).with_context(|| {
                format!("--expires-in {duration:?} is not a duration such as 8h or 7d")
            })?;
            let at = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::try_from(duration)?)
                .context("--expires-in is too far in the future")?;
            Some(at.round(jiff::Unit::Second)?.to_string())
        }
        (None, Some(at)) => Some(at.clone()),
        (None, None) => None,
    };
    if let Some(expires) = expires {
        session["spec"]["expiresAt"] = json!(expires);
    }
    if args.revoked {
        session["spec"]["revoked"] = json!(true);
    }
    if let (Some(secret), Some(key)) = (&args.upstream_token_secret, &args.upstream_token_key) {
        session["spec"]["upstreamTokenSecretRef"] = json!({"name": secret, "key": key});
    }
    Ok(session)
}

pub fn run_grant(command: &GrantCommand) -> Result<ExitCode> {
    match command {
        GrantCommand::Init(args) => print_validated(&grant_manifest(args)?, args.common.output),
        GrantCommand::Apply(args) => cluster_verbs::apply(&args.paths, &args.scope),
        GrantCommand::List(args) => {
            cluster_verbs::list::<MCPAccessGrant>(&args.scope, args.all_namespaces, args.output)
        }
        GrantCommand::Get(args) => {
            cluster_verbs::get::<MCPAccessGrant>(&args.scope, &args.name, args.output)
        }
        GrantCommand::Enable(args) => set(&args.scope, &args.name, "disabled", false),
        GrantCommand::Disable(args) => set(&args.scope, &args.name, "disabled", true),
        GrantCommand::Delete(args) => {
            cluster_verbs::delete::<MCPAccessGrant>(&args.scope, &args.name)
        }
    }
}

pub fn run_session(command: &SessionCommand) -> Result<ExitCode> {
    match command {
        SessionCommand::Init(args) => print_validated(&session_manifest(args)?, args.common.output),
        SessionCommand::Apply(args) => cluster_verbs::apply(&args.paths, &args.scope),
        SessionCommand::List(args) => {
            cluster_verbs::list::<MCPAgentSession>(&args.scope, args.all_namespaces, args.output)
        }
        SessionCommand::Get(args) => {
            cluster_verbs::get::<MCPAgentSession>(&args.scope, &args.name, args.output)
        }
        SessionCommand::Revoke(args) => set(&args.scope, &args.name, "revoked", true),
        SessionCommand::Unrevoke(args) => set(&args.scope, &args.name, "revoked", false),
        SessionCommand::Delete(args) => {
            cluster_verbs::delete::<MCPAgentSession>(&args.scope, &args.name)
        }
    }
}

/// Sets one boolean of a grant's (`disabled`) or a session's (`revoked`) spec.
fn set(scope: &Scope, name: &str, field: &'static str, value: bool) -> Result<ExitCode> {
    cluster_verbs::block_on(async {
        let client = mcp_runtime_admin::connect(&scope.cluster.target()).await?.0;
        let described = if field == "disabled" {
            objects::set_spec_flag::<MCPAccessGrant>(&client, &scope.namespace, name, field, value)
                .await?
        } else {
            objects::set_spec_flag::<MCPAgentSession>(&client, &scope.namespace, name, field, value)
                .await?
        };
        println!("{described} {field}: {value}");
        Ok(ExitCode::SUCCESS)
    })
}
