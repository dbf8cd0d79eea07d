// Generated from the node's Rust types by ts-rs (node/api/src/bindings.rs). Do not edit:
// run `UPDATE_BINDINGS=1 cargo test -p p2share-api --lib bindings` after changing them.

/**
 * What the node tells its listeners.
 */
export type NodeEvent = { "type": "tip", 
/**
 * New tip id.
 */
hash: string, 
/**
 * Its height.
 */
height: number, 
/**
 * Shares disconnected by a reorganization (0 when the tip was extended).
 */
reorg_depth: number, } | { "type": "share", 
/**
 * Share id.
 */
hash: string, 
/**
 * Its height.
 */
height: number, 
/**
 * Whether it is on the active chain now.
 */
active: boolean, 
/**
 * Where it came from.
 */
origin: Origin, } | { "type": "transaction", 
/**
 * Its id.
 */
txid: string, } | { "type": "sync" } & SyncStatus | { "type": "peers", 
/**
 * Connected peers now.
 */
connected: number, } | { "type": "found_share", 
/**
 * Share id.
 */
hash: string, 
/**
 * Its height.
 */
height: number, } | { "type": "bitcoin_block" } & FoundBlock | { "type": "hashrate" } & HashrateSample | { "type": "mining" } & MiningState | { "type": "log" } & LogLine | { "type": "stratum" } & StratumNote;

/**
 * Where a share came from (for logs and relay decisions).
 */
export type Origin = "local" | "gossip" | "sync" | "api";

/**
 * Where sync stands, for the API and the logs.
 */
export type SyncStatus = { 
/**
 * `idle` (no peer connected), `headers` / `bodies` (syncing), or `synced` (no connected
 * peer has more work).
 */
state: string, 
/**
 * Our active height.
 */
height: number, 
/**
 * Best height a peer announced.
 */
target_height: number, 
/**
 * Heads downloaded and checked in this sync.
 */
headers: number, 
/**
 * Shares connected per second over the last interval.
 */
rate: number, 
/**
 * Estimated seconds left, when syncing.
 */
eta_seconds: number | null, 
/**
 * `height / target_height`, 0 to 1.
 */
progress: number, 
/**
 * Peer the headers come from.
 */
peer: string | null, };

/**
 * A Bitcoin block this node found (kept in the store across restarts).
 */
export type FoundBlock = { 
/**
 * Bitcoin block hash.
 */
block_hash: string, 
/**
 * Bitcoin height.
 */
bitcoin_height: number, 
/**
 * The share that is the block.
 */
share: string, 
/**
 * Sharechain height.
 */
share_height: number, 
/**
 * The selected share's outpoint (`txid:vout`), or `null` while `n` was 0.
 */
selected: string | null, 
/**
 * The script the coinbase paid (hex).
 */
paid_script: string, 
/**
 * Value paid, satoshis.
 */
value_sat: number, 
/**
 * What the mainchain answered (`accepted` or its reject reason).
 */
outcome: string, 
/**
 * Unix time.
 */
time: number, 
/**
 * The sharechain tip the block's share builds on (the payout was selected from it). The
 * block goes to Bitcoin before its share to the sharechain, so the share itself may be
 * unknown (refused, stale, a spare solution); `null` in records of older versions.
 */
parent_share: string | null, 
/**
 * Who found it: `cpu`, `opencl:<device>` or `stratum:<worker>`; `null` in older records.
 */
finder: string | null, };

/**
 * One hasher's rate.
 */
export type HasherRate = { 
/**
 * Hasher name (`cpu`; later GPUs and Stratum workers).
 */
name: string, 
/**
 * Backend (`sha-ni`, `avx512`, `avx2`, `portable`).
 */
backend: string, 
/**
 * Threads.
 */
threads: number, 
/**
 * Hashes per second.
 */
hashrate: number, };

/**
 * The local hashers' rates at one moment.
 */
export type HashrateSample = { 
/**
 * Sum over the hashers, hashes per second.
 */
hashrate: number, 
/**
 * Per hasher.
 */
hashers: Array<HasherRate>, };

/**
 * Whether the local miner runs, and how.
 */
export type MiningState = { 
/**
 * Mining now.
 */
mining: boolean, 
/**
 * Hasher threads (the configured count while stopped).
 */
threads: number, 
/**
 * Hasher backend, once known.
 */
backend: string | null, };

/**
 * One log line.
 */
export type LogLine = { 
/**
 * Unix time in milliseconds.
 */
time: number, 
/**
 * `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
 */
level: string, 
/**
 * The module that logged it.
 */
target: string, 
/**
 * The message with its fields (`key=value`).
 */
message: string, };

/**
 * What a mining device on the Stratum port did.
 */
export type StratumNote = { 
/**
 * Connection id.
 */
id: number, 
/**
 * Its user name (`address.worker`; empty before authorize).
 */
worker: string, 
/**
 * `connected`, `authorized`, `difficulty`, `rejected` or `disconnected`.
 */
kind: string, 
/**
 * The remote address, the new difficulty, or the reason.
 */
detail: string, };

/**
 * `getdevices`.
 */
export type Devices = { 
/**
 * The CPU miner.
 */
cpu: CpuDevice, 
/**
 * OpenCL devices.
 */
opencl: OpenClInfo, 
/**
 * The Stratum server and its workers.
 */
stratum: StratumInfo, };

/**
 * The CPU miner.
 */
export type CpuDevice = { 
/**
 * Mining now.
 */
mining: boolean, 
/**
 * Hasher threads (the configured count while stopped).
 */
threads: number, 
/**
 * The most threads `setmining` takes.
 */
max_threads: number, 
/**
 * `sha-ni`, `avx512`, `avx2` or `portable`, once known.
 */
backend: string | null, 
/**
 * Hashes per second.
 */
hashrate: number, };

/**
 * The OpenCL side.
 */
export type OpenClInfo = { 
/**
 * An OpenCL loader and platform were found.
 */
available: boolean, 
/**
 * Why not, when not.
 */
error: string | null, 
/**
 * Intensities `setdevice` takes: `[lowest, highest]`.
 */
intensity_range: [number, number], 
/**
 * The devices.
 */
devices: Array<OpenClDeviceInfo>, };

/**
 * One OpenCL device.
 */
export type OpenClDeviceInfo = { 
/**
 * `"<platform>:<device>"`, what `setdevice` and the config take.
 */
id: string, 
/**
 * The device's name.
 */
name: string, 
/**
 * Its vendor.
 */
vendor: string, 
/**
 * Its platform (driver).
 */
platform: string, 
/**
 * `gpu`, `cpu` or `accelerator`.
 */
kind: string, 
/**
 * Compute units.
 */
compute_units: number, 
/**
 * The most clock, MHz.
 */
max_clock_mhz: number, 
/**
 * Global memory, bytes.
 */
global_memory: number, 
/**
 * Nonces per work item (the kernel's vector width).
 */
vector_width: number, 
/**
 * Mines while mining is on.
 */
enabled: boolean, 
/**
 * Log2 of the most nonces per launch.
 */
intensity: number, 
/**
 * Mining now.
 */
mining: boolean, 
/**
 * Hashes per second.
 */
hashrate: number, 
/**
 * Why it stopped or did not start.
 */
error: string | null, };

/**
 * The Stratum server.
 */
export type StratumInfo = { 
/**
 * It listens.
 */
enabled: boolean, 
/**
 * Its address.
 */
bind: string | null, 
/**
 * Where to point a device (`stratum+tcp://…`), the LAN's first.
 */
urls: Array<string>, 
/**
 * The node's own address, a ready user name (`<address>.<worker>`); any address of the
 * network works, and its shares pay it.
 */
user: string | null, 
/**
 * Difficulty clamps and the start value.
 */
min_difficulty: number | null, 
/**
 * The highest difficulty.
 */
max_difficulty: number | null, 
/**
 * A new connection's difficulty.
 */
start_difficulty: number | null, 
/**
 * Seconds between a device's shares that vardiff aims at.
 */
share_interval_secs: number | null, 
/**
 * Devices connected now.
 */
workers: Array<WorkerInfo>, };

/**
 * A mining device connected to the Stratum server.
 */
export type WorkerInfo = { 
/**
 * Connection id.
 */
id: number, 
/**
 * The user name it authorized with (`address.worker`; empty before authorize).
 */
worker: string, 
/**
 * The address its shares pay.
 */
address: string, 
/**
 * The worker name (after the first `.`).
 */
name: string, 
/**
 * Its user agent (from `mining.subscribe`).
 */
user_agent: string, 
/**
 * Its socket address.
 */
remote: string, 
/**
 * Unix seconds it connected.
 */
connected_at: number, 
/**
 * Unix seconds of its last line.
 */
last_seen: number, 
/**
 * Its difficulty now.
 */
difficulty: number, 
/**
 * Hashes per second over the last minute (from accepted difficulty).
 */
hashrate_1m: number, 
/**
 * … 15 minutes.
 */
hashrate_15m: number, 
/**
 * … an hour.
 */
hashrate_1h: number, 
/**
 * Accepted device shares.
 */
accepted: number, 
/**
 * Rejected device shares by reason.
 */
rejected: WorkerRejections, 
/**
 * Its best share's difficulty.
 */
best_difficulty: number, 
/**
 * Shares that met the sharechain's or Bitcoin's target.
 */
solutions: number, };

/**
 * A Stratum worker's rejected shares by reason.
 */
export type WorkerRejections = { 
/**
 * Jobs issued before a clean notify (error 21).
 */
stale: number, 
/**
 * Submitted before (error 22).
 */
duplicate: number, 
/**
 * Below the job's difficulty (error 23).
 */
low_difficulty: number, 
/**
 * Unknown job (error 21).
 */
bad_job: number, 
/**
 * Anything else (errors 20, 24, 25).
 */
other: number, };

/**
 * `setdevice` parameters.
 */
export type SetDevice = { 
/**
 * The OpenCL device id.
 */
id: string, 
/**
 * Mine on it while mining is on.
 */
enabled: boolean | null, 
/**
 * Log2 of the most nonces per launch.
 */
intensity: number | null, };

/**
 * `getsharechaininfo`: the active chain in numbers, with sync status and mempool size.
 */
export type ChainInfo = { 
/**
 * Network name.
 */
network: string, 
/**
 * Genesis share id.
 */
genesis: string, 
/**
 * Tip id.
 */
tip: string, 
/**
 * Tip height.
 */
height: number, 
/**
 * Cumulative work, hex.
 */
chain_work: string, 
/**
 * Compact target the next share must meet (8 hex digits).
 */
next_bits: string, 
/**
 * Pow limit ÷ the next share's target: 1 at the limit, larger when harder.
 */
difficulty: number, 
/**
 * Median time past at the tip.
 */
median_time_past: number, 
/**
 * Tip time.
 */
tip_time: number, 
/**
 * Unspent outputs.
 */
utxos: number, 
/**
 * Eligible share units (`n`).
 */
eligible_total: number, 
/**
 * Reorg window.
 */
window: number, 
/**
 * Sync status.
 */
sync: SyncStatus, 
/**
 * Transactions in the mempool.
 */
mempool_size: number, };

/**
 * An output the payout rule selected.
 */
export type PayoutInfo = { 
/**
 * The selector reduced modulo `n`.
 */
q: number, 
/**
 * Sum of eligible values, share units.
 */
n: number, 
/**
 * Selected output's transaction.
 */
txid: string, 
/**
 * Selected output's index.
 */
vout: number, 
/**
 * The script a Bitcoin coinbase must pay (hex).
 */
script_pubkey: string, 
/**
 * Selected output's value, share units.
 */
value: number, 
/**
 * Sum of eligible values before it in canonical order.
 */
range_start: number, };

/**
 * The coinbase output a share's Bitcoin work actually pays.
 */
export type PayeeInfo = { 
/**
 * Output index in the coinbase.
 */
vout: number, 
/**
 * Its script (hex).
 */
script_pubkey: string, 
/**
 * Its address on the network's Bitcoin chain, when it has one.
 */
address: string | null, 
/**
 * Its value, satoshis.
 */
value_sat: number, };

/**
 * A share's Bitcoin work.
 */
export type BitcoinWorkInfo = { 
/**
 * The Bitcoin header's hash.
 */
block_hash: string, 
/**
 * The Bitcoin block it builds on.
 */
prev_block: string, 
/**
 * Bitcoin header time.
 */
time: number, 
/**
 * Bitcoin compact target (8 hex digits).
 */
bits: string, 
/**
 * Nonce.
 */
nonce: number, 
/**
 * The coinbase's txid.
 */
coinbase_txid: string, 
/**
 * What the coinbase pays.
 */
payee: PayeeInfo | null, };

/**
 * One transaction of a share.
 */
export type TxInfo = { 
/**
 * Its id.
 */
txid: string, 
/**
 * Its serialization (hex).
 */
hex: string, };

/**
 * `getshare`, `getsharebyheight`: one share.
 */
export type ShareInfo = { 
/**
 * Share id.
 */
hash: string, 
/**
 * Height.
 */
height: number, 
/**
 * On the active chain.
 */
active: boolean, 
/**
 * Header version.
 */
version: number, 
/**
 * Parent share.
 */
prev_share: string, 
/**
 * Transaction root.
 */
tx_root: string, 
/**
 * Share time.
 */
time: number, 
/**
 * Compact target (8 hex digits).
 */
bits: string, 
/**
 * The Bitcoin work.
 */
bitcoin: BitcoinWorkInfo, 
/**
 * The output its Bitcoin coinbase had to pay (`null` while `n` was 0 or not recorded).
 */
payout: PayoutInfo | null, 
/**
 * The body was pruned from disk.
 */
pruned: boolean, 
/**
 * Transactions (`null` when pruned).
 */
tx: Array<TxInfo> | null, 
/**
 * The share's serialization (`null` when pruned).
 */
hex: string | null, };

/**
 * `getselectedshare` without a hash: what the next Bitcoin block must pay. While `n = 0`
 * only `n`, `note`, `tip` and `height` are present.
 */
export type NextPayout = { 
/**
 * The selector reduced modulo `n`.
 */
q?: number, 
/**
 * Sum of eligible values, share units.
 */
n: number, 
/**
 * Selected output's transaction.
 */
txid?: string, 
/**
 * Selected output's index.
 */
vout?: number, 
/**
 * The script the next Bitcoin coinbase must pay (hex).
 */
script_pubkey?: string, 
/**
 * Selected output's value, share units.
 */
value?: number, 
/**
 * Start of the selected output's range.
 */
range_start?: number, 
/**
 * While `n = 0`: why nothing is selected.
 */
note?: string, 
/**
 * The tip the selection was made on.
 */
tip: string, 
/**
 * Its height.
 */
height: number, };

/**
 * `getselectedshare` with a hash: what that share's Bitcoin coinbase paid.
 */
export type SharePayout = { 
/**
 * The share.
 */
hash: string, 
/**
 * Its height.
 */
height: number, 
/**
 * The selected output, when recorded.
 */
payout: PayoutInfo | null, 
/**
 * What the coinbase paid.
 */
payee: PayeeInfo | null, };

/**
 * One unspent output of a script (`listunspent`).
 */
export type UnspentOutput = { 
/**
 * Transaction.
 */
txid: string, 
/**
 * Output index.
 */
vout: number, 
/**
 * Value, share units.
 */
value: number, 
/**
 * Height of the share that created it.
 */
height: number, 
/**
 * A sharebase output.
 */
sharebase: boolean, 
/**
 * Spendable.
 */
mature: boolean, 
/**
 * Counted in `n`.
 */
eligible: boolean, };

/**
 * `getbalance`.
 */
export type Balance = { 
/**
 * All unspent value, share units.
 */
total: number, 
/**
 * Eligible value (`v`).
 */
eligible: number, 
/**
 * Not yet eligible.
 */
immature: number, 
/**
 * Unspent outputs.
 */
outputs: number, 
/**
 * All eligible units (`n`).
 */
n: number, 
/**
 * `v / n`.
 */
chance_next_block: number, };

/**
 * `submitshare`.
 */
export type SubmitShareReply = { 
/**
 * Share id.
 */
hash: string, 
/**
 * `extended`, `reorganized`, `side_branch`, `already_known` or `orphan`.
 */
outcome: string, 
/**
 * Shares disconnected by a reorganization.
 */
reorg_depth: number, 
/**
 * For `orphan`: the parent the node waits for.
 */
missing_parent?: string, };

/**
 * `getmempoolinfo`.
 */
export type MempoolInfo = { 
/**
 * Transactions.
 */
size: number, 
/**
 * Their virtual size.
 */
vsize_bytes: number, 
/**
 * Their fees, share units.
 */
total_fee: number, 
/**
 * Rolling minimum fee rate.
 */
min_fee_rate: string, 
/**
 * Size limit.
 */
max_vsize: number, };

/**
 * `getstoreinfo`.
 */
export type StoreInfo = { 
/**
 * Shares stored (heads).
 */
shares: number, 
/**
 * Bodies stored.
 */
bodies: number, 
/**
 * Unspent outputs.
 */
utxos: number, 
/**
 * Undo records.
 */
undo: number, 
/**
 * Database size in bytes.
 */
file_bytes: number, };

/**
 * One output of a holder with its place in `[0, n)` (`getshareranges`).
 */
export type RangeOutput = { 
/**
 * Transaction.
 */
txid: string, 
/**
 * Output index.
 */
vout: number, 
/**
 * Value, share units.
 */
value: number, 
/**
 * Height of the share that created it.
 */
height: number, 
/**
 * A sharebase output.
 */
sharebase: boolean, 
/**
 * Spendable.
 */
mature: boolean, 
/**
 * Counted in `n`.
 */
eligible: boolean, 
/**
 * Shares until it counts in `n` (0 when eligible).
 */
shares_to_eligible: number, 
/**
 * Start of its range in canonical order (`null` unless eligible).
 */
range_start: number | null, };

/**
 * A recent selection: the `q` a share's Bitcoin coinbase paid.
 */
export type Selection = { 
/**
 * The share whose coinbase paid it.
 */
share: string, 
/**
 * Its height.
 */
share_height: number, 
/**
 * The selector modulo `n`.
 */
q: number, 
/**
 * `n` then.
 */
n: number, };

/**
 * `getshareranges`: a holder's outputs on `[0, n)` and the recent selections.
 */
export type ShareRanges = { 
/**
 * Tip height.
 */
height: number, 
/**
 * The network's maturity.
 */
maturity: number, 
/**
 * All eligible units.
 */
n: number, 
/**
 * The holder's eligible units.
 */
v: number, 
/**
 * The holder's outputs.
 */
outputs: Array<RangeOutput>, 
/**
 * The last selections, newest first.
 */
recent_selections: Array<Selection>, };

/**
 * A Bitcoin block the network found (`listbitcoinblocks`).
 */
export type BitcoinBlock = { 
/**
 * The share that is the block.
 */
share: string, 
/**
 * Its height.
 */
share_height: number, 
/**
 * The Bitcoin block hash.
 */
bitcoin_hash: string, 
/**
 * Bitcoin header time.
 */
time: number, 
/**
 * What the payout rule selected (`null` while `n` was 0).
 */
payout: PayoutInfo | null, 
/**
 * The script the coinbase paid (hex).
 */
paid_script: string, 
/**
 * Its address, when it has one.
 */
paid_address: string | null, 
/**
 * Value paid, satoshis.
 */
value_sat: number, 
/**
 * The paid script is this node's mining script.
 */
mine: boolean, 
/**
 * This node's hashers found it.
 */
found_here: boolean, 
/**
 * The parent share's selector bytes (160 bytes, hex): the input of this block's `q`.
 */
selector_input: string, 
/**
 * The mainchain's answer when this node submitted it (`null` otherwise).
 */
outcome: string | null, };

/**
 * One hasher in `getmininginfo`.
 */
export type HasherInfo = { 
/**
 * `cpu`.
 */
name: string, 
/**
 * `sha-ni`, `avx512`, `avx2` or `portable`.
 */
backend: string, 
/**
 * Threads.
 */
threads: number, 
/**
 * Hashes per second.
 */
hashrate: number, 
/**
 * Hashes done.
 */
hashes: number, 
/**
 * Per thread.
 */
thread_hashrates: Array<number>, };

/**
 * Expected seconds to the next share.
 */
export type ExpectedSeconds = { 
/**
 * At this node's hashrate.
 */
node: number | null, 
/**
 * At the network's.
 */
network: number | null, };

/**
 * Tip-to-work latency.
 */
export type TipRefresh = { 
/**
 * Median, ms.
 */
p50: number | null, 
/**
 * 99th percentile, ms.
 */
p99: number | null, 
/**
 * Worst, ms.
 */
max: number | null, 
/**
 * Tips measured.
 */
tips: number, };

/**
 * `getmininginfo`.
 */
export type MiningInfo = { 
/**
 * The node's miner is running.
 */
mining: boolean, 
/**
 * Hasher threads (configured while stopped).
 */
threads: number, 
/**
 * Sharechain height.
 */
height: number, 
/**
 * Compact target of the next share.
 */
share_bits: string, 
/**
 * Full target (hex).
 */
share_target: string, 
/**
 * Expected hashes per share.
 */
hashes_per_share: number, 
/**
 * This node's hashrate.
 */
hashrate: number, 
/**
 * Per hasher (`null` when no miner ever ran).
 */
hashers: Array<HasherInfo> | null, 
/**
 * The network's hashrate from the last 120 shares.
 */
network_hashrate: number, 
/**
 * Expected seconds to a share.
 */
expected_seconds_to_share: ExpectedSeconds, 
/**
 * Target of the latest Bitcoin template (hex).
 */
bitcoin_target: string | null, 
/**
 * Expected seconds to the network's next Bitcoin block.
 */
expected_seconds_to_bitcoin_block: number | null, 
/**
 * Shares found.
 */
shares_found: number | null, 
/**
 * Stale solutions.
 */
stale: number | null, 
/**
 * Own shares refused.
 */
rejected: number | null, 
/**
 * The last refusal's reason.
 */
last_reject: string | null, 
/**
 * Milliseconds to build the current job.
 */
last_job_ms: number | null, 
/**
 * Tip-to-work latency.
 */
tip_refresh_ms: TipRefresh | null, 
/**
 * Bitcoin blocks this node found, oldest first.
 */
blocks: Array<FoundBlock> | null, };

/**
 * `getodds`.
 */
export type Odds = { 
/**
 * The holder's eligible units.
 */
v: number, 
/**
 * All eligible units.
 */
n: number, 
/**
 * `v / n`.
 */
chance_next_block: number, 
/**
 * The network's hashrate.
 */
network_hashrate: number, 
/**
 * Bitcoin blocks the network finds per day at that hashrate.
 */
bitcoin_blocks_per_day: number | null, 
/**
 * Blocks per day × chance × the template's coinbase value, BTC.
 */
expected_btc_per_day: number | null, };

/**
 * One hasher's series in `gethashratehistory`.
 */
export type HashrateSeries = { 
/**
 * Hasher name.
 */
name: string, 
/**
 * `[unix time, hashes per second]`, oldest first.
 */
points: Array<[number, number]>, };

/**
 * `gethashratehistory`.
 */
export type HashrateHistory = { 
/**
 * Seconds per point.
 */
step_secs: number, 
/**
 * Per hasher.
 */
hashers: Array<HashrateSeries>, };

/**
 * A connected peer (`getpeerinfo`).
 */
export type PeerInfo = { 
/**
 * Peer id.
 */
peer_id: string, 
/**
 * Addresses of its connections.
 */
addrs: Array<string>, 
/**
 * It dialled us.
 */
inbound: boolean, 
/**
 * Its agent string.
 */
agent: string | null, 
/**
 * Penalty score.
 */
score: number, 
/**
 * Unix time of its first connection.
 */
connected_since: number, 
/**
 * Ping round trip.
 */
latency_ms: number | null, 
/**
 * Height it announced.
 */
height: number | null, };

/**
 * A banned peer.
 */
export type BannedPeer = { 
/**
 * Peer id.
 */
peer_id: string, 
/**
 * Seconds left.
 */
seconds_left: number, };

/**
 * `getnetworkinfo`.
 */
export type NetworkInfo = { 
/**
 * Network name.
 */
network: string, 
/**
 * Our peer id.
 */
peer_id: string, 
/**
 * Listen addresses.
 */
listen_addrs: Array<string>, 
/**
 * Connected peers.
 */
connections: number, 
/**
 * AutoNAT's view: `Disabled`, `Unknown`, `Private` or `Public(<addr>)`.
 */
nat: string, 
/**
 * Banned peers.
 */
banned: Array<BannedPeer>, };

/**
 * Default ports of a network.
 */
export type Ports = { 
/**
 * Sharechain p2p.
 */
p2p: number, 
/**
 * API and dashboard.
 */
api: number, };

/**
 * One output of a network's genesis allocation.
 */
export type AllocationOutput = { 
/**
 * Its script (hex).
 */
script_pubkey: string, 
/**
 * Its value, share units.
 */
value: number, };

/**
 * `getnetworkparams`: the running network's parameters.
 */
export type NetworkParams = { 
/**
 * Network name.
 */
name: string, 
/**
 * `<genesis time>-<genesis bits>` on a devnet, else `null`.
 */
devnet_id: string | null, 
/**
 * Message start, 4 bytes hex.
 */
magic: string, 
/**
 * The Bitcoin network: `main`, `testnet4`, `signet` or `regtest`.
 */
mainchain: string, 
/**
 * Bech32 prefix of addresses.
 */
address_hrp: string, 
/**
 * Genesis share id.
 */
genesis_hash: string, 
/**
 * Genesis time.
 */
genesis_time: number, 
/**
 * Easiest share target (8 hex digits).
 */
pow_limit_bits: string, 
/**
 * Genesis share target (8 hex digits).
 */
genesis_bits: string, 
/**
 * Seconds per share.
 */
target_spacing: number, 
/**
 * ASERT half-life, seconds.
 */
asert_half_life: number, 
/**
 * Subsidy of the first shares, share units.
 */
initial_subsidy: number, 
/**
 * Shares between halvings.
 */
halving_interval: number, 
/**
 * Shares before a sharebase output matures.
 */
maturity: number, 
/**
 * Most seconds a share's time may be ahead.
 */
max_future_time: number, 
/**
 * Most weight of a share.
 */
max_share_weight: number, 
/**
 * Most signature-operation cost of a share.
 */
max_share_sigops_cost: number, 
/**
 * Default ports.
 */
default_ports: Ports, 
/**
 * The genesis share's outputs (empty on the built-in networks and devnets).
 */
genesis_allocation: Array<AllocationOutput>, };

/**
 * Where the node gets Bitcoin from.
 */
export type BitcoinSourceInfo = { 
/**
 * `embedded` (the devnet's regtest chain), `core` (the user's Bitcoin Core) or `none`.
 */
kind: string, 
/**
 * JSON-RPC URL.
 */
rpc_url: string | null, 
/**
 * Esplora URL (embedded only).
 */
esplora_url: string | null, 
/**
 * The Bitcoin network.
 */
chain: string, };

/**
 * `getnodeinfo`: this node at a glance.
 */
export type NodeInfo = { 
/**
 * Software version.
 */
version: string, 
/**
 * Network name.
 */
network: string, 
/**
 * Devnet id, on a devnet.
 */
devnet_id: string | null, 
/**
 * Data directory.
 */
datadir: string, 
/**
 * API and dashboard address.
 */
api_bind: string | null, 
/**
 * Address the node's hashers are paid to.
 */
mining_address: string | null, 
/**
 * Its script (hex).
 */
mining_script: string | null, 
/**
 * Bitcoin side.
 */
bitcoin: BitcoinSourceInfo, 
/**
 * Our p2p id.
 */
peer_id: string, 
/**
 * Addresses others dial us at.
 */
dial_addrs: Array<string>, 
/**
 * Unix time the node started.
 */
started_at: number, };

/**
 * `testbitcoincore`: can the node use this Bitcoin Core?
 */
export type BitcoinCoreTest = { 
/**
 * It answered and can serve templates.
 */
ok: boolean, 
/**
 * Its chain (`main`, `test`, `testnet4`, `signet`, `regtest`).
 */
chain: string | null, 
/**
 * Its block height.
 */
blocks: number | null, 
/**
 * Exactly what is wrong.
 */
error: string | null, };

/**
 * A Bitcoin Core connection.
 */
export type BitcoinCoreConnection = { 
/**
 * JSON-RPC URL, e.g. `http://127.0.0.1:8332`.
 */
url: string, 
/**
 * Its `.cookie` file.
 */
cookie_file?: string, 
/**
 * User (with `password`) instead of the cookie.
 */
user?: string, 
/**
 * Password.
 */
password?: string, };

/**
 * `getsetup`: whether the node has been set up to mine, and on what.
 */
export type Setup = { 
/**
 * Mining is set up (a devnet, or a network with a Bitcoin node and an address).
 */
configured: boolean, 
/**
 * The network running now.
 */
network: string | null, 
/**
 * `embedded`, `core` or `null`.
 */
bitcoin: string | null, };

/**
 * `setup`: what to run from now on.
 */
export type SetupRequest = { "kind": "devnet" } | { "kind": "join", 
/**
 * The devnet's id, `<genesis time>-<bits>`.
 */
devnet_id: string, 
/**
 * A node of it, `/ip4/…/tcp/…/p2p/<peer id>`.
 */
peer: string, } | { "kind": "network", 
/**
 * Built-in name or TOML text.
 */
network: string, 
/**
 * The Bitcoin Core to mine on.
 */
bitcoin: BitcoinCoreConnection, };

/**
 * `setup` and `setsettings` answers.
 */
export type SettingsResult = { 
/**
 * The node restarts to apply them (the UI reconnects).
 */
restart_required: boolean, };

/**
 * The Bitcoin side in `getsettings` (no secrets).
 */
export type SettingsBitcoin = { 
/**
 * `embedded`, `core` or `none`.
 */
kind: string, 
/**
 * JSON-RPC URL.
 */
url: string | null, 
/**
 * `cookie` or `user`.
 */
auth: string | null, };

/**
 * `getsettings`.
 */
export type Settings = { 
/**
 * Network.
 */
network: string, 
/**
 * Data directory of the node.
 */
datadir: string, 
/**
 * API and dashboard address.
 */
api_bind: string, 
/**
 * The Bitcoin side.
 */
bitcoin: SettingsBitcoin, 
/**
 * Hasher threads.
 */
threads: number, };

/**
 * `setsettings`: only the fields present change.
 */
export type SettingsUpdate = { 
/**
 * API and dashboard address (`ip:port`).
 */
api_bind?: string, 
/**
 * Hasher threads.
 */
threads?: number, 
/**
 * The Bitcoin Core to mine on.
 */
bitcoin?: BitcoinCoreConnection, };

/**
 * `getwalletinfo`.
 */
export type WalletInfo = { 
/**
 * A wallet exists (else the first-run screen creates or restores one).
 */
exists: boolean, 
/**
 * It can sign (sends need this).
 */
unlocked: boolean, 
/**
 * Unix time the seed was made or restored.
 */
birthday: number | null, 
/**
 * Share the history is synced to.
 */
share_height: number | null, 
/**
 * Bitcoin block the BTC wallet is synced to.
 */
btc_height: number | null, 
/**
 * Why the BTC wallet's last sync failed (it retries every 2 s); `null` while it keeps up.
 */
btc_error: string | null, 
/**
 * The address the node's own hashers pay (shares and, while `n = 0`, Bitcoin rewards).
 */
mining_address: string | null, 
/**
 * The Bitcoin side is available (a Bitcoin node is configured).
 */
btc_available: boolean, };

/**
 * `createwallet`: the new seed's words, shown once.
 */
export type CreatedWallet = { 
/**
 * The BIP-39 mnemonic, in order.
 */
words: Array<string>, };

/**
 * `getnewaddress`: one address for both chains.
 */
export type NewAddress = { 
/**
 * A BIP-86 taproot address: shares sent to it land in the share wallet, BTC in the BTC
 * wallet.
 */
address: string, 
/**
 * A `bitcoin:` URI for the QR code.
 */
uri: string, };

/**
 * Share balances, in units (10⁸ per share).
 */
export type ShareBalances = { 
/**
 * Mature and unspent.
 */
spendable: number, 
/**
 * Sharebase outputs still maturing.
 */
immature: number, 
/**
 * Counted in the payout draw (`v`).
 */
eligible: number, 
/**
 * The chain's eligible total (`n`).
 */
eligible_total: number, 
/**
 * Arriving in unconfirmed transactions.
 */
incoming: number, 
/**
 * Leaving in unconfirmed transactions.
 */
outgoing: number, };

/**
 * BTC balances, in sats.
 */
export type BtcBalances = { 
/**
 * Confirmed and spendable.
 */
confirmed: number, 
/**
 * Unconfirmed.
 */
pending: number, 
/**
 * Coinbases (payouts) not yet 100 blocks deep.
 */
immature: number, };

/**
 * `getwalletbalances`.
 */
export type WalletBalances = { 
/**
 * Shares.
 */
shares: ShareBalances, 
/**
 * BTC.
 */
btc: BtcBalances, };

/**
 * One unspent share output of the wallet (`listwalletunspent`).
 */
export type WalletCoin = { 
/**
 * `txid:vout`.
 */
outpoint: string, 
/**
 * Units.
 */
value: number, 
/**
 * Its address.
 */
address: string | null, 
/**
 * Height of the share that made it.
 */
height: number, 
/**
 * A sharebase output.
 */
sharebase: boolean, 
/**
 * Spendable now.
 */
mature: boolean, 
/**
 * In the payout draw.
 */
eligible: boolean, };

/**
 * One sharechain transaction of the wallet (`listwallettransactions`).
 */
export type ShareTxEntry = { 
/**
 * Its id.
 */
txid: string, 
/**
 * Height of the share holding it (`null`: unconfirmed).
 */
height: number | null, 
/**
 * Confirmations (0: unconfirmed).
 */
confirmations: number, 
/**
 * Unix time.
 */
time: number, 
/**
 * Units received.
 */
received: number, 
/**
 * Units sent.
 */
sent: number, 
/**
 * Fee in units, when known.
 */
fee: number | null, 
/**
 * A sharebase (mined shares).
 */
sharebase: boolean, };

/**
 * `listwallettransactions`: a page.
 */
export type ShareTxPage = { 
/**
 * The entries, newest first.
 */
entries: Array<ShareTxEntry>, 
/**
 * How many there are.
 */
total: number, };

/**
 * One BTC transaction of the wallet (`listbtctransactions`).
 */
export type BtcTxEntry = { 
/**
 * Its id.
 */
txid: string, 
/**
 * Block height (`null`: unconfirmed).
 */
height: number | null, 
/**
 * Sats received.
 */
received: number, 
/**
 * Sats sent.
 */
sent: number, 
/**
 * Fee, when known.
 */
fee: number | null, 
/**
 * A coinbase: a payout won by one of the wallet's shares.
 */
coinbase: boolean, };

/**
 * A Bitcoin block reward paid to one of the wallet's share scripts (`listpayouts`).
 */
export type PayoutEntry = { 
/**
 * The coinbase.
 */
txid: string, 
/**
 * The Bitcoin block; its hash is the id of the share that carried it.
 */
block: string, 
/**
 * Its Bitcoin height.
 */
height: number, 
/**
 * Sats.
 */
amount: number, 
/**
 * Spendable (100 blocks deep).
 */
mature: boolean, 
/**
 * Blocks until it is.
 */
blocks_to_maturity: number, };

/**
 * `sendshares` / `sendbtc`: the broadcast transaction.
 */
export type Sent = { 
/**
 * Its id.
 */
txid: string, };

/**
 * `createpsbt`: an unsigned BTC payment for another signer.
 */
export type UnsignedPayment = { 
/**
 * The PSBT, base64 (BIP-174).
 */
psbt: string, };

/**
 * One offer of the order book (`listoffers`, `makeoffer`).
 */
export type OfferEntry = { 
/**
 * Its id.
 */
id: string, 
/**
 * `shares` (the maker sells shares for BTC) or `btc` (the maker buys shares).
 */
maker_sells: string, 
/**
 * Fewest shares one swap trades, units.
 */
min_shares: number, 
/**
 * Most shares one swap trades, units.
 */
max_shares: number, 
/**
 * Sats per share.
 */
price: number, 
/**
 * Unix time it expires.
 */
expires: number, 
/**
 * This node's own offer.
 */
mine: boolean, 
/**
 * The maker's peer id.
 */
maker_peer: string, 
/**
 * `T_p`, blocks of the maker's lock chain.
 */
maker_lock_blocks: number, 
/**
 * `T_i`, blocks of the taker's lock chain.
 */
taker_lock_blocks: number, };

/**
 * One line of a swap's progress.
 */
export type SwapEvent = { 
/**
 * Unix time.
 */
time: number, 
/**
 * What happened.
 */
text: string, };

/**
 * One swap (`listswaps`, `takeoffer`).
 */
export type SwapEntry = { 
/**
 * Its id.
 */
id: string, 
/**
 * `taker` or `maker`.
 */
role: string, 
/**
 * What the maker sells: `shares` or `btc`.
 */
maker_sells: string, 
/**
 * Shares traded, units.
 */
shares: number, 
/**
 * Sats traded.
 */
sats: number, 
/**
 * `agreed`, `locked`, `claiming`, `refunding`, `completed`, `refunded` or `cancelled`.
 */
phase: string, 
/**
 * We sell shares (else BTC).
 */
selling_shares: boolean, 
/**
 * Our lock's funding transaction.
 */
my_lock: string | null, 
/**
 * The counterparty's lock's funding transaction, once seen.
 */
their_lock: string | null, 
/**
 * Our claim or refund.
 */
spend: string | null, 
/**
 * The chain our lock is on: `bitcoin` or `sharechain`.
 */
my_chain: string, 
/**
 * Blocks of our lock's chain until we may refund it (negative: past).
 */
blocks_to_refund: number, 
/**
 * Blocks of the counterparty's lock's chain until their refund opens (taker: until the
 * last safe moment to claim; negative: past).
 */
blocks_to_claim_deadline: number, 
/**
 * The counterparty's peer id.
 */
peer: string, 
/**
 * Unix time made.
 */
created: number, 
/**
 * What happened, oldest first.
 */
events: Array<SwapEvent>, 
/**
 * The last problem, if any (the watcher keeps trying).
 */
error: string | null, 
/**
 * Nothing more will happen.
 */
finished: boolean, 
/**
 * A cancel is still possible (nothing locked).
 */
cancellable: boolean, };
