//! Denial encodings: MR's exact `http` bodies and the default JSON-RPC encoding.

use mcp_runtime_gateway::{
    AuthStyle, DenyEncoding, DenyResponse, GovernanceHeaders, encode_denial,
};
use mcp_runtime_policy::{AuthSettings, Decision, Reason};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const PRM: &str = "https://gw.example/.well-known/oauth-protected-resource/mcp";

fn oauth() -> AuthStyle<'static> {
    AuthStyle::OAuth {
        resource_metadata_url: PRM,
    }
}

fn http(reason: Reason, auth: &AuthStyle<'_>) -> DenyResponse {
    encode_denial(
        DenyEncoding::Http,
        &Decision::denied_by_stage(reason),
        None,
        auth,
    )
}

fn jsonrpc(reason: Reason, id: Option<Value>, auth: &AuthStyle<'_>) -> (DenyResponse, Value) {
    let response = encode_denial(
        DenyEncoding::JsonRpc,
        &Decision::denied_by_stage(reason),
        id.as_ref(),
        auth,
    );
    let body = serde_json::from_slice(&response.body)
        .unwrap_or_else(|error| panic!("body is not JSON: {error}"));
    (response, body)
}

fn text(response: &DenyResponse) -> &str {
    std::str::from_utf8(&response.body).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn http_missing_identity_is_mr_byte_for_byte() {
    let response = http(Reason::MissingIdentity, &AuthStyle::default());
    assert_eq!(response.status, 401);
    assert_eq!(response.content_type, "application/json");
    assert_eq!(response.www_authenticate, None);
    assert_eq!(
        text(&response),
        "{\"adapter_required\":true,\"error\":\"missing_identity\",\"message\":\"This MCP server \
         uses MCP Runtime header/session governance. Direct clients must connect through the \
         mcp-runtime adapter proxy or stdio adapter, or send an adapter-issued \
         identity/session.\",\"required_headers\":[\"X-MCP-Human-ID\",\"X-MCP-Agent-ID\",\
         \"X-MCP-Team-ID\",\"X-MCP-Agent-Session\"]}\n"
    );
}

#[test]
fn http_missing_session_names_the_policy_headers() {
    let auth = AuthSettings {
        human_id_header: " X-Human ".into(),
        agent_id_header: "".into(),
        team_id_header: "X-Team<&>".into(),
        session_id_header: "X-Session".into(),
        ..AuthSettings::default()
    };
    let style = AuthStyle::Headers(GovernanceHeaders::from_auth(&auth));
    let response = http(Reason::MissingSession, &style);
    assert_eq!(response.status, 401);
    let body = text(&response);
    assert!(
        body.ends_with(
            ",\"required_headers\":[\"X-Human\",\"X-MCP-Agent-ID\",\"X-Team\\u003c\\u0026\\u003e\",\"X-Session\"]}\n"
        ),
        "{body}"
    );
    assert!(
        body.starts_with("{\"adapter_required\":true,\"error\":\"missing_session\",\"message\":")
    );
}

#[test]
fn http_policy_and_other_reasons_carry_only_the_error() {
    for (reason, status) in [
        (Reason::ToolDenied, 403),
        (Reason::TrustTooLow, 403),
        (Reason::RpcInspectionFailed, 403),
        (Reason::SessionExpired, 401),
        (Reason::PolicyUnavailable, 503),
        (Reason::AuthModeUnavailable, 503),
        (Reason::OauthNotEnabled, 404),
        (Reason::UpstreamTimeout, 504),
    ] {
        let response = http(reason, &AuthStyle::default());
        assert_eq!(response.status, status, "{reason}");
        assert_eq!(text(&response), format!("{{\"error\":\"{reason}\"}}\n"));
        assert_eq!(response.www_authenticate, None);
    }
}

#[test]
fn http_under_oauth_drops_adapter_hints_and_challenges_bearer_failures() {
    let response = http(Reason::MissingIdentity, &oauth());
    assert_eq!(
        (response.status, text(&response)),
        (401, "{\"error\":\"missing_identity\"}\n")
    );
    assert_eq!(response.www_authenticate, None);

    let response = http(Reason::MissingBearerToken, &oauth());
    assert_eq!(response.status, 401);
    assert_eq!(text(&response), "{\"error\":\"missing_bearer_token\"}\n");
    assert_eq!(
        response.www_authenticate.as_deref(),
        Some(format!(r#"Bearer realm="mcp-runtime", resource_metadata="{PRM}""#).as_str())
    );

    let response = http(Reason::InvalidToken, &oauth());
    assert_eq!(
        response.www_authenticate.as_deref(),
        Some(
            format!(
                r#"Bearer realm="mcp-runtime", resource_metadata="{PRM}", error="invalid_token""#
            )
            .as_str()
        )
    );
    // No challenge outside OAuth.
    assert_eq!(
        http(Reason::InvalidToken, &AuthStyle::default()).www_authenticate,
        None
    );
}

#[test]
fn jsonrpc_policy_denial_of_a_request_is_http_200_with_the_reason() {
    let (response, body) = jsonrpc(Reason::ToolDenied, Some(json!(7)), &AuthStyle::default());
    assert_eq!(response.status, 200);
    assert_eq!(response.content_type, "application/json");
    assert_eq!(response.www_authenticate, None);
    assert_eq!(
        body,
        json!({
            "jsonrpc": "2.0",
            "id": 7,
            "error": {
                "code": -32602,
                "message": "Tool call denied: tool_denied",
                "data": {"reason": "tool_denied", "http_status": 403},
            },
        })
    );
    let (_, body) = jsonrpc(
        Reason::TrustTooLow,
        Some(json!("req-1")),
        &AuthStyle::default(),
    );
    assert_eq!(body["id"], "req-1");
    assert_eq!(body["error"]["data"]["reason"], "trust_too_low");
}

#[test]
fn jsonrpc_policy_denial_of_a_notification_is_a_403_without_id() {
    let (response, body) = jsonrpc(Reason::ToolDenied, None, &AuthStyle::default());
    assert_eq!(response.status, 403);
    assert_eq!(body["id"], Value::Null);
    assert_eq!(body["error"]["code"], -32602);
    // An id that is not a valid JSON-RPC id is not echoed.
    let (response, body) = jsonrpc(
        Reason::ToolDenied,
        Some(json!({"x": 1})),
        &AuthStyle::default(),
    );
    assert_eq!((response.status, &body["id"]), (403, &Value::Null));
}

#[test]
fn jsonrpc_identity_denial_stays_401_with_required_headers() {
    let (response, body) = jsonrpc(
        Reason::MissingIdentity,
        Some(json!(1)),
        &AuthStyle::default(),
    );
    assert_eq!(response.status, 401);
    assert_eq!(response.www_authenticate, None);
    assert_eq!(
        body,
        json!({
            "jsonrpc": "2.0",
            "id": 1,
            "error": {
                "code": -32600,
                "message": "Unauthorized: missing_identity",
                "data": {
                    "reason": "missing_identity",
                    "http_status": 401,
                    "adapter_required": true,
                    "required_headers": [
                        "X-MCP-Human-ID", "X-MCP-Agent-ID", "X-MCP-Team-ID", "X-MCP-Agent-Session"
                    ],
                },
            },
        })
    );
    let (response, body) = jsonrpc(
        Reason::SessionRevoked,
        Some(json!(1)),
        &AuthStyle::default(),
    );
    assert_eq!(response.status, 401);
    assert_eq!(body["error"]["data"].get("required_headers"), None);
}

#[test]
fn jsonrpc_oauth_failures_keep_the_challenge() {
    let (response, body) = jsonrpc(Reason::InvalidToken, Some(json!(3)), &oauth());
    assert_eq!(response.status, 401);
    assert_eq!(
        response.www_authenticate.as_deref(),
        Some(
            format!(
                r#"Bearer realm="mcp-runtime", resource_metadata="{PRM}", error="invalid_token""#
            )
            .as_str()
        )
    );
    assert_eq!(body["error"]["data"]["reason"], "invalid_token");
    let (_, body) = jsonrpc(Reason::MissingIdentity, Some(json!(3)), &oauth());
    assert_eq!(body["error"]["data"].get("required_headers"), None);
}

#[test]
fn jsonrpc_infrastructure_and_inspection_failures_keep_their_status() {
    let (response, body) = jsonrpc(
        Reason::PolicyUnavailable,
        Some(json!(1)),
        &AuthStyle::default(),
    );
    assert_eq!(
        (response.status, &body["error"]["code"]),
        (503, &json!(-32603))
    );
    assert_eq!(
        body["error"]["message"],
        "Gateway error: policy_unavailable"
    );
    let (response, body) = jsonrpc(
        Reason::RpcInspectionFailed,
        Some(json!(1)),
        &AuthStyle::default(),
    );
    assert_eq!(
        (response.status, &body["error"]["code"]),
        (400, &json!(-32600))
    );
    let (response, body) = jsonrpc(Reason::OauthNotEnabled, None, &AuthStyle::default());
    assert_eq!(
        (response.status, &body["error"]["code"]),
        (404, &json!(-32601))
    );
}

#[test]
fn every_reason_encodes_with_its_code_and_no_reserved_jsonrpc_code() {
    for &reason in Reason::ALL
        .iter()
        .filter(|reason| **reason != Reason::Allowed)
    {
        let (response, body) = jsonrpc(reason, Some(json!(1)), &AuthStyle::default());
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["error"]["data"]["reason"], reason.as_str());
        assert_eq!(body["error"]["data"]["http_status"], reason.http_status());
        let code = body["error"]["code"].as_i64().unwrap_or_default();
        assert!(
            [-32600, -32601, -32602, -32603].contains(&code),
            "{reason}: code {code}"
        );
        assert!(
            response.status == 200
                || response.status == 400
                || response.status == reason.http_status()
        );

        let response = http(reason, &AuthStyle::default());
        assert_eq!(response.status, reason.http_status(), "{reason}");
        let body: Value = serde_json::from_slice(&response.body).unwrap_or_default();
        assert_eq!(body["error"], reason.as_str());
    }
}

#[test]
fn an_allowed_decision_fails_closed_as_undecided() {
    let mut allowed = Decision::denied_by_stage(Reason::ToolDenied);
    allowed.allowed = true;
    allowed.reason = Reason::Allowed;
    allowed.http_status = 200;
    let auth = AuthStyle::default();
    let response = encode_denial(DenyEncoding::Http, &allowed, None, &auth);
    assert_eq!(
        (response.status, text(&response)),
        (403, "{\"error\":\"undecided\"}\n")
    );
    let response = encode_denial(DenyEncoding::JsonRpc, &allowed, Some(&json!(1)), &auth);
    let body: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    assert_eq!(body["error"]["data"]["reason"], "undecided");
    assert_eq!(body["error"]["code"], -32602);
}

#[test]
fn decision_status_overrides_the_catalogue_class() {
    // A decision whose status differs from its reason's class keeps the decision's status,
    // as MR writes `decision.Status`.
    let mut decision = Decision::denied_by_stage(Reason::ToolDenied);
    decision.http_status = 503;
    let response = encode_denial(DenyEncoding::Http, &decision, None, &AuthStyle::default());
    assert_eq!(response.status, 503);
}
