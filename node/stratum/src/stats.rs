//! What the server reports: per-worker statistics and events.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Why a device share was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectReason {
    /// Its job was issued before a clean notify (error 21).
    Stale,
    /// The same share was submitted before (error 22).
    Duplicate,
    /// Below its job's difficulty (error 23).
    LowDifficulty,
    /// Unknown (or long gone) job id (error 21).
    BadJob,
    /// Anything else: malformed params, ntime out of range, version bits outside the mask,
    /// unauthorized, not subscribed (errors 20, 24, 25).
    Other,
}

/// Rejected device shares by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rejections {
    /// Stale jobs.
    pub stale: u64,
    /// Duplicates.
    pub duplicate: u64,
    /// Below the job's difficulty.
    pub low_difficulty: u64,
    /// Unknown job ids.
    pub bad_job: u64,
    /// Everything else.
    pub other: u64,
}

impl Rejections {
    /// Counts one rejection.
    pub fn add(&mut self, reason: RejectReason) {
        let c = match reason {
            RejectReason::Stale => &mut self.stale,
            RejectReason::Duplicate => &mut self.duplicate,
            RejectReason::LowDifficulty => &mut self.low_difficulty,
            RejectReason::BadJob => &mut self.bad_job,
            RejectReason::Other => &mut self.other,
        };
        *c += 1;
    }

    /// All rejections.
    pub fn total(&self) -> u64 {
        self.stale + self.duplicate + self.low_difficulty + self.bad_job + self.other
    }
}

/// One connection's statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerStats {
    /// Connection id (unique per server run).
    pub id: u64,
    /// The authorize user string (`address.worker`; empty before authorize).
    pub worker: String,
    /// The address part (before the first `.`).
    pub address: String,
    /// The worker name (after the first `.`; may be empty).
    pub name: String,
    /// The device's user agent from `mining.subscribe` (may be empty).
    pub user_agent: String,
    /// The peer's socket address.
    pub remote: String,
    /// Unix seconds of the connection.
    pub connected_at: u64,
    /// Unix seconds of the last complete line.
    pub last_seen: u64,
    /// Current difficulty.
    pub difficulty: f64,
    /// Hashes per second over the last minute, from accepted difficulty (`Σd·2³²/window`).
    pub hashrate_1m: f64,
    /// … over the last 15 minutes.
    pub hashrate_15m: f64,
    /// … over the last hour.
    pub hashrate_1h: f64,
    /// Accepted device shares.
    pub accepted: u64,
    /// Rejected device shares by reason.
    pub rejected: Rejections,
    /// Highest share difficulty seen (accepted shares).
    pub best_difficulty: f64,
    /// Shares handed to the solution handler.
    pub solutions: u64,
}

/// Something that happened on the server, for dashboards and logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StratumEvent {
    /// A device connected.
    Connected {
        /// Connection id.
        id: u64,
        /// Peer address.
        remote: String,
    },
    /// A device authorized.
    Authorized {
        /// Connection id.
        id: u64,
        /// The authorize user string.
        worker: String,
    },
    /// A device went away (or was closed).
    Disconnected {
        /// Connection id.
        id: u64,
        /// Why.
        reason: String,
    },
    /// A device share was accepted.
    ShareAccepted {
        /// Connection id.
        id: u64,
        /// The job's difficulty.
        difficulty: f64,
        /// The share's own difficulty.
        share_difficulty: f64,
        /// Whether it went to the solution handler.
        solution: bool,
    },
    /// A device share was rejected.
    ShareRejected {
        /// Connection id.
        id: u64,
        /// Why.
        reason: RejectReason,
    },
    /// A connection's difficulty changed.
    DifficultyChanged {
        /// Connection id.
        id: u64,
        /// The new difficulty.
        difficulty: f64,
    },
}

const SHORT_BUCKET: u64 = 10; // seconds
const SHORT_BUCKETS: usize = 6;
const LONG_BUCKET: u64 = 60;
const LONG_BUCKETS: usize = 60;

/// Accepted difficulty in time buckets: 6 × 10 s for the 1-minute rate, 60 × 1 min for the
/// 15-minute and 1-hour rates.
#[derive(Debug, Clone)]
pub(crate) struct HashrateMeter {
    start: Instant,
    short: [f64; SHORT_BUCKETS],
    short_at: u64,
    long: [f64; LONG_BUCKETS],
    long_at: u64,
}

fn advance<const N: usize>(ring: &mut [f64; N], at: &mut u64, now: u64) {
    if now <= *at {
        return;
    }
    let gap = now - *at;
    if gap >= N as u64 {
        *ring = [0.0; N];
    } else {
        for i in 1..=gap {
            ring[((*at + i) % N as u64) as usize] = 0.0;
        }
    }
    *at = now;
}

/// The sum of the `n` most recent buckets of a ring advanced to bucket `at`.
fn recent<const N: usize>(ring: &[f64; N], at: u64, n: usize) -> f64 {
    let head = (at % N as u64) as usize;
    (0..n.min(N)).map(|i| ring[(head + N - i) % N]).sum()
}

impl HashrateMeter {
    pub(crate) fn new(now: Instant) -> HashrateMeter {
        HashrateMeter {
            start: now,
            short: [0.0; SHORT_BUCKETS],
            short_at: 0,
            long: [0.0; LONG_BUCKETS],
            long_at: 0,
        }
    }

    fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs()
    }

    pub(crate) fn add(&mut self, difficulty: f64, now: Instant) {
        let s = self.secs(now);
        advance(&mut self.short, &mut self.short_at, s / SHORT_BUCKET);
        advance(&mut self.long, &mut self.long_at, s / LONG_BUCKET);
        self.short[(self.short_at % SHORT_BUCKETS as u64) as usize] += difficulty;
        self.long[(self.long_at % LONG_BUCKETS as u64) as usize] += difficulty;
    }

    /// Hashes per second over the last `window` (1 min, 15 min or 1 h), divided by the
    /// connection's age while it is younger than the window.
    pub(crate) fn rate(&self, window: Duration, now: Instant) -> f64 {
        let s = self.secs(now);
        let w = window.as_secs().max(1);
        let sum = if w <= SHORT_BUCKET * SHORT_BUCKETS as u64 {
            let (mut ring, mut at) = (self.short, self.short_at);
            advance(&mut ring, &mut at, s / SHORT_BUCKET);
            recent(
                &ring,
                at,
                usize::try_from(w.div_ceil(SHORT_BUCKET)).unwrap_or(SHORT_BUCKETS),
            )
        } else {
            let (mut ring, mut at) = (self.long, self.long_at);
            advance(&mut ring, &mut at, s / LONG_BUCKET);
            recent(
                &ring,
                at,
                usize::try_from(w.div_ceil(LONG_BUCKET)).unwrap_or(LONG_BUCKETS),
            )
        };
        sum * 4_294_967_296.0 / w.min(s.max(1)) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashrate_is_accepted_difficulty_times_2_32_over_the_window() {
        let t0 = Instant::now();
        let mut m = HashrateMeter::new(t0);
        // Difficulty 1 every second for two hours: 2^32 H/s in every window.
        for i in 0..7200u64 {
            m.add(1.0, t0 + Duration::from_secs(i));
        }
        let now = t0 + Duration::from_secs(7200);
        for w in [60, 900, 3600] {
            let r = m.rate(Duration::from_secs(w), now);
            let want = 4_294_967_296.0;
            assert!((r / want - 1.0).abs() < 0.2, "{w}: {r}");
        }
        // An hour later with no shares: zero.
        let later = now + Duration::from_secs(3600);
        assert_eq!(m.rate(Duration::from_secs(60), later), 0.0);
        assert_eq!(m.rate(Duration::from_secs(3600), later), 0.0);
    }

    #[test]
    fn young_connections_divide_by_their_age() {
        let t0 = Instant::now();
        let mut m = HashrateMeter::new(t0);
        m.add(10.0, t0 + Duration::from_secs(5));
        let r = m.rate(Duration::from_secs(3600), t0 + Duration::from_secs(10));
        assert_eq!(r, 10.0 * 4_294_967_296.0 / 10.0);
    }

    #[test]
    fn rejections_count_by_reason() {
        let mut r = Rejections::default();
        r.add(RejectReason::Stale);
        r.add(RejectReason::Other);
        r.add(RejectReason::Other);
        assert_eq!((r.stale, r.other, r.total()), (1, 2, 3));
    }
}
