//! The JSON-RPC 2.0 adapter: each method reads its positional (or named) parameters, calls one
//! typed method of [`Api`], and serializes the typed answer. `docs/api.md` is its reference.

use std::str::FromStr;

use p2share_consensus::ShareHash;
use p2share_rpc::server::codes;
use p2share_rpc::{Credentials, RpcError, RpcServer};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::handle::{Api, ApiError};
use crate::types::{BitcoinCoreConnection, SetDevice, SettingsUpdate, SetupRequest};

/// Largest request body the node's API accepts: a share or transaction at the weight limit in
/// hex, with room to spare. Larger bodies are answered `413 Payload Too Large`.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

impl From<ApiError> for RpcError {
    fn from(e: ApiError) -> RpcError {
        RpcError::new(e.code(), e.to_string())
    }
}

fn required<T: serde::de::DeserializeOwned>(
    p: &Value,
    i: usize,
    name: &str,
) -> Result<T, RpcError> {
    RpcError::required(p, i, name)
}

fn share_hash(p: &Value, i: usize, name: &str) -> Result<ShareHash, RpcError> {
    let s: String = required(p, i, name)?;
    ShareHash::from_str(&s).map_err(|_| {
        RpcError::new(
            codes::INVALID_PARAMETER,
            format!("{name} must be a 64-character hex share id, not {s:?}"),
        )
    })
}

/// The typed answer written straight to JSON text (no intermediate value tree).
fn to_json<T: Serialize>(v: T) -> Result<Box<RawValue>, RpcError> {
    p2share_rpc::to_raw(&v)
}

/// The methods served, in the order of `docs/api.md`'s table.
pub const METHODS: &[&str] = &[
    "getsharechaininfo",
    "getshare",
    "getsharebyheight",
    "getselectedshare",
    "listunspent",
    "getbalance",
    "getshareranges",
    "listbitcoinblocks",
    "sendrawtransaction",
    "submitshare",
    "getmempoolinfo",
    "getrawmempool",
    "getpeerinfo",
    "getnetworkinfo",
    "addpeer",
    "getsyncstatus",
    "getstoreinfo",
    "getmininginfo",
    "setmining",
    "getdevices",
    "setdevice",
    "gethashratehistory",
    "getodds",
    "getnetworkparams",
    "getnodeinfo",
    "testbitcoincore",
    "getsetup",
    "setup",
    "getsettings",
    "setsettings",
    "getwalletinfo",
    "createwallet",
    "restorewallet",
    "unlockwallet",
    "lockwallet",
    "getnewaddress",
    "getwalletbalances",
    "listwalletunspent",
    "sendshares",
    "sendbtc",
    "createpsbt",
    "listwallettransactions",
    "listbtctransactions",
    "listpayouts",
    "listoffers",
    "makeoffer",
    "canceloffer",
    "takeoffer",
    "listswaps",
    "cancelswap",
    "getrefundfile",
    "getlogs",
    "stop",
];

/// `listwallettransactions` without a limit returns this many entries.
pub const DEFAULT_HISTORY_PAGE: u32 = 100;
/// `makeoffer` without a lifetime keeps the offer this many seconds (a day).
pub const DEFAULT_OFFER_TTL: u64 = 86_400;
/// `sendbtc` and `createpsbt` without a fee rate pay this many sat/vB.
pub const DEFAULT_BTC_FEE_RATE: u64 = 2;

/// `listbitcoinblocks` without a count lists this many.
pub const DEFAULT_BITCOIN_BLOCKS: u32 = 50;
/// `gethashratehistory` without a range covers this many seconds.
pub const DEFAULT_HASHRATE_RANGE_SECS: u32 = 3600;
/// `getlogs` without a count returns this many lines.
pub const DEFAULT_LOG_LINES: u32 = 500;

/// Builds the JSON-RPC method table over `api`.
pub fn rpc_server(api: Api, credentials: Credentials) -> RpcServer {
    let mut server = RpcServer::new(credentials).max_body(MAX_BODY);
    macro_rules! method {
        ($name:literal, |$api:ident, $p:ident| $body:expr) => {{
            let a = api.clone();
            server = server.method_raw($name, move |$p: Value| {
                let $api = a.clone();
                async move { $body }
            });
        }};
    }
    method!("getsharechaininfo", |a, _p| to_json(a.chain_info().await));
    method!("getshare", |a, p| {
        to_json(a.share(&share_hash(&p, 0, "hash")?).await?)
    });
    method!("getsharebyheight", |a, p| {
        to_json(a.share_at(required(&p, 0, "height")?).await?)
    });
    method!("getselectedshare", |a, p| {
        let hash: Option<String> = RpcError::param(&p, 0, "hash")?;
        match hash {
            None => to_json(a.next_payout().await),
            Some(_) => to_json(a.share_payout(&share_hash(&p, 0, "hash")?).await?),
        }
    });
    method!("listunspent", |a, p| {
        let s: String = required(&p, 0, "script_or_address")?;
        to_json(a.unspent(&a.script_of(&s)?).await)
    });
    method!("getbalance", |a, p| {
        let s: String = required(&p, 0, "script_or_address")?;
        to_json(a.balance(&a.script_of(&s)?).await)
    });
    method!("getshareranges", |a, p| {
        let s: String = required(&p, 0, "script_or_address")?;
        to_json(a.share_ranges(&a.script_of(&s)?).await)
    });
    method!("listbitcoinblocks", |a, p| {
        let count: Option<u32> = RpcError::param(&p, 0, "count")?;
        to_json(
            a.bitcoin_blocks(count.unwrap_or(DEFAULT_BITCOIN_BLOCKS))
                .await?,
        )
    });
    method!("sendrawtransaction", |a, p| {
        let hex: String = required(&p, 0, "hexstring")?;
        to_json(a.send_raw_transaction(&hex).await?)
    });
    method!("submitshare", |a, p| {
        let hex: String = required(&p, 0, "hexstring")?;
        to_json(a.submit_share(&hex).await?)
    });
    method!("getmempoolinfo", |a, _p| to_json(a.mempool_info().await));
    method!("getrawmempool", |a, _p| to_json(a.raw_mempool().await));
    method!("getpeerinfo", |a, _p| to_json(a.peers().await?));
    method!("getnetworkinfo", |a, _p| to_json(a.network_info().await?));
    method!("addpeer", |a, p| {
        let addr: String = required(&p, 0, "multiaddr")?;
        a.add_peer(&addr).await?;
        to_json(())
    });
    method!("getsyncstatus", |a, _p| to_json(a.sync_status()));
    method!("getstoreinfo", |a, _p| to_json(a.store_info().await?));
    method!("getmininginfo", |a, _p| to_json(a.mining_info().await?));
    method!("setmining", |a, p| {
        let enabled: bool = required(&p, 0, "enabled")?;
        let threads: Option<u32> = RpcError::param(&p, 1, "threads")?;
        to_json(a.set_mining(enabled, threads).await?)
    });
    method!("getdevices", |a, _p| to_json(a.devices().await));
    method!("getwalletinfo", |a, _p| to_json(a.wallet_info().await?));
    method!("createwallet", |a, p| {
        let passphrase: String = required(&p, 0, "passphrase")?;
        to_json(a.create_wallet(&passphrase).await?)
    });
    method!("restorewallet", |a, p| {
        let words: String = required(&p, 0, "words")?;
        let passphrase: String = required(&p, 1, "passphrase")?;
        to_json(a.restore_wallet(&words, &passphrase).await?)
    });
    method!("unlockwallet", |a, p| {
        let passphrase: String = required(&p, 0, "passphrase")?;
        to_json(a.unlock_wallet(&passphrase).await?)
    });
    method!("lockwallet", |a, _p| to_json(a.lock_wallet().await?));
    method!("getnewaddress", |a, _p| to_json(a.new_address().await?));
    method!("getwalletbalances", |a, _p| to_json(
        a.wallet_balances().await?
    ));
    method!("listwalletunspent", |a, _p| to_json(
        a.wallet_coins().await?
    ));
    method!("sendshares", |a, p| {
        let address: String = required(&p, 0, "address")?;
        let amount: String = required(&p, 1, "amount")?;
        let fee_rate: Option<u64> = RpcError::param(&p, 2, "fee_rate")?;
        to_json(a.send_shares(&address, &amount, fee_rate).await?)
    });
    method!("sendbtc", |a, p| {
        let address: String = required(&p, 0, "address")?;
        let amount: String = required(&p, 1, "amount")?;
        let rate: Option<u64> = RpcError::param(&p, 2, "sat_per_vb")?;
        to_json(
            a.send_btc(&address, &amount, rate.unwrap_or(DEFAULT_BTC_FEE_RATE))
                .await?,
        )
    });
    method!("createpsbt", |a, p| {
        let address: String = required(&p, 0, "address")?;
        let amount: String = required(&p, 1, "amount")?;
        let rate: Option<u64> = RpcError::param(&p, 2, "sat_per_vb")?;
        to_json(
            a.create_psbt(&address, &amount, rate.unwrap_or(DEFAULT_BTC_FEE_RATE))
                .await?,
        )
    });
    method!("listwallettransactions", |a, p| {
        let offset: Option<u32> = RpcError::param(&p, 0, "offset")?;
        let limit: Option<u32> = RpcError::param(&p, 1, "limit")?;
        to_json(
            a.wallet_transactions(offset.unwrap_or(0), limit.unwrap_or(DEFAULT_HISTORY_PAGE))
                .await?,
        )
    });
    method!("listbtctransactions", |a, _p| to_json(
        a.btc_transactions().await?
    ));
    method!("listpayouts", |a, _p| to_json(a.payouts().await?));
    method!("listoffers", |a, _p| to_json(a.offers().await?));
    method!("makeoffer", |a, p| {
        let maker_sells: String = required(&p, 0, "maker_sells")?;
        let min: String = required(&p, 1, "min")?;
        let max: String = required(&p, 2, "max")?;
        let price: u64 = required(&p, 3, "price")?;
        let ttl: Option<u64> = RpcError::param(&p, 4, "ttl_secs")?;
        to_json(
            a.make_offer(
                &maker_sells,
                &min,
                &max,
                price,
                ttl.unwrap_or(DEFAULT_OFFER_TTL),
            )
            .await?,
        )
    });
    method!("canceloffer", |a, p| {
        let id: String = required(&p, 0, "id")?;
        to_json(a.cancel_offer(&id).await?)
    });
    method!("takeoffer", |a, p| {
        let id: String = required(&p, 0, "id")?;
        let amount: String = required(&p, 1, "amount")?;
        to_json(a.take_offer(&id, &amount).await?)
    });
    method!("listswaps", |a, _p| to_json(a.swaps().await?));
    method!("cancelswap", |a, p| {
        let id: String = required(&p, 0, "id")?;
        to_json(a.cancel_swap(&id).await?)
    });
    method!("getrefundfile", |a, p| {
        let id: String = required(&p, 0, "id")?;
        to_json(a.refund_file(&id).await?)
    });
    method!("setdevice", |a, p| {
        let set = SetDevice {
            id: required(&p, 0, "id")?,
            enabled: RpcError::param(&p, 1, "enabled")?,
            intensity: RpcError::param(&p, 2, "intensity")?,
        };
        to_json(a.set_device(&set).await?)
    });
    method!("gethashratehistory", |a, p| {
        let range: Option<u32> = RpcError::param(&p, 0, "range_secs")?;
        to_json(
            a.hashrate_history(range.unwrap_or(DEFAULT_HASHRATE_RANGE_SECS))
                .await?,
        )
    });
    method!("getodds", |a, p| {
        let s: String = required(&p, 0, "script_or_address")?;
        to_json(a.odds(&a.script_of(&s)?).await)
    });
    method!("getnetworkparams", |a, _p| to_json(
        a.network_params().await
    ));
    method!("getnodeinfo", |a, _p| to_json(a.node_info().await));
    method!("testbitcoincore", |a, p| {
        let conn: BitcoinCoreConnection = required(&p, 0, "connection")?;
        to_json(a.test_bitcoin_core(&conn).await)
    });
    method!("getsetup", |a, _p| to_json(a.setup_state()?));
    method!("setup", |a, p| {
        let request: SetupRequest = required(&p, 0, "setup")?;
        to_json(a.setup(&request)?)
    });
    method!("getsettings", |a, _p| to_json(a.settings()?));
    method!("setsettings", |a, p| {
        let update: SettingsUpdate = required(&p, 0, "settings")?;
        to_json(a.update_settings(&update).await?)
    });
    method!("getlogs", |a, p| {
        let count: Option<u32> = RpcError::param(&p, 0, "count")?;
        to_json(a.logs(count.unwrap_or(DEFAULT_LOG_LINES) as usize))
    });
    method!("stop", |a, _p| to_json(a.stop()));
    server
}
