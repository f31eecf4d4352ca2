//! A clock the tests move by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jwt_guard::Clock;

/// Where every test clock starts, in milliseconds since the epoch: a fixed,
/// recent time, on a whole second.
const START_MS: u64 = 1_800_000_000_000;

/// A clock tests move by hand, shared by its clones: give one clone to
/// `TokenManagerBuilder::clock` and [`advance`](TestClock::advance) another.
#[derive(Clone, Debug)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// Starts at a fixed, recent time, on a whole second.
    pub fn new() -> Self {
        Self(Arc::new(AtomicU64::new(START_MS)))
    }

    /// Moves the clock forward by `by` (whole milliseconds).
    pub fn advance(&self, by: Duration) {
        self.0
            .fetch_add(u64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
    }

    /// How far the clock has moved since it started.
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst) - START_MS)
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
}
