//! Script validation of sharechain transactions with Bitcoin Core's interpreter.
//!
//! Every input is verified by `bitcoinkernel` (libbitcoinkernel, Bitcoin Core's consensus code)
//! with all consensus flags — P2SH, DERSIG, NULLDUMMY, CLTV, CSV, WITNESS, TAPROOT — and with the
//! full list of spent outputs, so taproot signature hashes commit to every prevout.

use bitcoin::consensus::encode::serialize;
use bitcoin::{Transaction, TxOut};
use bitcoinkernel::{
    verify, KernelError, PrecomputedTransactionData, ScriptPubkey, ScriptVerifyError,
    Transaction as KernelTransaction, TxOut as KernelTxOut, VERIFY_ALL,
};

/// Why a transaction's scripts failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The interpreter rejected this input.
    #[error("input {input} fails script verification")]
    Invalid {
        /// Index of the failing input.
        input: usize,
    },
    /// The kernel could not take the transaction or a spent output.
    #[error("script engine rejected input {input}: {message}")]
    Kernel {
        /// Index of the input (or 0 when the transaction as a whole was refused).
        input: usize,
        /// The kernel's message.
        message: String,
    },
    /// The caller passed a spent-output list of the wrong length.
    #[error("{spent} spent outputs given for {inputs} inputs")]
    SpentOutputsMismatch {
        /// Number of inputs.
        inputs: usize,
        /// Number of spent outputs.
        spent: usize,
    },
}

/// A transaction converted once for the kernel, so several inputs can be checked cheaply.
pub struct PreparedTransaction {
    tx: KernelTransaction,
    spent: Vec<(ScriptPubkey, i64)>,
    data: PrecomputedTransactionData,
}

impl PreparedTransaction {
    /// Converts `tx` and the outputs it spends (one per input, in input order).
    ///
    /// # Errors
    /// [`ScriptError`] if the lengths differ or the kernel refuses the data.
    pub fn new(tx: &Transaction, spent: &[TxOut]) -> Result<Self, ScriptError> {
        if spent.len() != tx.input.len() {
            return Err(ScriptError::SpentOutputsMismatch {
                inputs: tx.input.len(),
                spent: spent.len(),
            });
        }
        let kernel = |input: usize| {
            move |e: KernelError| ScriptError::Kernel {
                input,
                message: e.to_string(),
            }
        };
        let ktx = KernelTransaction::new(&serialize(tx)).map_err(kernel(0))?;
        let mut scripts = Vec::with_capacity(spent.len());
        let mut outs = Vec::with_capacity(spent.len());
        for (i, out) in spent.iter().enumerate() {
            let script = ScriptPubkey::new(out.script_pubkey.as_bytes()).map_err(kernel(i))?;
            let value = i64::try_from(out.value.to_sat()).map_err(|_| ScriptError::Kernel {
                input: i,
                message: "spent amount out of range".into(),
            })?;
            outs.push(KernelTxOut::new(&script, value));
            scripts.push((script, value));
        }
        let data = PrecomputedTransactionData::new(&ktx, &outs).map_err(kernel(0))?;
        Ok(PreparedTransaction {
            tx: ktx,
            spent: scripts,
            data,
        })
    }

    /// Verifies every input.
    ///
    /// # Errors
    /// [`ScriptError::Invalid`] naming the first failing input.
    pub fn verify_all(&self) -> Result<(), ScriptError> {
        for input in 0..self.spent.len() {
            self.verify_input(input)?;
        }
        Ok(())
    }

    /// Verifies one input.
    ///
    /// # Errors
    /// [`ScriptError::Invalid`] if the interpreter rejects it.
    pub fn verify_input(&self, input: usize) -> Result<(), ScriptError> {
        let Some((script, value)) = self.spent.get(input) else {
            return Err(ScriptError::Kernel {
                input,
                message: "no such input".into(),
            });
        };
        match verify(
            script,
            Some(*value),
            &self.tx,
            input,
            Some(VERIFY_ALL),
            &self.data,
        ) {
            Ok(()) => Ok(()),
            Err(KernelError::ScriptVerify(ScriptVerifyError::Invalid)) => {
                Err(ScriptError::Invalid { input })
            }
            Err(e) => Err(ScriptError::Kernel {
                input,
                message: e.to_string(),
            }),
        }
    }
}

/// Verifies every input of `tx` against the outputs it spends.
///
/// # Errors
/// [`ScriptError`] naming the first failing input.
pub fn verify_transaction(tx: &Transaction, spent: &[TxOut]) -> Result<(), ScriptError> {
    PreparedTransaction::new(tx, spent)?.verify_all()
}
