-- The BTC wallet's changesets (bdk_wallet), appended as JSON and merged at load.
CREATE TABLE bdk_changesets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    changeset TEXT NOT NULL
);

-- Sharechain transactions touching the wallet, as of the active chain the wallet last saw.
CREATE TABLE share_txs (
    txid BLOB PRIMARY KEY,
    -- NULL while unconfirmed (in the sharechain mempool).
    height INTEGER,
    share_hash BLOB,
    time INTEGER NOT NULL,
    -- Units received by the wallet's scripts and spent from them.
    received INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    fee INTEGER,
    raw BLOB NOT NULL
);
CREATE INDEX share_txs_height ON share_txs (height);

-- The share the share wallet's history is synced to.
CREATE TABLE share_sync (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    height INTEGER NOT NULL,
    hash BLOB NOT NULL
);

-- Key/value facts (next receive index, …).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per swap: its persisted state machine (JSON), written before every action.
CREATE TABLE swaps (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated INTEGER NOT NULL
);
