"""One moment of the store, for reads that must agree with each other: an export.

An export reads every entry, and at 1M statements that takes minutes.
Read page by page through the shared readers, each page was its own
moment: a statement added meanwhile by a new speaker reached the
statements file after the speakers file was written without that
speaker, and the folder would not load back. A snapshot holds one read
transaction on a connection of its own; SQLite's WAL keeps that moment
for it while others write. The price is that the WAL cannot be
checkpointed past the moment until the snapshot ends, so the file grows
by what is written meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from bot.model import docjson
from bot.model.entries import Kind, entry_from_doc
from bot.store.base import Retractions, Stored
from bot.store.sqlite.bulk import ids_json

_T = TypeVar("_T")
Run = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]
"""Runs a blocking read on the snapshot's connection, off the event loop."""

PAGE = 1_000  # entries a read: a page of parsed entries held, never a whole kind

# Statements are read in id order through the id index; the other kinds through
# entries_kind, which holds no statement (0008): SQLite uses a partial index only
# when the query repeats its condition.
_STATEMENT_PAGE = "SELECT * FROM entries WHERE kind = ? AND id > ? ORDER BY id LIMIT ?"
_OTHER_PAGE = ("SELECT * FROM entries WHERE kind = ? AND kind <> 'statement' AND id > ?"
               " ORDER BY id LIMIT ?")


def stored(row: sqlite3.Row) -> Stored:
    """An ``entries`` row as the store hands it out."""
    return Stored(
        entry=entry_from_doc(Kind(row["kind"]), docjson.loads(row["body"])),
        version=row["version"],
        retracted=bool(row["retracted"]),
        retract_reason=row["retract_reason"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def entry_page(conn: sqlite3.Connection, kind: Kind, after: str) -> list[sqlite3.Row]:
    """The next ``PAGE`` entries of a kind with ids after ``after``, in id order."""
    sql = _STATEMENT_PAGE if kind is Kind.STATEMENT else _OTHER_PAGE
    return conn.execute(sql, (kind.value, after, PAGE)).fetchall()


async def paged_entries(run: Run, kind: Kind) -> AsyncIterator[Stored]:
    """Every entry of a kind, a page a read, each read through ``run``."""
    last = ""
    while True:
        rows: list[sqlite3.Row] = await run(functools.partial(entry_page, kind=kind,
                                                              after=last))
        if not rows:
            return
        for row in rows:
            yield stored(row)
        last = rows[-1]["id"]


def retractions(conn: sqlite3.Connection) -> Retractions:
    """``Retractions`` in SQL, without parsing an entry: the export used to parse every
    statement and event once more just to learn them (the 1M file: 46 s of 5:31)."""
    rows = conn.execute("SELECT id, kind FROM entries WHERE retracted = 1").fetchall()
    hidden = frozenset(r["id"] for r in rows if r["kind"] in ("statement", "event"))
    speakers = [r["id"] for r in rows if r["kind"] == "speaker"]
    sources = [r["id"] for r in rows if r["kind"] == "source"]
    # statement_index holds the visible statements only (0001), by speaker (0003).
    named = {s for s in speakers if conn.execute(
        "SELECT 1 FROM statement_index WHERE speaker_id = ? LIMIT 1", (s,)).fetchone()}
    if sources:  # a scan of every visible body (~2 s at 1M), only when it can matter
        named.update(r[0] for r in conn.execute(
            "SELECT DISTINCT s.value FROM entries e, json_each(e.body, '$.sources') s"
            " WHERE e.retracted = 0 AND e.kind IN ('statement', 'event')"
            " AND s.value IN (SELECT value FROM json_each(?))", (ids_json(sources),)))
    return Retractions(hidden, frozenset(named))


def open_snapshot(path: str, busy_ms: int) -> sqlite3.Connection:
    """A read-only connection inside a read transaction that has read once: from then on
    it sees the store as it was at that read (WAL)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")
        conn.execute("SELECT 1 FROM entries LIMIT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteSnapshot:
    """``Snapshot`` over one connection; every read goes through ``run``."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def entries(self, kind: Kind) -> AsyncIterator[Stored]:
        return paged_entries(self._run, kind)

    async def retractions(self) -> Retractions:
        found: Retractions = await self._run(retractions)
        return found


def on_connection(conn: sqlite3.Connection) -> Run:
    """``Run`` on a connection of the snapshot's own, one read at a time on a worker
    thread (reads of one snapshot never overlap: the export awaits each)."""

    def run(fn: Callable[[sqlite3.Connection], _T]) -> Awaitable[_T]:
        return asyncio.to_thread(fn, conn)

    return run
