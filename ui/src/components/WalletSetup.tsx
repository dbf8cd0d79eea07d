// Creating or restoring the node's wallet: one BIP-39 seed, encrypted on the node with a
// passphrase. Create shows the 24 words once and asks three of them back; restore takes the words
// and a new passphrase. The words live in this component's state only while the step needs them:
// never in storage, never logged, cleared before `onDone`.
import { useState, type FormEvent, type ReactNode } from "react";
import type { WalletInfo } from "../bindings";
import { useTransport } from "../api/hooks";
import { mnemonicWords, pickPositions, WORD_COUNTS } from "../lib/mnemonic";
import { passphraseStrength } from "../lib/passphrase";
import { Card } from "./Card";
import { Note, Refusal } from "./Status";

type Mode = "create" | "restore";
type CreateStep = "passphrase" | "words" | "confirm";

/** How many words the confirm step asks back. */
const CHECKS = 3;

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Passphrase twice, with a strength hint; `valid` once both match and are non-empty. */
function PassphraseFields({
  value,
  repeat,
  onChange,
  onRepeat,
  label,
  help,
}: {
  value: string;
  repeat: string;
  onChange: (v: string) => void;
  onRepeat: (v: string) => void;
  label: string;
  help: ReactNode;
}) {
  const strength = passphraseStrength(value);
  const mismatch = repeat.length > 0 && repeat !== value;
  return (
    <>
      <label className="field">
        <span>{label}</span>
        <input
          type="password"
          autoComplete="new-password"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-describedby="passphrase-help"
          data-testid="passphrase"
        />
      </label>
      <div className="strength" aria-live="polite" data-testid="strength">
        <span className={`strength-meter s${strength.score}`} aria-hidden="true">
          <span />
          <span />
          <span />
          <span />
        </span>
        <span className="small">
          {strength.score === 0 ? (
            <span className="muted">Strength</span>
          ) : (
            <>
              <strong className={`strength-${strength.label}`}>{strength.label}</strong>
              <span className="muted">
                {strength.score < 3
                  ? " — four or more random words, or 12+ mixed characters, are much harder to guess."
                  : ` — about ${strength.bits} bits.`}
              </span>
            </>
          )}
        </span>
      </div>
      <p className="muted small" id="passphrase-help">
        {help}
      </p>
      <label className="field">
        <span>Passphrase again</span>
        <input
          type="password"
          autoComplete="new-password"
          value={repeat}
          onChange={(e) => onRepeat(e.target.value)}
          aria-invalid={mismatch || undefined}
          aria-describedby={mismatch ? "passphrase-mismatch" : undefined}
          data-testid="passphrase-repeat"
        />
      </label>
      {mismatch && (
        <p className="field-error" id="passphrase-mismatch">
          The two passphrases differ.
        </p>
      )}
    </>
  );
}

/**
 * The wallet step. `onDone` gets the wallet's info after a restore (and `null` after a create,
 * whose info the caller reads again).
 */
export function WalletSetup({ onDone }: { onDone: (info: WalletInfo | null) => void }) {
  const transport = useTransport();
  const [mode, setMode] = useState<Mode>("create");
  const [step, setStep] = useState<CreateStep>("passphrase");
  const [pass, setPass] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  // Create: the words, shown once, and the positions asked back.
  const [words, setWords] = useState<string[] | null>(null);
  const [wroteDown, setWroteDown] = useState(false);
  const [checks, setChecks] = useState<number[]>([]);
  const [answers, setAnswers] = useState<string[]>([]);
  const [checkError, setCheckError] = useState<string | null>(null);
  // Restore: the words as typed.
  const [text, setText] = useState("");

  const passOk = pass.length > 0 && pass === repeat;
  const typed = mnemonicWords(text);
  const countOk = (WORD_COUNTS as readonly number[]).includes(typed.length);

  const pick = (m: Mode) => {
    if (busy || step !== "passphrase") return;
    setMode(m);
    setError(null);
  };

  const forget = () => {
    setWords(null);
    setAnswers([]);
    setChecks([]);
    setText("");
    setPass("");
    setRepeat("");
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!passOk || busy) return;
    setBusy(true);
    setError(null);
    try {
      const created = await transport.call("createwallet", [pass]);
      setPass("");
      setRepeat("");
      setWords(created.words);
      setWroteDown(false);
      setStep("words");
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };

  const toConfirm = () => {
    if (!words) return;
    const at = pickPositions(words.length, CHECKS);
    setChecks(at);
    setAnswers(at.map(() => ""));
    setCheckError(null);
    setStep("confirm");
  };

  const confirm = (e: FormEvent) => {
    e.preventDefault();
    if (!words) return;
    const wrong = checks.filter((at, i) => (answers[i] ?? "").trim().toLowerCase() !== words[at]);
    if (wrong.length > 0) {
      setCheckError(
        wrong.length === 1
          ? `Word #${wrong[0]! + 1} does not match. Check what you wrote down.`
          : `Words ${wrong.map((w) => `#${w + 1}`).join(", ")} do not match. Check what you wrote down.`,
      );
      return;
    }
    forget();
    onDone(null);
  };

  const restore = async (e: FormEvent) => {
    e.preventDefault();
    if (!passOk || !countOk || busy) return;
    setBusy(true);
    setError(null);
    try {
      const info = await transport.call("restorewallet", [typed.join(" "), pass]);
      forget();
      onDone(info);
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };

  const choosing = step === "passphrase";
  const title = step === "words" ? "Your recovery words" : step === "confirm" ? "Check your words" : "Create or restore";
  return (
    <Card title={title}>
      <div className="wallet-setup" data-testid="wallet-setup">
        {choosing && (
          <div className="choices choices-2" role="radiogroup" aria-label="New or existing wallet">
            <button type="button" role="radio" aria-checked={mode === "create"} className={`choice ${mode === "create" ? "choice-on" : ""}`} onClick={() => pick("create")}>
              <strong>Create a new wallet</strong>
              <span>A new seed of 24 words. You write them down once; they restore the wallet anywhere.</span>
            </button>
            <button type="button" role="radio" aria-checked={mode === "restore"} className={`choice ${mode === "restore" ? "choice-on" : ""}`} onClick={() => pick("restore")}>
              <strong>Restore a wallet</strong>
              <span>You have the 12 to 24 words of a p2share wallet: its shares and BTC come back.</span>
            </button>
          </div>
        )}

        {mode === "create" && step === "passphrase" && (
          <form onSubmit={create} className="form" data-testid="create-form">
            <PassphraseFields
              value={pass}
              repeat={repeat}
              onChange={setPass}
              onRepeat={setRepeat}
              label="Passphrase"
              help="It encrypts the wallet on this computer: you type it to unlock the wallet and to send. It is not part of the 24 words and cannot be recovered; the words restore the wallet without it."
            />
            {error && <Refusal error={error} title="The wallet was not created" testId="wallet-setup-error" />}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={!passOk || busy} data-testid="create-wallet">
                {busy ? "Creating…" : "Create the wallet"}
              </button>
            </div>
          </form>
        )}

        {mode === "create" && step === "words" && words && (
          <div data-testid="words-step">
            <Note tone="warn">
              <strong>Write these {words.length} words on paper, in order, and keep it safe.</strong> Anyone who has them
              can spend everything in this wallet; without them a lost computer loses it. Do not type them into anything
              else, and do not take a photo. p2share will not show them again.
            </Note>
            <ol className="word-grid" translate="no" data-testid="seed-words">
              {words.map((w, i) => (
                <li key={i}>
                  <span className="word-n">{i + 1}</span>
                  <span className="word">{w}</span>
                </li>
              ))}
            </ol>
            <label className="check">
              <input type="checkbox" checked={wroteDown} onChange={(e) => setWroteDown(e.target.checked)} />
              <span>
                <strong>I wrote the {words.length} words down, in order</strong>
              </span>
            </label>
            <div className="form-actions">
              <button type="button" className="btn btn-primary" disabled={!wroteDown} onClick={toConfirm} data-testid="words-next">
                Next: check them
              </button>
            </div>
          </div>
        )}

        {mode === "create" && step === "confirm" && words && (
          <form onSubmit={confirm} data-testid="confirm-step" autoComplete="off">
            <p>Type these words from your paper, to be sure it is right.</p>
            <div className="word-checks">
              {checks.map((at, i) => (
                <label className="field" key={at}>
                  <span>Word #{at + 1}</span>
                  <input
                    className="mono"
                    value={answers[i] ?? ""}
                    autoComplete="off"
                    autoCapitalize="none"
                    spellCheck={false}
                    onChange={(e) => {
                      const next = [...answers];
                      next[i] = e.target.value;
                      setAnswers(next);
                      setCheckError(null);
                    }}
                  />
                </label>
              ))}
            </div>
            {checkError && (
              <p className="field-error" role="alert" data-testid="confirm-error">
                {checkError}
              </p>
            )}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={answers.some((a) => !a.trim())} data-testid="confirm-words">
                Confirm
              </button>
              <button type="button" className="btn" onClick={() => setStep("words")}>
                Show the words again
              </button>
            </div>
          </form>
        )}

        {mode === "restore" && (
          <form onSubmit={restore} className="form" data-testid="restore-form" autoComplete="off">
            <label className="field">
              <span>Your words</span>
              <textarea
                rows={4}
                className="mono"
                value={text}
                onChange={(e) => {
                  setText(e.target.value);
                  setError(null);
                }}
                autoComplete="off"
                autoCapitalize="none"
                spellCheck={false}
                aria-invalid={error ? true : undefined}
                placeholder="word1 word2 word3 …"
                data-testid="restore-words"
              />
            </label>
            {error && <Refusal error={error} title="The wallet was not restored" testId="wallet-setup-error" />}
            <p className={`small ${text && !countOk ? "field-error" : "muted"}`} data-testid="word-count">
              {typed.length === 0
                ? "12, 15, 18, 21 or 24 words, separated by spaces or new lines."
                : countOk
                  ? `${typed.length} words`
                  : `${typed.length} ${typed.length === 1 ? "word" : "words"}: a seed has 12, 15, 18, 21 or 24.`}
            </p>
            <PassphraseFields
              value={pass}
              repeat={repeat}
              onChange={setPass}
              onRepeat={setRepeat}
              label="New passphrase"
              help="It encrypts the restored wallet on this computer (it need not be the one you used before). A passphrase that was part of the seed itself (a BIP-39 “25th word”) is not supported."
            />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={!passOk || !countOk || busy} data-testid="restore-wallet">
                {busy ? "Restoring…" : "Restore the wallet"}
              </button>
              <span className="muted small">The wallet then scans both chains for its coins.</span>
            </div>
          </form>
        )}
      </div>
    </Card>
  );
}
