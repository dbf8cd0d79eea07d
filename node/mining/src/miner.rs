//! The node's miner as one handle: the job service and the CPU worker on it, with the figures
//! they share.

use std::sync::Arc;
use std::time::Instant;

use bitcoin::{ScriptBuf, Target};
use p2share_consensus::ShareHash;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_service::{FoundBlock, Net};
use serde::Serialize;
use tokio::sync::{watch, Mutex};

use crate::cpu::HasherWorker;
use crate::service::JobService;

/// Live mining figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MiningStats {
    /// Hashes per second of all local hashers.
    pub hashrate: f64,
    /// Hashes done.
    pub hashes: u64,
    /// Hashes per second of each hasher thread.
    pub thread_hashrates: Vec<f64>,
    /// Shares this node mined that became active (or side) shares.
    pub shares_found: u64,
    /// Solutions for work the sharechain had moved past (not submitted).
    pub stale: u64,
    /// Own shares the node refused (for example `time-too-new` when shares come faster than
    /// the timestamp rules allow).
    pub rejected: u64,
    /// Why the last one was refused.
    pub last_reject: Option<String>,
    /// Bitcoin blocks found.
    pub blocks: Vec<FoundBlock>,
    /// Milliseconds to build the current job.
    pub last_job_ms: f64,
    /// Milliseconds from a new sharechain tip (written to the store) to the hashers working on
    /// it: median over the last 1,000 tips.
    pub tip_refresh_p50_ms: Option<f64>,
    /// The same, 99th percentile.
    pub tip_refresh_p99_ms: Option<f64>,
    /// The same, worst.
    pub tip_refresh_max_ms: Option<f64>,
    /// Tips measured.
    pub tip_refreshes: u64,
    /// Current job id.
    pub job_id: u64,
    /// Bitcoin target of the latest template (hex, big-endian).
    pub bitcoin_target: Option<String>,
    /// Expected hashes per Bitcoin block at that target.
    pub bitcoin_block_hashes: Option<f64>,
    /// Coinbase value of the latest template, satoshis.
    pub bitcoin_reward_sat: u64,
    /// Hasher backend and threads.
    pub backend: String,
    /// Hasher threads.
    pub threads: usize,
    /// OpenCL devices mining (or that failed), by id.
    pub opencl: std::collections::BTreeMap<String, DeviceStats>,
}

/// One OpenCL device's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeviceStats {
    /// Hashes per second.
    pub hashrate: f64,
    /// Hashes done.
    pub hashes: u64,
    /// Why it stopped, if it failed.
    pub error: Option<String>,
}

/// Expected hashes to meet `target` (2^256 / target, via difficulty × 2^32).
pub fn hashes_for(target: &Target) -> f64 {
    target.difficulty_float() * 4_294_967_296.0
}

/// The work the hashers have now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkInfo {
    /// Job id.
    pub id: u64,
    /// The sharechain tip it builds on.
    pub share_parent: ShareHash,
    /// The Bitcoin block it builds on.
    pub bitcoin_parent: bitcoin::BlockHash,
    /// When the hashers got it.
    pub published: Instant,
}

/// The miner's handle: the job service and the CPU worker on it.
#[derive(Clone, Debug)]
pub struct Miner {
    service: JobService,
    cpu: HasherWorker,
}

impl Miner {
    /// Current figures.
    pub async fn stats(&self) -> MiningStats {
        self.service.stats().lock().await.clone()
    }

    /// The work the hashers have, updated on every new generation (`None` before the first).
    pub fn work(&self) -> watch::Receiver<Option<WorkInfo>> {
        self.service.work()
    }

    /// The job service (for more hashers: Stratum, OpenCL).
    pub fn service(&self) -> &JobService {
        &self.service
    }

    /// Stops mining (the hasher threads are joined by the worker).
    pub fn stop(&self) {
        self.cpu.stop();
        self.service.stop();
    }

    /// Resolves when the worker's threads are joined and the service has ended.
    pub async fn stopped(&self) {
        self.cpu.stopped().await;
        self.service.stopped().await;
    }

    /// Whether it still runs.
    pub fn is_running(&self) -> bool {
        self.cpu.is_running() && self.service.is_running()
    }
}

/// Starts mining on `net`'s node with the CPU hasher, Bitcoin templates from `mainchain`,
/// sharebase (and, while `n = 0`, Bitcoin coinbase) paid to `script`.
///
/// # Errors
/// When the hasher cannot start.
pub fn start_miner(
    net: Net,
    mainchain: BitcoindRpc,
    script: ScriptBuf,
    threads: usize,
) -> Result<Miner, String> {
    start_miner_with(
        net,
        mainchain,
        script,
        threads,
        Arc::new(Mutex::new(MiningStats::default())),
    )
}

/// [`start_miner`] counting into `stats` (kept across restarts of the miner, so a re-threaded
/// miner keeps its found shares and blocks).
///
/// # Errors
/// When the hasher cannot start.
pub fn start_miner_with(
    net: Net,
    mainchain: BitcoindRpc,
    script: ScriptBuf,
    threads: usize,
    stats: Arc<Mutex<MiningStats>>,
) -> Result<Miner, String> {
    let service = JobService::start(net, mainchain, script.clone(), stats.clone());
    match HasherWorker::start_cpu(&service, script, threads, stats) {
        Ok(cpu) => Ok(Miner { service, cpu }),
        Err(e) => {
            service.stop();
            Err(e)
        }
    }
}
