import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeTransport } from "./fake";
import { HttpTransport } from "./http";
import { EventHub } from "./hub";
import { ErrorCode, RpcError, type ConnectionState, type TransportEvent } from "./transport";

describe("FakeTransport", () => {
  it("answers scripted values and functions, and records calls", async () => {
    const t = new FakeTransport()
      .set("getsyncstatus", { state: "synced", height: 1, target_height: 1, headers: 0, rate: 0, eta_seconds: null, progress: 1, peer: null })
      .set("setmining", ([enabled, threads]) => ({ mining: enabled, threads: threads ?? 1, backend: "portable" }));
    expect((await t.call("getsyncstatus")).state).toBe("synced");
    expect(await t.call("setmining", [true, 3])).toEqual({ mining: true, threads: 3, backend: "portable" });
    expect(t.callsOf("setmining")).toEqual([[true, 3]]);
    expect(t.calls.map((c) => c.method)).toEqual(["getsyncstatus", "setmining"]);
  });

  it("fails unscripted methods as the node does (method not found)", async () => {
    const t = new FakeTransport();
    const err = await t.call("getodds", ["x"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).methodMissing).toBe(true);
  });

  it("fails scripted errors", async () => {
    const t = new FakeTransport().fail("setmining", -1, "no mining address is configured");
    await expect(t.call("setmining", [true])).rejects.toMatchObject({ code: -1, message: "no mining address is configured" });
  });

  it("pushes events and states to subscribers until they leave", () => {
    const t = new FakeTransport();
    const events: TransportEvent[] = [];
    const states: ConnectionState[] = [];
    const off = t.subscribe((e) => events.push(e), (s) => states.push(s));
    t.emit({ type: "peers", connected: 2 });
    t.setState("closed");
    off();
    t.emit({ type: "peers", connected: 3 });
    expect(events).toEqual([{ type: "peers", connected: 2 }]);
    expect(states).toEqual(["open", "closed"]);
    expect(t.subscribers).toBe(0);
  });
});

class MockSocket {
  static all: MockSocket[] = [];
  onopen: ((ev: Event) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {
    MockSocket.all.push(this);
  }
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.(new Event("open"));
  }
  message(obj: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(obj) }));
  }
  drop() {
    this.onclose?.(new CloseEvent("close"));
  }
}

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("HttpTransport", () => {
  afterEach(() => {
    MockSocket.all = [];
    vi.useRealTimers();
  });

  it("posts JSON-RPC 2.0 with the session cookie and returns the result", async () => {
    const fetch = vi.fn(async (..._args: Parameters<typeof globalThis.fetch>) => jsonResponse({ jsonrpc: "2.0", id: 1, result: { v: 1 } }));
    const t = new HttpTransport({ fetch, baseUrl: "http://node" });
    expect(await t.call("getodds", ["bcrt1q"])).toEqual({ v: 1 });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe("http://node/");
    expect(init?.method).toBe("POST");
    expect(init?.credentials).toBe("same-origin");
    expect((init?.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    expect(JSON.parse(init?.body as string)).toEqual({ jsonrpc: "2.0", id: 1, method: "getodds", params: ["bcrt1q"] });
  });

  it("sends [] for no params", async () => {
    const fetch = vi.fn(async (..._args: Parameters<typeof globalThis.fetch>) => jsonResponse({ jsonrpc: "2.0", id: 1, result: null }));
    await new HttpTransport({ fetch }).call("getnodeinfo");
    expect(JSON.parse(fetch.mock.calls[0]![1]?.body as string).params).toEqual([]);
  });

  it("turns a JSON-RPC error into an RpcError", async () => {
    const fetch = vi.fn(async () => jsonResponse({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "method not found: getodds" } }));
    const err = (await new HttpTransport({ fetch }).call("getodds", ["x"]).catch((e: unknown) => e)) as RpcError;
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe(-32601);
    expect(err.methodMissing).toBe(true);
    expect(err.method).toBe("getodds");
  });

  it("sends the browser to the login on 401", async () => {
    const onUnauthorized = vi.fn();
    const fetch = vi.fn(async () => new Response("", { status: 401 }));
    const err = (await new HttpTransport({ fetch, onUnauthorized }).call("getnodeinfo").catch((e: unknown) => e)) as RpcError;
    expect(onUnauthorized).toHaveBeenCalledOnce();
    expect(err.code).toBe(ErrorCode.UNAUTHORIZED);
  });

  it("reports a network failure as a transport error", async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(new HttpTransport({ fetch }).call("getnodeinfo")).rejects.toMatchObject({ code: ErrorCode.TRANSPORT });
  });

  it("delivers events and lagged, and reconnects with backoff", async () => {
    vi.useFakeTimers();
    const fetch = vi.fn(async () => jsonResponse({ jsonrpc: "2.0", id: 1, result: {} }));
    const t = new HttpTransport({
      fetch,
      wsUrl: "ws://node/ws",
      createWebSocket: (url) => new MockSocket(url),
      backoffMs: { initial: 100, max: 400 },
    });
    const events: TransportEvent[] = [];
    const states: ConnectionState[] = [];
    const off = t.subscribe((e) => events.push(e), (s) => states.push(s));
    expect(MockSocket.all).toHaveLength(1);
    const ws = MockSocket.all[0]!;
    expect(ws.url).toBe("ws://node/ws");
    ws.open();
    ws.message({ jsonrpc: "2.0", method: "event", params: { type: "tip", hash: "ab", height: 5, reorg_depth: 0 } });
    ws.message({ jsonrpc: "2.0", method: "lagged", params: { missed: 37 } });
    ws.message({ jsonrpc: "2.0", result: ["tip"], id: 7 });
    expect(events).toEqual([
      { type: "tip", hash: "ab", height: 5, reorg_depth: 0 },
      { type: "lagged", missed: 37 },
    ]);

    // Dropped after opening: reconnect after 100 ms, then 200 ms, 400 ms, 400 ms.
    ws.drop();
    expect(states.slice(-1)).toEqual(["closed"]);
    vi.advanceTimersByTime(99);
    expect(MockSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(MockSocket.all).toHaveLength(2);
    // Never opened: the transport probes over HTTP (a 401 there goes to the login).
    MockSocket.all[1]!.drop();
    expect(fetch).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(200);
    expect(MockSocket.all).toHaveLength(3);
    MockSocket.all[2]!.drop();
    vi.advanceTimersByTime(400);
    expect(MockSocket.all).toHaveLength(4);
    MockSocket.all[3]!.open();
    expect(states.slice(-1)).toEqual(["open"]);

    off();
    expect(MockSocket.all[3]!.closed).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(MockSocket.all).toHaveLength(4);
  });
});

describe("EventHub", () => {
  it("fans out by type and resyncs after lagged and after a reconnect", () => {
    const t = new FakeTransport();
    const hub = new EventHub(t);
    const stop = hub.start();
    const tips: unknown[] = [];
    const all: unknown[] = [];
    let resyncs = 0;
    hub.on(["tip"], (e) => tips.push(e));
    hub.on(["*"], (e) => all.push(e));
    hub.onResync(() => resyncs++);
    t.emit({ type: "tip", hash: "a", height: 1, reorg_depth: 0 });
    t.emit({ type: "peers", connected: 1 });
    expect(tips).toHaveLength(1);
    expect(all).toHaveLength(2);
    t.emit({ type: "lagged", missed: 3 });
    expect(resyncs).toBe(1);
    t.setState("closed");
    t.setState("connecting");
    t.setState("open");
    expect(resyncs).toBe(2);
    expect(hub.getState()).toBe("open");
    stop();
  });
});
