//! The wallet's requests: create, restore, unlock and lock; addresses, balances, sends,
//! histories and payouts. No response ever carries key material — except `createwallet`'s
//! mnemonic, shown once so the user can write it down.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `getwalletinfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WalletInfo {
    /// A wallet exists (else the first-run screen creates or restores one).
    pub exists: bool,
    /// It can sign (sends need this).
    pub unlocked: bool,
    /// Unix time the seed was made or restored.
    #[ts(type = "number | null")]
    pub birthday: Option<u64>,
    /// Share the history is synced to.
    pub share_height: Option<u32>,
    /// Bitcoin block the BTC wallet is synced to.
    pub btc_height: Option<u32>,
    /// Why the BTC wallet's last sync failed (it retries every 2 s); `null` while it keeps up.
    pub btc_error: Option<String>,
    /// The address the node's own hashers pay (shares and, while `n = 0`, Bitcoin rewards).
    pub mining_address: Option<String>,
    /// The Bitcoin side is available (a Bitcoin node is configured).
    pub btc_available: bool,
}

/// `createwallet`: the new seed's words, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CreatedWallet {
    /// The BIP-39 mnemonic, in order.
    pub words: Vec<String>,
}

/// `getnewaddress`: one address for both chains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewAddress {
    /// A BIP-86 taproot address: shares sent to it land in the share wallet, BTC in the BTC
    /// wallet.
    pub address: String,
    /// A `bitcoin:` URI for the QR code.
    pub uri: String,
}

/// Share balances, in units (10⁸ per share).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ShareBalances {
    /// Mature and unspent.
    #[ts(type = "number")]
    pub spendable: u64,
    /// Sharebase outputs still maturing.
    #[ts(type = "number")]
    pub immature: u64,
    /// Counted in the payout draw (`v`).
    #[ts(type = "number")]
    pub eligible: u64,
    /// The chain's eligible total (`n`).
    #[ts(type = "number")]
    pub eligible_total: u64,
    /// Arriving in unconfirmed transactions.
    #[ts(type = "number")]
    pub incoming: u64,
    /// Leaving in unconfirmed transactions.
    #[ts(type = "number")]
    pub outgoing: u64,
}

/// BTC balances, in sats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BtcBalances {
    /// Confirmed and spendable.
    #[ts(type = "number")]
    pub confirmed: u64,
    /// Unconfirmed.
    #[ts(type = "number")]
    pub pending: u64,
    /// Coinbases (payouts) not yet 100 blocks deep.
    #[ts(type = "number")]
    pub immature: u64,
}

/// `getwalletbalances`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WalletBalances {
    /// Shares.
    pub shares: ShareBalances,
    /// BTC.
    pub btc: BtcBalances,
}

/// One unspent share output of the wallet (`listwalletunspent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WalletCoin {
    /// `txid:vout`.
    pub outpoint: String,
    /// Units.
    #[ts(type = "number")]
    pub value: u64,
    /// Its address.
    pub address: Option<String>,
    /// Height of the share that made it.
    pub height: u32,
    /// A sharebase output.
    pub sharebase: bool,
    /// Spendable now.
    pub mature: bool,
    /// In the payout draw.
    pub eligible: bool,
}

/// One sharechain transaction of the wallet (`listwallettransactions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ShareTxEntry {
    /// Its id.
    pub txid: String,
    /// Height of the share holding it (`null`: unconfirmed).
    pub height: Option<u32>,
    /// Confirmations (0: unconfirmed).
    pub confirmations: u32,
    /// Unix time.
    #[ts(type = "number")]
    pub time: u64,
    /// Units received.
    #[ts(type = "number")]
    pub received: u64,
    /// Units sent.
    #[ts(type = "number")]
    pub sent: u64,
    /// Fee in units, when known.
    #[ts(type = "number | null")]
    pub fee: Option<u64>,
    /// A sharebase (mined shares).
    pub sharebase: bool,
}

/// `listwallettransactions`: a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ShareTxPage {
    /// The entries, newest first.
    pub entries: Vec<ShareTxEntry>,
    /// How many there are.
    #[ts(type = "number")]
    pub total: u64,
}

/// One BTC transaction of the wallet (`listbtctransactions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BtcTxEntry {
    /// Its id.
    pub txid: String,
    /// Block height (`null`: unconfirmed).
    pub height: Option<u32>,
    /// Sats received.
    #[ts(type = "number")]
    pub received: u64,
    /// Sats sent.
    #[ts(type = "number")]
    pub sent: u64,
    /// Fee, when known.
    #[ts(type = "number | null")]
    pub fee: Option<u64>,
    /// A coinbase: a payout won by one of the wallet's shares.
    pub coinbase: bool,
}

/// A Bitcoin block reward paid to one of the wallet's share scripts (`listpayouts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PayoutEntry {
    /// The coinbase.
    pub txid: String,
    /// The Bitcoin block; its hash is the id of the share that carried it.
    pub block: String,
    /// Its Bitcoin height.
    pub height: u32,
    /// Sats.
    #[ts(type = "number")]
    pub amount: u64,
    /// Spendable (100 blocks deep).
    pub mature: bool,
    /// Blocks until it is.
    pub blocks_to_maturity: u32,
}

/// `sendshares` / `sendbtc`: the broadcast transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Sent {
    /// Its id.
    pub txid: String,
}

/// `createpsbt`: an unsigned BTC payment for another signer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UnsignedPayment {
    /// The PSBT, base64 (BIP-174).
    pub psbt: String,
}

/// One offer of the order book (`listoffers`, `makeoffer`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OfferEntry {
    /// Its id.
    pub id: String,
    /// `shares` (the maker sells shares for BTC) or `btc` (the maker buys shares).
    pub maker_sells: String,
    /// Fewest shares one swap trades, units.
    #[ts(type = "number")]
    pub min_shares: u64,
    /// Most shares one swap trades, units.
    #[ts(type = "number")]
    pub max_shares: u64,
    /// Sats per share.
    #[ts(type = "number")]
    pub price: u64,
    /// Unix time it expires.
    #[ts(type = "number")]
    pub expires: u64,
    /// This node's own offer.
    pub mine: bool,
    /// The maker's peer id.
    pub maker_peer: String,
    /// `T_p`, blocks of the maker's lock chain.
    pub maker_lock_blocks: u32,
    /// `T_i`, blocks of the taker's lock chain.
    pub taker_lock_blocks: u32,
}

/// One line of a swap's progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SwapEvent {
    /// Unix time.
    #[ts(type = "number")]
    pub time: u64,
    /// What happened.
    pub text: String,
}

/// One swap (`listswaps`, `takeoffer`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SwapEntry {
    /// Its id.
    pub id: String,
    /// `taker` or `maker`.
    pub role: String,
    /// What the maker sells: `shares` or `btc`.
    pub maker_sells: String,
    /// Shares traded, units.
    #[ts(type = "number")]
    pub shares: u64,
    /// Sats traded.
    #[ts(type = "number")]
    pub sats: u64,
    /// `agreed`, `locked`, `claiming`, `refunding`, `completed`, `refunded` or `cancelled`.
    pub phase: String,
    /// We sell shares (else BTC).
    pub selling_shares: bool,
    /// Our lock's funding transaction.
    pub my_lock: Option<String>,
    /// The counterparty's lock's funding transaction, once seen.
    pub their_lock: Option<String>,
    /// Our claim or refund.
    pub spend: Option<String>,
    /// The chain our lock is on: `bitcoin` or `sharechain`.
    pub my_chain: String,
    /// Blocks of our lock's chain until we may refund it (negative: past).
    pub blocks_to_refund: i64,
    /// Blocks of the counterparty's lock's chain until their refund opens (taker: until the
    /// last safe moment to claim; negative: past).
    pub blocks_to_claim_deadline: i64,
    /// The counterparty's peer id.
    pub peer: String,
    /// Unix time made.
    #[ts(type = "number")]
    pub created: u64,
    /// What happened, oldest first.
    pub events: Vec<SwapEvent>,
    /// The last problem, if any (the watcher keeps trying).
    pub error: Option<String>,
    /// Nothing more will happen.
    pub finished: bool,
    /// A cancel is still possible (nothing locked).
    pub cancellable: bool,
}
