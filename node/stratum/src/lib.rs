//! # p2share-stratum
//!
//! p2share's Stratum v1 server for mining devices (Bitaxe, NerdQAxe++, NerdMiner, cgminer-based
//! Gekko and Avalon Nano). It knows Stratum v1 and Bitcoin header math and nothing of the
//! sharechain: a [`WorkSource`] hands it one [`Work`] per payout script, and every device share
//! that meets the work's share target (or Bitcoin's) goes to a [`SolutionHandler`] as a
//! [`Solution`].
//!
//! ## Layers
//! - [`header`]: hex, the notify prevhash, coinbase txid, merkle branch folding, header
//!   assembly, and difficulty ↔ target.
//! - [`protocol`]: the JSON lines (requests in, replies and notifications out, error codes).
//! - [`vardiff`]: the difficulty controller, one per connection.
//! - [`session`]: the sans-IO state machine of one connection: bytes and time in, [`Action`]s
//!   out. No tokio, sockets or clock reads (time is an argument).
//! - [`server`]: the tokio listener around the sessions ([`StratumServer`]).
//!
//! ## Policy (what a device sees)
//! - Nothing is written before the subscribe reply. The subscribe reply is
//!   `[[["mining.set_difficulty",sid],["mining.notify",sid]],en1,en2size]`; after `authorize`
//!   succeeds (and the connection is subscribed) `mining.set_difficulty` then `mining.notify`
//!   (clean) follow, once the lines of that read are answered.
//! - `mining.suggest_difficulty` (and `mining.suggest_target`) is never answered. It is honoured
//!   within the clamps the first time and whenever its value changes; a repeated identical
//!   suggestion (NerdMiner's 30 s keep-alive) changes nothing.
//! - Errors `{"id":..,"result":null,"error":[code,"msg",null]}`: 20 other or malformed,
//!   21 job not found or stale, 22 duplicate, 23 low difficulty, 24 unauthorized, 25 not
//!   subscribed. A valid JSON line that is not a usable request (unknown method, bad params) is
//!   answered with error 20 and the connection stays open; after
//!   [`session::MAX_PROTOCOL_ERRORS`] such errors it is closed. A line that is not JSON, not
//!   UTF-8 or longer than `max_line_bytes` is answered with error 20 (id null) and the
//!   connection is closed.
//! - Authorize: `params[0]` is `address` or `address.worker`; the part before the first `.` goes
//!   to the address parser. An invalid address is answered with error 24 naming the address and
//!   why; the connection stays open for another try. Once authorized, a connection keeps its
//!   first payout: later authorizes are answered (`true` if their address is valid) but change
//!   nothing. A password `d=<difficulty>` counts as a difficulty suggestion.
//! - Vardiff: see [`vardiff`]. Every difficulty change is followed by a fresh `mining.notify` of
//!   the same work (new job id, clean false); jobs keep the difficulty they were issued at.
//! - Jobs: ids are unique increasing hex strings (one counter per server). Each connection keeps
//!   its last [`session::MAX_JOBS`] jobs; jobs issued before a clean notify are stale (error 21),
//!   but a stale share that meets the Bitcoin target still goes to the handler.
//!
//! ## Non-goals
//! Stratum v2, extranonce subscription (`mining.set_extranonce` is never sent), proxying, and
//! anything about the sharechain (payouts, share validity beyond proof of work).

pub mod config;
pub mod header;
pub mod protocol;
pub mod server;
pub mod session;
pub mod stats;
pub mod vardiff;
pub mod work;

pub use config::{ConfigError, StratumConfig};
pub use protocol::ErrorCode;
pub use server::{AddressParser, StratumServer};
pub use session::{Action, CloseReason, Session, SessionParams, ShareOutcome, Submit};
pub use stats::{RejectReason, Rejections, StratumEvent, WorkerStats};
pub use work::{Solution, SolutionHandler, Work, WorkSource};
