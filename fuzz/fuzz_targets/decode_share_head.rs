//! Any bytes: a share head decodes canonically or is refused, and header checks never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_consensus::share::ShareHead;
use p2share_consensus::validation::check_head;
use p2share_consensus::ChainParams;

fuzz_target!(|data: &[u8]| {
    if let Ok(head) = ShareHead::decode(data) {
        assert_eq!(head.encode(), data, "share head encoding is not canonical");
        let _ = head.q_selector();
        let _ = check_head(&ChainParams::regtest(), &head);
    }
});
