//! The `p2share-node` daemon: configuration (TOML file plus flags), data directories, logging,
//! and the wiring of store, chain, mempool, peer-to-peer and API, with graceful shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use p2share_consensus::ChainParams;
use p2share_mempool::MempoolConfig;
use p2share_p2p::{load_or_create_keypair, Multiaddr, P2p, P2pConfig};
use p2share_rpc::{CookieFile, Credentials};
use serde::Deserialize;
use tokio::sync::watch;

use crate::api::{self, ApiState};
use crate::service::{Node, DEFAULT_WINDOW};
use crate::sync::Net;

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The configuration is unusable.
    #[error("config: {0}")]
    Config(String),
    /// Starting a component failed.
    #[error("{what}: {reason}")]
    Start {
        /// The component.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

fn start_err(what: &'static str) -> impl FnOnce(String) -> DaemonError {
    move |reason| DaemonError::Start { what, reason }
}

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
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Chain parameters.
    pub params: ChainParams,
    /// Data directory.
    pub datadir: PathBuf,
    /// Listen multiaddrs.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial.
    pub peers: Vec<Multiaddr>,
    /// API address.
    pub api_bind: SocketAddr,
    /// Fixed API credentials, else a cookie.
    pub api_credentials: Option<(String, String)>,
    /// Reorg window.
    pub window: u32,
    /// Body pruning depth (`None`: keep every body).
    pub prune_depth: Option<u32>,
    /// Mempool configuration.
    pub mempool: MempoolConfig,
    /// Log filter.
    pub log_level: String,
    /// Whether to write a log file.
    pub log_file: bool,
    /// Log files kept.
    pub log_keep: usize,
    /// Limits and switches of the p2p layer.
    pub p2p: P2pSection,
}

impl Config {
    /// A node on loopback only: ephemeral p2p and API ports, a cookie, no log file, no NAT
    /// helpers or Kademlia, the default window and mempool; for tests, benchmarks and tools
    /// that run several nodes on one machine.
    pub fn loopback(params: ChainParams, datadir: &Path, peers: Vec<Multiaddr>) -> Config {
        Config {
            params,
            datadir: datadir.to_path_buf(),
            listen: vec![
                Multiaddr::from(std::net::Ipv4Addr::LOCALHOST).with(p2share_p2p::Protocol::Tcp(0))
            ],
            peers,
            api_bind: SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
            api_credentials: None,
            window: crate::service::DEFAULT_WINDOW,
            prune_depth: None,
            mempool: MempoolConfig::default(),
            log_level: "warn".into(),
            log_file: false,
            log_keep: 1,
            p2p: P2pSection {
                nat: Some(false),
                kademlia: Some(false),
                ..P2pSection::default()
            },
        }
    }
}

/// Default ports per built-in network: (p2p, api).
pub fn default_ports(network: &str) -> (u16, u16) {
    match network {
        "main" => (9333, 9332),
        "testnet4" => (19333, 19332),
        "signet" => (39333, 39332),
        _ => (29333, 29332),
    }
}

/// `$XDG_DATA_HOME/p2share` (or `~/.local/share/p2share`).
pub fn default_data_root() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("p2share");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/p2share")
}

fn parse_addrs(what: &str, list: &[String]) -> Result<Vec<Multiaddr>, DaemonError> {
    list.iter()
        .map(|s| {
            s.parse::<Multiaddr>()
                .map_err(|e| DaemonError::Config(format!("{what}: bad multiaddr {s:?}: {e}")))
        })
        .collect()
}

/// Resolves flags and file into a [`Config`].
///
/// # Errors
/// [`DaemonError::Config`] naming the key or file that is wrong.
pub fn resolve(flags: &Flags) -> Result<Config, DaemonError> {
    let file_path = flags.config.clone();
    let file: FileConfig = match &file_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| DaemonError::Config(format!("cannot read {}: {e}", p.display())))?;
            toml::from_str(&text)
                .map_err(|e| DaemonError::Config(format!("{}: {e}", p.display())))?
        }
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
    let file = if file_path.is_none() && datadir.join("p2share.toml").exists() {
        let p = datadir.join("p2share.toml");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| DaemonError::Config(format!("cannot read {}: {e}", p.display())))?;
        toml::from_str(&text).map_err(|e| DaemonError::Config(format!("{}: {e}", p.display())))?
    } else {
        file
    };
    let (p2p_port, api_port) = default_ports(&params.name);
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
        .map_err(|e| DaemonError::Config(format!("api bind {bind:?}: {e}")))?;
    let api_credentials = match (&file.api.user, &file.api.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => {
            return Err(DaemonError::Config(
                "api.user and api.password go together".into(),
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
        return Err(DaemonError::Config(format!(
            "storage.window {window} is too small (at least 10 shares)"
        )));
    }
    let prune_depth = flags.prune_depth.or(file.storage.prune_depth);
    if let Some(d) = prune_depth {
        if d < window {
            return Err(DaemonError::Config(format!(
                "storage.prune_depth {d} is below the reorg window {window}: the node needs the \
                 bodies of its window"
            )));
        }
    }
    Ok(Config {
        prune_depth,
        params,
        datadir,
        listen,
        peers,
        api_bind,
        api_credentials,
        window,
        mempool,
        log_level: flags
            .log_level
            .clone()
            .or(file.log.level.clone())
            .unwrap_or_else(|| "info".into()),
        log_file: !flags.no_log_file && file.log.file.unwrap_or(true),
        log_keep: file.log.keep_files.unwrap_or(7),
        p2p,
    })
}

/// A built-in network by name, or a custom network from a TOML file.
///
/// # Errors
/// [`DaemonError::Config`] for unknown names and bad files.
pub fn load_network(network: &str) -> Result<ChainParams, DaemonError> {
    match network {
        "main" => Ok(ChainParams::main()),
        "testnet4" => Ok(ChainParams::testnet4()),
        "signet" => Ok(ChainParams::signet()),
        "regtest" => Ok(ChainParams::regtest()),
        path if Path::new(path).exists() => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| DaemonError::Config(format!("cannot read network {path}: {e}")))?;
            ChainParams::from_toml(&text)
                .map_err(|e| DaemonError::Config(format!("network file {path}: {e}")))
        }
        other => Err(DaemonError::Config(format!(
            "unknown network {other:?}: use main, testnet4, signet, regtest or a network TOML file"
        ))),
    }
}

/// The log filter for `level`: as given, plus quieting Kademlia's warning about an empty routing
/// table (a node without peers yet, every few minutes) unless the filter names `libp2p_kad`.
pub fn log_directives(level: &str) -> String {
    if level.contains("libp2p_kad") {
        level.to_string()
    } else {
        format!("{level},libp2p_kad=error")
    }
}

/// Installs the console and (optionally) rotating-file logger. Keep the guard alive.
///
/// # Errors
/// [`DaemonError::Config`] for a bad filter.
pub fn init_logging(
    config: &Config,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, DaemonError> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter, Layer};
    let filter = |level: &str| {
        EnvFilter::try_new(log_directives(level))
            .map_err(|e| DaemonError::Config(format!("log level {level:?}: {e}")))
    };
    use std::io::IsTerminal;
    let console = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(filter(&config.log_level)?);
    let (file_layer, guard) = if config.log_file {
        let dir = config.datadir.join("logs");
        let appender = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("p2share-node")
            .filename_suffix("log")
            .max_log_files(config.log_keep.max(1))
            .build(&dir)
            .map_err(|e| DaemonError::Config(format!("log directory {}: {e}", dir.display())))?;
        let (writer, guard) = tracing_appender::non_blocking(appender);
        let layer = fmt::layer()
            .with_writer(writer)
            .with_ansi(false)
            .with_filter(filter(&config.log_level)?);
        (Some(layer), Some(guard))
    } else {
        (None, None)
    };
    // A second init (tests run several nodes in one process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(console)
        .with(file_layer)
        .try_init();
    Ok(guard)
}

/// A running node: store, chain, mempool, p2p and API.
#[derive(Debug)]
pub struct Daemon {
    /// The node core.
    pub node: Node,
    /// The network side.
    pub net: Net,
    /// The API's address.
    pub api_addr: SocketAddr,
    /// The API credentials.
    pub credentials: Credentials,
    stop: std::sync::Arc<watch::Sender<bool>>,
    miner: std::sync::Arc<tokio::sync::OnceCell<crate::mining::Miner>>,
    api_task: tokio::task::JoinHandle<()>,
    _cookie: Option<CookieFile>,
}

impl Daemon {
    /// Starts every component of `config`.
    ///
    /// # Errors
    /// [`DaemonError::Start`] naming the component that failed.
    pub async fn start(config: &Config) -> Result<Daemon, DaemonError> {
        let node = Node::open(
            config.params.clone(),
            &config.datadir,
            config.window,
            config.prune_depth,
            config.mempool.clone(),
        )
        .await
        .map_err(|e| start_err("store")(e.to_string()))?;
        let keypair = load_or_create_keypair(&config.datadir.join("p2p.key"))
            .map_err(|e| start_err("p2p key")(e.to_string()))?;
        let mut p2p_config = P2pConfig::new(config.params.name.clone(), keypair);
        p2p_config.listen = config.listen.clone();
        p2p_config.bootstrap = config.peers.clone();
        let s = &config.p2p;
        if let Some(v) = s.max_connections {
            p2p_config.max_connections = v;
        }
        if let Some(v) = s.max_connections_per_peer {
            p2p_config.max_connections_per_peer = v;
        }
        if let Some(v) = s.max_requests_per_second {
            p2p_config.max_requests_per_second = v;
        }
        if let Some(v) = s.ban_seconds {
            p2p_config.ban_duration = Duration::from_secs(v);
        }
        if let Some(v) = s.kademlia {
            p2p_config.enable_kademlia = v;
        }
        if let Some(v) = s.nat {
            p2p_config.enable_nat = v;
        }
        let (p2p, events) = P2p::start(p2p_config)
            .await
            .map_err(|e| start_err("p2p")(e.to_string()))?;
        let net = Net::start(node.clone(), p2p.clone(), events);
        let (cookie, credentials) = match &config.api_credentials {
            Some((u, p)) => (None, Credentials::new(u.clone(), p.clone())),
            None => {
                let cookie = CookieFile::create(&config.datadir.join(".cookie"))
                    .map_err(|e| start_err("api cookie")(e.to_string()))?;
                let c = cookie.credentials().clone();
                (Some(cookie), c)
            }
        };
        let listener = tokio::net::TcpListener::bind(config.api_bind)
            .await
            .map_err(|e| start_err("api")(format!("cannot bind {}: {e}", config.api_bind)))?;
        let api_addr = listener
            .local_addr()
            .map_err(|e| start_err("api")(e.to_string()))?;
        let (stop, _) = watch::channel(false);
        let stop = std::sync::Arc::new(stop);
        let miner = std::sync::Arc::new(tokio::sync::OnceCell::new());
        let router = api::router(
            ApiState {
                node: node.clone(),
                net: net.clone(),
                stop: stop.clone(),
                miner: miner.clone(),
            },
            credentials.clone(),
        );
        let mut stopped = stop.subscribe();
        let api_task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "API server failed");
            }
        });
        let (tip, height) = node.tip().await;
        tracing::info!(
            network = %config.params.name,
            datadir = %config.datadir.display(),
            api = %api_addr,
            peer_id = %p2p.local_peer_id(),
            height,
            %tip,
            "p2share node started"
        );
        Ok(Daemon {
            node,
            net,
            api_addr,
            credentials,
            stop,
            miner,
            api_task,
            _cookie: cookie,
        })
    }

    /// The addresses other nodes dial this one at: each listen address with `/p2p/<peer id>`
    /// (empty until the listeners are up, or if the p2p service stopped).
    pub async fn dial_addrs(&self) -> Vec<Multiaddr> {
        let p2p = self.net.p2p();
        let id = p2p.local_peer_id();
        p2p.listen_addrs()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.with(p2share_p2p::Protocol::P2p(id)))
            .collect()
    }

    /// Shows `miner` in the API (`getmininginfo`, `getodds`); the first one set stays.
    pub fn set_miner(&self, miner: crate::mining::Miner) {
        let _ = self.miner.set(miner);
    }

    /// Stops the miner, if one was set.
    pub fn stop_miner(&self) {
        if let Some(m) = self.miner.get() {
            m.stop();
        }
    }

    /// A receiver that turns `true` when the API's `stop` was called.
    pub fn stop_requested(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stops the API and the p2p service and closes the store.
    pub async fn shutdown(self) {
        self.stop_miner();
        let _ = self.stop.send(true);
        let _ = self.api_task.await;
        let _ = self.net.p2p().shutdown().await;
        self.node.close().await;
        tracing::info!("p2share node stopped");
    }
}

/// Runs the daemon until SIGINT, SIGTERM or the API's `stop`.
///
/// # Errors
/// Configuration and start-up errors.
pub fn run(flags: &Flags) -> Result<(), DaemonError> {
    let config = resolve(flags)?;
    std::fs::create_dir_all(&config.datadir).map_err(|e| {
        DaemonError::Config(format!(
            "cannot create data directory {}: {e}",
            config.datadir.display()
        ))
    })?;
    let _guard = init_logging(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| start_err("runtime")(e.to_string()))?;
    runtime.block_on(async {
        let daemon = Daemon::start(&config).await?;
        let auth = match &config.api_credentials {
            Some((user, _)) => format!("user {user}"),
            None => format!("cookie {}", config.datadir.join(".cookie").display()),
        };
        eprintln!(
            "p2share node on {} — API http://{} ({auth}), data {}",
            config.params.name,
            daemon.api_addr,
            config.datadir.display()
        );
        let mut stop = daemon.stop_requested();
        let term = async {
            #[cfg(unix)]
            {
                if let Ok(mut s) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    s.recv().await;
                    return;
                }
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
            () = term => tracing::info!("SIGTERM: shutting down"),
            _ = stop.wait_for(|s| *s) => tracing::info!("stop requested over the API"),
        }
        daemon.shutdown().await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn flags_with_file(dir: &Path, toml: &str) -> Flags {
        let path = dir.join("p2share.toml");
        std::fs::write(&path, toml).unwrap();
        Flags {
            config: Some(path),
            datadir: Some(dir.join("data")),
            ..Flags::default()
        }
    }

    fn config_error(flags: &Flags) -> String {
        match resolve(flags) {
            Err(DaemonError::Config(msg)) => msg,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_regtest_on_loopback_with_archive_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let c = resolve(&Flags {
            datadir: Some(dir.path().to_path_buf()),
            ..Flags::default()
        })
        .unwrap();
        assert_eq!(c.params.name, "regtest");
        assert_eq!(c.api_bind.to_string(), "127.0.0.1:29332");
        assert_eq!(c.listen[0].to_string(), "/ip4/0.0.0.0/tcp/29333");
        assert_eq!((c.window, c.prune_depth), (DEFAULT_WINDOW, None));
        assert!(c.log_file);
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut flags = flags_with_file(
            dir.path(),
            "network = \"regtest\"\n[api]\nbind = \"127.0.0.1:1111\"\n[storage]\nwindow = 500\n",
        );
        flags.api_bind = Some("127.0.0.1:2222".into());
        flags.peers = vec![
            "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGGSPbmGx3VJz4aVmX9pP3kEmQhHym6oykWAJ2CS5qQpb".into(),
        ];
        let c = resolve(&flags).unwrap();
        assert_eq!(c.api_bind.to_string(), "127.0.0.1:2222");
        assert_eq!(c.window, 500);
        assert_eq!(c.peers.len(), 1);
    }

    #[test]
    fn bad_config_is_refused_with_the_key_named() {
        let dir = tempfile::tempdir().unwrap();
        let msg = config_error(&flags_with_file(dir.path(), "[p2p]\nlisten_on = []\n"));
        assert!(msg.contains("listen_on"), "{msg}");
        let msg = config_error(&flags_with_file(dir.path(), "[api]\nbind = \"nowhere\"\n"));
        assert!(msg.contains("api bind \"nowhere\""), "{msg}");
        let msg = config_error(&flags_with_file(
            dir.path(),
            "[p2p]\npeers = [\"ip4 1.2.3.4\"]\n",
        ));
        assert!(msg.contains("p2p.peers: bad multiaddr"), "{msg}");
        let msg = config_error(&flags_with_file(
            dir.path(),
            "[storage]\nwindow = 100\nprune_depth = 50\n",
        ));
        assert!(
            msg.contains("prune_depth 50 is below the reorg window 100"),
            "{msg}"
        );
        let msg = config_error(&flags_with_file(dir.path(), "[api]\nuser = \"alice\"\n"));
        assert!(msg.contains("go together"), "{msg}");
        let msg = config_error(&flags_with_file(dir.path(), "network = \"mainnet\"\n"));
        assert!(msg.contains("unknown network \"mainnet\""), "{msg}");
        let msg = config_error(&Flags {
            config: Some(dir.path().join("missing.toml")),
            ..Flags::default()
        });
        assert!(msg.contains("cannot read"), "{msg}");
    }

    #[test]
    fn a_custom_network_file_is_a_network() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/examples/custom-network.toml"
        );
        let params = load_network(file).unwrap();
        assert_ne!(params.name, "regtest");
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("net.toml");
        std::fs::write(&bad, "name = 5\n").unwrap();
        let msg = match load_network(bad.to_str().unwrap()) {
            Err(DaemonError::Config(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg.contains("network file"), "{msg}");
    }
}
