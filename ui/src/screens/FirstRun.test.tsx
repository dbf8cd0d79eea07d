import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import FirstRun from "./FirstRun";
import { renderScreen } from "../test/render";
import { makeFake } from "../test/fixtures";

describe("FirstRun", () => {
  it("shows testbitcoincore's exact error, then sets up the network", async () => {
    const error = 'this Bitcoin Core is on "test", but network main mines on "main"';
    const t = makeFake()
      .set("testbitcoincore", { ok: false, chain: "test", blocks: 10, error })
      .set("setup", { restart_required: true });
    renderScreen(<FirstRun />, t);
    await userEvent.click(screen.getByRole("radio", { name: /Choose a network/ }));
    await userEvent.click(screen.getByRole("button", { name: "Test connection" }));
    expect(await screen.findByTestId("test-error")).toHaveTextContent(error);
    expect(t.callsOf("testbitcoincore")[0]).toEqual([{ url: "http://127.0.0.1:8332", cookie_file: "~/.bitcoin/.cookie" }]);

    await userEvent.click(screen.getByRole("button", { name: "Use this network" }));
    expect(t.callsOf("setup")[0]).toEqual([
      { kind: "network", network: "main", bitcoin: { url: "http://127.0.0.1:8332", cookie_file: "~/.bitcoin/.cookie" } },
    ]);
    expect(await screen.findByText(/restarts on the new setting/)).toBeInTheDocument();
  });

  it("starts a devnet in one click", async () => {
    const t = makeFake().set("setup", { restart_required: true });
    renderScreen(<FirstRun />, t);
    await userEvent.click(screen.getByTestId("setup-submit"));
    expect(t.callsOf("setup")[0]).toEqual([{ kind: "devnet" }]);
  });

  it("joins a devnet with its id and a peer", async () => {
    const t = makeFake().set("setup", { restart_required: true });
    renderScreen(<FirstRun />, t);
    await userEvent.click(screen.getByRole("radio", { name: /Join a devnet/ }));
    expect(screen.getByTestId("setup-submit")).toBeDisabled();
    await userEvent.type(screen.getByRole("textbox", { name: "Devnet id" }), "1795628914-1d3ff266");
    await userEvent.type(screen.getByRole("textbox", { name: "Peer multiaddr" }), "/ip4/10.0.0.2/tcp/29333/p2p/12D3KooWx");
    await userEvent.click(screen.getByTestId("setup-submit"));
    expect(t.callsOf("setup")[0]).toEqual([{ kind: "join", devnet_id: "1795628914-1d3ff266", peer: "/ip4/10.0.0.2/tcp/29333/p2p/12D3KooWx" }]);
  });
});
