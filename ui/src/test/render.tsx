import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement } from "react";
import { ApiProvider } from "../api/context";
import { NodeProvider } from "../api/node";
import type { FakeTransport } from "../api/fake";
import type { Desktop } from "../api/tauri";

/** Render a screen as the app does: with the transport and this node's info (and, for the
 * desktop app, its extras). */
export function renderScreen(ui: ReactElement, transport: FakeTransport, desktop: Desktop | null = null): RenderResult {
  return render(
    <ApiProvider transport={transport} desktop={desktop}>
      <NodeProvider>{ui}</NodeProvider>
    </ApiProvider>,
  );
}
