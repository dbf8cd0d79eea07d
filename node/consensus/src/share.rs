//! Share encodings: the share header, the Bitcoin work, and the share.
//!
//! Every type has one canonical byte encoding (see `docs/protocol.md` §2). Decoding checks every
//! length limit before it allocates, and rejects trailing bytes. Errors name what was being read
//! and the byte offset where reading failed.

use bitcoin::consensus::encode::{deserialize_partial, serialize, Encodable};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{Transaction, TxMerkleNode};

use crate::hash::{q_selector_hash, share_commitment, QSelectorHash, ShareCommitment, ShareHash};

/// Largest encoded share accepted by the decoder, in bytes.
pub const MAX_SHARE_SIZE: usize = 4_000_000;
/// Largest encoded Bitcoin coinbase carried in the work, in bytes.
pub const MAX_COINBASE_SIZE: usize = 16_384;
/// Longest merkle branch from the coinbase to the Bitcoin header's merkle root.
pub const MAX_MERKLE_BRANCH: usize = 32;
/// Smallest possible encoded transaction; bounds the transaction count before allocation.
pub const MIN_TRANSACTION_SIZE: usize = 60;
/// The only share header version valid in p2share v1.
pub const SHARE_VERSION: u32 = 1;

/// Where and why decoding failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {what} at byte {offset}: {kind}")]
pub struct DecodeError {
    /// The structure being read, e.g. `"share header"` or `"transaction 3"`.
    pub what: String,
    /// Byte offset into the input where the failing item starts.
    pub offset: usize,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// The kinds of decoding failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended early.
    #[error("input ends after {available} of {needed} bytes")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A length or count is above its limit.
    #[error("{field} is {value}, above the limit {limit}")]
    TooLarge {
        /// The length field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// A CompactSize was not minimally encoded or otherwise malformed.
    #[error("malformed compact size")]
    BadCompactSize,
    /// The embedded Bitcoin structure is malformed.
    #[error("malformed bitcoin data: {0}")]
    Bitcoin(String),
    /// Bytes were left after a complete structure.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
    /// A share must carry at least its sharebase.
    #[error("a share has no transactions")]
    NoTransactions,
}

/// The fixed 80-byte sharechain header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShareHeader {
    /// Share format version; 1 in p2share v1.
    pub version: u32,
    /// Id of the previous share (all zeros for genesis).
    pub prev_share: ShareHash,
    /// Height of this share (genesis is 0).
    pub height: u32,
    /// Merkle root over the wtxids of the share's transactions, sharebase first.
    pub tx_root: TxMerkleNode,
    /// Share time, seconds since the Unix epoch.
    pub time: u32,
    /// Compact share target.
    pub bits: u32,
}

impl ShareHeader {
    /// Encoded size in bytes.
    pub const SIZE: usize = 80;

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; 80] {
        let mut out = [0u8; 80];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(self.prev_share.as_byte_array());
        out[36..40].copy_from_slice(&self.height.to_le_bytes());
        out[40..72].copy_from_slice(self.tx_root.as_byte_array());
        out[72..76].copy_from_slice(&self.time.to_le_bytes());
        out[76..80].copy_from_slice(&self.bits.to_le_bytes());
        out
    }

    /// Decodes exactly 80 bytes.
    pub fn from_bytes(b: &[u8; 80]) -> ShareHeader {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let h32_at = |i: usize| {
            let mut a = [0u8; 32];
            a.copy_from_slice(&b[i..i + 32]);
            a
        };
        ShareHeader {
            version: u32_at(0),
            prev_share: ShareHash::from_byte_array(h32_at(4)),
            height: u32_at(36),
            tx_root: TxMerkleNode::from_byte_array(h32_at(40)),
            time: u32_at(72),
            bits: u32_at(76),
        }
    }

    /// Decodes a share header from a slice that must be exactly 80 bytes long.
    ///
    /// # Errors
    /// [`DecodeError`] for a wrong length.
    pub fn decode(bytes: &[u8]) -> Result<ShareHeader, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = r.header("share header")?;
        r.finish("share header")?;
        Ok(h)
    }

    /// The commitment the Bitcoin coinbase must carry for this header.
    pub fn commitment(&self) -> ShareCommitment {
        share_commitment(&self.to_bytes())
    }
}

/// The Bitcoin side of a share: the header whose hash is the proof of work, the coinbase that
/// commits to the share, and the merkle branch linking the coinbase to the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitcoinWork {
    /// The 80-byte Bitcoin block header.
    pub header: bitcoin::block::Header,
    /// The Bitcoin coinbase transaction.
    pub coinbase: Transaction,
    /// Sibling hashes from the coinbase (leftmost leaf) up to the merkle root.
    pub merkle_branch: Vec<TxMerkleNode>,
}

impl BitcoinWork {
    /// The merkle root obtained by folding the coinbase txid through the branch.
    pub fn computed_merkle_root(&self) -> TxMerkleNode {
        let mut acc = self.coinbase.compute_txid().to_byte_array();
        for sibling in &self.merkle_branch {
            let mut buf = [0u8; 64];
            buf[..32].copy_from_slice(&acc);
            buf[32..].copy_from_slice(sibling.as_byte_array());
            acc = sha256d::Hash::hash(&buf).to_byte_array();
        }
        TxMerkleNode::from_byte_array(acc)
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&serialize(&self.header));
        out.extend_from_slice(&serialize(&self.coinbase));
        write_compact_size(out, self.merkle_branch.len() as u64);
        for node in &self.merkle_branch {
            out.extend_from_slice(node.as_byte_array());
        }
    }
}

/// A share header together with its Bitcoin work: everything needed to check a share's proof of
/// work and commitment without its transactions (what headers-first sync exchanges).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareHead {
    /// The sharechain header.
    pub header: ShareHeader,
    /// The Bitcoin work committing to it.
    pub work: BitcoinWork,
}

impl ShareHead {
    /// The share id: the Bitcoin header's double-SHA256.
    pub fn hash(&self) -> ShareHash {
        ShareHash::of_bitcoin_header(&self.work.header)
    }

    /// The 160-byte "serialized header of the share" hashed by the payout selector: the share
    /// header followed by the Bitcoin header that carries the proof of work.
    pub fn selector_bytes(&self) -> [u8; 160] {
        let mut out = [0u8; 160];
        out[..80].copy_from_slice(&self.header.to_bytes());
        out[80..].copy_from_slice(&serialize(&self.work.header));
        out
    }

    /// `TaggedHash("p2share/q-selector", selector_bytes)`.
    pub fn q_selector(&self) -> QSelectorHash {
        q_selector_hash(&self.selector_bytes())
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&self.header.to_bytes());
        self.work.encode_into(&mut out);
        out
    }

    /// Decodes a share head; the whole input must be consumed.
    ///
    /// # Errors
    /// [`DecodeError`] naming the structure and offset that failed.
    pub fn decode(bytes: &[u8]) -> Result<ShareHead, DecodeError> {
        let mut r = Reader::new(bytes);
        let head = r.head()?;
        r.finish("share head")?;
        Ok(head)
    }
}

/// A share: its head and its sharechain transactions (sharebase first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// Header and Bitcoin work.
    pub head: ShareHead,
    /// Sharechain transactions; the first is the sharebase.
    pub txs: Vec<Transaction>,
}

impl Share {
    /// The share id.
    pub fn hash(&self) -> ShareHash {
        self.head.hash()
    }

    /// Length of [`Share::encode`]'s output, computed without encoding.
    pub fn encoded_size(&self) -> usize {
        let branch = self.head.work.merkle_branch.len();
        ShareHeader::SIZE
            + 80
            + self.head.work.coinbase.total_size()
            + compact_size_len(branch as u64)
            + 32 * branch
            + compact_size_len(self.txs.len() as u64)
            + self.txs.iter().map(Transaction::total_size).sum::<usize>()
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.head.encode();
        write_compact_size(&mut out, self.txs.len() as u64);
        for tx in &self.txs {
            // Encoding into a Vec cannot fail.
            let _ = tx.consensus_encode(&mut out);
        }
        out
    }

    /// Decodes a share; the whole input must be consumed and at most [`MAX_SHARE_SIZE`] long.
    ///
    /// # Errors
    /// [`DecodeError`] naming the structure and offset that failed.
    pub fn decode(bytes: &[u8]) -> Result<Share, DecodeError> {
        if bytes.len() > MAX_SHARE_SIZE {
            return Err(DecodeError {
                what: "share".into(),
                offset: 0,
                kind: DecodeErrorKind::TooLarge {
                    field: "share size",
                    value: bytes.len() as u64,
                    limit: MAX_SHARE_SIZE as u64,
                },
            });
        }
        let mut r = Reader::new(bytes);
        let head = r.head()?;
        let count_at = r.pos;
        let count = r.compact_size("transaction count")?;
        if count == 0 {
            return Err(r.err_at(
                count_at,
                "transaction count",
                DecodeErrorKind::NoTransactions,
            ));
        }
        let limit = (r.remaining() / MIN_TRANSACTION_SIZE) as u64;
        if count > limit {
            return Err(r.err_at(
                count_at,
                "transaction count",
                DecodeErrorKind::TooLarge {
                    field: "transaction count",
                    value: count,
                    limit,
                },
            ));
        }
        let mut txs = Vec::with_capacity(count as usize);
        for i in 0..count {
            let what = if i == 0 {
                "sharebase".to_string()
            } else {
                format!("transaction {i}")
            };
            txs.push(r.bitcoin::<Transaction>(&what, usize::MAX)?);
        }
        r.finish("share")?;
        Ok(Share { head, txs })
    }
}

/// Length of a Bitcoin CompactSize encoding of `n`.
pub fn compact_size_len(n: u64) -> usize {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Appends a Bitcoin CompactSize.
pub fn write_compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// A cursor over the input that records offsets for errors.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn err(&self, what: &str, kind: DecodeErrorKind) -> DecodeError {
        self.err_at(self.pos, what, kind)
    }

    /// An error for the item that starts at `offset` (a count already read past).
    fn err_at(&self, offset: usize, what: &str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            what: what.to_string(),
            offset,
            kind,
        }
    }

    fn take(&mut self, what: &str, n: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if available < n {
            return Err(self.err(
                what,
                DecodeErrorKind::Truncated {
                    needed: n,
                    available,
                },
            ));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(what, N)?);
        Ok(a)
    }

    fn header(&mut self, what: &str) -> Result<ShareHeader, DecodeError> {
        Ok(ShareHeader::from_bytes(&self.array::<80>(what)?))
    }

    fn compact_size(&mut self, what: &str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let first = self.array::<1>(what)?[0];
        let (value, min) = match first {
            0xfd => (u64::from(u16::from_le_bytes(self.array::<2>(what)?)), 0xfd),
            0xfe => (
                u64::from(u32::from_le_bytes(self.array::<4>(what)?)),
                0x1_0000,
            ),
            0xff => (u64::from_le_bytes(self.array::<8>(what)?), 0x1_0000_0000),
            n => (u64::from(n), 0),
        };
        if value < min {
            self.pos = start;
            return Err(self.err(what, DecodeErrorKind::BadCompactSize));
        }
        Ok(value)
    }

    fn bitcoin<T: bitcoin::consensus::Decodable>(
        &mut self,
        what: &str,
        max_len: usize,
    ) -> Result<T, DecodeError> {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        let window = &rest[..rest.len().min(max_len)];
        match deserialize_partial::<T>(window) {
            Ok((value, used)) => {
                self.pos += used;
                Ok(value)
            }
            Err(e) => {
                let kind = if window.len() < rest.len() {
                    DecodeErrorKind::TooLarge {
                        field: "encoded size",
                        value: rest.len() as u64,
                        limit: max_len as u64,
                    }
                } else {
                    DecodeErrorKind::Bitcoin(e.to_string())
                };
                Err(self.err(what, kind))
            }
        }
    }

    fn head(&mut self) -> Result<ShareHead, DecodeError> {
        let header = self.header("share header")?;
        let bitcoin_header = self.bitcoin_header("bitcoin header")?;
        let coinbase = self.bitcoin::<Transaction>("bitcoin coinbase", MAX_COINBASE_SIZE)?;
        let len_at = self.pos;
        let len = self.compact_size("merkle branch length")?;
        if len > MAX_MERKLE_BRANCH as u64 {
            return Err(self.err_at(
                len_at,
                "merkle branch length",
                DecodeErrorKind::TooLarge {
                    field: "merkle branch length",
                    value: len,
                    limit: MAX_MERKLE_BRANCH as u64,
                },
            ));
        }
        let mut merkle_branch = Vec::with_capacity(len as usize);
        for _ in 0..len {
            merkle_branch.push(TxMerkleNode::from_byte_array(
                self.array::<32>("merkle branch")?,
            ));
        }
        Ok(ShareHead {
            header,
            work: BitcoinWork {
                header: bitcoin_header,
                coinbase,
                merkle_branch,
            },
        })
    }

    fn bitcoin_header(&mut self, what: &str) -> Result<bitcoin::block::Header, DecodeError> {
        let start = self.pos;
        let bytes = self.array::<80>(what)?;
        bitcoin::consensus::deserialize::<bitcoin::block::Header>(&bytes).map_err(|e| DecodeError {
            what: what.into(),
            offset: start,
            kind: DecodeErrorKind::Bitcoin(e.to_string()),
        })
    }

    fn finish(&self, what: &str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.err(what, DecodeErrorKind::TrailingBytes(n))),
        }
    }
}
