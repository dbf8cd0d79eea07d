//! # p2share-mining
//!
//! Mining for the node: the job builder ([`job`]: a Bitcoin template, the sharechain tip and
//! the mempool → an unmined share whose Bitcoin coinbase pays the selected share), the loop that
//! feeds the CPU hasher and turns solutions into shares and Bitcoin blocks ([`miner`]), and the
//! control that starts, stops and re-threads it at run time ([`control`]).

pub mod control;
pub mod job;
pub mod miner;

pub use control::{MiningControl, MiningError};
pub use job::{assemble_block, build_job, coinbase_branch, MiningJob, EXTRANONCE_SIZE};
pub use miner::{hashes_for, start_miner, start_miner_with, Miner, MiningStats, WorkInfo};
pub use p2share_service::FoundBlock;
