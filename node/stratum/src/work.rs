//! The interface to the job core: the work it hands out and the solutions it takes back.

use std::any::Any;
use std::sync::Arc;

use bitcoin::block::Header;
use bitcoin::{BlockHash, ScriptBuf, Target, TxMerkleNode};

/// One job as the job core hands it out for one payout script.
///
/// The coinbase is cut around the extranonce: the non-witness serialization is
/// `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2`, where extranonce1 is 4 bytes chosen by the
/// server per connection and extranonce2 is `extranonce2_size` bytes chosen by the device.
pub struct Work {
    /// The Bitcoin block this work builds on.
    pub prev_hash: BlockHash,
    /// Non-witness serialized coinbase before extranonce1 ‖ extranonce2.
    pub coinb1: Vec<u8>,
    /// Non-witness serialized coinbase after extranonce1 ‖ extranonce2.
    pub coinb2: Vec<u8>,
    /// Merkle branch of the coinbase (internal byte order nodes), folded as hash(acc ‖ node).
    pub merkle_branch: Vec<TxMerkleNode>,
    /// Block version with the rollable bits ([`Work::version_mask`]) clear.
    pub version: u32,
    /// Bits miners may roll (the server's side of BIP 310), e.g. `0x1fffe000`. A device may roll
    /// only the bits in both this mask and the one it negotiated with `mining.configure`.
    pub version_mask: u32,
    /// Compact Bitcoin target (nBits).
    pub bits: u32,
    /// Block time; devices may roll it up to 7200 s ahead.
    pub time: u32,
    /// A device share meeting this target goes to the [`SolutionHandler`].
    pub share_target: Target,
    /// A device share meeting this target is a Bitcoin block; it goes to the handler even when
    /// its job is stale.
    pub bitcoin_target: Target,
    /// Opaque to this crate: the job core's own job, passed back in [`Solution`]s.
    pub payload: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work")
            .field("prev_hash", &self.prev_hash)
            .field("coinb1", &crate::header::hex(&self.coinb1))
            .field("coinb2", &crate::header::hex(&self.coinb2))
            .field("merkle_branch", &self.merkle_branch)
            .field("version", &format_args!("{:#010x}", self.version))
            .field("version_mask", &format_args!("{:#010x}", self.version_mask))
            .field("bits", &format_args!("{:#010x}", self.bits))
            .field("time", &self.time)
            .field("share_target", &self.share_target)
            .field("bitcoin_target", &self.bitcoin_target)
            .finish_non_exhaustive()
    }
}

/// The current work for every payout (one generation = one sharechain tip, template or
/// refresh). The server watches a `watch::Receiver<Option<Arc<dyn WorkSource>>>`; every new
/// value sends each authorized connection a notify with `work_for(its payout)`.
pub trait WorkSource: Send + Sync + 'static {
    /// Work paying `payout` (the script of the address a connection authorized with). Must be
    /// cheap when called again for the same script (the source caches).
    ///
    /// # Errors
    /// A message saying why no work could be built for this payout; the connection then waits
    /// for the next generation.
    fn work_for(&self, payout: &ScriptBuf) -> Result<Arc<Work>, String>;
    /// Whether miners must drop older jobs (a new sharechain tip or Bitcoin tip): clean_jobs.
    fn clean(&self) -> bool;
}

/// A device share that meets its job's share target (or Bitcoin's), handed over at once.
#[derive(Debug, Clone)]
pub struct Solution {
    /// The work the share was found on.
    pub work: Arc<Work>,
    /// The solved header (version rolled, the device's ntime and nonce).
    pub header: Header,
    /// The full non-witness coinbase bytes (`coinb1 ‖ en1 ‖ en2 ‖ coinb2`).
    pub coinbase: Vec<u8>,
    /// The connection's extranonce1.
    pub extranonce1: Vec<u8>,
    /// The device's extranonce2.
    pub extranonce2: Vec<u8>,
    /// Whether the header meets `work.share_target` (false for shares of stale jobs, which are
    /// handed over only because they meet Bitcoin's target).
    pub meets_share: bool,
    /// Whether the header meets `work.bitcoin_target`.
    pub meets_bitcoin: bool,
    /// Whether the job was stale (issued before a clean notify) when the share came.
    pub stale: bool,
    /// The authorize user string (`address.worker`).
    pub worker: String,
    /// The payout script the connection authorized with.
    pub payout: ScriptBuf,
}

/// Takes solutions from the server.
pub trait SolutionHandler: Send + Sync + 'static {
    /// Takes one solution. Must not block (send on a channel): it is called on the connection's
    /// task before the device's reply is written.
    fn solution(&self, s: Solution);
}
