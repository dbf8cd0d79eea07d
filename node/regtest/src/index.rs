//! The index of the active chain: transactions, spenders, script histories and the UTXO set.
//!
//! [`ChainIndex`] is fed one block at a time, in chain order, by [`crate::RegtestChain`] (which
//! diffs its own record of the active chain against the kernel's after every submission and on
//! open). Connecting a block records an undo entry (the coins it spent); disconnecting the tip
//! applies it in reverse, so a reorg leaves the index exactly as if the losing branch had never
//! been seen.
//!
//! Like Bitcoin Core, the genesis block's outputs are not spendable (not in the UTXO set), and
//! provably unspendable outputs (`OP_RETURN…`, scripts over 10,000 bytes) never enter it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Block, BlockHash, OutPoint, Script, Transaction, TxOut, Txid};

/// Esplora's script hash: the single SHA256 of a scriptPubKey.
///
/// It is displayed as plain (not reversed) hex, which is what Esplora's `/scripthash/:hash`
/// endpoints take. Note that `bitcoin::ScriptBuf::script_hash` is HASH160 (P2SH), not this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScriptHash(sha256::Hash);

impl ScriptHash {
    /// The script hash of `script`.
    pub fn of(script: &Script) -> ScriptHash {
        ScriptHash(sha256::Hash::hash(script.as_bytes()))
    }

    /// From the 32 hash bytes (in the order SHA256 produced them).
    pub fn from_byte_array(bytes: [u8; 32]) -> ScriptHash {
        ScriptHash(sha256::Hash::from_byte_array(bytes))
    }

    /// The 32 hash bytes.
    pub fn to_byte_array(self) -> [u8; 32] {
        self.0.to_byte_array()
    }
}

impl fmt::Display for ScriptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// An unspent output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    /// The output.
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether it was created by a coinbase (then it matures after 100 blocks).
    pub is_coinbase: bool,
}

/// Where a confirmed transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    /// The block holding it.
    pub block_hash: BlockHash,
    /// That block's height.
    pub height: u32,
    /// Its index in the block's transaction list (0 is the coinbase).
    pub position: u32,
}

/// The confirmed input that spends an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spender {
    /// The spending transaction.
    pub txid: Txid,
    /// The index of the spending input.
    pub vin: u32,
}

/// One confirmed transaction touching a script (paying to it or spending from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The transaction.
    pub txid: Txid,
    /// Height of its block.
    pub height: u32,
}

/// What connecting one block changed, kept to disconnect it exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BlockUndo {
    hash: BlockHash,
    /// The block's txids, in order.
    txids: Vec<Txid>,
    /// Coins the block spent, in spending order.
    spent: Vec<(OutPoint, Coin)>,
    /// Outputs the block added to the UTXO set.
    created: Vec<OutPoint>,
    /// Script hashes whose history got entries at this height.
    touched: Vec<ScriptHash>,
}

/// A block's undo record seen from outside: the coins it spent and the outputs it created.
pub(crate) type UndoView<'a> = (&'a [(OutPoint, Coin)], &'a [OutPoint]);

/// Why the index could not apply a block (the kernel's chain and the index disagree).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The block spends an output the index does not hold.
    #[error("block {block} spends {outpoint}, which the index does not hold")]
    MissingCoin {
        /// The block.
        block: BlockHash,
        /// The missing output.
        outpoint: OutPoint,
    },
    /// The block does not build on the index's tip.
    #[error("block {block} does not extend the indexed tip {tip:?}")]
    NotExtendingTip {
        /// The block.
        block: BlockHash,
        /// The indexed tip.
        tip: Option<BlockHash>,
    },
}

/// The index of the active chain (see the module docs).
///
/// Equality compares everything, undo records included: an index unwound by a reorg equals
/// one rebuilt from scratch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainIndex {
    active: Vec<BlockUndo>,
    txs: HashMap<Txid, TxLocation>,
    spenders: HashMap<OutPoint, Spender>,
    history: HashMap<ScriptHash, Vec<HistoryEntry>>,
    utxos: HashMap<OutPoint, Coin>,
    script_utxos: HashMap<ScriptHash, BTreeSet<OutPoint>>,
}

/// Whether Core keeps an output out of the UTXO set (`CScript::IsUnspendable`).
pub(crate) fn is_unspendable(script: &Script) -> bool {
    script.is_op_return() || script.len() > 10_000
}

impl ChainIndex {
    /// An empty index (no blocks, not even genesis).
    pub(crate) fn new() -> ChainIndex {
        ChainIndex::default()
    }

    /// Number of indexed blocks (tip height + 1; 0 when empty).
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether no block is indexed.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// Height of the indexed tip, if any.
    pub fn tip_height(&self) -> Option<u32> {
        u32::try_from(self.active.len()).ok()?.checked_sub(1)
    }

    /// Hash of the indexed tip, if any.
    pub fn tip_hash(&self) -> Option<BlockHash> {
        self.active.last().map(|b| b.hash)
    }

    /// Hash of the active block at `height`.
    pub fn block_hash(&self, height: u32) -> Option<BlockHash> {
        self.active
            .get(usize::try_from(height).ok()?)
            .map(|b| b.hash)
    }

    /// Where the confirmed transaction `txid` is.
    pub fn tx_location(&self, txid: &Txid) -> Option<TxLocation> {
        self.txs.get(txid).copied()
    }

    /// Confirmations of `txid` (1 when in the tip block), or `None` if unconfirmed.
    pub fn confirmations(&self, txid: &Txid) -> Option<u32> {
        let loc = self.txs.get(txid)?;
        let tip = self.tip_height()?;
        Some(tip.checked_sub(loc.height)?.saturating_add(1))
    }

    /// The confirmed input spending `outpoint`, if any.
    pub fn spender(&self, outpoint: &OutPoint) -> Option<Spender> {
        self.spenders.get(outpoint).copied()
    }

    /// Confirmed transactions touching the script with hash `script`, oldest first.
    pub fn history(&self, script: &ScriptHash) -> &[HistoryEntry] {
        self.history.get(script).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The unspent output at `outpoint`.
    pub fn utxo(&self, outpoint: &OutPoint) -> Option<&Coin> {
        self.utxos.get(outpoint)
    }

    /// Unspent outputs paying to the script with hash `script`, in outpoint order.
    pub fn script_utxos(&self, script: &ScriptHash) -> Vec<(OutPoint, &Coin)> {
        let Some(set) = self.script_utxos.get(script) else {
            return Vec::new();
        };
        set.iter()
            .filter_map(|op| self.utxos.get(op).map(|c| (*op, c)))
            .collect()
    }

    /// Number of unspent outputs.
    pub fn utxo_count(&self) -> usize {
        self.utxos.len()
    }

    /// The full UTXO set (for a mempool or template builder that validates spends).
    pub fn utxos(&self) -> &HashMap<OutPoint, Coin> {
        &self.utxos
    }

    /// Coins spent by the active block at `height` and outputs it created, as an undo view:
    /// `(spent, created)`.
    pub(crate) fn undo_at(&self, height: usize) -> Option<UndoView<'_>> {
        self.active
            .get(height)
            .map(|u| (u.spent.as_slice(), u.created.as_slice()))
    }

    fn push_history(
        &mut self,
        script: &Script,
        txid: Txid,
        height: u32,
        touched: &mut Vec<ScriptHash>,
    ) {
        let key = ScriptHash::of(script);
        let entries = self.history.entry(key).or_default();
        let entry = HistoryEntry { txid, height };
        if entries.last() != Some(&entry) {
            entries.push(entry);
            touched.push(key);
        }
    }

    fn add_utxo(&mut self, outpoint: OutPoint, coin: Coin) {
        self.script_utxos
            .entry(ScriptHash::of(&coin.output.script_pubkey))
            .or_default()
            .insert(outpoint);
        self.utxos.insert(outpoint, coin);
    }

    fn remove_utxo(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        let coin = self.utxos.remove(outpoint)?;
        let key = ScriptHash::of(&coin.output.script_pubkey);
        if let Some(set) = self.script_utxos.get_mut(&key) {
            set.remove(outpoint);
            if set.is_empty() {
                self.script_utxos.remove(&key);
            }
        }
        Some(coin)
    }

    /// Connects `block` (with hash `hash`) on top of the indexed tip.
    ///
    /// # Errors
    /// [`IndexError`] if the block does not extend the tip or spends an output the index does
    /// not hold; the index is left unchanged.
    pub(crate) fn connect(&mut self, hash: BlockHash, block: &Block) -> Result<(), IndexError> {
        let tip = self.tip_hash();
        let extends = match tip {
            None => block.header.prev_blockhash == BlockHash::all_zeros(),
            Some(t) => block.header.prev_blockhash == t,
        };
        if !extends {
            return Err(IndexError::NotExtendingTip { block: hash, tip });
        }
        let height = u32::try_from(self.active.len())
            .map_err(|_| IndexError::NotExtendingTip { block: hash, tip })?;
        // Check every input first, so a failure leaves the index untouched. Inputs may spend
        // outputs of earlier transactions in the same block.
        if height > 0 {
            let mut created_here: BTreeSet<OutPoint> = BTreeSet::new();
            for tx in &block.txdata {
                if !tx.is_coinbase() {
                    for input in &tx.input {
                        let op = input.previous_output;
                        if !created_here.remove(&op) && !self.utxos.contains_key(&op) {
                            return Err(IndexError::MissingCoin {
                                block: hash,
                                outpoint: op,
                            });
                        }
                    }
                }
                let txid = tx.compute_txid();
                for vout in 0..tx.output.len() {
                    created_here.insert(OutPoint::new(txid, vout as u32));
                }
            }
        }
        let mut undo = BlockUndo {
            hash,
            txids: Vec::with_capacity(block.txdata.len()),
            spent: Vec::new(),
            created: Vec::new(),
            touched: Vec::new(),
        };
        for (position, tx) in block.txdata.iter().enumerate() {
            let txid = tx.compute_txid();
            undo.txids.push(txid);
            self.txs.insert(
                txid,
                TxLocation {
                    block_hash: hash,
                    height,
                    position: position as u32,
                },
            );
            self.connect_tx(tx, txid, height, &mut undo);
        }
        self.active.push(undo);
        Ok(())
    }

    fn connect_tx(&mut self, tx: &Transaction, txid: Txid, height: u32, undo: &mut BlockUndo) {
        let is_coinbase = tx.is_coinbase();
        if !is_coinbase {
            for (vin, input) in tx.input.iter().enumerate() {
                let op = input.previous_output;
                if let Some(coin) = self.remove_utxo(&op) {
                    self.push_history(&coin.output.script_pubkey, txid, height, &mut undo.touched);
                    self.spenders.insert(
                        op,
                        Spender {
                            txid,
                            vin: vin as u32,
                        },
                    );
                    undo.spent.push((op, coin));
                }
            }
        }
        for (vout, output) in tx.output.iter().enumerate() {
            self.push_history(&output.script_pubkey, txid, height, &mut undo.touched);
            // Core never adds the genesis coinbase, nor provably unspendable outputs.
            if height == 0 || is_unspendable(&output.script_pubkey) {
                continue;
            }
            let op = OutPoint::new(txid, vout as u32);
            self.add_utxo(
                op,
                Coin {
                    output: output.clone(),
                    height,
                    is_coinbase,
                },
            );
            undo.created.push(op);
        }
    }

    /// Disconnects the indexed tip, returning its hash (`None` when empty).
    ///
    /// The chain's own index is only changed by the chain; this is for a caller's copy (from
    /// [`crate::RegtestChain::read_index`]), e.g. a view as of an earlier block.
    pub fn disconnect_tip(&mut self) -> Option<BlockHash> {
        let undo = self.active.pop()?;
        let height = u32::try_from(self.active.len()).unwrap_or(u32::MAX);
        for op in undo.created.iter().rev() {
            self.remove_utxo(op);
        }
        for (op, coin) in undo.spent.iter().rev() {
            self.spenders.remove(op);
            self.add_utxo(*op, coin.clone());
        }
        for txid in &undo.txids {
            if self.txs.get(txid).map(|l| l.block_hash) == Some(undo.hash) {
                self.txs.remove(txid);
            }
        }
        for key in undo.touched.iter().rev() {
            if let Some(entries) = self.history.get_mut(key) {
                if entries.last().map(|e| e.height) == Some(height) {
                    entries.pop();
                }
                if entries.is_empty() {
                    self.history.remove(key);
                }
            }
        }
        Some(undo.hash)
    }
}
