import { describe, expect, it } from "vitest";
import { parseAmount, unitsToDecimal } from "./amount";

describe("parseAmount", () => {
  it("reads decimals with up to 8 places into base units, as the node does", () => {
    expect(parseAmount("1.5")).toEqual({ ok: true, units: 150_000_000, text: "1.5" });
    expect(parseAmount(" 12.00000001 ")).toEqual({ ok: true, units: 1_200_000_001, text: "12.00000001" });
    expect(parseAmount(".25")).toEqual({ ok: true, units: 25_000_000, text: "0.25" });
    expect(parseAmount("3.")).toEqual({ ok: true, units: 300_000_000, text: "3" });
  });

  it("says why something is not an amount", () => {
    expect(parseAmount("")).toEqual({ ok: false, reason: "Enter an amount." });
    expect(parseAmount("0")).toEqual({ ok: false, reason: "The amount must be above zero." });
    expect(parseAmount("0.123456789")).toEqual({ ok: false, reason: "At most 8 decimal places." });
    expect(parseAmount("1,5")).toMatchObject({ ok: false, reason: expect.stringMatching(/dot for decimals/) });
    expect(parseAmount("1,234.5")).toMatchObject({ ok: false, reason: expect.stringMatching(/thousands/) });
    expect(parseAmount("-1")).toEqual({ ok: false, reason: "Not a number." });
    expect(parseAmount("1e3")).toEqual({ ok: false, reason: "Not a number." });
    expect(parseAmount("999999999999")).toEqual({ ok: false, reason: "Too large." });
  });
});

describe("unitsToDecimal", () => {
  it("writes base units as the decimal the node takes", () => {
    expect(unitsToDecimal(150_000_000)).toBe("1.5");
    expect(unitsToDecimal(31_249_999_692)).toBe("312.49999692");
    expect(unitsToDecimal(100_000_000)).toBe("1");
    expect(unitsToDecimal(1)).toBe("0.00000001");
    expect(unitsToDecimal(-5)).toBe("0");
  });
});
