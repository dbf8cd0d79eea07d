import { createContext, useContext, useEffect, useMemo, type ReactNode } from "react";
import { EventHub } from "./hub";
import type { Transport } from "./transport";

export interface Api {
  transport: Transport;
  hub: EventHub;
}

const ApiContext = createContext<Api | null>(null);

/** Provides the transport (and its event hub) to every screen. */
export function ApiProvider({ transport, children }: { transport: Transport; children: ReactNode }) {
  const api = useMemo(() => ({ transport, hub: new EventHub(transport) }), [transport]);
  useEffect(() => api.hub.start(), [api]);
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside <ApiProvider>");
  return api;
}
