-- Bulk imports (see docs/performance.md): the two per-row triggers on the
-- statement index stand aside while a row of meta named 'bulk_index'
-- exists. The store sets that row only inside a write transaction, inserts
-- a whole batch of statement rows, deletes the row again and then fills
-- statement_fts and statement_counts for exactly those rows in one
-- INSERT ... SELECT each, still in the same transaction: the flag is never
-- committed, so no other connection ever sees it, and the index and counts
-- end up as the triggers would have left them. Row by row, the full-text
-- insert through the trigger cost ~110 microseconds a statement at 100k;
-- the one INSERT ... SELECT, ~22.
DROP TRIGGER statement_index_ai;
CREATE TRIGGER statement_index_ai AFTER INSERT ON statement_index
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'bulk_index') BEGIN
    INSERT INTO statement_fts (rowid, body_text, translation, topics, context, speaker_token)
    VALUES (new.rowid, new.body_text, new.translation, new.topics, new.context,
            new.speaker_token);
END;
DROP TRIGGER statement_counts_ai;
CREATE TRIGGER statement_counts_ai AFTER INSERT ON statement_index
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'bulk_index') BEGIN
    INSERT INTO statement_counts (speaker_id, n) VALUES (new.speaker_id, 1)
        ON CONFLICT (speaker_id) DO UPDATE SET n = n + 1;
END;
