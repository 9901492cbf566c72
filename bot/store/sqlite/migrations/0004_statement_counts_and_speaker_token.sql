-- Two search speed-ups (see docs/performance.md): kept per-speaker counts, and
-- the speaker as a token in the full-text index.

-- How many visible statements each speaker has, kept by triggers on the
-- statement index. "/quote <speaker>" shows the total ("110,412 statements
-- by ..."); counting them in the index took 3-5 ms for the busiest speaker
-- of the 1M-statement benchmark, longer than the whole rest of the answer.
CREATE TABLE statement_counts (
    speaker_id TEXT PRIMARY KEY,
    n          INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO statement_counts (speaker_id, n)
    SELECT speaker_id, count(*) FROM statement_index GROUP BY speaker_id;

CREATE TRIGGER statement_counts_ai AFTER INSERT ON statement_index BEGIN
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

-- The speaker as one token in the full-text index, so that "/quote <speaker>
-- <words>" is one FTS5 query: FTS5 intersects the speaker's posting list with
-- the words' and computes bm25 only for that speaker's matches. Joining all
-- matches of a frequent word to the speaker afterwards cost 100 ms at 1M
-- statements for 135 results. The token is 'spk' + the id with its hyphens as
-- 'x' (one token for the unicode61 tokenizer); the search still filters on
-- speaker_id exactly, so a token that two ids shared could never mix them.
-- Its bm25 weight is 0: ranking is unchanged.
ALTER TABLE statement_index ADD COLUMN speaker_token TEXT
    GENERATED ALWAYS AS ('spk' || replace(speaker_id, '-', 'x')) VIRTUAL;

DROP TRIGGER statement_index_ai;
DROP TRIGGER statement_index_ad;
DROP TABLE statement_fts;
CREATE VIRTUAL TABLE statement_fts USING fts5(
    body_text, translation, topics, context, speaker_token,
    content='statement_index', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER statement_index_ai AFTER INSERT ON statement_index BEGIN
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
INSERT INTO statement_fts (statement_fts) VALUES ('rebuild');
