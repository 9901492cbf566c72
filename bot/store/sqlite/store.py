"""SQLite through aiosqlite: the embedded store.

One writer connection takes every write under ``BEGIN IMMEDIATE`` (so a
read never has to upgrade to a write lock, the usual cause of "database is
locked"), and a small pool of reader connections serves searches in
parallel under WAL. Derived tables (search index, names, links) are
rebuilt from the canonical document inside the same transaction as the
write, so they can never disagree with it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.model.entries import Entry, Event, Kind, Speaker, Statement, entry_from_doc
from bot.store.base import (
    Change,
    Conflict,
    EventQuery,
    LinkRow,
    NotFound,
    Page,
    Put,
    Restore,
    Retract,
    Revision,
    SpeakerStats,
    StatementQuery,
    Stored,
    StoreError,
    SyncState,
    WriteResult,
    doc_hash,
)
from bot.store.sqlite.curation import SqliteCuration
from bot.store.sqlite.fts import match_expression
from bot.store.sqlite.migrate import migrate

_CHUNK = 500  # stays well under SQLite's bound-parameter limit


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _dump(doc: dict[str, Any] | None) -> str | None:
    if doc is None:
        return None
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _load(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqliteStore:
    """The store contract (``bot.store.base.Store``) on one SQLite file."""

    def __init__(self, path: str | Path, *, readers: int = 2) -> None:
        self.path = str(path)
        self._readers_wanted = max(1, readers)
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._write_lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        writer = await self._connect()
        try:
            await writer.execute("PRAGMA journal_mode = WAL")
            await migrate(writer)
        except BaseException:
            await writer.close()
            raise
        self._writer = writer
        if self.path != ":memory:":
            for _ in range(self._readers_wanted):
                reader = await self._connect()
                await reader.execute("PRAGMA query_only = ON")
                self._all_readers.append(reader)
                self._readers.put_nowait(reader)

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def close(self) -> None:
        """Closes every connection: an open aiosqlite thread keeps the process alive."""
        readers, self._all_readers = self._all_readers, []
        self._readers = asyncio.Queue()
        for reader in readers:
            await reader.close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def curation(self) -> SqliteCuration:
        return SqliteCuration(self)

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StoreError("the store is not open")
        return self._writer

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[aiosqlite.Connection]:
        if not self._all_readers:
            yield self.writer
            return
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._read() as conn, conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- reading entries -----------------------------------------------------

    @staticmethod
    def _stored(row: aiosqlite.Row) -> Stored:
        return Stored(
            entry=entry_from_doc(Kind(row["kind"]), json.loads(row["body"])),
            version=row["version"],
            retracted=bool(row["retracted"]),
            retract_reason=row["retract_reason"],
            updated_at=row["updated_at"],
            updated_by=row["updated_by"],
        )

    async def get(self, entry_id: str, *, include_retracted: bool = False) -> Stored | None:
        found = await self.get_many([entry_id], include_retracted=include_retracted)
        return found.get(entry_id)

    async def get_many(
        self, ids: Sequence[str], *, include_retracted: bool = False
    ) -> dict[str, Stored]:
        out: dict[str, Stored] = {}
        wanted = list(dict.fromkeys(ids))
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            rows = await self._fetchall(
                f"SELECT * FROM entries WHERE id IN ({marks})", chunk
            )
            for row in rows:
                if include_retracted or not row["retracted"]:
                    out[row["id"]] = self._stored(row)
        return out

    async def kinds_of(self, ids: Sequence[str]) -> dict[str, Kind]:
        out: dict[str, Kind] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            marks = ",".join("?" * len(chunk))
            for row in await self._fetchall(
                f"SELECT id, kind FROM entries WHERE id IN ({marks})", chunk
            ):
                out[row["id"]] = Kind(row["kind"])
        return out

    async def entries(self, kind: Kind) -> AsyncIterator[Stored]:
        """Every entry of a kind, retracted ones included, in id order (for export)."""
        last = ""
        while True:
            rows = await self._fetchall(
                "SELECT * FROM entries WHERE kind = ? AND id > ? ORDER BY id LIMIT 1000",
                (kind.value, last),
            )
            if not rows:
                return
            for row in rows:
                yield self._stored(row)
            last = rows[-1]["id"]

    async def history(self, entry_id: str) -> list[Revision]:
        rows = await self._fetchall(
            "SELECT * FROM revisions WHERE entry_id = ? ORDER BY rev", (entry_id,)
        )
        return [self._revision(row) for row in rows]

    async def revision(self, rev: int) -> Revision | None:
        rows = await self._fetchall("SELECT * FROM revisions WHERE rev = ?", (rev,))
        return self._revision(rows[0]) if rows else None

    @staticmethod
    def _revision(row: aiosqlite.Row) -> Revision:
        return Revision(
            rev=row["rev"],
            entry_id=row["entry_id"],
            kind=Kind(row["kind"]),
            actor=row["actor"],
            at=row["at"],
            action=row["action"],
            before=_load(row["before"]),
            after=_load(row["after"]),
            reason=row["reason"],
        )

    async def generation(self) -> int:
        rows = await self._fetchall("SELECT value FROM meta WHERE key = 'generation'")
        return int(rows[0]["value"]) if rows else 0

    async def sync_state(self) -> dict[str, SyncState]:
        rows = await self._fetchall("SELECT id, kind, body_hash, file_hash FROM entries")
        return {
            row["id"]: SyncState(Kind(row["kind"]), row["body_hash"], row["file_hash"])
            for row in rows
        }

    # -- writing -------------------------------------------------------------

    async def apply(self, changes: Sequence[Change], actor: str) -> WriteResult:
        """All changes in one transaction, each leaving a revision; all or nothing."""
        result = WriteResult()
        if not changes:
            return result
        async with self._write_lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                at = _now()
                for change in changes:
                    revision = await self._apply_one(conn, change, actor, at)
                    if revision is not None:
                        result.revisions.append(revision)
                if result.revisions:
                    await conn.execute(
                        "UPDATE meta SET value = value + 1 WHERE key = 'generation'"
                    )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        return result

    async def mark_loaded(self, hashes: dict[str, str]) -> None:
        """Record that the files now say what the store holds (no content change, no revision)."""
        if not hashes:
            return
        async with self._write_lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.executemany(
                    "UPDATE entries SET file_hash = ? WHERE id = ?",
                    [(h, i) for i, h in hashes.items()],
                )
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise

    async def _row(self, conn: aiosqlite.Connection, entry_id: str) -> aiosqlite.Row | None:
        async with conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)) as cur:
            return await cur.fetchone()

    async def _apply_one(
        self, conn: aiosqlite.Connection, change: Change, actor: str, at: str
    ) -> Revision | None:
        if isinstance(change, Put):
            return await self._put(conn, change, actor, at)
        if isinstance(change, Retract):
            return await self._set_retracted(conn, change.entry_id, True, change.reason,
                                             change.expected_version, actor, at)
        if isinstance(change, Restore):
            return await self._set_retracted(conn, change.entry_id, False, change.reason,
                                             None, actor, at)
        raise TypeError(f"unknown change {change!r}")

    async def _put(
        self, conn: aiosqlite.Connection, change: Put, actor: str, at: str
    ) -> Revision | None:
        entry = change.entry
        doc = entry.doc()
        body = _dump(doc)
        new_hash = doc_hash(doc)
        row = await self._row(conn, entry.id)
        if row is None:
            if change.expected_version is not None and not change.force:
                raise NotFound(f"no entry with id {entry.id!r}")
            await conn.execute(
                "INSERT INTO entries (id, kind, body, body_hash, file_hash, version, retracted,"
                " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?)",
                (entry.id, entry.kind.value, body, new_hash, change.file_hash, at, actor),
            )
            await self._project(conn, entry, visible=True)
            return await self._log(conn, entry.id, entry.kind, actor, at, "create",
                                   None, doc, change.reason)
        if row["kind"] != entry.kind.value:
            raise Conflict(f"the id {entry.id!r} is already used by a {row['kind']}")
        if not change.force:
            if change.expected_version is None:
                raise Conflict(f"{entry.id!r} already exists (version {row['version']})")
            if row["version"] != change.expected_version:
                raise Conflict(
                    f"{entry.id!r} was changed by {row['updated_by']} at {row['updated_at']} "
                    f"(now version {row['version']}, you edited version "
                    f"{change.expected_version}): reload it and apply your change again"
                )
        if row["body_hash"] == new_hash:
            if change.file_hash is not None and row["file_hash"] != change.file_hash:
                await conn.execute(
                    "UPDATE entries SET file_hash = ? WHERE id = ?", (change.file_hash, entry.id)
                )
            return None
        file_hash = change.file_hash if change.file_hash is not None else row["file_hash"]
        await conn.execute(
            "UPDATE entries SET body = ?, body_hash = ?, file_hash = ?, version = version + 1,"
            " updated_at = ?, updated_by = ? WHERE id = ?",
            (body, new_hash, file_hash, at, actor, entry.id),
        )
        visible = not row["retracted"]
        await self._unproject(conn, entry.id, entry.kind)
        await self._project(conn, entry, visible=visible)
        return await self._log(conn, entry.id, entry.kind, actor, at, "update",
                               json.loads(row["body"]), doc, change.reason)

    async def _set_retracted(
        self,
        conn: aiosqlite.Connection,
        entry_id: str,
        retract: bool,
        reason: str | None,
        expected_version: int | None,
        actor: str,
        at: str,
    ) -> Revision:
        row = await self._row(conn, entry_id)
        if row is None:
            raise NotFound(f"no entry with id {entry_id!r}")
        if bool(row["retracted"]) == retract:
            state = "already retracted" if retract else "not retracted"
            raise StoreError(f"{entry_id!r} is {state}")
        if expected_version is not None and row["version"] != expected_version:
            raise Conflict(
                f"{entry_id!r} was changed by {row['updated_by']} at {row['updated_at']}"
            )
        await conn.execute(
            "UPDATE entries SET retracted = ?, retract_reason = ?, version = version + 1,"
            " updated_at = ?, updated_by = ? WHERE id = ?",
            (int(retract), reason if retract else None, at, actor, entry_id),
        )
        kind = Kind(row["kind"])
        doc = json.loads(row["body"])
        if retract:
            await self._unproject(conn, entry_id, kind)
        else:
            await self._project(conn, entry_from_doc(kind, doc), visible=True)
        return await self._log(conn, entry_id, kind, actor, at,
                               "retract" if retract else "restore", doc, doc, reason)

    async def _log(
        self,
        conn: aiosqlite.Connection,
        entry_id: str,
        kind: Kind,
        actor: str,
        at: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str | None,
    ) -> Revision:
        cur = await conn.execute(
            "INSERT INTO revisions (entry_id, kind, actor, at, action, before, after, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_id, kind.value, actor, at, action, _dump(before), _dump(after), reason),
        )
        rev = cur.lastrowid
        await cur.close()
        assert rev is not None
        return Revision(rev, entry_id, kind, actor, at, action, before, after, reason)

    async def _unproject(self, conn: aiosqlite.Connection, entry_id: str, kind: Kind) -> None:
        if kind is Kind.STATEMENT:
            await conn.execute("DELETE FROM statement_index WHERE id = ?", (entry_id,))
        elif kind is Kind.EVENT:
            await conn.execute("DELETE FROM event_index WHERE id = ?", (entry_id,))
        elif kind is Kind.SPEAKER:
            await conn.execute("DELETE FROM speaker_names WHERE speaker_id = ?", (entry_id,))
        await conn.execute("DELETE FROM links WHERE source = ?", (entry_id,))

    async def _project(self, conn: aiosqlite.Connection, entry: Entry, *, visible: bool) -> None:
        """Fill the derived tables for a visible entry; retracted ones stay out of them."""
        if not visible:
            return
        if isinstance(entry, Statement):
            await conn.execute(
                "INSERT INTO statement_index (id, speaker_id, said_on, date_start, date_end,"
                " language, body_text, translation, topics, context)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.id, entry.speaker, entry.said_on.iso(),
                    entry.said_on.first_day().isoformat(), entry.said_on.last_day().isoformat(),
                    (entry.language or "").lower() or None,
                    entry.text,
                    entry.translation.text if entry.translation else "",
                    " ".join(entry.topics),
                    " ".join(p for p in (entry.place, entry.occasion) if p),
                ),
            )
        elif isinstance(entry, Event):
            end = entry.ended_on or entry.happened_on
            await conn.execute(
                "INSERT INTO event_index (id, date_start, date_end, title, summary, topics, place)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.id,
                    entry.happened_on.first_day().isoformat(), end.last_day().isoformat(),
                    entry.title, entry.summary or "", " ".join(entry.topics), entry.place or "",
                ),
            )
        elif isinstance(entry, Speaker):
            await conn.executemany(
                "INSERT OR IGNORE INTO speaker_names (speaker_id, name) VALUES (?, ?)",
                [(entry.id, name) for name in entry.names()],
            )
        if isinstance(entry, Statement | Event) and entry.links:
            await conn.executemany(
                "INSERT OR IGNORE INTO links (source, type, target) VALUES (?, ?, ?)",
                [(entry.id, link.type, link.to) for link in entry.links],
            )

    # -- searching -----------------------------------------------------------

    async def speaker_names(self) -> list[tuple[str, str]]:
        rows = await self._fetchall(
            "SELECT speaker_id, name FROM speaker_names ORDER BY speaker_id, name"
        )
        return [(row["speaker_id"], row["name"]) for row in rows]

    async def speaker_stats(self, speaker_id: str) -> SpeakerStats:
        # Dates keep their precision: a speaker known only by UN sessions spans "2004 to 2024".
        rows = await self._fetchall(
            "SELECT count(*) AS n,"
            " (SELECT said_on FROM statement_index WHERE speaker_id = ?1"
            "  ORDER BY date_start, id LIMIT 1) AS first,"
            " (SELECT said_on FROM statement_index WHERE speaker_id = ?1"
            "  ORDER BY date_end DESC, id LIMIT 1) AS last"
            " FROM statement_index WHERE speaker_id = ?1",
            (speaker_id,),
        )
        row = rows[0]
        return SpeakerStats(int(row["n"]), row["first"], row["last"])

    @staticmethod
    def _filters(
        alias: str,
        since: dt.date | None,
        until: dt.date | None,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        # A date known only to the year overlaps any range touching that year.
        if since is not None:
            where.append(f"{alias}.date_end >= ?")
            params.append(since.isoformat())
        if until is not None:
            where.append(f"{alias}.date_start <= ?")
            params.append(until.isoformat())
        return where, params

    async def search_statements(self, query: StatementQuery) -> Page:
        where, params = self._filters("s", query.since, query.until)
        if query.speaker_ids:
            where.append(f"s.speaker_id IN ({','.join('?' * len(query.speaker_ids))})")
            params.extend(query.speaker_ids)
        if query.language:
            where.append("s.language = ?")
            params.append(query.language.lower())
        expression = match_expression(query.words, query.phrases, match_any=query.match_any)
        return await self._search(
            index="statement_index", fts="statement_fts", weights="10.0, 6.0, 4.0, 1.0",
            expression=expression, where=where, params=params,
            limit=query.limit, offset=query.offset, chronological=query.chronological,
        )

    async def search_events(self, query: EventQuery) -> Page:
        where, params = self._filters("s", query.since, query.until)
        expression = match_expression(query.words, query.phrases, match_any=query.match_any)
        return await self._search(
            index="event_index", fts="event_fts", weights="8.0, 4.0, 4.0, 1.0",
            expression=expression, where=where, params=params,
            limit=query.limit, offset=query.offset, chronological=query.chronological,
        )

    async def _search(
        self,
        *,
        index: str,
        fts: str,
        weights: str,
        expression: str | None,
        where: list[str],
        params: list[Any],
        limit: int,
        offset: int,
        chronological: bool,
    ) -> Page:
        if expression is not None:
            source = f"{fts} JOIN {index} s ON s.rowid = {fts}.rowid"
            where = [f"{fts} MATCH ?", *where]
            params = [expression, *params]
            rank = f"bm25({fts}, {weights})"
        else:
            source = f"{index} s"
            rank = "0"
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        if chronological:
            order = "s.date_start, s.date_end, s.id"
        elif expression is not None:
            order = "score, s.date_start DESC, s.id"
        else:
            order = "s.date_start DESC, s.date_end DESC, s.id"
        rows = await self._fetchall(
            f"SELECT s.id AS id, {rank} AS score FROM {source}{clause}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        count = await self._fetchall(f"SELECT count(*) AS n FROM {source}{clause}", params)
        return Page([row["id"] for row in rows], int(count[0]["n"]))

    async def links_of(self, entry_id: str) -> tuple[list[LinkRow], list[LinkRow]]:
        """Outgoing and incoming links whose other end is visible."""
        out = await self._fetchall(
            "SELECT l.source, l.type, l.target FROM links l JOIN entries e ON e.id = l.target"
            " WHERE l.source = ? AND e.retracted = 0 ORDER BY l.type, l.target",
            (entry_id,),
        )
        inc = await self._fetchall(
            "SELECT source, type, target FROM links WHERE target = ? ORDER BY type, source",
            (entry_id,),
        )
        as_rows = [LinkRow(r["source"], r["type"], r["target"]) for r in out]
        return as_rows, [LinkRow(r["source"], r["type"], r["target"]) for r in inc]
