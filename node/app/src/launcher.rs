//! The first run and the settings of a node that a person sets up from the dashboard: what it
//! runs on is kept in `<root>/setup.toml` (a devnet, a joined devnet, or a network on the
//! user's Bitcoin Core), and [`Launcher::config`] turns it into the [`AppConfig`] the next start
//! uses. The daemon and `run` hand the launcher to the API ([`p2share_api::Supervisor`]); a new
//! setup makes the node restart on it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use p2share_api::types::{
    BitcoinCoreConnection, Settings, SettingsBitcoin, SettingsResult, SettingsUpdate, Setup,
    SetupRequest,
};
use p2share_api::{ApiError, LogBuffer, Supervisor};
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::Auth;
use p2share_p2p::Multiaddr;
use serde::{Deserialize, Serialize};

use crate::config::{
    default_ports_of, load_network, ApiConfig, AppConfig, BitcoinConfig, LogConfig, MiningConfig,
    NodeConfig, P2pSection,
};
use crate::devnet::{
    devnet_config, key_script, load_or_create_key, parse_devnet_id, DevnetOptions,
};
use crate::error::AppError;

/// What every setup shares: addresses, threads, the devnet's mainchain ports, logging.
#[derive(Clone, Debug)]
pub struct LaunchDefaults {
    /// API and dashboard address (one address whatever the network, so the dashboard's URL
    /// stays the same); `None`: no API server unless the setup names an address (the desktop
    /// app, whose dashboard talks over IPC).
    pub api_bind: Option<SocketAddr>,
    /// Sharechain listen address.
    pub listen: Multiaddr,
    /// Hasher threads.
    pub threads: usize,
    /// The Stratum server's address (`None`: none).
    pub stratum_bind: Option<SocketAddr>,
    /// The devnet's embedded mainchain JSON-RPC address.
    pub bitcoin_rpc_bind: SocketAddr,
    /// The devnet's embedded mainchain Esplora address.
    pub esplora_bind: SocketAddr,
    /// The devnet's Bitcoin blocks are this many times harder than its starting shares.
    pub block_target_ratio: u64,
    /// Logging.
    pub log: LogConfig,
    /// Where a devnet's data goes (`<root>/devnet` by default).
    pub devnet_datadir: Option<PathBuf>,
}

/// `<root>/setup.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupFile {
    /// `devnet`, `join` or `network`.
    pub kind: String,
    /// The devnet joined.
    pub devnet_id: Option<String>,
    /// The peer joined through.
    pub peer: Option<String>,
    /// A built-in network name or the path of a saved network file.
    pub network: Option<String>,
    /// The Bitcoin Core of a network setup.
    pub bitcoin: Option<BitcoinCoreConnection>,
    /// API address override.
    pub api_bind: Option<String>,
    /// Hasher threads override.
    pub threads: Option<u32>,
}

/// Keeps the setup of the nodes under one data root.
#[derive(Debug)]
pub struct Launcher {
    root: PathBuf,
    defaults: LaunchDefaults,
    current: Mutex<Option<AppConfig>>,
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidParameter(e.to_string())
}

impl Launcher {
    /// A launcher for the nodes under `root`.
    pub fn new(root: &Path, defaults: LaunchDefaults) -> Launcher {
        Launcher {
            root: root.to_path_buf(),
            defaults,
            current: Mutex::new(None),
        }
    }

    fn path(&self) -> PathBuf {
        self.root.join("setup.toml")
    }

    fn devnet_dir(&self) -> PathBuf {
        self.defaults
            .devnet_datadir
            .clone()
            .unwrap_or_else(|| self.root.join("devnet"))
    }

    /// The kept setup, if any.
    ///
    /// # Errors
    /// [`AppError::Config`] for an unreadable or malformed file, with its path.
    pub fn saved(&self) -> Result<Option<SetupFile>, AppError> {
        let path = self.path();
        if !path.exists() {
            return Ok(None);
        }
        let key = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| AppError::config(&key, e))?;
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| AppError::config(&key, e))
    }

    fn save(&self, file: &SetupFile) -> Result<(), ApiError> {
        std::fs::create_dir_all(&self.root).map_err(ApiError::internal)?;
        let text = toml::to_string(file).map_err(ApiError::internal)?;
        let tmp = self.path().with_extension("toml.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, self.path()))
            .map_err(ApiError::internal)
    }

    /// Remembers the config the node runs on now (for `getsetup` and `getsettings`).
    pub fn set_current(&self, config: &AppConfig) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(config.clone());
    }

    fn current(&self) -> Option<AppConfig> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The config of the kept setup (`None` without one).
    ///
    /// # Errors
    /// [`AppError`] for a setup that no longer works (a bad file, a devnet id that does not
    /// parse, an unwritable directory).
    pub fn config(&self, logs: LogBuffer) -> Result<Option<AppConfig>, AppError> {
        let Some(file) = self.saved()? else {
            return Ok(None);
        };
        let mut defaults = self.defaults.clone();
        if let Some(b) = &file.api_bind {
            defaults.api_bind = Some(
                b.parse()
                    .map_err(|e| AppError::config("setup api_bind", format!("{b:?}: {e}")))?,
            );
        }
        if let Some(t) = file.threads {
            defaults.threads = t.max(1) as usize;
        }
        let config = match file.kind.as_str() {
            "devnet" | "join" => {
                let peers = file
                    .peer
                    .iter()
                    .map(|p| {
                        p.parse::<Multiaddr>()
                            .map_err(|e| AppError::config("setup peer", format!("{p:?}: {e}")))
                    })
                    .collect::<Result<_, _>>()?;
                let opts = DevnetOptions {
                    datadir: self.devnet_dir(),
                    threads: defaults.threads,
                    peers,
                    join: file.devnet_id.clone(),
                    listen: defaults.listen.clone(),
                    api_bind: defaults.api_bind,
                    bitcoin_rpc_bind: defaults.bitcoin_rpc_bind,
                    esplora_bind: defaults.esplora_bind,
                    block_target_ratio: defaults.block_target_ratio,
                    mine: true,
                    stratum_bind: defaults.stratum_bind,
                    log: defaults.log.clone(),
                };
                devnet_config(&opts, logs)?.0
            }
            "network" => {
                let network = file
                    .network
                    .as_deref()
                    .ok_or_else(|| AppError::config("setup network", "missing"))?;
                let conn = file
                    .bitcoin
                    .as_ref()
                    .ok_or_else(|| AppError::config("setup bitcoin", "missing"))?;
                self.network_config(load_network(network)?, conn, &defaults, logs)?
            }
            other => {
                return Err(AppError::config(
                    "setup kind",
                    format!("{other:?} (expected devnet, join or network)"),
                ))
            }
        };
        Ok(Some(config))
    }

    fn network_config(
        &self,
        params: ChainParams,
        conn: &BitcoinCoreConnection,
        defaults: &LaunchDefaults,
        logs: LogBuffer,
    ) -> Result<AppConfig, AppError> {
        let datadir = self.root.join(&params.name);
        std::fs::create_dir_all(&datadir).map_err(|e| AppError::DataDir {
            path: datadir.clone(),
            reason: e.to_string(),
        })?;
        // Until the wallet arrives, the hashers pay a key kept in the data directory.
        let key =
            load_or_create_key(&datadir.join("miner.key")).map_err(|e| AppError::DataDir {
                path: datadir.join("miner.key"),
                reason: e,
            })?;
        let (script, _) = key_script(&params, &key);
        let (p2p_port, _) = default_ports_of(&params);
        let listen = format!("/ip4/0.0.0.0/tcp/{p2p_port}")
            .parse()
            .map_err(|e| AppError::config("listen", e))?;
        Ok(AppConfig {
            swap: crate::config::SwapOptions::default(),
            node: NodeConfig {
                params,
                datadir: datadir.clone(),
                listen: vec![listen],
                peers: Vec::new(),
                window: p2share_service::DEFAULT_WINDOW,
                prune_depth: None,
                mempool: p2share_mempool::MempoolConfig::default(),
                p2p: P2pSection::default(),
            },
            api: defaults.api_bind.map(|bind| ApiConfig {
                bind,
                credentials: None,
            }),
            bitcoin: BitcoinConfig::Core {
                url: conn.url.clone(),
                auth: auth_of(conn).map_err(|e| AppError::config("setup bitcoin", e))?,
            },
            mining: MiningConfig {
                script: Some(script),
                wallet_pays: true,
                threads: defaults.threads,
                start: true,
                stratum: defaults
                    .stratum_bind
                    .map(|bind| p2share_stratum::StratumConfig {
                        bind,
                        ..p2share_stratum::StratumConfig::default()
                    }),
                opencl: Vec::new(),
                opencl_intensity: None,
            },
            devnet_id: None,
            logs,
            log: defaults.log.clone(),
            sessions: None,
        })
    }
}

/// The client auth of a connection: a cookie file or a user and password.
///
/// # Errors
/// Neither or both given.
pub fn auth_of(conn: &BitcoinCoreConnection) -> Result<Auth, String> {
    match (&conn.cookie_file, &conn.user, &conn.password) {
        (Some(c), None, None) => Ok(Auth::CookieFile(PathBuf::from(c))),
        (None, Some(user), Some(password)) => Ok(Auth::UserPass {
            user: user.clone(),
            password: password.clone(),
        }),
        _ => Err("give either a cookie file or a user and a password".into()),
    }
}

impl Supervisor for Launcher {
    fn setup_state(&self) -> Setup {
        let current = self.current();
        let saved = self.saved().ok().flatten();
        Setup {
            configured: saved.is_some()
                || current.as_ref().is_some_and(|c| c.mining.script.is_some()),
            network: current.as_ref().map(|c| c.node.params.name.clone()),
            bitcoin: current.as_ref().and_then(|c| match c.bitcoin {
                BitcoinConfig::Embedded(_) => Some("embedded".into()),
                BitcoinConfig::Core { .. } => Some("core".into()),
                BitcoinConfig::None => None,
            }),
        }
    }

    fn setup(&self, request: &SetupRequest) -> Result<(), ApiError> {
        let mut file = self.saved().ok().flatten().unwrap_or_default();
        match request {
            SetupRequest::Devnet => {
                file.kind = "devnet".into();
                (file.devnet_id, file.peer, file.network, file.bitcoin) = (None, None, None, None);
                // A devnet of this machine: the one kept in the data directory, or a new one.
                if let Ok(text) = std::fs::read_to_string(self.devnet_dir().join("devnet.toml")) {
                    ChainParams::from_toml(&text).map_err(bad)?;
                }
            }
            SetupRequest::Join { devnet_id, peer } => {
                let wanted = parse_devnet_id(devnet_id).map_err(bad)?;
                peer.parse::<Multiaddr>()
                    .map_err(|e| bad(format!("peer {peer:?}: {e}")))?;
                if let Ok(text) = std::fs::read_to_string(self.devnet_dir().join("devnet.toml")) {
                    let have = ChainParams::from_toml(&text).map_err(bad)?;
                    if have != wanted {
                        return Err(bad(format!(
                            "{} holds another devnet; remove it to join {devnet_id}",
                            self.devnet_dir().display()
                        )));
                    }
                }
                file.kind = "join".into();
                file.devnet_id = Some(devnet_id.clone());
                file.peer = Some(peer.clone());
                (file.network, file.bitcoin) = (None, None);
            }
            SetupRequest::Network { network, bitcoin } => {
                auth_of(bitcoin).map_err(bad)?;
                if !(bitcoin.url.starts_with("http://") || bitcoin.url.starts_with("https://")) {
                    return Err(bad(format!("{:?} is not an http:// URL", bitcoin.url)));
                }
                let name = match network.as_str() {
                    "main" | "testnet4" | "signet" => network.clone(),
                    text => {
                        let params = ChainParams::from_toml(text)
                            .map_err(|e| bad(format!("network TOML: {e}")))?;
                        let dir = self.root.join("networks");
                        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
                        let path = dir.join(format!("{}.toml", params.name));
                        std::fs::write(&path, params.to_toml()).map_err(ApiError::internal)?;
                        path.display().to_string()
                    }
                };
                file.kind = "network".into();
                file.network = Some(name);
                file.bitcoin = Some(bitcoin.clone());
                (file.devnet_id, file.peer) = (None, None);
            }
        }
        self.save(&file)
    }

    fn settings(&self) -> Settings {
        let current = self.current();
        let saved = self.saved().ok().flatten();
        let bitcoin = match current.as_ref().map(|c| &c.bitcoin) {
            Some(BitcoinConfig::Embedded(e)) => SettingsBitcoin {
                kind: "embedded".into(),
                url: Some(format!("http://{}", e.rpc_bind)),
                auth: Some("cookie".into()),
            },
            Some(BitcoinConfig::Core { url, auth }) => SettingsBitcoin {
                kind: "core".into(),
                url: Some(url.clone()),
                auth: Some(match auth {
                    Auth::CookieFile(_) => "cookie".into(),
                    Auth::UserPass { .. } => "user".into(),
                }),
            },
            _ => SettingsBitcoin {
                kind: "none".into(),
                url: None,
                auth: None,
            },
        };
        Settings {
            network: current
                .as_ref()
                .map(|c| c.node.params.name.clone())
                .unwrap_or_default(),
            datadir: current
                .as_ref()
                .map(|c| c.node.datadir.display().to_string())
                .unwrap_or_default(),
            api_bind: saved
                .as_ref()
                .and_then(|s| s.api_bind.clone())
                .or_else(|| {
                    current
                        .as_ref()
                        .and_then(|c| c.api.as_ref())
                        .map(|a| a.bind.to_string())
                })
                .or_else(|| self.defaults.api_bind.map(|a| a.to_string()))
                .unwrap_or_default(),
            bitcoin,
            threads: current
                .as_ref()
                .map(|c| c.mining.threads)
                .unwrap_or(self.defaults.threads) as u32,
        }
    }

    fn update_settings(&self, update: &SettingsUpdate) -> Result<SettingsResult, ApiError> {
        let Some(mut file) = self.saved().map_err(bad)? else {
            return Err(ApiError::Unavailable(
                "choose what to run first (the first-run screen): settings belong to a setup"
                    .into(),
            ));
        };
        let mut restart = false;
        if let Some(bind) = &update.api_bind {
            // Empty: back to the front end's default (none in the desktop app).
            let next = if bind.trim().is_empty() {
                None
            } else {
                bind.parse::<SocketAddr>()
                    .map_err(|e| bad(format!("api_bind {bind:?}: {e}")))?;
                Some(bind.clone())
            };
            restart |= file.api_bind != next;
            file.api_bind = next;
        }
        if let Some(t) = update.threads {
            if t == 0 {
                return Err(bad("threads must be at least 1"));
            }
            file.threads = Some(t);
        }
        if let Some(b) = &update.bitcoin {
            if file.kind != "network" {
                return Err(bad("a devnet runs on its embedded Bitcoin chain"));
            }
            auth_of(b).map_err(bad)?;
            restart |= file.bitcoin.as_ref() != Some(b);
            file.bitcoin = Some(b.clone());
        }
        self.save(&file)?;
        Ok(SettingsResult {
            restart_required: restart,
        })
    }
}
