-- p2share store, schema 3: indexes that keep pruning proportional to what it removes, not to
-- the length of the chain. Side shares and stored bodies are few (the reorg window); without
-- these, each pruning pass scanned every share below the window.
CREATE INDEX shares_side_height ON shares (height) WHERE on_active = 0;
CREATE INDEX shares_body_height ON shares (height) WHERE body IS NOT NULL;
