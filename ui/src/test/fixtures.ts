// Plausible API answers for component tests (shapes as in docs/api.md and the contract).
import type {
  BitcoinBlock,
  Devices,
  FoundBlock,
  HashrateHistory,
  LogLine,
  MiningInfo,
  NetworkInfo,
  NetworkParams,
  NodeInfo,
  Odds,
  PeerInfo,
  NextPayout,
  Settings,
  ShareRanges,
  SyncStatus,
  WorkerInfo,
} from "../bindings";
import { FakeTransport } from "../api/fake";
import { RpcError } from "../api/transport";

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

/** A FakeTransport answering every method the screens use. */
export function makeFake(): FakeTransport {
  const dev = deviceSetter(devices);
  return new FakeTransport()
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
