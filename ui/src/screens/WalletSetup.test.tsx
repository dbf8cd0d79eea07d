import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import WalletSetupScreen from "./WalletSetup";
import { renderScreen } from "../test/render";
import { makeFake, walletNode } from "../test/fixtures";

describe("WalletSetupScreen", () => {
  it("offers create or restore on a node without a wallet, and keeps the words through a resync", async () => {
    const t = walletNode({ exists: false, unlocked: false }).install(makeFake());
    const user = userEvent.setup();
    renderScreen(<WalletSetupScreen />, t);
    expect(await screen.findByTestId("wallet-setup")).toBeInTheDocument();
    await user.type(screen.getByTestId("passphrase"), "pass phrase");
    await user.type(screen.getByTestId("passphrase-repeat"), "pass phrase");
    await user.click(screen.getByTestId("create-wallet"));
    expect(await screen.findByTestId("seed-words")).toBeInTheDocument();
    // A reconnect re-reads getwalletinfo, which now says the wallet exists: the words stay.
    act(() => t.emit({ type: "lagged", missed: 3 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(t.callsOf("getwalletinfo").length).toBeGreaterThan(1);
    expect(screen.getByTestId("seed-words")).toBeInTheDocument();
  });

  it("says so when the node has a wallet", async () => {
    renderScreen(<WalletSetupScreen />, makeFake());
    expect(await screen.findByText(/This node has a wallet/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open it" })).toHaveAttribute("href", "#/wallet");
    expect(screen.queryByTestId("wallet-setup")).toBeNull();
  });
});
