// Atomic swaps of shares for BTC: the order book (offers gossiped by makers, best price first),
// taking one (amount checked against the offer and the wallet, what is paid and received, the
// timelocks in words, and an approval before anything is locked), making one, and each swap's
// progress with the blocks left to each deadline, its transactions, its log, cancel while nothing
// is locked and the refund file. The node drives every swap; the wallet must be unlocked to sign.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import type { OfferEntry, SwapEntry, WalletBalances, WalletInfo } from "../bindings";
import { useRpc, useTransport } from "../api/hooks";
import type { EventType, MakerSells, RefundFile } from "../api/transport";
import { Card, ScreenHeader } from "../components/Card";
import { CopyButton } from "../components/CopyButton";
import { Note, Refusal, Rpc } from "../components/Status";
import { Tip } from "../components/Tip";
import { NoWalletCard } from "../components/NoWalletCard";
import { UnlockCard } from "../components/UnlockCard";
import { parseAmount } from "../lib/amount";
import { formatCount, formatIn, formatShares, formatSats, formatTime, formatUnits8, shortHash } from "../format";

/** Swaps move with the blocks of both chains… */
const REFRESH: EventType[] = ["tip", "bitcoin_block"];
/** …and with what no event announces (offers arriving by gossip, the Bitcoin node's blocks). */
export const POLL_MS = 3_000;
/** A deadline this many blocks away (or fewer) is shown as close. */
export const LOW_BLOCKS = 6;
/** Offer lifetimes to choose from (the node takes up to a week). */
const LIFETIMES: { secs: number; label: string }[] = [
  { secs: 3_600, label: "1 hour" },
  { secs: 6 * 3_600, label: "6 hours" },
  { secs: 86_400, label: "1 day" },
  { secs: 3 * 86_400, label: "3 days" },
  { secs: 7 * 86_400, label: "7 days" },
];

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Unix seconds now, once a second (countdowns). */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now() / 1000), 1_000);
    return () => clearInterval(id);
  }, []);
  return now;
}

const chainName = (c: string) => (c === "bitcoin" ? "Bitcoin" : "sharechain");
const otherChain = (c: string) => (c === "bitcoin" ? "sharechain" : "bitcoin");
const blocks = (n: number, chain: string) => `${formatCount(n)} ${chainName(chain)} ${Math.abs(n) === 1 ? "block" : "blocks"}`;
const perShare = (price: number) => `${formatCount(price)} sat/share`;
const btcPerShare = (price: number) => `${formatUnits8(price)} BTC/share`;

/** sats for `units` shares at `price` sats per share, rounded down as the node does. */
export function satsFor(units: number, price: number): number {
  return Math.floor((units * price) / 1e8);
}

/** A JSON object as a file download. */
function downloadJson(name: string, data: RefundFile) {
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export default function Swaps() {
  const info = useRpc("getwalletinfo", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  const w = info.data;
  return (
    <div className="screen" data-testid="swaps">
      <ScreenHeader title="Swaps">
        {w?.exists && (
          <span className={`pill ${w.unlocked ? "pill-good" : "pill-warn"}`} data-testid="wallet-lock-state">
            wallet {w.unlocked ? "unlocked" : "locked"}
          </span>
        )}
      </ScreenHeader>
      <Rpc state={info} what="The wallet">
        {(w) => (w.exists ? <SwapsView w={w} onInfo={info.setData} /> : <NoWallet />)}
      </Rpc>
    </div>
  );
}

function NoWallet() {
  return (
    <NoWalletCard>
      <p>
        Swaps trade shares for BTC between two wallets, without anyone in between: each side locks what it sells, and
        each claims what it bought. This node has no wallet yet.
      </p>
    </NoWalletCard>
  );
}

function SwapsView({ w, onInfo }: { w: WalletInfo; onInfo: (w: WalletInfo) => void }) {
  const book = useRpc("listoffers", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  const list = useRpc("listswaps", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  const balances = useRpc("getwalletbalances", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  const [taking, setTaking] = useState<OfferEntry | null>(null);
  const now = useNow();
  const active = (list.data ?? []).filter((s) => !s.finished && s.phase !== "agreed").length;
  const changed = () => {
    list.refetch();
    book.refetch();
    balances.refetch();
  };
  return (
    <div className="grid">
      {!w.unlocked && (
        <UnlockCard onInfo={onInfo}>
          The wallet is locked. Swaps need it unlocked: making or taking an offer signs, and your node signs each lock,
          claim and refund as a swap goes on.
          {active > 0 && (
            <strong data-testid="locked-active">
              {" "}
              {active === 1 ? "1 swap in progress waits" : `${formatCount(active)} swaps in progress wait`} for it: a claim
              left too late can end in a refund.
            </strong>
          )}
        </UnlockCard>
      )}
      {!w.btc_available && (
        <div className="span-12">
          <Note tone="warn">
            <span data-testid="btc-off">
              No Bitcoin node is configured: a swap locks and claims on Bitcoin too, so this node cannot swap until it has one.
            </span>
          </Note>
        </div>
      )}
      <Rpc state={book} what="The order book">
        {(offers) => (
          <>
            <BookCard side="buy" offers={offers} now={now} taking={taking} onTake={setTaking} onChanged={book.refetch} />
            <BookCard side="sell" offers={offers} now={now} taking={taking} onTake={setTaking} onChanged={book.refetch} />
          </>
        )}
      </Rpc>
      {taking && (
        <TakeCard
          key={taking.id}
          offer={taking}
          balances={balances.data}
          unlocked={w.unlocked}
          now={now}
          onClose={() => setTaking(null)}
          onTaken={changed}
        />
      )}
      <Card
        title={
          <>
            My swaps{" "}
            <Tip label="About swaps">
              Your node drives each swap on every block of either chain, whether or not this page is open: it locks,
              checks the other side's lock, claims, and refunds at the timeout. Keep it running, with the wallet
              unlocked, until each swap ends.
            </Tip>
          </>
        }
        className="span-8 align-start"
      >
        <Rpc state={list} what="The swap list">
          {(swaps) => <SwapList swaps={swaps} onChanged={changed} />}
        </Rpc>
      </Card>
      <MakeOfferCard balances={balances.data} unlocked={w.unlocked} onMade={book.refetch} />
    </div>
  );
}

// ---- the order book

type Side = "buy" | "sell";

/** "buy": offers whose maker sells shares (the cheapest first); "sell": makers buying shares (the highest first). */
export function bookSide(offers: OfferEntry[], side: Side): OfferEntry[] {
  const sells = side === "buy" ? "shares" : "btc";
  return offers
    .filter((o) => o.maker_sells === sells)
    .sort((a, b) => (side === "buy" ? a.price - b.price : b.price - a.price) || a.expires - b.expires);
}

function BookCard({
  side,
  offers,
  now,
  taking,
  onTake,
  onChanged,
}: {
  side: Side;
  offers: OfferEntry[];
  now: number;
  taking: OfferEntry | null;
  onTake: (o: OfferEntry) => void;
  onChanged: () => void;
}) {
  const rows = bookSide(offers, side).filter((o) => o.expires > now);
  const buy = side === "buy";
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const transport = useTransport();
  const cancel = async (o: OfferEntry) => {
    setBusy(o.id);
    setError(null);
    try {
      await transport.call("canceloffer", [o.id]);
      onChanged();
    } catch (e) {
      setError(asError(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Card
      title={
        <>
          {buy ? "Buy shares" : "Sell shares"}{" "}
          <Tip label={buy ? "About buying shares" : "About selling shares"}>
            {buy
              ? "Makers who sell shares for BTC, the cheapest first. Taking one, you pay BTC and receive shares."
              : "Makers who buy shares with BTC, the highest price first. Taking one, you pay shares and receive BTC."}
          </Tip>
        </>
      }
      className="span-6"
      actions={
        <span className="muted small">
          {formatCount(rows.length)} {rows.length === 1 ? "offer" : "offers"}
        </span>
      }
    >
      {error && <Refusal error={error} title="The offer was not withdrawn" testId="cancel-offer-error" />}
      {rows.length === 0 ? (
        <p className="muted" data-testid={`book-${side}-empty`}>
          {buy ? "No one sells shares right now." : "No one buys shares right now."} Make an offer below: it reaches every
          node of the network.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table small book" data-testid={`book-${side}`}>
            <thead>
              <tr>
                <th scope="col">Price per share</th>
                <th scope="col">Shares</th>
                <th scope="col">
                  <span className="th-tip">
                    Expires · locks{" "}
                    <Tip label="About the locks">
                      When the offer expires, then how long each side's lock lasts, in blocks of the chain it is on:
                      yours (the taker's, on {buy ? "Bitcoin" : "the sharechain"}) first, then the maker's (on{" "}
                      {buy ? "the sharechain" : "Bitcoin"}). You lock first and for longer; the maker's lock is shorter,
                      so that you claim it while yours still holds.
                    </Tip>
                  </span>
                </th>
                <th scope="col">
                  <span className="offscreen">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((o, i) => (
                <tr
                  key={o.id}
                  data-testid="offer-row"
                  data-offer={o.id}
                  className={`${o.mine ? "row-mine" : ""} ${taking?.id === o.id ? "row-selected" : ""}`}
                >
                  <td>
                    <div className="nowrap" data-testid="offer-price">
                      <strong>{formatCount(o.price)}</strong> sat
                      {i === 0 && <span className="pill pill-accent">best</span>}
                    </div>
                    <div className="muted nowrap">{formatUnits8(o.price)} BTC</div>
                  </td>
                  <td className="nowrap" data-testid="offer-range">
                    {formatUnits8(o.min_shares)}–{formatUnits8(o.max_shares)}
                  </td>
                  <td className="nowrap">
                    <div title={formatTime(o.expires)} data-testid="offer-expires">
                      {formatIn(o.expires - now)}
                    </div>
                    <div
                      className="muted"
                      data-testid="offer-locks"
                      title={`You lock on ${buy ? "Bitcoin" : "the sharechain"} for ${formatCount(o.taker_lock_blocks)} blocks; the maker locks on ${buy ? "the sharechain" : "Bitcoin"} for ${formatCount(o.maker_lock_blocks)} blocks.`}
                    >
                      you {formatCount(o.taker_lock_blocks)} · maker {formatCount(o.maker_lock_blocks)}
                    </div>
                  </td>
                  <td className="num">
                    {o.mine ? (
                      <span className="book-mine">
                        <span className="pill pill-good">yours</span>
                        <button
                          type="button"
                          className="btn btn-small btn-danger"
                          disabled={busy === o.id}
                          onClick={() => void cancel(o)}
                          aria-label={`Cancel your offer at ${perShare(o.price)}`}
                          data-testid="offer-cancel"
                        >
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="btn btn-small btn-primary"
                        onClick={() => onTake(o)}
                        aria-label={`Take the offer at ${perShare(o.price)}`}
                        data-testid="offer-take"
                      >
                        Take
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

// ---- taking an offer

function TakeCard({
  offer,
  balances,
  unlocked,
  now,
  onClose,
  onTaken,
}: {
  offer: OfferEntry;
  balances: WalletBalances | undefined;
  unlocked: boolean;
  now: number;
  onClose: () => void;
  onTaken: () => void;
}) {
  const transport = useTransport();
  const buying = offer.maker_sells === "shares";
  const [amount, setAmount] = useState("");
  const [touched, setTouched] = useState(false);
  const [step, setStep] = useState<"edit" | "approve" | "done">("edit");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [swap, setSwap] = useState<SwapEntry | null>(null);
  const card = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    card.current?.scrollIntoView?.({ behavior: "smooth", block: "nearest" });
    input.current?.focus({ preventScroll: true });
  }, []);

  const parsed = parseAmount(amount);
  const units = parsed.ok ? parsed.units : 0;
  const sats = satsFor(units, offer.price);
  // What the lock takes: shares (selling) or sats (buying); the node wants more than that on hand
  // (the lock's fee comes on top).
  const have = balances ? (buying ? balances.btc.confirmed : balances.shares.spendable) : null;
  const need = buying ? sats : units;
  let problem: string | null = null;
  if (!parsed.ok) problem = parsed.reason;
  else if (units < offer.min_shares) problem = `At least ${formatShares(offer.min_shares)} for this offer.`;
  else if (units > offer.max_shares) problem = `At most ${formatShares(offer.max_shares)} for this offer.`;
  else if (buying && sats === 0) problem = "Too little to pay anything at this price.";
  else if (have !== null && need >= have) {
    problem = buying
      ? `You would pay ${formatSats(sats)}: more than the ${formatSats(have)} confirmed (the lock's fee comes on top).`
      : `More than the ${formatShares(have)} spendable (the lock's fee comes on top).`;
  }
  const valid = problem === null;
  const pay = buying ? formatSats(sats) : formatShares(units);
  const receive = buying ? formatShares(units) : formatSats(sats);
  const myChain = buying ? "bitcoin" : "sharechain";
  const theirChain = otherChain(myChain);
  const expired = offer.expires <= now;

  const review = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!valid) return input.current?.focus();
    setError(null);
    setStep("approve");
  };
  const approve = async () => {
    if (!parsed.ok) return;
    setBusy(true);
    setError(null);
    try {
      setSwap(await transport.call("takeoffer", [offer.id, parsed.text]));
      setStep("done");
      onTaken();
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };

  const head = `${buying ? "Buy shares" : "Sell shares"} at ${perShare(offer.price)}`;
  const timelocks = (
    <ul className="plain take-terms" data-testid="take-terms">
      <li>
        <strong>You lock first:</strong> {parsed.ok && valid ? pay : buying ? "your BTC" : "your shares"} go into a lock on{" "}
        {chainName(myChain)}. If the maker never locks its side, you can refund them after{" "}
        <strong>{blocks(offer.taker_lock_blocks, myChain)}</strong>.
      </li>
      <li>
        Once your lock is final, the maker locks {parsed.ok && valid ? receive : buying ? "the shares" : "the BTC"} on the{" "}
        {chainName(theirChain)} for {blocks(offer.maker_lock_blocks, theirChain)}. Your node checks that lock and claims it,
        a little before it ends; the claim reveals the secret with which the maker then takes yours.
      </li>
      <li className="muted">
        Keep this node running with the wallet unlocked until the swap completes: it claims, or refunds, for you.
      </li>
    </ul>
  );

  return (
    <Card
      title={`Take: ${head}`}
      className="span-12 take-card"
      actions={
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose} data-testid="take-close">
          Close
        </button>
      }
    >
      <div ref={card} data-testid="take-card">
        {step === "done" && swap ? (
          <div data-testid="take-done">
            <Note tone="good">
              <strong>Swap started.</strong> Your node locks {pay} on {chainName(myChain)} now; follow it under My swaps (id{" "}
              <span className="mono">{shortHash(swap.id, 4)}</span>).
            </Note>
            <div className="form-actions">
              <button type="button" className="btn" onClick={onClose}>
                Close
              </button>
            </div>
          </div>
        ) : step === "approve" && parsed.ok && valid ? (
          <div className="send-confirm take-approval" data-testid="take-approval">
            <h3>Approve this swap</h3>
            <p className="small">Nothing is locked yet. Approving locks your side now, and a lock cannot be called back:</p>
            <dl className="kv summary">
              <dt>You lock</dt>
              <dd className="summary-amount" data-testid="approve-pay">
                {pay}
              </dd>
              <dt>You receive</dt>
              <dd className="summary-amount" data-testid="approve-receive">
                {receive}
              </dd>
              <dt>Price</dt>
              <dd>
                {perShare(offer.price)} <span className="muted">({btcPerShare(offer.price)})</span>
              </dd>
              <dt>Maker</dt>
              <dd className="mono" title={offer.maker_peer}>
                {shortHash(offer.maker_peer, 8)}
              </dd>
              <dt>If it fails</dt>
              <dd>
                The lock is yours again after {blocks(offer.taker_lock_blocks, myChain)}: your node refunds it then.
              </dd>
            </dl>
            {timelocks}
            {!unlocked && <Note tone="warn">The wallet is locked: unlock it (top of the screen) to approve.</Note>}
            {expired && <Note tone="warn">This offer has expired.</Note>}
            {error && <Refusal error={error} title="Not taken: nothing was locked" testId="take-error" />}
            <div className="form-actions">
              <button
                type="button"
                className="btn btn-primary"
                onClick={() => void approve()}
                disabled={busy || !unlocked || expired}
                data-testid="take-approve"
              >
                {busy ? "Asking the maker…" : `Approve and lock ${pay}`}
              </button>
              <button type="button" className="btn" onClick={() => setStep("edit")} disabled={busy}>
                Back
              </button>
            </div>
          </div>
        ) : (
          <form className="take-form" onSubmit={review} noValidate data-testid="take-form">
            <div className="take-grid">
              <div>
                <div className="field">
                  <label htmlFor={`take-${offer.id}`}>
                    <span className="field-label">Amount</span>
                  </label>
                  <div className="amount-row">
                    <input
                      id={`take-${offer.id}`}
                      ref={input}
                      className="mono"
                      inputMode="decimal"
                      value={amount}
                      onChange={(e) => setAmount(e.target.value)}
                      onBlur={() => setTouched(true)}
                      placeholder={formatUnits8(offer.min_shares)}
                      autoComplete="off"
                      aria-invalid={touched && !valid ? true : undefined}
                      aria-describedby={`take-${offer.id}-note`}
                      data-testid="take-amount"
                    />
                    <span className="amount-unit">shares</span>
                  </div>
                </div>
                <p
                  id={`take-${offer.id}-note`}
                  className={`field-note ${touched && !valid ? "field-error" : "muted"}`}
                  data-testid="take-feedback"
                >
                  {touched && problem
                    ? problem
                    : `${formatUnits8(offer.min_shares)} to ${formatShares(offer.max_shares)}${
                        have === null ? "" : `; ${buying ? `${formatSats(have)} confirmed` : `${formatShares(have)} spendable`}`
                      }.`}
                </p>
                <dl className="kv take-summary" data-testid="take-summary">
                  <dt>You pay</dt>
                  <dd className="mono">{parsed.ok && valid ? pay : "—"}</dd>
                  <dt>You receive</dt>
                  <dd className="mono">{parsed.ok && valid ? receive : "—"}</dd>
                  <dt>Price</dt>
                  <dd>
                    {perShare(offer.price)} <span className="muted">· {btcPerShare(offer.price)}</span>
                  </dd>
                  <dt>Offer expires</dt>
                  <dd>{formatIn(offer.expires - now)}</dd>
                </dl>
                <div className="form-actions">
                  <button type="submit" className="btn btn-primary" data-testid="take-review">
                    Review
                  </button>
                  <span className="muted small">Nothing is locked before you approve.</span>
                </div>
              </div>
              <div>
                <div className="connect-label">The timelocks</div>
                {timelocks}
              </div>
            </div>
          </form>
        )}
      </div>
    </Card>
  );
}

// ---- making an offer

function MakeOfferCard({
  balances,
  unlocked,
  onMade,
}: {
  balances: WalletBalances | undefined;
  unlocked: boolean;
  onMade: () => void;
}) {
  const transport = useTransport();
  const [sells, setSells] = useState<MakerSells>("shares");
  const [min, setMin] = useState("");
  const [max, setMax] = useState("");
  const [price, setPrice] = useState("");
  const [ttl, setTtl] = useState(86_400);
  const [touched, setTouched] = useState({ min: false, max: false, price: false });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [made, setMade] = useState<OfferEntry | null>(null);

  // A change of the form leaves the last answer behind.
  const edit = <T,>(set: (v: T) => void, v: T) => {
    set(v);
    setError(null);
    setMade(null);
  };
  const lo = parseAmount(min);
  const hi = parseAmount(max);
  const priceOk = /^\d+$/.test(price.trim()) && Number(price) > 0 && Number.isSafeInteger(Number(price));
  const p = priceOk ? Number(price) : 0;
  const minError = lo.ok ? null : lo.reason;
  const maxError = !hi.ok ? hi.reason : lo.ok && hi.units < lo.units ? "Below the minimum." : null;
  const priceError = priceOk ? null : "A whole number of sats per share, above zero.";
  const valid = !minError && !maxError && !priceError;

  const selling = sells === "shares";
  const maxUnits = hi.ok ? hi.units : 0;
  const short =
    valid && balances
      ? selling
        ? maxUnits >= balances.shares.spendable
          ? `You have ${formatShares(balances.shares.spendable)} spendable: your node refuses a take it cannot lock.`
          : null
        : satsFor(maxUnits, p) >= balances.btc.confirmed
          ? `You have ${formatSats(balances.btc.confirmed)} confirmed: your node refuses a take it cannot lock.`
          : null
      : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched({ min: true, max: true, price: true });
    setMade(null);
    if (!valid || !lo.ok || !hi.ok) return;
    setBusy(true);
    setError(null);
    try {
      const o = await transport.call("makeoffer", [sells, lo.text, hi.text, p, ttl]);
      setMade(o);
      setMin("");
      setMax("");
      setPrice("");
      setTouched({ min: false, max: false, price: false });
      onMade();
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };

  const note = (show: boolean, err: string | null, fallback: ReactNode, testId: string) => (
    <p className={`field-note ${show && err ? "field-error" : "muted"}`} data-testid={testId}>
      {show && err ? err : fallback}
    </p>
  );

  return (
    <Card title="Make an offer" className="span-4 align-start">
      <form className="make-form" onSubmit={submit} noValidate data-testid="make-form">
        <div className="segmented make-side" role="radiogroup" aria-label="What you offer">
          <button type="button" role="radio" aria-checked={selling} onClick={() => edit(setSells, "shares")} data-testid="make-sell">
            Sell shares
          </button>
          <button type="button" role="radio" aria-checked={!selling} onClick={() => edit(setSells, "btc")} data-testid="make-buy">
            Buy shares
          </button>
        </div>
        <p className="muted small">
          {selling
            ? "You sell shares for BTC: a taker locks its BTC first, then your node locks the shares."
            : "You buy shares with BTC: a taker locks its shares first, then your node locks the BTC."}
        </p>
        <div className="field-row">
          <label className="field">
            <span>Min (shares)</span>
            <input
              className="mono"
              inputMode="decimal"
              value={min}
              onChange={(e) => edit(setMin, e.target.value)}
              onBlur={() => setTouched((t) => ({ ...t, min: true }))}
              aria-invalid={touched.min && minError ? true : undefined}
              data-testid="make-min"
            />
          </label>
          <label className="field">
            <span>Max (shares)</span>
            <input
              className="mono"
              inputMode="decimal"
              value={max}
              onChange={(e) => edit(setMax, e.target.value)}
              onBlur={() => setTouched((t) => ({ ...t, max: true }))}
              aria-invalid={touched.max && maxError ? true : undefined}
              data-testid="make-max"
            />
          </label>
        </div>
        {note(touched.min || touched.max, minError ?? maxError, "Per swap: a taker picks an amount in between.", "make-range-note")}
        <label className="field">
          <span>Price (sat per share)</span>
          <input
            className="mono"
            inputMode="numeric"
            value={price}
            onChange={(e) => edit(setPrice, e.target.value)}
            onBlur={() => setTouched((t) => ({ ...t, price: true }))}
            aria-invalid={touched.price && priceError ? true : undefined}
            data-testid="make-price"
          />
        </label>
        {note(touched.price, priceError, priceOk ? `${btcPerShare(p)}.` : "Sats for one share.", "make-price-note")}
        <label className="field">
          <span>Lifetime</span>
          <select value={ttl} onChange={(e) => edit(setTtl, Number(e.target.value))} data-testid="make-ttl">
            {LIFETIMES.map((l) => (
              <option key={l.secs} value={l.secs}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        {valid && lo.ok && hi.ok && (
          <p className="make-summary" data-testid="make-summary">
            {selling ? "Sells" : "Buys"} {formatUnits8(lo.units)}–{formatShares(hi.units)} per swap, for{" "}
            {formatUnits8(satsFor(lo.units, p))}–{formatSats(satsFor(hi.units, p))}.
          </p>
        )}
        {short && <Note tone="warn">{short}</Note>}
        {!unlocked && <Note tone="warn">The wallet is locked: unlock it (top of the screen) to sign an offer.</Note>}
        {error && <Refusal error={error} title="Offer not made" testId="make-error" />}
        {made && (
          <Note tone="good">
            <span data-testid="make-done">
              Offer published at {perShare(made.price)}: it is in the book above, marked yours, and reaches the other
              nodes within a minute.
            </span>
          </Note>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || !unlocked} data-testid="make-submit">
            {busy ? "Publishing…" : "Publish the offer"}
          </button>
        </div>
      </form>
    </Card>
  );
}

// ---- my swaps

function SwapList({ swaps, onChanged }: { swaps: SwapEntry[]; onChanged: () => void }) {
  if (swaps.length === 0) {
    return (
      <p className="muted" data-testid="swaps-empty">
        No swaps yet. Take an offer above, or make one: a swap starts when someone takes it.
      </p>
    );
  }
  const open = swaps.filter((s) => !s.finished);
  const done = swaps.filter((s) => s.finished);
  return (
    <>
      {open.length === 0 && <p className="muted">No swap in progress.</p>}
      <ul className="plain swap-list">
        {open.map((s) => (
          <SwapItem key={s.id} s={s} onChanged={onChanged} />
        ))}
      </ul>
      {done.length > 0 && (
        <details className="swaps-finished" data-testid="swaps-finished">
          <summary>Finished ({formatCount(done.length)})</summary>
          <ul className="plain swap-list">
            {done.map((s) => (
              <SwapItem key={s.id} s={s} onChanged={onChanged} />
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

const STEP_LABEL: Record<string, string> = {
  agreed: "Agreed",
  locked: "Locked",
  claiming: "Claiming",
  completed: "Completed",
  refunding: "Refunding",
  refunded: "Refunded",
  cancelled: "Cancelled",
};

/** The steps of a swap's path, as far as its phase shows it. */
export function swapSteps(phase: string): string[] {
  if (phase === "refunding" || phase === "refunded") return ["agreed", "locked", "refunding", "refunded"];
  if (phase === "cancelled") return ["agreed", "cancelled"];
  return ["agreed", "locked", "claiming", "completed"];
}

function Stepper({ phase }: { phase: string }) {
  const steps = swapSteps(phase);
  const at = Math.max(0, steps.indexOf(phase));
  const final = phase === "completed" || phase === "refunded" || phase === "cancelled";
  const tone = phase === "completed" ? "good" : phase === "refunding" || phase === "refunded" ? "warn" : phase === "cancelled" ? "muted" : "";
  return (
    <ol className={`stepper ${tone ? `stepper-${tone}` : ""}`} aria-label="Progress" data-testid="swap-stepper">
      {steps.map((step, i) => {
        const state = i < at || (final && i === at) ? "done" : i === at ? "current" : "todo";
        return (
          <li key={step} data-state={state} aria-current={i === at ? "step" : undefined}>
            <span>{STEP_LABEL[step] ?? step}</span>
          </li>
        );
      })}
    </ol>
  );
}

function Tx({ txid, label }: { txid: string; label: string }) {
  return (
    <span className="copy-row tx">
      <code title={txid}>{shortHash(txid, 8)}</code>
      <CopyButton text={txid} label={`Copy ${label}`} />
    </span>
  );
}

const PHASE_PILL: Record<string, string> = {
  completed: "pill-good",
  refunding: "pill-warn",
  refunded: "pill-warn",
  cancelled: "",
};

function SwapItem({ s, onChanged }: { s: SwapEntry; onChanged: () => void }) {
  const transport = useTransport();
  const [busy, setBusy] = useState<"cancel" | "refund" | null>(null);
  const [error, setError] = useState<{ title: string; error: Error } | null>(null);
  const taker = s.role === "taker";
  const them = taker ? "the maker" : "the taker";
  const theirChain = otherChain(s.my_chain);
  const title = s.selling_shares
    ? `Sell ${formatShares(s.shares)} for ${formatSats(s.sats)}`
    : `Buy ${formatShares(s.shares)} for ${formatSats(s.sats)}`;
  const price = s.shares > 0 ? Math.round((s.sats * 1e8) / s.shares) : 0;
  const showDeadlines = !s.finished && (s.my_lock !== null || s.their_lock !== null);
  const claimMatters = s.phase === "locked" || s.phase === "claiming";
  const claimLow = claimMatters && s.blocks_to_claim_deadline <= LOW_BLOCKS;

  const cancel = async () => {
    setBusy("cancel");
    setError(null);
    try {
      await transport.call("cancelswap", [s.id]);
      onChanged();
    } catch (e) {
      setError({ title: "Not cancelled", error: asError(e) });
    } finally {
      setBusy(null);
    }
  };
  const refundFile = async () => {
    setBusy("refund");
    setError(null);
    try {
      downloadJson(`refund-${s.id}.json`, await transport.call("getrefundfile", [s.id]));
    } catch (e) {
      setError({ title: "No refund file", error: asError(e) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <li className={`swap-item ${claimLow ? "swap-urgent" : ""}`} data-testid="swap-item" data-swap={s.id}>
      <div className="swap-head">
        <strong data-testid="swap-title">{title}</strong>
        <span className={`pill ${PHASE_PILL[s.phase] ?? "pill-accent"}`} data-testid="swap-phase">
          {STEP_LABEL[s.phase]?.toLowerCase() ?? s.phase}
        </span>
        <span className="muted small swap-meta">
          {taker ? "you took an offer" : "your offer, taken"} · {formatCount(price)} sat/share · with{" "}
          <span className="mono" title={s.peer}>
            {shortHash(s.peer, 6)}
          </span>{" "}
          · {formatTime(s.created)}
        </span>
      </div>
      <Stepper phase={s.phase} />
      {showDeadlines && (
        <div className="deadlines" data-testid="swap-deadlines">
          <div className="deadline" data-testid="deadline-refund">
            <span className="deadline-label">
              Your refund{" "}
              <Tip label="About the refund">
                Your lock on the {chainName(s.my_chain)} becomes yours alone again at its timeout: if the swap has not
                completed by then, your node takes it back.
              </Tip>
            </span>
            <span className="deadline-value">
              {s.blocks_to_refund > 0 ? (
                <>
                  opens in <strong>{blocks(s.blocks_to_refund, s.my_chain)}</strong>
                </>
              ) : (
                <>open now ({blocks(-s.blocks_to_refund, s.my_chain)} past its timeout)</>
              )}
            </span>
          </div>
          {claimMatters && (
            <div className={`deadline ${claimLow ? "deadline-low" : ""}`} data-testid="deadline-claim">
              <span className="deadline-label">
                {taker ? "Last safe claim" : "Claim before"}{" "}
                <Tip label="About the claim deadline">
                  {taker
                    ? `Your node claims the maker's lock on the ${chainName(theirChain)} before it can refund; after this point only your own refund is left.`
                    : `The taker may refund its lock on the ${chainName(theirChain)} from then on: your node claims it before, with the secret the taker's claim reveals.`}
                </Tip>
              </span>
              <span className="deadline-value">
                {s.blocks_to_claim_deadline > 0 ? (
                  <>
                    in <strong>{blocks(s.blocks_to_claim_deadline, theirChain)}</strong>
                    {claimLow && <span className="pill pill-bad">soon</span>}
                  </>
                ) : (
                  <strong>passed: your node waits for the refund</strong>
                )}
              </span>
            </div>
          )}
        </div>
      )}
      <dl className="kv swap-txs" data-testid="swap-locks">
        <dt>Your lock ({chainName(s.my_chain)})</dt>
        <dd data-testid="my-lock">
          {s.my_lock ? (
            <Tx txid={s.my_lock} label="your lock's txid" />
          ) : (
            <span className="muted">
              {s.phase === "cancelled"
                ? "none"
                : taker
                  ? "not yet: your node locks first"
                  : "not yet: after the taker's lock is final"}
            </span>
          )}
        </dd>
        <dt>
          {taker ? "Maker's" : "Taker's"} lock ({chainName(theirChain)})
        </dt>
        <dd data-testid="their-lock">
          {s.their_lock ? (
            <>
              <span className="pill pill-good">seen</span> <Tx txid={s.their_lock} label={`${them}'s lock's txid`} />
            </>
          ) : (
            <span className="muted">
              {s.finished || s.phase === "refunding"
                ? `never seen`
                : s.my_lock || !taker
                  ? `waiting for ${them}'s lock`
                  : "after yours"}
            </span>
          )}
        </dd>
        {s.spend && (
          <>
            <dt>{s.phase === "refunding" || s.phase === "refunded" ? "Your refund" : "Your claim"}</dt>
            <dd data-testid="spend">
              <Tx txid={s.spend} label="the spend's txid" />
            </dd>
          </>
        )}
      </dl>
      {s.error && (
        <div className="note note-warn small" data-testid="swap-error">
          <strong>Your node keeps trying:</strong> {s.error}
        </div>
      )}
      {error && <Refusal error={error.error} title={error.title} testId="swap-action-error" />}
      {(s.cancellable || (s.my_lock && !s.finished)) && (
        <div className="form-actions swap-actions">
          {s.cancellable && (
            <button type="button" className="btn btn-small btn-danger" onClick={() => void cancel()} disabled={busy !== null} data-testid="swap-cancel">
              {busy === "cancel" ? "Cancelling…" : "Cancel swap"}
            </button>
          )}
          {s.my_lock && !s.finished && (
            <>
              <button type="button" className="btn btn-small" onClick={() => void refundFile()} disabled={busy !== null} data-testid="swap-refund-file">
                {busy === "refund" ? "Exporting…" : "Export refund file"}
              </button>
              <Tip label="About the refund file">
                Your lock's script, outpoint, timeout and the path of its key: with this file and your seed, any tool that
                signs P2WSH can refund your lock after its timeout, should this node be lost. It holds no key.
              </Tip>
            </>
          )}
        </div>
      )}
      <details className="swap-events" data-testid="swap-events">
        <summary>Events ({formatCount(s.events.length)})</summary>
        <ol className="plain events">
          {s.events.map((e, i) => (
            <li key={i}>
              <span className="muted mono nowrap">{formatTime(e.time)}</span> <span className="wrap-words">{e.text}</span>
            </li>
          ))}
        </ol>
      </details>
    </li>
  );
}
