import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import Settings from "../screens/Settings";
import Mining from "../screens/Mining";
import FirstRun from "../screens/FirstRun";
import Dashboard, { resetFirstPaint } from "../screens/Dashboard";
import { renderScreen } from "../test/render";
import { makeFake } from "../test/fixtures";
import { fakeDesktop } from "../test/desktop";

describe("desktop options", () => {
  it("Settings shows all four in the desktop app and applies a change at once", async () => {
    const desktop = fakeDesktop();
    renderScreen(<Settings />, makeFake(), desktop);
    const card = await screen.findByTestId("desktop-settings");
    await within(card).findByRole("checkbox", { name: /Start with the system/ });
    for (const name of [/Start with the system/, /Start minimized/, /Close to tray/, /Desktop notifications/]) {
      expect(within(card).getByRole("checkbox", { name })).toBeInTheDocument();
    }
    const tray = await within(card).findByRole("checkbox", { name: /Close to tray/ });
    expect(tray).toBeChecked();
    await userEvent.click(tray);
    expect(desktop.setSettings).toHaveBeenCalledWith({ close_to_tray: false });
    await waitFor(() => expect(tray).not.toBeChecked());
    // The API address may be empty in the desktop app: no server, no warning.
    expect(screen.getByText(/The desktop app needs no server/)).toBeInTheDocument();
  });

  it("shows nothing of the desktop in a browser", async () => {
    renderScreen(<Settings />, makeFake());
    await screen.findByRole("textbox", { name: /Listen address/ });
    expect(screen.queryByTestId("desktop-settings")).not.toBeInTheDocument();
    renderScreen(<Mining />, makeFake());
    await screen.findByTestId("mining-state");
    expect(screen.queryByTestId("desktop-settings")).not.toBeInTheDocument();
    renderScreen(<FirstRun onDone={() => {}} />, makeFake());
    await screen.findByTestId("setup-submit");
    expect(screen.queryByTestId("desktop-settings")).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox", { name: /Start with the system/ })).not.toBeInTheDocument();
  });

  it("Mining offers starting with the system and minimized; a refused change is shown and undone", async () => {
    const desktop = fakeDesktop();
    desktop.setSettings.mockRejectedValueOnce(new Error("cannot change the login entry: read-only"));
    renderScreen(<Mining />, makeFake(), desktop);
    const card = await screen.findByTestId("desktop-settings");
    expect(within(card).queryByRole("checkbox", { name: /Close to tray/ })).not.toBeInTheDocument();
    const autostart = await within(card).findByRole("checkbox", { name: /Start with the system/ });
    await userEvent.click(autostart);
    expect(await within(card).findByText(/cannot change the login entry/)).toBeInTheDocument();
    expect(autostart).not.toBeChecked();
  });

  it("the first run offers the three start options", async () => {
    renderScreen(<FirstRun onDone={() => {}} />, makeFake(), fakeDesktop({ start_minimized: true }));
    const card = await screen.findByTestId("desktop-settings");
    expect(await within(card).findByRole("checkbox", { name: /Start minimized/ })).toBeChecked();
    expect(within(card).getByRole("checkbox", { name: /Start with the system/ })).not.toBeChecked();
    expect(within(card).getByRole("checkbox", { name: /Close to tray/ })).toBeChecked();
    expect(within(card).queryByRole("checkbox", { name: /Desktop notifications/ })).not.toBeInTheDocument();
  });
});

describe("first paint", () => {
  it("tells the desktop app once, after the dashboard painted node data", async () => {
    resetFirstPaint();
    const desktop = fakeDesktop();
    const first = renderScreen(<Dashboard />, makeFake(), desktop);
    await screen.findByTestId("odds-pct");
    await waitFor(() => expect(desktop.uiReady).toHaveBeenCalledTimes(1));
    first.unmount();
    renderScreen(<Dashboard />, makeFake(), desktop);
    await screen.findByTestId("odds-pct");
    await new Promise((r) => setTimeout(r, 50));
    expect(desktop.uiReady).toHaveBeenCalledTimes(1);
  });

  it("is never told in a browser", async () => {
    resetFirstPaint();
    const desktop = fakeDesktop();
    renderScreen(<Dashboard />, makeFake());
    await screen.findByTestId("odds-pct");
    await new Promise((r) => setTimeout(r, 50));
    expect(desktop.uiReady).not.toHaveBeenCalled();
  });
});
