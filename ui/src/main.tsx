import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { ApiProvider } from "./api/context";
import { HttpTransport } from "./api/http";
import { applyTheme, loadTheme } from "./theme";
import "./styles.css";

applyTheme(loadTheme());

const transport = new HttpTransport();
const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <ApiProvider transport={transport}>
      <App />
    </ApiProvider>
  </StrictMode>,
);
