-- Entries in an ordinary rowid table, their id in a narrow unique index.
-- As a WITHOUT ROWID table keyed by id, each new entry's whole document
-- (~600 bytes) went into the leaf page where its id sorts: an import of
-- new statements, whose ids spread over the whole key space, rewrote
-- nearly one page of that B-tree per statement. At 1M statements a
-- 100,000-statement import wrote 1.1 GB to the WAL, and its entries step
-- took 5.7 s. Now documents are appended and only the ~40-byte id entries
-- land in random places: 575 MB of WAL, 1.9 s (docs/performance.md).
-- Reads by id take one more B-tree lookup, which no measured answer shows.
CREATE TABLE entries_by_rowid (
    id             TEXT NOT NULL PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('speaker', 'source', 'statement', 'event')),
    body           TEXT NOT NULL,
    body_hash      TEXT NOT NULL,
    file_hash      TEXT,
    version        INTEGER NOT NULL,
    retracted      INTEGER NOT NULL DEFAULT 0,
    retract_reason TEXT,
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL
);
INSERT INTO entries_by_rowid (id, kind, body, body_hash, file_hash, version, retracted,
                              retract_reason, updated_at, updated_by)
    SELECT id, kind, body, body_hash, file_hash, version, retracted, retract_reason,
           updated_at, updated_by
    FROM entries;
DROP TABLE entries;
ALTER TABLE entries_by_rowid RENAME TO entries;
-- Listing by kind serves the few speakers, sources and events (export, and the
-- sources an import resolves against); statements are listed in id order by
-- the id index. Without statements in it, this index is one B-tree fewer that
-- every new statement lands at random in.
CREATE INDEX entries_kind ON entries (kind, id) WHERE kind <> 'statement';
