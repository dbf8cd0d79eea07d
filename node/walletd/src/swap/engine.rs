//! The swap engine: the order book, the protocol handlers and the watcher that drives every
//! unfinished swap from what both chains show.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::secp256k1::{Keypair, PublicKey};
use bitcoin::{Amount, BlockHash, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use p2share_consensus::ShareAmount;
use p2share_p2p::PeerId;
use p2share_service::SwapPeer;
use p2share_wallet::fees::fee_for_weight;
use p2share_wallet::htlc::{claim_tx, extract_preimage, payment_hash, refund_tx, Htlc};
use p2share_wallet::terms::{self, check_counterparty_lock, Chain, Direction, Role, SwapTerms};

use super::types::{
    sats_for, Asset, Offer, OfferBody, OfferTimelocks, OwnTx, Phase, SeenLock, SwapMsg, SwapRecord,
    SwapRole,
};
use crate::service::{WalletError, WalletService};

/// Most offers kept in the order book.
const MAX_OFFERS: usize = 1_000;
/// Blocks a claim or refund waits unconfirmed before its fee is raised.
const BUMP_AFTER_BLOCKS: u32 = 3;
/// Bitcoin blocks re-scanned behind the cursor when a reorg is seen.
const REORG_RESCAN: u32 = 100;
/// Slack, in blocks, allowed between the two parties' views of a chain's height.
const HEIGHT_SLACK: u32 = 3;

/// Settings of the swap engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapConfig {
    /// The sharechain's name (offers of other networks are refused).
    pub network: String,
    /// Block spacings of both chains (hours of timelock become blocks with them).
    pub spacing: terms::Spacing,
    /// `T_p` of this node's offers, hours (6–24).
    pub maker_lock_hours: u32,
    /// Timelocks in blocks instead (tests and devnets where a day is minutes).
    pub timelocks_override: Option<OfferTimelocks>,
    /// Confirmations of a Bitcoin lock before acting on it (1–3).
    pub btc_confirmations: u32,
    /// Least confirmations of a sharechain lock before acting on it (more when deeper reorgs
    /// have been seen).
    pub share_confirmations: u32,
    /// Fee rate of BTC funding, claims and refunds, sat/vB.
    pub btc_fee_rate: u64,
}

impl SwapConfig {
    /// The timelocks of a new offer selling `maker_sells`.
    ///
    /// # Errors
    /// The rule the configured hours or blocks break.
    pub fn timelocks_for(&self, maker_sells: Asset) -> Result<OfferTimelocks, String> {
        if let Some(t) = self.timelocks_override {
            t.to_terms()?;
            return Ok(t);
        }
        terms::Timelocks::from_hours(direction(maker_sells), self.maker_lock_hours, self.spacing)
            .map(OfferTimelocks::from_terms)
            .map_err(|e| e.to_string())
    }
}

/// What a chain shows of an HTLC output.
#[derive(Clone, Debug, Default)]
struct Sighting {
    /// The output, if found: (outpoint, value, confirmation height).
    output: Option<(OutPoint, u64, Option<u32>)>,
    /// Its spender, if spent: (transaction, confirmation height).
    spender: Option<(Transaction, Option<u32>)>,
}

/// The engine's state (inside the wallet service).
#[derive(Debug, Default)]
pub struct SwapBook {
    offers: HashMap<String, Offer>,
    mine: HashSet<String>,
    swaps: BTreeMap<String, SwapRecord>,
    loaded: bool,
    /// Deepest sharechain reorg seen.
    pub(crate) max_reorg: u32,
    btc_cursor: Option<u32>,
    btc_hashes: BTreeMap<u32, BlockHash>,
    btc_outputs: HashMap<ScriptBuf, (OutPoint, u64, Option<u32>)>,
    btc_spends: HashMap<OutPoint, (Transaction, Option<u32>)>,
    btc_mempool_seen: HashSet<Txid>,
}

fn hex32(s: &str) -> Result<[u8; 32], String> {
    let v: Vec<u8> = bitcoin::hex::FromHex::from_hex(s).map_err(|e| format!("{s:?}: {e}"))?;
    v.try_into().map_err(|_| format!("{s:?} is not 32 bytes"))
}

fn to_hex(b: &[u8]) -> String {
    bitcoin::hex::DisplayHex::to_lower_hex_string(b)
}

fn random_id() -> Result<String, WalletError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| WalletError::Storage(format!("random: {e}")))?;
    Ok(to_hex(&b))
}

fn direction(maker_sells: Asset) -> Direction {
    match maker_sells {
        Asset::Shares => Direction::TakerSellsBtc,
        Asset::Btc => Direction::TakerSellsShares,
    }
}

fn role(r: SwapRole) -> Role {
    match r {
        SwapRole::Taker => Role::Taker,
        SwapRole::Maker => Role::Maker,
    }
}

fn other(r: SwapRole) -> SwapRole {
    match r {
        SwapRole::Taker => SwapRole::Maker,
        SwapRole::Maker => SwapRole::Taker,
    }
}

/// The chain `whose` lock is on.
fn lock_chain(rec: &SwapRecord, whose: SwapRole) -> Chain {
    direction(rec.maker_sells).lock_chain(role(whose))
}

/// The value of `whose` lock.
fn lock_value(rec: &SwapRecord, whose: SwapRole) -> u64 {
    match lock_chain(rec, whose) {
        Chain::Btc => rec.sats,
        Chain::Shares => rec.shares,
    }
}

/// `whose` lock's HTLC: paying the other party against the secret, refunding `whose`.
fn htlc(rec: &SwapRecord, whose: SwapRole) -> Result<Htlc, String> {
    let mine = PublicKey::from_str(&rec.my_key).map_err(|e| e.to_string())?;
    let theirs = PublicKey::from_str(&rec.their_key).map_err(|e| e.to_string())?;
    let (sender, recipient) = if whose == rec.role {
        (mine, theirs)
    } else {
        (theirs, mine)
    };
    let timeout = match whose {
        SwapRole::Taker => rec.taker_timeout,
        SwapRole::Maker => rec.maker_timeout,
    };
    Htlc::new(hex32(&rec.hash)?, recipient, sender, timeout).map_err(|e| e.to_string())
}

fn terms_of(rec: &SwapRecord) -> Result<SwapTerms, String> {
    SwapTerms::new(
        direction(rec.maker_sells),
        ShareAmount::from_units(rec.shares).map_err(|e| e.to_string())?,
        Amount::from_sat(rec.sats),
        rec.timelocks.to_terms()?,
    )
    .map_err(|e| e.to_string())
}

fn note(rec: &mut SwapRecord, text: impl Into<String>) {
    let text = text.into();
    tracing::info!(swap = %rec.id, "{text}");
    rec.events.push((crate::now(), text));
    rec.error = None;
}

impl WalletService {
    /// Loads the stored swaps once (resuming every unfinished one).
    async fn load_swaps(&self) -> Result<(), WalletError> {
        let db = self.inner.lock().await.db.clone();
        let mut book = self.swaps.lock().await;
        if book.loaded {
            return Ok(());
        }
        let Some(db) = db else { return Ok(()) };
        for (id, json) in db.swaps().await? {
            match serde_json::from_str::<SwapRecord>(&json) {
                Ok(rec) => {
                    if !rec.phase.is_final() {
                        let from = book
                            .btc_cursor
                            .map_or(rec.btc_from, |c| c.min(rec.btc_from));
                        book.btc_cursor = Some(from);
                    }
                    book.swaps.insert(id, rec);
                }
                Err(e) => tracing::error!(swap = %id, error = %e, "stored swap does not decode"),
            }
        }
        book.loaded = true;
        Ok(())
    }

    async fn persist_swap(&self, rec: &SwapRecord) -> Result<(), WalletError> {
        let db = self.db().await?;
        let json = serde_json::to_string(rec).map_err(|e| WalletError::Storage(e.to_string()))?;
        db.put_swap(&rec.id, &json, crate::now()).await?;
        self.swaps
            .lock()
            .await
            .swaps
            .insert(rec.id.clone(), rec.clone());
        Ok(())
    }

    /// Next unused swap-key index (1 on; 0 is the offer key), persisted.
    async fn next_swap_index(&self) -> Result<u32, WalletError> {
        let db = self.db().await?;
        let next: u32 = db
            .meta("next_swap_index")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
            .max(1);
        db.set_meta("next_swap_index", &(next + 1).to_string())
            .await?;
        Ok(next)
    }

    async fn swap_keypair(&self, index: u32) -> Result<Keypair, WalletError> {
        let inner = self.inner.lock().await;
        let keys = &inner.unlocked.as_ref().ok_or(WalletError::Locked)?.keys;
        Ok(keys.swap_key(index)?)
    }

    async fn swap_secret(&self, index: u32) -> Result<[u8; 32], WalletError> {
        let inner = self.inner.lock().await;
        let keys = &inner.unlocked.as_ref().ok_or(WalletError::Locked)?.keys;
        Ok(*keys.swap_secret(index)?)
    }

    async fn height(&self, chain: Chain) -> Result<u32, WalletError> {
        match chain {
            Chain::Shares => Ok(self.node.tip().await.1),
            Chain::Btc => {
                let rpc = self.rpc.as_ref().ok_or_else(|| {
                    WalletError::Unavailable("no Bitcoin node is configured".into())
                })?;
                rpc.block_count()
                    .await
                    .map_err(|e| WalletError::Unavailable(e.to_string()))
            }
        }
    }

    fn fee_rates(&self, share_floor: u64) -> (bitcoin::FeeRate, bitcoin::FeeRate) {
        let btc = bitcoin::FeeRate::from_sat_per_vb(self.swap_config.btc_fee_rate.max(1))
            .unwrap_or(bitcoin::FeeRate::BROADCAST_MIN);
        let shares = bitcoin::FeeRate::from_sat_per_kwu(share_floor.div_ceil(4));
        (btc, shares)
    }

    // ----- offers -------------------------------------------------------------------------

    /// Publishes an offer: the maker sells `maker_sells`, between `min_shares` and
    /// `max_shares` units at `price` sats per share, for `ttl_secs`.
    ///
    /// # Errors
    /// [`WalletError::Locked`] (the offer is signed); [`WalletError::Invalid`] for amounts
    /// below the minimum swap or inconsistent ones.
    pub async fn make_offer(
        &self,
        maker_sells: Asset,
        min_shares: u64,
        max_shares: u64,
        price: u64,
        ttl_secs: u64,
    ) -> Result<Offer, WalletError> {
        self.load_swaps().await?;
        let key = self.swap_keypair(0).await?;
        let timelocks = self
            .swap_config
            .timelocks_for(maker_sells)
            .map_err(WalletError::Invalid)?;
        let now = crate::now();
        let body = OfferBody {
            network: self.swap_config.network.clone(),
            maker_peer: self.net.local_peer_id().to_string(),
            maker_key: key.x_only_public_key().0.to_string(),
            maker_sells,
            max_shares,
            min_shares,
            price,
            timelocks,
            created: now,
            expires: now + ttl_secs.clamp(60, 7 * 86_400 - 60),
        };
        let offer = Offer::sign(body, &key).map_err(WalletError::Invalid)?;
        offer
            .verify(&self.swap_config.network, now)
            .map_err(WalletError::Invalid)?;
        let floor = self.share_fee_floor().await;
        let (btc_rate, share_rate) = self.fee_rates(floor);
        let min_terms = SwapTerms::new(
            direction(maker_sells),
            ShareAmount::from_units(min_shares).map_err(|e| WalletError::Invalid(e.to_string()))?,
            Amount::from_sat(sats_for(min_shares, price).unwrap_or(0)),
            timelocks.to_terms().map_err(WalletError::Invalid)?,
        )
        .map_err(|e| WalletError::Invalid(e.to_string()))?;
        terms::check_minimum(&min_terms, btc_rate, share_rate)
            .map_err(|e| WalletError::Invalid(format!("the smallest swap of this offer: {e}")))?;
        let id = offer.id();
        {
            let mut book = self.swaps.lock().await;
            book.offers.insert(id.clone(), offer.clone());
            book.mine.insert(id.clone());
        }
        if let Err(e) = self.net.publish_offer(offer.encode()).await {
            tracing::debug!(error = %e, "offer not gossiped yet (no peers?)");
        }
        tracing::info!(offer = %id, "offer published");
        Ok(offer)
    }

    /// Withdraws one of our offers (peers drop it when it expires).
    pub async fn cancel_offer(&self, id: &str) -> bool {
        let mut book = self.swaps.lock().await;
        book.mine.remove(id) && book.offers.remove(id).is_some()
    }

    /// The order book: current offers, with whether each is ours.
    pub async fn offers(&self) -> Vec<(Offer, bool)> {
        let now = crate::now();
        let mut book = self.swaps.lock().await;
        book.offers.retain(|_, o| o.body.expires > now);
        let mut out: Vec<(Offer, bool)> = book
            .offers
            .iter()
            .map(|(id, o)| (o.clone(), book.mine.contains(id)))
            .collect();
        out.sort_by_key(|(o, _)| (o.body.maker_sells as u8, o.body.price));
        out
    }

    /// Gossips our current offers again (peers that joined since see them).
    pub(crate) async fn republish_offers(&self) {
        let mine: Vec<Offer> = {
            let now = crate::now();
            let book = self.swaps.lock().await;
            book.mine
                .iter()
                .filter_map(|id| book.offers.get(id))
                .filter(|o| o.body.expires > now)
                .cloned()
                .collect()
        };
        for offer in mine {
            let _ = self.net.publish_offer(offer.encode()).await;
        }
    }

    // ----- taking -------------------------------------------------------------------------

    /// Takes offer `offer_id` for `shares` units: agrees the terms with the maker and returns
    /// the swap (the watcher locks our side next).
    ///
    /// # Errors
    /// [`WalletError::Locked`]; [`WalletError::Invalid`] (unknown offer, amount out of the
    /// offer's range or below the minimum swap, not enough funds); [`WalletError::Rejected`]
    /// when the maker refuses or cannot be reached.
    pub async fn take_offer(&self, offer_id: &str, shares: u64) -> Result<SwapRecord, WalletError> {
        self.load_swaps().await?;
        let offer = self
            .swaps
            .lock()
            .await
            .offers
            .get(offer_id)
            .cloned()
            .ok_or_else(|| {
                WalletError::Invalid(format!("no offer {offer_id} in the order book"))
            })?;
        offer
            .verify(&self.swap_config.network, crate::now())
            .map_err(WalletError::Invalid)?;
        let b = &offer.body;
        if shares < b.min_shares || shares > b.max_shares {
            return Err(WalletError::Invalid(format!(
                "{shares} units is outside the offer's {}–{}",
                b.min_shares, b.max_shares
            )));
        }
        let sats = sats_for(shares, b.price)
            .ok_or_else(|| WalletError::Invalid("amount overflows".into()))?;
        let peer = PeerId::from_str(&b.maker_peer)
            .map_err(|e| WalletError::Invalid(format!("offer's peer id: {e}")))?;
        let dir = direction(b.maker_sells);
        let timelocks = b.timelocks.to_terms().map_err(WalletError::Invalid)?;
        let terms = SwapTerms::new(
            dir,
            ShareAmount::from_units(shares).map_err(|e| WalletError::Invalid(e.to_string()))?,
            Amount::from_sat(sats),
            timelocks,
        )
        .map_err(|e| WalletError::Invalid(e.to_string()))?;
        let floor = self.share_fee_floor().await;
        let (btc_rate, share_rate) = self.fee_rates(floor);
        terms::check_minimum(&terms, btc_rate, share_rate)
            .map_err(|e| WalletError::Invalid(e.to_string()))?;
        // Enough to fund our lock?
        let balances = self.balances().await?;
        let (need, have) = match dir.lock_chain(Role::Taker) {
            Chain::Shares => (shares, balances.shares.spendable),
            Chain::Btc => (sats, balances.btc.confirmed),
        };
        if have <= need {
            return Err(WalletError::Invalid(format!(
                "not enough to lock: {need} needed, {have} spendable"
            )));
        }
        let taker_chain = dir.lock_chain(Role::Taker);
        let maker_chain = dir.lock_chain(Role::Maker);
        let taker_h = self.height(taker_chain).await?;
        let maker_h = self.height(maker_chain).await?;
        let taker_timeout = terms
            .taker_timeout(taker_h)
            .map_err(|e| WalletError::Invalid(e.to_string()))?;
        let maker_timeout = terms
            .maker_timeout(maker_h)
            .map_err(|e| WalletError::Invalid(e.to_string()))?;
        let index = self.next_swap_index().await?;
        let key = self.swap_keypair(index).await?;
        let secret = self.swap_secret(index).await?;
        let id = random_id()?;
        let btc_h = self.height(Chain::Btc).await.unwrap_or(0);
        let mut rec = SwapRecord {
            id: id.clone(),
            role: SwapRole::Taker,
            maker_sells: b.maker_sells,
            offer: offer_id.to_owned(),
            peer: b.maker_peer.clone(),
            shares,
            sats,
            timelocks: b.timelocks,
            index,
            hash: to_hex(&payment_hash(&secret)),
            my_key: key.public_key().to_string(),
            their_key: String::new(),
            taker_timeout,
            maker_timeout,
            phase: Phase::Agreed,
            my_lock: None,
            their_lock: None,
            spend: None,
            preimage: Some(to_hex(&secret)),
            btc_from: btc_h,
            shares_from: self.node.tip().await.1,
            created: crate::now(),
            events: Vec::new(),
            error: None,
        };
        let msg = SwapMsg::Take {
            offer: offer_id.to_owned(),
            swap: id.clone(),
            shares,
            hash: rec.hash.clone(),
            taker_key: rec.my_key.clone(),
            taker_timeout,
            maker_timeout,
        };
        let answer = self
            .net
            .swap_request(peer, msg.encode())
            .await
            .map_err(WalletError::Rejected)?;
        match SwapMsg::decode(&answer).map_err(WalletError::Rejected)? {
            SwapMsg::Accept { swap, maker_key } if swap == id => {
                PublicKey::from_str(&maker_key)
                    .map_err(|e| WalletError::Rejected(format!("the maker's key: {e}")))?;
                rec.their_key = maker_key;
            }
            SwapMsg::Refuse { reason, .. } => {
                return Err(WalletError::Rejected(format!(
                    "the maker refused: {reason}"
                )))
            }
            other => {
                return Err(WalletError::Rejected(format!(
                    "the maker answered {other:?}"
                )))
            }
        }
        note(
            &mut rec,
            format!("took offer {offer_id}: {shares} units for {sats} sats; terms agreed"),
        );
        {
            let mut book = self.swaps.lock().await;
            let from = book.btc_cursor.map_or(btc_h, |c| c.min(btc_h));
            book.btc_cursor = Some(from);
        }
        self.persist_swap(&rec).await?;
        let this = self.clone();
        tokio::spawn(async move { this.drive_swaps().await });
        Ok(rec)
    }

    /// The swaps, newest first.
    pub async fn swap_list(&self) -> Vec<SwapRecord> {
        let _ = self.load_swaps().await;
        let mut v: Vec<SwapRecord> = self.swaps.lock().await.swaps.values().cloned().collect();
        v.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        v
    }

    /// Cancels a swap before anything of ours is locked (and before the other side locked).
    ///
    /// # Errors
    /// [`WalletError::Invalid`] once a lock exists: then only the timeouts end it.
    pub async fn cancel_swap(&self, id: &str) -> Result<SwapRecord, WalletError> {
        self.load_swaps().await?;
        let mut rec = self
            .swaps
            .lock()
            .await
            .swaps
            .get(id)
            .cloned()
            .ok_or_else(|| WalletError::Invalid(format!("no swap {id}")))?;
        if rec.phase != Phase::Agreed || rec.my_lock.is_some() || rec.their_lock.is_some() {
            return Err(WalletError::Invalid(
                "a lock exists: the swap completes or refunds at its timeout".into(),
            ));
        }
        rec.phase = Phase::Cancelled;
        note(&mut rec, "cancelled before any lock");
        self.persist_swap(&rec).await?;
        if let Ok(peer) = PeerId::from_str(&rec.peer) {
            let _ = self
                .net
                .swap_request(
                    peer,
                    SwapMsg::Cancel {
                        swap: rec.id.clone(),
                    }
                    .encode(),
                )
                .await;
        }
        Ok(rec)
    }

    /// A refund file for swap `id`: everything needed to refund our lock with the seed alone
    /// (the HTLC script, the outpoint, the timeout, the swap-key path), as JSON.
    ///
    /// # Errors
    /// [`WalletError::Invalid`] for an unknown swap or one without a lock of ours.
    pub async fn refund_file(&self, id: &str) -> Result<serde_json::Value, WalletError> {
        self.load_swaps().await?;
        let rec = self
            .swaps
            .lock()
            .await
            .swaps
            .get(id)
            .cloned()
            .ok_or_else(|| WalletError::Invalid(format!("no swap {id}")))?;
        let lock = rec
            .my_lock
            .clone()
            .ok_or_else(|| WalletError::Invalid("nothing of ours is locked in this swap".into()))?;
        let h = htlc(&rec, rec.role).map_err(WalletError::Invalid)?;
        let path = {
            let inner = self.inner.lock().await;
            inner
                .unlocked
                .as_ref()
                .and_then(|u| u.keys.swap_path(rec.index).ok())
                .map(|p| p.to_string())
        };
        Ok(serde_json::json!({
            "format": "p2share-refund/1",
            "swap": rec.id,
            "chain": match lock_chain(&rec, rec.role) { Chain::Btc => "bitcoin", Chain::Shares => "sharechain" },
            "outpoint": format!("{}:{}", lock.txid, lock.vout),
            "value": lock_value(&rec, rec.role),
            "witness_script": h.script().to_hex_string(),
            "script_pubkey": h.script_pubkey().to_hex_string(),
            "timeout_height": h.timeout(),
            "swap_key_index": rec.index,
            "swap_key_path": path,
            "funding_tx": lock.tx,
            "instructions": "After the timeout height, spend the outpoint with witness [signature, <empty>, witness_script] signed by the swap key (BIP-143, SIGHASH_ALL), nLockTime = timeout, nSequence < 0xffffffff.",
        }))
    }

    // ----- the maker's side of the protocol -----------------------------------------------

    async fn answer_take(&self, take: SwapMsg, from: PeerId) -> SwapMsg {
        let SwapMsg::Take {
            offer: offer_id,
            swap,
            shares,
            hash,
            taker_key,
            taker_timeout,
            maker_timeout,
        } = take
        else {
            return SwapMsg::Refuse {
                swap: String::new(),
                reason: "not a take".into(),
            };
        };
        let refuse = |reason: String| SwapMsg::Refuse {
            swap: swap.clone(),
            reason,
        };
        if let Err(e) = self.load_swaps().await {
            return refuse(e.to_string());
        }
        let (offer, known) = {
            let book = self.swaps.lock().await;
            (
                book.offers
                    .get(&offer_id)
                    .cloned()
                    .filter(|_| book.mine.contains(&offer_id)),
                book.swaps.contains_key(&swap),
            )
        };
        let Some(offer) = offer else {
            return refuse(format!("no current offer {offer_id} of this node"));
        };
        if known {
            return refuse("swap id already used".into());
        }
        let b = &offer.body;
        if offer
            .verify(&self.swap_config.network, crate::now())
            .is_err()
        {
            return refuse("the offer expired".into());
        }
        if shares < b.min_shares || shares > b.max_shares {
            return refuse(format!(
                "{shares} units is outside the offer's {}–{}",
                b.min_shares, b.max_shares
            ));
        }
        let Some(sats) = sats_for(shares, b.price) else {
            return refuse("amount overflows".into());
        };
        let hash_bytes = match hex32(&hash) {
            Ok(h) => h,
            Err(e) => return refuse(format!("hash: {e}")),
        };
        if self.hash_used(&hash_bytes, &swap).await {
            return refuse("the secret's hash was used by another swap".into());
        }
        if PublicKey::from_str(&taker_key).is_err() {
            return refuse("the taker's key is not a compressed public key".into());
        }
        let dir = direction(b.maker_sells);
        let Ok(timelocks) = b.timelocks.to_terms() else {
            return refuse("the offer's timelocks are inconsistent".into());
        };
        let terms = match SwapTerms::new(
            dir,
            ShareAmount::from_units(shares).unwrap_or(ShareAmount::ZERO),
            Amount::from_sat(sats),
            timelocks,
        ) {
            Ok(t) => t,
            Err(e) => return refuse(e.to_string()),
        };
        let floor = self.share_fee_floor().await;
        let (btc_rate, share_rate) = self.fee_rates(floor);
        if let Err(e) = terms::check_minimum(&terms, btc_rate, share_rate) {
            return refuse(e.to_string());
        }
        // The proposed timeouts against our own view of both chains.
        let (Ok(taker_h), Ok(maker_h)) = (
            self.height(dir.lock_chain(Role::Taker)).await,
            self.height(dir.lock_chain(Role::Maker)).await,
        ) else {
            return refuse("the maker cannot see both chains".into());
        };
        let want_taker = taker_h + timelocks.taker_lock_blocks;
        let want_maker = maker_h + timelocks.maker_lock_blocks;
        if taker_timeout + HEIGHT_SLACK < want_taker {
            return refuse(format!(
                "the taker's timelock ends at {taker_timeout}, short of {want_taker}"
            ));
        }
        if taker_timeout > want_taker + HEIGHT_SLACK {
            return refuse(format!(
                "the taker's timelock at {taker_timeout} is too long"
            ));
        }
        if maker_timeout + HEIGHT_SLACK < want_maker || maker_timeout > want_maker + HEIGHT_SLACK {
            return refuse(format!(
                "the maker's timelock at {maker_timeout} differs from {want_maker}"
            ));
        }
        // Funds to lock, and keys to sign with.
        let balances = match self.balances().await {
            Ok(b) => b,
            Err(e) => return refuse(e.to_string()),
        };
        let (need, have) = match dir.lock_chain(Role::Maker) {
            Chain::Shares => (shares, balances.shares.spendable),
            Chain::Btc => (sats, balances.btc.confirmed),
        };
        if have <= need {
            return refuse("the maker has not enough to lock".into());
        }
        let index = match self.next_swap_index().await {
            Ok(i) => i,
            Err(e) => return refuse(e.to_string()),
        };
        let key = match self.swap_keypair(index).await {
            Ok(k) => k,
            Err(_) => return refuse("the maker's wallet is locked".into()),
        };
        let btc_h = self.height(Chain::Btc).await.unwrap_or(0);
        let mut rec = SwapRecord {
            id: swap.clone(),
            role: SwapRole::Maker,
            maker_sells: b.maker_sells,
            offer: offer_id.clone(),
            peer: from.to_string(),
            shares,
            sats,
            timelocks: b.timelocks,
            index,
            hash,
            my_key: key.public_key().to_string(),
            their_key: taker_key,
            taker_timeout,
            maker_timeout,
            phase: Phase::Agreed,
            my_lock: None,
            their_lock: None,
            spend: None,
            preimage: None,
            btc_from: btc_h.saturating_sub(1),
            shares_from: self.node.tip().await.1,
            created: crate::now(),
            events: Vec::new(),
            error: None,
        };
        note(
            &mut rec,
            format!("offer {offer_id} taken: {shares} units for {sats} sats; waiting for the taker's lock"),
        );
        {
            let mut book = self.swaps.lock().await;
            let from = book
                .btc_cursor
                .map_or(rec.btc_from, |c| c.min(rec.btc_from));
            book.btc_cursor = Some(from);
        }
        if let Err(e) = self.persist_swap(&rec).await {
            return refuse(e.to_string());
        }
        SwapMsg::Accept {
            swap,
            maker_key: rec.my_key,
        }
    }

    async fn hash_used(&self, hash: &[u8; 32], except: &str) -> bool {
        let h = to_hex(hash);
        self.swaps
            .lock()
            .await
            .swaps
            .values()
            .any(|r| r.id != except && r.hash == h)
    }

    async fn answer(&self, from: PeerId, data: Vec<u8>) -> SwapMsg {
        let msg = match SwapMsg::decode(&data) {
            Ok(m) => m,
            Err(e) => {
                return SwapMsg::Refuse {
                    swap: String::new(),
                    reason: e,
                }
            }
        };
        match msg {
            take @ SwapMsg::Take { .. } => self.answer_take(take, from).await,
            SwapMsg::Locked { swap, .. } => {
                // A hint: the watcher finds the lock on chain by its script either way.
                let known = self
                    .swaps
                    .lock()
                    .await
                    .swaps
                    .get(&swap)
                    .is_some_and(|r| r.peer == from.to_string());
                if known {
                    let this = self.clone();
                    tokio::spawn(async move { this.drive_swaps().await });
                    SwapMsg::Ack {}
                } else {
                    SwapMsg::Refuse {
                        swap,
                        reason: "unknown swap".into(),
                    }
                }
            }
            SwapMsg::Cancel { swap } => {
                let rec = self.swaps.lock().await.swaps.get(&swap).cloned();
                match rec {
                    Some(mut rec)
                        if rec.peer == from.to_string()
                            && rec.phase == Phase::Agreed
                            && rec.my_lock.is_none() =>
                    {
                        rec.phase = Phase::Cancelled;
                        note(&mut rec, "the counterparty cancelled before any lock");
                        let _ = self.persist_swap(&rec).await;
                        SwapMsg::Ack {}
                    }
                    _ => SwapMsg::Refuse {
                        swap,
                        reason: "not cancellable".into(),
                    },
                }
            }
            SwapMsg::Accept { swap, .. } | SwapMsg::Refuse { swap, .. } => SwapMsg::Refuse {
                swap,
                reason: "unexpected message".into(),
            },
            SwapMsg::Ack {} => SwapMsg::Ack {},
        }
    }

    // ----- the watcher --------------------------------------------------------------------

    /// Drives every unfinished swap one step from what both chains show now.
    pub async fn drive_swaps(&self) {
        if self.load_swaps().await.is_err() {
            return;
        }
        let _serial = self.swap_drive.lock().await;
        let active: Vec<SwapRecord> = self
            .swaps
            .lock()
            .await
            .swaps
            .values()
            .filter(|r| !r.phase.is_final())
            .cloned()
            .collect();
        if active.is_empty() {
            return;
        }
        if let Err(e) = self.scan_btc(&active).await {
            tracing::debug!(error = %e, "swap watcher: Bitcoin scan failed");
        }
        for rec in active {
            let id = rec.id.clone();
            let mut next = rec.clone();
            if let Err(e) = self.step(&mut next).await {
                if next.error.as_deref() != Some(e.as_str()) {
                    tracing::warn!(swap = %id, error = %e, "swap step failed");
                }
                next.error = Some(e);
            }
            if next != rec {
                if let Err(e) = self.persist_swap(&next).await {
                    tracing::error!(swap = %id, error = %e, "swap state not persisted");
                }
            }
        }
    }

    /// What a chain shows of the HTLC output with `spk` (and of `known`, its outpoint once
    /// found).
    async fn sight(
        &self,
        chain: Chain,
        spk: &ScriptBuf,
        known: Option<OutPoint>,
        from_height: u32,
    ) -> Sighting {
        match chain {
            Chain::Btc => {
                let book = self.swaps.lock().await;
                let output = book.btc_outputs.get(spk).cloned();
                let op = known.or(output.as_ref().map(|o| o.0));
                let spender = op.and_then(|op| book.btc_spends.get(&op).cloned());
                Sighting { output, spender }
            }
            Chain::Shares => self.sight_shares(spk, known, from_height).await,
        }
    }

    async fn sight_shares(&self, spk: &ScriptBuf, known: Option<OutPoint>, from: u32) -> Sighting {
        let spk2 = spk.clone();
        let in_utxo = self
            .node
            .with_chain(move |c| {
                c.utxo()
                    .iter()
                    .find(|(_, coin)| coin.output.script_pubkey == spk2)
                    .map(|(op, coin)| (*op, coin.output.value.to_sat(), Some(coin.height)))
            })
            .await;
        if let Some(o) = in_utxo {
            return Sighting {
                output: Some(o),
                spender: None,
            };
        }
        let spk3 = spk.clone();
        let (in_pool, pool_spender) = self
            .node
            .with_mempool(move |m| {
                let mut found = None;
                let mut spender = None;
                for e in m.iter() {
                    let Some(tx) = m.get(&e.txid) else { continue };
                    for (vout, o) in tx.output.iter().enumerate() {
                        if o.script_pubkey == spk3 {
                            found = Some((
                                OutPoint {
                                    txid: e.txid,
                                    vout: u32::try_from(vout).unwrap_or(0),
                                },
                                o.value.to_sat(),
                                None,
                            ));
                        }
                    }
                    if let Some(k) = known {
                        if tx.input.iter().any(|i| i.previous_output == k) {
                            spender = Some((tx.clone(), None));
                        }
                    }
                }
                (found, spender)
            })
            .await;
        if let Some(o) = in_pool {
            return Sighting {
                output: Some(o),
                spender: None,
            };
        }
        if pool_spender.is_some() {
            return Sighting {
                output: None,
                spender: pool_spender,
            };
        }
        // Spent in a share: find the spender on the active chain.
        let Some(op) = known else {
            return Sighting::default();
        };
        let tip = self.node.tip().await.1;
        for h in from..=tip {
            let Ok(Some(rec)) = self.node.share_at(h).await else {
                continue;
            };
            if let Some(share) = rec.share {
                for tx in &share.txs {
                    if tx.input.iter().any(|i| i.previous_output == op) {
                        return Sighting {
                            output: None,
                            spender: Some((tx.clone(), Some(h))),
                        };
                    }
                }
            }
        }
        Sighting::default()
    }

    /// Scans Bitcoin blocks since the cursor and the mempool for the active swaps' HTLC outputs
    /// and their spends.
    async fn scan_btc(&self, active: &[SwapRecord]) -> Result<(), String> {
        let Some(rpc) = self.rpc.clone() else {
            return Ok(());
        };
        let mut spks: HashSet<ScriptBuf> = HashSet::new();
        for rec in active {
            if rec.their_key.is_empty() {
                continue;
            }
            for whose in [SwapRole::Taker, SwapRole::Maker] {
                if lock_chain(rec, whose) == Chain::Btc {
                    if let Ok(h) = htlc(rec, whose) {
                        spks.insert(h.script_pubkey());
                    }
                }
            }
        }
        if spks.is_empty() {
            return Ok(());
        }
        let tip = rpc.block_count().await.map_err(|e| e.to_string())?;
        let mut cursor = self.swaps.lock().await.btc_cursor.unwrap_or(tip);
        // A reorg: the block we scanned at the cursor is no longer active.
        let last_hash = self.swaps.lock().await.btc_hashes.get(&cursor).copied();
        if let Some(h) = last_hash {
            let active_hash = rpc.block_hash(cursor).await.map_err(|e| e.to_string())?;
            if active_hash != h {
                let back = cursor.saturating_sub(REORG_RESCAN);
                let mut book = self.swaps.lock().await;
                book.btc_outputs
                    .retain(|_, o| o.2.is_none_or(|h| h <= back));
                book.btc_spends.retain(|_, s| s.1.is_none_or(|h| h <= back));
                book.btc_hashes.retain(|h, _| *h <= back);
                cursor = back;
            }
        }
        for height in cursor + 1..=tip {
            let hash = rpc.block_hash(height).await.map_err(|e| e.to_string())?;
            let block = rpc.block(&hash).await.map_err(|e| e.to_string())?;
            let mut book = self.swaps.lock().await;
            for tx in &block.txdata {
                record_btc_tx(&mut book, tx, Some(height), &spks);
            }
            book.btc_hashes.insert(height, hash);
            book.btc_cursor = Some(height);
            while book.btc_hashes.len() > 2 * REORG_RESCAN as usize {
                let Some(first) = book.btc_hashes.keys().next().copied() else {
                    break;
                };
                book.btc_hashes.remove(&first);
            }
        }
        // The mempool: claims there reveal the secret before they confirm.
        let txids: Vec<Txid> = rpc
            .call("getrawmempool", serde_json::json!([]))
            .await
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let pool: HashSet<Txid> = txids.iter().copied().collect();
        for txid in txids {
            if self.swaps.lock().await.btc_mempool_seen.contains(&txid) {
                continue;
            }
            if let Ok(Some(tx)) = rpc.raw_transaction(&txid).await {
                let mut book = self.swaps.lock().await;
                record_btc_tx(&mut book, &tx, None, &spks);
                book.btc_mempool_seen.insert(txid);
            }
        }
        let mut book = self.swaps.lock().await;
        book.btc_mempool_seen.retain(|t| pool.contains(t));
        // Unconfirmed sightings that left the mempool without confirming are forgotten.
        book.btc_outputs
            .retain(|_, o| o.2.is_some() || pool.contains(&o.0.txid));
        book.btc_spends
            .retain(|_, s| s.1.is_some() || pool.contains(&s.0.compute_txid()));
        Ok(())
    }

    async fn confirmations_needed(&self, chain: Chain) -> u32 {
        match chain {
            Chain::Btc => self.swap_config.btc_confirmations.max(1),
            Chain::Shares => {
                let reorg = self.swaps.lock().await.max_reorg;
                self.swap_config.share_confirmations.max(reorg + 1)
            }
        }
    }

    async fn broadcast(&self, chain: Chain, tx: &Transaction) -> Result<(), String> {
        match chain {
            Chain::Shares => self
                .net
                .submit_local_transaction(tx.clone())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Chain::Btc => self
                .broadcast_btc(tx.clone())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }

    /// Broadcasts again a transaction of ours that the chain does not show (a restart, a lost
    /// relay); "already known" answers are fine.
    async fn rebroadcast(&self, chain: Chain, own: &OwnTx) {
        if let Ok(tx) = deserialize_hex::<Transaction>(&own.tx) {
            if let Err(e) = self.broadcast(chain, &tx).await {
                tracing::debug!(txid = %own.txid, error = %e, "rebroadcast not taken");
            }
        }
    }

    /// One step of one swap.
    async fn step(&self, rec: &mut SwapRecord) -> Result<(), String> {
        let me = rec.role;
        let them = other(me);
        let my_chain = lock_chain(rec, me);
        let their_chain = lock_chain(rec, them);
        let my_h = self.height(my_chain).await.map_err(|e| e.to_string())?;
        let their_h = self.height(their_chain).await.map_err(|e| e.to_string())?;
        let my_htlc = htlc(rec, me)?;
        let their_htlc = htlc(rec, them)?;
        let terms = terms_of(rec)?;

        // What the chains show.
        let my_known = rec.my_lock.as_ref().and_then(|l| {
            Txid::from_str(&l.txid)
                .ok()
                .map(|txid| OutPoint { txid, vout: l.vout })
        });
        let mine = self
            .sight(
                my_chain,
                &my_htlc.script_pubkey(),
                my_known,
                rec.shares_from,
            )
            .await;
        let their_known = rec.their_lock.as_ref().and_then(|l| {
            Txid::from_str(&l.txid)
                .ok()
                .map(|txid| OutPoint { txid, vout: l.vout })
        });
        let theirs = self
            .sight(
                their_chain,
                &their_htlc.script_pubkey(),
                their_known,
                rec.shares_from,
            )
            .await;
        if let Some((op, value, height)) = theirs.output {
            let seen = SeenLock {
                txid: op.txid.to_string(),
                vout: op.vout,
                value,
                height,
            };
            if rec.their_lock.as_ref() != Some(&seen) {
                if rec.their_lock.is_none() {
                    note(
                        rec,
                        format!("the counterparty's lock seen: {}:{}", op.txid, op.vout),
                    );
                }
                rec.their_lock = Some(seen);
            }
        }
        // The secret, from any spend of our lock (the maker learns it from the taker's claim).
        if rec.preimage.is_none() {
            if let Some((tx, _)) = &mine.spender {
                if let Some(secret) = extract_preimage(tx, &my_htlc) {
                    rec.preimage = Some(to_hex(&secret));
                    note(rec, "the secret is revealed by the counterparty's claim");
                }
            }
        }
        let my_spent_by_them = mine.spender.as_ref().is_some_and(|(tx, _)| {
            rec.spend
                .as_ref()
                .is_none_or(|s| s.txid != tx.compute_txid().to_string())
        });

        // Our own spend (claim or refund) in flight: confirmed, bumped or rebroadcast.
        if let Some(spend) = rec.spend.clone() {
            let (chain, spent_htlc_sighting) = match rec.phase {
                Phase::Claiming => (their_chain, &theirs),
                _ => (my_chain, &mine),
            };
            let confirmed = spent_htlc_sighting
                .spender
                .as_ref()
                .is_some_and(|(tx, h)| tx.compute_txid().to_string() == spend.txid && h.is_some());
            if confirmed {
                match rec.phase {
                    Phase::Claiming => {
                        rec.phase = Phase::Completed;
                        note(rec, "our claim is confirmed: swap complete");
                    }
                    _ => {
                        rec.phase = Phase::Refunded;
                        note(rec, "our refund is confirmed");
                    }
                }
                return Ok(());
            }
            let spent_by_other = spent_htlc_sighting
                .spender
                .as_ref()
                .is_some_and(|(tx, h)| tx.compute_txid().to_string() != spend.txid && h.is_some());
            if spent_by_other {
                if rec.phase == Phase::Refunding {
                    // The counterparty claimed our lock before our refund: the swap went through.
                    rec.phase = Phase::Completed;
                    note(rec, "the counterparty claimed our lock before the refund");
                } else {
                    return Err("the HTLC we claim was spent by another transaction".into());
                }
                return Ok(());
            }
            let h = match chain {
                c if c == my_chain => my_h,
                _ => their_h,
            };
            if h >= spend.broadcast_at + BUMP_AFTER_BLOCKS {
                self.respend(rec, rec.phase == Phase::Claiming, h).await?;
            } else if spent_htlc_sighting.spender.is_none() {
                self.rebroadcast(chain, &spend).await;
            }
            return Ok(());
        }

        // The counterparty claimed our lock: for the taker that means the maker has the secret
        // we revealed (our claim decides); for the maker this is the moment to claim.
        match me {
            SwapRole::Taker => {
                self.step_taker(rec, &terms, &mine, &theirs, my_h, their_h)
                    .await
            }
            SwapRole::Maker => {
                self.step_maker(rec, &terms, &mine, &theirs, my_h, their_h, my_spent_by_them)
                    .await
            }
        }
    }

    async fn lock_ours(
        &self,
        rec: &mut SwapRecord,
        chain: Chain,
        height: u32,
    ) -> Result<(), String> {
        let h = htlc(rec, rec.role)?;
        let value = lock_value(rec, rec.role);
        let (tx, fee) = match chain {
            Chain::Shares => self
                .build_share_payment(h.script_pubkey(), value, None)
                .await
                .map_err(|e| e.to_string())?,
            Chain::Btc => self
                .build_btc_payment(h.script_pubkey(), value, self.swap_config.btc_fee_rate)
                .await
                .map_err(|e| e.to_string())?,
        };
        let vout = tx
            .output
            .iter()
            .position(|o| o.script_pubkey == h.script_pubkey())
            .ok_or("the funding transaction does not pay the HTLC")?;
        rec.my_lock = Some(OwnTx {
            tx: serialize_hex(&tx),
            txid: tx.compute_txid().to_string(),
            vout: u32::try_from(vout).unwrap_or(0),
            fee,
            broadcast_at: height,
        });
        rec.phase = Phase::Locked;
        note(
            rec,
            format!("locking {value} on the {chain}: {}", tx.compute_txid()),
        );
        // Persisted before the broadcast: a crash now rebroadcasts the same transaction.
        self.persist_swap(rec).await.map_err(|e| e.to_string())?;
        self.broadcast(chain, &tx).await?;
        if let Ok(peer) = PeerId::from_str(&rec.peer) {
            let msg = SwapMsg::Locked {
                swap: rec.id.clone(),
                txid: tx.compute_txid().to_string(),
                vout: u32::try_from(vout).unwrap_or(0),
            };
            let net = self.net.clone();
            tokio::spawn(async move {
                let _ = net.swap_request(peer, msg.encode()).await;
            });
        }
        Ok(())
    }

    /// Signs our claim (of their lock) or refund (of ours) at `fee`, for the destination.
    async fn sign_spend(
        &self,
        rec: &SwapRecord,
        claim: bool,
        fee: u64,
    ) -> Result<Transaction, String> {
        let key = self
            .swap_keypair(rec.index)
            .await
            .map_err(|e| e.to_string())?;
        let destination = self
            .mining_script()
            .await
            .ok_or("the wallet has no address")?;
        if claim {
            let h = htlc(rec, other(rec.role))?;
            let lock = rec.their_lock.as_ref().ok_or("their lock is not seen")?;
            let secret = hex32(rec.preimage.as_deref().ok_or("the secret is not known")?)?;
            let op = OutPoint {
                txid: Txid::from_str(&lock.txid).map_err(|e| e.to_string())?,
                vout: lock.vout,
            };
            claim_tx(
                &h,
                op,
                Amount::from_sat(lock.value),
                &secret,
                &key,
                destination,
                Amount::from_sat(fee),
            )
            .map_err(|e| e.to_string())
        } else {
            let h = htlc(rec, rec.role)?;
            let lock = rec.my_lock.as_ref().ok_or("nothing of ours is locked")?;
            let op = OutPoint {
                txid: Txid::from_str(&lock.txid).map_err(|e| e.to_string())?,
                vout: lock.vout,
            };
            refund_tx(
                &h,
                op,
                Amount::from_sat(lock_value(rec, rec.role)),
                &key,
                destination,
                Amount::from_sat(fee),
            )
            .map_err(|e| e.to_string())
        }
    }

    async fn spend_fee(&self, rec: &SwapRecord, claim: bool) -> Result<u64, String> {
        let (whose, chain) = if claim {
            (other(rec.role), lock_chain(rec, other(rec.role)))
        } else {
            (rec.role, lock_chain(rec, rec.role))
        };
        let h = htlc(rec, whose)?;
        let destination = self
            .mining_script()
            .await
            .ok_or("the wallet has no address")?;
        let weight = if claim {
            h.claim_weight(&destination)
        } else {
            h.refund_weight(&destination)
        };
        let floor = self.share_fee_floor().await;
        let (btc, shares) = self.fee_rates(floor);
        let rate = match chain {
            Chain::Btc => btc,
            Chain::Shares => shares,
        };
        fee_for_weight(rate, weight)
            .map(|a| a.to_sat())
            .ok_or_else(|| "fee overflow".to_string())
    }

    /// Builds, persists and broadcasts our claim (`claim`) or refund.
    async fn spend(&self, rec: &mut SwapRecord, claim: bool, height: u32) -> Result<(), String> {
        let fee = self.spend_fee(rec, claim).await?;
        let tx = self.sign_spend(rec, claim, fee).await?;
        rec.spend = Some(OwnTx {
            tx: serialize_hex(&tx),
            txid: tx.compute_txid().to_string(),
            vout: 0,
            fee,
            broadcast_at: height,
        });
        rec.phase = if claim {
            Phase::Claiming
        } else {
            Phase::Refunding
        };
        note(
            rec,
            format!(
                "{} broadcast: {}",
                if claim { "claim" } else { "refund" },
                tx.compute_txid()
            ),
        );
        self.persist_swap(rec).await.map_err(|e| e.to_string())?;
        let chain = if claim {
            lock_chain(rec, other(rec.role))
        } else {
            lock_chain(rec, rec.role)
        };
        self.broadcast(chain, &tx).await
    }

    /// Replaces an unconfirmed claim or refund with one paying twice the fee (at most half the
    /// HTLC's value): signed now, with the rates of now.
    async fn respend(&self, rec: &mut SwapRecord, claim: bool, height: u32) -> Result<(), String> {
        let Some(old) = rec.spend.clone() else {
            return Ok(());
        };
        let value = if claim {
            rec.their_lock.as_ref().map_or(0, |l| l.value)
        } else {
            lock_value(rec, rec.role)
        };
        let fee = (old.fee * 2)
            .max(self.spend_fee(rec, claim).await?)
            .min(value / 2);
        if fee <= old.fee {
            self.rebroadcast(
                if claim {
                    lock_chain(rec, other(rec.role))
                } else {
                    lock_chain(rec, rec.role)
                },
                &old,
            )
            .await;
            return Ok(());
        }
        let tx = self.sign_spend(rec, claim, fee).await?;
        rec.spend = Some(OwnTx {
            tx: serialize_hex(&tx),
            txid: tx.compute_txid().to_string(),
            vout: 0,
            fee,
            broadcast_at: height,
        });
        note(rec, format!("fee raised to {fee}: {}", tx.compute_txid()));
        self.persist_swap(rec).await.map_err(|e| e.to_string())?;
        let chain = if claim {
            lock_chain(rec, other(rec.role))
        } else {
            lock_chain(rec, rec.role)
        };
        self.broadcast(chain, &tx).await
    }

    /// Whether their lock is final and exactly what was agreed.
    async fn their_lock_checks(
        &self,
        rec: &SwapRecord,
        theirs: &Sighting,
        their_h: u32,
        min_timeout: u32,
    ) -> Result<bool, String> {
        let Some((op, value, Some(height))) = theirs.output else {
            return Ok(false);
        };
        let need = self
            .confirmations_needed(lock_chain(rec, other(rec.role)))
            .await;
        if their_h + 1 < height + need {
            return Ok(false);
        }
        let expected = htlc(rec, other(rec.role))?;
        let found = TxOut {
            value: Amount::from_sat(value),
            script_pubkey: expected.script_pubkey(),
        };
        let others: Vec<String> = self
            .swaps
            .lock()
            .await
            .swaps
            .values()
            .filter(|r| r.id != rec.id)
            .map(|r| r.hash.clone())
            .collect();
        check_counterparty_lock(
            &expected,
            &found,
            Amount::from_sat(lock_value(rec, other(rec.role))),
            min_timeout,
            &|h: &[u8; 32]| others.contains(&to_hex(h)),
        )
        .map_err(|e| format!("the counterparty's lock {op} is refused: {e}"))?;
        Ok(true)
    }

    async fn step_taker(
        &self,
        rec: &mut SwapRecord,
        terms: &SwapTerms,
        mine: &Sighting,
        theirs: &Sighting,
        my_h: u32,
        their_h: u32,
    ) -> Result<(), String> {
        let my_chain = lock_chain(rec, SwapRole::Taker);
        match rec.phase {
            Phase::Agreed => {
                if rec.my_lock.is_none() {
                    return self.lock_ours(rec, my_chain, my_h).await;
                }
                rec.phase = Phase::Locked;
                Ok(())
            }
            Phase::Locked => {
                if let Some(lock) = rec.my_lock.clone() {
                    if mine.output.is_none() && mine.spender.is_none() {
                        self.rebroadcast(my_chain, &lock).await;
                    }
                }
                // Refund once our timeout passed and the maker never claimed.
                if my_h + 1 >= rec.taker_timeout && mine.spender.is_none() {
                    if mine.output.as_ref().is_some_and(|o| o.2.is_some()) {
                        note(
                            rec,
                            "the taker's timelock expired with our lock unclaimed: refunding",
                        );
                        return self.spend(rec, false, my_h).await;
                    }
                    return Ok(());
                }
                if their_h > terms.taker_claim_deadline(rec.maker_timeout) {
                    if rec.error.is_none() {
                        note(rec, "too late to claim safely: waiting for our refund");
                    }
                    return Ok(());
                }
                let min_timeout = terms
                    .min_maker_timeout(their_h)
                    .map_err(|e| e.to_string())?;
                if self
                    .their_lock_checks(rec, theirs, their_h, min_timeout)
                    .await?
                {
                    note(rec, "the maker's lock is final and as agreed: claiming");
                    return self.spend(rec, true, their_h).await;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn step_maker(
        &self,
        rec: &mut SwapRecord,
        terms: &SwapTerms,
        mine: &Sighting,
        theirs: &Sighting,
        my_h: u32,
        their_h: u32,
        claimed_by_them: bool,
    ) -> Result<(), String> {
        let my_chain = lock_chain(rec, SwapRole::Maker);
        match rec.phase {
            Phase::Agreed => {
                if terms.maker_may_lock(rec.taker_timeout, their_h).is_err() {
                    rec.phase = Phase::Cancelled;
                    note(
                        rec,
                        "the taker's lock came too late (or never): nothing of ours locked",
                    );
                    return Ok(());
                }
                let min_timeout = terms
                    .min_taker_timeout(their_h)
                    .map_err(|e| e.to_string())?;
                if self
                    .their_lock_checks(rec, theirs, their_h, min_timeout)
                    .await?
                {
                    note(rec, "the taker's lock is final and as agreed: locking ours");
                    return self.lock_ours(rec, my_chain, my_h).await;
                }
                Ok(())
            }
            Phase::Locked => {
                if claimed_by_them || rec.preimage.is_some() {
                    if rec.preimage.is_some() && rec.their_lock.is_some() {
                        note(rec, "claiming the taker's lock with the revealed secret");
                        return self.spend(rec, true, their_h).await;
                    }
                    return Ok(());
                }
                if let Some(lock) = rec.my_lock.clone() {
                    if mine.output.is_none() && mine.spender.is_none() {
                        self.rebroadcast(my_chain, &lock).await;
                    }
                }
                if my_h + 1 >= rec.maker_timeout
                    && mine.output.as_ref().is_some_and(|o| o.2.is_some())
                {
                    note(
                        rec,
                        "the maker's timelock expired with our lock unclaimed: refunding",
                    );
                    return self.spend(rec, false, my_h).await;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Records what `tx` shows of the watched scripts and outpoints.
fn record_btc_tx(
    book: &mut SwapBook,
    tx: &Transaction,
    height: Option<u32>,
    spks: &HashSet<ScriptBuf>,
) {
    let txid = tx.compute_txid();
    for (vout, o) in tx.output.iter().enumerate() {
        if spks.contains(&o.script_pubkey) {
            let op = OutPoint {
                txid,
                vout: u32::try_from(vout).unwrap_or(0),
            };
            book.btc_outputs
                .insert(o.script_pubkey.clone(), (op, o.value.to_sat(), height));
        }
    }
    let watched: HashSet<OutPoint> = book.btc_outputs.values().map(|o| o.0).collect();
    for i in &tx.input {
        if watched.contains(&i.previous_output) {
            let keep = book
                .btc_spends
                .get(&i.previous_output)
                .is_none_or(|(_, h)| h.is_none() || height.is_some());
            if keep {
                book.btc_spends
                    .insert(i.previous_output, (tx.clone(), height));
            }
        }
    }
}

/// The wallet as the node's swap peer: offers from gossip, requests from takers.
#[derive(Clone, Debug)]
pub struct SwapHandler(pub WalletService);

impl SwapPeer for SwapHandler {
    fn offer(&self, _from: PeerId, data: &[u8]) -> bool {
        let offer = match Offer::decode(data, &self.0.swap_config.network, crate::now()) {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(error = %e, "offer refused");
                return false;
            }
        };
        let id = offer.id();
        let Ok(mut book) = self.0.swaps.try_lock() else {
            // Busy: the offer comes again with the maker's next republication.
            return true;
        };
        if book.offers.len() >= MAX_OFFERS && !book.offers.contains_key(&id) {
            let now = crate::now();
            book.offers.retain(|_, o| o.body.expires > now);
            if book.offers.len() >= MAX_OFFERS {
                return true;
            }
        }
        book.offers.insert(id, offer);
        true
    }

    fn request(&self, from: PeerId, data: Vec<u8>) -> futures::future::BoxFuture<'static, Vec<u8>> {
        let wallet = self.0.clone();
        Box::pin(async move { wallet.answer(from, data).await.encode() })
    }
}

impl WalletService {
    /// Notes a sharechain reorganization of `depth` shares (confirmations needed follow it).
    pub async fn note_reorg(&self, depth: u32) {
        let mut book = self.swaps.lock().await;
        book.max_reorg = book.max_reorg.max(depth);
    }
}
