//! Any bytes: only exactly 80 bytes decode, and they round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_consensus::share::ShareHeader;

fuzz_target!(|data: &[u8]| {
    match ShareHeader::decode(data) {
        Ok(h) => assert_eq!(&h.to_bytes()[..], data),
        Err(_) => assert_ne!(data.len(), 80),
    }
});
