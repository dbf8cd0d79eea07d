//! Any 32-bit compact value and tip: strict decoding agrees with re-encoding, and ASERT never
//! panics and stays within its bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use p2share_consensus::pow::{asert_next_target, decode_compact, encode_compact, AsertParams};

fuzz_target!(|data: [u32; 4]| {
    let [bits, height, time, spacing] = data;
    if let Ok(t) = decode_compact(bits) {
        let again = decode_compact(encode_compact(t));
        assert!(again.is_ok_and(|a| a <= t));
        let p = AsertParams {
            anchor_target: t,
            pow_limit: t,
            anchor_time: i64::from(time / 2),
            target_spacing: i64::from(spacing % 100_000) + 1,
            half_life: 3_600,
        };
        let next = asert_next_target(&p, height, time);
        assert!(next <= t);
    }
});
