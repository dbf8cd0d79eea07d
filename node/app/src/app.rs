//! [`App`]: the node, its p2p side, its miner, the optional API server and the optional
//! embedded Bitcoin regtest chain, started the same way by the daemon, `run` and the desktop
//! app, from one typed [`AppConfig`].

use std::net::SocketAddr;
use std::time::Duration;

use p2share_api::{Api, LogBuffer, NodeFacts, Shutdown};
use p2share_mainchain::rpc::{Auth, RpcConfig};
use p2share_mining::{MiningControl, MiningError};
use p2share_p2p::{load_or_create_keypair, Multiaddr, P2p, P2pConfig};
use p2share_rpc::{CookieFile, Credentials};
use p2share_service::{Net, Node, NodeError, NodeEvent};
use p2share_walletd::WalletService;
use tokio::sync::{broadcast, watch};

use crate::config::{AppConfig, BitcoinConfig};
use crate::embedded::{self, RegtestMainchain};
use crate::error::AppError;

/// A running node with everything its config asks for; shut it down with [`App::shutdown`].
#[derive(Debug)]
pub struct App {
    /// The typed request layer (what every front end calls).
    pub api: Api,
    /// The node core.
    pub node: Node,
    /// The network side.
    pub net: Net,
    /// The miner (started when the config says so; start and stop it at run time).
    pub mining: MiningControl,
    /// The API server's address, when one serves.
    pub api_addr: Option<SocketAddr>,
    /// The Stratum server's address, when one serves.
    pub stratum_addr: Option<SocketAddr>,
    /// The API credentials.
    pub credentials: Credentials,
    /// The embedded Bitcoin regtest chain, on a devnet.
    pub mainchain: Option<RegtestMainchain>,
    /// The node's wallet (shares and BTC).
    pub wallet: WalletService,
    logs: LogBuffer,
    api_stop: watch::Sender<bool>,
    api_task: Option<tokio::task::JoinHandle<()>>,
    _cookie: Option<CookieFile>,
}

/// The OpenCL devices the config enables, and the Stratum server (its address).
async fn start_hashpower(
    mining: &MiningControl,
    config: &AppConfig,
) -> Result<Option<SocketAddr>, AppError> {
    for id in &config.mining.opencl {
        if let Err(e) = mining
            .set_device(id, Some(true), config.mining.opencl_intensity)
            .await
        {
            tracing::warn!(device = %id, error = %e, "OpenCL device from the config not enabled");
        }
    }
    let Some(stratum) = &config.mining.stratum else {
        return Ok(None);
    };
    let params = config.node.params.clone();
    let parser: p2share_stratum::AddressParser = std::sync::Arc::new(move |s: &str| {
        crate::config::address_script(&params, "user name", s).map_err(|e| e.to_string())
    });
    match mining.start_stratum(stratum.clone(), parser).await {
        Ok(addr) => Ok(Some(addr)),
        Err(MiningError::StratumBind {
            addr, in_use: true, ..
        }) => Err(AppError::PortInUse {
            what: "Stratum",
            addr,
        }),
        Err(MiningError::StratumBind { addr, reason, .. }) => Err(AppError::Bind {
            what: "Stratum",
            addr,
            reason,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "no Stratum server");
            Ok(None)
        }
    }
}

/// The swap engine's settings: timelocks from hours with both chains' spacings (a devnet's
/// embedded chain gives one block per `ratio` shares: its config says so).
fn swap_config(config: &AppConfig) -> p2share_walletd::swap::SwapConfig {
    let params = &config.node.params;
    let shares_secs = params.target_spacing.max(1);
    let btc_secs = match (&config.bitcoin, config.swap.btc_spacing_secs) {
        (_, Some(secs)) => secs.max(1),
        (BitcoinConfig::Embedded(_), None) => shares_secs,
        _ => p2share_wallet::terms::Spacing::BITCOIN_SECS,
    };
    let regtest = p2share_api::address_network(params) == bitcoin::Network::Regtest;
    p2share_walletd::swap::SwapConfig {
        network: params.name.clone(),
        spacing: p2share_wallet::terms::Spacing {
            btc_secs,
            shares_secs,
        },
        maker_lock_hours: config.swap.maker_lock_hours,
        timelocks_override: config.swap.timelocks_blocks,
        btc_confirmations: config
            .swap
            .btc_confirmations
            .unwrap_or(if regtest { 1 } else { 2 }),
        share_confirmations: config.swap.share_confirmations,
        btc_fee_rate: config.swap.btc_fee_rate,
    }
}

fn bind_error(what: &'static str, addr: SocketAddr, e: &std::io::Error) -> AppError {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        AppError::PortInUse { what, addr }
    } else {
        AppError::Bind {
            what,
            addr,
            reason: e.to_string(),
        }
    }
}

impl App {
    /// Starts every component of `config`, in order: the embedded mainchain (if any), the store
    /// and chain, p2p, the miner control (mining if `config.mining.start`), the API server (if
    /// any). A component that fails stops the ones already started.
    ///
    /// # Errors
    /// [`AppError`] naming what failed: a port in use, a data directory of another network, an
    /// unreadable key, a Bitcoin node that cannot be used…
    pub async fn start(config: AppConfig) -> Result<App, AppError> {
        App::start_supervised(config, None).await
    }

    /// [`App::start`] with a supervisor answering the API's `getsetup`, `setup`,
    /// `getsettings` and `setsettings` (a [`crate::launcher::Launcher`]).
    ///
    /// # Errors
    /// As [`App::start`].
    pub async fn start_supervised(
        config: AppConfig,
        supervisor: Option<std::sync::Arc<dyn p2share_api::Supervisor>>,
    ) -> Result<App, AppError> {
        let node_dir = &config.node.datadir;
        std::fs::create_dir_all(node_dir).map_err(|e| AppError::DataDir {
            path: node_dir.clone(),
            reason: e.to_string(),
        })?;
        let mainchain = match &config.bitcoin {
            BitcoinConfig::Embedded(c) => Some(RegtestMainchain::start(c.clone()).await.map_err(
                |e| match e {
                    embedded::ServiceError::Bind { addr, source } => {
                        bind_error("embedded Bitcoin regtest chain", addr, &source)
                    }
                    other => AppError::Bitcoin(other.to_string()),
                },
            )?),
            _ => None,
        };
        let (rpc_config, bitcoin_info) = match (&config.bitcoin, &mainchain) {
            (BitcoinConfig::Embedded(_), Some(m)) => (
                Some(RpcConfig::new(
                    m.rpc_url(),
                    Auth::CookieFile(m.cookie_path().to_path_buf()),
                )),
                p2share_api::types::BitcoinSourceInfo {
                    kind: "embedded".into(),
                    rpc_url: Some(m.rpc_url()),
                    esplora_url: Some(m.esplora_url()),
                    chain: "regtest".into(),
                },
            ),
            (BitcoinConfig::Core { url, auth }, _) => (
                Some(RpcConfig::new(url.clone(), auth.clone())),
                p2share_api::types::BitcoinSourceInfo {
                    kind: "core".into(),
                    rpc_url: Some(url.clone()),
                    esplora_url: None,
                    chain: p2share_api::mainchain_name(&config.node.params).into(),
                },
            ),
            _ => (
                None,
                p2share_api::types::BitcoinSourceInfo {
                    kind: "none".into(),
                    rpc_url: None,
                    esplora_url: None,
                    chain: p2share_api::mainchain_name(&config.node.params).into(),
                },
            ),
        };
        let n = &config.node;
        let node = Node::open(
            n.params.clone(),
            node_dir,
            n.window,
            n.prune_depth,
            n.mempool.clone(),
        )
        .await
        .map_err(|e| match e {
            NodeError::Store(p2share_store::StoreError::WrongNetwork { .. }) => {
                AppError::OtherNetwork {
                    datadir: node_dir.clone(),
                    reason: e.to_string(),
                }
            }
            other => AppError::Store(other.to_string()),
        })?;
        let started = Self::start_rest(
            config,
            node.clone(),
            mainchain,
            rpc_config,
            bitcoin_info,
            supervisor,
        )
        .await;
        if started.is_err() {
            node.close().await;
        }
        started
    }

    async fn start_rest(
        config: AppConfig,
        node: Node,
        mainchain: Option<RegtestMainchain>,
        rpc_config: Option<RpcConfig>,
        bitcoin_info: p2share_api::types::BitcoinSourceInfo,
        supervisor: Option<std::sync::Arc<dyn p2share_api::Supervisor>>,
    ) -> Result<App, AppError> {
        let n = &config.node;
        let keypair = load_or_create_keypair(&n.datadir.join("p2p.key"))
            .map_err(|e| AppError::Key(e.to_string()))?;
        let mut p2p_config = P2pConfig::new(n.params.name.clone(), keypair);
        p2p_config.listen = n.listen.clone();
        p2p_config.bootstrap = n.peers.clone();
        let s = &n.p2p;
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
            .map_err(|e| AppError::P2p(e.to_string()))?;
        let net = Net::start(node.clone(), p2p.clone(), events);
        if let Some(m) = &mainchain {
            // One Bitcoin chain per devnet: the embedded chains of its nodes relay to each other.
            net.share_bitcoin_chain(std::sync::Arc::new(embedded::shared::EmbeddedShared::new(
                m.node(),
            )));
        }
        let wallet_rpc = rpc_config.clone();
        let mining = MiningControl::new(
            net.clone(),
            rpc_config,
            config.mining.script.clone(),
            config.mining.threads,
        );
        let wallet = WalletService::open(
            &n.datadir,
            net.clone(),
            wallet_rpc,
            p2share_api::address_network(&n.params),
            p2share_wallet::seed::KdfParams::DEFAULT,
            swap_config(&config),
        )
        .await;
        let wallet = match wallet {
            Ok(w) => w,
            Err(e) => {
                mining.shutdown().await;
                return Err(AppError::Store(format!("wallet: {e}")));
            }
        };
        if config.mining.wallet_pays {
            if let Some(script) = wallet.mining_script().await {
                mining.set_script(script).await;
            }
        }
        let stratum_addr = match start_hashpower(&mining, &config).await {
            Ok(a) => a,
            Err(e) => {
                mining.shutdown().await;
                return Err(e);
            }
        };
        let (cookie, credentials) = match &config.api.as_ref().and_then(|a| a.credentials.clone()) {
            Some((u, p)) => (None, Credentials::new(u.clone(), p.clone())),
            None => {
                let cookie = CookieFile::create(&n.datadir.join(".cookie")).map_err(|e| {
                    AppError::DataDir {
                        path: n.datadir.join(".cookie"),
                        reason: e.to_string(),
                    }
                })?;
                let c = cookie.credentials().clone();
                (Some(cookie), c)
            }
        };
        let listener = match &config.api {
            Some(a) => Some(
                tokio::net::TcpListener::bind(a.bind)
                    .await
                    .map_err(|e| bind_error("API", a.bind, &e))?,
            ),
            None => None,
        };
        let api_addr = match &listener {
            Some(l) => Some(l.local_addr().map_err(|e| {
                AppError::Bind {
                    what: "API",
                    addr: config
                        .api
                        .as_ref()
                        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |a| a.bind),
                    reason: e.to_string(),
                }
            })?),
            None => None,
        };
        let facts = NodeFacts {
            devnet_id: config.devnet_id.clone(),
            api_bind: api_addr.map(|a| a.to_string()),
            bitcoin: bitcoin_info,
            default_ports: crate::config::default_ports_of(&n.params),
            bitcoin_policy_target: match &config.bitcoin {
                BitcoinConfig::Embedded(c) => c.policy.block_target,
                _ => None,
            },
            started_at: p2share_service::unix_now(),
            wallet_pays_miner: config.mining.wallet_pays,
        };
        let logs = config.logs.clone();
        let mut api = Api::new(
            node.clone(),
            net.clone(),
            mining.clone(),
            facts,
            logs.clone(),
        );
        if let Some(s) = supervisor {
            api = api.with_supervisor(s);
        }
        api = api.with_wallet(wallet.clone());
        logs.attach(node.clone());
        let (api_stop, stopped) = watch::channel(false);
        let api_task = listener.map(|listener| {
            let router = p2share_api::http::router_with_sessions(
                api.clone(),
                credentials.clone(),
                config.sessions.clone().unwrap_or_default(),
            );
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::error!(error = %e, "API server failed");
                }
            })
        });
        if config.mining.start {
            if let Err(e) = mining.start(None).await {
                // The rest runs; the user sees why mining is off and can start it later.
                tracing::warn!(error = %e, "mining not started");
            }
        }
        let (tip, height) = node.tip().await;
        tracing::info!(
            network = %n.params.name,
            datadir = %n.datadir.display(),
            api = ?api_addr,
            peer_id = %p2p.local_peer_id(),
            height,
            %tip,
            "p2share node started"
        );
        Ok(App {
            api,
            node,
            net,
            mining,
            api_addr,
            stratum_addr,
            credentials,
            mainchain,
            wallet,
            logs,
            api_stop,
            api_task,
            _cookie: cookie,
        })
    }

    /// The addresses other nodes dial this one at: each listen address with `/p2p/<id>`
    /// (empty until the listeners are up).
    pub async fn dial_addrs(&self) -> Vec<Multiaddr> {
        self.api.dial_addrs().await
    }

    /// The one typed event stream.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.node.subscribe()
    }

    /// Turns to [`Shutdown::Stop`] when the API's `stop` is called, [`Shutdown::Restart`] after
    /// a new setup or settings.
    pub fn shutdown_requested(&self) -> watch::Receiver<Shutdown> {
        self.api.shutdown_requested()
    }

    /// Stops everything in order — miner (hasher threads joined), API server, p2p, store,
    /// embedded mainchain — and returns when all are closed and the store is consistent.
    pub async fn shutdown(mut self) {
        self.mining.shutdown().await;
        let _ = self.api_stop.send(true);
        if let Some(t) = self.api_task.take() {
            let _ = t.await;
        }
        let _ = self.net.p2p().shutdown().await;
        self.wallet.close().await;
        self.logs.detach();
        self.node.close().await;
        if let Some(m) = self.mainchain.take() {
            m.shutdown().await;
        }
        tracing::info!("p2share node stopped");
    }
}

#[cfg(test)]
mod swap_config_tests {
    use super::*;
    use p2share_walletd::swap::Asset;

    #[test]
    fn devnet_timelocks_are_consistent_for_every_block_ratio_and_both_directions() {
        let dir = std::path::Path::new("/nonexistent");
        for ratio in [1u32, 3, 30, 1_000] {
            let mut config = AppConfig::loopback(
                p2share_consensus::ChainParams::devnet(1, 0x207f_ffff),
                dir,
                vec![],
            );
            config.swap.btc_spacing_secs = Some(config.node.params.target_spacing * ratio);
            let swap = swap_config(&config);
            for side in [Asset::Shares, Asset::Btc] {
                let t = swap.timelocks_for(side);
                assert!(t.is_ok(), "ratio {ratio}, {side:?}: {t:?}");
            }
        }
        // Bitcoin proper: 600 s blocks against the main sharechain's.
        let config = AppConfig::loopback(p2share_consensus::ChainParams::main(), dir, vec![]);
        let mut core = config.clone();
        core.bitcoin = BitcoinConfig::None;
        assert!(swap_config(&core).timelocks_for(Asset::Shares).is_ok());
    }
}
