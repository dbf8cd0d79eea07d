import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256 } from "./sha256";
import { bytesToHex, hexToBytes } from "./hex";
import { fallbackDigest, taggedHash, type Digest } from "./taggedHash";
import { computeSelection, intBe, Q_SELECTOR_TAG, verifyBlock } from "./verify";
import { goodBlock, SELECTION_VECTOR } from "../test/fixtures";

// The project's golden vectors (docs/protocol.md §15), read from the repository (tests run in ui/).
const vectors = JSON.parse(readFileSync(resolve(process.cwd(), "../tests/data/vectors.json"), "utf8")) as {
  genesis: Array<{ network: string; selector_hex: string; q_selector_hash_hex: string }>;
  selection: {
    header_hex: string;
    expected: { n: number; q: string; range_start: number; script_pubkey: string; value: number; txid: string; vout: number };
  };
};

const subtleDigest: Digest = async (d) => new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", d as BufferSource));
const enc = (s: string) => new TextEncoder().encode(s);

describe("sha256 fallback", () => {
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
  ])("known answer for %j", (msg, hex) => expect(bytesToHex(sha256(enc(msg)))).toBe(hex));

  it("agrees with WebCrypto across block boundaries", async () => {
    for (const len of [0, 1, 55, 56, 63, 64, 65, 119, 120, 160, 224, 1000]) {
      const data = new Uint8Array(len).map((_, i) => (i * 31 + 7) & 0xff);
      expect(bytesToHex(sha256(data))).toBe(bytesToHex(await subtleDigest(data)));
    }
  });

  it("hashes the q-selector tag as protocol.md §1.3 says", () => {
    expect(bytesToHex(sha256(enc(Q_SELECTOR_TAG)))).toBe("e244ecff45e64d6fd799209faccac245dc1ff74473ebd7776723071d2ec77623");
  });
});

describe("q selection (known answers)", () => {
  it("matches the selection vector (§7.8 / §15.3) with both digests", async () => {
    for (const digest of [subtleDigest, fallbackDigest]) {
      const { h, q } = await computeSelection(vectors.selection.header_hex, BigInt(vectors.selection.expected.n), digest);
      expect(h).toBe(SELECTION_VECTOR.h);
      expect(q).toBe(BigInt(vectors.selection.expected.q));
      expect(q).toBe(621058430n);
    }
  });

  it("int_be reads the hash big-endian (§7.8's integer)", () => {
    expect(intBe(hexToBytes(SELECTION_VECTOR.h))).toBe(
      101001591023734646056258527827345136917323461394218577084198144643535321058430n,
    );
  });

  it("matches every genesis share's selector hash", async () => {
    expect(vectors.genesis.length).toBeGreaterThan(0);
    for (const g of vectors.genesis) {
      const h = await taggedHash(Q_SELECTOR_TAG, hexToBytes(g.selector_hex), fallbackDigest);
      expect(bytesToHex(h), g.network).toBe(g.q_selector_hash_hex);
    }
  });
});

describe("verifyBlock", () => {
  it("reports a match for a consistent block", async () => {
    const r = await verifyBlock(goodBlock, fallbackDigest);
    expect(r.status).toBe("match");
    expect(r.q).toBe(621058430n);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.checks).toHaveLength(5);
  });

  it("reports a wrong q", async () => {
    const r = await verifyBlock({ ...goodBlock, payout: { ...goodBlock.payout!, q: 621058431 } }, fallbackDigest);
    expect(r.status).toBe("mismatch");
    expect(r.checks.find((c) => c.label.startsWith("q ="))?.ok).toBe(false);
  });

  it("reports a range that does not contain q", async () => {
    const r = await verifyBlock({ ...goodBlock, payout: { ...goodBlock.payout!, range_start: 0 } }, fallbackDigest);
    expect(r.status).toBe("mismatch");
    expect(r.summary).toContain("range");
  });

  it("reports a block that paid another script", async () => {
    const r = await verifyBlock({ ...goodBlock, paid_script: "0014" + "00".repeat(20) }, fallbackDigest);
    expect(r.status).toBe("mismatch");
    expect(r.summary).toContain("paid");
  });

  it("reports a tampered selector input", async () => {
    const tampered = goodBlock.selector_input.slice(0, -2) + "01";
    const r = await verifyBlock({ ...goodBlock, selector_input: tampered }, fallbackDigest);
    expect(r.status).toBe("mismatch");
  });

  it("reports selector bytes of the wrong share", async () => {
    const r = await verifyBlock({ ...goodBlock, share_height: 5 }, fallbackDigest);
    expect(r.status).toBe("mismatch");
    expect(r.summary).toContain("parent");
  });

  it("reports a short selector input", async () => {
    const r = await verifyBlock({ ...goodBlock, selector_input: "00".repeat(80) }, fallbackDigest);
    expect(r.status).toBe("mismatch");
    expect(r.checks[0]?.detail).toBe("80 bytes");
  });

  it("refuses an n beyond exact JSON integers", async () => {
    const r = await verifyBlock({ ...goodBlock, payout: { ...goodBlock.payout!, n: 2 ** 56 } }, fallbackDigest);
    expect(r.status).toBe("mismatch");
    expect(r.summary).toContain("n is exact");
  });

  it("has nothing to check while n was 0", async () => {
    const r = await verifyBlock({ ...goodBlock, payout: null });
    expect(r.status).toBe("not-applicable");
  });

  it("says so when the selector input is not hex", async () => {
    const r = await verifyBlock({ ...goodBlock, selector_input: "zz" });
    expect(r.status).toBe("error");
  });
});
