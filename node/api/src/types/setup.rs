//! First run and settings: what the node runs on, and changing it (the node restarts).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::BitcoinCoreConnection;

/// `getsetup`: whether the node has been set up to mine, and on what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Setup {
    /// Mining is set up (a devnet, or a network with a Bitcoin node and an address).
    pub configured: bool,
    /// The network running now.
    pub network: Option<String>,
    /// `embedded`, `core` or `null`.
    pub bitcoin: Option<String>,
}

/// `setup`: what to run from now on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SetupRequest {
    /// A new devnet of this machine (or the one already in the data directory).
    Devnet,
    /// Join a devnet.
    Join {
        /// The devnet's id, `<genesis time>-<bits>`.
        devnet_id: String,
        /// A node of it, `/ip4/…/tcp/…/p2p/<peer id>`.
        peer: String,
    },
    /// A network (`main`, `testnet4`, `signet`, or the TOML text of a custom network) on the
    /// user's Bitcoin Core.
    Network {
        /// Built-in name or TOML text.
        network: String,
        /// The Bitcoin Core to mine on.
        bitcoin: BitcoinCoreConnection,
    },
}

/// `setup` and `setsettings` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsResult {
    /// The node restarts to apply them (the UI reconnects).
    pub restart_required: bool,
}

/// The Bitcoin side in `getsettings` (no secrets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsBitcoin {
    /// `embedded`, `core` or `none`.
    pub kind: String,
    /// JSON-RPC URL.
    pub url: Option<String>,
    /// `cookie` or `user`.
    pub auth: Option<String>,
}

/// `getsettings`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// Network.
    pub network: String,
    /// Data directory of the node.
    pub datadir: String,
    /// API and dashboard address.
    pub api_bind: String,
    /// The Bitcoin side.
    pub bitcoin: SettingsBitcoin,
    /// Hasher threads.
    pub threads: u32,
}

/// `setsettings`: only the fields present change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsUpdate {
    /// API and dashboard address (`ip:port`).
    #[serde(default)]
    #[ts(optional)]
    pub api_bind: Option<String>,
    /// Hasher threads.
    #[serde(default)]
    #[ts(optional)]
    pub threads: Option<u32>,
    /// The Bitcoin Core to mine on.
    #[serde(default)]
    #[ts(optional)]
    pub bitcoin: Option<BitcoinCoreConnection>,
}
