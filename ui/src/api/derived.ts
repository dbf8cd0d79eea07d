// UI-side types and helpers derived from the API types (kept out of src/bindings/, which is
// generated).
import type { BitcoinBlock, NextPayout, RangeOutput } from "../bindings";
import { poissonBand95, luckVerdict, type LuckBand, type LuckVerdict } from "../lib/poisson";

/** `getselectedshare` when an output is selected (n > 0): every field present. */
export type SelectedOutput = Required<Omit<NextPayout, "note">>;

export function isSelected(s: NextPayout): s is NextPayout & SelectedOutput {
  return typeof s.q === "number" && typeof s.txid === "string" && typeof s.script_pubkey === "string";
}

/** Who the dashboard is about. */
export interface Me {
  address: string | null;
  script: string | null;
}

export function sameScript(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase();
}

export interface Luck extends LuckBand {
  /** Blocks the network found where a draw happened (n > 0). */
  drawn: number;
  won: number;
  verdict: LuckVerdict;
  /** won / expected, or null at expected 0. */
  ratio: number | null;
}

/**
 * Blocks won against the expectation at the current chance per block. Blocks without a draw
 * (n = 0, bootstrap) are left out: they paid their own finder, not a draw.
 */
export function computeLuck(blocks: BitcoinBlock[], chance: number): Luck {
  const drawn = blocks.filter((b) => b.payout !== null);
  const won = drawn.filter((b) => b.mine).length;
  const band = poissonBand95(drawn.length * chance);
  return {
    ...band,
    drawn: drawn.length,
    won,
    verdict: luckVerdict(won, band),
    ratio: band.expected > 0 ? won / band.expected : null,
  };
}

/** A holder's range on [0, n). */
export interface Range {
  start: number;
  end: number;
  output: RangeOutput;
}

export function eligibleRanges(outputs: RangeOutput[]): Range[] {
  return outputs
    .filter((o) => o.eligible && o.range_start !== null && o.value > 0)
    .map((o) => ({ start: o.range_start as number, end: (o.range_start as number) + o.value, output: o }))
    .sort((a, b) => a.start - b.start);
}

/** Whether a q falls in one of the ranges. */
export function inRanges(q: number, ranges: Range[]): boolean {
  return ranges.some((r) => r.start <= q && q < r.end);
}

/** Whether an `ip:port` bind address only listens on this machine. */
export function isLoopbackBind(bind: string): boolean {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(bind) ?? /^([^:]+)(?::\d+)?$/.exec(bind);
  const host = (m?.[1] ?? bind).toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
