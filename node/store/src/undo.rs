//! The versioned binary encoding of [`ShareUndo`] stored in the `undo` table.
//!
//! Layout (all integers little-endian unless noted):
//! - `version: u8` — [`UNDO_VERSION`];
//! - `height: u32`;
//! - the spent list, then the created list, each as `count: u32` followed by `count` coins:
//!   `outpoint: [u8; 36]` (canonical key: txid bytes, vout big-endian), `value: u64`,
//!   `height: u32`, `is_sharebase: u8` (0 or 1), `script_len: u32`, `script`.

use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut};
use p2share_consensus::utxo::{key_outpoint, outpoint_key, Coin, ShareUndo};

/// The only undo encoding version written and read.
pub const UNDO_VERSION: u8 = 1;

/// Encodes `undo` in the versioned format.
pub fn encode_undo(undo: &ShareUndo) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + 64 * (undo.spent.len() + undo.created.len()));
    out.push(UNDO_VERSION);
    out.extend_from_slice(&undo.height.to_le_bytes());
    for list in [&undo.spent, &undo.created] {
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for (op, coin) in list {
            encode_coin(&mut out, op, coin);
        }
    }
    out
}

pub(crate) fn encode_coin(out: &mut Vec<u8>, op: &OutPoint, coin: &Coin) {
    out.extend_from_slice(&outpoint_key(op));
    out.extend_from_slice(&coin.output.value.to_sat().to_le_bytes());
    out.extend_from_slice(&coin.height.to_le_bytes());
    out.push(u8::from(coin.is_sharebase));
    let script = coin.output.script_pubkey.as_bytes();
    out.extend_from_slice(&(script.len() as u32).to_le_bytes());
    out.extend_from_slice(script);
}

/// Decodes an undo record; the whole input must be consumed.
///
/// # Errors
/// A message naming what was wrong and the byte offset.
pub fn decode_undo(bytes: &[u8]) -> Result<ShareUndo, String> {
    let mut r = Cursor { bytes, pos: 0 };
    let version = r.array::<1>("version")?[0];
    if version != UNDO_VERSION {
        return Err(format!("unknown undo version {version}"));
    }
    let height = u32::from_le_bytes(r.array("height")?);
    let spent = r.coins("spent")?;
    let created = r.coins("created")?;
    if r.pos != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - r.pos));
    }
    Ok(ShareUndo {
        height,
        spent,
        created,
    })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, what: &str, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("truncated {what} at byte {}", self.pos))?;
        let slice = self.bytes.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(what, N)?);
        Ok(a)
    }

    fn coins(&mut self, what: &str) -> Result<Vec<(OutPoint, Coin)>, String> {
        let count = u32::from_le_bytes(self.array(what)?) as usize;
        // Each coin takes at least 53 bytes: bound the allocation by the input.
        let left = self.bytes.len().saturating_sub(self.pos);
        if count > left / 53 {
            return Err(format!(
                "{what} count {count} exceeds the remaining {left} bytes"
            ));
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let key = self.array::<36>("outpoint")?;
            let value = u64::from_le_bytes(self.array("value")?);
            let height = u32::from_le_bytes(self.array("coin height")?);
            let is_sharebase = match self.array::<1>("is_sharebase")?[0] {
                0 => false,
                1 => true,
                n => return Err(format!("is_sharebase flag {n} at byte {}", self.pos - 1)),
            };
            let len = u32::from_le_bytes(self.array("script length")?) as usize;
            let script = ScriptBuf::from_bytes(self.take("script", len)?.to_vec());
            out.push((
                key_outpoint(&key),
                Coin {
                    output: TxOut {
                        value: Amount::from_sat(value),
                        script_pubkey: script,
                    },
                    height,
                    is_sharebase,
                },
            ));
        }
        Ok(out)
    }
}
