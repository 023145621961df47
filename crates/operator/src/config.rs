//! Operator settings, read from the Go mcp-runtime's environment variable names so existing
//! operator Deployments keep working.

/// How Ingress readiness is judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IngressReadiness {
    /// Ready when the Ingress has a load-balancer address.
    #[default]
    Strict,
    /// Ready when the Ingress has rules.
    Permissive,
}

/// Everything the operator reads from its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorConfig {
    /// `MCP_DEFAULT_INGRESS_HOST` (compat `DEFAULT_INGRESS_HOST`).
    pub default_ingress_host: Option<String>,
    /// `MCP_DEFAULT_INGRESS_ENTRYPOINTS` (Traefik), default `web`.
    pub ingress_entrypoints: String,
    /// `MCP_DEFAULT_INGRESS_TLS`: add `router.tls=true` for Traefik.
    pub ingress_tls: bool,
    /// `MCP_INGRESS_READINESS_MODE`.
    pub ingress_readiness: IngressReadiness,
    /// `PROVISIONED_REGISTRY_URL`.
    pub provisioned_registry_url: Option<String>,
    /// `PROVISIONED_REGISTRY_USERNAME`.
    pub provisioned_registry_username: Option<String>,
    /// `PROVISIONED_REGISTRY_PASSWORD`.
    pub provisioned_registry_password: Option<String>,
    /// `PROVISIONED_REGISTRY_SECRET_NAME`, default `mcp-runtime-registry-pull`.
    pub provisioned_registry_secret_name: String,
    /// `MCP_REGISTRY_PULL_HOST`, default `MCP_REGISTRY_ENDPOINT`, default
    /// `registry.registry.svc.cluster.local:5000`.
    pub registry_pull_host: String,
    /// `MCP_GATEWAY_PROXY_IMAGE`: default gateway sidecar image.
    pub gateway_proxy_image: Option<String>,
    /// `MCP_GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub gateway_otlp_endpoint: Option<String>,
    /// `MCP_SENTINEL_INGEST_URL` (compat `MCP_ANALYTICS_INGEST_URL`).
    pub sentinel_ingest_url: Option<String>,
    /// `MCP_CLUSTER_NAME`, default `local`.
    pub cluster_name: String,
    /// `MCP_RUNTIME_IMAGE`: the image carrying the `mcp-runtime` binary, copied into stdio pods
    /// for the bridge. Defaults to the gateway image, which is the same binary.
    pub runtime_image: Option<String>,
    /// `MCP_MTLS_CLUSTER_ISSUER`: the cert-manager ClusterIssuer of the mtls certificates that
    /// `server render` prints (MR's variable; the operator itself issues nothing).
    pub mtls_cluster_issuer: Option<String>,
    /// `MCP_AUDIT_SIGNING_KEY_SECRET`: the Secret (in each MCPServer's namespace) whose
    /// `signing-key.pem` signs the gateway's audit-chain checkpoints; mounted into every gateway
    /// that sends audit events.
    pub audit_signing_key_secret: Option<String>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        Self::from_lookup(|_| None)
    }
}

impl OperatorConfig {
    /// Reads the settings through `lookup` (normally `std::env::var`), so tests need no process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let either = |name: &str, compat: &str| get(name).or_else(|| get(compat));
        let truthy = |name: &str| {
            get(name)
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        };
        OperatorConfig {
            default_ingress_host: either("MCP_DEFAULT_INGRESS_HOST", "DEFAULT_INGRESS_HOST"),
            ingress_entrypoints: get("MCP_DEFAULT_INGRESS_ENTRYPOINTS")
                .unwrap_or_else(|| "web".into()),
            ingress_tls: truthy("MCP_DEFAULT_INGRESS_TLS"),
            ingress_readiness: match get("MCP_INGRESS_READINESS_MODE").as_deref() {
                Some("permissive") => IngressReadiness::Permissive,
                _ => IngressReadiness::Strict,
            },
            provisioned_registry_url: get("PROVISIONED_REGISTRY_URL"),
            provisioned_registry_username: get("PROVISIONED_REGISTRY_USERNAME"),
            provisioned_registry_password: get("PROVISIONED_REGISTRY_PASSWORD"),
            provisioned_registry_secret_name: get("PROVISIONED_REGISTRY_SECRET_NAME")
                .unwrap_or_else(|| "mcp-runtime-registry-pull".into()),
            registry_pull_host: get("MCP_REGISTRY_PULL_HOST")
                .or_else(|| get("MCP_REGISTRY_ENDPOINT"))
                .unwrap_or_else(|| "registry.registry.svc.cluster.local:5000".into()),
            gateway_proxy_image: get("MCP_GATEWAY_PROXY_IMAGE"),
            gateway_otlp_endpoint: get("MCP_GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT"),
            sentinel_ingest_url: either("MCP_SENTINEL_INGEST_URL", "MCP_ANALYTICS_INGEST_URL"),
            cluster_name: get("MCP_CLUSTER_NAME").unwrap_or_else(|| "local".into()),
            runtime_image: get("MCP_RUNTIME_IMAGE"),
            mtls_cluster_issuer: get("MCP_MTLS_CLUSTER_ISSUER"),
            audit_signing_key_secret: get("MCP_AUDIT_SIGNING_KEY_SECRET"),
        }
    }

    /// True when a pull secret for the provisioned registry can be created.
    pub fn has_registry_credentials(&self) -> bool {
        self.provisioned_registry_url.is_some()
            && self.provisioned_registry_username.is_some()
            && self.provisioned_registry_password.is_some()
    }
}
