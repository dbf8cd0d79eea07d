-- p2share store, schema 4: the Bitcoin blocks this node's miner found, kept across restarts for
-- the mining history (`getmininginfo.blocks`). The record is the node's JSON; the store keeps it
-- as given, in the order the blocks were found (`seq`).
CREATE TABLE found_blocks (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    block_hash TEXT NOT NULL UNIQUE,
    found_at   INTEGER NOT NULL,
    record     TEXT NOT NULL
);
