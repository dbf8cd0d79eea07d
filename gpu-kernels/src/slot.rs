//! The current job of a miner, shared by its handle and its threads (the CPU miner's workers,
//! an OpenCL device's host thread): published under a lock with a generation number that running
//! scans poll, and a shutdown flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::hasher::Job;

/// The job and its generation, under the slot's lock.
#[derive(Debug, Default)]
pub(crate) struct SlotState {
    /// The job (`None`: idle).
    pub(crate) job: Option<Arc<Job>>,
    /// Bumped with every new or cleared job.
    pub(crate) generation: u64,
}

/// A miner's current job.
#[derive(Debug, Default)]
pub(crate) struct JobSlot {
    state: Mutex<SlotState>,
    wake: Condvar,
    /// The generation, readable without the lock (a scan of an older one stops).
    pub(crate) generation: Arc<AtomicU64>,
    /// Raised once, at shutdown.
    pub(crate) shutdown: Arc<AtomicBool>,
}

impl JobSlot {
    /// The state, under the lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits (releasing the lock) until the slot is published to or shut down.
    pub(crate) fn wait<'a>(&self, guard: MutexGuard<'a, SlotState>) -> MutexGuard<'a, SlotState> {
        self.wake
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the job (or clears it) and wakes every waiting thread.
    pub(crate) fn publish(&self, job: Option<Arc<Job>>) {
        let mut state = self.lock();
        state.generation += 1;
        state.job = job;
        self.generation.store(state.generation, Ordering::Relaxed);
        drop(state);
        self.wake.notify_all();
    }

    /// Whether the miner is shutting down.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Raises the shutdown flag and wakes every waiting thread.
    pub(crate) fn shut_down(&self) {
        self.shutdown.store(true, Ordering::Relaxed);
        // Take the lock so that no thread is between its check and its wait.
        drop(self.lock());
        self.wake.notify_all();
    }
}
