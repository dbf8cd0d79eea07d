//! The job core behind the Stratum server: each [`Generation`] as a Stratum [`WorkSource`]
//! (one [`Work`] per payout address, cut around extranonce1 ‖ extranonce2), and device
//! solutions into the [`SolutionSink`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bitcoin::ScriptBuf;
use p2share_stratum::{Solution, SolutionHandler, Work, WorkSource};
use tokio::sync::watch;

use crate::core::{Finder, Generation, SolutionSink};
use crate::job::{MiningJob, Rolled, EXTRANONCE_SIZE, VERSION_ROLLING_MASK};

/// Distinct payouts whose Stratum work one generation keeps.
const MAX_WORKS: usize = 4_096;

/// A generation as Stratum work.
#[derive(Debug)]
pub struct GenerationWork {
    generation: Arc<Generation>,
    works: Mutex<HashMap<ScriptBuf, Arc<Work>>>,
}

impl GenerationWork {
    /// Wraps `generation`.
    pub fn new(generation: Arc<Generation>) -> GenerationWork {
        GenerationWork {
            generation,
            works: Mutex::new(HashMap::new()),
        }
    }
}

/// A job as Stratum work.
pub fn stratum_work(job: Arc<MiningJob>) -> Work {
    let header = job.share.head.work.header;
    Work {
        prev_hash: header.prev_blockhash,
        coinb1: job.coinb1.clone(),
        coinb2: job.coinb2.clone(),
        merkle_branch: job.share.head.work.merkle_branch.clone(),
        // Consensus versions are signed; Stratum sends the same 32 bits.
        version: header.version.to_consensus() as u32,
        version_mask: VERSION_ROLLING_MASK,
        bits: header.bits.to_consensus(),
        time: header.time,
        share_target: job.share_target,
        bitcoin_target: job.bitcoin_target,
        payload: job,
    }
}

impl WorkSource for GenerationWork {
    fn work_for(&self, payout: &ScriptBuf) -> Result<Arc<Work>, String> {
        let mut works = self.works.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = works.get(payout) {
            return Ok(w.clone());
        }
        let job = self
            .generation
            .job_for(payout)
            .map_err(|e| format!("no job for this payout: {e}"))?;
        let work = Arc::new(stratum_work(job));
        if works.len() < MAX_WORKS {
            works.insert(payout.clone(), work.clone());
        }
        Ok(work)
    }

    fn clean(&self) -> bool {
        self.generation.clean
    }
}

/// Device solutions into the job core's sink (Bitcoin's target first).
#[derive(Debug)]
pub struct StratumSolutions {
    sink: SolutionSink,
}

impl StratumSolutions {
    /// Hands solutions to `sink`.
    pub fn new(sink: SolutionSink) -> StratumSolutions {
        StratumSolutions { sink }
    }
}

impl SolutionHandler for StratumSolutions {
    fn solution(&self, s: Solution) {
        let Ok(job) = s.work.payload.clone().downcast::<MiningJob>() else {
            tracing::error!(worker = %s.worker, "a Stratum solution for work of unknown origin");
            return;
        };
        let mut extranonce = [0u8; EXTRANONCE_SIZE];
        let en = [s.extranonce1.as_slice(), s.extranonce2.as_slice()].concat();
        if en.len() != EXTRANONCE_SIZE {
            tracing::error!(worker = %s.worker, bytes = en.len(), "a Stratum solution with an extranonce of the wrong size");
            return;
        }
        extranonce.copy_from_slice(&en);
        let rolled = Rolled {
            extranonce,
            version: s.header.version.to_consensus(),
            time: s.header.time,
            nonce: s.header.nonce,
        };
        // The sink assembles the header from the job itself (the server built it from the same
        // coinb1, coinb2 and branch) and judges it against both targets.
        let met = self
            .sink
            .offer(job, &rolled, Finder::Stratum(s.worker.clone()));
        tracing::debug!(worker = %s.worker, bitcoin = met.bitcoin, share = met.share, "device solution");
    }
}

/// Publishes every generation of `generations` as Stratum work on `out` until either side
/// closes.
pub async fn bridge(
    mut generations: watch::Receiver<Option<Arc<Generation>>>,
    out: watch::Sender<Option<Arc<dyn WorkSource>>>,
) {
    loop {
        let g = generations.borrow_and_update().clone();
        let work: Option<Arc<dyn WorkSource>> =
            g.map(|g| Arc::new(GenerationWork::new(g)) as Arc<dyn WorkSource>);
        if out.send(work).is_err() {
            return;
        }
        if generations.changed().await.is_err() {
            let _ = out.send(None);
            return;
        }
    }
}
