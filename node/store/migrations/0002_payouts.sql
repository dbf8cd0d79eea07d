-- p2share store, schema 2: the payout each connected share's Bitcoin coinbase made, as selected
-- from its parent's UTXO set (q, n and the selected output), for audits and the API. Rows of
-- shares connected while n = 0 are absent. Derived data: a row may be missing (share connected
-- by an older version), never wrong, since it is written in the transaction that connects it.
CREATE TABLE payouts (
    hash        BLOB PRIMARY KEY NOT NULL,
    q           INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    outpoint    BLOB NOT NULL CHECK (length(outpoint) = 36),
    script      BLOB NOT NULL,
    value       INTEGER NOT NULL,
    range_start INTEGER NOT NULL
) WITHOUT ROWID;
