-- Entries are canonical JSON documents; every other table is derived from
-- them and rebuilt on each write, so the documents stay the one truth and
-- revisions can record them whole.
CREATE TABLE entries (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('speaker', 'source', 'statement', 'event')),
    body           TEXT NOT NULL,
    body_hash      TEXT NOT NULL,
    file_hash      TEXT,
    version        INTEGER NOT NULL,
    retracted      INTEGER NOT NULL DEFAULT 0,
    retract_reason TEXT,
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX entries_kind ON entries (kind, id);

CREATE TABLE revisions (
    rev      INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       TEXT NOT NULL,
    action   TEXT NOT NULL,
    before   TEXT,
    after    TEXT,
    reason   TEXT
);
CREATE INDEX revisions_entry ON revisions (entry_id, rev);

-- Visible statements only: retracting removes the row, restoring puts it back.
CREATE TABLE statement_index (
    rowid       INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    speaker_id  TEXT NOT NULL,
    said_on     TEXT NOT NULL,
    date_start  TEXT NOT NULL,
    date_end    TEXT NOT NULL,
    language    TEXT,
    body_text   TEXT NOT NULL,
    translation TEXT NOT NULL,
    topics      TEXT NOT NULL,
    context     TEXT NOT NULL
);
CREATE INDEX statement_speaker_date ON statement_index (speaker_id, date_start, id);
CREATE INDEX statement_date ON statement_index (date_start, id);

CREATE VIRTUAL TABLE statement_fts USING fts5(
    body_text, translation, topics, context,
    content='statement_index', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER statement_index_ai AFTER INSERT ON statement_index BEGIN
    INSERT INTO statement_fts (rowid, body_text, translation, topics, context)
    VALUES (new.rowid, new.body_text, new.translation, new.topics, new.context);
END;
CREATE TRIGGER statement_index_ad AFTER DELETE ON statement_index BEGIN
    INSERT INTO statement_fts (statement_fts, rowid, body_text, translation, topics, context)
    VALUES ('delete', old.rowid, old.body_text, old.translation, old.topics, old.context);
END;

CREATE TABLE event_index (
    rowid      INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    date_start TEXT NOT NULL,
    date_end   TEXT NOT NULL,
    title      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    topics     TEXT NOT NULL,
    place      TEXT NOT NULL
);
CREATE INDEX event_date ON event_index (date_start, id);

CREATE VIRTUAL TABLE event_fts USING fts5(
    title, summary, topics, place,
    content='event_index', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER event_index_ai AFTER INSERT ON event_index BEGIN
    INSERT INTO event_fts (rowid, title, summary, topics, place)
    VALUES (new.rowid, new.title, new.summary, new.topics, new.place);
END;
CREATE TRIGGER event_index_ad AFTER DELETE ON event_index BEGIN
    INSERT INTO event_fts (event_fts, rowid, title, summary, topics, place)
    VALUES ('delete', old.rowid, old.title, old.summary, old.topics, old.place);
END;

CREATE TABLE speaker_names (
    speaker_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (speaker_id, name)
) WITHOUT ROWID;

CREATE TABLE links (
    source TEXT NOT NULL,
    type   TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (source, type, target)
) WITHOUT ROWID;
CREATE INDEX links_target ON links (target);

-- Bumped on every write so that caches (the speaker name index) know when to reload.
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', 0);
