//! The payout rule: which share the next Bitcoin block pays.
//!
//! With `S_i` the UTXO set after share `i` and `n` the sum of its eligible values,
//! `q = int_be(TaggedHash("p2share/q-selector", header_i ‖ bitcoin_header_i)) mod n`, and the
//! selected output is the eligible output whose range `[start, start + value)` in canonical order
//! contains `q`. While `n = 0` nothing is selected and share `i + 1` pays its own sharebase's
//! first output script (see `docs/protocol.md` §7.5).

use bitcoin::{OutPoint, ScriptBuf};

use crate::amount::ShareAmount;
use crate::hash::QSelectorHash;
use crate::share::ShareHead;
use crate::utxo::{key_outpoint, UtxoSet};

/// The output selected for a Bitcoin block reward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    /// The selector reduced modulo `n`.
    pub q: u64,
    /// Sum of eligible values.
    pub n: ShareAmount,
    /// The selected output.
    pub outpoint: OutPoint,
    /// Its script: the script the Bitcoin coinbase must pay.
    pub script_pubkey: ScriptBuf,
    /// Its value.
    pub value: ShareAmount,
    /// Sum of the values of eligible outputs before it in canonical order.
    pub start: u64,
}

/// Reduces the 256-bit big-endian selector hash modulo `n` (`n > 0`).
pub fn reduce_selector(hash: &QSelectorHash, n: u64) -> Option<u64> {
    use bitcoin::hashes::Hash;
    if n == 0 {
        return None;
    }
    let n = u128::from(n);
    let mut rem: u128 = 0;
    for chunk in hash.as_byte_array().chunks_exact(8) {
        let mut limb = [0u8; 8];
        limb.copy_from_slice(chunk);
        rem = ((rem << 64) | u128::from(u64::from_be_bytes(limb))) % n;
    }
    u64::try_from(rem).ok()
}

/// Selects the payout for the share after `tip`, with `utxo` the set after `tip` (`S_i`).
/// Returns `None` while `n = 0`.
pub fn select_payout(utxo: &UtxoSet, tip: &ShareHead) -> Option<Payout> {
    select_with_selector(utxo, &tip.q_selector())
}

/// Selects the payout for a given selector hash.
pub fn select_with_selector(utxo: &UtxoSet, selector: &QSelectorHash) -> Option<Payout> {
    let n = utxo.eligible().total();
    let q = reduce_selector(selector, n)?;
    let sel = utxo.eligible().select(q)?;
    let outpoint = key_outpoint(&sel.key);
    let coin = utxo.get(&outpoint)?;
    Some(Payout {
        q,
        n: ShareAmount::from_units(n).ok()?,
        outpoint,
        script_pubkey: coin.output.script_pubkey.clone(),
        value: ShareAmount::from_units(sel.value).ok()?,
        start: sel.start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::Hash;

    #[test]
    fn reduction_matches_big_integer_arithmetic() {
        // 2^256 - 1 mod 10 = 5 (2^256 ≡ 6 mod 10).
        let all_ones = QSelectorHash::from_byte_array([0xff; 32]);
        assert_eq!(reduce_selector(&all_ones, 10), Some(5));
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(
            reduce_selector(&QSelectorHash::from_byte_array(one), 7),
            Some(1)
        );
        let mut high = [0u8; 32];
        high[0] = 1; // 2^248
                     // 2^248 mod 1_000_000_007, computed by repeated doubling.
        let m = 1_000_000_007u128;
        let mut r = 1u128;
        for _ in 0..248 {
            r = r * 2 % m;
        }
        assert_eq!(
            reduce_selector(&QSelectorHash::from_byte_array(high), m as u64),
            Some(r as u64)
        );
        assert_eq!(reduce_selector(&all_ones, 0), None);
        assert_eq!(reduce_selector(&all_ones, 1), Some(0));
    }
}
