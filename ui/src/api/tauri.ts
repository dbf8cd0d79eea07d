// The desktop transport: Tauri IPC to the node running in the same process (docs/desktop-ipc.md).
// Each JSON-RPC method is a command of the same name with named arguments; events arrive as
// Tauri events. `invoke` and `listen` are injectable so the transport is tested without Tauri.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import { listen as tauriListen, type UnlistenFn } from "@tauri-apps/api/event";
import type { DesktopSettings, DesktopSettingsUpdate, NodeEvent, NodeRunState } from "../bindings";
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

/** Tauri's `invoke`: a command name and its named arguments. */
export type InvokeFn = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;
/** Tauri's `listen`: an event name and a handler of its payload. */
export type ListenFn = <T>(event: string, handler: (e: { payload: T }) => void) => Promise<UnlistenFn>;

/** One name per positional parameter, optional ones included. */
type ArgNamesOf<P extends readonly unknown[]> = { readonly [K in keyof P]-?: string };

/**
 * The named argument of each positional parameter, per method. Typed over every method and every
 * parameter, so a method added to `Methods` without its entry here, or an entry with a name too
 * many or too few, fails the typecheck.
 */
export const ARG_NAMES: { readonly [M in MethodName]: ArgNamesOf<Params<M>> } = {
  getsharechaininfo: [],
  getselectedshare: [],
  getshareranges: ["scriptOrAddress"],
  listbitcoinblocks: ["count"],
  getpeerinfo: [],
  getnetworkinfo: [],
  addpeer: ["multiaddr"],
  getsyncstatus: [],
  getmininginfo: [],
  setmining: ["enabled", "threads"],
  getdevices: [],
  setdevice: ["id", "enabled", "intensity"],
  gethashratehistory: ["rangeSecs"],
  getodds: ["scriptOrAddress"],
  getnetworkparams: [],
  getnodeinfo: [],
  testbitcoincore: ["connection"],
  getlogs: ["count"],
  getsetup: [],
  setup: ["request"],
  getsettings: [],
  setsettings: ["update"],
  getwalletinfo: [],
  createwallet: ["passphrase"],
  restorewallet: ["words", "passphrase"],
  unlockwallet: ["passphrase"],
  lockwallet: [],
  getnewaddress: [],
  getwalletbalances: [],
  listwalletunspent: [],
  // Tauri names a command's `fee_rate` argument `feeRate` on this side (camelCase, as `rangeSecs`).
  sendshares: ["address", "amount", "feeRate"],
  sendbtc: ["address", "amount", "satPerVb"],
  createpsbt: ["address", "amount", "satPerVb"],
  listwallettransactions: ["offset", "limit"],
  listbtctransactions: [],
  listpayouts: [],
  listoffers: [],
  makeoffer: ["makerSells", "min", "max", "price", "ttlSecs"],
  canceloffer: ["id"],
  takeoffer: ["id", "amount"],
  listswaps: [],
  cancelswap: ["id"],
  getrefundfile: ["id"],
};

/** The events of docs/desktop-ipc.md. */
export const EVENTS = { node: "node://event", lagged: "node://lagged", state: "node://state" } as const;

/** The run state of the in-process node as the UI's connection state. */
export function connectionOf(s: NodeRunState): ConnectionState {
  switch (s.state) {
    case "running":
      return "open";
    case "starting":
    case "restarting":
      return "connecting";
    default:
      return "closed";
  }
}

/** The node is on its way up: it will run (or fail) without anyone doing anything. */
function onItsWay(s: NodeRunState): boolean {
  return s.state === "starting" || s.state === "restarting";
}

/** Positional params → the command's named arguments (a missing optional one is `null`). */
export function namedArgs<M extends MethodName>(method: M, params?: Params<M>): Record<string, unknown> {
  const names: readonly string[] = ARG_NAMES[method];
  const values: readonly unknown[] = params ?? [];
  const args: Record<string, unknown> = {};
  names.forEach((name, i) => {
    args[name] = values[i] ?? null;
  });
  return args;
}

/** The `{ code, message }` a command rejects with (docs/desktop-ipc.md). */
function ipcError(e: unknown): { code: number; message: string } | null {
  if (typeof e !== "object" || e === null) return null;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return typeof code === "number" && typeof message === "string" ? { code, message } : null;
}

function toRpcError(e: unknown, method: string): RpcError {
  const ipc = ipcError(e);
  if (ipc) return new RpcError(ipc.code, ipc.message, method);
  // Tauri rejects with a plain string when the arguments do not deserialize.
  return new RpcError(
    typeof e === "string" && e.includes("invalid args") ? ErrorCode.INVALID_PARAMS : ErrorCode.TRANSPORT,
    typeof e === "string" ? e : String(e),
    method,
  );
}

/** What only the desktop app has: its own settings and the first-paint mark. */
export interface Desktop {
  settings(): Promise<DesktopSettings>;
  setSettings(update: DesktopSettingsUpdate): Promise<DesktopSettings>;
  /** The dashboard has painted with node data (the app logs the time from launch, once). */
  uiReady(): Promise<void>;
}

export interface TauriTransportOptions {
  invoke?: InvokeFn;
  listen?: ListenFn;
}

/**
 * The desktop app's transport, and its `Desktop` extras.
 *
 * The window opens while the node is still starting, and a new setup restarts it: a call the node
 * refuses because it is starting or restarting (code -100) waits until it runs and is then made
 * once more, so a screen shows "loading" rather than an error for those seconds. A node that
 * failed or stopped is not waited for: the call fails with the node's error.
 */
export class TauriTransport implements Transport, Desktop {
  private readonly invoke: InvokeFn;
  private readonly listen: ListenFn;
  /** While some call waits for the node: the one wait they all share. */
  private waiting: Promise<boolean> | null = null;

  constructor(options: TauriTransportOptions = {}) {
    this.invoke = options.invoke ?? ((cmd, args) => tauriInvoke(cmd, args));
    this.listen =
      options.listen ??
      (<T,>(event: string, handler: (e: { payload: T }) => void) => tauriListen<T>(event, handler));
  }

  async call<M extends MethodName>(method: M, params?: Params<M>): Promise<Result<M>> {
    const args = namedArgs(method, params);
    try {
      // The command map types the result; the node answers its documented shape.
      return (await this.invoke(method, args)) as Result<M>;
    } catch (e) {
      if (ipcError(e)?.code !== ErrorCode.TRANSPORT || !(await this.untilSettled())) {
        throw toRpcError(e, method);
      }
    }
    try {
      return (await this.invoke(method, args)) as Result<M>;
    } catch (e) {
      throw toRpcError(e, method);
    }
  }

  /**
   * Resolves once the node is no longer on its way up (running, failed or stopped: asking again
   * gets its answer or its current error); false if its state cannot be followed.
   */
  private untilSettled(): Promise<boolean> {
    if (!this.waiting) {
      const wait = this.waitForNode();
      this.waiting = wait;
      const done = () => {
        if (this.waiting === wait) this.waiting = null;
      };
      wait.then(done, done);
    }
    return this.waiting;
  }

  private async waitForNode(): Promise<boolean> {
    let settle: () => void = () => {};
    const settled = new Promise<boolean>((resolve) => (settle = () => resolve(true)));
    const arrived = (s: NodeRunState) => {
      if (!onItsWay(s)) settle();
    };
    let unlisten: UnlistenFn;
    try {
      // Listen first, then ask: a change between the two is not missed.
      unlisten = await this.listen<NodeRunState>(EVENTS.state, (e) => arrived(e.payload));
    } catch {
      return false;
    }
    try {
      arrived((await this.invoke("node_state")) as NodeRunState);
      return await settled;
    } catch {
      return false;
    } finally {
      unlisten();
    }
  }

  subscribe(onEvent: (e: TransportEvent) => void, onState?: (s: ConnectionState) => void): () => void {
    let closed = false;
    // A state event arrived: the answer to `node_state` may be older than it.
    let heard = false;
    const unlisten: UnlistenFn[] = [];
    const keep = (p: Promise<UnlistenFn>): Promise<void> =>
      p.then(
        (u) => {
          if (closed) u();
          else unlisten.push(u);
        },
        () => {
          if (!closed) onState?.("closed");
        },
      );
    onState?.("connecting");
    void keep(
      this.listen<NodeEvent>(EVENTS.node, (e) => {
        if (!closed) onEvent(e.payload);
      }),
    );
    void keep(
      this.listen<{ missed?: unknown } | null>(EVENTS.lagged, (e) => {
        const missed = e.payload?.missed;
        if (!closed) onEvent({ type: "lagged", missed: typeof missed === "number" ? missed : 0 });
      }),
    );
    // The current state once the state events are heard, so that no change falls in between.
    void keep(
      this.listen<NodeRunState>(EVENTS.state, (e) => {
        heard = true;
        if (!closed) onState?.(connectionOf(e.payload));
      }),
    ).then(() => {
      if (closed) return;
      this.invoke("node_state").then(
        (s) => {
          if (!closed && !heard) onState?.(connectionOf(s as NodeRunState));
        },
        () => {
          if (!closed && !heard) onState?.("closed");
        },
      );
    });
    return () => {
      closed = true;
      for (const u of unlisten.splice(0)) u();
    };
  }

  async settings(): Promise<DesktopSettings> {
    try {
      return (await this.invoke("desktop_settings")) as DesktopSettings;
    } catch (e) {
      throw toRpcError(e, "desktop_settings");
    }
  }

  async setSettings(update: DesktopSettingsUpdate): Promise<DesktopSettings> {
    try {
      return (await this.invoke("set_desktop_settings", { update })) as DesktopSettings;
    } catch (e) {
      throw toRpcError(e, "set_desktop_settings");
    }
  }

  async uiReady(): Promise<void> {
    await this.invoke("ui_ready").catch(() => {
      // A figure, not a function: nothing to tell the user.
    });
  }
}
