//! The share wallet's coin selection, transaction building and fee bumping. Pure: the node
//! supplies the wallet's UTXOs ([`WalletUtxo`]); this module chooses, builds and signs.
//!
//! # Coin selection
//!
//! Every wallet coin is a BIP-86 P2TR output spent by key path, so every input weighs the same
//! 230 wu (57.5 vB: 41 bytes of outpoint, empty script and sequence; a 64-byte signature in the
//! witness). Fees are charged per [`crate::fees`]'s rule. Selection, in order:
//!
//! 1. **Branch and bound** (as Bitcoin Core's, bounded at 100,000 tries) looks for a set of coins
//!    whose effective values (value − its input's fee) cover the payment and the fee with an
//!    excess below the cost of a change output (its fee plus the fee of spending it later): a
//!    transaction without change, cheaper and more private. Of the solutions found the one
//!    with the least excess wins.
//! 2. Otherwise **largest first**: coins by decreasing value until the payment, the fee and a
//!    change output of at least the dust limit are covered — or, when the coins cover the
//!    payment and fee but leave less than that, no change (the rest goes to the fee).
//!
//! Immature sharebase outputs (`mature == false`) are never spent. Coins whose input would cost
//! more than they hold are skipped. Inputs keep the selection order, outputs the recipients'
//! order with change last.
//!
//! # Fee bumping
//!
//! [`bump_fee`] rebuilds a transaction with the same inputs and recipients at a higher rate,
//! taking the fee from change (dropped if it would become dust) and adding *confirmed* coins if
//! change cannot pay (BIP-125 rule 2), so that the replacement pays at least the new rate and at
//! least the old fee plus the incremental relay fee for its own size (rules 3 and 4).

use bitcoin::hashes::Hash;
use bitcoin::key::Secp256k1;
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{Prevouts, SighashCache, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{
    absolute::LockTime, Amount, FeeRate, OutPoint, Script, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Weight, Witness,
};
use p2share_consensus::ShareAmount;

use crate::fees::{dust_limit, fee_for_weight};
use crate::keys::{KeyError, Keychain, WalletKeys};

/// A coin of the wallet, as the node reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletUtxo {
    /// Where it is.
    pub outpoint: OutPoint,
    /// Its value, in share units.
    pub value: ShareAmount,
    /// Its script: the wallet's P2TR address at `keychain`/`index`.
    pub script: ScriptBuf,
    /// The keychain of its address.
    pub keychain: Keychain,
    /// The index of its address.
    pub index: u32,
    /// Confirmations: 0 while in the mempool.
    pub confirmations: u32,
    /// Whether it was created by a sharebase (a mining payout).
    pub is_sharebase: bool,
    /// Whether it may be spent (a sharebase output is mature after the chain's maturity).
    pub mature: bool,
}

impl WalletUtxo {
    fn tx_out(&self) -> TxOut {
        TxOut {
            value: units(self.value),
            script_pubkey: self.script.clone(),
        }
    }
}

/// A built, signed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltTx {
    /// The signed transaction.
    pub tx: Transaction,
    /// Its fee, in share units.
    pub fee: ShareAmount,
    /// The outputs it spends, in input order (what a verifier needs).
    pub spent: Vec<TxOut>,
    /// The position of its change output, if it has one.
    pub change: Option<usize>,
}

/// Why a transaction could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A send to nobody.
    #[error("a transaction needs at least one recipient")]
    NoRecipients,
    /// A recipient of zero units.
    #[error("recipient {index} is sent zero units")]
    ZeroAmount {
        /// The recipient's position.
        index: usize,
    },
    /// A recipient below its script's dust limit.
    #[error("recipient {index} is sent {amount} units, below the dust limit {limit}")]
    Dust {
        /// The recipient's position.
        index: usize,
        /// The amount.
        amount: u64,
        /// The dust limit of its script.
        limit: u64,
    },
    /// The spendable coins do not cover the payment and its fee.
    #[error(
        "insufficient funds: {needed} shares needed, {available} spendable \
         ({immature} more are immature)"
    )]
    InsufficientFunds {
        /// Payment plus the fee of spending every spendable coin.
        needed: ShareAmount,
        /// The spendable coins' total.
        available: ShareAmount,
        /// The immature coins' total, not spendable yet.
        immature: ShareAmount,
    },
    /// Amounts summing beyond the largest amount.
    #[error("amounts overflow the largest share amount")]
    Overflow,
    /// The same outpoint listed twice.
    #[error("coin {outpoint} is listed twice")]
    DuplicateUtxo {
        /// The outpoint.
        outpoint: OutPoint,
    },
    /// A coin whose script is not the wallet's address at its keychain and index.
    #[error("coin {outpoint} is not locked to the wallet's address {keychain:?}/{index}")]
    ForeignScript {
        /// The coin.
        outpoint: OutPoint,
        /// Its claimed keychain.
        keychain: Keychain,
        /// Its claimed index.
        index: u32,
    },
    /// A transaction input that is not among the coins given.
    #[error("input {outpoint} of the transaction to bump is not among the wallet's coins")]
    UnknownInput {
        /// The missing outpoint.
        outpoint: OutPoint,
    },
    /// The transaction would be above the standard weight.
    #[error("the transaction would weigh {weight} wu, above the standard 400,000")]
    TooLarge {
        /// Its weight.
        weight: u64,
    },
    /// Key derivation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The taproot signature hash failed (a wrong prevout list; never for what is built here).
    #[error("signature hash of input {input} failed: {message}")]
    Sighash {
        /// The input.
        input: usize,
        /// The library's message.
        message: String,
    },
    /// The operating system's random number generator failed (signature nonce randomness).
    #[error("the system random number generator failed")]
    Random(#[source] getrandom::Error),
}

/// Weight of one P2TR key-path input: (32 + 4 + 1 + 4) × 4 + (1 + 1 + 64).
pub const P2TR_INPUT_WEIGHT: u64 = 230;
/// The most coins branch and bound tries.
const BNB_TRIES: usize = 100_000;

fn units(amount: ShareAmount) -> Amount {
    Amount::from_sat(amount.to_units())
}

fn share(amount: Amount) -> Result<ShareAmount, SendError> {
    ShareAmount::from_units(amount.to_sat()).map_err(|_| SendError::Overflow)
}

fn varint_len(n: usize) -> u64 {
    match n {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        _ => 5,
    }
}

/// The exact weight of a transaction spending `inputs` P2TR key-path inputs (64-byte
/// `SIGHASH_DEFAULT` signatures) to outputs with these scripts.
pub fn p2tr_spend_weight(inputs: usize, outputs: &[&Script]) -> Weight {
    let inputs_u64 = u64::try_from(inputs).unwrap_or(u64::MAX / 1024);
    let outputs_bytes: u64 = outputs
        .iter()
        .map(|s| 8 + varint_len(s.len()) + s.len() as u64)
        .sum();
    let base =
        4 + varint_len(inputs) + 41 * inputs_u64 + varint_len(outputs.len()) + outputs_bytes + 4;
    // Marker and flag (1 wu each), then per input: item count, length, signature.
    Weight::from_wu(base * 4 + 2 + 66 * inputs_u64)
}

/// How the fee of a candidate transaction is judged.
struct FeeRule<'a> {
    rate: FeeRate,
    /// The least fee for a transaction of this weight; `None` on overflow.
    min_fee: &'a dyn Fn(Weight) -> Option<Amount>,
}

/// A chosen set of coins and the resulting change.
struct Selection<'u> {
    coins: Vec<&'u WalletUtxo>,
    change: Option<Amount>,
    fee: Amount,
}

/// The insufficient-funds error: `spendable` are the coins that could have paid (their fee is
/// counted in `needed`), `all` the wallet's coins (for the immature total).
fn insufficient(
    spendable: &[&WalletUtxo],
    all: &[WalletUtxo],
    payment: Amount,
    recipients: &[&Script],
    rule: &FeeRule<'_>,
) -> SendError {
    let available = spendable
        .iter()
        .try_fold(ShareAmount::ZERO, |acc, u| acc.checked_add(u.value))
        .unwrap_or(ShareAmount::MAX);
    let immature = all
        .iter()
        .filter(|u| !u.mature)
        .try_fold(ShareAmount::ZERO, |acc, u| acc.checked_add(u.value))
        .unwrap_or(ShareAmount::MAX);
    let fee = (rule.min_fee)(p2tr_spend_weight(spendable.len().max(1), recipients))
        .unwrap_or(Amount::MAX);
    let needed = payment
        .checked_add(fee)
        .and_then(|n| ShareAmount::from_units(n.to_sat()).ok())
        .unwrap_or(ShareAmount::MAX);
    SendError::InsufficientFunds {
        needed,
        available,
        immature,
    }
}

/// Branch and bound over `candidates` (sorted by value, largest first) for a changeless set.
fn branch_and_bound<'u>(
    candidates: &[&'u WalletUtxo],
    payment: Amount,
    recipients: &[&Script],
    change_script: &Script,
    rule: &FeeRule<'_>,
) -> Option<Selection<'u>> {
    let rate = u128::from(rule.rate.to_sat_per_kwu());
    // Work in thousandths of a unit so that per-input fees add up exactly.
    let effective: Vec<i128> = candidates
        .iter()
        .map(|u| {
            let value = i128::from(u.value.to_units()) * 1000;
            value - i128::try_from(rate * u128::from(P2TR_INPUT_WEIGHT)).unwrap_or(i128::MAX)
        })
        .collect();
    if effective.iter().any(|&e| e <= 0) {
        return None;
    }
    // The fee without inputs, by weight; each input's share is in its effective value. A set
    // that reaches it is then checked exactly (vbytes and units round up).
    let base_weight = p2tr_spend_weight(0, recipients).to_wu();
    let target = i128::from(payment.to_sat()) * 1000
        + i128::try_from(rate * u128::from(base_weight)).ok()?;
    let change_output_weight = (8 + 1 + change_script.len() as u64) * 4;
    let cost_of_change = fee_for_weight(
        rule.rate,
        Weight::from_wu(change_output_weight + P2TR_INPUT_WEIGHT),
    )?
    .max(
        fee_for_weight(rule.rate, Weight::from_wu(change_output_weight))?
            .checked_add(dust_limit(change_script))?,
    );
    let upper = target + i128::from(cost_of_change.to_sat()) * 1000;
    let mut suffix = vec![0i128; effective.len() + 1];
    for i in (0..effective.len()).rev() {
        suffix[i] = suffix[i + 1] + effective[i];
    }
    // Whether the coins on the stack, whose values add up to `total`, pay the exact fee.
    let pays = |count: usize, total: u64| {
        let fee = (rule.min_fee)(p2tr_spend_weight(count, recipients));
        fee.and_then(|fee| payment.checked_add(fee))
            .is_some_and(|needed| total >= needed.to_sat())
    };

    let mut best: Option<(i128, Vec<usize>)> = None;
    let mut stack: Vec<usize> = Vec::new();
    let mut sum = 0i128;
    let mut total = 0u64;
    let mut next = 0usize;
    for _ in 0..BNB_TRIES {
        let backtrack = if sum > upper || sum + suffix[next] < target {
            true
        } else if sum >= target && pays(stack.len(), total) {
            let waste = sum - target;
            if best.as_ref().is_none_or(|(w, _)| waste < *w) {
                best = Some((waste, stack.clone()));
            }
            true
        } else {
            next == effective.len()
        };
        if backtrack {
            let Some(last) = stack.pop() else {
                break;
            };
            sum -= effective[last];
            total -= candidates[last].value.to_units();
            next = last + 1;
        } else {
            stack.push(next);
            sum += effective[next];
            total += candidates[next].value.to_units();
            next += 1;
        }
    }
    let (_, chosen) = best?;
    let coins: Vec<&WalletUtxo> = chosen.iter().map(|&i| candidates[i]).collect();
    let total = coins
        .iter()
        .try_fold(Amount::ZERO, |acc, u| acc.checked_add(units(u.value)))?;
    // The whole excess goes to the fee (below the cost of a change output).
    let fee = total.checked_sub(payment)?;
    Some(Selection {
        coins,
        change: None,
        fee,
    })
}

/// Largest first, after the `required` coins.
fn largest_first<'u>(
    required: &[&'u WalletUtxo],
    candidates: &[&'u WalletUtxo],
    payment: Amount,
    recipients: &[&Script],
    change_script: &Script,
    rule: &FeeRule<'_>,
) -> Option<Selection<'u>> {
    let mut with_change: Vec<&Script> = recipients.to_vec();
    with_change.push(change_script);
    let dust = dust_limit(change_script);
    let mut coins: Vec<&WalletUtxo> = Vec::new();
    let mut total = Amount::ZERO;
    let mut pending = required.iter().copied().peekable();
    let mut extra = candidates.iter().copied();
    loop {
        // Required coins first, all of them before any judgement.
        let coin = match pending.next() {
            Some(c) => c,
            None => extra.next()?,
        };
        total = total.checked_add(units(coin.value))?;
        coins.push(coin);
        if pending.peek().is_some() {
            continue;
        }
        let fee_change = (rule.min_fee)(p2tr_spend_weight(coins.len(), &with_change))?;
        if let Some(change) = total
            .checked_sub(payment)
            .and_then(|left| left.checked_sub(fee_change))
        {
            if change >= dust {
                return Some(Selection {
                    coins,
                    change: Some(change),
                    fee: fee_change,
                });
            }
        }
        let fee_plain = (rule.min_fee)(p2tr_spend_weight(coins.len(), recipients))?;
        if let Some(fee) = total.checked_sub(payment).filter(|&f| f >= fee_plain) {
            return Some(Selection {
                coins,
                change: None,
                fee,
            });
        }
    }
}

/// Checks recipients: at least one, none zero or dust. Returns their total.
fn check_recipients(recipients: &[(ScriptBuf, ShareAmount)]) -> Result<Amount, SendError> {
    if recipients.is_empty() {
        return Err(SendError::NoRecipients);
    }
    let mut total = ShareAmount::ZERO;
    for (index, (script, amount)) in recipients.iter().enumerate() {
        if *amount == ShareAmount::ZERO {
            return Err(SendError::ZeroAmount { index });
        }
        let limit = dust_limit(script).to_sat();
        if amount.to_units() < limit {
            return Err(SendError::Dust {
                index,
                amount: amount.to_units(),
                limit,
            });
        }
        total = total.checked_add(*amount).ok_or(SendError::Overflow)?;
    }
    Ok(units(total))
}

fn check_unique(utxos: &[WalletUtxo]) -> Result<(), SendError> {
    let mut seen: Vec<OutPoint> = utxos.iter().map(|u| u.outpoint).collect();
    seen.sort();
    for pair in seen.windows(2) {
        if pair[0] == pair[1] {
            return Err(SendError::DuplicateUtxo { outpoint: pair[0] });
        }
    }
    Ok(())
}

/// Builds and signs a payment of `recipients` from the wallet's `utxos` at `fee_rate` (share
/// units per 1,000 wu), with any change to `change_script`. `rbf` sets the inputs' sequence to
/// `0xfffffffd` (replaceable; the sharechain's mempool replaces by fee in any case), otherwise
/// `0xffffffff`.
///
/// # Errors
/// [`SendError::NoRecipients`], [`SendError::ZeroAmount`], [`SendError::Dust`],
/// [`SendError::InsufficientFunds`], [`SendError::DuplicateUtxo`],
/// [`SendError::ForeignScript`], [`SendError::TooLarge`], and failures of signing.
pub fn build_send(
    keys: &WalletKeys,
    utxos: &[WalletUtxo],
    recipients: &[(ScriptBuf, ShareAmount)],
    fee_rate: FeeRate,
    change_script: &Script,
    rbf: bool,
) -> Result<BuiltTx, SendError> {
    let payment = check_recipients(recipients)?;
    check_unique(utxos)?;
    let scripts: Vec<&Script> = recipients.iter().map(|(s, _)| s.as_script()).collect();
    let min_fee = |w: Weight| fee_for_weight(fee_rate, w);
    let rule = FeeRule {
        rate: fee_rate,
        min_fee: &min_fee,
    };
    let per_input = fee_for_weight(fee_rate, Weight::from_wu(P2TR_INPUT_WEIGHT));
    let mature: Vec<&WalletUtxo> = utxos.iter().filter(|u| u.mature).collect();
    let mut spendable: Vec<&WalletUtxo> = mature
        .iter()
        .copied()
        .filter(|u| per_input.is_some_and(|fee| units(u.value) > fee))
        .collect();
    spendable.sort_by(|a, b| b.value.cmp(&a.value).then(a.outpoint.cmp(&b.outpoint)));

    let selection = branch_and_bound(&spendable, payment, &scripts, change_script, &rule)
        .or_else(|| largest_first(&[], &spendable, payment, &scripts, change_script, &rule))
        .ok_or_else(|| insufficient(&mature, utxos, payment, &scripts, &rule))?;

    let outputs: Vec<TxOut> = recipients
        .iter()
        .map(|(script, amount)| TxOut {
            value: units(*amount),
            script_pubkey: script.clone(),
        })
        .collect();
    let sequence = if rbf {
        Sequence::ENABLE_RBF_NO_LOCKTIME
    } else {
        Sequence::MAX
    };
    finish(keys, selection, outputs, change_script, sequence)
}

/// Replaces `original` (built by this wallet from `utxos`) with a version paying `new_rate`:
/// same inputs and recipients; change (the output paying `change_script`, if any) reduced or
/// dropped; confirmed mature coins added when change cannot pay. The new fee is at least
/// `new_rate` × its size and at least the old fee plus `incremental_relay` × its size (BIP-125).
///
/// # Errors
/// [`SendError::UnknownInput`] if an input is not among `utxos`;
/// [`SendError::InsufficientFunds`] if even every confirmed coin cannot pay; as
/// [`build_send`] otherwise.
pub fn bump_fee(
    keys: &WalletKeys,
    original: &Transaction,
    utxos: &[WalletUtxo],
    change_script: &Script,
    new_rate: FeeRate,
    incremental_relay: FeeRate,
) -> Result<BuiltTx, SendError> {
    check_unique(utxos)?;
    let mut required: Vec<&WalletUtxo> = Vec::with_capacity(original.input.len());
    for input in &original.input {
        let coin = utxos
            .iter()
            .find(|u| u.outpoint == input.previous_output)
            .ok_or(SendError::UnknownInput {
                outpoint: input.previous_output,
            })?;
        required.push(coin);
    }
    let spent_total = required
        .iter()
        .try_fold(Amount::ZERO, |acc, u| acc.checked_add(units(u.value)))
        .ok_or(SendError::Overflow)?;
    let out_total = original
        .output
        .iter()
        .try_fold(Amount::ZERO, |acc, o| acc.checked_add(o.value))
        .ok_or(SendError::Overflow)?;
    let old_fee = spent_total
        .checked_sub(out_total)
        .ok_or(SendError::Overflow)?;

    let change_at = original
        .output
        .iter()
        .position(|o| o.script_pubkey.as_script() == change_script);
    let outputs: Vec<TxOut> = original
        .output
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != change_at)
        .map(|(_, o)| o.clone())
        .collect();
    if outputs.is_empty() {
        return Err(SendError::NoRecipients);
    }
    let payment = outputs
        .iter()
        .try_fold(Amount::ZERO, |acc, o| acc.checked_add(o.value))
        .ok_or(SendError::Overflow)?;
    let scripts: Vec<&Script> = outputs
        .iter()
        .map(|o| o.script_pubkey.as_script())
        .collect();

    let min_fee = |w: Weight| {
        let at_rate = fee_for_weight(new_rate, w)?;
        let over_old = old_fee.checked_add(fee_for_weight(incremental_relay, w)?)?;
        Some(at_rate.max(over_old))
    };
    let rule = FeeRule {
        rate: new_rate,
        min_fee: &min_fee,
    };
    let per_input = fee_for_weight(new_rate, Weight::from_wu(P2TR_INPUT_WEIGHT));
    let mut extra: Vec<&WalletUtxo> = utxos
        .iter()
        .filter(|u| {
            u.mature
                && u.confirmations > 0
                && !required.iter().any(|r| r.outpoint == u.outpoint)
                && per_input.is_some_and(|fee| units(u.value) > fee)
        })
        .collect();
    extra.sort_by(|a, b| b.value.cmp(&a.value).then(a.outpoint.cmp(&b.outpoint)));

    let selection = largest_first(&required, &extra, payment, &scripts, change_script, &rule)
        .ok_or_else(|| {
            let mut all = required.clone();
            all.extend(extra.iter().copied());
            insufficient(&all, utxos, payment, &scripts, &rule)
        })?;
    let sequence = original
        .input
        .first()
        .map_or(Sequence::ENABLE_RBF_NO_LOCKTIME, |i| i.sequence);
    finish(keys, selection, outputs, change_script, sequence)
}

/// Assembles, checks and signs the selected transaction.
fn finish(
    keys: &WalletKeys,
    selection: Selection<'_>,
    mut outputs: Vec<TxOut>,
    change_script: &Script,
    sequence: Sequence,
) -> Result<BuiltTx, SendError> {
    for coin in &selection.coins {
        let (script, _) = keys.address(coin.keychain, coin.index)?;
        if script != coin.script {
            return Err(SendError::ForeignScript {
                outpoint: coin.outpoint,
                keychain: coin.keychain,
                index: coin.index,
            });
        }
    }
    let change = selection.change.map(|value| {
        outputs.push(TxOut {
            value,
            script_pubkey: change_script.to_owned(),
        });
        outputs.len() - 1
    });
    let mut tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: selection
            .coins
            .iter()
            .map(|c| TxIn {
                previous_output: c.outpoint,
                script_sig: ScriptBuf::new(),
                sequence,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs,
    };
    let spent: Vec<TxOut> = selection.coins.iter().map(|c| c.tx_out()).collect();
    let weight = p2tr_spend_weight(
        tx.input.len(),
        &tx.output
            .iter()
            .map(|o| o.script_pubkey.as_script())
            .collect::<Vec<_>>(),
    );
    if weight > Transaction::MAX_STANDARD_WEIGHT {
        return Err(SendError::TooLarge {
            weight: weight.to_wu(),
        });
    }
    sign_p2tr(keys, &mut tx, &selection.coins, &spent)?;
    Ok(BuiltTx {
        tx,
        fee: share(selection.fee)?,
        spent,
        change,
    })
}

/// Signs every input by key path (`SIGHASH_DEFAULT`, BIP-341 over all prevouts).
fn sign_p2tr(
    keys: &WalletKeys,
    tx: &mut Transaction,
    coins: &[&WalletUtxo],
    spent: &[TxOut],
) -> Result<(), SendError> {
    let secp = Secp256k1::signing_only();
    let mut witnesses = Vec::with_capacity(coins.len());
    {
        let mut cache = SighashCache::new(&*tx);
        for (input, coin) in coins.iter().enumerate() {
            let sighash = cache
                .taproot_key_spend_signature_hash(
                    input,
                    &Prevouts::All(spent),
                    TapSighashType::Default,
                )
                .map_err(|e| SendError::Sighash {
                    input,
                    message: e.to_string(),
                })?;
            let keypair = keys.keypair(coin.keychain, coin.index)?.to_keypair();
            let mut aux = [0u8; 32];
            getrandom::fill(&mut aux).map_err(SendError::Random)?;
            let message = Message::from_digest(sighash.to_byte_array());
            let signature = secp.sign_schnorr_with_aux_rand(&message, &keypair, &aux);
            witnesses.push(Witness::p2tr_key_spend(&bitcoin::taproot::Signature {
                signature,
                sighash_type: TapSighashType::Default,
            }));
        }
    }
    for (input, witness) in tx.input.iter_mut().zip(witnesses) {
        input.witness = witness;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Mnemonic;
    use bitcoin::{Network, Txid};
    use p2share_consensus::script::verify_transaction;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn keys() -> &'static WalletKeys {
        static KEYS: OnceLock<WalletKeys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let m = Mnemonic::from_entropy(&[0x42; 16]).unwrap();
            WalletKeys::from_mnemonic(&m, Network::Regtest).unwrap()
        })
    }

    fn coin(n: u8, value: u64) -> WalletUtxo {
        let index = u32::from(n);
        WalletUtxo {
            outpoint: OutPoint {
                txid: Txid::from_byte_array([n; 32]),
                vout: u32::from(n % 3),
            },
            value: ShareAmount::from_units(value).unwrap(),
            script: keys().address(Keychain::External, index).unwrap().0,
            keychain: Keychain::External,
            index,
            confirmations: 6,
            is_sharebase: false,
            mature: true,
        }
    }

    fn change() -> ScriptBuf {
        keys().address(Keychain::Internal, 0).unwrap().0
    }

    fn recipient() -> ScriptBuf {
        ScriptBuf::from_hex("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap()
    }

    fn pay(amount: u64) -> Vec<(ScriptBuf, ShareAmount)> {
        vec![(recipient(), ShareAmount::from_units(amount).unwrap())]
    }

    fn rate(sat_vb: u32) -> FeeRate {
        FeeRate::from_sat_per_vb_u32(sat_vb)
    }

    /// Verifies with the real interpreter and checks the accounting.
    fn check(built: &BuiltTx, min_rate: FeeRate) {
        verify_transaction(&built.tx, &built.spent).unwrap();
        let input: u64 = built.spent.iter().map(|o| o.value.to_sat()).sum();
        let output: u64 = built.tx.output.iter().map(|o| o.value.to_sat()).sum();
        assert_eq!(input - output, built.fee.to_units());
        let estimate = p2tr_spend_weight(
            built.tx.input.len(),
            &built
                .tx
                .output
                .iter()
                .map(|o| o.script_pubkey.as_script())
                .collect::<Vec<_>>(),
        );
        assert_eq!(built.tx.weight(), estimate, "the estimate is exact");
        assert!(
            Amount::from_sat(built.fee.to_units())
                >= fee_for_weight(min_rate, built.tx.weight()).unwrap()
        );
        for o in &built.tx.output {
            assert!(o.value >= dust_limit(&o.script_pubkey));
        }
        if let Some(i) = built.change {
            assert_eq!(built.tx.output[i].script_pubkey, change());
        }
    }

    #[test]
    fn input_weight_is_57_and_a_half_vbytes() {
        let one = p2tr_spend_weight(1, &[recipient().as_script()]);
        let two = p2tr_spend_weight(2, &[recipient().as_script()]);
        assert_eq!((two - one).to_wu(), 230);
        assert_eq!(Weight::from_wu(P2TR_INPUT_WEIGHT).to_vbytes_floor(), 57);
    }

    #[test]
    fn changeless_when_coins_fit() {
        // 50,000 + 30,000 pays 79,000 at 1 sat/vB plus a few hundred of fee: no change.
        let utxos = [coin(1, 100_000), coin(2, 50_000), coin(3, 30_000)];
        let fee2 = fee_for_weight(rate(1), p2tr_spend_weight(2, &[recipient().as_script()]))
            .unwrap()
            .to_sat();
        let built = build_send(
            keys(),
            &utxos,
            &pay(80_000 - fee2),
            rate(1),
            &change(),
            true,
        )
        .unwrap();
        check(&built, rate(1));
        assert_eq!(built.change, None);
        assert_eq!(built.tx.input.len(), 2);
        assert_eq!(built.fee.to_units(), fee2);
        assert!(built.tx.input.iter().all(|i| i.sequence.0 == 0xffff_fffd));
    }

    #[test]
    fn change_when_no_exact_fit() {
        let utxos = [coin(1, 100_000), coin(2, 50_000), coin(3, 30_000)];
        let built = build_send(keys(), &utxos, &pay(120_000), rate(2), &change(), false).unwrap();
        check(&built, rate(2));
        assert_eq!(built.tx.input.len(), 2);
        let i = built.change.unwrap();
        assert_eq!(i, 1);
        assert!(built.tx.input.iter().all(|i| i.sequence == Sequence::MAX));
        // The fee is exactly the rate's for this size.
        assert_eq!(
            Amount::from_sat(built.fee.to_units()),
            fee_for_weight(rate(2), built.tx.weight()).unwrap()
        );
    }

    #[test]
    fn several_recipients_and_exact_estimates() {
        let utxos: Vec<_> = (1..=6).map(|n| coin(n, 10_000 * u64::from(n))).collect();
        let p2tr = keys().address(Keychain::External, 99).unwrap().0;
        let recipients = vec![
            (recipient(), ShareAmount::from_units(60_000).unwrap()),
            (p2tr, ShareAmount::from_units(70_000).unwrap()),
            (
                ScriptBuf::from_hex("76a914751e76e8199196d454941c45d1b3a323f1433bd688ac").unwrap(),
                ShareAmount::from_units(1_000).unwrap(),
            ),
        ];
        for sat_vb in [1, 3, 25] {
            let built =
                build_send(keys(), &utxos, &recipients, rate(sat_vb), &change(), true).unwrap();
            check(&built, rate(sat_vb));
        }
    }

    #[test]
    fn immature_coins_are_not_spent() {
        let mut young = coin(1, 500_000);
        young.is_sharebase = true;
        young.mature = false;
        let utxos = [young, coin(2, 20_000)];
        match build_send(keys(), &utxos, &pay(100_000), rate(1), &change(), true) {
            Err(SendError::InsufficientFunds {
                available,
                immature,
                needed,
            }) => {
                assert_eq!(available.to_units(), 20_000);
                assert_eq!(immature.to_units(), 500_000);
                assert!(needed.to_units() > 100_000);
            }
            other => panic!("{other:?}"),
        }
        let err = build_send(keys(), &utxos, &pay(100_000), rate(1), &change(), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("0.00500000 more are immature"), "{err}");
        let built = build_send(keys(), &utxos, &pay(10_000), rate(1), &change(), true).unwrap();
        check(&built, rate(1));
        assert_eq!(built.tx.input[0].previous_output, coin(2, 0).outpoint);
    }

    #[test]
    fn recipient_refusals() {
        let utxos = [coin(1, 100_000)];
        assert!(matches!(
            build_send(keys(), &utxos, &[], rate(1), &change(), true),
            Err(SendError::NoRecipients)
        ));
        let zero = vec![(recipient(), ShareAmount::ZERO)];
        assert!(matches!(
            build_send(keys(), &utxos, &zero, rate(1), &change(), true),
            Err(SendError::ZeroAmount { index: 0 })
        ));
        let mut dust = pay(1_000);
        dust.push((recipient(), ShareAmount::from_units(293).unwrap()));
        assert!(matches!(
            build_send(keys(), &utxos, &dust, rate(1), &change(), true),
            Err(SendError::Dust {
                index: 1,
                amount: 293,
                limit: 294
            })
        ));
        let twice = [coin(1, 100_000), coin(1, 100_000)];
        assert!(matches!(
            build_send(keys(), &twice, &pay(1_000), rate(1), &change(), true),
            Err(SendError::DuplicateUtxo { .. })
        ));
        let mut foreign = coin(1, 100_000);
        foreign.index = 2;
        assert!(matches!(
            build_send(keys(), &[foreign], &pay(1_000), rate(1), &change(), true),
            Err(SendError::ForeignScript { index: 2, .. })
        ));
    }

    #[test]
    fn dust_change_goes_to_fee() {
        // One coin that pays the amount and fee with 200 units over: below a change's worth.
        let fee1 = fee_for_weight(rate(1), p2tr_spend_weight(1, &[recipient().as_script()]))
            .unwrap()
            .to_sat();
        let utxos = [coin(1, 50_000)];
        let built = build_send(
            keys(),
            &utxos,
            &pay(50_000 - fee1 - 200),
            rate(1),
            &change(),
            true,
        )
        .unwrap();
        check(&built, rate(1));
        assert_eq!(built.change, None);
        assert_eq!(built.fee.to_units(), fee1 + 200);
    }

    #[test]
    fn uneconomic_coins_are_skipped() {
        // At 10 sat/vB an input costs 575 units: a 500-unit coin is worth nothing.
        let utxos = [coin(1, 500), coin(2, 100_000)];
        let built = build_send(keys(), &utxos, &pay(50_000), rate(10), &change(), true).unwrap();
        check(&built, rate(10));
        assert_eq!(built.tx.input.len(), 1);
    }

    #[test]
    fn lock_estimate_matches_a_real_lock() {
        // terms::lock_weight assumes 2 P2TR inputs, a P2WSH HTLC output and P2TR change.
        let htlc_output =
            ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_slice(&[7; 32]).unwrap());
        let utxos = [coin(1, 60_000), coin(2, 60_000)];
        let payment = vec![(htlc_output, ShareAmount::from_units(100_000).unwrap())];
        let built = build_send(keys(), &utxos, &payment, rate(1), &change(), true).unwrap();
        check(&built, rate(1));
        assert_eq!(built.tx.input.len(), 2);
        assert!(built.change.is_some());
        assert_eq!(built.tx.weight(), crate::terms::lock_weight());
    }

    #[test]
    fn bump_reduces_change() {
        let utxos = [coin(1, 100_000), coin(2, 50_000)];
        let original = build_send(keys(), &utxos, &pay(90_000), rate(1), &change(), true).unwrap();
        let incremental = rate(1);
        let bumped = bump_fee(
            keys(),
            &original.tx,
            &utxos,
            &change(),
            rate(5),
            incremental,
        )
        .unwrap();
        check(&bumped, rate(5));
        assert_eq!(
            bumped
                .tx
                .input
                .iter()
                .map(|i| i.previous_output)
                .collect::<Vec<_>>(),
            original
                .tx
                .input
                .iter()
                .map(|i| i.previous_output)
                .collect::<Vec<_>>()
        );
        assert_eq!(bumped.tx.output[0], original.tx.output[0]);
        let old_change = original.tx.output[original.change.unwrap()].value;
        let new_change = bumped.tx.output[bumped.change.unwrap()].value;
        assert!(new_change < old_change);
        // BIP-125 rules 3 and 4.
        let vsize = bumped.tx.weight();
        assert!(
            Amount::from_sat(bumped.fee.to_units())
                >= Amount::from_sat(original.fee.to_units())
                    + fee_for_weight(incremental, vsize).unwrap()
        );
    }

    #[test]
    fn bump_by_the_incremental_fee_alone() {
        // Same rate: the replacement still pays old fee + incremental × size.
        let utxos = [coin(1, 100_000)];
        let original = build_send(keys(), &utxos, &pay(40_000), rate(3), &change(), true).unwrap();
        let bumped = bump_fee(keys(), &original.tx, &utxos, &change(), rate(3), rate(1)).unwrap();
        check(&bumped, rate(3));
        assert_eq!(
            bumped.fee.to_units(),
            original.fee.to_units()
                + fee_for_weight(rate(1), bumped.tx.weight())
                    .unwrap()
                    .to_sat()
        );
    }

    #[test]
    fn bump_adds_a_confirmed_coin_when_change_cannot_pay() {
        let utxos_before = [coin(1, 10_000)];
        let fee1 = fee_for_weight(rate(1), p2tr_spend_weight(1, &[recipient().as_script()]))
            .unwrap()
            .to_sat();
        let original = build_send(
            keys(),
            &utxos_before,
            &pay(10_000 - fee1),
            rate(1),
            &change(),
            true,
        )
        .unwrap();
        assert_eq!(original.change, None);
        let mut unconfirmed = coin(2, 900_000);
        unconfirmed.confirmations = 0;
        let utxos = [coin(1, 10_000), unconfirmed, coin(3, 20_000)];
        let bumped = bump_fee(keys(), &original.tx, &utxos, &change(), rate(20), rate(1)).unwrap();
        check(&bumped, rate(20));
        let inputs: Vec<_> = bumped.tx.input.iter().map(|i| i.previous_output).collect();
        assert_eq!(inputs, vec![coin(1, 0).outpoint, coin(3, 0).outpoint]);
        // Nothing confirmed left to add: refused.
        let poor = [coin(1, 10_000)];
        assert!(matches!(
            bump_fee(keys(), &original.tx, &poor, &change(), rate(20), rate(1)),
            Err(SendError::InsufficientFunds { .. })
        ));
        assert!(matches!(
            bump_fee(
                keys(),
                &original.tx,
                &[coin(3, 1)],
                &change(),
                rate(20),
                rate(1)
            ),
            Err(SendError::UnknownInput { .. })
        ));
    }

    #[test]
    fn bump_drops_change_that_would_be_dust() {
        let fee_with_change = fee_for_weight(
            rate(1),
            p2tr_spend_weight(1, &[recipient().as_script(), change().as_script()]),
        )
        .unwrap()
        .to_sat();
        // Change of 700 at 1 sat/vB; at 4 sat/vB the extra fee leaves less than 330.
        let utxos = [coin(1, 20_000)];
        let original = build_send(
            keys(),
            &utxos,
            &pay(20_000 - fee_with_change - 700),
            rate(1),
            &change(),
            true,
        )
        .unwrap();
        assert_eq!(
            original.tx.output[original.change.unwrap()].value.to_sat(),
            700
        );
        let bumped = bump_fee(keys(), &original.tx, &utxos, &change(), rate(4), rate(1)).unwrap();
        check(&bumped, rate(4));
        assert_eq!(bumped.change, None);
        assert_eq!(bumped.tx.output.len(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any coins, any payment: either a valid, verified transaction paying at least the rate
        /// with change above dust, or insufficient funds when the spendable coins cannot cover
        /// the payment and a one-input fee.
        #[test]
        fn send_invariants(
            values in proptest::collection::vec(1_000u64..2_000_000, 1..12),
            amount in 1_000u64..5_000_000,
            sat_vb in 1u32..40,
            immature_mask in any::<u16>(),
        ) {
            let utxos: Vec<_> = values.iter().enumerate().map(|(i, &v)| {
                let mut c = coin(u8::try_from(i + 1).unwrap(), v);
                c.mature = immature_mask & (1 << i) == 0;
                c
            }).collect();
            match build_send(keys(), &utxos, &pay(amount), rate(sat_vb), &change(), true) {
                Ok(built) => {
                    check(&built, rate(sat_vb));
                    for input in &built.tx.input {
                        let c = utxos.iter().find(|u| u.outpoint == input.previous_output).unwrap();
                        prop_assert!(c.mature);
                    }
                    // Change, when present, is worth keeping; a changeless excess is small.
                    if built.change.is_none() {
                        let min = fee_for_weight(rate(sat_vb), built.tx.weight()).unwrap().to_sat();
                        let change_cost = fee_for_weight(rate(sat_vb), Weight::from_wu(43 * 4 + 230)).unwrap().to_sat() + 330;
                        prop_assert!(built.fee.to_units() <= min + change_cost + 43 * u64::from(sat_vb));
                    }
                }
                Err(SendError::InsufficientFunds { available, .. }) => {
                    let spendable: u64 = utxos.iter().filter(|u| u.mature).map(|u| u.value.to_units()).sum();
                    prop_assert_eq!(available.to_units(), spendable);
                    // Spending every spendable coin could not pay (up to a unit of rounding per
                    // input; uneconomic coins are worth less than their own fee).
                    let n = utxos.iter().filter(|u| u.mature).count().max(1);
                    let all_fee = fee_for_weight(rate(sat_vb), p2tr_spend_weight(n, &[recipient().as_script()])).unwrap().to_sat();
                    prop_assert!(spendable < amount + all_fee + u64::try_from(n).unwrap() * u64::from(sat_vb));
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
