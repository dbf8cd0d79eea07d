// UI-side types and helpers derived from the API types (kept out of src/bindings/, which is
// generated).
import type { BitcoinBlock, HashrateSeries, NextPayout, RangeOutput, WorkerInfo, WorkerRejections } from "../bindings";
import { poissonBand95, luckVerdict, type LuckBand, type LuckVerdict } from "../lib/poisson";
import { shortHash } from "../format";

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

/** Two addresses are one (bech32 is case-insensitive). */
export const sameAddress = sameScript;

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

// ---- hashers (the CPU miner, OpenCL devices, Stratum devices) ----

/** A Stratum user name (`<address>.<worker name>`) as people call the device: its worker name, else its address shortened. */
export function workerLabel(user: string): string {
  const dot = user.indexOf(".");
  const name = dot >= 0 ? user.slice(dot + 1) : "";
  const address = dot >= 0 ? user.slice(0, dot) : user;
  return name || (address ? shortHash(address, 6) : "unnamed device");
}

/** A worker as its row and the chart name it: its worker name, else where it connects from. */
export function workerName(w: Pick<WorkerInfo, "name" | "remote" | "worker">): string {
  return w.name || (w.worker ? workerLabel(w.worker) : w.remote);
}

/**
 * A hasher's name (`cpu`, `opencl:<id>`, `stratum:<user>`: in `hashrate` events, the history
 * and `FoundBlock.finder`) as the UI says it: "CPU", "GPU 0:0", the Stratum worker's name.
 */
export function hasherLabel(name: string): string {
  if (name === "cpu") return "CPU";
  if (name.startsWith("opencl:")) return `GPU ${name.slice("opencl:".length)}`;
  if (name.startsWith("stratum:")) return workerLabel(name.slice("stratum:".length));
  return name;
}

/** The order hashers are listed in: the CPU, GPUs, then Stratum devices. */
function hasherRank(name: string): number {
  if (name === "cpu") return 0;
  if (name.startsWith("opencl:")) return 1;
  if (name.startsWith("stratum:")) return 2;
  return 3;
}

/** A worker's rejected shares, all reasons together. */
export function rejectedTotal(r: WorkerRejections): number {
  return r.stale + r.duplicate + r.low_difficulty + r.bad_job + r.other;
}

/** A worker's rejected shares by reason, in words ("3 stale · 1 too easy"); "none" when none. */
export function rejectedReasons(r: WorkerRejections): string {
  const parts: Array<[number, string]> = [
    [r.stale, "stale"],
    [r.duplicate, "duplicate"],
    [r.low_difficulty, "below the difficulty"],
    [r.bad_job, "unknown job"],
    [r.other, "other"],
  ];
  const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  return said.length ? said.join(" · ") : "none";
}

/** One line of the hashrate chart. */
export interface ChartLine {
  /** The legend's name. */
  name: string;
  /** `[unix seconds, hashes per second]`, oldest first. */
  points: Array<[number, number]>;
  /** One hasher, the sum of all, or the sum of the ones not drawn on their own. */
  kind: "device" | "total" | "other";
}

/** The chart draws at most this many device lines (the last one then "Other devices"). */
export const MAX_CHART_DEVICES = 8;

/** Per time, the sum of the series' values there (a series without a point there adds 0). */
function sumByTime(series: HashrateSeries[]): Array<[number, number]> {
  const sums = new Map<number, number>();
  for (const s of series) for (const [t, v] of s.points) sums.set(t, (sums.get(t) ?? 0) + v);
  return [...sums.entries()].sort((a, b) => a[0] - b[0]);
}

function average(points: Array<[number, number]>): number {
  return points.length ? points.reduce((a, [, y]) => a + y, 0) / points.length : 0;
}

/**
 * The hashrate chart's lines from the per-hasher series (`gethashratehistory`, extended by
 * `hashrate` events): one per hasher, named as people say them, and a total when there is more
 * than one. Beyond `max` hashers the fastest `max - 1` (by average) keep their own line and the
 * rest are summed into "Other devices", so that the legend stays readable with many workers.
 */
export function chartSeries(hashers: HashrateSeries[], max = MAX_CHART_DEVICES): ChartLine[] {
  const drawn = hashers.filter((h) => h.points.length > 0);
  const count = new Map<string, number>();
  for (const h of drawn) count.set(hasherLabel(h.name), (count.get(hasherLabel(h.name)) ?? 0) + 1);
  const label = (h: HashrateSeries): string => {
    const l = hasherLabel(h.name);
    // Two devices of one name (paying different addresses): tell them apart by the address.
    const address = h.name.startsWith("stratum:") ? (h.name.slice("stratum:".length).split(".")[0] ?? "") : "";
    return (count.get(l) ?? 0) > 1 && address ? `${l} (${shortHash(address, 6)})` : l;
  };
  const device = (h: HashrateSeries): ChartLine => ({ name: label(h), points: h.points, kind: "device" });
  if (drawn.length <= 1) return drawn.map(device);

  // The CPU, GPUs, then Stratum devices, each by name.
  const byOrder = (a: HashrateSeries, b: HashrateSeries) => hasherRank(a.name) - hasherRank(b.name) || label(a).localeCompare(label(b));
  let own = drawn;
  let rest: HashrateSeries[] = [];
  if (drawn.length > max) {
    const fastest = [...drawn].sort((a, b) => average(b.points) - average(a.points));
    own = fastest.slice(0, max - 1);
    rest = fastest.slice(max - 1);
  }
  const lines: ChartLine[] = [
    { name: "Total", points: sumByTime(drawn), kind: "total" },
    ...[...own].sort(byOrder).map(device),
  ];
  if (rest.length > 0) lines.push({ name: `Other devices (${rest.length})`, points: sumByTime(rest), kind: "other" });
  return lines;
}
