//! # p2share-mining
//!
//! Mining for the node, around one job core ([`core`]): the job builder ([`job`]: a Bitcoin
//! template, the sharechain tip and the mempool → an unmined share whose Bitcoin coinbase pays
//! the selected share, cut around its extranonce for every hasher), the job service
//! ([`service`]: generations of work, the share path, the block submitter), the CPU worker
//! ([`cpu`]), the miner handle ([`miner`]), the relay of peers' Bitcoin blocks ([`relay`]) and the control that starts, stops and re-threads it
//! at run time ([`control`]).

pub mod control;
pub mod core;
pub mod cpu;
pub mod job;
pub mod miner;
pub mod relay;
pub mod service;
pub mod stratum;

pub use control::{MiningControl, MiningError};
pub use core::{Finder, Generation, Met, SolutionSink, Solved};
pub use cpu::{HasherWorker, Hashing};
pub use job::{
    assemble_block, build_job, coinbase_branch, fold_branch, split_coinbase, JobError, MiningJob,
    Rolled, EXTRANONCE1_SIZE, EXTRANONCE_SIZE, VERSION_ROLLING_MASK,
};
pub use miner::{
    hashes_for, start_miner, start_miner_with, DeviceStats, Miner, MiningStats, WorkInfo,
};
pub use p2share_service::FoundBlock;
pub use relay::{start_relay, Relayed};
pub use service::JobService;
