//! The SHA-NI backend: the x86 SHA extensions (`sha256rnds2`, `sha256msg1`, `sha256msg2`),
//! [`WAYS`] independent nonces interleaved so that the long latency of `sha256rnds2` overlaps.
//!
//! The state lives in the instructions' `ABEF`/`CDGH` layout; since the first digest comes out
//! as message words of the second hash, no byte shuffling is needed between the two hashes.
//!
//! Unsafe code here is limited to calling the `#[target_feature]` kernel after
//! `is_x86_feature_detected!` confirmed `sha`, `sse4.1` and `ssse3` (docs/adr/0014).
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_cvtsi128_si32, _mm_set_epi32,
    _mm_setzero_si128, _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32,
    _mm_shuffle_epi32,
};

use super::{Backend, UnavailableBackend};
use crate::sha256::{Precomputed, DIGEST_BITS, HEADER_BITS, IV, K, PAD};

/// Nonces hashed in one interleaved pass.
pub(crate) const WAYS: usize = 4;

/// Whether the CPU has the SHA extensions (and the SSE levels the kernel uses).
pub(crate) fn detected() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse4.1")
        && is_x86_feature_detected!("ssse3")
}

/// Four words as a vector, `w0` in lane 0.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn vec4(w0: u32, w1: u32, w2: u32, w3: u32) -> __m128i {
    _mm_set_epi32(w3 as i32, w2 as i32, w1 as i32, w0 as i32)
}

/// `K[4g..4g+4]` as a vector.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn kvec(g: usize) -> __m128i {
    vec4(K[4 * g], K[4 * g + 1], K[4 * g + 2], K[4 * g + 3])
}

/// A state `[a..h]` in the `(ABEF, CDGH)` layout of `sha256rnds2`.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn to_abef_cdgh(s: &[u32; 8]) -> (__m128i, __m128i) {
    // lanes, lane 0 first: ABEF = [f, e, b, a], CDGH = [h, g, d, c]
    (vec4(s[5], s[4], s[1], s[0]), vec4(s[7], s[6], s[3], s[2]))
}

/// The next four message words from the previous sixteen.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn schedule(w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i) -> __m128i {
    let t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8::<4>(w3, w2));
    _mm_sha256msg2_epu32(t, w3)
}

/// Four rounds on every way: group `$g` with message vectors `$m`.
macro_rules! rounds4 {
    ($abef:ident, $cdgh:ident, $m:expr, $g:expr) => {{
        let k = kvec($g);
        let mut t = [_mm_setzero_si128(); WAYS];
        for j in 0..WAYS {
            t[j] = _mm_add_epi32($m[j], k);
            $cdgh[j] = _mm_sha256rnds2_epu32($cdgh[j], $abef[j], t[j]);
        }
        for j in 0..WAYS {
            $abef[j] = _mm_sha256rnds2_epu32($abef[j], $cdgh[j], _mm_shuffle_epi32::<0x0E>(t[j]));
        }
    }};
}

/// Group `$g` ≥ 4: schedules its message vectors into the ring `$m` (slot `g & 3`), then
/// runs its four rounds.
macro_rules! scheduled_group {
    ($abef:ident, $cdgh:ident, $m:ident, $g:expr) => {{
        for j in 0..WAYS {
            $m[$g & 3][j] = schedule(
                $m[$g & 3][j],
                $m[($g + 1) & 3][j],
                $m[($g + 2) & 3][j],
                $m[($g + 3) & 3][j],
            );
        }
        rounds4!($abef, $cdgh, $m[$g & 3], $g);
    }};
}

/// Per-job constants of the kernel.
struct Consts {
    /// Midstate in `ABEF`/`CDGH` layout.
    mid_abef: __m128i,
    mid_cdgh: __m128i,
    /// State (ABEF layout) after rounds 0 and 1 of the second block, which use no nonce bits.
    s2_abef: __m128i,
    /// The SHA-256 IV in `ABEF`/`CDGH` layout.
    iv_abef: __m128i,
    iv_cdgh: __m128i,
}

/// H7 (the last big-endian word of the SHA256d) of each of `WAYS` nonce words.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn sha256d_h7(p: &Precomputed, c: &Consts, w3: [u32; WAYS]) -> [u32; WAYS] {
    let zero = _mm_setzero_si128();
    // First hash, second block. Rounds 0 and 1 are precomputed; the nonce enters at round 3.
    let mut abef = [c.mid_abef; WAYS];
    let mut cdgh = [c.s2_abef; WAYS];
    let mut m = [[zero; WAYS]; 4];
    for j in 0..WAYS {
        m[0][j] = vec4(p.second[0], p.second[1], p.second[2], w3[j]);
        let k23 = vec4(
            p.second[2].wrapping_add(K[2]),
            w3[j].wrapping_add(K[3]),
            0,
            0,
        );
        abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], k23);
        m[1][j] = vec4(PAD, 0, 0, 0);
        m[2][j] = zero;
        m[3][j] = vec4(0, 0, 0, HEADER_BITS);
    }
    rounds4!(abef, cdgh, m[1], 1);
    rounds4!(abef, cdgh, m[2], 2);
    rounds4!(abef, cdgh, m[3], 3);
    unroll!(G in [4 5 6 7 8 9 10 11 12 13 14 15] {
        scheduled_group!(abef, cdgh, m, G);
    });
    // Feed forward, then back to [a, b, c, d], [e, f, g, h]: the second hash's W0..W7.
    for j in 0..WAYS {
        let a = _mm_add_epi32(abef[j], c.mid_abef);
        let b = _mm_add_epi32(cdgh[j], c.mid_cdgh);
        let feba = _mm_shuffle_epi32::<0x1B>(a);
        let dchg = _mm_shuffle_epi32::<0xB1>(b);
        m[0][j] = _mm_blend_epi16::<0xF0>(feba, dchg);
        m[1][j] = _mm_alignr_epi8::<8>(dchg, feba);
        m[2][j] = vec4(PAD, 0, 0, 0);
        m[3][j] = vec4(0, 0, 0, DIGEST_BITS);
        abef[j] = c.iv_abef;
        cdgh[j] = c.iv_cdgh;
    }
    rounds4!(abef, cdgh, m[0], 0);
    rounds4!(abef, cdgh, m[1], 1);
    rounds4!(abef, cdgh, m[2], 2);
    rounds4!(abef, cdgh, m[3], 3);
    unroll!(G in [4 5 6 7 8 9 10 11 12 13 14] {
        scheduled_group!(abef, cdgh, m, G);
    });
    // Group 15: only rounds 60 and 61. After them lane 0 of the ABEF state is f, which is
    // e after round 60, so H7 = IV7 + that lane.
    let k = kvec(15);
    let mut h7 = [0u32; WAYS];
    for j in 0..WAYS {
        m[3][j] = schedule(m[3][j], m[0][j], m[1][j], m[2][j]);
        let s = _mm_sha256rnds2_epu32(cdgh[j], abef[j], _mm_add_epi32(m[3][j], k));
        h7[j] = (_mm_cvtsi128_si32(s) as u32).wrapping_add(IV[7]);
    }
    h7
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn scan_shani(p: &Precomputed, start: u32, count: u32, out: &mut Vec<u32>) {
    let (mid_abef, mid_cdgh) = to_abef_cdgh(&p.midstate);
    let k01 = vec4(
        p.second[0].wrapping_add(K[0]),
        p.second[1].wrapping_add(K[1]),
        0,
        0,
    );
    let (iv_abef, iv_cdgh) = to_abef_cdgh(&IV);
    let c = Consts {
        mid_abef,
        mid_cdgh,
        s2_abef: _mm_sha256rnds2_epu32(mid_cdgh, mid_abef, k01),
        iv_abef,
        iv_cdgh,
    };
    let target_hi = p.target_hi;
    drive!(start, count, WAYS as u32, out, |base| {
        let mut w3 = [0u32; WAYS];
        for (j, w) in w3.iter_mut().enumerate() {
            *w = base.wrapping_add(j as u32).swap_bytes();
        }
        let h7 = sha256d_h7(p, &c, w3);
        let mut mask = 0u32;
        for (j, h) in h7.iter().enumerate() {
            mask |= u32::from(super::top_word_passes(*h, target_hi)) << j;
        }
        mask
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
        return Err(UnavailableBackend(Backend::ShaNi));
    }
    // SAFETY: `scan_shani` needs SHA, SSE4.1 and SSSE3 (SSE2 is baseline on x86_64), which
    // `detected()` just confirmed.
    unsafe { scan_shani(p, start, count, out) };
    Ok(())
}
