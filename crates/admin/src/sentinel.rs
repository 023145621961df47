//! Reaching the Sentinel that `setup` installed, from outside the cluster: through the API
//! server's service proxy (`/api/v1/namespaces/NS/services/mcp-sentinel:8083/proxy/…`), with the
//! query API's read key taken from the `mcp-sentinel-keys` Secret. No port-forward and no
//! ingress is needed, and the caller's own Kubernetes permissions decide who may read the audit
//! trail (`get` on `services/proxy` and on that Secret).

use crate::ApiError;
use crate::plan::{SENTINEL, SENTINEL_PORT};
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::Api;
use serde_json::Value;

/// Why the in-cluster Sentinel could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum SentinelError {
    #[error(
        "no Sentinel in namespace {namespace} (no Service {SENTINEL}): install it with \
         `mcp-runtime setup`, or pass --url"
    )]
    NotInstalled { namespace: String },
    #[error(
        "Sentinel is installed in namespace {namespace} but no pod serves it yet ({detail}); \
         `mcp-runtime status --cluster` says why"
    )]
    NoReadyPod { namespace: String, detail: String },
    #[error("the API server refused to proxy to Sentinel (HTTP {status}): {message}")]
    Proxy { status: u16, message: String },
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// A Sentinel found in the cluster.
#[derive(Clone)]
pub struct ClusterSentinel {
    client: kube::Client,
    namespace: String,
    read_key: Option<String>,
}

impl std::fmt::Debug for ClusterSentinel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The read key stays out of logs.
        f.debug_struct("ClusterSentinel")
            .field("namespace", &self.namespace)
            .field("read_key", &self.read_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl ClusterSentinel {
    /// Finds the Sentinel Service in `namespace` and its read key (if the Secret has one).
    pub async fn find(
        client: kube::Client,
        namespace: &str,
    ) -> Result<ClusterSentinel, SentinelError> {
        let services: Api<Service> = Api::namespaced(client.clone(), namespace);
        let found = services
            .get_opt(SENTINEL)
            .await
            .map_err(|e| ApiError::new(format!("reading Service {namespace}/{SENTINEL}"), e))?;
        if found.is_none() {
            return Err(SentinelError::NotInstalled {
                namespace: namespace.to_owned(),
            });
        }
        let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
        let keys = secrets
            .get_opt(&format!("{SENTINEL}-keys"))
            .await
            .map_err(|e| ApiError::new(format!("reading Secret {namespace}/{SENTINEL}-keys"), e))?;
        let read_key = keys
            .and_then(|secret| secret.data)
            .and_then(|data| data.get("read").cloned())
            .map(|bytes| String::from_utf8_lossy(&bytes.0).trim().to_owned())
            .filter(|key| !key.is_empty());
        Ok(ClusterSentinel {
            client,
            namespace: namespace.to_owned(),
            read_key,
        })
    }

    /// Where it is, for messages: `cluster service mcp-runtime/mcp-sentinel`.
    pub fn describe(&self) -> String {
        format!("cluster service {}/{SENTINEL}", self.namespace)
    }

    /// GETs `path_and_query` (`/health`, `/api/v1/events?…`) and returns the status and the JSON
    /// body (a string value when the body is not JSON).
    pub async fn get(&self, path_and_query: &str) -> Result<(u16, Value), SentinelError> {
        let uri = format!(
            "/api/v1/namespaces/{}/services/{SENTINEL}:{SENTINEL_PORT}/proxy{path_and_query}",
            self.namespace
        );
        let mut request = http::Request::get(&uri);
        if let Some(key) = &self.read_key {
            request = request.header("x-api-key", key);
        }
        let request = request
            .body(Vec::new())
            .map_err(|e| ApiError::new(format!("building GET {uri}"), kube::Error::HttpError(e)))?;
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .map_err(|e| ApiError::new(format!("GET {uri}"), e))?;
        let status = response.status().as_u16();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .map_err(|e| ApiError::new(format!("reading GET {uri}"), e))?
            .to_bytes();
        let json: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        // The API server answers for the proxy itself when nothing backs the Service or the
        // caller may not use the proxy; Sentinel never answers with a Kubernetes Status.
        if let Some(message) = api_server_status(&json) {
            return Err(match status {
                503 | 404 => SentinelError::NoReadyPod {
                    namespace: self.namespace.clone(),
                    detail: message,
                },
                _ => SentinelError::Proxy { status, message },
            });
        }
        Ok((status, json))
    }
}

/// The message of a reply the API server wrote itself (a `v1` `Status` object), as opposed to one
/// from Sentinel.
fn api_server_status(body: &Value) -> Option<String> {
    if body.get("kind").and_then(Value::as_str) != Some("Status")
        || body.get("apiVersion").and_then(Value::as_str) != Some("v1")
    {
        return None;
    }
    Some(
        body.get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_owned(),
    )
}
