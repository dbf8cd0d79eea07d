//! The swap protocol's data: signed offers, the messages two wallets exchange, and the
//! persisted record of one swap. Everything here is plain data with strict JSON encodings
//! (unknown fields refused, sizes bounded by the transport).

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{schnorr, Keypair, Message, Secp256k1, XOnlyPublicKey};
use serde::{Deserialize, Serialize};

/// Largest encoded offer accepted from gossip.
pub const MAX_OFFER_SIZE: usize = 2_048;
/// The tag of the offer signature's message.
const OFFER_TAG: &[u8] = b"p2share/offer/v1";

/// What the maker sells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Asset {
    /// Shares (the taker pays BTC).
    Shares,
    /// BTC (the taker pays shares).
    Btc,
}

/// The timelocks an offer commits to, in blocks of the chain each applies to (see
/// `p2share_wallet::terms::Timelocks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferTimelocks {
    /// `T_p`: the maker's lock.
    pub maker_lock: u32,
    /// `T_i`: the taker's lock.
    pub taker_lock: u32,
    /// The taker claims this many blocks before the maker's lock expires.
    pub taker_claim_margin: u32,
    /// The maker locks only while the taker's lock has this many blocks left.
    pub maker_min_taker_remaining: u32,
    /// The taker accepts the maker's lock only with this many blocks left.
    pub taker_min_maker_remaining: u32,
}

impl OfferTimelocks {
    /// As the terms module's type (which checks them).
    ///
    /// # Errors
    /// The rule they break.
    pub fn to_terms(self) -> Result<p2share_wallet::terms::Timelocks, String> {
        p2share_wallet::terms::Timelocks::from_blocks(
            self.maker_lock,
            self.taker_lock,
            self.taker_claim_margin,
            self.maker_min_taker_remaining,
            self.taker_min_maker_remaining,
        )
        .map_err(|e| e.to_string())
    }

    /// From the terms module's type.
    pub fn from_terms(t: p2share_wallet::terms::Timelocks) -> OfferTimelocks {
        OfferTimelocks {
            maker_lock: t.maker_lock_blocks,
            taker_lock: t.taker_lock_blocks,
            taker_claim_margin: t.taker_claim_margin_blocks,
            maker_min_taker_remaining: t.maker_min_taker_remaining_blocks,
            taker_min_maker_remaining: t.taker_min_maker_remaining_blocks,
        }
    }
}

/// The signed part of an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferBody {
    /// The sharechain's name (offers of another network are refused).
    pub network: String,
    /// The maker's libp2p peer id: where takers send their requests.
    pub maker_peer: String,
    /// The maker's offer key (x-only, hex) that signs the offer.
    pub maker_key: String,
    /// What the maker sells.
    pub maker_sells: Asset,
    /// The most shares (units) one swap may trade.
    pub max_shares: u64,
    /// The fewest shares (units) one swap may trade.
    pub min_shares: u64,
    /// The price: satoshis per share (10⁸ units).
    pub price: u64,
    /// The timelocks.
    pub timelocks: OfferTimelocks,
    /// Unix time made.
    pub created: u64,
    /// Unix time after which it is void.
    pub expires: u64,
}

/// A signed offer as gossiped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// What is offered.
    pub body: OfferBody,
    /// BIP-340 signature (hex) by `body.maker_key` over the tagged hash of `body`'s JSON.
    pub sig: String,
}

fn offer_digest(body: &OfferBody) -> Result<[u8; 32], String> {
    let json = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let mut engine = sha256::Hash::engine();
    engine.input(OFFER_TAG);
    engine.input(&json);
    Ok(sha256::Hash::from_engine(engine).to_byte_array())
}

impl Offer {
    /// Signs `body` with `key` (whose x-only key must be `body.maker_key`).
    ///
    /// # Errors
    /// When `body` does not encode.
    pub fn sign(body: OfferBody, key: &Keypair) -> Result<Offer, String> {
        let digest = offer_digest(&body)?;
        let sig =
            Secp256k1::signing_only().sign_schnorr_no_aux_rand(&Message::from_digest(digest), key);
        Ok(Offer {
            body,
            sig: bitcoin::hex::DisplayHex::to_lower_hex_string(&sig.serialize()[..]),
        })
    }

    /// The offer's id: the hex of its signed digest.
    pub fn id(&self) -> String {
        offer_digest(&self.body)
            .map(|d| bitcoin::hex::DisplayHex::to_lower_hex_string(&d[..]))
            .unwrap_or_default()
    }

    /// Decodes and verifies an offer for `network` at unix time `now`.
    ///
    /// # Errors
    /// What is wrong: size, encoding, network, amounts, price, expiry, signature.
    pub fn decode(bytes: &[u8], network: &str, now: u64) -> Result<Offer, String> {
        if bytes.len() > MAX_OFFER_SIZE {
            return Err(format!(
                "offer of {} bytes is above {MAX_OFFER_SIZE}",
                bytes.len()
            ));
        }
        let offer: Offer =
            serde_json::from_slice(bytes).map_err(|e| format!("offer does not decode: {e}"))?;
        offer.verify(network, now)?;
        Ok(offer)
    }

    /// Checks the offer's content and signature.
    ///
    /// # Errors
    /// What is wrong.
    pub fn verify(&self, network: &str, now: u64) -> Result<(), String> {
        let b = &self.body;
        if b.network != network {
            return Err(format!(
                "offer for network {} (this is {network})",
                b.network
            ));
        }
        if b.min_shares == 0 || b.min_shares > b.max_shares {
            return Err("offer amounts: 0 < min_shares ≤ max_shares is required".into());
        }
        if b.price == 0 {
            return Err("offer price is zero".into());
        }
        if b.expires <= now {
            return Err("offer expired".into());
        }
        if b.expires > now + 7 * 86_400 || b.created > now + 600 {
            return Err("offer times are implausible".into());
        }
        b.timelocks.to_terms()?;
        if sats_for(b.max_shares, b.price).is_none() {
            return Err("offer amount overflows".into());
        }
        let key: XOnlyPublicKey = b.maker_key.parse().map_err(|e| format!("offer key: {e}"))?;
        let sig_bytes: Vec<u8> = bitcoin::hex::FromHex::from_hex(&self.sig)
            .map_err(|e| format!("offer signature hex: {e}"))?;
        let sig = schnorr::Signature::from_slice(&sig_bytes)
            .map_err(|e| format!("offer signature: {e}"))?;
        let digest = offer_digest(b)?;
        Secp256k1::verification_only()
            .verify_schnorr(&sig, &Message::from_digest(digest), &key)
            .map_err(|_| "offer signature does not verify".to_string())
    }

    /// Encodes the offer (JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The sats `shares` units cost at `price` sats per share, rounded down; `None` on overflow.
pub fn sats_for(shares: u64, price: u64) -> Option<u64> {
    u64::try_from(u128::from(shares) * u128::from(price) / 100_000_000).ok()
}

/// A message of the swap protocol (the body of a `Swap` request or answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SwapMsg {
    /// The taker takes an offer.
    Take {
        /// The offer's id.
        offer: String,
        /// The swap's id (the taker's choice, 16 random bytes hex).
        swap: String,
        /// Shares traded, units.
        shares: u64,
        /// The secret's SHA-256 (hex).
        hash: String,
        /// The taker's key for this swap (compressed, hex).
        taker_key: String,
        /// The taker's lock's timeout (height of the taker's chain).
        taker_timeout: u32,
        /// The maker's lock's timeout (height of the maker's chain).
        maker_timeout: u32,
    },
    /// The maker accepts.
    Accept {
        /// The swap.
        swap: String,
        /// The maker's key for this swap (compressed, hex).
        maker_key: String,
    },
    /// Refused, with the reason.
    Refuse {
        /// The swap.
        swap: String,
        /// Why.
        reason: String,
    },
    /// A party's lock is broadcast at this outpoint.
    Locked {
        /// The swap.
        swap: String,
        /// The funding transaction.
        txid: String,
        /// The HTLC output.
        vout: u32,
    },
    /// The taker cancels before locking.
    Cancel {
        /// The swap.
        swap: String,
    },
    /// Received.
    Ack {},
}

impl SwapMsg {
    /// Encodes the message (JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes a message.
    ///
    /// # Errors
    /// What does not decode.
    pub fn decode(bytes: &[u8]) -> Result<SwapMsg, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("swap message does not decode: {e}"))
    }
}

/// Which side of a swap this wallet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapRole {
    /// Took an offer: makes the secret, locks first.
    Taker,
    /// Made the offer: locks second.
    Maker,
}

/// Where a swap is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Terms agreed; the taker is about to lock, the maker waits for the taker's lock.
    Agreed,
    /// Our lock is broadcast; waiting for the other lock (taker) or the taker's claim (maker).
    Locked,
    /// Our claim is broadcast.
    Claiming,
    /// Our refund is broadcast.
    Refunding,
    /// We hold what we bought.
    Completed,
    /// We got our own funds back.
    Refunded,
    /// Ended before anything was locked.
    Cancelled,
}

impl Phase {
    /// Whether nothing more will happen.
    pub fn is_final(&self) -> bool {
        matches!(self, Phase::Completed | Phase::Refunded | Phase::Cancelled)
    }
}

/// A transaction we funded or spent with, kept from before its broadcast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnTx {
    /// The transaction, hex.
    pub tx: String,
    /// Its id.
    pub txid: String,
    /// The HTLC output's index (locks) or 0.
    pub vout: u32,
    /// The fee it pays (units or sats).
    pub fee: u64,
    /// Height of its chain when it was broadcast.
    pub broadcast_at: u32,
}

/// A lock seen on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenLock {
    /// Funding transaction.
    pub txid: String,
    /// HTLC output index.
    pub vout: u32,
    /// Its value.
    pub value: u64,
    /// Confirmation height (`None`: unconfirmed).
    pub height: Option<u32>,
}

/// One swap as persisted (written before every action it leads to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapRecord {
    /// Its id.
    pub id: String,
    /// Our side.
    pub role: SwapRole,
    /// What the maker sells.
    pub maker_sells: Asset,
    /// The offer taken.
    pub offer: String,
    /// The counterparty's peer id.
    pub peer: String,
    /// Shares traded, units.
    pub shares: u64,
    /// Sats traded.
    pub sats: u64,
    /// The timelocks.
    pub timelocks: OfferTimelocks,
    /// Our swap-key index.
    pub index: u32,
    /// The secret's hash, hex.
    pub hash: String,
    /// Our key, hex.
    pub my_key: String,
    /// Their key, hex (empty until agreed).
    pub their_key: String,
    /// Timeout of the taker's lock.
    pub taker_timeout: u32,
    /// Timeout of the maker's lock.
    pub maker_timeout: u32,
    /// The phase.
    pub phase: Phase,
    /// Our lock's funding transaction.
    pub my_lock: Option<OwnTx>,
    /// Their lock, once seen.
    pub their_lock: Option<SeenLock>,
    /// Our claim or refund.
    pub spend: Option<OwnTx>,
    /// The secret, once known (the taker's from the start; the maker's from the taker's claim).
    pub preimage: Option<String>,
    /// Bitcoin height when the swap began (where chain scans start).
    pub btc_from: u32,
    /// Sharechain height when the swap began.
    pub shares_from: u32,
    /// Unix time made.
    pub created: u64,
    /// What happened, oldest first: (unix time, text).
    pub events: Vec<(u64, String)>,
    /// The last problem, if any (shown; the watcher keeps trying).
    pub error: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(key: &Keypair) -> OfferBody {
        OfferBody {
            network: "regtest".into(),
            maker_peer: "12D3KooW".into(),
            maker_key: key.x_only_public_key().0.to_string(),
            maker_sells: Asset::Shares,
            max_shares: 10 * 100_000_000,
            min_shares: 100_000_000,
            price: 20_000,
            timelocks: OfferTimelocks {
                maker_lock: 20,
                taker_lock: 40,
                taker_claim_margin: 3,
                maker_min_taker_remaining: 25,
                taker_min_maker_remaining: 8,
            },
            created: 1_000,
            expires: 2_000,
        }
    }

    #[test]
    fn a_signed_offer_verifies_and_any_change_breaks_it() {
        let key = Keypair::from_seckey_slice(&Secp256k1::new(), &[7; 32]).unwrap();
        let offer = Offer::sign(body(&key), &key).unwrap();
        let bytes = offer.encode();
        assert_eq!(Offer::decode(&bytes, "regtest", 1_500).unwrap(), offer);
        assert!(Offer::decode(&bytes, "main", 1_500)
            .unwrap_err()
            .contains("network"));
        assert!(Offer::decode(&bytes, "regtest", 2_000)
            .unwrap_err()
            .contains("expired"));
        let mut changed = offer.clone();
        changed.body.price += 1;
        assert!(changed
            .verify("regtest", 1_500)
            .unwrap_err()
            .contains("signature"));
        let mut extra: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        extra["body"]["bonus"] = serde_json::json!(1);
        let e = Offer::decode(&serde_json::to_vec(&extra).unwrap(), "regtest", 1_500);
        assert!(e.unwrap_err().contains("unknown field"));
        assert!(Offer::decode(&vec![b' '; MAX_OFFER_SIZE + 1], "regtest", 1_500).is_err());
    }

    #[test]
    fn prices_convert_without_overflow() {
        assert_eq!(sats_for(100_000_000, 20_000), Some(20_000));
        assert_eq!(sats_for(150_000_000, 20_000), Some(30_000));
        assert_eq!(sats_for(u64::MAX, u64::MAX), None);
    }

    #[test]
    fn messages_round_trip_and_unknown_ones_are_refused() {
        let m = SwapMsg::Locked {
            swap: "ab".into(),
            txid: "cd".into(),
            vout: 1,
        };
        assert_eq!(SwapMsg::decode(&m.encode()).unwrap(), m);
        assert!(SwapMsg::decode(br#"{"type":"steal"}"#).is_err());
        assert!(SwapMsg::decode(br#"{"type":"ack","x":1}"#).is_err());
    }
}
