"""SQLite through aiosqlite: the embedded store.

One writer connection takes every write under ``BEGIN IMMEDIATE`` (so a
read never has to upgrade to a write lock, the usual cause of "database is
locked"), and a small pool of reader connections serves searches in
parallel under WAL. Derived tables (search index, names, links) are
rebuilt from the canonical document inside the same transaction as the
write, so they can never disagree with it.

Performance (see docs/performance.md): a thread crossing (hand a call to
a database thread, wake the event loop with its result) costs 150-200
microseconds on the 2-core reference machine, ten times a typical indexed
read. So:

- a read first runs inline, on the event loop's own connection, under a
  time budget (``INLINE_BUDGET_S``) enforced by SQLite's progress handler;
  a read that exceeds it is interrupted and run again on a reader thread
  (its own ``sqlite3`` connection), so a slow search never holds up the
  other chats for more than the budget;
- every read method runs all its SQL (a search's page and its count, every
  chunk of a ``get_many``) in one function, so it crosses at most once;
- a write runs its whole transaction in one function on the writer's
  thread: a 100,000-row import is one crossing, not half a million.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.model import docjson
from bot.model.entries import Entry, Event, Kind, Speaker, Statement, entry_from_doc
from bot.store.base import (
    Change,
    Conflict,
    DocumentPut,
    EventQuery,
    KindLookup,
    LinkRow,
    NotFound,
    Page,
    Put,
    Restore,
    Retract,
    Revision,
    RevisionHead,
    SearchDocument,
    SpeakerStats,
    StatementQuery,
    StoreBusy,
    Stored,
    StoreError,
    SyncState,
    WriteResult,
    doc_hash,
)
from bot.store.sqlite.bulk import ids_json, insert_encoded, insert_rows
from bot.store.sqlite.checkpoint import AUTOCHECKPOINT_PAGES, checkpoint
from bot.store.sqlite.curation import SqliteCuration
from bot.store.sqlite.fts import match_expression, quote_token
from bot.store.sqlite.handoff import quick_handoffs
from bot.store.sqlite.locking import BUSY_TIMEOUT_S, begin_immediate, is_busy
from bot.store.sqlite.migrate import migrate
from bot.store.sqlite.rows import (
    CREATION_REVISIONS_SQL,
    ENTRIES_HEAD,
    EVENT_INDEX_HEAD,
    LINKS_HEAD,
    NAMES_HEAD,
    NEW_ENTRIES_SQL,
    REVISIONS_HEAD,
    STATEMENT_INDEX_HEAD,
    Chunk,
    NewRows,
    Prepared,
    event_row,
    prepare_chunk,
    statement_row,
)
from bot.store.sqlite.snapshot import (
    SqliteSnapshot,
    on_connection,
    open_snapshot,
    paged_entries,
    stored,
)

log = logging.getLogger(__name__)

_CHUNK = 500  # stays well under SQLite's bound-parameter limit
_READER_CACHE_KIB = 16_384  # page cache per reader: FTS doclists of frequent words stay hot
PAGE_SIZE = 16_384
"""Bytes a page, for a new database (an existing file keeps the size it was made with).

SQLite's default is 4,096. An import writes every page it changes to the WAL,
two writes a page, and with the random inserts into the id, speaker and date
trees that is most of its kernel time. With 16 KB pages the 1M-statement
archive imported in 57.9-58.2 s instead of 64.5 (8 KB: 61.2 s; 32 KB: 57.9 s
for 48 MB more memory), and answers were as fast, within the noise
(docs/performance.md, "Larger pages")."""


def writer_cache_kib(page_size: int) -> int:
    """The writer's page cache for a file of ``page_size``: 8 MB of 4 KB pages, 4 MB
    otherwise.

    Bulk imports touch the entries, index and full-text B-trees all over: more
    than SQLite's 2 MB default keeps their inner pages resident. More than this
    did not help (32 MB and 256 MB imported no faster than 8 MB of 4 KB pages),
    and each MB is importer memory. With 16 KB pages, 4 MB imported the 1M
    archive as fast as 8 MB and kept the importer at 194 MB instead of 209.
    """
    return 8_192 if page_size <= 4_096 else 4_096


#: Parsed entries kept by (id, version). Rebuilding an entry from its JSON
#: (json.loads and pydantic validation, ~50 microseconds) was the largest cost
#: of a /timeline (200 statements, fetched twice); a speaker or a source is
#: read by nearly every card. Keyed by version, a hit is never stale, even
#: when another process wrote the file: every change bumps the version.
ENTRY_CACHE_SIZE = 2048
#: How long a read may run on the event loop before it is moved to a thread.
INLINE_BUDGET_S = 0.002
_SLOW_KEYS = 512  # searches remembered as too slow to try inline
_PROGRESS_STEPS = 4_000  # SQLite VM steps between budget checks (tens of microseconds)
_T = TypeVar("_T")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _dump(doc: dict[str, Any] | None) -> str | None:
    return None if doc is None else docjson.dumps(doc)


def _load(text: str | None) -> dict[str, Any] | None:
    return None if text is None else docjson.loads(text)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqliteStore:
    """The store contract (``bot.store.base.Store``) on one SQLite file."""

    def __init__(
        self, path: str | Path, *, readers: int = 2, inline_budget: float = INLINE_BUDGET_S,
        busy_timeout: float = BUSY_TIMEOUT_S,
    ) -> None:
        """``inline_budget`` (seconds) bounds a read run on the event loop; 0 sends every
        read to a reader thread, for deployments that want no database call on the loop.
        ``busy_timeout`` (seconds): how long a write waits for another process's write
        lock before it fails with ``StoreBusy``."""
        self.path = str(path)
        self._busy_ms = max(0, round(busy_timeout * 1000))
        self.inline_budget = max(0.0, inline_budget)
        self._readers_wanted = max(1, readers)
        self._writer: aiosqlite.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._inline: sqlite3.Connection | None = None
        self._parsed: OrderedDict[str, Stored] = OrderedDict()
        self._slow: OrderedDict[Hashable, None] = OrderedDict()
        self._inline_deadline = 0.0
        self._write_lock = asyncio.Lock()
        self._checkpointing: asyncio.Task[None] | None = None
        self._checkpoint_again = False

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        writer = await self._connect()
        try:
            # Only a new, empty file takes it; it must come before WAL mode.
            await writer.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            await writer.execute("PRAGMA journal_mode = WAL")
            async with writer.execute("PRAGMA page_size") as cur:
                row = await cur.fetchone()
            assert row is not None
            await writer.execute(f"PRAGMA cache_size = -{writer_cache_kib(row[0])}")
            await migrate(writer)
        except BaseException as exc:
            await writer.close()
            if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
                raise StoreBusy(f"{self.path} is being written by another process (an "
                                "import?): start again once it is done") from exc
            raise
        self._writer = writer
        if self.path != ":memory:":
            # One thread per reader, each owning its connection for its whole life:
            # no pool to hand connections around, and a cancelled caller can never
            # return a connection that a thread is still using.
            self._executor = ThreadPoolExecutor(
                max_workers=self._readers_wanted, thread_name_prefix="verbatim-reader"
            )
            if self.inline_budget > 0:
                inline = self._open_reader()
                inline.set_progress_handler(self._over_budget, _PROGRESS_STEPS)
                self._inline = inline

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _open_reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.execute(f"PRAGMA cache_size = -{_READER_CACHE_KIB}")
        conn.execute("PRAGMA query_only = ON")
        with self._reader_lock:
            self._reader_conns.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        """This reader thread's own connection, opened on its first read."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open_reader()
        return conn

    def _over_budget(self) -> bool:
        """SQLite's progress handler: a true result interrupts the inline read."""
        return time.perf_counter() > self._inline_deadline

    async def close(self) -> None:
        """Closes every connection: an open aiosqlite thread keeps the process alive."""
        await self.settle()
        executor, self._executor = self._executor, None
        self._inline = None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)
        with self._reader_lock:
            readers, self._reader_conns = self._reader_conns, []
        for reader in readers:
            reader.close()
        self._local = threading.local()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()

    async def settle(self) -> None:
        """Waits for the background checkpoint of a bulk write, if one runs
        (``checkpoint.py``): for a caller that times writes, or is about to stop."""
        while (task := self._checkpointing) is not None and not task.done():
            await asyncio.shield(task)

    def _checkpoint_soon(self) -> None:
        """After a bulk write: its WAL copied into the database on a connection of its
        own, in the background; a write committed while one runs gets one more."""
        if self.path == ":memory:":
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            self._checkpoint_again = True
            return
        self._checkpointing = asyncio.get_running_loop().create_task(
            self._checkpoint_in_background(), name="verbatim-checkpoint")

    async def _checkpoint_in_background(self) -> None:
        while True:
            self._checkpoint_again = False
            try:
                await asyncio.to_thread(checkpoint, self.path, self._busy_ms)
            except (sqlite3.Error, OSError):
                # The writer's own checkpoints (every 1,000 pages), or the last
                # connection's close, copy the WAL later all the same.
                log.warning("checkpoint after a bulk write failed", exc_info=True)
                return
            if not self._checkpoint_again:
                return

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

    async def _on_writer(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(conn, *args)`` on the writer's own thread, in one crossing.

        Uses aiosqlite's queue to its thread (``_execute``, ``_conn``: private,
        hence the pinned aiosqlite version), so that this and every other use of
        ``writer`` stay strictly ordered on one connection.
        """
        writer = self.writer
        result: _T = await writer._execute(fn, writer._conn, *args)
        return result

    async def _on_reader(
        self, fn: Callable[[sqlite3.Connection], _T], *, key: Hashable | None = None
    ) -> _T:
        """Run ``fn(conn)``: inline within the budget, else on a reader thread (one crossing).

        Reads are idempotent, so one interrupted inline is simply run again
        on a thread; the wasted work is at most the budget. A read with a
        ``key`` that was over budget last time goes straight to a thread (the
        same search of a frequent word is slow every time), until it is seen
        to be fast again.
        """
        inline = self._inline
        if inline is not None and (key is None or key not in self._slow):
            # Yield once first, as a thread crossing would: concurrent requests
            # then interleave read by read (two curators editing at once both
            # read before either writes), and no request runs two reads back
            # to back while others wait.
            await asyncio.sleep(0)
            self._inline_deadline = time.perf_counter() + self.inline_budget
            try:
                return fn(inline)
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise
        executor = self._executor
        if executor is None:
            if self._writer is None:
                raise StoreError("the store is not open")
            return await self._on_writer(fn)  # ":memory:" has only the writer
        loop = asyncio.get_running_loop()
        if key is None:
            return await loop.run_in_executor(executor, lambda: fn(self._reader()))

        def timed() -> tuple[_T, float]:
            started = time.perf_counter()
            return fn(self._reader()), time.perf_counter() - started

        result, took = await loop.run_in_executor(executor, timed)
        if took > self.inline_budget:
            self._slow[key] = None
            self._slow.move_to_end(key)
            if len(self._slow) > _SLOW_KEYS:
                self._slow.popitem(last=False)
        else:
            self._slow.pop(key, None)
        return result

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self._on_reader(lambda conn: conn.execute(sql, params).fetchall())

    # -- reading entries -----------------------------------------------------

    _stored = staticmethod(stored)

    async def get(self, entry_id: str, *, include_retracted: bool = False) -> Stored | None:
        found = await self.get_many([entry_id], include_retracted=include_retracted)
        return found.get(entry_id)

    async def get_many(
        self, ids: Sequence[str], *, include_retracted: bool = False
    ) -> dict[str, Stored]:
        out: dict[str, Stored] = {}
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return out
        parsed = self._parsed
        for row in await self._on_reader(lambda conn: _rows_by_id(conn, "*", wanted)):
            if not include_retracted and row["retracted"]:
                continue
            entry_id = row["id"]
            stored = parsed.get(entry_id)
            if stored is not None and stored.version == row["version"]:
                parsed.move_to_end(entry_id)
            else:
                stored = parsed[entry_id] = self._stored(row)
                if len(parsed) > ENTRY_CACHE_SIZE:
                    parsed.popitem(last=False)
            out[entry_id] = stored
        return out

    async def kinds_of(self, ids: Sequence[str]) -> dict[str, Kind]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        rows = await self._on_reader(lambda conn: _rows_by_id(conn, "id, kind", wanted))
        return {row["id"]: Kind(row["kind"]) for row in rows}

    async def entries(self, kind: Kind) -> AsyncIterator[Stored]:
        """Every entry of a kind, retracted ones included, in id order; each page its own
        read (``snapshot`` for reads that must agree)."""
        async for entry in paged_entries(self._on_reader, kind):
            yield entry

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqliteSnapshot]:
        """The store as it is now, for as long as the block runs (see ``snapshot.py``)."""
        if self.path == ":memory:":
            # No second connection reaches a private in-memory database: its reads go
            # through the writer, between writes, as every other read of it does.
            yield SqliteSnapshot(self._on_writer)
            return
        self.writer  # noqa: B018 -- raises StoreError when the store is not open
        conn = await asyncio.to_thread(open_snapshot, self.path, self._busy_ms)
        try:
            yield SqliteSnapshot(on_connection(conn))
        finally:
            await asyncio.to_thread(conn.close)  # ends the read transaction

    async def history(self, entry_id: str) -> list[Revision]:
        # The creation through entries, the rest through their index (migration 0010).
        rows = await self._fetchall(
            f"{_REVISION_FROM} (SELECT r.* FROM entries e JOIN revisions r"
            " ON r.rev = e.created_rev WHERE e.id = ?1 UNION ALL"
            " SELECT * FROM revisions WHERE entry_id = ?1 AND action <> 'create') r"
            " ORDER BY r.rev",
            (entry_id,),
        )
        return [self._revision(row) for row in rows]

    async def revision(self, rev: int) -> Revision | None:
        rows = await self._fetchall(f"{_REVISION_FROM} revisions r WHERE r.rev = ?", (rev,))
        return self._revision(rows[0]) if rows else None

    @staticmethod
    def _revision(row: sqlite3.Row) -> Revision:
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

    async def sync_state(self, ids: Sequence[str] | None = None) -> dict[str, SyncState]:
        """What loading knowledge files compares with: of the given ids (those on record),
        or of every entry. A bot's start asks for its files' ids only: the whole table
        at 1M statements took 10 s and ~600 MB (docs/performance.md)."""
        if ids is None:
            rows = await self._fetchall("SELECT id, kind, body_hash, file_hash FROM entries")
        else:
            wanted = list(dict.fromkeys(ids))
            rows = await self._on_reader(
                lambda conn: _rows_by_id(conn, "id, kind, body_hash, file_hash", wanted)
            ) if wanted else []
        return {
            row["id"]: SyncState(Kind(row["kind"]), row["body_hash"], row["file_hash"])
            for row in rows
        }

    # -- writing -------------------------------------------------------------

    async def apply(self, changes: Sequence[Change], actor: str) -> WriteResult:
        """All changes in one transaction, each leaving a revision; all or nothing.

        The whole transaction runs on the writer's thread in one crossing
        (see the module docstring): a 100,000-row import is one hand-off,
        not half a million.
        """
        result = WriteResult()
        if not changes:
            return result
        async with self._write_lock:
            revisions = await self._on_writer(self._apply_sync, list(changes), actor)
        result.revisions.extend(revisions)
        return result

    def _apply_sync(
        self, conn: sqlite3.Connection, changes: list[Change], actor: str
    ) -> list[Revision]:
        revisions: list[Revision] = []
        with _write_transaction(conn) as changed:
            at = _now()
            puts = [change for change in changes if isinstance(change, Put)]
            if len(puts) == len(changes) and len({p.entry.id for p in puts}) == len(puts):
                # Only puts, each id once (every import): set-wise, same outcome.
                revisions = self._put_many(conn, puts, actor, at)
            else:
                for change in changes:
                    revision = self._apply_one(conn, change, actor, at)
                    if revision is not None:
                        revisions.append(revision)
            changed.append(bool(revisions))
        return revisions

    async def mark_loaded(self, hashes: dict[str, str]) -> None:
        """Record that the files now say what the store holds (no content change, no revision)."""
        if not hashes:
            return

        def write(conn: sqlite3.Connection) -> None:
            with _write_transaction(conn):  # no content change: the generation stays
                conn.executemany(
                    "UPDATE entries SET file_hash = ? WHERE id = ?",
                    [(h, i) for i, h in hashes.items()],
                )

        async with self._write_lock:
            await self._on_writer(write)

    @staticmethod
    def _row(conn: sqlite3.Connection, entry_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        return row

    def _apply_one(
        self, conn: sqlite3.Connection, change: Change, actor: str, at: str
    ) -> Revision | None:
        if isinstance(change, Put):
            return self._put(conn, change, actor, at)
        if isinstance(change, Retract):
            return self._set_retracted(conn, change.entry_id, True, change.reason,
                                       change.expected_version, actor, at)
        if isinstance(change, Restore):
            return self._set_retracted(conn, change.entry_id, False, change.reason,
                                       None, actor, at)
        raise TypeError(f"unknown change {change!r}")

    def _put(
        self, conn: sqlite3.Connection, change: Put, actor: str, at: str
    ) -> Revision | None:
        entry = change.entry
        doc = entry.doc()
        body = _dump(doc)
        new_hash = doc_hash(doc)
        row = self._row(conn, entry.id)
        if row is None:
            if change.expected_version is not None and not change.force:
                raise NotFound(f"no entry with id {entry.id!r}")
            revision = self._log(conn, entry.id, entry.kind, actor, at, "create",
                                 None, doc, change.reason)
            conn.execute(
                "INSERT INTO entries (id, kind, body, body_hash, file_hash, version, retracted,"
                " updated_at, updated_by, created_rev) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?)",
                (entry.id, entry.kind.value, body, new_hash, change.file_hash, at, actor,
                 revision.rev),
            )
            self._project(conn, entry, visible=True)
            return revision
        self._check_put(row, change)
        if row["body_hash"] == new_hash:
            if change.file_hash is not None and row["file_hash"] != change.file_hash:
                conn.execute(
                    "UPDATE entries SET file_hash = ? WHERE id = ?", (change.file_hash, entry.id)
                )
            return None
        self._update(conn, change, row, body, new_hash, not row["retracted"], actor, at)
        return self._log(conn, entry.id, entry.kind, actor, at, "update",
                               docjson.loads(row["body"]), doc, change.reason)

    @staticmethod
    def _check_put(row: sqlite3.Row, change: Put) -> None:
        """Refuse a put over an entry of another kind, or over a version it did not read."""
        entry = change.entry
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

    def _update(
        self,
        conn: sqlite3.Connection,
        change: Put,
        row: sqlite3.Row,
        body: str | None,
        new_hash: str,
        visible: bool,
        actor: str,
        at: str,
    ) -> None:
        """Replace an entry's document and its derived rows (no revision: the caller logs)."""
        entry = change.entry
        file_hash = change.file_hash if change.file_hash is not None else row["file_hash"]
        conn.execute(
            "UPDATE entries SET body = ?, body_hash = ?, file_hash = ?, version = version + 1,"
            " updated_at = ?, updated_by = ? WHERE id = ?",
            (body, new_hash, file_hash, at, actor, entry.id),
        )
        if not row["retracted"]:  # a retracted entry has no derived rows (_set_retracted)
            self._unproject(conn, entry.id, entry.kind, docjson.loads(row["body"]))
        self._project(conn, entry, visible=visible)

    def _put_many(
        self, conn: sqlite3.Connection, puts: list[Put], actor: str, at: str
    ) -> list[Revision]:
        """Puts of distinct ids, as ``_put`` one by one would leave them, in bulk.

        The same checks in the same order (so the same first error, and a
        rollback), the same rows and revisions (numbered in the order of the
        changes), but: the existing rows fetched in chunks rather than one
        SELECT each; each document serialised and hashed once; entries,
        revisions, names and links written with one statement each (``bulk``); and new
        statements put into the full-text index and the speaker counts with
        one INSERT ... SELECT each (migration 0005) instead of a trigger a row.
        Updates of existing entries, rare in a bulk write, go row by row.
        """
        existing = {row["id"]: row for row in _rows_by_id(conn, "*", [p.entry.id for p in puts])}
        rev = _last_rev(conn)
        revisions: list[Revision] = []
        log_rows: list[tuple[Any, ...]] = []
        created: list[tuple[Any, ...]] = []
        new_entries: list[tuple[Entry, dict[str, Any]]] = []
        updates: list[tuple[Put, str, str, bool]] = []
        file_hashes: list[tuple[str, str]] = []
        for change in puts:
            entry = change.entry
            doc = entry.doc()
            body = docjson.dumps(doc)
            new_hash = doc_hash(doc)
            row = existing.get(entry.id)
            if row is None:
                if change.expected_version is not None and not change.force:
                    raise NotFound(f"no entry with id {entry.id!r}")
                created.append((entry.id, entry.kind.value, body, new_hash, change.file_hash,
                                at, actor, rev + 1))  # numbered below
                new_entries.append((entry, doc))
                action, before, before_text = "create", None, None
            else:
                self._check_put(row, change)
                if row["body_hash"] == new_hash:
                    if change.file_hash is not None and row["file_hash"] != change.file_hash:
                        file_hashes.append((change.file_hash, entry.id))
                    continue
                updates.append((change, body, new_hash, not row["retracted"]))
                action, before = "update", docjson.loads(row["body"])
                before_text = _dump(before)
            rev += 1
            # A creation records no copy of the document (migration 0012).
            log_rows.append((rev, entry.id, entry.kind.value, actor, at, action, before_text,
                             None if action == "create" else body, change.reason))
            revisions.append(Revision(rev, entry.id, entry.kind, actor, at, action, before, doc,
                                      change.reason))
        if file_hashes:
            conn.executemany("UPDATE entries SET file_hash = ? WHERE id = ?", file_hashes)
        for change, body, new_hash, visible in updates:
            row = existing[change.entry.id]
            self._update(conn, change, row, body, new_hash, visible, actor, at)
        # Rows go in in key order: each B-tree page is then visited once, in sequence,
        # instead of at random (ids are random across a file). Revisions keep their
        # numbers, given above in the order of the changes.
        if created:
            _insert_entries(conn, created)
            self._project_many(conn, new_entries)
        log_rows.sort(key=itemgetter(1))
        insert_rows(conn, REVISIONS_HEAD, log_rows)
        return revisions

    def _project_many(
        self, conn: sqlite3.Connection, entries: list[tuple[Entry, dict[str, Any]]]
    ) -> None:
        """``_project`` for many new, visible entries; statements indexed set-wise."""
        self._index_statements(
            conn, [statement_row(e.id, doc) for e, doc in entries if isinstance(e, Statement)]
        )
        events = [event_row(e.id, doc) for e, doc in entries if isinstance(e, Event)]
        insert_rows(conn, EVENT_INDEX_HEAD, events)
        self._index_names_and_links(
            conn,
            [(e.id, name) for e, _ in entries if isinstance(e, Speaker) for name in e.names()],
            [(e.id, link.type, link.to) for e, _ in entries
             if isinstance(e, Statement | Event) for link in e.links],
        )

    @staticmethod
    def _index_statements(conn: sqlite3.Connection, statements: list[tuple[Any, ...]]) -> None:
        """New rows of ``statement_index``, then their full-text rows and speaker counts
        with one INSERT ... SELECT each over the new rowids (migration 0005)."""
        if statements:
            statements.sort(key=itemgetter(0))
            with _bulk_statements(conn, len(statements)):
                insert_rows(conn, STATEMENT_INDEX_HEAD, statements)

    @staticmethod
    def _index_encoded_statements(conn: sqlite3.Connection, encoded: bytes, count: int) -> None:
        """``_index_statements`` of ``count`` rows already in id order, as
        ``bulk.encode_rows`` gave them."""
        if count:
            with _bulk_statements(conn, count):
                insert_encoded(conn, STATEMENT_INDEX_HEAD, encoded)

    @staticmethod
    def _index_names_and_links(
        conn: sqlite3.Connection, names: list[tuple[str, str]],
        links: list[tuple[str, str, str]],
    ) -> None:
        """Speaker names and links of new entries, in key order (each page visited once)."""
        insert_rows(conn, NAMES_HEAD, sorted(names))
        insert_rows(conn, LINKS_HEAD, sorted(links))

    # -- streamed bulk writes (the importer) -----------------------------------

    async def import_state(self) -> KindLookup:
        """What an importer resolves against: the kinds of ids on record, and (read
        only when a row gives a source inline) each source's id, URL, title and
        publisher."""
        if self.path == ":memory:":  # no second connection to such a database: read it all
            rows = await self._fetchall("SELECT id, kind FROM entries")
            sources = await self._fetchall(_SOURCE_KEYS)
            return _KindsInMemory({row[0]: Kind(row[1]) for row in rows},
                                  [(row[0], row[1], row[2], row[3]) for row in sources],
                                  await self.speaker_names())
        return await asyncio.to_thread(_KindsOnDisk, self.path)

    async def entry_heads(self, ids: Sequence[str]) -> dict[str, tuple[Kind, str]]:
        """The kind and ``body_hash`` of each of ``ids`` on record, retracted ones included:
        enough to tell an unchanged re-imported row without parsing its document."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        rows = await self._on_reader(lambda conn: _rows_by_id(conn, "id, kind, body_hash",
                                                              wanted))
        return {row["id"]: (Kind(row["kind"]), row["body_hash"]) for row in rows}

    async def put_documents(
        self, chunks: Iterable[Sequence[DocumentPut]], actor: str
    ) -> int:
        """Puts given as canonical documents already serialised, in chunks, in ONE transaction.

        What ``apply`` of the same puts in the same order would leave (the same
        checks, rows, revisions numbered in order, one generation bump), for a
        caller that holds its batch as JSON text rather than as entries: an
        import of 100,000 statements holds ~60 MB instead of ~700 MB. Each
        item is a ``DocumentPut``; ``body`` must be
        ``_dump(entry.doc())`` of a valid entry. Chunks are pulled from
        ``chunks`` and turned into rows on a second thread while the writer
        runs the previous chunk's SQL (SQLite releases the GIL), so the
        Python work of one chunk overlaps the SQL of the other; for a chunk
        of new entries the writer runs SQL only (``rows.prepare_chunk``).
        Any error rolls everything back. Returns the number of revisions
        written.
        """
        async with self._write_lock:
            with quick_handoffs():  # the writer waits less for the checking thread's GIL
                written = await self._on_writer(self._put_documents_sync, chunks, actor)
        self._checkpoint_soon()
        return written

    def _put_documents_sync(
        self,
        conn: sqlite3.Connection,
        chunks: Iterable[Sequence[DocumentPut]],
        actor: str,
    ) -> int:
        # Not at this commit: in the background after it (checkpoint.py).
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            return self._put_documents_in_one(conn, chunks, actor)
        finally:
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")

    def _put_documents_in_one(
        self,
        conn: sqlite3.Connection,
        chunks: Iterable[Sequence[DocumentPut]],
        actor: str,
    ) -> int:
        source = iter(chunks)
        written = 0
        with _write_transaction(conn) as changed:
            at = _now()
            rev = _last_rev(conn)

            def prepare_next() -> Chunk | None:
                items = next(source, None)
                return None if items is None else prepare_chunk(list(items), actor, at)

            with ThreadPoolExecutor(1, thread_name_prefix="verbatim-serialise") as pool:
                upcoming = pool.submit(prepare_next)
                while (chunk := upcoming.result()) is not None:
                    upcoming = pool.submit(prepare_next)
                    rev, count = self._write_chunk(conn, chunk, actor, at, rev)
                    written += count
            changed.append(written > 0)
        return written

    def _write_chunk(
        self, conn: sqlite3.Connection, chunk: Chunk, actor: str, at: str, rev: int
    ) -> tuple[int, int]:
        """One chunk of ``put_documents``, as ``_put_many`` would write it; returns the
        last revision number and how many revisions were written."""
        existing = {row["id"]: row for row in _rows_by_ids_json(conn, "*", chunk.ids)}
        if not existing and chunk.new is not None:
            return self._write_new(conn, chunk.new, chunk.count, actor, at, rev)
        created: list[tuple[Any, ...]] = []
        created_revs: list[tuple[Any, ...]] = []
        log_rows: list[tuple[Any, ...]] = []
        new: list[Prepared] = []
        for item in chunk.items:
            kind, entry_id, body, expected = item.kind, item.id, item.body, item.expected_version
            new_hash = item.hash
            row = existing.get(entry_id)
            if row is None:
                if expected is not None:
                    raise NotFound(f"no entry with id {entry_id!r}")
                rev += 1
                created.append((entry_id, kind.value, body, new_hash, None, at, actor, rev))
                # No copy of the document: the entry's body is it (migration 0012).
                created_revs.append((rev, entry_id, kind.value, actor, at, "create",
                                     None, None, None))
                new.append(item)
                continue
            # Rare in a bulk write: checked and updated through the model, as by _put.
            change = Put(entry_from_doc(kind, docjson.loads(body)), expected_version=expected)
            self._check_put(row, change)
            if row["body_hash"] == new_hash:
                continue
            self._update(conn, change, row, body, new_hash, not row["retracted"], actor, at)
            rev += 1
            log_rows.append((rev, entry_id, kind.value, actor, at, "update",
                             _dump(docjson.loads(row["body"])), body, None))
        if created:
            _insert_entries(conn, created)
            self._index_statements(
                conn, [p.row for p in new if p.kind is Kind.STATEMENT and p.row])
            insert_rows(conn, EVENT_INDEX_HEAD,
                        [p.row for p in new if p.kind is Kind.EVENT and p.row])
            self._index_names_and_links(conn, [name for p in new for name in p.names],
                                        [link for p in new for link in p.links])
        insert_rows(conn, REVISIONS_HEAD, created_revs)
        insert_rows(conn, REVISIONS_HEAD, log_rows)
        return rev, len(created_revs) + len(log_rows)

    def _write_new(
        self, conn: sqlite3.Connection, new: NewRows, count: int, actor: str, at: str, rev: int
    ) -> tuple[int, int]:
        """A chunk of new entries whose rows were all encoded off this thread: the
        writer runs SQL only (the same rows, in the same order, as the general path)."""
        conn.execute(NEW_ENTRIES_SQL, (rev, new.entries))
        self._index_encoded_statements(conn, new.statements_json, new.statements)
        insert_encoded(conn, EVENT_INDEX_HEAD, new.events)
        insert_encoded(conn, NAMES_HEAD, new.names)
        insert_encoded(conn, LINKS_HEAD, new.links)
        conn.execute(CREATION_REVISIONS_SQL, (rev, actor, at, new.creations))
        return rev + count, count

    def _set_retracted(
        self,
        conn: sqlite3.Connection,
        entry_id: str,
        retract: bool,
        reason: str | None,
        expected_version: int | None,
        actor: str,
        at: str,
    ) -> Revision:
        row = self._row(conn, entry_id)
        if row is None:
            raise NotFound(f"no entry with id {entry_id!r}")
        if bool(row["retracted"]) == retract:
            state = "already retracted" if retract else "not retracted"
            raise StoreError(f"{entry_id!r} is {state}")
        if expected_version is not None and row["version"] != expected_version:
            raise Conflict(
                f"{entry_id!r} was changed by {row['updated_by']} at {row['updated_at']}"
            )
        conn.execute(
            "UPDATE entries SET retracted = ?, retract_reason = ?, version = version + 1,"
            " updated_at = ?, updated_by = ? WHERE id = ?",
            (int(retract), reason if retract else None, at, actor, entry_id),
        )
        kind = Kind(row["kind"])
        doc = docjson.loads(row["body"])
        if retract:
            self._unproject(conn, entry_id, kind, doc)
        else:
            self._project(conn, entry_from_doc(kind, doc), visible=True)
        return self._log(conn, entry_id, kind, actor, at,
                               "retract" if retract else "restore", doc, doc, reason)

    def _log(
        self,
        conn: sqlite3.Connection,
        entry_id: str,
        kind: Kind,
        actor: str,
        at: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str | None,
    ) -> Revision:
        """Append a revision. A creation's stores no copy of the document, which the
        entry holds (migration 0012); the revision returned has it."""
        after_text = None if action == "create" else _dump(after)
        cur = conn.execute(
            "INSERT INTO revisions (entry_id, kind, actor, at, action, before, after, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_id, kind.value, actor, at, action, _dump(before), after_text, reason),
        )
        rev = cur.lastrowid
        assert rev is not None
        return Revision(rev, entry_id, kind, actor, at, action, before, after, reason)

    def _unproject(
        self, conn: sqlite3.Connection, entry_id: str, kind: Kind, doc: dict[str, Any]
    ) -> None:
        """Remove the derived rows of an entry whose document was ``doc``."""
        if kind is Kind.STATEMENT:
            _delete_statement_row(conn, entry_id, doc)
        elif kind is Kind.EVENT:
            conn.execute("DELETE FROM event_index WHERE id = ?", (entry_id,))
        elif kind is Kind.SPEAKER:
            conn.execute("DELETE FROM speaker_names WHERE speaker_id = ?", (entry_id,))
        conn.execute("DELETE FROM links WHERE source = ?", (entry_id,))

    def _project(self, conn: sqlite3.Connection, entry: Entry, *, visible: bool) -> None:
        """Fill the derived tables for a visible entry; retracted ones stay out of them."""
        if not visible:
            return
        if isinstance(entry, Statement):
            conn.execute(_STATEMENT_INDEX_INSERT, statement_row(entry.id, entry.doc()))
        elif isinstance(entry, Event):
            conn.execute(_EVENT_INDEX_INSERT, event_row(entry.id, entry.doc()))
        elif isinstance(entry, Speaker):
            conn.executemany(
                "INSERT OR IGNORE INTO speaker_names (speaker_id, name) VALUES (?, ?)",
                [(entry.id, name) for name in entry.names()],
            )
        if isinstance(entry, Statement | Event) and entry.links:
            conn.executemany(
                "INSERT OR IGNORE INTO links (source, type, target) VALUES (?, ?, ?)",
                [(entry.id, link.type, link.to) for link in entry.links],
            )

    # -- searching -----------------------------------------------------------

    async def speaker_names(self) -> list[tuple[str, str]]:
        rows = await self._fetchall(_SPEAKER_NAMES)
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
        if expression is not None and query.speaker_ids:
            # The speaker inside the full-text query (migration 0004): FTS5 then
            # scores only that speaker's matches. speaker_id is still filtered.
            speakers = " OR ".join(f"speaker_token : {quote_token(speaker_token(s))}"
                                   for s in query.speaker_ids)
            expression = f"({expression}) AND ({speakers})"
        counted = None
        if (expression is None and query.speaker_ids and not query.language
                and query.since is None and query.until is None):
            # A speaker's whole record: the total is kept by triggers (0004).
            marks = ",".join("?" * len(query.speaker_ids))
            counted = (f"SELECT coalesce(sum(n), 0) FROM statement_counts"
                       f" WHERE speaker_id IN ({marks})", list(query.speaker_ids))
        return await self._search(
            index="statement_index", fts="statement_fts", weights="10.0, 6.0, 4.0, 1.0, 0.0",
            expression=expression, where=where, params=params,
            limit=query.limit, offset=query.offset, chronological=query.chronological,
            counted=counted,
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
        counted: tuple[str, list[Any]] | None = None,
    ) -> Page:
        clause = f" AND {' AND '.join(where)}" if where else ""
        if expression is not None:
            # The full-text match drives: SQLite would otherwise walk the speaker or
            # date index and re-run the MATCH row by row (11 ms at 10k statements,
            # seconds at 1M). The page and the total come from one pass over the
            # matches: count(*) OVER () is taken before ORDER BY ... LIMIT.
            order = ("s.date_start, s.date_end, s.id" if chronological
                     else "f.score, s.date_start DESC, s.id")
            sql = (
                f"SELECT s.id AS id, count(*) OVER () AS total FROM"
                f" (SELECT rowid, bm25({fts}, {weights}) AS score FROM {fts}"
                f"  WHERE {fts} MATCH ?) f"
                f" CROSS JOIN {index} s ON s.rowid = f.rowid WHERE 1{clause}"
                f" ORDER BY {order} LIMIT ? OFFSET ?"
            )
            count_sql = (
                f"SELECT count(*) FROM {fts} CROSS JOIN {index} s ON s.rowid = {fts}.rowid"
                f" WHERE {fts} MATCH ?{clause}"
            )
            params = [expression, *params]
        else:
            order = ("s.date_start, s.date_end, s.id" if chronological
                     else "s.date_start DESC, s.date_end DESC, s.id DESC")  # 0007
            sql = (f"SELECT s.id AS id, NULL AS total FROM {index} s WHERE 1{clause}"
                   f" ORDER BY {order} LIMIT ? OFFSET ?")
            count_sql = f"SELECT count(*) FROM {index} s WHERE 1{clause}"
        count_params = params
        if counted is not None:
            count_sql, count_params = counted

        def run(conn: sqlite3.Connection) -> Page:
            rows = conn.execute(sql, [*params, limit, offset]).fetchall()
            if rows and rows[0]["total"] is not None:
                total = int(rows[0]["total"])
            else:  # no window total (no words, or a page past the end): count apart
                total = int(conn.execute(count_sql, count_params).fetchone()[0])
            return Page([row["id"] for row in rows], total)

        key = (sql, tuple(params), limit, offset)
        return await self._on_reader(run, key=key)

    async def links_of(self, entry_id: str) -> tuple[list[LinkRow], list[LinkRow]]:
        """Outgoing and incoming links whose other end is visible."""

        def run(conn: sqlite3.Connection) -> tuple[list[LinkRow], list[LinkRow]]:
            out = conn.execute(
                "SELECT l.source, l.type, l.target FROM links l JOIN entries e"
                " ON e.id = l.target WHERE l.source = ? AND e.retracted = 0"
                " ORDER BY l.type, l.target",
                (entry_id,),
            ).fetchall()
            inc = conn.execute(
                "SELECT source, type, target FROM links WHERE target = ? ORDER BY type, source",
                (entry_id,),
            ).fetchall()
            return ([LinkRow(r["source"], r["type"], r["target"]) for r in out],
                    [LinkRow(r["source"], r["type"], r["target"]) for r in inc])

        return await self._on_reader(run)

    # -- the feed of a derived search index ------------------------------------

    async def revision_head(self) -> RevisionHead:
        def run(conn: sqlite3.Connection) -> RevisionHead:
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_key'").fetchone()
            return RevisionHead(int(row[0]) if row else 0, _last_rev(conn))

        return await self._on_reader(run)

    async def statement_total(self) -> int:
        rows = await self._fetchall("SELECT coalesce(sum(n), 0) FROM statement_counts")
        return int(rows[0][0])

    async def statements_changed(self, after_rev: int, limit: int) -> tuple[list[str], int]:
        def run(conn: sqlite3.Connection) -> tuple[list[str], int]:
            rows = conn.execute(
                "SELECT rev, entry_id, kind FROM revisions WHERE rev > ? ORDER BY rev LIMIT ?",
                (after_rev, max(1, limit)),
            ).fetchall()
            ids = dict.fromkeys(r["entry_id"] for r in rows if r["kind"] == "statement")
            return list(ids), (rows[-1]["rev"] if rows else after_rev)

        return await self._on_reader(run)

    async def search_documents(self, ids: Sequence[str]) -> list[SearchDocument]:
        """Made from the visible statements' documents, by the projection that made their
        rows: ``statement_index`` has no index on id (migration 0013)."""

        def run(conn: sqlite3.Connection) -> list[SearchDocument]:
            rows = conn.execute(
                "SELECT id, body FROM entries WHERE id IN (SELECT value FROM json_each(?))"
                " AND kind = 'statement' AND NOT retracted", (ids_json(ids),)).fetchall()
            return [_search_document(statement_row(row[0], docjson.loads(row[1])))
                    for row in rows]

        return await self._on_reader(run)

    async def search_documents_after(
        self, cursor: int, limit: int
    ) -> tuple[list[SearchDocument], int]:
        """Pages in rowid order (the table's own order: no sort, no index walk)."""

        def run(conn: sqlite3.Connection) -> tuple[list[SearchDocument], int]:
            rows = conn.execute(
                f"SELECT rowid, {_DOCUMENT_COLUMNS} FROM statement_index WHERE rowid > ?"
                " ORDER BY rowid LIMIT ?", (cursor, max(1, limit)),
            ).fetchall()
            return [_document(row) for row in rows], (rows[-1]["rowid"] if rows else cursor)

        return await self._on_reader(run)


_DOCUMENT_COLUMNS = ("id, speaker_id, date_start, date_end, language, body_text, translation,"
                     " topics, context")


def _search_document(row: tuple[Any, ...]) -> SearchDocument:
    """The ``SearchDocument`` of a ``statement_row``: the same fields, but ``said_on``."""
    entry_id, speaker_id, _said_on, start, end, language, text, translation, topics, context = row
    return SearchDocument(id=entry_id, speaker_id=speaker_id, date_start=start, date_end=end,
                          language=language, body_text=text, translation=translation,
                          topics=topics, context=context)


DELETE_STATEMENT_ROW = ("DELETE FROM statement_index WHERE speaker_id = ? AND date_start = ?"
                        " AND date_end = ? AND id = ?")
"""A statement's row by its whole key in ``statement_speaker_chrono``."""


def _delete_statement_row(conn: sqlite3.Connection, entry_id: str, doc: dict[str, Any]) -> None:
    """Delete the ``statement_index`` row made from ``doc``, if there is one.

    It is found by its key in the speaker index, worked out again from the
    document (``statement_row``), since the table has no index on id
    (migration 0013). Should a row have been made otherwise (an older
    projection of its date), it is looked for among the speaker's rows.
    """
    row = statement_row(entry_id, doc)
    deleted = conn.execute(DELETE_STATEMENT_ROW, (row[1], row[3], row[4], entry_id)).rowcount
    if not deleted:
        conn.execute("DELETE FROM statement_index WHERE speaker_id = ? AND id = ?",
                     (row[1], entry_id))


def _document(row: sqlite3.Row) -> SearchDocument:
    return SearchDocument(
        id=row["id"], speaker_id=row["speaker_id"], date_start=row["date_start"],
        date_end=row["date_end"], language=row["language"], body_text=row["body_text"],
        translation=row["translation"], topics=row["topics"], context=row["context"],
    )


# A revision as recorded, with the document a creation made (migration 0012): the
# creation of an entry stores no copy of it (a second ~600 bytes a statement, as
# large as the entry itself), since the entry holds it until its first later
# revision, which holds it as ``before``. Revisions written before 0012 have it.
_REVISION_FROM = (
    "SELECT r.rev, r.entry_id, r.kind, r.actor, r.at, r.action, r.before, r.reason,"
    " CASE WHEN r.action = 'create' AND r.after IS NULL THEN coalesce("
    "(SELECT n.before FROM revisions n WHERE n.entry_id = r.entry_id"
    " AND n.action <> 'create' AND n.rev > r.rev ORDER BY n.rev LIMIT 1),"
    " (SELECT e.body FROM entries e WHERE e.id = r.entry_id))"
    " ELSE r.after END AS after FROM"
)
_STATEMENT_INDEX_INSERT = f"{STATEMENT_INDEX_HEAD} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_EVENT_INDEX_INSERT = f"{EVENT_INDEX_HEAD} VALUES (?, ?, ?, ?, ?, ?, ?)"


# Each source's id, URL, title and publisher, for an import that gives sources
# inline: read from three JSON fields without building a model of any document.
_SPEAKER_NAMES = "SELECT speaker_id, name FROM speaker_names ORDER BY speaker_id, name"
_SOURCE_KEYS = (
    "SELECT id, coalesce(json_extract(body, '$.url'), ''), json_extract(body, '$.title'),"
    " coalesce(json_extract(body, '$.publisher'), '')"
    " FROM entries WHERE kind = 'source' AND kind <> 'statement' ORDER BY id"
)


class _KindsOnDisk:
    """``KindLookup`` on a read-only connection of its own, remembering what it read.

    Every id that is not a statement's (speakers, sources, events: ~115,000
    at 1M statements, ~10 MB) is read once, up front, with one scan of the
    partial ``entries_kind`` index. Those are what rows point to, and asked
    for one by one they cost a query each: a 100,000-statement import into
    the 1M store asked ~65,000 times, 4 s of its checking. Only statement
    ids are still looked up on demand (``prefetch`` for the batch's own).
    """

    _REMEMBER = 200_000

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._known: dict[str, Kind | None] = {}
        kind_of = {kind.value: kind for kind in Kind}  # a dict lookup, not Kind(...) each
        self._others: dict[str, Kind] = {
            entry_id: kind_of[kind] for entry_id, kind in self._conn.execute(
                "SELECT id, kind FROM entries WHERE kind <> 'statement'")
        }

    def get(self, entry_id: str) -> Kind | None:
        other = self._others.get(entry_id)
        if other is not None:
            return other
        if entry_id not in self._known:
            row = self._conn.execute("SELECT kind FROM entries WHERE id = ?",
                                     (entry_id,)).fetchone()
            self._remember({entry_id: Kind(row[0]) if row else None})
        return self._known[entry_id]

    def __contains__(self, entry_id: str) -> bool:
        return self.get(entry_id) is not None

    def prefetch(self, ids: Iterable[str]) -> set[str]:
        # Set operations rather than a lookup an id: an import asks about every row's id.
        wanted = set(ids)
        held = wanted.intersection(self._others)
        known = self._known
        held.update(i for i in wanted.intersection(known) if known[i] is not None)
        # Sorted: each chunk's lookups then fall in one stretch of the id tree (100,000
        # statement ids against the 900k store: 0.29 s instead of 0.60-0.67).
        # Only what is on record is remembered: the ids found missing are the batch's
        # own, which the importer asks about no more (~5 MB a 100,000-row batch).
        for chunk in _chunks(sorted(wanted.difference(held, known))):
            marks = ",".join("?" * len(chunk))
            found: dict[str, Kind | None] = {
                entry_id: Kind(kind) for entry_id, kind in self._conn.execute(
                    f"SELECT id, kind FROM entries WHERE id IN ({marks})", list(chunk))}
            held.update(found)
            self._remember(found)
        return held

    def _remember(self, found: dict[str, Kind | None]) -> None:
        if len(self._known) + len(found) > self._REMEMBER:
            self._known.clear()  # the next import of such a size asks again: correct either way
        self._known.update(found)

    def sources(self) -> list[tuple[str, str, str, str]]:
        rows = self._conn.execute(_SOURCE_KEYS).fetchall()
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    def speaker_names(self) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self._conn.execute(_SPEAKER_NAMES)]

    def close(self) -> None:
        """Done: the connection closes and the ids held go (~15 MB at 1M)."""
        self._conn.close()
        self._others.clear()
        self._known.clear()


class _KindsInMemory:
    def __init__(self, kinds: dict[str, Kind], sources: list[tuple[str, str, str, str]],
                 names: list[tuple[str, str]]) -> None:
        self._kinds = kinds
        self._sources = sources
        self._names = names

    def sources(self) -> list[tuple[str, str, str, str]]:
        return self._sources

    def speaker_names(self) -> list[tuple[str, str]]:
        return self._names

    def get(self, entry_id: str) -> Kind | None:
        return self._kinds.get(entry_id)

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._kinds

    def prefetch(self, ids: Iterable[str]) -> set[str]:
        return set(ids).intersection(self._kinds)

    def close(self) -> None:
        pass


@contextmanager
def _bulk_statements(conn: sqlite3.Connection, count: int) -> Iterator[None]:
    """Around the insert of ``count`` new ``statement_index`` rows: the triggers stand
    aside while it runs (0005), then the new rows' full-text rows and speaker counts
    go in with one INSERT ... SELECT each over their rowids."""
    (first,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM statement_index").fetchone()
    # The triggers stand aside while this row exists (0005); never committed.
    conn.execute("INSERT INTO meta (key, value) VALUES ('bulk_index', 1)")
    try:
        yield
    finally:
        conn.execute("DELETE FROM meta WHERE key = 'bulk_index'")
    span = (first, first + count)
    (last,) = conn.execute("SELECT max(rowid) FROM statement_index").fetchone()
    assert last == span[1], (last, span)
    conn.execute(
        "INSERT INTO statement_fts (rowid, body_text, translation, topics, context,"
        " speaker_token) SELECT rowid, body_text, translation, topics, context,"
        " speaker_token FROM statement_index WHERE rowid > ? AND rowid <= ?",
        span,
    )
    conn.execute(
        "INSERT INTO statement_counts (speaker_id, n) SELECT speaker_id, count(*)"
        " FROM statement_index WHERE rowid > ? AND rowid <= ? GROUP BY speaker_id"
        " ON CONFLICT (speaker_id) DO UPDATE SET n = n + excluded.n",
        span,
    )


def _insert_entries(conn: sqlite3.Connection, created: list[tuple[Any, ...]]) -> None:
    """New entries (id, kind, body, hash, file hash, at, by, the revision that creates
    it), in key order: each B-tree page is then visited once, in sequence, instead of at
    random."""
    created.sort(key=itemgetter(0))
    insert_rows(conn, ENTRIES_HEAD, [(*row, 1, 0) for row in created])


@contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[list[bool]]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, all or nothing. The caller appends True to the
    yielded list when it changed anything: the generation then moves, so caches reload."""
    changed: list[bool] = []
    begin_immediate(conn)
    try:
        yield changed
        if any(changed):
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _last_rev(conn: sqlite3.Connection) -> int:
    """The highest revision number ever given (AUTOINCREMENT never reuses one)."""
    row = conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'revisions'), 0),"
        " coalesce((SELECT max(rev) FROM revisions), 0))"
    ).fetchone()
    return int(row[0])


def speaker_token(speaker_id: str) -> str:
    """The speaker's one full-text token; the same expression as the generated column (0004)."""
    return "spk" + speaker_id.replace("-", "x")


def _rows_by_id(conn: sqlite3.Connection, columns: str, ids: Sequence[str]) -> list[sqlite3.Row]:
    """Rows of ``entries`` for many ids, in one query (the ids as one JSON parameter)."""
    return _rows_by_ids_json(conn, columns, ids_json(ids))


def _rows_by_ids_json(conn: sqlite3.Connection, columns: str, ids: str) -> list[sqlite3.Row]:
    """``_rows_by_id`` of ids already encoded by ``bulk.ids_json``."""
    rows: list[sqlite3.Row] = conn.execute(
        f"SELECT {columns} FROM entries WHERE id IN (SELECT value FROM json_each(?))",
        (ids,)).fetchall()
    return rows
