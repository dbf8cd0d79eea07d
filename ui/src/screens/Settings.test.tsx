import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import Settings from "./Settings";
import { renderScreen } from "../test/render";
import { makeFake } from "../test/fixtures";

describe("Settings", () => {
  it("warns about a non-loopback bind and reports restart required", async () => {
    const t = makeFake().set("setsettings", { restart_required: true });
    renderScreen(<Settings />, t);
    const bind = await screen.findByRole("textbox", { name: /Listen address/ });
    expect(screen.queryByText(/exposes the dashboard/)).not.toBeInTheDocument();
    expect(screen.getByTestId("datadir")).toHaveTextContent("/home/u/.local/share/p2share/main");
    await userEvent.clear(bind);
    await userEvent.type(bind, "0.0.0.0:9332");
    expect(screen.getByText(/exposes the dashboard to your network/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(t.callsOf("setsettings")).toEqual([[{ api_bind: "0.0.0.0:9332" }]]);
    expect(await screen.findByTestId("saved")).toHaveTextContent("Restart the node to apply");
  });
});
