// Fans the transport's one event subscription out to the UI, tracks the connection state, and
// signals "resync" (re-read everything over `call`) after `lagged` or a reconnect.
import type { ConnectionState, EventType, Transport, TransportEvent } from "./transport";
import type { NodeEvent } from "../bindings";

type EventListener = (e: NodeEvent) => void;

export class EventHub {
  private state: ConnectionState = "connecting";
  private everOpen = false;
  private wasDown = false;
  private readonly eventListeners = new Map<EventType | "*", Set<EventListener>>();
  private readonly stateListeners = new Set<() => void>();
  private readonly resyncListeners = new Set<() => void>();

  constructor(private readonly transport: Transport) {}

  /** Subscribe to the transport; returns the unsubscribe. */
  start(): () => void {
    return this.transport.subscribe(
      (e) => this.dispatch(e),
      (s) => this.setState(s),
    );
  }

  getState = (): ConnectionState => this.state;

  onState = (cb: () => void): (() => void) => {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  };

  /** Listen to events of some kinds (or all, with `"*"`). */
  on(types: ReadonlyArray<EventType | "*">, cb: EventListener): () => void {
    for (const t of types) {
      let set = this.eventListeners.get(t);
      if (!set) this.eventListeners.set(t, (set = new Set()));
      set.add(cb);
    }
    return () => {
      for (const t of types) this.eventListeners.get(t)?.delete(cb);
    };
  }

  /** Called when events may have been missed: re-read state. */
  onResync(cb: () => void): () => void {
    this.resyncListeners.add(cb);
    return () => this.resyncListeners.delete(cb);
  }

  private dispatch(e: TransportEvent): void {
    if (e.type === "lagged") {
      this.resync();
      return;
    }
    for (const cb of [...(this.eventListeners.get(e.type) ?? [])]) cb(e);
    for (const cb of [...(this.eventListeners.get("*") ?? [])]) cb(e);
  }

  private setState(s: ConnectionState): void {
    if (s === this.state) return;
    this.state = s;
    if (s === "open") {
      if (this.everOpen && this.wasDown) this.resync();
      this.everOpen = true;
      this.wasDown = false;
    } else if (this.everOpen) {
      this.wasDown = true;
    }
    for (const cb of [...this.stateListeners]) cb();
  }

  resync(): void {
    for (const cb of [...this.resyncListeners]) cb();
  }
}
