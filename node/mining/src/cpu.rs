//! The node's own hashers as consumers of the job core — the CPU miner and each OpenCL device:
//! a worker takes the job paying the node's script from every generation, rolls its own
//! extranonce2 when its hasher would run out of nonces, and hands what it finds to the
//! [`SolutionSink`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::ScriptBuf;
use p2share_gpu_kernels::{Candidate, CpuMiner, CpuMinerConfig, Job, OpenClConfig, OpenClMiner};
use tokio::sync::{watch, Mutex};

use crate::core::{stopped, Finder, Generation, SolutionSink, TaskHandle};
use crate::job::{MiningJob, Rolled, EXTRANONCE_SIZE};
use crate::miner::MiningStats;
use crate::service::{JobService, MAX_JOB_AGE};

/// Candidates of each kind (shares, Bitcoin blocks) forwarded per hasher job (the first share
/// ends the job; the rest are spares).
const MAX_CANDIDATES_PER_JOB: u32 = 4;

/// Hasher jobs remembered for candidates still in flight from the threads.
const BOOK: usize = 8;

/// The extranonce1 of the node's CPU miner (OpenCL devices take the ones below it; Stratum
/// connections get theirs from the server).
pub const CPU_EXTRANONCE1: [u8; 4] = [0xff, 0xff, 0xff, 0xfe];

/// A hasher a worker drives: the CPU miner or an OpenCL device.
pub trait Hashing: Send + Sync + 'static {
    /// Replaces the job.
    fn set_job(&self, job: Job);
    /// Idles.
    fn clear_job(&self);
    /// Hashes per second.
    fn hashrate(&self) -> f64;
    /// Hashes done.
    fn hashes(&self) -> u64;
    /// Stops and joins its threads.
    fn finish(self);
    /// Writes its figures (every second).
    fn report(&self, stats: &mut MiningStats);
}

impl Hashing for CpuMiner {
    fn set_job(&self, job: Job) {
        CpuMiner::set_job(self, job);
    }

    fn clear_job(&self) {
        CpuMiner::clear_job(self);
    }

    fn hashrate(&self) -> f64 {
        CpuMiner::hashrate(self)
    }

    fn hashes(&self) -> u64 {
        CpuMiner::hashes(self)
    }

    fn finish(self) {
        self.stop();
    }

    fn report(&self, s: &mut MiningStats) {
        s.hashrate = self.hashrate();
        s.hashes = self.hashes();
        let per_thread = self.thread_hashes();
        s.thread_hashrates = per_thread
            .iter()
            .map(|h| match s.hashes {
                0 => 0.0,
                total => s.hashrate * *h as f64 / total as f64,
            })
            .collect();
    }
}

impl Hashing for OpenClMiner {
    fn set_job(&self, job: Job) {
        OpenClMiner::set_job(self, job);
    }

    fn clear_job(&self) {
        OpenClMiner::clear_job(self);
    }

    fn hashrate(&self) -> f64 {
        OpenClMiner::hashrate(self)
    }

    fn hashes(&self) -> u64 {
        OpenClMiner::hashes(self)
    }

    fn finish(self) {
        self.stop();
    }

    fn report(&self, s: &mut MiningStats) {
        let id = self.device().id.clone();
        let error = self.take_error().map(|e| e.to_string());
        let entry = s.opencl.entry(id).or_default();
        entry.hashrate = self.hashrate();
        entry.hashes = self.hashes();
        if error.is_some() {
            entry.error = error;
            entry.hashrate = 0.0;
        }
    }
}

/// How long a job may be hashed: [`MAX_JOB_AGE`], or less when the hashers would cover its
/// 2^32 nonces sooner (they idle after that), with a fifth to spare.
pub(crate) fn job_lifetime(hashrate: f64) -> Duration {
    let exhaust = 4_294_967_296.0 / hashrate.max(1.0);
    Duration::from_secs_f64((exhaust * 0.8).clamp(0.05, MAX_JOB_AGE.as_secs_f64()))
}

/// A hasher job: the core's job, the extranonce it hashes, and the candidates forwarded.
struct Entry {
    id: u64,
    job: Arc<MiningJob>,
    extranonce: [u8; EXTRANONCE_SIZE],
    shares: u32,
    blocks: u32,
}

/// Hasher jobs by id.
#[derive(Default)]
struct Book {
    jobs: VecDeque<Entry>,
}

impl Book {
    fn push(&mut self, id: u64, job: Arc<MiningJob>, extranonce: [u8; EXTRANONCE_SIZE]) {
        if self.jobs.len() == BOOK {
            self.jobs.pop_front();
        }
        self.jobs.push_back(Entry {
            id,
            job,
            extranonce,
            shares: 0,
            blocks: 0,
        });
    }

    /// The job of a candidate with hash `hash`, unless that job already forwarded its share
    /// of candidates of the same kind. Shares and Bitcoin blocks are counted apart: on a chain
    /// whose blocks are easier than its shares (regtest without a policy), block candidates
    /// must not crowd out the shares.
    fn take(
        &mut self,
        id: u64,
        hash: &[u8; 32],
    ) -> Option<(Arc<MiningJob>, [u8; EXTRANONCE_SIZE])> {
        let entry = self.jobs.iter_mut().find(|e| e.id == id)?;
        let hash = bitcoin::BlockHash::from_byte_array(*hash);
        let counter = if entry.job.share_target.is_met_by(hash) {
            &mut entry.shares
        } else {
            &mut entry.blocks
        };
        *counter += 1;
        (*counter <= MAX_CANDIDATES_PER_JOB).then(|| (entry.job.clone(), entry.extranonce))
    }
}

/// A running hasher worker's handle (the CPU miner, or one OpenCL device).
#[derive(Clone, Debug)]
pub struct HasherWorker {
    task: TaskHandle,
}

impl HasherWorker {
    /// Starts mining on the OpenCL device `config.device` (`index` picks its extranonce1) on
    /// `service`'s work paying `script`.
    ///
    /// # Errors
    /// When the device cannot be set up (the message names it and why).
    pub fn start_opencl(
        service: &JobService,
        script: ScriptBuf,
        config: OpenClConfig,
        index: u8,
        stats: Arc<Mutex<MiningStats>>,
    ) -> Result<HasherWorker, String> {
        let book = Arc::new(StdMutex::new(Book::default()));
        let sink = service.sink();
        let device = config.device.clone();
        let finder = Finder::OpenCl(device.clone());
        let hasher = {
            let book = book.clone();
            OpenClMiner::start_with(config, move |c| on_candidate(&book, &sink, c, &finder))
                .map_err(|e| format!("OpenCL device {device}: {e}"))?
        };
        tracing::info!(device = %device, name = %hasher.device().name, "OpenCL device mining");
        let extranonce1 = [0xff, 0xff, 0xfd, index];
        Ok(Self::spawn(
            hasher,
            service,
            script,
            book,
            extranonce1,
            stats,
        ))
    }

    fn spawn<H: Hashing>(
        hasher: H,
        service: &JobService,
        script: ScriptBuf,
        book: Arc<StdMutex<Book>>,
        extranonce1: [u8; 4],
        stats: Arc<Mutex<MiningStats>>,
    ) -> HasherWorker {
        let (task, side) = TaskHandle::new();
        let generation = service.generation();
        tokio::spawn(async move {
            feed(
                hasher,
                generation,
                script,
                book,
                extranonce1,
                stats,
                side.stop,
            )
            .await;
            let _ = side.done.send(true);
        });
        HasherWorker { task }
    }

    /// Starts `threads` hasher threads on `service`'s work paying `script`; hashrates go into
    /// `stats` every second.
    ///
    /// # Errors
    /// When the hasher cannot start.
    pub fn start_cpu(
        service: &JobService,
        script: ScriptBuf,
        threads: usize,
        stats: Arc<Mutex<MiningStats>>,
    ) -> Result<HasherWorker, String> {
        let config = CpuMinerConfig {
            threads: threads.max(1),
            ..CpuMinerConfig::default()
        };
        let backend = config.backend;
        let book = Arc::new(StdMutex::new(Book::default()));
        let sink = service.sink();
        let hasher = {
            let book = book.clone();
            CpuMiner::start_with(config, move |c| on_candidate(&book, &sink, c, &Finder::Cpu))
                .map_err(|e| e.to_string())?
        };
        tracing::info!(backend = backend.name(), threads, "CPU hasher started");
        {
            let stats = stats.clone();
            tokio::spawn(async move {
                let mut s = stats.lock().await;
                s.backend = backend.name().to_string();
                s.threads = config.threads;
            });
        }
        Ok(Self::spawn(
            hasher,
            service,
            script,
            book,
            CPU_EXTRANONCE1,
            stats,
        ))
    }

    /// Stops the hasher (its threads are joined before [`HasherWorker::stopped`] resolves).
    pub fn stop(&self) {
        self.task.stop();
    }

    /// Resolves when the threads are joined.
    pub async fn stopped(&self) {
        self.task.stopped().await;
    }

    /// Whether it still runs.
    pub fn is_running(&self) -> bool {
        self.task.is_running()
    }
}

/// On a hasher thread: the candidate's job, then the sink (Bitcoin's target first).
fn on_candidate(book: &StdMutex<Book>, sink: &SolutionSink, c: Candidate, finder: &Finder) {
    let found = book
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take(c.job_id, &c.hash);
    let Some((job, extranonce)) = found else {
        return;
    };
    let header = &job.share.head.work.header;
    let rolled = Rolled {
        extranonce,
        version: header.version.to_consensus(),
        time: header.time,
        nonce: c.nonce,
    };
    sink.offer(job, &rolled, finder.clone());
}

async fn feed<H: Hashing>(
    hasher: H,
    mut generation: watch::Receiver<Option<Arc<Generation>>>,
    script: ScriptBuf,
    book: Arc<StdMutex<Book>>,
    extranonce1: [u8; 4],
    stats: Arc<Mutex<MiningStats>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hasher_id = 0u64;
    let mut extranonce2 = 0u32;
    let mut current: Option<Arc<MiningJob>> = None;
    let mut roll_at = tokio::time::Instant::now() + MAX_JOB_AGE;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut set = true;
    loop {
        if set {
            set = false;
            let g = generation.borrow_and_update().clone();
            current = match g {
                Some(g) => match g.job_for(&script) {
                    Ok(j) => Some(j),
                    Err(e) => {
                        tracing::warn!(error = %e, "no CPU job");
                        None
                    }
                },
                None => None,
            };
            match &current {
                Some(job) => {
                    hasher_id += 1;
                    extranonce2 = extranonce2.wrapping_add(1);
                    let mut extranonce = [0u8; EXTRANONCE_SIZE];
                    extranonce[..4].copy_from_slice(&extranonce1);
                    extranonce[4..].copy_from_slice(&extranonce2.to_be_bytes());
                    let mut header = [0u8; 80];
                    header.copy_from_slice(&serialize(&job.header_with(&extranonce)));
                    book.lock().unwrap_or_else(PoisonError::into_inner).push(
                        hasher_id,
                        job.clone(),
                        extranonce,
                    );
                    let target = p2share_gpu_kernels::Target::from_le_bytes(
                        job.report_target().to_le_bytes(),
                    );
                    hasher.set_job(Job::new(hasher_id, header, target));
                    roll_at = tokio::time::Instant::now() + job_lifetime(hasher.hashrate());
                }
                None => hasher.clear_job(),
            }
        }
        tokio::select! {
            () = stopped(&mut stop) => break,
            r = generation.changed() => {
                if r.is_err() { break }
                set = true;
            }
            // Before the threads run out of nonces: the same job, the next extranonce2.
            () = tokio::time::sleep_until(roll_at), if current.is_some() => set = true,
            _ = tick.tick() => hasher.report(&mut *stats.lock().await),
        }
    }
    hasher.finish();
    tracing::info!("hasher stopped");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn jobs_are_renewed_before_their_nonces_run_out() {
        assert_eq!(job_lifetime(0.0), MAX_JOB_AGE);
        assert_eq!(job_lifetime(66e6), MAX_JOB_AGE);
        // 16 cores at 33 MH/s cover 2^32 nonces in 8.1 s.
        let l = job_lifetime(16.0 * 33e6);
        assert!(
            l > Duration::from_secs(6) && l < Duration::from_secs_f64(8.2),
            "{l:?}"
        );
        assert_eq!(job_lifetime(1e15), Duration::from_millis(50));
    }
}
