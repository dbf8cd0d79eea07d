//! The dashboard's TypeScript types, generated from the API's Rust types with ts-rs into one
//! file, `ui/src/bindings/generated.ts`. The test below fails when that file is stale; run
//! `UPDATE_BINDINGS=1 cargo test -p p2share-api --lib bindings` to write it anew.

use ts_rs::{Config, TS};

use crate::types::*;

/// Where the generated file lives, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/bindings/generated.ts";

/// Appends `T`'s declaration, with its docs, as an export (every generated file is made so).
pub fn decl<T: TS>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

/// The whole generated file.
pub fn typescript() -> String {
    // u64 values the API sends are below 2^53 (share units, counts, times): JSON numbers.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the node's Rust types by ts-rs (node/api/src/bindings.rs). Do not edit:\n\
         // run `UPDATE_BINDINGS=1 cargo test -p p2share-api --lib bindings` after changing them.\n\n",
    );
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $( decl::<$t>(&cfg, &mut out); )* };
    }
    all!(
        // Events.
        NodeEvent,
        Origin,
        SyncStatus,
        FoundBlock,
        HasherRate,
        HashrateSample,
        MiningState,
        LogLine,
        StratumNote,
        // Devices.
        Devices,
        CpuDevice,
        OpenClInfo,
        OpenClDeviceInfo,
        StratumInfo,
        WorkerInfo,
        WorkerRejections,
        SetDevice,
        // The sharechain.
        ChainInfo,
        PayoutInfo,
        PayeeInfo,
        BitcoinWorkInfo,
        TxInfo,
        ShareInfo,
        NextPayout,
        SharePayout,
        UnspentOutput,
        Balance,
        SubmitShareReply,
        MempoolInfo,
        StoreInfo,
        RangeOutput,
        Selection,
        ShareRanges,
        BitcoinBlock,
        // Mining, network, the node.
        HasherInfo,
        ExpectedSeconds,
        TipRefresh,
        MiningInfo,
        Odds,
        HashrateSeries,
        HashrateHistory,
        PeerInfo,
        BannedPeer,
        NetworkInfo,
        Ports,
        AllocationOutput,
        NetworkParams,
        BitcoinSourceInfo,
        NodeInfo,
        BitcoinCoreTest,
        BitcoinCoreConnection,
        // First run and settings.
        Setup,
        SetupRequest,
        SettingsResult,
        SettingsBitcoin,
        Settings,
        SettingsUpdate,
        // The wallet.
        WalletInfo,
        CreatedWallet,
        NewAddress,
        ShareBalances,
        BtcBalances,
        WalletBalances,
        WalletCoin,
        ShareTxEntry,
        ShareTxPage,
        BtcTxEntry,
        PayoutEntry,
        Sent,
        UnsignedPayment,
        OfferEntry,
        SwapEvent,
        SwapEntry,
    );
    out.trim_end().to_string() + "\n"
}

/// Whether `path` holds `want`; with `UPDATE_BINDINGS` set, writes it first. The generated
/// files' freshness tests (here and in the desktop app) share this.
///
/// # Errors
/// The file is stale (or could not be written), with the command that writes it.
pub fn check_generated(path: &std::path::Path, want: &str, update: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(path, want).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have == want {
        Ok(())
    } else {
        Err(format!("{} is stale: run `{update}`", path.display()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn bindings_are_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(BINDINGS_PATH);
        let update = "UPDATE_BINDINGS=1 cargo test -p p2share-api --lib bindings";
        if let Err(e) = check_generated(&path, &typescript(), update) {
            panic!("{e}");
        }
    }
}
