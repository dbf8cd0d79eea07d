-- p2share store, schema 5: the local hashers' rates over time (one row per hasher per sample,
-- every 10 s while mining), for the dashboard's hashrate history across restarts. Old rows are
-- deleted as new ones arrive (a week is kept).
CREATE TABLE hashrate_samples (
    time     INTEGER NOT NULL,
    hasher   TEXT NOT NULL,
    hashrate REAL NOT NULL
);
CREATE INDEX hashrate_samples_time ON hashrate_samples (time);
