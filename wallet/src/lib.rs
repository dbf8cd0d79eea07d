//! The p2share wallet core: one seed, keys for both chains, atomic-swap HTLCs and terms, and the
//! share wallet's coin selection. Sync and sans-IO.
//!
//! # Goals
//!
//! - **One seed** ([`seed`]): a BIP-39 mnemonic, encrypted at rest (Argon2id +
//!   XChaCha20-Poly1305) in a versioned file; secrets wiped on drop, never printed.
//! - **One set of keys for both chains** ([`keys`]): BIP-86 taproot. A share's script is a
//!   Bitcoin script, so a payout to a share lands in the BTC wallet of the same keys; the
//!   descriptors are the ones `bdk_wallet` takes for the mainchain side.
//! - **Atomic swaps shares ↔ BTC** ([`htlc`], [`terms`]): the same P2WSH HTLC on both chains,
//!   strict parsing so a counterparty's lock is rebuilt and compared byte for byte, claims and
//!   refunds signed at spend time, timelocks and minimum sizes checked before anything is locked.
//! - **The share wallet** ([`coins`]): coin selection over the UTXOs the node reports, P2TR
//!   key-path signing, RBF fee bumps.
//!
//! Every transaction this crate signs is checked in its tests by Bitcoin Core's own script
//! interpreter (`p2share_consensus::script::verify_transaction`).
//!
//! # Non-goals
//!
//! No I/O beyond the seed file helpers ([`seed::write_atomic`], [`seed::read`]), no clocks (the
//! birthday and heights are arguments), no threads, no network, no async. The swap state
//! machine, its persistence and the chain watchers live in the node; the BTC wallet's sync is
//! `bdk_wallet`'s.

pub mod coins;
pub mod fees;
pub mod htlc;
pub mod keys;
pub mod seed;
pub mod terms;

pub use keys::{Keychain, WalletKeys};
pub use seed::{KdfParams, Mnemonic, SeedFile};
