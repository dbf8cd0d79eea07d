import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import Shares from "./Shares";
import { renderScreen } from "../test/render";
import { makeFake } from "../test/fixtures";

describe("Shares", () => {
  it("shows outputs with eligibility and maturity countdown", async () => {
    const t = makeFake();
    renderScreen(<Shares />, t);
    const table = await screen.findByTestId("outputs");
    expect(t.callsOf("getshareranges")[0]).toEqual(["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]);
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(3);
    // Newest first: the maturing output at height 35.
    expect(rows[0]).toHaveTextContent("eligible in 15 shares");
    expect(rows[0]).toHaveTextContent("in 15 s"); // target spacing 1 s
    expect(within(rows[0]!).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "25");
    expect(rows[1]).toHaveTextContent("eligible");
    expect(rows[1]).toHaveTextContent("from 600");
    expect(screen.getByTestId("shares-v")).toHaveTextContent("300 shares");
  });

  it("draws [0, n) with my ranges and the recent selections", async () => {
    renderScreen(<Shares />, makeFake());
    const bar = await screen.findByTestId("rangebar");
    const mine = within(bar).getAllByTestId("rb-mine");
    expect(mine).toHaveLength(2);
    // [100, 300) shares of 1000 → x 100..300 of 1000.
    expect(mine[0]).toHaveAttribute("x", "100");
    expect(mine[0]).toHaveAttribute("width", "200");
    const qs = within(bar).getAllByTestId("rb-q");
    expect(qs).toHaveLength(2);
    expect(qs[0]).toHaveClass("rb-q-hit"); // q = 150 shares lies in my first range
    expect(qs[1]).not.toHaveClass("rb-q-hit");
    expect(bar).toHaveAccessibleName(/Your 2 ranges cover 30%/);
  });
});
