import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import Blocks from "./Blocks";
import { renderScreen } from "../test/render";
import { foundByBitaxe, goodBlock, makeFake, mining } from "../test/fixtures";

describe("Blocks", () => {
  it("lists blocks, highlights mine, and verifies a payout locally", async () => {
    const t = makeFake();
    renderScreen(<Blocks />, t);
    const rows = await screen.findAllByTestId("block-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveClass("row-mine");
    expect(rows[1]).not.toHaveClass("row-mine");
    expect(screen.getByText(/2 found recently, 1 paid you/)).toBeInTheDocument();
    expect(t.callsOf("listbitcoinblocks")[0]).toEqual([50]);

    await userEvent.click(within(rows[1]!).getByRole("button", { name: /^verify block/i }));
    const result = await screen.findByTestId("verify-result");
    expect(result).toHaveAttribute("data-status", "match");
    expect(result).toHaveTextContent("Verified");
    expect(result).toHaveTextContent("computed 621058430, node says 621058430");
    expect(result).toHaveTextContent("h = df4cdfea8b65a973bb0e739e4dbc59c58e1cf3cf01efbcaaecb2b115e2b64c7e");
  });

  it("shows a mismatch clearly", async () => {
    const t = makeFake().set("listbitcoinblocks", [{ ...goodBlock, payout: { ...goodBlock.payout!, q: 5 } }]);
    renderScreen(<Blocks />, t);
    await userEvent.click(await screen.findByRole("button", { name: /^verify block/i }));
    const result = await screen.findByTestId("verify-result");
    await waitFor(() => expect(result).toHaveAttribute("data-status", "mismatch"));
    expect(result).toHaveTextContent("Mismatch");
    expect(result).toHaveTextContent("computed 621058430, node says 5");
  });

  it("says when nothing was drawn", async () => {
    const t = makeFake().set("listbitcoinblocks", [{ ...goodBlock, payout: null }]);
    renderScreen(<Blocks />, t);
    expect(await screen.findByText("own sharebase (n = 0)")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: /^verify block/i }));
    expect(await screen.findByTestId("verify-result")).toHaveAttribute("data-status", "not-applicable");
  });

  it("explains an empty list", async () => {
    renderScreen(<Blocks />, makeFake().set("listbitcoinblocks", []));
    expect(await screen.findByText(/has not found a Bitcoin block/)).toBeInTheDocument();
  });
  it("says which hasher found a block found here", async () => {
    const t = makeFake().set("getmininginfo", { ...mining, blocks: [foundByBitaxe] });
    renderScreen(<Blocks />, t);
    const rows = await screen.findAllByTestId("block-row");
    // mineBlock: found here by the Bitaxe; goodBlock: found here, its finder not in the miner's records.
    await waitFor(() => expect(within(rows[0]!).getByTestId("found-here")).toHaveTextContent("found here by bitaxe"));
    expect(within(rows[0]!).getByTestId("found-here")).toHaveAttribute("title", `found by ${foundByBitaxe.finder}`);
    expect(within(rows[1]!).getByTestId("found-here")).toHaveTextContent(/^found here$/);
  });
});
