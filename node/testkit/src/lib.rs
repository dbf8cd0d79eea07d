//! Test support for p2share, shared by the crates' tests and benchmarks.
//!
//! Everything here produces *real* data: keys sign with secp256k1, transactions are checked by
//! Bitcoin Core's interpreter when connected, and [`TestChain`] mines shares that pass every
//! consensus rule (on networks with an easy pow limit, grinding takes a few hashes). Nothing here
//! bypasses validation.

use bitcoin::hashes::Hash;
use bitcoin::key::{CompressedPublicKey, Keypair, TapTweak};
use bitcoin::secp256k1::{All, Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::{
    absolute::LockTime, transaction::Version, Amount, OutPoint, ScriptBuf, Sequence, Transaction,
    TxIn, TxOut, Witness,
};
use p2share_consensus::builder::{build_share, grind, WorkTemplate};
use p2share_consensus::params::{ChainParams, GenesisOutput};
use p2share_consensus::{AcceptOutcome, ChainError, ChainState, Share, ShareAmount};

/// A deterministic secp256k1 key that can spend P2WPKH and P2TR (key path) outputs.
#[derive(Clone, Debug)]
pub struct TestKey {
    secp: Secp256k1<All>,
    secret: SecretKey,
}

/// The kind of output a [`TestKey`] controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Pay-to-witness-public-key-hash.
    P2wpkh,
    /// Pay-to-taproot, key path.
    P2tr,
}

impl TestKey {
    /// The key derived from `seed` (any value; different seeds give different keys).
    pub fn from_seed(seed: u64) -> TestKey {
        let mut bytes = [0u8; 40];
        bytes[..8].copy_from_slice(&seed.to_be_bytes());
        // A hash is a valid secret key with overwhelming probability; rehash otherwise.
        let mut counter = 0u64;
        loop {
            bytes[8..16].copy_from_slice(&counter.to_be_bytes());
            let digest = bitcoin::hashes::sha256::Hash::hash(&bytes).to_byte_array();
            if let Ok(secret) = SecretKey::from_slice(&digest) {
                return TestKey {
                    secp: Secp256k1::new(),
                    secret,
                };
            }
            counter = counter.wrapping_add(1);
        }
    }

    fn compressed(&self) -> CompressedPublicKey {
        CompressedPublicKey(self.secret.public_key(&self.secp))
    }

    /// The script of an output of `kind` this key controls.
    pub fn script(&self, kind: Kind) -> ScriptBuf {
        match kind {
            Kind::P2wpkh => ScriptBuf::new_p2wpkh(&self.compressed().wpubkey_hash()),
            Kind::P2tr => {
                let keypair = Keypair::from_secret_key(&self.secp, &self.secret);
                let (xonly, _) = keypair.x_only_public_key();
                ScriptBuf::new_p2tr(&self.secp, xonly, None)
            }
        }
    }

    /// Signs input `index` of `tx`, which spends `prevouts[index]` of `kind`; `prevouts` lists
    /// every input's spent output (taproot commits to all of them).
    pub fn sign(&self, tx: &mut Transaction, index: usize, prevouts: &[TxOut], kind: Kind) {
        let Some(spent) = prevouts.get(index) else {
            return;
        };
        let witness = match kind {
            Kind::P2wpkh => {
                let mut cache = SighashCache::new(&*tx);
                let Ok(sighash) = cache.p2wpkh_signature_hash(
                    index,
                    &spent.script_pubkey,
                    spent.value,
                    EcdsaSighashType::All,
                ) else {
                    return;
                };
                let msg = Message::from_digest(sighash.to_byte_array());
                let signature = self.secp.sign_ecdsa(&msg, &self.secret);
                let sig = bitcoin::ecdsa::Signature {
                    signature,
                    sighash_type: EcdsaSighashType::All,
                };
                Witness::p2wpkh(&sig, &self.compressed().0)
            }
            Kind::P2tr => {
                let mut cache = SighashCache::new(&*tx);
                let Ok(sighash) = cache.taproot_key_spend_signature_hash(
                    index,
                    &Prevouts::All(prevouts),
                    TapSighashType::Default,
                ) else {
                    return;
                };
                let keypair = Keypair::from_secret_key(&self.secp, &self.secret);
                let tweaked = keypair.tap_tweak(&self.secp, None);
                let msg = Message::from_digest(sighash.to_byte_array());
                let signature = self
                    .secp
                    .sign_schnorr_no_aux_rand(&msg, &tweaked.to_keypair());
                Witness::p2tr_key_spend(&bitcoin::taproot::Signature {
                    signature,
                    sighash_type: TapSighashType::Default,
                })
            }
        };
        if let Some(input) = tx.input.get_mut(index) {
            input.witness = witness;
        }
    }
}

/// One spendable output and the key (and kind) that controls it.
#[derive(Clone, Debug)]
pub struct Spendable {
    /// Where it is.
    pub outpoint: OutPoint,
    /// What it is.
    pub output: TxOut,
    /// Who controls it.
    pub key: TestKey,
    /// How.
    pub kind: Kind,
}

/// splitmix64: a small, fast, deterministic generator for bulk test and bench data.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `N` pseudo-random bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        out
    }
}

impl Spendable {
    /// Output `vout` of `tx`, controlled by `key` as `kind`; `None` if `tx` has no such output.
    pub fn output_of(tx: &Transaction, vout: u32, key: &TestKey, kind: Kind) -> Option<Spendable> {
        let output = tx.output.get(usize::try_from(vout).ok()?)?.clone();
        Some(Spendable {
            outpoint: OutPoint {
                txid: tx.compute_txid(),
                vout,
            },
            output,
            key: key.clone(),
            kind,
        })
    }
}

/// Builds and signs a version-2 transaction spending `inputs` to `outputs` (RBF sequences, no
/// locktime).
pub fn spend(inputs: &[Spendable], outputs: Vec<TxOut>) -> Transaction {
    let sequences = vec![Sequence::ENABLE_RBF_NO_LOCKTIME.0; inputs.len()];
    spend_with(inputs, outputs, 2, 0, &sequences)
}

/// Builds and signs a transaction with the given version, locktime and per-input sequences
/// (inputs beyond `sequences` are dropped).
pub fn spend_with(
    inputs: &[Spendable],
    outputs: Vec<TxOut>,
    version: i32,
    lock_time: u32,
    sequences: &[u32],
) -> Transaction {
    let mut tx = Transaction {
        version: Version(version),
        lock_time: LockTime::from_consensus(lock_time),
        input: inputs
            .iter()
            .zip(sequences)
            .map(|(s, seq)| TxIn {
                previous_output: s.outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence(*seq),
                witness: Witness::new(),
            })
            .collect(),
        output: outputs,
    };
    let prevouts: Vec<TxOut> = inputs.iter().map(|s| s.output.clone()).collect();
    for (i, s) in inputs.iter().enumerate() {
        s.key.sign(&mut tx, i, &prevouts, s.kind);
    }
    tx
}

/// A custom network for tests: regtest's easy pow limit, the given maturity, and a genesis
/// allocation of `allocation` outputs (value, key seed) paid to P2WPKH scripts.
pub fn test_params(maturity: u32, allocation: &[(u64, u64)]) -> ChainParams {
    let mut p = ChainParams::regtest();
    p.name = "testnet-kit".into();
    p.magic = *b"p2st";
    p.maturity = maturity;
    p.genesis_allocation = allocation
        .iter()
        .map(|(value, seed)| GenesisOutput {
            script_pubkey: TestKey::from_seed(*seed).script(Kind::P2wpkh),
            value: ShareAmount::from_units(*value).unwrap_or(ShareAmount::ZERO),
        })
        .collect();
    p
}

/// The genesis allocation of [`test_params`] as spendable outputs.
pub fn genesis_spendables(chain: &ChainState, allocation: &[(u64, u64)]) -> Vec<Spendable> {
    let Some(genesis) = chain.share_at(0) else {
        return Vec::new();
    };
    let Some(sb) = genesis.txs.first() else {
        return Vec::new();
    };
    let txid = sb.compute_txid();
    allocation
        .iter()
        .enumerate()
        .filter_map(|(vout, (_, seed))| {
            Some(Spendable {
                outpoint: OutPoint {
                    txid,
                    vout: vout as u32,
                },
                output: sb.output.get(vout)?.clone(),
                key: TestKey::from_seed(*seed),
                kind: Kind::P2wpkh,
            })
        })
        .collect()
}

/// A node's chain state plus a clock, that mines its own shares.
#[derive(Clone, Debug)]
pub struct TestChain {
    /// The chain.
    pub chain: ChainState,
    /// The node's clock (Unix seconds).
    pub now: u64,
    /// Counter that keeps every mined share distinct.
    pub nonce_space: u64,
}

impl TestChain {
    /// A chain at genesis of `params`, with the clock at genesis time.
    ///
    /// # Errors
    /// If the parameters are invalid.
    pub fn new(params: ChainParams) -> Result<TestChain, ChainError> {
        let now = u64::from(params.genesis_time);
        Ok(TestChain {
            chain: ChainState::new(params)?,
            now,
            nonce_space: 0,
        })
    }

    /// Builds and grinds (but does not connect) a share on the tip paying its sharebase to
    /// `script`, with `txs`. The clock advances by the target spacing.
    pub fn make_share(&mut self, script: &ScriptBuf, txs: Vec<Transaction>) -> Option<Share> {
        self.now += u64::from(self.chain.params().target_spacing);
        self.nonce_space += 1;
        let time = u32::try_from(self.now).unwrap_or(u32::MAX);
        let work = WorkTemplate::standalone(
            bitcoin::BlockHash::all_zeros(),
            time,
            Amount::from_sat(312_500_000),
        );
        let mut share = build_share(
            &self.chain,
            script.clone(),
            txs,
            time,
            &self.nonce_space.to_le_bytes(),
            &work,
        )
        .ok()?;
        grind(&mut share, 1 << 24).then_some(share)
    }

    /// Mines a share and connects it; returns it with the outcome.
    ///
    /// # Errors
    /// The chain's error if the share is refused.
    pub fn mine(
        &mut self,
        script: &ScriptBuf,
        txs: Vec<Transaction>,
    ) -> Result<(Share, AcceptOutcome), ChainError> {
        let share = self
            .make_share(script, txs)
            .ok_or_else(|| ChainError::KnownInvalid(self.chain.tip_hash()))?;
        let outcome = self.chain.accept_share(share.clone(), self.now)?;
        Ok((share, outcome))
    }

    /// Offers a share mined elsewhere to this chain.
    ///
    /// # Errors
    /// The chain's error if the share is refused.
    pub fn accept(&mut self, share: Share) -> Result<AcceptOutcome, ChainError> {
        self.now = self.now.max(u64::from(share.head.header.time));
        self.chain.accept_share(share, self.now)
    }
}
