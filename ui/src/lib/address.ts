// Segwit addresses (BIP-173 bech32, BIP-350 bech32m) from a scriptPubKey, to show who a script is.
// Other script kinds (P2PKH, P2SH) are shown as hex: their base58 prefixes differ per chain.

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
