//! The configuration file and the command-line flags that override it.

use std::path::PathBuf;

use serde::Deserialize;

/// The `[p2p]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pSection {
    /// Listen multiaddrs (default: all interfaces on the network's port).
    pub listen: Option<Vec<String>>,
    /// Peers to dial at start (multiaddrs ending in `/p2p/<peer id>`), added to the network's.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Most connections in total.
    pub max_connections: Option<u32>,
    /// Most connections per peer.
    pub max_connections_per_peer: Option<u32>,
    /// Inbound requests per peer per second.
    pub max_requests_per_second: Option<u32>,
    /// Ban length in seconds.
    pub ban_seconds: Option<u64>,
    /// Kademlia discovery.
    pub kademlia: Option<bool>,
    /// AutoNAT and hole punching.
    pub nat: Option<bool>,
}

/// The `[api]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Address to serve on (default loopback on the network's API port).
    pub bind: Option<String>,
    /// Fixed user name (with `password`) instead of the cookie file.
    pub user: Option<String>,
    /// Fixed password.
    pub password: Option<String>,
}

/// The `[storage]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// Shares kept whole below the tip (the reorg window; default 2000).
    pub window: Option<u32>,
    /// Drop share bodies deeper than this from disk (at least the window). Unset (default):
    /// keep every body, so that new nodes can sync the chain from this one.
    pub prune_depth: Option<u32>,
}

/// The `[mempool]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolSection {
    /// Size limit in MB of virtual size.
    pub max_mb: Option<u64>,
    /// Minimum relay fee rate, share units per virtual byte.
    pub min_fee_rate: Option<u64>,
}

/// The `[log]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Filter, as `RUST_LOG` (default `info`).
    pub level: Option<String>,
    /// Write a daily-rotated log under `<datadir>/logs` (default true).
    pub file: Option<bool>,
    /// Rotated files kept (default 7).
    pub keep_files: Option<usize>,
}

/// The `[bitcoin]` table: the user's Bitcoin Core, for mining on a network other than the
/// devnet.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitcoinSection {
    /// JSON-RPC URL (default `http://127.0.0.1:<the Bitcoin network's RPC port>`).
    pub rpc_url: Option<String>,
    /// Bitcoin Core's `.cookie` (default: the one in `~/.bitcoin` for the Bitcoin network).
    pub cookie_file: Option<PathBuf>,
    /// `rpcuser` (with `password`) instead of the cookie.
    pub user: Option<String>,
    /// `rpcpassword`.
    pub password: Option<String>,
}

/// The `[mining]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiningSection {
    /// Address the shares and (while `n = 0`) Bitcoin rewards pay, on the network's Bitcoin
    /// chain (`bc1…` on main).
    pub address: Option<String>,
    /// Hasher threads (default: every core).
    pub threads: Option<usize>,
    /// Start mining at start (default true when an address is set).
    pub start: Option<bool>,
    /// OpenCL devices to mine on (ids as `getdevices` lists them, like `"0:0"`).
    #[serde(default)]
    pub opencl: Vec<String>,
    /// Their intensity: log2 of the most nonces per launch (8–31).
    pub opencl_intensity: Option<u8>,
}

/// The `[stratum]` table: the server for mining devices.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StratumSection {
    /// Listen address, or `off` (default `0.0.0.0:3333` when a Bitcoin node is set).
    pub bind: Option<String>,
    /// The lowest difficulty vardiff may set (below 1 is allowed).
    pub min_difficulty: Option<f64>,
    /// The highest.
    pub max_difficulty: Option<f64>,
    /// A new connection's difficulty.
    pub start_difficulty: Option<f64>,
    /// Seconds between a device's shares that vardiff aims at (default 10).
    pub share_interval_secs: Option<f64>,
    /// Connections per IP address (default 64).
    pub max_per_ip: Option<usize>,
    /// Connections in all (default 10,000).
    pub max_connections: Option<usize>,
}

/// The configuration file (every key optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Built-in network name or path to a network TOML.
    pub network: Option<String>,
    /// Data directory of this network (default `$XDG_DATA_HOME/p2share/<network>`).
    pub datadir: Option<PathBuf>,
    /// Peer-to-peer.
    #[serde(default)]
    pub p2p: P2pSection,
    /// API.
    #[serde(default)]
    pub api: ApiSection,
    /// Storage.
    #[serde(default)]
    pub storage: StorageSection,
    /// Mempool.
    #[serde(default)]
    pub mempool: MempoolSection,
    /// Logging.
    #[serde(default)]
    pub log: LogSection,
    /// The Bitcoin node to mine on.
    #[serde(default)]
    pub bitcoin: BitcoinSection,
    /// Mining.
    #[serde(default)]
    pub mining: MiningSection,
    /// The Stratum server.
    #[serde(default)]
    pub stratum: StratumSection,
}

/// Command-line flags of the daemon (they override the file).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Flags {
    /// Configuration file (TOML). Default: `<datadir>/p2share.toml` when it exists.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Network: main, testnet4, signet, regtest, or a path to a custom network TOML.
    #[arg(long)]
    pub network: Option<String>,
    /// Data directory of this network.
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Listen multiaddr (repeatable), e.g. `/ip4/0.0.0.0/tcp/9333`.
    #[arg(long)]
    pub listen: Vec<String>,
    /// Peer to dial (repeatable), `/ip4/1.2.3.4/tcp/9333/p2p/<peer id>`.
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// API address (default loopback).
    #[arg(long)]
    pub api_bind: Option<String>,
    /// Reorg window: shares kept whole below the tip.
    #[arg(long)]
    pub window: Option<u32>,
    /// Drop share bodies deeper than this many shares from disk (default: keep all).
    #[arg(long)]
    pub prune_depth: Option<u32>,
    /// Log filter (`info`, `debug`, `p2share_node=debug,info`, …).
    #[arg(long)]
    pub log_level: Option<String>,
    /// Ban length in seconds.
    #[arg(long)]
    pub ban_seconds: Option<u64>,
    /// Turn off Kademlia discovery.
    #[arg(long)]
    pub no_kademlia: bool,
    /// Turn off AutoNAT and hole punching.
    #[arg(long)]
    pub no_nat: bool,
    /// Do not write a log file.
    #[arg(long)]
    pub no_log_file: bool,
    /// Bitcoin Core's JSON-RPC URL (mining on main, testnet4, signet or a custom network).
    #[arg(long)]
    pub bitcoin_rpc_url: Option<String>,
    /// Bitcoin Core's cookie file.
    #[arg(long)]
    pub bitcoin_rpc_cookie: Option<PathBuf>,
    /// Bitcoin Core's `rpcuser` (the password comes from the config file or
    /// `P2SHARE_BITCOIN_RPC_PASSWORD`, never from the command line).
    #[arg(long)]
    pub bitcoin_rpc_user: Option<String>,
    /// Mine, paying this address (of the network's Bitcoin chain).
    #[arg(long)]
    pub mine_to: Option<String>,
    /// Hasher threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Do not serve the API and dashboard.
    #[arg(long)]
    pub no_api: bool,
    /// Stratum server address for mining devices (default `0.0.0.0:3333` when a Bitcoin node
    /// is set; `off` for none).
    #[arg(long)]
    pub stratum_bind: Option<String>,
}
