-- statement_index loses its unique index on id. The id is unique in entries
-- already, and the index was one of the B-trees every new statement lands in
-- at a random place: at 1M statements a 100,000-statement import rewrote
-- nearly every one of its ~40 MB of leaves, and the statement rows went in in
-- 2.3-2.8 s instead of 3.5-3.7 (docs/performance.md, "No id index on the
-- statement rows"). A statement's row is now found by its key in the speaker
-- index (speaker, first day, last day, id), worked out from the document it
-- was made from (store.py, _unproject); the search index's catch-up reads
-- documents from entries. SQLite cannot drop a UNIQUE constraint, so the
-- table is built again with the same rowids (which the full-text index
-- refers to): ~11 s at 900k statements, once, at the first start.
CREATE TABLE statement_index_0013 (
    rowid       INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    speaker_id  TEXT NOT NULL,
    said_on     TEXT NOT NULL,
    date_start  TEXT NOT NULL,
    date_end    TEXT NOT NULL,
    language    TEXT,
    body_text   TEXT NOT NULL,
    translation TEXT NOT NULL,
    topics      TEXT NOT NULL,
    context     TEXT NOT NULL,
    speaker_token TEXT GENERATED ALWAYS AS ('spk' || replace(speaker_id, '-', 'x')) VIRTUAL
);
INSERT INTO statement_index_0013 (rowid, id, speaker_id, said_on, date_start, date_end,
                                  language, body_text, translation, topics, context)
    SELECT rowid, id, speaker_id, said_on, date_start, date_end, language, body_text,
           translation, topics, context
    FROM statement_index ORDER BY rowid;
-- Its indexes and triggers go with it (the full-text rows stay: same rowids, same text).
DROP TABLE statement_index;
ALTER TABLE statement_index_0013 RENAME TO statement_index;
CREATE INDEX statement_speaker_chrono
    ON statement_index (speaker_id, date_start, date_end, id);
CREATE INDEX statement_date ON statement_index (date_start);
CREATE TRIGGER statement_index_ai AFTER INSERT ON statement_index
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'bulk_index') BEGIN
    INSERT INTO statement_fts (rowid, body_text, translation, topics, context, speaker_token)
    VALUES (new.rowid, new.body_text, new.translation, new.topics, new.context,
            new.speaker_token);
END;
CREATE TRIGGER statement_index_ad AFTER DELETE ON statement_index BEGIN
    INSERT INTO statement_fts (statement_fts, rowid, body_text, translation, topics, context,
                               speaker_token)
    VALUES ('delete', old.rowid, old.body_text, old.translation, old.topics, old.context,
            old.speaker_token);
END;
CREATE TRIGGER statement_counts_ai AFTER INSERT ON statement_index
WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'bulk_index') BEGIN
    INSERT INTO statement_counts (speaker_id, n) VALUES (new.speaker_id, 1)
        ON CONFLICT (speaker_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER statement_counts_ad AFTER DELETE ON statement_index BEGIN
    UPDATE statement_counts SET n = n - 1 WHERE speaker_id = old.speaker_id;
END;
CREATE TRIGGER statement_counts_au AFTER UPDATE OF speaker_id ON statement_index BEGIN
    UPDATE statement_counts SET n = n - 1 WHERE speaker_id = old.speaker_id;
    INSERT INTO statement_counts (speaker_id, n) VALUES (new.speaker_id, 1)
        ON CONFLICT (speaker_id) DO UPDATE SET n = n + 1;
END;
