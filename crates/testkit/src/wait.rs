//! Readiness polls: wait for a condition instead of sleeping a guessed time.

use std::time::{Duration, Instant};

/// How often a poll checks again.
const INTERVAL: Duration = Duration::from_millis(20);

/// What a check returns: `bool` (done or not) or `Option<T>` (done with a value).
pub trait Check {
    /// The value a finished poll returns.
    type Value;
    /// `Some` once the condition holds.
    fn done(self) -> Option<Self::Value>;
}

impl Check for bool {
    type Value = ();
    fn done(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Check for Option<T> {
    type Value = T;
    fn done(self) -> Option<T> {
        self
    }
}

/// Polls the async `check` every 20 ms until it holds (`true` or `Some`), and returns its value;
/// panics naming `what` after `timeout`.
pub async fn eventually<C: Check>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> C,
) -> C::Value {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await.done() {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// [`eventually`] for tests without an async runtime: the same poll, sleeping the thread.
pub fn eventually_blocking<C: Check>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> C,
) -> C::Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().done() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_poll_returns_the_value_once_it_holds() {
        let mut calls = 0;
        let value = eventually_blocking("the third call", Duration::from_secs(5), || {
            calls += 1;
            (calls == 3).then_some(calls * 10)
        });
        assert_eq!(value, 30);
    }

    #[test]
    #[should_panic(expected = "timed out after 50ms waiting for never")]
    fn a_blocking_poll_names_what_it_waited_for() {
        eventually_blocking("never", Duration::from_millis(50), || false);
    }

    #[tokio::test]
    async fn an_async_poll_takes_bool_and_option_checks() {
        let mut calls = 0;
        eventually("a bool check", Duration::from_secs(5), async || {
            calls += 1;
            calls >= 2
        })
        .await;
        assert_eq!(calls, 2);
        let value = eventually("an option check", Duration::from_secs(5), || async {
            Some("ready")
        })
        .await;
        assert_eq!(value, "ready");
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for never")]
    async fn an_async_poll_panics_after_the_timeout() {
        eventually("never", Duration::from_millis(50), async || None::<()>).await;
    }
}
