//! The sharechain UTXO set and its order-statistic index of eligible outputs.
//!
//! The set is kept *at* a state `S_i` (after share `i`). Next to the coins it keeps:
//! - the [`EligibleIndex`]: every eligible output (value > 0 and mature) keyed in canonical order
//!   with subtree value sums, so the payout for any `q` is found in O(log n);
//! - the unspent sharebase outputs grouped by creation height, so that connecting share `i`
//!   moves exactly the outputs that mature at `i` into the index (and disconnecting moves them
//!   back) — maturity needs no rescan.
//!
//! Changes are values: connecting a share produces a [`ShareUndo`], and applying the undo restores
//! the previous state exactly.

use std::collections::{BTreeSet, HashMap};

use bitcoin::hashes::Hash;
use bitcoin::{OutPoint, TxOut};

use crate::amount::ShareAmount;
use crate::index::{EligibleIndex, IndexError, OutPointKey};

/// An unspent output with the facts validation needs about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    /// The output.
    pub output: TxOut,
    /// Height of the share that created it.
    pub height: u32,
    /// Whether it was created by a sharebase after genesis (and so matures).
    pub is_sharebase: bool,
}

impl Coin {
    /// Whether this coin counts toward `n` in state `S_i` (`state_height = i`): value above zero
    /// and mature — a sharebase output created at `h` is mature when `i + 1 - h >= maturity`.
    pub fn is_eligible(&self, state_height: u32, maturity: u32) -> bool {
        self.output.value.to_sat() > 0 && self.is_mature(state_height, maturity)
    }

    /// Whether a share at `state_height + 1` may spend this coin.
    pub fn is_mature(&self, state_height: u32, maturity: u32) -> bool {
        !self.is_sharebase
            || u64::from(state_height) + 1 >= u64::from(self.height) + u64::from(maturity)
    }
}

/// The canonical order key of an outpoint: txid bytes in serialization order, then the output
/// index big-endian, so that byte order is canonical order.
pub fn outpoint_key(op: &OutPoint) -> OutPointKey {
    let mut key = [0u8; 36];
    key[..32].copy_from_slice(op.txid.as_byte_array());
    key[32..].copy_from_slice(&op.vout.to_be_bytes());
    key
}

/// The outpoint of a canonical order key.
pub fn key_outpoint(key: &OutPointKey) -> OutPoint {
    let mut txid = [0u8; 32];
    txid.copy_from_slice(&key[..32]);
    OutPoint {
        txid: bitcoin::Txid::from_byte_array(txid),
        vout: u32::from_be_bytes([key[32], key[33], key[34], key[35]]),
    }
}

/// Whether an output can never be spent (Bitcoin Core's `IsUnspendable`): such outputs are not
/// added to the set.
pub fn is_unspendable(out: &TxOut) -> bool {
    out.script_pubkey.is_op_return() || out.script_pubkey.len() > 10_000
}

/// What connecting one share changed: enough to undo it exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareUndo {
    /// Height of the share.
    pub height: u32,
    /// Coins the share spent, with their full data.
    pub spent: Vec<(OutPoint, Coin)>,
    /// Coins the share created.
    pub created: Vec<(OutPoint, Coin)>,
}

/// Inconsistencies between a change and the set (a bug in the caller, never peer input, since
/// validation runs first) or an index failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UtxoError {
    /// A spent coin is not in the set.
    #[error("coin {0} is not in the set")]
    Missing(OutPoint),
    /// A created coin already exists.
    #[error("coin {0} already exists")]
    Duplicate(OutPoint),
    /// The change is for another height than the set expects.
    #[error("change for height {got} applied to the set at height {expected}")]
    WrongHeight {
        /// Height the set expected.
        expected: u32,
        /// Height of the change.
        got: u32,
    },
    /// The eligible index refused an update.
    #[error("eligible index: {0}")]
    Index(#[from] IndexError),
}

/// The UTXO set at one state of the chain.
#[derive(Clone, Debug)]
pub struct UtxoSet {
    coins: HashMap<OutPoint, Coin>,
    eligible: EligibleIndex,
    /// Sharebase outputs by creation height, for incremental maturity. One ordered set of
    /// `(height, outpoint key)` pairs: ~60 bytes per output, where a set per height cost ~450.
    sharebase_by_height: BTreeSet<(u32, OutPointKey)>,
    maturity: u32,
    height: u32,
}

impl UtxoSet {
    /// An empty set at state `height` (normally the genesis allocation is added next).
    pub fn new(maturity: u32, height: u32) -> UtxoSet {
        UtxoSet {
            coins: HashMap::new(),
            eligible: EligibleIndex::new(),
            sharebase_by_height: BTreeSet::new(),
            maturity,
            height,
        }
    }

    /// A set at state `height` holding exactly `coins` — for audits from an exported list.
    ///
    /// # Errors
    /// [`UtxoError::Duplicate`] for a repeated outpoint; index errors for totals above `u64`.
    pub fn from_coins(
        maturity: u32,
        height: u32,
        coins: impl IntoIterator<Item = (OutPoint, Coin)>,
    ) -> Result<UtxoSet, UtxoError> {
        let mut set = UtxoSet::new(maturity, height);
        for (op, coin) in coins {
            set.add(op, coin)?;
        }
        Ok(set)
    }

    /// The state height `i` of `S_i`.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Number of unspent outputs.
    pub fn len(&self) -> usize {
        self.coins.len()
    }

    /// Whether the set has no outputs.
    pub fn is_empty(&self) -> bool {
        self.coins.is_empty()
    }

    /// Looks up a coin.
    pub fn get(&self, op: &OutPoint) -> Option<&Coin> {
        self.coins.get(op)
    }

    /// All coins, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&OutPoint, &Coin)> {
        self.coins.iter()
    }

    /// The eligible-output index.
    pub fn eligible(&self) -> &EligibleIndex {
        &self.eligible
    }

    /// `n`: the sum of eligible values.
    pub fn eligible_total(&self) -> ShareAmount {
        ShareAmount::from_units(self.eligible.total()).unwrap_or(ShareAmount::MAX)
    }

    fn add(&mut self, op: OutPoint, coin: Coin) -> Result<(), UtxoError> {
        if self.coins.contains_key(&op) {
            return Err(UtxoError::Duplicate(op));
        }
        if coin.is_eligible(self.height, self.maturity) {
            self.eligible
                .insert(outpoint_key(&op), coin.output.value.to_sat())?;
        }
        if coin.is_sharebase {
            self.sharebase_by_height
                .insert((coin.height, outpoint_key(&op)));
        }
        self.coins.insert(op, coin);
        Ok(())
    }

    fn take(&mut self, op: &OutPoint) -> Result<Coin, UtxoError> {
        let coin = self.coins.remove(op).ok_or(UtxoError::Missing(*op))?;
        self.eligible.remove(&outpoint_key(op));
        if coin.is_sharebase {
            self.sharebase_by_height
                .remove(&(coin.height, outpoint_key(op)));
        }
        Ok(coin)
    }

    /// Sharebase outputs that become eligible when the state reaches `state_height`.
    fn maturing_at(&self, state_height: u32) -> Option<u32> {
        (u64::from(state_height) + 1)
            .checked_sub(u64::from(self.maturity))
            .and_then(|h| u32::try_from(h).ok())
    }

    fn set_matured(&mut self, state_height: u32, eligible: bool) -> Result<(), UtxoError> {
        let Some(h) = self.maturing_at(state_height) else {
            return Ok(());
        };
        let ops: Vec<OutPoint> = self
            .sharebase_by_height
            .range((h, [0u8; 36])..=(h, [0xffu8; 36]))
            .map(|(_, key)| key_outpoint(key))
            .collect();
        for op in ops {
            let Some(coin) = self.coins.get(&op) else {
                continue;
            };
            let value = coin.output.value.to_sat();
            if value == 0 {
                continue;
            }
            if eligible {
                self.eligible.insert(outpoint_key(&op), value)?;
            } else {
                self.eligible.remove(&outpoint_key(&op));
            }
        }
        Ok(())
    }

    /// Applies a connected share's change, moving the set from `S_{i-1}` to `S_i`.
    ///
    /// # Errors
    /// [`UtxoError`] if the change does not fit the set; the set is then unchanged only if the
    /// error is [`UtxoError::WrongHeight`] — other errors mean a caller bug.
    pub fn connect(&mut self, undo: &ShareUndo) -> Result<(), UtxoError> {
        let expected = self.height.wrapping_add(1);
        if undo.height != expected {
            return Err(UtxoError::WrongHeight {
                expected,
                got: undo.height,
            });
        }
        for (op, _) in &undo.spent {
            self.take(op)?;
        }
        self.height = undo.height;
        for (op, coin) in &undo.created {
            self.add(*op, coin.clone())?;
        }
        // `add` already made this share's own sharebase outputs eligible if maturity is 1.
        if self.maturing_at(self.height) != Some(self.height) {
            self.set_matured(self.height, true)?;
        }
        Ok(())
    }

    /// Reverts a share's change, moving the set from `S_i` back to `S_{i-1}`.
    ///
    /// # Errors
    /// [`UtxoError`] if the change is not the last one applied.
    pub fn disconnect(&mut self, undo: &ShareUndo) -> Result<(), UtxoError> {
        if undo.height != self.height || undo.height == 0 {
            return Err(UtxoError::WrongHeight {
                expected: self.height,
                got: undo.height,
            });
        }
        if self.maturing_at(self.height) != Some(self.height) {
            self.set_matured(self.height, false)?;
        }
        for (op, _) in undo.created.iter().rev() {
            self.take(op)?;
        }
        self.height -= 1;
        for (op, coin) in undo.spent.iter().rev() {
            self.add(*op, coin.clone())?;
        }
        Ok(())
    }

    /// A canonical listing for equality checks: coins sorted by outpoint plus the eligible index
    /// in canonical order.
    pub fn snapshot(&self) -> UtxoSnapshot {
        let mut coins: Vec<(OutPoint, Coin)> =
            self.coins.iter().map(|(o, c)| (*o, c.clone())).collect();
        coins.sort_by_key(|(o, _)| outpoint_key(o));
        UtxoSnapshot {
            height: self.height,
            coins,
            eligible: self.eligible.iter().map(|(k, v)| (*k, v)).collect(),
        }
    }
}

/// A canonical, comparable listing of a [`UtxoSet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtxoSnapshot {
    /// State height.
    pub height: u32,
    /// Coins in canonical order.
    pub coins: Vec<(OutPoint, Coin)>,
    /// Eligible index entries in canonical order.
    pub eligible: Vec<(OutPointKey, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::{Amount, ScriptBuf};

    fn coin(value: u64, height: u32, sb: bool) -> Coin {
        Coin {
            output: TxOut {
                value: Amount::from_sat(value),
                script_pubkey: ScriptBuf::new(),
            },
            height,
            is_sharebase: sb,
        }
    }

    fn op(n: u8, vout: u32) -> OutPoint {
        OutPoint {
            txid: bitcoin::Txid::from_byte_array([n; 32]),
            vout,
        }
    }

    #[test]
    fn key_order_is_canonical() {
        let a = outpoint_key(&op(1, 0x0100));
        let b = outpoint_key(&op(1, 0x02));
        assert!(
            b < a,
            "vout compares as an integer, not little-endian bytes"
        );
        assert_eq!(key_outpoint(&a), op(1, 0x0100));
    }

    #[test]
    fn sharebase_outputs_mature_and_unmature() {
        let maturity = 3;
        let mut set = UtxoSet::new(maturity, 0);
        let undo1 = ShareUndo {
            height: 1,
            spent: vec![],
            created: vec![(op(1, 0), coin(10, 1, true))],
        };
        set.connect(&undo1).unwrap();
        assert_eq!(set.eligible_total().to_units(), 0);
        let mut undos = vec![undo1];
        for h in 2..=3 {
            let u = ShareUndo {
                height: h,
                spent: vec![],
                created: vec![(op(h as u8, 0), coin(1, h, false))],
            };
            set.connect(&u).unwrap();
            undos.push(u);
        }
        // In S_3, the output from height 1 satisfies 3 + 1 - 1 >= 3.
        assert_eq!(set.eligible_total().to_units(), 12);
        assert!(set.get(&op(1, 0)).unwrap().is_mature(3, maturity));
        assert!(!set.get(&op(1, 0)).unwrap().is_mature(2, maturity));
        let before = set.snapshot();
        let u4 = ShareUndo {
            height: 4,
            spent: vec![(op(1, 0), coin(10, 1, true))],
            created: vec![],
        };
        set.connect(&u4).unwrap();
        assert_eq!(set.eligible_total().to_units(), 2);
        set.disconnect(&u4).unwrap();
        assert_eq!(set.snapshot(), before);
        set.disconnect(&undos[2]).unwrap();
        assert_eq!(
            set.eligible_total().to_units(),
            1,
            "un-matured on disconnect"
        );
    }

    #[test]
    fn maturity_one_is_immediate() {
        let mut set = UtxoSet::new(1, 0);
        let u = ShareUndo {
            height: 1,
            spent: vec![],
            created: vec![(op(1, 0), coin(10, 1, true))],
        };
        set.connect(&u).unwrap();
        assert_eq!(set.eligible_total().to_units(), 10);
        set.disconnect(&u).unwrap();
        assert_eq!(set.eligible_total().to_units(), 0);
        assert!(set.is_empty());
    }

    #[test]
    fn errors_on_inconsistent_changes() {
        let mut set = UtxoSet::new(1, 0);
        let bad = ShareUndo {
            height: 2,
            ..Default::default()
        };
        assert!(matches!(
            set.connect(&bad),
            Err(UtxoError::WrongHeight { .. })
        ));
        let missing = ShareUndo {
            height: 1,
            spent: vec![(op(9, 9), coin(1, 0, false))],
            created: vec![],
        };
        assert_eq!(set.connect(&missing), Err(UtxoError::Missing(op(9, 9))));
        assert!(matches!(
            UtxoSet::from_coins(
                1,
                5,
                [(op(1, 1), coin(1, 0, false)), (op(1, 1), coin(2, 0, false))]
            ),
            Err(UtxoError::Duplicate(_))
        ));
    }
}
