// Paying from the wallet: shares (`sendshares`), BTC (`sendbtc`), or an unsigned BTC payment for
// another signer (`createpsbt`). Edit → check what will be sent → send; the node's refusal shows
// where the user is, in its own words; the txid (or the PSBT) when it is done.
import { useId, useRef, useState, type FormEvent } from "react";
import type { WalletBalances } from "../bindings";
import { useTransport } from "../api/hooks";
import { checkAddress, type AddressCheck } from "../lib/address";
import { parseAmount, unitsToDecimal } from "../lib/amount";
import { formatFeeRate, formatShares, formatSats, formatUnits8 } from "../format";
import { CopyButton } from "./CopyButton";
import { Note, Refusal } from "./Status";
import { Tip } from "./Tip";

export type SendKind = "shares" | "btc" | "psbt";

type Preset = "economy" | "normal" | "priority" | "custom";

interface FeeChoice {
  label: string;
  /** Per vbyte, in the chain's unit (share units or sats); `null`: the node's default. */
  rate: number | null;
  /** What the rate is when `rate` is null (for estimates). */
  shown: number;
  note: string;
}

/** Share fees are units per 1,000 vbytes on the wire; the mempool's floor is 1 unit/vB. */
const SHARE_FEES: Record<Exclude<Preset, "custom">, FeeChoice> = {
  economy: { label: "Economy", rate: null, shown: 1, note: "the mempool's floor" },
  normal: { label: "Normal", rate: 2, shown: 2, note: "" },
  priority: { label: "Priority", rate: 5, shown: 5, note: "" },
};
const BTC_FEES: Record<Exclude<Preset, "custom">, FeeChoice> = {
  economy: { label: "Economy", rate: 1, shown: 1, note: "may wait hours when blocks are full" },
  normal: { label: "Normal", rate: 2, shown: 2, note: "the node's default" },
  priority: { label: "Priority", rate: 10, shown: 10, note: "" },
};

/**
 * vbytes of a key-path taproot payment with `inputs` inputs and `outputs` outputs (10.5 + 57.5
 * per input + 43 per output, rounded up): the estimates' size; other input kinds are smaller.
 */
export function paymentVsize(inputs: number, outputs: number): number {
  return Math.ceil(10.5 + 57.5 * Math.max(1, inputs) + 43 * outputs);
}

/** A typical payment: one input, the recipient and change. */
const TYPICAL_VSIZE = paymentVsize(1, 2);

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** A PSBT (base64) as the binary file BIP-174 describes, to download. */
function downloadPsbt(base64: string) {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `p2share-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.psbt`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface SendFormProps {
  kind: SendKind;
  balances: WalletBalances;
  unlocked: boolean;
  /** The network's bech32 prefix and whether it is mainnet (for base58 addresses). */
  hrp: string;
  mainnet: boolean;
  /** The BTC tip, to tell mature coinbases from immature ones for "Max". */
  btcHeight: number | null;
  /** A payment went out: balances and history change. */
  onSent?: () => void;
}

export function SendForm({ kind, balances, unlocked, hrp, mainnet, btcHeight, onSent }: SendFormProps) {
  const transport = useTransport();
  const id = useId();
  const shares = kind === "shares";
  const fees = shares ? SHARE_FEES : BTC_FEES;
  const unit = shares ? "units" : "sat";
  const money = (u: number) => (shares ? formatShares(u) : formatSats(u));
  const available = shares ? balances.shares.spendable : balances.btc.confirmed;

  const [address, setAddress] = useState("");
  const [amount, setAmount] = useState("");
  const [preset, setPreset] = useState<Preset>("normal");
  const [custom, setCustom] = useState("");
  const [touched, setTouched] = useState({ address: false, amount: false });
  const [step, setStep] = useState<"edit" | "confirm" | "done">("edit");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [maxNote, setMaxNote] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const addressRef = useRef<HTMLInputElement>(null);
  const amountRef = useRef<HTMLInputElement>(null);

  const addr: AddressCheck = checkAddress(address, hrp, mainnet);
  const parsed = parseAmount(amount);
  const tooMuch = parsed.ok && parsed.units > available;
  const amountError = !parsed.ok ? parsed.reason : tooMuch ? `More than the ${money(available)} ${shares ? "spendable" : "confirmed"}.` : null;

  // The fee rate per vbyte; null: the node's default (shares: the mempool's floor).
  const customRate = Number(custom);
  // Shares: units per vbyte with up to 3 decimals (the node takes units per 1,000 vbytes); BTC: whole sat/vB.
  const customOk =
    custom.trim() !== "" &&
    Number.isFinite(customRate) &&
    customRate >= 1 &&
    (shares ? Math.abs(Math.round(customRate * 1000) - customRate * 1000) < 1e-6 : Number.isInteger(customRate));
  const rate: number | null = preset === "custom" ? (customOk ? customRate : null) : fees[preset].rate;
  const rateShown = preset === "custom" ? customRate : fees[preset].shown;
  const feeError = preset === "custom" && !customOk ? (shares ? "At least 1 unit/vB, up to 3 decimals." : "A whole number of sat/vB, at least 1.") : null;
  const typicalFee = Math.ceil(rateShown * TYPICAL_VSIZE);

  const valid = addr.ok && parsed.ok && !tooMuch && !feeError;

  const max = async () => {
    setError(null);
    const perVb = Number.isFinite(rateShown) && rateShown > 0 ? rateShown : 1;
    let inputs = 1;
    try {
      if (shares) {
        inputs = (await transport.call("listwalletunspent")).filter((c) => c.mature).length;
      } else {
        // Every confirmed receipt may be a coin to spend; coinbases only once 100 deep.
        const txs = await transport.call("listbtctransactions");
        inputs = txs.filter((t) => t.height !== null && t.received > 0 && (!t.coinbase || (btcHeight !== null && btcHeight - t.height + 1 >= 100))).length;
      }
    } catch {
      // Without the coins, reserve the fee of a handful of inputs.
      inputs = 5;
    }
    const reserve = Math.ceil(perVb * paymentVsize(inputs, 2));
    const units = Math.max(0, available - reserve);
    setAmount(units > 0 ? unitsToDecimal(units) : "0");
    setTouched((t) => ({ ...t, amount: true }));
    setMaxNote(`Keeps ${money(reserve)} back for the fee (${inputs} ${inputs === 1 ? "coin" : "coins"} at ${formatFeeRate(perVb, unit)}).`);
  };

  const review = (e: FormEvent) => {
    e.preventDefault();
    setTouched({ address: true, amount: true });
    if (!addr.ok) return addressRef.current?.focus();
    if (!valid) return amountRef.current?.focus();
    setError(null);
    setStep("confirm");
  };

  const send = async () => {
    if (!valid || !parsed.ok) return;
    setBusy(true);
    setError(null);
    const to = address.trim();
    const feeParam = rate === null ? undefined : shares ? Math.round(rate * 1000) : rate;
    try {
      if (kind === "shares") setResult((await transport.call("sendshares", [to, parsed.text, feeParam])).txid);
      else if (kind === "btc") setResult((await transport.call("sendbtc", [to, parsed.text, feeParam])).txid);
      else setResult((await transport.call("createpsbt", [to, parsed.text, feeParam])).psbt);
      setStep("done");
      if (kind !== "psbt") onSent?.();
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };

  const reset = () => {
    setAddress("");
    setAmount("");
    setTouched({ address: false, amount: false });
    setResult(null);
    setError(null);
    setMaxNote(null);
    setStep("edit");
  };

  const what = shares ? "shares" : "BTC";
  const verb = kind === "psbt" ? "Create the PSBT" : `Send ${parsed.ok ? money(parsed.units) : what}`;

  if (step === "done" && result) {
    if (kind === "psbt") {
      return (
        <div data-testid="psbt-result">
          <Note tone="good">
            <strong>Unsigned payment of {parsed.ok ? money(parsed.units) : ""} created.</strong> Sign it with your hardware
            wallet or another signer (Sparrow, Electrum, Bitcoin Core), then broadcast it from there. Nothing was sent.
          </Note>
          <label className="field">
            <span>PSBT (base64, BIP-174)</span>
            <textarea className="mono psbt" rows={5} readOnly value={result} data-testid="psbt" onFocus={(e) => e.currentTarget.select()} />
          </label>
          <div className="form-actions">
            <CopyButton text={result} name="Copy the PSBT" />
            <button type="button" className="btn btn-small" onClick={() => downloadPsbt(result)}>
              Download .psbt
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={reset}>
              New payment
            </button>
          </div>
        </div>
      );
    }
    return (
      <div data-testid="send-done">
        <Note tone="good">
          <strong>Sent {parsed.ok ? money(parsed.units) : what}</strong> to <span className="mono wrap">{address.trim()}</span>.
          It shows in the history below as unconfirmed until {shares ? "a share" : "a block"} confirms it.
        </Note>
        <div className="copy-row txid-row">
          <span className="muted small">Transaction</span>
          <code className="wrap" data-testid="sent-txid">
            {result}
          </code>
          <CopyButton text={result} name="Copy the transaction id" />
        </div>
        <div className="form-actions">
          <button type="button" className="btn" onClick={reset}>
            New payment
          </button>
        </div>
      </div>
    );
  }

  if (step === "confirm" && parsed.ok && addr.ok) {
    const left = available - parsed.units - typicalFee;
    return (
      <div className="send-confirm" data-testid="send-confirm">
        <h3>{kind === "psbt" ? "Check the payment to sign elsewhere" : "Check before you send"}</h3>
        <dl className="kv summary">
          <dt>Pay</dt>
          <dd className="summary-amount" data-testid="confirm-amount">
            {money(parsed.units)}
          </dd>
          <dt>To</dt>
          <dd>
            <span className="mono wrap" data-testid="confirm-address">
              {address.trim()}
            </span>
            <div className="muted small">{addr.kind.charAt(0).toUpperCase() + addr.kind.slice(1)} address</div>
          </dd>
          <dt>Fee rate</dt>
          <dd>
            {rate === null ? `the mempool's floor (at least ${formatFeeRate(rateShown, unit)})` : formatFeeRate(rateShown, unit)}
            <div className="muted small">
              ≈ {money(typicalFee)} for a typical payment; the exact fee depends on the coins spent.
            </div>
          </dd>
          <dt>Left after</dt>
          <dd>
            ≈ {money(Math.max(0, left))} {shares ? "spendable" : "confirmed"}
          </dd>
          {kind !== "psbt" && (
            <>
              <dt>Replaceable</dt>
              <dd className="small">Signals RBF: it can be replaced with a higher fee until it confirms.</dd>
            </>
          )}
        </dl>
        {kind !== "psbt" && !unlocked && (
          <Note tone="warn">The wallet is locked: unlock it (top of the screen) to send.</Note>
        )}
        {error && <Refusal error={error} title={kind === "psbt" ? "No PSBT was made" : "Not sent"} testId="send-error" />}
        <div className="form-actions">
          <button type="button" className="btn btn-primary" onClick={send} disabled={busy || (kind !== "psbt" && !unlocked)} data-testid="send-now">
            {busy ? (kind === "psbt" ? "Creating…" : "Sending…") : verb}
          </button>
          <button type="button" className="btn" onClick={() => setStep("edit")} disabled={busy}>
            Back
          </button>
        </div>
      </div>
    );
  }

  const showAddr = touched.address || address.trim().length > 0;
  const showAmount = (touched.amount || amount.trim().length > 0) && amountError !== null;
  return (
    <form className="send-form" onSubmit={review} noValidate data-testid={`send-form-${kind}`}>
      {kind !== "psbt" && !unlocked && (
        <Note tone="warn">The wallet is locked. Fill in the payment, then unlock the wallet above to send it.</Note>
      )}
      {kind === "psbt" && (
        <p className="muted small">
          An unsigned payment from this wallet's coins, for a hardware wallet or another signer that holds the same seed.
          The wallet need not be unlocked.
        </p>
      )}
      <label className="field">
        <span>Pay to</span>
        <input
          ref={addressRef}
          className="mono"
          value={address}
          onChange={(e) => setAddress(e.target.value)}
          onBlur={() => setTouched((t) => ({ ...t, address: true }))}
          placeholder={`${hrp}1…`}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          aria-invalid={showAddr && !addr.ok ? true : undefined}
          aria-describedby={`${id}-addr`}
          data-testid="send-address"
        />
      </label>
      <p id={`${id}-addr`} className={`field-note ${showAddr ? (addr.ok ? "field-ok" : "field-error") : "muted"}`} data-testid="address-feedback">
        {!showAddr
          ? `An address of this network (${hrp}1…).`
          : addr.ok
            ? `✓ ${addr.kind.charAt(0).toUpperCase()}${addr.kind.slice(1)} address`
            : `This address ${addr.reason}.`}
      </p>

      <div className="field">
        <label htmlFor={`${id}-amount`}>
          <span className="field-label">Amount</span>
        </label>
        <div className="amount-row">
          <input
            id={`${id}-amount`}
            ref={amountRef}
            className="mono"
            inputMode="decimal"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              setMaxNote(null);
            }}
            onBlur={() => setTouched((t) => ({ ...t, amount: true }))}
            placeholder="0.00"
            autoComplete="off"
            aria-invalid={showAmount ? true : undefined}
            aria-describedby={`${id}-amount-note`}
            data-testid="send-amount"
          />
          <span className="amount-unit">{what}</span>
          <button type="button" className="btn btn-small" onClick={() => void max()} disabled={available <= 0} data-testid="send-max">
            Max
          </button>
        </div>
      </div>
      <p id={`${id}-amount-note`} className={`field-note ${showAmount ? "field-error" : "muted"}`} data-testid="amount-feedback">
        {showAmount ? amountError : maxNote ?? `${money(available)} ${shares ? "spendable" : "confirmed"}.`}
      </p>

      <fieldset className="fee-choice">
        <legend>
          Fee{" "}
          <Tip label="About the fee">
            {shares
              ? "Share transactions pay share units per virtual byte to the share that confirms them. Economy pays the mempool's floor, enough while shares are not full."
              : "BTC fees are in sat/vB. The node does not estimate fees: when Bitcoin blocks are full, look at the mempool and pick a custom rate."}
          </Tip>
        </legend>
        <div className="segmented" role="radiogroup" aria-label="Fee">
          {(["economy", "normal", "priority", "custom"] as const).map((p) => (
            <button key={p} type="button" role="radio" aria-checked={preset === p} onClick={() => setPreset(p)} data-testid={`fee-${p}`}>
              {p === "custom" ? "Custom" : `${fees[p].label} · ${fees[p].shown}`}
            </button>
          ))}
        </div>
        {preset === "custom" ? (
          <label className="field field-inline fee-custom">
            <input
              type="number"
              min={1}
              step={shares ? 0.001 : 1}
              value={custom}
              onChange={(e) => setCustom(e.target.value)}
              aria-invalid={feeError ? true : undefined}
              aria-label={`Custom fee rate in ${unit}/vB`}
              data-testid="fee-custom"
            />
            <span>{unit}/vB</span>
          </label>
        ) : null}
        <p className={`field-note ${feeError ? "field-error" : "muted"}`}>
          {feeError ??
            `${formatFeeRate(rateShown, unit)}${preset !== "custom" && fees[preset].note ? ` (${fees[preset].note})` : ""} · ≈ ${money(typicalFee)} for a typical payment.`}
        </p>
      </fieldset>

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" data-testid="send-review">
          Review
        </button>
        {parsed.ok && addr.ok && !amountError && (
          <span className="muted small">
            {formatUnits8(parsed.units)} {what} to {address.trim().slice(0, 10)}…
          </span>
        )}
      </div>
    </form>
  );
}
