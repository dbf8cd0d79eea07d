//! Bitcoin header math as Stratum v1 devices do it: hex fields, the word-swapped prevhash, the
//! coinbase cut around the extranonce, merkle branch folding, version rolling, and share
//! difficulty (`0xFFFF·2²⁰⁸ / hash`, the hash read as a little-endian 256-bit number).

use bitcoin::block::{Header, Version};
use bitcoin::hashes::{sha256d, Hash, HashEngine};
use bitcoin::{BlockHash, CompactTarget, Target, TxMerkleNode, Txid};

/// 2¹⁰⁴ as a float (exact).
const TWO_POW_104: f64 = (1u128 << 104) as f64;
/// The difficulty-1 target, `0xFFFF · 2²⁰⁸`, as a float (exact).
pub const DIFF1: f64 = 65535.0 * TWO_POW_104 * TWO_POW_104;
/// 2²⁵⁶ as a float: targets at or above it are "every hash".
const TWO_POW_256: f64 = TWO_POW_104 * TWO_POW_104 * 281_474_976_710_656.0 /* 2^48 */;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends the lower-case hex of `bytes` to `out`.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The bytes of an even-length hex string (either case); `None` for anything else.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|p| Some((nibble(p[0])? << 4) | nibble(p[1])?))
        .collect()
}

/// A 32-bit value from 1 to 8 hex digits, big-endian as Stratum sends it; unpadded values
/// (`"1a2b"`) are accepted, as NerdMiner sends nonces that way.
pub fn parse_hex_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    s.bytes()
        .try_fold(0u32, |acc, c| Some((acc << 4) | u32::from(nibble(c)?)))
}

/// The 8-hex-digit big-endian form of a 32-bit field (version, nbits, ntime, nonce).
pub fn hex_u32(v: u32) -> String {
    format!("{v:08x}")
}

/// The notify prevhash: the internal-byte-order hash with each 4-byte word byte-swapped
/// (equivalently, the display hash cut in 8 words with the word order reversed).
pub fn notify_prevhash(hash: &BlockHash) -> String {
    let mut b = hash.to_byte_array();
    for w in b.chunks_exact_mut(4) {
        w.reverse();
    }
    hex(&b)
}

/// The block hash of a notify prevhash (the inverse of [`notify_prevhash`]).
pub fn prevhash_from_notify(s: &str) -> Option<BlockHash> {
    let mut b: [u8; 32] = from_hex(s)?.try_into().ok()?;
    for w in b.chunks_exact_mut(4) {
        w.reverse();
    }
    Some(BlockHash::from_byte_array(b))
}

/// `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2`: the non-witness coinbase.
pub fn coinbase_bytes(coinb1: &[u8], en1: &[u8], en2: &[u8], coinb2: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(coinb1.len() + en1.len() + en2.len() + coinb2.len());
    v.extend_from_slice(coinb1);
    v.extend_from_slice(en1);
    v.extend_from_slice(en2);
    v.extend_from_slice(coinb2);
    v
}

/// The txid (sha256d) of non-witness coinbase bytes.
pub fn coinbase_txid(coinbase: &[u8]) -> Txid {
    Txid::hash(coinbase)
}

/// The SHA-256 state after `coinb1 ‖ extranonce1`, kept per job and connection so a share
/// check hashes only `extranonce2 ‖ coinb2`.
#[derive(Clone)]
pub struct CoinbasePrefix(<sha256d::Hash as Hash>::Engine);

impl CoinbasePrefix {
    /// The state after `coinb1 ‖ en1`.
    pub fn new(coinb1: &[u8], en1: &[u8]) -> CoinbasePrefix {
        let mut e = sha256d::Hash::engine();
        e.input(coinb1);
        e.input(en1);
        CoinbasePrefix(e)
    }

    /// The coinbase txid with `en2 ‖ coinb2` appended.
    pub fn txid(&self, en2: &[u8], coinb2: &[u8]) -> Txid {
        let mut e = self.0.clone();
        e.input(en2);
        e.input(coinb2);
        Txid::from_engine(e)
    }
}

impl std::fmt::Debug for CoinbasePrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CoinbasePrefix")
    }
}

/// The merkle root of the block whose coinbase has `txid`: the branch folded as
/// `sha256d(acc ‖ node)`, all in internal byte order.
pub fn fold_branch(txid: Txid, branch: &[TxMerkleNode]) -> TxMerkleNode {
    let mut acc = txid.to_byte_array();
    let mut buf = [0u8; 64];
    for node in branch {
        buf[..32].copy_from_slice(&acc);
        buf[32..].copy_from_slice(node.as_byte_array());
        acc = sha256d::Hash::hash(&buf).to_byte_array();
    }
    TxMerkleNode::from_byte_array(acc)
}

/// The header version of a share: the job's version outside `mask`, the device's bits inside.
/// With the mask bits clear in the job version this equals `job ^ bits` (BIP 310).
pub fn rolled_version(job_version: u32, bits: u32, mask: u32) -> u32 {
    (job_version & !mask) | (bits & mask)
}

/// A header from Stratum's fields (all as numbers; the encoding makes them little-endian).
pub fn header(
    prev: BlockHash,
    merkle_root: TxMerkleNode,
    version: u32,
    bits: u32,
    time: u32,
    nonce: u32,
) -> Header {
    Header {
        // The version field is a signed int on the wire; the bit pattern is what matters.
        version: Version::from_consensus(i32::from_ne_bytes(version.to_ne_bytes())),
        prev_blockhash: prev,
        merkle_root,
        time,
        bits: CompactTarget::from_consensus(bits),
        nonce,
    }
}

/// A 256-bit little-endian number as a float (rounded).
fn le256_to_f64(b: &[u8; 32]) -> f64 {
    let mut v = 0.0f64;
    for chunk in b.chunks_exact(8).rev() {
        let mut limb = [0u8; 8];
        limb.copy_from_slice(chunk);
        v = v * 18_446_744_073_709_551_616.0 /* 2^64 */ + u64::from_le_bytes(limb) as f64;
    }
    v
}

/// A non-negative float below 2²⁵⁶ as a 256-bit little-endian number (truncated).
fn f64_to_le256(x: f64) -> [u8; 32] {
    let mut out = [0u8; 32];
    if x.is_nan() || x < 1.0 {
        return out;
    }
    if x >= TWO_POW_256 {
        return [0xff; 32];
    }
    let bits = x.to_bits();
    let exp = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0) - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let mut limbs = [0u64; 4];
    if exp >= 0 {
        let shift = usize::try_from(exp).unwrap_or(0);
        let (word, bit) = (shift / 64, shift % 64);
        if let Some(l) = limbs.get_mut(word) {
            *l |= mant << bit;
        }
        if bit > 0 {
            if let Some(l) = limbs.get_mut(word + 1) {
                *l |= mant >> (64 - bit);
            }
        }
    } else {
        let shift = u32::try_from(-exp).unwrap_or(64);
        limbs[0] = mant.checked_shr(shift).unwrap_or(0);
    }
    for (i, l) in limbs.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&l.to_le_bytes());
    }
    out
}

/// The difficulty of a header hash: `0xFFFF·2²⁰⁸ / hash`, the hash read as a little-endian
/// number (a zero hash gives `f64::MAX`).
pub fn hash_difficulty(hash: &BlockHash) -> f64 {
    let h = le256_to_f64(hash.as_byte_array());
    if h <= 0.0 {
        f64::MAX
    } else {
        DIFF1 / h
    }
}

/// The target of a share difficulty: `0xFFFF·2²⁰⁸ / difficulty`, saturating at `2²⁵⁶ − 1`
/// (every hash) for tiny difficulties; difficulties that are not positive numbers give that
/// too.
pub fn difficulty_to_target(difficulty: f64) -> Target {
    if difficulty.is_nan() || difficulty <= 0.0 || !difficulty.is_finite() {
        return Target::from_le_bytes([0xff; 32]);
    }
    Target::from_le_bytes(f64_to_le256(DIFF1 / difficulty))
}

/// The difficulty of a target: `0xFFFF·2²⁰⁸ / target` (a zero target gives `f64::MAX`).
pub fn target_to_difficulty(target: Target) -> f64 {
    let t = le256_to_f64(&target.to_le_bytes());
    if t <= 0.0 {
        f64::MAX
    } else {
        DIFF1 / t
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bitcoin::consensus::serialize;
    use proptest::prelude::*;

    fn node(h: &str) -> TxMerkleNode {
        TxMerkleNode::from_byte_array(from_hex(h).unwrap().try_into().unwrap())
    }

    /// Vector A: public-pool's recorded Bitaxe job and share (MockRecording1 + the notify its
    /// StratumV1Client test expects), version bits 0x2000 rolled in.
    #[test]
    fn vector_a_public_pool_bitaxe_share() {
        let prev = prevhash_from_notify(
            "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000",
        )
        .unwrap();
        assert_eq!(
            prev.to_string(),
            "00000000000000022246451e9af7ac4f8bff2527d223f6e623740e92171592f2"
        );
        let coinb1 = from_hex("02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1903c943255c7075626c69632d706f6f6c5c").unwrap();
        let coinb2 = from_hex("ffffffff037a90000000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc3b0f250000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc0000000000000000266a24aa21a9edbd3d1d916aa0b57326a2d88ebe1b68a1d7c48585f26d8335fe6a94b62755f64c00000000").unwrap();
        let branch = [
            node("175335649d5e8746982969ec88f52e85ac9917106fba5468e699c8879ab974a1"),
            node("d5644ab3e708c54cd68dc5aedc92b8d3037449687f92ec41ed6e37673d969d4a"),
            node("5c9ec187517edc0698556cca5ce27e54c96acb014770599ed9df4d4937fbf2b0"),
        ];
        let en1 = from_hex("57a6f098").unwrap();
        let en2 = from_hex("c7080000").unwrap();
        let txid = coinbase_txid(&coinbase_bytes(&coinb1, &en1, &en2, &coinb2));
        assert_eq!(CoinbasePrefix::new(&coinb1, &en1).txid(&en2, &coinb2), txid);
        let root = fold_branch(txid, &branch);
        let version = rolled_version(0x2000_0000, parse_hex_u32("00002000").unwrap(), 0x1fff_e000);
        assert_eq!(version, 0x2000_2000);
        let h = header(
            prev,
            root,
            version,
            parse_hex_u32("192495f8").unwrap(),
            parse_hex_u32("64b3f3ec").unwrap(),
            parse_hex_u32("ed460d91").unwrap(),
        );
        let hash = h.block_hash().to_string();
        assert!(hash.starts_with("000000000061d529"), "{hash}");
        assert!(hash.ends_with("3e4e"), "{hash}");
        let d = hash_difficulty(&h.block_hash());
        assert!((d - 669.87).abs() < 0.01, "{d}");
    }

    /// Vector B: ESP-Miner's "Test nonce diff checking 2" (13-node branch, difficulty 683.x).
    #[test]
    fn vector_b_esp_miner_nonce_diff_2() {
        let coinb1 = from_hex("01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4b0389130cfabe6d6d5cbab26a2599e92916edec5657a94a0708ddb970f5c45b5d12905085617eff8e").unwrap();
        let coinb2 = from_hex("31650707758de07b010000000000001cfd7038212f736c7573682f000000000379ad0c2a000000001976a9147c154ed1dc59609e3d26abb2df2ea3d587cd8c4188ac00000000000000002c6a4c2952534b424c4f434b3ae725d3994b811572c1f345deb98b56b465ef8e153ecbbd27fa37bf1b005161380000000000000000266a24aa21a9ed63b06a7946b190a3fda1d76165b25c9b883bcc6621b040773050ee2a1bb18f1800000000").unwrap();
        let branch: Vec<TxMerkleNode> = [
            "2b77d9e413e8121cd7a17ff46029591051d0922bd90b2b2a38811af1cb57a2b2",
            "5c8874cef00f3a233939516950e160949ef327891c9090467cead995441d22c5",
            "2d91ff8e19ac5fa69a40081f26c5852d366d608b04d2efe0d5b65d111d0d8074",
            "0ae96f609ad2264112a0b2dfb65624bedbcea3b036a59c0173394bba3a74e887",
            "e62172e63973d69574a82828aeb5711fc5ff97946db10fc7ec32830b24df7bde",
            "adb49456453aab49549a9eb46bb26787fb538e0a5f656992275194c04651ec97",
            "a7bc56d04d2672a8683892d6c8d376c73d250a4871fdf6f57019bcc737d6d2c2",
            "d94eceb8182b4f418cd071e93ec2a8993a0898d4c93bc33d9302f60dbbd0ed10",
            "5ad7788b8c66f8f50d332b88a80077ce10e54281ca472b4ed9bbbbcb6cf99083",
            "9f9d784b33df1b3ed3edb4211afc0dc1909af9758c6f8267e469f5148ed04809",
            "48fd17affa76b23e6fb2257df30374da839d6cb264656a82e34b350722b05123",
            "c4f5ab01913fc186d550c1a28f3f3e9ffaca2016b961a6a751f8cca0089df924",
            "cff737e1d00176dd6bbfa73071adbb370f227cfb5fba186562e4060fcec877e1",
        ]
        .iter()
        .map(|h| node(h))
        .collect();
        let en1 = from_hex("01000000").unwrap();
        let en2 = from_hex("00000000").unwrap();
        let txid = CoinbasePrefix::new(&coinb1, &en1).txid(&en2, &coinb2);
        let root = fold_branch(txid, &branch);
        assert_eq!(
            hex(root.as_byte_array()),
            "5bdc1968499c3393873edf8e07a1c3a50a97fc3a9d1a376bbf77087dd63778eb"
        );
        let prev = prevhash_from_notify(
            "0c859545a3498373a57452fac22eb7113df2a465000543520000000000000000",
        )
        .unwrap();
        let h = header(
            prev,
            root,
            0x2000_0004,
            0x1705_ae3a,
            0x6470_25b5,
            0x0a02_9ed1,
        );
        let d = hash_difficulty(&h.block_hash());
        assert!((683.0..684.0).contains(&d), "{d}");
    }

    /// Vector C: the genesis block cut into Stratum fields (the extranonces are 8 bytes of its
    /// coinbase text) gives its known hash; its hash as a prevhash word-swaps as devices expect.
    #[test]
    fn vector_c_genesis_block_in_stratum_fields() {
        let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Bitcoin);
        let cb = serialize(&genesis.txdata[0]);
        let at = cb.windows(9).position(|w| w == b"The Times").unwrap();
        let (coinb1, en1, en2, coinb2) = (
            &cb[..at],
            &cb[at..at + 4],
            &cb[at + 4..at + 8],
            &cb[at + 8..],
        );
        let txid = CoinbasePrefix::new(coinb1, en1).txid(en2, coinb2);
        let root = fold_branch(txid, &[]);
        assert_eq!(root, genesis.header.merkle_root);
        let prev = prevhash_from_notify(&"0".repeat(64)).unwrap();
        let h = header(prev, root, 1, 0x1d00_ffff, 1_231_006_505, 2_083_236_893);
        assert_eq!(
            h.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert!(hash_difficulty(&h.block_hash()) >= 1.0);
        assert_eq!(
            notify_prevhash(&h.block_hash()),
            "0a8ce26f72b3f1b646a2a6c14ff763ae65831e939c085ae10019d66800000000"
        );
        assert_eq!(
            prevhash_from_notify(&notify_prevhash(&h.block_hash())),
            Some(h.block_hash())
        );
    }

    #[test]
    fn hex_fields_parse_unpadded_and_reject_junk() {
        assert_eq!(parse_hex_u32("1a2b"), Some(0x1a2b));
        assert_eq!(parse_hex_u32("FFFFFFFF"), Some(u32::MAX));
        assert_eq!(parse_hex_u32(""), None);
        assert_eq!(parse_hex_u32("123456789"), None);
        assert_eq!(parse_hex_u32("12g4"), None);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("00Ff"), Some(vec![0, 255]));
        assert_eq!(hex_u32(0x1d00ffff), "1d00ffff");
    }

    #[test]
    fn difficulty_one_is_bitcoins_max_target_and_tiny_difficulties_saturate() {
        assert_eq!(difficulty_to_target(1.0), Target::MAX);
        assert_eq!(target_to_difficulty(Target::MAX), 1.0);
        assert_eq!(
            difficulty_to_target(1e-12),
            Target::from_le_bytes([0xff; 32])
        );
        assert_eq!(difficulty_to_target(0.0), Target::from_le_bytes([0xff; 32]));
        assert_eq!(
            difficulty_to_target(f64::NAN),
            Target::from_le_bytes([0xff; 32])
        );
        // Difficulty 2^-32 is (almost) every hash.
        let t = difficulty_to_target(1.0 / 4_294_967_296.0);
        assert_eq!(t.to_be_bytes()[..2], [0xff, 0xff]);
    }

    proptest! {
        #[test]
        fn difficulty_target_round_trips(exp in -9.0f64..15.0, m in 1.0f64..10.0) {
            let d = m * 10f64.powf(exp);
            let back = target_to_difficulty(difficulty_to_target(d));
            prop_assert!((back - d).abs() / d < 1e-9, "{} -> {}", d, back);
        }

        #[test]
        fn a_hash_meets_the_target_of_its_own_difficulty(bytes in any::<[u8; 32]>()) {
            let hash = BlockHash::from_byte_array(bytes);
            let d = hash_difficulty(&hash);
            prop_assume!(d < 1e30);
            // Slightly below its own difficulty: met; well above: not met.
            prop_assert!(difficulty_to_target(d * (1.0 - 1e-9)).is_met_by(hash));
            prop_assert!(!difficulty_to_target(d * (1.0 + 1e-6)).is_met_by(hash));
        }

        #[test]
        fn prevhash_round_trips(bytes in any::<[u8; 32]>()) {
            let h = BlockHash::from_byte_array(bytes);
            prop_assert_eq!(prevhash_from_notify(&notify_prevhash(&h)), Some(h));
        }
    }
}
