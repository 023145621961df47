//! The policy ConfigMap (`<name>-gateway-policy`) the gateway sidecar reads.

use super::{BuildError, Context, POLICY_KEY};
use k8s_openapi::api::core::v1::ConfigMap;
use mcp_runtime_policy::PolicyDocument;
use std::collections::BTreeMap;

pub(super) fn policy_config_map(
    ctx: &Context<'_>,
    document: &PolicyDocument,
) -> Result<ConfigMap, BuildError> {
    let json = document
        .to_json_pretty()
        .map_err(|e| BuildError::PolicyJson(e.to_string()))?;
    Ok(ConfigMap {
        metadata: ctx.metadata(format!("{}-gateway-policy", ctx.name), ctx.labels()),
        data: Some(BTreeMap::from([(POLICY_KEY.to_owned(), json)])),
        ..ConfigMap::default()
    })
}
