import { createContext, useContext, useEffect, useMemo, type ReactNode } from "react";
import { EventHub } from "./hub";
import type { Desktop } from "./tauri";
import type { Transport } from "./transport";

export interface Api {
  transport: Transport;
  hub: EventHub;
  /** What only the desktop app has; `null` in the browser. */
  desktop: Desktop | null;
}

const ApiContext = createContext<Api | null>(null);

/** Provides the transport (and its event hub, and in the desktop app its extras) to every screen. */
export function ApiProvider({
  transport,
  desktop = null,
  children,
}: {
  transport: Transport;
  desktop?: Desktop | null;
  children: ReactNode;
}) {
  const api = useMemo(() => ({ transport, hub: new EventHub(transport), desktop }), [transport, desktop]);
  useEffect(() => api.hub.start(), [api]);
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside <ApiProvider>");
  return api;
}

/** The desktop app's extras (settings, first-paint mark), or `null` in the browser. */
export function useDesktop(): Desktop | null {
  return useApi().desktop;
}
