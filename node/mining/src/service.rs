//! The job service: Bitcoin templates and sharechain tips in, [`Generation`]s out; the share
//! path and the block submitter of the [`SolutionSink`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, ScriptBuf};
use p2share_consensus::chain::AcceptOutcome;
use p2share_consensus::validation::coinbase_payee;
use p2share_consensus::ShareHash;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mainchain::{BlockTemplate, Mainchain, SubmitResult};
use p2share_service::{unix_now, FoundBlock, Net, NodeEvent, Origin};
use tokio::sync::{mpsc, watch, Mutex};

use crate::core::{stopped, Generation, SolutionQueues, SolutionSink, Solved, TaskHandle};
use crate::job::{assemble_block, build_job};
use crate::miner::{hashes_for, MiningStats, WorkInfo};

/// Found Bitcoin blocks shown (`getmininginfo.blocks`); all are kept in the store.
const KEPT_BLOCKS: u32 = 1_000;

/// The longest a generation lives before it is rebuilt (fresh times and mempool).
pub const MAX_JOB_AGE: Duration = Duration::from_secs(30);

/// Jobs that gave a share lately (a spare solution of one is not a share of its own).
const FINISHED_JOBS: usize = 16;

/// The job service's handle: the current generation, the sink for solutions, and control.
#[derive(Clone, Debug)]
pub struct JobService {
    generation: watch::Receiver<Option<Arc<Generation>>>,
    sink: SolutionSink,
    stats: Arc<Mutex<MiningStats>>,
    work: watch::Receiver<Option<WorkInfo>>,
    refresh: mpsc::Sender<()>,
    task: TaskHandle,
    script: ScriptBuf,
}

impl JobService {
    /// Starts building work on `net`'s node from `mainchain`'s templates, the base job paying
    /// `script`, counting into `stats`.
    pub fn start(
        net: Net,
        mainchain: BitcoindRpc,
        script: ScriptBuf,
        stats: Arc<Mutex<MiningStats>>,
    ) -> JobService {
        let (generation_tx, generation) = watch::channel(None);
        let (tip_tx, tip_rx) = watch::channel(BlockHash::all_zeros());
        let tip_tx = Arc::new(tip_tx);
        let (sink, queues) = SolutionSink::new(tip_rx);
        let (work_tx, work) = watch::channel(None);
        let (refresh, refresh_rx) = mpsc::channel(4);
        let (task, side) = TaskHandle::new();
        let stop_rx = side.stop.clone();
        let mainchain = Arc::new(mainchain);
        let SolutionQueues { blocks, shares } = queues;
        let submitter = tokio::spawn(submit_blocks(
            net.clone(),
            mainchain.clone(),
            blocks,
            stats.clone(),
            tip_tx.clone(),
            stop_rx.clone(),
        ));
        let service = JobService {
            generation,
            sink,
            stats: stats.clone(),
            work,
            refresh,
            task,
            script: script.clone(),
        };
        let looping = Loop {
            net,
            mainchain,
            script,
            stats,
            generation: generation_tx,
            work: work_tx,
            bitcoin_tip: tip_tx,
        };
        tokio::spawn(async move {
            looping.run(shares, refresh_rx, stop_rx).await;
            // Blocks already handed over are still submitted.
            let _ = submitter.await;
            let _ = side.done.send(true);
        });
        service
    }

    /// The current generation (`None` before the first template).
    pub fn generation(&self) -> watch::Receiver<Option<Arc<Generation>>> {
        self.generation.clone()
    }

    /// Where hashers hand their solutions.
    pub fn sink(&self) -> SolutionSink {
        self.sink.clone()
    }

    /// The script the base job pays (the node's own).
    pub fn script(&self) -> &ScriptBuf {
        &self.script
    }

    /// The figures.
    pub fn stats(&self) -> Arc<Mutex<MiningStats>> {
        self.stats.clone()
    }

    /// The work now, updated on every generation.
    pub fn work(&self) -> watch::Receiver<Option<WorkInfo>> {
        self.work.clone()
    }

    /// Asks for a new generation now (fresh template selection and times).
    pub fn refresh(&self) {
        let _ = self.refresh.try_send(());
    }

    /// Stops building work (blocks already found are still submitted).
    pub fn stop(&self) {
        self.task.stop();
    }

    /// Resolves when the service has ended.
    pub async fn stopped(&self) {
        self.task.stopped().await;
    }

    /// Whether it still runs.
    pub fn is_running(&self) -> bool {
        self.task.is_running()
    }
}

/// The latest tip-to-work latencies.
#[derive(Default)]
struct RefreshSamples {
    samples: VecDeque<f64>,
    last_tip: Option<ShareHash>,
}

impl RefreshSamples {
    const KEEP: usize = 1_000;

    fn push(&mut self, ms: f64) {
        if self.samples.len() == Self::KEEP {
            self.samples.pop_front();
        }
        self.samples.push_back(ms);
    }

    /// Median, 99th percentile and maximum.
    fn summary(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        let mut sorted: Vec<f64> = self.samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let last = sorted.len().checked_sub(1)?;
            sorted.get(((last as f64) * q).round() as usize).copied()
        };
        (at(0.5), at(0.99), sorted.last().copied())
    }
}

struct Loop {
    net: Net,
    mainchain: Arc<BitcoindRpc>,
    script: ScriptBuf,
    stats: Arc<Mutex<MiningStats>>,
    generation: watch::Sender<Option<Arc<Generation>>>,
    work: watch::Sender<Option<WorkInfo>>,
    bitcoin_tip: Arc<watch::Sender<BlockHash>>,
}

impl Loop {
    async fn run(
        self,
        mut shares: mpsc::UnboundedReceiver<Solved>,
        mut refresh: mpsc::Receiver<()>,
        mut stop: watch::Receiver<bool>,
    ) {
        let node = self.net.node_handle();
        load_found_blocks(&node, &self.stats).await;
        let mut events = node.subscribe();
        let mut refresh_ms = RefreshSamples::default();
        let mut id = 0u64;
        let mut template: Option<BlockTemplate> = None;
        let mut finished: VecDeque<(u64, ScriptBuf)> = VecDeque::new();
        let mut tpl_rx = spawn_templates(self.mainchain.clone(), stop.clone());
        let mut refresh_at = tokio::time::Instant::now() + MAX_JOB_AGE;
        loop {
            let mut rebuild = false;
            tokio::select! {
                () = stopped(&mut stop) => break,
                t = tpl_rx.recv() => {
                    let Some(t) = t else { break };
                    {
                        let mut s = self.stats.lock().await;
                        s.bitcoin_target = Some(format!("{:x}", t.target));
                        s.bitcoin_block_hashes = Some(hashes_for(&t.target));
                        s.bitcoin_reward_sat = t.coinbase_value.to_sat();
                    }
                    self.bitcoin_tip.send_if_modified(|tip| {
                        let changed = *tip != t.previous_block_hash;
                        *tip = t.previous_block_hash;
                        changed
                    });
                    template = Some(t);
                    rebuild = true;
                }
                e = events.recv() => {
                    // A tip the current work already builds on (say, one our share made
                    // and the work was rebuilt for) needs nothing new.
                    match e {
                        Ok(NodeEvent::Tip { hash, .. }) => {
                            rebuild = self.generation.borrow().as_ref()
                                .is_none_or(|g| g.base.share.head.header.prev_share != hash);
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => rebuild = true,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
                r = refresh.recv() => {
                    if r.is_none() { break }
                    rebuild = true;
                }
                () = tokio::time::sleep_until(refresh_at) => rebuild = true,
                s = shares.recv() => {
                    let Some(s) = s else { break };
                    self.share_found(s, &mut finished).await;
                }
            }
            if !rebuild {
                continue;
            }
            let Some(t) = &template else { continue };
            let started = Instant::now();
            id += 1;
            let share_txs = node.with_mempool(|m| m.select(1_000_000, None).txs).await;
            let built = node
                .with_chain(|c| {
                    build_job(c, t, &self.script, share_txs, u64::from(u32::MAX) << 32, id)
                })
                .await;
            let job = match built {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot build a job");
                    continue;
                }
            };
            refresh_at = tokio::time::Instant::now() + MAX_JOB_AGE;
            let parent = job.share.head.header.prev_share;
            let bitcoin_parent = job.share.head.work.header.prev_blockhash;
            let clean = self.generation.borrow().as_ref().is_none_or(|g| {
                g.base.share.head.header.prev_share != parent
                    || g.base.share.head.work.header.prev_blockhash != bitcoin_parent
            });
            let generation = Arc::new(Generation::new(id, job, clean));
            let published = generation.published;
            self.generation.send_replace(Some(generation));
            self.work.send_replace(Some(WorkInfo {
                id,
                share_parent: parent,
                bitcoin_parent,
                published,
            }));
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let (tip, at) = node.tip_changed_at();
            let mut s = self.stats.lock().await;
            if tip == parent && refresh_ms.last_tip != Some(tip) {
                refresh_ms.last_tip = Some(tip);
                refresh_ms.push(published.saturating_duration_since(at).as_secs_f64() * 1e3);
                (
                    s.tip_refresh_p50_ms,
                    s.tip_refresh_p99_ms,
                    s.tip_refresh_max_ms,
                ) = refresh_ms.summary();
                s.tip_refreshes += 1;
            }
            s.last_job_ms = ms;
            s.job_id = id;
        }
        self.generation.send_replace(None);
        self.work.send_replace(None);
        tracing::info!("job service stopped");
    }

    /// The share path: the node validates the share like a peer's (the Bitcoin block, if it is
    /// one, went to the submitter already).
    async fn share_found(&self, s: Solved, finished: &mut VecDeque<(u64, ScriptBuf)>) {
        let key = (s.job.id, payout_script(&s));
        if finished.contains(&key) {
            // A spare solution of a job that already gave its share (common only at trivial
            // targets): a sibling of it, not a share of its own.
            return;
        }
        let share = s.job.share_of(s.header, s.coinbase.clone());
        let hash = share.hash();
        let height = share.head.header.height;
        match self.net.submit_local_share(share, Origin::Local).await {
            Ok(AcceptOutcome::Extended | AcceptOutcome::Reorganized { .. }) => {
                if finished.len() == FINISHED_JOBS {
                    finished.pop_front();
                }
                finished.push_back(key);
                self.stats.lock().await.shares_found += 1;
                tracing::info!(%hash, height, finder = %s.finder, "share found");
                self.net
                    .node_handle()
                    .emit(NodeEvent::FoundShare { hash, height });
            }
            Ok(AcceptOutcome::SideBranch) => {
                let mut st = self.stats.lock().await;
                st.shares_found += 1;
                st.stale += 1;
                tracing::info!(%hash, height, finder = %s.finder, "share found on a side branch (stale)");
            }
            Ok(AcceptOutcome::AlreadyKnown) => {}
            Err(e) => {
                tracing::warn!(%hash, finder = %s.finder, error = %e, "own share refused");
                let mut st = self.stats.lock().await;
                st.rejected += 1;
                st.last_reject = Some(e.to_string());
            }
        }
    }
}

/// The script a solution's share pays.
fn payout_script(s: &Solved) -> ScriptBuf {
    s.job
        .share
        .txs
        .first()
        .and_then(|t| t.output.first())
        .map(|o| o.script_pubkey.clone())
        .unwrap_or_default()
}

/// Templates: fetch, then long-poll for changes; retry on errors.
fn spawn_templates(
    mainchain: Arc<BitcoindRpc>,
    mut stop: watch::Receiver<bool>,
) -> mpsc::Receiver<BlockTemplate> {
    let (tx, rx) = mpsc::channel::<BlockTemplate>(4);
    tokio::spawn(async move {
        let mut longpoll: Option<String> = None;
        loop {
            let fetched = tokio::select! {
                r = mainchain.block_template(longpoll.as_deref()) => r,
                () = stopped(&mut stop) => return,
            };
            match fetched {
                Ok(t) => {
                    longpoll = t.longpoll_id.clone();
                    if tx.send(t).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no Bitcoin template; retrying");
                    longpoll = None;
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(2)) => {}
                        () = stopped(&mut stop) => return,
                    }
                }
            }
        }
    });
    rx
}

/// The blocks found before a restart (or before this service replaced another).
async fn load_found_blocks(node: &p2share_service::Node, stats: &Arc<Mutex<MiningStats>>) {
    if !stats.lock().await.blocks.is_empty() {
        return;
    }
    match node.store().found_blocks(KEPT_BLOCKS).await {
        Ok(records) => {
            let blocks: Vec<FoundBlock> = records
                .iter()
                .filter_map(|r| match serde_json::from_str(r) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        tracing::warn!(error = %e, "unreadable found-block record skipped");
                        None
                    }
                })
                .collect();
            stats.lock().await.blocks = blocks;
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the found blocks"),
    }
}

/// The block submitter: every solution the sink admitted goes to Bitcoin at once, in order;
/// the record (store, event, figures) follows the answer.
async fn submit_blocks(
    net: Net,
    mainchain: Arc<BitcoindRpc>,
    mut blocks: mpsc::UnboundedReceiver<Solved>,
    stats: Arc<Mutex<MiningStats>>,
    bitcoin_tip: Arc<watch::Sender<BlockHash>>,
    mut stop: watch::Receiver<bool>,
) {
    let node = net.node_handle();
    loop {
        let s = tokio::select! {
            biased;
            s = blocks.recv() => match s {
                Some(s) => s,
                None => return,
            },
            () = stopped(&mut stop) => match blocks.try_recv() {
                // Blocks handed over before the stop are still submitted.
                Ok(s) => s,
                Err(_) => return,
            },
        };
        let block = assemble_block(s.header, &s.job, s.coinbase.clone());
        let answer = match mainchain.submit_block(&block).await {
            Ok(SubmitResult::Accepted) => {
                // Solutions on the old parent are siblings now.
                bitcoin_tip.send_replace(s.hash);
                "accepted".to_string()
            }
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error: {e}"),
        };
        let share_hash = s.job.share_of(s.header, s.coinbase.clone()).hash();
        let paid = coinbase_payee(&s.job.share.head).map(|(_, o)| o.clone());
        let record = FoundBlock {
            block_hash: s.hash.to_string(),
            bitcoin_height: s.job.bitcoin_height,
            share: share_hash,
            share_height: s.job.share.head.header.height,
            selected: s.job.selected.map(|o| format!("{}:{}", o.txid, o.vout)),
            paid_script: paid
                .as_ref()
                .map(|o| o.script_pubkey.to_hex_string())
                .unwrap_or_default(),
            value_sat: paid.map(|o| o.value.to_sat()).unwrap_or(0),
            outcome: answer.clone(),
            time: unix_now(),
            parent_share: Some(s.job.share.head.header.prev_share),
            finder: Some(s.finder.to_string()),
        };
        tracing::info!(
            block = %s.hash,
            bitcoin_height = record.bitcoin_height,
            share_height = record.share_height,
            finder = %s.finder,
            selected = record.selected.as_deref().unwrap_or("own sharebase (n = 0)"),
            paid = %record.paid_script,
            outcome = %answer,
            submit_ms = s.at.elapsed().as_secs_f64() * 1e3,
            "Bitcoin block found"
        );
        match serde_json::to_string(&record) {
            Ok(json) => {
                if let Err(e) = node
                    .store()
                    .put_found_block(&record.block_hash, record.time, &json)
                    .await
                {
                    tracing::error!(error = %e, "cannot keep the found block");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot encode the found block"),
        }
        node.emit(NodeEvent::BitcoinBlock(record.clone()));
        let mut st = stats.lock().await;
        if st.blocks.len() >= KEPT_BLOCKS as usize {
            st.blocks.remove(0);
        }
        st.blocks.push(record);
    }
}
