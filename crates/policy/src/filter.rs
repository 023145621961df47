//! `tools/list` filtering: a caller only discovers the tools it may call right now.
//!
//! MR returns every tool name to every caller (reference §12.1 #2). Here a tool is listed iff
//! a `tools/call` of it, by the same caller with the same session at the same instant, would
//! be allowed — including allows by `default_decision: allow`. In `observe` mode every tool
//! is kept.
//!
//! The caller's identity, session and candidate grants are resolved once per list, not once
//! per tool.

use serde_json::Value;

use crate::evaluate::{CompiledPolicy, Request, ResolvedCaller, TOOLS_CALL};
use crate::pin::{DriftTracker, ToolDrift, tool_digest};

/// The per-list part of a decision, computed once.
enum ListFilter<'p, 'r> {
    /// Observe mode.
    KeepAll,
    /// The caller fails before any tool is considered (no identity, bad required session).
    RemoveAll,
    /// Decide each tool against the caller's matching grants.
    PerTool {
        resolved: ResolvedCaller<'p, 'r>,
        grants: Vec<usize>,
    },
}

impl CompiledPolicy {
    /// Whether a `tools/call` of `tool_name` by this request's caller would be allowed.
    /// The request's `rpc_method` and `tool_name` are ignored.
    pub fn allowed_tool(&self, request: &Request<'_>, tool_name: &str) -> bool {
        let call = Request {
            rpc_method: TOOLS_CALL,
            tool_name: Some(tool_name),
            ..*request
        };
        self.evaluate(&call).allowed
    }

    /// The names among `names` that the caller may call, in their original order.
    pub fn filter_tool_names<'n>(
        &self,
        request: &Request<'_>,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Vec<&'n str> {
        let filter = self.list_filter(request);
        names
            .into_iter()
            .filter(|name| self.list_filter_allows(&filter, name))
            .collect()
    }

    /// Removes from a `tools/list` result the tools the caller may not call and returns how
    /// many were removed.
    ///
    /// `result` is the JSON-RPC `result` object (`{"tools": [...], "nextCursor": ...}`) or
    /// the whole response (`{"jsonrpc": "2.0", "id": 1, "result": {...}}`). Both a `tools`
    /// array of the value itself and one at `result.tools` are filtered: a response with a
    /// stray top-level `tools` member beside its `result` must not keep its listed tools.
    /// Entries without a string `name` are removed (they cannot be authorized), except in
    /// `observe` mode, which keeps the list untouched. A value that has no `tools` array is
    /// left alone and 0 is returned.
    pub fn filter_tools_list_result(&self, result: &mut Value, request: &Request<'_>) -> usize {
        let Some(object) = result.as_object_mut() else {
            return 0;
        };
        let lists: Vec<&mut Vec<Value>> = object
            .iter_mut()
            .filter_map(|(key, value)| match key.as_str() {
                "tools" => value.as_array_mut(),
                "result" => value.get_mut("tools").and_then(Value::as_array_mut),
                _ => None,
            })
            .collect();
        if lists.is_empty() {
            return 0;
        }
        let filter = self.list_filter(request);
        if let ListFilter::KeepAll = filter {
            return 0;
        }
        let mut removed = 0;
        for tools in lists {
            let before = tools.len();
            tools.retain(|tool| {
                tool.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| self.list_filter_allows(&filter, name))
            });
            removed += before - tools.len();
        }
        removed
    }

    /// Checks the pinned tools of a `tools/list` result (the same `tools` arrays as
    /// [`CompiledPolicy::filter_tools_list_result`]) against their pins: each one's definition
    /// digest is recorded in `live`, and with `policy.on_tool_drift: quarantine` a tool whose
    /// digest differs from its pin is removed. Returns the drifts not reported before.
    ///
    /// Costs nothing when no tool is pinned; otherwise only the pinned tools are digested.
    pub fn check_pinned_tools(&self, result: &mut Value, live: &DriftTracker) -> Vec<ToolDrift> {
        let mut drifts = Vec::new();
        if !self.has_pins() {
            return drifts;
        }
        let Some(object) = result.as_object_mut() else {
            return drifts;
        };
        for (key, value) in object.iter_mut() {
            let tools = match key.as_str() {
                "tools" => value.as_array_mut(),
                "result" => value.get_mut("tools").and_then(Value::as_array_mut),
                _ => None,
            };
            let Some(tools) = tools else { continue };
            tools.retain(|tool| {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    return true;
                };
                let Some(pin) = self.pinned_digest(name) else {
                    return true;
                };
                let digest = tool_digest(tool);
                if let Some(drift) = live.record(name, pin, &digest) {
                    drifts.push(drift);
                }
                digest == pin || !self.quarantines_on_drift()
            });
        }
        drifts
    }

    fn list_filter<'p, 'r>(&'p self, request: &Request<'r>) -> ListFilter<'p, 'r> {
        if self.observe() {
            return ListFilter::KeepAll;
        }
        match self.resolve_caller(request, None) {
            Err(_) => ListFilter::RemoveAll,
            Ok(resolved) => ListFilter::PerTool {
                grants: self.candidate_grants(resolved.caller()).collect(),
                resolved,
            },
        }
    }

    fn list_filter_allows(&self, filter: &ListFilter<'_, '_>, tool_name: &str) -> bool {
        match filter {
            ListFilter::KeepAll => true,
            ListFilter::RemoveAll => false,
            ListFilter::PerTool { resolved, grants } => {
                let tool = self.tool(tool_name);
                self.decide_tool(resolved, tool, tool_name, grants.iter().copied(), None)
                    .allowed
            }
        }
    }
}
