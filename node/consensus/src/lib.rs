//! # p2share consensus
//!
//! The rules every p2share node applies identically: the share and transaction encodings, share
//! validation (context-free and contextual), script checks through Bitcoin Core's interpreter
//! (`bitcoinkernel`), the UTXO set with its order-statistic index of eligible outputs, the payout
//! selection (`q`), ASERT difficulty, and chain state with most-work fork choice and reorgs.
//!
//! The normative text is `docs/protocol.md`; this crate is its reference implementation.
//!
//! ## Goals
//! - Exact: every rule is a pure function of the chain and the chain parameters; nothing node-local
//!   feeds validation. Every failure names a stable reason code and where it happened.
//! - Fast: payout selection is O(log n) over the eligible outputs; maturity is incremental.
//!
//! ## Non-goals
//! - No I/O: no sockets, no files, no clocks, no threads, no async. Time is passed in. Storage,
//!   networking and mining live in the node crate, which drives this one.

pub mod amount;
pub mod builder;
pub mod chain;
pub mod genesis;
pub mod hash;
pub mod index;
pub mod params;
pub mod payout;
pub mod pow;
pub mod script;
pub mod share;
pub mod utxo;
pub mod validation;

pub use amount::ShareAmount;
pub use chain::{AcceptOutcome, ChainError, ChainState};
pub use hash::ShareHash;
pub use params::ChainParams;
pub use payout::{select_payout, Payout};
pub use share::{BitcoinWork, Share, ShareHead, ShareHeader};
pub use validation::{Rule, ValidationError};

/// Re-export of the `bitcoin` crate version this crate is built on, so callers use the same types.
pub use bitcoin;
