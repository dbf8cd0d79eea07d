import { describe, expect, it } from "vitest";
import { checkAddress, scriptToAddress } from "./address";

describe("scriptToAddress", () => {
  it("encodes P2WPKH (bech32)", () => {
    expect(scriptToAddress("0014751e76e8199196d454941c45d1b3a323f1433bd6", "bcrt")).toBe("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080");
    expect(scriptToAddress("0014751e76e8199196d454941c45d1b3a323f1433bd6", "bc")).toBe("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
  });

  it("encodes P2WSH (BIP-173 vector)", () => {
    expect(scriptToAddress("00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262", "tb")).toBe(
      "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
    );
  });

  it("encodes P2TR (bech32m, BIP-350 vector)", () => {
    expect(scriptToAddress("5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c", "bc")).toBe(
      "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
    );
  });

  it("leaves other scripts alone", () => {
    expect(scriptToAddress("76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", "bc")).toBeNull();
    expect(scriptToAddress("6a0401020304", "bc")).toBeNull();
    expect(scriptToAddress("zz", "bc")).toBeNull();
  });
});

describe("checkAddress", () => {
  const TAPROOT = "bcrt1ppyvfkun55dm0eaq6q9k0prgs7wy40xqul8j3wwlqekdaalaz2ehsy5pan6";

  it("accepts this network's segwit addresses and names their kind", () => {
    expect(checkAddress(TAPROOT, "bcrt", false)).toEqual({ ok: true, kind: "taproot" });
    expect(checkAddress(` ${TAPROOT.toUpperCase()} `, "bcrt", false)).toEqual({ ok: true, kind: "taproot" });
    expect(checkAddress("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "bcrt", false)).toEqual({ ok: true, kind: "segwit v0 key" });
    expect(checkAddress("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "tb", false)).toEqual({ ok: true, kind: "segwit v0 script" });
    expect(checkAddress("bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", "bc", true)).toEqual({ ok: true, kind: "taproot" });
  });

  it("names another network's address", () => {
    expect(checkAddress("bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", "bcrt", false)).toEqual({
      ok: false,
      reason: "is a mainnet address; this network's addresses start with bcrt1",
    });
    expect(checkAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bcrt", false)).toEqual({ ok: false, reason: "is a mainnet address" });
  });

  it("catches a typo by the checksum, and mixed case", () => {
    const typo = `${TAPROOT.slice(0, 20)}${TAPROOT[20] === "q" ? "p" : "q"}${TAPROOT.slice(21)}`;
    expect(checkAddress(typo, "bcrt", false)).toEqual({ ok: false, reason: "has a typo: its checksum does not match" });
    expect(checkAddress(`BCRT1${TAPROOT.slice(5)}`, "bcrt", false)).toEqual({ ok: false, reason: "mixes upper and lower case" });
    // BIP-350: a v1 program with a bech32 (not bech32m) checksum is refused.
    expect(checkAddress("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", "bc", true).ok).toBe(false);
  });

  it("checks base58 addresses of the right kind", () => {
    expect(checkAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bc", true)).toEqual({ ok: true, kind: "legacy key" });
    expect(checkAddress("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "bc", true)).toEqual({ ok: true, kind: "legacy script" });
    expect(checkAddress("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "bc", true)).toEqual({ ok: false, reason: "has a typo: its checksum does not match" });
  });

  it("says what is wrong with things that are not addresses", () => {
    expect(checkAddress("", "bcrt", false)).toEqual({ ok: false, reason: "is empty" });
    expect(checkAddress("hello world", "bcrt", false)).toEqual({ ok: false, reason: "is not an address" });
    expect(checkAddress("bcrt1qqqqqqqqqqqqqqb", "bcrt", false).ok).toBe(false);
  });
});
