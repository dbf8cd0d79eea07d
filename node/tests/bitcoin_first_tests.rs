//! A solution that meets Bitcoin's target is a Bitcoin block whatever happens to its share: the
//! job core submits it first. One scenario per way the old miner lost blocks, each checked
//! against the embedded mainchain (Bitcoin Core's consensus through bitcoinkernel), and the
//! relay of a peer's block.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod netkit;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::BlockHash;
use netkit::{p2p_addr, start_miner_node, start_on, tip, wait_for};
use p2share_app::devnet;
use p2share_app::embedded::{Config, RegtestMainchain};
use p2share_app::App;
use p2share_consensus::ChainParams;
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_mainchain::Mainchain;
use p2share_mining::{
    build_job, Finder, Generation, JobService, MiningJob, MiningStats, Rolled, EXTRANONCE_SIZE,
};
use p2share_regtest::Policy;
use p2share_service::Origin;
use p2share_testkit::{Kind, TestKey};
use tokio::sync::Mutex;

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// Regtest's proof-of-work limit: one hash in two meets it; Bitcoin blocks are 64 times
/// harder where a test says so.
const EASY_BITS: u32 = 0x207f_ffff;

struct Rig {
    _dirs: Vec<tempfile::TempDir>,
    mainchain: RegtestMainchain,
    btc: BitcoindRpc,
    node: App,
    service: JobService,
    stats: Arc<Mutex<MiningStats>>,
    script: bitcoin::ScriptBuf,
}

/// A node on a devnet whose shares have `share_bits`, an embedded mainchain whose blocks must
/// be `ratio` times harder than shares (or only meet their own bits), and a job service on them.
async fn rig(share_bits: u32, ratio: Option<u64>) -> Rig {
    let mut params = ChainParams::devnet(now(), share_bits);
    let policy = ratio.and_then(|r| devnet::block_target(&params, r));
    params.maturity = 3;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mainchain = RegtestMainchain::start(Config {
        datadir: dirs[1].path().to_path_buf(),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy {
            block_target: policy,
        },
    })
    .await
    .unwrap();
    let btc = mainchain.rpc_client().unwrap();
    let node = start_on(params, dirs[0].path(), vec![], 2000, None).await;
    let script = TestKey::from_seed(7).script(Kind::P2wpkh);
    let stats = Arc::new(Mutex::new(MiningStats::default()));
    let service = JobService::start(
        node.net.clone(),
        mainchain.rpc_client().unwrap(),
        script.clone(),
        stats.clone(),
    );
    Rig {
        _dirs: dirs,
        mainchain,
        btc,
        node,
        service,
        stats,
        script,
    }
}

impl Rig {
    /// The current generation, once there is one newer than `after`.
    async fn generation_after(&self, after: u64) -> Arc<Generation> {
        let mut g = self.service.generation();
        let got = tokio::time::timeout(
            Duration::from_secs(20),
            g.wait_for(|g| g.as_ref().is_some_and(|g| g.id > after)),
        )
        .await
        .expect("no new generation")
        .unwrap()
        .clone();
        got.unwrap()
    }

    async fn bitcoin_tip(&self) -> BlockHash {
        self.btc.tip().await.unwrap().hash
    }

    async fn wait_bitcoin_tip(&self, hash: BlockHash) {
        wait_for(20, "the block on Bitcoin's tip", || async {
            self.bitcoin_tip().await == hash
        })
        .await;
    }

    async fn shutdown(self) {
        self.service.stop();
        self.service.stopped().await;
        self.node.shutdown().await;
        self.mainchain.shutdown().await;
    }
}

/// The first nonce (from `from`) whose solution meets exactly what `want` says.
fn solve(job: &MiningJob, extranonce2: u32, from: u32, want: (bool, bool)) -> Rolled {
    let mut extranonce = [0u8; EXTRANONCE_SIZE];
    extranonce[..4].copy_from_slice(&[1, 2, 3, 4]);
    extranonce[4..].copy_from_slice(&extranonce2.to_be_bytes());
    let header = job.share.head.work.header;
    for nonce in from.. {
        let rolled = Rolled {
            extranonce,
            version: header.version.to_consensus(),
            time: header.time,
            nonce,
        };
        let (h, _) = job.solved(&rolled);
        let hash = h.block_hash();
        let met = (
            job.bitcoin_target.is_met_by(hash),
            job.share_target.is_met_by(hash),
        );
        if met == want {
            return rolled;
        }
    }
    unreachable!("no nonce meets {want:?}")
}

/// Builds a job on `node`'s tip from `template` paying `script`, solves it to meet exactly
/// `want` (Bitcoin's target, the share target) and hands the share to the node, which gossips
/// it when it becomes the tip. Returns the Bitcoin header's hash.
async fn mine_share(
    node: &App,
    template: &p2share_mainchain::BlockTemplate,
    script: &bitcoin::ScriptBuf,
    id: u64,
    want: (bool, bool),
) -> BlockHash {
    let job = node
        .node
        .with_chain(|c| build_job(c, template, script, vec![], id, id))
        .await
        .unwrap();
    let r = solve(&job, 1, 0, want);
    let (h, cb) = job.solved(&r);
    node.net
        .submit_local_share(job.share_of(h, cb), Origin::Local)
        .await
        .unwrap();
    h.block_hash()
}

fn block_hash(job: &MiningJob, rolled: &Rolled) -> BlockHash {
    job.solved(rolled).0.block_hash()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_of_a_replaced_job_is_submitted_and_accepted() {
    let rig = rig(EASY_BITS, Some(64)).await;
    let first = rig.generation_after(0).await;
    let job = first.job_for(&rig.script).unwrap();
    // New work on the same tips (fresh selection and times): the job above is replaced.
    rig.service.refresh();
    let second = rig.generation_after(first.id).await;
    assert_eq!(
        second.base.share.head.header.prev_share,
        job.share.head.header.prev_share
    );
    let rolled = solve(&job, 1, 0, (true, true));
    let met = rig.service.sink().offer(job.clone(), &rolled, Finder::Cpu);
    assert!(met.bitcoin && met.share);
    rig.wait_bitcoin_tip(block_hash(&job, &rolled)).await;
    wait_for(10, "the block recorded as accepted", || async {
        rig.stats
            .lock()
            .await
            .blocks
            .iter()
            .any(|b| b.outcome == "accepted")
    })
    .await;
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_solution_of_a_finished_job_is_submitted_as_a_block() {
    let rig = rig(EASY_BITS, Some(64)).await;
    let job = rig.generation_after(0).await.job_for(&rig.script).unwrap();
    let before = rig.bitcoin_tip().await;
    // The job's first solution is a share only: the sharechain moves on.
    let share_only = solve(&job, 1, 0, (false, true));
    rig.service
        .sink()
        .offer(job.clone(), &share_only, Finder::Cpu);
    wait_for(10, "the share on the tip", || async {
        rig.stats.lock().await.shares_found == 1
    })
    .await;
    assert_eq!(rig.bitcoin_tip().await, before);
    // A later solution of the same, finished job is a Bitcoin block.
    let block = solve(&job, 1, share_only.nonce + 1, (true, true));
    rig.service.sink().offer(job.clone(), &block, Finder::Cpu);
    rig.wait_bitcoin_tip(block_hash(&job, &block)).await;
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_whose_share_the_node_refuses_is_submitted() {
    // Shares about 2^12 times harder than Bitcoin's blocks: most blocks are no share.
    let rig = rig(0x1f7f_ffff, None).await;
    let job = rig.generation_after(0).await.job_for(&rig.script).unwrap();
    let tip_before = tip(&rig.node).await;
    let rolled = solve(&job, 1, 0, (true, false));
    let met = rig.service.sink().offer(job.clone(), &rolled, Finder::Cpu);
    assert!(met.bitcoin && !met.share);
    rig.wait_bitcoin_tip(block_hash(&job, &rolled)).await;
    // The node never saw it as a share; offered to the node directly, it is refused.
    assert_eq!(tip(&rig.node).await, tip_before);
    let (header, coinbase) = job.solved(&rolled);
    let refused = rig
        .node
        .net
        .submit_local_share(job.share_of(header, coinbase), Origin::Local)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_whose_share_lands_on_a_side_branch_is_submitted() {
    let rig = rig(EASY_BITS, Some(64)).await;
    let job = rig.generation_after(0).await.job_for(&rig.script).unwrap();
    // Another miner's share on the same parent arrives first and becomes the tip.
    let template = rig.btc.block_template(None).await.unwrap();
    let other = TestKey::from_seed(8).script(Kind::P2wpkh);
    mine_share(&rig.node, &template, &other, 42, (false, true)).await;
    // Ours, on the same parent, is a block: submitted though its share is a side branch.
    let rolled = solve(&job, 1, 0, (true, true));
    rig.service.sink().offer(job.clone(), &rolled, Finder::Cpu);
    rig.wait_bitcoin_tip(block_hash(&job, &rolled)).await;
    wait_for(10, "the share counted on a side branch", || async {
        rig.stats.lock().await.stale == 1
    })
    .await;
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_relays_a_block_its_finder_never_submitted() {
    let mut params = ChainParams::devnet(now(), EASY_BITS);
    params.maturity = 3;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mainchain = RegtestMainchain::start(Config {
        datadir: dirs[2].path().to_path_buf(),
        rpc_bind: any,
        esplora_bind: any,
        policy: Policy {
            block_target: devnet::block_target(&params, 64),
        },
    })
    .await
    .unwrap();
    let btc = mainchain.rpc_client().unwrap();
    // The finder has no Bitcoin node at all; its peer has one (and relays).
    let finder = start_on(params.clone(), dirs[0].path(), vec![], 2000, None).await;
    let peer = start_miner_node(
        params,
        dirs[1].path(),
        vec![p2p_addr(&finder).await],
        &mainchain,
        TestKey::from_seed(9).script(Kind::P2wpkh),
    )
    .await;
    wait_for(20, "peers connected", || async {
        finder.net.p2p().peers().await.unwrap().len() == 1
    })
    .await;
    let template = btc.block_template(None).await.unwrap();
    let script = TestKey::from_seed(10).script(Kind::P2wpkh);
    // Shares first, until gossip reaches the peer (the mesh forms after a heartbeat).
    let mut i = 0u64;
    loop {
        i += 1;
        mine_share(&finder, &template, &script, i, (false, true)).await;
        let want = tip(&finder).await;
        let reached = tokio::time::timeout(Duration::from_secs(2), async {
            while tip(&peer).await != want {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        if reached.is_ok() {
            break;
        }
        assert!(i < 20, "the peer never followed the finder");
    }
    // Now a share that is a Bitcoin block, gossiped by a finder that cannot submit it.
    let hash = mine_share(&finder, &template, &script, 100, (true, true)).await;
    wait_for(20, "the relayed block on Bitcoin's tip", || async {
        btc.tip().await.unwrap().hash == hash
    })
    .await;
    peer.shutdown().await;
    finder.shutdown().await;
    mainchain.shutdown().await;
}
