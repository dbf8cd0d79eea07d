// The route table. A screen is one file in src/screens/ (a default-exported component) plus one
// entry here; `nav: false` keeps it out of the left nav (still reachable by its path).
import type { ComponentType } from "react";
import type { IconName } from "./components/Icon";
import Dashboard from "./screens/Dashboard";
import Shares from "./screens/Shares";
import Wallet from "./screens/Wallet";
import Swaps from "./screens/Swaps";
import WalletSetup from "./screens/WalletSetup";
import Blocks from "./screens/Blocks";
import Mining from "./screens/Mining";
import Devices from "./screens/Devices";
import Network from "./screens/Network";
import Settings from "./screens/Settings";
import Logs from "./screens/Logs";
import FirstRun from "./screens/FirstRun";

export interface RouteDef {
  /** Hash path: `#/blocks` → `/blocks`. */
  path: string;
  title: string;
  icon: IconName;
  component: ComponentType;
  nav: boolean;
}

export const routes: RouteDef[] = [
  { path: "/", title: "Odds", icon: "odds", component: Dashboard, nav: true },
  { path: "/wallet", title: "Wallet", icon: "wallet", component: Wallet, nav: true },
  { path: "/swaps", title: "Swaps", icon: "swaps", component: Swaps, nav: true },
  { path: "/shares", title: "Shares", icon: "shares", component: Shares, nav: true },
  { path: "/blocks", title: "Blocks", icon: "blocks", component: Blocks, nav: true },
  { path: "/mining", title: "Mining", icon: "mining", component: Mining, nav: true },
  { path: "/devices", title: "Devices", icon: "devices", component: Devices, nav: true },
  { path: "/network", title: "Network", icon: "network", component: Network, nav: true },
  { path: "/logs", title: "Logs", icon: "logs", component: Logs, nav: true },
  { path: "/settings", title: "Settings", icon: "settings", component: Settings, nav: true },
  { path: "/setup", title: "Setup", icon: "setup", component: FirstRun, nav: false },
  { path: "/setup/wallet", title: "Wallet setup", icon: "wallet", component: WalletSetup, nav: false },
];

export function findRoute(path: string): RouteDef | undefined {
  return routes.find((r) => r.path === path);
}
