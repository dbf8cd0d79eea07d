// A scriptable Transport for tests: set results per method, push events and connection states,
// and inspect the calls made.
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

type Handler<M extends MethodName> = Result<M> | ((params: Params<M>) => Result<M> | Promise<Result<M>>);

export interface FakeCall {
  method: MethodName;
  params: unknown[];
}

export class FakeTransport implements Transport {
  readonly calls: FakeCall[] = [];
  private readonly handlers = new Map<MethodName, unknown>();
  private readonly errors = new Map<MethodName, RpcError>();
  private readonly listeners = new Set<{
    onEvent: (e: TransportEvent) => void;
    onState: ((s: ConnectionState) => void) | undefined;
  }>();
  private state: ConnectionState = "open";

  /** Answer `method` with a value, or with a function of its params. */
  set<M extends MethodName>(method: M, handler: Handler<M>): this {
    this.errors.delete(method);
    this.handlers.set(method, handler);
    return this;
  }

  /** Make `method` fail with a JSON-RPC error. */
  fail(method: MethodName, code: number, message: string): this {
    this.handlers.delete(method);
    this.errors.set(method, new RpcError(code, message, method));
    return this;
  }

  async call<M extends MethodName>(method: M, params?: Params<M>): Promise<Result<M>> {
    const p = (params ?? []) as Params<M>;
    this.calls.push({ method, params: [...(p as unknown[])] });
    await Promise.resolve();
    const err = this.errors.get(method);
    if (err) throw err;
    if (!this.handlers.has(method)) {
      throw new RpcError(ErrorCode.METHOD_NOT_FOUND, `method not found: ${method}`, method);
    }
    const h = this.handlers.get(method) as Handler<M>;
    return typeof h === "function"
      ? await (h as (params: Params<M>) => Result<M> | Promise<Result<M>>)(p)
      : h;
  }

  subscribe(
    onEvent: (e: TransportEvent) => void,
    onState?: (s: ConnectionState) => void,
  ): () => void {
    const l = { onEvent, onState };
    this.listeners.add(l);
    onState?.(this.state);
    return () => this.listeners.delete(l);
  }

  /** Deliver an event to every subscriber. */
  emit(e: TransportEvent): void {
    for (const l of this.listeners) l.onEvent(e);
  }

  setState(s: ConnectionState): void {
    this.state = s;
    for (const l of this.listeners) l.onState?.(s);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** The calls of one method (their params). */
  callsOf(method: MethodName): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }
}
