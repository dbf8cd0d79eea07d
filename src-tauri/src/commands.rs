//! The commands the dashboard invokes: each a one-line call into the typed request layer
//! ([`p2share_api::Api`]), answering exactly what the JSON-RPC method of the same name answers
//! (docs/desktop-ipc.md), plus the desktop's own settings, the node's state and the first-paint
//! mark. Secrets (the API cookie, session tokens, keys) have no command; the one exception is
//! `createwallet`'s mnemonic, answered once so that the user can write it down.

use p2share_api::rpc::{
    DEFAULT_BITCOIN_BLOCKS, DEFAULT_BTC_FEE_RATE, DEFAULT_HASHRATE_RANGE_SECS,
    DEFAULT_HISTORY_PAGE, DEFAULT_LOG_LINES, DEFAULT_OFFER_TTL,
};
use p2share_api::types::{
    BitcoinBlock, BitcoinCoreConnection, BitcoinCoreTest, BtcTxEntry, ChainInfo, CreatedWallet,
    Devices, HashrateHistory, MiningInfo, NetworkInfo, NetworkParams, NewAddress, NextPayout,
    NodeInfo, Odds, OfferEntry, PayoutEntry, PeerInfo, Sent, SetDevice, Settings, SettingsResult,
    SettingsUpdate, Setup, SetupRequest, ShareRanges, ShareTxPage, SwapEntry, UnsignedPayment,
    WalletBalances, WalletCoin, WalletInfo,
};
use p2share_service::{LogLine, MiningState, SyncStatus};
use tauri::{AppHandle, Runtime, State};

use crate::host::{Host, IpcError, NodeRunState};
use crate::settings::{DesktopSettings, DesktopSettingsUpdate};

type Res<T> = Result<T, IpcError>;

/// `getsharechaininfo`.
#[tauri::command]
pub async fn getsharechaininfo(host: State<'_, Host>) -> Res<ChainInfo> {
    Ok(host.api()?.chain_info().await)
}

/// `getselectedshare` (the next share's payee).
#[tauri::command]
pub async fn getselectedshare(host: State<'_, Host>) -> Res<NextPayout> {
    Ok(host.api()?.next_payout().await)
}

/// `getshareranges`.
#[tauri::command]
pub async fn getshareranges(host: State<'_, Host>, script_or_address: String) -> Res<ShareRanges> {
    let api = host.api()?;
    Ok(api.share_ranges(&api.script_of(&script_or_address)?).await)
}

/// `listbitcoinblocks`.
#[tauri::command]
pub async fn listbitcoinblocks(
    host: State<'_, Host>,
    count: Option<u32>,
) -> Res<Vec<BitcoinBlock>> {
    Ok(host
        .api()?
        .bitcoin_blocks(count.unwrap_or(DEFAULT_BITCOIN_BLOCKS))
        .await?)
}

/// `getpeerinfo`.
#[tauri::command]
pub async fn getpeerinfo(host: State<'_, Host>) -> Res<Vec<PeerInfo>> {
    Ok(host.api()?.peers().await?)
}

/// `getnetworkinfo`.
#[tauri::command]
pub async fn getnetworkinfo(host: State<'_, Host>) -> Res<NetworkInfo> {
    Ok(host.api()?.network_info().await?)
}

/// `addpeer`.
#[tauri::command]
pub async fn addpeer(host: State<'_, Host>, multiaddr: String) -> Res<()> {
    Ok(host.api()?.add_peer(&multiaddr).await?)
}

/// `getsyncstatus`.
#[tauri::command]
pub async fn getsyncstatus(host: State<'_, Host>) -> Res<SyncStatus> {
    Ok(host.api()?.sync_status())
}

/// `getmininginfo`.
#[tauri::command]
pub async fn getmininginfo(host: State<'_, Host>) -> Res<MiningInfo> {
    Ok(host.api()?.mining_info().await?)
}

/// `setmining`.
#[tauri::command]
pub async fn setmining(
    host: State<'_, Host>,
    enabled: bool,
    threads: Option<u32>,
) -> Res<MiningState> {
    Ok(host.api()?.set_mining(enabled, threads).await?)
}

/// `getdevices`.
#[tauri::command]
pub async fn getdevices(host: State<'_, Host>) -> Res<Devices> {
    Ok(host.api()?.devices().await)
}

/// `setdevice`.
#[tauri::command]
pub async fn setdevice(
    host: State<'_, Host>,
    id: String,
    enabled: Option<bool>,
    intensity: Option<u8>,
) -> Res<Devices> {
    Ok(host
        .api()?
        .set_device(&SetDevice {
            id,
            enabled,
            intensity,
        })
        .await?)
}

/// `gethashratehistory`.
#[tauri::command]
pub async fn gethashratehistory(
    host: State<'_, Host>,
    range_secs: Option<u32>,
) -> Res<HashrateHistory> {
    Ok(host
        .api()?
        .hashrate_history(range_secs.unwrap_or(DEFAULT_HASHRATE_RANGE_SECS))
        .await?)
}

/// `getodds`.
#[tauri::command]
pub async fn getodds(host: State<'_, Host>, script_or_address: String) -> Res<Odds> {
    let api = host.api()?;
    Ok(api.odds(&api.script_of(&script_or_address)?).await)
}

/// `getnetworkparams`.
#[tauri::command]
pub async fn getnetworkparams(host: State<'_, Host>) -> Res<NetworkParams> {
    Ok(host.api()?.network_params().await)
}

/// `getnodeinfo`.
#[tauri::command]
pub async fn getnodeinfo(host: State<'_, Host>) -> Res<NodeInfo> {
    Ok(host.api()?.node_info().await)
}

/// `testbitcoincore`.
#[tauri::command]
pub async fn testbitcoincore(
    host: State<'_, Host>,
    connection: BitcoinCoreConnection,
) -> Res<BitcoinCoreTest> {
    Ok(host.api()?.test_bitcoin_core(&connection).await)
}

/// `getlogs`.
#[tauri::command]
pub async fn getlogs(host: State<'_, Host>, count: Option<u32>) -> Res<Vec<LogLine>> {
    Ok(host
        .api()?
        .logs(count.unwrap_or(DEFAULT_LOG_LINES) as usize))
}

/// `getsetup`.
#[tauri::command]
pub async fn getsetup(host: State<'_, Host>) -> Res<Setup> {
    Ok(host.api()?.setup_state()?)
}

/// `setup`: the node restarts on the new setup (`node://state` follows it).
#[tauri::command]
pub async fn setup(host: State<'_, Host>, request: SetupRequest) -> Res<SettingsResult> {
    Ok(host.api()?.setup(&request)?)
}

/// `getsettings`.
#[tauri::command]
pub async fn getsettings(host: State<'_, Host>) -> Res<Settings> {
    Ok(host.api()?.settings()?)
}

/// `setsettings`.
#[tauri::command]
pub async fn setsettings(host: State<'_, Host>, update: SettingsUpdate) -> Res<SettingsResult> {
    Ok(host.api()?.update_settings(&update).await?)
}

/// `getwalletinfo`.
#[tauri::command]
pub async fn getwalletinfo(host: State<'_, Host>) -> Res<WalletInfo> {
    Ok(host.api()?.wallet_info().await?)
}

/// `createwallet`: the new seed's words are answered this once (docs/api.md).
#[tauri::command]
pub async fn createwallet(host: State<'_, Host>, passphrase: String) -> Res<CreatedWallet> {
    Ok(host.api()?.create_wallet(&passphrase).await?)
}

/// `restorewallet`.
#[tauri::command]
pub async fn restorewallet(
    host: State<'_, Host>,
    words: String,
    passphrase: String,
) -> Res<WalletInfo> {
    Ok(host.api()?.restore_wallet(&words, &passphrase).await?)
}

/// `unlockwallet`.
#[tauri::command]
pub async fn unlockwallet(host: State<'_, Host>, passphrase: String) -> Res<WalletInfo> {
    Ok(host.api()?.unlock_wallet(&passphrase).await?)
}

/// `lockwallet`.
#[tauri::command]
pub async fn lockwallet(host: State<'_, Host>) -> Res<WalletInfo> {
    Ok(host.api()?.lock_wallet().await?)
}

/// `getnewaddress`.
#[tauri::command]
pub async fn getnewaddress(host: State<'_, Host>) -> Res<NewAddress> {
    Ok(host.api()?.new_address().await?)
}

/// `getwalletbalances`.
#[tauri::command]
pub async fn getwalletbalances(host: State<'_, Host>) -> Res<WalletBalances> {
    Ok(host.api()?.wallet_balances().await?)
}

/// `listwalletunspent`.
#[tauri::command]
pub async fn listwalletunspent(host: State<'_, Host>) -> Res<Vec<WalletCoin>> {
    Ok(host.api()?.wallet_coins().await?)
}

/// `sendshares`.
#[tauri::command]
pub async fn sendshares(
    host: State<'_, Host>,
    address: String,
    amount: String,
    fee_rate: Option<u64>,
) -> Res<Sent> {
    Ok(host.api()?.send_shares(&address, &amount, fee_rate).await?)
}

/// `sendbtc`.
#[tauri::command]
pub async fn sendbtc(
    host: State<'_, Host>,
    address: String,
    amount: String,
    sat_per_vb: Option<u64>,
) -> Res<Sent> {
    Ok(host
        .api()?
        .send_btc(
            &address,
            &amount,
            sat_per_vb.unwrap_or(DEFAULT_BTC_FEE_RATE),
        )
        .await?)
}

/// `createpsbt`.
#[tauri::command]
pub async fn createpsbt(
    host: State<'_, Host>,
    address: String,
    amount: String,
    sat_per_vb: Option<u64>,
) -> Res<UnsignedPayment> {
    Ok(host
        .api()?
        .create_psbt(
            &address,
            &amount,
            sat_per_vb.unwrap_or(DEFAULT_BTC_FEE_RATE),
        )
        .await?)
}

/// `listwallettransactions`.
#[tauri::command]
pub async fn listwallettransactions(
    host: State<'_, Host>,
    offset: Option<u32>,
    limit: Option<u32>,
) -> Res<ShareTxPage> {
    Ok(host
        .api()?
        .wallet_transactions(offset.unwrap_or(0), limit.unwrap_or(DEFAULT_HISTORY_PAGE))
        .await?)
}

/// `listbtctransactions`.
#[tauri::command]
pub async fn listbtctransactions(host: State<'_, Host>) -> Res<Vec<BtcTxEntry>> {
    Ok(host.api()?.btc_transactions().await?)
}

/// `listpayouts`.
#[tauri::command]
pub async fn listpayouts(host: State<'_, Host>) -> Res<Vec<PayoutEntry>> {
    Ok(host.api()?.payouts().await?)
}

/// `listoffers`: the order book.
#[tauri::command]
pub async fn listoffers(host: State<'_, Host>) -> Res<Vec<OfferEntry>> {
    Ok(host.api()?.offers().await?)
}

/// `makeoffer`.
#[tauri::command]
pub async fn makeoffer(
    host: State<'_, Host>,
    maker_sells: String,
    min: String,
    max: String,
    price: u64,
    ttl_secs: Option<u64>,
) -> Res<OfferEntry> {
    Ok(host
        .api()?
        .make_offer(
            &maker_sells,
            &min,
            &max,
            price,
            ttl_secs.unwrap_or(DEFAULT_OFFER_TTL),
        )
        .await?)
}

/// `canceloffer`.
#[tauri::command]
pub async fn canceloffer(host: State<'_, Host>, id: String) -> Res<bool> {
    Ok(host.api()?.cancel_offer(&id).await?)
}

/// `takeoffer`: from here the node locks our side (the dashboard asked for approval first).
#[tauri::command]
pub async fn takeoffer(host: State<'_, Host>, id: String, amount: String) -> Res<SwapEntry> {
    Ok(host.api()?.take_offer(&id, &amount).await?)
}

/// `listswaps`.
#[tauri::command]
pub async fn listswaps(host: State<'_, Host>) -> Res<Vec<SwapEntry>> {
    Ok(host.api()?.swaps().await?)
}

/// `cancelswap`.
#[tauri::command]
pub async fn cancelswap(host: State<'_, Host>, id: String) -> Res<SwapEntry> {
    Ok(host.api()?.cancel_swap(&id).await?)
}

/// `getrefundfile`: what refunds our lock with the seed alone (no private key in it).
#[tauri::command]
pub async fn getrefundfile(host: State<'_, Host>, id: String) -> Res<serde_json::Value> {
    Ok(host.api()?.refund_file(&id).await?)
}

/// The desktop settings.
#[tauri::command]
pub async fn desktop_settings(host: State<'_, Host>) -> Res<DesktopSettings> {
    Ok(host.settings().get())
}

/// Changes the desktop settings; "start with the system" also writes or removes the login
/// entry (which must succeed before the setting is kept).
#[tauri::command]
pub async fn set_desktop_settings<R: Runtime>(
    app: AppHandle<R>,
    host: State<'_, Host>,
    update: DesktopSettingsUpdate,
) -> Res<DesktopSettings> {
    if let Some(on) = update.start_with_system {
        crate::shell::set_autostart(&app, on)?;
    }
    Ok(host.settings().update(&update)?)
}

/// Where the node stands.
#[tauri::command]
pub async fn node_state(host: State<'_, Host>) -> Res<NodeRunState> {
    Ok(host.state())
}

/// The dashboard has painted with node data for the first time: logs the time from launch
/// (the cold-start figure, `scripts/bench-desktop`).
#[tauri::command]
pub async fn ui_ready(host: State<'_, Host>) -> Res<()> {
    if let Some(t) = host.first_paint() {
        tracing::info!(
            ms = t.as_millis() as u64,
            "first dashboard paint after launch"
        );
    }
    Ok(())
}

/// The handler answering every command of [`crate::COMMANDS`].
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        getsharechaininfo,
        getselectedshare,
        getshareranges,
        listbitcoinblocks,
        getpeerinfo,
        getnetworkinfo,
        addpeer,
        getsyncstatus,
        getmininginfo,
        setmining,
        getdevices,
        setdevice,
        gethashratehistory,
        getodds,
        getnetworkparams,
        getnodeinfo,
        testbitcoincore,
        getlogs,
        getsetup,
        setup,
        getsettings,
        setsettings,
        getwalletinfo,
        createwallet,
        restorewallet,
        unlockwallet,
        lockwallet,
        getnewaddress,
        getwalletbalances,
        listwalletunspent,
        sendshares,
        sendbtc,
        createpsbt,
        listwallettransactions,
        listbtctransactions,
        listpayouts,
        listoffers,
        makeoffer,
        canceloffer,
        takeoffer,
        listswaps,
        cancelswap,
        getrefundfile,
        desktop_settings,
        set_desktop_settings,
        node_state,
        ui_ready,
    ]
}
