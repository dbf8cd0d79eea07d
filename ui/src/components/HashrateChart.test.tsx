import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { HashrateChart, needsLogScale } from "./HashrateChart";
import { chartSeries } from "../api/derived";
import { history } from "../test/fixtures";

describe("HashrateChart", () => {
  it("describes a line per hasher and the total", () => {
    render(<HashrateChart series={chartSeries(history.hashers)} rangeSecs={3600} now={1795628890} />);
    const summary = screen.getByTestId("chart-summary").textContent ?? "";
    expect(summary.split("; ").map((s) => s.split(": now")[0])).toEqual(["Total", "CPU", "GPU 0:0", "bitaxe", "nerdminer"]);
    expect(summary).toContain("Total: now 1.12 TH/s");
    expect(summary).toContain("CPU: now 66.4 MH/s, average 66.3 MH/s");
    expect(summary).toContain("GPU 0:0: now 21.5 MH/s");
    expect(summary).toContain("nerdminer: now 61.2 kH/s");
    expect(screen.getByRole("img")).toHaveAccessibleName(/^Hashrate chart\. Total: now/);
  });

  it("says when there is nothing to draw", () => {
    render(<HashrateChart series={chartSeries([])} rangeSecs={3600} now={1795628890} />);
    expect(screen.getByTestId("chart-summary")).toHaveTextContent("No samples yet.");
  });

  it("switches to a logarithmic axis when devices differ a hundredfold", () => {
    // A Bitaxe at 1.1 TH/s beside a CPU at 66 MH/s.
    expect(needsLogScale(chartSeries(history.hashers))).toBe(true);
    // The CPU and PoCL alone are of one size; a stopped device (zeros) does not count.
    expect(needsLogScale(chartSeries(history.hashers.slice(0, 2)))).toBe(false);
    expect(needsLogScale(chartSeries([history.hashers[0]!, { name: "opencl:0:0", points: [[1795628880, 0]] }]))).toBe(false);
    // The total is not compared.
    expect(needsLogScale([{ name: "Total", points: [[1, 1e12]], kind: "total" }, { name: "CPU", points: [[1, 1e6]] }])).toBe(false);
  });
});
