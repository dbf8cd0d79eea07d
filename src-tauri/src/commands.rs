//! The commands the dashboard invokes: each a one-line call into the typed request layer
//! ([`p2share_api::Api`]), answering exactly what the JSON-RPC method of the same name answers
//! (docs/desktop-ipc.md), plus the desktop's own settings, the node's state and the first-paint
//! mark. Secrets (the API cookie, session tokens, keys) have no command.

use p2share_api::rpc::{DEFAULT_BITCOIN_BLOCKS, DEFAULT_HASHRATE_RANGE_SECS, DEFAULT_LOG_LINES};
use p2share_api::types::{
    BitcoinBlock, BitcoinCoreConnection, BitcoinCoreTest, ChainInfo, Devices, HashrateHistory,
    MiningInfo, NetworkInfo, NetworkParams, NextPayout, NodeInfo, Odds, PeerInfo, SetDevice,
    Settings, SettingsResult, SettingsUpdate, Setup, SetupRequest, ShareRanges,
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
        desktop_settings,
        set_desktop_settings,
        node_state,
        ui_ready,
    ]
}
