//! The sync protocol's messages and their strict binary encoding.
//!
//! Every message is `version (u8) ‖ tag (u8) ‖ body`. Integers are little-endian unless a field
//! says otherwise, counts and lengths are minimal CompactSizes (`docs/protocol.md` §1.2), every
//! count and length has a hard limit, and a decoder rejects trailing bytes. Embedded structures
//! (share heads, shares, transactions) are each prefixed with their length so that their own
//! strict decoders see exactly their bytes.
//!
//! | message              | tag    | body |
//! |----------------------|--------|------|
//! | `Request::GetHeads`  | `0x01` | count (≤ 64) ‖ `count × 32` locator hashes ‖ `max` `u32` (≤ 2000) |
//! | `Request::GetShares` | `0x02` | count (≤ 128) ‖ `count × 32` share ids |
//! | `Request::GetTxs`    | `0x03` | count (≤ 512) ‖ `count × 32` txids |
//! | `Request::Status`    | `0x04` | empty |
//! | `Request::GetBitcoinBlocks` | `0x05` | count (≤ 64) ‖ `count × 32` locator block hashes ‖ `max` `u32` (≤ 64) |
//! | `Request::Swap`      | `0x06` | length (≤ 16,384) ‖ a swap-protocol message (the wallet's) |
//! | `Response::Heads`    | `0x81` | count (≤ 2000) ‖ count × (length ‖ `ShareHead`) |
//! | `Response::Shares`   | `0x82` | count (≤ 128) ‖ count × (length ‖ `Share`) |
//! | `Response::Txs`      | `0x83` | count (≤ 512) ‖ count × (length ‖ transaction) |
//! | `Response::Status`   | `0x84` | genesis (32) ‖ tip (32) ‖ height `u32` ‖ chain work (32, big-endian) |
//! | `Response::Error`    | `0x85` | code `u16` ‖ length (≤ 256) ‖ UTF-8 message |
//! | `Response::BitcoinBlocks` | `0x86` | count (≤ 64) ‖ count × (length (≤ 4,000,000) ‖ Bitcoin block) |
//! | `Response::Swap`     | `0x87` | length (≤ 16,384) ‖ a swap-protocol message |
//!
//! A whole request is at most [`MAX_REQUEST_SIZE`] bytes and a whole response at most
//! [`MAX_RESPONSE_SIZE`]; the stream codec checks the frame length against these before it reads
//! the body.

use std::fmt;

use bitcoin::hashes::Hash;
use bitcoin::{Transaction, Txid};
use p2share_consensus::share::{
    compact_size_len, write_compact_size, MAX_COINBASE_SIZE, MAX_MERKLE_BRANCH, MAX_SHARE_SIZE,
};
use p2share_consensus::{Share, ShareHash, ShareHead};

/// The only wire format version this crate speaks.
pub const WIRE_VERSION: u8 = 1;
/// Largest encoded request, in bytes (64 KiB).
pub const MAX_REQUEST_SIZE: usize = 64 * 1024;
/// Largest encoded response, in bytes (8 MiB).
pub const MAX_RESPONSE_SIZE: usize = 8 * 1024 * 1024;
/// Most locator hashes in [`Request::GetHeads`].
pub const MAX_LOCATOR: usize = 64;
/// Largest `max` in [`Request::GetHeads`], and most heads in [`Response::Heads`].
pub const MAX_HEADS: usize = 2000;
/// Most share ids in [`Request::GetShares`], and most shares in [`Response::Shares`].
pub const MAX_SHARES: usize = 128;
/// Most txids in [`Request::GetTxs`], and most transactions in [`Response::Txs`].
pub const MAX_TXS: usize = 512;
/// Longest [`Response::Error`] message, in bytes.
pub const MAX_ERROR_MESSAGE: usize = 256;
/// Largest encoded share head: both headers, the largest coinbase and the longest branch.
pub const MAX_HEAD_SIZE: usize = 80 + 80 + MAX_COINBASE_SIZE + 9 + 32 * MAX_MERKLE_BRANCH;
/// Largest encoded transaction in [`Response::Txs`].
pub const MAX_TX_SIZE: usize = MAX_SHARE_SIZE;

/// Most blocks in [`Response::BitcoinBlocks`], and the largest `max` of
/// [`Request::GetBitcoinBlocks`].
pub const MAX_BITCOIN_BLOCKS: usize = 64;
/// Largest swap-protocol message in [`Request::Swap`] and [`Response::Swap`].
pub const MAX_SWAP_MESSAGE: usize = 16 * 1024;
/// Largest encoded Bitcoin block (a block's weight is at most 4,000,000, so its size is too).
pub const MAX_BITCOIN_BLOCK_SIZE: usize = 4_000_000;

/// Error code of [`Response::Error`] when the requester exceeded its request rate.
pub const ERROR_RATE_LIMITED: u16 = 429;
/// Error code of [`Response::Error`] for a request the responder cannot serve.
pub const ERROR_UNAVAILABLE: u16 = 503;

const TAG_GET_HEADS: u8 = 0x01;
const TAG_GET_SHARES: u8 = 0x02;
const TAG_GET_TXS: u8 = 0x03;
const TAG_GET_STATUS: u8 = 0x04;
const TAG_GET_BITCOIN_BLOCKS: u8 = 0x05;
const TAG_SWAP_REQUEST: u8 = 0x06;
const TAG_HEADS: u8 = 0x81;
const TAG_SHARES: u8 = 0x82;
const TAG_TXS: u8 = 0x83;
const TAG_STATUS: u8 = 0x84;
const TAG_ERROR: u8 = 0x85;
const TAG_BITCOIN_BLOCKS: u8 = 0x86;
const TAG_SWAP_RESPONSE: u8 = 0x87;

/// A sync request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Share heads following the first locator hash the responder knows (newest first in the
    /// locator, like Bitcoin's block locator).
    GetHeads {
        /// Known share ids, newest first; at most [`MAX_LOCATOR`].
        locator: Vec<ShareHash>,
        /// How many heads to return at most; at most [`MAX_HEADS`].
        max: u32,
    },
    /// Full shares by id; at most [`MAX_SHARES`].
    GetShares(Vec<ShareHash>),
    /// Sharechain transactions by txid; at most [`MAX_TXS`].
    GetTxs(Vec<Txid>),
    /// The responder's chain status.
    Status,
    /// Blocks of the devnet's shared Bitcoin chain following the first locator hash on the
    /// responder's active chain (from genesis when none is), for the embedded mainchains.
    GetBitcoinBlocks {
        /// Known block hashes, newest first; at most [`MAX_LOCATOR`].
        locator: Vec<bitcoin::BlockHash>,
        /// How many blocks to return at most; at most [`MAX_BITCOIN_BLOCKS`].
        max: u32,
    },
    /// A message of the swap protocol between two wallets (opaque here; at most
    /// [`MAX_SWAP_MESSAGE`] bytes).
    Swap(Vec<u8>),
}

/// A sync response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Share heads in chain order; at most [`MAX_HEADS`].
    Heads(Vec<ShareHead>),
    /// The requested shares the responder has (missing ones are omitted); at most
    /// [`MAX_SHARES`].
    Shares(Vec<Share>),
    /// The requested transactions the responder has; at most [`MAX_TXS`].
    Txs(Vec<Transaction>),
    /// The responder's chain status.
    Status {
        /// Id of the network's genesis share.
        genesis: ShareHash,
        /// Id of the responder's tip.
        tip: ShareHash,
        /// Height of the tip.
        height: u32,
        /// Total work of the active chain, a 256-bit big-endian integer.
        chain_work: [u8; 32],
    },
    /// Bitcoin blocks in chain order (see [`Request::GetBitcoinBlocks`]); at most
    /// [`MAX_BITCOIN_BLOCKS`], fewer when the frame is full.
    BitcoinBlocks(Vec<bitcoin::Block>),
    /// The answer to a [`Request::Swap`] (opaque here; at most [`MAX_SWAP_MESSAGE`] bytes).
    Swap(Vec<u8>),
    /// The request was refused.
    Error {
        /// Error code, HTTP-like (e.g. [`ERROR_RATE_LIMITED`]).
        code: u16,
        /// Human-readable reason; at most [`MAX_ERROR_MESSAGE`] bytes of UTF-8.
        message: String,
    },
}

/// Why a message cannot be encoded or decoded, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} {kind} at byte {offset}")]
pub struct WireError {
    /// `"request"` or `"response"`.
    pub message: &'static str,
    /// Byte offset into the message where the failing item starts (0 when encoding).
    pub offset: usize,
    /// What was wrong.
    pub kind: WireErrorKind,
}

/// The kinds of [`WireError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireErrorKind {
    /// The input ended before `field` was complete.
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes it needed.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A count, length or value is above its limit.
    TooLarge {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// The version byte is not [`WIRE_VERSION`].
    UnknownVersion(u8),
    /// The tag byte names no message of this kind.
    UnknownTag(u8),
    /// A CompactSize was not minimal.
    NonMinimalCompactSize(&'static str),
    /// An embedded structure failed its own decoder.
    Invalid {
        /// The field.
        field: &'static str,
        /// The inner decoder's error.
        reason: String,
    },
    /// Bytes were left after the message.
    TrailingBytes(usize),
}

impl fmt::Display for WireErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireErrorKind::Truncated {
                field,
                needed,
                available,
            } => write!(
                f,
                "truncated: {field} needs {needed} bytes, {available} left"
            ),
            WireErrorKind::TooLarge {
                field,
                value,
                limit,
            } => write!(f, "too large: {field} is {value}, above the limit {limit}"),
            WireErrorKind::UnknownVersion(v) => {
                write!(f, "has unknown version {v} (expected {WIRE_VERSION})")
            }
            WireErrorKind::UnknownTag(t) => write!(f, "has unknown tag 0x{t:02x}"),
            WireErrorKind::NonMinimalCompactSize(field) => {
                write!(f, "has a non-minimal compact size in {field}")
            }
            WireErrorKind::Invalid { field, reason } => write!(f, "has invalid {field}: {reason}"),
            WireErrorKind::TrailingBytes(n) => write!(f, "has {n} trailing bytes"),
        }
    }
}

impl Request {
    /// The canonical encoding.
    ///
    /// # Errors
    /// [`WireError`] with [`WireErrorKind::TooLarge`] if a list is above its limit or `max` is
    /// above [`MAX_HEADS`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut w = Writer::new("request");
        match self {
            Request::GetHeads { locator, max } => {
                w.out.push(TAG_GET_HEADS);
                w.count("locator count", locator.len(), MAX_LOCATOR)?;
                for h in locator {
                    w.out.extend_from_slice(h.as_byte_array());
                }
                w.limit("max", u64::from(*max), MAX_HEADS)?;
                w.out.extend_from_slice(&max.to_le_bytes());
            }
            Request::GetShares(ids) => {
                w.out.push(TAG_GET_SHARES);
                w.count("share id count", ids.len(), MAX_SHARES)?;
                for h in ids {
                    w.out.extend_from_slice(h.as_byte_array());
                }
            }
            Request::GetTxs(ids) => {
                w.out.push(TAG_GET_TXS);
                w.count("txid count", ids.len(), MAX_TXS)?;
                for h in ids {
                    w.out.extend_from_slice(h.as_byte_array());
                }
            }
            Request::Status => w.out.push(TAG_GET_STATUS),
            Request::GetBitcoinBlocks { locator, max } => {
                w.out.push(TAG_GET_BITCOIN_BLOCKS);
                w.count("locator count", locator.len(), MAX_LOCATOR)?;
                for h in locator {
                    w.out.extend_from_slice(h.as_byte_array());
                }
                w.limit("max", u64::from(*max), MAX_BITCOIN_BLOCKS)?;
                w.out.extend_from_slice(&max.to_le_bytes());
            }
            Request::Swap(bytes) => {
                w.out.push(TAG_SWAP_REQUEST);
                w.item("swap message length", bytes, MAX_SWAP_MESSAGE)?;
            }
        }
        w.finish(MAX_REQUEST_SIZE)
    }

    /// Decodes a request; the whole input must be consumed.
    ///
    /// # Errors
    /// [`WireError`] naming the field and byte offset that failed.
    pub fn decode(bytes: &[u8]) -> Result<Request, WireError> {
        let mut r = Reader::new("request", bytes, MAX_REQUEST_SIZE)?;
        let tag_at = r.pos;
        let req = match r.u8("tag")? {
            TAG_GET_HEADS => {
                let n = r.count("locator count", MAX_LOCATOR)?;
                let locator = r.hashes("locator hash", n)?;
                let max_at = r.pos;
                let max = r.u32("max")?;
                if max as usize > MAX_HEADS {
                    return Err(r.err_at(
                        max_at,
                        WireErrorKind::TooLarge {
                            field: "max",
                            value: u64::from(max),
                            limit: MAX_HEADS as u64,
                        },
                    ));
                }
                Request::GetHeads {
                    locator: locator
                        .into_iter()
                        .map(ShareHash::from_byte_array)
                        .collect(),
                    max,
                }
            }
            TAG_GET_SHARES => {
                let n = r.count("share id count", MAX_SHARES)?;
                let ids = r.hashes("share id", n)?;
                Request::GetShares(ids.into_iter().map(ShareHash::from_byte_array).collect())
            }
            TAG_GET_TXS => {
                let n = r.count("txid count", MAX_TXS)?;
                let ids = r.hashes("txid", n)?;
                Request::GetTxs(ids.into_iter().map(Txid::from_byte_array).collect())
            }
            TAG_GET_STATUS => Request::Status,
            TAG_GET_BITCOIN_BLOCKS => {
                let n = r.count("locator count", MAX_LOCATOR)?;
                let locator = r.hashes("locator hash", n)?;
                let max_at = r.pos;
                let max = r.u32("max")?;
                if max as usize > MAX_BITCOIN_BLOCKS {
                    return Err(r.err_at(
                        max_at,
                        WireErrorKind::TooLarge {
                            field: "max",
                            value: u64::from(max),
                            limit: MAX_BITCOIN_BLOCKS as u64,
                        },
                    ));
                }
                Request::GetBitcoinBlocks {
                    locator: locator
                        .into_iter()
                        .map(bitcoin::BlockHash::from_byte_array)
                        .collect(),
                    max,
                }
            }
            TAG_SWAP_REQUEST => {
                let (_, item) = r.item("swap message length", MAX_SWAP_MESSAGE)?;
                Request::Swap(item.to_vec())
            }
            other => return Err(r.err_at(tag_at, WireErrorKind::UnknownTag(other))),
        };
        r.finish()?;
        Ok(req)
    }
}

impl Response {
    /// The canonical encoding.
    ///
    /// # Errors
    /// [`WireError`] with [`WireErrorKind::TooLarge`] if a list, an element or the error
    /// message is above its limit, or the whole response is above [`MAX_RESPONSE_SIZE`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut w = Writer::new("response");
        match self {
            Response::Heads(heads) => {
                w.out.push(TAG_HEADS);
                w.count("head count", heads.len(), MAX_HEADS)?;
                for h in heads {
                    w.item("share head length", &h.encode(), MAX_HEAD_SIZE)?;
                }
            }
            Response::Shares(shares) => {
                w.out.push(TAG_SHARES);
                w.count("share count", shares.len(), MAX_SHARES)?;
                for s in shares {
                    w.item("share length", &s.encode(), MAX_SHARE_SIZE)?;
                }
            }
            Response::Txs(txs) => {
                w.out.push(TAG_TXS);
                w.count("transaction count", txs.len(), MAX_TXS)?;
                for tx in txs {
                    let bytes = bitcoin::consensus::serialize(tx);
                    w.item("transaction length", &bytes, MAX_TX_SIZE)?;
                }
            }
            Response::Status {
                genesis,
                tip,
                height,
                chain_work,
            } => {
                w.out.push(TAG_STATUS);
                w.out.extend_from_slice(genesis.as_byte_array());
                w.out.extend_from_slice(tip.as_byte_array());
                w.out.extend_from_slice(&height.to_le_bytes());
                w.out.extend_from_slice(chain_work);
            }
            Response::BitcoinBlocks(blocks) => {
                w.out.push(TAG_BITCOIN_BLOCKS);
                w.count("block count", blocks.len(), MAX_BITCOIN_BLOCKS)?;
                for block in blocks {
                    let bytes = bitcoin::consensus::serialize(block);
                    w.item("block length", &bytes, MAX_BITCOIN_BLOCK_SIZE)?;
                }
            }
            Response::Swap(bytes) => {
                w.out.push(TAG_SWAP_RESPONSE);
                w.item("swap message length", bytes, MAX_SWAP_MESSAGE)?;
            }
            Response::Error { code, message } => {
                w.out.push(TAG_ERROR);
                w.out.extend_from_slice(&code.to_le_bytes());
                w.item(
                    "error message length",
                    message.as_bytes(),
                    MAX_ERROR_MESSAGE,
                )?;
            }
        }
        w.finish(MAX_RESPONSE_SIZE)
    }

    /// Decodes a response; the whole input must be consumed.
    ///
    /// # Errors
    /// [`WireError`] naming the field and byte offset that failed.
    pub fn decode(bytes: &[u8]) -> Result<Response, WireError> {
        let mut r = Reader::new("response", bytes, MAX_RESPONSE_SIZE)?;
        let tag_at = r.pos;
        let resp = match r.u8("tag")? {
            TAG_HEADS => {
                let n = r.count("head count", MAX_HEADS)?;
                let mut heads = Vec::with_capacity(n.min(r.remaining() / 161));
                for _ in 0..n {
                    let (at, item) = r.item("share head length", MAX_HEAD_SIZE)?;
                    let head = ShareHead::decode(item).map_err(|e| {
                        r.err_at(
                            at,
                            WireErrorKind::Invalid {
                                field: "share head",
                                reason: e.to_string(),
                            },
                        )
                    })?;
                    heads.push(head);
                }
                Response::Heads(heads)
            }
            TAG_SHARES => {
                let n = r.count("share count", MAX_SHARES)?;
                let mut shares = Vec::with_capacity(n.min(r.remaining() / 161));
                for _ in 0..n {
                    let (at, item) = r.item("share length", MAX_SHARE_SIZE)?;
                    let share = Share::decode(item).map_err(|e| {
                        r.err_at(
                            at,
                            WireErrorKind::Invalid {
                                field: "share",
                                reason: e.to_string(),
                            },
                        )
                    })?;
                    shares.push(share);
                }
                Response::Shares(shares)
            }
            TAG_TXS => {
                let n = r.count("transaction count", MAX_TXS)?;
                let mut txs = Vec::with_capacity(n.min(r.remaining() / 10));
                for _ in 0..n {
                    let (at, item) = r.item("transaction length", MAX_TX_SIZE)?;
                    let tx: Transaction = bitcoin::consensus::deserialize(item).map_err(|e| {
                        r.err_at(
                            at,
                            WireErrorKind::Invalid {
                                field: "transaction",
                                reason: e.to_string(),
                            },
                        )
                    })?;
                    txs.push(tx);
                }
                Response::Txs(txs)
            }
            TAG_STATUS => {
                let genesis = ShareHash::from_byte_array(r.array("genesis")?);
                let tip = ShareHash::from_byte_array(r.array("tip")?);
                let height = r.u32("height")?;
                let chain_work = r.array("chain work")?;
                Response::Status {
                    genesis,
                    tip,
                    height,
                    chain_work,
                }
            }
            TAG_BITCOIN_BLOCKS => {
                let n = r.count("block count", MAX_BITCOIN_BLOCKS)?;
                let mut blocks = Vec::with_capacity(n.min(r.remaining() / 81));
                for _ in 0..n {
                    let (at, item) = r.item("block length", MAX_BITCOIN_BLOCK_SIZE)?;
                    let block: bitcoin::Block =
                        bitcoin::consensus::deserialize(item).map_err(|e| {
                            r.err_at(
                                at,
                                WireErrorKind::Invalid {
                                    field: "block",
                                    reason: e.to_string(),
                                },
                            )
                        })?;
                    blocks.push(block);
                }
                Response::BitcoinBlocks(blocks)
            }
            TAG_SWAP_RESPONSE => {
                let (_, item) = r.item("swap message length", MAX_SWAP_MESSAGE)?;
                Response::Swap(item.to_vec())
            }
            TAG_ERROR => {
                let code = u16::from_le_bytes(r.array("error code")?);
                let (at, item) = r.item("error message length", MAX_ERROR_MESSAGE)?;
                let message = std::str::from_utf8(item)
                    .map_err(|e| {
                        r.err_at(
                            at,
                            WireErrorKind::Invalid {
                                field: "error message",
                                reason: e.to_string(),
                            },
                        )
                    })?
                    .to_owned();
                Response::Error { code, message }
            }
            other => return Err(r.err_at(tag_at, WireErrorKind::UnknownTag(other))),
        };
        r.finish()?;
        Ok(resp)
    }
}

struct Writer {
    message: &'static str,
    out: Vec<u8>,
}

impl Writer {
    fn new(message: &'static str) -> Writer {
        Writer {
            message,
            out: vec![WIRE_VERSION],
        }
    }

    fn too_large(&self, field: &'static str, value: u64, limit: usize) -> WireError {
        WireError {
            message: self.message,
            offset: 0,
            kind: WireErrorKind::TooLarge {
                field,
                value,
                limit: limit as u64,
            },
        }
    }

    fn limit(&self, field: &'static str, value: u64, limit: usize) -> Result<(), WireError> {
        if value > limit as u64 {
            return Err(self.too_large(field, value, limit));
        }
        Ok(())
    }

    fn count(&mut self, field: &'static str, n: usize, limit: usize) -> Result<(), WireError> {
        self.limit(field, n as u64, limit)?;
        write_compact_size(&mut self.out, n as u64);
        Ok(())
    }

    fn item(&mut self, field: &'static str, bytes: &[u8], limit: usize) -> Result<(), WireError> {
        self.count(field, bytes.len(), limit)?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(self, limit: usize) -> Result<Vec<u8>, WireError> {
        let size = self.out.len();
        if size > limit {
            return Err(self.too_large("message size", size as u64, limit));
        }
        Ok(self.out)
    }
}

struct Reader<'a> {
    message: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(message: &'static str, bytes: &'a [u8], limit: usize) -> Result<Reader<'a>, WireError> {
        let mut r = Reader {
            message,
            bytes,
            pos: 0,
        };
        if bytes.len() > limit {
            return Err(r.err_at(
                0,
                WireErrorKind::TooLarge {
                    field: "message size",
                    value: bytes.len() as u64,
                    limit: limit as u64,
                },
            ));
        }
        let version = r.u8("version")?;
        if version != WIRE_VERSION {
            return Err(r.err_at(0, WireErrorKind::UnknownVersion(version)));
        }
        Ok(r)
    }

    fn err_at(&self, offset: usize, kind: WireErrorKind) -> WireError {
        WireError {
            message: self.message,
            offset,
            kind,
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(self.err_at(
                self.pos,
                WireErrorKind::Truncated {
                    field,
                    needed: n,
                    available: self.remaining(),
                },
            ));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn compact_size(&mut self, field: &'static str) -> Result<u64, WireError> {
        let at = self.pos;
        let first = self.u8(field)?;
        let value = match first {
            0xfd => u64::from(u16::from_le_bytes(self.array(field)?)),
            0xfe => u64::from(u32::from_le_bytes(self.array(field)?)),
            0xff => u64::from_le_bytes(self.array(field)?),
            small => u64::from(small),
        };
        if compact_size_len(value) != self.pos - at {
            return Err(self.err_at(at, WireErrorKind::NonMinimalCompactSize(field)));
        }
        Ok(value)
    }

    /// A CompactSize count or length, at most `limit`.
    fn count(&mut self, field: &'static str, limit: usize) -> Result<usize, WireError> {
        let at = self.pos;
        let n = self.compact_size(field)?;
        if n > limit as u64 {
            return Err(self.err_at(
                at,
                WireErrorKind::TooLarge {
                    field,
                    value: n,
                    limit: limit as u64,
                },
            ));
        }
        // `n <= limit`, which is a usize.
        Ok(n as usize)
    }

    fn hashes(&mut self, field: &'static str, n: usize) -> Result<Vec<[u8; 32]>, WireError> {
        // Check the whole list is present before allocating for it.
        if self.remaining() < n * 32 {
            return Err(self.err_at(
                self.pos,
                WireErrorKind::Truncated {
                    field,
                    needed: n * 32,
                    available: self.remaining(),
                },
            ));
        }
        (0..n).map(|_| self.array(field)).collect()
    }

    /// A length-prefixed item: its offset (of the content) and its bytes.
    fn item(&mut self, field: &'static str, limit: usize) -> Result<(usize, &'a [u8]), WireError> {
        let len = self.count(field, limit)?;
        let at = self.pos;
        Ok((at, self.take(field, len)?))
    }

    fn finish(&self) -> Result<(), WireError> {
        if self.remaining() > 0 {
            return Err(self.err_at(self.pos, WireErrorKind::TrailingBytes(self.remaining())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use p2share_consensus::builder::genesis_share;
    use p2share_testkit::{test_params, Kind, TestChain, TestKey};

    fn hash(i: u8) -> ShareHash {
        ShareHash::from_byte_array([i; 32])
    }

    fn chain_shares(n: usize) -> Vec<Share> {
        let params = test_params(2, &[(100_000_000, 1)]);
        let mut shares = vec![genesis_share(&params)];
        let mut t = TestChain::new(params).unwrap();
        let script = TestKey::from_seed(7).script(Kind::P2wpkh);
        for _ in 0..n {
            shares.push(t.mine(&script, vec![]).unwrap().0);
        }
        shares
    }

    fn round_trip_request(req: &Request) {
        let bytes = req.encode().unwrap();
        assert!(bytes.len() <= MAX_REQUEST_SIZE);
        assert_eq!(&Request::decode(&bytes).unwrap(), req);
    }

    fn round_trip_response(resp: &Response) {
        let bytes = resp.encode().unwrap();
        assert_eq!(&Response::decode(&bytes).unwrap(), resp);
    }

    #[test]
    fn requests_round_trip() {
        round_trip_request(&Request::Status);
        round_trip_request(&Request::GetHeads {
            locator: vec![],
            max: 0,
        });
        round_trip_request(&Request::GetHeads {
            locator: (0..64).map(hash).collect(),
            max: 2000,
        });
        round_trip_request(&Request::GetShares((0..128).map(hash).collect()));
        round_trip_request(&Request::GetTxs(
            (0..=255u8)
                .chain(0..=255)
                .map(|i| Txid::from_byte_array([i; 32]))
                .collect(),
        ));
        round_trip_request(&Request::GetBitcoinBlocks {
            locator: (0..64u8)
                .map(|i| bitcoin::BlockHash::from_byte_array([i; 32]))
                .collect(),
            max: 64,
        });
    }

    #[test]
    fn swap_messages_round_trip_and_their_limit_holds() {
        round_trip_request(&Request::Swap(vec![]));
        round_trip_request(&Request::Swap(vec![7; MAX_SWAP_MESSAGE]));
        round_trip_response(&Response::Swap(b"{}".to_vec()));
        assert!(Request::Swap(vec![0; MAX_SWAP_MESSAGE + 1])
            .encode()
            .is_err());
        let mut bytes = Request::Swap(vec![1, 2, 3]).encode().unwrap();
        bytes.push(0);
        assert!(Request::decode(&bytes).is_err(), "trailing bytes");
    }

    #[test]
    fn bitcoin_blocks_round_trip_and_limits_hold() {
        let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
        round_trip_response(&Response::BitcoinBlocks(vec![]));
        round_trip_response(&Response::BitcoinBlocks(vec![genesis.clone(); 3]));
        let too_many = Request::GetBitcoinBlocks {
            locator: vec![],
            max: MAX_BITCOIN_BLOCKS as u32 + 1,
        };
        assert!(too_many.encode().is_err());
        let mut bytes = Request::GetBitcoinBlocks {
            locator: vec![],
            max: 1,
        }
        .encode()
        .unwrap();
        let n = bytes.len();
        bytes[n - 4] = 65;
        let err = Request::decode(&bytes).unwrap_err();
        assert!(
            matches!(err.kind, WireErrorKind::TooLarge { field: "max", .. }),
            "{err}"
        );
        // A block that does not decode is named with its offset.
        let mut bad = Response::BitcoinBlocks(vec![genesis]).encode().unwrap();
        bad[5] ^= 0xff; // inside the block's header version: still decodes; cut the tx count
        let len = bad.len();
        bad[len - 1] ^= 0xff;
        bad.truncate(len - 1);
        assert!(Response::decode(&bad).is_err());
    }

    #[test]
    fn responses_round_trip() {
        let shares = chain_shares(3);
        round_trip_response(&Response::Heads(vec![]));
        round_trip_response(&Response::Heads(
            shares.iter().map(|s| s.head.clone()).collect(),
        ));
        round_trip_response(&Response::Shares(shares.clone()));
        round_trip_response(&Response::Txs(
            shares.iter().flat_map(|s| s.txs.clone()).collect(),
        ));
        round_trip_response(&Response::Status {
            genesis: hash(1),
            tip: hash(2),
            height: 77,
            chain_work: [9; 32],
        });
        round_trip_response(&Response::Error {
            code: 429,
            message: "slow down ✓".into(),
        });
        round_trip_response(&Response::Error {
            code: 0,
            message: "x".repeat(MAX_ERROR_MESSAGE),
        });
    }

    #[test]
    fn the_status_encoding_is_exact() {
        let bytes = Response::Status {
            genesis: hash(1),
            tip: hash(2),
            height: 0x0102_0304,
            chain_work: [3; 32],
        }
        .encode()
        .unwrap();
        assert_eq!(bytes.len(), 2 + 32 + 32 + 4 + 32);
        assert_eq!(&bytes[..2], &[WIRE_VERSION, TAG_STATUS]);
        assert_eq!(&bytes[66..70], &[4, 3, 2, 1]);
    }

    #[test]
    fn every_request_limit_is_enforced_on_both_sides() {
        let too_many = [
            Request::GetHeads {
                locator: (0..65).map(|i| hash(i as u8)).collect(),
                max: 1,
            },
            Request::GetHeads {
                locator: vec![],
                max: 2001,
            },
            Request::GetShares((0..129).map(|i| hash(i as u8)).collect()),
            Request::GetTxs(vec![Txid::all_zeros(); 513]),
        ];
        for req in &too_many {
            let err = req.encode().unwrap_err();
            assert!(matches!(err.kind, WireErrorKind::TooLarge { .. }), "{err}");
        }
        // Hand-built encodings over the limits are refused by the decoder, at the count.
        let mut locator = vec![WIRE_VERSION, TAG_GET_HEADS, 65];
        locator.extend_from_slice(&[0; 65 * 32 + 4]);
        let err = Request::decode(&locator).unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "locator count",
                value: 65,
                limit: 64
            }
        ));
        let mut max = vec![WIRE_VERSION, TAG_GET_HEADS, 0];
        max.extend_from_slice(&2001u32.to_le_bytes());
        let err = Request::decode(&max).unwrap_err();
        assert_eq!(err.offset, 3);
        assert!(err.to_string().contains("max is 2001"), "{err}");
        let mut shares = vec![WIRE_VERSION, TAG_GET_SHARES, 129];
        shares.extend_from_slice(&[0; 129 * 32]);
        assert!(Request::decode(&shares).is_err());
        let mut txs = vec![WIRE_VERSION, TAG_GET_TXS, 0xfd, 0x01, 0x02];
        txs.extend_from_slice(&[0; 513 * 32]);
        let err = Request::decode(&txs).unwrap_err();
        assert!(
            matches!(err.kind, WireErrorKind::TooLarge { value: 513, .. }),
            "{err}"
        );
        // The whole message size.
        let big = vec![WIRE_VERSION; MAX_REQUEST_SIZE + 1];
        let err = Request::decode(&big).unwrap_err();
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "message size",
                ..
            }
        ));
    }

    #[test]
    fn every_response_limit_is_enforced_on_both_sides() {
        let shares = chain_shares(1);
        let head = shares[1].head.clone();
        let err = Response::Heads(vec![head; MAX_HEADS + 1])
            .encode()
            .unwrap_err();
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "head count",
                ..
            }
        ));
        let err = Response::Shares(vec![shares[1].clone(); MAX_SHARES + 1])
            .encode()
            .unwrap_err();
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "share count",
                ..
            }
        ));
        let tx = shares[1].txs[0].clone();
        let err = Response::Txs(vec![tx; MAX_TXS + 1]).encode().unwrap_err();
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "transaction count",
                ..
            }
        ));
        let err = Response::Error {
            code: 1,
            message: "x".repeat(MAX_ERROR_MESSAGE + 1),
        }
        .encode()
        .unwrap_err();
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "error message length",
                ..
            }
        ));
        // Decoder side: a count above the limit, an element length above the limit.
        let mut heads = vec![WIRE_VERSION, TAG_HEADS];
        write_compact_size(&mut heads, MAX_HEADS as u64 + 1);
        assert!(matches!(
            Response::decode(&heads).unwrap_err().kind,
            WireErrorKind::TooLarge {
                field: "head count",
                ..
            }
        ));
        let mut head_len = vec![WIRE_VERSION, TAG_HEADS, 1];
        write_compact_size(&mut head_len, MAX_HEAD_SIZE as u64 + 1);
        let err = Response::decode(&head_len).unwrap_err();
        assert_eq!(err.offset, 3);
        assert!(matches!(
            err.kind,
            WireErrorKind::TooLarge {
                field: "share head length",
                ..
            }
        ));
        let mut msg = vec![WIRE_VERSION, TAG_ERROR, 0, 0];
        write_compact_size(&mut msg, MAX_ERROR_MESSAGE as u64 + 1);
        msg.extend_from_slice(&[b'x'; MAX_ERROR_MESSAGE + 1]);
        assert!(Response::decode(&msg).is_err());
        let big = vec![WIRE_VERSION; MAX_RESPONSE_SIZE + 1];
        assert!(matches!(
            Response::decode(&big).unwrap_err().kind,
            WireErrorKind::TooLarge {
                field: "message size",
                ..
            }
        ));
        // A response whose elements are each fine but whose total exceeds the size limit.
        let fat = shares[1].clone();
        let per = fat.encode().len();
        let n = (MAX_RESPONSE_SIZE / per + 1).min(MAX_HEADS);
        if n <= MAX_SHARES {
            let err = Response::Shares(vec![fat; n]).encode().unwrap_err();
            assert!(matches!(
                err.kind,
                WireErrorKind::TooLarge {
                    field: "message size",
                    ..
                }
            ));
        }
    }

    #[test]
    fn every_truncation_is_an_error_with_an_offset_inside_the_input() {
        let shares = chain_shares(2);
        let messages: Vec<Vec<u8>> = vec![
            Request::GetHeads {
                locator: vec![hash(1), hash(2)],
                max: 10,
            }
            .encode()
            .unwrap(),
            Request::GetShares(vec![hash(3)]).encode().unwrap(),
            Request::GetTxs(vec![Txid::all_zeros()]).encode().unwrap(),
            Request::Status.encode().unwrap(),
        ];
        for m in &messages {
            for cut in 0..m.len() {
                let err = Request::decode(&m[..cut]).unwrap_err();
                assert!(err.offset <= cut, "{err} (cut {cut})");
            }
        }
        let responses: Vec<Vec<u8>> = vec![
            Response::Heads(shares.iter().map(|s| s.head.clone()).collect())
                .encode()
                .unwrap(),
            Response::Shares(shares.clone()).encode().unwrap(),
            Response::Txs(shares[1].txs.clone()).encode().unwrap(),
            Response::Status {
                genesis: hash(1),
                tip: hash(1),
                height: 1,
                chain_work: [0; 32],
            }
            .encode()
            .unwrap(),
            Response::Error {
                code: 3,
                message: "no".into(),
            }
            .encode()
            .unwrap(),
        ];
        for m in &responses {
            for cut in 0..m.len() {
                let err = Response::decode(&m[..cut]).unwrap_err();
                assert!(err.offset <= cut, "{err} (cut {cut})");
            }
        }
    }

    #[test]
    fn trailing_bytes_versions_tags_and_non_minimal_sizes_are_rejected() {
        let mut req = Request::GetShares(vec![hash(1)]).encode().unwrap();
        req.push(0);
        let err = Request::decode(&req).unwrap_err();
        assert_eq!(err.kind, WireErrorKind::TrailingBytes(1));
        assert_eq!(err.offset, req.len() - 1);
        let mut resp = Response::Heads(vec![]).encode().unwrap();
        resp.extend_from_slice(&[1, 2]);
        assert_eq!(
            Response::decode(&resp).unwrap_err().kind,
            WireErrorKind::TrailingBytes(2)
        );
        assert_eq!(
            Request::decode(&[2, TAG_GET_STATUS]).unwrap_err().kind,
            WireErrorKind::UnknownVersion(2)
        );
        let err = Request::decode(&[WIRE_VERSION, 0x7f]).unwrap_err();
        assert_eq!(err.kind, WireErrorKind::UnknownTag(0x7f));
        assert_eq!(err.offset, 1);
        // A request tag is not a response and vice versa.
        assert!(Response::decode(&[WIRE_VERSION, TAG_GET_STATUS]).is_err());
        assert!(Request::decode(&[WIRE_VERSION, TAG_ERROR]).is_err());
        // `fd 01 00` is a non-minimal encoding of 1.
        let mut nm = vec![WIRE_VERSION, TAG_GET_SHARES, 0xfd, 0x01, 0x00];
        nm.extend_from_slice(&[0; 32]);
        assert_eq!(
            Request::decode(&nm).unwrap_err().kind,
            WireErrorKind::NonMinimalCompactSize("share id count")
        );
        // An embedded share head that fails its own decoder names the field and offset.
        let mut bad_head = vec![WIRE_VERSION, TAG_HEADS, 1, 3, 0, 0, 0];
        let err = Response::decode(&bad_head).unwrap_err();
        assert_eq!(err.offset, 4);
        assert!(err.to_string().contains("share head"), "{err}");
        bad_head[3] = 0;
        assert!(Response::decode(&bad_head).is_err());
        // Invalid UTF-8 in an error message.
        let err = Response::decode(&[WIRE_VERSION, TAG_ERROR, 0, 0, 1, 0xff]).unwrap_err();
        assert!(matches!(
            err.kind,
            WireErrorKind::Invalid {
                field: "error message",
                ..
            }
        ));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn any_hash() -> impl Strategy<Value = ShareHash> {
            any::<[u8; 32]>().prop_map(ShareHash::from_byte_array)
        }

        fn any_request() -> impl Strategy<Value = Request> {
            prop_oneof![
                (
                    prop::collection::vec(any_hash(), 0..=MAX_LOCATOR),
                    0..=2000u32
                )
                    .prop_map(|(locator, max)| Request::GetHeads { locator, max }),
                prop::collection::vec(any_hash(), 0..=MAX_SHARES).prop_map(Request::GetShares),
                prop::collection::vec(any::<[u8; 32]>(), 0..=MAX_TXS).prop_map(|v| {
                    Request::GetTxs(v.into_iter().map(Txid::from_byte_array).collect())
                }),
                Just(Request::Status),
            ]
        }

        fn any_small_response() -> impl Strategy<Value = Response> {
            prop_oneof![
                (any_hash(), any_hash(), any::<u32>(), any::<[u8; 32]>()).prop_map(
                    |(genesis, tip, height, chain_work)| Response::Status {
                        genesis,
                        tip,
                        height,
                        chain_work
                    }
                ),
                (any::<u16>(), "\\PC{0,60}")
                    .prop_map(|(code, message)| Response::Error { code, message }),
            ]
        }

        proptest! {
            #[test]
            fn any_valid_request_round_trips(req in any_request()) {
                let bytes = req.encode().unwrap();
                prop_assert_eq!(Request::decode(&bytes).unwrap(), req);
            }

            #[test]
            fn any_small_response_round_trips(resp in any_small_response()) {
                let bytes = resp.encode().unwrap();
                prop_assert_eq!(Response::decode(&bytes).unwrap(), resp);
            }

            /// Arbitrary bytes never panic, and whatever decodes re-encodes to the same bytes
            /// (the encoding is canonical).
            #[test]
            fn arbitrary_bytes_decode_canonically_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
                if let Ok(req) = Request::decode(&bytes) {
                    prop_assert_eq!(req.encode().unwrap(), bytes.clone());
                }
                if let Ok(resp) = Response::decode(&bytes) {
                    prop_assert_eq!(resp.encode().unwrap(), bytes);
                }
            }

            /// Flipping one byte of a valid request either fails or yields another canonical
            /// message; it never panics.
            #[test]
            fn mutated_requests_never_panic(req in any_request(), at in any::<usize>(), v in any::<u8>()) {
                let mut bytes = req.encode().unwrap();
                let i = at % bytes.len();
                bytes[i] = v;
                if let Ok(other) = Request::decode(&bytes) {
                    prop_assert_eq!(other.encode().unwrap(), bytes);
                }
            }
        }
    }
}
