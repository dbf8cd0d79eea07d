//! # p2share-node
//!
//! The `p2share-node` binary's library side: the payout audit tool ([`select`]), which the fuzz
//! targets also drive. The node itself is the `p2share-app` library; the binary adds the
//! command line, loggers, the runtime and signals.

pub mod select;
