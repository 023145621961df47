//! `MCPServer`: what to run, how to expose it and how to guard it.
//!
//! Field names, types, defaults and meanings follow the Go mcp-runtime API so that its manifests
//! apply unchanged. The optional fields after the "lifecycle-operator" marker cover the features of
//! the kubernetes-sigs `mcp.x-k8s.io` MCPServer in the same flat style.

use crate::common::{RiskLevel, SecretKeyRef, SideEffect, TrustLevel};
use crate::defaults;
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, EnvFromSource, EnvVar as KubeEnvVar,
    PodSecurityContext, Probe, SecretVolumeSource, SecurityContext,
};
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Desired state of an MCP server.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "mcpruntime.org",
    version = "v1alpha1",
    kind = "MCPServer",
    plural = "mcpservers",
    singular = "mcpserver",
    shortname = "mcpsrv",
    category = "mcp-runtime",
    namespaced,
    derive = "PartialEq",
    status = "MCPServerStatus",
    printcolumn = r#"{"name":"Team","type":"string","jsonPath":".spec.teamID"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Policy","type":"boolean","jsonPath":".status.policyReady"}"#,
    printcolumn = r#"{"name":"Gateway","type":"boolean","jsonPath":".status.gatewayReady"}"#,
    printcolumn = r#"{"name":"Ready","type":"boolean","jsonPath":".status.deploymentReady"}"#,
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".status.url","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("!has(self.rollout) || !has(self.rollout.strategy) || self.rollout.strategy != 'Canary' || (has(self.replicas) && has(self.rollout.canaryReplicas) && self.rollout.canaryReplicas > 0 && self.rollout.canaryReplicas < self.replicas)").message("spec.rollout.canaryReplicas: the Canary strategy needs spec.replicas and 0 < canaryReplicas < replicas"),
    validation = Rule::new("!has(self.gateway) || !has(self.gateway.port) || !has(self.port) || self.gateway.port != self.port").message("spec.gateway.port must differ from spec.port (the gateway sidecar and the server share the pod)"),
    validation = Rule::new("!has(self.auth) || !has(self.auth.mode) || self.auth.mode != 'mtls' || (has(self.gateway) && has(self.gateway.enabled) && self.gateway.enabled)").message("spec.gateway.enabled must be true when spec.auth.mode is mtls"),
    validation = Rule::new("!has(self.auth) || !has(self.auth.mode) || self.auth.mode != 'mtls' || !has(self.ingressClass) || self.ingressClass == 'traefik'").message("spec.ingressClass must be traefik when spec.auth.mode is mtls"),
    validation = Rule::new("!has(self.analytics) || (has(self.analytics.disabled) && self.analytics.disabled) || !(has(self.analytics.ingestURL) || has(self.analytics.source) || has(self.analytics.eventType) || has(self.analytics.apiKeySecretRef)) || (has(self.gateway) && has(self.gateway.enabled) && self.gateway.enabled)").message("spec.analytics needs spec.gateway.enabled: true (or set spec.analytics.disabled: true)"),
    validation = Rule::new("!has(self.transport) || self.transport != 'stdio' || (has(self.command) && size(self.command) > 0)").message("spec.command is required when spec.transport is stdio (the bridge must know what to start)")
)]
#[serde(rename_all = "camelCase")]
pub struct MCPServerSpec {
    /// Owning team: a stable ID (no whitespace, at most 128 characters). Rendered into the policy
    /// and into audit events; grants and sessions with an empty subject team inherit it.
    #[serde(rename = "teamID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128), regex(pattern = r"^\S*$"))]
    pub team_id: Option<String>,

    /// Human-readable summary of what the server provides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    /// Container image of the MCP server.
    #[schemars(length(min = 1))]
    pub image: String,

    /// Tag appended to `image` when the image has neither a tag nor a digest (then `latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tag: Option<String>,

    /// Replaces the registry part of the image (for example `registry.example.com:5000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_override: Option<String>,

    /// Pull from the operator's provisioned registry (`PROVISIONED_REGISTRY_URL`).
    #[serde(default)]
    pub use_provisioned_registry: bool,

    /// Names of Secrets used to pull the image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<String>,

    /// Desired pods (stable plus canary). Zero scales the server to zero.
    #[serde(default = "defaults::replicas")]
    #[schemars(range(min = 0))]
    pub replicas: i32,

    /// Container port the MCP server listens on.
    #[serde(default = "defaults::port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,

    /// Port exposed by the Service.
    #[serde(default = "defaults::service_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub service_port: i32,

    /// Ingress path, used when `publicPathPrefix` is empty. Default `/<name>/mcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_path: Option<String>,

    /// Ingress host. Defaults to the operator's `MCP_DEFAULT_INGRESS_HOST` when neither a host nor
    /// a path prefix is set. Required unless `publicPathPrefix` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_host: Option<String>,

    /// Path-based routing at `/<publicPathPrefix>/mcp`; hostless when no host is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r".*[^/].*"))]
    pub public_path_prefix: Option<String>,

    /// Ingress class: `traefik`, `nginx`, `istio` or any other class name.
    #[serde(default = "defaults::ingress_class")]
    pub ingress_class: String,

    /// Extra Ingress annotations; they win over the class defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ingress_annotations: BTreeMap<String, String>,

    /// CPU and memory for the server container.
    #[serde(default)]
    pub resources: ResourceRequirements,

    /// Literal environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_vars: Vec<EnvVar>,

    /// Environment variables read from Secret keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_env_vars: Vec<SecretEnvVar>,

    /// The tool inventory, with the trust and side-effect metadata that policy decisions use.
    /// Tool names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub tools: Vec<ToolConfig>,

    /// Prompt inventory (metadata only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<InventoryItem>,

    /// Resource inventory (metadata only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcp_resources: Vec<InventoryItem>,

    /// Task inventory (metadata only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<InventoryItem>,

    /// How the gateway identifies callers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,

    /// How the gateway authorizes tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyConfig>,

    /// Agent session requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionConfig>,

    /// The gateway sidecar in front of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayConfig>,

    /// Audit event emission from the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsConfig>,

    /// Rollout strategy, including the canary split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutConfig>,

    // ---- Lifecycle-operator features (mcp.x-k8s.io MCPServer), in the flat style. ----
    /// Entrypoint override. Required for the stdio transport, where the bridge starts it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(validation = Rule::new("self.all(c, c != '')").message("spec.command must not contain empty strings"))]
    #[schemars(length(max = 64), inner(length(max = 4096)))]
    pub command: Vec<String>,

    /// Arguments for the command (or the image's entrypoint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(validation = Rule::new("self.all(a, a != '')").message("spec.args must not contain empty strings"))]
    #[schemars(length(max = 256), inner(length(max = 4096)))]
    pub args: Vec<String>,

    /// Full Kubernetes environment variables (with `valueFrom`), added after `envVars`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<KubeEnvVar>,

    /// Environment from whole ConfigMaps or Secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,

    /// Files mounted into the server container from ConfigMaps, Secrets or scratch space.
    /// Mount paths are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["path"]), length(max = 64))]
    pub volumes: Vec<VolumeMount>,

    /// Readiness probe for the server container. Default: TCP on `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,

    /// Liveness probe for the server container. Default: TCP on `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,

    /// Pod security context. Default: non-root, UID 65532, seccomp RuntimeDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<PodSecurityContext>,

    /// Container security context. Default: the restricted Pod Security Standard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,

    /// ServiceAccount for the pods. Default: the per-namespace `mcp-workload` account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub service_account_name: Option<String>,

    /// Image pull policy for the server container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<ImagePullPolicy>,

    /// A NetworkPolicy for the server pods. Absent: no NetworkPolicy is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<NetworkPolicyConfig>,

    /// When false (the default) the Service pins clients to a pod (`sessionAffinity: ClientIP`),
    /// which legacy MCP sessions need. Set true for servers that keep no session state.
    #[serde(default)]
    pub stateless: bool,

    /// HTTP path of the MCP endpoint inside the server.
    #[serde(default = "defaults::mcp_path")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^/[^\s?#]*$"))]
    pub mcp_path: String,

    /// How the server speaks MCP: `streamable-http` on `port`, or `stdio`, in which case the pod runs
    /// `mcp-runtime bridge -- <command> <args>` to serve it over streamable HTTP.
    #[serde(default)]
    pub transport: Transport,

    /// Labels added to the Deployment, pod template and Service (the keys `app` and
    /// `app.kubernetes.io/managed-by` are reserved).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_labels: BTreeMap<String, String>,

    /// Annotations added to the Deployment, pod template and Service.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_annotations: BTreeMap<String, String>,
}

/// CPU and memory quantities, in the Go mcp-runtime's flat shape.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct ResourceRequirements {
    /// Requested resources. Default `cpu: 50m`, `memory: 64Mi`.
    #[serde(default = "defaults::resource_requests")]
    pub requests: ResourceList,
    /// Limits. Default `cpu: 500m`, `memory: 256Mi`.
    #[serde(default = "defaults::resource_limits")]
    pub limits: ResourceList,
}

impl Default for ResourceRequirements {
    fn default() -> Self {
        Self {
            requests: defaults::resource_requests(),
            limits: defaults::resource_limits(),
        }
    }
}

/// A CPU and memory pair, as Kubernetes quantities (`500m`, `256Mi`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceList {
    /// CPU quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// A literal environment variable.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    /// Variable name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Value.
    pub value: String,
}

/// An environment variable read from a Secret key.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretEnvVar {
    /// Variable name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Secret and key holding the value.
    pub secret_key_ref: SecretKeyRef,
}

/// One MCP tool and the metadata that policy decisions use.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    /// Tool name, as the server lists it.
    #[schemars(length(min = 1))]
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Trust an agent needs to call it.
    #[serde(default)]
    pub required_trust: TrustLevel,
    /// What the tool does to the world. Required: a tool with an unknown side effect is never
    /// callable.
    pub side_effect: SideEffect,
    /// Declared risk (informational). Derived from trust and side effect when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<RiskLevel>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Pin: the approved digest of the tool's definition (`sha256:` and 64 lower-case hex
    /// digits over its name, description, input schema and annotations; `status.toolDigests`
    /// and `mcp-runtime server pin` give the live one). A live definition with another digest
    /// is tool drift (`spec.policy.onToolDrift`). Unset: not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub digest: Option<String>,
}

/// A named prompt, resource or task (inventory metadata only).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct InventoryItem {
    /// Name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Caller identification mode.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No identity: only useful with `policy.mode: observe`.
    None,
    /// Identity from request headers set by a trusted adapter or ingress.
    #[default]
    Header,
    /// Identity from a verified OAuth 2.1 / OIDC JWT bearer token.
    Oauth,
    /// Identity from a verified client certificate (SPIFFE ID) behind Traefik.
    Mtls,
}

impl AuthMode {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Header => "header",
            AuthMode::Oauth => "oauth",
            AuthMode::Mtls => "mtls",
        }
    }
}

/// How the gateway extracts human, agent, team and session identity.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(
    validation = Rule::new("!has(self.mode) || self.mode != 'oauth' || (has(self.issuerURL) && self.issuerURL != '')").message("spec.auth.issuerURL is required when spec.auth.mode is oauth"),
    validation = Rule::new("!has(self.mode) || self.mode != 'mtls' || (has(self.trustDomain) && self.trustDomain != '')").message("spec.auth.trustDomain is required when spec.auth.mode is mtls")
)]
#[serde(rename_all = "camelCase")]
pub struct AuthConfig {
    /// `none`, `header`, `oauth` or `mtls`.
    #[serde(default)]
    pub mode: AuthMode,
    /// Header carrying the human identity.
    #[serde(rename = "humanIDHeader", default = "defaults::human_id_header")]
    pub human_id_header: String,
    /// Header carrying the agent identity.
    #[serde(rename = "agentIDHeader", default = "defaults::agent_id_header")]
    pub agent_id_header: String,
    /// Header carrying the team identity.
    #[serde(rename = "teamIDHeader", default = "defaults::team_id_header")]
    pub team_id_header: String,
    /// Header carrying the agent session name.
    #[serde(rename = "sessionIDHeader", default = "defaults::session_id_header")]
    pub session_id_header: String,
    /// Header carrying the bearer token (oauth).
    #[serde(default = "defaults::token_header")]
    pub token_header: String,
    /// OAuth issuer; its JWKS is discovered from it. Required for `oauth`.
    #[serde(rename = "issuerURL", default, skip_serializing_if = "Option::is_none")]
    pub issuer_url: Option<String>,
    /// Expected JWT audience (oauth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// SPIFFE trust domain. Required for `mtls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::default(),
            human_id_header: defaults::human_id_header(),
            agent_id_header: defaults::agent_id_header(),
            team_id_header: defaults::team_id_header(),
            session_id_header: defaults::session_id_header(),
            token_header: defaults::token_header(),
            issuer_url: None,
            audience: None,
            trust_domain: None,
        }
    }
}

/// Policy mode.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PolicyMode {
    /// Enforce grants and sessions.
    #[default]
    #[serde(rename = "allow-list")]
    AllowList,
    /// Decide and audit, but let every call through.
    #[serde(rename = "observe")]
    Observe,
}

/// A decision.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    #[default]
    Deny,
}

/// Gateway-side authorization settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyConfig {
    /// `allow-list` (enforce) or `observe` (audit only).
    #[serde(default)]
    pub mode: PolicyMode,
    /// Decision when no grant matches or a tool is not granted.
    #[serde(default)]
    pub default_decision: Decision,
    /// Informational: enforcement always applies to `tools/call`.
    #[serde(default = "defaults::enforce_on")]
    pub enforce_on: String,
    /// Policy version label carried into decisions and audit.
    #[serde(default = "defaults::policy_version")]
    pub policy_version: String,
    /// What a pinned tool (`spec.tools[].digest`) whose live definition differs from its pin
    /// gets: `quarantine` (hidden from `tools/list`, calls denied with `tool_quarantined`) or
    /// `warn` (reported only). Without pins it has no effect. Unset means `quarantine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_tool_drift: Option<ToolDriftAction>,
}

/// What tool drift does (`spec.policy.onToolDrift`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ToolDriftAction {
    /// Hide the tool from `tools/list` and deny calls to it with `tool_quarantined`.
    #[default]
    Quarantine,
    /// Report the drift (condition, Event, audit event) and keep serving the tool.
    Warn,
}

impl ToolDriftAction {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolDriftAction::Quarantine => "quarantine",
            ToolDriftAction::Warn => "warn",
        }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            mode: PolicyMode::default(),
            default_decision: Decision::default(),
            enforce_on: defaults::enforce_on(),
            policy_version: defaults::policy_version(),
            on_tool_drift: None,
        }
    }
}

/// Agent session settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SessionConfig {
    /// Every tool call must name a live MCPAgentSession.
    #[serde(default)]
    pub required: bool,
    /// Where sessions live (informational).
    #[serde(default = "defaults::session_store")]
    pub store: String,
    /// Header carrying the session name (informational; `auth.sessionIDHeader` is read).
    #[serde(default = "defaults::session_id_header")]
    pub header_name: String,
    /// Maximum session lifetime (informational).
    #[serde(default = "defaults::session_max_lifetime")]
    pub max_lifetime: String,
    /// Idle timeout (informational).
    #[serde(default = "defaults::session_idle_timeout")]
    pub idle_timeout: String,
    /// Header the gateway writes a session's upstream token into (`Authorization` gets
    /// `Bearer <token>`, any other header the bare token); callers can never set it.
    #[serde(default = "defaults::token_header")]
    pub upstream_token_header: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            required: false,
            store: defaults::session_store(),
            header_name: defaults::session_id_header(),
            max_lifetime: defaults::session_max_lifetime(),
            idle_timeout: defaults::session_idle_timeout(),
            upstream_token_header: defaults::token_header(),
        }
    }
}

/// The gateway sidecar.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GatewayConfig {
    /// Inject the gateway sidecar.
    #[serde(default)]
    pub enabled: bool,
    /// Sidecar image. Default: the operator's `MCP_GATEWAY_PROXY_IMAGE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Port the gateway listens on; must differ from `spec.port`.
    #[serde(default = "defaults::gateway_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Where the gateway forwards to. Default `http://127.0.0.1:<spec.port>`.
    #[serde(
        rename = "upstreamURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub upstream_url: Option<String>,
    /// Path prefix removed before forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<String>,
    /// Sidecar CPU and memory (same defaults as the server container).
    #[serde(default)]
    pub resources: ResourceRequirements,
    /// Admit traffic to the server's pods only on the gateway's ports (a NetworkPolicy the
    /// operator creates, merged with `spec.networkPolicy`), so no pod in the cluster can call the
    /// server's own port on the pod IP and bypass the policy. Default true; set false only on
    /// clusters whose network plugin does not enforce NetworkPolicy objects (then the server's
    /// port stays reachable, see docs/operator.md).
    #[serde(default = "defaults::restrict_direct_access")]
    pub restrict_direct_access: bool,
}

/// Audit event emission.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsConfig {
    /// Opt this server out of audit emission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Sentinel ingest URL. Default: the operator's `MCP_SENTINEL_INGEST_URL`.
    #[serde(rename = "ingestURL", default, skip_serializing_if = "Option::is_none")]
    pub ingest_url: Option<String>,
    /// Event source label. Default `<name>-gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Event type label. Default `mcp.request`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Secret key holding the ingest API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret_ref: Option<SecretKeyRef>,
}

/// Rollout strategy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RolloutStrategy {
    #[default]
    RollingUpdate,
    Recreate,
    /// A second Deployment `<name>-canary` with `canaryReplicas` pods behind the same Service.
    Canary,
}

/// The string form of `maxSurge` and `maxUnavailable`. These are int-or-string fields, checked with
/// `pattern` (strings only) and `minimum` (integers only) rather than a CEL rule: CEL sees an
/// int-or-string as an unbounded value, and any string function on it exceeds the API server's
/// cost budget.
const NON_NEGATIVE_INT_OR_PERCENT: &str = "^[0-9]+%?$";

/// How new versions roll out.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutConfig {
    /// `RollingUpdate`, `Recreate` or `Canary`.
    #[serde(default)]
    pub strategy: RolloutStrategy,
    /// Maximum unavailable pods during a rolling update: a non-negative number or a percentage.
    #[serde(default = "defaults::max_unavailable")]
    #[schemars(extend("pattern" = NON_NEGATIVE_INT_OR_PERCENT, "minimum" = 0))]
    pub max_unavailable: IntOrString,
    /// Maximum extra pods during a rolling update: a non-negative number or a percentage.
    #[serde(default = "defaults::max_surge")]
    #[schemars(extend("pattern" = NON_NEGATIVE_INT_OR_PERCENT, "minimum" = 0))]
    pub max_surge: IntOrString,
    /// Canary pods (Canary strategy): `0 < canaryReplicas < replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_replicas: Option<i32>,
}

/// How a volume may be written.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VolumePermissions {
    #[default]
    ReadOnly,
    ReadWrite,
    /// Read-only, including every submount (`recursiveReadOnly: Enabled`). Needs Kubernetes 1.31 or
    /// later: older API servers do not know the Pod field and refuse the Deployment.
    RecursiveReadOnly,
}

/// A file system mount for the server container. Exactly one source is set.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("[has(self.configMap), has(self.secret), has(self.emptyDir)].filter(x, x).size() == 1").message("exactly one of configMap, secret or emptyDir must be set"))]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// Absolute mount path, without `:`.
    #[schemars(length(min = 1, max = 4096), regex(pattern = r"^/[^:]*$"))]
    pub path: String,
    /// `ReadOnly` (default), `ReadWrite` or `RecursiveReadOnly` (Kubernetes 1.31 or later).
    #[serde(default)]
    pub permissions: VolumePermissions,
    /// Mount a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolumeSource>,
    /// Mount a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolumeSource>,
    /// Scratch space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDirVolumeSource>,
}

/// Image pull policy.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImagePullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// Network isolation for the server pods.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyConfig {
    /// Who may connect. Empty: the whole cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress_from: Vec<NetworkPolicyPeer>,
    /// Where the pods may connect. Empty (with no `egressPorts`): anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress_to: Vec<NetworkPolicyPeer>,
    /// Ports the pods may connect to. Empty: all ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress_ports: Vec<NetworkPolicyPort>,
    /// DNS peer allowed when egress is restricted. Default: DNS to anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_egress_peer: Option<NetworkPolicyPeer>,
}

/// How the server speaks MCP.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Streamable HTTP on `spec.port` at `spec.mcpPath`.
    #[default]
    #[serde(rename = "streamable-http")]
    StreamableHttp,
    /// Newline-delimited JSON-RPC on stdin/stdout, served over HTTP by `mcp-runtime bridge`.
    #[serde(rename = "stdio")]
    Stdio,
}

/// Overall state of an MCPServer.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ServerPhase {
    #[default]
    Pending,
    PartiallyReady,
    Ready,
    Error,
}

/// Observed state of an MCPServer, written by the operator.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MCPServerStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Pending`, `PartiallyReady`, `Ready` or `Error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ServerPhase>,
    /// Human-readable detail for the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The Deployment has all its replicas ready.
    #[serde(default)]
    pub deployment_ready: bool,
    /// The Service has a ClusterIP.
    #[serde(default)]
    pub service_ready: bool,
    /// The Ingress is admitted (strict) or has rules (permissive).
    #[serde(default)]
    pub ingress_ready: bool,
    /// The gateway sidecar is ready.
    #[serde(default)]
    pub gateway_ready: bool,
    /// The policy ConfigMap holds a valid `policy.json`.
    #[serde(default)]
    pub policy_ready: bool,
    /// The canary Deployment, when configured, is ready.
    #[serde(default)]
    pub canary_ready: bool,
    /// Conditions; reasons name the real cause (`ImagePullBackOff`, `IngressNotAdmitted`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The public MCP URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The in-cluster address of the MCP endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<ServerAddress>,
    /// Name of the Deployment that runs the server (the lifecycle operator's
    /// `status.deploymentName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
    /// Name of the Service in front of it (the lifecycle operator's `status.serviceName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// What the server reported in its MCP `initialize` handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<ServerInfo>,
    /// The names of the tools the server lists live (`tools/list` in the handshake), sorted.
    /// Unset when the live inventory is unknown: not handshaken yet, the endpoint answered
    /// 401/403, or a gateway sits in front (it filters `tools/list` for each caller). `catalog
    /// tools --drift` compares it with `spec.tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub tools: Option<Vec<String>>,
    /// The digest of each live tool's definition (see `spec.tools[].digest`), sorted by name;
    /// set whenever `tools` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub tool_digests: Option<Vec<ToolDigest>>,
    /// Desired pods, from the Deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Ready pods, from the Deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// Revision (`sha256:…`) of the policy document in the policy ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_revision: Option<String>,
}

/// A live tool and the digest of its definition.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolDigest {
    /// Tool name.
    pub name: String,
    /// `sha256:<hex>` of its canonical definition.
    pub digest: String,
}

/// Where the MCP endpoint is reachable.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerAddress {
    /// `http://<name>.<namespace>.svc.cluster.local:<port><path>`.
    pub url: String,
}

/// The server's answer to MCP `initialize`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// Implementation name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Implementation version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Negotiated protocol version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// Server instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Which capabilities the server declared.
    #[serde(default)]
    pub capabilities: ServerCapabilities,
}

/// Declared MCP capabilities.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerCapabilities {
    #[serde(default)]
    pub tools: bool,
    #[serde(default)]
    pub resources: bool,
    #[serde(default)]
    pub prompts: bool,
    #[serde(default)]
    pub logging: bool,
    #[serde(default)]
    pub completions: bool,
}
