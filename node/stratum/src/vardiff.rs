//! Vardiff: one device share per `share_interval`.
//!
//! The rule: shares accepted since the last retarget are counted with the difficulty of their
//! job. A retarget is due after [`RETARGET_SHARES`] shares or after the period
//! (`max(60 s, 6 × share_interval)`), whichever comes first. The ideal difficulty is
//! `Σdifficulty × share_interval / elapsed` (a quarter of the current one when no share came in
//! a whole period). The difficulty changes only when the ideal is off by more than
//! [`DEAD_BAND`]×, by at most [`MAX_STEP`]× per retarget, to the nearest power of two, within
//! the clamps. Every due check starts a new window.

use std::time::{Duration, Instant};

/// Accepted shares that make a retarget due before the period ends (fast ramp-up).
pub const RETARGET_SHARES: u32 = 20;
/// The shortest retarget period.
pub const MIN_RETARGET_PERIOD: Duration = Duration::from_secs(60);
/// No change while the ideal difficulty is within this factor of the current one.
pub const DEAD_BAND: f64 = 2.0;
/// The largest factor one retarget moves the difficulty by.
pub const MAX_STEP: f64 = 16.0;

/// The vardiff state of one connection.
#[derive(Debug, Clone)]
pub struct Vardiff {
    interval: f64,
    period: Duration,
    start: Instant,
    shares: u32,
    sum: f64,
}

impl Vardiff {
    /// A controller aiming at one share per `interval`, its first window starting `now`.
    pub fn new(interval: Duration, now: Instant) -> Vardiff {
        let period = MIN_RETARGET_PERIOD.max(interval.saturating_mul(6));
        Vardiff {
            interval: interval.as_secs_f64(),
            period,
            start: now,
            shares: 0,
            sum: 0.0,
        }
    }

    /// Counts an accepted share of a job at `difficulty`.
    pub fn record(&mut self, difficulty: f64) {
        self.shares = self.shares.saturating_add(1);
        self.sum += difficulty;
    }

    /// Starts a new window (after a difficulty change from elsewhere, e.g. a suggestion).
    pub fn reset(&mut self, now: Instant) {
        self.start = now;
        self.shares = 0;
        self.sum = 0.0;
    }

    /// When the window's period ends (a retarget is due then even without shares).
    pub fn deadline(&self) -> Instant {
        crate::session::later(self.start, self.period)
    }

    /// Whether a retarget is due.
    pub fn due(&self, now: Instant) -> bool {
        self.shares >= RETARGET_SHARES || now >= self.deadline()
    }

    /// The new difficulty if a retarget is due and calls for a change; starts a new window
    /// whenever one was due.
    pub fn retarget(&mut self, current: f64, min: f64, max: f64, now: Instant) -> Option<f64> {
        if !self.due(now) {
            return None;
        }
        let elapsed = now
            .saturating_duration_since(self.start)
            .as_secs_f64()
            .max(0.001);
        let ideal = if self.shares == 0 {
            current / 4.0
        } else {
            self.sum * self.interval / elapsed
        };
        self.reset(now);
        if current.is_nan() || current <= 0.0 || !ideal.is_finite() {
            return None;
        }
        let ratio = (ideal / current).clamp(1.0 / MAX_STEP, MAX_STEP);
        if (1.0 / DEAD_BAND..=DEAD_BAND).contains(&ratio) {
            return None;
        }
        let new = nearest_power_of_two(current * ratio).clamp(min, max);
        (new != current).then_some(new)
    }
}

/// The power of two nearest to `x` (in log scale).
fn nearest_power_of_two(x: f64) -> f64 {
    let e = x.log2().round().clamp(-1000.0, 1000.0);
    // `e` is an integer within ±1000 here.
    2f64.powi(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device of `hashrate` H/s submitting exactly its expected shares: the difficulty
    /// settles within the dead band of one share per interval.
    fn settle(hashrate: f64, start: f64, min: f64, max: f64) -> f64 {
        let interval = Duration::from_secs(10);
        let t0 = Instant::now();
        let mut v = Vardiff::new(interval, t0);
        let mut d = start;
        let mut now = t0;
        let mut credit = 0.0;
        for _ in 0..200_000 {
            now += Duration::from_millis(100);
            credit += hashrate * 0.1 / (d * 4_294_967_296.0);
            while credit >= 1.0 {
                credit -= 1.0;
                v.record(d);
            }
            if let Some(n) = v.retarget(d, min, max, now) {
                d = n;
                credit = 0.0;
            }
        }
        d
    }

    #[test]
    fn settles_near_one_share_per_interval_from_far_below_and_above() {
        for (hashrate, start) in [(5e11, 1e-4), (4e12, 1e6), (150_000.0, 1.0), (2.6e12, 512.0)] {
            let ideal = hashrate * 10.0 / 4_294_967_296.0;
            let d = settle(hashrate, start, 1e-8, 1e15);
            assert!(
                d / ideal <= 2.0 && ideal / d <= 2.0,
                "{hashrate}: {d} vs {ideal}"
            );
        }
    }

    #[test]
    fn clamps_hold() {
        assert_eq!(settle(1e13, 1.0, 1e-6, 64.0), 64.0);
        assert_eq!(settle(10.0, 1.0, 1e-4, 64.0), 1e-4);
    }

    #[test]
    fn no_change_inside_the_dead_band_and_bounded_steps() {
        let t0 = Instant::now();
        let mut v = Vardiff::new(Duration::from_secs(10), t0);
        for _ in 0..8 {
            v.record(1.0);
        }
        // 8 shares in 60 s at difficulty 1: ideal 1.33 → no change.
        assert_eq!(
            v.retarget(1.0, 1e-6, 1e6, t0 + Duration::from_secs(60)),
            None
        );
        // 20 shares in 1 ms: up by at most MAX_STEP.
        for _ in 0..20 {
            v.record(1.0);
        }
        let t1 = t0 + Duration::from_secs(60) + Duration::from_millis(1);
        assert_eq!(v.retarget(1.0, 1e-6, 1e6, t1), Some(16.0));
        // A whole period without a share: a quarter.
        assert_eq!(
            v.retarget(16.0, 1e-6, 1e6, t1 + Duration::from_secs(60)),
            Some(4.0)
        );
        // Not due: nothing.
        assert_eq!(
            v.retarget(4.0, 1e-6, 1e6, t1 + Duration::from_secs(61)),
            None
        );
    }
}
