import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WalletSetup } from "./WalletSetup";
import { renderScreen } from "../test/render";
import { makeFake, PASSPHRASE, SEED_WORDS, walletNode } from "../test/fixtures";
import { FakeTransport } from "../api/fake";

/** A node without a wallet yet. */
function fresh() {
  const wallet = walletNode({ exists: false, unlocked: false });
  return { wallet, t: wallet.install(makeFake()) };
}

/** The positions (from 1) the confirm step asks for. */
function asked(): number[] {
  return screen.getAllByText(/^Word #\d+$/).map((el) => Number(el.textContent!.slice(6)));
}

afterEach(() => {
  vi.restoreAllMocks();
  localStorage.clear();
  sessionStorage.clear();
});

describe("WalletSetup", () => {
  it("creates a wallet: passphrase twice, the 24 words once, three of them asked back", async () => {
    const log = vi.spyOn(console, "log");
    const { wallet, t } = fresh();
    const onDone = vi.fn();
    const user = userEvent.setup();
    renderScreen(<WalletSetup onDone={onDone} />, t);

    // The passphrase must be typed twice, alike; a hint says how strong it is.
    const create = screen.getByTestId("create-wallet");
    expect(create).toBeDisabled();
    await user.type(screen.getByTestId("passphrase"), "abc123");
    expect(screen.getByTestId("strength")).toHaveTextContent("weak");
    await user.clear(screen.getByTestId("passphrase"));
    await user.type(screen.getByTestId("passphrase"), PASSPHRASE);
    expect(screen.getByTestId("strength")).toHaveTextContent("strong");
    await user.type(screen.getByTestId("passphrase-repeat"), "correct horse");
    expect(screen.getByText("The two passphrases differ.")).toBeInTheDocument();
    expect(create).toBeDisabled();
    await user.type(screen.getByTestId("passphrase-repeat"), " battery staple");
    expect(screen.queryByText("The two passphrases differ.")).toBeNull();
    await user.click(create);
    expect(t.callsOf("createwallet")).toEqual([[PASSPHRASE]]);

    // The words, numbered, with the warning; on only once written down.
    const grid = await screen.findByTestId("seed-words");
    const items = within(grid).getAllByRole("listitem");
    expect(items).toHaveLength(24);
    expect(items[0]).toHaveTextContent("1void");
    expect(items[23]).toHaveTextContent("24unfold");
    expect(screen.getByText(/Write these 24 words on paper, in order/)).toBeInTheDocument();
    expect(screen.getByText(/p2share will not show them again/)).toBeInTheDocument();
    // The passphrase is gone from the form's state with the form.
    expect(screen.queryByTestId("passphrase")).toBeNull();
    const next = screen.getByTestId("words-next");
    expect(next).toBeDisabled();
    await user.click(screen.getByRole("checkbox", { name: /I wrote the 24 words down/ }));
    await user.click(next);

    // Three distinct positions; a wrong word fails and says which.
    const positions = asked();
    expect(positions).toHaveLength(3);
    expect(new Set(positions).size).toBe(3);
    const inputs = screen.getAllByRole("textbox");
    await user.type(inputs[0]!, SEED_WORDS[positions[0]! - 1]!);
    await user.type(inputs[1]!, "zebra");
    await user.type(inputs[2]!, SEED_WORDS[positions[2]! - 1]!.toUpperCase());
    await user.click(screen.getByTestId("confirm-words"));
    expect(screen.getByTestId("confirm-error")).toHaveTextContent(`Word #${positions[1]} does not match`);
    expect(onDone).not.toHaveBeenCalled();

    // Right (case and spaces do not matter): done, and the words are gone.
    await user.clear(inputs[1]!);
    await user.type(inputs[1]!, ` ${SEED_WORDS[positions[1]! - 1]!} `);
    await user.click(screen.getByTestId("confirm-words"));
    expect(onDone).toHaveBeenCalledWith(null);
    expect(wallet.info).toMatchObject({ exists: true, unlocked: true });
    expect(screen.queryByTestId("seed-words")).toBeNull();
    expect(screen.queryByTestId("confirm-step")).toBeNull();
    for (const w of ["effort", "warrior", "unfold"]) expect(document.body.textContent).not.toContain(w);
    // Nothing kept in storage, nothing logged.
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(log).not.toHaveBeenCalled();
  });

  it("shows the words again from the check, and asks new ones", async () => {
    const { t } = fresh();
    const user = userEvent.setup();
    renderScreen(<WalletSetup onDone={() => {}} />, t);
    await user.type(screen.getByTestId("passphrase"), "pass");
    await user.type(screen.getByTestId("passphrase-repeat"), "pass");
    await user.click(screen.getByTestId("create-wallet"));
    await user.click(await screen.findByRole("checkbox", { name: /I wrote/ }));
    await user.click(screen.getByTestId("words-next"));
    await user.click(screen.getByRole("button", { name: "Show the words again" }));
    expect(screen.getByTestId("seed-words")).toBeInTheDocument();
    await user.click(screen.getByTestId("words-next"));
    expect(asked()).toHaveLength(3);
  });

  it("shows the node's refusal of a create inline", async () => {
    const t = makeFake().set("getwalletinfo", { ...(await makeFake().call("getwalletinfo")), exists: true });
    const user = userEvent.setup();
    renderScreen(<WalletSetup onDone={() => {}} />, t);
    await user.type(screen.getByTestId("passphrase"), "pass");
    await user.type(screen.getByTestId("passphrase-repeat"), "pass");
    await user.click(screen.getByTestId("create-wallet"));
    const error = await screen.findByTestId("wallet-setup-error");
    expect(error).toHaveTextContent("The wallet was not created");
    expect(error).toHaveTextContent(/A wallet already exists in/);
    expect(screen.queryByTestId("seed-words")).toBeNull();
  });

  it("restores from words: counts them, and names a bad word inline", async () => {
    const { wallet, t } = fresh();
    const onDone = vi.fn();
    const user = userEvent.setup();
    renderScreen(<WalletSetup onDone={onDone} />, t);
    await user.click(screen.getByRole("radio", { name: /Restore a wallet/ }));
    const words = screen.getByTestId("restore-words");
    const restore = screen.getByTestId("restore-wallet");

    await user.type(words, "void come effort");
    expect(screen.getByTestId("word-count")).toHaveTextContent("3 words: a seed has 12, 15, 18, 21 or 24.");
    await user.type(screen.getByTestId("passphrase"), "new pass");
    await user.type(screen.getByTestId("passphrase-repeat"), "new pass");
    expect(restore).toBeDisabled();

    // A typo in word 8: the node names it and its position.
    const typo = [...SEED_WORDS];
    typo[7] = "heavvy";
    await user.clear(words);
    await user.click(words);
    await user.paste(typo.join(" "));
    expect(screen.getByTestId("word-count")).toHaveTextContent("24 words");
    await user.click(restore);
    const error = await screen.findByTestId("wallet-setup-error");
    expect(error).toHaveTextContent("The wallet was not restored");
    expect(error).toHaveTextContent('Word 8 ("heavvy") is not in the BIP-39 English word list');
    expect(onDone).not.toHaveBeenCalled();

    // Pasted as a numbered list, in capitals: normalised before it is sent.
    await user.clear(words);
    await user.click(words);
    await user.paste(SEED_WORDS.map((w, i) => `${i + 1}. ${w.toUpperCase()}`).join("\n"));
    expect(screen.queryByTestId("wallet-setup-error")).toBeNull();
    await user.click(restore);
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
    expect(t.callsOf("restorewallet")[1]).toEqual([SEED_WORDS.join(" "), "new pass"]);
    expect(onDone.mock.calls[0]![0]).toMatchObject({ exists: true });
    expect(wallet.info.exists).toBe(true);
    expect(localStorage.length).toBe(0);
  });

  it("reports a node that cannot be reached, not a refusal", async () => {
    const t = new FakeTransport().fail("createwallet", -100, "connection refused");
    const user = userEvent.setup();
    renderScreen(<WalletSetup onDone={() => {}} />, t);
    await user.type(screen.getByTestId("passphrase"), "p");
    await user.type(screen.getByTestId("passphrase-repeat"), "p");
    await user.click(screen.getByTestId("create-wallet"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the node");
  });
});
