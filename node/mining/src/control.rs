//! Mining under control at run time: start, stop and re-thread the CPU miner, with counters
//! (shares and Bitcoin blocks found, stale, refused) kept across those changes, and the hashrate
//! reported as events and kept as history.

use std::sync::Arc;
use std::time::Duration;

use bitcoin::ScriptBuf;
use p2share_mainchain::rpc::{BitcoindRpc, RpcConfig};
use p2share_service::{HasherRate, HashrateSample, MiningState, Net, NodeEvent};
use tokio::sync::Mutex;

use crate::miner::{start_miner_with, Miner, MiningStats};

/// Seconds between two `hashrate` events while mining.
pub const HASHRATE_EVENT_SECS: u64 = 2;
/// Seconds between two hashrate samples kept in the store.
pub const HASHRATE_SAMPLE_SECS: u64 = 10;
/// Hashrate samples older than this are deleted (seconds).
pub const HASHRATE_KEEP_SECS: u64 = 7 * 86_400;

/// Why mining could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MiningError {
    /// The node has no Bitcoin source to take templates from.
    #[error("no Bitcoin node is configured: mining needs block templates")]
    NoBitcoin,
    /// The node has no address to mine to.
    #[error("no mining address is configured")]
    NoAddress,
    /// A thread count of zero or more than the limit.
    #[error("threads must be between 1 and {max}, not {given}")]
    Threads {
        /// What was asked.
        given: usize,
        /// The most allowed.
        max: usize,
    },
    /// The hasher (or its Bitcoin client) did not start.
    #[error("the miner did not start: {0}")]
    Hasher(String),
}

/// The most hasher threads a miner takes (4 per core, for machines whose core count is
/// misreported; more only slows everything else down).
pub fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        * 4
}

struct Inner {
    mainchain: Option<RpcConfig>,
    script: Option<ScriptBuf>,
    threads: usize,
    miner: Option<Miner>,
}

/// The node's own miner, started and stopped at run time; cheap to clone.
#[derive(Clone)]
pub struct MiningControl {
    net: Net,
    inner: Arc<Mutex<Inner>>,
    stats: Arc<Mutex<MiningStats>>,
}

impl std::fmt::Debug for MiningControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiningControl").finish_non_exhaustive()
    }
}

impl MiningControl {
    /// A stopped miner for `net`'s node, taking templates from the Bitcoin node `mainchain`
    /// configures and paying `script`
    /// with `threads` hasher threads once started. Starts the hashrate reporter (events every
    /// [`HASHRATE_EVENT_SECS`], samples in the store every [`HASHRATE_SAMPLE_SECS`]), which ends
    /// when the node's event channel closes.
    pub fn new(
        net: Net,
        mainchain: Option<RpcConfig>,
        script: Option<ScriptBuf>,
        threads: usize,
    ) -> MiningControl {
        let control_mainchain = mainchain.clone();
        let control = MiningControl {
            net,
            inner: Arc::new(Mutex::new(Inner {
                mainchain,
                script,
                threads: threads.max(1),
                miner: None,
            })),
            stats: Arc::new(Mutex::new(MiningStats::default())),
        };
        tokio::spawn(report_hashrate(control.clone()));
        if let Some(config) = control_mainchain {
            match BitcoindRpc::new(config) {
                Ok(rpc) => crate::relay::start_relay(&control.net, rpc),
                Err(e) => tracing::warn!(error = %e, "no relay of peers' Bitcoin blocks"),
            }
        }
        control
    }

    /// The script the miner pays, if one is configured.
    pub async fn script(&self) -> Option<ScriptBuf> {
        self.inner.lock().await.script.clone()
    }

    /// Starts mining, or re-threads a running miner, with `threads` (default: the last count).
    ///
    /// # Errors
    /// [`MiningError`] saying what is missing.
    pub async fn start(&self, threads: Option<usize>) -> Result<MiningState, MiningError> {
        let mut inner = self.inner.lock().await;
        let threads = threads.unwrap_or(inner.threads);
        let max = max_threads();
        if threads == 0 || threads > max {
            return Err(MiningError::Threads {
                given: threads,
                max,
            });
        }
        let config = inner.mainchain.clone().ok_or(MiningError::NoBitcoin)?;
        let script = inner.script.clone().ok_or(MiningError::NoAddress)?;
        if let Some(m) = &inner.miner {
            if m.is_running() && threads == inner.threads {
                return Ok(self.state_of(&inner).await);
            }
        }
        if let Some(old) = inner.miner.take() {
            old.stop();
            old.stopped().await;
        }
        let mainchain = BitcoindRpc::new(config).map_err(|e| MiningError::Hasher(e.to_string()))?;
        let miner = start_miner_with(
            self.net.clone(),
            mainchain,
            script,
            threads,
            self.stats.clone(),
        )
        .map_err(MiningError::Hasher)?;
        inner.threads = threads;
        inner.miner = Some(miner);
        let state = self.state_of(&inner).await;
        drop(inner);
        self.net
            .node_handle()
            .emit(NodeEvent::Mining(state.clone()));
        Ok(state)
    }

    /// Stops mining; returns once the hasher threads are joined.
    pub async fn stop(&self) -> MiningState {
        let mut inner = self.inner.lock().await;
        if let Some(old) = inner.miner.take() {
            old.stop();
            old.stopped().await;
        }
        {
            let mut s = self.stats.lock().await;
            s.hashrate = 0.0;
            s.thread_hashrates.clear();
        }
        let state = self.state_of(&inner).await;
        drop(inner);
        self.net
            .node_handle()
            .emit(NodeEvent::Mining(state.clone()));
        state
    }

    /// Whether mining runs, with how many threads.
    pub async fn state(&self) -> MiningState {
        let inner = self.inner.lock().await;
        self.state_of(&inner).await
    }

    async fn state_of(&self, inner: &Inner) -> MiningState {
        let mining = inner.miner.as_ref().is_some_and(Miner::is_running);
        let backend = self.stats.lock().await.backend.clone();
        MiningState {
            mining,
            threads: u32::try_from(inner.threads).unwrap_or(u32::MAX),
            backend: (!backend.is_empty()).then_some(backend),
        }
    }

    /// The running miner, if any.
    pub async fn miner(&self) -> Option<Miner> {
        self.inner
            .lock()
            .await
            .miner
            .clone()
            .filter(Miner::is_running)
    }

    /// The figures, kept across restarts of the miner; `None` while mining never ran and no
    /// Bitcoin block was found.
    pub async fn stats(&self) -> MiningStats {
        self.stats.lock().await.clone()
    }

    /// The hasher rates now (empty while stopped).
    pub async fn sample(&self) -> HashrateSample {
        let running = self.miner().await.is_some();
        let s = self.stats.lock().await;
        let hashers = if running {
            vec![HasherRate {
                name: "cpu".into(),
                backend: s.backend.clone(),
                threads: u32::try_from(s.threads).unwrap_or(u32::MAX),
                hashrate: s.hashrate,
            }]
        } else {
            Vec::new()
        };
        HashrateSample {
            hashrate: hashers.iter().map(|h| h.hashrate).sum(),
            hashers,
        }
    }
}

/// Emits `hashrate` events while mining and keeps samples for the history.
async fn report_hashrate(control: MiningControl) {
    let node = control.net.node_handle();
    let mut tick = tokio::time::interval(Duration::from_secs(HASHRATE_EVENT_SECS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_sample = 0u64;
    let mut was_mining = false;
    loop {
        tick.tick().await;
        if node.is_closed() {
            return;
        }
        let sample = control.sample().await;
        let mining = !sample.hashers.is_empty();
        if mining {
            node.emit(NodeEvent::Hashrate(sample.clone()));
        }
        since_sample += HASHRATE_EVENT_SECS;
        // One sample per interval while mining, and one zero when mining stops.
        if since_sample >= HASHRATE_SAMPLE_SECS && (mining || was_mining) {
            since_sample = 0;
            let now = p2share_service::unix_now();
            let rows: Vec<(String, f64)> = if mining {
                sample
                    .hashers
                    .iter()
                    .map(|h| (h.name.clone(), h.hashrate))
                    .collect()
            } else {
                vec![("cpu".to_string(), 0.0)]
            };
            if let Err(e) = node
                .store()
                .put_hashrate_samples(now, &rows, now.saturating_sub(HASHRATE_KEEP_SECS))
                .await
            {
                tracing::warn!(error = %e, "cannot keep a hashrate sample");
            }
            was_mining = mining;
        }
    }
}
