import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { NodeEvent } from "../bindings";
import { useApi } from "./context";
import type { ConnectionState, EventOf, EventType, MethodName, Params, Result } from "./transport";

export function useTransport() {
  return useApi().transport;
}

export function useConnectionState(): ConnectionState {
  const { hub } = useApi();
  return useSyncExternalStore(hub.onState, hub.getState);
}

/** Run `handler` for every event of the given kinds. The handler may change between renders. */
export function useNodeEvent<T extends EventType>(
  types: readonly T[],
  handler: (e: EventOf<T>) => void,
): void {
  const { hub } = useApi();
  const ref = useRef(handler);
  ref.current = handler;
  const key = types.join(",");
  useEffect(() => {
    const list = key ? (key.split(",") as T[]) : [];
    return hub.on(list, (e: NodeEvent) => ref.current(e as EventOf<T>));
  }, [hub, key]);
}

/** Run `cb` when the UI must re-read state (after `lagged` or a reconnect). */
export function useResync(cb: () => void): void {
  const { hub } = useApi();
  const ref = useRef(cb);
  ref.current = cb;
  useEffect(() => hub.onResync(() => ref.current()), [hub]);
}

export interface RpcState<T> {
  data: T | undefined;
  error: Error | undefined;
  /** True until the first answer (or error) for the current params. */
  loading: boolean;
  /** Fetch again now (coalesced with a fetch in flight). */
  refetch: () => void;
  /** Replace the data locally (e.g. from an event that carries the new state). */
  setData: (update: T | ((old: T | undefined) => T | undefined)) => void;
}

export interface RpcOptions {
  /** Event kinds after which to fetch again. */
  refreshOn?: readonly EventType[];
  /** Also fetch every `pollMs` (for figures no event announces). */
  pollMs?: number;
  /**
   * Events within this many ms are coalesced into one fetch (default 16: a burst of `share`
   * events and the `tip` after them cost one round trip, and the paint follows within ~one frame
   * of the answer).
   */
  batchMs?: number;
}

/**
 * Call a method and keep its answer; `params === null` skips the call (e.g. while a parameter is
 * not known yet). Refetches on the given events and on resync, never more than one call in flight:
 * events during a call make exactly one more call after it.
 */
export function useRpc<M extends MethodName>(
  method: M,
  params: Params<M> | null = [] as unknown as Params<M>,
  options: RpcOptions = {},
): RpcState<Result<M>> {
  const { transport, hub } = useApi();
  const key = params === null ? null : JSON.stringify(params);
  const [state, setState] = useState<{
    key: string | null;
    data: Result<M> | undefined;
    error: Error | undefined;
    loading: boolean;
  }>({ key, data: undefined, error: undefined, loading: key !== null });

  const inflight = useRef(false);
  const dirty = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const alive = useRef(true);
  const keyRef = useRef(key);
  keyRef.current = key;

  const run = useCallback(async () => {
    const k = keyRef.current;
    if (k === null) return;
    if (inflight.current) {
      dirty.current = true;
      return;
    }
    inflight.current = true;
    try {
      const data = await transport.call(method, JSON.parse(k) as Params<M>);
      if (alive.current && keyRef.current === k) {
        setState({ key: k, data, error: undefined, loading: false });
      }
    } catch (e) {
      if (alive.current && keyRef.current === k) {
        const error = e instanceof Error ? e : new Error(String(e));
        setState((s) => ({ key: k, data: s.key === k ? s.data : undefined, error, loading: false }));
      }
    } finally {
      inflight.current = false;
      if (dirty.current && alive.current) {
        dirty.current = false;
        void run();
      }
    }
  }, [transport, method]);

  const batchMs = options.batchMs ?? 16;
  const schedule = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void run();
    }, batchMs);
  }, [run, batchMs]);

  // Initial fetch and refetch on params change.
  useEffect(() => {
    alive.current = true;
    if (key === null) {
      setState({ key, data: undefined, error: undefined, loading: false });
      return;
    }
    setState((s) => (s.key === key ? s : { key, data: undefined, error: undefined, loading: true }));
    void run();
  }, [key, run]);

  useEffect(
    () => () => {
      alive.current = false;
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  const refreshKey = (options.refreshOn ?? []).join(",");
  useEffect(() => {
    if (!refreshKey) return;
    return hub.on(refreshKey.split(",") as EventType[], schedule);
  }, [hub, refreshKey, schedule]);

  useEffect(() => hub.onResync(schedule), [hub, schedule]);

  useEffect(() => {
    if (!options.pollMs) return;
    const id = setInterval(schedule, options.pollMs);
    return () => clearInterval(id);
  }, [options.pollMs, schedule]);

  const setData = useCallback(
    (update: Result<M> | ((old: Result<M> | undefined) => Result<M> | undefined)) => {
      setState((s) => ({
        ...s,
        data:
          typeof update === "function"
            ? (update as (old: Result<M> | undefined) => Result<M> | undefined)(s.data)
            : update,
      }));
    },
    [],
  );

  const current = state.key === key ? state : { data: undefined, error: undefined, loading: key !== null };
  return { data: current.data, error: current.error, loading: current.loading, refetch: schedule, setData };
}
