//! Several upstreams behind one listener: each public path reaches its own upstream with its own
//! policy, with the prefix stripped, and unknown or not-ready routes get clear errors.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mcp_runtime_gateway::proxy::{Proxy, ProxyConfig, ServerLabels};
use mcp_runtime_gateway::router::{NotReady, Route, Router};
use mcp_runtime_policy::{CompiledPolicy, Grant, PolicyDocument, SideEffect, Tool, Trust};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

/// An upstream that answers every request with its own name and the path it received.
async fn naming_upstream(name: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                let body = serde_json::json!({
                    "jsonrpc": "2.0", "id": 1,
                    "result": {"upstream": name, "path": request.uri().path()}
                });
                async move {
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(
                        body.to_string(),
                    ))))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    format!("http://{address}")
}

/// A policy for `server` where agent `claude` may call `allowed` and nothing else.
fn policy(server: &str, allowed: &str) -> Arc<CompiledPolicy> {
    let mut document = PolicyDocument::default();
    document.server.name = server.into();
    document.server.namespace = "default".into();
    document
        .tools
        .push(Tool::new(allowed, SideEffect::Read, Trust::Low));
    let mut grant = Grant::new("default", "claude");
    grant.agent_id = "claude".into();
    grant.max_trust = Trust::High.into();
    grant.allowed_side_effects = vec![SideEffect::Read.into()];
    document.grants.push(grant);
    document.finalize(jiff::Timestamp::now()).expect("finalize");
    Arc::new(CompiledPolicy::new(document).expect("valid"))
}

fn route(path: &str, upstream: &str, policy: Arc<CompiledPolicy>) -> Route {
    Route {
        path: path.into(),
        proxy: Proxy::new(ProxyConfig {
            upstream: upstream.parse().expect("uri"),
            strip_prefix: Some(path.into()),
            deny_encoding: Default::default(),
            limits: Default::default(),
            policy: Arc::new(move || Some(policy.clone())),
            config_status: None,
            audit: None,
            labels: ServerLabels::default(),
            metrics: None,
            allowed_origins: Vec::new(),
            oauth: Default::default(),
        }),
        ready: None,
    }
}

async fn serve(router: Arc<Router>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let router = router.clone();
            let service = hyper::service::service_fn(move |request| {
                let router = router.clone();
                async move { Ok::<_, std::convert::Infallible>(router.handle(request).await) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    address.to_string()
}

async fn call(address: &str, path: &str, tool: &str) -> (u16, serde_json::Value) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    );
    let request = http::Request::post(format!("http://{address}{path}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-mcp-agent-id", "claude")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn each_path_reaches_its_own_upstream_under_its_own_policy() {
    let notes = naming_upstream("notes").await;
    let files = naming_upstream("files").await;
    let router = Arc::new(Router::new());
    router.replace(vec![
        route(
            "/notes/mcp",
            &format!("{notes}/mcp"),
            policy("notes", "list_notes"),
        ),
        route(
            "/files/mcp/",
            &format!("{files}/rpc"),
            policy("files", "read_file"),
        ),
    ]);
    let address = serve(router.clone()).await;

    let (status, reply) = call(&address, "/notes/mcp", "list_notes").await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"]["upstream"], "notes");
    assert_eq!(
        reply["result"]["path"], "/mcp",
        "the route prefix is stripped"
    );
    let (_, reply) = call(&address, "/files/mcp", "read_file").await;
    assert_eq!(reply["result"]["upstream"], "files");
    assert_eq!(reply["result"]["path"], "/rpc");

    // Each route has its own policy: the notes tool is not granted on the files route.
    let (_, reply) = call(&address, "/files/mcp", "list_notes").await;
    assert!(reply["error"]["data"]["reason"].is_string(), "{reply}");

    // A sibling that only shares characters is not the route, and the 404 lists the routes.
    let (status, reply) = call(&address, "/notes/mcpx", "list_notes").await;
    assert_eq!(status, 404);
    let message = reply["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("/files/mcp") && message.contains("/notes/mcp"),
        "{message}"
    );

    // Replacing the table removes a route without touching the other one.
    router.replace(vec![route(
        "/notes/mcp",
        &format!("{notes}/mcp"),
        policy("notes", "list_notes"),
    )]);
    assert_eq!(call(&address, "/files/mcp", "read_file").await.0, 404);
    assert_eq!(call(&address, "/notes/mcp", "list_notes").await.0, 200);
}

#[tokio::test]
async fn a_route_that_is_not_ready_answers_503_with_the_reason() {
    let notes = naming_upstream("notes").await;
    let ready = Arc::new(AtomicBool::new(false));
    let mut gated = route(
        "/notes/mcp",
        &format!("{notes}/mcp"),
        policy("notes", "list_notes"),
    );
    let flag = ready.clone();
    gated.ready = Some(Arc::new(move || {
        if flag.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(NotReady {
                server: "default/notes".into(),
                phase: "Starting".into(),
                last_error: Some("nothing listens on port 4100 yet".into()),
                hint: Some("see `mcp-runtime status`".into()),
            })
        }
    }));
    let router = Arc::new(Router::new());
    router.replace(vec![gated]);
    let address = serve(router).await;

    let (status, reply) = call(&address, "/notes/mcp", "list_notes").await;
    assert_eq!(status, 503);
    assert_eq!(
        reply["error"]["message"],
        "MCP server default/notes is not ready (phase Starting): nothing listens on port 4100 yet; \
         see `mcp-runtime status`"
    );
    ready.store(true, Ordering::SeqCst);
    assert_eq!(call(&address, "/notes/mcp", "list_notes").await.0, 200);
}
