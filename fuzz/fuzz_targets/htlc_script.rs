//! Any bytes as a counterparty's HTLC witness script: parsed only when it is exactly the
//! template (which then re-encodes to the same bytes), refused otherwise, never a panic.
#![no_main]
use bitcoin::Script;
use libfuzzer_sys::fuzz_target;
use p2share_wallet::htlc::Htlc;

fuzz_target!(|data: &[u8]| {
    if let Ok(htlc) = Htlc::parse(Script::from_bytes(data)) {
        assert_eq!(htlc.script().as_bytes(), data, "HTLC parsing is not canonical");
    }
});
