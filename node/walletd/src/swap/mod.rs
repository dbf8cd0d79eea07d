//! Atomic swaps of shares for BTC between two nodes' wallets.
//!
//! - **Offers** ([`types::Offer`]) are signed by the maker's offer key (swap key 0) and gossiped
//!   on the sharechain's `offers` topic; every node keeps the order book of current ones.
//! - **The protocol** runs over the nodes' request-response: the taker sends `Take` (amount, the
//!   secret's hash, its key, both timeouts as heights), the maker answers `Accept` (its key) or
//!   `Refuse`; then each side announces its lock with `Locked`. Messages only speed things up:
//!   every step is taken from what the chains show, so a lost message or a restart loses
//!   nothing.
//! - **The taker** makes the secret (derived from the seed) and locks first (timeout `T_i`); the
//!   **maker** locks once the taker's lock is final and rebuilt-and-compared; the taker claims
//!   the maker's lock (revealing the secret) once that one is final; the maker's watcher sees
//!   the secret on chain and claims the taker's lock. Either side refunds its own lock after its
//!   timeout if the other never claimed.
//! - **Every swap is a persisted record** ([`types::SwapRecord`]) written before each action
//!   (a funding, claim or refund transaction is stored before it is broadcast, and broadcast
//!   again on resume); [`crate::WalletService`] drives every unfinished swap on each block of
//!   either chain.

pub mod engine;
pub mod types;

pub use engine::{SwapBook, SwapConfig};
pub use types::{Asset, Offer, OfferBody, OfferTimelocks, Phase, SwapMsg, SwapRecord, SwapRole};
