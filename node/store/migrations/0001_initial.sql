-- p2share store, schema 1.
-- Hashes and outpoints are raw bytes: share hashes in internal byte order, outpoints as the
-- 36-byte canonical key (txid bytes, then vout big-endian; see consensus `outpoint_key`).

-- Key/value facts about the store: schema version, network name and genesis hash.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Every known share. `head` is the ShareHead encoding (always kept); `body` is the encoding of
-- the transaction list (count + transactions), NULL once pruned. `chain_work` is 32 bytes
-- big-endian, NULL when the parent was unknown when the share was stored.
CREATE TABLE shares (
    hash       BLOB PRIMARY KEY NOT NULL,
    height     INTEGER NOT NULL,
    prev       BLOB NOT NULL,
    head       BLOB NOT NULL,
    body       BLOB,
    chain_work BLOB,
    on_active  INTEGER NOT NULL DEFAULT 0 CHECK (on_active IN (0, 1))
) WITHOUT ROWID;

-- At most one active share per height.
CREATE UNIQUE INDEX shares_active_height ON shares (height) WHERE on_active = 1;
CREATE INDEX shares_height ON shares (height);

-- The UTXO set at the tip.
CREATE TABLE utxos (
    outpoint     BLOB PRIMARY KEY NOT NULL CHECK (length(outpoint) = 36),
    value        INTEGER NOT NULL,
    script       BLOB NOT NULL,
    height       INTEGER NOT NULL,
    is_sharebase INTEGER NOT NULL CHECK (is_sharebase IN (0, 1))
) WITHOUT ROWID;

-- Undo data of connected shares (versioned binary ShareUndo encoding).
CREATE TABLE undo (
    hash BLOB PRIMARY KEY NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;

-- The active tip: exactly one row.
CREATE TABLE tip (
    id     INTEGER PRIMARY KEY CHECK (id = 0),
    hash   BLOB NOT NULL,
    height INTEGER NOT NULL
);
