import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement } from "react";
import { ApiProvider } from "../api/context";
import { NodeProvider } from "../api/node";
import type { FakeTransport } from "../api/fake";

/** Render a screen as the app does: with the transport and this node's info. */
export function renderScreen(ui: ReactElement, transport: FakeTransport): RenderResult {
  return render(
    <ApiProvider transport={transport}>
      <NodeProvider>{ui}</NodeProvider>
    </ApiProvider>,
  );
}
