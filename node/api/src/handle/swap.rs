//! Requests of the swaps: the order book, making and taking offers, each swap's progress with
//! blocks to its deadlines, cancel before lock, the refund file. One call each into the node's
//! wallet's swap engine.

use p2share_walletd::swap::{Asset, Offer, Phase, SwapRecord, SwapRole};

use super::wallet::{parse_amount, wallet_error};
use super::{Api, ApiError};
use crate::types::{OfferEntry, SwapEntry, SwapEvent};

/// The longest offer lifetime `makeoffer` takes, seconds (a week).
pub const MAX_OFFER_TTL: u64 = 7 * 86_400;

fn asset_name(a: Asset) -> &'static str {
    match a {
        Asset::Shares => "shares",
        Asset::Btc => "btc",
    }
}

fn offer_entry(o: &Offer, mine: bool) -> OfferEntry {
    OfferEntry {
        id: o.id(),
        maker_sells: asset_name(o.body.maker_sells).into(),
        min_shares: o.body.min_shares,
        max_shares: o.body.max_shares,
        price: o.body.price,
        expires: o.body.expires,
        mine,
        maker_peer: o.body.maker_peer.clone(),
        maker_lock_blocks: o.body.timelocks.maker_lock,
        taker_lock_blocks: o.body.timelocks.taker_lock,
    }
}

fn phase_name(p: &Phase) -> &'static str {
    match p {
        Phase::Agreed => "agreed",
        Phase::Locked => "locked",
        Phase::Claiming => "claiming",
        Phase::Refunding => "refunding",
        Phase::Completed => "completed",
        Phase::Refunded => "refunded",
        Phase::Cancelled => "cancelled",
    }
}

impl Api {
    /// `listoffers`: the order book.
    ///
    /// # Errors
    /// No wallet service.
    pub async fn offers(&self) -> Result<Vec<OfferEntry>, ApiError> {
        Ok(self
            .wallet()?
            .offers()
            .await
            .iter()
            .map(|(o, mine)| offer_entry(o, *mine))
            .collect())
    }

    /// `makeoffer`: `maker_sells` (`shares` or `btc`), `min` and `max` shares (decimal),
    /// `price` in sats per share, `ttl_secs`.
    ///
    /// # Errors
    /// A locked wallet; bad amounts; below the minimum swap.
    pub async fn make_offer(
        &self,
        maker_sells: &str,
        min: &str,
        max: &str,
        price: u64,
        ttl_secs: u64,
    ) -> Result<OfferEntry, ApiError> {
        let asset = match maker_sells {
            "shares" => Asset::Shares,
            "btc" => Asset::Btc,
            other => {
                return Err(ApiError::InvalidParameter(format!(
                    "maker_sells is \"shares\" or \"btc\", not {other:?}"
                )))
            }
        };
        let min = parse_amount(min, "min")?;
        let max = parse_amount(max, "max")?;
        if ttl_secs > MAX_OFFER_TTL {
            return Err(ApiError::InvalidParameter(format!(
                "ttl_secs {ttl_secs} is above {MAX_OFFER_TTL}"
            )));
        }
        let offer = self
            .wallet()?
            .make_offer(asset, min, max, price, ttl_secs)
            .await
            .map_err(wallet_error)?;
        Ok(offer_entry(&offer, true))
    }

    /// `canceloffer`.
    ///
    /// # Errors
    /// An offer that is not this node's.
    pub async fn cancel_offer(&self, id: &str) -> Result<bool, ApiError> {
        if self.wallet()?.cancel_offer(id).await {
            Ok(true)
        } else {
            Err(ApiError::NotFound(format!("offer {id} of this node")))
        }
    }

    /// `takeoffer`: `amount` shares (decimal) of offer `id`.
    ///
    /// # Errors
    /// A locked wallet, an amount out of range, not enough funds, the maker's refusal.
    pub async fn take_offer(&self, id: &str, amount: &str) -> Result<SwapEntry, ApiError> {
        let units = parse_amount(amount, "amount")?;
        let rec = self
            .wallet()?
            .take_offer(id, units)
            .await
            .map_err(wallet_error)?;
        self.swap_entry(&rec).await
    }

    /// `listswaps`: every swap, newest first, with blocks to each deadline.
    ///
    /// # Errors
    /// No wallet service.
    pub async fn swaps(&self) -> Result<Vec<SwapEntry>, ApiError> {
        let mut out = Vec::new();
        for rec in self.wallet()?.swap_list().await {
            out.push(self.swap_entry(&rec).await?);
        }
        Ok(out)
    }

    /// `cancelswap`: before anything is locked.
    ///
    /// # Errors
    /// A swap with a lock.
    pub async fn cancel_swap(&self, id: &str) -> Result<SwapEntry, ApiError> {
        let rec = self.wallet()?.cancel_swap(id).await.map_err(wallet_error)?;
        self.swap_entry(&rec).await
    }

    /// `getrefundfile`: what refunds our lock of swap `id` with the seed alone.
    ///
    /// # Errors
    /// A swap without a lock of ours.
    pub async fn refund_file(&self, id: &str) -> Result<serde_json::Value, ApiError> {
        self.wallet()?.refund_file(id).await.map_err(wallet_error)
    }

    async fn swap_entry(&self, r: &SwapRecord) -> Result<SwapEntry, ApiError> {
        let taker_sells_shares = r.maker_sells == Asset::Btc;
        let selling_shares = match r.role {
            SwapRole::Taker => taker_sells_shares,
            SwapRole::Maker => !taker_sells_shares,
        };
        let shares_h = i64::from(self.node.tip().await.1);
        let btc_h = i64::from(self.wallet()?.btc_height().await.unwrap_or(0));
        let (my_h, their_h) = if selling_shares {
            (shares_h, btc_h)
        } else {
            (btc_h, shares_h)
        };
        let (my_timeout, their_timeout) = match r.role {
            SwapRole::Taker => (
                i64::from(r.taker_timeout),
                i64::from(r.maker_timeout) - i64::from(r.timelocks.taker_claim_margin),
            ),
            SwapRole::Maker => (i64::from(r.maker_timeout), i64::from(r.taker_timeout)),
        };
        Ok(SwapEntry {
            id: r.id.clone(),
            role: match r.role {
                SwapRole::Taker => "taker".into(),
                SwapRole::Maker => "maker".into(),
            },
            maker_sells: asset_name(r.maker_sells).into(),
            shares: r.shares,
            sats: r.sats,
            phase: phase_name(&r.phase).into(),
            selling_shares,
            my_lock: r.my_lock.as_ref().map(|l| l.txid.clone()),
            their_lock: r.their_lock.as_ref().map(|l| l.txid.clone()),
            spend: r.spend.as_ref().map(|s| s.txid.clone()),
            my_chain: if selling_shares {
                "sharechain"
            } else {
                "bitcoin"
            }
            .into(),
            blocks_to_refund: my_timeout - my_h,
            blocks_to_claim_deadline: their_timeout - their_h,
            peer: r.peer.clone(),
            created: r.created,
            events: r
                .events
                .iter()
                .map(|(time, text)| SwapEvent {
                    time: *time,
                    text: text.clone(),
                })
                .collect(),
            error: r.error.clone(),
            finished: r.phase.is_final(),
            cancellable: r.phase == Phase::Agreed && r.my_lock.is_none() && r.their_lock.is_none(),
        })
    }
}
