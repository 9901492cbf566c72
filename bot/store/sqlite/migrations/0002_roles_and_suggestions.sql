-- Curator roles granted by owners (owners themselves come from the configuration),
-- with an append-only log of every grant and revocation.
CREATE TABLE roles (
    actor      TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('curator')),
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE role_changes (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
    role   TEXT NOT NULL,
    by     TEXT NOT NULL,
    at     TEXT NOT NULL
);

-- Entries proposed by anyone, waiting for a curator's decision.
CREATE TABLE suggestions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    suggested_by TEXT NOT NULL,
    suggested_at TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by TEXT,
    decided_at TEXT,
    reason     TEXT,
    entry_id   TEXT
);
CREATE INDEX suggestions_status ON suggestions (status, id);
CREATE INDEX suggestions_by ON suggestions (suggested_by, suggested_at);
