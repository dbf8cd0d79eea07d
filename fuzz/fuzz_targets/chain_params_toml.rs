//! Any text: a custom network file is parsed and validated without panicking, and accepted
//! parameters can start a chain.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_consensus::{ChainParams, ChainState};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(params) = ChainParams::from_toml(text) {
            assert!(ChainState::new(params).is_ok());
        }
    }
});
