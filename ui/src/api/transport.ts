// The one interface the whole UI talks to the node through. HttpTransport (browser), TauriTransport
// (the desktop app) and FakeTransport (tests) implement it; nothing else in the UI knows how calls
// travel.
import type {
  BitcoinBlock,
  BitcoinCoreConnection,
  BitcoinCoreTest,
  BtcTxEntry,
  ChainInfo,
  CreatedWallet,
  Devices,
  HashrateHistory,
  LogLine,
  MiningInfo,
  MiningState,
  NetworkInfo,
  NewAddress,
  NetworkParams,
  NodeEvent,
  NodeInfo,
  Odds,
  NextPayout,
  OfferEntry,
  PayoutEntry,
  PeerInfo,
  Sent,
  Settings,
  SettingsResult,
  SettingsUpdate,
  Setup,
  SetupRequest,
  ShareRanges,
  ShareTxPage,
  SwapEntry,
  SyncStatus,
  UnsignedPayment,
  WalletBalances,
  WalletCoin,
  WalletInfo,
} from "../bindings";

/**
 * Method name → positional params tuple → result. Only the methods the dashboard uses are listed;
 * adding one is one line here (and the type in src/bindings/).
 */
export interface Methods {
  getsharechaininfo: { params: []; result: ChainInfo };
  /** Only the no-hash form (the next share's payee) is used by the UI. */
  getselectedshare: { params: []; result: NextPayout };
  getshareranges: { params: [scriptOrAddress: string]; result: ShareRanges };
  listbitcoinblocks: { params: [count?: number]; result: BitcoinBlock[] };
  getpeerinfo: { params: []; result: PeerInfo[] };
  getnetworkinfo: { params: []; result: NetworkInfo };
  addpeer: { params: [multiaddr: string]; result: null };
  getsyncstatus: { params: []; result: SyncStatus };
  getmininginfo: { params: []; result: MiningInfo };
  setmining: { params: [enabled: boolean, threads?: number]; result: MiningState };
  /** The CPU miner, the OpenCL devices, the Stratum server and the devices on it. */
  getdevices: { params: []; result: Devices };
  /** Enables, disables or tunes an OpenCL device; answers with every device. */
  setdevice: { params: [id: string, enabled?: boolean, intensity?: number]; result: Devices };
  gethashratehistory: { params: [rangeSecs?: number]; result: HashrateHistory };
  getodds: { params: [scriptOrAddress: string]; result: Odds };
  getnetworkparams: { params: []; result: NetworkParams };
  getnodeinfo: { params: []; result: NodeInfo };
  testbitcoincore: { params: [connection: BitcoinCoreConnection]; result: BitcoinCoreTest };
  getlogs: { params: [count?: number]; result: LogLine[] };
  getsetup: { params: []; result: Setup };
  /** The node restarts on the new setup: `{ restart_required: true }` (docs/api.md). */
  setup: { params: [request: SetupRequest]; result: SettingsResult };
  getsettings: { params: []; result: Settings };
  setsettings: { params: [update: SettingsUpdate]; result: SettingsResult };
  /** Whether a wallet exists, is unlocked, and how far it is synced. */
  getwalletinfo: { params: []; result: WalletInfo };
  /** A new 24-word seed, encrypted with the passphrase; the words are answered this once. */
  createwallet: { params: [passphrase: string]; result: CreatedWallet };
  /** `words`: 12–24 BIP-39 words separated by spaces; an error names a bad word and its position. */
  restorewallet: { params: [words: string, passphrase: string]; result: WalletInfo };
  unlockwallet: { params: [passphrase: string]; result: WalletInfo };
  lockwallet: { params: []; result: WalletInfo };
  getnewaddress: { params: []; result: NewAddress };
  getwalletbalances: { params: []; result: WalletBalances };
  listwalletunspent: { params: []; result: WalletCoin[] };
  /** `amount`: shares, decimal (`"1.5"`); `feeRate`: units per 1,000 vbytes (default: the mempool's floor). */
  sendshares: { params: [address: string, amount: string, feeRate?: number]; result: Sent };
  /** `amount`: BTC, decimal; `satPerVb` defaults to 2. */
  sendbtc: { params: [address: string, amount: string, satPerVb?: number]; result: Sent };
  /** As `sendbtc`, unsigned: a base64 PSBT for another signer (the wallet may be locked). */
  createpsbt: { params: [address: string, amount: string, satPerVb?: number]; result: UnsignedPayment };
  /** The share history, newest first (unconfirmed first of all). */
  listwallettransactions: { params: [offset?: number, limit?: number]; result: ShareTxPage };
  listbtctransactions: { params: []; result: BtcTxEntry[] };
  /** Bitcoin coinbases that paid the wallet's shares. */
  listpayouts: { params: []; result: PayoutEntry[] };
  /** The order book: every current offer, this node's own marked `mine`. */
  listoffers: { params: []; result: OfferEntry[] };
  /**
   * `makerSells`: what this node (the maker) sells; `min`/`max`: shares, decimal; `price`: sats per
   * share; `ttlSecs`: the offer's lifetime (default a day, at most a week). Needs the wallet unlocked.
   */
  makeoffer: {
    params: [makerSells: MakerSells, min: string, max: string, price: number, ttlSecs?: number];
    result: OfferEntry;
  };
  canceloffer: { params: [id: string]; result: boolean };
  /** `amount`: shares, decimal. The node locks our side right after: ask for approval first. */
  takeoffer: { params: [id: string, amount: string]; result: SwapEntry };
  /** Every swap, newest first, with blocks to each deadline. */
  listswaps: { params: []; result: SwapEntry[] };
  /** Only before anything is locked (`cancellable`). */
  cancelswap: { params: [id: string]; result: SwapEntry };
  /** What refunds our lock with the seed alone, as JSON (saved as `refund-<id>.json`). */
  getrefundfile: { params: [id: string]; result: RefundFile };
}

/** What the maker of an offer sells: `shares` (for BTC) or `btc` (for shares). */
export type MakerSells = "shares" | "btc";

/** `getrefundfile`'s answer: a JSON object, saved as it is. */
export type RefundFile = { [key: string]: unknown };

export type MethodName = keyof Methods;
export type Params<M extends MethodName> = Methods[M]["params"];
export type Result<M extends MethodName> = Methods[M]["result"];

/** Every kind of `NodeEvent`. */
export type EventType = NodeEvent["type"];
/** The `NodeEvent` of one kind. */
export type EventOf<T extends EventType> = Extract<NodeEvent, { type: T }>;

/**
 * Not a node event: the transport tells its subscriber that events were lost (the node's
 * `lagged` notification) so that the UI re-reads its state over `call`.
 */
export type LaggedEvent = { type: "lagged"; missed: number };

/** What `subscribe` delivers: node events, plus `lagged`. */
export type TransportEvent = NodeEvent | LaggedEvent;

export type ConnectionState = "connecting" | "open" | "closed";

export interface Transport {
  call<M extends MethodName>(method: M, params?: Params<M>): Promise<Result<M>>;
  /**
   * Receive events until the returned function is called. `onState` follows the event
   * connection (the HTTP transport's WebSocket, which reconnects by itself; in the desktop app,
   * whether the in-process node runs).
   */
  subscribe(
    onEvent: (e: TransportEvent) => void,
    onState?: (s: ConnectionState) => void,
  ): () => void;
}

/** JSON-RPC error codes the UI reacts to (docs/api.md §3). */
export const ErrorCode = {
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  MISC_ERROR: -1,
  TYPE_ERROR: -3,
  INVALID_ADDRESS_OR_KEY: -5,
  INVALID_PARAMETER: -8,
  /**
   * Not JSON-RPC: the transport could not reach the node (network error, HTTP error; in the
   * desktop app, a node that is not running).
   */
  TRANSPORT: -100,
  /** Not JSON-RPC: HTTP 401, the session is gone. */
  UNAUTHORIZED: -401,
} as const;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(message);
    this.name = "RpcError";
  }

  /** The node does not have this method (an older node than this dashboard). */
  get methodMissing(): boolean {
    return this.code === ErrorCode.METHOD_NOT_FOUND;
  }
}

export function isRpcError(e: unknown): e is RpcError {
  return e instanceof RpcError;
}
