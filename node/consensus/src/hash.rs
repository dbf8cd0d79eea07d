//! Share identifiers and the protocol's tagged hashes.

use bitcoin::hashes::{sha256d, sha256t_hash_newtype, Hash, HashEngine};

bitcoin::hashes::hash_newtype! {
    /// A share's id: the double-SHA256 of its 80-byte Bitcoin header, i.e. the Bitcoin block hash
    /// of its work. Displayed byte-reversed, like Bitcoin block hashes.
    #[hash_newtype(backward)]
    pub struct ShareHash(sha256d::Hash);
}

sha256t_hash_newtype! {
    /// Tag of the payout selector hash: BIP-340 tagged hash with tag `p2share/q-selector`.
    pub struct QSelectorTag = hash_str("p2share/q-selector");

    /// `TaggedHash("p2share/q-selector", share header ‖ Bitcoin header)`, read big-endian as `q`
    /// before reduction modulo `n`.
    #[hash_newtype(forward)]
    pub struct QSelectorHash(_);

    /// Tag of the share commitment: BIP-340 tagged hash with tag `p2share/share-commitment`.
    pub struct CommitmentTag = hash_str("p2share/share-commitment");

    /// `TaggedHash("p2share/share-commitment", share header)`, carried in the Bitcoin coinbase.
    #[hash_newtype(forward)]
    pub struct ShareCommitment(_);
}

impl ShareHash {
    /// The id of a Bitcoin header (its block hash), as a share id.
    pub fn of_bitcoin_header(header: &bitcoin::block::Header) -> ShareHash {
        ShareHash::from_byte_array(header.block_hash().to_byte_array())
    }
}

/// Computes the tagged selector hash over the 160-byte serialized header of a share.
pub fn q_selector_hash(selector_bytes: &[u8; 160]) -> QSelectorHash {
    let mut engine = QSelectorHash::engine();
    engine.input(selector_bytes);
    QSelectorHash::from_engine(engine)
}

/// Computes the share commitment over the 80-byte share header.
pub fn share_commitment(header_bytes: &[u8; 80]) -> ShareCommitment {
    let mut engine = ShareCommitment::engine();
    engine.input(header_bytes);
    ShareCommitment::from_engine(engine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::sha256;

    /// The tagged hash must be BIP-340's: SHA256(SHA256(tag) ‖ SHA256(tag) ‖ msg).
    #[test]
    fn tagged_hash_is_bip340() {
        let msg = [7u8; 160];
        let tag = sha256::Hash::hash(b"p2share/q-selector");
        let mut pre = Vec::new();
        pre.extend_from_slice(tag.as_byte_array());
        pre.extend_from_slice(tag.as_byte_array());
        pre.extend_from_slice(&msg);
        let expected = sha256::Hash::hash(&pre);
        assert_eq!(
            q_selector_hash(&msg).to_byte_array(),
            expected.to_byte_array()
        );

        let msg80 = [9u8; 80];
        let tag = sha256::Hash::hash(b"p2share/share-commitment");
        let mut pre = Vec::new();
        pre.extend_from_slice(tag.as_byte_array());
        pre.extend_from_slice(tag.as_byte_array());
        pre.extend_from_slice(&msg80);
        assert_eq!(
            share_commitment(&msg80).to_byte_array(),
            sha256::Hash::hash(&pre).to_byte_array()
        );
    }
}
