//! `tools/list` filtering: only tools a `tools/call` would be allowed for remain.

mod common;

use common::*;
use mcp_runtime_policy::{
    CompiledPolicy, Identity, PolicyMode, Request, SideEffect, Tool, ToolRule, Trust,
};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// A `tools/list` response as an MCP server sends it (shape of the 2025-06-18 schema).
fn tools_list_response() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 7,
        "result": {
            "tools": [
                {
                    "name": "read_file",
                    "title": "Read file",
                    "description": "Read a file from the workspace",
                    "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
                    "annotations": {"readOnlyHint": true}
                },
                {
                    "name": "write_file",
                    "description": "Write a file",
                    "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}
                },
                {
                    "name": "delete_file",
                    "description": "Delete a file",
                    "inputSchema": {"type": "object"},
                    "annotations": {"destructiveHint": true}
                },
                {"name": "mystery", "inputSchema": {"type": "object"}},
                {"name": "search", "description": "Search", "inputSchema": {"type": "object"}},
                {"description": "an entry without a name", "inputSchema": {"type": "object"}}
            ],
            "nextCursor": "page-2"
        }
    })
}

fn names(response: &Value) -> Vec<&str> {
    let result = response.get("result").unwrap_or(response);
    result["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|tool| tool["name"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// claude may read anything, write with medium trust, never delete; `search` is granted
/// but declared read.
fn policy() -> CompiledPolicy {
    let mut document = base_document();
    document
        .tools
        .push(Tool::new("search", SideEffect::Read, Trust::Low));
    let mut grant = agent_grant_with_rules(
        "claude",
        "claude",
        vec![
            ToolRule::allow("read_file", Trust::Low),
            ToolRule::allow("write_file", Trust::Medium),
            ToolRule::allow("search", Trust::Low),
            ToolRule::allow("mystery", Trust::Low),
            ToolRule::deny("delete_file"),
        ],
    );
    grant.max_trust = Trust::Medium.into();
    document.grants.push(grant);
    document.sessions.push(session("low", "claude", Trust::Low));
    compile(document)
}

fn claude() -> Identity<'static> {
    Identity::default().with_agent("claude")
}

#[test]
fn filters_a_full_json_rpc_response_and_keeps_everything_else() {
    let policy = policy();
    let mut response = tools_list_response();
    let request = Request::method(claude(), "tools/list", now());
    let removed = policy.filter_tools_list_result(&mut response, &request);
    // delete_file (deny rule), mystery (no side effect) and the nameless entry go.
    assert_eq!(removed, 3);
    assert_eq!(names(&response), vec!["read_file", "write_file", "search"]);
    assert_eq!(response["result"]["nextCursor"], "page-2");
    assert_eq!(response["id"], 7);
    assert_eq!(
        response["result"]["tools"][0]["annotations"]["readOnlyHint"],
        true
    );
}

#[test]
fn filters_a_bare_result_object() {
    let policy = policy();
    let mut result = tools_list_response()["result"].clone();
    let request = Request::method(claude(), "tools/list", now()).with_session("low");
    // With the low-consent session write_file needs more trust than is consented.
    assert_eq!(policy.filter_tools_list_result(&mut result, &request), 4);
    assert_eq!(names(&result), vec!["read_file", "search"]);
}

#[test]
fn agrees_with_evaluate_for_every_tool() {
    let policy = policy();
    let request = Request::method(claude(), "tools/list", now()).with_session("low");
    let all = [
        "read_file",
        "write_file",
        "delete_file",
        "mystery",
        "search",
        "unknown",
    ];
    let kept = policy.filter_tool_names(&request, all);
    let expected: Vec<&str> = all
        .into_iter()
        .filter(|tool| {
            policy
                .evaluate(&Request::tool_call(claude(), tool, now()).with_session("low"))
                .allowed
        })
        .collect();
    assert_eq!(kept, expected);
    for tool in all {
        assert_eq!(
            policy.allowed_tool(&request, tool),
            kept.contains(&tool),
            "{tool}"
        );
    }
}

#[test]
fn unknown_callers_see_nothing_and_observe_mode_sees_everything() {
    let policy = policy();
    let mut response = tools_list_response();
    let anonymous = Request::method(Identity::default(), "tools/list", now());
    assert_eq!(
        policy.filter_tools_list_result(&mut response, &anonymous),
        6
    );
    assert_eq!(names(&response), Vec::<&str>::new());

    let cursor = Request::method(
        Identity::default().with_agent("cursor"),
        "tools/list",
        now(),
    );
    let mut response = tools_list_response();
    assert_eq!(policy.filter_tools_list_result(&mut response, &cursor), 6);

    let mut document = policy.document().clone();
    document.policy.mode = PolicyMode::Observe.into();
    let observe = compile(document);
    let mut response = tools_list_response();
    assert_eq!(
        observe.filter_tools_list_result(&mut response, &anonymous),
        0
    );
    assert_eq!(response, tools_list_response());
}

#[test]
fn default_allow_lists_tools_that_a_call_would_be_allowed_for() {
    // No grant for cursor at all: under default allow, calls are allowed (no_matching_grant),
    // so tools are listed; under default deny they are not.
    let mut document = with_default_allow(policy().document().clone());
    document.session.required = false;
    let policy = compile(document);
    let cursor = Request::method(
        Identity::default().with_agent("cursor"),
        "tools/list",
        now(),
    );
    let mut response = tools_list_response();
    assert_eq!(policy.filter_tools_list_result(&mut response, &cursor), 1);
}

#[test]
fn a_required_session_that_fails_removes_everything() {
    let mut document = policy().document().clone();
    document.session.required = true;
    let policy = compile(document);
    let without_session = Request::method(claude(), "tools/list", now());
    let mut response = tools_list_response();
    assert_eq!(
        policy.filter_tools_list_result(&mut response, &without_session),
        6
    );
    let with_session = without_session.with_session("low");
    let mut response = tools_list_response();
    assert_eq!(
        policy.filter_tools_list_result(&mut response, &with_session),
        4
    );
}

#[test]
fn values_without_a_tools_array_are_left_alone() {
    let policy = policy();
    let request = Request::method(claude(), "tools/list", now());
    for original in [
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "nope"}}),
        json!({"tools": "not a list"}),
        json!([1, 2, 3]),
        json!(null),
    ] {
        let mut value = original.clone();
        assert_eq!(policy.filter_tools_list_result(&mut value, &request), 0);
        assert_eq!(value, original);
    }
}

/// Found by the `sse_filter` fuzz target: a response with a stray top-level `tools` member (here
/// a string) beside `result` had its `result.tools` passed on unfiltered, because the top-level
/// member was taken for the list. The input is the data of the crashing SSE event.
#[test]
fn a_stray_top_level_tools_member_does_not_shield_the_result_list() {
    let policy = policy();
    let request = Request::method(claude(), "tools/list", now());
    let mut response: Value = serde_json::from_str(
        r#"{"tools":"2.0","id":23,"resuid":22,"result":{"tools":[{"nputSchema":{"t":"object"}},{"name":{"type":"object"}},{"name":"unknosn_tool"}]}}"#,
    )
    .expect("the crashing input is JSON");
    assert_eq!(policy.filter_tools_list_result(&mut response, &request), 3);
    assert_eq!(response["result"]["tools"], json!([]));
    assert_eq!(response["tools"], "2.0");

    // Lists at both places are both filtered.
    let mut expected = tools_list_response();
    let removed_from_one = policy.filter_tools_list_result(&mut expected, &request);
    assert!(removed_from_one > 0);
    let mut both = tools_list_response();
    both["tools"] = both["result"]["tools"].clone();
    assert_eq!(
        policy.filter_tools_list_result(&mut both, &request),
        2 * removed_from_one
    );
    assert_eq!(both["result"], expected["result"]);
    assert_eq!(both["tools"], expected["result"]["tools"]);
}

/// `claude`'s policy with `read_file` and `search` pinned to the definitions of
/// [`tools_list_response`], and `on_tool_drift` as given.
fn pinned_policy(on_tool_drift: Option<mcp_runtime_policy::ToolDriftAction>) -> CompiledPolicy {
    let listed = tools_list_response();
    let digest_of = |name: &str| {
        listed["result"]["tools"]
            .as_array()
            .and_then(|tools| tools.iter().find(|t| t["name"] == name))
            .map(mcp_runtime_policy::tool_digest)
            .expect("listed")
    };
    let mut document = policy().document().clone();
    for tool in &mut document.tools {
        if tool.name == "read_file" || tool.name == "search" {
            tool.digest = digest_of(&tool.name);
        }
    }
    if let Some(action) = on_tool_drift {
        document.policy.on_tool_drift = action.into();
    }
    compile(document)
}

#[test]
fn a_pinned_tool_listed_with_another_definition_is_quarantined_until_it_matches_again() {
    let policy = pinned_policy(None);
    let live = mcp_runtime_policy::DriftTracker::new();
    let call = Request::tool_call(claude(), "read_file", now());
    // Listed as pinned: nothing removed, nothing reported, callable.
    let mut response = tools_list_response();
    assert!(policy.check_pinned_tools(&mut response, &live).is_empty());
    assert_eq!(names(&response).len(), 5);
    assert!(policy.evaluate_tracked(&call, &live).allowed);

    // The description changes under the pin: removed, reported once, calls refused.
    let mut drifted = tools_list_response();
    drifted["result"]["tools"][0]["description"] = json!("Read a file and mail it out");
    let drifts = policy.check_pinned_tools(&mut drifted, &live);
    assert_eq!(
        drifts.iter().map(|d| d.tool.as_str()).collect::<Vec<_>>(),
        vec!["read_file"]
    );
    assert!(!names(&drifted).contains(&"read_file"), "{drifted}");
    let denied = policy.evaluate_tracked(&call, &live);
    assert_eq!(
        (denied.allowed, denied.reason.as_str(), denied.http_status),
        (false, "tool_quarantined", 403)
    );
    let mut again = tools_list_response();
    again["result"]["tools"][0]["description"] = json!("Read a file and mail it out");
    assert!(
        policy.check_pinned_tools(&mut again, &live).is_empty(),
        "a drift is reported once"
    );

    // The server lists the pinned definition again: restored.
    let mut restored = tools_list_response();
    policy.check_pinned_tools(&mut restored, &live);
    assert!(names(&restored).contains(&"read_file"));
    assert!(policy.evaluate_tracked(&call, &live).allowed);
}

#[test]
fn warn_reports_a_drift_and_keeps_the_tool() {
    let policy = pinned_policy(Some(mcp_runtime_policy::ToolDriftAction::Warn));
    let live = mcp_runtime_policy::DriftTracker::new();
    let mut drifted = tools_list_response();
    drifted["result"]["tools"][4]["description"] = json!("Search, differently");
    assert_eq!(policy.check_pinned_tools(&mut drifted, &live).len(), 1);
    assert!(names(&drifted).contains(&"search"));
    let call = Request::tool_call(claude(), "search", now());
    assert!(policy.evaluate_tracked(&call, &live).allowed);
}

#[test]
fn without_pins_nothing_is_digested_or_removed() {
    let policy = policy();
    let live = mcp_runtime_policy::DriftTracker::new();
    let mut response = tools_list_response();
    response["result"]["tools"][0]["description"] = json!("anything");
    assert!(!policy.has_pins());
    assert!(policy.check_pinned_tools(&mut response, &live).is_empty());
    assert_eq!(names(&response).len(), 5);
    assert_eq!(live.live("read_file"), None);
}
