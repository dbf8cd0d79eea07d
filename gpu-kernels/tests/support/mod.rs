//! Fixtures shared by the integration tests: two real Bitcoin headers with their nonces and
//! hashes.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test fixtures: a malformed constant is a failed test

use p2share_gpu_kernels::NONCE_OFFSET;

/// Bytes of a hash or root given in the usual (reversed, big-endian) hex display.
pub fn internal(display_hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&display_hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out.reverse();
    out
}

/// An 80-byte header from its published fields.
pub fn header(
    version: u32,
    prev: &str,
    merkle: &str,
    time: u32,
    bits: u32,
    nonce: u32,
) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0..4].copy_from_slice(&version.to_le_bytes());
    h[4..36].copy_from_slice(&internal(prev));
    h[36..68].copy_from_slice(&internal(merkle));
    h[68..72].copy_from_slice(&time.to_le_bytes());
    h[72..76].copy_from_slice(&bits.to_le_bytes());
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// A mined block: its header, compact target, nonce and hash (display hex).
pub struct Known {
    pub header: [u8; 80],
    pub bits: u32,
    pub nonce: u32,
    pub hash: &'static str,
}

/// Bitcoin's genesis block.
pub fn genesis() -> Known {
    Known {
        header: header(
            1,
            "0000000000000000000000000000000000000000000000000000000000000000",
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
            1_231_006_505,
            0x1d00_ffff,
            2_083_236_893,
        ),
        bits: 0x1d00_ffff,
        nonce: 2_083_236_893,
        hash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    }
}

/// Block 125552, the Bitcoin wiki's hashing example.
pub fn block_125552() -> Known {
    Known {
        header: header(
            1,
            "00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81",
            "2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3",
            1_305_998_791,
            0x1a44_b9f2,
            2_504_433_986,
        ),
        bits: 0x1a44_b9f2,
        nonce: 2_504_433_986,
        hash: "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
    }
}

/// The header with its nonce field overwritten, as a template would have it.
pub fn template(k: &Known) -> [u8; 80] {
    let mut h = k.header;
    h[NONCE_OFFSET..].copy_from_slice(&0xdead_beef_u32.to_le_bytes());
    h
}
