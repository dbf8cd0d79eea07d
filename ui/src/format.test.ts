import { describe, expect, it } from "vitest";
import {
  formatAgo,
  formatBtc,
  formatBytes,
  formatClockMs,
  formatCount,
  formatDifficulty,
  formatDuration,
  formatHashrate,
  formatIn,
  formatMs,
  formatNumber,
  formatOneIn,
  formatPercent,
  formatSats,
  formatShares,
  formatUnitsSigned,
  formatFeeRate,
  formatTime,
  formatUnits8,
  formatUnitsShort,
  shortHash,
} from "./format";

describe("formatHashrate", () => {
  it.each([
    [0, "0 H/s"],
    [1, "1.00 H/s"],
    [950, "950 H/s"],
    [999, "999 H/s"],
    [999.6, "1.00 kH/s"],
    [1500, "1.50 kH/s"],
    [12_345, "12.3 kH/s"],
    [66_640_000, "66.6 MH/s"],
    [123_456_789, "123 MH/s"],
    [2.5e9, "2.50 GH/s"],
    [110e12, "110 TH/s"],
    [7e17, "700 PH/s"],
    [6.5e20, "650 EH/s"],
  ])("%d → %s", (v, s) => expect(formatHashrate(v)).toBe(s));

  it("dashes non-figures", () => {
    expect(formatHashrate(null)).toBe("—");
    expect(formatHashrate(undefined)).toBe("—");
    expect(formatHashrate(NaN)).toBe("—");
    expect(formatHashrate(-1)).toBe("—");
  });
});

describe("formatDifficulty", () => {
  it.each([
    [0, "0"],
    [0.000001, "0.000001"],
    [0.0001, "0.0001"],
    [0.00014, "0.00014"],
    [0.0213, "0.0213"],
    [0.5, "0.5"],
    [1.5, "1.5"],
    [512, "512"],
    [2560, "2.56k"],
    [48_300_000, "48.3M"],
    [1.2e9, "1.2G"],
    [1e15, "1P"],
  ])("%d → %s", (v, s) => expect(formatDifficulty(v)).toBe(s));

  it("dashes non-figures", () => {
    expect(formatDifficulty(null)).toBe("—");
    expect(formatDifficulty(-1)).toBe("—");
  });
});

describe("formatPercent", () => {
  it.each([
    [0, "0%"],
    [1, "100%"],
    [0.3, "30%"],
    [0.12345, "12.3%"],
    [0.5, "50%"],
    [0.0123456, "1.23%"],
    [0.01, "1%"],
    [0.0042, "0.42%"],
    [0.000042, "0.0042%"],
    [0.00000123, "0.00012%"],
    [1e-12, "< 0.000001%"],
    [0.999, "99.9%"],
  ])("%d → %s", (v, s) => expect(formatPercent(v)).toBe(s));

  it("dashes non-figures", () => expect(formatPercent(null)).toBe("—"));
});

describe("formatOneIn", () => {
  it.each([
    [0.3, "1 in 3.33"],
    [0.05, "1 in 20"],
    [0.001, "1 in 1,000"],
    [0, "never"],
    [1, "certain"],
  ])("%d → %s", (v, s) => expect(formatOneIn(v)).toBe(s));
});

describe("formatUnits8 / formatShares / formatSats", () => {
  it.each([
    [0, "0"],
    [1, "0.00000001"],
    [100_000, "0.001"],
    [123_456_789, "1.23456789"],
    [5_000_000_000, "50"],
    [30_000_000_000, "300"],
    [150_000_000, "1.5"],
    [123_456_700_000_000, "1,234,567"],
    [2_100_000_000_000_000, "21,000,000"],
  ])("%d units → %s", (v, s) => expect(formatUnits8(v)).toBe(s));

  it("rounds to fewer decimals on request", () => {
    expect(formatUnits8(123_456_789, 2)).toBe("1.23");
    expect(formatUnits8(199_999_999, 2)).toBe("2");
    expect(formatUnits8(100_000, 2)).toBe("0");
  });

  it("names shares with the right number", () => {
    expect(formatShares(100_000_000)).toBe("1 share");
    expect(formatShares(50_000_000)).toBe("0.5 shares");
    expect(formatShares(5_000_000_000)).toBe("50 shares");
    expect(formatShares(null)).toBe("—");
  });

  it("shows satoshis as BTC", () => {
    expect(formatSats(5_000_000_000)).toBe("50 BTC");
    expect(formatSats(312_500_000)).toBe("3.125 BTC");
    expect(formatSats(1)).toBe("0.00000001 BTC");
  });

  it("keeps negatives", () => expect(formatUnits8(-150_000_000)).toBe("-1.5"));

  it.each([
    [54_822_029_140, "548.22"],
    [245_941_077_259, "2,459.41"],
    [123_456_789, "1.2346"],
    [5_000_000_000, "50"],
    [1_234, "0.00001234"],
    [0, "0"],
  ])("headline %d units → %s", (v, s) => expect(formatUnitsShort(v)).toBe(s));

  it("uses the headline form for shares on request", () => {
    expect(formatShares(54_822_029_140, -1)).toBe("548.22 shares");
    expect(formatShares(100_000_000, -1)).toBe("1 share");
  });
});

describe("formatBtc", () => {
  it.each([
    [0, "0 BTC"],
    [43200, "43,200 BTC"],
    [3.125, "3.125 BTC"],
    [1.23456789, "1.2346 BTC"],
    [0.0123456789, "0.01235 BTC"],
    [0.5, "0.5 BTC"],
    [0.00001234, "0.00001234 BTC"],
    [1e-10, "< 0.00000001 BTC"],
  ])("%d → %s", (v, s) => expect(formatBtc(v)).toBe(s));
  it("dashes null", () => expect(formatBtc(null)).toBe("—"));
});

describe("formatDuration", () => {
  it.each([
    [0, "< 1 s"],
    [0.4, "< 1 s"],
    [1, "1 s"],
    [45, "45 s"],
    [59.4, "59 s"],
    [59.6, "1 min"],
    [180, "3 min"],
    [200, "3 min"],
    [3599, "1 h"],
    [3600, "1 h"],
    [7500, "2 h 5 min"],
    [86_399, "1 d"],
    [90_000, "1 d 1 h"],
    [3 * 86_400 + 4 * 3600, "3 d 4 h"],
    [45 * 86_400, "45 d"],
    [800 * 86_400, "2.2 years"],
  ])("%d s → %s", (v, s) => expect(formatDuration(v)).toBe(s));

  it("handles the edges", () => {
    expect(formatDuration(Infinity)).toBe("never");
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(-5)).toBe("—");
  });

  it("says in and ago", () => {
    expect(formatIn(180)).toBe("in 3 min");
    expect(formatIn(7500)).toBe("in 2 h 5 min");
    expect(formatIn(0.2)).toBe("in < 1 s");
    expect(formatIn(Infinity)).toBe("never");
    expect(formatAgo(65)).toBe("1 min ago");
    expect(formatAgo(0)).toBe("just now");
  });
});

describe("numbers, times, hashes", () => {
  it("groups digits", () => {
    expect(formatNumber(1234567.891)).toBe("1,234,567.89");
    expect(formatNumber(1000, 0)).toBe("1,000");
    expect(formatNumber(-0.001)).toBe("0");
    expect(formatNumber(2.5, 2)).toBe("2.5");
    expect(formatCount(2880.4)).toBe("2,880");
  });

  it("formats times in local time (UTC in tests)", () => {
    expect(formatTime(1735689600)).toBe("2025-01-01 00:00:00");
    expect(formatClockMs(1735689600123)).toBe("00:00:00.123");
    expect(formatTime(null)).toBe("—");
  });

  it("shortens hashes", () => {
    expect(shortHash("e1d4caa0ecd3d36223932c6acc83689f6a3f008f058a68976467ce29f6d7bcee")).toBe("e1d4ca…d7bcee");
    expect(shortHash("abcdef")).toBe("abcdef");
    expect(shortHash(null)).toBe("—");
  });

  it("formats bytes and milliseconds", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1253376)).toBe("1.20 MiB");
    expect(formatMs(0.05)).toBe("0.05 ms");
    expect(formatMs(12.34)).toBe("12.3 ms");
    expect(formatMs(2100)).toBe("2.1 s");
  });
});

describe("formatUnitsSigned / formatFeeRate", () => {
  it("signs a balance change with a real minus", () => {
    expect(formatUnitsSigned(150_000_000)).toBe("+1.5");
    expect(formatUnitsSigned(-1_000_000_154)).toBe("−10.00000154");
    expect(formatUnitsSigned(0)).toBe("0");
    expect(formatUnitsSigned(null)).toBe("—");
  });

  it("writes fee rates per vbyte", () => {
    expect(formatFeeRate(2, "sat")).toBe("2 sat/vB");
    expect(formatFeeRate(1.5, "units")).toBe("1.5 units/vB");
    expect(formatFeeRate(undefined, "sat")).toBe("—");
  });
});
