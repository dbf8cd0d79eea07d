//! Requests of the wallet: create, restore, unlock, lock, addresses, balances, sends, histories,
//! payouts. Each is one call into the node's [`WalletService`].

use std::str::FromStr;

use p2share_walletd::service::WalletError;
use p2share_walletd::WalletService;

use super::{Api, ApiError};
use crate::types::{
    BtcBalances, BtcTxEntry, CreatedWallet, NewAddress, PayoutEntry, Sent, ShareBalances,
    ShareTxEntry, ShareTxPage, UnsignedPayment, WalletBalances, WalletCoin, WalletInfo,
};

/// Longest page of `listwallettransactions`.
pub const MAX_HISTORY_PAGE: u32 = 1_000;

pub(crate) fn wallet_error(e: WalletError) -> ApiError {
    match e {
        WalletError::Invalid(_) | WalletError::Seed(_) => ApiError::InvalidParameter(e.to_string()),
        WalletError::Rejected(_) | WalletError::Send(_) => ApiError::Rejected(e.to_string()),
        WalletError::Storage(_) => ApiError::Internal(e.to_string()),
        _ => ApiError::Unavailable(e.to_string()),
    }
}

impl Api {
    pub(crate) fn wallet(&self) -> Result<&WalletService, ApiError> {
        self.wallet
            .as_ref()
            .ok_or_else(|| ApiError::Unavailable("this node runs without a wallet".into()))
    }

    /// `getwalletinfo`.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] without a wallet service.
    pub async fn wallet_info(&self) -> Result<WalletInfo, ApiError> {
        let w = self.wallet()?;
        let s = w.status().await;
        Ok(WalletInfo {
            exists: s.exists,
            unlocked: s.unlocked,
            birthday: s.birthday,
            share_height: s.share_height,
            btc_height: s.btc_height,
            btc_error: s.btc_error,
            mining_address: s.mining_address,
            btc_available: w.has_bitcoin(),
        })
    }

    /// `createwallet`: a new seed encrypted with `passphrase`; the mnemonic is answered once.
    ///
    /// # Errors
    /// A wallet exists; an empty passphrase.
    pub async fn create_wallet(&self, passphrase: &str) -> Result<CreatedWallet, ApiError> {
        let words = self
            .wallet()?
            .create(passphrase)
            .await
            .map_err(wallet_error)?;
        self.wallet_pays_miner().await;
        Ok(CreatedWallet { words })
    }

    /// `restorewallet`.
    ///
    /// # Errors
    /// A wallet exists; a bad mnemonic (the word and its position); an empty passphrase.
    pub async fn restore_wallet(
        &self,
        words: &str,
        passphrase: &str,
    ) -> Result<WalletInfo, ApiError> {
        self.wallet()?
            .restore(words, passphrase)
            .await
            .map_err(wallet_error)?;
        self.wallet_pays_miner().await;
        self.wallet_info().await
    }

    /// Points the node's own hashers at the wallet, unless an address was configured.
    async fn wallet_pays_miner(&self) {
        if !self.facts.wallet_pays_miner {
            return;
        }
        if let Some(w) = &self.wallet {
            if let Some(script) = w.mining_script().await {
                self.mining.set_script(script).await;
            }
        }
    }

    /// `unlockwallet`.
    ///
    /// # Errors
    /// A wrong passphrase or a corrupt seed file (nothing changes).
    pub async fn unlock_wallet(&self, passphrase: &str) -> Result<WalletInfo, ApiError> {
        self.wallet()?
            .unlock(passphrase)
            .await
            .map_err(wallet_error)?;
        self.wallet_info().await
    }

    /// `lockwallet`.
    ///
    /// # Errors
    /// No wallet service.
    pub async fn lock_wallet(&self) -> Result<WalletInfo, ApiError> {
        self.wallet()?.lock().await;
        self.wallet_info().await
    }

    /// `getnewaddress`.
    ///
    /// # Errors
    /// No wallet.
    pub async fn new_address(&self) -> Result<NewAddress, ApiError> {
        let a = self
            .wallet()?
            .receive_address()
            .await
            .map_err(wallet_error)?;
        Ok(NewAddress {
            uri: format!("bitcoin:{a}"),
            address: a.to_string(),
        })
    }

    /// `getwalletbalances`.
    ///
    /// # Errors
    /// No wallet.
    pub async fn wallet_balances(&self) -> Result<WalletBalances, ApiError> {
        let b = self.wallet()?.balances().await.map_err(wallet_error)?;
        Ok(WalletBalances {
            shares: ShareBalances {
                spendable: b.shares.spendable,
                immature: b.shares.immature,
                eligible: b.shares.eligible,
                eligible_total: b.shares.eligible_total,
                incoming: b.shares.incoming,
                outgoing: b.shares.outgoing,
            },
            btc: BtcBalances {
                confirmed: b.btc.confirmed,
                pending: b.btc.pending,
                immature: b.btc.immature,
            },
        })
    }

    /// `listwalletunspent`.
    ///
    /// # Errors
    /// No wallet.
    pub async fn wallet_coins(&self) -> Result<Vec<WalletCoin>, ApiError> {
        let coins = self.wallet()?.share_coins().await.map_err(wallet_error)?;
        Ok(coins
            .into_iter()
            .map(|c| WalletCoin {
                outpoint: c.outpoint.to_string(),
                value: c.value,
                address: self.address_of(&c.script),
                height: c.height,
                sharebase: c.is_sharebase,
                mature: c.mature,
                eligible: c.eligible,
            })
            .collect())
    }

    /// `sendshares`: `amount` in shares (decimal, up to 8 places), to an address of this
    /// network; `fee_rate` in units per 1,000 vbytes (default: the mempool's floor).
    ///
    /// # Errors
    /// A bad address or amount, a locked wallet, insufficient funds, the node's refusal.
    pub async fn send_shares(
        &self,
        address: &str,
        amount: &str,
        fee_rate: Option<u64>,
    ) -> Result<Sent, ApiError> {
        let script = self.script_of(address)?;
        let units = parse_amount(amount, "amount")?;
        let txid = self
            .wallet()?
            .send_shares(script, units, fee_rate)
            .await
            .map_err(wallet_error)?;
        Ok(Sent {
            txid: txid.to_string(),
        })
    }

    /// `sendbtc`: `amount` in BTC (decimal), at `sat_per_vb`.
    ///
    /// # Errors
    /// A bad address or amount, a locked wallet, insufficient funds, the node's refusal.
    pub async fn send_btc(
        &self,
        address: &str,
        amount: &str,
        sat_per_vb: u64,
    ) -> Result<Sent, ApiError> {
        let script = self.script_of(address)?;
        let sats = parse_amount(amount, "amount")?;
        let txid = self
            .wallet()?
            .send_btc(script, sats, sat_per_vb)
            .await
            .map_err(wallet_error)?;
        Ok(Sent {
            txid: txid.to_string(),
        })
    }

    /// `createpsbt`: an unsigned BTC payment (base64 PSBT) for a hardware wallet.
    ///
    /// # Errors
    /// A bad address or amount, insufficient funds.
    pub async fn create_psbt(
        &self,
        address: &str,
        amount: &str,
        sat_per_vb: u64,
    ) -> Result<UnsignedPayment, ApiError> {
        let script = self.script_of(address)?;
        let sats = parse_amount(amount, "amount")?;
        let psbt = self
            .wallet()?
            .btc_psbt(script, sats, sat_per_vb)
            .await
            .map_err(wallet_error)?;
        Ok(UnsignedPayment {
            psbt: psbt.to_string(),
        })
    }

    /// `listwallettransactions`: the share history, newest first.
    ///
    /// # Errors
    /// No wallet; a page above [`MAX_HISTORY_PAGE`].
    pub async fn wallet_transactions(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<ShareTxPage, ApiError> {
        if limit > MAX_HISTORY_PAGE {
            return Err(ApiError::InvalidParameter(format!(
                "limit {limit} is above {MAX_HISTORY_PAGE}"
            )));
        }
        let (rows, total) = self
            .wallet()?
            .share_history(offset, limit)
            .await
            .map_err(wallet_error)?;
        let tip = self.node.tip().await.1;
        Ok(ShareTxPage {
            entries: rows
                .into_iter()
                .map(|r| ShareTxEntry {
                    txid: r.txid.to_string(),
                    confirmations: r.height.map_or(0, |h| tip.saturating_sub(h) + 1),
                    height: r.height,
                    time: r.time,
                    received: r.received,
                    sent: r.sent,
                    fee: r.fee,
                    sharebase: r.tx.is_coinbase(),
                })
                .collect(),
            total,
        })
    }

    /// `listbtctransactions`.
    ///
    /// # Errors
    /// No wallet.
    pub async fn btc_transactions(&self) -> Result<Vec<BtcTxEntry>, ApiError> {
        let txs = self.wallet()?.btc_history().await.map_err(wallet_error)?;
        Ok(txs
            .into_iter()
            .map(|t| BtcTxEntry {
                txid: t.txid.to_string(),
                height: t.height,
                received: t.received,
                sent: t.sent,
                fee: t.fee,
                coinbase: t.coinbase,
            })
            .collect())
    }

    /// `listpayouts`.
    ///
    /// # Errors
    /// No wallet.
    pub async fn payouts(&self) -> Result<Vec<PayoutEntry>, ApiError> {
        let p = self.wallet()?.payouts().await.map_err(wallet_error)?;
        Ok(p.into_iter()
            .map(|p| PayoutEntry {
                txid: p.txid.to_string(),
                block: p.block.to_string(),
                height: p.height,
                amount: p.amount,
                mature: p.mature,
                blocks_to_maturity: p.blocks_to_maturity,
            })
            .collect())
    }
}

/// Parses a decimal amount with up to 8 places into base units (sats or share units).
///
/// # Errors
/// [`ApiError::InvalidParameter`] naming the parameter.
pub fn parse_amount(s: &str, name: &str) -> Result<u64, ApiError> {
    let bad = |why: &str| ApiError::InvalidParameter(format!("{name} {s:?} {why}"));
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad("is empty"));
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("is not a decimal amount"));
    }
    if frac.len() > 8 {
        return Err(bad("has more than 8 decimal places"));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        u64::from_str(whole).map_err(|_| bad("is too large"))?
    };
    let frac_units: u64 = if frac.is_empty() {
        0
    } else {
        u64::from_str(&format!("{frac:0<8}")).map_err(|_| bad("is not a decimal amount"))?
    };
    whole
        .checked_mul(100_000_000)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or_else(|| bad("is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_base_units_and_bad_ones_are_named() {
        assert_eq!(parse_amount("1", "a"), Ok(100_000_000));
        assert_eq!(parse_amount("0.5", "a"), Ok(50_000_000));
        assert_eq!(parse_amount("12.00000001", "a"), Ok(1_200_000_001));
        assert_eq!(parse_amount(".25", "a"), Ok(25_000_000));
        for bad in ["", "-1", "1e3", "0.123456789", "1,5", "184467440737.1"] {
            let e = parse_amount(bad, "amount").unwrap_err().to_string();
            assert!(e.starts_with("amount"), "{bad}: {e}");
        }
    }
}
