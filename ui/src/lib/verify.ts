// The client-side "Verify" of a Bitcoin block's payout (docs/protocol.md §7.2, §7.4, §7.6):
//   h = TaggedHash("p2share/q-selector", selector_input)   selector_input: the PARENT's 160 bytes
//   q = int_be(h) mod n
// and the selected output's range [range_start, range_start + value) must contain q, and the
// coinbase must have paid the selected output's script.
import type { BitcoinBlock } from "../bindings";
import { bytesToHex, hexToBytes } from "./hex";
import { defaultDigest, taggedHash, type Digest } from "./taggedHash";

export const Q_SELECTOR_TAG = "p2share/q-selector";
export const SELECTOR_BYTES = 160;

/** `int_be(h)`: the 32 hash bytes, in internal order, as an unsigned big-endian integer. */
export function intBe(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

export interface Selection {
  /** The selector hash, hex in internal order (as protocol.md displays tagged hashes). */
  h: string;
  q: bigint;
}

/** Compute `h` and `q = int_be(h) mod n` from the 160 selector bytes. */
export async function computeSelection(
  selectorHex: string,
  n: bigint,
  digest: Digest = defaultDigest(),
): Promise<Selection> {
  if (n <= 0n) throw new Error("n must be positive");
  const h = await taggedHash(Q_SELECTOR_TAG, hexToBytes(selectorHex), digest);
  return { h: bytesToHex(h), q: intBe(h) % n };
}

export interface Check {
  label: string;
  ok: boolean;
  detail: string;
}

export type VerifyStatus = "match" | "mismatch" | "not-applicable" | "error";

export interface VerifyResult {
  status: VerifyStatus;
  summary: string;
  checks: Check[];
  /** Computed `q`, when it was computed. */
  q: bigint | null;
  h: string | null;
}

/** Read the `height` field of a share header at the start of selector bytes (u32 LE, offset 36). */
function selectorHeight(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(36, true);
}

/** Recompute a block's payout selection locally and compare it with what the node reports. */
export async function verifyBlock(
  block: BitcoinBlock,
  digest: Digest = defaultDigest(),
): Promise<VerifyResult> {
  const payout = block.payout;
  if (payout === null) {
    return {
      status: "not-applicable",
      summary:
        "Nothing was drawn: n was 0, so this block paid the finding share's own sharebase (protocol §7.5).",
      checks: [],
      q: null,
      h: null,
    };
  }
  const checks: Check[] = [];
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(block.selector_input);
  } catch {
    return errorResult("The selector input is not hex.");
  }
  checks.push({
    label: "Selector input is 160 bytes",
    ok: bytes.length === SELECTOR_BYTES,
    detail: `${bytes.length} bytes`,
  });
  if (bytes.length !== SELECTOR_BYTES) return finish(checks, null, null);

  const parentHeight = selectorHeight(bytes);
  checks.push({
    label: "Selector input is the parent share's header",
    ok: parentHeight === block.share_height - 1,
    detail: `height field ${parentHeight}, block's share height ${block.share_height}`,
  });

  if (!Number.isSafeInteger(payout.n) || payout.n <= 0) {
    checks.push({
      label: "n is exact",
      ok: false,
      detail: `n = ${payout.n} is not an exact JSON integer (above 2^53), so q cannot be recomputed exactly`,
    });
    return finish(checks, null, null);
  }

  const { h, q } = await computeSelection(block.selector_input, BigInt(payout.n), digest);
  const reportedQ = payout.q;
  const qMatches = Number.isSafeInteger(reportedQ) ? q === BigInt(reportedQ) : false;
  checks.push({
    label: "q = int_be(h) mod n matches the node's q",
    ok: qMatches,
    detail: `computed ${q}, node says ${reportedQ}`,
  });

  const start = BigInt(payout.range_start);
  const end = start + BigInt(payout.value);
  checks.push({
    label: "q lies in the selected output's range",
    ok: start <= q && q < end,
    detail: `[${start}, ${end}) ${start <= q && q < end ? "contains" : "does not contain"} ${q}`,
  });

  checks.push({
    label: "The coinbase paid the selected output's script",
    ok: block.paid_script.toLowerCase() === payout.script_pubkey.toLowerCase(),
    detail:
      block.paid_script.toLowerCase() === payout.script_pubkey.toLowerCase()
        ? block.paid_script
        : `paid ${block.paid_script}, selected ${payout.script_pubkey}`,
  });
  return finish(checks, q, h);
}

function finish(checks: Check[], q: bigint | null, h: string | null): VerifyResult {
  const failed = checks.filter((c) => !c.ok);
  return {
    status: failed.length === 0 ? "match" : "mismatch",
    summary:
      failed.length === 0
        ? "Verified: the payout follows from the parent share's header."
        : `Mismatch: ${failed.map((c) => c.label).join("; ")}.`,
    checks,
    q,
    h,
  };
}

function errorResult(summary: string): VerifyResult {
  return { status: "error", summary, checks: [], q: null, h: null };
}
