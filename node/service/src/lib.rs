//! # p2share-service
//!
//! The sharechain node as a service: the core ([`Node`]: chain state, SQLite store, mempool,
//! orphan pool), the network side ([`Net`]: peers' requests, gossip, headers-first sync) and the
//! one typed event stream ([`NodeEvent`]) every front end listens to. No logging setup, no
//! runtime, no printing: the caller owns those.

pub mod bitcoin_net;
pub mod events;
pub mod node;
pub mod swap_net;
pub mod sync;

pub use bitcoin_net::{BlockVerdict, SharedBitcoinChain, TxVerdict};
pub use events::{
    FoundBlock, HasherRate, HashrateSample, LogLine, MiningState, NodeEvent, Origin, StratumNote,
    SyncStatus,
};
pub use node::{unix_now, ChainSummary, Node, NodeError, ShareRecord, DEFAULT_WINDOW};
pub use swap_net::SwapPeer;
pub use sync::Net;
