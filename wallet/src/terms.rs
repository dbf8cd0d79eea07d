//! Swap terms and the checks made before anything is locked or revealed. Pure functions.
//!
//! # Who locks what, and when
//!
//! Two parties: the **taker** makes the secret and locks first; the **maker** (who published the
//! offer) locks second, after the taker's lock is final. Either may be the one selling shares:
//!
//! | [`Direction`] | taker locks (long timelock `T_i`) | maker locks (short timelock `T_p`) |
//! |---|---|---|
//! | [`Direction::TakerSellsShares`] | shares, on the sharechain | BTC, on the mainchain |
//! | [`Direction::TakerSellsBtc`] | BTC, on the mainchain | shares, on the sharechain |
//!
//! Each lock is an [`Htlc`] paying the *other* party against the secret, refunding its funder at
//! its timeout. The taker claims the maker's lock (revealing the secret), then the maker claims
//! the taker's lock with it. The timelocks (see REFERENCES.md, "Atomic swaps"):
//!
//! - `T_p` (maker's lock): default 12 h, 6–24 h.
//! - `T_i` (taker's lock) ≥ max(2·T_p, T_p + 12 h), so that after the maker's lock expires the
//!   maker still has at least 12 h (or `T_p`) to claim the taker's lock with a secret revealed at
//!   the last moment.
//! - The taker must claim at the latest 2 h before `T_p` expires (a claim racing the maker's
//!   refund could lose both sides).
//! - The maker locks only while the taker's lock has at least `T_p` + 6 h left (6 h to claim
//!   after its own lock expires); the taker accepts the maker's lock only while it has at least
//!   `T_p`/2 left (3 h at the 6 h minimum: the 2 h margin and an hour to claim).
//!
//! Hours become blocks with each chain's target spacing (600 s on Bitcoin; the sharechain's from
//! its params, seconds on the devnet), rounding up. Test and devnet setups can give the blocks
//! directly ([`Timelocks::from_blocks`]), which checks only what blocks of one chain can show.
//!
//! # Amounts
//!
//! Each lock holds exactly the agreed amount ([`SwapTerms::lock_value`]); the funder pays the
//! lock's fee, the claimer pays the claim's (out of the HTLC). Swaps smaller than six times the
//! worst-case fees on either chain ([`minimum_swap`]) are refused: fees would eat them.

use core::fmt;

use bitcoin::{Amount, FeeRate, ScriptBuf, TxOut, Weight};
use p2share_consensus::ShareAmount;

use crate::coins::p2tr_spend_weight;
use crate::fees::fee_for_weight;
use crate::htlc::{max_claim_weight, max_refund_weight, Htlc};

/// Which party locks shares and which BTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The taker sells shares: taker locks shares, maker locks BTC.
    TakerSellsShares,
    /// The taker sells BTC: taker locks BTC, maker locks shares.
    TakerSellsBtc,
}

/// A party to a swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Takes an offer; makes the secret, locks first, with the longer timelock.
    Taker,
    /// Published the offer; locks second, with the shorter timelock.
    Maker,
}

/// One of the two chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chain {
    /// The Bitcoin mainchain.
    Btc,
    /// The sharechain.
    Shares,
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Chain::Btc => "mainchain",
            Chain::Shares => "sharechain",
        })
    }
}

impl Direction {
    /// The chain `role` locks on.
    pub fn lock_chain(self, role: Role) -> Chain {
        match (self, role) {
            (Direction::TakerSellsShares, Role::Taker)
            | (Direction::TakerSellsBtc, Role::Maker) => Chain::Shares,
            (Direction::TakerSellsShares, Role::Maker)
            | (Direction::TakerSellsBtc, Role::Taker) => Chain::Btc,
        }
    }
}

/// Why terms, a timelock or a counterparty's lock are refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TermsError {
    /// The maker's lock asked for is outside 6–24 hours.
    #[error("maker's lock of {hours} h is outside {min}–{max} h")]
    MakerLockHours {
        /// Hours asked for.
        hours: u32,
        /// The least allowed.
        min: u32,
        /// The most allowed.
        max: u32,
    },
    /// A block spacing of zero seconds.
    #[error("the {chain}'s block spacing must be at least one second")]
    ZeroSpacing {
        /// Which chain.
        chain: Chain,
    },
    /// Timelocks given in blocks that contradict each other.
    #[error("inconsistent timelocks: {what}")]
    Timelocks {
        /// The rule broken.
        what: &'static str,
    },
    /// A height plus a timelock would leave the range of block heights.
    #[error("height {height} + {blocks} blocks is beyond the highest lock-time height")]
    HeightOverflow {
        /// The current height.
        height: u32,
        /// The blocks to add.
        blocks: u32,
    },
    /// A swap amount of zero.
    #[error("the {chain} amount of a swap cannot be zero")]
    ZeroAmount {
        /// Which side.
        chain: Chain,
    },
    /// A swap below the minimum for the fees of its chain.
    #[error("{amount} units on the {chain} is below the minimum swap of {minimum}")]
    BelowMinimum {
        /// Which side.
        chain: Chain,
        /// The amount offered (sats or share units).
        amount: u64,
        /// The minimum (sats or share units).
        minimum: u64,
    },
    /// A fee computation overflowed (an absurd fee rate).
    #[error("fee rate too high to compute the {chain}'s fees")]
    FeeOverflow {
        /// Which chain.
        chain: Chain,
    },
    /// The counterparty's output is not locked by the HTLC we rebuilt.
    #[error("the counterparty's lock has script {found}, expected {expected}")]
    ScriptMismatch {
        /// The script of the HTLC we expect.
        expected: ScriptBuf,
        /// The script found.
        found: ScriptBuf,
    },
    /// The counterparty's output holds another amount.
    #[error("the counterparty's lock holds {found} units, expected {expected}")]
    AmountMismatch {
        /// Agreed.
        expected: u64,
        /// Found.
        found: u64,
    },
    /// The counterparty's timelock expires too soon.
    #[error("the counterparty's lock expires at height {timeout}, before the minimum {minimum}")]
    TimelockTooShort {
        /// Its timeout.
        timeout: u32,
        /// The least acceptable.
        minimum: u32,
    },
    /// The payment hash was already used by another swap.
    #[error("the payment hash was already used by another swap")]
    HashReused,
    /// The maker would lock too late: the taker's lock expires too soon.
    #[error("taker's lock has {remaining} blocks left, the maker needs {required} to lock")]
    TooLateToLock {
        /// Blocks left on the taker's lock.
        remaining: u32,
        /// Blocks the maker needs.
        required: u32,
    },
}

/// Block spacings (target seconds per block) of both chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spacing {
    /// The mainchain's: 600 on every Bitcoin network but regtest.
    pub btc_secs: u32,
    /// The sharechain's, from its chain params.
    pub shares_secs: u32,
}

impl Spacing {
    /// Bitcoin's target spacing.
    pub const BITCOIN_SECS: u32 = 600;

    fn of(self, chain: Chain) -> Result<u32, TermsError> {
        let secs = match chain {
            Chain::Btc => self.btc_secs,
            Chain::Shares => self.shares_secs,
        };
        if secs == 0 {
            return Err(TermsError::ZeroSpacing { chain });
        }
        Ok(secs)
    }

    /// `hours` as blocks of `chain`, rounded up.
    fn blocks(self, chain: Chain, hours: u32) -> Result<u32, TermsError> {
        let secs = u64::from(hours) * 3600;
        let blocks = secs.div_ceil(u64::from(self.of(chain)?));
        u32::try_from(blocks).map_err(|_| TermsError::Timelocks {
            what: "a timelock of more than 2^32 blocks",
        })
    }
}

/// A swap's timelocks, in blocks of the chain each applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timelocks {
    /// `T_p`: the maker's lock, in blocks of the maker's chain.
    pub maker_lock_blocks: u32,
    /// `T_i`: the taker's lock, in blocks of the taker's chain.
    pub taker_lock_blocks: u32,
    /// The taker claims at least this many maker-chain blocks before the maker's lock expires
    /// (2 h).
    pub taker_claim_margin_blocks: u32,
    /// The maker locks only while the taker's lock has at least this many taker-chain blocks
    /// left (`T_p` + 6 h).
    pub maker_min_taker_remaining_blocks: u32,
    /// The taker accepts the maker's lock only while it has at least this many maker-chain
    /// blocks left (`T_p` / 2).
    pub taker_min_maker_remaining_blocks: u32,
}

impl Timelocks {
    /// The default maker's lock, hours.
    pub const DEFAULT_MAKER_LOCK_HOURS: u32 = 12;
    /// The shortest maker's lock, hours.
    pub const MIN_MAKER_LOCK_HOURS: u32 = 6;
    /// The longest maker's lock, hours.
    pub const MAX_MAKER_LOCK_HOURS: u32 = 24;
    /// The taker's claim margin before the maker's lock expires, hours.
    pub const TAKER_CLAIM_MARGIN_HOURS: u32 = 2;
    /// The time the maker keeps, after its own lock expires, to claim the taker's, hours.
    pub const MAKER_CLAIM_WINDOW_HOURS: u32 = 6;

    /// The timelocks for a maker's lock of `maker_lock_hours` (6–24), converted to blocks with
    /// each chain's spacing.
    ///
    /// # Errors
    /// [`TermsError::MakerLockHours`], [`TermsError::ZeroSpacing`].
    pub fn from_hours(
        direction: Direction,
        maker_lock_hours: u32,
        spacing: Spacing,
    ) -> Result<Timelocks, TermsError> {
        if !(Self::MIN_MAKER_LOCK_HOURS..=Self::MAX_MAKER_LOCK_HOURS).contains(&maker_lock_hours) {
            return Err(TermsError::MakerLockHours {
                hours: maker_lock_hours,
                min: Self::MIN_MAKER_LOCK_HOURS,
                max: Self::MAX_MAKER_LOCK_HOURS,
            });
        }
        let maker_chain = direction.lock_chain(Role::Maker);
        let taker_chain = direction.lock_chain(Role::Taker);
        let t_p = maker_lock_hours;
        let t_i = (2 * t_p).max(t_p + 12);
        let timelocks = Timelocks {
            maker_lock_blocks: spacing.blocks(maker_chain, t_p)?,
            taker_lock_blocks: spacing.blocks(taker_chain, t_i)?,
            taker_claim_margin_blocks: spacing
                .blocks(maker_chain, Self::TAKER_CLAIM_MARGIN_HOURS)?,
            maker_min_taker_remaining_blocks: spacing
                .blocks(taker_chain, t_p + Self::MAKER_CLAIM_WINDOW_HOURS)?,
            // Half of T_p, rounded up: whole hours since T_p ≥ 6 is ≥ 3 h.
            taker_min_maker_remaining_blocks: spacing.blocks(maker_chain, t_p.div_ceil(2))?,
        };
        timelocks.check()?;
        Ok(timelocks)
    }

    /// Timelocks given directly in blocks (tests and devnets, where a "day" is minutes). Only
    /// what blocks of one chain can show is checked: every count ≥ 1, the taker's claim margin
    /// below the maker's minimum remaining time, that at most `T_p`, and the maker's minimum
    /// of the taker's lock below `T_i`.
    ///
    /// # Errors
    /// [`TermsError::Timelocks`] naming the rule broken.
    pub fn from_blocks(
        maker_lock_blocks: u32,
        taker_lock_blocks: u32,
        taker_claim_margin_blocks: u32,
        maker_min_taker_remaining_blocks: u32,
        taker_min_maker_remaining_blocks: u32,
    ) -> Result<Timelocks, TermsError> {
        let timelocks = Timelocks {
            maker_lock_blocks,
            taker_lock_blocks,
            taker_claim_margin_blocks,
            maker_min_taker_remaining_blocks,
            taker_min_maker_remaining_blocks,
        };
        timelocks.check()?;
        Ok(timelocks)
    }

    fn check(&self) -> Result<(), TermsError> {
        let fail = |what| Err(TermsError::Timelocks { what });
        if self.maker_lock_blocks == 0
            || self.taker_lock_blocks == 0
            || self.taker_claim_margin_blocks == 0
            || self.maker_min_taker_remaining_blocks == 0
            || self.taker_min_maker_remaining_blocks == 0
        {
            return fail("every timelock is at least one block");
        }
        if self.taker_claim_margin_blocks >= self.taker_min_maker_remaining_blocks {
            return fail("the taker's claim margin must be below its minimum of the maker's lock");
        }
        if self.taker_min_maker_remaining_blocks > self.maker_lock_blocks {
            return fail("the taker's minimum of the maker's lock exceeds the maker's lock");
        }
        if self.maker_min_taker_remaining_blocks >= self.taker_lock_blocks {
            return fail("the maker's minimum of the taker's lock must be below the taker's lock");
        }
        Ok(())
    }
}

/// `height + blocks`, checked to stay a lock-time height.
fn after(height: u32, blocks: u32) -> Result<u32, TermsError> {
    height
        .checked_add(blocks)
        .filter(|&h| h <= Htlc::MAX_TIMEOUT)
        .ok_or(TermsError::HeightOverflow { height, blocks })
}

/// What two parties agreed: direction, amounts, timelocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapTerms {
    /// Who sells what.
    pub direction: Direction,
    /// The shares traded.
    pub shares: ShareAmount,
    /// The BTC traded.
    pub sats: Amount,
    /// The timelocks.
    pub timelocks: Timelocks,
}

impl SwapTerms {
    /// Terms with non-zero amounts.
    ///
    /// # Errors
    /// [`TermsError::ZeroAmount`].
    pub fn new(
        direction: Direction,
        shares: ShareAmount,
        sats: Amount,
        timelocks: Timelocks,
    ) -> Result<SwapTerms, TermsError> {
        if shares == ShareAmount::ZERO {
            return Err(TermsError::ZeroAmount {
                chain: Chain::Shares,
            });
        }
        if sats == Amount::ZERO {
            return Err(TermsError::ZeroAmount { chain: Chain::Btc });
        }
        Ok(SwapTerms {
            direction,
            shares,
            sats,
            timelocks,
        })
    }

    /// The chain `role` locks on.
    pub fn lock_chain(&self, role: Role) -> Chain {
        self.direction.lock_chain(role)
    }

    /// The value of the HTLC output `role` funds: sats, or share units as an output value.
    pub fn lock_value(&self, role: Role) -> Amount {
        match self.lock_chain(role) {
            Chain::Btc => self.sats,
            Chain::Shares => Amount::from_sat(self.shares.to_units()),
        }
    }

    /// The timeout of the taker's lock made at taker-chain height `height`.
    ///
    /// # Errors
    /// [`TermsError::HeightOverflow`].
    pub fn taker_timeout(&self, height: u32) -> Result<u32, TermsError> {
        after(height, self.timelocks.taker_lock_blocks)
    }

    /// The timeout of the maker's lock made at maker-chain height `height`.
    ///
    /// # Errors
    /// [`TermsError::HeightOverflow`].
    pub fn maker_timeout(&self, height: u32) -> Result<u32, TermsError> {
        after(height, self.timelocks.maker_lock_blocks)
    }

    /// The last maker-chain height at which the taker may broadcast its claim of the maker's
    /// lock expiring at `maker_timeout`; after it, the taker waits for its own refund.
    pub fn taker_claim_deadline(&self, maker_timeout: u32) -> u32 {
        maker_timeout.saturating_sub(self.timelocks.taker_claim_margin_blocks)
    }

    /// The least timeout the maker accepts on the taker's lock, at taker-chain height `height`.
    ///
    /// # Errors
    /// [`TermsError::HeightOverflow`].
    pub fn min_taker_timeout(&self, height: u32) -> Result<u32, TermsError> {
        after(height, self.timelocks.maker_min_taker_remaining_blocks)
    }

    /// The least timeout the taker accepts on the maker's lock, at maker-chain height `height`.
    ///
    /// # Errors
    /// [`TermsError::HeightOverflow`].
    pub fn min_maker_timeout(&self, height: u32) -> Result<u32, TermsError> {
        after(height, self.timelocks.taker_min_maker_remaining_blocks)
    }

    /// Whether the maker may still lock, with the taker's lock expiring at `taker_timeout` and
    /// the taker's chain at `height`.
    ///
    /// # Errors
    /// [`TermsError::TooLateToLock`].
    pub fn maker_may_lock(&self, taker_timeout: u32, height: u32) -> Result<(), TermsError> {
        let remaining = taker_timeout.saturating_sub(height);
        let required = self.timelocks.maker_min_taker_remaining_blocks;
        if remaining < required {
            return Err(TermsError::TooLateToLock {
                remaining,
                required,
            });
        }
        Ok(())
    }
}

/// Checks a counterparty's lock before acting on it: `found` (the output at the outpoint they
/// announced) must be locked by exactly `expected` — the HTLC rebuilt from the agreed hash, our
/// key as recipient, their key and their announced timeout — hold exactly `expected_value`,
/// expire no earlier than `min_timeout` ([`SwapTerms::min_taker_timeout`] or
/// [`SwapTerms::min_maker_timeout`]), and use a hash no *other* swap has used
/// (`hash_used_elsewhere` must not count the swap being checked).
///
/// Finality (confirmations, reorg depth) is the watcher's to check before calling this.
///
/// # Errors
/// [`TermsError::ScriptMismatch`], [`TermsError::AmountMismatch`],
/// [`TermsError::TimelockTooShort`], [`TermsError::HashReused`] — in that order.
pub fn check_counterparty_lock(
    expected: &Htlc,
    found: &TxOut,
    expected_value: Amount,
    min_timeout: u32,
    hash_used_elsewhere: &dyn Fn(&[u8; 32]) -> bool,
) -> Result<(), TermsError> {
    let expected_script = expected.script_pubkey();
    if found.script_pubkey != expected_script {
        return Err(TermsError::ScriptMismatch {
            expected: expected_script,
            found: found.script_pubkey.clone(),
        });
    }
    if found.value != expected_value {
        return Err(TermsError::AmountMismatch {
            expected: expected_value.to_sat(),
            found: found.value.to_sat(),
        });
    }
    if expected.timeout() < min_timeout {
        return Err(TermsError::TimelockTooShort {
            timeout: expected.timeout(),
            minimum: min_timeout,
        });
    }
    if hash_used_elsewhere(&expected.hash()) {
        return Err(TermsError::HashReused);
    }
    Ok(())
}

/// How many times the worst-case fees a swap must be worth.
pub const FEE_MULTIPLE: u64 = 6;

/// The number of P2TR inputs assumed for a lock transaction.
pub const LOCK_INPUTS: usize = 2;

/// The weight assumed for a lock: [`LOCK_INPUTS`] P2TR key-path inputs, the P2WSH HTLC output
/// and a P2TR change output.
pub fn lock_weight() -> Weight {
    let mut p2wsh = vec![0x00, 0x20];
    p2wsh.extend_from_slice(&[0u8; 32]);
    let p2wsh = ScriptBuf::from_bytes(p2wsh);
    let p2tr = p2tr_placeholder();
    p2tr_spend_weight(LOCK_INPUTS, &[p2wsh.as_script(), p2tr.as_script()])
}

fn p2tr_placeholder() -> ScriptBuf {
    let mut bytes = vec![0x51, 0x20];
    bytes.extend_from_slice(&[0u8; 32]);
    ScriptBuf::from_bytes(bytes)
}

/// The worst case one chain's fees of one swap can reach at `rate`: lock + claim + refund (to
/// P2TR destinations), with the largest signatures.
///
/// # Errors
/// [`TermsError::FeeOverflow`].
pub fn worst_case_fees(rate: FeeRate, chain: Chain) -> Result<Amount, TermsError> {
    let destination = p2tr_placeholder();
    let weight = lock_weight()
        .checked_add(max_claim_weight(&destination))
        .and_then(|w| w.checked_add(max_refund_weight(&destination)))
        .ok_or(TermsError::FeeOverflow { chain })?;
    fee_for_weight(rate, weight).ok_or(TermsError::FeeOverflow { chain })
}

/// The smallest swap worth making at these fee rates: [`FEE_MULTIPLE`] × [`worst_case_fees`]
/// on each chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinimumSwap {
    /// The least BTC.
    pub sats: Amount,
    /// The least shares.
    pub shares: ShareAmount,
}

/// The minimum swap at these fee rates (sat/kwu on the mainchain, units/kwu on the sharechain).
///
/// # Errors
/// [`TermsError::FeeOverflow`] for absurd rates.
pub fn minimum_swap(
    fee_rate_btc: FeeRate,
    fee_rate_shares: FeeRate,
) -> Result<MinimumSwap, TermsError> {
    let times = |amount: Amount, chain| {
        amount
            .checked_mul(FEE_MULTIPLE)
            .ok_or(TermsError::FeeOverflow { chain })
    };
    let sats = times(worst_case_fees(fee_rate_btc, Chain::Btc)?, Chain::Btc)?;
    let shares_units = times(
        worst_case_fees(fee_rate_shares, Chain::Shares)?,
        Chain::Shares,
    )?;
    let shares =
        ShareAmount::from_units(shares_units.to_sat()).map_err(|_| TermsError::FeeOverflow {
            chain: Chain::Shares,
        })?;
    Ok(MinimumSwap { sats, shares })
}

/// Refuses terms below [`minimum_swap`] at these fee rates.
///
/// # Errors
/// [`TermsError::BelowMinimum`] naming the chain; [`TermsError::FeeOverflow`].
pub fn check_minimum(
    terms: &SwapTerms,
    fee_rate_btc: FeeRate,
    fee_rate_shares: FeeRate,
) -> Result<(), TermsError> {
    let minimum = minimum_swap(fee_rate_btc, fee_rate_shares)?;
    if terms.sats < minimum.sats {
        return Err(TermsError::BelowMinimum {
            chain: Chain::Btc,
            amount: terms.sats.to_sat(),
            minimum: minimum.sats.to_sat(),
        });
    }
    if terms.shares < minimum.shares {
        return Err(TermsError::BelowMinimum {
            chain: Chain::Shares,
            amount: terms.shares.to_units(),
            minimum: minimum.shares.to_units(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::htlc::{claim_tx, payment_hash, refund_tx};
    use bitcoin::hashes::Hash;
    use bitcoin::key::{Keypair, Secp256k1};
    use bitcoin::secp256k1::SecretKey;
    use bitcoin::{OutPoint, Txid};
    use proptest::prelude::*;

    const MAINNET: Spacing = Spacing {
        btc_secs: 600,
        shares_secs: 600,
    };

    fn keypair(byte: u8) -> Keypair {
        Keypair::from_secret_key(
            &Secp256k1::new(),
            &SecretKey::from_slice(&[byte; 32]).unwrap(),
        )
    }

    #[test]
    fn directions() {
        use Direction::*;
        assert_eq!(TakerSellsShares.lock_chain(Role::Taker), Chain::Shares);
        assert_eq!(TakerSellsShares.lock_chain(Role::Maker), Chain::Btc);
        assert_eq!(TakerSellsBtc.lock_chain(Role::Taker), Chain::Btc);
        assert_eq!(TakerSellsBtc.lock_chain(Role::Maker), Chain::Shares);
        let t = SwapTerms::new(
            TakerSellsBtc,
            ShareAmount::from_units(7).unwrap(),
            Amount::from_sat(9),
            Timelocks::from_hours(TakerSellsBtc, 12, MAINNET).unwrap(),
        )
        .unwrap();
        assert_eq!(t.lock_value(Role::Taker), Amount::from_sat(9));
        assert_eq!(t.lock_value(Role::Maker), Amount::from_sat(7));
    }

    #[test]
    fn default_timelocks_on_mainnet() {
        let t = Timelocks::from_hours(Direction::TakerSellsShares, 12, MAINNET).unwrap();
        assert_eq!(
            t,
            Timelocks {
                maker_lock_blocks: 72,                 // 12 h
                taker_lock_blocks: 144,                // 24 h = max(24, 24)
                taker_claim_margin_blocks: 12,         // 2 h
                maker_min_taker_remaining_blocks: 108, // 18 h
                taker_min_maker_remaining_blocks: 36,  // 6 h
            }
        );
        // 6 h: T_i = max(12, 18) = 18 h.
        let six = Timelocks::from_hours(Direction::TakerSellsShares, 6, MAINNET).unwrap();
        assert_eq!((six.maker_lock_blocks, six.taker_lock_blocks), (36, 108));
        // 24 h: T_i = max(48, 36) = 48 h.
        let day = Timelocks::from_hours(Direction::TakerSellsShares, 24, MAINNET).unwrap();
        assert_eq!((day.maker_lock_blocks, day.taker_lock_blocks), (144, 288));
    }

    #[test]
    fn spacing_per_chain() {
        // A 30-second sharechain: the taker who sells shares locks 24 h = 2,880 share blocks;
        // the maker locks 12 h = 72 BTC blocks.
        let spacing = Spacing {
            btc_secs: 600,
            shares_secs: 30,
        };
        let t = Timelocks::from_hours(Direction::TakerSellsShares, 12, spacing).unwrap();
        assert_eq!((t.maker_lock_blocks, t.taker_lock_blocks), (72, 2_880));
        assert_eq!(t.taker_claim_margin_blocks, 12);
        assert_eq!(t.maker_min_taker_remaining_blocks, 2_160);
        let t = Timelocks::from_hours(Direction::TakerSellsBtc, 12, spacing).unwrap();
        assert_eq!((t.maker_lock_blocks, t.taker_lock_blocks), (1_440, 144));
        assert_eq!(t.taker_claim_margin_blocks, 240);
        // Rounding is up: 7 h of 7,000-second blocks is 3.6 → 4.
        let odd = Spacing {
            btc_secs: 7_000,
            shares_secs: 7_000,
        };
        let t = Timelocks::from_hours(Direction::TakerSellsBtc, 7, odd).unwrap();
        assert_eq!(t.maker_lock_blocks, 4);
    }

    #[test]
    fn timelock_refusals() {
        for hours in [0, 5, 25, 1_000] {
            assert!(matches!(
                Timelocks::from_hours(Direction::TakerSellsBtc, hours, MAINNET),
                Err(TermsError::MakerLockHours { .. })
            ));
        }
        assert_eq!(
            Timelocks::from_hours(
                Direction::TakerSellsBtc,
                12,
                Spacing {
                    btc_secs: 600,
                    shares_secs: 0
                }
            ),
            Err(TermsError::ZeroSpacing {
                chain: Chain::Shares
            })
        );
        // Devnet-style blocks: fine when consistent …
        assert!(Timelocks::from_blocks(20, 60, 4, 30, 10).is_ok());
        // … and each inconsistency refused.
        for (a, b, c, d, e) in [
            (0, 60, 4, 30, 10),
            (20, 60, 10, 30, 10),
            (20, 60, 4, 30, 21),
            (20, 60, 4, 60, 10),
        ] {
            assert!(matches!(
                Timelocks::from_blocks(a, b, c, d, e),
                Err(TermsError::Timelocks { .. })
            ));
        }
    }

    fn terms() -> SwapTerms {
        SwapTerms::new(
            Direction::TakerSellsShares,
            ShareAmount::from_units(50_000_000).unwrap(),
            Amount::from_sat(1_000_000),
            Timelocks::from_hours(Direction::TakerSellsShares, 12, MAINNET).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn deadlines() {
        let t = terms();
        assert_eq!(t.taker_timeout(1_000), Ok(1_144));
        assert_eq!(t.maker_timeout(800_000), Ok(800_072));
        assert_eq!(t.taker_claim_deadline(800_072), 800_060);
        assert_eq!(t.min_taker_timeout(1_010), Ok(1_118));
        assert_eq!(t.min_maker_timeout(800_010), Ok(800_046));
        assert!(t.maker_may_lock(1_144, 1_036).is_ok());
        assert_eq!(
            t.maker_may_lock(1_144, 1_037),
            Err(TermsError::TooLateToLock {
                remaining: 107,
                required: 108
            })
        );
        assert!(matches!(
            t.taker_timeout(Htlc::MAX_TIMEOUT - 10),
            Err(TermsError::HeightOverflow { .. })
        ));
        assert!(matches!(
            SwapTerms::new(
                Direction::TakerSellsBtc,
                ShareAmount::ZERO,
                Amount::ONE_SAT,
                t.timelocks
            ),
            Err(TermsError::ZeroAmount {
                chain: Chain::Shares
            })
        ));
        assert!(matches!(
            SwapTerms::new(
                Direction::TakerSellsBtc,
                ShareAmount::from_units(1).unwrap(),
                Amount::ZERO,
                t.timelocks
            ),
            Err(TermsError::ZeroAmount { chain: Chain::Btc })
        ));
    }

    fn lock(timeout: u32) -> Htlc {
        Htlc::new(
            payment_hash(&[5; 32]),
            keypair(1).public_key(),
            keypair(2).public_key(),
            timeout,
        )
        .unwrap()
    }

    #[test]
    fn counterparty_lock_checks() {
        let expected = lock(1_144);
        let value = Amount::from_sat(50_000_000);
        let good = TxOut {
            value,
            script_pubkey: expected.script_pubkey(),
        };
        let never = |_: &[u8; 32]| false;
        assert_eq!(
            check_counterparty_lock(&expected, &good, value, 1_118, &never),
            Ok(())
        );
        // A script that differs in anything: another key, hash or timeout.
        let other_key = Htlc::new(
            expected.hash(),
            keypair(3).public_key(),
            expected.sender(),
            expected.timeout(),
        )
        .unwrap();
        for wrong in [other_key, lock(1_145)] {
            let found = TxOut {
                value,
                script_pubkey: wrong.script_pubkey(),
            };
            assert!(matches!(
                check_counterparty_lock(&expected, &found, value, 1_118, &never),
                Err(TermsError::ScriptMismatch { .. })
            ));
        }
        // The bare witness script instead of its P2WSH.
        let bare = TxOut {
            value,
            script_pubkey: expected.script(),
        };
        assert!(matches!(
            check_counterparty_lock(&expected, &bare, value, 1_118, &never),
            Err(TermsError::ScriptMismatch { .. })
        ));
        // Too little, or too much.
        for v in [value - Amount::ONE_SAT, value + Amount::ONE_SAT] {
            let found = TxOut {
                value: v,
                script_pubkey: expected.script_pubkey(),
            };
            assert!(matches!(
                check_counterparty_lock(&expected, &found, value, 1_118, &never),
                Err(TermsError::AmountMismatch { .. })
            ));
        }
        // A short timelock.
        assert_eq!(
            check_counterparty_lock(&expected, &good, value, 1_145, &never),
            Err(TermsError::TimelockTooShort {
                timeout: 1_144,
                minimum: 1_145
            })
        );
        // A reused hash.
        let used = expected.hash();
        let seen = move |h: &[u8; 32]| *h == used;
        assert_eq!(
            check_counterparty_lock(&expected, &good, value, 1_118, &seen),
            Err(TermsError::HashReused)
        );
    }

    #[test]
    fn minimum_is_six_times_worst_fees() {
        let one = FeeRate::from_sat_per_vb_u32(1);
        let ten = FeeRate::from_sat_per_vb_u32(10);
        let m = minimum_swap(ten, one).unwrap();
        let btc_fees = worst_case_fees(ten, Chain::Btc).unwrap();
        assert_eq!(m.sats, btc_fees * 6);
        assert_eq!(
            m.shares.to_units(),
            worst_case_fees(one, Chain::Shares).unwrap().to_sat() * 6
        );
        // lock 2-in/2-out 846 wu (212 vB), claim 606 wu, refund 572 wu: 2,024 wu = 506 vB.
        assert_eq!(lock_weight(), Weight::from_wu(846));
        assert_eq!(btc_fees, Amount::from_sat(5_060));
        let mut t = terms();
        assert!(check_minimum(&t, ten, one).is_ok());
        t.sats = m.sats - Amount::ONE_SAT;
        assert_eq!(
            check_minimum(&t, ten, one),
            Err(TermsError::BelowMinimum {
                chain: Chain::Btc,
                amount: m.sats.to_sat() - 1,
                minimum: m.sats.to_sat()
            })
        );
        t.sats = m.sats;
        t.shares = ShareAmount::from_units(m.shares.to_units() - 1).unwrap();
        assert!(matches!(
            check_minimum(&t, ten, one),
            Err(TermsError::BelowMinimum {
                chain: Chain::Shares,
                ..
            })
        ));
        assert!(matches!(
            minimum_swap(FeeRate::from_sat_per_kwu(u64::MAX / 1000), one),
            Err(TermsError::FeeOverflow { chain: Chain::Btc })
        ));
    }

    /// The worst-case estimates are at least the real claim and refund (signed, to a P2TR
    /// destination, the longest timeout) at every rate.
    #[test]
    fn worst_case_covers_real_spends() {
        let h = lock(Htlc::MAX_TIMEOUT);
        let d = p2tr_placeholder();
        let outpoint = OutPoint {
            txid: Txid::from_byte_array([1; 32]),
            vout: 0,
        };
        let value = Amount::from_sat(1_000_000);
        let claim = claim_tx(
            &h,
            outpoint,
            value,
            &[5; 32],
            &keypair(1),
            d.clone(),
            Amount::ZERO,
        )
        .unwrap();
        let refund = refund_tx(&h, outpoint, value, &keypair(2), d, Amount::ZERO).unwrap();
        assert!(claim.weight() <= max_claim_weight(&p2tr_placeholder()));
        assert!(refund.weight() <= max_refund_weight(&p2tr_placeholder()));
        for rate in [1u32, 2, 7, 50, 1_000] {
            let rate = FeeRate::from_sat_per_vb_u32(rate);
            let real_fee = fee_for_weight(rate, claim.weight()).unwrap()
                + fee_for_weight(rate, refund.weight()).unwrap();
            assert!(worst_case_fees(rate, Chain::Btc).unwrap() >= real_fee);
        }
    }

    proptest! {
        /// For every allowed maker's lock and spacing, the wall-clock rules hold after rounding:
        /// T_i ≥ max(2·T_p, T_p + 12 h) and the maker's window ≥ 6 h.
        #[test]
        fn hour_rules_hold(hours in 6u32..=24, btc in 1u32..=3_600, shares in 1u32..=3_600, sells_btc in any::<bool>()) {
            let direction = if sells_btc { Direction::TakerSellsBtc } else { Direction::TakerSellsShares };
            let spacing = Spacing { btc_secs: btc, shares_secs: shares };
            let t = Timelocks::from_hours(direction, hours, spacing).unwrap();
            let secs = |chain: Chain, blocks: u32| u64::from(blocks) * u64::from(spacing.of(chain).unwrap());
            let maker = secs(direction.lock_chain(Role::Maker), t.maker_lock_blocks);
            let taker = secs(direction.lock_chain(Role::Taker), t.taker_lock_blocks);
            let h = u64::from(hours) * 3600;
            prop_assert!(maker >= h);
            prop_assert!(taker >= (2 * h).max(h + 12 * 3600));
            prop_assert!(secs(direction.lock_chain(Role::Maker), t.taker_claim_margin_blocks) >= 2 * 3600);
            prop_assert!(secs(direction.lock_chain(Role::Taker), t.maker_min_taker_remaining_blocks) >= h + 6 * 3600);
        }
    }
}
