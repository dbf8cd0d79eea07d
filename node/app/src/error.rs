//! Why the node could not start: typed, so that a front end can tell a port in use from a data
//! directory of another network and say what to do.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why [`crate::App::start`] or [`crate::config::resolve`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// A setting is unusable; `key` names it (`api.bind`, `--peer`, a file path…).
    #[error("config: {key}: {reason}")]
    Config {
        /// The setting or file.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The data directory cannot be created or written.
    #[error("data directory {}: {reason}", path.display())]
    DataDir {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The data directory holds another network's chain.
    #[error("{reason}")]
    OtherNetwork {
        /// The node's data directory.
        datadir: PathBuf,
        /// The store's explanation (both genesis hashes).
        reason: String,
    },
    /// Another program listens on the address.
    #[error("{what}: {addr} is in use by another program; choose another port")]
    PortInUse {
        /// What wanted to listen (`API`, `embedded Bitcoin regtest chain`).
        what: &'static str,
        /// The address.
        addr: SocketAddr,
    },
    /// Listening failed otherwise.
    #[error("{what}: cannot listen on {addr}: {reason}")]
    Bind {
        /// What wanted to listen.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The store failed to open.
    #[error("store: {0}")]
    Store(String),
    /// The p2p key is unreadable.
    #[error("p2p key: {0}")]
    Key(String),
    /// The p2p service failed to start.
    #[error("p2p: {0}")]
    P2p(String),
    /// The Bitcoin side failed to start.
    #[error("Bitcoin: {0}")]
    Bitcoin(String),
}

impl AppError {
    /// A config error for `key`.
    pub fn config(key: impl Into<String>, reason: impl std::fmt::Display) -> AppError {
        AppError::Config {
            key: key.into(),
            reason: reason.to_string(),
        }
    }
}
