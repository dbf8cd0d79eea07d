#!/usr/bin/env node
// A stand-in p2share node for developing and screenshotting the dashboard without Rust:
// serves ui/dist like the node does (login, session cookie, CSP), answers the JSON-RPC methods
// with plausible, self-consistent data (payout selections are real tagged-hash draws, so
// "Verify" matches), and pushes WebSocket events (a share a second, hashrate every 2 s, logs).
//
//   npm run build && node e2e/mock-node.mjs          → http://127.0.0.1:29400/login?token=devtoken
//
// Env: PORT (29400), MOCK_TOKEN (devtoken), MOCK_UNCONFIGURED=1 (first run, then the wallet step),
// MOCK_TAMPER=1 (one block fails Verify), MOCK_BTC_ERROR=1 (the BTC wallet cannot reach its Bitcoin node), MOCK_NO_OPENCL=1 (no OpenCL driver), MOCK_WALLET=none
// (no wallet yet) or locked (passphrase: p2share-mock), MOCK_QUIET=1 (no request log). The wallet has
// an order book and swaps in every phase; a take runs through to completed in about a minute. No
// dependencies: node:http and node:crypto.
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, existsSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const PORT = Number(process.env.PORT ?? 29400);
const TOKEN = process.env.MOCK_TOKEN ?? "devtoken";
const QUIET = process.env.MOCK_QUIET === "1";

// ---------------------------------------------------------------- chain simulation

const SHARE = 100_000_000;
const ME_SCRIPT = "0014751e76e8199196d454941c45d1b3a323f1433bd6";
const ME_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const MATURITY = 20;
const SUBSIDY = 50 * SHARE;
const NETWORK = "devnet-1795628914";
const START = Math.floor(Date.now() / 1000);

let seed = 42;
function rand() {
  // Deterministic, so screenshots are comparable run to run.
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 256).toString(16).padStart(2, "0")).join("");
const otherScript = () => `0014${hex(20)}`;

function sha256(buf) {
  return createHash("sha256").update(buf).digest();
}
const TAG = sha256(Buffer.from("p2share/q-selector"));
function selectorQ(selectorHex, n) {
  const h = sha256(Buffer.concat([TAG, TAG, Buffer.from(selectorHex, "hex")]));
  return BigInt(`0x${h.toString("hex")}`) % BigInt(n);
}
/** 160 selector bytes whose share-header height field (offset 36, u32 LE) is `height`. */
function selectorFor(height) {
  const b = Buffer.from(hex(160), "hex");
  b.writeUInt32LE(1, 0);
  b.writeUInt32LE(height, 36);
  b.writeUInt32LE(1, 80);
  return b.toString("hex");
}

const state = {
  configured: process.env.MOCK_UNCONFIGURED !== "1",
  height: 4200,
  mining: true,
  threads: 4,
  sharesFound: 1270,
  stale: 3,
  rejected: 1,
  peers: [
    peer("12D3KooWRm3ZbcY6XyF2n9w3q8yE7wVtQ4uJkLp5sN1aBcDeFgHi", "/ip4/192.168.1.31/tcp/29333", false, 0.42, 0),
    peer("12D3KooWHx7PqT2vLmN8sK4jR6eW1cYbZ9aD3fG5hJ7kLm2NpQrS", "/ip4/192.168.1.47/tcp/51234", true, 1.9, 10),
    peer("12D3KooWA1b2C3d4E5f6G7h8J9k1L2m3N4p5Q6r7S8t9U1v2W3xY", "/ip4/10.8.0.5/tcp/29333", false, 23.4, 0),
  ],
  /** Eligible outputs (the UTXO set's eligible part), any order; ranges by canonical order. */
  utxos: [],
  /** Sharebase outputs still maturing: { ..., eligibleAt }. */
  maturing: [],
  selections: [],
  blocks: [],
  logs: [],
  hashrate: 66_640_000,
  threadRates: [16.7e6, 16.6e6, 16.8e6, 16.5e6],
  apiBind: "127.0.0.1:29332",
};

// Hashers besides the CPU: PoCL's CPU device as OpenCL 0:0, and two devices on the Stratum port.
const OTHER_ADDRESS = "bcrt1q7hl9fp3dhdnwtk6rl9zusjfldp2x0r5gpqpr8k";
const gpu = {
  id: "0:0", name: "cpu-haswell-Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", vendor: "GenuineIntel", platform: "Portable Computing Language",
  kind: "cpu", compute_units: 12, max_clock_mhz: 4600, global_memory: 13_348_151_296, vector_width: 8,
  enabled: true, intensity: 24, rate: 21_500_000, error: null,
};
const workers = [
  worker(3, `${ME_ADDRESS}.bitaxe`, "bitaxe/BM1370/v2.4.5", "192.168.1.41:51022", 1.1e12, 2560, 10_800),
  worker(7, `${OTHER_ADDRESS}.nerdminer`, "NerdMinerV2/1.6.3", "192.168.1.57:60310", 60_000, 0.00014, 86_400),
];
function worker(id, user, agent, remote, rate, difficulty, age) {
  const [address, name] = user.split(".");
  return {
    id, worker: user, address, name, user_agent: agent, remote, connected_at: START - age, last_seen: START, difficulty,
    rate, hashrate_1m: rate, hashrate_15m: rate, hashrate_1h: rate, accepted: Math.floor(age / 10),
    rejected: { stale: id === 3 ? 3 : 0, duplicate: 0, low_difficulty: id === 3 ? 1 : 0, bad_job: 0, other: 0 },
    best_difficulty: difficulty * 18_000, solutions: id === 3 ? 12 : 0,
  };
}
const gpuRate = () => (state.mining && gpu.enabled ? gpu.rate : 0);
/** Every hasher's rate now, as `hashrate` events name them. */
function hasherRates() {
  return [
    { name: "cpu", backend: "avx2", threads: state.threads, hashrate: state.mining ? state.hashrate : 0 },
    ...(gpu.enabled ? [{ name: `opencl:${gpu.id}`, backend: "opencl", threads: 1, hashrate: gpuRate() }] : []),
    ...workers.map((w) => ({ name: `stratum:${w.worker}`, backend: "stratum", threads: 1, hashrate: w.hashrate_1m })),
  ];
}
function devices() {
  const { rate: _r, ...g } = gpu;
  return {
    cpu: { mining: state.mining, threads: state.threads, max_threads: 16, backend: "avx2", hashrate: state.mining ? state.hashrate : 0 },
    opencl: { available: process.env.MOCK_NO_OPENCL !== "1", error: process.env.MOCK_NO_OPENCL === "1" ? "no OpenCL library: libOpenCL.so.1: cannot open shared object file" : null, intensity_range: [8, 31], devices: process.env.MOCK_NO_OPENCL === "1" ? [] : [{ ...g, mining: state.mining && gpu.enabled, hashrate: gpuRate() }] },
    stratum: {
      enabled: true, bind: "0.0.0.0:3333", urls: ["stratum+tcp://192.168.1.20:3333", "stratum+tcp://127.0.0.1:3333"], user: ME_ADDRESS,
      min_difficulty: 0.000001, max_difficulty: 1e15, start_difficulty: 0.0001, share_interval_secs: 10,
      workers: workers.map(({ rate: _r2, ...w }) => w),
    },
  };
}

function peer(id, addr, inbound, latency, score) {
  return { peer_id: id, addrs: [addr], inbound, agent: "p2share/0.1.0", score, connected_since: START - Math.floor(rand() * 7200), latency_ms: latency, height: 4200 };
}

function newOutput(mine, value, height) {
  return { txid: hex(32), vout: Math.floor(rand() * 3), value, height, sharebase: true, script: mine ? ME_SCRIPT : otherScript() };
}

// 28 eligible outputs, about 30 % of the value mine.
for (let i = 0; i < 28; i++) {
  const mine = i % 10 < 3;
  state.utxos.push({ ...newOutput(mine, Math.round((10 + rand() * 60) * SHARE), 1000 + i * 100), sharebase: i % 4 !== 0 });
}
for (let i = 0; i < MATURITY; i++) {
  const mine = rand() < 0.3;
  const h = state.height - MATURITY + 1 + i;
  state.maturing.push({ ...newOutput(mine, SUBSIDY, h), eligibleAt: h + MATURITY });
}

/** Canonical order: txid in internal byte order (reverse of display), then vout. */
function canonical() {
  const key = (u) => Buffer.from(u.txid, "hex").reverse().toString("hex") + u.vout.toString(16).padStart(8, "0");
  const sorted = [...state.utxos].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  let start = 0;
  return sorted.map((u) => {
    const r = { ...u, range_start: start };
    start += u.value;
    return r;
  });
}
const nOf = () => state.utxos.reduce((a, u) => a + u.value, 0);
const vOf = () => state.utxos.filter((u) => u.script === ME_SCRIPT).reduce((a, u) => a + u.value, 0);

function select(selector) {
  const n = nOf();
  const q = selectorQ(selector, n);
  const out = canonical().find((u) => BigInt(u.range_start) <= q && q < BigInt(u.range_start + u.value));
  return { q: Number(q), n, txid: out.txid, vout: out.vout, script_pubkey: out.script, value: out.value, range_start: out.range_start };
}

let tipSelector = selectorFor(state.height);
let tipHash = hex(32);

function addBlock(height, foundHere) {
  const selector = selectorFor(height - 1);
  const payout = select(selector);
  const hash = `0000${hex(30)}`;
  const block = {
    share: hash,
    share_height: height,
    bitcoin_hash: hash,
    time: START - (4200 - Math.min(height, 4200)) - Math.floor(rand() * 5),
    payout,
    paid_script: payout.script_pubkey,
    paid_address: payout.script_pubkey === ME_SCRIPT ? ME_ADDRESS : null,
    value_sat: 5_000_000_000,
    mine: payout.script_pubkey === ME_SCRIPT,
    found_here: foundHere,
    selector_input: selector,
    outcome: foundHere ? "accepted" : null,
  };
  state.blocks.unshift(block);
  if (state.blocks.length > 200) state.blocks.pop();
  return block;
}

// History: blocks found in the reorg window before we started.
for (let h = 2300; h < 4200; h += 37 + Math.floor(rand() * 60)) addBlock(h, rand() < 0.35);
state.blocks.sort((a, b) => b.share_height - a.share_height);
for (const b of state.blocks) b.time = START - (4200 - b.share_height);
if (process.env.MOCK_TAMPER === "1" && state.blocks[2]?.payout) state.blocks[2].payout.q += 1;

for (let i = 0; i < 50; i++) {
  const h = state.height - i;
  const s = selectorFor(h - 1);
  const n = nOf();
  state.selections.push({ share: hex(32), share_height: h, q: Number(selectorQ(s, n)), n });
}

const TARGETS = ["p2share_node::mining", "p2share_node::p2p", "p2share_node::sync", "p2share_node::chain", "p2share_node::bitcoin", "p2share_node::api"];
function log(level, target, message, time = Date.now()) {
  const line = { time, level, target, message };
  state.logs.push(line);
  if (state.logs.length > 2000) state.logs.shift();
  return line;
}
for (let i = 0; i < 120; i++) {
  const t = Date.now() - (120 - i) * 1500;
  const r = rand();
  if (r < 0.06) log("WARN", TARGETS[1], `peer timed out peer=12D3KooWHx7P… after_ms=${5000 + Math.floor(rand() * 900)}`, t);
  else if (r < 0.08) log("ERROR", TARGETS[4], "template refresh failed err=\"connection refused (os error 111)\" retry_in=2s", t);
  else if (r < 0.5) log("INFO", TARGETS[3], `new tip height=${4080 + i} hash=${hex(4)}… txs=${1 + Math.floor(rand() * 4)}`, t);
  else if (r < 0.75) log("INFO", TARGETS[0], `share found height=${4080 + i} hashes=${Math.floor(rand() * 9e7)} elapsed_ms=${Math.floor(rand() * 1800)}`, t);
  else log("INFO", TARGETS[2], `synced height=${4080 + i} peers=3`, t);
}

// ---------------------------------------------------------------- events

const sockets = new Set();
function broadcast(params, method = "event") {
  const text = JSON.stringify({ jsonrpc: "2.0", method, params });
  for (const s of sockets) s.send(text);
}

function tick() {
  state.height += 1;
  tipHash = hex(32);
  const mineShare = state.mining && rand() < 0.32;
  if (mineShare) state.sharesFound += 1;
  // The new share's sharebase starts maturing; the oldest maturing output becomes eligible.
  state.maturing.push({ ...newOutput(mineShare, SUBSIDY, state.height), eligibleAt: state.height + MATURITY });
  while (state.maturing[0] && state.maturing[0].eligibleAt <= state.height) {
    const { eligibleAt: _e, ...u } = state.maturing.shift();
    state.utxos.push(u);
  }
  const prevSelector = tipSelector;
  tipSelector = selectorFor(state.height);
  const sel = select(prevSelector);
  state.selections.unshift({ share: tipHash, share_height: state.height, q: sel.q, n: sel.n });
  state.selections.length = Math.min(state.selections.length, 50);
  broadcast({ type: "share", hash: tipHash, height: state.height, active: true, origin: mineShare ? "local" : "gossip" });
  if (mineShare) broadcast({ type: "found_share", hash: tipHash, height: state.height });
  broadcast({ type: "tip", hash: tipHash, height: state.height, reorg_depth: 0 });
  broadcast({ type: "sync", ...syncStatus() });
  broadcast({ type: "log", ...log("INFO", mineShare ? TARGETS[0] : TARGETS[3], mineShare ? `share found height=${state.height}` : `new tip height=${state.height} hash=${tipHash.slice(0, 8)}…`) });
  if (state.height % 23 === 0) {
    const b = addBlock(state.height, mineShare);
    // A Bitcoin block: the wallet's pending BTC confirms; a payout to its shares starts maturing.
    wallet.btcTip += 1;
    b.btcHeight = wallet.btcTip;
    for (const t of wallet.btcTxs) if (t.height === null) t.height = wallet.btcTip;
    if (mineShare) {
      broadcast({ type: "bitcoin_block", block_hash: b.bitcoin_hash, bitcoin_height: 800 + state.blocks.length, share: b.share, share_height: b.share_height, selected: `${b.payout.txid}:${b.payout.vout}`, paid_script: b.paid_script, value_sat: b.value_sat, outcome: "accepted", mine: b.mine, time: b.time });
    }
    broadcast({ type: "log", ...log("INFO", TARGETS[4], `bitcoin block found height=${state.height} paid=${b.paid_script.slice(0, 12)}…`) });
  }
}

function hashrateTick() {
  if (!state.mining) return;
  state.threadRates = state.threadRates.map((r) => Math.max(1e6, r * (0.97 + rand() * 0.06)));
  const base = (16.6e6 * 4) / state.threads;
  state.threadRates = Array.from({ length: state.threads }, (_, i) => state.threadRates[i] ?? base);
  state.hashrate = state.threadRates.reduce((a, b) => a + b, 0);
  for (const w of workers) {
    w.hashrate_1m = w.rate * (0.85 + rand() * 0.3);
    w.hashrate_15m = w.rate * (0.95 + rand() * 0.1);
    w.hashrate_1h = w.rate * (0.98 + rand() * 0.04);
    w.last_seen = Math.floor(Date.now() / 1000) - Math.floor(rand() * 8);
    if (rand() < 0.2) w.accepted += 1;
    if (rand() < 0.01) w.rejected.stale += 1;
  }
  const hashers = hasherRates();
  broadcast({ type: "hashrate", hashrate: hashers.reduce((a, h) => a + h.hashrate, 0), hashers });
}

setInterval(() => {
  const w = workers[Math.floor(rand() * workers.length)];
  w.difficulty = Number((w.difficulty * (0.9 + rand() * 0.2)).toPrecision(3));
  broadcast({ type: "stratum", id: w.id, worker: w.worker, kind: "difficulty", detail: String(w.difficulty) });
}, 15_000).unref();
setInterval(tick, 1000).unref();
setInterval(hashrateTick, 2000).unref();

// ---------------------------------------------------------------- methods

function syncStatus() {
  return { state: "synced", height: state.height, target_height: state.height, headers: 0, rate: 0, eta_seconds: null, progress: 1, peer: null };
}

function history(range) {
  const step = Math.max(10, Math.ceil(range / 360 / 10) * 10);
  const now = Math.floor(Date.now() / 1000);
  const points = [];
  for (let t = now - range; t <= now; t += step) {
    const phase = (t / 900) % (2 * Math.PI);
    // A stop in the 24 h view, to show how gaps look.
    const stopped = range > 3600 && t > now - 40000 && t < now - 36000;
    points.push([t, stopped ? 0 : 66e6 + Math.sin(phase) * 1.2e6 + (rand() - 0.5) * 1.5e6]);
  }
  const scaled = (rate, wobble) => points.map(([t, y]) => [t, y === 0 ? 0 : rate * (1 + (rand() - 0.5) * wobble)]);
  return {
    step_secs: step,
    hashers: [
      { name: "cpu", points },
      ...(gpu.enabled ? [{ name: `opencl:${gpu.id}`, points: scaled(gpu.rate, 0.04) }] : []),
      ...workers.map((w) => ({ name: `stratum:${w.worker}`, points: scaled(w.rate, 0.3) })),
    ],
  };
}

class RpcErr extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------- wallet

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
function bech32Polymod(values) {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i];
  }
  return chk;
}
/** A BIP-86 taproot address of the devnet (bech32m over 32 bytes). */
function taprootAddress(program) {
  const hrp = "bcrt";
  const data = [1];
  let acc = 0;
  let bits = 0;
  for (const b of program) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      data.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) data.push((acc << (5 - bits)) & 31);
  const expand = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  const mod = bech32Polymod([...expand, ...data, 0, 0, 0, 0, 0, 0]) ^ 0x2bc830a3;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => BECH32[d]).join("")}`;
}
const walletAddress = (index) => taprootAddress(sha256(Buffer.from(`p2share-mock receive ${index}`)));
/** A public BIP-39 test vector: the mock's "new" seed. */
const MOCK_WORDS = "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold".split(" ");
const COINBASE_MATURITY = 100;

const wallet = {
  exists: state.configured && process.env.MOCK_WALLET !== "none",
  unlocked: process.env.MOCK_WALLET !== "locked",
  passphrase: "p2share-mock",
  birthday: START - 86_400 * 12,
  nextAddress: 1,
  /** Units sent away (the mock's chain does not spend them; balances subtract them). */
  sharesSent: 0,
  /** Transfers that are not sharebases: { txid, height (null: unconfirmed), time, received, sent, fee }. */
  shareTransfers: [],
  btcTip: 1000,
  btcConfirmed: 123_456_789,
  btcTxs: [],
};
// Some history: a payment received, one sent.
wallet.shareTransfers.push(
  { txid: hex(32), height: state.height - 340, time: START - 340, received: 12_500_000_000, sent: 0, fee: null },
  { txid: hex(32), height: state.height - 95, time: START - 95, received: 3_999_999_846, sent: 5_000_000_000, fee: 154 },
);
wallet.sharesSent += 1_000_000_154 - 12_500_000_000;
// Older: 90 mined sharebases, all spent by one consolidation to another wallet of the user's.
for (let i = 0; i < 90; i++) {
  const height = 1100 + i * 10;
  wallet.shareTransfers.push({ txid: hex(32), height, time: START - (4200 - height), received: SUBSIDY, sent: 0, fee: null, sharebase: true });
}
wallet.shareTransfers.push({ txid: hex(32), height: 2050, time: START - 2150, received: 0, sent: 90 * SUBSIDY, fee: 1_243, sharebase: false });
wallet.btcTxs.push(
  { txid: hex(32), height: 905, received: 100_000_000, sent: 0, fee: null, coinbase: false },
  { txid: hex(32), height: 951, received: 26_543_211, sent: 3_000_000, fee: 1_410, coinbase: false },
);

/** The Bitcoin blocks this wallet's shares won: every `mine` block, at Bitcoin heights up to the tip. */
function payouts() {
  return state.blocks.filter((b) => b.mine).map((b, j) => {
    const height = b.btcHeight ?? (b.btcHeight = wallet.btcTip - 3 - j * 19);
    const depth = wallet.btcTip - height + 1;
    return { txid: b.coinbase ?? (b.coinbase = hex(32)), block: b.bitcoin_hash, height, amount: b.value_sat, mature: depth >= COINBASE_MATURITY, blocks_to_maturity: Math.max(0, COINBASE_MATURITY - depth) };
  });
}
function walletBalances() {
  const mineMaturing = state.maturing.filter((u) => u.script === ME_SCRIPT).reduce((a, u) => a + u.value, 0);
  const eligible = vOf();
  const pendingShares = wallet.shareTransfers.filter((t) => t.height === null);
  const p = payouts();
  return {
    shares: {
      spendable: Math.max(0, eligible - wallet.sharesSent),
      immature: mineMaturing,
      eligible,
      eligible_total: nOf(),
      incoming: pendingShares.reduce((a, t) => a + Math.max(0, t.received - t.sent), 0),
      outgoing: pendingShares.reduce((a, t) => a + Math.max(0, t.sent - t.received), 0),
    },
    btc: {
      confirmed: wallet.btcConfirmed + p.filter((x) => x.mature).reduce((a, x) => a + x.amount, 0),
      pending: wallet.btcTxs.filter((t) => t.height === null).reduce((a, t) => a + t.received, 0),
      immature: p.filter((x) => !x.mature).reduce((a, x) => a + x.amount, 0),
    },
  };
}
function shareHistory() {
  const mined = [...state.utxos, ...state.maturing].filter((u) => u.script === ME_SCRIPT && u.sharebase).map((u) => ({ txid: u.txid, height: u.height, time: START - (4200 - u.height), received: u.value, sent: 0, fee: null, sharebase: true }));
  const all = [...mined, ...wallet.shareTransfers.map((t) => ({ sharebase: false, ...t }))];
  all.sort((a, b) => (a.height === null ? -1 : b.height === null ? 1 : b.height - a.height));
  return all.map((t) => ({ ...t, confirmations: t.height === null ? 0 : state.height - t.height + 1 }));
}
function btcHistory() {
  const coinbases = payouts().map((p) => ({ txid: p.txid, height: p.height, received: p.amount, sent: 0, fee: null, coinbase: true }));
  const all = [...wallet.btcTxs, ...coinbases];
  all.sort((a, b) => (a.height === null ? -1 : b.height === null ? 1 : b.height - a.height));
  return all;
}
function walletInfo() {
  return { exists: wallet.exists, unlocked: wallet.exists && wallet.unlocked, birthday: wallet.exists ? wallet.birthday : null, share_height: wallet.exists ? state.height : null, btc_height: wallet.exists ? wallet.btcTip : null, btc_error: process.env.MOCK_BTC_ERROR === "1" && wallet.exists ? "Bitcoin chain source: error sending request for url (http://127.0.0.1:18443/): connection refused" : null, mining_address: wallet.exists ? ME_ADDRESS : null, btc_available: true };
}
function needWallet() {
  if (!wallet.exists) throw new RpcErr(-1, "no wallet: create or restore one first");
}
function needUnlocked() {
  needWallet();
  if (!wallet.unlocked) throw new RpcErr(-1, "the wallet is locked: unlock it first");
}
function payTo(address) {
  if (typeof address !== "string" || !address) throw new RpcErr(-32602, "missing parameter address (position 0)");
  if (/^(bc|tb)1/i.test(address)) throw new RpcErr(-5, `address ${address} is not for network ${NETWORK} (expected regtest addresses)`);
  if (!/^bcrt1[02-9ac-hj-np-z]{8,}$/i.test(address) && !/^[0-9a-f]+$/i.test(address)) throw new RpcErr(-5, `${JSON.stringify(address)} is neither an address of ${NETWORK} nor a hex script`);
}
function units(amount) {
  const m = /^(\d*)(?:\.(\d{0,8}))?$/.exec(String(amount ?? "").trim());
  if (!m || (!m[1] && !m[2])) throw new RpcErr(-8, `amount ${JSON.stringify(amount)} is not a decimal amount`);
  const u = Number(m[1] || 0) * 1e8 + Number((m[2] ?? "").padEnd(8, "0"));
  if (u <= 0) throw new RpcErr(-8, "the amount must be above zero");
  return u;
}

// ---------------------------------------------------------------- swaps

// An order book of several makers both ways (this node's own offer among them) and swaps in
// every phase. Deadlines are heights, so the blocks left count down as both chains grow (the
// sharechain once a second, Bitcoin every 23 shares). A take runs through its phases on timers.
const SHARES_FOR_BTC = { maker_lock_blocks: 1_440, taker_lock_blocks: 144 };
const BTC_FOR_SHARES = { maker_lock_blocks: 72, taker_lock_blocks: 2_880 };
const MIN_SWAP_SATS = 20_000;
const NODE_PEER = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo";
const [PEER_A, PEER_B, PEER_C] = state.peers.map((p) => p.peer_id);
const satsFor = (u, price) => Math.floor((u * price) / 1e8);
const shareH = () => state.height;
const btcH = () => wallet.btcTip;

function offer(makerSells, min, max, price, expiresIn, peer, mine = false) {
  return { id: hex(32), maker_sells: makerSells, min_shares: min * SHARE, max_shares: max * SHARE, price, expires: START + expiresIn, mine, maker_peer: peer, ...(makerSells === "shares" ? SHARES_FOR_BTC : BTC_FOR_SHARES) };
}
const book = [
  offer("shares", 1, 25, 41_000, 20 * 3600 + 720, PEER_A),
  offer("btc", 1, 40, 38_000, 6 * 3600, PEER_B),
  offer("shares", 0.5, 10, 39_500, 2 * 3600 + 300, PEER_B),
  offer("btc", 0.25, 5, 36_900, 45 * 60, PEER_C),
  offer("shares", 2, 50, 45_000, 23 * 3600, NODE_PEER, true),
  offer("btc", 5, 100, 38_750, 3 * 86_400, PEER_A),
  offer("shares", 1, 8, 42_250, 11 * 3600, PEER_C),
];

/**
 * A swap record: `myTimeout` on our lock's chain, `claimBy` on theirs (taker: the last safe
 * claim; maker: when the taker may refund), both heights.
 */
function swapRecord({ role, makerSells, shares, price, phase, peer, age, myIn, claimIn, locks = {}, events = [], error = null }) {
  const sellingShares = role === "taker" ? makerSells === "btc" : makerSells === "shares";
  const myChainH = sellingShares ? shareH : btcH;
  const theirChainH = sellingShares ? btcH : shareH;
  const created = Math.floor(Date.now() / 1000) - age;
  const units = Math.round(shares * SHARE);
  const sats = satsFor(units, price);
  return {
    id: hex(16), role, maker_sells: makerSells, shares: units, sats, phase, selling_shares: sellingShares,
    my_lock: locks.my ?? null, their_lock: locks.their ?? null, spend: locks.spend ?? null,
    my_chain: sellingShares ? "sharechain" : "bitcoin", myTimeout: myChainH() + myIn, claimBy: theirChainH() + claimIn,
    myChainH, theirChainH, peer, created, error,
    events: events.map(([dt, text]) => ({ time: created + dt, text })),
  };
}
const txs = () => ({ my: hex(32), their: hex(32), spend: hex(32) });
const swapList = [];
{
  const a = txs();
  const b = txs();
  const c = txs();
  const d = txs();
  const e = txs();
  const f = txs();
  swapList.push(
    swapRecord({ role: "taker", makerSells: "shares", shares: 2, price: 39_500, phase: "agreed", peer: PEER_B, age: 12, myIn: 144, claimIn: 1_320, events: [[0, "took offer: 200000000 units for 79000 sats; terms agreed"]] }),
    swapRecord({
      role: "taker", makerSells: "shares", shares: 5, price: 41_000, phase: "locked", peer: PEER_A, age: 1_900, myIn: 131, claimIn: 1_180, locks: { my: a.my, their: a.their },
      events: [[0, "took offer: 500000000 units for 205000 sats; terms agreed"], [2, `locking 205000 on the mainchain: ${a.my}`], [1_660, `the counterparty's lock seen: ${a.their}:0`]],
    }),
    swapRecord({
      role: "taker", makerSells: "btc", shares: 12.5, price: 38_000, phase: "locked", peer: PEER_B, age: 36_000, myIn: 2_512, claimIn: 5, locks: { my: b.my, their: b.their },
      error: "Bitcoin chain source: connection refused (os error 111)",
      events: [[0, "took offer: 1250000000 units for 475000 sats; terms agreed"], [2, `locking 1250000000 on the sharechain: ${b.my}`], [2_600, `the counterparty's lock seen: ${b.their}:1`]],
    }),
    swapRecord({
      role: "maker", makerSells: "shares", shares: 3, price: 45_000, phase: "claiming", peer: PEER_C, age: 5_400, myIn: 1_020, claimIn: 97, locks: { my: c.my, their: c.their, spend: c.spend },
      events: [[0, "offer taken: 300000000 units for 135000 sats; waiting for the taker's lock"], [1_200, "the taker's lock is final and as agreed: locking ours"], [1_201, `locking 300000000 on the sharechain: ${c.my}`], [4_800, "the secret is revealed by the counterparty's claim"], [4_800, "claiming the taker's lock with the revealed secret"], [4_801, `claim broadcast: ${c.spend}`]],
    }),
    swapRecord({
      role: "taker", makerSells: "btc", shares: 4, price: 38_000, phase: "refunding", peer: PEER_A, age: 90_000, myIn: -2, claimIn: -1_300, locks: { my: d.my, spend: d.spend },
      events: [[0, "took offer: 400000000 units for 152000 sats; terms agreed"], [2, `locking 400000000 on the sharechain: ${d.my}`], [87_000, "the taker's timelock expired with our lock unclaimed: refunding"], [87_000, `refund broadcast: ${d.spend}`]],
    }),
    swapRecord({
      role: "taker", makerSells: "shares", shares: 10, price: 40_200, phase: "completed", peer: PEER_A, age: 172_800, myIn: 40, claimIn: 300, locks: { my: e.my, their: e.their, spend: e.spend },
      events: [[0, "took offer: 1000000000 units for 402000 sats; terms agreed"], [2, `locking 402000 on the mainchain: ${e.my}`], [2_800, `the counterparty's lock seen: ${e.their}:0`], [4_800, "the maker's lock is final and as agreed: claiming"], [4_800, `claim broadcast: ${e.spend}`], [4_900, "our claim is confirmed: swap complete"]],
    }),
    swapRecord({
      role: "maker", makerSells: "btc", shares: 6, price: 37_000, phase: "refunded", peer: PEER_C, age: 400_000, myIn: -30, claimIn: -2_000, locks: { my: f.my, their: f.their, spend: f.spend },
      events: [[0, "offer taken: 600000000 units for 222000 sats; waiting for the taker's lock"], [2_000, `locking 222000 on the mainchain: ${f.my}`], [45_000, "the maker's timelock expired with our lock unclaimed: refunding"], [46_000, "our refund is confirmed"]],
    }),
    swapRecord({ role: "taker", makerSells: "shares", shares: 1, price: 40_000, phase: "cancelled", peer: PEER_B, age: 500_000, myIn: 0, claimIn: 0, events: [[0, "took offer: 100000000 units for 40000 sats; terms agreed"], [10, "cancelled before any lock"]] }),
  );
}
const FINAL = new Set(["completed", "refunded", "cancelled"]);
function swapEntry(r) {
  const { myTimeout, claimBy, myChainH, theirChainH, ...rest } = r;
  return {
    ...rest,
    events: [...r.events],
    blocks_to_refund: myTimeout - myChainH(),
    blocks_to_claim_deadline: claimBy - theirChainH(),
    finished: FINAL.has(r.phase),
    cancellable: r.phase === "agreed" && r.my_lock === null && r.their_lock === null,
  };
}
function note(r, text) {
  r.events.push({ time: Math.floor(Date.now() / 1000), text });
  broadcast({ type: "log", ...log("INFO", "p2share_walletd::swap", `swap ${r.id.slice(0, 8)}: ${text}`) });
}
/** A take, driven on: our lock, the maker's, our claim, its confirmation. */
function drive(r) {
  const t = txs();
  const steps = [
    [3_000, () => { r.my_lock = t.my; r.phase = "locked"; note(r, `locking ${r.selling_shares ? r.shares : r.sats} on the ${r.selling_shares ? "sharechain" : "mainchain"}: ${t.my}`); }],
    [15_000, () => { r.their_lock = t.their; note(r, `the counterparty's lock seen: ${t.their}:0`); }],
    [30_000, () => { r.spend = t.spend; r.phase = "claiming"; note(r, "the maker's lock is final and as agreed: claiming"); note(r, `claim broadcast: ${t.spend}`); }],
    [50_000, () => { r.phase = "completed"; note(r, "our claim is confirmed: swap complete"); }],
  ];
  for (const [ms, step] of steps) {
    setTimeout(() => {
      if (r.phase !== "cancelled") step();
    }, ms).unref();
  }
}

const methods = {
  getsetup: () => ({ configured: state.configured, network: state.configured ? NETWORK : null, bitcoin: state.configured ? "embedded" : null }),
  setup: ([req]) => {
    if (!req || !req.kind) throw new RpcErr(-3, "parameter request: expected an object with kind");
    setTimeout(() => {
      state.configured = true;
      state.mining = true;
      broadcast({ type: "mining", mining: true, threads: state.threads, backend: "avx2" });
    }, 3000);
    return { restarting: true };
  },
  testbitcoincore: ([c]) => {
    if (!c?.url) throw new RpcErr(-3, "parameter connection: missing url");
    if (!/:(8332|48332|38332|18443)\/?$/.test(c.url)) return { ok: false, chain: null, blocks: null, error: `could not connect to ${c.url}: connection refused (os error 111)` };
    if (c.cookie_file !== undefined && !c.cookie_file.endsWith(".cookie")) return { ok: false, chain: null, blocks: null, error: `cannot read the cookie file ${c.cookie_file}: No such file or directory (os error 2)` };
    return { ok: true, chain: "main", blocks: 903211, error: null };
  },
  getnodeinfo: () => ({
    version: "0.1.0",
    network: NETWORK,
    devnet_id: "1795628914-1d3ff266",
    datadir: "/home/alice/.local/share/p2share/devnet-1795628914",
    api_bind: state.apiBind,
    mining_address: ME_ADDRESS,
    mining_script: ME_SCRIPT,
    bitcoin: { kind: "embedded", rpc_url: "http://127.0.0.1:18443", esplora_url: "http://127.0.0.1:3002", chain: "regtest" },
    peer_id: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
    dial_addrs: [
      "/ip4/192.168.1.20/tcp/29333/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
      "/ip6/fe80::1c2f:9aff:fe31:7d10/tcp/29333/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
    ],
    started_at: START - 5400,
  }),
  getnetworkparams: () => ({
    name: NETWORK, devnet_id: "1795628914-1d3ff266", magic: "fabfb5da", mainchain: "regtest", address_hrp: "bcrt",
    genesis_hash: "0ae9fe2a35c11f23afddc78acf04082dd8ebe31650e1052b8587b724e397b593", genesis_time: 1795628914,
    pow_limit_bits: "207fffff", genesis_bits: "1d3ff266", target_spacing: 1, asert_half_life: 60, initial_subsidy: SUBSIDY,
    halving_interval: 210000, maturity: MATURITY, max_future_time: 15, max_share_weight: 4000000, max_share_sigops_cost: 80000,
    default_ports: { p2p: 29333, api: 29332 },
    genesis_allocation: [],
  }),
  getsharechaininfo: () => ({
    network: NETWORK, genesis: "0ae9fe2a35c11f23afddc78acf04082dd8ebe31650e1052b8587b724e397b593", tip: tipHash, height: state.height,
    chain_work: "0".repeat(56) + "0001a2b3", next_bits: "1d3ff266", difficulty: 1.0, median_time_past: START, tip_time: Math.floor(Date.now() / 1000),
    utxos: state.utxos.length + state.maturing.length, eligible_total: nOf(), window: 2000, sync: syncStatus(), mempool_size: 0,
  }),
  getsyncstatus: syncStatus,
  getodds: ([who]) => {
    if (!who) throw new RpcErr(-32602, "missing parameter script_or_address (position 0)");
    const n = nOf();
    const v = who === ME_ADDRESS || who === ME_SCRIPT ? vOf() : 0;
    const chance = n ? v / n : 0;
    const perDay = 86400 / 30;
    return { v, n, chance_next_block: chance, network_hashrate: 65_900_000, bitcoin_blocks_per_day: perDay, expected_btc_per_day: perDay * chance * 50 };
  },
  getselectedshare: () => ({ ...select(tipSelector), tip: tipHash, height: state.height }),
  getshareranges: ([who]) => {
    const me = who === ME_ADDRESS || who === ME_SCRIPT;
    const outputs = [
      ...canonical().filter((u) => me && u.script === ME_SCRIPT).map((u) => ({ txid: u.txid, vout: u.vout, value: u.value, height: u.height, sharebase: u.sharebase, mature: true, eligible: true, shares_to_eligible: 0, range_start: u.range_start })),
      ...state.maturing.filter((u) => me && u.script === ME_SCRIPT).map((u) => ({ txid: u.txid, vout: u.vout, value: u.value, height: u.height, sharebase: true, mature: false, eligible: false, shares_to_eligible: u.eligibleAt - state.height, range_start: null })),
    ];
    return { height: state.height, maturity: MATURITY, n: nOf(), v: me ? vOf() : 0, outputs, recent_selections: state.selections };
  },
  listbitcoinblocks: ([count = 50] = []) => state.blocks.slice(0, count),
  getmininginfo: () => ({
    mining: state.mining, threads: state.threads, height: state.height, share_bits: "1d3ff266",
    share_target: "00000000003ff266000000000000000000000000000000000000000000000000", hashes_per_share: 68_780_000,
    hashrate: state.mining ? state.hashrate : 0,
    hashers: [{ name: "cpu", backend: "avx2", threads: state.threads, hashrate: state.mining ? state.hashrate : 0, hashes: 84_123_000_000, thread_hashrates: state.mining ? state.threadRates : state.threadRates.map(() => 0) }],
    network_hashrate: 65_900_000, expected_seconds_to_share: { node: state.mining ? 68_780_000 / state.hashrate : null, network: 1.04 },
    bitcoin_target: "7fffff" + "0".repeat(58), expected_seconds_to_bitcoin_block: 30,
    shares_found: state.sharesFound, stale: state.stale, rejected: state.rejected, last_reject: "time-too-new", last_job_ms: 0.05,
    tip_refresh_ms: { p50: 0.21, p99: 1.6, max: 2.1, tips: 1000 },
    blocks: state.blocks.filter((b) => b.found_here).slice(0, 20).reverse().map((b, i) => ({
      block_hash: b.bitcoin_hash, bitcoin_height: 812 + i, share: b.share, share_height: b.share_height,
      selected: b.payout ? `${b.payout.txid}:${b.payout.vout}` : null, paid_script: b.paid_script, value_sat: b.value_sat, outcome: "accepted", time: b.time,
      parent_share: null, finder: i % 3 === 0 ? `stratum:${workers[0].worker}` : i % 3 === 1 ? "cpu" : `opencl:${gpu.id}`,
    })),
  }),
  setmining: ([enabled, threads]) => {
    if (typeof enabled !== "boolean") throw new RpcErr(-3, "parameter enabled: expected a boolean");
    if (threads !== undefined && (threads < 1 || threads > 64)) throw new RpcErr(-8, "threads must be 1 to 64 (4 per core)");
    state.mining = enabled;
    if (threads) state.threads = threads;
    const r = { mining: state.mining, threads: state.threads, backend: "avx2" };
    broadcast({ type: "mining", ...r });
    broadcast({ type: "log", ...log("INFO", TARGETS[0], enabled ? `mining started threads=${state.threads} backend=avx2` : "mining stopped") });
    return r;
  },
  getdevices: () => devices(),
  setdevice: ([id, enabled, intensity]) => {
    if (process.env.MOCK_NO_OPENCL === "1") throw new RpcErr(-8, "no OpenCL on this machine");
    if (id !== gpu.id) throw new RpcErr(-8, `no OpenCL device ${JSON.stringify(id)}`);
    if (intensity !== undefined && intensity !== null && (intensity < 8 || intensity > 31)) throw new RpcErr(-8, "intensity must be 8 to 31");
    if (typeof enabled === "boolean") gpu.enabled = enabled;
    if (typeof intensity === "number") gpu.intensity = intensity;
    broadcast({ type: "log", ...log("INFO", TARGETS[0], `opencl device ${id} enabled=${gpu.enabled} intensity=${gpu.intensity}`) });
    return devices();
  },
  gethashratehistory: ([range = 3600] = []) => history(range),
  getpeerinfo: () => state.peers,
  getnetworkinfo: () => ({ network: NETWORK, peer_id: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo", listen_addrs: ["/ip4/0.0.0.0/tcp/29333", "/ip6/::/tcp/29333"], connections: state.peers.length, nat: "Private", banned: [{ peer_id: "12D3KooWBadPeer9xYz8wVu7tSr6qPo5nMl4kJi3hGf2eDc1bA", seconds_left: 3120 }] }),
  addpeer: ([addr]) => {
    if (typeof addr !== "string" || !addr.startsWith("/")) throw new RpcErr(-8, `invalid multiaddr ${JSON.stringify(addr)}: must start with /`);
    setTimeout(() => {
      state.peers.push(peer(`12D3KooW${hex(20)}`, addr.replace(/\/p2p\/.*$/, ""), false, 3.2, 0));
      broadcast({ type: "peers", connected: state.peers.length });
    }, 800);
    return null;
  },
  getlogs: ([count = 500] = []) => state.logs.slice(-count),
  getsettings: () => ({ network: NETWORK, datadir: "/home/alice/.local/share/p2share/devnet-1795628914", api_bind: state.apiBind, bitcoin: { kind: "embedded", url: "http://127.0.0.1:18443", auth: "cookie" }, threads: state.threads }),
  setsettings: ([u]) => {
    let restart = false;
    if (u?.api_bind && u.api_bind !== state.apiBind) {
      state.apiBind = u.api_bind;
      restart = true;
    }
    if (u?.threads) state.threads = u.threads;
    if (u?.bitcoin) restart = true;
    return { restart_required: restart };
  },
  getwalletinfo: () => walletInfo(),
  createwallet: ([passphrase]) => {
    if (wallet.exists) throw new RpcErr(-1, "a wallet already exists in /home/alice/.local/share/p2share/devnet-1795628914/wallet.seed");
    if (!passphrase) throw new RpcErr(-8, "the passphrase must not be empty");
    Object.assign(wallet, { exists: true, unlocked: true, passphrase, birthday: Math.floor(Date.now() / 1000) });
    broadcast({ type: "log", ...log("INFO", "p2share_walletd", "wallet created; the miners pay it") });
    return { words: [...MOCK_WORDS] };
  },
  restorewallet: ([words, passphrase]) => {
    if (wallet.exists) throw new RpcErr(-1, "a wallet already exists in /home/alice/.local/share/p2share/devnet-1795628914/wallet.seed");
    const list = String(words ?? "").trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (![12, 15, 18, 21, 24].includes(list.length)) throw new RpcErr(-1, `a mnemonic has 12, 15, 18, 21 or 24 words, not ${list.length}`);
    // The mock knows no word list: a word that cannot be a BIP-39 word is named.
    const bad = list.findIndex((w) => !/^[a-z]{3,8}$/.test(w));
    if (bad >= 0) throw new RpcErr(-1, `word ${bad + 1} (${JSON.stringify(list[bad])}) is not in the BIP-39 English word list`);
    if (!passphrase) throw new RpcErr(-8, "the passphrase must not be empty");
    Object.assign(wallet, { exists: true, unlocked: true, passphrase });
    return walletInfo();
  },
  unlockwallet: ([passphrase]) => {
    needWallet();
    if (passphrase !== wallet.passphrase) throw new RpcErr(-8, "wrong passphrase (or the seed file's encrypted part was altered)");
    wallet.unlocked = true;
    return walletInfo();
  },
  lockwallet: () => {
    needWallet();
    wallet.unlocked = false;
    return walletInfo();
  },
  getnewaddress: () => {
    needWallet();
    const address = walletAddress(wallet.nextAddress);
    return { address, uri: `bitcoin:${address}` };
  },
  getwalletbalances: () => (needWallet(), walletBalances()),
  listwalletunspent: () => {
    needWallet();
    return [...state.utxos, ...state.maturing].filter((u) => u.script === ME_SCRIPT).map((u) => ({ outpoint: `${u.txid}:${u.vout}`, value: u.value, address: ME_ADDRESS, height: u.height, sharebase: u.sharebase, mature: u.eligibleAt === undefined, eligible: u.eligibleAt === undefined }));
  },
  sendshares: ([address, amount, feeRate]) => {
    needUnlocked();
    payTo(address);
    const u = units(amount);
    const rate = Math.max(1000, feeRate ?? 1000);
    const fee = Math.ceil((rate * 154) / 1000);
    const b = walletBalances().shares;
    if (u + fee > b.spendable) throw new RpcErr(-1, `insufficient funds: ${(u + fee) / SHARE} shares needed, ${b.spendable / SHARE} spendable (${b.immature / SHARE} more are immature)`);
    const txid = hex(32);
    wallet.sharesSent += u + fee;
    wallet.shareTransfers.push({ txid, height: null, time: Math.floor(Date.now() / 1000), received: 0, sent: u + fee, fee });
    // Confirmed by one of the next shares.
    setTimeout(() => {
      const t = wallet.shareTransfers.find((x) => x.txid === txid);
      if (t) t.height = state.height;
    }, 2500);
    return { txid };
  },
  sendbtc: ([address, amount, satPerVb]) => {
    needUnlocked();
    payTo(address);
    const u = units(amount);
    const fee = (satPerVb ?? 2) * 154;
    if (u + fee > walletBalances().btc.confirmed) throw new RpcErr(-1, `insufficient funds: ${(u + fee) / 1e8} BTC needed, ${walletBalances().btc.confirmed / 1e8} confirmed`);
    const txid = hex(32);
    wallet.btcConfirmed -= u + fee;
    wallet.btcTxs.push({ txid, height: null, received: 0, sent: u + fee, fee, coinbase: false });
    return { txid };
  },
  createpsbt: ([address, amount]) => {
    needWallet();
    payTo(address);
    units(amount);
    return { psbt: Buffer.concat([Buffer.from("70736274ff01007102000000", "hex"), Buffer.from(hex(170), "hex")]).toString("base64") };
  },
  listwallettransactions: ([offset = 0, limit = 100] = []) => {
    needWallet();
    if (limit > 1000) throw new RpcErr(-8, `limit ${limit} is above 1000`);
    const all = shareHistory();
    return { entries: all.slice(offset, offset + limit), total: all.length };
  },
  listbtctransactions: () => (needWallet(), btcHistory()),
  listpayouts: () => (needWallet(), payouts()),
  listoffers: () => {
    needWallet();
    const now = Math.floor(Date.now() / 1000);
    return book.filter((o) => o.expires > now).sort((a, b) => (a.maker_sells === b.maker_sells ? a.price - b.price : a.maker_sells === "btc" ? -1 : 1));
  },
  makeoffer: ([makerSells, min, max, price, ttlSecs]) => {
    needUnlocked();
    if (makerSells !== "shares" && makerSells !== "btc") throw new RpcErr(-8, `maker_sells is "shares" or "btc", not ${JSON.stringify(makerSells)}`);
    const lo = units(min);
    const hi = units(max);
    if (lo > hi) throw new RpcErr(-8, `min ${lo} is above max ${hi}`);
    if (!Number.isInteger(price) || price <= 0) throw new RpcErr(-3, "parameter price: expected a positive integer");
    if (ttlSecs !== undefined && ttlSecs !== null && ttlSecs > 7 * 86_400) throw new RpcErr(-8, `ttl_secs ${ttlSecs} is above 604800`);
    if (satsFor(lo, price) < MIN_SWAP_SATS) throw new RpcErr(-8, `the smallest swap of this offer: ${satsFor(lo, price)} units on the mainchain is below the minimum swap of ${MIN_SWAP_SATS}`);
    const o = { ...offer(makerSells, lo / SHARE, hi / SHARE, price, 0, NODE_PEER, true), min_shares: lo, max_shares: hi, expires: Math.floor(Date.now() / 1000) + (ttlSecs ?? 86_400) };
    book.push(o);
    broadcast({ type: "log", ...log("INFO", "p2share_walletd::swap", `offer ${o.id.slice(0, 8)} published`) });
    return o;
  },
  canceloffer: ([id]) => {
    const i = book.findIndex((o) => o.id === id && o.mine);
    if (i < 0) throw new RpcErr(-5, `not found: offer ${id} of this node`);
    book.splice(i, 1);
    return true;
  },
  takeoffer: ([id, amount]) => {
    needUnlocked();
    const o = book.find((x) => x.id === id);
    if (!o) throw new RpcErr(-8, `no offer ${id} in the order book`);
    const u = units(amount);
    if (u < o.min_shares || u > o.max_shares) throw new RpcErr(-8, `${u} units is outside the offer's ${o.min_shares}–${o.max_shares}`);
    const sats = satsFor(u, o.price);
    if (sats < MIN_SWAP_SATS) throw new RpcErr(-8, `${sats} units on the mainchain is below the minimum swap of ${MIN_SWAP_SATS}`);
    const b = walletBalances();
    const [need, have] = o.maker_sells === "btc" ? [u, b.shares.spendable] : [sats, b.btc.confirmed];
    if (have <= need) throw new RpcErr(-8, `not enough to lock: ${need} needed, ${have} spendable`);
    const r = swapRecord({ role: "taker", makerSells: o.maker_sells, shares: u / SHARE, price: o.price, phase: "agreed", peer: o.maker_peer, age: 0, myIn: o.taker_lock_blocks, claimIn: o.maker_lock_blocks - (o.maker_sells === "btc" ? 12 : 240), events: [[0, `took offer ${o.id}: ${u} units for ${sats} sats; terms agreed`]] });
    swapList.unshift(r);
    drive(r);
    return swapEntry(r);
  },
  listswaps: () => (needWallet(), swapList.map(swapEntry)),
  cancelswap: ([id]) => {
    const r = swapList.find((x) => x.id === id);
    if (!r) throw new RpcErr(-8, `no swap ${id}`);
    if (!swapEntry(r).cancellable) throw new RpcErr(-8, "a lock exists: the swap completes or refunds at its timeout");
    r.phase = "cancelled";
    note(r, "cancelled before any lock");
    return swapEntry(r);
  },
  getrefundfile: ([id]) => {
    const r = swapList.find((x) => x.id === id);
    if (!r) throw new RpcErr(-8, `no swap ${id}`);
    if (!r.my_lock) throw new RpcErr(-8, "nothing of ours is locked in this swap");
    return {
      format: "p2share-refund/1", swap: r.id, chain: r.my_chain, outpoint: `${r.my_lock}:0`, value: r.selling_shares ? r.shares : r.sats,
      witness_script: `63a820${hex(32)}8820${hex(32)}ac6703${hex(3)}b17520${hex(32)}ac68`, script_pubkey: `0020${hex(32)}`,
      timeout_height: r.myTimeout, swap_key_index: 4, swap_key_path: "m/86'/1'/0'/7/4", funding_tx: `0200000000010${hex(90)}`,
      instructions: "After the timeout height, spend the outpoint with witness [signature, <empty>, witness_script] signed by the swap key (BIP-143, SIGHASH_ALL), nLockTime = timeout, nSequence < 0xffffffff.",
    };
  },
  getstoreinfo: () => ({ shares: state.height + 1, bodies: 2000, utxos: state.utxos.length, undo: 2000, file_bytes: 48_234_496 }),
};

function handleRpc(req) {
  if (typeof req !== "object" || req === null || Array.isArray(req)) return { jsonrpc: "2.0", error: { code: -32600, message: "request must be a JSON object" }, id: null };
  const { method, params, id } = req;
  const fn = methods[method];
  if (!fn) return { jsonrpc: "2.0", error: { code: -32601, message: `method not found: ${method}` }, id };
  try {
    return { jsonrpc: "2.0", result: fn(Array.isArray(params) ? params : []), id };
  } catch (e) {
    return { jsonrpc: "2.0", error: { code: e.code ?? -32603, message: e.message }, id };
  }
}

// ---------------------------------------------------------------- HTTP

const sessions = new Set();
const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json" };
const APP_CSP = "default-src 'self'; frame-ancestors 'none'";

/** The login page's CSP: its one inline <script> and <style>, allowed by hash. */
function loginPage() {
  const file = existsSync(join(DIST, "login.html")) ? join(DIST, "login.html") : join(ROOT, "public", "login.html");
  const html = readFileSync(file, "utf8");
  const hashes = (tag) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => `'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`).join(" ");
  return { html, csp: `default-src 'self'; script-src ${hashes("script")}; style-src ${hashes("style")}; frame-ancestors 'none'` };
}

function cookieSession(req) {
  const m = /(?:^|;\s*)p2share_session=([^;]+)/.exec(req.headers.cookie ?? "");
  return m && sessions.has(m[1]) ? m[1] : null;
}
function newSession(res, status, headers = {}) {
  const s = randomBytes(16).toString("hex");
  sessions.add(s);
  res.writeHead(status, { "Set-Cookie": `p2share_session=${s}; HttpOnly; SameSite=Strict; Path=/`, ...headers });
  res.end();
}
function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
  if (!QUIET) console.log(`${req.method} ${url.pathname}${url.search}`);

  if (url.pathname === "/login") {
    if (req.method === "POST") {
      let body = {};
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        /* empty */
      }
      let { user = "", password = "" } = body;
      if (!user && password.includes(":")) [user, password] = [password.slice(0, password.indexOf(":")), password.slice(password.indexOf(":") + 1)];
      if (user === "__cookie__" && password === TOKEN) return newSession(res, 204);
      await new Promise((r) => setTimeout(r, 300));
      res.writeHead(401, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ error: "wrong user or password" }));
    }
    if (url.searchParams.get("token") === TOKEN) return newSession(res, 303, { Location: "/" });
    const { html, csp } = loginPage();
    res.writeHead(200, { "Content-Type": MIME[".html"], "Content-Security-Policy": csp, "Cache-Control": "no-store" });
    return res.end(html);
  }
  if (url.pathname === "/logout" && req.method === "POST") {
    const s = cookieSession(req);
    if (s) sessions.delete(s);
    res.writeHead(204, { "Set-Cookie": "p2share_session=; Max-Age=0; Path=/" });
    return res.end();
  }

  const authed = cookieSession(req) !== null;
  if (req.method === "POST" && url.pathname === "/") {
    if (!authed) {
      res.writeHead(401);
      return res.end();
    }
    if (!(req.headers["content-type"] ?? "").startsWith("application/json")) {
      res.writeHead(415);
      return res.end();
    }
    let parsed;
    try {
      parsed = JSON.parse(await readBody(req));
    } catch (e) {
      res.writeHead(500, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ result: null, error: { code: -32700, message: `parse error: ${e.message}` }, id: null }));
    }
    const reply = Array.isArray(parsed) ? parsed.map(handleRpc) : handleRpc(parsed);
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify(reply));
  }

  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405);
    return res.end();
  }
  if (!authed) {
    res.writeHead(303, { Location: "/login" });
    return res.end();
  }
  let file = normalize(join(DIST, decodeURIComponent(url.pathname)));
  if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) file = join(DIST, "index.html");
  if (!existsSync(file)) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    return res.end("dist/ is missing: run `npm run build` first");
  }
  res.writeHead(200, {
    "Content-Type": MIME[extname(file)] ?? "application/octet-stream",
    "Content-Security-Policy": APP_CSP,
    "X-Content-Type-Options": "nosniff",
  });
  res.end(readFileSync(file));
});

// ---------------------------------------------------------------- WebSocket (RFC 6455, text frames only)

function frame(text) {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, len]) : len < 65536 ? Buffer.from([0x81, 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x81, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  return Buffer.concat([head, payload]);
}

server.on("upgrade", (req, socket) => {
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
  const origin = req.headers.origin ? new URL(req.headers.origin).host : null;
  if (url.pathname !== "/ws" || cookieSession(req) === null || (origin !== null && origin !== req.headers.host)) {
    socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n\r\nbad or missing credentials");
    return;
  }
  const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const client = { send: (t) => socket.writable && socket.write(frame(t)) };
  sockets.add(client);
  let buf = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (buf[1] & 0x80) !== 0;
      const total = off + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      const mask = masked ? buf.subarray(off, off + 4) : null;
      const data = Buffer.from(buf.subarray(off + (masked ? 4 : 0), total));
      if (mask) for (let i = 0; i < data.length; i++) data[i] ^= mask[i % 4];
      buf = buf.subarray(total);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      if (opcode === 0x9) socket.write(Buffer.concat([Buffer.from([0x8a, data.length]), data]));
      if (opcode === 0x1) {
        try {
          const msg = JSON.parse(data.toString("utf8"));
          client.send(JSON.stringify(msg.method === "subscribe" ? { jsonrpc: "2.0", result: msg.params ?? [], id: msg.id ?? null } : { jsonrpc: "2.0", error: { code: -32601, message: 'the WebSocket only takes "subscribe"; call other methods over HTTP' }, id: msg.id ?? null }));
        } catch {
          client.send(JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message: "not JSON" }, id: null }));
        }
      }
    }
  });
  const drop = () => sockets.delete(client);
  socket.on("close", drop);
  socket.on("error", drop);
});

server.listen(PORT, "127.0.0.1", () => {
  console.log(`mock p2share node on http://127.0.0.1:${PORT}/  —  log in: http://127.0.0.1:${PORT}/login?token=${TOKEN}`);
});
