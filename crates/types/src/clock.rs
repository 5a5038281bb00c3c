//! The one place that reads the system clock. Everything else receives a [`Clock`], so
//! deletion windows, token expiry and schedules are tested by moving a [`ManualClock`].

use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

pub type SharedClock = Arc<dyn Clock>;

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the single sanctioned reader of the system clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to. Used by tests and by the server's test-only
/// time-control endpoint, where it starts at the real time and is then advanced.
#[derive(Debug)]
pub struct ManualClock {
    // An offset from a fixed base keeps the lock cheap and the arithmetic exact.
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    pub fn set(&self, to: OffsetDateTime) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A clock that follows the system clock plus an adjustable offset. The server uses it
/// in test mode so that time can be pushed forward while requests keep flowing.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset: Mutex<Duration>,
}

impl OffsetClock {
    pub fn advance(&self, by: Duration) {
        let mut off = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *off += by;
    }

    /// How far this clock runs ahead of the system clock.
    pub fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        let off = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        SystemClock.now() + off
    }
}

pub use OffsetClock as AdjustableClock;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
        assert_eq!(c.now(), datetime!(2026-01-01 0:00 UTC));
        c.advance(Duration::from_secs(86_400));
        assert_eq!(c.now(), datetime!(2026-01-02 0:00 UTC));
    }
}
