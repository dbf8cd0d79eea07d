//! Any bytes from a mining device: the Stratum session answers, hands over solutions or closes,
//! never panics, and never answers `mining.suggest_difficulty`.
#![no_main]
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use libfuzzer_sys::fuzz_target;
use p2share_stratum::{Action, Session, SessionParams, StratumConfig, Work, WorkSource};

struct OneWork(Arc<Work>);

impl WorkSource for OneWork {
    fn work_for(&self, _payout: &bitcoin::ScriptBuf) -> Result<Arc<Work>, String> {
        Ok(self.0.clone())
    }
    fn clean(&self) -> bool {
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut session = Session::new(SessionParams {
        config: Arc::new(StratumConfig::devnet()),
        id: 1,
        extranonce1: [0, 0, 0, 1],
        job_ids: Arc::new(AtomicU64::new(1)),
        address: Arc::new(|s: &str| {
            if s.is_empty() {
                Err("empty".to_string())
            } else {
                Ok(bitcoin::ScriptBuf::new_op_return([1u8; 4]))
            }
        }),
        remote: "127.0.0.1:1".into(),
        now,
        unix_now: 0,
    });
    let work = Arc::new(Work {
        prev_hash: bitcoin::BlockHash::all_zeros(),
        coinb1: vec![1, 0, 0, 0, 1],
        coinb2: vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0],
        merkle_branch: vec![bitcoin::TxMerkleNode::all_zeros()],
        version: 0x2000_0000,
        version_mask: 0x1fff_e000,
        bits: 0x207f_ffff,
        time: 1_700_000_000,
        share_target: bitcoin::Target::MAX,
        bitcoin_target: bitcoin::Target::MAX,
        payload: Arc::new(()),
    });
    let _ = session.work_changed(Some(Arc::new(OneWork(work))), now);
    // Two chunks, so a line split across reads is exercised too.
    let cut = data.len() / 2;
    for (i, part) in [&data[..cut], &data[cut..]].into_iter().enumerate() {
        let at = now + Duration::from_millis(i as u64);
        for action in session.receive(part, at) {
            if let Action::Send(line) = action {
                assert!(line.ends_with('\n'));
            }
        }
    }
    let _ = session.tick(now + Duration::from_secs(3600));
});
