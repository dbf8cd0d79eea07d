//! Any bytes as a gossiped offer or a swap-protocol message: decoded and verified, or refused,
//! never a panic; a decoded message survives its own encoding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_walletd::swap::{Offer, SwapMsg};

fuzz_target!(|data: &[u8]| {
    if let Ok(offer) = Offer::decode(data, "regtest", 1_800_000_000) {
        assert!(offer.verify("regtest", 1_800_000_000).is_ok());
        assert_eq!(Offer::decode(&offer.encode(), "regtest", 1_800_000_000).ok(), Some(offer));
    }
    if let Ok(msg) = SwapMsg::decode(data) {
        assert_eq!(SwapMsg::decode(&msg.encode()).ok(), Some(msg));
    }
});
