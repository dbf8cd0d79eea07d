//! The share wallet's view of the node: its unspent outputs (with maturity and eligibility, from
//! the node's UTXO set) and its history (scanned from the active chain's shares and the
//! sharechain mempool into the wallet database, following reorgs).
//!
//! History sync walks the active chain from the wallet's sync point to the tip. When the sync
//! point left the active chain (a reorg), it rolls back one window (the node refuses reorgs
//! deeper than its window, ADR 12) and rescans from there. Spends are recognised by the outputs
//! the wallet has seen paid to its scripts (rebuilt from the stored history at start).

use std::collections::{HashMap, HashSet};

use bitcoin::hashes::Hash;
use bitcoin::{OutPoint, ScriptBuf, Transaction, Txid};
use p2share_consensus::Share;
use p2share_service::Node;

use crate::db::{DbError, ShareTxRow, WalletDb};

/// One unspent output of the wallet on the sharechain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareCoin {
    /// The outpoint.
    pub outpoint: OutPoint,
    /// Units.
    pub value: u64,
    /// Its script (one of the wallet's).
    pub script: ScriptBuf,
    /// Height of the share that created it.
    pub height: u32,
    /// A sharebase output (subject to maturity).
    pub is_sharebase: bool,
    /// Spendable in the next share.
    pub mature: bool,
    /// Counted in `n`: the next Bitcoin block may pay it.
    pub eligible: bool,
}

/// The share wallet's balances, in units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShareBalance {
    /// Mature and not spent by a mempool transaction.
    pub spendable: u64,
    /// Sharebase outputs still maturing.
    pub immature: u64,
    /// Eligible for the Bitcoin payout draw (`v`).
    pub eligible: u64,
    /// The eligible total of the chain (`n`).
    pub eligible_total: u64,
    /// Arriving in mempool transactions.
    pub incoming: u64,
    /// Leaving in mempool transactions (spent outputs).
    pub outgoing: u64,
}

/// The wallet's unspent outputs and balances at the node's tip.
///
/// `scripts` are the wallet's watched scripts. Outputs spent by a mempool transaction are left
/// out of `spendable` (and listed with `spent_in_mempool`).
pub async fn coins(node: &Node, scripts: &HashSet<ScriptBuf>) -> (Vec<ShareCoin>, ShareBalance) {
    let (mut coins, mut balance) = node
        .with_chain(|c| {
            let (height, maturity) = (c.height(), c.params().maturity);
            let mut coins = Vec::new();
            for (op, coin) in c.utxo().iter() {
                if scripts.contains(&coin.output.script_pubkey) {
                    coins.push(ShareCoin {
                        outpoint: *op,
                        value: coin.output.value.to_sat(),
                        script: coin.output.script_pubkey.clone(),
                        height: coin.height,
                        is_sharebase: coin.is_sharebase,
                        mature: coin.is_mature(height, maturity),
                        eligible: coin.is_eligible(height, maturity),
                    });
                }
            }
            let balance = ShareBalance {
                eligible_total: c.utxo().eligible_total().to_units(),
                ..ShareBalance::default()
            };
            (coins, balance)
        })
        .await;
    let (spent, incoming) = node
        .with_mempool(|m| {
            let mut spent = HashSet::new();
            let mut incoming = 0u64;
            for e in m.iter() {
                let Some(tx) = m.get(&e.txid) else { continue };
                for i in &tx.input {
                    spent.insert(i.previous_output);
                }
                for o in &tx.output {
                    if scripts.contains(&o.script_pubkey) {
                        incoming = incoming.saturating_add(o.value.to_sat());
                    }
                }
            }
            (spent, incoming)
        })
        .await;
    for c in &coins {
        if c.eligible {
            balance.eligible += c.value;
        }
        if spent.contains(&c.outpoint) {
            balance.outgoing += c.value;
        } else if c.mature {
            balance.spendable += c.value;
        } else {
            balance.immature += c.value;
        }
    }
    balance.incoming = incoming;
    coins.retain(|c| !spent.contains(&c.outpoint));
    coins.sort_by_key(|c| (c.height, c.outpoint));
    (coins, balance)
}

/// Follows the node's active chain into the wallet's history.
#[derive(Debug, Default)]
pub struct HistorySync {
    /// Outputs paid to the wallet's scripts, ever seen: how spends are recognised.
    outputs: HashMap<OutPoint, u64>,
    loaded: bool,
}

/// What a history sync step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Shares scanned.
    pub shares: u32,
    /// History rows written.
    pub rows: usize,
    /// Whether a reorg rolled the history back.
    pub rolled_back: bool,
    /// Shares whose body the node had pruned (their transactions are missing from history).
    pub pruned: u32,
    /// Whether the history reached the node's tip (and took its mempool).
    pub caught_up: bool,
}

/// Most shares scanned per database transaction.
const SCAN_BATCH: u32 = 2_000;

impl HistorySync {
    fn note_outputs(&mut self, tx: &Transaction, scripts: &HashSet<ScriptBuf>) -> u64 {
        let txid = tx.compute_txid();
        let mut received = 0u64;
        for (vout, o) in tx.output.iter().enumerate() {
            if scripts.contains(&o.script_pubkey) {
                received = received.saturating_add(o.value.to_sat());
                self.outputs.insert(
                    OutPoint {
                        txid,
                        vout: u32::try_from(vout).unwrap_or(u32::MAX),
                    },
                    o.value.to_sat(),
                );
            }
        }
        received
    }

    /// The history row of `tx` if it touches the wallet.
    fn row(
        &mut self,
        tx: &Transaction,
        scripts: &HashSet<ScriptBuf>,
        place: Option<(u32, [u8; 32])>,
        time: u64,
    ) -> Option<ShareTxRow> {
        let mut sent = 0u64;
        let mut all_known = !tx.is_coinbase();
        for i in &tx.input {
            match self.outputs.get(&i.previous_output) {
                Some(v) => sent = sent.saturating_add(*v),
                None => all_known = false,
            }
        }
        let received = self.note_outputs(tx, scripts);
        if sent == 0 && received == 0 {
            return None;
        }
        let out_total: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        Some(ShareTxRow {
            txid: tx.compute_txid(),
            height: place.map(|p| p.0),
            share_hash: place.map(|p| p.1),
            time,
            received,
            sent,
            fee: all_known.then(|| sent.saturating_sub(out_total)),
            tx: tx.clone(),
        })
    }

    /// Moves the history towards the node's tip: rolls back on a reorg, scans at most
    /// `max_shares` new shares in batches (one database transaction each), then, once at the
    /// tip, the mempool.
    ///
    /// # Errors
    /// A database failure; the sync point only moves with what was written.
    pub async fn sync(
        &mut self,
        node: &Node,
        db: &WalletDb,
        scripts: &HashSet<ScriptBuf>,
        max_shares: u32,
    ) -> Result<SyncReport, DbError> {
        let mut report = SyncReport::default();
        if !self.loaded {
            // Every output the stored history paid to the wallet (in pages, newest first).
            let mut offset = 0u32;
            loop {
                let page = db.share_history(offset, 5_000).await?;
                if page.is_empty() {
                    break;
                }
                offset += u32::try_from(page.len()).unwrap_or(u32::MAX);
                for r in &page {
                    self.note_outputs(&r.tx, scripts);
                }
            }
            self.loaded = true;
        }
        let (tip_height, window) = node.with_chain(|c| (c.height(), c.window())).await;
        let mut from = match db.share_sync().await? {
            None => 0,
            Some((h, hash)) => {
                let active = node.with_chain(|c| c.hash_at(h)).await;
                if active.map(|a| a.to_byte_array()) == Some(hash) {
                    h + 1
                } else {
                    report.rolled_back = true;
                    let fork = h.saturating_sub(window).min(tip_height);
                    db.apply_share_step(Some(fork), &[], (fork, active_hash(node, fork).await))
                        .await?;
                    fork + 1
                }
            }
        };
        let end = tip_height.min(from.saturating_add(max_shares.max(1) - 1));
        while from <= end {
            let to = end.min(from.saturating_add(SCAN_BATCH - 1));
            let mut rows = Vec::new();
            let mut last = None;
            for h in from..=to {
                let record = match node.share_at(h).await {
                    Ok(Some(r)) => r,
                    // The chain moved under us: the next pass sees the reorg.
                    _ => break,
                };
                let hash = record.head.hash().to_byte_array();
                report.shares += 1;
                match record.share.as_ref() {
                    Some(share) => self.scan_share(share, scripts, h, hash, &mut rows),
                    None => report.pruned += 1,
                }
                last = Some((h, hash));
            }
            let Some(point) = last else { break };
            report.rows += rows.len();
            db.apply_share_step(None, &rows, point).await?;
            from = point.0 + 1;
        }
        if from > tip_height {
            report.caught_up = true;
            report.rows += self.sync_mempool(node, db, scripts).await?;
        }
        Ok(report)
    }

    fn scan_share(
        &mut self,
        share: &Share,
        scripts: &HashSet<ScriptBuf>,
        height: u32,
        hash: [u8; 32],
        rows: &mut Vec<ShareTxRow>,
    ) {
        let time = u64::from(share.head.header.time);
        for tx in &share.txs {
            if let Some(r) = self.row(tx, scripts, Some((height, hash)), time) {
                rows.push(r);
            }
        }
    }

    async fn sync_mempool(
        &mut self,
        node: &Node,
        db: &WalletDb,
        scripts: &HashSet<ScriptBuf>,
    ) -> Result<usize, DbError> {
        let pool: Vec<(Transaction, u64)> = node
            .with_mempool(|m| {
                m.iter()
                    .filter_map(|e| m.get(&e.txid).map(|tx| (tx.clone(), e.time)))
                    .collect()
            })
            .await;
        let in_pool: HashSet<Txid> = pool.iter().map(|(tx, _)| tx.compute_txid()).collect();
        let mut rows = Vec::new();
        for (tx, time) in &pool {
            if let Some(r) = self.row(tx, scripts, None, *time) {
                rows.push(r);
            }
        }
        let gone: Vec<Txid> = db
            .unconfirmed_share_txids()
            .await?
            .into_iter()
            .filter(|t| !in_pool.contains(t))
            .collect();
        if rows.is_empty() && gone.is_empty() {
            return Ok(0);
        }
        let n = rows.len();
        db.apply_mempool_rows(&rows, &gone).await?;
        Ok(n)
    }
}

async fn active_hash(node: &Node, height: u32) -> [u8; 32] {
    node.with_chain(|c| c.hash_at(height))
        .await
        .map_or([0; 32], |h| h.to_byte_array())
}
