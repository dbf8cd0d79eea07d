import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import FirstRun from "./FirstRun";
import { renderScreen } from "../test/render";
import { makeFake, SEED_WORDS, walletNode } from "../test/fixtures";

const MINING = { type: "mining", mining: true, threads: 2, backend: "avx2" } as const;

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

  it("once the node mines on the new setup, creates its wallet before opening the dashboard", async () => {
    const wallet = walletNode({ exists: false, unlocked: false });
    const t = wallet.install(makeFake()).set("setup", { restart_required: true });
    const onDone = vi.fn();
    const user = userEvent.setup();
    renderScreen(<FirstRun onDone={onDone} />, t);
    expect(screen.getByText(/Step 1 of 2/)).toBeInTheDocument();
    await user.click(screen.getByTestId("setup-submit"));
    expect(await screen.findByText(/restarts on the new setting/)).toBeInTheDocument();
    // The wallet is asked for only once the restarted node mines (its data directory is the
    // network's).
    expect(t.callsOf("getwalletinfo")).toHaveLength(0);
    act(() => t.emit(MINING));
    expect(await screen.findByTestId("wallet-setup")).toBeInTheDocument();
    expect(screen.getByText("Step 2 of 2")).toBeInTheDocument();
    expect(screen.getByText(/goes to this wallet from the moment it exists/)).toBeInTheDocument();

    await user.type(screen.getByTestId("passphrase"), "a long enough passphrase");
    await user.type(screen.getByTestId("passphrase-repeat"), "a long enough passphrase");
    await user.click(screen.getByTestId("create-wallet"));
    await user.click(await screen.findByRole("checkbox", { name: /I wrote/ }));
    await user.click(screen.getByTestId("words-next"));
    const asked = screen.getAllByText(/^Word #\d+$/).map((el) => Number(el.textContent!.slice(6)));
    const inputs = screen.getAllByRole("textbox");
    for (const [i, at] of asked.entries()) await user.type(inputs[i]!, SEED_WORDS[at - 1]!);
    await user.click(screen.getByTestId("confirm-words"));

    expect(await screen.findByText("The node is mining. Opening your odds…")).toBeInTheDocument();
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1), { timeout: 3000 });
    expect(wallet.info.exists).toBe(true);
    expect(document.body.textContent).not.toContain(SEED_WORDS[5]!);
  });

  it("skips the wallet step when the network's data directory has a wallet", async () => {
    const t = makeFake().set("setup", { restart_required: true });
    const onDone = vi.fn();
    renderScreen(<FirstRun onDone={onDone} />, t);
    await userEvent.click(screen.getByTestId("setup-submit"));
    await screen.findByText(/restarts on the new setting/);
    act(() => t.emit(MINING));
    expect(await screen.findByText("The node is mining. Opening your odds…")).toBeInTheDocument();
    expect(screen.queryByTestId("wallet-setup")).toBeNull();
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1), { timeout: 3000 });
  });

  it("skips it on a node without wallet methods", async () => {
    const t = makeFake().set("setup", { restart_required: true }).fail("getwalletinfo", -32601, "method not found: getwalletinfo");
    renderScreen(<FirstRun onDone={() => {}} />, t);
    await userEvent.click(screen.getByTestId("setup-submit"));
    await screen.findByText(/restarts on the new setting/);
    act(() => t.emit(MINING));
    expect(await screen.findByText("The node is mining. Opening your odds…")).toBeInTheDocument();
  });
});
