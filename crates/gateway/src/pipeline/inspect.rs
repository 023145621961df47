//! Stage 4, inspect: a `POST` body is read up to the limit and inspected strictly
//! ([`crate::inspect`]); the exact bytes inspected are the bytes forwarded, so the upstream never
//! reads something the policy did not see. Other methods carry no message to inspect: their
//! body streams through.

use super::audit::AuditRecord;
use super::identity::Identified;
use super::{Step, bytes_response, denial, jsonrpc_error};
use crate::deny::DenyEncoding;
use crate::inspect::{Inspected, PostInput, inspect_post};
use crate::proxy::ProxyConfig;
use bytes::Bytes;
use http::header::{HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use mcp_runtime_policy::{Decision, Reason};
use std::ops::ControlFlow;
use tokio::sync::Semaphore;

/// What the request carries.
#[derive(Debug)]
pub(crate) enum Message {
    /// A `POST`: its whole body, and what inspection found in it.
    Post { bytes: Bytes, inspected: Inspected },
    /// Any other method (a `GET` stream, a `DELETE`): the body streams through.
    Stream(Incoming),
}

/// An identified request and its message.
#[derive(Debug)]
pub(crate) struct InspectedRequest {
    pub identified: Identified,
    pub message: Message,
}

/// Reads and inspects a `POST` body; a body over the limit or that fails inspection is refused
/// (and audited as `rpc_inspection_failed`). With `permits`, a body is read only with one of
/// them: when all are taken, the request is refused at once with 503 and `Retry-After`.
pub(crate) async fn read(
    config: &ProxyConfig,
    permits: Option<&Semaphore>,
    identified: Identified,
    body: Incoming,
    record: &mut AuditRecord,
) -> Step<InspectedRequest> {
    if identified.parts.method != Method::POST {
        return ControlFlow::Continue(InspectedRequest {
            identified,
            message: Message::Stream(body),
        });
    }
    // Held while the body is read and inspected: bounds the memory of bodies in flight.
    let _permit = match permits.map(Semaphore::try_acquire) {
        None => None,
        Some(Ok(permit)) => Some(permit),
        Some(Err(_)) => {
            let mut busy = jsonrpc_error(
                StatusCode::SERVICE_UNAVAILABLE,
                crate::codes::INTERNAL_ERROR,
                "the gateway is reading too many request bodies at once; retry later",
            );
            busy.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            return ControlFlow::Break(busy);
        }
    };
    let limit = config.limits.max_body_bytes;
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            // Refused before it could be read: audited like any other refused message.
            record.bytes_in = limit as u64;
            let decision = Decision::denied_by_stage(Reason::RpcInspectionFailed);
            record.decision = Some(decision.clone());
            if config.deny_encoding == DenyEncoding::Http {
                // MR's answer to any inspection failure: 403 `rpc_inspection_failed`.
                return ControlFlow::Break(denial(
                    config.deny_encoding,
                    &decision,
                    None,
                    Some(&identified.policy),
                    identified.resource_metadata.as_deref(),
                ));
            }
            return ControlFlow::Break(jsonrpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                crate::codes::INVALID_REQUEST,
                &format!("request body exceeds the limit of {limit} bytes"),
            ));
        }
    };
    record.bytes_in = bytes.len() as u64;
    // Header names are compared before scrubbing changed nothing relevant to inspection.
    let inspected = match inspect_post(
        &PostInput::from_header_map(&identified.parts.headers, &bytes),
        &config.limits,
    ) {
        Ok(inspected) => inspected,
        Err(error) => {
            let decision = Decision::denied_by_stage(Reason::RpcInspectionFailed);
            record.decision = Some(decision.clone());
            if config.deny_encoding == DenyEncoding::Http {
                return ControlFlow::Break(denial(
                    config.deny_encoding,
                    &decision,
                    None,
                    Some(&identified.policy),
                    identified.resource_metadata.as_deref(),
                ));
            }
            let status = StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            return ControlFlow::Break(bytes_response(
                status,
                "application/json",
                error.to_jsonrpc_body(),
            ));
        }
    };
    ControlFlow::Continue(InspectedRequest {
        identified,
        message: Message::Post { bytes, inspected },
    })
}
