//! The job core: one source of work for every hasher — the CPU miner, OpenCL devices and
//! Stratum connections — and one handler for their solutions, Bitcoin's target first.
//!
//! A [`Generation`] is one round of work (a Bitcoin template on a sharechain tip with a
//! mempool selection). Each hasher asks it for the job paying a script
//! ([`Generation::job_for`]: the node's own address, or a Stratum miner's) and rolls its own
//! extranonce in the coinbase. Whatever a hasher finds goes to the [`SolutionSink`]:
//!
//! 1. a solution whose header meets Bitcoin's target is handed to the block submitter at once —
//!    on the hasher's own thread, before the sharechain sees the share and before any disk
//!    write — and submitted while the job's Bitcoin parent is still Bitcoin's tip, whatever
//!    then happens to the share (replaced job, spare solution, refused or known share, side
//!    branch). The coinbase already pays the selected share: that was checked when the job was
//!    built;
//! 2. then, if it meets the share target, the share goes to the node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bitcoin::block::Header as BitcoinHeader;
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, ScriptBuf, Transaction};
use tokio::sync::{mpsc, watch};

use crate::job::{MiningJob, Rolled, SplitError};

/// Distinct payout scripts one generation keeps jobs for (Stratum miners with their own
/// addresses); beyond it, jobs are rebuilt on every request.
const MAX_PAYOUT_JOBS: usize = 4_096;

/// Bitcoin blocks offered per Bitcoin parent before the tip moves: the first accepted one
/// wins; the rest would be siblings. It bounds the flood at trivial devnet targets.
const MAX_BLOCKS_PER_PARENT: u32 = 4;

/// One round of work; cheap to share.
#[derive(Debug)]
pub struct Generation {
    /// Increasing id.
    pub id: u64,
    /// The job paying the node's own script.
    pub base: Arc<MiningJob>,
    /// Whether older work is worthless for the sharechain (a new sharechain or Bitcoin tip):
    /// Stratum's `clean_jobs`.
    pub clean: bool,
    /// When it was published.
    pub published: Instant,
    jobs: Mutex<HashMap<ScriptBuf, Arc<MiningJob>>>,
}

impl Generation {
    /// A generation around `base`.
    pub fn new(id: u64, base: MiningJob, clean: bool) -> Generation {
        Generation {
            id,
            base: Arc::new(base),
            clean,
            published: Instant::now(),
            jobs: Mutex::new(HashMap::new()),
        }
    }

    /// The job of this generation paying `script` (built once per script, then shared).
    ///
    /// # Errors
    /// [`SplitError`] (never for jobs the builder made).
    pub fn job_for(&self, script: &ScriptBuf) -> Result<Arc<MiningJob>, SplitError> {
        if self
            .base
            .share
            .txs
            .first()
            .and_then(|t| t.output.first())
            .map(|o| &o.script_pubkey)
            == Some(script)
        {
            return Ok(self.base.clone());
        }
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(j) = jobs.get(script) {
            return Ok(j.clone());
        }
        let job = Arc::new(self.base.for_payout(script)?);
        if jobs.len() < MAX_PAYOUT_JOBS {
            jobs.insert(script.clone(), job.clone());
        }
        Ok(job)
    }
}

/// Who found a solution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finder {
    /// The CPU miner.
    Cpu,
    /// An OpenCL device (its id).
    OpenCl(String),
    /// A Stratum worker (its user name).
    Stratum(String),
}

impl std::fmt::Display for Finder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finder::Cpu => f.write_str("cpu"),
            Finder::OpenCl(id) => write!(f, "opencl:{id}"),
            Finder::Stratum(w) => write!(f, "stratum:{w}"),
        }
    }
}

/// A solved job, as the handler's two paths receive it.
#[derive(Clone, Debug)]
pub struct Solved {
    /// The job.
    pub job: Arc<MiningJob>,
    /// The solved Bitcoin header.
    pub header: BitcoinHeader,
    /// Its coinbase.
    pub coinbase: Transaction,
    /// The header's hash.
    pub hash: BlockHash,
    /// Who found it.
    pub finder: Finder,
    /// When the sink got it.
    pub at: Instant,
}

/// Where every hasher hands its solutions; cheap to clone, callable from any thread.
#[derive(Clone, Debug)]
pub struct SolutionSink {
    blocks: mpsc::UnboundedSender<Solved>,
    shares: mpsc::UnboundedSender<Solved>,
    gate: Arc<Mutex<(BlockHash, u32)>>,
    bitcoin_tip: watch::Receiver<BlockHash>,
}

/// The receiving ends of a [`SolutionSink`].
#[derive(Debug)]
pub struct SolutionQueues {
    /// Solutions meeting Bitcoin's target whose parent is Bitcoin's tip, in arrival order.
    pub blocks: mpsc::UnboundedReceiver<Solved>,
    /// Solutions meeting the share target.
    pub shares: mpsc::UnboundedReceiver<Solved>,
}

impl SolutionSink {
    /// A sink and its queues; `bitcoin_tip` is Bitcoin's best block as the job core knows it.
    pub fn new(bitcoin_tip: watch::Receiver<BlockHash>) -> (SolutionSink, SolutionQueues) {
        let (blocks, blocks_rx) = mpsc::unbounded_channel();
        let (shares, shares_rx) = mpsc::unbounded_channel();
        (
            SolutionSink {
                blocks,
                shares,
                gate: Arc::new(Mutex::new((BlockHash::all_zeros(), 0))),
                bitcoin_tip,
            },
            SolutionQueues {
                blocks: blocks_rx,
                shares: shares_rx,
            },
        )
    }

    /// Takes a solution: a Bitcoin block goes to the block queue first (no await, no lock
    /// held by anything slow), then a share to the share queue. Returns what it met.
    pub fn offer(&self, job: Arc<MiningJob>, rolled: &Rolled, finder: Finder) -> Met {
        let (header, coinbase) = job.solved(rolled);
        self.offer_solved(job, header, coinbase, finder)
    }

    /// [`SolutionSink::offer`] for a header and coinbase the hasher assembled itself.
    pub fn offer_solved(
        &self,
        job: Arc<MiningJob>,
        header: BitcoinHeader,
        coinbase: Transaction,
        finder: Finder,
    ) -> Met {
        let at = Instant::now();
        let hash = header.block_hash();
        let met = Met {
            bitcoin: job.bitcoin_target.is_met_by(hash),
            share: job.share_target.is_met_by(hash),
        };
        if !met.bitcoin && !met.share {
            return met;
        }
        let solved = Solved {
            job,
            header,
            coinbase,
            hash,
            finder,
            at,
        };
        if met.bitcoin && self.admit_block(&solved) {
            // The receiver is gone only when the node shuts down.
            let _ = self.blocks.send(solved.clone());
        }
        if met.share {
            let _ = self.shares.send(solved);
        }
        met
    }

    /// Whether a block on this parent goes to the submitter: its parent is Bitcoin's tip, and
    /// fewer than [`MAX_BLOCKS_PER_PARENT`] went before it.
    fn admit_block(&self, s: &Solved) -> bool {
        let parent = s.header.prev_blockhash;
        if *self.bitcoin_tip.borrow() != parent {
            tracing::warn!(
                block = %s.hash,
                %parent,
                finder = %s.finder,
                "a Bitcoin block on a parent that is no longer Bitcoin's tip: not submitted"
            );
            return false;
        }
        let mut gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        if gate.0 != parent {
            *gate = (parent, 0);
        }
        gate.1 += 1;
        gate.1 <= MAX_BLOCKS_PER_PARENT
    }
}

/// Which targets a solution met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Met {
    /// Bitcoin's.
    pub bitcoin: bool,
    /// The sharechain's.
    pub share: bool,
}

/// A background task's stop switch and end signal (the job service's, a hasher worker's).
#[derive(Clone, Debug)]
pub(crate) struct TaskHandle {
    stop: Arc<watch::Sender<bool>>,
    done: watch::Receiver<bool>,
}

/// The task's side of a [`TaskHandle`]: the stop switch to watch and the end to signal.
pub(crate) struct TaskSide {
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) done: watch::Sender<bool>,
}

impl TaskHandle {
    /// A handle and the task's side of it.
    pub(crate) fn new() -> (TaskHandle, TaskSide) {
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done) = watch::channel(false);
        (
            TaskHandle {
                stop: Arc::new(stop),
                done,
            },
            TaskSide {
                stop: stop_rx,
                done: done_tx,
            },
        )
    }

    /// Asks the task to stop.
    pub(crate) fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Resolves when the task has ended.
    pub(crate) async fn stopped(&self) {
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }

    /// Whether the task still runs.
    pub(crate) fn is_running(&self) -> bool {
        !*self.done.borrow()
    }
}

/// Resolves once `stop` turns true (the watch guard is dropped inside, so callers stay `Send`).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
