import { act, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiProvider } from "./context";
import { FakeTransport } from "./fake";
import { useRpc } from "./hooks";

function Height() {
  const s = useRpc("getsyncstatus", [], { refreshOn: ["share", "tip"] });
  if (s.error) return <p>error: {s.error.message}</p>;
  return <p data-testid="h">{s.data ? s.data.height : "loading"}</p>;
}

const status = (height: number) => ({ state: "synced" as const, height, target_height: height, headers: 0, rate: 0, eta_seconds: null, progress: 1, peer: null });

describe("useRpc", () => {
  it("loads, then refetches once per burst of events, within 100 ms", async () => {
    let height = 1;
    const t = new FakeTransport().set("getsyncstatus", () => status(height));
    render(
      <ApiProvider transport={t}>
        <Height />
      </ApiProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("h")).toHaveTextContent("1"));
    const before = t.callsOf("getsyncstatus").length;

    height = 4;
    const start = performance.now();
    act(() => {
      for (let i = 2; i <= 4; i++) t.emit({ type: "share", hash: `${i}`, height: i, active: true, origin: "gossip" });
      t.emit({ type: "tip", hash: "4", height: 4, reorg_depth: 0 });
    });
    await waitFor(() => expect(screen.getByTestId("h")).toHaveTextContent("4"), { timeout: 100, interval: 5 });
    expect(performance.now() - start).toBeLessThan(100);
    // Four events, one call.
    expect(t.callsOf("getsyncstatus").length - before).toBe(1);
  });

  it("ignores events it was not asked to follow", async () => {
    const t = new FakeTransport().set("getsyncstatus", status(1));
    render(
      <ApiProvider transport={t}>
        <Height />
      </ApiProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("h")).toHaveTextContent("1"));
    const before = t.calls.length;
    act(() => t.emit({ type: "peers", connected: 1 }));
    await new Promise((r) => setTimeout(r, 40));
    expect(t.calls.length).toBe(before);
  });

  it("refetches after lagged", async () => {
    let height = 1;
    const t = new FakeTransport().set("getsyncstatus", () => status(height));
    render(
      <ApiProvider transport={t}>
        <Height />
      </ApiProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("h")).toHaveTextContent("1"));
    height = 9;
    act(() => t.emit({ type: "lagged", missed: 12 }));
    await waitFor(() => expect(screen.getByTestId("h")).toHaveTextContent("9"));
  });

  it("shows errors", async () => {
    const t = new FakeTransport().fail("getsyncstatus", -32603, "store failure");
    render(
      <ApiProvider transport={t}>
        <Height />
      </ApiProvider>,
    );
    expect(await screen.findByText("error: store failure")).toBeInTheDocument();
  });
});
