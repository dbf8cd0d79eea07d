import { describe, expect, it, vi } from "vitest";
import type { NodeRunState } from "../bindings";
import { ErrorCode, RpcError, type MethodName, type TransportEvent } from "./transport";
import { ARG_NAMES, EVENTS, TauriTransport, connectionOf, namedArgs, type InvokeFn, type ListenFn } from "./tauri";

type Handler = (e: { payload: unknown }) => void;

/** An answer, or a function of the arguments that answers (a promise to hold the answer back). */
type Answer = unknown;

/** A fake Tauri: records invokes, answers from `answers`, and lets the test emit events. */
function fakeTauri(answers: Record<string, Answer> = {}) {
  const calls: Array<[string, Record<string, unknown> | undefined]> = [];
  const handlers = new Map<string, Set<Handler>>();
  const unlistened: string[] = [];
  // Set to make every invoke reject with this value.
  const state: { reject: unknown } = { reject: undefined };
  const invoke: InvokeFn = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
    calls.push([cmd, args]);
    if (state.reject !== undefined) throw state.reject;
    if (cmd in answers) {
      const a = answers[cmd];
      if (a instanceof Error) throw a;
      return typeof a === "function" ? await (a as (args?: Record<string, unknown>) => unknown)(args) : a;
    }
    throw { code: -32601, message: `command ${cmd} not found` };
  });
  const listen = (async (event: string, handler: Handler) => {
    let set = handlers.get(event);
    if (!set) handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      unlistened.push(event);
    };
  }) as ListenFn;
  const emit = (event: string, payload: unknown) => handlers.get(event)?.forEach((h) => h({ payload }));
  return { invoke, listen, calls, emit, handlers, unlistened, state };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A promise and its resolve, to answer a call when the test says. */
function deferred<T>() {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const NOT_RUNNING = { code: ErrorCode.TRANSPORT, message: "the node is not running (starting)" };

describe("TauriTransport", () => {
  it("maps every method's positional params to the command's named arguments", async () => {
    const expected: { [M in MethodName]: Record<string, unknown> } = {
      getsharechaininfo: {},
      getselectedshare: {},
      getshareranges: { scriptOrAddress: "bcrt1qx" },
      listbitcoinblocks: { count: 7 },
      getpeerinfo: {},
      getnetworkinfo: {},
      addpeer: { multiaddr: "/ip4/1.2.3.4/tcp/1" },
      getsyncstatus: {},
      getmininginfo: {},
      setmining: { enabled: true, threads: 3 },
      getdevices: {},
      setdevice: { id: "0:0", enabled: true, intensity: 24 },
      gethashratehistory: { rangeSecs: 600 },
      getodds: { scriptOrAddress: "bcrt1qx" },
      getnetworkparams: {},
      getnodeinfo: {},
      testbitcoincore: { connection: { url: "http://h" } },
      getlogs: { count: 10 },
      getsetup: {},
      setup: { request: { kind: "devnet" } },
      getsettings: {},
      setsettings: { update: { threads: 2 } },
      getwalletinfo: {},
      createwallet: { passphrase: "hunter2 hunter2" },
      restorewallet: { words: "void come effort", passphrase: "p" },
      unlockwallet: { passphrase: "p" },
      lockwallet: {},
      getnewaddress: {},
      getwalletbalances: {},
      listwalletunspent: {},
      sendshares: { address: "bcrt1px", amount: "1.5", feeRate: 2000 },
      sendbtc: { address: "bcrt1px", amount: "0.01", satPerVb: 3 },
      createpsbt: { address: "bcrt1px", amount: "0.01", satPerVb: 1 },
      listwallettransactions: { offset: 50, limit: 50 },
      listbtctransactions: {},
      listpayouts: {},
      listoffers: {},
      makeoffer: { makerSells: "shares", min: "1", max: "10.5", price: 41_000, ttlSecs: 86_400 },
      canceloffer: { id: "of1" },
      takeoffer: { id: "of1", amount: "2.5" },
      listswaps: {},
      cancelswap: { id: "sw1" },
      getrefundfile: { id: "sw1" },
    };
    const answers = Object.fromEntries(Object.keys(ARG_NAMES).map((m) => [m, { ok: m }]));
    const tauri = fakeTauri(answers);
    const t = new TauriTransport(tauri);
    for (const m of Object.keys(expected) as MethodName[]) {
      const params = Object.values(expected[m]);
      // Each method's tuple type differs; the table above is the typed truth.
      await expect(t.call(m, params as never)).resolves.toEqual({ ok: m });
    }
    expect(tauri.calls).toEqual(Object.entries(expected));
  });

  it("has a table entry, with a name per parameter, for every method", () => {
    // Every key of `Methods`: the type of `every` (a mapped type over MethodName) requires each.
    const every: { [M in MethodName]: true } = {
      getsharechaininfo: true,
      getselectedshare: true,
      getshareranges: true,
      listbitcoinblocks: true,
      getpeerinfo: true,
      getnetworkinfo: true,
      addpeer: true,
      getsyncstatus: true,
      getmininginfo: true,
      setmining: true,
      getdevices: true,
      setdevice: true,
      gethashratehistory: true,
      getodds: true,
      getnetworkparams: true,
      getnodeinfo: true,
      testbitcoincore: true,
      getlogs: true,
      getsetup: true,
      setup: true,
      getsettings: true,
      setsettings: true,
      getwalletinfo: true,
      createwallet: true,
      restorewallet: true,
      unlockwallet: true,
      lockwallet: true,
      getnewaddress: true,
      getwalletbalances: true,
      listwalletunspent: true,
      sendshares: true,
      sendbtc: true,
      createpsbt: true,
      listwallettransactions: true,
      listbtctransactions: true,
      listpayouts: true,
      listoffers: true,
      makeoffer: true,
      canceloffer: true,
      takeoffer: true,
      listswaps: true,
      cancelswap: true,
      getrefundfile: true,
    };
    expect(Object.keys(ARG_NAMES).sort()).toEqual(Object.keys(every).sort());
    const { getodds: _dropped, ...partial } = ARG_NAMES;
    // @ts-expect-error: a table without a method does not typecheck.
    const missing: typeof ARG_NAMES = partial;
    // @ts-expect-error: nor one with a parameter left unnamed (`threads` is optional, still named).
    const short: (typeof ARG_NAMES)["setmining"] = ["enabled"];
    // @ts-expect-error: nor one with a name too many.
    const long: (typeof ARG_NAMES)["getsyncstatus"] = ["verbose"];
    expect([missing, short, long]).toHaveLength(3);
  });

  it("sends null for a missing optional parameter", () => {
    expect(namedArgs("setmining", [false])).toEqual({ enabled: false, threads: null });
    expect(namedArgs("listbitcoinblocks")).toEqual({ count: null });
    // An intensity alone leaves the device's enabled flag as it is.
    expect(namedArgs("setdevice", ["0:0", undefined, 20])).toEqual({ id: "0:0", enabled: null, intensity: 20 });
    expect(namedArgs("setdevice", ["1:0", false])).toEqual({ id: "1:0", enabled: false, intensity: null });
    // The node's default fee rate and the first page of the history.
    expect(namedArgs("sendshares", ["bcrt1px", "1"])).toEqual({ address: "bcrt1px", amount: "1", feeRate: null });
    expect(namedArgs("sendbtc", ["bcrt1px", "0.1"])).toEqual({ address: "bcrt1px", amount: "0.1", satPerVb: null });
    expect(namedArgs("listwallettransactions")).toEqual({ offset: null, limit: null });
    // The node's default offer lifetime (a day).
    expect(namedArgs("makeoffer", ["btc", "1", "2", 38_000])).toEqual({ makerSells: "btc", min: "1", max: "2", price: 38_000, ttlSecs: null });
  });

  it("turns rejections into RpcErrors with the node's code", async () => {
    const tauri = fakeTauri();
    tauri.state.reject = { code: ErrorCode.INVALID_ADDRESS_OR_KEY, message: "not an address of this network" };
    const t = new TauriTransport(tauri);
    const e = await t.call("getodds", ["x"]).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RpcError);
    expect(e).toMatchObject({ code: -5, message: "not an address of this network", method: "getodds" });
    tauri.state.reject = "invalid args `enabled` for command `setmining`: invalid type";
    const bad = await t.call("setmining", [true]).catch((err: unknown) => err);
    expect(bad).toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    tauri.state.reject = new Error("ipc down");
    const down = await t.call("getsyncstatus").catch((err: unknown) => err);
    expect(down).toMatchObject({ code: ErrorCode.TRANSPORT, message: "Error: ipc down" });
    // None of these is the node on its way up: nothing waited, nothing asked again.
    expect(tauri.calls.map(([cmd]) => cmd)).toEqual(["getodds", "setmining", "getsyncstatus"]);
  });

  it("holds calls while the node starts and makes them once it runs", async () => {
    let running = false;
    const tauri = fakeTauri({
      node_state: () => ({ state: running ? "running" : "starting", error: null }),
      getsyncstatus: () => {
        if (!running) throw NOT_RUNNING;
        return { synced: true };
      },
      getsetup: () => {
        if (!running) throw NOT_RUNNING;
        return { configured: true };
      },
    });
    const t = new TauriTransport(tauri);
    let answered = 0;
    const sync = t.call("getsyncstatus").then((r) => (answered++, r));
    const setup = t.call("getsetup").then((r) => (answered++, r));
    await tick();
    expect(answered).toBe(0);
    running = true;
    tauri.emit(EVENTS.state, { state: "running", error: null });
    await expect(sync).resolves.toEqual({ synced: true });
    await expect(setup).resolves.toEqual({ configured: true });
    // Both waited on one look at the state; each was made once more; the wait stopped listening.
    expect(tauri.calls.map(([cmd]) => cmd).sort()).toEqual(["getsetup", "getsetup", "getsyncstatus", "getsyncstatus", "node_state"]);
    expect(tauri.unlistened).toEqual([EVENTS.state]);
    expect(tauri.handlers.get(EVENTS.state)?.size ?? 0).toBe(0);
  });

  it("waits through a restart too, but not for a node that failed", async () => {
    let state: NodeRunState = { state: "restarting", error: null };
    const tauri = fakeTauri({
      node_state: () => state,
      getmininginfo: () => {
        throw state.error
          ? { code: ErrorCode.TRANSPORT, message: `the node failed to start: ${state.error}` }
          : { code: ErrorCode.TRANSPORT, message: "the node is not running (restarting)" };
      },
    });
    const t = new TauriTransport(tauri);
    const mining = t.call("getmininginfo").catch((err: unknown) => err);
    await tick();
    state = { state: "failed", error: "port 29333 in use" };
    tauri.emit(EVENTS.state, state);
    // The error is the node's current one, not the one of its restart.
    expect(await mining).toMatchObject({ code: ErrorCode.TRANSPORT, message: "the node failed to start: port 29333 in use", method: "getmininginfo" });
    // A failed node is not waited for: one look at its state, and the error.
    tauri.calls.length = 0;
    await expect(t.call("getmininginfo")).rejects.toMatchObject({ message: /port 29333 in use/ });
    expect(tauri.calls.map(([cmd]) => cmd)).toEqual(["getmininginfo", "node_state", "getmininginfo"]);
  });

  it("delivers node events, lags and the node's state, and unlistens everything", async () => {
    const tauri = fakeTauri({ node_state: { state: "starting", error: null } });
    const t = new TauriTransport(tauri);
    const events: TransportEvent[] = [];
    const states: string[] = [];
    const stop = t.subscribe(
      (e) => events.push(e),
      (s) => states.push(s),
    );
    await tick();
    expect(states).toEqual(["connecting", "connecting"]);
    expect(tauri.calls).toEqual([["node_state", undefined]]);
    tauri.emit(EVENTS.state, { state: "running", error: null });
    tauri.emit(EVENTS.node, { type: "peers", connected: 2 });
    tauri.emit(EVENTS.lagged, { missed: 12 });
    tauri.emit(EVENTS.lagged, {});
    tauri.emit(EVENTS.state, { state: "restarting", error: null });
    tauri.emit(EVENTS.state, { state: "failed", error: "port in use" });
    expect(events).toEqual([
      { type: "peers", connected: 2 },
      { type: "lagged", missed: 12 },
      { type: "lagged", missed: 0 },
    ]);
    expect(states.slice(2)).toEqual(["open", "connecting", "closed"]);
    stop();
    expect(tauri.unlistened.sort()).toEqual([EVENTS.lagged, EVENTS.node, EVENTS.state].sort());
    tauri.emit(EVENTS.node, { type: "peers", connected: 0 });
    expect(events).toHaveLength(3);
  });

  it("unlistens listeners that arrive after the unsubscribe", async () => {
    const tauri = fakeTauri({ node_state: { state: "running", error: null } });
    const t = new TauriTransport(tauri);
    const stop = t.subscribe(() => {});
    stop();
    await tick();
    expect(tauri.unlistened).toHaveLength(3);
  });

  it("asks the state after listening to it, and drops an answer older than an event", async () => {
    const answer = deferred<NodeRunState>();
    const tauri = fakeTauri({ node_state: () => answer.promise });
    const t = new TauriTransport(tauri);
    const states: string[] = [];
    t.subscribe(
      () => {},
      (s) => states.push(s),
    );
    await tick();
    // node_state was asked only once the state listener was in place.
    expect(tauri.handlers.get(EVENTS.state)?.size).toBe(1);
    expect(tauri.calls).toEqual([["node_state", undefined]]);
    tauri.emit(EVENTS.state, { state: "running", error: null });
    answer.resolve({ state: "starting", error: null });
    await tick();
    expect(states).toEqual(["connecting", "open"]);
  });

  it("reports closed when the node's state cannot be read", async () => {
    const tauri = fakeTauri();
    const states: string[] = [];
    new TauriTransport(tauri).subscribe(
      () => {},
      (s) => states.push(s),
    );
    await tick();
    expect(states).toEqual(["connecting", "closed"]);
  });

  it("maps every run state", () => {
    expect(connectionOf({ state: "running", error: null })).toBe("open");
    expect(connectionOf({ state: "starting", error: null })).toBe("connecting");
    expect(connectionOf({ state: "restarting", error: null })).toBe("connecting");
    expect(connectionOf({ state: "stopped", error: null })).toBe("closed");
    expect(connectionOf({ state: "failed", error: "x" })).toBe("closed");
  });

  it("reads and changes the desktop settings and marks the first paint", async () => {
    const s = { start_minimized: false, close_to_tray: true, start_with_system: false, notifications: true };
    const tauri = fakeTauri({ desktop_settings: s, set_desktop_settings: { ...s, start_minimized: true }, ui_ready: null });
    const t = new TauriTransport(tauri);
    await expect(t.settings()).resolves.toEqual(s);
    await expect(t.setSettings({ start_minimized: true })).resolves.toMatchObject({ start_minimized: true });
    await t.uiReady();
    expect(tauri.calls).toEqual([
      ["desktop_settings", undefined],
      ["set_desktop_settings", { update: { start_minimized: true } }],
      ["ui_ready", undefined],
    ]);
    tauri.state.reject = { code: -1, message: "cannot change the login entry" };
    await expect(t.setSettings({ start_with_system: true })).rejects.toMatchObject({ code: -1, method: "set_desktop_settings" });
    await expect(t.uiReady()).resolves.toBeUndefined();
  });
});
