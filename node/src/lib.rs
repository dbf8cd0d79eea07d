//! # p2share-node
//!
//! The p2share sharechain node: the core ([`service`]: chain state, SQLite store, mempool,
//! events), the network side ([`sync`]: requests, gossip, headers-first sync), the API ([`api`]:
//! JSON-RPC 2.0 and WebSocket events), the daemon ([`daemon`]), mining ([`mining`]: job builder,
//! CPU hasher loop, found shares and Bitcoin blocks) and the one-command devnet ([`devnet`]). Also the payout audit tool
//! ([`select`]) and the embedded regtest mainchain server ([`regtest_server`], [`standalone`]).

pub mod api;
pub mod daemon;
pub mod devnet;
pub mod mining;
pub mod regtest_server;
pub mod select;
pub mod service;
pub mod standalone;
pub mod sync;
