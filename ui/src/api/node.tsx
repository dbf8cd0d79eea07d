// This node's identity, read once and shared: who "me" is (the mining address and script) and
// the network's parameters (address prefix, maturity, spacing).
import { createContext, useContext, type ReactNode } from "react";
import type { NetworkParams, NodeInfo } from "../bindings";
import { useRpc, type RpcState } from "./hooks";

export interface NodeContextValue {
  info: RpcState<NodeInfo>;
  params: RpcState<NetworkParams>;
}

const NodeContext = createContext<NodeContextValue | null>(null);

export function NodeProvider({ children }: { children: ReactNode }) {
  const info = useRpc("getnodeinfo");
  const params = useRpc("getnetworkparams");
  return <NodeContext.Provider value={{ info, params }}>{children}</NodeContext.Provider>;
}

export function useNode(): NodeContextValue {
  const v = useContext(NodeContext);
  if (!v) throw new Error("useNode outside <NodeProvider>");
  return v;
}
