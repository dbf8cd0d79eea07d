import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import Wallet from "./Wallet";
import { renderScreen } from "../test/render";
import { FRIEND_ADDRESS, makeFake, PASSPHRASE, walletNode, WALLET_ADDRESS } from "../test/fixtures";

afterEach(() => {
  vi.restoreAllMocks();
  Reflect.deleteProperty(window, "isSecureContext");
});

/** The fixtures' node with the wallet as given. */
function withWallet(start: Parameters<typeof walletNode>[0] = {}) {
  const wallet = walletNode(start);
  return { wallet, t: wallet.install(makeFake()) };
}

/** Fill the send form on screen. */
async function fill(user: ReturnType<typeof userEvent.setup>, address: string, amount: string) {
  const a = await screen.findByTestId("send-address");
  await user.clear(a);
  if (address) {
    await user.click(a);
    await user.paste(address);
  }
  const m = screen.getByTestId("send-amount");
  await user.clear(m);
  if (amount) await user.type(m, amount);
}

describe("Wallet", () => {
  it("shows the share and BTC balances, and the chance in the draw they mean", async () => {
    renderScreen(<Wallet />, makeFake());
    expect(await screen.findByTestId("bal-spendable")).toHaveTextContent("312.5 shares");
    expect(screen.getByTestId("bal-immature")).toHaveTextContent("50 shares");
    expect(screen.getByText("spendable 20 shares after mining")).toBeInTheDocument();
    expect(screen.getByTestId("bal-eligible")).toHaveTextContent("300 shares");
    expect(screen.getByText(/of 1,000 shares/)).toHaveTextContent("of 1,000 shares · 30% of each block (1 in 3.33)");
    expect(screen.getByTestId("bal-chance")).toHaveTextContent("30%");
    expect(screen.getByTestId("bal-unconfirmed")).toHaveTextContent("+1.5");
    expect(screen.getByTestId("btc-confirmed")).toHaveTextContent("1.23456789 BTC");
    expect(screen.getByTestId("btc-pending")).toHaveTextContent("0.05 BTC");
    expect(screen.getByTestId("btc-immature")).toHaveTextContent("50 BTC");
    expect(screen.getByTestId("wallet-lock-state")).toHaveTextContent("unlocked");
    expect(screen.getByTestId("wallet-synced")).toHaveTextContent("shares synced to 120 · Bitcoin to 812");
  });

  it("gives a fresh address with its QR code and a copy button", async () => {
    Object.defineProperty(window, "isSecureContext", { value: true, configurable: true });
    const user = userEvent.setup();
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    expect(await screen.findByTestId("receive-address")).toHaveTextContent(WALLET_ADDRESS);
    expect(screen.getByRole("img", { name: `QR code of bitcoin:${WALLET_ADDRESS}` })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: `Copy the address: ${WALLET_ADDRESS}` }));
    expect(await navigator.clipboard.readText()).toBe(WALLET_ADDRESS);
    // The miners' address is named too.
    expect(screen.getByTestId("receive")).toHaveTextContent("Your miners pay bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080.");
    await user.click(screen.getByTestId("new-address"));
    await waitFor(() => expect(t.callsOf("getnewaddress")).toHaveLength(2));
  });

  it("checks the address and the amount while they are typed, and will not review a bad one", async () => {
    const user = userEvent.setup();
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    const feedback = () => screen.getByTestId("address-feedback");
    await fill(user, "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", "");
    expect(feedback()).toHaveTextContent("This address is a mainnet address; this network's addresses start with bcrt1.");
    expect(screen.getByTestId("send-address")).toHaveAttribute("aria-invalid", "true");
    await fill(user, `${FRIEND_ADDRESS.slice(0, -1)}q`, "");
    expect(feedback()).toHaveTextContent("This address has a typo: its checksum does not match.");
    await fill(user, FRIEND_ADDRESS, "1,5");
    expect(feedback()).toHaveTextContent("✓ Taproot address");
    expect(screen.getByTestId("amount-feedback")).toHaveTextContent("Use a dot for decimals");
    await fill(user, FRIEND_ADDRESS, "400");
    expect(screen.getByTestId("amount-feedback")).toHaveTextContent("More than the 312.5 shares spendable.");
    await user.click(screen.getByTestId("send-review"));
    expect(screen.queryByTestId("send-confirm")).toBeNull();
    expect(screen.getByTestId("send-amount")).toHaveFocus();
    expect(t.callsOf("sendshares")).toHaveLength(0);
  });

  it("fills Max with the spendable shares less a fee for every coin", async () => {
    const user = userEvent.setup();
    renderScreen(<Wallet />, makeFake());
    await user.click(await screen.findByTestId("send-max"));
    // Three mature coins at 2 units/vB: 10.5 + 3 × 57.5 + 2 × 43 = 269 vB → 538 units.
    await waitFor(() => expect(screen.getByTestId("send-amount")).toHaveValue("312.49999462"));
    expect(screen.getByTestId("amount-feedback")).toHaveTextContent("Keeps 0.00000538 shares back for the fee (3 coins at 2 units/vB).");
  });

  it("shows what will be sent, then sends the shares and gives the txid", async () => {
    const user = userEvent.setup();
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    await fill(user, FRIEND_ADDRESS, "1.5");
    await user.click(screen.getByTestId("fee-priority"));
    await user.click(screen.getByTestId("send-review"));

    const confirm = screen.getByTestId("send-confirm");
    expect(within(confirm).getByText("Check before you send")).toBeInTheDocument();
    expect(within(confirm).getByTestId("confirm-amount")).toHaveTextContent("1.5 shares");
    expect(within(confirm).getByTestId("confirm-address")).toHaveTextContent(FRIEND_ADDRESS);
    expect(confirm).toHaveTextContent("Taproot address");
    expect(confirm).toHaveTextContent("5 units/vB");
    expect(confirm).toHaveTextContent("≈ 0.0000077 shares for a typical payment");
    expect(confirm).toHaveTextContent("≈ 310.9999923 shares spendable");
    expect(confirm).toHaveTextContent("Signals RBF");
    expect(t.callsOf("sendshares")).toHaveLength(0);

    // Back keeps what was typed.
    await user.click(within(confirm).getByRole("button", { name: "Back" }));
    expect(screen.getByTestId("send-amount")).toHaveValue("1.5");
    await user.click(screen.getByTestId("send-review"));
    const before = t.callsOf("getwalletbalances").length;
    await user.click(screen.getByRole("button", { name: "Send 1.5 shares" }));
    expect(t.callsOf("sendshares")).toEqual([[FRIEND_ADDRESS, "1.5", 5000]]);
    expect(await screen.findByTestId("sent-txid")).toHaveTextContent("5e4d".repeat(16));
    expect(screen.getByTestId("send-done")).toHaveTextContent(`Sent 1.5 shares to ${FRIEND_ADDRESS}`);
    await waitFor(() => expect(t.callsOf("getwalletbalances").length).toBeGreaterThan(before));
    await user.click(screen.getByRole("button", { name: "New payment" }));
    expect(screen.getByTestId("send-address")).toHaveValue("");
  });

  it("leaves the fee rate to the node at Economy, and shows its refusal at the confirm step", async () => {
    const user = userEvent.setup();
    const { t } = withWallet();
    t.fail("sendshares", -1, "insufficient funds: 312.50000269 shares needed, 312.5 spendable (50 more are immature)");
    renderScreen(<Wallet />, t);
    await fill(user, FRIEND_ADDRESS, "312.5");
    await user.click(screen.getByTestId("fee-economy"));
    await user.click(screen.getByTestId("send-review"));
    expect(screen.getByTestId("send-confirm")).toHaveTextContent("the mempool's floor (at least 1 units/vB)");
    await user.click(screen.getByTestId("send-now"));
    const error = await screen.findByTestId("send-error");
    expect(error).toHaveTextContent("Not sent");
    expect(error).toHaveTextContent("Insufficient funds: 312.50000269 shares needed, 312.5 spendable (50 more are immature)");
    expect(t.callsOf("sendshares")[0]).toHaveLength(3);
    expect(t.callsOf("sendshares")[0]![2]).toBeUndefined();
    // Still at the confirm step, to go back and change the amount.
    expect(screen.getByTestId("send-confirm")).toBeInTheDocument();
  });

  it("sends shares at a custom fee rate of up to 3 decimals, as units per 1,000 vbytes", async () => {
    const user = userEvent.setup();
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    await fill(user, FRIEND_ADDRESS, "2");
    await user.click(screen.getByTestId("fee-custom"));
    const rate = screen.getByRole("spinbutton", { name: "Custom fee rate in units/vB" });
    await user.type(rate, "1.0005");
    expect(screen.getByText("At least 1 unit/vB, up to 3 decimals.")).toBeInTheDocument();
    await user.clear(rate);
    await user.type(rate, "1.001");
    await user.click(screen.getByTestId("send-review"));
    expect(screen.getByTestId("send-confirm")).toHaveTextContent("1.001 units/vB");
    await user.click(screen.getByTestId("send-now"));
    expect(t.callsOf("sendshares")).toEqual([[FRIEND_ADDRESS, "2", 1001]]);
  });

  it("sends BTC at a custom whole fee rate", async () => {
    const user = userEvent.setup();
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    await user.click(await screen.findByRole("tab", { name: "BTC" }));
    await fill(user, FRIEND_ADDRESS, "0.01");
    expect(screen.getByTestId("amount-feedback")).toHaveTextContent("1.23456789 BTC confirmed.");
    await user.click(screen.getByTestId("fee-custom"));
    const rate = screen.getByRole("spinbutton", { name: "Custom fee rate in sat/vB" });
    await user.type(rate, "1.5");
    expect(screen.getByText("A whole number of sat/vB, at least 1.")).toBeInTheDocument();
    await user.click(screen.getByTestId("send-review"));
    expect(screen.queryByTestId("send-confirm")).toBeNull();
    await user.clear(rate);
    await user.type(rate, "7");
    await user.click(screen.getByTestId("send-review"));
    expect(screen.getByTestId("send-confirm")).toHaveTextContent("7 sat/vB");
    await user.click(screen.getByRole("button", { name: "Send 0.01 BTC" }));
    expect(t.callsOf("sendbtc")).toEqual([[FRIEND_ADDRESS, "0.01", 7]]);
    expect(await screen.findByTestId("sent-txid")).toHaveTextContent("b7c0".repeat(16));
  });

  it("exports an unsigned PSBT, locked or not, to copy or download", async () => {
    const user = userEvent.setup();
    const { t } = withWallet({ unlocked: false });
    renderScreen(<Wallet />, t);
    await user.click(await screen.findByRole("tab", { name: "Export PSBT" }));
    await fill(user, FRIEND_ADDRESS, "0.5");
    await user.click(screen.getByTestId("send-review"));
    expect(screen.getByText("Check the payment to sign elsewhere")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Create the PSBT" }));
    expect(t.callsOf("createpsbt")).toEqual([[FRIEND_ADDRESS, "0.5", 2]]);
    const psbt = await screen.findByTestId("psbt");
    expect((psbt as HTMLTextAreaElement).value).toMatch(/^cHNidP8B/);
    expect(screen.getByRole("button", { name: "Copy the PSBT" })).toBeInTheDocument();

    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => (blobs.push(b), "blob:psbt"));
    URL.revokeObjectURL = vi.fn();
    let downloaded = "";
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      downloaded = this.download;
    });
    await user.click(screen.getByRole("button", { name: "Download .psbt" }));
    expect(downloaded).toMatch(/^p2share-.*\.psbt$/);
    // The binary file: the magic bytes "psbt" 0xff.
    const bytes = new Uint8Array(await blobs[0]!.arrayBuffer());
    expect(Array.from(bytes.slice(0, 5))).toEqual([0x70, 0x73, 0x62, 0x74, 0xff]);
  });

  it("when locked: watches, refuses a wrong passphrase inline, unlocks, and locks again", async () => {
    const user = userEvent.setup();
    const { t } = withWallet({ unlocked: false });
    renderScreen(<Wallet />, t);
    expect(await screen.findByTestId("unlock-form")).toHaveTextContent("Balances and history stay up to date");
    expect(screen.getByTestId("wallet-lock-state")).toHaveTextContent("locked");
    expect(screen.queryByTestId("lock")).toBeNull();
    // Balances still show; a payment can be prepared but not sent.
    expect(await screen.findByTestId("bal-spendable")).toHaveTextContent("312.5 shares");
    expect(screen.getByTestId("send-form-shares")).toHaveTextContent("The wallet is locked");
    await fill(user, FRIEND_ADDRESS, "1");
    await user.click(screen.getByTestId("send-review"));
    expect(screen.getByTestId("send-now")).toBeDisabled();
    expect(screen.getByTestId("send-confirm")).toHaveTextContent("unlock it (top of the screen) to send");

    await user.type(screen.getByTestId("unlock-passphrase"), "wrong");
    await user.click(screen.getByTestId("unlock"));
    const error = await screen.findByTestId("unlock-error");
    expect(error).toHaveTextContent("Still locked");
    expect(error).toHaveTextContent("Wrong passphrase (or the seed file's encrypted part was altered)");

    await user.clear(screen.getByTestId("unlock-passphrase"));
    await user.type(screen.getByTestId("unlock-passphrase"), PASSPHRASE);
    await user.click(screen.getByTestId("unlock"));
    await waitFor(() => expect(screen.queryByTestId("unlock-form")).toBeNull());
    expect(t.callsOf("unlockwallet")).toEqual([["wrong"], [PASSPHRASE]]);
    expect(screen.getByTestId("wallet-lock-state")).toHaveTextContent("unlocked");
    // The payment under review can go now.
    expect(screen.getByTestId("send-now")).toBeEnabled();

    await user.click(screen.getByTestId("lock"));
    expect(await screen.findByTestId("unlock-form")).toBeInTheDocument();
    expect(t.callsOf("lockwallet")).toHaveLength(1);
  });

  it("pages the share history, 50 at a time, with confirmations, fees and mined badges", async () => {
    const user = userEvent.setup();
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    let rows = await screen.findAllByTestId("share-tx");
    expect(rows).toHaveLength(50);
    expect(t.callsOf("listwallettransactions")[0]).toEqual([0, 50]);
    expect(rows[0]).toHaveTextContent("unconfirmed");
    expect(rows[0]).toHaveTextContent("+1.5");
    expect(rows[1]).toHaveTextContent("−10.00000154");
    expect(rows[1]).toHaveTextContent("0.00000154");
    expect(rows[1]).toHaveTextContent("118");
    expect(within(rows[2]!).getByText("mined")).toBeInTheDocument();
    expect(rows[2]).toHaveTextContent("+50");
    expect(screen.getByTestId("pager-range")).toHaveTextContent("1–50 of 123");
    expect(screen.getByRole("button", { name: "← Newer" })).toBeDisabled();

    await user.click(screen.getByRole("button", { name: "Older →" }));
    await waitFor(() => expect(screen.getByTestId("pager-range")).toHaveTextContent("51–100 of 123"));
    expect(t.callsOf("listwallettransactions").at(-1)).toEqual([50, 50]);
    await user.click(screen.getByRole("button", { name: "Older →" }));
    await waitFor(() => expect(screen.getByTestId("pager-range")).toHaveTextContent("101–123 of 123"));
    rows = screen.getAllByTestId("share-tx");
    expect(rows).toHaveLength(23);
    expect(screen.getByRole("button", { name: "Older →" })).toBeDisabled();
    expect(screen.getByText("page 3 of 3")).toBeInTheDocument();
  });

  it("lists the BTC history with payouts marked", async () => {
    const user = userEvent.setup();
    renderScreen(<Wallet />, makeFake());
    await user.click(await screen.findByRole("tab", { name: "Bitcoin" }));
    const rows = await screen.findAllByTestId("btc-tx");
    expect(rows).toHaveLength(4);
    expect(rows[0]).toHaveTextContent("unconfirmed");
    expect(rows[0]).toHaveTextContent("+0.05");
    expect(within(rows[1]!).getByText("payout")).toBeInTheDocument();
    expect(rows[1]).toHaveTextContent("+50");
    expect(rows[2]).toHaveTextContent("−1.23456789");
    expect(rows[2]).toHaveTextContent("1,410");
    // 812 is the tip: one confirmation; 790: 23.
    expect(rows[1]).toHaveTextContent(/812\s*1$/);
    expect(rows[2]).toHaveTextContent(/790\s*23$/);
  });

  it("lists the payouts with their countdown to maturity", async () => {
    renderScreen(<Wallet />, makeFake());
    const rows = await screen.findAllByTestId("payout-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByTestId("payout-maturity")).toHaveTextContent("37 blocks to maturity");
    expect(within(rows[0]!).getByRole("progressbar", { name: "Maturity 63 of 100" })).toBeInTheDocument();
    expect(rows[0]).toHaveTextContent("50 BTC");
    expect(rows[1]).toHaveTextContent("spendable");
  });

  it("without a wallet, leads to the wallet step", async () => {
    const { t } = withWallet({ exists: false, unlocked: false });
    renderScreen(<Wallet />, t);
    expect(await screen.findByTestId("no-wallet")).toHaveTextContent("This node has no wallet.");
    expect(screen.getByTestId("setup-wallet-link")).toHaveAttribute("href", "#/setup/wallet");
    expect(t.callsOf("getwalletbalances")).toHaveLength(0);
    expect(screen.queryByTestId("wallet-lock-state")).toBeNull();
  });

  it("without a Bitcoin node, turns the BTC side off", async () => {
    const { t } = withWallet({ btc_available: false, btc_height: null });
    renderScreen(<Wallet />, t);
    expect(await screen.findByTestId("btc-off")).toHaveTextContent("No Bitcoin node is configured");
    expect(screen.getByRole("tab", { name: "BTC" })).toBeDisabled();
    expect(screen.getByRole("tab", { name: "Export PSBT" })).toBeDisabled();
    expect(screen.getByRole("tab", { name: "Bitcoin" })).toBeDisabled();
  });

  it("says when the BTC side cannot keep up with the Bitcoin node", async () => {
    const { t } = withWallet({ btc_error: "Bitcoin chain source: connection refused" });
    renderScreen(<Wallet />, t);
    const alert = await screen.findByTestId("btc-sync-error");
    expect(alert).toHaveTextContent("Not keeping up with the Bitcoin node (retrying): Bitcoin chain source: connection refused");
    expect(alert).toHaveAttribute("role", "alert");
    expect(screen.getByTestId("btc-confirmed")).toBeInTheDocument();
  });

  it("shows no sync warning while the BTC side keeps up", async () => {
    const { t } = withWallet();
    renderScreen(<Wallet />, t);
    await screen.findByTestId("btc-confirmed");
    expect(screen.queryByTestId("btc-sync-error")).toBeNull();
  });

  it("says so when the node has no wallet methods", async () => {
    renderScreen(<Wallet />, makeFake().fail("getwalletinfo", -32601, "method not found: getwalletinfo"));
    expect(await screen.findByRole("alert")).toHaveTextContent("The wallet is not available on this node");
  });

  it("reads the balances again on a new tip and every 5 s", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const { t } = withWallet();
      renderScreen(<Wallet />, t);
      await screen.findByTestId("bal-spendable");
      const n = t.callsOf("getwalletbalances").length;
      act(() => t.emit({ type: "tip", hash: "ab".repeat(32), height: 121, reorg_depth: 0 }));
      await waitFor(() => expect(t.callsOf("getwalletbalances").length).toBe(n + 1));
      act(() => vi.advanceTimersByTime(5_000));
      await waitFor(() => expect(t.callsOf("getwalletbalances").length).toBe(n + 2));
    } finally {
      vi.useRealTimers();
    }
  });
});
