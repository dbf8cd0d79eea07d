//! Responses about the sharechain: summary, shares, payouts, outputs, the mempool, the store.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::SyncStatus;

/// `getsharechaininfo`: the active chain in numbers, with sync status and mempool size.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
pub struct ChainInfo {
    /// Network name.
    pub network: String,
    /// Genesis share id.
    pub genesis: String,
    /// Tip id.
    pub tip: String,
    /// Tip height.
    pub height: u32,
    /// Cumulative work, hex.
    pub chain_work: String,
    /// Compact target the next share must meet (8 hex digits).
    pub next_bits: String,
    /// Pow limit ÷ the next share's target: 1 at the limit, larger when harder.
    pub difficulty: f64,
    /// Median time past at the tip.
    pub median_time_past: u32,
    /// Tip time.
    pub tip_time: u32,
    /// Unspent outputs.
    #[ts(type = "number")]
    pub utxos: u64,
    /// Eligible share units (`n`).
    #[ts(type = "number")]
    pub eligible_total: u64,
    /// Reorg window.
    pub window: u32,
    /// Sync status.
    pub sync: SyncStatus,
    /// Transactions in the mempool.
    #[ts(type = "number")]
    pub mempool_size: u64,
}

/// An output the payout rule selected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct PayoutInfo {
    /// The selector reduced modulo `n`.
    #[ts(type = "number")]
    pub q: u64,
    /// Sum of eligible values, share units.
    #[ts(type = "number")]
    pub n: u64,
    /// Selected output's transaction.
    pub txid: String,
    /// Selected output's index.
    pub vout: u32,
    /// The script a Bitcoin coinbase must pay (hex).
    pub script_pubkey: String,
    /// Selected output's value, share units.
    #[ts(type = "number")]
    pub value: u64,
    /// Sum of eligible values before it in canonical order.
    #[ts(type = "number")]
    pub range_start: u64,
}

/// The coinbase output a share's Bitcoin work actually pays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct PayeeInfo {
    /// Output index in the coinbase.
    #[ts(type = "number")]
    pub vout: u64,
    /// Its script (hex).
    pub script_pubkey: String,
    /// Its address on the network's Bitcoin chain, when it has one.
    pub address: Option<String>,
    /// Its value, satoshis.
    #[ts(type = "number")]
    pub value_sat: u64,
}

/// A share's Bitcoin work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct BitcoinWorkInfo {
    /// The Bitcoin header's hash.
    pub block_hash: String,
    /// The Bitcoin block it builds on.
    pub prev_block: String,
    /// Bitcoin header time.
    pub time: u32,
    /// Bitcoin compact target (8 hex digits).
    pub bits: String,
    /// Nonce.
    pub nonce: u32,
    /// The coinbase's txid.
    pub coinbase_txid: String,
    /// What the coinbase pays.
    pub payee: Option<PayeeInfo>,
}

/// One transaction of a share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct TxInfo {
    /// Its id.
    pub txid: String,
    /// Its serialization (hex).
    pub hex: String,
}

/// `getshare`, `getsharebyheight`: one share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct ShareInfo {
    /// Share id.
    pub hash: String,
    /// Height.
    pub height: u32,
    /// On the active chain.
    pub active: bool,
    /// Header version.
    pub version: u32,
    /// Parent share.
    pub prev_share: String,
    /// Transaction root.
    pub tx_root: String,
    /// Share time.
    pub time: u32,
    /// Compact target (8 hex digits).
    pub bits: String,
    /// The Bitcoin work.
    pub bitcoin: BitcoinWorkInfo,
    /// The output its Bitcoin coinbase had to pay (`null` while `n` was 0 or not recorded).
    pub payout: Option<PayoutInfo>,
    /// The body was pruned from disk.
    pub pruned: bool,
    /// Transactions (`null` when pruned).
    pub tx: Option<Vec<TxInfo>>,
    /// The share's serialization (`null` when pruned).
    pub hex: Option<String>,
}

/// `getselectedshare` without a hash: what the next Bitcoin block must pay. While `n = 0`
/// only `n`, `note`, `tip` and `height` are present.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct NextPayout {
    /// The selector reduced modulo `n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub q: Option<u64>,
    /// Sum of eligible values, share units.
    #[ts(type = "number")]
    pub n: u64,
    /// Selected output's transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub txid: Option<String>,
    /// Selected output's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub vout: Option<u32>,
    /// The script the next Bitcoin coinbase must pay (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub script_pubkey: Option<String>,
    /// Selected output's value, share units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub value: Option<u64>,
    /// Start of the selected output's range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub range_start: Option<u64>,
    /// While `n = 0`: why nothing is selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
    /// The tip the selection was made on.
    pub tip: String,
    /// Its height.
    pub height: u32,
}

/// `getselectedshare` with a hash: what that share's Bitcoin coinbase paid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct SharePayout {
    /// The share.
    pub hash: String,
    /// Its height.
    pub height: u32,
    /// The selected output, when recorded.
    pub payout: Option<PayoutInfo>,
    /// What the coinbase paid.
    pub payee: Option<PayeeInfo>,
}

/// One unspent output of a script (`listunspent`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct UnspentOutput {
    /// Transaction.
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// Value, share units.
    #[ts(type = "number")]
    pub value: u64,
    /// Height of the share that created it.
    pub height: u32,
    /// A sharebase output.
    pub sharebase: bool,
    /// Spendable.
    pub mature: bool,
    /// Counted in `n`.
    pub eligible: bool,
}

/// `getbalance`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Balance {
    /// All unspent value, share units.
    #[ts(type = "number")]
    pub total: u64,
    /// Eligible value (`v`).
    #[ts(type = "number")]
    pub eligible: u64,
    /// Not yet eligible.
    #[ts(type = "number")]
    pub immature: u64,
    /// Unspent outputs.
    #[ts(type = "number")]
    pub outputs: u64,
    /// All eligible units (`n`).
    #[ts(type = "number")]
    pub n: u64,
    /// `v / n`.
    pub chance_next_block: f64,
}

/// `submitshare`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct SubmitShareReply {
    /// Share id.
    pub hash: String,
    /// `extended`, `reorganized`, `side_branch`, `already_known` or `orphan`.
    pub outcome: String,
    /// Shares disconnected by a reorganization.
    #[ts(type = "number")]
    pub reorg_depth: u64,
    /// For `orphan`: the parent the node waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub missing_parent: Option<String>,
}

/// `getmempoolinfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct MempoolInfo {
    /// Transactions.
    #[ts(type = "number")]
    pub size: u64,
    /// Their virtual size.
    #[ts(type = "number")]
    pub vsize_bytes: u64,
    /// Their fees, share units.
    #[ts(type = "number")]
    pub total_fee: u64,
    /// Rolling minimum fee rate.
    pub min_fee_rate: String,
    /// Size limit.
    #[ts(type = "number")]
    pub max_vsize: u64,
}

/// `getstoreinfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct StoreInfo {
    /// Shares stored (heads).
    #[ts(type = "number")]
    pub shares: u64,
    /// Bodies stored.
    #[ts(type = "number")]
    pub bodies: u64,
    /// Unspent outputs.
    #[ts(type = "number")]
    pub utxos: u64,
    /// Undo records.
    #[ts(type = "number")]
    pub undo: u64,
    /// Database size in bytes.
    #[ts(type = "number")]
    pub file_bytes: u64,
}

/// One output of a holder with its place in `[0, n)` (`getshareranges`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct RangeOutput {
    /// Transaction.
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// Value, share units.
    #[ts(type = "number")]
    pub value: u64,
    /// Height of the share that created it.
    pub height: u32,
    /// A sharebase output.
    pub sharebase: bool,
    /// Spendable.
    pub mature: bool,
    /// Counted in `n`.
    pub eligible: bool,
    /// Shares until it counts in `n` (0 when eligible).
    pub shares_to_eligible: u32,
    /// Start of its range in canonical order (`null` unless eligible).
    #[ts(type = "number | null")]
    pub range_start: Option<u64>,
}

/// A recent selection: the `q` a share's Bitcoin coinbase paid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Selection {
    /// The share whose coinbase paid it.
    pub share: String,
    /// Its height.
    pub share_height: u32,
    /// The selector modulo `n`.
    #[ts(type = "number")]
    pub q: u64,
    /// `n` then.
    #[ts(type = "number")]
    pub n: u64,
}

/// `getshareranges`: a holder's outputs on `[0, n)` and the recent selections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct ShareRanges {
    /// Tip height.
    pub height: u32,
    /// The network's maturity.
    pub maturity: u32,
    /// All eligible units.
    #[ts(type = "number")]
    pub n: u64,
    /// The holder's eligible units.
    #[ts(type = "number")]
    pub v: u64,
    /// The holder's outputs.
    pub outputs: Vec<RangeOutput>,
    /// The last selections, newest first.
    pub recent_selections: Vec<Selection>,
}

/// A Bitcoin block the network found (`listbitcoinblocks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct BitcoinBlock {
    /// The share that is the block.
    pub share: String,
    /// Its height.
    pub share_height: u32,
    /// The Bitcoin block hash.
    pub bitcoin_hash: String,
    /// Bitcoin header time.
    pub time: u32,
    /// What the payout rule selected (`null` while `n` was 0).
    pub payout: Option<PayoutInfo>,
    /// The script the coinbase paid (hex).
    pub paid_script: String,
    /// Its address, when it has one.
    pub paid_address: Option<String>,
    /// Value paid, satoshis.
    #[ts(type = "number")]
    pub value_sat: u64,
    /// The paid script is this node's mining script.
    pub mine: bool,
    /// This node's hashers found it.
    pub found_here: bool,
    /// The parent share's selector bytes (160 bytes, hex): the input of this block's `q`.
    pub selector_input: String,
    /// The mainchain's answer when this node submitted it (`null` otherwise).
    pub outcome: Option<String>,
}
