//! The AVX-512 backend: 16 nonces at once, one per 32-bit lane of a `__m512i` (AVX-512F only:
//! `vprord` rotations and `vpternlogd` for Ch, Maj and three-way XOR).
//!
//! Unsafe code here is limited to calling the `#[target_feature(enable = "avx512f")]` kernel
//! after `is_x86_feature_detected!("avx512f")` returned true (docs/adr/0014).
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m512i, _mm512_add_epi32, _mm512_cmple_epu32_mask, _mm512_ror_epi32, _mm512_set1_epi32,
    _mm512_set_epi32, _mm512_srli_epi32, _mm512_ternarylogic_epi32,
};

use super::{Backend, UnavailableBackend};
use crate::sha256::Precomputed;

type V = __m512i;

const LANES: u32 = 16;

/// Whether the CPU has AVX-512F.
pub(crate) fn detected() -> bool {
    is_x86_feature_detected!("avx512f")
}

#[inline]
#[target_feature(enable = "avx512f")]
fn splat(x: u32) -> V {
    _mm512_set1_epi32(x as i32)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: V, b: V) -> V {
    _mm512_add_epi32(a, b)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn xor3(a: V, b: V, c: V) -> V {
    _mm512_ternarylogic_epi32::<0x96>(a, b, c)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn bsig0(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<2>(x),
        _mm512_ror_epi32::<13>(x),
        _mm512_ror_epi32::<22>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn bsig1(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<6>(x),
        _mm512_ror_epi32::<11>(x),
        _mm512_ror_epi32::<25>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ssig0(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<7>(x),
        _mm512_ror_epi32::<18>(x),
        _mm512_srli_epi32::<3>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ssig1(x: V) -> V {
    xor3(
        _mm512_ror_epi32::<17>(x),
        _mm512_ror_epi32::<19>(x),
        _mm512_srli_epi32::<10>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ch(e: V, f: V, g: V) -> V {
    // e ? f : g
    _mm512_ternarylogic_epi32::<0xCA>(e, f, g)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn maj(a: V, b: V, c: V) -> V {
    _mm512_ternarylogic_epi32::<0xE8>(a, b, c)
}

/// Byte-swaps every lane: rotations by 8 and 24 merged with a byte mask.
#[inline]
#[target_feature(enable = "avx512f")]
fn bswap(x: V) -> V {
    let mask = splat(0xFF00_FF00);
    // mask ? ror(x, 8) : ror(x, 24)
    _mm512_ternarylogic_epi32::<0xCA>(mask, _mm512_ror_epi32::<8>(x), _mm512_ror_epi32::<24>(x))
}

sha256d_lanes!(#[inline] #[target_feature(enable = "avx512f")]);

#[target_feature(enable = "avx512f")]
fn scan_avx512(p: &Precomputed, start: u32, count: u32, out: &mut Vec<u32>) {
    let offsets = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let target = splat(p.target_hi);
    drive!(start, count, LANES, out, |base| {
        let nonces = add(splat(base), offsets);
        let h7 = sha256d_h7(p, bswap(nonces));
        u32::from(_mm512_cmple_epu32_mask(bswap(h7), target))
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
        return Err(UnavailableBackend(Backend::Avx512));
    }
    // SAFETY: `scan_avx512` only needs AVX-512F, which `detected()` just confirmed.
    unsafe { scan_avx512(p, start, count, out) };
    Ok(())
}
