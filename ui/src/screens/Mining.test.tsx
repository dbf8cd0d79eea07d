import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import Mining from "./Mining";
import { renderScreen } from "../test/render";
import { foundByBitaxe, makeFake, mining } from "../test/fixtures";

describe("Mining", () => {
  it("stops and starts the miner with setmining", async () => {
    const t = makeFake();
    let state = { ...mining };
    t.set("getmininginfo", () => state);
    t.set("setmining", ([enabled, threads]) => {
      state = { ...state, mining: enabled, threads: threads ?? state.threads };
      return { mining: enabled, threads: state.threads, backend: "avx2" };
    });
    renderScreen(<Mining />, t);
    expect(await screen.findByTestId("mining-state")).toHaveTextContent("Mining");

    await userEvent.click(screen.getByRole("button", { name: "Stop mining" }));
    expect(t.callsOf("setmining")).toEqual([[false]]);
    await waitFor(() => expect(screen.getByTestId("mining-state")).toHaveTextContent("Stopped"));

    const threads = screen.getByRole("spinbutton", { name: "Threads" });
    await userEvent.clear(threads);
    await userEvent.type(threads, "4");
    await userEvent.click(screen.getByRole("button", { name: "Start mining" }));
    expect(t.callsOf("setmining")[1]).toEqual([true, 4]);
    await waitFor(() => expect(screen.getByTestId("mining-state")).toHaveTextContent("Mining"));
  });

  it("shows per-thread hashrates, counters and the last reject", async () => {
    renderScreen(<Mining />, makeFake());
    const rates = await screen.findAllByTestId("thread-rate");
    expect(rates.map((r) => r.textContent)).toEqual(["33.3 MH/s", "33.3 MH/s"]);
    expect(screen.getByTestId("hashrate")).toHaveTextContent("66.6 MH/s");
    expect(screen.getByTestId("shares-found")).toHaveTextContent("25");
    expect(screen.getByTestId("rejected")).toHaveTextContent("2");
    expect(screen.getByText("last: time-too-new")).toBeInTheDocument();
  });

  it("follows hashrate events", async () => {
    const t = makeFake();
    renderScreen(<Mining />, t);
    await screen.findByTestId("hashrate");
    act(() => t.emit({ type: "hashrate", hashrate: 1.5e9, hashers: [{ name: "cpu", backend: "avx2", threads: 2, hashrate: 1.5e9 }] }));
    expect(screen.getByTestId("hashrate")).toHaveTextContent("1.50 GH/s");
    // The total counts Stratum devices too; this screen's figure is the CPU miner's.
    act(() =>
      t.emit({
        type: "hashrate",
        hashrate: 1.1e12 + 7e7,
        hashers: [
          { name: "cpu", backend: "avx2", threads: 2, hashrate: 7e7 },
          { name: "stratum:bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.bitaxe", backend: "stratum", threads: 1, hashrate: 1.1e12 },
        ],
      }),
    );
    expect(screen.getByTestId("hashrate")).toHaveTextContent("70.0 MH/s");
  });

  it("shows the node's refusal inline", async () => {
    const t = makeFake().set("getmininginfo", { ...mining, mining: false }).fail("setmining", -1, "no mining address is configured");
    renderScreen(<Mining />, t);
    await userEvent.click(await screen.findByRole("button", { name: "Start mining" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("no mining address is configured");
  });
  it("says which hasher found each Bitcoin block", async () => {
    const older = { ...foundByBitaxe, block_hash: "2".repeat(64), bitcoin_height: 811, finder: null, parent_share: null };
    const gpu = { ...foundByBitaxe, block_hash: "3".repeat(64), bitcoin_height: 813, finder: "opencl:0:0" };
    renderScreen(<Mining />, makeFake().set("getmininginfo", { ...mining, blocks: [older, foundByBitaxe, gpu] }));
    const finders = await screen.findAllByTestId("finder");
    // Newest first; a record of an older version has no finder.
    expect(finders.map((f) => f.textContent)).toEqual(["GPU 0:0", "bitaxe", "—"]);
    expect(finders[1]).toHaveAttribute("title", foundByBitaxe.finder);
  });
});
