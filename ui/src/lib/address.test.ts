import { describe, expect, it } from "vitest";
import { scriptToAddress } from "./address";

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
