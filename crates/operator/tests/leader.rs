//! Leader election on a Lease, against the fake API with explicit times.

mod support;

use jiff::{SignedDuration, Timestamp};
use mcp_runtime_operator::runtime::{LEASE_NAME, LeaseLock};
use mcp_runtime_testkit::{FakeApi, Fault};
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

/// A renewal that fails (the API server restarting) does not end the lead at once: the holder
/// retries, and steps down only when it could not renew for two thirds of the lease duration,
/// before anyone else may take the Lease over.
#[tokio::test]
async fn the_holder_survives_a_failed_renewal_and_steps_down_at_the_renew_deadline() {
    let fake = FakeApi::with_mcp_runtime().await;
    // 3 s lease: renewed every second; renew deadline 2 s.
    let lock = LeaseLock::new(
        fake.client(),
        "mcp-runtime-system",
        LEASE_NAME,
        "replica-a",
        Duration::from_secs(3),
    );
    let (leader_tx, mut leader) = tokio::sync::watch::channel(false);
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(lock.run(leader_tx, stop));
    tokio::time::timeout(Duration::from_secs(5), leader.wait_for(|l| *l))
        .await
        .expect("leads")
        .expect("lead");

    // One failed renewal: retried a second later, the lead holds.
    fake.inject(Fault {
        verb: "get".into(),
        resource: "leases".into(),
        status: 500,
        times: 1,
    });
    support::eventually("the failed renewal", support::WAIT, || async {
        (fake.pending_faults() == 0).then_some(())
    })
    .await;
    let renewals = |fake: &FakeApi| {
        fake.calls()
            .iter()
            .filter(|c| c.resource == "leases" && c.verb == "update")
            .count()
    };
    let before = renewals(&fake);
    support::eventually("renewed after the failure", support::WAIT, || async {
        (renewals(&fake) > before).then_some(())
    })
    .await;
    assert!(*leader.borrow(), "one failed renewal ended the lead");

    // Renewals failing for good: the holder steps down at the renew deadline (2 s), not at once.
    let failing = std::time::Instant::now();
    fake.inject(Fault {
        verb: "get".into(),
        resource: "leases".into(),
        status: 500,
        times: 1000,
    });
    tokio::time::timeout(Duration::from_secs(5), leader.wait_for(|l| !*l))
        .await
        .expect("steps down")
        .expect("lead lost");
    let after = failing.elapsed();
    assert!(
        after >= Duration::from_secs(1),
        "stepped down {after:?} after the first failure, before the renew deadline"
    );
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the lease loop ends")
        .expect("lease task");
}
