// Numbers as people read them. Every figure the UI shows goes through one of these.

const DASH = "—";

function isNum(x: number | null | undefined): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

/** Group the digits of a non-negative integer string in threes: "1234567" → "1,234,567". */
function groupDigits(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `n` with thousands separators and at most `maxFrac` decimals (trailing zeros trimmed). */
export function formatNumber(n: number | null | undefined, maxFrac = 2): string {
  if (!isNum(n)) return DASH;
  const neg = n < 0;
  const fixed = Math.abs(n).toFixed(maxFrac);
  const [int = "0", frac = ""] = fixed.split(".");
  const f = frac.replace(/0+$/, "");
  const s = groupDigits(int) + (f ? `.${f}` : "");
  return neg && s !== "0" ? `-${s}` : s;
}

/** An integer count: "1,234". */
export function formatCount(n: number | null | undefined): string {
  return isNum(n) ? formatNumber(Math.round(n), 0) : DASH;
}

/** Three significant digits, without exponent: 66.64 → "66.6", 1.5 → "1.50", 950 → "950". */
function sig3(x: number): string {
  if (x === 0) return "0";
  if (x >= 100) return Math.round(x).toString();
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const HASH_UNITS = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s", "ZH/s"];

/** Hashes per second with a unit: 66_640_000 → "66.6 MH/s". */
export function formatHashrate(hps: number | null | undefined): string {
  if (!isNum(hps) || hps < 0) return DASH;
  let i = 0;
  let x = hps;
  while (x >= 999.5 && i < HASH_UNITS.length - 1) {
    x /= 1000;
    i++;
  }
  return `${sig3(x)} ${HASH_UNITS[i]}`;
}

const SI = ["", "k", "M", "G", "T", "P", "E"];

/**
 * A share difficulty as miners read it: three significant digits with an SI suffix from 1,000
 * (2560 → "2.56k", 48_300_000 → "48.3M"), plain below (512 → "512", 1.5 → "1.5"), and
 * three significant decimals below 1 (0.00014 → "0.00014", 0.000001 → "0.000001").
 */
export function formatDifficulty(d: number | null | undefined): string {
  if (!isNum(d) || d < 0) return DASH;
  if (d === 0) return "0";
  if (d < 1) return trimZeros(d.toFixed(Math.min(15, 2 - Math.floor(Math.log10(d)))));
  let i = 0;
  let x = d;
  while (x >= 999.5 && i < SI.length - 1) {
    x /= 1000;
    i++;
  }
  return `${trimZeros(sig3(x))}${SI[i]}`;
}

/**
 * A fraction as a percentage: 0.3 → "30%", 0.12345 → "12.3%", 0.01234 → "1.23%",
 * 0.000042 → "0.0042%"; below 0.000001% → "< 0.000001%".
 */
export function formatPercent(fraction: number | null | undefined): string {
  if (!isNum(fraction)) return DASH;
  const p = fraction * 100;
  if (p === 0) return "0%";
  const a = Math.abs(p);
  if (a < 1e-6) return p < 0 ? "> -0.000001%" : "< 0.000001%";
  let s: string;
  if (a >= 10) s = trimZeros(p.toFixed(1));
  else if (a >= 1) s = trimZeros(p.toFixed(2));
  else {
    // Two significant digits for small chances.
    const digits = Math.min(8, 1 - Math.floor(Math.log10(a)));
    s = trimZeros(p.toFixed(digits));
  }
  return `${s}%`;
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** "1 in 3.33" for a probability, "never" at 0. */
export function formatOneIn(p: number | null | undefined): string {
  if (!isNum(p) || p < 0) return DASH;
  if (p === 0) return "never";
  if (p >= 1) return "certain";
  const k = 1 / p;
  return `1 in ${k >= 100 ? formatCount(k) : trimZeros(k.toFixed(k >= 10 ? 1 : 2))}`;
}

/**
 * An amount in units of 1e-8 (share units or satoshis) as a decimal of whole ones, exact for safe
 * integers, trailing zeros trimmed: 5_000_000_000 → "50", 123_456_789 → "1.23456789",
 * 100_000 → "0.001", 123_456_700_000_000 → "1,234,567".
 */
export function formatUnits8(units: number | null | undefined, maxDecimals = 8): string {
  if (!isNum(units)) return DASH;
  const neg = units < 0;
  const abs = Math.round(Math.abs(units));
  let whole = Math.floor(abs / 1e8);
  let frac = abs - whole * 1e8; // exact for safe integers
  if (maxDecimals < 8) {
    const step = 10 ** (8 - maxDecimals);
    frac = Math.round(frac / step) * step;
    if (frac >= 1e8) {
      whole += 1;
      frac -= 1e8;
    }
  }
  const fracStr = frac.toString().padStart(8, "0").slice(0, maxDecimals).replace(/0+$/, "");
  const s = groupDigits(whole.toString()) + (fracStr ? `.${fracStr}` : "");
  return neg && s !== "0" ? `-${s}` : s;
}

/**
 * An amount in units of 1e-8 for a headline: fewer decimals the larger it is (2 from 100, 4 from
 * 1, else 8), trimmed: 54_822_029_140 → "548.22", 123_456_789 → "1.2346", 1_234 → "0.00001234".
 */
export function formatUnitsShort(units: number | null | undefined): string {
  if (!isNum(units)) return DASH;
  const a = Math.abs(units);
  return formatUnits8(units, a >= 100 * 1e8 ? 2 : a >= 1e8 ? 4 : 8);
}

/** Share units as shares: "50 shares", "1 share", "0.5 shares"; `maxDecimals < 0`: as formatUnitsShort. */
export function formatShares(units: number | null | undefined, maxDecimals = 8): string {
  if (!isNum(units)) return DASH;
  const s = maxDecimals < 0 ? formatUnitsShort(units) : formatUnits8(units, maxDecimals);
  return `${s} ${s === "1" ? "share" : "shares"}`;
}

/** Satoshis as BTC: 5_000_000_000 → "50 BTC". */
export function formatSats(sat: number | null | undefined): string {
  return isNum(sat) ? `${formatUnits8(sat)} BTC` : DASH;
}

/**
 * A float amount of BTC (an expectation): at most 8 decimals, and at most 4 significant
 * decimals below 1 BTC so that it reads: 0.0123456789 → "0.01235 BTC"; 43200 → "43,200 BTC".
 */
export function formatBtc(btc: number | null | undefined): string {
  if (!isNum(btc)) return DASH;
  if (btc === 0) return "0 BTC";
  const a = Math.abs(btc);
  if (a < 0.000000005) return "< 0.00000001 BTC";
  let decimals: number;
  if (a >= 1000) decimals = 2;
  else if (a >= 1) decimals = 4;
  else decimals = Math.min(8, 3 - Math.floor(Math.log10(a)));
  return `${formatNumber(btc, decimals)} BTC`;
}

/**
 * A duration in seconds: "< 1 s", "45 s", "3 min", "2 h 5 min", "3 d 4 h", "412 d",
 * "2.3 years". Rounded, never with more than two parts.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === Infinity) return "never";
  if (!isNum(seconds) || seconds < 0) return DASH;
  if (seconds < 1) return "< 1 s";
  if (seconds < 59.5) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  if (seconds < 86_400 - 30) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const hours = Math.round(seconds / 3600);
  const d = Math.floor(hours / 24);
  if (d < 30) {
    const h = hours % 24;
    return h ? `${d} d ${h} h` : `${d} d`;
  }
  if (d < 730) return `${d} d`;
  return `${trimZeros((seconds / (365.25 * 86_400)).toFixed(1))} years`;
}

/** "in 3 min"; "in < 1 s" below a second. */
export function formatIn(seconds: number | null | undefined): string {
  if (seconds === Infinity) return "never";
  if (!isNum(seconds) || seconds < 0) return DASH;
  if (seconds < 1) return "in < 1 s";
  return `in ${formatDuration(seconds)}`;
}

/** "3 min ago"; "just now" below a second. */
export function formatAgo(seconds: number | null | undefined): string {
  if (!isNum(seconds)) return DASH;
  if (seconds < 1) return "just now";
  return `${formatDuration(seconds)} ago`;
}

function pad2(n: number): string {
  return n.toString().padStart(2, "0");
}

/** Unix seconds as local "YYYY-MM-DD HH:MM:SS". */
export function formatTime(unixSeconds: number | null | undefined): string {
  if (!isNum(unixSeconds)) return DASH;
  const d = new Date(unixSeconds * 1000);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** Unix milliseconds as local "HH:MM:SS.mmm" (log lines). */
export function formatClockMs(unixMs: number | null | undefined): string {
  if (!isNum(unixMs)) return DASH;
  const d = new Date(unixMs);
  return (
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.` +
    d.getMilliseconds().toString().padStart(3, "0")
  );
}

/** A hash or other long hex shortened for a table: "e1d4ca…d7bcee". */
export function shortHash(hex: string | null | undefined, keep = 6): string {
  if (!hex) return DASH;
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

/** Bytes with a binary unit: 1253376 → "1.20 MiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (!isNum(bytes) || bytes < 0) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let x = bytes;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${x} B` : `${sig3(x)} ${units[i]}`;
}

/** Milliseconds with a sensible precision: 0.05 → "0.05 ms", 12.34 → "12.3 ms". */
export function formatMs(ms: number | null | undefined): string {
  if (!isNum(ms) || ms < 0) return DASH;
  if (ms >= 1000) return `${trimZeros((ms / 1000).toFixed(2))} s`;
  return `${trimZeros(ms >= 10 ? ms.toFixed(1) : ms.toFixed(2))} ms`;
}

/**
 * A change of a balance in units of 1e-8, signed: 150_000_000 → "+1.5", -1_000_000_154 →
 * "−10.00000154" (a minus sign, not a hyphen), 0 → "0".
 */
export function formatUnitsSigned(units: number | null | undefined): string {
  if (!isNum(units)) return DASH;
  if (Math.round(units) === 0) return "0";
  return `${units > 0 ? "+" : "−"}${formatUnits8(Math.abs(units))}`;
}

/** A fee rate: 2 → "2 sat/vB", 1.5 units → "1.5 units/vB". */
export function formatFeeRate(perVbyte: number | null | undefined, unit: "sat" | "units"): string {
  if (!isNum(perVbyte)) return DASH;
  return `${formatNumber(perVbyte, 3)} ${unit}/vB`;
}
