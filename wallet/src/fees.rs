//! Fee and dust arithmetic shared by the HTLC, terms and coin modules.
//!
//! One convention for both chains: a [`FeeRate`] is units per 1,000 weight units — satoshis on
//! the mainchain, share units on the sharechain — and fees are charged on the virtual size
//! rounded up, the way Bitcoin Core's mempool measures them, then rounded up to a whole unit.

use bitcoin::{Amount, FeeRate, Script, Weight};

/// The fee of a transaction of `weight` at `rate`: `ceil(rate per kvB × vsize / 1000)` with
/// `vsize = ceil(weight / 4)`, so it is never below what a node's minimum-fee check asks.
/// `None` on overflow.
pub fn fee_for_weight(rate: FeeRate, weight: Weight) -> Option<Amount> {
    fee_for_vsize(rate, weight.to_vbytes_ceil())
}

/// The fee of `vsize` virtual bytes at `rate`, rounded up; `None` on overflow.
pub fn fee_for_vsize(rate: FeeRate, vsize: u64) -> Option<Amount> {
    let per_kvb = rate.to_sat_per_kwu().checked_mul(4)?;
    let milli = per_kvb.checked_mul(vsize)?;
    Some(Amount::from_sat(milli.div_ceil(1000)))
}

/// The smallest value an output to `script` may carry and still be relayed: Bitcoin Core's dust
/// threshold at its default 3 sat/vB (294 for P2WPKH, 330 for P2TR and P2WSH, 546 for P2PKH,
/// 0 for OP_RETURN). The sharechain's mempool applies the same rule in units.
pub fn dust_limit(script: &Script) -> Amount {
    script.minimal_non_dust()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::ScriptBuf;

    #[test]
    fn fees_round_up() {
        let one = FeeRate::from_sat_per_vb_u32(1);
        assert_eq!(fee_for_vsize(one, 141), Some(Amount::from_sat(141)));
        // 1.5 sat/vB (375 sat/kwu) on 101 vB is 151.5 → 152.
        let one_and_half = FeeRate::from_sat_per_kwu(375);
        assert_eq!(
            fee_for_vsize(one_and_half, 101),
            Some(Amount::from_sat(152))
        );
        // 561 wu is 140.25 → 141 vB.
        assert_eq!(
            fee_for_weight(one, Weight::from_wu(561)),
            Some(Amount::from_sat(141))
        );
        assert_eq!(fee_for_vsize(FeeRate::from_sat_per_kwu(u64::MAX), 2), None);
    }

    #[test]
    fn dust_limits_match_core() {
        let p2wpkh = ScriptBuf::from_hex("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap();
        let p2tr = ScriptBuf::from_hex(
            "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
        )
        .unwrap();
        let p2wsh = ScriptBuf::from_hex(
            "0020a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
        )
        .unwrap();
        let p2pkh =
            ScriptBuf::from_hex("76a914751e76e8199196d454941c45d1b3a323f1433bd688ac").unwrap();
        assert_eq!(dust_limit(&p2wpkh), Amount::from_sat(294));
        assert_eq!(dust_limit(&p2tr), Amount::from_sat(330));
        assert_eq!(dust_limit(&p2wsh), Amount::from_sat(330));
        assert_eq!(dust_limit(&p2pkh), Amount::from_sat(546));
        assert_eq!(
            dust_limit(&ScriptBuf::new_op_return([1u8; 4])),
            Amount::ZERO
        );
    }
}
