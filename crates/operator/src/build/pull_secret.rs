//! The provisioned registry's pull Secret, shared per namespace.

use crate::config::OperatorConfig;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use mcp_runtime_api::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use std::collections::BTreeMap;

/// The `kubernetes.io/dockerconfigjson` pull Secret for the provisioned registry, when the
/// operator has its URL, username and password. Not owned by any server.
pub fn registry_pull_secret(
    namespace: &str,
    config: &OperatorConfig,
) -> Option<k8s_openapi::api::core::v1::Secret> {
    use base64::Engine;
    let (Some(url), Some(user), Some(password)) = (
        &config.provisioned_registry_url,
        &config.provisioned_registry_username,
        &config.provisioned_registry_password,
    ) else {
        return None;
    };
    let registry = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let docker_config = serde_json::json!({
        "auths": {registry: {"username": user, "password": password, "auth": auth}}
    });
    Some(k8s_openapi::api::core::v1::Secret {
        metadata: ObjectMeta {
            name: Some(config.provisioned_registry_secret_name.clone()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY_VALUE.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/dockerconfigjson".into()),
        data: Some(BTreeMap::from([(
            ".dockerconfigjson".to_owned(),
            k8s_openapi::ByteString(docker_config.to_string().into_bytes()),
        )])),
        ..Default::default()
    })
}
