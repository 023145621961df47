//! The body of an unfiltered upstream reply, with what the gateway already holds of it in front.
//!
//! Why: the upstream's client connection hands a reply body over one frame at a time, and it
//! decodes the end of the body only after the previous frame was taken. Relayed as it comes,
//! a one-event SSE reply (the usual answer to a `tools/call`) therefore leaves the gateway in
//! two writes: the head with the event, then the chunked terminator a moment later, which the
//! client must wait for. [`Relayed::gather`] takes the frames that are already there, gives the
//! connection one turn to decode what follows, and so learns that the body has ended: the
//! whole reply then goes out in one write, with a `Content-Length`. A body still streaming is
//! relayed as before; nothing that is not yet there is ever waited for.

use bytes::{Buf, Bytes};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An upstream reply body: the frames already taken from it, then the rest of it (if any).
#[derive(Debug)]
pub(crate) struct Relayed {
    held: VecDeque<Result<Frame<Bytes>, hyper::Error>>,
    rest: Option<Incoming>,
}

impl Relayed {
    /// Takes the frames of `body` that are ready now, yielding once in between so the upstream
    /// connection can decode the end of the body if it has it. Never waits for data.
    pub(crate) async fn gather(mut body: Incoming) -> Relayed {
        let mut held = VecDeque::new();
        if body.is_end_stream() {
            return Relayed {
                held,
                rest: Some(body),
            };
        }
        let mut yielded = false;
        loop {
            match body.frame().now_or_never() {
                // Nothing more is there yet: the rest streams.
                None => {
                    return Relayed {
                        held,
                        rest: Some(body),
                    };
                }
                Some(None) => return Relayed { held, rest: None },
                Some(Some(frame)) => {
                    let failed = frame.is_err();
                    held.push_back(frame);
                    if failed || body.is_end_stream() {
                        return Relayed { held, rest: None };
                    }
                    if yielded {
                        return Relayed {
                            held,
                            rest: Some(body),
                        };
                    }
                    // Let the connection task decode what follows the frame just taken.
                    tokio::task::yield_now().await;
                    yielded = true;
                }
            }
        }
    }

    fn held_bytes(&self) -> u64 {
        self.held
            .iter()
            .filter_map(|frame| frame.as_ref().ok()?.data_ref())
            .map(|data| data.remaining() as u64)
            .sum()
    }
}

impl Body for Relayed {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if let Some(frame) = this.held.pop_front() {
            return Poll::Ready(Some(frame));
        }
        match &mut this.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_empty() && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.held_bytes();
        match &self.rest {
            None => SizeHint::with_exact(held),
            Some(rest) => {
                let inner = rest.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower().saturating_add(held));
                if let Some(upper) = inner.upper() {
                    hint.set_upper(upper.saturating_add(held));
                }
                hint
            }
        }
    }
}
