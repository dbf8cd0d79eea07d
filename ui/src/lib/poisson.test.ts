import { describe, expect, it } from "vitest";
import { luckVerdict, poissonBand95, poissonPmf, poissonQuantile } from "./poisson";

describe("poisson", () => {
  it("pmf sums to 1", () => {
    let s = 0;
    for (let k = 0; k < 100; k++) s += poissonPmf(k, 10);
    expect(s).toBeCloseTo(1, 10);
    expect(poissonPmf(0, 0)).toBe(1);
    expect(poissonPmf(3, 0)).toBe(0);
  });

  it("has the textbook 95% bands", () => {
    // Quantiles of Poisson(λ) at 2.5% and 97.5% (R: qpois(c(.025,.975), λ)).
    expect(poissonBand95(1)).toEqual({ expected: 1, low: 0, high: 3 });
    expect(poissonBand95(10)).toEqual({ expected: 10, low: 4, high: 17 });
    expect(poissonBand95(100)).toEqual({ expected: 100, low: 81, high: 120 });
    expect(poissonBand95(1000)).toEqual({ expected: 1000, low: 938, high: 1062 });
    expect(poissonBand95(0)).toEqual({ expected: 0, low: 0, high: 0 });
  });

  it("quantile is monotone in p", () => {
    expect(poissonQuantile(5, 0.1)).toBeLessThanOrEqual(poissonQuantile(5, 0.5));
    expect(poissonQuantile(5, 0.5)).toBe(5);
  });

  it("judges luck against the band", () => {
    const band = poissonBand95(10);
    expect(luckVerdict(10, band)).toBe("normal");
    expect(luckVerdict(18, band)).toBe("lucky");
    expect(luckVerdict(3, band)).toBe("unlucky");
    expect(luckVerdict(0, poissonBand95(0))).toBe("none");
  });
});
