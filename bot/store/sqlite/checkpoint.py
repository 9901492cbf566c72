"""Copying a bulk write's WAL into the database file after the write, not inside it.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies
them into the database. SQLite runs one itself, on the committing
connection, once the WAL holds 1,000 pages. After an import of 100,000
statements into the 1M store the WAL holds ~500 MB, and that checkpoint
took 3.1 s of the import's 22: the import returned, and the writer's
connection was free for a curator's next write, only after it.

A bulk write turns the automatic checkpoint off for its own transaction,
and the store then checkpoints on a connection of its own, in the
background (PASSIVE: it takes no lock that a writer or reader waits for).
The import returns, and the writer is free for other writes, 1.5-3 s
sooner at 1M; shards loaded one after another gain less, as the
checkpoint shares the two cores with the next one (docs/performance.md).
Nothing changes in what is durable: with
``synchronous = NORMAL`` a commit in WAL mode was never synced to disk
before its checkpoint.
"""

from __future__ import annotations

import sqlite3

AUTOCHECKPOINT_PAGES = 1000
"""SQLite's default, restored on the writer's connection after a bulk write."""


def checkpoint(path: str, busy_ms: int) -> tuple[int, int, int]:
    """A PASSIVE checkpoint on a connection of its own: (busy, WAL frames, frames copied)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)
    finally:
        conn.close()
