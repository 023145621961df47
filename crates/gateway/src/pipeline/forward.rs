//! Stage 6, forward: a [`Cleared`] request goes to the upstream, with `TCP_NODELAY` on the
//! pooled connection; the reply is relayed through [`super::filter`]. Any upstream failure is a
//! 502.

use super::decide::{Cleared, ClearedBody};
use super::filter::{ToolsFilter, relay};
use super::json_response;
use crate::proxy::{Proxy, ProxyBody};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// Sends the cleared request upstream and relays the answer.
pub(crate) async fn send(proxy: &Proxy, cleared: Cleared) -> Response<ProxyBody> {
    let (mut parts, body, filter, token) = cleared.into_parts();
    if let Some(token) = token
        && let Err(error) = token.write(&proxy.upstream_token_dir, &mut parts.headers)
    {
        return crate::upstream_token::unavailable(&error);
    }
    match body {
        ClearedBody::Buffered(bytes) => {
            forward(proxy, &proxy.client, parts, Full::new(bytes), filter).await
        }
        ClearedBody::Streaming(body) => {
            forward(proxy, &proxy.streaming_client, parts, body, filter).await
        }
    }
}

async fn forward<B>(
    proxy: &Proxy,
    client: &Client<HttpConnector, B>,
    mut parts: http::request::Parts,
    body: B,
    filter: Option<ToolsFilter>,
) -> Response<ProxyBody>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(uri) = upstream_uri(proxy, &parts.uri) else {
        return upstream_error();
    };
    parts.uri = uri;
    prepare_upstream_headers(proxy, &mut parts.headers);
    let request = client.request(Request::from_parts(parts, body));
    match tokio::time::timeout(proxy.upstream_timeout, request).await {
        Ok(Ok(response)) => relay(response, filter).await,
        Ok(Err(error)) => {
            tracing::debug!(%error, "upstream request failed");
            upstream_error()
        }
        Err(_) => {
            tracing::warn!(
                timeout = ?proxy.upstream_timeout,
                "the upstream did not start its response in time"
            );
            json_response(
                StatusCode::GATEWAY_TIMEOUT,
                br#"{"error":"upstream_timeout"}"#.to_vec(),
            )
        }
    }
}

fn upstream_uri(proxy: &Proxy, original: &Uri) -> Option<Uri> {
    let config = &proxy.config;
    let mut path = original.path();
    // A trailing slash on the prefix does not change what it names: `/x/` strips `/x` from
    // `/x` and `/x/mcp` alike, and never from `/xy`.
    if let Some(prefix) = config
        .strip_prefix
        .as_deref()
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
        && let Some(rest) = path.strip_prefix(prefix)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        path = rest;
    }
    let base = &config.upstream;
    let base_path = base.path().trim_end_matches('/');
    let joined = match original.query() {
        Some(query) => format!("{base_path}{path}?{query}"),
        None => format!("{base_path}{path}"),
    };
    let joined = if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    };
    Uri::builder()
        .scheme(base.scheme_str().unwrap_or("http"))
        .authority(base.authority()?.as_str())
        .path_and_query(joined)
        .build()
        .ok()
}

fn prepare_upstream_headers(proxy: &Proxy, headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    // The upstream sees itself as the host; a browser Origin means nothing to it.
    headers.remove(header::HOST);
    headers.remove(header::ORIGIN);
    if let Some(authority) = proxy.config.upstream.authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert(header::HOST, host);
    }
}

pub(crate) use mcp_runtime_protocol::hop_by_hop::strip as strip_hop_by_hop;

fn upstream_error() -> Response<ProxyBody> {
    json_response(
        StatusCode::BAD_GATEWAY,
        br#"{"error":"upstream_error"}"#.to_vec(),
    )
}
