//! The CPU miner as a consumer of the job core: it takes the job paying the node's script from
//! every generation, rolls its own extranonce2 when its threads would run out of nonces, and
//! hands what they find to the [`SolutionSink`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;

use bitcoin::consensus::serialize;
use bitcoin::ScriptBuf;
use p2share_gpu_kernels::{Candidate, CpuMiner, CpuMinerConfig};
use tokio::sync::{watch, Mutex};

use crate::core::{Finder, Generation, SolutionSink};
use crate::job::{MiningJob, Rolled, EXTRANONCE_SIZE};
use crate::miner::MiningStats;
use crate::service::{JobService, MAX_JOB_AGE};

/// Candidates forwarded per hasher job (the first share ends the job; the rest are spares).
const MAX_CANDIDATES_PER_JOB: u32 = 4;

/// Hasher jobs remembered for candidates still in flight from the threads.
const BOOK: usize = 8;

/// The extranonce1 of the node's own hashers (Stratum connections get others).
pub const CPU_EXTRANONCE1: [u8; 4] = [0xff, 0xff, 0xff, 0xfe];

/// How long a job may be hashed: [`MAX_JOB_AGE`], or less when the hashers would cover its
/// 2^32 nonces sooner (they idle after that), with a fifth to spare.
pub(crate) fn job_lifetime(hashrate: f64) -> Duration {
    let exhaust = 4_294_967_296.0 / hashrate.max(1.0);
    Duration::from_secs_f64((exhaust * 0.8).clamp(0.05, MAX_JOB_AGE.as_secs_f64()))
}

/// Hasher jobs by id: the core's job and the extranonce each one hashes.
#[derive(Default)]
struct Book {
    jobs: VecDeque<(u64, Arc<MiningJob>, [u8; EXTRANONCE_SIZE], u32)>,
}

impl Book {
    fn push(&mut self, id: u64, job: Arc<MiningJob>, extranonce: [u8; EXTRANONCE_SIZE]) {
        if self.jobs.len() == BOOK {
            self.jobs.pop_front();
        }
        self.jobs.push_back((id, job, extranonce, 0));
    }

    /// The job of a candidate, unless it already sent its share of candidates.
    fn take(&mut self, id: u64) -> Option<(Arc<MiningJob>, [u8; EXTRANONCE_SIZE])> {
        let entry = self.jobs.iter_mut().find(|e| e.0 == id)?;
        entry.3 += 1;
        (entry.3 <= MAX_CANDIDATES_PER_JOB).then(|| (entry.1.clone(), entry.2))
    }
}

/// The running CPU miner's handle.
#[derive(Clone, Debug)]
pub struct CpuWorker {
    stop: Arc<watch::Sender<bool>>,
    done: watch::Receiver<bool>,
}

impl CpuWorker {
    /// Starts `threads` hasher threads on `service`'s work paying `script`; hashrates go into
    /// `stats` every second.
    ///
    /// # Errors
    /// When the hasher cannot start.
    pub fn start(
        service: &JobService,
        script: ScriptBuf,
        threads: usize,
        stats: Arc<Mutex<MiningStats>>,
    ) -> Result<CpuWorker, String> {
        let config = CpuMinerConfig {
            threads: threads.max(1),
            ..CpuMinerConfig::default()
        };
        let backend = config.backend;
        let book = Arc::new(StdMutex::new(Book::default()));
        let sink = service.sink();
        let hasher = {
            let book = book.clone();
            CpuMiner::start_with(config, move |c| on_candidate(&book, &sink, c))
                .map_err(|e| e.to_string())?
        };
        tracing::info!(backend = backend.name(), threads, "CPU hasher started");
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done) = watch::channel(false);
        let generation = service.generation();
        tokio::spawn(async move {
            {
                let mut s = stats.lock().await;
                s.backend = backend.name().to_string();
                s.threads = config.threads;
            }
            feed(hasher, generation, script, book, stats, stop_rx).await;
            let _ = done_tx.send(true);
        });
        Ok(CpuWorker {
            stop: Arc::new(stop),
            done,
        })
    }

    /// Stops the threads (joined before [`CpuWorker::stopped`] resolves).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Resolves when the threads are joined.
    pub async fn stopped(&self) {
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }

    /// Whether it still runs.
    pub fn is_running(&self) -> bool {
        !*self.done.borrow()
    }
}

/// On a hasher thread: the candidate's job, then the sink (Bitcoin's target first).
fn on_candidate(book: &StdMutex<Book>, sink: &SolutionSink, c: Candidate) {
    let found = book
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take(c.job_id);
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
    sink.offer(job, &rolled, Finder::Cpu);
}

/// Resolves once `stop` turns true (the watch guard is dropped inside, so callers stay `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn feed(
    hasher: CpuMiner,
    mut generation: watch::Receiver<Option<Arc<Generation>>>,
    script: ScriptBuf,
    book: Arc<StdMutex<Book>>,
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
                    extranonce[..4].copy_from_slice(&CPU_EXTRANONCE1);
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
                    hasher.set_job(p2share_gpu_kernels::Job::new(hasher_id, header, target));
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
            _ = tick.tick() => {
                let mut s = stats.lock().await;
                s.hashrate = hasher.hashrate();
                s.hashes = hasher.hashes();
                let per_thread = hasher.thread_hashes();
                s.thread_hashrates = per_thread
                    .iter()
                    .map(|h| match s.hashes {
                        0 => 0.0,
                        total => s.hashrate * *h as f64 / total as f64,
                    })
                    .collect();
            }
        }
    }
    hasher.stop();
    tracing::info!("CPU hasher stopped");
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
