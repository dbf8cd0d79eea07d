//! An embedded Bitcoin regtest mainchain whose every block is validated by Bitcoin Core's
//! consensus code.
//!
//! Goals:
//! - **The real rules.** Blocks go to a `bitcoinkernel` (libbitcoinkernel, `=0.3.2`)
//!   `ChainstateManager` on regtest. A block this crate accepts is a block Bitcoin Core accepts;
//!   the kernel is the only judge. [`chain::RegtestChain::submit_block`] reports the real
//!   outcome (the kernel answers "new block" even for a block that then fails to connect) and
//!   names Core's reason string (`high-hash`, `bad-cb-amount`, …) for the common failures.
//! - **An index** ([`index::ChainIndex`]) of the active chain: transactions, spenders, Esplora
//!   script-hash histories, the UTXO set and confirmations, unwound exactly on reorgs.
//! - **A devnet policy** ([`chain::Policy`]): an optional block target stricter than Core's, so
//!   only some shares are Bitcoin blocks, as on mainnet.
//! - **Block assembly** ([`blockbuilder`]): coinbase with BIP34 height, witness commitment,
//!   nonce grinding — what `generatetoaddress` and templates build on.
//!
//! - **A mempool** ([`mempool::Mempool`]) with Core's acceptance checks and reject reasons,
//!   replace-by-fee and a size bound, kept in step with the chain (reorgs included);
//!   **block templates** ([`template::BlockTemplate`], `getblocktemplate`); and
//!   [`node::RegtestNode`], the facade that ties chain, mempool, templates and
//!   `generatetoaddress` together for the servers.
//!
//! Non-goals here: HTTP servers, a P2P network. The core is synchronous; the kernel's callbacks are the only code run on its
//! behalf.

pub mod blockbuilder;
mod blocklog;
pub mod chain;
mod checks;
pub mod index;
pub mod mempool;
pub mod node;
pub mod template;
#[cfg(feature = "test-util")]
pub mod testutil;

pub use chain::{HeaderInfo, Policy, RegtestChain, RegtestError, SubmitOutcome, Tip};
pub use index::{ChainIndex, Coin, HistoryEntry, ScriptHash, Spender, TxLocation};
pub use mempool::{Accepted, Mempool, MempoolConfig, MempoolEntry, MempoolReject};
pub use node::{MempoolInfo, NodeError, RegtestNode};
pub use template::{BlockTemplate, TemplateTransaction};
