"""Taking SQLite's write lock, and saying plainly when another process holds it.

Every write begins with ``BEGIN IMMEDIATE``. When another process is writing
(``verbatim import`` of a large file holds the lock for its whole
transaction), SQLite waits up to the busy timeout, then fails with "database
is locked": a bare ``sqlite3.OperationalError`` that a chat would only see as
an apology and the command line as a traceback. It becomes ``StoreBusy``
here, with a message that says what happened and what to do.
"""

from __future__ import annotations

import sqlite3

import aiosqlite

from bot.store.base import StoreBusy

BUSY_TIMEOUT_S = 5.0

BUSY_MESSAGE = ("The archive is busy with another write (a large import can take a minute "
                "or two); nothing was changed. Try again shortly.")


def is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, with any extended code."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def begin_immediate(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise StoreBusy(BUSY_MESSAGE) from exc
        raise


async def begin_immediate_async(conn: aiosqlite.Connection) -> None:
    try:
        await conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise StoreBusy(BUSY_MESSAGE) from exc
        raise
