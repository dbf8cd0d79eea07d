//! A corpus of invalid shares: for every consensus [`Rule`], shares that are valid in every
//! respect except that one rule, each rejected with its frozen reason code and [`Location`], and
//! leaving the chain (tip, work, UTXO set, next payout) untouched. Then a corpus of malformed
//! encodings, each refused with a [`DecodeError`] of the expected kind and offset.
//!
//! Technique: start from a valid, ground share (`TestChain::make_share`), break one rule, and
//! repair everything the change touches — `tx_root` after the transactions change, the commitment
//! output after the share header changes, the Bitcoin header's merkle root after the coinbase
//! changes, and the proof of work after the Bitcoin header changes. Where it matters, a control
//! (the same share with the rule just met, offered to a copy of the chain) shows that the repaired
//! share is otherwise valid.

// Helpers outside #[test] functions unwrap and panic as tests do: a failing unwrap is a failing
// test (clippy.toml allows it inside #[test] functions only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_RETURN};
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxMerkleNode, TxOut, Txid, Witness,
};
use p2share_consensus::builder::grind;
use p2share_consensus::chain::AcceptOutcome;
use p2share_consensus::pow::{check_proof_of_work, decode_compact};
use p2share_consensus::share::{
    DecodeError, DecodeErrorKind, MAX_COINBASE_SIZE, MAX_MERKLE_BRANCH, MAX_SHARE_SIZE,
    MIN_TRANSACTION_SIZE,
};
use p2share_consensus::utxo::{Coin, UtxoSet};
use p2share_consensus::validation::{
    check_share, commitment_prefix, commitment_script, connect_transactions, height_push, tx_root,
    ChainTimes, Location, Rule, ValidationError,
};
use p2share_consensus::{
    ChainError, ChainParams, ChainState, Share, ShareAmount, ShareHead, ShareHeader,
};
use p2share_testkit::{
    genesis_spendables, spend, spend_with as tx_with, test_params, Kind, Spendable, TestChain,
    TestKey,
};

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

/// Genesis allocation: (value, key seed). Mature from the start, so payouts are selected.
const ALLOC: &[(u64, u64)] = &[(100_000_000, 1), (300_000_000, 2), (600_000_000, 3)];
/// The regtest pow limit (about half of all hashes meet it).
const REGTEST_LIMIT: u32 = 0x207f_ffff;
/// Sharebase subsidy of the test networks.
const SUBSIDY: u64 = 5_000_000_000;

fn miner_key() -> TestKey {
    TestKey::from_seed(99)
}

fn miner() -> ScriptBuf {
    miner_key().script(Kind::P2wpkh)
}

fn pay(value: u64) -> TxOut {
    TxOut {
        value: Amount::from_sat(value),
        script_pubkey: miner(),
    }
}

/// A chain with the genesis allocation, maturity 2, and its spendable allocation outputs
/// (1, 3 and 6 shares).
fn funded() -> (TestChain, Vec<Spendable>) {
    funded_with(test_params(2, ALLOC))
}

fn funded_with(params: ChainParams) -> (TestChain, Vec<Spendable>) {
    let t = TestChain::new(params).unwrap();
    let coins = genesis_spendables(&t.chain, ALLOC);
    assert_eq!(coins.len(), ALLOC.len());
    (t, coins)
}

fn magic(t: &TestChain) -> [u8; 4] {
    t.chain.params().magic
}

/// Searches nonces from 0 for a Bitcoin header meeting the share target, *without* touching the
/// merkle root. Malformed bits never reach the proof-of-work check; for them it grinds against
/// the regtest limit anyway, so the share meets the easiest target a network may have.
fn grind_only(share: &mut Share) {
    share.head.work.header.nonce = 0;
    if decode_compact(share.head.header.bits).is_ok() {
        assert!(grind(share, 1 << 24), "no nonce meets the target");
    } else {
        let target = decode_compact(REGTEST_LIMIT).unwrap();
        while !check_proof_of_work(&share.head.work.header.block_hash(), &target) {
            share.head.work.header.nonce += 1;
        }
    }
}

/// After the coinbase changed: recompute the Bitcoin header's merkle root and re-grind.
fn regrind(share: &mut Share) {
    share.head.work.header.merkle_root = share.head.work.computed_merkle_root();
    grind_only(share);
}

/// After the share header changed: rewrite every commitment output for the new header, then
/// [`regrind`].
fn recommit(share: &mut Share, magic: [u8; 4]) {
    let prefix = commitment_prefix(magic);
    let script = commitment_script(magic, &share.head.header);
    for out in &mut share.head.work.coinbase.output {
        if out.script_pubkey.as_bytes().starts_with(&prefix) {
            out.script_pubkey = script.clone();
        }
    }
    regrind(share);
}

/// After the transactions changed: recompute `tx_root`, then [`recommit`].
fn reseal(share: &mut Share, magic: [u8; 4]) {
    share.head.header.tx_root = tx_root(&share.txs);
    recommit(share, magic);
}

/// Sets the first nonce whose Bitcoin header hash does NOT meet the share target.
fn miss(share: &mut Share) {
    let target = decode_compact(share.head.header.bits).unwrap();
    share.head.work.header.nonce = 0;
    while check_proof_of_work(&share.head.work.header.block_hash(), &target) {
        share.head.work.header.nonce += 1;
    }
}

/// Replaces the sharebase scriptSig.
fn set_sharebase_sig(share: &mut Share, sig: Vec<u8>) {
    share.txs[0].input[0].script_sig = ScriptBuf::from_bytes(sig);
}

fn txid(tx: &Transaction) -> Txid {
    tx.compute_txid()
}

fn at_tx(index: usize, tx: &Transaction) -> Location {
    Location::Tx {
        index,
        txid: txid(tx),
    }
}

fn at_input(index: usize, tx: &Transaction, input: usize) -> Location {
    Location::Input {
        index,
        txid: txid(tx),
        input,
    }
}

/// Everything a rejection must leave as it was.
#[derive(Debug, PartialEq)]
struct ChainView {
    tip: p2share_consensus::ShareHash,
    height: u32,
    work: bitcoin::pow::Work,
    utxo: p2share_consensus::utxo::UtxoSnapshot,
    payout: Option<p2share_consensus::Payout>,
    next_bits: u32,
    mtp: u32,
}

impl ChainView {
    fn of(chain: &ChainState) -> ChainView {
        ChainView {
            tip: chain.tip_hash(),
            height: chain.height(),
            work: chain.tip_work(),
            utxo: chain.utxo().snapshot(),
            payout: chain.next_payout(),
            next_bits: chain.next_bits(),
            mtp: chain.median_time_past(),
        }
    }
}

/// Offers `share` to `chain` at clock `now` and expects it refused for `rule`, whose code must be
/// `code`; checks that nothing changed and returns the error for location checks.
fn reject_at(
    chain: &mut ChainState,
    share: Share,
    now: u64,
    rule: Rule,
    code: &str,
) -> ValidationError {
    let before = ChainView::of(chain);
    let hash = share.hash();
    let result = chain.accept_share(share, now);
    assert_eq!(
        ChainView::of(chain),
        before,
        "a rejected share changed the chain"
    );
    assert!(chain.share(&hash).is_none(), "a rejected share was stored");
    match result {
        Err(ChainError::Invalid { hash: h, error }) => {
            assert_eq!(h, hash);
            assert_eq!(error.rule, rule, "{error}");
            assert_eq!(error.rule.code(), code, "{error}");
            assert!(error.to_string().starts_with(code), "{error}");
            error
        }
        other => panic!("expected {code}, got {other:?}"),
    }
}

/// [`reject_at`] on a test chain at its clock.
fn reject(t: &mut TestChain, share: Share, rule: Rule, code: &str) -> ValidationError {
    let now = t.now;
    reject_at(&mut t.chain, share, now, rule, code)
}

/// The control: a copy of `chain` accepts `share` as its new tip.
fn accepts_at(chain: &ChainState, share: &Share, now: u64) {
    let mut copy = chain.clone();
    match copy.accept_share(share.clone(), now) {
        Ok(AcceptOutcome::Extended) => {}
        other => panic!("the control share was refused: {other:?}"),
    }
}

fn accepts(t: &TestChain, share: &Share) {
    accepts_at(&t.chain, share, t.now);
}

/// A spendable for output `vout` of `tx`, controlled by the miner key.
fn miner_output(tx: &Transaction, vout: u32) -> Spendable {
    Spendable {
        outpoint: OutPoint {
            txid: txid(tx),
            vout,
        },
        output: tx.output[vout as usize].clone(),
        key: miner_key(),
        kind: Kind::P2wpkh,
    }
}

/// A script of `n` OP_CHECKSIG: `n` legacy sigops, cost `4 n`.
fn checksigs(n: usize) -> ScriptBuf {
    let mut b = Builder::new();
    for _ in 0..n {
        b = b.push_opcode(OP_CHECKSIG);
    }
    b.into_script()
}

/// `OP_RETURN <data>` with `len` bytes of data.
fn op_return(len: usize) -> ScriptBuf {
    Builder::new()
        .push_opcode(OP_RETURN)
        .push_slice(PushBytesBuf::try_from(vec![0xab; len]).unwrap())
        .into_script()
}

/// Fixed median times past, for calling `connect_transactions` directly.
struct Mtp(u32);

impl ChainTimes for Mtp {
    fn median_time_past(&self, _height: u32) -> u32 {
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// The codes
// ---------------------------------------------------------------------------------------------

/// Every rule with its reason code, frozen: changing a code is a protocol change.
const CODES: &[(Rule, &str)] = &[
    (Rule::BadVersion, "bad-version"),
    (Rule::BadDiffBits, "bad-diffbits"),
    (Rule::HighHash, "high-hash"),
    (Rule::BadCoinbaseMissing, "bad-cb-missing"),
    (Rule::BadCoinbaseLength, "bad-cb-length"),
    (Rule::BadWorkMerkle, "bad-work-merkle"),
    (Rule::CommitmentMissing, "bad-commitment-missing"),
    (Rule::CommitmentMultiple, "bad-commitment-multiple"),
    (Rule::CommitmentMismatch, "bad-commitment"),
    (Rule::PayoutCount, "bad-cb-payout-count"),
    (Rule::BadPayee, "bad-cb-payee"),
    (Rule::NoTransactions, "bad-blk-length"),
    (Rule::SharebaseMissing, "bad-sb-missing"),
    (Rule::SharebaseMultiple, "bad-sb-multiple"),
    (Rule::SharebaseLength, "bad-sb-length"),
    (Rule::SharebaseHeight, "bad-sb-height"),
    (Rule::SharebaseAmount, "bad-sb-amount"),
    (Rule::BadTxRoot, "bad-txnmrklroot"),
    (Rule::DuplicateTx, "bad-txns-duplicate"),
    (Rule::Weight, "bad-blk-weight"),
    (Rule::Sigops, "bad-blk-sigops"),
    (Rule::NoInputs, "bad-txns-vin-empty"),
    (Rule::NoOutputs, "bad-txns-vout-empty"),
    (Rule::OutputTooLarge, "bad-txns-vout-toolarge"),
    (Rule::OutputTotalTooLarge, "bad-txns-txouttotal-toolarge"),
    (Rule::DuplicateInputs, "bad-txns-inputs-duplicate"),
    (Rule::NullPrevout, "bad-txns-prevout-null"),
    (Rule::MissingInputs, "bad-txns-inputs-missingorspent"),
    (
        Rule::PrematureSpend,
        "bad-txns-premature-spend-of-sharebase",
    ),
    (
        Rule::InputValuesOutOfRange,
        "bad-txns-inputvalues-outofrange",
    ),
    (Rule::InBelowOut, "bad-txns-in-belowout"),
    (Rule::NonFinal, "bad-txns-nonfinal"),
    (Rule::SequenceLock, "bad-txns-sequence-lock"),
    (Rule::OverwriteOutput, "bad-txns-BIP30"),
    (Rule::ScriptFailed, "bad-txns-script-failed"),
    (Rule::BadHeight, "bad-height"),
    (Rule::TimeTooOld, "time-too-old"),
    (Rule::TimeTooNew, "time-too-new"),
    (Rule::BadPrevShare, "bad-prevshare"),
    (Rule::WorkTooLarge, "bad-work-size"),
    (Rule::ShareTooLarge, "bad-share-size"),
    (Rule::Tx64Bytes, "bad-txns-size-64"),
];

#[test]
fn every_rule_has_its_frozen_code() {
    assert_eq!(
        CODES.len(),
        Rule::ALL.len(),
        "a rule was added: give it a case below"
    );
    let mut rules = std::collections::HashSet::new();
    let mut codes = std::collections::HashSet::new();
    for (rule, code) in CODES {
        assert_eq!(rule.code(), *code);
        assert_eq!(rule.to_string(), *code);
        assert!(rules.insert(*rule), "{rule:?} listed twice");
        assert!(codes.insert(*code), "code {code} used twice");
    }
}

// ---------------------------------------------------------------------------------------------
// Share head: version, difficulty, proof of work
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_version() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    accepts(&t, &base);
    for version in [0, 2, u32::MAX] {
        let mut s = base.clone();
        s.head.header.version = version;
        recommit(&mut s, magic(&t));
        let e = reject(&mut t, s, Rule::BadVersion, "bad-version");
        assert_eq!(e.at, Location::Header);
    }
}

#[test]
fn bad_diffbits_malformed_or_above_the_limit() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    assert_eq!(base.head.header.bits, REGTEST_LIMIT);
    for bits in [
        0x2100_ffff, // a valid target above the pow limit
        0x2080_ffff, // negative
        0x2000_0000, // zero
        0x2300_ffff, // overflows 256 bits
    ] {
        let mut s = base.clone();
        s.head.header.bits = bits;
        recommit(&mut s, magic(&t));
        let e = reject(&mut t, s, Rule::BadDiffBits, "bad-diffbits");
        assert_eq!(e.at, Location::Header);
    }
}

#[test]
fn bad_diffbits_not_the_asert_value() {
    // Harder than required: a valid target below the limit that is not the ASERT value.
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    let mut s = base.clone();
    s.head.header.bits = 0x2000_ffff;
    assert_ne!(s.head.header.bits, t.chain.next_bits());
    recommit(&mut s, magic(&t));
    let e = reject(&mut t, s.clone(), Rule::BadDiffBits, "bad-diffbits");
    assert_eq!(e.at, Location::Header);
    assert!(e.detail.contains("expected"), "{e}");
    // Contextual failures are remembered.
    assert!(matches!(
        t.chain.accept_share(s, t.now),
        Err(ChainError::KnownInvalid(_))
    ));

    // Easier than required: shares ahead of schedule make ASERT ask for less than the limit;
    // a share carrying the limit is then refused.
    let (mut t, _) = funded();
    let genesis_time = u64::from(t.chain.params().genesis_time);
    for _ in 0..6 {
        t.now = genesis_time;
        t.mine(&miner(), vec![]).unwrap();
    }
    let expected = t.chain.next_bits();
    assert_ne!(expected, REGTEST_LIMIT, "the chain is ahead of schedule");
    let base = t.make_share(&miner(), vec![]).unwrap();
    assert_eq!(base.head.header.bits, expected);
    accepts(&t, &base);
    let mut s = base.clone();
    s.head.header.bits = REGTEST_LIMIT;
    recommit(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::BadDiffBits, "bad-diffbits");
    assert_eq!(e.at, Location::Header);
}

#[test]
fn high_hash() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    let mut s = base.clone();
    miss(&mut s);
    let e = reject(&mut t, s, Rule::HighHash, "high-hash");
    assert_eq!(e.at, Location::Work);

    // With a harder custom limit (one hash in 2^12 meets it) almost every nonce misses.
    let mut params = test_params(2, ALLOC);
    params.pow_limit_bits = 0x1f0f_ffff;
    params.genesis_bits = 0x1f0f_ffff;
    let (mut hard, _) = funded_with(params);
    let base = hard.make_share(&miner(), vec![]).unwrap();
    accepts(&hard, &base);
    let mut s = base.clone();
    s.head.work.header.nonce = s.head.work.header.nonce.wrapping_add(1);
    let target = decode_compact(s.head.header.bits).unwrap();
    if check_proof_of_work(&s.head.work.header.block_hash(), &target) {
        miss(&mut s);
    }
    let e = reject(&mut hard, s, Rule::HighHash, "high-hash");
    assert_eq!(e.at, Location::Work);
}

// ---------------------------------------------------------------------------------------------
// Bitcoin work: coinbase, merkle link, commitment, payout
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_coinbase_missing() {
    let (mut t, coins) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    // The coinbase's input spends a real outpoint.
    let mut s = base.clone();
    s.head.work.coinbase.input[0].previous_output = coins[0].outpoint;
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::BadCoinbaseMissing, "bad-cb-missing");
    assert_eq!(e.at, Location::Work);
    // A second (null) input: no longer coinbase-shaped.
    let mut s = base.clone();
    let extra = s.head.work.coinbase.input[0].clone();
    s.head.work.coinbase.input.push(extra);
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::BadCoinbaseMissing, "bad-cb-missing");
    assert_eq!(e.at, Location::Work);
}

#[test]
fn bad_coinbase_length() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    for (len, ok) in [(0, false), (1, false), (2, true), (100, true), (101, false)] {
        let mut s = base.clone();
        s.head.work.coinbase.input[0].script_sig = ScriptBuf::from_bytes(vec![0x61; len]);
        regrind(&mut s);
        if ok {
            accepts(&t, &s);
        } else {
            let e = reject(&mut t, s, Rule::BadCoinbaseLength, "bad-cb-length");
            assert_eq!(e.at, Location::Work);
            assert!(e.detail.contains(&format!("{len} bytes")), "{e}");
        }
    }
}

/// What validates must decode: a branch or coinbase beyond the decoder's limits is refused by
/// validation too, so a node never accepts a share its peers cannot read.
#[test]
fn work_too_large() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    let sibling = TxMerkleNode::from_byte_array([0x5a; 32]);
    let mut ok = base.clone();
    ok.head.work.merkle_branch = vec![sibling; 32];
    regrind(&mut ok);
    accepts(&t, &ok);
    let mut s = base.clone();
    s.head.work.merkle_branch = vec![sibling; 33];
    regrind(&mut s);
    assert!(Share::decode(&s.encode()).is_err());
    let e = reject(&mut t, s, Rule::WorkTooLarge, "bad-work-size");
    assert_eq!(e.at, Location::Work);
    // A coinbase over 16 KiB (a large zero-value OP_RETURN).
    let mut s = base.clone();
    s.head.work.coinbase.output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: op_return(16_400),
    });
    regrind(&mut s);
    assert!(Share::decode(&s.encode()).is_err());
    let e = reject(&mut t, s, Rule::WorkTooLarge, "bad-work-size");
    assert_eq!(e.at, Location::Work);
}

/// A share whose encoding exceeds MAX_SHARE_SIZE is refused even where weight would allow it.
#[test]
fn share_too_large() {
    let (mut t, _) = funded();
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    // Pad the sharebase with zero-value OP_RETURN outputs: 4.1 MB of non-witness bytes (weight
    // 16 MWU — the size rule fires first, as it is checked before weight).
    for _ in 0..41 {
        s.txs[0].output.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: op_return(100_000),
        });
    }
    let m = magic(&t);
    reseal(&mut s, m);
    assert!(s.encoded_size() > p2share_consensus::share::MAX_SHARE_SIZE);
    assert_eq!(s.encoded_size(), s.encode().len());
    let e = reject(&mut t, s, Rule::ShareTooLarge, "bad-share-size");
    assert_eq!(e.at, Location::Share);
}

#[test]
fn bad_work_merkle() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    let sibling = TxMerkleNode::from_byte_array([0x5a; 32]);
    // Control: a branch is fine when the header's root folds it in.
    let mut ok = base.clone();
    ok.head.work.merkle_branch = vec![sibling, sibling];
    regrind(&mut ok);
    accepts(&t, &ok);
    // A sibling the header's merkle root does not include.
    let mut s = base.clone();
    s.head.work.merkle_branch.push(sibling);
    grind_only(&mut s);
    let e = reject(&mut t, s, Rule::BadWorkMerkle, "bad-work-merkle");
    assert_eq!(e.at, Location::Work);
    // A header root of something else.
    let mut s = base.clone();
    s.head.work.header.merkle_root = TxMerkleNode::from_byte_array([0x11; 32]);
    grind_only(&mut s);
    let e = reject(&mut t, s, Rule::BadWorkMerkle, "bad-work-merkle");
    assert_eq!(e.at, Location::Work);
}

#[test]
fn commitment_missing() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    // The commitment of another network (magic `p2sm`) is no commitment here.
    let mut s = base.clone();
    s.head.work.coinbase.output[1].script_pubkey = commitment_script(*b"p2sm", &s.head.header);
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::CommitmentMissing, "bad-commitment-missing");
    assert_eq!(e.at, Location::Work);
    // No commitment output at all.
    let mut s = base.clone();
    s.head.work.coinbase.output.truncate(1);
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::CommitmentMissing, "bad-commitment-missing");
    assert_eq!(e.at, Location::Work);
}

#[test]
fn commitment_multiple() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    // The correct commitment twice: the second one is reported.
    let mut s = base.clone();
    let dup = s.head.work.coinbase.output[1].clone();
    s.head.work.coinbase.output.push(dup);
    regrind(&mut s);
    let e = reject(
        &mut t,
        s,
        Rule::CommitmentMultiple,
        "bad-commitment-multiple",
    );
    assert_eq!(e.at, Location::CoinbaseOutput(2));
    // Any output starting with the prefix counts, even before the real commitment.
    let mut s = base.clone();
    let mut junk = commitment_prefix(magic(&t)).to_vec();
    junk.extend_from_slice(&[0u8; 32]);
    s.head.work.coinbase.output.insert(
        1,
        TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::from_bytes(junk),
        },
    );
    regrind(&mut s);
    let e = reject(
        &mut t,
        s,
        Rule::CommitmentMultiple,
        "bad-commitment-multiple",
    );
    assert_eq!(e.at, Location::CoinbaseOutput(2));
}

#[test]
fn commitment_mismatch() {
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let base = t.make_share(&miner(), vec![tx]).unwrap();

    // Other transactions under the same proof of work: the share id is unchanged (it is the
    // Bitcoin header's hash), but the commitment no longer matches the header.
    let mut s = base.clone();
    s.txs.truncate(1);
    s.txs[0].output[0].value = Amount::from_sat(SUBSIDY);
    s.head.header.tx_root = tx_root(&s.txs);
    assert_eq!(s.hash(), base.hash());
    let e = reject(&mut t, s, Rule::CommitmentMismatch, "bad-commitment");
    assert_eq!(e.at, Location::CoinbaseOutput(1));
    // Context-free failures are not remembered: the real share with that id is still accepted.
    accepts(&t, &base);

    // A changed header field (time) under the old commitment, re-ground.
    let mut s = base.clone();
    s.head.header.time += 1;
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::CommitmentMismatch, "bad-commitment");
    assert_eq!(e.at, Location::CoinbaseOutput(1));

    // A corrupted commitment hash.
    let mut s = base.clone();
    let mut bytes = s.head.work.coinbase.output[1].script_pubkey.to_bytes();
    *bytes.last_mut().unwrap() ^= 1;
    s.head.work.coinbase.output[1].script_pubkey = ScriptBuf::from_bytes(bytes);
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::CommitmentMismatch, "bad-commitment");
    assert_eq!(e.at, Location::CoinbaseOutput(1));

    // The right commitment carrying value (taken from the payout; checked before the payout
    // count, which the value also breaks).
    let mut s = base.clone();
    s.head.work.coinbase.output[1].value = Amount::from_sat(1);
    let v = s.head.work.coinbase.output[0].value.to_sat();
    s.head.work.coinbase.output[0].value = Amount::from_sat(v - 1);
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::CommitmentMismatch, "bad-commitment");
    assert_eq!(e.at, Location::CoinbaseOutput(1));
}

#[test]
fn payout_count() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    // Two outputs of non-zero value.
    let mut s = base.clone();
    s.head.work.coinbase.output.push(pay(1));
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::PayoutCount, "bad-cb-payout-count");
    assert_eq!(e.at, Location::Work);
    // None (the payout's value is zero).
    let mut s = base.clone();
    s.head.work.coinbase.output[0].value = Amount::ZERO;
    regrind(&mut s);
    let e = reject(&mut t, s.clone(), Rule::PayoutCount, "bad-cb-payout-count");
    assert_eq!(e.at, Location::Work);
    // `connect_transactions` repeats the check defensively (through the chain, `check_head`
    // always fires first, so this path is reached only by calling it directly).
    let mtp = t.chain.median_time_past();
    let e = connect_transactions(
        t.chain.params(),
        &s,
        t.chain.utxo(),
        t.chain.next_payout().as_ref(),
        &Mtp(mtp),
    )
    .unwrap_err();
    assert_eq!(e.rule, Rule::PayoutCount);
    assert_eq!(e.rule.code(), "bad-cb-payout-count");
    assert_eq!(e.at, Location::Work);
}

#[test]
fn bad_payee() {
    // With eligible outputs: the coinbase must pay the selected script. Paying the miner
    // instead, with the payout after the commitment so its index is 1.
    let (mut t, _) = funded();
    let selected = t.chain.next_payout().unwrap().script_pubkey;
    assert_ne!(selected, miner());
    let base = t.make_share(&miner(), vec![]).unwrap();
    let mut s = base.clone();
    s.head.work.coinbase.output.swap(0, 1);
    s.head.work.coinbase.output[1].script_pubkey = miner();
    regrind(&mut s);
    let mut ok = base.clone();
    ok.head.work.coinbase.output.swap(0, 1);
    regrind(&mut ok);
    accepts(&t, &ok);
    let e = reject(&mut t, s.clone(), Rule::BadPayee, "bad-cb-payee");
    assert_eq!(e.at, Location::CoinbaseOutput(1));
    assert!(e.detail.contains(&selected.to_hex_string()), "{e}");
    // Failures against the UTXO set are remembered.
    assert!(matches!(
        t.chain.accept_share(s, t.now),
        Err(ChainError::KnownInvalid(_))
    ));

    // While n = 0 (no allocation, nothing mature), the coinbase must pay the share's own
    // sharebase output 0 script.
    let mut t = TestChain::new(ChainParams::regtest()).unwrap();
    assert!(t.chain.next_payout().is_none());
    let base = t.make_share(&miner(), vec![]).unwrap();
    let other = TestKey::from_seed(5).script(Kind::P2wpkh);
    // The coinbase pays someone else ...
    let mut s = base.clone();
    s.head.work.coinbase.output[0].script_pubkey = other.clone();
    regrind(&mut s);
    let e = reject(&mut t, s, Rule::BadPayee, "bad-cb-payee");
    assert_eq!(e.at, Location::CoinbaseOutput(0));
    // ... or the sharebase pays someone else than the coinbase does.
    let mut s = base.clone();
    s.txs[0].output[0].script_pubkey = other;
    reseal(&mut s, t.chain.params().magic);
    let e = reject(&mut t, s, Rule::BadPayee, "bad-cb-payee");
    assert_eq!(e.at, Location::CoinbaseOutput(0));
}

// ---------------------------------------------------------------------------------------------
// Share body: sharebase, tx_root, duplicates, weight
// ---------------------------------------------------------------------------------------------

#[test]
fn no_transactions() {
    // Only an in-memory share can have no transactions: `Share::decode` refuses a count of 0
    // (see `decode_tx_count_zero_or_huge`).
    let (mut t, _) = funded();
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.clear();
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::NoTransactions, "bad-blk-length");
    assert_eq!(e.at, Location::Share);
}

#[test]
fn sharebase_missing() {
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let base = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    // The first transaction is an ordinary spend.
    let mut s = base.clone();
    s.txs.remove(0);
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::SharebaseMissing, "bad-sb-missing");
    assert_eq!(e.at, at_tx(0, &tx));
    // The sharebase's input is not null.
    let mut s = base.clone();
    s.txs[0].input[0].previous_output = coins[1].outpoint;
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::SharebaseMissing, "bad-sb-missing");
    assert_eq!(e.at, at_tx(0, &sb));
    // Two null inputs.
    let mut s = base.clone();
    let extra = s.txs[0].input[0].clone();
    s.txs[0].input.push(extra);
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::SharebaseMissing, "bad-sb-missing");
    assert_eq!(e.at, at_tx(0, &sb));
}

#[test]
fn sharebase_multiple() {
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let mut s = t.make_share(&miner(), vec![tx]).unwrap();
    let mut second = s.txs[0].clone();
    let mut sig = height_push(1).into_bytes();
    sig.extend_from_slice(b"\x06second");
    second.input[0].script_sig = ScriptBuf::from_bytes(sig);
    second.output[0].value = Amount::ZERO;
    s.txs.insert(1, second.clone());
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::SharebaseMultiple, "bad-sb-multiple");
    assert_eq!(e.at, at_tx(1, &second));
}

#[test]
fn sharebase_length() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    assert_eq!(base.head.header.height, 1);
    let push = height_push(1).into_bytes();
    assert_eq!(push, vec![0x51], "OP_1");
    for (len, ok) in [(1, false), (2, true), (100, true), (101, false)] {
        let mut sig = push.clone();
        sig.resize(len, 0x00);
        let mut s = base.clone();
        set_sharebase_sig(&mut s, sig);
        reseal(&mut s, magic(&t));
        if ok {
            accepts(&t, &s);
        } else {
            let sb = s.txs[0].clone();
            let e = reject(&mut t, s, Rule::SharebaseLength, "bad-sb-length");
            assert_eq!(e.at, at_tx(0, &sb));
        }
    }
}

#[test]
fn sharebase_height() {
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    assert_eq!(base.head.header.height, 1);
    for sig in [
        vec![0x52, 0x00],       // OP_2: the push of height 2
        vec![0x01, 0x01],       // a non-minimal push of 1
        vec![0x00, 0x51],       // OP_0 first
        vec![0x61, 0x51, 0x00], // the push of 1, but not first
    ] {
        let mut s = base.clone();
        set_sharebase_sig(&mut s, sig);
        reseal(&mut s, magic(&t));
        let sb = s.txs[0].clone();
        let e = reject(&mut t, s, Rule::SharebaseHeight, "bad-sb-height");
        assert_eq!(e.at, at_tx(0, &sb));
    }
}

#[test]
fn sharebase_amount() {
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let base = t.make_share(&miner(), vec![tx]).unwrap();
    // The builder claims subsidy plus the fee exactly.
    assert_eq!(base.txs[0].output[0].value.to_sat(), SUBSIDY + 10_000);
    accepts(&t, &base);
    // One unit more.
    let mut s = base.clone();
    s.txs[0].output[0].value = Amount::from_sat(SUBSIDY + 10_001);
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::SharebaseAmount, "bad-sb-amount");
    assert_eq!(e.at, at_tx(0, &sb));
    // The excess in a second sharebase output.
    let mut s = base.clone();
    s.txs[0].output.push(pay(1));
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::SharebaseAmount, "bad-sb-amount");
    assert_eq!(e.at, at_tx(0, &sb));
}

#[test]
fn bad_tx_root() {
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let base = t.make_share(&miner(), vec![tx]).unwrap();
    // A root of nothing.
    let mut s = base.clone();
    s.head.header.tx_root = TxMerkleNode::all_zeros();
    recommit(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::BadTxRoot, "bad-txnmrklroot");
    assert_eq!(e.at, Location::Header);
    // A root over txids instead of wtxids (they differ for the segwit spend).
    let mut s = base.clone();
    let leaves = s
        .txs
        .iter()
        .map(|tx| TxMerkleNode::from_byte_array(tx.compute_txid().to_byte_array()));
    s.head.header.tx_root = bitcoin::merkle_tree::calculate_root(leaves).unwrap();
    assert_ne!(s.head.header.tx_root, base.head.header.tx_root);
    recommit(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::BadTxRoot, "bad-txnmrklroot");
    assert_eq!(e.at, Location::Header);
    // A witness changed under the same header and work (same share id): caught by the root
    // before any script runs, and not remembered against the id.
    let mut s = base.clone();
    s.txs[1].input[0].witness = Witness::new();
    assert_eq!(s.hash(), base.hash());
    let e = reject(&mut t, s, Rule::BadTxRoot, "bad-txnmrklroot");
    assert_eq!(e.at, Location::Header);
    accepts(&t, &base);
}

#[test]
fn duplicate_tx() {
    // Two copies of one transaction necessarily spend the same inputs; the duplicate is caught
    // first, context-free.
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let mut s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::DuplicateTx, "bad-txns-duplicate");
    assert_eq!(e.at, at_tx(2, &tx));
}

#[test]
fn weight() {
    // A network with the smallest allowed weight limit; the genesis share does not depend on it,
    // so the same share can be offered to a network with the default limit as the control.
    let mut params = test_params(2, ALLOC);
    params.max_share_weight = 4_000;
    let (mut t, coins) = funded_with(params.clone());
    let tx = spend(
        &coins[..1],
        vec![
            pay(99_990_000),
            TxOut {
                value: Amount::ZERO,
                script_pubkey: op_return(1_000),
            },
        ],
    );
    let s = t.make_share(&miner(), vec![tx]).unwrap();
    let weight: u64 = s.txs.iter().map(|tx| tx.weight().to_wu()).sum();
    assert!(weight > 4_000, "{weight}");
    for limit in [weight, 4_000_000] {
        let mut p = params.clone();
        p.max_share_weight = limit;
        let control = ChainState::new(p).unwrap();
        assert_eq!(control.genesis_hash(), t.chain.genesis_hash());
        accepts_at(&control, &s, t.now);
    }
    let e = reject(&mut t, s, Rule::Weight, "bad-blk-weight");
    assert_eq!(e.at, Location::Share);
}

// ---------------------------------------------------------------------------------------------
// Sigops
// ---------------------------------------------------------------------------------------------

#[test]
fn sigops_in_a_transaction() {
    // 25 OP_CHECKSIG in an output (legacy sigops count four times) plus the P2WPKH input's one
    // witness sigop. A network whose limit is one below the share's cost refuses it; one whose
    // limit equals it (same genesis) accepts it.
    let (mut t, coins) = funded();
    let tx = spend(
        &coins[..1],
        vec![
            pay(99_990_000),
            TxOut {
                value: Amount::ZERO,
                script_pubkey: checksigs(25),
            },
        ],
    );
    let cost = tx.total_sigop_cost(|op| (*op == coins[0].outpoint).then(|| coins[0].output.clone()))
        as u64;
    assert_eq!(cost, 25 * 4 + 1);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    assert_eq!(s.txs[0].total_sigop_cost(|_| None), 0);
    let mut params = t.chain.params().clone();
    params.max_share_sigops_cost = cost;
    accepts_at(&ChainState::new(params.clone()).unwrap(), &s, t.now);
    params.max_share_sigops_cost = cost - 1;
    let mut strict = ChainState::new(params).unwrap();
    assert_eq!(strict.genesis_hash(), t.chain.genesis_hash());
    let e = reject_at(&mut strict, s, t.now, Rule::Sigops, "bad-blk-sigops");
    assert_eq!(e.at, at_tx(1, &tx));
}

#[test]
fn sigops_in_the_sharebase() {
    // The sharebase's sigops count toward the limit too (as the coinbase's do in Bitcoin), also
    // when it is the only transaction.
    let (mut t, _) = funded();
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs[0].output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: checksigs(25),
    });
    reseal(&mut s, magic(&t));
    let cost = s.txs[0].total_sigop_cost(|_| None) as u64;
    assert_eq!(cost, 100);
    let mut params = t.chain.params().clone();
    params.max_share_sigops_cost = cost;
    accepts_at(&ChainState::new(params.clone()).unwrap(), &s, t.now);
    params.max_share_sigops_cost = cost - 1;
    let mut strict = ChainState::new(params).unwrap();
    let sb = s.txs[0].clone();
    let e = reject_at(&mut strict, s, t.now, Rule::Sigops, "bad-blk-sigops");
    assert_eq!(e.at, at_tx(0, &sb));
    // At the default limit (80 000): 20 001 OP_CHECKSIG in the sharebase alone.
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs[0].output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: checksigs(20_001),
    });
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::Sigops, "bad-blk-sigops");
    assert_eq!(e.at, at_tx(0, &sb));
}

// ---------------------------------------------------------------------------------------------
// Transactions, context-free
// ---------------------------------------------------------------------------------------------

#[test]
fn no_inputs() {
    let (mut t, _) = funded();
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![],
        output: vec![pay(1)],
    };
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::NoInputs, "bad-txns-vin-empty");
    assert_eq!(e.at, at_tx(1, &tx));
}

#[test]
fn no_outputs() {
    let (mut t, coins) = funded();
    // A spend with no outputs (all to fees, which the sharebase does not claim).
    let tx = spend(&coins[..1], vec![]);
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::NoOutputs, "bad-txns-vout-empty");
    assert_eq!(e.at, at_tx(1, &tx));
    // A sharebase with no outputs (a context-free failure, so it is reported before the payout
    // rule, which while n = 0 reads the sharebase's output 0).
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs[0].output.clear();
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::NoOutputs, "bad-txns-vout-empty");
    assert_eq!(e.at, at_tx(0, &sb));
}

#[test]
fn output_too_large() {
    // An output above the maximum can never be funded, so such a transaction is also below its
    // inputs; the context-free check fires first. Exactly the maximum passes it (and then fails
    // the value balance).
    let (mut t, coins) = funded();
    let max = ShareAmount::MAX.to_units();
    for (value, rule, code) in [
        (max + 1, Rule::OutputTooLarge, "bad-txns-vout-toolarge"),
        (u64::MAX, Rule::OutputTooLarge, "bad-txns-vout-toolarge"),
        (max, Rule::InBelowOut, "bad-txns-in-belowout"),
    ] {
        let tx = spend(&coins[..1], vec![pay(value)]);
        let mut s = t.make_share(&miner(), vec![]).unwrap();
        s.txs.push(tx.clone());
        reseal(&mut s, magic(&t));
        let e = reject(&mut t, s, rule, code);
        assert_eq!(e.at, at_tx(1, &tx));
    }
    // In the sharebase.
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs[0].output.push(pay(max + 1));
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::OutputTooLarge, "bad-txns-vout-toolarge");
    assert_eq!(e.at, at_tx(0, &sb));
}

#[test]
fn output_total_too_large() {
    let (mut t, coins) = funded();
    let half = ShareAmount::MAX.to_units() / 2;
    let tx = spend(&coins[..1], vec![pay(half), pay(half + 1)]);
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::OutputTotalTooLarge,
        "bad-txns-txouttotal-toolarge",
    );
    assert_eq!(e.at, at_tx(1, &tx));
}

#[test]
fn duplicate_inputs() {
    let (mut t, coins) = funded();
    let inputs = [coins[0].clone(), coins[1].clone(), coins[0].clone()];
    let tx = spend(&inputs, vec![pay(390_000_000)]);
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::DuplicateInputs,
        "bad-txns-inputs-duplicate",
    );
    assert_eq!(e.at, at_input(1, &tx, 2));
}

#[test]
fn null_prevout() {
    // A null prevout next to a real one (a single null input would make it sharebase-shaped:
    // see `sharebase_multiple`).
    let (mut t, coins) = funded();
    let mut tx = spend(&coins[..1], vec![pay(99_990_000)]);
    tx.input.push(TxIn {
        previous_output: OutPoint::null(),
        script_sig: ScriptBuf::new(),
        sequence: Sequence::MAX,
        witness: Witness::new(),
    });
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::NullPrevout, "bad-txns-prevout-null");
    assert_eq!(e.at, at_tx(1, &tx));
}

// ---------------------------------------------------------------------------------------------
// Transactions against the UTXO set
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_inputs() {
    let (mut t, coins) = funded();

    // An outpoint that never existed, as input 1.
    let fake = Spendable {
        outpoint: OutPoint {
            txid: Txid::from_byte_array([7; 32]),
            vout: 0,
        },
        ..coins[1].clone()
    };
    let tx = spend(&[coins[0].clone(), fake], vec![pay(99_990_000)]);
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::MissingInputs,
        "bad-txns-inputs-missingorspent",
    );
    assert_eq!(e.at, at_input(1, &tx, 1));

    // Spent in the same share by an earlier transaction.
    let a = spend(&coins[1..2], vec![pay(299_990_000)]);
    let b = spend(&coins[1..2], vec![pay(299_980_000)]);
    let mut s = t.make_share(&miner(), vec![a.clone()]).unwrap();
    s.txs.push(b.clone());
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::MissingInputs,
        "bad-txns-inputs-missingorspent",
    );
    assert_eq!(e.at, at_input(2, &b, 0));

    // Spending an output created later in the same share.
    let parent = spend(&coins[2..3], vec![pay(599_990_000)]);
    let child = spend(&[miner_output(&parent, 0)], vec![pay(599_980_000)]);
    let mut s = t
        .make_share(&miner(), vec![parent.clone(), child.clone()])
        .unwrap();
    accepts(&t, &s);
    s.txs.swap(1, 2);
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::MissingInputs,
        "bad-txns-inputs-missingorspent",
    );
    assert_eq!(e.at, at_input(1, &child, 0));

    // Spent in an earlier share.
    t.mine(&miner(), vec![a]).unwrap();
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(b.clone());
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::MissingInputs,
        "bad-txns-inputs-missingorspent",
    );
    assert_eq!(e.at, at_input(1, &b, 0));
}

#[test]
fn premature_spend() {
    // Maturity 3: a sharebase output from height 1 may be spent from height 4 on.
    let (mut t, coins) = funded_with(test_params(3, ALLOC));
    let (s1, _) = t.mine(&miner(), vec![]).unwrap();
    let sb1 = miner_output(&s1.txs[0], 0);
    t.mine(&miner(), vec![]).unwrap();
    // Height 3 (3 - 1 = 2 < 3), as input 1 after a spendable allocation output.
    let tx = spend(&[coins[0].clone(), sb1.clone()], vec![pay(5_099_990_000)]);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    assert_eq!(s.head.header.height, 3);
    let e = reject(
        &mut t,
        s,
        Rule::PrematureSpend,
        "bad-txns-premature-spend-of-sharebase",
    );
    assert_eq!(e.at, at_input(1, &tx, 1));
    // The sharebase output of the share itself, spent in it.
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    let own = spend(&[miner_output(&s.txs[0], 0)], vec![pay(SUBSIDY - 10_000)]);
    s.txs.push(own.clone());
    reseal(&mut s, magic(&t));
    let e = reject(
        &mut t,
        s,
        Rule::PrematureSpend,
        "bad-txns-premature-spend-of-sharebase",
    );
    assert_eq!(e.at, at_input(1, &own, 0));
    // Height 4: mature; the same transaction connects.
    t.mine(&miner(), vec![]).unwrap();
    let (s4, _) = t.mine(&miner(), vec![tx]).unwrap();
    assert_eq!(s4.head.header.height, 4);
}

#[test]
fn input_values_out_of_range() {
    // Unreachable through a chain: every coin comes from the genesis allocation or a sharebase
    // and no transaction creates value, so a transaction's inputs sum to at most the network's
    // total supply, which `ChainParams::validate` keeps within `ShareAmount::MAX`. Checked
    // through `connect_transactions` with handcrafted UTXO sets.
    let (mut t, coins) = funded();
    let max = ShareAmount::MAX.to_units();
    let base = t.make_share(&miner(), vec![]).unwrap();
    let params = t.chain.params().clone();
    let payout = t.chain.next_payout();
    let times = Mtp(t.chain.median_time_past());
    let real: Vec<(OutPoint, Coin)> = t
        .chain
        .utxo()
        .iter()
        .map(|(op, c)| (*op, c.clone()))
        .collect();
    let fake = |n: u8, value: u64| {
        let op = OutPoint {
            txid: Txid::from_byte_array([n; 32]),
            vout: 0,
        };
        let coin = Coin {
            output: TxOut {
                value: Amount::from_sat(value),
                script_pubkey: miner(),
            },
            height: 0,
            is_sharebase: false,
        };
        (
            op,
            coin.clone(),
            Spendable {
                outpoint: op,
                output: coin.output,
                key: miner_key(),
                kind: Kind::P2wpkh,
            },
        )
    };

    // A real input, then one of the maximum: the sum leaves the range at input 1.
    let (op_a, coin_a, sp_a) = fake(1, max);
    let tx = spend(&[coins[0].clone(), sp_a], vec![pay(1)]);
    let mut s = base.clone();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    check_share(&params, &s).unwrap();
    let mut set = real.clone();
    set.push((op_a, coin_a));
    let utxo = UtxoSet::from_coins(params.maturity, 0, set).unwrap();
    let e = connect_transactions(&params, &s, &utxo, payout.as_ref(), &times).unwrap_err();
    assert_eq!(e.rule, Rule::InputValuesOutOfRange);
    assert_eq!(e.rule.code(), "bad-txns-inputvalues-outofrange");
    assert_eq!(e.at, at_input(1, &tx, 1));

    // One coin above the maximum.
    let (op_c, coin_c, sp_c) = fake(3, max + 1);
    let tx = spend(&[sp_c], vec![pay(1)]);
    let mut s = base.clone();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let mut set = real.clone();
    set.push((op_c, coin_c));
    let utxo = UtxoSet::from_coins(params.maturity, 0, set).unwrap();
    let e = connect_transactions(&params, &s, &utxo, payout.as_ref(), &times).unwrap_err();
    assert_eq!(e.rule, Rule::InputValuesOutOfRange);
    assert_eq!(e.at, at_input(1, &tx, 0));
    // Through the chain, such coins do not exist.
    reject(
        &mut t,
        s,
        Rule::MissingInputs,
        "bad-txns-inputs-missingorspent",
    );
}

#[test]
fn in_below_out() {
    let (mut t, coins) = funded();
    let value = coins[0].output.value.to_sat();
    // Control: a zero fee is fine.
    let even = spend(&coins[..1], vec![pay(value)]);
    accepts(&t, &t.clone().make_share(&miner(), vec![even]).unwrap());
    let tx = spend(&coins[..1], vec![pay(value + 1)]);
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    s.txs.push(tx.clone());
    reseal(&mut s, magic(&t));
    let e = reject(&mut t, s, Rule::InBelowOut, "bad-txns-in-belowout");
    assert_eq!(e.at, at_tx(1, &tx));
}

#[test]
fn non_final_by_height() {
    // IsFinalTx with the share's height: a height locktime must be below it.
    let (mut t, coins) = funded();
    for _ in 0..3 {
        t.mine(&miner(), vec![]).unwrap();
    }
    let height = t.chain.height() + 1;
    let rbf = Sequence::ENABLE_RBF_NO_LOCKTIME.0; // not final, BIP-68 disabled
    let good = spend(&coins[2..3], vec![pay(599_990_000)]);
    let locked = |lock: u32, seq: u32| tx_with(&coins[..1], vec![pay(99_990_000)], 2, lock, &[seq]);
    let ok = t
        .clone()
        .make_share(&miner(), vec![good.clone(), locked(height - 1, rbf)]);
    accepts(&t, &ok.unwrap());
    // Final sequences disable the locktime.
    let ok = t
        .clone()
        .make_share(&miner(), vec![good.clone(), locked(u32::MAX / 8, u32::MAX)]);
    accepts(&t, &ok.unwrap());
    for lock in [height, height + 1, 499_999_999] {
        let tx = locked(lock, rbf);
        let s = t
            .make_share(&miner(), vec![good.clone(), tx.clone()])
            .unwrap();
        let e = reject(&mut t, s, Rule::NonFinal, "bad-txns-nonfinal");
        assert_eq!(e.at, at_tx(2, &tx));
    }
}

#[test]
fn non_final_by_time() {
    // A time locktime must be below the parent's median time past (BIP-113), not the share time.
    let (mut t, coins) = funded();
    for _ in 0..3 {
        t.mine(&miner(), vec![]).unwrap();
    }
    let mtp = t.chain.median_time_past();
    assert!(mtp >= 500_000_000);
    let rbf = Sequence::ENABLE_RBF_NO_LOCKTIME.0;
    let locked = |lock: u32| tx_with(&coins[..1], vec![pay(99_990_000)], 2, lock, &[rbf]);
    accepts(
        &t,
        &t.clone()
            .make_share(&miner(), vec![locked(mtp - 1)])
            .unwrap(),
    );
    let tx = locked(mtp);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    assert!(s.head.header.time > mtp, "the share time is past the lock");
    let e = reject(&mut t, s, Rule::NonFinal, "bad-txns-nonfinal");
    assert_eq!(e.at, at_tx(1, &tx));
}

#[test]
fn non_final_sharebase() {
    // The sharebase is checked for finality too (as Bitcoin checks the coinbase).
    let (mut t, _) = funded();
    let base = t.make_share(&miner(), vec![]).unwrap();
    let height = base.head.header.height;
    // Control: a locktime with the final sequence the builder uses.
    let mut ok = base.clone();
    ok.txs[0].lock_time = LockTime::from_consensus(height);
    reseal(&mut ok, magic(&t));
    accepts(&t, &ok);
    let mut s = ok.clone();
    s.txs[0].input[0].sequence = Sequence::ZERO;
    reseal(&mut s, magic(&t));
    let sb = s.txs[0].clone();
    let e = reject(&mut t, s, Rule::NonFinal, "bad-txns-nonfinal");
    assert_eq!(e.at, at_tx(0, &sb));
}

#[test]
fn sequence_lock_by_height() {
    // A version-2 input with a relative lock of `n` shares on a coin from height 0 may be in a
    // share at height `n` or later. Input 0 has BIP-68 disabled; input 1 carries the lock.
    let (mut t, coins) = funded();
    let off = Sequence::ENABLE_RBF_NO_LOCKTIME.0;
    let inputs = &coins[..2];
    let out = vec![pay(399_990_000)];
    let ok = tx_with(inputs, out.clone(), 2, 0, &[off, 1]);
    accepts(&t, &t.clone().make_share(&miner(), vec![ok]).unwrap());
    // Version 1 transactions have no relative locks.
    let v1 = tx_with(inputs, out.clone(), 1, 0, &[off, 2]);
    accepts(&t, &t.clone().make_share(&miner(), vec![v1]).unwrap());
    let tx = tx_with(inputs, out, 2, 0, &[off, 2]);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    assert_eq!(s.head.header.height, 1);
    let e = reject(&mut t, s, Rule::SequenceLock, "bad-txns-sequence-lock");
    assert_eq!(e.at, at_input(1, &tx, 1));
}

/// Bitcoin Core reads the version as unsigned for BIP-68: version -1 (0xffffffff) is "at least 2"
/// and its relative locks apply.
#[test]
fn sequence_lock_applies_to_negative_versions() {
    let (mut t, coins) = funded();
    let off = Sequence::ENABLE_RBF_NO_LOCKTIME.0;
    let tx = tx_with(&coins[..2], vec![pay(399_990_000)], -1, 0, &[off, 2]);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    let e = reject(&mut t, s, Rule::SequenceLock, "bad-txns-sequence-lock");
    assert_eq!(e.at, at_input(1, &tx, 1));
}

/// A transaction of exactly 64 non-witness bytes could be read as a merkle inner node.
#[test]
fn tx_of_64_bytes() {
    let (mut t, coins) = funded();
    let short = |len: usize| TxOut {
        value: Amount::from_sat(99_990_000),
        script_pubkey: ScriptBuf::from_bytes(vec![0x51; len]),
    };
    let tx = tx_with(&coins[..1], vec![short(4)], 2, 0, &[Sequence::MAX.0]);
    assert_eq!(tx.base_size(), 64);
    let control = tx_with(&coins[..1], vec![short(5)], 2, 0, &[Sequence::MAX.0]);
    accepts(&t, &t.clone().make_share(&miner(), vec![control]).unwrap());
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    let e = reject(&mut t, s, Rule::Tx64Bytes, "bad-txns-size-64");
    assert_eq!(e.at, at_tx(1, &tx));
}

#[test]
fn sequence_lock_by_time() {
    // A relative lock of one 512-second unit on a coin from genesis: the parent's median time
    // past must pass the genesis time plus 511 s.
    let (mut t, coins) = funded();
    let seq = (1 << 22) | 1;
    let tx = tx_with(&coins[..1], vec![pay(99_990_000)], 2, 0, &[seq]);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    let e = reject(&mut t, s, Rule::SequenceLock, "bad-txns-sequence-lock");
    assert_eq!(e.at, at_input(1, &tx, 0));
    let unlock = t.chain.params().genesis_time + 511;
    while t.chain.median_time_past() <= unlock {
        t.now += 100;
        t.mine(&miner(), vec![]).unwrap();
    }
    t.mine(&miner(), vec![tx]).unwrap();
}

#[test]
fn overwrite_output() {
    // BIP-30. Unreachable through a chain without a txid collision: a sharebase's scriptSig
    // must start with its height's push (BIP-34 style; the genesis sharebase's starts with
    // OP_0, which no later height's push does), so sharebase txids never repeat; every other
    // transaction spends at least one existing, non-null outpoint and consumes it, so an
    // identical transaction can never connect again; and two identical transactions in one
    // share are `bad-txns-duplicate`. So the rule is checked through `connect_transactions`
    // with a handcrafted UTXO set that already holds an output of the transaction.
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let s = t.make_share(&miner(), vec![tx.clone()]).unwrap();
    let params = t.chain.params().clone();
    let payout = t.chain.next_payout();
    let times = Mtp(t.chain.median_time_past());
    // Control: against the real set the share connects.
    connect_transactions(&params, &s, t.chain.utxo(), payout.as_ref(), &times).unwrap();
    let real: Vec<(OutPoint, Coin)> = t
        .chain
        .utxo()
        .iter()
        .map(|(op, c)| (*op, c.clone()))
        .collect();
    let existing = Coin {
        output: pay(1),
        height: 0,
        is_sharebase: false,
    };
    for (index, victim) in [(1, &tx), (0, &s.txs[0])] {
        let mut set = real.clone();
        set.push((
            OutPoint {
                txid: txid(victim),
                vout: 0,
            },
            existing.clone(),
        ));
        let utxo = UtxoSet::from_coins(params.maturity, 0, set).unwrap();
        let e = connect_transactions(&params, &s, &utxo, payout.as_ref(), &times).unwrap_err();
        assert_eq!(e.rule, Rule::OverwriteOutput);
        assert_eq!(e.rule.code(), "bad-txns-BIP30");
        assert_eq!(e.at, at_tx(index, victim));
    }
    // The unreachability argument, checked on a mined chain: the same transaction cannot be
    // mined twice.
    t.mine(&miner(), vec![tx.clone()]).unwrap();
    let mut again = t.make_share(&miner(), vec![]).unwrap();
    again.txs.push(tx.clone());
    reseal(&mut again, magic(&t));
    reject(
        &mut t,
        again,
        Rule::MissingInputs,
        "bad-txns-inputs-missingorspent",
    );
}

#[test]
fn script_failed() {
    // Transaction 2 of the share, input 1: a valid signature by the right key, but over another
    // transaction.
    let (mut t, coins) = funded();
    let good = spend(&coins[2..3], vec![pay(599_990_000)]);
    let mut tx = spend(&coins[..2], vec![pay(399_990_000)]);
    let other = spend(&coins[..2], vec![pay(399_980_000)]);
    tx.input[1].witness = other.input[1].witness.clone();
    let s = t.make_share(&miner(), vec![good, tx.clone()]).unwrap();
    let e = reject(&mut t, s, Rule::ScriptFailed, "bad-txns-script-failed");
    assert_eq!(e.at, at_input(2, &tx, 1));
}

// ---------------------------------------------------------------------------------------------
// Against the parent: height, time, the parent itself
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_height() {
    let (mut t, _) = funded();
    t.mine(&miner(), vec![]).unwrap();
    let base = t.make_share(&miner(), vec![]).unwrap();
    assert_eq!(base.head.header.height, 2);
    let old_push = height_push(2).len();
    for height in [0, 1, 3, 1_000] {
        let mut s = base.clone();
        s.head.header.height = height;
        // Keep the sharebase consistent with the claimed height.
        let mut sig = height_push(height).into_bytes();
        sig.extend_from_slice(&s.txs[0].input[0].script_sig.as_bytes()[old_push..]);
        set_sharebase_sig(&mut s, sig);
        reseal(&mut s, magic(&t));
        let e = reject(&mut t, s.clone(), Rule::BadHeight, "bad-height");
        assert_eq!(e.at, Location::Header);
        assert!(matches!(
            t.chain.accept_share(s, t.now),
            Err(ChainError::KnownInvalid(_))
        ));
    }
}

#[test]
fn time_too_old() {
    let (mut t, _) = funded();
    for _ in 0..11 {
        t.mine(&miner(), vec![]).unwrap();
    }
    let mtp = t.chain.median_time_past();
    let parent_time = t.chain.tip().unwrap().head.header.time;
    assert!(mtp + 1 < parent_time);
    let base = t.make_share(&miner(), vec![]).unwrap();
    // Control: one second past the median, though before the parent, is fine.
    let mut ok = base.clone();
    ok.head.header.time = mtp + 1;
    recommit(&mut ok, magic(&t));
    accepts(&t, &ok);
    for time in [mtp, mtp - 1, 0] {
        let mut s = base.clone();
        s.head.header.time = time;
        recommit(&mut s, magic(&t));
        let e = reject(&mut t, s, Rule::TimeTooOld, "time-too-old");
        assert_eq!(e.at, Location::Header);
    }
}

#[test]
fn time_too_new() {
    let (mut t, _) = funded();
    t.mine(&miner(), vec![]).unwrap();
    let now = t.now;
    let limit = u32::try_from(now).unwrap() + t.chain.params().max_future_time;
    let base = t.make_share(&miner(), vec![]).unwrap();
    let mut ok = base.clone();
    ok.head.header.time = limit;
    recommit(&mut ok, magic(&t));
    accepts_at(&t.chain, &ok, now);
    let mut s = base.clone();
    s.head.header.time = limit + 1;
    recommit(&mut s, magic(&t));
    let e = reject_at(
        &mut t.chain,
        s.clone(),
        now,
        Rule::TimeTooNew,
        "time-too-new",
    );
    assert_eq!(e.at, Location::Header);
    // Not remembered as invalid: once the clock catches up the same share is accepted.
    assert_eq!(
        t.chain.accept_share(s, now + 1).unwrap(),
        AcceptOutcome::Extended
    );
}

#[test]
fn bad_prev_share() {
    // The parent fails against the UTXO set on a network whose sigop limit is small; a network
    // differing only in that limit (same genesis, same everything else) accepts it and builds
    // valid children on it. Those children are refused as `bad-prevshare`.
    let mut lenient = TestChain::new(test_params(2, ALLOC)).unwrap();
    let coins = genesis_spendables(&lenient.chain, ALLOC);
    let mut params = test_params(2, ALLOC);
    params.max_share_sigops_cost = 100;
    let mut strict = ChainState::new(params).unwrap();
    assert_eq!(strict.genesis_hash(), lenient.chain.genesis_hash());
    let heavy = spend(
        &coins[..1],
        vec![
            pay(99_990_000),
            TxOut {
                value: Amount::ZERO,
                script_pubkey: checksigs(25),
            },
        ],
    );
    let (parent, _) = lenient.mine(&miner(), vec![heavy]).unwrap();
    let (child, _) = lenient.mine(&miner(), vec![]).unwrap();
    let (grandchild, _) = lenient.mine(&miner(), vec![]).unwrap();
    let now = lenient.now;
    reject_at(&mut strict, parent, now, Rule::Sigops, "bad-blk-sigops");
    for share in [child, grandchild] {
        let e = reject_at(
            &mut strict,
            share.clone(),
            now,
            Rule::BadPrevShare,
            "bad-prevshare",
        );
        assert_eq!(e.at, Location::Header);
        // Remembered, so its own children are refused too.
        assert!(matches!(
            strict.accept_share(share, now),
            Err(ChainError::KnownInvalid(_))
        ));
    }

    // A child of a share refused context-free is an orphan, not `bad-prevshare`: such failures
    // are not remembered against the id (the id does not commit to the transactions).
    let (mut t, _) = funded();
    let mut parent = t.make_share(&miner(), vec![]).unwrap();
    let good_parent = parent.clone();
    parent.txs[0].output[0].value = Amount::from_sat(1);
    assert_eq!(parent.hash(), good_parent.hash());
    reject(&mut t, parent, Rule::BadTxRoot, "bad-txnmrklroot");
    let mut other = t.clone();
    other.chain.accept_share(good_parent, t.now).unwrap();
    let child = other.make_share(&miner(), vec![]).unwrap();
    assert!(matches!(
        t.chain.accept_share(child, other.now),
        Err(ChainError::Orphan { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A valid share with every part of the encoding present: a two-node merkle branch and two
/// transactions (one with a witness). Returns it with its encoding.
fn decode_fixture() -> (Share, Vec<u8>) {
    let (mut t, coins) = funded();
    let tx = spend(&coins[..1], vec![pay(99_990_000)]);
    let mut share = t.make_share(&miner(), vec![tx]).unwrap();
    share.head.work.merkle_branch = vec![
        TxMerkleNode::from_byte_array([0x21; 32]),
        TxMerkleNode::from_byte_array([0x42; 32]),
    ];
    regrind(&mut share);
    accepts(&t, &share);
    let bytes = share.encode();
    assert_eq!(Share::decode(&bytes).unwrap(), share);
    (share, bytes)
}

/// Byte offsets of the parts of [`decode_fixture`]'s encoding.
struct Layout {
    coinbase: usize,
    branch_len: usize,
    branch: usize,
    tx_count: usize,
    txs: Vec<usize>,
    end: usize,
}

fn layout(share: &Share, bytes: &[u8]) -> Layout {
    let coinbase = 160;
    let branch_len = coinbase + serialize(&share.head.work.coinbase).len();
    let branch = branch_len + 1;
    let tx_count = branch + 32 * share.head.work.merkle_branch.len();
    let mut txs = vec![tx_count + 1];
    for tx in &share.txs {
        txs.push(txs.last().unwrap() + serialize(tx).len());
    }
    let end = txs.pop().unwrap();
    assert_eq!(end, bytes.len());
    assert_eq!(share.head.encode().len(), tx_count);
    Layout {
        coinbase,
        branch_len,
        branch,
        tx_count,
        txs,
        end,
    }
}

/// What decoding the first `n` bytes of the fixture must report.
fn expected_truncation(l: &Layout, n: usize) -> (String, usize, DecodeErrorKind) {
    let truncated = |needed, available| DecodeErrorKind::Truncated { needed, available };
    let bitcoin = DecodeErrorKind::Bitcoin(String::new());
    if n < 80 {
        ("share header".into(), 0, truncated(80, n))
    } else if n < 160 {
        ("bitcoin header".into(), 80, truncated(80, n - 80))
    } else if n < l.branch_len {
        ("bitcoin coinbase".into(), l.coinbase, bitcoin)
    } else if n == l.branch_len {
        ("merkle branch length".into(), l.branch_len, truncated(1, 0))
    } else if n < l.tx_count {
        let node = l.branch + (n - l.branch) / 32 * 32;
        ("merkle branch".into(), node, truncated(32, n - node))
    } else if n == l.tx_count {
        ("transaction count".into(), l.tx_count, truncated(1, 0))
    } else {
        let count = l.txs.len() as u64;
        let limit = ((n - l.txs[0]) / MIN_TRANSACTION_SIZE) as u64;
        if count > limit {
            let kind = DecodeErrorKind::TooLarge {
                field: "transaction count",
                value: count,
                limit,
            };
            ("transaction count".into(), l.tx_count, kind)
        } else if n < l.txs[1] {
            ("sharebase".into(), l.txs[0], bitcoin)
        } else {
            ("transaction 1".into(), l.txs[1], bitcoin)
        }
    }
}

fn assert_decode_error(got: &DecodeError, what: &str, offset: usize, kind: &DecodeErrorKind) {
    assert_eq!(got.what, what, "{got}");
    assert_eq!(got.offset, offset, "{got}");
    match (kind, &got.kind) {
        (DecodeErrorKind::Bitcoin(_), DecodeErrorKind::Bitcoin(_)) => {}
        (want, have) => assert_eq!(have, want, "{got}"),
    }
    // Errors render without panicking and name the offset.
    assert!(got.to_string().contains(&format!("byte {offset}")), "{got}");
}

#[test]
fn decode_every_truncation() {
    let (share, bytes) = decode_fixture();
    let l = layout(&share, &bytes);
    assert!(l.end > 200);
    for n in 0..l.end {
        let prefix = &bytes[..n];
        let (what, offset, kind) = expected_truncation(&l, n);
        let err = Share::decode(prefix).unwrap_err();
        assert_decode_error(&err, &what, offset, &kind);
        // The head alone: the same errors inside it, trailing bytes after it.
        let head = ShareHead::decode(prefix);
        if n < l.tx_count {
            assert_decode_error(&head.unwrap_err(), &what, offset, &kind);
        } else if n == l.tx_count {
            assert_eq!(head.unwrap(), share.head);
        } else {
            let kind = DecodeErrorKind::TrailingBytes(n - l.tx_count);
            assert_decode_error(&head.unwrap_err(), "share head", l.tx_count, &kind);
        }
        // The header alone.
        let header = ShareHeader::decode(prefix);
        match n {
            80 => assert_eq!(header.unwrap(), share.head.header),
            n if n < 80 => assert_decode_error(
                &header.unwrap_err(),
                "share header",
                0,
                &DecodeErrorKind::Truncated {
                    needed: 80,
                    available: n,
                },
            ),
            n => assert_decode_error(
                &header.unwrap_err(),
                "share header",
                80,
                &DecodeErrorKind::TrailingBytes(n - 80),
            ),
        }
    }
}

#[test]
fn decode_trailing_bytes() {
    let (share, bytes) = decode_fixture();
    let mut long = bytes.clone();
    long.push(0);
    assert_decode_error(
        &Share::decode(&long).unwrap_err(),
        "share",
        bytes.len(),
        &DecodeErrorKind::TrailingBytes(1),
    );
    long.extend_from_slice(&bytes);
    assert_decode_error(
        &Share::decode(&long).unwrap_err(),
        "share",
        bytes.len(),
        &DecodeErrorKind::TrailingBytes(bytes.len() + 1),
    );
    let mut head = share.head.encode();
    let head_len = head.len();
    head.extend_from_slice(&[0xaa, 0xbb]);
    assert_decode_error(
        &ShareHead::decode(&head).unwrap_err(),
        "share head",
        head_len,
        &DecodeErrorKind::TrailingBytes(2),
    );
}

/// The fixture's encoding with the bytes `at..at + len` replaced by `with`.
fn splice(bytes: &[u8], at: usize, len: usize, with: &[u8]) -> Vec<u8> {
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(with);
    out.extend_from_slice(&bytes[at + len..]);
    out
}

#[test]
fn decode_merkle_branch_length() {
    let (share, bytes) = decode_fixture();
    let l = layout(&share, &bytes);
    assert_eq!(bytes[l.branch_len], 2);
    let too_large = |value: u64| DecodeErrorKind::TooLarge {
        field: "merkle branch length",
        value,
        limit: MAX_MERKLE_BRANCH as u64,
    };
    for (with, value) in [
        (vec![33u8], 33u64),
        (vec![0xfc], 0xfc),
        (vec![0xfd, 0xff, 0xff], 0xffff),
        (vec![0xff; 9], u64::MAX),
    ] {
        let b = splice(&bytes, l.branch_len, 1, &with);
        let err = Share::decode(&b).unwrap_err();
        assert_decode_error(
            &err,
            "merkle branch length",
            l.branch_len,
            &too_large(value),
        );
        let err = ShareHead::decode(&b[..l.tx_count - 1 + with.len()]).unwrap_err();
        assert_decode_error(
            &err,
            "merkle branch length",
            l.branch_len,
            &too_large(value),
        );
    }
    // The maximum is allowed, but the data is not there: the branch runs out of bytes.
    let b = splice(&bytes, l.branch_len, 1, &[32]);
    let err = Share::decode(&b).unwrap_err();
    assert_eq!(err.what, "merkle branch");
    assert!(
        matches!(err.kind, DecodeErrorKind::Truncated { needed: 32, available } if available < 32),
        "{err}"
    );
    assert!(
        err.offset >= l.branch && (err.offset - l.branch).is_multiple_of(32),
        "{err}"
    );
    // Non-minimal encodings of 2.
    for with in [
        vec![0xfd, 2, 0],
        vec![0xfe, 2, 0, 0, 0],
        vec![0xff, 2, 0, 0, 0, 0, 0, 0, 0],
    ] {
        let b = splice(&bytes, l.branch_len, 1, &with);
        let err = Share::decode(&b).unwrap_err();
        assert_decode_error(
            &err,
            "merkle branch length",
            l.branch_len,
            &DecodeErrorKind::BadCompactSize,
        );
    }
}

#[test]
fn decode_tx_count_zero_or_huge() {
    let (share, bytes) = decode_fixture();
    let l = layout(&share, &bytes);
    assert_eq!(bytes[l.tx_count], 2);
    // Zero, with or without transactions after it.
    for b in [
        splice(&bytes, l.tx_count, bytes.len() - l.tx_count, &[0]),
        splice(&bytes, l.tx_count, 1, &[0]),
    ] {
        assert_decode_error(
            &Share::decode(&b).unwrap_err(),
            "transaction count",
            l.tx_count,
            &DecodeErrorKind::NoTransactions,
        );
    }
    // Counts that the remaining bytes cannot hold are refused before any allocation.
    let rest = (l.end - l.txs[0]) as u64;
    for (with, value) in [
        (vec![0xff; 9], u64::MAX),
        (vec![0xfe, 0xff, 0xff, 0xff, 0xff], u64::from(u32::MAX)),
        (vec![0xfd, 0xff, 0xff], 0xffff),
    ] {
        let b = splice(&bytes, l.tx_count, 1, &with);
        let kind = DecodeErrorKind::TooLarge {
            field: "transaction count",
            value,
            limit: rest / MIN_TRANSACTION_SIZE as u64,
        };
        assert_decode_error(
            &Share::decode(&b).unwrap_err(),
            "transaction count",
            l.tx_count,
            &kind,
        );
    }
    // A count the bytes could hold, one more than present: the missing transaction.
    let b = splice(&bytes, l.tx_count, 1, &[3]);
    assert_decode_error(
        &Share::decode(&b).unwrap_err(),
        "transaction 2",
        l.end,
        &DecodeErrorKind::Bitcoin(String::new()),
    );
    // Non-minimal encodings of 2.
    for with in [vec![0xfd, 2, 0], vec![0xfe, 2, 0, 0, 0]] {
        let b = splice(&bytes, l.tx_count, 1, &with);
        assert_decode_error(
            &Share::decode(&b).unwrap_err(),
            "transaction count",
            l.tx_count,
            &DecodeErrorKind::BadCompactSize,
        );
    }
}

/// §2.3: a zero first count is the segwit marker. Marker, flag `01` and a zero input count decode
/// to a transaction without inputs (its canonical encoding), refused by validation with a code;
/// any other flag byte, and marker and flag before inputs that all lack a witness, do not decode.
#[test]
fn decode_segwit_marker_and_flag() {
    let (mut t, _) = funded();
    let mut s = t.make_share(&miner(), vec![]).unwrap();
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![],
        output: vec![pay(1)],
    };
    let tx_bytes = serialize(&tx);
    assert_eq!(
        &tx_bytes[4..7],
        &[0x00u8, 0x01, 0x00][..],
        "marker, flag, no inputs"
    );
    s.txs.push(tx);
    reseal(&mut s, magic(&t));
    let bytes = s.encode();
    let at = bytes.len() - tx_bytes.len();
    let decoded = Share::decode(&bytes).unwrap();
    assert_eq!(decoded, s);
    assert!(decoded.txs[1].input.is_empty());
    reject(&mut t, decoded, Rule::NoInputs, "bad-txns-vin-empty");
    let bitcoin = DecodeErrorKind::Bitcoin(String::new());
    for flag in [0x00, 0x02, 0xff] {
        let mut b = bytes.clone();
        b[at + 5] = flag;
        assert_decode_error(
            &Share::decode(&b).unwrap_err(),
            "transaction 1",
            at,
            &bitcoin,
        );
    }
    // One input with an empty witness: legacy form decodes, the marker-and-flag form does not.
    let legacy = serialize(&Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: Txid::from_byte_array([7; 32]),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![pay(1)],
    });
    let n = legacy.len();
    let flagged = [
        &legacy[..4],
        &[0x00, 0x01],
        &legacy[4..n - 4],
        &[0x00],
        &legacy[n - 4..],
    ]
    .concat();
    assert!(Share::decode(&splice(&bytes, at, tx_bytes.len(), &legacy)).is_ok());
    let b = splice(&bytes, at, tx_bytes.len(), &flagged);
    assert_decode_error(
        &Share::decode(&b).unwrap_err(),
        "transaction 1",
        at,
        &bitcoin,
    );
}

#[test]
fn decode_size_limits() {
    // The whole share.
    let huge = vec![0u8; MAX_SHARE_SIZE + 1];
    assert_decode_error(
        &Share::decode(&huge).unwrap_err(),
        "share",
        0,
        &DecodeErrorKind::TooLarge {
            field: "share size",
            value: huge.len() as u64,
            limit: MAX_SHARE_SIZE as u64,
        },
    );
    // A coinbase above the coinbase size limit.
    let (mut t, _) = funded();
    let mut share = t.make_share(&miner(), vec![]).unwrap();
    share.head.work.coinbase.output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: ScriptBuf::from_bytes(vec![0x61; MAX_COINBASE_SIZE]),
    });
    regrind(&mut share);
    let bytes = share.encode();
    let err = Share::decode(&bytes).unwrap_err();
    assert_eq!(err.what, "bitcoin coinbase");
    assert_eq!(err.offset, 160);
    assert!(
        matches!(
            err.kind,
            DecodeErrorKind::TooLarge { field: "encoded size", limit, .. }
                if limit == MAX_COINBASE_SIZE as u64
        ),
        "{err}"
    );
}

#[test]
fn decode_garbage_never_panics() {
    // Every single-byte corruption of the fixture's first 200 bytes and of its counts, and a few
    // patterned inputs, decode to a value or an error — never a panic.
    let (_, bytes) = decode_fixture();
    for at in 0..bytes.len().min(200) {
        for v in [0x00, 0x01, 0x7f, 0xfc, 0xfd, 0xfe, 0xff] {
            let mut b = bytes.clone();
            b[at] = v;
            let _ = Share::decode(&b);
            let _ = ShareHead::decode(&b);
        }
    }
    for len in [0, 1, 79, 80, 81, 159, 160, 161, 300, 1_000] {
        for fill in [0x00, 0xff] {
            let b = vec![fill; len];
            assert!(Share::decode(&b).is_err());
            let _ = ShareHead::decode(&b);
        }
    }
}
