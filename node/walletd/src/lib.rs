//! # p2share-walletd
//!
//! The wallet at run time, around the sans-IO core of `p2share-wallet`:
//! - [`db`]: the wallet's SQLite file (sqlx): BTC-wallet changesets, share history, swaps;
//! - [`btc`]: the BTC wallet (`bdk_wallet`, persisted through [`btc::SqlxPersister`]), following
//!   Bitcoin block by block over JSON-RPC;
//! - [`shares`]: the share wallet's coins and history, following the node's active chain;
//! - [`service`]: [`WalletService`], the node's one wallet (create, restore, unlock, send…);
//! - [`swap`]: atomic swaps of shares for BTC: offers, the protocol, the watcher.
//!
//! No logging setup, no runtime, no printing: the caller owns those.

pub mod btc;
pub mod db;
pub mod service;
pub mod shares;
pub mod swap;

pub use service::{WalletError, WalletService};

/// Unix time now, in seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
