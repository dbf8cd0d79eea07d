import { describe, expect, it } from "vitest";
import type { HashrateSeries } from "../bindings";
import {
  chartSeries,
  computeLuck,
  eligibleRanges,
  hasherLabel,
  inRanges,
  isLoopbackBind,
  isSelected,
  rejectedReasons,
  rejectedTotal,
  workerLabel,
} from "./derived";
import { BITAXE_USER, bitaxe, goodBlock, history, mineBlock, NERDMINER_USER, selectedMine, shareRanges } from "../test/fixtures";

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

describe("hashers", () => {
  it("names them as people say them", () => {
    expect(hasherLabel("cpu")).toBe("CPU");
    expect(hasherLabel("opencl:0:1")).toBe("GPU 0:1");
    expect(hasherLabel(`stratum:${BITAXE_USER}`)).toBe("bitaxe");
    expect(hasherLabel("stratum:bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")).toBe("bcrt1q…ygt080");
    expect(hasherLabel("something-new")).toBe("something-new");
    expect(workerLabel("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.rack.2")).toBe("rack.2");
    expect(workerLabel("")).toBe("unnamed device");
  });

  it("sums and words rejections", () => {
    expect(rejectedTotal(bitaxe.rejected)).toBe(4);
    expect(rejectedReasons(bitaxe.rejected)).toBe("3 stale · 1 below the difficulty");
    expect(rejectedReasons({ stale: 0, duplicate: 2, low_difficulty: 0, bad_job: 1, other: 5 })).toBe("2 duplicate · 1 unknown job · 5 other");
    expect(rejectedReasons({ stale: 0, duplicate: 0, low_difficulty: 0, bad_job: 0, other: 0 })).toBe("none");
  });
});

describe("chartSeries", () => {
  it("draws one line per hasher, named, and their total", () => {
    const lines = chartSeries(history.hashers);
    expect(lines.map((l) => [l.name, l.kind])).toEqual([
      ["Total", "total"],
      ["CPU", "device"],
      ["GPU 0:0", "device"],
      ["bitaxe", "device"],
      ["nerdminer", "device"],
    ]);
    expect(lines[0]!.points).toEqual([
      [1795628880, 66100000 + 21300000 + 1.09e12 + 59800],
      [1795628890, 66400000 + 21500000 + 1.12e12 + 61200],
    ]);
    expect(lines[3]!.points).toBe(history.hashers[2]!.points);
  });

  it("draws a lone hasher without a total, and nothing without points", () => {
    expect(chartSeries([history.hashers[0]!])).toEqual([{ name: "CPU", points: history.hashers[0]!.points, kind: "device" }]);
    expect(chartSeries([{ name: "cpu", points: [] }])).toEqual([]);
    // A hasher without samples in the range is left out (and does not make a total).
    expect(chartSeries([history.hashers[0]!, { name: "opencl:0:0", points: [] }]).map((l) => l.name)).toEqual(["CPU"]);
  });

  it("sums what a hasher lacks at a time as zero", () => {
    const lines = chartSeries([
      { name: "cpu", points: [[10, 5], [20, 6]] },
      { name: `stratum:${NERDMINER_USER}`, points: [[20, 1]] },
    ]);
    expect(lines[0]).toEqual({ name: "Total", points: [[10, 5], [20, 7]], kind: "total" });
  });

  it("tells apart two devices of one name by their address", () => {
    const lines = chartSeries([
      { name: "stratum:bcrt1qaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1.bitaxe", points: [[1, 1]] },
      { name: "stratum:bcrt1qbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2.bitaxe", points: [[1, 2]] },
    ]);
    expect(lines.map((l) => l.name)).toEqual(["Total", "bitaxe (bcrt1q…aaaaa1)", "bitaxe (bcrt1q…bbbbb2)"]);
  });

  it("groups the slowest beyond eight devices as other devices", () => {
    const workers: HashrateSeries[] = Array.from({ length: 12 }, (_, i) => ({
      name: `stratum:bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.axe${String(i).padStart(2, "0")}`,
      points: [[100, (i + 1) * 1e12]],
    }));
    const lines = chartSeries([{ name: "cpu", points: [[100, 5e7]] }, ...workers]);
    // Total, the 7 fastest on their own (in hasher order), the other 6 (the CPU among them) summed.
    expect(lines).toHaveLength(9);
    expect(lines.map((l) => l.name)).toEqual(["Total", "axe05", "axe06", "axe07", "axe08", "axe09", "axe10", "axe11", "Other devices (6)"]);
    const other = lines[8]!;
    expect(other.kind).toBe("other");
    expect(other.points).toEqual([[100, (1 + 2 + 3 + 4 + 5) * 1e12 + 5e7]]);
    expect(lines[0]!.points).toEqual([[100, 78e12 + 5e7]]);
  });
});
