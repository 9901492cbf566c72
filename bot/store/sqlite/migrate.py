"""Versioned schema migrations, tracked in ``PRAGMA user_version``.

Each ``NNNN_name.sql`` file in ``migrations/`` moves the schema one version
up; a database is brought forward in one transaction per step, so a crash
mid-way leaves it at a known version. Upgrading a large store takes time
(a step that rebuilds a table or an index: tens of seconds at 1M
statements) before the bot answers, so each step of an upgrade is logged
with its time, at WARNING, which the default log level shows; a new
database's steps, which take milliseconds, are not logged.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from importlib import resources

import aiosqlite

from bot.store.base import StoreBusy
from bot.store.sqlite.locking import is_busy

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("bot.store.sqlite") / "migrations"
    found = []
    for item in folder.iterdir():
        match = _NAME.match(item.name)
        if match:
            found.append((int(match.group(1)), item.name, item.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the schema to the newest version; returns that version."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    steps = migrations()
    newest = steps[-1][0] if steps else 0
    if current > newest:
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this bot knows "
            f"({newest}): upgrade verbatim-bot"
        )
    upgrading = current > 0
    for version, name, sql in steps:
        if version <= current:
            continue
        if upgrading:
            log.warning("Upgrading the database to schema %d (%s); a large store takes a while",
                        version, name)
        started = time.perf_counter()
        # executescript commits first; wrap the step so it is all or nothing.
        try:
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except Exception as exc:
            if conn.in_transaction:
                await conn.rollback()
            if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
                raise StoreBusy(f"the database needs an upgrade (schema {version}), but another "
                                "process is writing to it (an import?): start again once it "
                                "is done") from exc
            raise
        if upgrading:
            log.warning("Database at schema %d after %.1f s", version,
                        time.perf_counter() - started)
        current = version
    return current
