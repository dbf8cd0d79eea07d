import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import Logs, { filterLines } from "./Logs";
import { renderScreen } from "../test/render";
import { logs, makeFake } from "../test/fixtures";

describe("Logs", () => {
  it("filters by level and text", async () => {
    renderScreen(<Logs />, makeFake());
    const box = await screen.findByTestId("log-box");
    expect(within(box).getAllByTestId("log-line")).toHaveLength(3);

    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Minimum level" }), "WARN");
    expect(within(box).getAllByTestId("log-line")).toHaveLength(2);
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Minimum level" }), "ERROR");
    expect(within(box).getAllByTestId("log-line")).toHaveLength(1);
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Minimum level" }), "TRACE");

    await userEvent.type(screen.getByRole("searchbox", { name: "Filter text" }), "PEER");
    const lines = within(box).getAllByTestId("log-line");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveTextContent("peer timed out");
    // Matches the target too.
    await userEvent.clear(screen.getByRole("searchbox", { name: "Filter text" }));
    await userEvent.type(screen.getByRole("searchbox", { name: "Filter text" }), "bitcoin");
    expect(within(box).getAllByTestId("log-line")).toHaveLength(1);
    await userEvent.type(screen.getByRole("searchbox", { name: "Filter text" }), "zzz");
    expect(within(box).getByText("No lines match.")).toBeInTheDocument();
  });

  it("appends live log events and can pause scrolling", async () => {
    const t = makeFake();
    renderScreen(<Logs />, t);
    const box = await screen.findByTestId("log-box");
    act(() => t.emit({ type: "log", time: 1795628903000, level: "INFO", target: "p2share_node::p2p", message: "peer connected" }));
    expect(within(box).getAllByTestId("log-line")).toHaveLength(4);
    expect(screen.getByText("4 of 4 lines")).toBeInTheDocument();
    const pause = screen.getByRole("button", { name: "Pause scrolling" });
    await userEvent.click(pause);
    expect(screen.getByRole("button", { name: "Resume scrolling" })).toHaveAttribute("aria-pressed", "true");
  });

  it("filterLines keeps the levels at or above the minimum", () => {
    expect(filterLines(logs, "INFO", "").length).toBe(3);
    expect(filterLines(logs, "WARN", "").map((l) => l.level)).toEqual(["WARN", "ERROR"]);
  });
});
