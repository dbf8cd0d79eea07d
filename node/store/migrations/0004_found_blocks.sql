-- p2share store, schema 4: the Bitcoin blocks this node's miner found, kept across restarts for
-- the mining history (`getmininginfo.blocks`). The record is the node's JSON; the store keeps it
-- as given and orders by the time it was found.
CREATE TABLE found_blocks (
    block_hash TEXT PRIMARY KEY NOT NULL,
    found_at   INTEGER NOT NULL,
    record     TEXT NOT NULL
) WITHOUT ROWID;
