// The whole dashboard in the desktop app: TauriTransport over a fake Tauri whose commands answer
// like the node (the fixtures), from a cold start where the window opens before the node runs.
import { render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { NodeRunState } from "./bindings";
import { App } from "./App";
import { ApiProvider } from "./api/context";
import { ARG_NAMES, EVENTS, TauriTransport, type InvokeFn, type ListenFn } from "./api/tauri";
import { ErrorCode, type MethodName } from "./api/transport";
import { resetFirstPaint } from "./screens/Dashboard";
import { makeFake } from "./test/fixtures";

type Handler = (e: { payload: unknown }) => void;

function isMethod(cmd: string): cmd is MethodName {
  return cmd in ARG_NAMES;
}

/** A desktop app around the fixtures' node, which starts when the test says. */
function fakeApp() {
  const node = makeFake();
  const commands: string[] = [];
  const handlers = new Map<string, Set<Handler>>();
  let state: NodeRunState = { state: "starting", error: null };
  const invoke: InvokeFn = async (cmd, args = {}) => {
    commands.push(cmd);
    if (cmd === "node_state") return state;
    if (cmd === "ui_ready") return null;
    if (!isMethod(cmd)) throw { code: ErrorCode.METHOD_NOT_FOUND, message: `no command ${cmd}` };
    if (state.state !== "running") {
      // As src-tauri's Host::api words it.
      const message = state.error ? `the node failed to start: ${state.error}` : `the node is not running (${state.state})`;
      throw { code: ErrorCode.TRANSPORT, message };
    }
    // Named arguments back to the positions the fake node takes (null: not given).
    const params = ARG_NAMES[cmd].map((name) => args[name] ?? undefined);
    try {
      return await node.call(cmd, params as never);
    } catch (e) {
      const { code, message } = e as { code: number; message: string };
      throw { code, message };
    }
  };
  const listen = (async (event: string, handler: Handler) => {
    let set = handlers.get(event);
    if (!set) handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }) as ListenFn;
  const setState = (s: NodeRunState) => {
    state = s;
    handlers.get(EVENTS.state)?.forEach((h) => h({ payload: s }));
  };
  return { transport: new TauriTransport({ invoke, listen }), commands, setState };
}

describe("the desktop app", () => {
  it("waits for the node on a cold start, then shows the dashboard and marks its first paint", async () => {
    resetFirstPaint();
    window.location.hash = "";
    const app = fakeApp();
    render(
      <ApiProvider transport={app.transport} desktop={app.transport}>
        <App />
      </ApiProvider>,
    );
    expect(await screen.findByText("Connecting to the node…")).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 50));
    // Starting is not an error: no "Cannot reach the node", still waiting.
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.getByText("Connecting to the node…")).toBeInTheDocument();
    expect(app.commands).not.toContain("ui_ready");

    app.setState({ state: "running", error: null });
    expect(await screen.findByTestId("odds-pct")).toBeInTheDocument();
    expect(screen.getByTestId("conn")).toHaveTextContent("live");
    await waitFor(() => expect(app.commands.filter((c) => c === "ui_ready")).toHaveLength(1));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows why when the node failed to start", async () => {
    window.location.hash = "";
    const app = fakeApp();
    render(
      <ApiProvider transport={app.transport} desktop={app.transport}>
        <App />
      </ApiProvider>,
    );
    await screen.findByText("Connecting to the node…");
    app.setState({ state: "failed", error: "port 29333 in use" });
    expect(await screen.findByRole("alert")).toHaveTextContent(/Cannot reach the node.*port 29333 in use/);
  });
});
