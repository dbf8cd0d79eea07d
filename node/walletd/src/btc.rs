//! The BTC wallet: `bdk_wallet` over the wallet's BIP-86 descriptors, persisted through the
//! wallet database ([`SqlxPersister`], bdk's `AsyncWalletPersister`), following Bitcoin block by
//! block through the JSON-RPC the node already speaks (the embedded regtest mainchain or the
//! user's Bitcoin Core): one chain source for both, reorgs followed from the last common
//! checkpoint.

use std::collections::HashSet;
use std::sync::Arc;

use bdk_wallet::chain::{BlockId, ChainPosition};
use bdk_wallet::{
    AsyncWalletPersister, ChangeSet, KeychainKind, PersistedWallet, SignOptions, Wallet,
};
use bitcoin::{Amount, BlockHash, FeeRate, Network, Psbt, ScriptBuf, Transaction, Txid};
use p2share_mainchain::rpc::BitcoindRpc;
use p2share_wallet::keys::{Keychain, WalletKeys};
use serde_json::json;

use crate::db::WalletDb;

/// What one [`BtcWallet::sync`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtcSyncStep {
    /// Blocks applied.
    pub applied: u32,
    /// Whether the wallet reached the node's tip (and took its mempool).
    pub caught_up: bool,
}

/// bdk's persister over the wallet database: every changeset is appended as one row; loading
/// merges them in order.
#[derive(Clone, Debug)]
pub struct SqlxPersister(pub WalletDb);

/// Why the BTC wallet failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BtcError {
    /// The database failed.
    #[error("{0}")]
    Db(String),
    /// The descriptors or the stored wallet do not fit.
    #[error("BTC wallet: {0}")]
    Wallet(String),
    /// The chain source failed.
    #[error("Bitcoin chain source: {0}")]
    Source(String),
    /// A payment cannot be made (insufficient funds, an amount below dust…).
    #[error("{0}")]
    Send(String),
}

type PersistError = Box<dyn std::error::Error + Send + Sync>;

impl AsyncWalletPersister for SqlxPersister {
    type Error = PersistError;

    fn initialize<'a>(
        persister: &'a mut Self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<ChangeSet, PersistError>> + Send + 'a>,
    >
    where
        Self: 'a,
    {
        Box::pin(async move { persister.0.load_changeset().await })
    }

    fn persist<'a>(
        persister: &'a mut Self,
        changeset: &'a ChangeSet,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), PersistError>> + Send + 'a>>
    where
        Self: 'a,
    {
        Box::pin(async move {
            persister
                .0
                .append_changeset(changeset)
                .await
                .map_err(|e| Box::new(e) as PersistError)
        })
    }
}

/// Balances as the dashboard shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BtcBalance {
    /// Confirmed and spendable.
    pub confirmed: u64,
    /// Unconfirmed: our own change and incoming payments.
    pub pending: u64,
    /// Coinbases not yet 100 blocks deep.
    pub immature: u64,
}

/// One BTC transaction of the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtcTx {
    /// Its id.
    pub txid: Txid,
    /// Confirmation height (`None`: unconfirmed).
    pub height: Option<u32>,
    /// Block hash of that confirmation.
    pub block: Option<BlockHash>,
    /// Received by the wallet, in sats.
    pub received: u64,
    /// Sent from the wallet, in sats.
    pub sent: u64,
    /// Fee, when known.
    pub fee: Option<u64>,
    /// Whether it is a coinbase (a payout).
    pub coinbase: bool,
    /// The transaction.
    pub tx: Arc<Transaction>,
}

/// The BTC wallet.
pub struct BtcWallet {
    wallet: PersistedWallet<SqlxPersister>,
    persister: SqlxPersister,
    /// The node's mempool as last synced, and the tip then: an unchanged pair skips the work
    /// (a wallet of thousands of transactions is costly to canonicalize every poll).
    last_seen: Option<(u32, Vec<Txid>)>,
}

impl std::fmt::Debug for BtcWallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BtcWallet")
            .field("synced_height", &self.synced_height())
            .finish_non_exhaustive()
    }
}

impl BtcWallet {
    /// Loads the wallet stored in `db`, or creates it from the descriptors (public forms: no key
    /// is stored; `master` signs). A stored wallet of other descriptors or another network is
    /// refused.
    ///
    /// # Errors
    /// [`BtcError`] naming what did not fit.
    pub async fn open(
        db: WalletDb,
        external: &str,
        internal: &str,
        network: Network,
    ) -> Result<BtcWallet, BtcError> {
        let mut persister = SqlxPersister(db);
        let loaded = Wallet::load()
            .descriptor(KeychainKind::External, Some(external.to_owned()))
            .descriptor(KeychainKind::Internal, Some(internal.to_owned()))
            .check_network(network)
            .load_wallet_async(&mut persister)
            .await
            .map_err(|e| BtcError::Wallet(format!("stored wallet does not load: {e}")))?;
        let wallet = match loaded {
            Some(w) => w,
            None => Wallet::create(external.to_owned(), internal.to_owned())
                .network(network)
                .create_wallet_async(&mut persister)
                .await
                .map_err(|e| BtcError::Wallet(e.to_string()))?,
        };
        Ok(BtcWallet {
            wallet,
            persister,
            last_seen: None,
        })
    }

    async fn persist(&mut self) -> Result<(), BtcError> {
        self.wallet
            .persist_async(&mut self.persister)
            .await
            .map_err(|e| BtcError::Db(e.to_string()))?;
        Ok(())
    }

    /// Follows the chain of `rpc` from the wallet's last checkpoint (back to the last common
    /// block first, on a reorg) by at most `max_blocks` blocks; once at the tip it takes the
    /// mempool's transactions too. A long rescan is several calls, so whoever holds the wallet
    /// between them (the API) is never kept waiting for the whole of it.
    ///
    /// # Errors
    /// [`BtcError::Source`] when the node fails; what was applied before stays.
    pub async fn sync(
        &mut self,
        rpc: &BitcoindRpc,
        start_height: u32,
        max_blocks: u32,
    ) -> Result<BtcSyncStep, BtcError> {
        let src = |e: p2share_mainchain::ClientError| BtcError::Source(e.to_string());
        let tip = rpc.block_count().await.map_err(src)?;
        // The last checkpoint the node still has on its active chain.
        let mut fork: Option<BlockId> = None;
        for cp in self.wallet.latest_checkpoint().iter() {
            let id = cp.block_id();
            if id.height > tip {
                continue;
            }
            if rpc.block_hash(id.height).await.map_err(src)? == id.hash {
                fork = Some(id);
                break;
            }
        }
        let Some(mut connected) = fork else {
            return Err(BtcError::Source(
                "the Bitcoin node's chain does not hold the wallet's genesis block (another network?)"
                    .into(),
            ));
        };
        // Nothing synced past genesis yet: start after the birthday. The first block connects to
        // the wallet's chain at genesis through its parent (which the header names), so the
        // blocks before the birthday are never fetched.
        let first = match connected.height {
            0 => start_height.min(tip) + 1,
            h => h + 1,
        };
        let last = tip.min(first.saturating_add(max_blocks.max(1) - 1));
        let mut applied = 0u32;
        for height in first..=last {
            let hash = rpc.block_hash(height).await.map_err(src)?;
            let block = rpc.block(&hash).await.map_err(src)?;
            self.wallet
                .apply_block_connected_to(&block, height, connected)
                .map_err(|e| BtcError::Source(format!("block {hash} at {height}: {e}")))?;
            connected = BlockId { height, hash };
            applied += 1;
        }
        let caught_up = last >= tip;
        if caught_up {
            self.sync_mempool(rpc).await?;
        }
        self.persist().await?;
        Ok(BtcSyncStep { applied, caught_up })
    }

    async fn sync_mempool(&mut self, rpc: &BitcoindRpc) -> Result<(), BtcError> {
        let src = |e: p2share_mainchain::ClientError| BtcError::Source(e.to_string());
        let mut txids: Vec<Txid> =
            serde_json::from_value(rpc.call("getrawmempool", json!([])).await.map_err(src)?)
                .map_err(|e| BtcError::Source(format!("getrawmempool: {e}")))?;
        txids.sort();
        let seen = (self.synced_height(), txids.clone());
        if self.last_seen.as_ref() == Some(&seen) {
            return Ok(());
        }
        self.last_seen = Some(seen);
        let known: HashSet<Txid> = self.wallet.transactions().map(|t| t.tx_node.txid).collect();
        let now = crate::now();
        let mut unconfirmed = Vec::new();
        for txid in &txids {
            if known.contains(txid) {
                unconfirmed.push(None);
                continue;
            }
            if let Some(tx) = rpc.raw_transaction(txid).await.map_err(src)? {
                let relevant = tx
                    .output
                    .iter()
                    .any(|o| self.wallet.is_mine(o.script_pubkey.clone()))
                    || tx.input.iter().any(|i| {
                        self.wallet.get_utxo(i.previous_output).is_some()
                            || self.wallet.tx_details(i.previous_output.txid).is_some()
                    });
                if relevant {
                    unconfirmed.push(Some(tx));
                }
            }
        }
        self.wallet
            .apply_unconfirmed_txs(unconfirmed.into_iter().flatten().map(|tx| (tx, now)));
        // Our unconfirmed transactions the node no longer has were replaced or evicted.
        let in_pool: HashSet<Txid> = txids.into_iter().collect();
        let evicted: Vec<(Txid, u64)> = self
            .wallet
            .transactions()
            .filter(|t| {
                matches!(t.chain_position, ChainPosition::Unconfirmed { .. })
                    && !in_pool.contains(&t.tx_node.txid)
            })
            .map(|t| (t.tx_node.txid, now))
            .collect();
        self.wallet.apply_evicted_txs(evicted);
        Ok(())
    }

    /// The balances.
    pub fn balance(&self) -> BtcBalance {
        let b = self.wallet.balance();
        BtcBalance {
            confirmed: b.confirmed.to_sat(),
            pending: (b.trusted_pending + b.untrusted_pending).to_sat(),
            immature: b.immature.to_sat(),
        }
    }

    /// The height the wallet is synced to.
    pub fn synced_height(&self) -> u32 {
        self.wallet.latest_checkpoint().height()
    }

    /// A new receive address (revealed and persisted, so it is watched from now on).
    ///
    /// # Errors
    /// A database failure.
    pub async fn receive_address(&mut self) -> Result<bitcoin::Address, BtcError> {
        let info = self.wallet.next_unused_address(KeychainKind::External);
        self.persist().await?;
        Ok(info.address)
    }

    /// The script at `index` of `keychain` (derived, not revealed).
    pub fn script_at(&self, keychain: KeychainKind, index: u32) -> ScriptBuf {
        self.wallet.peek_address(keychain, index).script_pubkey()
    }

    /// Reveals `keychain`'s scripts up to `index`, so blocks paying them are picked up.
    ///
    /// # Errors
    /// A database failure.
    pub async fn reveal_to(&mut self, keychain: KeychainKind, index: u32) -> Result<(), BtcError> {
        let _ = self.wallet.reveal_addresses_to(keychain, index);
        self.persist().await
    }

    /// Whether `script` is one of the wallet's.
    pub fn is_mine(&self, script: &ScriptBuf) -> bool {
        self.wallet.is_mine(script.clone())
    }

    /// The wallet's transactions, newest first.
    pub fn transactions(&self) -> Vec<BtcTx> {
        let mut out: Vec<BtcTx> = self
            .wallet
            .transactions()
            .map(|t| {
                let tx = Arc::clone(&t.tx_node.tx);
                let (sent, received) = self.wallet.sent_and_received(&tx);
                let (height, block) = match t.chain_position {
                    ChainPosition::Confirmed { anchor, .. } => {
                        (Some(anchor.block_id.height), Some(anchor.block_id.hash))
                    }
                    ChainPosition::Unconfirmed { .. } => (None, None),
                };
                BtcTx {
                    txid: t.tx_node.txid,
                    height,
                    block,
                    received: received.to_sat(),
                    sent: sent.to_sat(),
                    fee: self.wallet.calculate_fee(&tx).ok().map(Amount::to_sat),
                    coinbase: tx.is_coinbase(),
                    tx,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.height
                .unwrap_or(u32::MAX)
                .cmp(&a.height.unwrap_or(u32::MAX))
                .then(a.txid.cmp(&b.txid))
        });
        out
    }

    /// Builds a payment of `amount` sats to `script` at `fee_rate` (RBF signalled), unsigned.
    ///
    /// # Errors
    /// [`BtcError::Send`] with bdk's reason (insufficient funds, dust…).
    pub fn build_payment(
        &mut self,
        script: ScriptBuf,
        amount: u64,
        fee_rate: FeeRate,
    ) -> Result<Psbt, BtcError> {
        let mut builder = self.wallet.build_tx();
        builder
            .add_recipient(script, Amount::from_sat(amount))
            .fee_rate(fee_rate);
        builder.finish().map_err(|e| BtcError::Send(e.to_string()))
    }

    /// Signs and finalizes `psbt` with `keys` (the wallet's, unlocked: bdk signers built from
    /// the secret descriptors of both keychains) and extracts the transaction.
    ///
    /// # Errors
    /// [`BtcError::Send`] when it cannot be fully signed.
    pub fn sign(&self, mut psbt: Psbt, keys: &WalletKeys) -> Result<Transaction, BtcError> {
        use bdk_wallet::descriptor::IntoWalletDescriptor;
        use bdk_wallet::signer::SignersContainer;
        let secp = self.wallet.secp_ctx();
        let mut containers = Vec::with_capacity(2);
        for (keychain, kind) in [
            (Keychain::External, KeychainKind::External),
            (Keychain::Internal, KeychainKind::Internal),
        ] {
            let secret = keys.secret_descriptor(keychain);
            let (_, keymap) = secret
                .as_str()
                .into_wallet_descriptor(secp, self.wallet.network().into())
                .map_err(|e| BtcError::Wallet(format!("signing keys: {e}")))?;
            containers.push(SignersContainer::build(
                keymap,
                self.wallet.public_descriptor(kind),
                secp,
            ));
        }
        let refs: Vec<&SignersContainer> = containers.iter().collect();
        let done = self
            .wallet
            .sign_with_signers(&mut psbt, &refs, SignOptions::default())
            .map_err(|e| BtcError::Send(format!("signing failed: {e}")))?;
        if !done {
            return Err(BtcError::Send(
                "the payment could not be fully signed".into(),
            ));
        }
        psbt.extract_tx()
            .map_err(|e| BtcError::Send(format!("the signed payment is not valid: {e}")))
    }

    /// Records a broadcast transaction as unconfirmed (before the next sync sees it).
    ///
    /// # Errors
    /// A database failure.
    pub async fn note_broadcast(&mut self, tx: Transaction) -> Result<(), BtcError> {
        self.wallet.apply_unconfirmed_txs([(tx, crate::now())]);
        self.persist().await
    }
}
