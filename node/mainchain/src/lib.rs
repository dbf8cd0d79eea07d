//! # p2share mainchain clients
//!
//! How a p2share node talks to Bitcoin:
//! - [`rpc::BitcoindRpc`]: Bitcoin Core's JSON-RPC (cookie or user/password auth) — block
//!   templates (long-poll where offered), `submitblock` with BIP-22 results, chain info, headers,
//!   blocks, raw transactions, fee estimates. It implements [`Mainchain`], the interface the
//!   mining side of the node uses.
//! - [`esplora::EsploraClient`]: the Esplora REST API — the wallet's chain source (tip, headers,
//!   block status, transactions and their status, outspends, script-hash history and UTXOs,
//!   broadcast, fee estimates).
//!
//! Both speak to a real Bitcoin Core / Esplora, or unchanged to the embedded regtest mainchain
//! that the devnet and the tests run. Every error names the method (or endpoint) and carries the
//! server's message; transport failures are retried with back-off, server verdicts never are.

pub mod error;
pub mod esplora;
pub mod rpc;
pub mod template;

use std::future::Future;

use bitcoin::{Block, BlockHash};

pub use error::{ClientError, ErrorKind};
pub use template::{BlockTemplate, SubmitResult, TemplateTransaction};

/// The best block of the mainchain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTip {
    /// Its hash.
    pub hash: BlockHash,
    /// Its height.
    pub height: u32,
}

/// What the mining side of the node needs from Bitcoin.
pub trait Mainchain: Send + Sync {
    /// The best block.
    fn tip(&self) -> impl Future<Output = Result<ChainTip, ClientError>> + Send;

    /// A block template (`getblocktemplate` with the segwit rule). With `longpoll_id`, waits
    /// until the template would change (where the server offers long polling).
    fn block_template(
        &self,
        longpoll_id: Option<&str>,
    ) -> impl Future<Output = Result<BlockTemplate, ClientError>> + Send;

    /// Submits a solved block and returns the server's BIP-22 verdict.
    fn submit_block(
        &self,
        block: &Block,
    ) -> impl Future<Output = Result<SubmitResult, ClientError>> + Send;
}
