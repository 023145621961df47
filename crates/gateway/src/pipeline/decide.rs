//! Stage 5, decide: every `tools/call` (in a batch: every element) is decided by the policy; one
//! denied element refuses the whole request. Non-tool methods pass without a grant check, as in
//! MR. A [`Cleared`] request, the only thing the forward stage accepts, is made here and
//! nowhere else: a request cannot reach the upstream without passing this stage.

use super::audit::AuditRecord;
use super::filter::ToolsFilter;
use super::inspect::{InspectedRequest, Message};
use super::{Step, denial};
use crate::inspect::Inspected;
use crate::proxy::ProxyConfig;
use crate::upstream_token::{self, UpstreamToken};
use bytes::Bytes;
use http::Method;
use hyper::body::Incoming;
use mcp_runtime_policy::{CompiledPolicy, Decision, PolicyMode};
use std::ops::ControlFlow;
use std::sync::Arc;

/// A request the policy let through, with the caller's identity written back for the upstream.
#[derive(Debug)]
pub(crate) struct Cleared {
    parts: http::request::Parts,
    body: ClearedBody,
    filter: Option<ToolsFilter>,
    /// The session's own upstream token, when it has one (never the caller's credentials).
    upstream_token: Option<UpstreamToken>,
}

/// The body of a cleared request.
#[derive(Debug)]
pub(crate) enum ClearedBody {
    /// The exact bytes that were inspected.
    Buffered(Bytes),
    /// A body that carries no message (`GET`, `DELETE`), streamed through.
    Streaming(Incoming),
}

impl Cleared {
    /// The request head, its body, the `tools/list` filter for the reply (if it needs one) and
    /// the upstream token to send with it (if its session has one).
    pub(crate) fn into_parts(
        self,
    ) -> (
        http::request::Parts,
        ClearedBody,
        Option<ToolsFilter>,
        Option<UpstreamToken>,
    ) {
        (self.parts, self.body, self.filter, self.upstream_token)
    }
}

/// Decides the request's tool calls and records the decision for the audit.
pub(crate) fn decide(
    config: &Arc<ProxyConfig>,
    request: InspectedRequest,
    record: &mut AuditRecord,
) -> Step<Cleared> {
    let InspectedRequest {
        identified,
        message,
    } = request;
    let (mut parts, policy, caller) = (identified.parts, identified.policy, identified.caller);
    // Only a policy that pins a tool has live definitions to compare with.
    let live = policy
        .has_pins()
        .then(|| crate::pins::tracker(config, &policy));
    let (body, filter_tools) = match message {
        Message::Stream(body) => {
            // A GET stream can carry a tools/list result too (a resumed stream replays it), so
            // its events are filtered like a POST's reply.
            let filter_tools =
                parts.method == Method::GET && (!observe_mode(&policy) || live.is_some());
            (ClearedBody::Streaming(body), filter_tools)
        }
        Message::Post { bytes, inspected } => {
            let now = jiff::Timestamp::now();
            let mut lists_tools = false;
            for message in inspected.messages() {
                if message.method() == Some("tools/list") {
                    lists_tools = true;
                }
                if record.rpc_method.is_none() {
                    record.rpc_method = message.method().map(str::to_owned);
                }
                if message.is_tool_call() {
                    let request = caller.request_for(message.tool_name().unwrap_or_default(), now);
                    let decision = match &live {
                        Some(live) => policy.evaluate_tracked(&request, live),
                        None => policy.evaluate(&request),
                    };
                    record.rpc_method = message.method().map(str::to_owned);
                    record.tool_name = message.tool_name().map(str::to_owned);
                    record.decision = Some(decision.clone());
                    if !decision.allowed {
                        let id = match &inspected {
                            Inspected::Single(single) => single.id().cloned(),
                            Inspected::Batch(_) => None,
                        };
                        return ControlFlow::Break(denial(
                            config.deny_encoding,
                            &decision,
                            id.as_ref(),
                            Some(&policy),
                            identified.resource_metadata.as_deref(),
                        ));
                    }
                }
            }
            if record.decision.is_none() && record.rpc_method.is_some() {
                // Non-tool methods pass without a grant check, as in MR.
                record.decision = Some(Decision::allowed_without_check());
            }
            (
                ClearedBody::Buffered(bytes),
                lists_tools && (!observe_mode(&policy) || live.is_some()),
            )
        }
    };
    caller.write_headers(&mut parts.headers, &identified.names);
    let upstream_token = match upstream_token::of_caller(&policy, &caller) {
        Ok(token) => token,
        Err(error) => return ControlFlow::Break(upstream_token::unavailable(&error)),
    };
    ControlFlow::Continue(Cleared {
        parts,
        body,
        filter: filter_tools.then(|| ToolsFilter {
            pins: live.map(|live| crate::pins::PinCheck {
                live,
                config: config.clone(),
            }),
            caller,
            policy,
        }),
        upstream_token,
    })
}

fn observe_mode(policy: &CompiledPolicy) -> bool {
    policy.document().policy.mode.known() == Some(PolicyMode::Observe)
}
