// Plausible API answers for component tests (shapes as in docs/api.md and the contract).
import type {
  BitcoinBlock,
  BtcTxEntry,
  Devices,
  FoundBlock,
  HashrateHistory,
  LogLine,
  MiningInfo,
  NetworkInfo,
  NetworkParams,
  NodeInfo,
  Odds,
  PayoutEntry,
  PeerInfo,
  NextPayout,
  OfferEntry,
  Settings,
  ShareRanges,
  ShareTxEntry,
  ShareTxPage,
  SwapEntry,
  SyncStatus,
  WalletBalances,
  WalletCoin,
  WalletInfo,
  WorkerInfo,
} from "../bindings";
import { FakeTransport } from "../api/fake";
import { RpcError, type MakerSells } from "../api/transport";
import { parseAmount } from "../lib/amount";

export const ME_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
export const ME_SCRIPT = "0014751e76e8199196d454941c45d1b3a323f1433bd6";
export const OTHER_SCRIPT = "0014f5fe54862dbb66e5db43f945c8493f6854678e88";
/** OTHER_SCRIPT as an address of the devnet. */
export const OTHER_ADDRESS = "bcrt1q7hl9fp3dhdnwtk6rl9zusjfldp2x0r5gpqpr8k";

/** The `selection` vector of tests/data/vectors.json (docs/protocol.md §15.3). */
export const SELECTION_VECTOR = {
  selector_hex:
    "0100000000000000000000000000000000000000000000000000000000000000000000000000000000b02b2471ca70d4edae8db0665476df6558d88b1799a7abe0062c1fa94419fe00b95569ffff7f200100000000000000000000000000000000000000000000000000000000000000000000001696ab3286b8560ad8ab9c12b4d6d0a66865da2fa0c4e869d5879c6d3479f69000b95569ffff7f2000000000",
  h: "df4cdfea8b65a973bb0e739e4dbc59c58e1cf3cf01efbcaaecb2b115e2b64c7e",
  n: 2100000000,
  q: 621058430,
  txid: "0400000000000000000000000000000000000000000000000000000000000070",
  vout: 1,
  value: 500000000,
  range_start: 600000000,
  script_pubkey: "0014f5fe54862dbb66e5db43f945c8493f6854678e88",
};

export const nodeInfo: NodeInfo = {
  version: "0.1.0",
  network: "devnet-1795628914",
  devnet_id: "1795628914-1d3ff266",
  datadir: "/home/u/.local/share/p2share/devnet/node",
  api_bind: "127.0.0.1:29332",
  mining_address: ME_ADDRESS,
  mining_script: ME_SCRIPT,
  bitcoin: { kind: "embedded", rpc_url: "http://127.0.0.1:18443", esplora_url: "http://127.0.0.1:3002", chain: "regtest" },
  peer_id: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
  dial_addrs: ["/ip4/192.168.1.20/tcp/29333/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"],
  started_at: 1795628914,
};

export const networkParams: NetworkParams = {
  name: "devnet-1795628914",
  devnet_id: "1795628914-1d3ff266",
  magic: "fabfb5da",
  mainchain: "regtest",
  address_hrp: "bcrt",
  genesis_hash: "0ae9fe2a35c11f23afddc78acf04082dd8ebe31650e1052b8587b724e397b593",
  genesis_time: 1795628914,
  pow_limit_bits: "207fffff",
  genesis_bits: "1d3ff266",
  target_spacing: 1,
  asert_half_life: 60,
  initial_subsidy: 5000000000,
  halving_interval: 210000,
  maturity: 20,
  max_future_time: 15,
  max_share_weight: 4000000,
  max_share_sigops_cost: 80000,
  default_ports: { p2p: 29333, api: 29332 },
  genesis_allocation: [],
};

export const odds: Odds = {
  v: 30000000000,
  n: 100000000000,
  chance_next_block: 0.3,
  network_hashrate: 65900000,
  bitcoin_blocks_per_day: 2880,
  expected_btc_per_day: 43200,
};

export const selectedMine: NextPayout = {
  q: 1234567890,
  n: 100000000000,
  txid: "e1d4caa0ecd3d36223932c6acc83689f6a3f008f058a68976467ce29f6d7bcee",
  vout: 0,
  script_pubkey: ME_SCRIPT,
  value: 5000000000,
  range_start: 0,
  tip: "50206f0f81f3df84ae032100e212a95235852b7dbe85ba3e8eaa10ae2d702226",
  height: 120,
};

export const selectedOther: NextPayout = { ...selectedMine, script_pubkey: OTHER_SCRIPT, q: 99000000000 };

export const mining: MiningInfo = {
  mining: true,
  threads: 2,
  height: 120,
  share_bits: "1d3ff266",
  share_target: "00000000003ff266000000000000000000000000000000000000000000000000",
  hashes_per_share: 68780000,
  hashrate: 66640000,
  hashers: [
    { name: "cpu", backend: "avx2", threads: 2, hashrate: 66640000, hashes: 1666000000, thread_hashrates: [33320000, 33320000] },
  ],
  network_hashrate: 65900000,
  expected_seconds_to_share: { node: 1.03, network: 1.04 },
  bitcoin_target: "7fffff0000000000000000000000000000000000000000000000000000000000",
  expected_seconds_to_bitcoin_block: 30,
  shares_found: 25,
  stale: 1,
  rejected: 2,
  last_reject: "time-too-new",
  last_job_ms: 0.05,
  tip_refresh_ms: { p50: 0.2, p99: 1.6, max: 2.1, tips: 25 },
  blocks: [],
};

export const sync: SyncStatus = {
  state: "bodies",
  height: 4200,
  target_height: 10000,
  headers: 10000,
  rate: 850,
  eta_seconds: 6,
  progress: 0.42,
  peer: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
};

export const networkInfo: NetworkInfo = {
  network: "devnet-1795628914",
  peer_id: nodeInfo.peer_id,
  listen_addrs: ["/ip4/127.0.0.1/tcp/29333"],
  connections: 3,
  nat: "Private",
  banned: [],
};

export const peers: PeerInfo[] = [
  {
    peer_id: "12D3KooWAbCdEfGhIjKlMnOpQrStUvWxYz1234567890abcdefGH",
    addrs: ["/ip4/10.0.0.2/tcp/29333"],
    inbound: false,
    agent: "p2share/0.1.0",
    score: 0,
    connected_since: 1795628000,
    latency_ms: 0.41,
    height: 120,
  },
];

/** Stratum user names: `<address>.<worker name>`; the NerdMiner pays another address. */
export const BITAXE_USER = `${ME_ADDRESS}.bitaxe`;
export const NERDMINER_USER = `${OTHER_ADDRESS}.nerdminer`;

/** Every hasher's series: the CPU, PoCL's CPU device as OpenCL `0:0`, two Stratum devices. */
export const history: HashrateHistory = {
  step_secs: 10,
  hashers: [
    { name: "cpu", points: [[1795628880, 66100000], [1795628890, 66400000]] },
    { name: "opencl:0:0", points: [[1795628880, 21300000], [1795628890, 21500000]] },
    { name: `stratum:${BITAXE_USER}`, points: [[1795628880, 1.09e12], [1795628890, 1.12e12]] },
    { name: `stratum:${NERDMINER_USER}`, points: [[1795628880, 59800], [1795628890, 61200]] },
  ],
};

/** Unix seconds when the fixtures were loaded: workers' times are relative to it. */
const LOADED = Math.floor(Date.now() / 1000);

/** A Bitaxe Gamma (BM1370) paying this node's address. */
export const bitaxe: WorkerInfo = {
  id: 3,
  worker: BITAXE_USER,
  address: ME_ADDRESS,
  name: "bitaxe",
  user_agent: "bitaxe/BM1370/v2.4.5",
  remote: "192.168.1.41:51022",
  connected_at: LOADED - 3 * 3600,
  last_seen: LOADED - 4,
  difficulty: 2560,
  hashrate_1m: 1.12e12,
  hashrate_15m: 1.09e12,
  hashrate_1h: 1.1e12,
  accepted: 1078,
  rejected: { stale: 3, duplicate: 0, low_difficulty: 1, bad_job: 0, other: 0 },
  best_difficulty: 48_300_000,
  solutions: 12,
};

/** A NerdMiner (ESP32, ~60 kH/s, difficulty below 1) paying another address. */
export const nerdminer: WorkerInfo = {
  id: 7,
  worker: NERDMINER_USER,
  address: OTHER_ADDRESS,
  name: "nerdminer",
  user_agent: "NerdMinerV2/1.6.3",
  remote: "192.168.1.57:60310",
  connected_at: LOADED - 86_400,
  last_seen: LOADED - 9,
  difficulty: 0.00014,
  hashrate_1m: 61_200,
  hashrate_15m: 59_800,
  hashrate_1h: 60_100,
  accepted: 8602,
  rejected: { stale: 0, duplicate: 0, low_difficulty: 0, bad_job: 0, other: 0 },
  best_difficulty: 0.0213,
  solutions: 0,
};

/** `getdevices`: the CPU miner, PoCL's CPU device as OpenCL `0:0`, the Stratum server with two devices. */
export const devices: Devices = {
  cpu: { mining: true, threads: 2, max_threads: 16, backend: "avx2", hashrate: 66_640_000 },
  opencl: {
    available: true,
    error: null,
    intensity_range: [8, 31],
    devices: [
      {
        id: "0:0",
        name: "cpu-haswell-Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
        vendor: "GenuineIntel",
        platform: "Portable Computing Language",
        kind: "cpu",
        compute_units: 12,
        max_clock_mhz: 4600,
        global_memory: 13_348_151_296,
        vector_width: 8,
        enabled: true,
        intensity: 24,
        mining: true,
        hashrate: 21_500_000,
        error: null,
      },
    ],
  },
  stratum: {
    enabled: true,
    bind: "0.0.0.0:3333",
    urls: ["stratum+tcp://192.168.1.20:3333", "stratum+tcp://127.0.0.1:3333"],
    user: ME_ADDRESS,
    min_difficulty: 0.000001,
    max_difficulty: 1e15,
    start_difficulty: 0.0001,
    share_interval_secs: 10,
    workers: [bitaxe, nerdminer],
  },
};

/** `getdevices` on a machine without an OpenCL driver. */
export const devicesNoOpenCl: Devices = {
  ...devices,
  opencl: {
    available: false,
    error: "no OpenCL library: libOpenCL.so.1: cannot open shared object file: No such file or directory",
    intensity_range: [8, 31],
    devices: [],
  },
};

/** `getdevices` before any mining device connected. */
export const devicesNoWorkers: Devices = { ...devices, stratum: { ...devices.stratum, workers: [] } };

/** `getdevices` of a node whose Stratum server is off. */
export const devicesStratumOff: Devices = {
  ...devices,
  stratum: {
    enabled: false,
    bind: null,
    urls: [],
    user: ME_ADDRESS,
    min_difficulty: null,
    max_difficulty: null,
    start_difficulty: null,
    share_interval_secs: null,
    workers: [],
  },
};

/** `setdevice` as the node does it, on a copy of `start`: returns the new `getdevices`. */
export function deviceSetter(start: Devices) {
  let state: Devices = JSON.parse(JSON.stringify(start)) as Devices;
  return {
    get: () => state,
    set: ([id, enabled, intensity]: [string, boolean?, number?]): Devices => {
      const [lo, hi] = state.opencl.intensity_range;
      if (!state.opencl.available) throw new RpcError(-8, "no OpenCL on this machine", "setdevice");
      const d = state.opencl.devices.find((x) => x.id === id);
      if (!d) throw new RpcError(-8, `no OpenCL device ${id}`, "setdevice");
      if (intensity !== undefined && (intensity < lo || intensity > hi)) {
        throw new RpcError(-8, `intensity must be ${lo} to ${hi}`, "setdevice");
      }
      const on = enabled ?? d.enabled;
      const mining = on && state.cpu.mining;
      const next = { ...d, enabled: on, intensity: intensity ?? d.intensity, mining, hashrate: mining ? d.hashrate || 21_500_000 : 0 };
      state = { ...state, opencl: { ...state.opencl, devices: state.opencl.devices.map((x) => (x.id === id ? next : x)) } };
      return state;
    },
  };
}

/** A block that verifies: the selection vector, found at share height 1 (its parent is the genesis). */
export const goodBlock: BitcoinBlock = {
  share: "7dc9a93c6e20b554481d6692f306d57b5129d5fe6a560734c14a74c2a8856f7c",
  share_height: 1,
  bitcoin_hash: "7dc9a93c6e20b554481d6692f306d57b5129d5fe6a560734c14a74c2a8856f7c",
  time: 1795628900,
  payout: {
    q: SELECTION_VECTOR.q,
    n: SELECTION_VECTOR.n,
    txid: SELECTION_VECTOR.txid,
    vout: SELECTION_VECTOR.vout,
    script_pubkey: SELECTION_VECTOR.script_pubkey,
    value: SELECTION_VECTOR.value,
    range_start: SELECTION_VECTOR.range_start,
  },
  paid_script: SELECTION_VECTOR.script_pubkey,
  paid_address: null,
  value_sat: 5000000000,
  mine: false,
  found_here: true,
  selector_input: SELECTION_VECTOR.selector_hex,
  outcome: "accepted",
};

export const mineBlock: BitcoinBlock = {
  ...goodBlock,
  share: "1111111111111111111111111111111111111111111111111111111111111111",
  bitcoin_hash: "1111111111111111111111111111111111111111111111111111111111111111",
  share_height: 2,
  mine: true,
  paid_script: ME_SCRIPT,
  paid_address: ME_ADDRESS,
};

/** `mineBlock` as the miner records it: found by the Bitaxe on the Stratum port. */
export const foundByBitaxe: FoundBlock = {
  block_hash: "1111111111111111111111111111111111111111111111111111111111111111",
  bitcoin_height: 812,
  share: "1111111111111111111111111111111111111111111111111111111111111111",
  share_height: 2,
  selected: `${SELECTION_VECTOR.txid}:${SELECTION_VECTOR.vout}`,
  paid_script: ME_SCRIPT,
  value_sat: 5000000000,
  outcome: "accepted",
  time: 1795628900,
  parent_share: "7dc9a93c6e20b554481d6692f306d57b5129d5fe6a560734c14a74c2a8856f7c",
  finder: "stratum:bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.bitaxe",
};

export const shareRanges: ShareRanges = {
  height: 40,
  maturity: 20,
  n: 100000000000,
  v: 30000000000,
  outputs: [
    { txid: "a".repeat(64), vout: 0, value: 20000000000, height: 3, sharebase: true, mature: true, eligible: true, shares_to_eligible: 0, range_start: 10000000000 },
    { txid: "b".repeat(64), vout: 0, value: 10000000000, height: 5, sharebase: true, mature: true, eligible: true, shares_to_eligible: 0, range_start: 60000000000 },
    { txid: "c".repeat(64), vout: 0, value: 5000000000, height: 35, sharebase: true, mature: false, eligible: false, shares_to_eligible: 15, range_start: null },
  ],
  recent_selections: [
    { share: "d".repeat(64), share_height: 40, q: 15000000000, n: 100000000000 },
    { share: "e".repeat(64), share_height: 39, q: 90000000000, n: 100000000000 },
  ],
};

export const logs: LogLine[] = [
  { time: 1795628900000, level: "INFO", target: "p2share_node::mining", message: "share accepted height=12" },
  { time: 1795628901000, level: "WARN", target: "p2share_node::p2p", message: "peer timed out peer=12D3KooWAb" },
  { time: 1795628902000, level: "ERROR", target: "p2share_node::bitcoin", message: "template refresh failed err=connection refused" },
];

export const settings: Settings = {
  network: "main",
  datadir: "/home/u/.local/share/p2share/main",
  api_bind: "127.0.0.1:9332",
  bitcoin: { kind: "core", url: "http://127.0.0.1:8332", auth: "cookie" },
  threads: 4,
};

// ---- the wallet ----

/** The wallet's next receive address (BIP-86 taproot, receive index 1). */
export const WALLET_ADDRESS = "bcrt1ppyvfkun55dm0eaq6q9k0prgs7wy40xqul8j3wwlqekdaalaz2ehsy5pan6";
/** Someone else's taproot address on the devnet. */
export const FRIEND_ADDRESS = "bcrt1pehjg2d729s5qsnl4vzpx6rnr3zmu27j3f9axedt089egnef07sdsu0jnzr";
/** A 24-word BIP-39 mnemonic (a public test vector: never a real wallet's). */
export const SEED_WORDS =
  "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold".split(
    " ",
  );
/** The passphrase the fixtures' wallet is encrypted with. */
export const PASSPHRASE = "correct horse battery staple";

export const walletInfo: WalletInfo = {
  exists: true,
  unlocked: true,
  birthday: 1795628914,
  share_height: 120,
  btc_height: 812,
  mining_address: ME_ADDRESS,
  btc_error: null,
  btc_available: true,
};

/** 312.5 shares spendable, 300 of them in the draw (v = 300 of n = 1,000: 30 %, as `odds`). */
export const walletBalances: WalletBalances = {
  shares: {
    spendable: 31_250_000_000,
    immature: 5_000_000_000,
    eligible: 30_000_000_000,
    eligible_total: 100_000_000_000,
    incoming: 150_000_000,
    outgoing: 0,
  },
  btc: { confirmed: 123_456_789, pending: 5_000_000, immature: 5_000_000_000 },
};

export const walletCoins: WalletCoin[] = [
  { outpoint: `${"a".repeat(64)}:0`, value: 20_000_000_000, address: ME_ADDRESS, height: 3, sharebase: true, mature: true, eligible: true },
  { outpoint: `${"b".repeat(64)}:0`, value: 10_000_000_000, address: ME_ADDRESS, height: 5, sharebase: true, mature: true, eligible: true },
  { outpoint: `${"f".repeat(64)}:1`, value: 1_250_000_000, address: WALLET_ADDRESS, height: 90, sharebase: false, mature: true, eligible: false },
  { outpoint: `${"c".repeat(64)}:0`, value: 5_000_000_000, address: ME_ADDRESS, height: 105, sharebase: true, mature: false, eligible: false },
];

const txid = (i: number) => i.toString(16).padStart(4, "0").repeat(16);

/**
 * The share history, newest first: one unconfirmed receipt, a payment sent, then mined
 * sharebases — `SHARE_TX_TOTAL` entries.
 */
export const SHARE_TX_TOTAL = 123;
export function shareTx(i: number): ShareTxEntry {
  const tip = 120;
  const time = 1795628914 + 120 - i;
  if (i === 0) return { txid: txid(1000), height: null, confirmations: 0, time, received: 150_000_000, sent: 0, fee: null, sharebase: false };
  if (i === 1) {
    return { txid: txid(1001), height: 118, confirmations: 3, time, received: 3_999_999_846, sent: 5_000_000_000, fee: 154, sharebase: false };
  }
  const height = tip - i;
  return { txid: txid(i), height, confirmations: tip - height + 1, time, received: 5_000_000_000, sent: 0, fee: null, sharebase: true };
}
export function shareTxPage(offset = 0, limit = 100): ShareTxPage {
  const entries: ShareTxEntry[] = [];
  for (let i = offset; i < Math.min(SHARE_TX_TOTAL, offset + limit); i++) entries.push(shareTx(i));
  return { entries, total: SHARE_TX_TOTAL };
}

export const btcTxs: BtcTxEntry[] = [
  { txid: txid(2000), height: null, received: 5_000_000, sent: 0, fee: null, coinbase: false },
  { txid: txid(2001), height: 812, received: 5_000_000_000, sent: 0, fee: null, coinbase: true },
  { txid: txid(2002), height: 790, received: 26_543_211, sent: 150_000_000, fee: 1_410, coinbase: false },
  { txid: txid(2003), height: 700, received: 5_000_000_000, sent: 0, fee: null, coinbase: true },
];

/** One payout still maturing, one spendable. */
export const payouts: PayoutEntry[] = [
  { txid: txid(2001), block: "1111111111111111111111111111111111111111111111111111111111111111", height: 812, amount: 5_000_000_000, mature: false, blocks_to_maturity: 37 },
  { txid: txid(2003), block: "0000000000000000000000000000000000000000000000000000000000000abc", height: 700, amount: 5_000_000_000, mature: true, blocks_to_maturity: 0 },
];

/**
 * The wallet as the node keeps it: create, restore, unlock and lock change it; sends check it
 * (locked, funds) as the node does and answer a txid.
 */
export function walletNode(start: Partial<WalletInfo> = {}) {
  let info: WalletInfo = { ...walletInfo, ...start };
  let passphrase = PASSPHRASE;
  const locked = (method: string) => new RpcError(-1, "the wallet is locked: unlock it first", method);
  const noWallet = (method: string) => new RpcError(-1, "no wallet: create or restore one first", method);
  return {
    get info() {
      return info;
    },
    install(t: FakeTransport): FakeTransport {
      return t
        .set("getwalletinfo", () => info)
        .set("createwallet", ([p]) => {
          if (info.exists) throw new RpcError(-1, "a wallet already exists in /home/u/.local/share/p2share/devnet/node/wallet.seed", "createwallet");
          if (!p) throw new RpcError(-8, "the passphrase must not be empty", "createwallet");
          passphrase = p;
          info = { ...info, exists: true, unlocked: true, birthday: 1795629000 };
          return { words: [...SEED_WORDS] };
        })
        .set("restorewallet", ([words, p]) => {
          if (info.exists) throw new RpcError(-1, "a wallet already exists", "restorewallet");
          const list = words.split(/\s+/).filter(Boolean);
          if (![12, 15, 18, 21, 24].includes(list.length)) {
            throw new RpcError(-1, `a mnemonic has 12, 15, 18, 21 or 24 words, not ${list.length}`, "restorewallet");
          }
          const bad = list.findIndex((w) => !SEED_WORDS.includes(w) && w !== "abandon" && w !== "about");
          if (bad >= 0) {
            throw new RpcError(-1, `word ${bad + 1} (${JSON.stringify(list[bad])}) is not in the BIP-39 English word list`, "restorewallet");
          }
          if (list.length === 24 && list.join(" ") !== SEED_WORDS.join(" ")) {
            throw new RpcError(-1, "the mnemonic's checksum does not match: a word is wrong or words are out of order", "restorewallet");
          }
          passphrase = p;
          info = { ...info, exists: true, unlocked: true };
          return info;
        })
        .set("unlockwallet", ([p]) => {
          if (!info.exists) throw noWallet("unlockwallet");
          if (p !== passphrase) throw new RpcError(-8, "wrong passphrase (or the seed file's encrypted part was altered)", "unlockwallet");
          info = { ...info, unlocked: true };
          return info;
        })
        .set("lockwallet", () => {
          info = { ...info, unlocked: false };
          return info;
        })
        .set("getnewaddress", () => ({ address: WALLET_ADDRESS, uri: `bitcoin:${WALLET_ADDRESS}` }))
        .set("getwalletbalances", walletBalances)
        .set("listwalletunspent", walletCoins)
        .set("sendshares", ([, amount]) => {
          if (!info.unlocked) throw locked("sendshares");
          if (Number(amount) * 1e8 > walletBalances.shares.spendable) {
            throw new RpcError(-1, `insufficient funds: ${Number(amount) + 0.00000154} shares needed, 312.5 spendable (50 more are immature)`, "sendshares");
          }
          return { txid: "5e4d".repeat(16) };
        })
        .set("sendbtc", () => {
          if (!info.unlocked) throw locked("sendbtc");
          return { txid: "b7c0".repeat(16) };
        })
        .set("createpsbt", () => ({ psbt: "cHNidP8BAHECAAAAAf//////////////////////////////////////////AAAAAAD9////AoCWmAAAAAAAFgAU" }))
        .set("listwallettransactions", ([offset, limit]) => shareTxPage(offset ?? 0, limit ?? 100))
        .set("listbtctransactions", btcTxs)
        .set("listpayouts", payouts);
    },
  };
}

// ---- swaps

/** Peers that make offers (the first is `peers[0]`). */
export const PEER_A = peers[0]!.peer_id;
export const PEER_B = "12D3KooWRm3ZbcY6XyF2n9w3q8yE7wVtQ4uJkLp5sN1aBcDeFgHi";
export const PEER_C = "12D3KooWHx7PqT2vLmN8sK4jR6eW1cYbZ9aD3fG5hJ7kLm2NpQrS";

/** An offer's id (64 hex digits, its signed body's digest) and a swap's (32). */
export const offerId = (i: number) => `0f${i.toString(16).padStart(2, "0")}`.repeat(16);
export const swapId = (i: number) => `5a${i.toString(16).padStart(2, "0")}`.repeat(8);
const tx = (tag: string) => tag.padEnd(4, "0").repeat(16);

/**
 * Timelocks as `Timelocks::from_hours(12)` makes them with Bitcoin's 10 min and 30 s shares: the
 * maker locks for 12 h, the taker for 24 h, each in blocks of the chain it locks on.
 */
const SHARES_FOR_BTC = { maker_lock_blocks: 1_440, taker_lock_blocks: 144 };
const BTC_FOR_SHARES = { maker_lock_blocks: 72, taker_lock_blocks: 2_880 };

/** sats for `units` shares at `price` sats per share, rounded down (as the node). */
export function satsFor(units: number, price: number): number {
  return Math.floor((units * price) / 1e8);
}

/**
 * The order book, in no particular order: three makers selling shares (one of them this node),
 * three buying. Best to buy: 39,500; best to sell: 38,750.
 */
export const offers: OfferEntry[] = [
  { id: offerId(1), maker_sells: "shares", min_shares: 100_000_000, max_shares: 2_500_000_000, price: 41_000, expires: LOADED + 20 * 3600 + 12 * 60, mine: false, maker_peer: PEER_A, ...SHARES_FOR_BTC },
  { id: offerId(2), maker_sells: "btc", min_shares: 100_000_000, max_shares: 4_000_000_000, price: 38_000, expires: LOADED + 6 * 3600, mine: false, maker_peer: PEER_B, ...BTC_FOR_SHARES },
  { id: offerId(3), maker_sells: "shares", min_shares: 50_000_000, max_shares: 1_000_000_000, price: 39_500, expires: LOADED + 2 * 3600 + 5 * 60, mine: false, maker_peer: PEER_B, ...SHARES_FOR_BTC },
  { id: offerId(4), maker_sells: "btc", min_shares: 25_000_000, max_shares: 500_000_000, price: 36_900, expires: LOADED + 45 * 60, mine: false, maker_peer: PEER_C, ...BTC_FOR_SHARES },
  { id: offerId(5), maker_sells: "shares", min_shares: 200_000_000, max_shares: 5_000_000_000, price: 45_000, expires: LOADED + 23 * 3600, mine: true, maker_peer: nodeInfo.peer_id, ...SHARES_FOR_BTC },
  { id: offerId(6), maker_sells: "btc", min_shares: 500_000_000, max_shares: 10_000_000_000, price: 38_750, expires: LOADED + 3 * 86_400, mine: false, maker_peer: PEER_A, ...BTC_FOR_SHARES },
];

function swap(s: Omit<SwapEntry, "finished" | "cancellable" | "error"> & Partial<Pick<SwapEntry, "error">>): SwapEntry {
  const finished = ["completed", "refunded", "cancelled"].includes(s.phase);
  return { error: null, ...s, finished, cancellable: s.phase === "agreed" && s.my_lock === null && s.their_lock === null };
}
const took = (o: number, units: number, sats: number) => `took offer ${offerId(o)}: ${units} units for ${sats} sats; terms agreed`;

/** Swaps in every phase, newest first, as `listswaps` answers. */
export const swaps: SwapEntry[] = [
  // Just agreed: nothing locked yet, so it can still be cancelled.
  swap({
    id: swapId(1), role: "taker", maker_sells: "shares", shares: 200_000_000, sats: 79_000, phase: "agreed", selling_shares: false,
    my_lock: null, their_lock: null, spend: null, my_chain: "bitcoin", blocks_to_refund: 144, blocks_to_claim_deadline: 1_320,
    peer: PEER_B, created: LOADED - 20, events: [{ time: LOADED - 20, text: took(3, 200_000_000, 79_000) }],
  }),
  // Buying shares: our BTC is locked, the maker's shares lock is seen.
  swap({
    id: swapId(2), role: "taker", maker_sells: "shares", shares: 500_000_000, sats: 205_000, phase: "locked", selling_shares: false,
    my_lock: tx("b1"), their_lock: tx("c1"), spend: null, my_chain: "bitcoin", blocks_to_refund: 131, blocks_to_claim_deadline: 1_180,
    peer: PEER_A, created: LOADED - 1_900,
    events: [
      { time: LOADED - 1_900, text: took(1, 500_000_000, 205_000) },
      { time: LOADED - 1_898, text: `locking 205000 on the mainchain: ${tx("b1")}` },
      { time: LOADED - 240, text: `the counterparty's lock seen: ${tx("c1")}:0` },
    ],
  }),
  // Selling shares: the claim deadline is 3 blocks away, and the Bitcoin node does not answer.
  swap({
    id: swapId(3), role: "taker", maker_sells: "btc", shares: 1_250_000_000, sats: 475_000, phase: "locked", selling_shares: true,
    my_lock: tx("d1"), their_lock: tx("e1"), spend: null, my_chain: "sharechain", blocks_to_refund: 2_512, blocks_to_claim_deadline: 3,
    peer: PEER_B, created: LOADED - 36_000, error: "Bitcoin chain source: connection refused (os error 111)",
    events: [
      { time: LOADED - 36_000, text: took(2, 1_250_000_000, 475_000) },
      { time: LOADED - 35_998, text: `locking 1250000000 on the sharechain: ${tx("d1")}` },
      { time: LOADED - 33_400, text: `the counterparty's lock seen: ${tx("e1")}:1` },
    ],
  }),
  // Our own offer, taken: the taker claimed our shares, we claim its BTC with the secret.
  swap({
    id: swapId(4), role: "maker", maker_sells: "shares", shares: 300_000_000, sats: 135_000, phase: "claiming", selling_shares: true,
    my_lock: tx("f1"), their_lock: tx("a2"), spend: tx("a3"), my_chain: "sharechain", blocks_to_refund: 1_020, blocks_to_claim_deadline: 97,
    peer: PEER_C, created: LOADED - 5_400,
    events: [
      { time: LOADED - 5_400, text: `offer ${offerId(5)} taken: 300000000 units for 135000 sats; waiting for the taker's lock` },
      { time: LOADED - 4_200, text: "the taker's lock is final and as agreed: locking ours" },
      { time: LOADED - 4_199, text: `locking 300000000 on the sharechain: ${tx("f1")}` },
      { time: LOADED - 600, text: "the secret is revealed by the counterparty's claim" },
      { time: LOADED - 600, text: "claiming the taker's lock with the revealed secret" },
      { time: LOADED - 599, text: `claim broadcast: ${tx("a3")}` },
    ],
  }),
  // The maker never locked: our refund is out.
  swap({
    id: swapId(5), role: "taker", maker_sells: "btc", shares: 400_000_000, sats: 152_000, phase: "refunding", selling_shares: true,
    my_lock: tx("a4"), their_lock: null, spend: tx("a5"), my_chain: "sharechain", blocks_to_refund: -2, blocks_to_claim_deadline: -1_300,
    peer: PEER_A, created: LOADED - 90_000,
    events: [
      { time: LOADED - 90_000, text: took(6, 400_000_000, 152_000) },
      { time: LOADED - 89_998, text: `locking 400000000 on the sharechain: ${tx("a4")}` },
      { time: LOADED - 3_000, text: "the taker's timelock expired with our lock unclaimed: refunding" },
      { time: LOADED - 3_000, text: `refund broadcast: ${tx("a5")}` },
    ],
  }),
  swap({
    id: swapId(6), role: "taker", maker_sells: "shares", shares: 1_000_000_000, sats: 402_000, phase: "completed", selling_shares: false,
    my_lock: tx("a6"), their_lock: tx("a7"), spend: tx("a8"), my_chain: "bitcoin", blocks_to_refund: 40, blocks_to_claim_deadline: 300,
    peer: PEER_A, created: LOADED - 172_800,
    events: [
      { time: LOADED - 172_800, text: took(1, 1_000_000_000, 402_000) },
      { time: LOADED - 172_798, text: `locking 402000 on the mainchain: ${tx("a6")}` },
      { time: LOADED - 170_000, text: `the counterparty's lock seen: ${tx("a7")}:0` },
      { time: LOADED - 168_000, text: "the maker's lock is final and as agreed: claiming" },
      { time: LOADED - 168_000, text: `claim broadcast: ${tx("a8")}` },
      { time: LOADED - 167_900, text: "our claim is confirmed: swap complete" },
    ],
  }),
  swap({
    id: swapId(7), role: "maker", maker_sells: "btc", shares: 600_000_000, sats: 222_000, phase: "refunded", selling_shares: false,
    my_lock: tx("a9"), their_lock: tx("aa"), spend: tx("ab"), my_chain: "bitcoin", blocks_to_refund: -30, blocks_to_claim_deadline: -2_000,
    peer: PEER_C, created: LOADED - 400_000,
    events: [
      { time: LOADED - 400_000, text: "offer taken: 600000000 units for 222000 sats; waiting for the taker's lock" },
      { time: LOADED - 398_000, text: `locking 222000 on the mainchain: ${tx("a9")}` },
      { time: LOADED - 355_000, text: "the maker's timelock expired with our lock unclaimed: refunding" },
      { time: LOADED - 354_000, text: "our refund is confirmed" },
    ],
  }),
  swap({
    id: swapId(8), role: "taker", maker_sells: "shares", shares: 100_000_000, sats: 40_000, phase: "cancelled", selling_shares: false,
    my_lock: null, their_lock: null, spend: null, my_chain: "bitcoin", blocks_to_refund: 0, blocks_to_claim_deadline: 0,
    peer: PEER_B, created: LOADED - 500_000,
    events: [
      { time: LOADED - 500_000, text: took(3, 100_000_000, 40_000) },
      { time: LOADED - 499_990, text: "cancelled before any lock" },
    ],
  }),
];

/** The smallest swap the fixtures' node takes, sats (six times the worst-case fees). */
export const MIN_SWAP_SATS = 20_000;

/** A refund file as `getrefundfile` answers it. */
export function refundFile(s: SwapEntry) {
  return {
    format: "p2share-refund/1",
    swap: s.id,
    chain: s.my_chain,
    outpoint: `${s.my_lock}:0`,
    value: s.selling_shares ? s.shares : s.sats,
    witness_script: "63a820" + "11".repeat(32) + "8820" + "22".repeat(32) + "ac67" + "03a0bb0d" + "b17520" + "33".repeat(32) + "ac68",
    script_pubkey: "0020" + "44".repeat(32),
    timeout_height: 900_000,
    swap_key_index: 4,
    swap_key_path: "m/86'/1'/0'/7/4",
    funding_tx: "02000000000101" + "55".repeat(60),
    instructions: "After the timeout height, spend the outpoint with witness [signature, <empty>, witness_script] signed by the swap key (BIP-143, SIGHASH_ALL), nLockTime = timeout, nSequence < 0xffffffff.",
  };
}

/**
 * The swaps engine as the node keeps it: offers made, cancelled and taken, swaps cancelled,
 * with the node's checks (a locked wallet, amounts, the range, funds, the minimum swap) and its
 * refusals in its words. `wallet` says whether the wallet is unlocked.
 */
export function swapNode(wallet: () => WalletInfo = () => walletInfo, balances: WalletBalances = walletBalances) {
  let book: OfferEntry[] = offers.map((o) => ({ ...o }));
  let list: SwapEntry[] = swaps.map((s) => ({ ...s, events: [...s.events] }));
  let next = 0x40;
  const needUnlocked = (method: string) => {
    if (!wallet().exists) throw new RpcError(-1, "no wallet: create or restore one first", method);
    if (!wallet().unlocked) throw new RpcError(-1, "the wallet is locked: unlock it first", method);
  };
  const units = (text: string, what: string, method: string) => {
    const p = parseAmount(text);
    if (!p.ok) throw new RpcError(-8, `${what} ${JSON.stringify(text)} is not an amount of shares`, method);
    return p.units;
  };
  return {
    get offers() {
      return book;
    },
    get swaps() {
      return list;
    },
    install(t: FakeTransport): FakeTransport {
      return t
        .set("listoffers", () => book.map((o) => ({ ...o })))
        .set("makeoffer", ([makerSells, min, max, price, ttlSecs]: [MakerSells, string, string, number, number?]) => {
          needUnlocked("makeoffer");
          const lo = units(min, "min", "makeoffer");
          const hi = units(max, "max", "makeoffer");
          if (lo > hi) throw new RpcError(-8, `min ${lo} is above max ${hi}`, "makeoffer");
          if (ttlSecs !== undefined && ttlSecs > 7 * 86_400) throw new RpcError(-8, `ttl_secs ${ttlSecs} is above 604800`, "makeoffer");
          const sats = satsFor(lo, price);
          if (sats < MIN_SWAP_SATS) {
            throw new RpcError(-8, `the smallest swap of this offer: ${sats} units on the mainchain is below the minimum swap of ${MIN_SWAP_SATS}`, "makeoffer");
          }
          const o: OfferEntry = {
            id: offerId(next++),
            maker_sells: makerSells,
            min_shares: lo,
            max_shares: hi,
            price,
            expires: Math.floor(Date.now() / 1000) + (ttlSecs ?? 86_400),
            mine: true,
            maker_peer: nodeInfo.peer_id,
            ...(makerSells === "shares" ? SHARES_FOR_BTC : BTC_FOR_SHARES),
          };
          book = [...book, o];
          return o;
        })
        .set("canceloffer", ([id]) => {
          if (!book.some((o) => o.id === id && o.mine)) throw new RpcError(-5, `not found: offer ${id} of this node`, "canceloffer");
          book = book.filter((o) => o.id !== id);
          return true;
        })
        .set("takeoffer", ([id, amount]) => {
          needUnlocked("takeoffer");
          const o = book.find((x) => x.id === id);
          if (!o) throw new RpcError(-8, `no offer ${id} in the order book`, "takeoffer");
          const u = units(amount, "amount", "takeoffer");
          if (u < o.min_shares || u > o.max_shares) {
            throw new RpcError(-8, `${u} units is outside the offer's ${o.min_shares}–${o.max_shares}`, "takeoffer");
          }
          const sats = satsFor(u, o.price);
          if (sats < MIN_SWAP_SATS) {
            throw new RpcError(-8, `${sats} units on the mainchain is below the minimum swap of ${MIN_SWAP_SATS}`, "takeoffer");
          }
          const sellingShares = o.maker_sells === "btc";
          const [need, have] = sellingShares ? [u, balances.shares.spendable] : [sats, balances.btc.confirmed];
          if (have <= need) throw new RpcError(-8, `not enough to lock: ${need} needed, ${have} spendable`, "takeoffer");
          const now = Math.floor(Date.now() / 1000);
          const s = swap({
            id: swapId(next++), role: "taker", maker_sells: o.maker_sells, shares: u, sats, phase: "agreed", selling_shares: sellingShares,
            my_lock: null, their_lock: null, spend: null, my_chain: sellingShares ? "sharechain" : "bitcoin",
            blocks_to_refund: o.taker_lock_blocks, blocks_to_claim_deadline: o.maker_lock_blocks - (sellingShares ? 12 : 240),
            peer: o.maker_peer, created: now, events: [{ time: now, text: `took offer ${o.id}: ${u} units for ${sats} sats; terms agreed` }],
          });
          list = [s, ...list];
          return s;
        })
        .set("listswaps", () => list.map((s) => ({ ...s })))
        .set("cancelswap", ([id]) => {
          const s = list.find((x) => x.id === id);
          if (!s) throw new RpcError(-8, `no swap ${id}`, "cancelswap");
          if (!s.cancellable) throw new RpcError(-8, "a lock exists: the swap completes or refunds at its timeout", "cancelswap");
          const done: SwapEntry = {
            ...s,
            phase: "cancelled",
            finished: true,
            cancellable: false,
            events: [...s.events, { time: Math.floor(Date.now() / 1000), text: "cancelled before any lock" }],
          };
          list = list.map((x) => (x.id === id ? done : x));
          return done;
        })
        .set("getrefundfile", ([id]) => {
          const s = list.find((x) => x.id === id);
          if (!s) throw new RpcError(-8, `no swap ${id}`, "getrefundfile");
          if (!s.my_lock) throw new RpcError(-8, "nothing of ours is locked in this swap", "getrefundfile");
          return refundFile(s);
        });
    },
  };
}

/** A FakeTransport answering every method the screens use. */
export function makeFake(): FakeTransport {
  const dev = deviceSetter(devices);
  return swapNode().install(walletNode().install(new FakeTransport()))
    .set("getsetup", { configured: true, network: "devnet-1795628914", bitcoin: "embedded" })
    .set("getnodeinfo", nodeInfo)
    .set("getnetworkparams", networkParams)
    .set("getodds", odds)
    .set("getselectedshare", selectedMine)
    .set("getmininginfo", mining)
    .set("getsyncstatus", sync)
    .set("getnetworkinfo", networkInfo)
    .set("getpeerinfo", peers)
    .set("gethashratehistory", history)
    .set("listbitcoinblocks", [mineBlock, goodBlock])
    .set("getshareranges", shareRanges)
    .set("getlogs", logs)
    .set("getsettings", settings)
    .set("setmining", ([enabled, threads]) => ({ mining: enabled, threads: threads ?? 2, backend: "avx2" }))
    .set("getdevices", () => dev.get())
    .set("setdevice", (params) => dev.set(params));
}
