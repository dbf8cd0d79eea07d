//! What the desktop tells the user outside the window, decided from node events alone: the
//! notifications (a share found, a Bitcoin block found, a block won, all peers lost) and the
//! tray's lines (hashrate, odds). Pure logic, so every rule is tested without a desktop.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use p2share_api::types::BitcoinBlock;
use p2share_service::NodeEvent;

/// One desktop notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
}

/// Share notifications closer together than this are gathered into one.
pub const SHARE_QUIET: Duration = Duration::from_secs(60);

/// Turns events into notifications: one per Bitcoin block found or won and per loss of all
/// peers; shares found at most once per [`SHARE_QUIET`], the ones between counted.
#[derive(Debug, Default)]
pub struct Notices {
    peers: usize,
    last_share: Option<Instant>,
    held_shares: u32,
    held_height: u32,
    seen_blocks: Option<HashSet<String>>,
}

impl Notices {
    /// The notification `event` calls for at `now`, if any.
    pub fn on_event(&mut self, event: &NodeEvent, now: Instant) -> Option<Notice> {
        match event {
            NodeEvent::FoundShare { height, .. } => {
                let quiet = self
                    .last_share
                    .is_none_or(|t| now.duration_since(t) >= SHARE_QUIET);
                if quiet {
                    self.last_share = Some(now);
                    Some(Notice {
                        title: "Share found".into(),
                        body: format!("Your miner found the share at height {height}."),
                    })
                } else {
                    self.held_shares += 1;
                    self.held_height = *height;
                    None
                }
            }
            NodeEvent::BitcoinBlock(b) => Some(Notice {
                title: "Bitcoin block found".into(),
                body: if b.outcome == "accepted" {
                    format!(
                        "Your miner found Bitcoin block {} ({} sat to the selected share).",
                        b.bitcoin_height, b.value_sat
                    )
                } else {
                    format!(
                        "Your miner found a Bitcoin block at {}; the mainchain answered: {}.",
                        b.bitcoin_height, b.outcome
                    )
                },
            }),
            NodeEvent::Peers { connected } => {
                let lost = self.peers > 0 && *connected == 0;
                self.peers = *connected;
                lost.then(|| Notice {
                    title: "All peers lost".into(),
                    body: "No other node is connected; p2share keeps trying to reconnect.".into(),
                })
            }
            _ => None,
        }
    }

    /// The shares held back while it was noisy, once [`SHARE_QUIET`] has passed.
    pub fn flush(&mut self, now: Instant) -> Option<Notice> {
        let due = self
            .last_share
            .is_some_and(|t| now.duration_since(t) >= SHARE_QUIET);
        if self.held_shares == 0 || !due {
            return None;
        }
        let n = std::mem::take(&mut self.held_shares);
        self.last_share = Some(now);
        Some(Notice {
            title: if n == 1 {
                "Share found".into()
            } else {
                format!("{n} shares found")
            },
            body: format!(
                "Your miner's latest share is at height {}.",
                self.held_height
            ),
        })
    }

    /// Notifications for blocks in `recent` that paid this node and were not seen before. The
    /// first call only learns what is there: old wins are not news.
    pub fn on_blocks(&mut self, recent: &[BitcoinBlock]) -> Vec<Notice> {
        let first = self.seen_blocks.is_none();
        let seen = self.seen_blocks.get_or_insert_with(HashSet::new);
        let mut out = Vec::new();
        for b in recent {
            if seen.insert(b.bitcoin_hash.clone()) && !first && b.mine {
                out.push(Notice {
                    title: "You won a Bitcoin block".into(),
                    body: format!(
                        "Block {} paid {} to your share.",
                        short(&b.bitcoin_hash),
                        btc(b.value_sat)
                    ),
                });
            }
        }
        out
    }
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

/// `value` satoshis as BTC with 8 decimals.
pub fn btc(sat: u64) -> String {
    format!("{}.{:08} BTC", sat / 100_000_000, sat % 100_000_000)
}

/// A hashrate with its unit (H/s to EH/s).
pub fn hashrate(h: f64) -> String {
    const UNITS: [&str; 7] = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
    let mut v = if h.is_finite() && h > 0.0 { h } else { 0.0 };
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
}

/// What the tray shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrayView {
    /// Mining now.
    pub mining: bool,
    /// The local hashrate, H/s.
    pub hashrate: f64,
    /// The chance that the next Bitcoin block pays this node's shares (0–1), once known.
    pub odds: Option<f64>,
    /// Why the node is not running, when it failed.
    pub failed: Option<String>,
}

impl TrayView {
    /// The short label beside the icon.
    pub fn title(&self) -> String {
        if self.failed.is_some() {
            "p2share: stopped".into()
        } else if self.mining {
            hashrate(self.hashrate)
        } else {
            "idle".into()
        }
    }

    /// The menu's status line.
    pub fn status_line(&self) -> String {
        match &self.failed {
            Some(e) => format!("Node stopped: {e}"),
            None if self.mining => format!("Mining at {}", hashrate(self.hashrate)),
            None => "Not mining".into(),
        }
    }

    /// The menu's odds line.
    pub fn odds_line(&self) -> String {
        match self.odds {
            Some(p) => format!("Odds for the next block: {}", percent(p)),
            None => "Odds for the next block: no shares yet".into(),
        }
    }

    /// The label of the start/stop item.
    pub fn toggle_label(&self) -> &'static str {
        if self.mining {
            "Stop mining"
        } else {
            "Start mining"
        }
    }
}

/// `p` (0–1) as a percentage with sensible precision.
pub fn percent(p: f64) -> String {
    let pct = 100.0 * p;
    if pct == 0.0 || pct >= 10.0 {
        format!("{pct:.1} %")
    } else if pct >= 0.01 {
        format!("{pct:.2} %")
    } else {
        format!("{pct:.2e} %")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use bitcoin::hashes::Hash as _;
    use p2share_service::FoundBlock;

    fn found_share(height: u32) -> NodeEvent {
        NodeEvent::FoundShare {
            hash: p2share_consensus::ShareHash::from_byte_array([height as u8; 32]),
            height,
        }
    }

    fn block(hash: &str, mine: bool) -> BitcoinBlock {
        serde_json::from_value(serde_json::json!({
            "share": "00", "share_height": 1, "bitcoin_hash": hash, "time": 0, "payout": null,
            "paid_script": "51", "paid_address": null, "value_sat": 5_000_000_000u64, "mine": mine,
            "found_here": false, "selector_input": "", "outcome": null
        }))
        .unwrap()
    }

    #[test]
    fn shares_close_together_are_gathered_into_one_notice() {
        let mut n = Notices::default();
        let t0 = Instant::now();
        assert_eq!(
            n.on_event(&found_share(5), t0).unwrap().title,
            "Share found"
        );
        assert!(n
            .on_event(&found_share(6), t0 + Duration::from_secs(5))
            .is_none());
        assert!(n
            .on_event(&found_share(7), t0 + Duration::from_secs(9))
            .is_none());
        assert!(
            n.flush(t0 + Duration::from_secs(30)).is_none(),
            "still noisy"
        );
        let later = n.flush(t0 + SHARE_QUIET).unwrap();
        assert_eq!(later.title, "2 shares found");
        assert!(later.body.contains("height 7"), "{}", later.body);
        assert!(n.flush(t0 + 2 * SHARE_QUIET).is_none(), "nothing held");
    }

    #[test]
    fn losing_the_last_peer_is_told_once_and_starting_alone_is_not() {
        let mut n = Notices::default();
        let t = Instant::now();
        assert!(n.on_event(&NodeEvent::Peers { connected: 0 }, t).is_none());
        assert!(n.on_event(&NodeEvent::Peers { connected: 2 }, t).is_none());
        assert!(n.on_event(&NodeEvent::Peers { connected: 1 }, t).is_none());
        assert_eq!(
            n.on_event(&NodeEvent::Peers { connected: 0 }, t)
                .unwrap()
                .title,
            "All peers lost"
        );
        assert!(n.on_event(&NodeEvent::Peers { connected: 0 }, t).is_none());
    }

    #[test]
    fn a_found_block_says_what_the_mainchain_answered() {
        let mut n = Notices::default();
        let b = FoundBlock {
            block_hash: "ab".into(),
            bitcoin_height: 120,
            share: p2share_consensus::ShareHash::from_byte_array([1; 32]),
            share_height: 7,
            selected: None,
            paid_script: "51".into(),
            value_sat: 5_000_000_000,
            outcome: "high-hash".into(),
            time: 0,
            parent_share: None,
            finder: None,
        };
        let notice = n
            .on_event(&NodeEvent::BitcoinBlock(b), Instant::now())
            .unwrap();
        assert!(notice.body.contains("high-hash"), "{}", notice.body);
    }

    #[test]
    fn a_won_block_is_news_only_when_new_and_paying_this_node() {
        let mut n = Notices::default();
        assert!(
            n.on_blocks(&[block("aa", true)]).is_empty(),
            "old wins are not news"
        );
        let won = n.on_blocks(&[block("bb", true), block("cc", false), block("aa", true)]);
        assert_eq!(won.len(), 1);
        assert_eq!(won[0].title, "You won a Bitcoin block");
        assert!(won[0].body.contains("50.00000000 BTC"), "{}", won[0].body);
        assert!(n.on_blocks(&[block("bb", true)]).is_empty());
    }

    #[test]
    fn the_tray_lines_read_well() {
        assert_eq!(hashrate(0.0), "0 H/s");
        assert_eq!(hashrate(f64::NAN), "0 H/s");
        assert_eq!(hashrate(1_234_567.0), "1.23 MH/s");
        assert_eq!(hashrate(5e21), "5000.00 EH/s");
        assert_eq!(percent(0.5), "50.0 %");
        assert_eq!(percent(0.0123), "1.23 %");
        assert_eq!(percent(0.0), "0.0 %");
        let v = TrayView {
            mining: true,
            hashrate: 2e6,
            odds: Some(0.25),
            failed: None,
        };
        assert_eq!(v.title(), "2.00 MH/s");
        assert_eq!(v.odds_line(), "Odds for the next block: 25.0 %");
        assert_eq!(v.toggle_label(), "Stop mining");
        let idle = TrayView::default();
        assert_eq!(idle.status_line(), "Not mining");
        assert_eq!(idle.toggle_label(), "Start mining");
    }
}
