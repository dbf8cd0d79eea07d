//! Any text: the audit tool's inputs — a UTXO list in JSON and a `--header` hex string — are
//! parsed without panicking; a parsed UTXO list always yields a selection or `n = 0`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_consensus::hash::q_selector_hash;
use p2share_consensus::payout::select_with_selector;
use p2share_node::select::{parse_selector, parse_utxos};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_selector(text, 0);
    if let Ok(set) = parse_utxos(text, "fuzz", 1_000, 100) {
        let selection = select_with_selector(&set, &q_selector_hash(&[7u8; 160]));
        assert_eq!(selection.is_none(), set.eligible_total().to_units() == 0);
    }
});
