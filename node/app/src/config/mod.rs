//! The typed configuration an [`crate::App`] starts from, and its resolution from the TOML file
//! and the command-line flags.

mod file;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bitcoin::ScriptBuf;
use p2share_api::{address_network, LogBuffer};
use p2share_consensus::params::MainchainNetwork;
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::Auth;
use p2share_mempool::MempoolConfig;
use p2share_p2p::Multiaddr;
use p2share_service::DEFAULT_WINDOW;
use p2share_stratum::StratumConfig;

pub use file::{
    ApiSection, BitcoinSection, FileConfig, Flags, LogSection, MempoolSection, MiningSection,
    P2pSection, StorageSection, StratumSection,
};

use crate::embedded;
use crate::error::AppError;

/// The node: network, storage, peers.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Chain parameters.
    pub params: ChainParams,
    /// Data directory.
    pub datadir: PathBuf,
    /// Listen multiaddrs.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial.
    pub peers: Vec<Multiaddr>,
    /// Reorg window.
    pub window: u32,
    /// Body pruning depth (`None`: keep every body).
    pub prune_depth: Option<u32>,
    /// Mempool configuration.
    pub mempool: MempoolConfig,
    /// Limits and switches of the p2p layer.
    pub p2p: P2pSection,
}

/// The API server (JSON-RPC, events, dashboard, metrics).
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Address (loopback by default; a LAN address is an explicit choice).
    pub bind: SocketAddr,
    /// Fixed credentials, else a cookie in the data directory.
    pub credentials: Option<(String, String)>,
}

/// Where Bitcoin templates come from and blocks go.
#[derive(Clone, Debug)]
pub enum BitcoinConfig {
    /// None: the node does not mine.
    None,
    /// The embedded regtest chain (the devnet).
    Embedded(embedded::Config),
    /// The user's Bitcoin Core over JSON-RPC.
    Core {
        /// JSON-RPC URL.
        url: String,
        /// Cookie file or user and password.
        auth: Auth,
    },
}

/// The node's own miner.
#[derive(Clone, Debug)]
pub struct MiningConfig {
    /// The script shares (and, while `n = 0`, Bitcoin rewards) pay; no mining without one.
    pub script: Option<ScriptBuf>,
    /// Once the node's wallet exists, its mining address replaces `script` (which is then only
    /// a fallback, like the devnet's own key). `false` when the user chose an address.
    pub wallet_pays: bool,
    /// Hasher threads.
    pub threads: usize,
    /// Start mining at start.
    pub start: bool,
    /// The Stratum server for mining devices (`None`: off). It needs a Bitcoin node (for
    /// templates) but not an address of the node's own: each device pays the address it
    /// authorizes with.
    pub stratum: Option<StratumConfig>,
    /// OpenCL devices (ids as `getdevices` lists them) enabled at start, on top of those the
    /// Devices screen saved (`<datadir>/devices.json`).
    pub opencl: Vec<String>,
    /// Their intensity (default: the device's saved one, else the highest).
    pub opencl_intensity: Option<u8>,
}

/// The Stratum port the daemon and the devnet listen on by default (where the pools Bitaxe
/// owners know listen).
pub const DEFAULT_STRATUM_PORT: u16 = 3333;

/// The default Stratum address: every interface, port [`DEFAULT_STRATUM_PORT`] (devices are on
/// the LAN).
pub fn default_stratum_bind() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], DEFAULT_STRATUM_PORT))
}

/// Parses a `--stratum-bind` value: an address, or `off`/`none` (no server).
///
/// # Errors
/// [`AppError::Config`] for anything else.
pub fn parse_stratum_bind(key: &str, s: &str) -> Result<Option<SocketAddr>, AppError> {
    match s.trim() {
        "off" | "none" | "" => Ok(None),
        other => other.parse().map(Some).map_err(|e| {
            AppError::config(
                key,
                format!("{other:?} is not an address (like 0.0.0.0:3333) or off: {e}"),
            )
        }),
    }
}

/// Logging, for the binaries that install loggers (the library installs none).
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Filter, as `RUST_LOG`.
    pub level: String,
    /// Write daily-rotated files under `<datadir>/logs`.
    pub file: bool,
    /// Rotated files kept.
    pub keep: usize,
}

/// Swap settings of the node's wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapOptions {
    /// `T_p` of the node's offers, hours (6–24; default 12).
    pub maker_lock_hours: u32,
    /// Timelocks in blocks instead of hours (tests; devnets where a day is minutes).
    pub timelocks_blocks: Option<p2share_walletd::swap::OfferTimelocks>,
    /// Confirmations of a Bitcoin lock before acting on it (default 1 on regtest, 2 elsewhere).
    pub btc_confirmations: Option<u32>,
    /// Least confirmations of a sharechain lock (default 3; deeper reorgs seen raise it).
    pub share_confirmations: u32,
    /// BTC fee rate of swap transactions, sat/vB (default 2).
    pub btc_fee_rate: u64,
    /// Seconds per Bitcoin block, where it is not Bitcoin's 600 (a devnet's embedded chain:
    /// the shares' spacing times its block-target ratio; `None` there: the shares' spacing).
    pub btc_spacing_secs: Option<u32>,
}

impl Default for SwapOptions {
    fn default() -> SwapOptions {
        SwapOptions {
            maker_lock_hours: 12,
            timelocks_blocks: None,
            btc_confirmations: None,
            share_confirmations: 3,
            btc_fee_rate: 2,
            btc_spacing_secs: None,
        }
    }
}

/// Everything an [`crate::App`] starts from.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The node.
    pub node: NodeConfig,
    /// The API server (`None`: no server; the typed [`p2share_api::Api`] still answers).
    pub api: Option<ApiConfig>,
    /// The Bitcoin side.
    pub bitcoin: BitcoinConfig,
    /// The miner.
    pub mining: MiningConfig,
    /// The devnet id, on a devnet.
    pub devnet_id: Option<String>,
    /// Log lines for the API (fed by the layer the binary installs).
    pub logs: LogBuffer,
    /// Logging settings for the binary.
    pub log: LogConfig,
    /// Browser sessions shared with earlier runs of the node in this process (a restart on a
    /// new setup keeps the dashboard logged in); `None`: new ones.
    pub sessions: Option<p2share_api::http::Sessions>,
    /// Swap settings.
    pub swap: SwapOptions,
}

/// Hasher threads by default: one per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

impl AppConfig {
    /// A node on loopback only: ephemeral p2p and API ports, a cookie, no NAT helpers or
    /// Kademlia, the default window and mempool, no Bitcoin side; for tests, benchmarks and
    /// tools that run several nodes on one machine.
    pub fn loopback(params: ChainParams, datadir: &Path, peers: Vec<Multiaddr>) -> AppConfig {
        AppConfig {
            swap: SwapOptions::default(),
            node: NodeConfig {
                params,
                datadir: datadir.to_path_buf(),
                listen: vec![Multiaddr::from(std::net::Ipv4Addr::LOCALHOST)
                    .with(p2share_p2p::Protocol::Tcp(0))],
                peers,
                window: DEFAULT_WINDOW,
                prune_depth: None,
                mempool: MempoolConfig::default(),
                p2p: P2pSection {
                    nat: Some(false),
                    kademlia: Some(false),
                    ..P2pSection::default()
                },
            },
            api: Some(ApiConfig {
                bind: SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
                credentials: None,
            }),
            bitcoin: BitcoinConfig::None,
            mining: MiningConfig {
                script: None,
                wallet_pays: true,
                threads: 1,
                start: false,
                stratum: None,
                opencl: Vec::new(),
                opencl_intensity: None,
            },
            devnet_id: None,
            logs: LogBuffer::new(),
            log: LogConfig {
                level: "warn".into(),
                file: false,
                keep: 1,
            },
            sessions: None,
        }
    }
}

/// Default ports of a sharechain on `params`' Bitcoin network: (p2p, api).
pub fn default_ports_of(params: &ChainParams) -> (u16, u16) {
    match params.mainchain {
        MainchainNetwork::Bitcoin => (9333, 9332),
        MainchainNetwork::Testnet4 => (19333, 19332),
        MainchainNetwork::Signet => (39333, 39332),
        MainchainNetwork::Regtest => (29333, 29332),
    }
}

/// Default ports by network name (built-in networks; anything else as regtest).
pub fn default_ports(network: &str) -> (u16, u16) {
    match network {
        "main" => (9333, 9332),
        "testnet4" => (19333, 19332),
        "signet" => (39333, 39332),
        _ => (29333, 29332),
    }
}

/// Bitcoin Core's default JSON-RPC port and data subdirectory for `params`' Bitcoin network.
pub fn bitcoin_core_defaults(params: &ChainParams) -> (u16, &'static str) {
    match params.mainchain {
        MainchainNetwork::Bitcoin => (8332, ""),
        MainchainNetwork::Testnet4 => (48332, "testnet4"),
        MainchainNetwork::Signet => (38332, "signet"),
        MainchainNetwork::Regtest => (18443, "regtest"),
    }
}

/// `$XDG_DATA_HOME/p2share` (or `~/.local/share/p2share`).
pub fn default_data_root() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("p2share");
    }
    home().join(".local/share/p2share")
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn parse_addrs(what: &str, list: &[String]) -> Result<Vec<Multiaddr>, AppError> {
    list.iter()
        .map(|s| {
            s.parse::<Multiaddr>()
                .map_err(|e| AppError::config(what, format!("bad multiaddr {s:?}: {e}")))
        })
        .collect()
}

fn read_file_config(p: &Path) -> Result<FileConfig, AppError> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| AppError::config(p.display().to_string(), format!("cannot read: {e}")))?;
    toml::from_str(&text).map_err(|e| AppError::config(p.display().to_string(), e))
}

/// An address of `params`' Bitcoin network as a script.
///
/// # Errors
/// [`AppError::Config`] for `key` when it is not an address, or one of another network.
pub fn address_script(params: &ChainParams, key: &str, s: &str) -> Result<ScriptBuf, AppError> {
    let net = address_network(params);
    let addr: bitcoin::Address<bitcoin::address::NetworkUnchecked> = s
        .parse()
        .map_err(|e| AppError::config(key, format!("{s:?} is not an address: {e}")))?;
    addr.require_network(net)
        .map(|a| a.script_pubkey())
        .map_err(|_| {
            AppError::config(
                key,
                format!(
                    "{s} is not an address of network {} (its Bitcoin chain takes {net} addresses)",
                    params.name
                ),
            )
        })
}

/// Resolves flags and file into an [`AppConfig`] for the daemon.
///
/// # Errors
/// [`AppError::Config`] naming the key or file that is wrong.
pub fn resolve(flags: &Flags) -> Result<AppConfig, AppError> {
    let file: FileConfig = match &flags.config {
        Some(p) => read_file_config(p)?,
        None => FileConfig::default(),
    };
    let network = flags
        .network
        .clone()
        .or(file.network.clone())
        .unwrap_or_else(|| "regtest".to_string());
    let params = load_network(&network)?;
    let datadir = flags
        .datadir
        .clone()
        .or(file.datadir.clone())
        .unwrap_or_else(|| default_data_root().join(&params.name));
    // A config file in the data directory is read when none was named.
    let file = if flags.config.is_none() && datadir.join("p2share.toml").exists() {
        read_file_config(&datadir.join("p2share.toml"))?
    } else {
        file
    };
    let (p2p_port, api_port) = default_ports_of(&params);
    let listen = if !flags.listen.is_empty() {
        parse_addrs("--listen", &flags.listen)?
    } else if let Some(l) = &file.p2p.listen {
        parse_addrs("p2p.listen", l)?
    } else {
        parse_addrs("default listen", &[format!("/ip4/0.0.0.0/tcp/{p2p_port}")])?
    };
    let mut peers = parse_addrs("p2p.peers", &file.p2p.peers)?;
    peers.extend(parse_addrs("--peer", &flags.peers)?);
    let bind = flags
        .api_bind
        .clone()
        .or(file.api.bind.clone())
        .unwrap_or_else(|| format!("127.0.0.1:{api_port}"));
    let api_bind: SocketAddr = bind
        .parse()
        .map_err(|e| AppError::config("api bind", format!("{bind:?}: {e}")))?;
    let api_credentials = match (&file.api.user, &file.api.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => {
            return Err(AppError::config(
                "api.user",
                "api.user and api.password go together",
            ))
        }
    };
    let mut mempool = MempoolConfig::default();
    if let Some(mb) = file.mempool.max_mb {
        mempool.max_vsize = mb.saturating_mul(1_000_000);
    }
    if let Some(rate) = file.mempool.min_fee_rate {
        mempool.min_relay_fee_rate = p2share_mempool::FeeRate::from_per_vbyte(rate);
    }
    let mut p2p = file.p2p.clone();
    if flags.ban_seconds.is_some() {
        p2p.ban_seconds = flags.ban_seconds;
    }
    if flags.no_kademlia {
        p2p.kademlia = Some(false);
    }
    if flags.no_nat {
        p2p.nat = Some(false);
    }
    let window = flags
        .window
        .or(file.storage.window)
        .unwrap_or(DEFAULT_WINDOW);
    if window < 10 {
        return Err(AppError::config(
            "storage.window",
            format!("{window} is too small (at least 10 shares)"),
        ));
    }
    let prune_depth = flags.prune_depth.or(file.storage.prune_depth);
    if let Some(d) = prune_depth {
        if d < window {
            return Err(AppError::config(
                "storage.prune_depth",
                format!(
                    "{d} is below the reorg window {window}: the node needs the bodies of its window"
                ),
            ));
        }
    }
    let bitcoin = resolve_bitcoin(&params, flags, &file.bitcoin)?;
    let address = flags.mine_to.clone().or(file.mining.address.clone());
    let key = if flags.mine_to.is_some() {
        "--mine-to"
    } else {
        "mining.address"
    };
    let script = address
        .as_deref()
        .map(|a| address_script(&params, key, a))
        .transpose()?;
    if script.is_some() && matches!(bitcoin, BitcoinConfig::None) {
        return Err(AppError::config(
            key,
            "mining needs a Bitcoin node: set [bitcoin] rpc_url (and cookie_file or user/password)",
        ));
    }
    let threads = flags
        .threads
        .or(file.mining.threads)
        .unwrap_or_else(default_threads);
    if threads == 0 {
        return Err(AppError::config("mining.threads", "at least 1"));
    }
    let stratum = resolve_stratum(flags, &file.stratum, &bitcoin)?;
    if let Some(i) = file.mining.opencl_intensity {
        if !p2share_gpu_kernels::OpenClConfig::INTENSITIES.contains(&i) {
            return Err(AppError::config(
                "mining.opencl_intensity",
                format!(
                    "{i} is out of range {}–{}",
                    p2share_gpu_kernels::OpenClConfig::INTENSITIES.start(),
                    p2share_gpu_kernels::OpenClConfig::INTENSITIES.end()
                ),
            ));
        }
    }
    Ok(AppConfig {
        swap: SwapOptions::default(),
        node: NodeConfig {
            params,
            datadir,
            listen,
            peers,
            window,
            prune_depth,
            mempool,
            p2p,
        },
        api: (!flags.no_api).then_some(ApiConfig {
            bind: api_bind,
            credentials: api_credentials,
        }),
        bitcoin,
        mining: MiningConfig {
            start: script.is_some() && file.mining.start.unwrap_or(true),
            wallet_pays: script.is_none(),
            script,
            threads,
            stratum,
            opencl: file.mining.opencl.clone(),
            opencl_intensity: file.mining.opencl_intensity,
        },
        devnet_id: None,
        logs: LogBuffer::new(),
        log: LogConfig {
            level: flags
                .log_level
                .clone()
                .or(file.log.level.clone())
                .unwrap_or_else(|| "info".into()),
            file: !flags.no_log_file && file.log.file.unwrap_or(true),
            keep: file.log.keep_files.unwrap_or(7),
        },
        sessions: None,
    })
}

/// The user's Bitcoin Core from the flags and `[bitcoin]`: URL default on the network's
/// Bitcoin RPC port, the cookie in `~/.bitcoin` unless a user and password are given.
fn resolve_bitcoin(
    params: &ChainParams,
    flags: &Flags,
    s: &BitcoinSection,
) -> Result<BitcoinConfig, AppError> {
    let password = std::env::var("P2SHARE_BITCOIN_RPC_PASSWORD")
        .ok()
        .or(s.password.clone());
    let user = flags.bitcoin_rpc_user.clone().or(s.user.clone());
    let url = flags.bitcoin_rpc_url.clone().or(s.rpc_url.clone());
    let cookie = flags.bitcoin_rpc_cookie.clone().or(s.cookie_file.clone());
    // Any Bitcoin setting of the flags or the file (or an address to mine to) asks for a
    // Bitcoin node; the password's environment variable alone does not.
    let wanted = url.is_some()
        || cookie.is_some()
        || user.is_some()
        || s.password.is_some()
        || flags.mine_to.is_some();
    if !wanted {
        return Ok(BitcoinConfig::None);
    }
    let (port, subdir) = bitcoin_core_defaults(params);
    let url = url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(AppError::config(
            "bitcoin.rpc_url",
            format!("{url:?} is not an http:// or https:// URL"),
        ));
    }
    let auth = match (cookie, user, password) {
        (Some(c), None, None) => Auth::CookieFile(c),
        (None, Some(user), Some(password)) => Auth::UserPass { user, password },
        (None, None, None) => {
            let mut p = home().join(".bitcoin");
            if !subdir.is_empty() {
                p = p.join(subdir);
            }
            Auth::CookieFile(p.join(".cookie"))
        }
        (Some(_), _, _) => {
            return Err(AppError::config(
                "bitcoin.cookie_file",
                "give a cookie file or a user and password, not both",
            ))
        }
        _ => {
            return Err(AppError::config(
                "bitcoin.user",
                "bitcoin.user and bitcoin.password go together",
            ))
        }
    };
    Ok(BitcoinConfig::Core { url, auth })
}

/// A built-in network by name, or a custom network from a TOML file.
///
/// # Errors
/// [`AppError::Config`] for unknown names and bad files.
pub fn load_network(network: &str) -> Result<ChainParams, AppError> {
    match network {
        "main" => Ok(ChainParams::main()),
        "testnet4" => Ok(ChainParams::testnet4()),
        "signet" => Ok(ChainParams::signet()),
        "regtest" => Ok(ChainParams::regtest()),
        path if Path::new(path).exists() => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AppError::config("network", format!("cannot read {path}: {e}")))?;
            ChainParams::from_toml(&text)
                .map_err(|e| AppError::config("network", format!("network file {path}: {e}")))
        }
        other => Err(AppError::config(
            "network",
            format!(
                "unknown network {other:?}: use main, testnet4, signet, regtest or a network TOML file"
            ),
        )),
    }
}

#[cfg(test)]
mod tests;

/// The Stratum server of a daemon: on (at [`default_stratum_bind`] unless `--stratum-bind` or
/// `[stratum] bind` says otherwise) whenever a Bitcoin node gives templates.
fn resolve_stratum(
    flags: &Flags,
    file: &StratumSection,
    bitcoin: &BitcoinConfig,
) -> Result<Option<StratumConfig>, AppError> {
    let bind = match (&flags.stratum_bind, &file.bind) {
        (Some(b), _) => parse_stratum_bind("--stratum-bind", b)?,
        (None, Some(b)) => parse_stratum_bind("stratum.bind", b)?,
        (None, None) => Some(default_stratum_bind()),
    };
    let Some(bind) = bind else { return Ok(None) };
    if matches!(bitcoin, BitcoinConfig::None) {
        if flags.stratum_bind.is_some() || file.bind.is_some() {
            return Err(AppError::config(
                if flags.stratum_bind.is_some() {
                    "--stratum-bind"
                } else {
                    "stratum.bind"
                },
                "the Stratum server needs a Bitcoin node for its work: set [bitcoin] rpc_url",
            ));
        }
        return Ok(None);
    }
    let mut config = StratumConfig {
        bind,
        ..StratumConfig::default()
    };
    apply_stratum_section(&mut config, file);
    config
        .validate()
        .map_err(|e| AppError::config("stratum", e.to_string()))?;
    Ok(Some(config))
}

/// The `[stratum]` table's tuning over a config.
pub fn apply_stratum_section(config: &mut StratumConfig, file: &StratumSection) {
    if let Some(v) = file.min_difficulty {
        config.min_difficulty = v;
    }
    if let Some(v) = file.max_difficulty {
        config.max_difficulty = v;
    }
    if let Some(v) = file.start_difficulty {
        config.start_difficulty = v;
    }
    if let Some(v) = file.share_interval_secs {
        config.share_interval = std::time::Duration::from_secs_f64(v.max(0.1));
    }
    if let Some(v) = file.max_per_ip {
        config.max_per_ip = v;
    }
    if let Some(v) = file.max_connections {
        config.max_connections = v;
    }
}
