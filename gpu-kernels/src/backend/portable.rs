//! The scalar backend: one nonce at a time in plain Rust; runs on every target.

use crate::sha256::{bsig0, bsig1, ch, maj, ssig0, ssig1, Precomputed};

type V = u32;

#[inline(always)]
fn splat(x: u32) -> V {
    x
}

#[inline(always)]
fn add(a: V, b: V) -> V {
    a.wrapping_add(b)
}

sha256d_lanes!(#[inline(always)]);

/// Hashes `count` nonces from `start` and pushes those passing the top-word check.
pub(crate) fn scan(p: &Precomputed, start: u32, count: u32, out: &mut Vec<u32>) {
    let target_hi = p.target_hi;
    drive!(start, count, 1, out, |base| {
        u32::from(super::top_word_passes(
            sha256d_h7(p, base.swap_bytes()),
            target_hi,
        ))
    });
}
