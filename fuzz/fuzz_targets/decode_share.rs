//! Any bytes: decoding never panics; what decodes re-encodes to the same bytes, and context-free
//! validation of it never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_consensus::share::Share;
use p2share_consensus::validation::check_share;
use p2share_consensus::ChainParams;

fuzz_target!(|data: &[u8]| {
    if let Ok(share) = Share::decode(data) {
        assert_eq!(share.encode(), data, "share encoding is not canonical");
        let _ = check_share(&ChainParams::regtest(), &share);
    }
});
