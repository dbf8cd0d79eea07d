//! Requests about the sharechain: summary, shares, payouts, outputs and ranges, Bitcoin blocks,
//! the mempool and the store.

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::hex::{DisplayHex, FromHex};
use bitcoin::{ScriptBuf, Transaction};
use p2share_consensus::chain::AcceptOutcome;
use p2share_consensus::payout::Payout;
use p2share_consensus::utxo::outpoint_key;
use p2share_consensus::validation::coinbase_payee;
use p2share_consensus::{ChainError, Share, ShareHash, ShareHead};
use p2share_service::{NodeError, Origin, ShareRecord};

use super::{Api, ApiError};
use crate::types::{
    Balance, BitcoinBlock, BitcoinWorkInfo, ChainInfo, MempoolInfo, NextPayout, PayeeInfo,
    PayoutInfo, RangeOutput, Selection, ShareInfo, SharePayout, ShareRanges, StoreInfo,
    SubmitShareReply, TxInfo, UnspentOutput,
};

/// Bitcoin blocks listed at most.
pub const MAX_BITCOIN_BLOCKS: u32 = 1_000;
/// Recent selections listed by `getshareranges`.
pub const RECENT_SELECTIONS: usize = 50;

impl From<&Payout> for PayoutInfo {
    fn from(p: &Payout) -> PayoutInfo {
        PayoutInfo {
            q: p.q,
            n: p.n.to_units(),
            txid: p.outpoint.txid.to_string(),
            vout: p.outpoint.vout,
            script_pubkey: p.script_pubkey.to_hex_string(),
            value: p.value.to_units(),
            range_start: p.start,
        }
    }
}

impl Api {
    fn payee_of(&self, head: &ShareHead) -> Option<PayeeInfo> {
        coinbase_payee(head).map(|(i, out)| PayeeInfo {
            vout: i as u64,
            script_pubkey: out.script_pubkey.to_hex_string(),
            address: self.address_of(&out.script_pubkey),
            value_sat: out.value.to_sat(),
        })
    }

    async fn recorded_payout(&self, hash: &ShareHash) -> Result<Option<Payout>, ApiError> {
        match self.node.with_chain(|c| c.payout_of(hash).cloned()).await {
            Some(p) => Ok(Some(p)),
            None => self
                .node
                .store()
                .payout(hash)
                .await
                .map_err(ApiError::internal),
        }
    }

    async fn share_info(&self, r: ShareRecord) -> Result<ShareInfo, ApiError> {
        let h = &r.head.header;
        let w = &r.head.work;
        let hash = r.head.hash();
        let payout = self.recorded_payout(&hash).await?;
        Ok(ShareInfo {
            hash: hash.to_string(),
            height: r.height,
            active: r.active,
            version: h.version,
            prev_share: h.prev_share.to_string(),
            tx_root: h.tx_root.to_string(),
            time: h.time,
            bits: format!("{:08x}", h.bits),
            bitcoin: BitcoinWorkInfo {
                block_hash: w.header.block_hash().to_string(),
                prev_block: w.header.prev_blockhash.to_string(),
                time: w.header.time,
                bits: format!("{:08x}", w.header.bits.to_consensus()),
                nonce: w.header.nonce,
                coinbase_txid: w.coinbase.compute_txid().to_string(),
                payee: self.payee_of(&r.head),
            },
            payout: payout.as_ref().map(PayoutInfo::from),
            pruned: r.share.is_none(),
            tx: r.share.as_ref().map(|s| {
                s.txs
                    .iter()
                    .map(|tx| TxInfo {
                        txid: tx.compute_txid().to_string(),
                        hex: serialize_hex(tx),
                    })
                    .collect()
            }),
            hex: r.share.as_ref().map(|s| s.encode().to_lower_hex_string()),
        })
    }

    /// `getsharechaininfo`.
    pub async fn chain_info(&self) -> ChainInfo {
        let s = self.node.summary().await;
        let mempool = self.node.mempool_info().await;
        ChainInfo {
            network: s.network,
            genesis: s.genesis.to_string(),
            tip: s.tip.to_string(),
            height: s.height,
            chain_work: s.chain_work,
            next_bits: s.next_bits,
            difficulty: s.difficulty,
            median_time_past: s.median_time_past,
            tip_time: s.tip_time,
            utxos: s.utxos as u64,
            eligible_total: s.eligible_total,
            window: s.window,
            sync: self.net.sync_status(),
            mempool_size: mempool.count as u64,
        }
    }

    /// `getshare`: any share the node knows.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown share.
    pub async fn share(&self, hash: &ShareHash) -> Result<ShareInfo, ApiError> {
        match self.node.share(hash).await? {
            Some(r) => self.share_info(r).await,
            None => Err(ApiError::NotFound(format!("share {hash}"))),
        }
    }

    /// `getsharebyheight`: the active share at `height`.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] above the tip.
    pub async fn share_at(&self, height: u32) -> Result<ShareInfo, ApiError> {
        match self.node.share_at(height).await? {
            Some(r) => self.share_info(r).await,
            None => Err(ApiError::NotFound(format!(
                "active share at height {height}"
            ))),
        }
    }

    /// `getselectedshare` without a hash: what the next Bitcoin block must pay.
    pub async fn next_payout(&self) -> NextPayout {
        let (tip, height, payout, n) = self
            .node
            .with_chain(|c| {
                (
                    c.tip_hash(),
                    c.height(),
                    c.next_payout(),
                    c.utxo().eligible_total().to_units(),
                )
            })
            .await;
        match payout {
            Some(p) => NextPayout {
                q: Some(p.q),
                n: p.n.to_units(),
                txid: Some(p.outpoint.txid.to_string()),
                vout: Some(p.outpoint.vout),
                script_pubkey: Some(p.script_pubkey.to_hex_string()),
                value: Some(p.value.to_units()),
                range_start: Some(p.start),
                note: None,
                tip: tip.to_string(),
                height,
            },
            None => NextPayout {
                q: None,
                n,
                txid: None,
                vout: None,
                script_pubkey: None,
                value: None,
                range_start: None,
                note: Some("n = 0: the next share pays its own sharebase".into()),
                tip: tip.to_string(),
                height,
            },
        }
    }

    /// `getselectedshare` with a hash: what that share's coinbase had to pay and paid.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown share.
    pub async fn share_payout(&self, hash: &ShareHash) -> Result<SharePayout, ApiError> {
        let info = self.share(hash).await?;
        Ok(SharePayout {
            hash: info.hash,
            height: info.height,
            payout: info.payout,
            payee: info.bitcoin.payee,
        })
    }

    /// `listunspent`.
    pub async fn unspent(&self, script: &ScriptBuf) -> Vec<UnspentOutput> {
        let (height, maturity) = self
            .node
            .with_chain(|c| (c.height(), c.params().maturity))
            .await;
        self.node
            .unspent_for(script)
            .await
            .iter()
            .map(|(op, coin)| UnspentOutput {
                txid: op.txid.to_string(),
                vout: op.vout,
                value: coin.output.value.to_sat(),
                height: coin.height,
                sharebase: coin.is_sharebase,
                mature: coin.is_mature(height, maturity),
                eligible: coin.is_eligible(height, maturity),
            })
            .collect()
    }

    /// `getbalance`.
    pub async fn balance(&self, script: &ScriptBuf) -> Balance {
        let outputs = self.unspent(script).await;
        let n = self
            .node
            .with_chain(|c| c.utxo().eligible_total().to_units())
            .await;
        let total: u64 = outputs.iter().map(|o| o.value).sum();
        let eligible: u64 = outputs.iter().filter(|o| o.eligible).map(|o| o.value).sum();
        Balance {
            total,
            eligible,
            immature: total - eligible,
            outputs: outputs.len() as u64,
            n,
            chance_next_block: if n == 0 {
                0.0
            } else {
                eligible as f64 / n as f64
            },
        }
    }

    /// `getshareranges`: a holder's outputs with their place in `[0, n)`, and the last
    /// selections.
    pub async fn share_ranges(&self, script: &ScriptBuf) -> ShareRanges {
        let mine = self.node.unspent_for(script).await;
        self.node
            .with_chain(|c| {
                let height = c.height();
                let maturity = c.params().maturity;
                let index = c.utxo().eligible();
                // One walk in canonical order gives every range start.
                let wanted: std::collections::HashSet<_> =
                    mine.iter().map(|(op, _)| outpoint_key(op)).collect();
                let mut starts = std::collections::HashMap::new();
                let mut at = 0u64;
                for (key, value) in index.iter() {
                    if wanted.contains(key) {
                        starts.insert(*key, at);
                    }
                    at += value;
                }
                let outputs: Vec<RangeOutput> = mine
                    .iter()
                    .map(|(op, coin)| {
                        let eligible = coin.is_eligible(height, maturity);
                        // A sharebase output created at h counts in S_i once i + 1 − h ≥ maturity.
                        let due = coin.height.saturating_add(maturity).saturating_sub(1);
                        RangeOutput {
                            txid: op.txid.to_string(),
                            vout: op.vout,
                            value: coin.output.value.to_sat(),
                            height: coin.height,
                            sharebase: coin.is_sharebase,
                            mature: coin.is_mature(height, maturity),
                            eligible,
                            shares_to_eligible: if eligible || !coin.is_sharebase {
                                0
                            } else {
                                due.saturating_sub(height)
                            },
                            range_start: starts.get(&outpoint_key(op)).copied(),
                        }
                    })
                    .collect();
                let v = outputs.iter().filter(|o| o.eligible).map(|o| o.value).sum();
                let mut recent = Vec::new();
                let mut h = height;
                while h > 0 && recent.len() < RECENT_SELECTIONS {
                    if let Some(hash) = c.hash_at(h) {
                        match c.payout_of(&hash) {
                            Some(p) => recent.push(Selection {
                                share: hash.to_string(),
                                share_height: h,
                                q: p.q,
                                n: p.n.to_units(),
                            }),
                            // Below the window nothing is held in memory.
                            None if h < c.window_start() => break,
                            None => {}
                        }
                    }
                    h -= 1;
                }
                ShareRanges {
                    height,
                    maturity,
                    n: index.total(),
                    v,
                    outputs,
                    recent_selections: recent,
                }
            })
            .await
    }

    /// `listbitcoinblocks`: the Bitcoin blocks the network found among the active shares of the
    /// reorg window (shares whose Bitcoin header meets its own target, and on a devnet the
    /// embedded chain's policy target), newest first.
    pub async fn bitcoin_blocks(&self, count: u32) -> Result<Vec<BitcoinBlock>, ApiError> {
        let count = count.min(MAX_BITCOIN_BLOCKS) as usize;
        let mine = self.mining.script().await;
        let found = self.mining.stats().await.blocks;
        let found: std::collections::HashMap<String, String> = found
            .into_iter()
            .map(|b| (b.block_hash, b.outcome))
            .collect();
        Ok(self
            .node
            .with_chain(|c| {
                let mut out = Vec::new();
                let mut h = c.height();
                while h > c.window_start() && out.len() < count {
                    let (Some(head), Some(parent)) = (c.head_at(h), c.head_at(h - 1)) else {
                        break;
                    };
                    let header = &head.work.header;
                    let block_hash = header.block_hash();
                    // A Bitcoin block meets its header's target and, on a devnet, the embedded
                    // chain's stricter policy target (every devnet share meets regtest's bits).
                    let policy = self.facts.bitcoin_policy_target;
                    if header.target().is_met_by(block_hash)
                        && policy.is_none_or(|t| t.is_met_by(block_hash))
                    {
                        let hash = head.hash();
                        let payee = coinbase_payee(head);
                        let paid_script = payee
                            .map(|(_, o)| o.script_pubkey.clone())
                            .unwrap_or_default();
                        out.push(BitcoinBlock {
                            share: hash.to_string(),
                            share_height: h,
                            bitcoin_hash: block_hash.to_string(),
                            time: header.time,
                            payout: c.payout_of(&hash).map(PayoutInfo::from),
                            paid_address: self.address_of(&paid_script),
                            value_sat: payee.map(|(_, o)| o.value.to_sat()).unwrap_or(0),
                            mine: mine.as_ref() == Some(&paid_script),
                            found_here: found.contains_key(&block_hash.to_string()),
                            selector_input: parent.selector_bytes().to_lower_hex_string(),
                            outcome: found.get(&block_hash.to_string()).cloned(),
                            paid_script: paid_script.to_hex_string(),
                        });
                    }
                    h -= 1;
                }
                out
            })
            .await)
    }

    /// `sendrawtransaction`: returns the txid.
    ///
    /// # Errors
    /// [`ApiError::Decode`] for bad bytes, [`ApiError::Rejected`] with the mempool's reason.
    pub async fn send_raw_transaction(&self, hex: &str) -> Result<String, ApiError> {
        let tx: Transaction = deserialize_hex(hex)
            .map_err(|e| ApiError::Decode(format!("transaction decode failed: {e}")))?;
        let accepted = self.net.submit_local_transaction(tx).await?;
        Ok(accepted.txid.to_string())
    }

    /// `submitshare`.
    ///
    /// # Errors
    /// [`ApiError::Decode`] for bad bytes, [`ApiError::Rejected`] with the rule broken.
    pub async fn submit_share(&self, hex: &str) -> Result<SubmitShareReply, ApiError> {
        let bytes =
            Vec::<u8>::from_hex(hex).map_err(|e| ApiError::Decode(format!("bad hex: {e}")))?;
        let share = Share::decode(&bytes)
            .map_err(|e| ApiError::Decode(format!("share decode failed: {e}")))?;
        let hash = share.hash().to_string();
        let outcome = match self.net.submit_local_share(share, Origin::Api).await {
            Ok(o) => o,
            // Held until its parent arrives (by gossip, sync or another submitshare).
            Err(NodeError::Chain(ChainError::Orphan { prev, .. })) => {
                return Ok(SubmitShareReply {
                    hash,
                    outcome: "orphan".into(),
                    reorg_depth: 0,
                    missing_parent: Some(prev.to_string()),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let (name, depth) = match &outcome {
            AcceptOutcome::AlreadyKnown => ("already_known", 0),
            AcceptOutcome::SideBranch => ("side_branch", 0),
            AcceptOutcome::Extended => ("extended", 0),
            AcceptOutcome::Reorganized { disconnected, .. } => ("reorganized", disconnected.len()),
        };
        Ok(SubmitShareReply {
            hash,
            outcome: name.into(),
            reorg_depth: depth as u64,
            missing_parent: None,
        })
    }

    /// `getmempoolinfo`.
    pub async fn mempool_info(&self) -> MempoolInfo {
        let i = self.node.mempool_info().await;
        MempoolInfo {
            size: i.count as u64,
            vsize_bytes: i.vsize_bytes,
            total_fee: i.total_fee.to_units(),
            min_fee_rate: i.min_fee_rate.to_string(),
            max_vsize: i.max_vsize,
        }
    }

    /// `getrawmempool`.
    pub async fn raw_mempool(&self) -> Vec<String> {
        self.node
            .with_mempool(|m| m.iter().map(|e| e.txid.to_string()).collect())
            .await
    }

    /// `getstoreinfo`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn store_info(&self) -> Result<StoreInfo, ApiError> {
        let s = self.node.store_stats().await?;
        Ok(StoreInfo {
            shares: s.shares,
            bodies: s.bodies,
            utxos: s.utxos,
            undo: s.undo,
            file_bytes: s.file_bytes,
        })
    }
}
