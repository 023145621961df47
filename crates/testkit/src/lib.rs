//! Test-only kit for the workspace's tests (never in a product build).
//!
//! - [`eventually`] and [`eventually_blocking`]: the one readiness poll every test uses instead of
//!   a sleep.
//! - With the default `kube` feature: [`FakeApi`], an in-process fake Kubernetes API that a real
//!   kube-runtime `Controller` can run against (watch, a call recorder, fault injection), and
//!   [`cluster`], the helpers of the real-cluster tests. Crates that only need the polls (audit,
//!   Sentinel, the gateway) take this crate with `default-features = false` and build no
//!   Kubernetes client.

mod wait;
pub use wait::{Check, eventually, eventually_blocking};

#[cfg(feature = "kube")]
pub mod cluster;
#[cfg(feature = "kube")]
mod fake;
#[cfg(feature = "kube")]
pub use fake::*;
