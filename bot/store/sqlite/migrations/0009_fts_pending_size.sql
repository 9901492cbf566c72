-- FTS5 keeps the terms of new rows in memory and writes them out as a new
-- segment of the index each time they pass "hashsize" bytes (1 MB unless
-- set), merging segments as they pile up. A 100,000-statement import made
-- ~30 small segments and merged them into the 1M-statement index; with
-- 16 MB it makes a few large ones: its full-text step took 2.4 s instead
-- of 3.4 s, commit included (docs/performance.md; 64 MB was no faster). The setting is
-- kept in statement_fts_config; a write holds at most that much more memory.
INSERT INTO statement_fts (statement_fts, rank) VALUES ('hashsize', 16777216);
