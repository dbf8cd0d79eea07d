// The browser transport: JSON-RPC 2.0 over `POST /` with the session cookie, events over `/ws`.
import type { NodeEvent } from "../bindings";
import {
  ErrorCode,
  RpcError,
  type ConnectionState,
  type MethodName,
  type Params,
  type Result,
  type Transport,
  type TransportEvent,
} from "./transport";

type WebSocketLike = Pick<WebSocket, "close" | "send"> & {
  onopen: ((ev: Event) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
};

export interface HttpTransportOptions {
  /** Origin + path prefix of the node, default `""` (same origin as the page). */
  baseUrl?: string;
  /** WebSocket URL, default `ws(s)://<page host>/ws`. */
  wsUrl?: string;
  fetch?: typeof fetch;
  createWebSocket?: (url: string) => WebSocketLike;
  /** Called on HTTP 401; default sends the browser to `/login`. */
  onUnauthorized?: () => void;
  /** Reconnect backoff: first delay and cap, ms. */
  backoffMs?: { initial: number; max: number };
}

type Listener = {
  onEvent: (e: TransportEvent) => void;
  onState: ((s: ConnectionState) => void) | undefined;
};

export class HttpTransport implements Transport {
  private nextId = 1;
  private readonly listeners = new Set<Listener>();
  private socket: WebSocketLike | null = null;
  private state: ConnectionState = "closed";
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelay: number;
  private readonly opts: Required<Omit<HttpTransportOptions, "wsUrl">> & { wsUrl: string };

  constructor(options: HttpTransportOptions = {}) {
    const loc = typeof window !== "undefined" ? window.location : undefined;
    const wsDefault = loc ? `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws` : "";
    this.opts = {
      baseUrl: options.baseUrl ?? "",
      wsUrl: options.wsUrl ?? wsDefault,
      fetch: options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args)),
      createWebSocket: options.createWebSocket ?? ((url) => new WebSocket(url)),
      onUnauthorized: options.onUnauthorized ?? (() => window.location.assign("/login")),
      backoffMs: options.backoffMs ?? { initial: 500, max: 15_000 },
    };
    this.retryDelay = this.opts.backoffMs.initial;
  }

  async call<M extends MethodName>(method: M, params?: Params<M>): Promise<Result<M>> {
    const id = this.nextId++;
    let resp: Response;
    try {
      resp = await this.opts.fetch(`${this.opts.baseUrl}/`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params: params ?? [] }),
      });
    } catch (e) {
      throw new RpcError(ErrorCode.TRANSPORT, `cannot reach the node: ${String(e)}`, method);
    }
    if (resp.status === 401) {
      this.opts.onUnauthorized();
      throw new RpcError(ErrorCode.UNAUTHORIZED, "not logged in", method);
    }
    let body: unknown;
    try {
      body = await resp.json();
    } catch {
      throw new RpcError(
        ErrorCode.TRANSPORT,
        `the node answered HTTP ${resp.status} without JSON`,
        method,
      );
    }
    if (typeof body !== "object" || body === null) {
      throw new RpcError(ErrorCode.TRANSPORT, "malformed JSON-RPC reply", method);
    }
    const reply = body as { result?: unknown; error?: { code: number; message: string } | null };
    if (reply.error) {
      throw new RpcError(reply.error.code, reply.error.message, method);
    }
    if (!resp.ok) {
      throw new RpcError(ErrorCode.TRANSPORT, `HTTP ${resp.status}`, method);
    }
    // The method map types the result; the node is trusted to answer its documented shape.
    return reply.result as Result<M>;
  }

  subscribe(
    onEvent: (e: TransportEvent) => void,
    onState?: (s: ConnectionState) => void,
  ): () => void {
    const listener: Listener = { onEvent, onState };
    this.listeners.add(listener);
    // The first subscriber opens the socket (and hears "connecting" from it); later ones join.
    if (this.listeners.size === 1) this.connect();
    else onState?.(this.state);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.disconnect();
    };
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    for (const l of this.listeners) l.onState?.(s);
  }

  private emit(e: TransportEvent): void {
    for (const l of this.listeners) l.onEvent(e);
  }

  private connect(): void {
    this.setState("connecting");
    let ws: WebSocketLike;
    try {
      ws = this.opts.createWebSocket(this.opts.wsUrl);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryDelay = this.opts.backoffMs.initial;
      this.setState("open");
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== "string") return;
      this.handleMessage(ev.data);
    };
    ws.onerror = () => {
      // onclose follows and handles the reconnect.
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.setState("closed");
      if (!opened) this.probeAuth();
      this.scheduleReconnect();
    };
  }

  /** A refused upgrade looks like any failure to the browser: ask over HTTP whether it was 401. */
  private probeAuth(): void {
    this.call("getsyncstatus").catch(() => {
      // `call` already redirects on 401; other failures are shown by the screens.
    });
  }

  private handleMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== "object" || msg === null) return;
    const { method, params } = msg as { method?: unknown; params?: unknown };
    if (method === "event" && typeof params === "object" && params !== null) {
      this.emit(params as NodeEvent);
    } else if (method === "lagged") {
      const missed = (params as { missed?: unknown } | null)?.missed;
      this.emit({ type: "lagged", missed: typeof missed === "number" ? missed : 0 });
    }
  }

  private scheduleReconnect(): void {
    if (this.listeners.size === 0 || this.retryTimer !== null) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.backoffMs.max);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.listeners.size > 0) this.connect();
    }, delay);
  }

  private disconnect(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.socket;
    this.socket = null;
    this.state = "closed";
    ws?.close();
  }
}
