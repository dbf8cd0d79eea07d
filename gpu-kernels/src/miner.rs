//! The multi-threaded CPU miner: one OS thread per requested core, each hashing a disjoint part
//! of the current job's nonce range; candidates go out on a channel.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crate::backend::{best_backend, Backend, UnavailableBackend};
use crate::hasher::{Candidate, CpuHasher, Hasher, Job, StopSignal};
use crate::slot::JobSlot;

/// How to run a [`CpuMiner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuMinerConfig {
    /// Worker threads (one per core to use); at least one.
    pub threads: usize,
    /// The SHA256d backend every thread runs.
    pub backend: Backend,
}

impl Default for CpuMinerConfig {
    /// Every available core on the best backend.
    fn default() -> Self {
        CpuMinerConfig {
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            backend: best_backend(),
        }
    }
}

/// Why a [`CpuMiner`] could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum MinerError {
    /// The configuration asked for zero threads.
    NoThreads,
    /// The CPU lacks the backend's instructions.
    Unavailable(UnavailableBackend),
    /// The operating system refused a thread.
    Spawn(io::Error),
}

impl fmt::Display for MinerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinerError::NoThreads => f.write_str("a CPU miner needs at least one thread"),
            MinerError::Unavailable(e) => e.fmt(f),
            MinerError::Spawn(e) => write!(f, "cannot start a miner thread: {e}"),
        }
    }
}

impl std::error::Error for MinerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MinerError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// A running CPU miner. Dropping it stops and joins its threads.
#[derive(Debug)]
pub struct CpuMiner {
    config: CpuMinerConfig,
    shared: Arc<JobSlot>,
    workers: Vec<JoinHandle<()>>,
    counters: Vec<Arc<AtomicU64>>,
    started: Instant,
}

impl CpuMiner {
    /// Starts `config.threads` idle worker threads; returns the miner and the channel on which
    /// every verified [`Candidate`] arrives.
    pub fn start(config: CpuMinerConfig) -> Result<(CpuMiner, Receiver<Candidate>), MinerError> {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let miner = Self::start_with(config, move |c| {
            // The receiver may be gone: then nobody wants candidates any more.
            let _ = tx.lock().unwrap_or_else(PoisonError::into_inner).send(c);
        })?;
        Ok((miner, rx))
    }

    /// Starts the miner with `sink` called on the worker threads for every verified candidate,
    /// as soon as it is found (no channel hop: an async runtime's sender can be the sink).
    pub fn start_with(
        config: CpuMinerConfig,
        sink: impl Fn(Candidate) + Send + Sync + 'static,
    ) -> Result<CpuMiner, MinerError> {
        if config.threads == 0 {
            return Err(MinerError::NoThreads);
        }
        let shared = Arc::new(JobSlot::default());
        let sink: Arc<dyn Fn(Candidate) + Send + Sync> = Arc::new(sink);
        let mut miner = CpuMiner {
            config,
            shared,
            workers: Vec::with_capacity(config.threads),
            counters: Vec::with_capacity(config.threads),
            started: Instant::now(),
        };
        for index in 0..config.threads {
            let hasher = CpuHasher::new(config.backend).map_err(MinerError::Unavailable)?;
            miner.counters.push(hasher.counter());
            let shared = Arc::clone(&miner.shared);
            let sink = Arc::clone(&sink);
            let threads = config.threads;
            let handle = thread::Builder::new()
                .name(format!("cpu-miner-{index}"))
                .spawn(move || worker(&shared, hasher, index, threads, &*sink))
                .map_err(MinerError::Spawn)?;
            miner.workers.push(handle);
        }
        Ok(miner)
    }

    /// Replaces the current job at once: running scans of the old job stop within one
    /// [`CHUNK`](crate::CHUNK) and every thread starts on its part of `job.nonces`.
    pub fn set_job(&self, job: Job) {
        self.publish(Some(Arc::new(job)));
    }

    /// Stops hashing (the threads idle until the next [`CpuMiner::set_job`]).
    pub fn clear_job(&self) {
        self.publish(None);
    }

    fn publish(&self, job: Option<Arc<Job>>) {
        self.shared.publish(job);
    }

    /// The configuration it runs.
    pub fn config(&self) -> CpuMinerConfig {
        self.config
    }

    /// Hashes computed by each thread so far.
    pub fn thread_hashes(&self) -> Vec<u64> {
        self.counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// Hashes computed by all threads so far.
    pub fn hashes(&self) -> u64 {
        self.thread_hashes().iter().sum()
    }

    /// Hashes per second of all threads since the miner started.
    pub fn hashrate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.hashes() as f64 / secs
        } else {
            0.0
        }
    }

    /// Stops the threads and waits for them.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for CpuMiner {
    fn drop(&mut self) {
        self.shared.shut_down();
        for handle in self.workers.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

/// One worker: waits for a new generation, hashes its part of the job, repeats.
fn worker(
    shared: &JobSlot,
    mut hasher: CpuHasher,
    index: usize,
    threads: usize,
    sink: &(dyn Fn(Candidate) + Send + Sync),
) {
    let mut seen = 0u64;
    loop {
        let (job, generation) = {
            let mut state = shared.lock();
            loop {
                if shared.is_shut_down() {
                    return;
                }
                if state.generation != seen {
                    seen = state.generation;
                    if let Some(job) = &state.job {
                        break (Arc::clone(job), seen);
                    }
                }
                state = shared.wait(state);
            }
        };
        let part = Job::clone(&job).with_nonces(job.nonces.part(index, threads));
        let stop = StopSignal::with_generation(
            Arc::clone(&shared.shutdown),
            Arc::clone(&shared.generation),
            generation,
        );
        // The backend was checked when the hasher was made.
        let _ = hasher.scan(&part, &stop, &mut |c| sink(c));
    }
}
