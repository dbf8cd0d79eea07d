//! [`WalletService`]: the node's one wallet — created or restored from one BIP-39 seed kept
//! encrypted in `<datadir>/wallet.seed`, watched at all times (its public descriptors and
//! scripts live in the wallet database, so a locked wallet still follows both chains), able to
//! sign only while unlocked.
//!
//! Secrets (the mnemonic, the passphrase, keys) never reach a log line or an event; the
//! mnemonic leaves the service exactly once, as the answer to `create`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bdk_wallet::KeychainKind;
use bitcoin::{Address, FeeRate, Network, ScriptBuf, Txid};
use p2share_consensus::ShareAmount;
use p2share_mainchain::rpc::{BitcoindRpc, RpcConfig};
use p2share_service::{Net, Node, NodeEvent};
use p2share_wallet::coins::{build_send, WalletUtxo};
use p2share_wallet::keys::KeyError;
use p2share_wallet::keys::{Keychain, WalletKeys};
use p2share_wallet::seed::{KdfParams, Mnemonic, MnemonicError, SeedError, SeedFile};
use tokio::sync::Mutex;

use crate::btc::{BtcBalance, BtcError, BtcTx, BtcWallet};
use crate::db::{ShareTxRow, WalletDb};
use crate::shares::{self, HistorySync, ShareBalance, ShareCoin};
use crate::swap::engine::SwapHandler;
use crate::swap::{SwapBook, SwapConfig};

/// Scripts watched past the last used index on each keychain (the gap limit).
pub const LOOKAHEAD: u32 = 20;
/// Coins a share payment's selection searches first (the largest).
/// Bitcoin blocks applied per hold of the wallet during a BTC sync (about a tenth of a second
/// of blocks fetched and applied; the API waits at most that long behind a rescan).
pub const BTC_SYNC_CHUNK: u32 = 200;
/// Shares scanned per hold of the wallet during a share history sync.
pub const SHARE_SYNC_CHUNK: u32 = 1_000;
const SELECTION_CANDIDATES: usize = 256;
/// The seed file in the data directory.
pub const SEED_FILE: &str = "wallet.seed";
/// The wallet database in the data directory.
pub const DB_FILE: &str = "wallet.sqlite";
/// Poll ticks between two gossips of our own offers (for peers that joined since).
const OFFER_REPUBLISH_TICKS: u64 = 15;
/// How often the BTC side looks for new blocks and mempool transactions.
const BTC_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a wallet request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// No wallet yet: create or restore one.
    #[error("no wallet: create or restore one first")]
    NoWallet,
    /// A wallet exists already (create/restore refused).
    #[error("a wallet already exists in {0}")]
    Exists(PathBuf),
    /// The wallet is locked: unlock it with its passphrase.
    #[error("the wallet is locked: unlock it first")]
    Locked,
    /// The seed file was refused (wrong passphrase, corrupt file…).
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// A mnemonic was refused (a word not in the list, a bad checksum…).
    #[error(transparent)]
    Mnemonic(#[from] MnemonicError),
    /// Key derivation failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A parameter is wrong (an address of another network, a zero amount…).
    #[error("{0}")]
    Invalid(String),
    /// A payment cannot be made.
    #[error("{0}")]
    Send(String),
    /// The node refused a transaction.
    #[error("the node refused the transaction: {0}")]
    Rejected(String),
    /// The Bitcoin side is not available (no Bitcoin node configured).
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error("{0}")]
    Storage(String),
}

impl From<crate::db::DbError> for WalletError {
    fn from(e: crate::db::DbError) -> WalletError {
        WalletError::Storage(e.to_string())
    }
}

impl From<BtcError> for WalletError {
    fn from(e: BtcError) -> WalletError {
        match e {
            BtcError::Send(m) => WalletError::Send(m),
            BtcError::Source(m) => WalletError::Unavailable(m),
            other => WalletError::Storage(other.to_string()),
        }
    }
}

/// What the wallet is, for the dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletStatus {
    /// A wallet exists.
    pub exists: bool,
    /// It can sign.
    pub unlocked: bool,
    /// Unix time the seed was made (or restored).
    pub birthday: Option<u64>,
    /// The share the share history is synced to.
    pub share_height: Option<u32>,
    /// The Bitcoin block the BTC wallet is synced to.
    pub btc_height: Option<u32>,
    /// Why the BTC wallet's last sync failed (it retries every poll); `None` when it kept up.
    pub btc_error: Option<String>,
    /// The address the node's own hashers pay (the wallet's mining address).
    pub mining_address: Option<String>,
}

/// Both balances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    /// Shares, in units.
    pub shares: ShareBalance,
    /// BTC, in sats.
    pub btc: BtcBalance,
}

/// A payout: a Bitcoin coinbase that paid one of the wallet's share scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    /// The coinbase.
    pub txid: Txid,
    /// Its block (the winning share's Bitcoin header hash, which is that share's id).
    pub block: bitcoin::BlockHash,
    /// Its height on Bitcoin.
    pub height: u32,
    /// Sats.
    pub amount: u64,
    /// Spendable (100 blocks deep).
    pub mature: bool,
    /// Blocks until it is.
    pub blocks_to_maturity: u32,
}

pub(crate) struct Unlocked {
    pub(crate) keys: WalletKeys,
}

pub(crate) struct Inner {
    pub(crate) db: Option<WalletDb>,
    pub(crate) btc: Option<BtcWallet>,
    history: HistorySync,
    pub(crate) unlocked: Option<Unlocked>,
    /// Watched scripts by (keychain, index).
    scripts: HashSet<ScriptBuf>,
    external: Vec<ScriptBuf>,
    internal: Vec<ScriptBuf>,
    /// Next unused index per keychain.
    next_external: u32,
    next_internal: u32,
    /// The last BTC sync failure (logged as a warning when it first appears, not every poll).
    btc_sync_error: Option<String>,
}

/// The node's wallet; cheap to clone.
#[derive(Clone)]
pub struct WalletService {
    pub(crate) inner: Arc<Mutex<Inner>>,
    pub(crate) node: Node,
    pub(crate) net: Net,
    pub(crate) rpc: Option<Arc<BitcoindRpc>>,
    pub(crate) swaps: Arc<Mutex<SwapBook>>,
    /// One watcher pass at a time.
    pub(crate) swap_drive: Arc<Mutex<()>>,
    pub(crate) swap_config: Arc<SwapConfig>,
    datadir: PathBuf,
    network: Network,
    kdf: KdfParams,
}

impl std::fmt::Debug for WalletService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletService")
            .field("datadir", &self.datadir)
            .finish_non_exhaustive()
    }
}

const META_EXTERNAL: &str = "descriptor_external";
const META_INTERNAL: &str = "descriptor_internal";
const META_BIRTHDAY: &str = "birthday";
const META_START_HEIGHT: &str = "btc_start_height";
const META_NEXT_EXTERNAL: &str = "next_external";
const META_NEXT_INTERNAL: &str = "next_internal";

fn seed_path(datadir: &Path) -> PathBuf {
    datadir.join(SEED_FILE)
}

impl WalletService {
    /// The wallet of the node in `datadir` (opening it watch-only if one exists), following the
    /// node's chain and, with `bitcoin`, the Bitcoin chain; `network` is the Bitcoin network of
    /// the sharechain's addresses. `kdf` sets the seed file's Argon2id cost for new wallets;
    /// `swap` the swap engine's settings. The wallet answers the node's swap traffic from now on.
    ///
    /// # Errors
    /// [`WalletError::Storage`] when the wallet database cannot be opened.
    pub async fn open(
        datadir: &Path,
        net: Net,
        bitcoin: Option<RpcConfig>,
        network: Network,
        kdf: KdfParams,
        swap: SwapConfig,
    ) -> Result<WalletService, WalletError> {
        let rpc = match bitcoin {
            Some(c) => Some(Arc::new(
                BitcoindRpc::new(c).map_err(|e| WalletError::Unavailable(e.to_string()))?,
            )),
            None => None,
        };
        let service = WalletService {
            inner: Arc::new(Mutex::new(Inner {
                db: None,
                btc: None,
                history: HistorySync::default(),
                unlocked: None,
                scripts: HashSet::new(),
                external: Vec::new(),
                internal: Vec::new(),
                next_external: 0,
                next_internal: 0,
                btc_sync_error: None,
            })),
            node: net.node_handle(),
            net,
            rpc,
            swaps: Arc::new(Mutex::new(SwapBook::default())),
            swap_drive: Arc::new(Mutex::new(())),
            swap_config: Arc::new(swap),
            datadir: datadir.to_path_buf(),
            network,
            kdf,
        };
        if seed_path(datadir).exists() {
            service.open_watch().await?;
        }
        service
            .net
            .set_swap_peer(Arc::new(SwapHandler(service.clone())));
        tokio::spawn(service.clone().follow());
        Ok(service)
    }

    /// Opens the database and the watch-only side from the stored public descriptors.
    async fn open_watch(&self) -> Result<(), WalletError> {
        let db = WalletDb::open(&self.datadir.join(DB_FILE)).await?;
        let (Some(external), Some(internal)) =
            (db.meta(META_EXTERNAL).await?, db.meta(META_INTERNAL).await?)
        else {
            return Err(WalletError::Storage(
                "the wallet database has no descriptors: unlock the wallet to rebuild them".into(),
            ));
        };
        let next_e = parse_meta(db.meta(META_NEXT_EXTERNAL).await?);
        let next_i = parse_meta(db.meta(META_NEXT_INTERNAL).await?);
        let btc = BtcWallet::open(db.clone(), &external, &internal, self.network).await?;
        let mut inner = self.inner.lock().await;
        inner.next_external = next_e;
        inner.next_internal = next_i;
        inner.db = Some(db);
        inner.btc = Some(btc);
        Ok(())
    }

    /// The Bitcoin node's height, when one is configured and answers.
    pub async fn btc_height(&self) -> Option<u32> {
        self.rpc.as_ref()?.block_count().await.ok()
    }

    /// The wallet database, once a wallet exists.
    pub(crate) async fn db(&self) -> Result<WalletDb, WalletError> {
        self.inner
            .lock()
            .await
            .db
            .clone()
            .ok_or(WalletError::NoWallet)
    }

    /// Whether a Bitcoin node is configured (the BTC side follows it).
    pub fn has_bitcoin(&self) -> bool {
        self.rpc.is_some()
    }

    /// The wallet's status.
    pub async fn status(&self) -> WalletStatus {
        let inner = self.inner.lock().await;
        let (birthday, share_height) = match &inner.db {
            Some(db) => (
                db.meta(META_BIRTHDAY)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|b| b.parse().ok()),
                db.share_sync().await.ok().flatten().map(|(h, _)| h),
            ),
            None => (None, None),
        };
        WalletStatus {
            exists: inner.db.is_some(),
            unlocked: inner.unlocked.is_some(),
            birthday,
            share_height,
            btc_height: inner.btc.as_ref().map(BtcWallet::synced_height),
            btc_error: inner.btc_sync_error.clone(),
            mining_address: inner
                .external
                .first()
                .and_then(|s| Address::from_script(s, self.network).ok())
                .map(|a| a.to_string()),
        }
    }

    /// Makes a new seed, encrypts it with `passphrase`, stores it and unlocks the wallet.
    /// Returns the mnemonic's words — the only time they leave the service: show them to the
    /// user, who must write them down.
    ///
    /// # Errors
    /// [`WalletError::Exists`] when a wallet exists; seed and storage errors.
    pub async fn create(&self, passphrase: &str) -> Result<Vec<String>, WalletError> {
        let mnemonic = Mnemonic::create()?;
        let words = mnemonic
            .phrase()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        self.install(mnemonic, passphrase, true).await?;
        Ok(words)
    }

    /// Restores the wallet from `words`, encrypted with `passphrase`; the BTC side rescans
    /// from genesis on a devnet (from taproot's activation on Bitcoin main).
    ///
    /// # Errors
    /// [`WalletError::Exists`]; [`WalletError::Seed`] naming a bad word or checksum.
    pub async fn restore(&self, words: &str, passphrase: &str) -> Result<(), WalletError> {
        let mnemonic = Mnemonic::restore(words)?;
        self.install(mnemonic, passphrase, false).await
    }

    async fn install(
        &self,
        mnemonic: Mnemonic,
        passphrase: &str,
        fresh: bool,
    ) -> Result<(), WalletError> {
        let path = seed_path(&self.datadir);
        if path.exists() {
            return Err(WalletError::Exists(path));
        }
        if passphrase.is_empty() {
            return Err(WalletError::Invalid(
                "the passphrase must not be empty".into(),
            ));
        }
        let birthday = crate::now();
        let kdf = self.kdf;
        let pass = passphrase.to_owned();
        let network = self.network;
        let (file, keys) = tokio::task::spawn_blocking(move || {
            let file = SeedFile::encrypt(&mnemonic, &pass, kdf, birthday)?;
            let keys = WalletKeys::from_mnemonic(&mnemonic, network)?;
            Ok::<_, WalletError>((file, keys))
        })
        .await
        .map_err(|e| WalletError::Storage(e.to_string()))??;
        let start = if fresh {
            match &self.rpc {
                Some(rpc) => rpc.block_count().await.unwrap_or(0),
                None => 0,
            }
        } else {
            restore_start_height(self.network)
        };
        let db = WalletDb::open(&self.datadir.join(DB_FILE)).await?;
        db.set_meta(META_EXTERNAL, &keys.descriptor(Keychain::External))
            .await?;
        db.set_meta(META_INTERNAL, &keys.descriptor(Keychain::Internal))
            .await?;
        db.set_meta(META_BIRTHDAY, &birthday.to_string()).await?;
        db.set_meta(META_START_HEIGHT, &start.to_string()).await?;
        // The seed file last: a wallet exists once it is there (written atomically).
        p2share_wallet::seed::write_atomic(&path, &file)?;
        db.close().await;
        self.open_watch().await?;
        self.inner.lock().await.unlocked = Some(Unlocked { keys });
        self.refresh_scripts().await;
        tracing::info!("wallet {}", if fresh { "created" } else { "restored" });
        Ok(())
    }

    /// Unlocks the wallet with its passphrase.
    ///
    /// # Errors
    /// [`WalletError::NoWallet`]; [`WalletError::Seed`] for a wrong passphrase or a corrupt
    /// file (nothing changes).
    pub async fn unlock(&self, passphrase: &str) -> Result<(), WalletError> {
        let path = seed_path(&self.datadir);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => WalletError::NoWallet,
            _ => WalletError::Storage(format!("cannot read {}: {e}", path.display())),
        })?;
        let pass = passphrase.to_owned();
        let network = self.network;
        let keys = tokio::task::spawn_blocking(move || {
            let (mnemonic, _) = SeedFile::decrypt(&bytes, &pass)?;
            Ok::<_, WalletError>(WalletKeys::from_mnemonic(&mnemonic, network)?)
        })
        .await
        .map_err(|e| WalletError::Storage(e.to_string()))??;
        if self.inner.lock().await.db.is_none() {
            self.open_watch().await?;
        }
        self.inner.lock().await.unlocked = Some(Unlocked { keys });
        Ok(())
    }

    /// Forgets the keys (the wallet keeps watching).
    pub async fn lock(&self) {
        self.inner.lock().await.unlocked = None;
    }

    /// Rebuilds the watched script set from the descriptors' indexes (through the BTC
    /// wallet, which holds the same descriptors, so a locked wallet watches too).
    async fn refresh_scripts(&self) {
        let mut guard = self.inner.lock().await;
        let inner = &mut *guard;
        let want_e = (inner.next_external + LOOKAHEAD) as usize;
        let want_i = (inner.next_internal + LOOKAHEAD) as usize;
        let Some(btc) = inner.btc.as_ref() else {
            return;
        };
        let mut changed = inner.scripts.is_empty();
        while inner.external.len() < want_e {
            let i = u32::try_from(inner.external.len()).unwrap_or(u32::MAX);
            inner
                .external
                .push(btc.script_at(KeychainKind::External, i));
            changed = true;
        }
        while inner.internal.len() < want_i {
            let i = u32::try_from(inner.internal.len()).unwrap_or(u32::MAX);
            inner
                .internal
                .push(btc.script_at(KeychainKind::Internal, i));
            changed = true;
        }
        if changed {
            inner.scripts = inner
                .external
                .iter()
                .chain(inner.internal.iter())
                .cloned()
                .collect();
        }
    }

    /// The script the node's hashers pay: the wallet's first receive script (shares, and
    /// Bitcoin rewards while `n = 0`, land in the wallet).
    pub async fn mining_script(&self) -> Option<ScriptBuf> {
        self.refresh_scripts().await;
        self.inner.lock().await.external.first().cloned()
    }

    /// A fresh receive address, the same on both chains (a BIP-86 taproot address).
    ///
    /// # Errors
    /// [`WalletError::NoWallet`]; storage.
    pub async fn receive_address(&self) -> Result<Address, WalletError> {
        self.refresh_scripts().await;
        let (db, index) = {
            let mut inner = self.inner.lock().await;
            let db = inner.db.clone().ok_or(WalletError::NoWallet)?;
            // Index 0 is the mining address; receiving starts at 1.
            let index = inner.next_external.max(1);
            inner.next_external = index + 1;
            (db, index)
        };
        db.set_meta(META_NEXT_EXTERNAL, &(index + 1).to_string())
            .await?;
        self.refresh_scripts().await;
        let inner = self.inner.lock().await;
        let script = inner
            .external
            .get(index as usize)
            .ok_or_else(|| WalletError::Storage("address derivation failed".into()))?;
        Address::from_script(script, self.network).map_err(|e| WalletError::Storage(e.to_string()))
    }

    /// Both balances (shares at the node's tip, BTC as last synced).
    ///
    /// # Errors
    /// [`WalletError::NoWallet`].
    pub async fn balances(&self) -> Result<Balances, WalletError> {
        self.refresh_scripts().await;
        let scripts = self.watched().await?;
        let (_, share_balance) = shares::coins(&self.node, &scripts).await;
        let inner = self.inner.lock().await;
        Ok(Balances {
            shares: share_balance,
            btc: inner
                .btc
                .as_ref()
                .map(BtcWallet::balance)
                .unwrap_or_default(),
        })
    }

    async fn watched(&self) -> Result<HashSet<ScriptBuf>, WalletError> {
        let inner = self.inner.lock().await;
        if inner.db.is_none() {
            return Err(WalletError::NoWallet);
        }
        Ok(inner.scripts.clone())
    }

    /// The wallet's unspent share outputs.
    ///
    /// # Errors
    /// [`WalletError::NoWallet`].
    pub async fn share_coins(&self) -> Result<Vec<ShareCoin>, WalletError> {
        self.refresh_scripts().await;
        let scripts = self.watched().await?;
        Ok(shares::coins(&self.node, &scripts).await.0)
    }

    /// Sends `units` shares to `script` at `fee_per_kvb` units per 1,000 vbytes (default: the
    /// node's mempool floor), RBF signalled; the change returns to a fresh change script.
    ///
    /// # Errors
    /// [`WalletError::Locked`]; [`WalletError::Invalid`] for a zero amount;
    /// [`WalletError::Send`] for insufficient funds (naming the spendable amount);
    /// [`WalletError::Rejected`] when the node's mempool refuses it.
    pub async fn send_shares(
        &self,
        script: ScriptBuf,
        units: u64,
        fee_per_kvb: Option<u64>,
    ) -> Result<Txid, WalletError> {
        let (tx, _) = self.build_share_payment(script, units, fee_per_kvb).await?;
        let txid = tx.compute_txid();
        self.net
            .submit_local_transaction(tx)
            .await
            .map_err(|e| WalletError::Rejected(e.to_string()))?;
        self.sync_shares().await;
        Ok(txid)
    }

    /// The mempool's fee floor in units per 1,000 vbytes (at least 1,000).
    pub(crate) async fn share_fee_floor(&self) -> u64 {
        self.node
            .with_mempool(|m| m.min_fee_rate().fee_for(1000))
            .await
            .max(1000)
    }

    /// Builds and signs (does not submit) a share payment; returns it and its fee.
    ///
    /// # Errors
    /// As [`WalletService::send_shares`].
    pub async fn build_share_payment(
        &self,
        script: ScriptBuf,
        units: u64,
        fee_per_kvb: Option<u64>,
    ) -> Result<(bitcoin::Transaction, u64), WalletError> {
        if units == 0 {
            return Err(WalletError::Invalid("the amount must be above zero".into()));
        }
        self.refresh_scripts().await;
        let coins = self.share_coins().await?;
        let floor = self.share_fee_floor().await;
        let rate = fee_per_kvb.unwrap_or(floor).max(floor);
        let tip = self.node.tip().await.1;
        let amount =
            ShareAmount::from_units(units).map_err(|e| WalletError::Invalid(e.to_string()))?;
        // Units per 1,000 vbytes → per 1,000 weight units, rounded up.
        let fee_rate = bitcoin::FeeRate::from_sat_per_kwu(rate.div_ceil(4));
        let (built, change_index) = {
            let mut inner = self.inner.lock().await;
            let Some(unlocked) = inner.unlocked.as_ref() else {
                return Err(WalletError::Locked);
            };
            let change_index = inner.next_internal;
            let change = unlocked.keys.address(Keychain::Internal, change_index)?.0;
            let utxos: Vec<WalletUtxo> = coins
                .iter()
                .filter_map(|c| {
                    let (keychain, index) = locate(&inner, &c.script)?;
                    Some(WalletUtxo {
                        outpoint: c.outpoint,
                        value: ShareAmount::from_units(c.value).ok()?,
                        script: c.script.clone(),
                        keychain,
                        index,
                        confirmations: tip.saturating_sub(c.height) + 1,
                        is_sharebase: c.is_sharebase,
                        mature: c.mature,
                    })
                })
                .collect();
            // A miner's wallet holds thousands of equal sharebase outputs: selection searches
            // the largest few hundred first (milliseconds), all of them only when those fall
            // short.
            let mut largest: Vec<WalletUtxo> = utxos.iter().filter(|u| u.mature).cloned().collect();
            largest.sort_by(|a, b| b.value.cmp(&a.value).then(a.outpoint.cmp(&b.outpoint)));
            largest.truncate(SELECTION_CANDIDATES);
            let recipients = [(script, amount)];
            let built = match build_send(
                &unlocked.keys,
                &largest,
                &recipients,
                fee_rate,
                &change,
                true,
            ) {
                Err(p2share_wallet::coins::SendError::InsufficientFunds { .. })
                    if utxos.len() > largest.len() =>
                {
                    build_send(&unlocked.keys, &utxos, &recipients, fee_rate, &change, true)
                }
                other => other,
            }
            .map_err(|e| WalletError::Send(e.to_string()))?;
            if built.change.is_some() {
                inner.next_internal = change_index + 1;
            }
            (built, change_index)
        };
        if built.change.is_some() {
            if let Some(db) = self.inner.lock().await.db.clone() {
                db.set_meta(META_NEXT_INTERNAL, &(change_index + 1).to_string())
                    .await?;
            }
            self.refresh_scripts().await;
        }
        Ok((built.tx, built.fee.to_units()))
    }

    /// The share history, newest first.
    ///
    /// # Errors
    /// [`WalletError::NoWallet`]; storage.
    pub async fn share_history(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<ShareTxRow>, u64), WalletError> {
        let db = self.db().await?;
        Ok((
            db.share_history(offset, limit).await?,
            db.share_history_len().await?,
        ))
    }

    /// The BTC history, newest first.
    ///
    /// # Errors
    /// [`WalletError::NoWallet`].
    pub async fn btc_history(&self) -> Result<Vec<BtcTx>, WalletError> {
        let inner = self.inner.lock().await;
        Ok(inner
            .btc
            .as_ref()
            .ok_or(WalletError::NoWallet)?
            .transactions())
    }

    /// The Bitcoin coinbases that paid the wallet's share scripts: payouts won by its shares.
    ///
    /// # Errors
    /// [`WalletError::NoWallet`].
    pub async fn payouts(&self) -> Result<Vec<Payout>, WalletError> {
        let tip = match &self.rpc {
            Some(rpc) => rpc.block_count().await.unwrap_or(0),
            None => 0,
        };
        let txs = self.btc_history().await?;
        Ok(txs
            .into_iter()
            .filter(|t| t.coinbase)
            .filter_map(|t| {
                let (height, block) = (t.height?, t.block?);
                let depth = tip.saturating_sub(height) + 1;
                Some(Payout {
                    txid: t.txid,
                    block,
                    height,
                    amount: t.received,
                    mature: depth >= 100,
                    blocks_to_maturity: 100u32.saturating_sub(depth),
                })
            })
            .collect())
    }

    /// Builds an unsigned BTC payment as a PSBT (for a hardware wallet or another signer).
    ///
    /// # Errors
    /// [`WalletError::NoWallet`]; [`WalletError::Send`].
    pub async fn btc_psbt(
        &self,
        script: ScriptBuf,
        sats: u64,
        sat_per_vb: u64,
    ) -> Result<bitcoin::Psbt, WalletError> {
        let rate = FeeRate::from_sat_per_vb(sat_per_vb.max(1)).ok_or_else(|| {
            WalletError::Invalid(format!("fee rate {sat_per_vb} sat/vB is too high"))
        })?;
        let mut inner = self.inner.lock().await;
        let btc = inner.btc.as_mut().ok_or(WalletError::NoWallet)?;
        Ok(btc.build_payment(script, sats, rate)?)
    }

    /// Sends `sats` to `script` at `sat_per_vb`, RBF signalled.
    ///
    /// # Errors
    /// [`WalletError::Locked`]; [`WalletError::Send`]; [`WalletError::Rejected`].
    pub async fn send_btc(
        &self,
        script: ScriptBuf,
        sats: u64,
        sat_per_vb: u64,
    ) -> Result<Txid, WalletError> {
        let (tx, _) = self.build_btc_payment(script, sats, sat_per_vb).await?;
        self.broadcast_btc(tx).await
    }

    /// Builds and signs (does not broadcast) a BTC payment; returns it and its fee.
    ///
    /// # Errors
    /// As [`WalletService::send_btc`].
    pub(crate) async fn build_btc_payment(
        &self,
        script: ScriptBuf,
        sats: u64,
        sat_per_vb: u64,
    ) -> Result<(bitcoin::Transaction, u64), WalletError> {
        if self.rpc.is_none() {
            return Err(WalletError::Unavailable(
                "no Bitcoin node is configured".into(),
            ));
        }
        if sats == 0 {
            return Err(WalletError::Invalid("the amount must be above zero".into()));
        }
        let rate = FeeRate::from_sat_per_vb(sat_per_vb.max(1)).ok_or_else(|| {
            WalletError::Invalid(format!("fee rate {sat_per_vb} sat/vB is too high"))
        })?;
        let mut guard = self.inner.lock().await;
        let inner = &mut *guard;
        let keys = &inner.unlocked.as_ref().ok_or(WalletError::Locked)?.keys;
        let btc = inner.btc.as_mut().ok_or(WalletError::NoWallet)?;
        let psbt = btc.build_payment(script, sats, rate)?;
        let fee = psbt.fee().map(|f| f.to_sat()).unwrap_or(0);
        Ok((btc.sign(psbt, keys)?, fee))
    }

    /// Broadcasts a BTC transaction through the Bitcoin node and records it.
    ///
    /// # Errors
    /// [`WalletError::Unavailable`] without a Bitcoin node; [`WalletError::Rejected`].
    pub(crate) async fn broadcast_btc(
        &self,
        tx: bitcoin::Transaction,
    ) -> Result<Txid, WalletError> {
        let rpc = self
            .rpc
            .clone()
            .ok_or_else(|| WalletError::Unavailable("no Bitcoin node is configured".into()))?;
        let txid = rpc
            .send_raw_transaction(&tx)
            .await
            .map_err(|e| WalletError::Rejected(e.to_string()))?;
        if let Some(btc) = self.inner.lock().await.btc.as_mut() {
            btc.note_broadcast(tx).await?;
        }
        Ok(txid)
    }

    /// Brings the share history up to the node's tip.
    pub async fn sync_shares(&self) {
        self.refresh_scripts().await;
        loop {
            let mut inner = self.inner.lock().await;
            let Some(db) = inner.db.clone() else { return };
            let scripts = inner.scripts.clone();
            match inner
                .history
                .sync(&self.node, &db, &scripts, SHARE_SYNC_CHUNK)
                .await
            {
                Ok(r) if r.caught_up => return,
                // The chain moved under the scan: the next tip event starts it again.
                Ok(r) if r.shares == 0 => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "share history sync failed");
                    return;
                }
            }
        }
    }

    /// Brings the BTC wallet up to the Bitcoin node's tip, [`BTC_SYNC_CHUNK`] blocks per hold
    /// of the wallet, so API calls go on during a long rescan (a restore on a long chain).
    pub async fn sync_btc(&self) {
        let Some(rpc) = self.rpc.clone() else { return };
        let start = match self.inner.lock().await.db.clone() {
            Some(db) => parse_meta(db.meta(META_START_HEIGHT).await.ok().flatten()),
            None => return,
        };
        loop {
            let mut inner = self.inner.lock().await;
            let inner = &mut *inner;
            let Some(btc) = inner.btc.as_mut() else {
                return;
            };
            match btc.sync(&rpc, start, BTC_SYNC_CHUNK).await {
                Ok(step) => {
                    if inner.btc_sync_error.take().is_some() {
                        tracing::info!("BTC wallet sync recovered");
                    }
                    if step.caught_up {
                        return;
                    }
                }
                Err(e) => {
                    let e = e.to_string();
                    if inner.btc_sync_error.as_deref() == Some(e.as_str()) {
                        tracing::debug!(error = %e, "BTC wallet sync failed again");
                    } else {
                        tracing::warn!(error = %e, "BTC wallet sync failed");
                        inner.btc_sync_error = Some(e);
                    }
                    return;
                }
            }
        }
    }

    /// Follows the node's tips (share history) and polls Bitcoin (BTC wallet) until the node's
    /// event stream closes.
    async fn follow(self) {
        let mut events = self.node.subscribe();
        let mut poll = tokio::time::interval(BTC_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(NodeEvent::Tip { reorg_depth, .. }) => {
                        if reorg_depth > 0 {
                            self.note_reorg(reorg_depth).await;
                        }
                        self.sync_shares().await;
                        self.drive_swaps().await;
                    }
                    Ok(NodeEvent::Transaction { .. }) => self.sync_shares().await,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => self.sync_shares().await,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = poll.tick() => {
                    ticks += 1;
                    self.sync_btc().await;
                    self.drive_swaps().await;
                    if ticks.is_multiple_of(OFFER_REPUBLISH_TICKS) {
                        self.republish_offers().await;
                    }
                }
            }
        }
    }

    /// Closes the database.
    pub async fn close(&self) {
        let mut inner = self.inner.lock().await;
        inner.unlocked = None;
        inner.btc = None;
        if let Some(db) = inner.db.take() {
            db.close().await;
        }
    }
}

fn locate(inner: &Inner, script: &ScriptBuf) -> Option<(Keychain, u32)> {
    if let Some(i) = inner.external.iter().position(|s| s == script) {
        return Some((Keychain::External, u32::try_from(i).ok()?));
    }
    inner
        .internal
        .iter()
        .position(|s| s == script)
        .and_then(|i| Some((Keychain::Internal, u32::try_from(i).ok()?)))
}

fn parse_meta(v: Option<String>) -> u32 {
    v.and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Where a restored wallet's BTC rescan starts: taproot's activation on Bitcoin main (a
/// BIP-86 wallet cannot have coins before it), genesis elsewhere.
fn restore_start_height(network: Network) -> u32 {
    match network {
        Network::Bitcoin => 709_632,
        _ => 0,
    }
}
