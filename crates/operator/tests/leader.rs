//! Leader election on a Lease, against the fake API with explicit times.

mod support;

use jiff::{SignedDuration, Timestamp};
use mcp_runtime_operator::runtime::{LEASE_NAME, LeaseLock};
use mcp_runtime_testkit::FakeApi;
use std::time::Duration;
use support::assert_rbac_covers;

#[tokio::test]
async fn one_leader_at_a_time_and_takeover_after_expiry_or_release() {
    let fake = FakeApi::with_mcp_runtime().await;
    let lock = |id: &str| {
        LeaseLock::new(
            fake.client(),
            "mcp-runtime-system",
            LEASE_NAME,
            id,
            Duration::from_secs(15),
        )
    };
    let (a, b) = (lock("replica-a"), lock("replica-b"));
    let t0: Timestamp = "2026-11-22T08:00:00Z".parse().expect("time");
    assert!(a.try_acquire_or_renew(t0).await.expect("a acquires"));
    assert!(!b.try_acquire_or_renew(t0).await.expect("b waits"));
    // a renews; b still cannot take over within the lease duration.
    let t1 = t0 + SignedDuration::from_secs(10);
    assert!(a.try_acquire_or_renew(t1).await.expect("a renews"));
    assert!(
        !b.try_acquire_or_renew(t1 + SignedDuration::from_secs(10))
            .await
            .expect("b waits")
    );
    // a stops renewing: once the lease has expired, b takes over, and a knows it lost.
    let t2 = t1 + SignedDuration::from_secs(16);
    assert!(b.try_acquire_or_renew(t2).await.expect("b takes over"));
    assert!(!a.try_acquire_or_renew(t2).await.expect("a lost"));
    // b releases on shutdown: a takes over at once.
    b.release().await.expect("release");
    assert!(a.try_acquire_or_renew(t2).await.expect("a again"));
    assert_rbac_covers(&fake.calls());
}
