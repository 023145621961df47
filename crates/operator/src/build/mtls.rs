//! `auth.mode: mtls`: what the gateway needs to terminate TLS itself, and the Traefik objects
//! that route client TLS to it (the Go mcp-runtime's `mtls.go`).
//!
//! The gateway sidecar mounts the Secret `<name>-gateway-mtls` (`tls.crt`, `tls.key`, `ca.crt`,
//! the layout cert-manager writes) at [`GATEWAY_TLS_DIR`] and verifies client certificates
//! against its `ca.crt`. Behind Traefik, the peer of the gateway is Traefik itself, presenting
//! `<name>-traefik-client-mtls` whose URI SAN is [`traefik_spiffe_id`]; the gateway believes
//! the client identity Traefik forwards only from that peer (`TRUSTED_PROXY_SPIFFE_ID`).
//!
//! [`mtls_objects`] renders the Traefik routing objects (`TLSOption`, `ServersTransport`,
//! `Middleware`, `IngressRoute`) and, with `MCP_MTLS_CLUSTER_ISSUER`, MR's two cert-manager
//! `Certificate`s. The operator does not apply them: `mcp-runtime server render` prints them for
//! the platform team to apply where Traefik's and cert-manager's CRDs are installed (see
//! docs/operator.md).

use super::Context;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;

/// Where the gateway's TLS Secret is mounted.
pub const GATEWAY_TLS_DIR: &str = "/var/run/mcp-runtime/tls";
/// The API group and version of Traefik's CRDs.
pub const TRAEFIK_API_VERSION: &str = "traefik.io/v1alpha1";

/// The Secret with the gateway's serving certificate, its key and the client CA bundle.
pub fn gateway_tls_secret(server: &str) -> String {
    format!("{server}-gateway-mtls")
}

/// The Secret with Traefik's client certificate towards the gateway.
pub fn traefik_client_secret(server: &str) -> String {
    format!("{server}-traefik-client-mtls")
}

/// The Secret with the CA bundle (`ca.crt`) Traefik verifies clients and the gateway against.
pub fn ca_secret(server: &str) -> String {
    format!("{server}-mtls-ca")
}

/// The SPIFFE ID of Traefik's client certificate (MR: `spiffe://<trustDomain>/ns/traefik/sa/traefik`).
pub fn traefik_spiffe_id(trust_domain: &str) -> String {
    format!("spiffe://{trust_domain}/ns/traefik/sa/traefik")
}

impl Context<'_> {
    /// The trust domain when the server is in `mtls` mode.
    pub(super) fn mtls_trust_domain(&self) -> Option<&str> {
        let auth = self.server.spec.auth.as_ref()?;
        (auth.mode == mcp_runtime_api::server::AuthMode::Mtls)
            .then(|| auth.trust_domain.as_deref().unwrap_or_default())
    }
}

fn traefik_object(
    ctx: &Context<'_>,
    kind: &str,
    name: String,
    spec: serde_json::Value,
) -> DynamicObject {
    object(ctx, ("traefik.io", "v1alpha1"), kind, name, spec)
}

fn object(
    ctx: &Context<'_>,
    (group, version): (&str, &str),
    kind: &str,
    name: String,
    spec: serde_json::Value,
) -> DynamicObject {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let mut object = DynamicObject::new(&name, &resource).data(json!({ "spec": spec }));
    object.metadata = ctx.metadata(name, ctx.labels());
    object
}

/// MR's cert-manager Certificates of an mtls server, when the operator names a ClusterIssuer
/// (`MCP_MTLS_CLUSTER_ISSUER`): the gateway's serving certificate (its Secret, with `ca.crt`, is
/// what the sidecar mounts) and Traefik's client certificate towards the gateway.
fn certificates(ctx: &Context<'_>, trust_domain: &str) -> Vec<DynamicObject> {
    let Some(issuer) = &ctx.config.mtls_cluster_issuer else {
        return Vec::new();
    };
    let name = &ctx.name;
    let namespace = ctx.namespace.as_deref().unwrap_or("default");
    let issuer_ref = json!({"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"});
    let mut dns_names = vec![
        name.clone(),
        format!("{name}.{namespace}"),
        format!("{name}.{namespace}.svc"),
        format!("{name}.{namespace}.svc.cluster.local"),
    ];
    dns_names.extend(ctx.route.host.clone());
    let certificate = |secret: String, mut spec: serde_json::Value| {
        spec["secretName"] = json!(secret);
        spec["issuerRef"] = issuer_ref.clone();
        spec["duration"] = json!("24h");
        spec["renewBefore"] = json!("8h");
        object(ctx, ("cert-manager.io", "v1"), "Certificate", secret, spec)
    };
    vec![
        certificate(
            gateway_tls_secret(name),
            json!({"dnsNames": dns_names, "usages": ["server auth", "digital signature", "key encipherment"]}),
        ),
        certificate(
            traefik_client_secret(name),
            json!({"uris": [traefik_spiffe_id(trust_domain)], "usages": ["client auth", "digital signature", "key encipherment"]}),
        ),
    ]
}

/// The Traefik objects (and, with `MCP_MTLS_CLUSTER_ISSUER`, the cert-manager Certificates) of
/// an mtls server behind the `traefik` ingress class; empty otherwise.
pub(super) fn mtls_objects(ctx: &Context<'_>) -> Vec<DynamicObject> {
    let Some(trust_domain) = ctx.mtls_trust_domain() else {
        return Vec::new();
    };
    if ctx.server.spec.ingress_class != "traefik" {
        return Vec::new();
    }
    let name = &ctx.name;
    let namespace = ctx.namespace.as_deref().unwrap_or("default");
    let path_rule = format!("PathPrefix(`{}`)", ctx.route.path);
    let rule = match &ctx.route.host {
        Some(host) => format!("Host(`{host}`) && {path_rule}"),
        None => path_rule,
    };
    vec![
        traefik_object(
            ctx,
            "TLSOption",
            format!("{name}-mtls"),
            json!({
                "minVersion": "VersionTLS12",
                "clientAuth": {
                    "secretNames": [ca_secret(name)],
                    "clientAuthType": "RequireAndVerifyClientCert",
                },
            }),
        ),
        traefik_object(
            ctx,
            "ServersTransport",
            format!("{name}-gateway"),
            json!({
                "serverName": format!("{name}.{namespace}.svc.cluster.local"),
                "rootCAs": [{"secret": ca_secret(name)}],
                "certificatesSecrets": [traefik_client_secret(name)],
            }),
        ),
        traefik_object(
            ctx,
            "Middleware",
            format!("{name}-spiffe-identity"),
            json!({
                "plugin": {
                    "spiffe-identity": {"headerName": "X-MCP-Verified-SPIFFE-ID"},
                },
            }),
        ),
        traefik_object(
            ctx,
            "IngressRoute",
            name.clone(),
            json!({
                "entryPoints": ["websecure"],
                "routes": [{
                    "kind": "Rule",
                    "match": rule,
                    "middlewares": [{"name": format!("{name}-spiffe-identity")}],
                    "services": [{
                        "name": name,
                        "port": ctx.server.spec.service_port,
                        "scheme": "https",
                        "serversTransport": format!("{name}-gateway"),
                    }],
                }],
                "tls": {"options": {"name": format!("{name}-mtls")}},
            }),
        ),
    ]
    .into_iter()
    .chain(certificates(ctx, trust_domain))
    .collect()
}
