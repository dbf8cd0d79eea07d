//! Peer scores, request rate limits and bans: the bookkeeping behind
//! [`crate::P2pHandle::penalize`], without any I/O (time is an argument).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Score at which a peer is banned.
pub const BAN_SCORE: u32 = 100;
/// A peer's score falls by one point per this interval of good behaviour.
pub const SCORE_DECAY_INTERVAL: Duration = Duration::from_secs(60);

/// Misbehaviour a peer can be penalized for, with its penalty in score points (a peer is
/// banned when its score reaches [`BAN_SCORE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Misbehavior {
    /// Sent a message that does not decode (or a frame over the size limit): banned at once.
    Malformed,
    /// Sent (or propagated) an invalid share: banned at once.
    InvalidShare,
    /// Sent (or propagated) an invalid transaction: banned at once.
    InvalidTx,
    /// Sent (or propagated) a Bitcoin block that Bitcoin Core's consensus refuses: banned at once.
    InvalidBitcoinBlock,
    /// Exceeded the inbound request rate: 10 points per excess request.
    Flood,
    /// Did not answer a request in time: 5 points.
    Unresponsive,
    /// Sent data that was valid but useless (already known, not asked for): 1 point.
    UselessData,
}

impl Misbehavior {
    /// The penalty in score points.
    pub fn penalty(self) -> u32 {
        match self {
            Misbehavior::Malformed
            | Misbehavior::InvalidShare
            | Misbehavior::InvalidTx
            | Misbehavior::InvalidBitcoinBlock => BAN_SCORE,
            Misbehavior::Flood => 10,
            Misbehavior::Unresponsive => 5,
            Misbehavior::UselessData => 1,
        }
    }
}

impl fmt::Display for Misbehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Misbehavior::Malformed => "malformed message",
            Misbehavior::InvalidShare => "invalid share",
            Misbehavior::InvalidTx => "invalid transaction",
            Misbehavior::InvalidBitcoinBlock => "invalid Bitcoin block",
            Misbehavior::Flood => "request flood",
            Misbehavior::Unresponsive => "unresponsive",
            Misbehavior::UselessData => "useless data",
        })
    }
}

/// A token bucket: `rate` tokens per second, holding at most `rate` (at least one).
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate: u32, now: Instant) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(rate.max(1)),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn try_take(&mut self, rate: u32, now: Instant) -> bool {
        let cap = f64::from(rate.max(1));
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(cap);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What [`PeerBook::penalize`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PenaltyOutcome {
    /// The peer's new score, below the ban threshold.
    Scored(u32),
    /// The peer is now banned until the given instant.
    Banned(Instant),
    /// The peer was already banned; nothing changed.
    AlreadyBanned,
}

#[derive(Clone, Debug)]
struct Ban {
    until: Instant,
}

/// Scores, buckets and bans of all peers.
#[derive(Debug)]
pub(crate) struct PeerBook {
    scores: HashMap<PeerId, (u32, Instant)>,
    buckets: HashMap<PeerId, TokenBucket>,
    bans: HashMap<PeerId, Ban>,
    rate: u32,
    ban_duration: Duration,
}

impl PeerBook {
    pub(crate) fn new(rate: u32, ban_duration: Duration) -> PeerBook {
        PeerBook {
            scores: HashMap::new(),
            buckets: HashMap::new(),
            bans: HashMap::new(),
            rate,
            ban_duration,
        }
    }

    /// The peer's current score (after decay).
    pub(crate) fn score(&self, peer: &PeerId, now: Instant) -> u32 {
        self.scores
            .get(peer)
            .map_or(0, |(score, since)| decayed(*score, *since, now))
    }

    pub(crate) fn is_banned(&self, peer: &PeerId) -> bool {
        self.bans.contains_key(peer)
    }

    /// Adds the penalty of `what`; bans the peer when its score reaches [`BAN_SCORE`].
    pub(crate) fn penalize(
        &mut self,
        peer: PeerId,
        what: Misbehavior,
        now: Instant,
    ) -> PenaltyOutcome {
        if self.is_banned(&peer) {
            return PenaltyOutcome::AlreadyBanned;
        }
        let score = self.score(&peer, now).saturating_add(what.penalty());
        if score >= BAN_SCORE {
            self.scores.remove(&peer);
            self.buckets.remove(&peer);
            let until = now + self.ban_duration;
            self.bans.insert(peer, Ban { until });
            PenaltyOutcome::Banned(until)
        } else {
            self.scores.insert(peer, (score, now));
            PenaltyOutcome::Scored(score)
        }
    }

    /// Takes a request token for `peer`; `false` if it is over its rate.
    pub(crate) fn allow_request(&mut self, peer: PeerId, now: Instant) -> bool {
        let rate = self.rate;
        self.buckets
            .entry(peer)
            .or_insert_with(|| TokenBucket::new(rate, now))
            .try_take(rate, now)
    }

    /// Forgets the rate bucket of a peer that has no connection left.
    pub(crate) fn disconnected(&mut self, peer: &PeerId) {
        self.buckets.remove(peer);
    }

    /// Lifts the bans that expired at `now` and drops fully decayed scores; returns the peers
    /// whose ban was lifted.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<PeerId> {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, ban)| ban.until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.bans.remove(peer);
        }
        self.scores
            .retain(|_, (score, since)| decayed(*score, *since, now) > 0);
        expired
    }

    /// The banned peers with the time left on their bans.
    pub(crate) fn banned(&self, now: Instant) -> Vec<(PeerId, Duration)> {
        let mut out: Vec<(PeerId, Duration)> = self
            .bans
            .iter()
            .map(|(peer, ban)| (*peer, ban.until.saturating_duration_since(now)))
            .collect();
        out.sort_by_key(|(peer, left)| (*left, *peer));
        out
    }
}

fn decayed(score: u32, since: Instant, now: Instant) -> u32 {
    let steps = now.saturating_duration_since(since).as_secs() / SCORE_DECAY_INTERVAL.as_secs();
    score.saturating_sub(u32::try_from(steps).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn immediate_bans_and_accumulating_penalties() {
        let now = Instant::now();
        let mut book = PeerBook::new(20, Duration::from_secs(10));
        let a = PeerId::random();
        assert_eq!(
            book.penalize(a, Misbehavior::Malformed, now),
            PenaltyOutcome::Banned(now + Duration::from_secs(10))
        );
        assert_eq!(
            book.penalize(a, Misbehavior::Flood, now),
            PenaltyOutcome::AlreadyBanned
        );
        let b = PeerId::random();
        for i in 1..10 {
            assert_eq!(
                book.penalize(b, Misbehavior::Flood, now),
                PenaltyOutcome::Scored(10 * i)
            );
        }
        assert!(matches!(
            book.penalize(b, Misbehavior::Flood, now),
            PenaltyOutcome::Banned(_)
        ));
        assert_eq!(book.banned(now).len(), 2);
        assert!(book.expire(now + Duration::from_secs(9)).is_empty());
        let mut lifted = book.expire(now + Duration::from_secs(10));
        lifted.sort();
        let mut both = vec![a, b];
        both.sort();
        assert_eq!(lifted, both);
        assert!(!book.is_banned(&a));
        assert_eq!(book.score(&b, now), 0, "a ban resets the score");
    }

    #[test]
    fn scores_decay_over_time() {
        let now = Instant::now();
        let mut book = PeerBook::new(20, Duration::from_secs(10));
        let p = PeerId::random();
        book.penalize(p, Misbehavior::Unresponsive, now);
        assert_eq!(book.score(&p, now), 5);
        assert_eq!(book.score(&p, now + SCORE_DECAY_INTERVAL * 2), 3);
        book.expire(now + SCORE_DECAY_INTERVAL * 5);
        assert_eq!(book.score(&p, now), 0);
    }

    #[test]
    fn the_token_bucket_allows_a_burst_then_the_rate() {
        let now = Instant::now();
        let mut book = PeerBook::new(20, Duration::from_secs(10));
        let p = PeerId::random();
        for _ in 0..20 {
            assert!(book.allow_request(p, now));
        }
        assert!(!book.allow_request(p, now));
        assert!(book.allow_request(p, now + Duration::from_millis(50)));
        assert!(!book.allow_request(p, now + Duration::from_millis(50)));
        assert!(book.allow_request(p, now + Duration::from_secs(5)));
    }
}
