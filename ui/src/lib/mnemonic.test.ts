import { describe, expect, it } from "vitest";
import { mnemonicWords, pickPositions } from "./mnemonic";
import { passphraseStrength } from "./passphrase";

describe("mnemonicWords", () => {
  it("lower-cases, splits on any space and drops list numbers", () => {
    expect(mnemonicWords("  Void come\n effort,suffer\t")).toEqual(["void", "come", "effort", "suffer"]);
    expect(mnemonicWords("1. void 2. come 3) effort 10 suffer")).toEqual(["void", "come", "effort", "suffer"]);
    expect(mnemonicWords("")).toEqual([]);
  });
});

describe("pickPositions", () => {
  it("picks distinct positions in range, ascending", () => {
    for (let i = 0; i < 50; i++) {
      const p = pickPositions(24, 3);
      expect(p).toHaveLength(3);
      expect(new Set(p).size).toBe(3);
      expect([...p].sort((a, b) => a - b)).toEqual(p);
      expect(p.every((x) => x >= 0 && x < 24)).toBe(true);
    }
    expect(pickPositions(2, 3)).toEqual([0, 1]);
  });
});

describe("passphraseStrength", () => {
  it("grades from weak to strong", () => {
    expect(passphraseStrength("")).toMatchObject({ score: 0 });
    expect(passphraseStrength("abc123")).toMatchObject({ score: 1, label: "weak" });
    expect(passphraseStrength("password123456789")).toMatchObject({ score: 1, label: "weak" });
    expect(passphraseStrength("aaaaaaaaaaaaaaaaaaaa")).toMatchObject({ score: 1 });
    expect(passphraseStrength("Tr0ub4dor&3x")).toMatchObject({ label: "good" });
    expect(passphraseStrength("correct horse battery staple")).toMatchObject({ score: 4, label: "strong" });
  });
});
