import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import Dashboard from "./Dashboard";
import { renderScreen } from "../test/render";
import { history, makeFake, ME_ADDRESS, mining, odds, selectedOther } from "../test/fixtures";

describe("Dashboard", () => {
  it("shows v / n, the chance, and expectations", async () => {
    const t = makeFake();
    renderScreen(<Dashboard />, t);
    expect(await screen.findByTestId("odds-pct")).toHaveTextContent("30%");
    expect(screen.getByTestId("odds-fraction")).toHaveTextContent("300/1,000shares");
    expect(t.callsOf("getodds")[0]).toEqual(["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]);
    // 2880 blocks/day × 0.3 = 864 per day, 6048 per week; BTC/day from the node.
    await waitFor(() => expect(screen.getByTestId("blocks-per-day")).toHaveTextContent("864 / day"));
    expect(screen.getByText("6,048 per week")).toBeInTheDocument();
    expect(screen.getByTestId("btc-per-day")).toHaveTextContent("43,200 BTC");
    await waitFor(() => expect(screen.getByTestId("next-share")).toHaveTextContent("in 1 s"));
    expect(screen.getByTestId("next-block")).toHaveTextContent("in 30 s");
    expect(await screen.findByTestId("sync")).toHaveTextContent("Syncing bodies");
    expect(screen.getByTestId("sync")).toHaveTextContent("6 s left");
    expect(await screen.findByTestId("peers")).toHaveTextContent("3");
  });

  it("says when the selected share is mine, and follows tips", async () => {
    const t = makeFake();
    renderScreen(<Dashboard />, t);
    expect(await screen.findByTestId("selected-owner")).toHaveTextContent("Yours!");
    t.set("getselectedshare", selectedOther);
    act(() => t.emit({ type: "tip", hash: "x", height: 121, reorg_depth: 0 }));
    await waitFor(() => expect(screen.getByTestId("selected-owner")).toHaveTextContent("Someone else's"));
    // The other script shown as an address of this network.
    expect(within(screen.getByTestId("selected")).getByText("bcrt1q7hl9fp3dhdnwtk6rl9zusjfldp2x0r5gpqpr8k")).toBeInTheDocument();
  });

  it("repaints the odds on a share event", async () => {
    const t = makeFake();
    renderScreen(<Dashboard />, t);
    expect(await screen.findByTestId("odds-pct")).toHaveTextContent("30%");
    t.set("getodds", { ...odds, v: 50000000000, chance_next_block: 0.5 });
    act(() => t.emit({ type: "share", hash: "y", height: 121, active: true, origin: "local" }));
    await waitFor(() => expect(screen.getByTestId("odds-pct")).toHaveTextContent("50%"), { timeout: 100, interval: 5 });
  });

  it("shows luck against the band", async () => {
    const t = makeFake();
    renderScreen(<Dashboard />, t);
    // Two drawn blocks, one won, chance 0.3: expected 0.6.
    await waitFor(() => expect(screen.getByTestId("luck")).toHaveTextContent("1 won"));
    expect(screen.getByText(/expected 0\.6 of 2 blocks · 95 % band 0–2/)).toBeInTheDocument();
  });

  it("updates sync and peers from events without refetching", async () => {
    const t = makeFake();
    renderScreen(<Dashboard />, t);
    await screen.findByTestId("peers");
    const calls = t.callsOf("getnetworkinfo").length;
    act(() => t.emit({ type: "peers", connected: 7 }));
    expect(screen.getByTestId("peers")).toHaveTextContent("7");
    act(() =>
      t.emit({ type: "sync", state: "synced", height: 10000, target_height: 10000, headers: 0, rate: 0, eta_seconds: null, progress: 1, peer: null }),
    );
    expect(screen.getByTestId("sync")).toHaveTextContent("Synced");
    expect(t.callsOf("getnetworkinfo").length).toBe(calls);
  });

  it("follows the tip in the sync card while synced, between sync events", async () => {
    const t = makeFake();
    renderScreen(<Dashboard />, t);
    await screen.findByTestId("sync");
    act(() =>
      t.emit({ type: "sync", state: "synced", height: 42, target_height: 42, headers: 0, rate: 0, eta_seconds: null, progress: 1, peer: null }),
    );
    expect(screen.getByTestId("sync")).toHaveTextContent("share 42 of 42");
    act(() => t.emit({ type: "tip", hash: "z", height: 46, reorg_depth: 0 }));
    expect(screen.getByTestId("sync")).toHaveTextContent("share 46 of 46");
    // While syncing, the sync events' own figures stand.
    act(() =>
      t.emit({ type: "sync", state: "bodies", height: 50, target_height: 900, headers: 900, rate: 100, eta_seconds: 9, progress: 0.05, peer: null }),
    );
    act(() => t.emit({ type: "tip", hash: "w", height: 60, reorg_depth: 0 }));
    expect(screen.getByTestId("sync")).toHaveTextContent("share 50 of 900");
  });

  it("explains a method the node lacks instead of going blank", async () => {
    const t = makeFake().fail("getodds", -32601, "method not found: getodds");
    renderScreen(<Dashboard />, t);
    expect(await screen.findByText("Odds is not available on this node")).toBeInTheDocument();
    expect(screen.getAllByText(/does not know the method "getodds"/).length).toBeGreaterThan(0);
    // The rest of the screen still works.
    expect(await screen.findByTestId("peers")).toHaveTextContent("3");
  });

  it("tells a node without a mining address", async () => {
    const t = makeFake();
    const info = await t.call("getnodeinfo");
    t.set("getnodeinfo", { ...info, mining_address: null, mining_script: null });
    t.set("getmininginfo", { ...mining, mining: false });
    renderScreen(<Dashboard />, t);
    expect(await screen.findByText(/has no mining address/)).toBeInTheDocument();
    expect(t.callsOf("getodds")).toHaveLength(0);
  });
  it("charts each hasher and the total, and adds devices as hashrate events name them", async () => {
    // The fixture's samples moved to the last 20 s, so that live points do not push them out of the hour.
    const now = Math.floor(Date.now() / 1000);
    const recent = history.hashers.map((h) => ({ ...h, points: h.points.map(([, y], i): [number, number] => [now - 20 + 10 * i, y]) }));
    const t = makeFake().set("gethashratehistory", { ...history, hashers: recent });
    renderScreen(<Dashboard />, t);
    await waitFor(() => expect(screen.getByTestId("chart-summary")).toHaveTextContent("Total: now"));
    const names = () => (screen.getByTestId("chart-summary").textContent ?? "").split("; ").map((s) => s.split(": now")[0]);
    expect(names()).toEqual(["Total", "CPU", "GPU 0:0", "bitaxe", "nerdminer"]);
    act(() =>
      t.emit({
        type: "hashrate",
        hashrate: 66.6e6 + 1.1e12 + 2.1e12,
        hashers: [
          { name: "cpu", backend: "avx2", threads: 2, hashrate: 66.6e6 },
          { name: `stratum:${ME_ADDRESS}.bitaxe`, backend: "stratum", threads: 1, hashrate: 1.1e12 },
          { name: `stratum:${ME_ADDRESS}.nerdqaxe`, backend: "stratum", threads: 1, hashrate: 2.1e12 },
        ],
      }),
    );
    expect(names()).toEqual(["Total", "CPU", "GPU 0:0", "bitaxe", "nerdminer", "nerdqaxe"]);
    expect(screen.getByTestId("chart-summary")).toHaveTextContent("nerdqaxe: now 2.10 TH/s");
    expect(screen.getByTestId("chart-summary")).toHaveTextContent("Total: now 3.20 TH/s");
  });
});
