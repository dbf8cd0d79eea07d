// Segwit addresses (BIP-173 bech32, BIP-350 bech32m) from a scriptPubKey, to show who a script is.
// Other script kinds (P2PKH, P2SH) are shown as hex: their base58 prefixes differ per chain.
// And the other way round, for send forms: whether a typed address belongs to this network.
import { sha256 } from "./sha256";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: Uint8Array, from: number, to: number): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
  }
  if (bits > 0) out.push((acc << (to - bits)) & maxv);
  return out;
}

function encode(hrp: string, data: number[], bech32m: boolean): string {
  const constant = bech32m ? 0x2bc830a3 : 1;
  const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ constant;
  const checksum: number[] = [];
  for (let i = 0; i < 6; i++) checksum.push((mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => CHARSET[d]).join("")}`;
}

/** The segwit address of a witness-program scriptPubKey (hex), or `null` for other scripts. */
export function scriptToAddress(scriptHex: string, hrp: string): string | null {
  if (!/^[0-9a-fA-F]*$/.test(scriptHex) || scriptHex.length % 2 !== 0) return null;
  const bytes = new Uint8Array(scriptHex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(scriptHex.slice(2 * i, 2 * i + 2), 16);
  if (bytes.length < 4 || bytes.length > 42) return null;
  const op = bytes[0]!;
  const version = op === 0 ? 0 : op >= 0x51 && op <= 0x60 ? op - 0x50 : -1;
  if (version < 0) return null;
  const len = bytes[1]!;
  if (len !== bytes.length - 2 || len < 2 || len > 40) return null;
  if (version === 0 && len !== 20 && len !== 32) return null;
  const program = bytes.slice(2);
  return encode(hrp.toLowerCase(), [version, ...convertBits(program, 8, 5)], version > 0);
}

// ---- checking an address typed or pasted into a send form ----

/** What kind of output an address pays. */
export type AddressKind = "taproot" | "segwit v0 key" | "segwit v0 script" | "segwit" | "legacy key" | "legacy script";

export type AddressCheck = { ok: true; kind: AddressKind } | { ok: false; reason: string };

/** The bech32 prefixes of the Bitcoin networks, to name the network of a foreign address. */
const KNOWN_HRPS: Record<string, string> = { bc: "mainnet", tb: "testnet or signet", bcrt: "regtest" };

function checkSegwit(addr: string, hrp: string): AddressCheck {
  if (addr !== addr.toLowerCase() && addr !== addr.toUpperCase()) {
    return { ok: false, reason: "mixes upper and lower case" };
  }
  const s = addr.toLowerCase();
  const sep = s.lastIndexOf("1");
  const prefix = s.slice(0, sep);
  if (prefix !== hrp.toLowerCase()) {
    const net = KNOWN_HRPS[prefix];
    return {
      ok: false,
      reason: net
        ? `is a ${net} address; this network's addresses start with ${hrp}1`
        : `does not start with ${hrp}1 (this network's addresses do)`,
    };
  }
  const data: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) return { ok: false, reason: `has "${c}", which no bech32 address contains` };
    data.push(v);
  }
  if (data.length < 7) return { ok: false, reason: "is too short" };
  const check = polymod([...hrpExpand(prefix), ...data]);
  if (check !== 1 && check !== 0x2bc830a3) {
    return { ok: false, reason: "has a typo: its checksum does not match" };
  }
  const version = data[0]!;
  // The program: the 5-bit groups between the version and the checksum, as whole bytes (at
  // most 4 bits of padding).
  const groups = data.length - 7;
  const bytes = (groups * 5) >> 3;
  if (version > 16 || (groups * 5) % 8 > 4 || bytes < 2 || bytes > 40) return { ok: false, reason: "is not a valid segwit address" };
  if (version === 0 && check !== 1) return { ok: false, reason: "is not a valid segwit address (v0 uses bech32)" };
  if (version > 0 && check !== 0x2bc830a3) return { ok: false, reason: "is not a valid segwit address (v1+ uses bech32m)" };
  if (version === 0 && bytes !== 20 && bytes !== 32) return { ok: false, reason: "is not a valid segwit v0 address" };
  if (version === 0) return { ok: true, kind: bytes === 20 ? "segwit v0 key" : "segwit v0 script" };
  if (version === 1 && bytes === 32) return { ok: true, kind: "taproot" };
  return { ok: true, kind: "segwit" };
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58Decode(s: string): Uint8Array | null {
  let n = 0n;
  for (const c of s) {
    const v = BASE58.indexOf(c);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const c of s) {
    if (c !== "1") break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

function checkBase58(addr: string, mainnet: boolean): AddressCheck {
  const raw = base58Decode(addr);
  if (!raw) return { ok: false, reason: "is not an address" };
  if (raw.length !== 25) return { ok: false, reason: "is not an address (wrong length)" };
  const sum = sha256(sha256(raw.slice(0, 21)));
  if (!sum.slice(0, 4).every((b, i) => b === raw[21 + i])) {
    return { ok: false, reason: "has a typo: its checksum does not match" };
  }
  const version = raw[0]!;
  const ours = mainnet ? { key: 0x00, script: 0x05 } : { key: 0x6f, script: 0xc4 };
  if (version === ours.key) return { ok: true, kind: "legacy key" };
  if (version === ours.script) return { ok: true, kind: "legacy script" };
  const theirs = mainnet ? [0x6f, 0xc4] : [0x00, 0x05];
  return {
    ok: false,
    reason: theirs.includes(version) ? `is a ${mainnet ? "test network" : "mainnet"} address` : "is not a Bitcoin address",
  };
}

/**
 * Whether `address` is an address of this network: bech32/bech32m with the network's prefix
 * (`hrp`), or a base58 address of its kind (`mainnet`). The node checks again; this is for
 * feedback while typing.
 */
export function checkAddress(address: string, hrp: string, mainnet: boolean): AddressCheck {
  const a = address.trim();
  if (!a) return { ok: false, reason: "is empty" };
  const base58 = /^[1-9A-HJ-NP-Za-km-z]{25,35}$/.test(a) ? checkBase58(a, mainnet) : null;
  // A base58 address can look like bech32 (letters, a "1", more letters): its checksum decides.
  if (base58 && (base58.ok || base58.reason !== "has a typo: its checksum does not match" || !/^[a-z]+1/i.test(a))) return base58;
  if (/^[a-z]{1,83}1[a-z0-9]{6,}$/i.test(a)) return checkSegwit(a, hrp);
  return base58 ?? { ok: false, reason: "is not an address" };
}
