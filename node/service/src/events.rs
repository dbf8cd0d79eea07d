//! What the node tells its listeners: one typed stream of events (shares, tips, sync, peers,
//! what the local miner found, hashrates, log lines), broadcast to the API, the miner and any
//! front end.

use bitcoin::Txid;
use p2share_consensus::ShareHash;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a share came from (for logs and relay decisions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Mined by this node.
    Local,
    /// Relayed by a peer's gossip.
    Gossip,
    /// Downloaded while syncing.
    Sync,
    /// Submitted through the API.
    Api,
}

/// What the node tells its listeners.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeEvent {
    /// The active tip moved.
    Tip {
        /// New tip id.
        #[ts(type = "string")]
        hash: ShareHash,
        /// Its height.
        height: u32,
        /// Shares disconnected by a reorganization (0 when the tip was extended).
        reorg_depth: u32,
    },
    /// A share was accepted (active or side branch).
    Share {
        /// Share id.
        #[ts(type = "string")]
        hash: ShareHash,
        /// Its height.
        height: u32,
        /// Whether it is on the active chain now.
        active: bool,
        /// Where it came from.
        origin: Origin,
    },
    /// A transaction entered the mempool.
    Transaction {
        /// Its id.
        #[ts(type = "string")]
        txid: Txid,
    },
    /// Sync progress.
    Sync(SyncStatus),
    /// A peer connected or disconnected.
    Peers {
        /// Connected peers now.
        #[ts(type = "number")]
        connected: usize,
    },
    /// This node's hashers found a share that the node accepted.
    FoundShare {
        /// Share id.
        #[ts(type = "string")]
        hash: ShareHash,
        /// Its height.
        height: u32,
    },
    /// This node found a Bitcoin block (submitted; `outcome` says what the mainchain answered).
    BitcoinBlock(FoundBlock),
    /// The local hashers' rates, every couple of seconds while mining.
    Hashrate(HashrateSample),
    /// Mining started, stopped or changed its thread count.
    Mining(MiningState),
    /// A log line (from the log bridge the binary installs).
    Log(LogLine),
    /// A mining device on the Stratum port connected, authorized, changed difficulty, had a
    /// share rejected or went away.
    Stratum(StratumNote),
}

/// What a mining device on the Stratum port did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct StratumNote {
    /// Connection id.
    #[ts(type = "number")]
    pub id: u64,
    /// Its user name (`address.worker`; empty before authorize).
    pub worker: String,
    /// `connected`, `authorized`, `difficulty`, `rejected` or `disconnected`.
    pub kind: String,
    /// The remote address, the new difficulty, or the reason.
    pub detail: String,
}

/// Where sync stands, for the API and the logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, TS)]
pub struct SyncStatus {
    /// `idle` (no peer connected), `headers` / `bodies` (syncing), or `synced` (no connected
    /// peer has more work).
    #[ts(type = "string")]
    pub state: &'static str,
    /// Our active height.
    pub height: u32,
    /// Best height a peer announced.
    pub target_height: u32,
    /// Heads downloaded and checked in this sync.
    pub headers: u32,
    /// Shares connected per second over the last interval.
    pub rate: f64,
    /// Estimated seconds left, when syncing.
    #[ts(type = "number | null")]
    pub eta_seconds: Option<u64>,
    /// `height / target_height`, 0 to 1.
    pub progress: f64,
    /// Peer the headers come from.
    pub peer: Option<String>,
}

/// A Bitcoin block this node found (kept in the store across restarts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct FoundBlock {
    /// Bitcoin block hash.
    pub block_hash: String,
    /// Bitcoin height.
    pub bitcoin_height: u32,
    /// The share that is the block.
    #[ts(type = "string")]
    pub share: ShareHash,
    /// Sharechain height.
    pub share_height: u32,
    /// The selected share's outpoint (`txid:vout`), or `null` while `n` was 0.
    pub selected: Option<String>,
    /// The script the coinbase paid (hex).
    pub paid_script: String,
    /// Value paid, satoshis.
    #[ts(type = "number")]
    pub value_sat: u64,
    /// What the mainchain answered (`accepted` or its reject reason).
    pub outcome: String,
    /// Unix time.
    #[ts(type = "number")]
    pub time: u64,
    /// The sharechain tip the block's share builds on (the payout was selected from it). The
    /// block goes to Bitcoin before its share to the sharechain, so the share itself may be
    /// unknown (refused, stale, a spare solution); `null` in records of older versions.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub parent_share: Option<ShareHash>,
    /// Who found it: `cpu`, `opencl:<device>` or `stratum:<worker>`; `null` in older records.
    #[serde(default)]
    pub finder: Option<String>,
}

/// One hasher's rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct HasherRate {
    /// Hasher name (`cpu`; later GPUs and Stratum workers).
    pub name: String,
    /// Backend (`sha-ni`, `avx512`, `avx2`, `portable`).
    pub backend: String,
    /// Threads.
    pub threads: u32,
    /// Hashes per second.
    pub hashrate: f64,
}

/// The local hashers' rates at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct HashrateSample {
    /// Sum over the hashers, hashes per second.
    pub hashrate: f64,
    /// Per hasher.
    pub hashers: Vec<HasherRate>,
}

/// Whether the local miner runs, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct MiningState {
    /// Mining now.
    pub mining: bool,
    /// Hasher threads (the configured count while stopped).
    pub threads: u32,
    /// Hasher backend, once known.
    pub backend: Option<String>,
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct LogLine {
    /// Unix time in milliseconds.
    #[ts(type = "number")]
    pub time: u64,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that logged it.
    pub target: String,
    /// The message with its fields (`key=value`).
    pub message: String,
}
