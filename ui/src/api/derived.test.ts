import { describe, expect, it } from "vitest";
import { computeLuck, eligibleRanges, inRanges, isLoopbackBind, isSelected } from "./derived";
import { goodBlock, mineBlock, selectedMine, shareRanges } from "../test/fixtures";

describe("isSelected", () => {
  it("tells a selection from the n = 0 note", () => {
    expect(isSelected(selectedMine)).toBe(true);
    expect(isSelected({ n: 0, note: "n = 0: the next share pays its own sharebase", tip: "ab", height: 3 })).toBe(false);
  });
});

describe("computeLuck", () => {
  it("counts drawn blocks and wins", () => {
    const blocks = [mineBlock, goodBlock, { ...goodBlock, payout: null, mine: true }];
    const l = computeLuck(blocks, 0.5);
    expect(l.drawn).toBe(2);
    expect(l.won).toBe(1);
    expect(l.expected).toBe(1);
    expect(l.verdict).toBe("normal");
    expect(l.ratio).toBe(1);
  });

  it("has no ratio at zero chance", () => {
    expect(computeLuck([goodBlock], 0).ratio).toBeNull();
  });
});

describe("ranges", () => {
  it("keeps eligible outputs, sorted", () => {
    const r = eligibleRanges(shareRanges.outputs);
    expect(r.map((x) => [x.start, x.end])).toEqual([
      [10000000000, 30000000000],
      [60000000000, 70000000000],
    ]);
    expect(inRanges(15000000000, r)).toBe(true);
    expect(inRanges(30000000000, r)).toBe(false);
  });
});

describe("isLoopbackBind", () => {
  it.each([
    ["127.0.0.1:29332", true],
    ["127.1.2.3:9332", true],
    ["[::1]:9332", true],
    ["localhost:9332", true],
    ["0.0.0.0:29332", false],
    ["192.168.1.5:9332", false],
    ["[::]:9332", false],
    ["10.0.0.1", false],
  ])("%s → %s", (bind, loop) => expect(isLoopbackBind(bind)).toBe(loop));
});
