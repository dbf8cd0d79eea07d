//! The mining loop: feeds the CPU hasher jobs (new templates, new tips, fresh times) and turns
//! its solutions into shares and — when they also meet Bitcoin's target — Bitcoin blocks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::consensus::serialize;
use bitcoin::{ScriptBuf, Target};
use p2share_consensus::chain::AcceptOutcome;
use p2share_consensus::validation::coinbase_payee;
use p2share_consensus::ShareHash;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mainchain::{BlockTemplate, Mainchain, SubmitResult};
use p2share_service::{unix_now, FoundBlock, Net, NodeEvent, Origin};
use serde::Serialize;
use tokio::sync::{mpsc, watch, Mutex};

use crate::job::{assemble_block, build_job, MiningJob};

/// Candidates forwarded per job (the first one ends the job; the rest are spares).
const MAX_CANDIDATES_PER_JOB: u32 = 4;
/// Found Bitcoin blocks shown (`getmininginfo.blocks`); all are kept in the store.
const KEPT_BLOCKS: u32 = 1_000;

/// The longest a job is hashed before it is rebuilt (fresh times and mempool).
const MAX_JOB_AGE: Duration = Duration::from_secs(30);

/// How long a job may be hashed: [`MAX_JOB_AGE`], or less when the hashers would cover its
/// 2^32 nonces sooner (they idle after that), with a fifth to spare.
fn job_lifetime(hashrate: f64) -> Duration {
    let exhaust = 4_294_967_296.0 / hashrate.max(1.0);
    Duration::from_secs_f64((exhaust * 0.8).clamp(0.05, MAX_JOB_AGE.as_secs_f64()))
}

/// Replaced jobs kept for solutions still in flight from the hasher threads.
const RECENT_JOBS: usize = 4;

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

/// The mining loop's handle.
#[derive(Clone, Debug)]
pub struct Miner {
    stats: Arc<Mutex<MiningStats>>,
    stop: watch::Sender<bool>,
    work: watch::Receiver<Option<WorkInfo>>,
    done: watch::Receiver<bool>,
}

impl Miner {
    /// Current figures.
    pub async fn stats(&self) -> MiningStats {
        self.stats.lock().await.clone()
    }

    /// The work the hashers have, updated on every new job (`None` before the first and while
    /// a found share is handled).
    pub fn work(&self) -> watch::Receiver<Option<WorkInfo>> {
        self.work.clone()
    }

    /// Stops mining (the hasher threads are joined by the loop).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Resolves when the loop has ended and its hasher threads are joined.
    pub async fn stopped(&self) {
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }

    /// Whether the loop still runs.
    pub fn is_running(&self) -> bool {
        !*self.done.borrow()
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
    let config = p2share_gpu_kernels::CpuMinerConfig {
        threads: threads.max(1),
        ..p2share_gpu_kernels::CpuMinerConfig::default()
    };
    let backend = config.backend;
    // Candidates go straight from the hasher threads into the async loop. A job is done at
    // its first share (the tip moves), so at most a few candidates per job are forwarded: at a
    // trivial target (the pow limit) half of all hashes qualify, millions a second.
    let (tx, rx) = mpsc::unbounded_channel();
    let forwarded = std::sync::Mutex::new((u64::MAX, 0u32));
    let hasher = p2share_gpu_kernels::CpuMiner::start_with(config, move |c| {
        let mut f = forwarded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if f.0 == c.job_id {
            f.1 += 1;
            if f.1 > MAX_CANDIDATES_PER_JOB {
                return;
            }
        } else {
            *f = (c.job_id, 1);
        }
        drop(f);
        // The loop may have stopped; then nobody wants candidates.
        let _ = tx.send(c);
    })
    .map_err(|e| e.to_string())?;
    tracing::info!(backend = backend.name(), threads, "CPU hasher started");
    let threads = threads.max(1);
    let (stop, stop_rx) = watch::channel(false);
    let (work_tx, work) = watch::channel(None);
    let (done_tx, done) = watch::channel(false);
    let miner = Miner {
        stats: stats.clone(),
        stop,
        work,
        done,
    };
    tokio::spawn(async move {
        {
            let mut s = stats.lock().await;
            s.backend = backend.name().to_string();
            s.threads = threads;
        }
        mining_loop(
            net,
            Arc::new(mainchain),
            script,
            hasher,
            rx,
            stats,
            stop_rx,
            work_tx,
        )
        .await;
        let _ = done_tx.send(true);
    });
    Ok(miner)
}

/// The last few job ids (a tiny ring).
#[derive(Default)]
struct LastIds([u64; 8], usize);

impl LastIds {
    fn push(&mut self, id: u64) {
        self.0[self.1 % 8] = id;
        self.1 += 1;
    }

    fn contains(&self, id: &u64) -> bool {
        // Job ids start at 1, so the zeroed slots never match.
        self.0.contains(id)
    }
}

/// The latest tip-to-work latencies.
#[derive(Default)]
struct RefreshSamples {
    samples: std::collections::VecDeque<f64>,
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

/// Resolves once `stop` turns true (the watch guard is dropped inside, so callers stay `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn to_hasher_target(t: &Target) -> p2share_gpu_kernels::Target {
    p2share_gpu_kernels::Target::from_le_bytes(t.to_le_bytes())
}

#[allow(clippy::too_many_arguments)]
async fn mining_loop(
    net: Net,
    mainchain: Arc<BitcoindRpc>,
    script: ScriptBuf,
    hasher: p2share_gpu_kernels::CpuMiner,
    mut candidates: mpsc::UnboundedReceiver<p2share_gpu_kernels::Candidate>,
    stats: Arc<Mutex<MiningStats>>,
    mut stop: watch::Receiver<bool>,
    work: watch::Sender<Option<WorkInfo>>,
) {
    let node = net.node_handle();
    let mut refresh_ms = RefreshSamples::default();
    // The blocks found before a restart (or before this miner replaced another).
    let reload = stats.lock().await.blocks.is_empty();
    match node.store().found_blocks(KEPT_BLOCKS).await {
        Ok(_) if !reload => {}
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
    let mut events = node.subscribe();
    let mut job_id = 0u64;
    let mut extranonce = 0u64;
    let mut job: Option<MiningJob> = None;
    // Jobs replaced lately, whose solutions may still arrive from the hasher threads.
    let mut recent: std::collections::VecDeque<MiningJob> = std::collections::VecDeque::new();
    // Ids of the last jobs that gave a share.
    let mut finished = LastIds::default();
    let mut template: Option<BlockTemplate> = None;
    let (tpl_tx, mut tpl_rx) = mpsc::channel::<BlockTemplate>(4);
    // Templates: fetch, then long-poll for changes; retry on errors.
    {
        let mainchain = mainchain.clone();
        let mut stop = stop.clone();
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
                        if tpl_tx.send(t).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "no Bitcoin template; retrying");
                        longpoll = None;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            }
        });
    }
    // New work at least every 30 s (fresh times and mempool), and before the hashers run out of
    // nonces: a job has 2^32, a few seconds' worth for a many-core machine.
    let mut refresh_at = tokio::time::Instant::now() + MAX_JOB_AGE;
    loop {
        let mut rebuild = false;
        tokio::select! {
            () = stopped(&mut stop) => break,
            t = tpl_rx.recv() => {
                let Some(t) = t else { break };
                {
                    let mut s = stats.lock().await;
                    s.bitcoin_target = Some(format!("{:x}", t.target));
                    s.bitcoin_block_hashes = Some(hashes_for(&t.target));
                    s.bitcoin_reward_sat = t.coinbase_value.to_sat();
                }
                template = Some(t);
                rebuild = true;
            }
            e = events.recv() => {
                // A tip the current job already builds on (our own share, handled below) needs
                // no new work; replacing it would only make its solutions stale.
                match e {
                    Ok(NodeEvent::Tip { hash, .. }) => {
                        rebuild = job.as_ref().is_none_or(|j| j.share.head.header.prev_share != hash);
                    }
                    Ok(_) => {}
                    // Missed events may have held a tip.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => rebuild = true,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
            () = tokio::time::sleep_until(refresh_at) => {
                rebuild = true;
                refresh_at = tokio::time::Instant::now() + MAX_JOB_AGE;
            }
            c = candidates.recv() => {
                let Some(c) = c else { break };
                if finished.contains(&c.job_id) {
                    // A spare solution of a job that already gave its share (common only at
                    // trivial targets): a sibling of it, not worth a share of its own.
                    continue;
                }
                let solved = match job.as_ref().filter(|j| j.id == c.job_id) {
                    Some(j) => Some(j.clone()),
                    None => {
                        // A solution of a job replaced since (fresh template, mempool, times)
                        // is still a share while its parent is the tip: it is not thrown away.
                        let tip = node.with_chain(|ch| ch.tip_hash()).await;
                        recent
                            .iter()
                            .find(|j| j.id == c.job_id && j.share.head.header.prev_share == tip)
                            .cloned()
                    }
                };
                let Some(j) = solved else {
                    stats.lock().await.stale += 1;
                    continue;
                };
                // The work is finished: stop hashing while the share is handled; refused,
                // known or a new tip, fresh work follows either way.
                hasher.clear_job();
                work.send_replace(None);
                finished.push(j.id);
                job = None;
                found(&net, &mainchain, &j, c.nonce, &stats).await;
                rebuild = true;
            }
        }
        {
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
        if !rebuild {
            continue;
        }
        let Some(t) = &template else { continue };
        let started = Instant::now();
        job_id += 1;
        extranonce += 1;
        let share_txs = node.with_mempool(|m| m.select(1_000_000, None).txs).await;
        let built = node
            .with_chain(|c| build_job(c, t, &script, share_txs, extranonce, job_id))
            .await;
        match built {
            Ok(j) => {
                let mut header = [0u8; 80];
                header.copy_from_slice(&serialize(&j.share.head.work.header));
                hasher.set_job(p2share_gpu_kernels::Job::new(
                    j.id,
                    header,
                    to_hasher_target(&j.share_target),
                ));
                let published = Instant::now();
                refresh_at = tokio::time::Instant::now() + job_lifetime(hasher.hashrate());
                let parent = j.share.head.header.prev_share;
                work.send_replace(Some(WorkInfo {
                    id: j.id,
                    share_parent: parent,
                    bitcoin_parent: j.share.head.work.header.prev_blockhash,
                    published,
                }));
                let ms = started.elapsed().as_secs_f64() * 1e3;
                let (tip, at) = node.tip_changed_at();
                let mut s = stats.lock().await;
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
                s.job_id = j.id;
                if let Some(old) = job.replace(j) {
                    if recent.len() == RECENT_JOBS {
                        recent.pop_front();
                    }
                    recent.push_back(old);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot build a job"),
        }
    }
    hasher.stop();
    tracing::info!("miner stopped");
}

/// Handles a solution: the share goes through the same validation as peers' shares; if it is
/// also a Bitcoin block, the payout is checked against the node's own selection and the block
/// submitted. Returns whether the tip moved.
async fn found(
    net: &Net,
    mainchain: &BitcoindRpc,
    job: &MiningJob,
    nonce: u32,
    stats: &Arc<Mutex<MiningStats>>,
) -> bool {
    let mut share = job.share.clone();
    share.head.work.header.nonce = nonce;
    let header = share.head.work.header;
    let block_hash = header.block_hash();
    let hash = share.hash();
    let height = share.head.header.height;
    let outcome = net.submit_local_share(share.clone(), Origin::Local).await;
    match &outcome {
        Ok(
            AcceptOutcome::Extended | AcceptOutcome::Reorganized { .. } | AcceptOutcome::SideBranch,
        ) => {
            stats.lock().await.shares_found += 1;
            tracing::info!(%hash, height, "share found");
            net.node_handle()
                .emit(NodeEvent::FoundShare { hash, height });
        }
        Ok(AcceptOutcome::AlreadyKnown) => return false,
        Err(e) => {
            tracing::warn!(%hash, error = %e, "own share refused");
            let mut s = stats.lock().await;
            s.rejected += 1;
            s.last_reject = Some(e.to_string());
            return false;
        }
    }
    if !job.bitcoin_target.is_met_by(block_hash) {
        return true;
    }
    // A Bitcoin block: pay exactly what the payout rule selects, checked here before submitting.
    let node = net.node_handle();
    let payout = node.with_chain(|c| c.payout_of(&hash).cloned()).await;
    let Some((_, paid)) = coinbase_payee(&share.head) else {
        tracing::error!(%hash, "block without a payout output; not submitted");
        return true;
    };
    let expected = match &payout {
        Some(p) => p.script_pubkey.clone(),
        None => share
            .txs
            .first()
            .and_then(|sb| sb.output.first())
            .map(|o| o.script_pubkey.clone())
            .unwrap_or_default(),
    };
    if paid.script_pubkey != expected {
        tracing::error!(%hash, "the coinbase does not pay the selected share; block not submitted");
        return true;
    }
    let block = assemble_block(header, job);
    let answer = match mainchain.submit_block(&block).await {
        Ok(SubmitResult::Accepted) => "accepted".to_string(),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("error: {e}"),
    };
    let record = FoundBlock {
        block_hash: block_hash.to_string(),
        bitcoin_height: job.bitcoin_height,
        share: hash,
        share_height: height,
        selected: payout
            .as_ref()
            .map(|p| format!("{}:{}", p.outpoint.txid, p.outpoint.vout)),
        paid_script: paid.script_pubkey.to_hex_string(),
        value_sat: paid.value.to_sat(),
        outcome: answer.clone(),
        time: unix_now(),
    };
    tracing::info!(
        block = %block_hash,
        bitcoin_height = job.bitcoin_height,
        share_height = height,
        selected = record.selected.as_deref().unwrap_or("own sharebase (n = 0)"),
        paid = %record.paid_script,
        outcome = %answer,
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
    let mut s = stats.lock().await;
    if s.blocks.len() >= KEPT_BLOCKS as usize {
        s.blocks.remove(0);
    }
    s.blocks.push(record);
    true
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
