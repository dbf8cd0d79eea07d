//! The SHA256d backends and their runtime selection.
//!
//! Every backend implements the same contract: for each nonce of a range, compute the SHA256d
//! of the job's header from the precomputed midstate and report the nonces whose hash's most
//! significant 32 bits are at most the target's (a necessary condition for `hash ≤ target`).
//! The caller re-checks those few nonces with the reference SHA256d.

use std::fmt;

use crate::sha256::Precomputed;

/// Unrolls `$body` for each listed literal, binding it to `$t`.
macro_rules! unroll {
    ($t:ident in [$($i:literal)*] $body:block) => {
        $( { const $t: usize = $i; $body } )*
    };
}

/// One SHA-256 round on the lane state `$s` (an `[V; 8]`) with `K[i] + W[i]` in `$kw`.
/// Needs `add`, `bsig0`, `bsig1`, `ch` and `maj` in scope.
macro_rules! lane_round {
    ($s:ident, $kw:expr) => {{
        let t1 = add(add(add($s[7], bsig1($s[4])), ch($s[4], $s[5], $s[6])), $kw);
        let t2 = add(bsig0($s[0]), maj($s[0], $s[1], $s[2]));
        $s = [
            add(t1, t2),
            $s[0],
            $s[1],
            $s[2],
            add($s[3], t1),
            $s[4],
            $s[5],
            $s[6],
        ];
    }};
}

/// One message schedule step on the ring `$w` (an `[V; 16]`) for round `$t` ≥ 16.
macro_rules! lane_schedule {
    ($w:ident, $t:expr) => {{
        $w[$t & 15] = add(
            add(ssig1($w[($t - 2) & 15]), $w[($t - 7) & 15]),
            add(ssig0($w[($t - 15) & 15]), $w[$t & 15]),
        );
    }};
}

/// Defines `fn sha256d_h7(p: &Precomputed, w3: V) -> V` for a lane type `V`: the last
/// big-endian word (H7) of the SHA256d of the job's header for each lane's nonce word `w3`
/// (the nonce byte-swapped). Uses the midstate, skips the three nonce-free rounds, reuses the
/// precomputed schedule words and stops the second hash after round 60, where H7 is known.
///
/// Needs in scope: `type V`, `splat(u32) -> V`, `add`, `bsig0`, `bsig1`, `ssig0`, `ssig1`,
/// `ch`, `maj`, all with the attributes passed to the macro (e.g. a `target_feature`).
macro_rules! sha256d_lanes {
    ($(#[$attr:meta])*) => {
        $(#[$attr])*
        fn sha256d_h7(p: &$crate::sha256::Precomputed, w3: V) -> V {
            use $crate::sha256::{DIGEST_BITS, HEADER_BITS, IV, K, PAD};
            // First hash, second block. Round 3 is the first to see the nonce.
            let t1 = add(w3, splat(p.t1_base));
            let mut s: [V; 8] = [
                add(t1, splat(p.t2)),
                splat(p.s3[0]),
                splat(p.s3[1]),
                splat(p.s3[2]),
                add(t1, splat(p.s3[3])),
                splat(p.s3[4]),
                splat(p.s3[5]),
                splat(p.s3[6]),
            ];
            // Rounds 4..16 have constant message words: padding, zeros, the length.
            lane_round!(s, splat(K[4].wrapping_add(PAD)));
            unroll!(I in [5 6 7 8 9 10 11 12 13 14] {
                lane_round!(s, splat(K[I]));
            });
            lane_round!(s, splat(K[15].wrapping_add(HEADER_BITS)));
            let zero = splat(0);
            let mut w: [V; 16] = [
                splat(p.w16),
                splat(p.w17),
                add(splat(p.w18_base), ssig0(w3)),
                add(splat(p.w19_base), w3),
                splat(PAD),
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                splat(HEADER_BITS),
            ];
            // w[4..16] still hold W4..W15; rounds 16..19 use the precomputed words. Slots 0..4
            // hold W16..W19; the ring needs W(t-16) in slot t & 15 = W0..W3 only for
            // t = 16..19, which are precomputed, so the generic schedule is correct from 20 on.
            // The schedule runs four words ahead of the rounds (W(t+4) is computed before round
            // t; the ring still holds every word it needs, since W(t+4) replaces W(t-12)): the
            // schedule's work, which no round waits for, then sits next to the rounds' latency
            // chain in the out-of-order window (about 2 % faster on AVX-512, Zen 4).
            unroll!(I in [16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37
                38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59] {
                lane_schedule!(w, I + 4);
                lane_round!(s, add(w[I & 15], splat(K[I])));
            });
            unroll!(I in [60 61 62 63] {
                lane_round!(s, add(w[I & 15], splat(K[I])));
            });
            // Second hash: the first digest, padding, the length.
            let mut w: [V; 16] = [
                add(s[0], splat(p.midstate[0])),
                add(s[1], splat(p.midstate[1])),
                add(s[2], splat(p.midstate[2])),
                add(s[3], splat(p.midstate[3])),
                add(s[4], splat(p.midstate[4])),
                add(s[5], splat(p.midstate[5])),
                add(s[6], splat(p.midstate[6])),
                add(s[7], splat(p.midstate[7])),
                splat(PAD),
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                splat(DIGEST_BITS),
            ];
            let mut s: [V; 8] = [
                splat(IV[0]),
                splat(IV[1]),
                splat(IV[2]),
                splat(IV[3]),
                splat(IV[4]),
                splat(IV[5]),
                splat(IV[6]),
                splat(IV[7]),
            ];
            unroll!(I in [0 1 2 3 4 5 6 7] {
                lane_round!(s, add(w[I], splat(K[I])));
            });
            lane_round!(s, splat(K[8].wrapping_add(PAD)));
            unroll!(I in [9 10 11] {
                lane_round!(s, splat(K[I]));
            });
            // The schedule four words ahead again, from W16 (before round 12) on.
            unroll!(I in [12 13 14] {
                lane_schedule!(w, I + 4);
                lane_round!(s, splat(K[I]));
            });
            lane_schedule!(w, 19);
            lane_round!(s, splat(K[15].wrapping_add(DIGEST_BITS)));
            unroll!(I in [16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37
                38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56] {
                lane_schedule!(w, I + 4);
                lane_round!(s, add(w[I & 15], splat(K[I])));
            });
            // H7 = IV7 + h after round 63 = IV7 + e after round 60: stop there.
            unroll!(I in [57 58 59 60] {
                lane_round!(s, add(w[I & 15], splat(K[I])));
            });
            add(s[4], splat(IV[7]))
        }
    };
}

/// Drives a lane kernel over a nonce range (a macro, so that the kernel call stays inside the
/// caller's `target_feature` function): `$kernel` evaluated with `$base` bound to the first
/// nonce hashes `$lanes` consecutive nonces and yields a bit mask of those passing the top-word
/// check; the passing nonces are pushed onto `$out`.
macro_rules! drive {
    ($start:expr, $count:expr, $lanes:expr, $out:expr, |$base:ident| $kernel:expr) => {{
        let start: u32 = $start;
        let count: u32 = $count;
        let lanes: u32 = $lanes;
        let mut done: u32 = 0;
        while done < count {
            let $base = start.wrapping_add(done);
            let mut mask: u32 = $kernel;
            let left = count - done;
            if left < lanes {
                mask &= (1u32 << left) - 1;
            }
            while mask != 0 {
                let lane = mask.trailing_zeros();
                $out.push($base.wrapping_add(lane));
                mask &= mask - 1;
            }
            done = done.saturating_add(lanes.min(left));
        }
    }};
}

pub(crate) mod portable;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
#[cfg(target_arch = "x86_64")]
pub(crate) mod shani;

/// A SHA256d implementation the CPU hasher can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// x86 SHA extensions (`sha256rnds2`), several nonces interleaved to hide latency.
    ShaNi,
    /// AVX-512F: 16 nonces at once, one per 32-bit lane of a `__m512i`.
    Avx512,
    /// AVX2: 8 nonces at once, one per 32-bit lane of a `__m256i`.
    Avx2,
    /// Scalar Rust, on every target.
    Portable,
}

impl Backend {
    /// Every backend, in the order [`best_backend`] prefers them.
    pub const ALL: [Backend; 4] = [
        Backend::Avx512,
        Backend::ShaNi,
        Backend::Avx2,
        Backend::Portable,
    ];

    /// A short lower-case name (`sha-ni`, `avx512`, `avx2`, `portable`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::ShaNi => "sha-ni",
            Backend::Avx512 => "avx512",
            Backend::Avx2 => "avx2",
            Backend::Portable => "portable",
        }
    }

    /// Nonces hashed together by one call of the backend's kernel.
    pub fn lanes(self) -> u32 {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::ShaNi => shani::WAYS as u32,
            #[cfg(not(target_arch = "x86_64"))]
            Backend::ShaNi => 8,
            Backend::Avx512 => 16,
            Backend::Avx2 => 8,
            Backend::Portable => 1,
        }
    }

    /// Whether this CPU runs the backend (checked at run time).
    pub fn is_available(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::ShaNi => shani::detected(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => avx512::detected(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::detected(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Hashes nonces `start, start + 1, …` (`count` of them, wrapping past `u32::MAX`) and
    /// appends to `out` each nonce whose hash passes the top-word check against
    /// `p.target_hi`. Returns `Err(UnavailableBackend)` if the CPU lacks the backend's features.
    pub(crate) fn prefilter(
        self,
        p: &Precomputed,
        start: u32,
        count: u32,
        out: &mut Vec<u32>,
    ) -> Result<(), UnavailableBackend> {
        match self {
            Backend::Portable => {
                portable::scan(p, start, count, out);
                Ok(())
            }
            #[cfg(target_arch = "x86_64")]
            Backend::ShaNi => shani::scan(p, start, count, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => avx512::scan(p, start, count, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::scan(p, start, count, out),
            #[cfg(not(target_arch = "x86_64"))]
            _ => Err(UnavailableBackend(self)),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of asking for a backend whose CPU features this machine lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnavailableBackend(pub Backend);

impl fmt::Display for UnavailableBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} backend is not available on this CPU", self.0)
    }
}

impl std::error::Error for UnavailableBackend {}

/// The backends this CPU runs, best first; always ends with [`Backend::Portable`].
pub fn available_backends() -> Vec<Backend> {
    Backend::ALL
        .into_iter()
        .filter(|b| b.is_available())
        .collect()
}

/// The fastest backend this CPU runs.
pub fn best_backend() -> Backend {
    Backend::ALL
        .into_iter()
        .find(|b| b.is_available())
        .unwrap_or(Backend::Portable)
}

/// Whether the byte-swapped H7 (the hash's most significant 32 bits) is at most `target_hi`.
#[inline(always)]
pub(crate) fn top_word_passes(h7: u32, target_hi: u32) -> bool {
    h7.swap_bytes() <= target_hi
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sha256::reference_sha256d;

    /// The hash's most significant 32 bits by the reference SHA256d.
    fn reference_top(header: &[u8; 80], nonce: u32) -> u32 {
        let h = reference_sha256d(header, nonce);
        u32::from_le_bytes([h[28], h[29], h[30], h[31]])
    }

    /// Whether `backend` passes `nonce` alone against `target_hi`.
    fn passes(backend: Backend, header: &[u8; 80], nonce: u32, target_hi: u32) -> bool {
        let p = Precomputed::new(header, target_hi);
        let mut out = Vec::new();
        assert_eq!(backend.prefilter(&p, nonce, 1, &mut out), Ok(()));
        out == [nonce]
    }

    #[test]
    fn portable_is_always_available_and_last() {
        let all = available_backends();
        assert_eq!(all.last(), Some(&Backend::Portable));
        assert!(all.contains(&best_backend()));
        assert_eq!(all.first(), Some(&best_backend()));
    }

    #[test]
    fn drive_handles_tails_and_wrapping() {
        // Target top word MAX: every nonce passes, so the output lists the range exactly.
        let p = Precomputed::new(&[7u8; 80], u32::MAX);
        for backend in available_backends() {
            for (start, count) in [(0u32, 0u32), (5, 1), (u32::MAX - 20, 37), (1000, 100)] {
                let mut out = Vec::new();
                assert_eq!(backend.prefilter(&p, start, count, &mut out), Ok(()));
                let expected: Vec<u32> = (0..count).map(|i| start.wrapping_add(i)).collect();
                assert_eq!(out, expected, "{backend} {start} {count}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Every backend's top word equals the reference SHA256d's, exactly: the nonce passes
        /// against that word and fails against one less.
        #[test]
        fn every_backend_computes_the_reference_top_word(
            header in proptest::array::uniform32(any::<u8>()).prop_flat_map(|a| {
                (Just(a), proptest::array::uniform32(any::<u8>()), proptest::array::uniform16(any::<u8>()))
            }),
            nonce in any::<u32>(),
        ) {
            let (a, b, c) = header;
            let mut h = [0u8; 80];
            h[..32].copy_from_slice(&a);
            h[32..64].copy_from_slice(&b);
            h[64..80].copy_from_slice(&c);
            let top = reference_top(&h, nonce);
            for backend in available_backends() {
                prop_assert!(passes(backend, &h, nonce, top), "{} misses", backend);
                if top > 0 {
                    prop_assert!(!passes(backend, &h, nonce, top - 1), "{} too low", backend);
                }
            }
        }
    }
}
