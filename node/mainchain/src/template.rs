//! `getblocktemplate` (BIP-22/23/141/145) templates and `submitblock` (BIP-22) results.

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::pow::{CompactTarget, Target};
use bitcoin::{Amount, BlockHash, ScriptBuf, Transaction, Txid, Weight, Wtxid};
use serde::Deserialize;

use crate::error::{ClientError, ErrorKind};

/// One non-coinbase transaction of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// Its txid.
    pub txid: Txid,
    /// Its wtxid.
    pub wtxid: Wtxid,
    /// Fee it pays.
    pub fee: Amount,
    /// Weight.
    pub weight: Weight,
    /// Sigop cost.
    pub sigops: u64,
    /// 1-based positions of template transactions it depends on.
    pub depends: Vec<u32>,
}

/// A block template: everything needed to build a Bitcoin block but the coinbase and the nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    /// Block version to use (with the server's version bits).
    pub version: i32,
    /// The block to build on.
    pub previous_block_hash: BlockHash,
    /// Height of the block being built (for BIP-34).
    pub height: u32,
    /// Transactions to include, in order.
    pub transactions: Vec<TemplateTransaction>,
    /// Subsidy plus fees: the most the coinbase may pay.
    pub coinbase_value: Amount,
    /// The witness commitment output script the coinbase must carry, if any transaction has a
    /// witness (`default_witness_commitment`).
    pub default_witness_commitment: Option<ScriptBuf>,
    /// Target a block hash must meet.
    pub target: Target,
    /// Compact form of the target, for the header.
    pub bits: CompactTarget,
    /// Server's current time.
    pub cur_time: u32,
    /// Earliest allowed block time.
    pub min_time: u32,
    /// Long-poll id: pass it back to wait for the next template.
    pub longpoll_id: Option<String>,
    /// Weight limit of the block.
    pub weight_limit: Option<u64>,
    /// Sigop cost limit of the block.
    pub sigop_limit: Option<u64>,
    /// Rules the server enforces (e.g. `segwit`, `csv`).
    pub rules: Vec<String>,
}

#[derive(Deserialize)]
struct RawTx {
    data: String,
    txid: String,
    hash: String,
    fee: i64,
    #[serde(default)]
    depends: Vec<u32>,
    #[serde(default)]
    sigops: u64,
    weight: u64,
}

#[derive(Deserialize)]
struct RawTemplate {
    version: i32,
    previousblockhash: String,
    height: u32,
    transactions: Vec<RawTx>,
    coinbasevalue: u64,
    #[serde(default)]
    default_witness_commitment: Option<String>,
    target: String,
    bits: String,
    curtime: u32,
    mintime: u32,
    #[serde(default)]
    longpollid: Option<String>,
    #[serde(default)]
    weightlimit: Option<u64>,
    #[serde(default)]
    sigoplimit: Option<u64>,
    #[serde(default)]
    rules: Vec<String>,
}

fn decode(call: &str, what: impl std::fmt::Display) -> ClientError {
    ClientError::new(call, ErrorKind::Decode(what.to_string()))
}

impl BlockTemplate {
    /// Parses a `getblocktemplate` result; every transaction is decoded and its txid and wtxid
    /// checked against what the server claims.
    ///
    /// # Errors
    /// [`ErrorKind::Decode`] naming the field that is missing or wrong.
    pub fn from_json(value: serde_json::Value) -> Result<BlockTemplate, ClientError> {
        const CALL: &str = "getblocktemplate";
        let raw: RawTemplate = serde_json::from_value(value).map_err(|e| decode(CALL, e))?;
        let mut transactions = Vec::with_capacity(raw.transactions.len());
        for (i, t) in raw.transactions.into_iter().enumerate() {
            let tx: Transaction = deserialize_hex(&t.data)
                .map_err(|e| decode(CALL, format!("transaction {i}: {e}")))?;
            let txid = tx.compute_txid();
            let wtxid = tx.compute_wtxid();
            if txid.to_string() != t.txid || wtxid.to_string() != t.hash {
                return Err(decode(
                    CALL,
                    format!("transaction {i}: txid/hash do not match its data"),
                ));
            }
            let fee = u64::try_from(t.fee)
                .map(Amount::from_sat)
                .map_err(|_| decode(CALL, format!("transaction {i}: negative fee {}", t.fee)))?;
            if t.depends.iter().any(|d| *d == 0 || *d as usize > i) {
                return Err(decode(
                    CALL,
                    format!("transaction {i}: depends on a later or unknown transaction"),
                ));
            }
            transactions.push(TemplateTransaction {
                tx,
                txid,
                wtxid,
                fee,
                weight: Weight::from_wu(t.weight),
                sigops: t.sigops,
                depends: t.depends,
            });
        }
        let previous_block_hash = raw
            .previousblockhash
            .parse()
            .map_err(|e| decode(CALL, format!("previousblockhash: {e}")))?;
        let bits_value = u32::from_str_radix(&raw.bits, 16)
            .map_err(|e| decode(CALL, format!("bits {:?}: {e}", raw.bits)))?;
        let target_bytes: [u8; 32] = bitcoin::hex::FromHex::from_hex(&raw.target)
            .map_err(|e| decode(CALL, format!("target {:?}: {e}", raw.target)))?;
        let default_witness_commitment = match raw.default_witness_commitment {
            Some(h) => Some(
                ScriptBuf::from_hex(&h)
                    .map_err(|e| decode(CALL, format!("default_witness_commitment: {e}")))?,
            ),
            None => None,
        };
        Ok(BlockTemplate {
            version: raw.version,
            previous_block_hash,
            height: raw.height,
            transactions,
            coinbase_value: Amount::from_sat(raw.coinbasevalue),
            default_witness_commitment,
            target: Target::from_be_bytes(target_bytes),
            bits: CompactTarget::from_consensus(bits_value),
            cur_time: raw.curtime,
            min_time: raw.mintime,
            longpoll_id: raw.longpollid,
            weight_limit: raw.weightlimit,
            sigop_limit: raw.sigoplimit,
            rules: raw.rules,
        })
    }

    /// Total fees of the template's transactions.
    pub fn fees(&self) -> Amount {
        self.transactions.iter().map(|t| t.fee).sum()
    }
}

/// A BIP-22 `submitblock` verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitResult {
    /// Accepted (`null`).
    Accepted,
    /// Already known (`duplicate`).
    Duplicate,
    /// Valid so far but not (yet) on the best chain (`inconclusive`).
    Inconclusive,
    /// Rejected, with the server's reason (`high-hash`, `bad-cb-amount`, …).
    Rejected(String),
}

impl SubmitResult {
    /// Reads a `submitblock` result value.
    ///
    /// # Errors
    /// [`ErrorKind::Decode`] for anything but `null` or a string.
    pub fn from_json(value: &serde_json::Value) -> Result<SubmitResult, ClientError> {
        match value {
            serde_json::Value::Null => Ok(SubmitResult::Accepted),
            serde_json::Value::String(s) => Ok(match s.as_str() {
                "duplicate" => SubmitResult::Duplicate,
                "inconclusive" => SubmitResult::Inconclusive,
                other => SubmitResult::Rejected(other.to_string()),
            }),
            other => Err(decode(
                "submitblock",
                format!("expected null or a string, got {other}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A template shaped as Bitcoin Core returns it on regtest, with one segwit-less transaction.
    fn sample() -> serde_json::Value {
        let tx = "0200000001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa000000000000000000011027000000000000016a00000000";
        let parsed: Transaction = deserialize_hex(tx).unwrap();
        json!({
            "capabilities": ["proposal"],
            "version": 536870912,
            "rules": ["csv", "!segwit", "taproot"],
            "vbavailable": {},
            "vbrequired": 0,
            "previousblockhash": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
            "transactions": [{
                "data": tx,
                "txid": parsed.compute_txid().to_string(),
                "hash": parsed.compute_wtxid().to_string(),
                "depends": [],
                "fee": 1000,
                "sigops": 0,
                "weight": 240
            }],
            "coinbaseaux": {},
            "coinbasevalue": 5000001000u64,
            "longpollid": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e22061",
            "target": "7fffff0000000000000000000000000000000000000000000000000000000000",
            "mintime": 1296688603,
            "mutable": ["time", "transactions", "prevblock"],
            "noncerange": "00000000ffffffff",
            "sigoplimit": 80000,
            "sizelimit": 4000000,
            "weightlimit": 4000000,
            "curtime": 1767225600,
            "bits": "207fffff",
            "height": 1,
            "default_witness_commitment": "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9"
        })
    }

    #[test]
    fn a_core_template_parses() {
        let t = BlockTemplate::from_json(sample()).unwrap();
        assert_eq!(t.height, 1);
        assert_eq!(t.bits.to_consensus(), 0x207f_ffff);
        assert_eq!(t.target, Target::MAX_ATTAINABLE_REGTEST);
        assert_eq!(t.transactions.len(), 1);
        assert_eq!(t.fees(), Amount::from_sat(1000));
        assert_eq!(t.coinbase_value, Amount::from_sat(5_000_001_000));
        assert_eq!(
            t.longpoll_id.as_deref(),
            Some("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e22061")
        );
        assert!(t
            .default_witness_commitment
            .unwrap()
            .as_bytes()
            .starts_with(&[0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]));
    }

    #[test]
    fn a_template_with_a_lying_txid_is_refused() {
        let mut v = sample();
        v["transactions"][0]["txid"] = json!("00".repeat(32));
        let e = BlockTemplate::from_json(v).unwrap_err();
        assert!(
            e.to_string()
                .contains("transaction 0: txid/hash do not match"),
            "{e}"
        );
        let mut v = sample();
        v["bits"] = json!("zz");
        assert!(BlockTemplate::from_json(v)
            .unwrap_err()
            .to_string()
            .contains("bits"));
        let mut v = sample();
        v.as_object_mut().unwrap().remove("coinbasevalue");
        assert!(BlockTemplate::from_json(v)
            .unwrap_err()
            .to_string()
            .contains("coinbasevalue"));
    }

    #[test]
    fn bip22_results() {
        assert_eq!(
            SubmitResult::from_json(&json!(null)).unwrap(),
            SubmitResult::Accepted
        );
        assert_eq!(
            SubmitResult::from_json(&json!("duplicate")).unwrap(),
            SubmitResult::Duplicate
        );
        assert_eq!(
            SubmitResult::from_json(&json!("inconclusive")).unwrap(),
            SubmitResult::Inconclusive
        );
        assert_eq!(
            SubmitResult::from_json(&json!("bad-cb-amount")).unwrap(),
            SubmitResult::Rejected("bad-cb-amount".into())
        );
        assert!(SubmitResult::from_json(&json!(5)).is_err());
    }
}
