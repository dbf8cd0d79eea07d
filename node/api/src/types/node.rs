//! Responses about mining, the odds, the network and the node itself.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use p2share_service::{
    FoundBlock, HasherRate, HashrateSample, LogLine, MiningState, NodeEvent, Origin, StratumNote,
    SyncStatus,
};

/// One hasher in `getmininginfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct HasherInfo {
    /// `cpu`.
    pub name: String,
    /// `sha-ni`, `avx512`, `avx2` or `portable`.
    pub backend: String,
    /// Threads.
    pub threads: u32,
    /// Hashes per second.
    pub hashrate: f64,
    /// Hashes done.
    #[ts(type = "number")]
    pub hashes: u64,
    /// Per thread.
    pub thread_hashrates: Vec<f64>,
}

/// Expected seconds to the next share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct ExpectedSeconds {
    /// At this node's hashrate.
    pub node: Option<f64>,
    /// At the network's.
    pub network: Option<f64>,
}

/// Tip-to-work latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct TipRefresh {
    /// Median, ms.
    pub p50: Option<f64>,
    /// 99th percentile, ms.
    pub p99: Option<f64>,
    /// Worst, ms.
    pub max: Option<f64>,
    /// Tips measured.
    #[ts(type = "number")]
    pub tips: u64,
}

/// `getmininginfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct MiningInfo {
    /// The node's miner is running.
    pub mining: bool,
    /// Hasher threads (configured while stopped).
    pub threads: u32,
    /// Sharechain height.
    pub height: u32,
    /// Compact target of the next share.
    pub share_bits: String,
    /// Full target (hex).
    pub share_target: String,
    /// Expected hashes per share.
    pub hashes_per_share: f64,
    /// This node's hashrate.
    pub hashrate: f64,
    /// Per hasher (`null` when no miner ever ran).
    pub hashers: Option<Vec<HasherInfo>>,
    /// The network's hashrate from the last 120 shares.
    pub network_hashrate: f64,
    /// Expected seconds to a share.
    pub expected_seconds_to_share: ExpectedSeconds,
    /// Target of the latest Bitcoin template (hex).
    pub bitcoin_target: Option<String>,
    /// Expected seconds to the network's next Bitcoin block.
    pub expected_seconds_to_bitcoin_block: Option<f64>,
    /// Shares found.
    #[ts(type = "number | null")]
    pub shares_found: Option<u64>,
    /// Stale solutions.
    #[ts(type = "number | null")]
    pub stale: Option<u64>,
    /// Own shares refused.
    #[ts(type = "number | null")]
    pub rejected: Option<u64>,
    /// The last refusal's reason.
    pub last_reject: Option<String>,
    /// Milliseconds to build the current job.
    pub last_job_ms: Option<f64>,
    /// Tip-to-work latency.
    pub tip_refresh_ms: Option<TipRefresh>,
    /// Bitcoin blocks this node found, oldest first.
    pub blocks: Option<Vec<FoundBlock>>,
}

/// `getodds`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Odds {
    /// The holder's eligible units.
    #[ts(type = "number")]
    pub v: u64,
    /// All eligible units.
    #[ts(type = "number")]
    pub n: u64,
    /// `v / n`.
    pub chance_next_block: f64,
    /// The network's hashrate.
    pub network_hashrate: f64,
    /// Bitcoin blocks the network finds per day at that hashrate.
    pub bitcoin_blocks_per_day: Option<f64>,
    /// Blocks per day × chance × the template's coinbase value, BTC.
    pub expected_btc_per_day: Option<f64>,
}

/// One hasher's series in `gethashratehistory`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct HashrateSeries {
    /// Hasher name.
    pub name: String,
    /// `[unix time, hashes per second]`, oldest first.
    pub points: Vec<(f64, f64)>,
}

/// `gethashratehistory`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct HashrateHistory {
    /// Seconds per point.
    #[ts(type = "number")]
    pub step_secs: u64,
    /// Per hasher.
    pub hashers: Vec<HashrateSeries>,
}

/// A connected peer (`getpeerinfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct PeerInfo {
    /// Peer id.
    pub peer_id: String,
    /// Addresses of its connections.
    pub addrs: Vec<String>,
    /// It dialled us.
    pub inbound: bool,
    /// Its agent string.
    pub agent: Option<String>,
    /// Penalty score.
    pub score: u32,
    /// Unix time of its first connection.
    #[ts(type = "number")]
    pub connected_since: u64,
    /// Ping round trip.
    pub latency_ms: Option<f64>,
    /// Height it announced.
    pub height: Option<u32>,
}

/// A banned peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct BannedPeer {
    /// Peer id.
    pub peer_id: String,
    /// Seconds left.
    #[ts(type = "number")]
    pub seconds_left: u64,
}

/// `getnetworkinfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct NetworkInfo {
    /// Network name.
    pub network: String,
    /// Our peer id.
    pub peer_id: String,
    /// Listen addresses.
    pub listen_addrs: Vec<String>,
    /// Connected peers.
    #[ts(type = "number")]
    pub connections: u64,
    /// AutoNAT's view: `Disabled`, `Unknown`, `Private` or `Public(<addr>)`.
    pub nat: String,
    /// Banned peers.
    pub banned: Vec<BannedPeer>,
}

/// Default ports of a network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Ports {
    /// Sharechain p2p.
    pub p2p: u16,
    /// API and dashboard.
    pub api: u16,
}

/// `getnetworkparams`: the running network's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct NetworkParams {
    /// Network name.
    pub name: String,
    /// `<genesis time>-<genesis bits>` on a devnet, else `null`.
    pub devnet_id: Option<String>,
    /// Message start, 4 bytes hex.
    pub magic: String,
    /// The Bitcoin network: `main`, `testnet4`, `signet` or `regtest`.
    pub mainchain: String,
    /// Bech32 prefix of addresses.
    pub address_hrp: String,
    /// Genesis share id.
    pub genesis_hash: String,
    /// Genesis time.
    pub genesis_time: u32,
    /// Easiest share target (8 hex digits).
    pub pow_limit_bits: String,
    /// Genesis share target (8 hex digits).
    pub genesis_bits: String,
    /// Seconds per share.
    pub target_spacing: u32,
    /// ASERT half-life, seconds.
    pub asert_half_life: u32,
    /// Subsidy of the first shares, share units.
    #[ts(type = "number")]
    pub initial_subsidy: u64,
    /// Shares between halvings.
    pub halving_interval: u32,
    /// Shares before a sharebase output matures.
    pub maturity: u32,
    /// Most seconds a share's time may be ahead.
    pub max_future_time: u32,
    /// Most weight of a share.
    #[ts(type = "number")]
    pub max_share_weight: u64,
    /// Most signature-operation cost of a share.
    #[ts(type = "number")]
    pub max_share_sigops_cost: u64,
    /// Default ports.
    pub default_ports: Ports,
    /// The genesis share's outputs (empty on the built-in networks and devnets).
    pub genesis_allocation: Vec<AllocationOutput>,
}

/// One output of a network's genesis allocation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct AllocationOutput {
    /// Its script (hex).
    pub script_pubkey: String,
    /// Its value, share units.
    #[ts(type = "number")]
    pub value: u64,
}

/// Where the node gets Bitcoin from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct BitcoinSourceInfo {
    /// `embedded` (the devnet's regtest chain), `core` (the user's Bitcoin Core) or `none`.
    pub kind: String,
    /// JSON-RPC URL.
    pub rpc_url: Option<String>,
    /// Esplora URL (embedded only).
    pub esplora_url: Option<String>,
    /// The Bitcoin network.
    pub chain: String,
}

/// `getnodeinfo`: this node at a glance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct NodeInfo {
    /// Software version.
    pub version: String,
    /// Network name.
    pub network: String,
    /// Devnet id, on a devnet.
    pub devnet_id: Option<String>,
    /// Data directory.
    pub datadir: String,
    /// API and dashboard address.
    pub api_bind: Option<String>,
    /// Address the node's hashers are paid to.
    pub mining_address: Option<String>,
    /// Its script (hex).
    pub mining_script: Option<String>,
    /// Bitcoin side.
    pub bitcoin: BitcoinSourceInfo,
    /// Our p2p id.
    pub peer_id: String,
    /// Addresses others dial us at.
    pub dial_addrs: Vec<String>,
    /// Unix time the node started.
    #[ts(type = "number")]
    pub started_at: u64,
}

/// `testbitcoincore`: can the node use this Bitcoin Core?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct BitcoinCoreTest {
    /// It answered and can serve templates.
    pub ok: bool,
    /// Its chain (`main`, `test`, `testnet4`, `signet`, `regtest`).
    pub chain: Option<String>,
    /// Its block height.
    pub blocks: Option<u32>,
    /// Exactly what is wrong.
    pub error: Option<String>,
}

/// A Bitcoin Core connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BitcoinCoreConnection {
    /// JSON-RPC URL, e.g. `http://127.0.0.1:8332`.
    pub url: String,
    /// Its `.cookie` file.
    #[serde(default)]
    #[ts(optional)]
    pub cookie_file: Option<String>,
    /// User (with `password`) instead of the cookie.
    #[serde(default)]
    #[ts(optional)]
    pub user: Option<String>,
    /// Password.
    #[serde(default)]
    #[ts(optional)]
    pub password: Option<String>,
}
