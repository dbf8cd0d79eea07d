//! Scalar SHA-256 pieces shared by every backend: constants, the compression function, the
//! per-job precomputation (midstate and nonce-independent rounds) and the reference SHA256d.

use sha2::{Digest, Sha256};

/// The SHA-256 round constants.
pub(crate) const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The SHA-256 initial state.
pub(crate) const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Padding word that follows the 80 header bytes (and the 32 bytes of the first digest).
pub(crate) const PAD: u32 = 0x8000_0000;
/// Bit length of an 80-byte header, the last word of its second block.
pub(crate) const HEADER_BITS: u32 = 640;
/// Bit length of a 32-byte digest, the last word of the second hash's only block.
pub(crate) const DIGEST_BITS: u32 = 256;

#[inline(always)]
pub(crate) fn bsig0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}
#[inline(always)]
pub(crate) fn bsig1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}
#[inline(always)]
pub(crate) fn ssig0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}
#[inline(always)]
pub(crate) fn ssig1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}
#[inline(always)]
pub(crate) fn ch(e: u32, f: u32, g: u32) -> u32 {
    (e & f) ^ (!e & g)
}
#[inline(always)]
pub(crate) fn maj(a: u32, b: u32, c: u32) -> u32 {
    (a & b) ^ (a & c) ^ (b & c)
}

/// One SHA-256 round on `s` with the message word `w` of round `i`.
#[inline(always)]
pub(crate) fn round(s: &mut [u32; 8], i: usize, w: u32) {
    let t1 = s[7]
        .wrapping_add(bsig1(s[4]))
        .wrapping_add(ch(s[4], s[5], s[6]))
        .wrapping_add(K[i])
        .wrapping_add(w);
    let t2 = bsig0(s[0]).wrapping_add(maj(s[0], s[1], s[2]));
    *s = [
        t1.wrapping_add(t2),
        s[0],
        s[1],
        s[2],
        s[3].wrapping_add(t1),
        s[4],
        s[5],
        s[6],
    ];
}

/// Expands 16 message words into the 64-word schedule.
pub(crate) fn schedule(block: &[u32; 16]) -> [u32; 64] {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(block);
    for t in 16..64 {
        w[t] = ssig1(w[t - 2])
            .wrapping_add(w[t - 7])
            .wrapping_add(ssig0(w[t - 15]))
            .wrapping_add(w[t - 16]);
    }
    w
}

/// The SHA-256 compression function on one block given as 16 big-endian words.
pub(crate) fn compress(state: &mut [u32; 8], block: &[u32; 16]) {
    let w = schedule(block);
    let mut s = *state;
    for (i, wi) in w.iter().enumerate() {
        round(&mut s, i, *wi);
    }
    for (h, x) in state.iter_mut().zip(s) {
        *h = h.wrapping_add(x);
    }
}

/// Reads 16 big-endian words from 64 bytes.
pub(crate) fn words(bytes: &[u8; 64]) -> [u32; 16] {
    let mut w = [0u32; 16];
    for (i, chunk) in bytes.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    w
}

/// Everything about a job that does not depend on the nonce, computed once per job.
///
/// `second` is the header's second 64-byte block (bytes 64..80 and the padding) as words, with
/// the nonce word (index 3) set to zero; the backends put their nonces there. The nonce is
/// little-endian in the header, so the message word of nonce `n` is `n.swap_bytes()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Precomputed {
    /// State after compressing the first 64 header bytes.
    pub midstate: [u32; 8],
    /// Message words of the second block (nonce word zero).
    pub second: [u32; 16],
    /// State after rounds 0, 1 and 2 of the second block (they use no nonce bits).
    pub s3: [u32; 8],
    /// Round 3's T1 without its message word: `h + Σ1(e) + Ch(e,f,g) + K[3]` of `s3`.
    pub t1_base: u32,
    /// Round 3's T2: `Σ0(a) + Maj(a,b,c)` of `s3`.
    pub t2: u32,
    /// Schedule words 16 and 17 (nonce-free).
    pub w16: u32,
    /// See `w16`.
    pub w17: u32,
    /// Schedule word 18 minus `σ0(W3)`.
    pub w18_base: u32,
    /// Schedule word 19 minus `W3`.
    pub w19_base: u32,
    /// The target's most significant 32 bits (the hash's last four bytes, little-endian).
    pub target_hi: u32,
}

impl Precomputed {
    /// Precomputes `header` (its nonce field is ignored) for a target whose top word is
    /// `target_hi`.
    pub(crate) fn new(header: &[u8; 80], target_hi: u32) -> Self {
        let mut first = [0u8; 64];
        first.copy_from_slice(&header[..64]);
        let mut midstate = IV;
        compress(&mut midstate, &words(&first));
        let mut second = [0u32; 16];
        for (i, chunk) in header[64..76].chunks_exact(4).enumerate() {
            second[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        second[4] = PAD;
        second[15] = HEADER_BITS;
        let mut s3 = midstate;
        for (i, w) in second.iter().take(3).enumerate() {
            round(&mut s3, i, *w);
        }
        let t1_base = s3[7]
            .wrapping_add(bsig1(s3[4]))
            .wrapping_add(ch(s3[4], s3[5], s3[6]))
            .wrapping_add(K[3]);
        let t2 = bsig0(s3[0]).wrapping_add(maj(s3[0], s3[1], s3[2]));
        let w = &second;
        let w16 = ssig1(w[14])
            .wrapping_add(w[9])
            .wrapping_add(ssig0(w[1]))
            .wrapping_add(w[0]);
        let w17 = ssig1(w[15])
            .wrapping_add(w[10])
            .wrapping_add(ssig0(w[2]))
            .wrapping_add(w[1]);
        let w18_base = ssig1(w16).wrapping_add(w[11]).wrapping_add(w[2]);
        let w19_base = ssig1(w17).wrapping_add(w[12]).wrapping_add(ssig0(w[4]));
        Self {
            midstate,
            second,
            s3,
            t1_base,
            t2,
            w16,
            w17,
            w18_base,
            w19_base,
            target_hi,
        }
    }

    /// The full SHA256d state words (big-endian digest words) for `nonce`, computed with the
    /// scalar code from the midstate. Used by the portable backend's tests and the SHA-NI tail.
    #[cfg(test)]
    pub(crate) fn sha256d_words(&self, nonce: u32) -> [u32; 8] {
        let mut block = self.second;
        block[3] = nonce.swap_bytes();
        let mut h = self.midstate;
        compress(&mut h, &block);
        let mut second = [0u32; 16];
        second[..8].copy_from_slice(&h);
        second[8] = PAD;
        second[15] = DIGEST_BITS;
        let mut out = IV;
        compress(&mut out, &second);
        out
    }
}

/// The reference SHA256d (the `sha2` crate, digest twice) of an 80-byte header with `nonce`
/// written into its nonce field; the result is in Bitcoin's internal byte order (the 256-bit
/// number is little-endian).
pub fn reference_sha256d(header: &[u8; 80], nonce: u32) -> [u8; 32] {
    let mut h = *header;
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    let first = Sha256::digest(h);
    Sha256::digest(first).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_matches_sha2() {
        // "abc" padded into one block.
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[63] = 24;
        let mut s = IV;
        compress(&mut s, &words(&block));
        let expected: [u8; 32] = Sha256::digest(b"abc").into();
        let mut got = [0u8; 32];
        for (i, w) in s.iter().enumerate() {
            got[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn precomputed_words_match_reference() {
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let p = Precomputed::new(&header, 0);
        for nonce in [0u32, 1, 0xdead_beef, u32::MAX] {
            let w = p.sha256d_words(nonce);
            let mut got = [0u8; 32];
            for (i, x) in w.iter().enumerate() {
                got[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
            }
            assert_eq!(got, reference_sha256d(&header, nonce));
        }
    }
}
