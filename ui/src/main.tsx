import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { isTauri } from "@tauri-apps/api/core";
import { App } from "./App";
import { ApiProvider } from "./api/context";
import { HttpTransport } from "./api/http";
import { TauriTransport } from "./api/tauri";
import { applyTheme, loadTheme } from "./theme";
import "./styles.css";

applyTheme(loadTheme());

// In the desktop app the node runs in the same process and answers over Tauri IPC; in a browser
// it is the node's HTTP API with the session cookie.
const tauri = isTauri() ? new TauriTransport() : null;
const transport = tauri ?? new HttpTransport();
const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <ApiProvider transport={transport} desktop={tauri}>
      <App />
    </ApiProvider>
  </StrictMode>,
);
