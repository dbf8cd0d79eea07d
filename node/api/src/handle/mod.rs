//! The typed request layer: [`Api`], one async method per request, typed responses
//! ([`crate::types`]) and typed errors ([`ApiError`]). The JSON-RPC server ([`crate::rpc`]), the
//! WebSocket and the desktop app's IPC are thin adapters over it.

mod chain;
mod mining;
mod net;
mod setup;
mod swap;
mod wallet;

pub use chain::{MAX_BITCOIN_BLOCKS, RECENT_SELECTIONS};
pub use mining::{bucket, network_hashrate, HISTORY_MAX_SECS, HISTORY_POINTS};
pub use setup::Supervisor;
pub use swap::MAX_OFFER_TTL;
pub use wallet::{parse_amount, MAX_HISTORY_PAGE};

use std::str::FromStr;
use std::sync::Arc;

use bitcoin::{Address, ScriptBuf};
use p2share_mining::MiningControl;
use p2share_service::{Net, Node, NodeError, NodeEvent};
use tokio::sync::{broadcast, watch};

use crate::logs::LogBuffer;
use crate::types::BitcoinSourceInfo;

/// Why a request failed; each kind has a JSON-RPC code ([`ApiError::code`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A parameter is malformed or out of range.
    #[error("{0}")]
    InvalidParameter(String),
    /// An address or script is not usable on this network.
    #[error("{0}")]
    InvalidAddress(String),
    /// What was asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Bytes that do not decode.
    #[error("{0}")]
    Decode(String),
    /// The node refused a share or transaction (the consensus or policy reason).
    #[error("{0}")]
    Rejected(String),
    /// The node cannot do it in its current setup (no miner address, no Bitcoin node…).
    #[error("{0}")]
    Unavailable(String),
    /// Something inside failed (storage, the p2p service).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The JSON-RPC / Bitcoin Core error code of this kind.
    pub fn code(&self) -> i64 {
        use p2share_rpc::server::codes;
        match self {
            ApiError::InvalidParameter(_) => codes::INVALID_PARAMETER,
            ApiError::InvalidAddress(_) | ApiError::NotFound(_) => codes::INVALID_ADDRESS_OR_KEY,
            ApiError::Decode(_) => codes::DESERIALIZATION_ERROR,
            ApiError::Rejected(_) => codes::VERIFY_REJECTED,
            ApiError::Unavailable(_) => codes::MISC_ERROR,
            ApiError::Internal(_) => codes::INTERNAL_ERROR,
        }
    }

    /// An internal error from anything displayable.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> ApiError {
        match e {
            NodeError::Chain(c) => ApiError::Rejected(c.to_string()),
            NodeError::Mempool(m) => ApiError::Rejected(m.to_string()),
            NodeError::Store(s) => ApiError::Internal(s.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// What the node is, fixed at start (for `getnodeinfo` and `getnetworkparams`).
#[derive(Clone, Debug)]
pub struct NodeFacts {
    /// `<genesis time>-<bits>` on a devnet.
    pub devnet_id: Option<String>,
    /// API and dashboard address, when served.
    pub api_bind: Option<String>,
    /// The Bitcoin side.
    pub bitcoin: BitcoinSourceInfo,
    /// Default ports of the network: (p2p, api).
    pub default_ports: (u16, u16),
    /// A Bitcoin target stricter than the headers' own that blocks must meet: the embedded
    /// regtest chain's devnet policy (`None` on real Bitcoin networks).
    pub bitcoin_policy_target: Option<bitcoin::Target>,
    /// Unix time of the start.
    pub started_at: u64,
    /// The node's own hashers pay the wallet once one exists (no address was configured).
    pub wallet_pays_miner: bool,
}

/// What a shutdown asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Not asked.
    None,
    /// Stop the node (the `stop` method).
    Stop,
    /// Stop and start again on a new setup or new settings (`setup`, `setsettings`).
    Restart,
}

/// The typed API over one node; cheap to clone.
#[derive(Clone)]
pub struct Api {
    pub(crate) node: Node,
    pub(crate) net: Net,
    pub(crate) mining: MiningControl,
    pub(crate) facts: Arc<NodeFacts>,
    pub(crate) logs: LogBuffer,
    pub(crate) shutdown: Arc<watch::Sender<Shutdown>>,
    pub(crate) supervisor: Option<Arc<dyn Supervisor>>,
    pub(crate) wallet: Option<p2share_walletd::WalletService>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("network", &self.node.params().name)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// The API of a node, its network side and its miner.
    pub fn new(
        node: Node,
        net: Net,
        mining: MiningControl,
        facts: NodeFacts,
        logs: LogBuffer,
    ) -> Api {
        let (shutdown, _) = watch::channel(Shutdown::None);
        Api {
            node,
            net,
            mining,
            facts: Arc::new(facts),
            logs,
            shutdown: Arc::new(shutdown),
            supervisor: None,
            wallet: None,
        }
    }

    /// With `supervisor` answering `getsetup`, `setup`, `getsettings` and `setsettings`.
    pub fn with_supervisor(mut self, supervisor: Arc<dyn Supervisor>) -> Api {
        self.supervisor = Some(supervisor);
        self
    }

    /// With the node's wallet.
    pub fn with_wallet(mut self, wallet: p2share_walletd::WalletService) -> Api {
        self.wallet = Some(wallet);
        self
    }

    /// The node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The network side.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The miner.
    pub fn mining(&self) -> &MiningControl {
        &self.mining
    }

    /// The recent log lines.
    pub fn log_buffer(&self) -> &LogBuffer {
        &self.logs
    }

    /// The one typed event stream.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.node.subscribe()
    }

    /// Turns to [`Shutdown::Stop`] when `stop` is requested, [`Shutdown::Restart`] after a new
    /// setup or settings.
    pub fn shutdown_requested(&self) -> watch::Receiver<Shutdown> {
        self.shutdown.subscribe()
    }

    /// `stop`: asks the node to shut down.
    pub fn stop(&self) -> String {
        let _ = self.shutdown.send(Shutdown::Stop);
        "p2share node stopping".into()
    }

    /// The Bitcoin network whose addresses this sharechain uses (its `mainchain` parameter: a
    /// custom network on Bitcoin main gets `bc1…` addresses, never regtest ones).
    pub fn address_network(&self) -> bitcoin::Network {
        address_network(self.node.params())
    }

    /// Parses a script given as an address of this network or as hex.
    ///
    /// # Errors
    /// [`ApiError::InvalidAddress`] naming what was expected.
    pub fn script_of(&self, s: &str) -> Result<ScriptBuf, ApiError> {
        let network = &self.node.params().name;
        if let Ok(addr) = Address::from_str(s) {
            let net = self.address_network();
            return addr
                .require_network(net)
                .map(|a| a.script_pubkey())
                .map_err(|_| {
                    ApiError::InvalidAddress(format!(
                        "address {s} is not for network {network} (expected {net} addresses)"
                    ))
                });
        }
        ScriptBuf::from_hex(s).map_err(|_| {
            ApiError::InvalidAddress(format!(
                "{s:?} is neither an address of {network} nor a hex script"
            ))
        })
    }

    /// The address of `script` on this network, when it has one.
    pub fn address_of(&self, script: &bitcoin::Script) -> Option<String> {
        Address::from_script(script, self.address_network())
            .ok()
            .map(|a| a.to_string())
    }
}

/// The Bitcoin network of a sharechain's addresses, from its `mainchain` parameter.
pub fn address_network(params: &p2share_consensus::ChainParams) -> bitcoin::Network {
    use p2share_consensus::params::MainchainNetwork;
    match params.mainchain {
        MainchainNetwork::Bitcoin => bitcoin::Network::Bitcoin,
        MainchainNetwork::Testnet4 => bitcoin::Network::Testnet4,
        MainchainNetwork::Signet => bitcoin::Network::Signet,
        MainchainNetwork::Regtest => bitcoin::Network::Regtest,
    }
}

/// The name of a Bitcoin network as the API writes it.
pub fn mainchain_name(params: &p2share_consensus::ChainParams) -> &'static str {
    use p2share_consensus::params::MainchainNetwork;
    match params.mainchain {
        MainchainNetwork::Bitcoin => "main",
        MainchainNetwork::Testnet4 => "testnet4",
        MainchainNetwork::Signet => "signet",
        MainchainNetwork::Regtest => "regtest",
    }
}
