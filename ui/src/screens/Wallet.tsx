// The node's wallet: what it holds on both chains (shares: spendable, maturing, in the draw; BTC:
// confirmed, pending, payouts maturing), an address to receive on with its QR code, payments of
// shares or BTC (or an unsigned PSBT), the Bitcoin blocks its shares won, and both histories.
// Locked, it keeps watching: only sends need the passphrase.
import { useState } from "react";
import type { BtcTxEntry, PayoutEntry, ShareTxEntry, WalletBalances, WalletInfo } from "../bindings";
import { useRpc, useTransport } from "../api/hooks";
import { useNode } from "../api/node";
import type { EventType } from "../api/transport";
import { Card, ScreenHeader, Stat } from "../components/Card";
import { CopyButton } from "../components/CopyButton";
import { ProgressBar } from "../components/ProgressBar";
import { QrCode } from "../components/QrCode";
import { SendForm, type SendKind } from "../components/SendForm";
import { Loading, Rpc } from "../components/Status";
import { Tabs } from "../components/Tabs";
import { Tip } from "../components/Tip";
import { NoWalletCard } from "../components/NoWalletCard";
import { UnlockCard } from "../components/UnlockCard";
import {
  formatCount,
  formatOneIn,
  formatPercent,
  formatSats,
  formatShares,
  formatTime,
  formatUnits8,
  formatUnitsSigned,
  shortHash,
} from "../format";

/** Balances and histories change with shares, transactions and Bitcoin blocks… */
const REFRESH: EventType[] = ["tip", "transaction", "bitcoin_block"];
/** …and with what no event announces (the BTC side follows the Bitcoin node). */
const POLL_MS = 5_000;
/** Share history page size. */
export const PAGE = 50;
/** A coinbase is spendable this many blocks deep (Bitcoin's rule). */
const COINBASE_MATURITY = 100;

export default function Wallet() {
  const info = useRpc("getwalletinfo", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  const w = info.data;
  return (
    <div className="screen" data-testid="wallet">
      <ScreenHeader title="Wallet">{w?.exists && <LockControl w={w} onInfo={info.setData} />}</ScreenHeader>
      <Rpc state={info} what="The wallet">
        {(w) => (w.exists ? <WalletView w={w} onInfo={info.setData} /> : <NoWallet />)}
      </Rpc>
    </div>
  );
}

function NoWallet() {
  return (
    <NoWalletCard>
      <p>
        This node has no wallet. Create one (or restore one from its words): from then on every share this node mines,
        and every Bitcoin block those shares win, pays it.
      </p>
      <p className="muted small">Until then the node's miners pay a key it keeps in its data directory.</p>
    </NoWalletCard>
  );
}

/** Header: locked or unlocked, and the Lock button. */
function LockControl({ w, onInfo }: { w: WalletInfo; onInfo: (w: WalletInfo) => void }) {
  const transport = useTransport();
  const [busy, setBusy] = useState(false);
  const lock = async () => {
    setBusy(true);
    try {
      onInfo(await transport.call("lockwallet"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="wallet-state">
      <span className="muted small hide-narrow" data-testid="wallet-synced">
        {w.share_height !== null && `shares synced to ${formatCount(w.share_height)}`}
        {w.btc_available && w.btc_height !== null && ` · Bitcoin to ${formatCount(w.btc_height)}`}
      </span>
      <span className={`pill ${w.unlocked ? "pill-good" : "pill-warn"}`} data-testid="wallet-lock-state">
        {w.unlocked ? "unlocked" : "locked"}
      </span>
      {w.unlocked && (
        <button type="button" className="btn btn-small" onClick={() => void lock()} disabled={busy} data-testid="lock">
          Lock
        </button>
      )}
    </div>
  );
}

function WalletView({ w, onInfo }: { w: WalletInfo; onInfo: (w: WalletInfo) => void }) {
  const balances = useRpc("getwalletbalances", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  return (
    <div className="grid">
      {!w.unlocked && (
        <UnlockCard onInfo={onInfo}>
          The wallet is locked. Balances and history stay up to date; unlock it with its passphrase to send. Export PSBT
          works locked.
        </UnlockCard>
      )}
      <Rpc state={balances} what="Balances">
        {(b) => (
          <>
            <SharesCard b={b} />
            <BtcCard b={b} available={w.btc_available} error={w.btc_error} />
            <ReceiveCard w={w} />
            <SendCard b={b} w={w} onSent={balances.refetch} />
          </>
        )}
      </Rpc>
      <PayoutsCard available={w.btc_available} />
      <HistoryCard w={w} />
    </div>
  );
}

/** A headline balance: the exact amount, its unit smaller beside it. */
function Balance({ label, value, unit, sub, testId }: { label: string; value: number; unit: string; sub: string; testId: string }) {
  return (
    <div className="balance">
      <div className="stat-label">{label}</div>
      <div className="balance-value" data-testid={testId}>
        {formatUnits8(value)} <span className="balance-unit">{unit}</span>
      </div>
      <div className="stat-sub">{sub}</div>
    </div>
  );
}

function SharesCard({ b }: { b: WalletBalances }) {
  const { params } = useNode();
  const maturity = params.data?.maturity ?? null;
  const s = b.shares;
  const chance = s.eligible_total > 0 ? s.eligible / s.eligible_total : 0;
  const pending = s.incoming !== 0 || s.outgoing !== 0;
  return (
    <Card title="Shares" className="span-6">
      <div data-testid="wallet-balances">
        <Balance label="Spendable" testId="bal-spendable" value={s.spendable} unit={s.spendable === 1e8 ? "share" : "shares"} sub="ready to send" />
        <div className="stats stats-compact">
          <Stat
            label={
              <>
                Maturing{" "}
                <Tip label="About maturing shares">
                  Shares a share of yours mined (its sharebase) can be spent and drawn once {maturity ?? "a number of"}{" "}
                  more shares are built on it, so that a reorganization cannot take them back.
                </Tip>
              </>
            }
            testId="bal-immature"
            value={formatShares(s.immature, -1)}
            sub={maturity !== null ? `spendable ${formatCount(maturity)} shares after mining` : "not spendable yet"}
          />
          <Stat
            label={
              <>
                In the draw{" "}
                <Tip label="About the draw">
                  Each Bitcoin block the network finds pays its whole reward to one eligible share, drawn at random:
                  your eligible shares (v) out of all eligible shares (n) is your chance for each block.
                </Tip>
              </>
            }
            testId="bal-eligible"
            value={formatShares(s.eligible, -1)}
            sub={
              <>
                of {formatShares(s.eligible_total, -1)} · <strong data-testid="bal-chance">{formatPercent(chance)}</strong> of
                each block ({formatOneIn(chance)})
              </>
            }
          />
          <Stat
            label="Unconfirmed"
            testId="bal-unconfirmed"
            value={pending ? formatUnitsSigned(s.incoming - s.outgoing) : "none"}
            sub={pending ? `${formatShares(s.incoming, -1)} arriving, ${formatShares(s.outgoing, -1)} leaving` : "nothing waiting for a share"}
          />
        </div>
      </div>
    </Card>
  );
}

function BtcCard({ b, available, error }: { b: WalletBalances; available: boolean; error: string | null }) {
  const t = b.btc;
  return (
    <Card title="Bitcoin" className="span-6">
      {available && error !== null && (
        <p className="field-error" role="alert" data-testid="btc-sync-error">
          Not keeping up with the Bitcoin node (retrying): {error}. The balances below may be out of date.
        </p>
      )}
      {!available ? (
        <p className="muted" data-testid="btc-off">
          No Bitcoin node is configured, so the BTC side is off. Payouts still land on the wallet's address on Bitcoin.
        </p>
      ) : (
        <div data-testid="btc-balances">
          <Balance label="Confirmed" testId="btc-confirmed" value={t.confirmed} unit="BTC" sub="spendable" />
          <div className="stats stats-compact">
            <Stat label="Pending" testId="btc-pending" value={formatSats(t.pending)} sub="unconfirmed" />
            <Stat
              label={
                <>
                  Payouts maturing{" "}
                  <Tip label="About maturing payouts">
                    A block reward (a coinbase) can be spent once {COINBASE_MATURITY} blocks are built on it. Each one's
                    countdown is under Payouts.
                  </Tip>
                </>
              }
              testId="btc-immature"
              value={formatSats(t.immature)}
              sub={`spendable after ${COINBASE_MATURITY} confirmations`}
            />
          </div>
        </div>
      )}
    </Card>
  );
}

function ReceiveCard({ w }: { w: WalletInfo }) {
  const addr = useRpc("getnewaddress");
  return (
    <Card
      title="Receive"
      className="span-4"
      actions={
        <button type="button" className="btn btn-small btn-ghost" onClick={addr.refetch} data-testid="new-address">
          New address
        </button>
      }
    >
      <Rpc state={addr} what="An address">
        {(a) => (
          <div className="receive" data-testid="receive">
            <QrCode text={a.uri} label={`QR code of ${a.uri}`} />
            <div className="copy-row receive-address">
              <code className="wrap" data-testid="receive-address">
                {a.address}
              </code>
              <CopyButton text={a.address} label="Copy the address" />
            </div>
            <p className="muted small">
              One address for both chains: shares sent to it land in the share wallet, BTC in the BTC wallet. A fresh one
              for each payer keeps them apart.
            </p>
            {w.mining_address && w.mining_address !== a.address && (
              <p className="muted small">
                Your miners pay <span className="mono wrap">{w.mining_address}</span>.
              </p>
            )}
          </div>
        )}
      </Rpc>
    </Card>
  );
}

function SendCard({ b, w, onSent }: { b: WalletBalances; w: WalletInfo; onSent: () => void }) {
  const { params } = useNode();
  const [tab, setTab] = useState<SendKind>("shares");
  const p = params.data;
  const btcOff = !w.btc_available;
  return (
    <Card title="Send" className="span-8">
      <Tabs
        label="What to send"
        current={btcOff && tab !== "shares" ? "shares" : tab}
        onChange={setTab}
        tabs={[
          { key: "shares", label: "Shares" },
          { key: "btc", label: "BTC", disabled: btcOff },
          { key: "psbt", label: "Export PSBT", disabled: btcOff },
        ]}
      >
        {!p ? (
          <Loading />
        ) : (
          <SendForm
            key={tab}
            kind={btcOff ? "shares" : tab}
            balances={b}
            unlocked={w.unlocked}
            hrp={p.address_hrp}
            mainnet={p.mainchain === "main" || p.mainchain === "bitcoin"}
            btcHeight={w.btc_height}
            onSent={onSent}
          />
        )}
      </Tabs>
    </Card>
  );
}

function PayoutsCard({ available }: { available: boolean }) {
  const payouts = useRpc("listpayouts", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  return (
    <Card
      title={
        <>
          Payouts{" "}
          <Tip label="About payouts">
            Bitcoin blocks whose reward went to one of this wallet's shares. The block's hash is the id of the share that
            carried it. A payout is spendable {COINBASE_MATURITY} blocks after it was mined.
          </Tip>
        </>
      }
      className="span-12"
    >
      <Rpc state={payouts} what="Payouts">
        {(list) =>
          list.length === 0 ? (
            <p className="muted" data-testid="payouts-empty">
              No payouts yet. When one of this wallet's shares is drawn for a Bitcoin block, the block's reward lands here
              {available ? "" : " (and on Bitcoin, once a Bitcoin node is configured to see it)"}.
            </p>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="payouts">
                <thead>
                  <tr>
                    <th scope="col" className="num">Height</th>
                    <th scope="col">Block</th>
                    <th scope="col">Coinbase</th>
                    <th scope="col" className="num">Amount</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((p) => (
                    <PayoutRow key={p.txid} p={p} />
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Rpc>
    </Card>
  );
}

function PayoutRow({ p }: { p: PayoutEntry }) {
  const done = COINBASE_MATURITY - p.blocks_to_maturity;
  return (
    <tr data-testid="payout-row">
      <td className="num">{formatCount(p.height)}</td>
      <td className="mono nowrap" title={p.block}>
        {shortHash(p.block, 8)}
      </td>
      <td className="mono nowrap" title={p.txid}>
        {shortHash(p.txid)}
      </td>
      <td className="num mono">{formatSats(p.amount)}</td>
      <td>
        {p.mature ? (
          <span className="pill pill-good">spendable</span>
        ) : (
          <div className="maturity" data-testid="payout-maturity">
            <span className="nowrap">
              {formatCount(p.blocks_to_maturity)} {p.blocks_to_maturity === 1 ? "block" : "blocks"} to maturity
            </span>
            <ProgressBar value={done / COINBASE_MATURITY} label={`Maturity ${done} of ${COINBASE_MATURITY}`} />
          </div>
        )}
      </td>
    </tr>
  );
}

function HistoryCard({ w }: { w: WalletInfo }) {
  const [tab, setTab] = useState<"shares" | "btc">("shares");
  return (
    <Card title="History" className="span-12">
      <Tabs
        label="Which chain"
        current={tab}
        onChange={setTab}
        tabs={[
          { key: "shares", label: "Shares" },
          { key: "btc", label: "Bitcoin", disabled: !w.btc_available },
        ]}
      >
        {tab === "shares" ? <ShareHistory /> : <BtcHistory btcHeight={w.btc_height} />}
      </Tabs>
    </Card>
  );
}

function Confirmations({ n }: { n: number }) {
  if (n === 0) return <span className="pill pill-warn">unconfirmed</span>;
  return <span className={n < 6 ? "" : "muted"}>{formatCount(n)}</span>;
}

function Net({ value }: { value: number }) {
  return <span className={value > 0 ? "amount-in" : value < 0 ? "amount-out" : ""}>{formatUnitsSigned(value)}</span>;
}

function ShareHistory() {
  const [offset, setOffset] = useState(0);
  const page = useRpc("listwallettransactions", [offset, PAGE], { refreshOn: REFRESH, pollMs: POLL_MS });
  return (
    <Rpc state={page} what="The share history">
      {(p) =>
        p.total === 0 ? (
          <p className="muted" data-testid="history-empty">
            No transactions yet. Mined shares show here as they are found; they can be spent once they mature.
          </p>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" data-testid="share-history">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Transaction</th>
                    <th scope="col" className="num">Amount (shares)</th>
                    <th scope="col" className="num">Fee</th>
                    <th scope="col" className="num">Height</th>
                    <th scope="col" className="num">Confirmations</th>
                  </tr>
                </thead>
                <tbody>
                  {p.entries.map((t) => (
                    <ShareTxRow key={t.txid} t={t} />
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} total={p.total} count={p.entries.length} onOffset={setOffset} />
          </>
        )
      }
    </Rpc>
  );
}

function ShareTxRow({ t }: { t: ShareTxEntry }) {
  return (
    <tr data-testid="share-tx" className={t.confirmations === 0 ? "row-pending" : ""}>
      <td className="nowrap">{formatTime(t.time)}</td>
      <td className="mono nowrap" title={t.txid}>
        {shortHash(t.txid)}
        {t.sharebase && <span className="pill pill-accent">mined</span>}
      </td>
      <td className="num mono">
        <Net value={t.received - t.sent} />
      </td>
      <td className="num mono muted">{t.fee === null ? "" : formatUnits8(t.fee)}</td>
      <td className="num">{t.height === null ? "—" : formatCount(t.height)}</td>
      <td className="num">
        <Confirmations n={t.confirmations} />
      </td>
    </tr>
  );
}

function Pager({ offset, total, count, onOffset }: { offset: number; total: number; count: number; onOffset: (o: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const pageNo = Math.floor(offset / PAGE) + 1;
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted small" data-testid="pager-range">
        {formatCount(offset + 1)}–{formatCount(offset + count)} of {formatCount(total)}
      </span>
      <button type="button" className="btn btn-small" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - PAGE))}>
        ← Newer
      </button>
      <span className="small">
        page {pageNo} of {pages}
      </span>
      <button type="button" className="btn btn-small" disabled={offset + PAGE >= total} onClick={() => onOffset(offset + PAGE)}>
        Older →
      </button>
    </nav>
  );
}

function BtcHistory({ btcHeight }: { btcHeight: number | null }) {
  const txs = useRpc("listbtctransactions", [], { refreshOn: REFRESH, pollMs: POLL_MS });
  return (
    <Rpc state={txs} what="The Bitcoin history">
      {(list) =>
        list.length === 0 ? (
          <p className="muted" data-testid="btc-history-empty">
            No Bitcoin transactions yet.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="btc-history">
              <thead>
                <tr>
                  <th scope="col">Transaction</th>
                  <th scope="col" className="num">Amount (BTC)</th>
                  <th scope="col" className="num">Fee (sat)</th>
                  <th scope="col" className="num">Block</th>
                  <th scope="col" className="num">Confirmations</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <BtcTxRow key={t.txid} t={t} tip={btcHeight} />
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </Rpc>
  );
}

function BtcTxRow({ t, tip }: { t: BtcTxEntry; tip: number | null }) {
  const conf = t.height === null ? 0 : tip !== null ? Math.max(1, tip - t.height + 1) : null;
  return (
    <tr data-testid="btc-tx" className={t.height === null ? "row-pending" : ""}>
      <td className="mono nowrap" title={t.txid}>
        {shortHash(t.txid)}
        {t.coinbase && <span className="pill pill-accent">payout</span>}
      </td>
      <td className="num mono">
        <Net value={t.received - t.sent} />
      </td>
      <td className="num mono muted">{t.fee === null ? "" : formatCount(t.fee)}</td>
      <td className="num">{t.height === null ? "—" : formatCount(t.height)}</td>
      <td className="num">{conf === null ? "—" : <Confirmations n={conf} />}</td>
    </tr>
  );
}
