//! The per-namespace workload ServiceAccount (`mcp-workload`).

use super::WORKLOAD_SERVICE_ACCOUNT;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use mcp_runtime_api::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use std::collections::BTreeMap;

/// The per-namespace ServiceAccount server pods run as: no API token is mounted. Not owned by any
/// server (shared by all of them in the namespace), as in the Go operator.
pub fn workload_service_account(namespace: &str) -> k8s_openapi::api::core::v1::ServiceAccount {
    k8s_openapi::api::core::v1::ServiceAccount {
        metadata: ObjectMeta {
            name: Some(WORKLOAD_SERVICE_ACCOUNT.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY_VALUE.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}
