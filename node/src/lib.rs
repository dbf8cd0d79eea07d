//! # p2share-node
//!
//! The p2share sharechain node. This release carries the payout audit ([`select`]); the node
//! service (storage, peer-to-peer, mempool, API, mining) arrives with its issues and builds on
//! `p2share-consensus`.

pub mod regtest_server;
pub mod select;
pub mod standalone;
