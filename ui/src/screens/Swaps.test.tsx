import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import Swaps from "./Swaps";
import { renderScreen } from "../test/render";
import { foundByBitaxe, makeFake, offerId, PASSPHRASE, swapId, swapNode, walletBalances, walletNode } from "../test/fixtures";

afterEach(() => {
  vi.restoreAllMocks();
  Reflect.deleteProperty(window, "isSecureContext");
});

/** The fixtures' node with its wallet as given, and the swaps engine seeing that wallet. */
function node(start: Parameters<typeof walletNode>[0] = {}) {
  const wallet = walletNode(start);
  const swaps = swapNode(() => wallet.info);
  return { wallet, swaps, t: swaps.install(wallet.install(makeFake())) };
}

const rows = (side: "buy" | "sell") => within(screen.getByTestId(`book-${side}`)).getAllByTestId("offer-row");
const item = (id: string) => screen.getAllByTestId("swap-item").find((e) => e.dataset.swap === id)!;

async function openTake(user: ReturnType<typeof userEvent.setup>, price: string) {
  await user.click(await screen.findByRole("button", { name: `Take the offer at ${price} sat/share` }));
  return screen.findByTestId("take-card");
}

describe("Swaps", () => {
  it("splits the order book into buying and selling shares, best price first", async () => {
    renderScreen(<Swaps />, makeFake());
    await screen.findByTestId("book-buy");
    // Makers selling shares: the cheapest first (this node's own among them).
    const buy = rows("buy");
    expect(buy.map((r) => within(r).getByTestId("offer-price").textContent)).toEqual([
      "39,500 satbest",
      "41,000 sat",
      "45,000 sat",
    ]);
    expect(buy[0]).toHaveTextContent("0.000395 BTC");
    expect(within(buy[0]!).getByTestId("offer-range")).toHaveTextContent("0.5–10");
    expect(within(buy[0]!).getByTestId("offer-expires")).toHaveTextContent(/^in 2 h [45] min$/);
    // The taker locks Bitcoin for 144 blocks, the maker shares for 1,440.
    expect(within(buy[0]!).getByTestId("offer-locks")).toHaveTextContent("you 144 · maker 1,440");
    expect(within(buy[1]!).getByTestId("offer-expires")).toHaveTextContent(/^in 20 h 1[12] min$/);
    // Makers buying shares: the highest first.
    const sell = rows("sell");
    expect(sell.map((r) => within(r).getByTestId("offer-price").textContent)).toEqual([
      "38,750 satbest",
      "38,000 sat",
      "36,900 sat",
    ]);
    expect(within(sell[0]!).getByTestId("offer-locks")).toHaveTextContent("you 2,880 · maker 72");
    expect(within(sell[0]!).getByTestId("offer-expires")).toHaveTextContent(/^in 3 d$/);
    expect(screen.getAllByText("3 offers")).toHaveLength(2);
    // Every offer but this node's own can be taken; its own has a badge and Cancel.
    expect(within(buy[2]!).getByText("yours")).toBeInTheDocument();
    expect(within(buy[2]!).queryByTestId("offer-take")).toBeNull();
    expect(within(buy[2]!).getByRole("button", { name: "Cancel your offer at 45,000 sat/share" })).toBeInTheDocument();
    expect(screen.getAllByTestId("offer-take")).toHaveLength(5);
  });

  it("withdraws this node's own offer", async () => {
    const user = userEvent.setup();
    const { t } = node();
    renderScreen(<Swaps />, t);
    await user.click(await screen.findByRole("button", { name: "Cancel your offer at 45,000 sat/share" }));
    expect(t.callsOf("canceloffer")).toEqual([[offerId(5)]]);
    await waitFor(() => expect(rows("buy")).toHaveLength(2));
    expect(screen.queryByText("yours")).toBeNull();
  });

  it("checks the amount against the offer and the wallet while it is typed", async () => {
    const user = userEvent.setup();
    const { t } = node();
    t.set("getwalletbalances", { ...walletBalances, btc: { ...walletBalances.btc, confirmed: 1_000_000 } });
    renderScreen(<Swaps />, t);
    const take = await openTake(user, "41,000");
    expect(take.closest("section")).toHaveTextContent("Take: Buy shares at 41,000 sat/share");
    const amount = within(take).getByTestId("take-amount");
    const feedback = () => within(take).getByTestId("take-feedback");
    await waitFor(() => expect(feedback()).toHaveTextContent("1 to 25 shares; 0.01 BTC confirmed."));
    await user.type(amount, "0.5");
    await user.tab();
    expect(feedback()).toHaveTextContent("At least 1 share for this offer.");
    expect(amount).toHaveAttribute("aria-invalid", "true");
    await user.clear(amount);
    await user.type(amount, "30");
    expect(feedback()).toHaveTextContent("At most 25 shares for this offer.");
    await user.clear(amount);
    await user.type(amount, "1,5");
    expect(feedback()).toHaveTextContent("Use a dot for decimals");
    // 25 × 41,000 sats = 0.01025 BTC, with 0.01 confirmed.
    await user.clear(amount);
    await user.type(amount, "25");
    expect(feedback()).toHaveTextContent("You would pay 0.01025 BTC: more than the 0.01 BTC confirmed (the lock's fee comes on top).");
    await user.click(within(take).getByTestId("take-review"));
    expect(within(take).queryByTestId("take-approval")).toBeNull();
    expect(amount).toHaveFocus();
    expect(t.callsOf("takeoffer")).toHaveLength(0);
  });

  it("shows what is paid and received and the timelocks, asks for approval, then takes the offer", async () => {
    const user = userEvent.setup();
    const { t } = node();
    renderScreen(<Swaps />, t);
    const take = await openTake(user, "41,000");
    await user.type(within(take).getByTestId("take-amount"), "5");
    const summary = within(take).getByTestId("take-summary");
    expect(summary).toHaveTextContent("You pay0.00205 BTC");
    expect(summary).toHaveTextContent("You receive5 shares");
    expect(summary).toHaveTextContent("41,000 sat/share · 0.00041 BTC/share");
    const terms = within(take).getByTestId("take-terms");
    expect(terms).toHaveTextContent(
      "You lock first: 0.00205 BTC go into a lock on Bitcoin. If the maker never locks its side, you can refund them after 144 Bitcoin blocks.",
    );
    expect(terms).toHaveTextContent("the maker locks 5 shares on the sharechain for 1,440 sharechain blocks");

    await user.click(within(take).getByTestId("take-review"));
    const approval = within(take).getByTestId("take-approval");
    expect(approval).toHaveTextContent("Approve this swap");
    expect(approval).toHaveTextContent("Nothing is locked yet");
    expect(within(approval).getByTestId("approve-pay")).toHaveTextContent("0.00205 BTC");
    expect(within(approval).getByTestId("approve-receive")).toHaveTextContent("5 shares");
    expect(approval).toHaveTextContent("The lock is yours again after 144 Bitcoin blocks");
    // Nothing is asked of the node before the approval.
    expect(t.callsOf("takeoffer")).toHaveLength(0);
    await user.click(within(approval).getByRole("button", { name: "Back" }));
    expect(within(take).getByTestId("take-amount")).toHaveValue("5");
    await user.click(within(take).getByTestId("take-review"));

    const before = t.callsOf("listswaps").length;
    await user.click(screen.getByRole("button", { name: "Approve and lock 0.00205 BTC" }));
    expect(t.callsOf("takeoffer")).toEqual([[offerId(1), "5"]]);
    expect(await within(take).findByTestId("take-done")).toHaveTextContent("Swap started. Your node locks 0.00205 BTC on Bitcoin now");
    await waitFor(() => expect(t.callsOf("listswaps").length).toBeGreaterThan(before));
    await waitFor(() => expect(screen.getAllByTestId("swap-title")[0]).toHaveTextContent("Buy 5 shares for 0.00205 BTC"));
    await user.click(within(take).getByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("take-card")).toBeNull();
  });

  it("explains a take of shares for BTC, and shows the maker's refusal at the approval step", async () => {
    const user = userEvent.setup();
    const { t } = node();
    t.fail("takeoffer", -26, "the maker refused: the taker's timelock ends at 7080, below 7090");
    renderScreen(<Swaps />, t);
    const take = await openTake(user, "38,750");
    await user.type(within(take).getByTestId("take-amount"), "12.5");
    expect(within(take).getByTestId("take-summary")).toHaveTextContent("You pay12.5 shares");
    expect(within(take).getByTestId("take-summary")).toHaveTextContent("You receive0.00484375 BTC");
    expect(within(take).getByTestId("take-terms")).toHaveTextContent(
      "You lock first: 12.5 shares go into a lock on sharechain. If the maker never locks its side, you can refund them after 2,880 sharechain blocks.",
    );
    await user.click(within(take).getByTestId("take-review"));
    await user.click(within(take).getByTestId("take-approve"));
    const error = await within(take).findByTestId("take-error");
    expect(error).toHaveTextContent("Not taken: nothing was locked");
    expect(error).toHaveTextContent("The maker refused: the taker's timelock ends at 7080, below 7090");
    expect(within(take).getByTestId("take-approval")).toBeInTheDocument();
  });

  it("checks a new offer's fields, then publishes it and lists it as yours", async () => {
    const user = userEvent.setup();
    const { t } = node();
    renderScreen(<Swaps />, t);
    const form = await screen.findByTestId("make-form");
    await user.click(within(form).getByTestId("make-submit"));
    expect(within(form).getByTestId("make-range-note")).toHaveTextContent("Enter an amount.");
    expect(within(form).getByTestId("make-price-note")).toHaveTextContent("A whole number of sats per share, above zero.");
    await user.type(within(form).getByTestId("make-min"), "2");
    await user.type(within(form).getByTestId("make-max"), "1");
    expect(within(form).getByTestId("make-range-note")).toHaveTextContent("Below the minimum.");
    await user.type(within(form).getByTestId("make-price"), "435.5");
    expect(within(form).getByTestId("make-price-note")).toHaveTextContent("A whole number of sats per share");
    await user.click(within(form).getByTestId("make-submit"));
    expect(t.callsOf("makeoffer")).toHaveLength(0);

    await user.clear(within(form).getByTestId("make-min"));
    await user.type(within(form).getByTestId("make-min"), "1");
    await user.clear(within(form).getByTestId("make-max"));
    await user.type(within(form).getByTestId("make-max"), "20");
    await user.clear(within(form).getByTestId("make-price"));
    await user.type(within(form).getByTestId("make-price"), "43500");
    expect(within(form).getByTestId("make-price-note")).toHaveTextContent("0.000435 BTC/share.");
    await user.selectOptions(within(form).getByTestId("make-ttl"), "6 hours");
    expect(within(form).getByTestId("make-summary")).toHaveTextContent("Sells 1–20 shares per swap, for 0.000435–0.0087 BTC.");
    await user.click(within(form).getByTestId("make-submit"));
    expect(t.callsOf("makeoffer")).toEqual([["shares", "1", "20", 43_500, 21_600]]);
    expect(await within(form).findByTestId("make-done")).toHaveTextContent("Offer published at 43,500 sat/share");
    expect(within(form).getByTestId("make-min")).toHaveValue("");
    await waitFor(() => expect(rows("buy")).toHaveLength(4));
    const mine = rows("buy").find((r) => r.textContent?.includes("43,500"))!;
    expect(within(mine).getByText("yours")).toBeInTheDocument();
    expect(mine).toHaveTextContent(/in 6 h|in 5 h 59 min/);
  });

  it("shows the node's refusal of an offer inline", async () => {
    const user = userEvent.setup();
    const { t } = node();
    renderScreen(<Swaps />, t);
    const form = await screen.findByTestId("make-form");
    await user.click(within(form).getByRole("radio", { name: "Buy shares" }));
    expect(form).toHaveTextContent("You buy shares with BTC: a taker locks its shares first");
    await user.type(within(form).getByTestId("make-min"), "0.01");
    await user.type(within(form).getByTestId("make-max"), "2");
    await user.type(within(form).getByTestId("make-price"), "38100");
    await user.click(within(form).getByTestId("make-submit"));
    expect(t.callsOf("makeoffer")).toEqual([["btc", "0.01", "2", 38_100, 86_400]]);
    const error = await within(form).findByTestId("make-error");
    expect(error).toHaveTextContent("Offer not made");
    expect(error).toHaveTextContent("The smallest swap of this offer: 381 units on the mainchain is below the minimum swap of 20000");
    // Changing the form clears it.
    await user.clear(within(form).getByTestId("make-min"));
    expect(within(form).queryByTestId("make-error")).toBeNull();
  });

  it("warns when a new offer is larger than the wallet can lock", async () => {
    const user = userEvent.setup();
    renderScreen(<Swaps />, makeFake());
    const form = await screen.findByTestId("make-form");
    await user.type(within(form).getByTestId("make-min"), "1");
    await user.type(within(form).getByTestId("make-max"), "400");
    await user.type(within(form).getByTestId("make-price"), "40000");
    expect(form).toHaveTextContent("You have 312.5 shares spendable: your node refuses a take it cannot lock.");
  });

  it("follows each swap: its steps, both locks, the blocks to each deadline, its log", async () => {
    Object.defineProperty(window, "isSecureContext", { value: true, configurable: true });
    const user = userEvent.setup();
    renderScreen(<Swaps />, makeFake());
    await screen.findAllByTestId("swap-item");

    // Buying shares, both locks in place.
    const buying = item(swapId(2));
    expect(within(buying).getByTestId("swap-title")).toHaveTextContent("Buy 5 shares for 0.00205 BTC");
    expect(within(buying).getByTestId("swap-phase")).toHaveTextContent("locked");
    expect(buying).toHaveTextContent("you took an offer · 41,000 sat/share");
    const steps = within(within(buying).getByTestId("swap-stepper")).getAllByRole("listitem");
    expect(steps.map((s) => [s.textContent, s.dataset.state])).toEqual([
      ["Agreed", "done"],
      ["Locked", "current"],
      ["Claiming", "todo"],
      ["Completed", "todo"],
    ]);
    expect(steps[1]).toHaveAttribute("aria-current", "step");
    expect(within(buying).getByTestId("deadline-refund")).toHaveTextContent("opens in 131 Bitcoin blocks");
    const claim = within(buying).getByTestId("deadline-claim");
    expect(claim).toHaveTextContent("Last safe claim");
    expect(claim).toHaveTextContent("in 1,180 sharechain blocks");
    expect(claim).not.toHaveClass("deadline-low");
    expect(within(buying).getByTestId("my-lock")).toHaveTextContent("b100b100…b100b100");
    expect(within(buying).getByTestId("their-lock")).toHaveTextContent("seen");
    await user.click(within(buying).getByRole("button", { name: `Copy your lock's txid: ${"b100".repeat(16)}` }));
    expect(await navigator.clipboard.readText()).toBe("b100".repeat(16));
    await user.click(within(buying).getByText("Events (3)"));
    expect(within(buying).getByTestId("swap-events")).toHaveTextContent(`the counterparty's lock seen: ${"c100".repeat(16)}:0`);

    // Selling shares with 3 Bitcoin blocks left to claim: highlighted, and the node's last problem.
    const urgent = item(swapId(3));
    expect(urgent).toHaveClass("swap-urgent");
    const low = within(urgent).getByTestId("deadline-claim");
    expect(low).toHaveClass("deadline-low");
    expect(low).toHaveTextContent("in 3 Bitcoin blocks");
    expect(within(low).getByText("soon")).toBeInTheDocument();
    expect(within(urgent).getByTestId("deadline-refund")).toHaveTextContent("opens in 2,512 sharechain blocks");
    expect(within(urgent).getByTestId("swap-error")).toHaveTextContent(
      "Your node keeps trying: Bitcoin chain source: connection refused (os error 111)",
    );

    // Our own offer, taken: claiming the taker's lock before its refund opens.
    const maker = item(swapId(4));
    expect(maker).toHaveTextContent("your offer, taken");
    expect(within(maker).getByTestId("deadline-claim")).toHaveTextContent("Claim before");
    expect(within(maker).getByTestId("deadline-claim")).toHaveTextContent("in 97 Bitcoin blocks");
    expect(within(maker).getByTestId("spend")).toHaveTextContent("a300a300…a300a300");
    expect(within(maker).getByText("Your claim")).toBeInTheDocument();

    // The maker never locked: the refund path.
    const refunding = item(swapId(5));
    expect(within(within(refunding).getByTestId("swap-stepper")).getAllByRole("listitem").map((s) => s.textContent)).toEqual([
      "Agreed",
      "Locked",
      "Refunding",
      "Refunded",
    ]);
    expect(within(refunding).getByTestId("deadline-refund")).toHaveTextContent("open now (2 sharechain blocks past its timeout)");
    expect(within(refunding).queryByTestId("deadline-claim")).toBeNull();
    expect(within(refunding).getByTestId("their-lock")).toHaveTextContent("never seen");
    expect(within(refunding).getByTestId("swap-locks")).toHaveTextContent(/Your refund\s*[0-9a-f]{8}…/);

    // Finished swaps, apart: no deadlines, no actions.
    const finished = screen.getByTestId("swaps-finished");
    expect(within(finished).getByText("Finished (3)")).toBeInTheDocument();
    const done = within(finished).getAllByTestId("swap-item");
    expect(done.map((d) => within(d).getByTestId("swap-phase").textContent)).toEqual(["completed", "refunded", "cancelled"]);
    expect(within(done[0]!).getAllByRole("listitem").filter((s) => s.dataset.state === "done")).toHaveLength(4);
    expect(within(finished).queryByTestId("swap-deadlines")).toBeNull();
    expect(within(finished).queryByRole("button", { name: /Cancel|refund file/ })).toBeNull();
    // Just agreed: nothing locked, no deadline yet.
    expect(within(item(swapId(1))).queryByTestId("swap-deadlines")).toBeNull();
    expect(within(item(swapId(1))).getByTestId("my-lock")).toHaveTextContent("not yet: your node locks first");
  });

  it("cancels a swap while nothing is locked, and shows a refusal", async () => {
    const user = userEvent.setup();
    const { t } = node();
    renderScreen(<Swaps />, t);
    await screen.findAllByTestId("swap-item");
    // Only the swap with nothing locked can be cancelled.
    expect(screen.getAllByTestId("swap-cancel")).toHaveLength(1);
    expect(within(item(swapId(2))).queryByTestId("swap-cancel")).toBeNull();
    await user.click(within(item(swapId(1))).getByTestId("swap-cancel"));
    expect(t.callsOf("cancelswap")).toEqual([[swapId(1)]]);
    await waitFor(() => expect(within(screen.getByTestId("swaps-finished")).getByText("Finished (4)")).toBeInTheDocument());
    expect(within(item(swapId(1))).getByTestId("swap-phase")).toHaveTextContent("cancelled");
    expect(screen.queryByTestId("swap-cancel")).toBeNull();
  });

  it("says why a cancel was refused", async () => {
    const user = userEvent.setup();
    const { t } = node();
    t.fail("cancelswap", -8, "a lock exists: the swap completes or refunds at its timeout");
    renderScreen(<Swaps />, t);
    await user.click(await screen.findByTestId("swap-cancel"));
    const error = await within(item(swapId(1))).findByTestId("swap-action-error");
    expect(error).toHaveTextContent("Not cancelled");
    expect(error).toHaveTextContent("A lock exists: the swap completes or refunds at its timeout");
  });

  it("exports the refund file of a swap with a lock of ours", async () => {
    const user = userEvent.setup();
    const { t } = node();
    renderScreen(<Swaps />, t);
    await screen.findAllByTestId("swap-item");
    // Every unfinished swap with a lock of ours, not the one still agreed.
    expect(screen.getAllByTestId("swap-refund-file")).toHaveLength(4);
    expect(within(item(swapId(1))).queryByTestId("swap-refund-file")).toBeNull();

    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => (blobs.push(b), "blob:refund"));
    URL.revokeObjectURL = vi.fn();
    let downloaded = "";
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      downloaded = this.download;
    });
    await user.click(within(item(swapId(3))).getByTestId("swap-refund-file"));
    await waitFor(() => expect(downloaded).toBe(`refund-${swapId(3)}.json`));
    expect(t.callsOf("getrefundfile")).toEqual([[swapId(3)]]);
    expect(blobs[0]!.type).toBe("application/json");
    const file = JSON.parse(await blobs[0]!.text()) as Record<string, unknown>;
    expect(file).toMatchObject({ format: "p2share-refund/1", swap: swapId(3), chain: "sharechain", outpoint: `${"d100".repeat(16)}:0`, value: 1_250_000_000 });

    t.fail("getrefundfile", -8, "nothing of ours is locked in this swap");
    await user.click(within(item(swapId(2))).getByTestId("swap-refund-file"));
    expect(await within(item(swapId(2))).findByTestId("swap-action-error")).toHaveTextContent("No refund file");
  });

  it("when locked: says which swaps wait, cannot sign, and unlocks", async () => {
    const user = userEvent.setup();
    const { t } = node({ unlocked: false });
    renderScreen(<Swaps />, t);
    const banner = await screen.findByTestId("unlock-form");
    expect(banner).toHaveTextContent("The wallet is locked. Swaps need it unlocked");
    expect(await screen.findByTestId("locked-active")).toHaveTextContent("4 swaps in progress wait for it");
    expect(screen.getByTestId("wallet-lock-state")).toHaveTextContent("wallet locked");
    expect(await screen.findByTestId("make-submit")).toBeDisabled();
    expect(screen.getByTestId("make-form")).toHaveTextContent("The wallet is locked: unlock it (top of the screen) to sign an offer.");
    const take = await openTake(user, "41,000");
    await user.type(within(take).getByTestId("take-amount"), "2");
    await user.click(within(take).getByTestId("take-review"));
    expect(within(take).getByTestId("take-approve")).toBeDisabled();
    expect(within(take).getByTestId("take-approval")).toHaveTextContent("The wallet is locked: unlock it (top of the screen) to approve.");

    await user.type(screen.getByTestId("unlock-passphrase"), "nope");
    await user.click(screen.getByTestId("unlock"));
    expect(await screen.findByTestId("unlock-error")).toHaveTextContent("Still locked");
    await user.clear(screen.getByTestId("unlock-passphrase"));
    await user.type(screen.getByTestId("unlock-passphrase"), PASSPHRASE);
    await user.click(screen.getByTestId("unlock"));
    await waitFor(() => expect(screen.queryByTestId("unlock-form")).toBeNull());
    expect(t.callsOf("unlockwallet")).toEqual([["nope"], [PASSPHRASE]]);
    expect(within(take).getByTestId("take-approve")).toBeEnabled();
    expect(screen.getByTestId("make-submit")).toBeEnabled();
  });

  it("without a wallet, leads to the wallet step", async () => {
    const { t } = node({ exists: false, unlocked: false });
    renderScreen(<Swaps />, t);
    expect(await screen.findByTestId("no-wallet")).toHaveTextContent("This node has no wallet yet.");
    expect(screen.getByTestId("setup-wallet-link")).toHaveAttribute("href", "#/setup/wallet");
    expect(t.callsOf("listoffers")).toHaveLength(0);
  });

  it("says so when the node has no swap methods", async () => {
    renderScreen(<Swaps />, makeFake().fail("listoffers", -32601, "method not found: listoffers").fail("listswaps", -32601, "method not found: listswaps"));
    const alerts = await screen.findAllByRole("alert");
    expect(alerts.map((a) => a.textContent)).toEqual(
      expect.arrayContaining([expect.stringContaining("The order book is not available on this node"), expect.stringContaining("The swap list is not available on this node")]),
    );
  });

  it("reads the book and the swaps again on new blocks of either chain and every 3 s", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const { t } = node();
      renderScreen(<Swaps />, t);
      await screen.findAllByTestId("swap-item");
      const n = t.callsOf("listswaps").length;
      const o = t.callsOf("listoffers").length;
      act(() => t.emit({ type: "tip", hash: "ab".repeat(32), height: 121, reorg_depth: 0 }));
      await waitFor(() => expect(t.callsOf("listswaps").length).toBe(n + 1));
      expect(t.callsOf("listoffers").length).toBe(o + 1);
      act(() => t.emit({ type: "bitcoin_block", ...foundByBitaxe }));
      await waitFor(() => expect(t.callsOf("listswaps").length).toBe(n + 2));
      act(() => vi.advanceTimersByTime(3_000));
      await waitFor(() => expect(t.callsOf("listswaps").length).toBe(n + 3));
      expect(t.callsOf("listoffers").length).toBe(o + 3);
    } finally {
      vi.useRealTimers();
    }
  });
});
