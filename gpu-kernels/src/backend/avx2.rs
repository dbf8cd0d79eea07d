//! The AVX2 backend: 8 nonces at once, one per 32-bit lane of a `__m256i`.
//!
//! Unsafe code here is limited to calling the `#[target_feature(enable = "avx2")]` kernel
//! after `is_x86_feature_detected!("avx2")` returned true (docs/adr/0014).
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_and_si256, _mm256_andnot_si256, _mm256_castsi256_ps,
    _mm256_cmpeq_epi32, _mm256_min_epu32, _mm256_movemask_ps, _mm256_or_si256, _mm256_set1_epi32,
    _mm256_set_epi32, _mm256_set_epi8, _mm256_shuffle_epi8, _mm256_slli_epi32, _mm256_srli_epi32,
    _mm256_xor_si256,
};

use super::{Backend, UnavailableBackend};
use crate::sha256::Precomputed;

type V = __m256i;

const LANES: u32 = 8;

/// Whether the CPU has AVX2.
pub(crate) fn detected() -> bool {
    is_x86_feature_detected!("avx2")
}

/// `x.rotate_right(n)` in every lane; `$l` must be `32 - $r`.
macro_rules! rotr {
    ($x:expr, $r:literal, $l:literal) => {
        _mm256_or_si256(_mm256_srli_epi32::<$r>($x), _mm256_slli_epi32::<$l>($x))
    };
}

#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u32) -> V {
    _mm256_set1_epi32(x as i32)
}

#[inline]
#[target_feature(enable = "avx2")]
fn add(a: V, b: V) -> V {
    _mm256_add_epi32(a, b)
}

#[inline]
#[target_feature(enable = "avx2")]
fn xor3(a: V, b: V, c: V) -> V {
    _mm256_xor_si256(_mm256_xor_si256(a, b), c)
}

#[inline]
#[target_feature(enable = "avx2")]
fn bsig0(x: V) -> V {
    xor3(rotr!(x, 2, 30), rotr!(x, 13, 19), rotr!(x, 22, 10))
}

#[inline]
#[target_feature(enable = "avx2")]
fn bsig1(x: V) -> V {
    xor3(rotr!(x, 6, 26), rotr!(x, 11, 21), rotr!(x, 25, 7))
}

#[inline]
#[target_feature(enable = "avx2")]
fn ssig0(x: V) -> V {
    xor3(rotr!(x, 7, 25), rotr!(x, 18, 14), _mm256_srli_epi32::<3>(x))
}

#[inline]
#[target_feature(enable = "avx2")]
fn ssig1(x: V) -> V {
    xor3(
        rotr!(x, 17, 15),
        rotr!(x, 19, 13),
        _mm256_srli_epi32::<10>(x),
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn ch(e: V, f: V, g: V) -> V {
    _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g))
}

#[inline]
#[target_feature(enable = "avx2")]
fn maj(a: V, b: V, c: V) -> V {
    _mm256_or_si256(
        _mm256_and_si256(a, b),
        _mm256_and_si256(c, _mm256_or_si256(a, b)),
    )
}

/// Byte-swaps every lane.
#[inline]
#[target_feature(enable = "avx2")]
fn bswap(x: V) -> V {
    let pattern = _mm256_set_epi8(
        12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5,
        6, 7, 0, 1, 2, 3,
    );
    _mm256_shuffle_epi8(x, pattern)
}

sha256d_lanes!(#[inline] #[target_feature(enable = "avx2")]);

#[target_feature(enable = "avx2")]
fn scan_avx2(p: &Precomputed, start: u32, count: u32, out: &mut Vec<u32>) {
    let offsets = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    let target = splat(p.target_hi);
    drive!(start, count, LANES, out, |base| {
        let nonces = add(splat(base), offsets);
        let h7 = bswap(sha256d_h7(p, bswap(nonces)));
        // Unsigned h7 <= target: min(h7, target) == h7.
        let le = _mm256_cmpeq_epi32(_mm256_min_epu32(h7, target), h7);
        _mm256_movemask_ps(_mm256_castsi256_ps(le)) as u32
    });
}

/// Hashes `count` nonces from `start` and pushes those passing the top-word check.
pub(crate) fn scan(
    p: &Precomputed,
    start: u32,
    count: u32,
    out: &mut Vec<u32>,
) -> Result<(), UnavailableBackend> {
    if !detected() {
        return Err(UnavailableBackend(Backend::Avx2));
    }
    // SAFETY: `scan_avx2` only needs AVX2, which `detected()` just confirmed.
    unsafe { scan_avx2(p, start, count, out) };
    Ok(())
}
