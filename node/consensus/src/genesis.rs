//! The genesis share of a network, determined entirely by its parameters (`docs/protocol.md`
//! §12). Its own module so that both the chain state and the share builder use it without
//! depending on each other.

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header as BitcoinHeader, Version};
use bitcoin::hashes::Hash;
use bitcoin::pow::CompactTarget;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    Amount, BlockHash, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxMerkleNode, TxOut,
    Witness,
};

use crate::hash::ShareHash;
use crate::params::ChainParams;
use crate::share::{BitcoinWork, Share, ShareHead, ShareHeader, SHARE_VERSION};
use crate::validation::{commitment_script, tx_root};

pub(crate) fn null_input(script_sig: ScriptBuf) -> TxIn {
    TxIn {
        previous_output: OutPoint::null(),
        script_sig,
        sequence: Sequence::MAX,
        witness: Witness::new(),
    }
}

pub(crate) fn push(bytes: &[u8]) -> Option<PushBytesBuf> {
    PushBytesBuf::try_from(bytes.to_vec()).ok()
}

/// The genesis share of a network, determined entirely by its parameters (see
/// `docs/protocol.md` §12). It carries no proof of work and is never validated.
pub fn genesis_share(params: &ChainParams) -> Share {
    let mut tag = b"p2share:".to_vec();
    tag.extend_from_slice(&params.magic);
    let sb_sig = match push(&tag) {
        Some(p) => Builder::new().push_int(0).push_slice(p).into_script(),
        None => Builder::new().push_int(0).into_script(),
    };
    let mut outputs: Vec<TxOut> = params
        .genesis_allocation
        .iter()
        .map(|o| TxOut {
            value: Amount::from_sat(o.value.to_units()),
            script_pubkey: o.script_pubkey.clone(),
        })
        .collect();
    if outputs.is_empty() {
        outputs.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::new_op_return([]),
        });
    }
    let sharebase = Transaction {
        version: TxVersion::ONE,
        lock_time: LockTime::ZERO,
        input: vec![null_input(sb_sig)],
        output: outputs,
    };
    let txs = vec![sharebase];
    let header = ShareHeader {
        version: SHARE_VERSION,
        prev_share: ShareHash::all_zeros(),
        height: 0,
        tx_root: tx_root(&txs),
        time: params.genesis_time,
        bits: params.genesis_bits,
    };
    let coinbase = Transaction {
        version: TxVersion::ONE,
        lock_time: LockTime::ZERO,
        input: vec![null_input(
            Builder::new().push_slice(b"p2share genesis").into_script(),
        )],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: commitment_script(params.magic, &header),
        }],
    };
    let bitcoin_header = BitcoinHeader {
        version: Version::ONE,
        prev_blockhash: BlockHash::all_zeros(),
        merkle_root: TxMerkleNode::from_byte_array(coinbase.compute_txid().to_byte_array()),
        time: params.genesis_time,
        bits: CompactTarget::from_consensus(params.genesis_bits),
        nonce: 0,
    };
    Share {
        head: ShareHead {
            header,
            work: BitcoinWork {
                header: bitcoin_header,
                coinbase,
                merkle_branch: Vec::new(),
            },
        },
        txs,
    }
}
