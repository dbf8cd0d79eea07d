//! `bdk_esplora` (through `esplora-client`'s blocking client) syncs a `bdk_wallet` wallet against
//! the embedded regtest mainchain's Esplora: the proof that its REST subset is what BDK needs
//! (full scan, sync, broadcast, fee estimates, chain updates), not just what p2share's own client
//! asks for.
//!
//! The blocking client runs on tokio's blocking pool because the server runs on the same runtime.
//! `minreq` (under `esplora-client`) honours `http_proxy`/`all_proxy` and knows no `no_proxy`: run
//! this test without a proxy in the environment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

mod common;
use common::start;

use bdk_esplora::esplora_client::{self, BlockingClient};
use bdk_esplora::EsploraExt;
use bdk_wallet::bitcoin::bip32::Xpriv;
use bdk_wallet::bitcoin::{
    Address, Amount, BlockHash, FeeRate, Network, NetworkKind, ScriptBuf, Transaction,
};
use bdk_wallet::chain::spk_client::SyncRequest;
use bdk_wallet::chain::{ChainPosition, ConfirmationBlockTime};
use bdk_wallet::{Balance, KeychainKind, SignOptions, Wallet};
use p2share_mainchain::rpc::{Auth, BitcoindRpc, RpcConfig};
use p2share_mainchain::Mainchain;
use p2share_testkit::{Kind, TestKey};
use serde_json::json;

const STOP_GAP: usize = 5;
const PARALLEL_REQUESTS: usize = 2;
const COINBASE: Amount = Amount::from_sat(50 * 100_000_000);

/// Mines `n` blocks paying `script` through the JSON-RPC (cookie auth), as a miner would.
async fn generate(rpc: &BitcoindRpc, n: u32, script: &ScriptBuf) -> Vec<BlockHash> {
    let address = Address::from_script(script, Network::Regtest).unwrap();
    let hashes = rpc
        .call("generatetoaddress", json!([n, address.to_string()]))
        .await
        .unwrap();
    serde_json::from_value(hashes).unwrap()
}

/// Runs `f` with a blocking Esplora client on tokio's blocking pool.
async fn esplora<T: Send + 'static>(
    client: &BlockingClient,
    f: impl FnOnce(&BlockingClient) -> T + Send + 'static,
) -> T {
    let client = client.clone();
    tokio::task::spawn_blocking(move || f(&client))
        .await
        .unwrap()
}

/// A full scan of both keychains, applied to `wallet`.
async fn full_scan(client: &BlockingClient, wallet: &mut Wallet) {
    let request = wallet.start_full_scan().build();
    let update = esplora(client, move |c| {
        c.full_scan(request, STOP_GAP, PARALLEL_REQUESTS)
    })
    .await
    .unwrap();
    wallet.apply_update(update).unwrap();
}

/// A sync of the revealed scripts (and the wallet's unconfirmed txids), applied to `wallet`.
async fn sync(client: &BlockingClient, wallet: &mut Wallet) {
    let request = wallet.start_sync_with_revealed_spks().build();
    let update = esplora(client, move |c| c.sync(request, PARALLEL_REQUESTS))
        .await
        .unwrap();
    wallet.apply_update(update).unwrap();
}

/// Deterministic BIP84 (regtest coin type 1) descriptors from a fixed seed, and the master key
/// that signs for them.
fn wallet_from_seed(seed: u8) -> (Wallet, Xpriv) {
    let master = Xpriv::new_master(NetworkKind::Test, &[seed; 32]).unwrap();
    let wallet = Wallet::create(
        format!("wpkh({master}/84'/1'/0'/0/*)"),
        format!("wpkh({master}/84'/1'/0'/1/*)"),
    )
    .network(Network::Regtest)
    .create_wallet_no_persist()
    .unwrap();
    (wallet, master)
}

fn balance(confirmed: Amount, trusted_pending: Amount, immature: Amount) -> Balance {
    Balance {
        immature,
        trusted_pending,
        untrusted_pending: Amount::ZERO,
        confirmed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bdk_esplora_syncs_a_bdk_wallet_against_the_embedded_esplora() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(&dir).await;
    let rpc = BitcoindRpc::new(RpcConfig::new(
        service.rpc_url(),
        Auth::CookieFile(service.cookie_path().to_path_buf()),
    ))
    .unwrap();
    let client = esplora_client::Builder::new(&service.esplora_url()).build_blocking();
    let (mut wallet, master) = wallet_from_seed(7);
    let receive = wallet.reveal_next_address(KeychainKind::External);
    assert_eq!(receive.index, 0);

    // 101 coinbases of 50 BTC to the wallet's first receive address.
    let hashes = generate(&rpc, 101, &receive.script_pubkey()).await;
    assert_eq!(hashes.len(), 101);

    full_scan(&client, &mut wallet).await;
    let tip = wallet.latest_checkpoint();
    assert_eq!((tip.height(), tip.hash()), (101, hashes[100]));
    assert_eq!(wallet.transactions().count(), 101);
    // bdk_chain counts a coinbase mature once tip - height + 1 >= 100, i.e. spendable in the next
    // block (consensus: spend height - coin height >= 100): at tip 101 the coinbases of blocks 1
    // and 2 are. (Bitcoin Core's wallet waits one block more.)
    assert_eq!(
        wallet.balance(),
        balance(COINBASE * 2, Amount::ZERO, COINBASE * 99)
    );
    // The scan found nothing past receive index 0, and nothing on the change keychain.
    assert_eq!(
        wallet.derivation_index(KeychainKind::External),
        Some(0),
        "the stop gap found no later receive address used"
    );
    assert_eq!(wallet.derivation_index(KeychainKind::Internal), None);

    // Pay 60 BTC elsewhere: both mature coinbases must be spent (the block-2 one at its first
    // spendable height), with change back to the wallet, at the rate Esplora estimates.
    let estimates = esplora(&client, |c| c.get_fee_estimates()).await.unwrap();
    let sat_vb = esplora_client::convert_fee_rate(6, estimates).unwrap();
    let fee_rate = FeeRate::from_sat_per_vb(sat_vb.ceil() as u64).unwrap();
    let pay_to = TestKey::from_seed(2).script(Kind::P2tr);
    let sent = Amount::from_int_btc(60);
    let mut psbt = {
        let mut builder = wallet.build_tx();
        builder
            .add_recipient(pay_to.clone(), sent)
            .fee_rate(fee_rate);
        builder.finish().unwrap()
    };
    psbt.sign(&master, wallet.secp_ctx()).unwrap();
    assert!(wallet
        .finalize_psbt(&mut psbt, SignOptions::default())
        .unwrap());
    let tx: Transaction = psbt.extract_tx().unwrap();
    let txid = tx.compute_txid();
    assert_eq!(tx.input.len(), 2);
    let fee = wallet.calculate_fee(&tx).unwrap();
    let change = COINBASE * 2 - sent - fee;
    {
        let tx = tx.clone();
        esplora(&client, move |c| c.broadcast(&tx)).await.unwrap();
    }

    // Sync finds it in the mempool: unconfirmed, the change trusted-pending.
    sync(&client, &mut wallet).await;
    let wtx = wallet
        .get_tx(txid)
        .expect("the sync found the broadcast tx");
    assert!(
        matches!(wtx.chain_position, ChainPosition::Unconfirmed { .. }),
        "{:?}",
        wtx.chain_position
    );
    assert_eq!(
        wallet.balance(),
        balance(Amount::ZERO, change, COINBASE * 99)
    );
    // Esplora's own view agrees with the wallet's (the fee needs the prevouts it serves).
    let info = esplora(&client, move |c| c.get_tx_info(&txid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.fee, info.status.confirmed), (fee.to_sat(), false));

    // One block (paying someone else) confirms it.
    let outsider = TestKey::from_seed(3).script(Kind::P2wpkh);
    let mined = generate(&rpc, 1, &outsider).await[0];
    assert_eq!(rpc.tip().await.unwrap().height, 102);
    sync(&client, &mut wallet).await;
    let tip = wallet.latest_checkpoint();
    assert_eq!((tip.height(), tip.hash()), (102, mined));
    match wallet.get_tx(txid).unwrap().chain_position {
        ChainPosition::Confirmed { anchor, .. } => {
            assert_eq!(anchor.block_id.height, 102);
            assert_eq!(anchor.block_id.hash, mined);
        }
        other => panic!("not confirmed: {other:?}"),
    }
    // The change is confirmed, and the block-3 coinbase has matured with the new tip.
    assert_eq!(
        wallet.balance(),
        balance(change + COINBASE, Amount::ZERO, COINBASE * 98)
    );
    let utxos: Vec<_> = wallet.list_unspent().collect();
    assert_eq!(utxos.len(), 100);
    assert!(utxos
        .iter()
        .any(|u| u.keychain == KeychainKind::Internal && u.txout.value == change));

    // A watcher of the two spent coinbase outputs (no scripts: txids and outspends) learns who
    // spent them and where it confirmed.
    let spent: Vec<_> = tx.input.iter().map(|i| i.previous_output).collect();
    let request = SyncRequest::<()>::builder()
        .chain_tip(wallet.latest_checkpoint())
        .outpoints(spent.clone())
        .build();
    let update = esplora(&client, move |c| c.sync(request, PARALLEL_REQUESTS))
        .await
        .unwrap();
    let found: Vec<_> = update
        .tx_update
        .txs
        .iter()
        .map(|t| t.compute_txid())
        .collect();
    assert!(found.contains(&txid));
    assert!(spent.iter().all(|op| found.contains(&op.txid)));
    assert!(update
        .tx_update
        .anchors
        .iter()
        .any(|(a, t): &(ConfirmationBlockTime, _)| *t == txid && a.block_id.height == 102));
    assert_eq!(update.chain_update.unwrap().hash(), mined);

    // A fresh wallet from the same seed recovers the same state with one full scan.
    let (mut restored, _) = wallet_from_seed(7);
    full_scan(&client, &mut restored).await;
    assert_eq!(restored.balance(), wallet.balance());
    assert_eq!(restored.transactions().count(), 102);
    assert_eq!(restored.derivation_index(KeychainKind::Internal), Some(0));

    service.shutdown().await;
}
