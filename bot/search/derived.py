"""Keeps the tantivy statement index current with the store, and says when it may answer.

The rule that keeps it honest: the index answers a search only when it
holds exactly the store's latest revision, of this very store. Otherwise the
store's own FTS5 answers, and a catch-up runs in the background: the
revisions after the index's last one are applied (each changed statement is
dropped and added again if still visible), or, when the gap is large against
the index's size or the store is another one, the index is rebuilt from the
store's rows. A curator's
new statement is therefore found at once (by FTS5) and, moments later, by
the index too.

Only one process keeps a given index folder current (tantivy's writer lock);
another process using the same folder reads it while it is current and
otherwise falls back to FTS5.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.search.tantivy_index import IndexState, StatementIndex
from bot.store.base import Page, RevisionHead, StatementQuery, Store

log = logging.getLogger(__name__)

_T = TypeVar("_T")

CATCH_UP_REVISIONS = 5_000
"""Revisions read per incremental step (one commit each)."""

REBUILD_SHARE = 0.5
"""Rebuilt, rather than replayed, when behind by more revisions than this share of the
statements it holds. Replaying a revision costs about twice what reading a statement
again does: at 1M statements, after an import of 100,000, the replay took 8.6 s and a
rebuild 41.7 s (86 and 42 microseconds; docs/performance.md). A fixed 50,000 used to
rebuild the whole 1M index after every import of that size."""

REBUILD_PAGE = 2_000

RETRY_AFTER_S = 60.0
"""After a failed catch-up (a full disk, say), FTS5 answers for this long before the next try."""


@dataclass(frozen=True)
class CatchUp:
    """What one catch-up did, for logs and tests."""

    rebuilt: bool
    applied: int
    rev: int
    seconds: float


class DerivedIndex:
    """The tantivy index of one store, and the work of keeping it current.

    ``maintain`` False: use the index only while another process keeps it
    current (a one-shot ``verbatim ask`` must not start a rebuild).
    """

    def __init__(self, store: Store, path: Path | None, *, maintain: bool = True) -> None:
        self.store = store
        self.path = path
        self.maintain = maintain
        self._index: StatementIndex | None = None
        # Every call into tantivy runs on this one thread: the event loop never
        # blocks on it, and writes are ordered without a lock.
        self._thread: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[CatchUp | None] | None = None
        self._busy_warned = False
        self._retry_at = 0.0
        self._one_writer = asyncio.Lock()  # a background catch-up and a caller's, in turn

    async def open(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-index")
        self._index = await self._run(StatementIndex, self.path)

    async def close(self) -> None:
        """Stops a running catch-up (its last commit stays valid) and the index thread."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.shutdown, wait=True)
        self._index = None

    async def __aenter__(self) -> DerivedIndex:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._thread is None:
            raise RuntimeError("the search index is not open")
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    @property
    def index(self) -> StatementIndex:
        if self._index is None:
            raise RuntimeError("the search index is not open")
        return self._index

    # -- answering -------------------------------------------------------------

    async def search(self, query: StatementQuery) -> Page | None:
        """The page from the index, or None: then the store must answer."""
        if self._index is None or not StatementIndex.can_answer(query):
            return None
        if not await self.is_current():
            return None
        try:
            return await self._run(self._index.search, query)
        except (OSError, ValueError):
            # A damaged or vanished index must not cost the reader an answer.
            log.exception("search index failed a search; SQLite FTS5 answers it")
            return None

    async def is_current(self) -> bool:
        """True when the index holds the store's latest revision; else starts a catch-up."""
        index = self.index
        head = await self.store.revision_head()
        if self._holds(index.state, head):
            return True
        if not self.maintain:
            if self._holds(await self._run(index.reread_state), head):
                return True
        else:
            self.start_catch_up()
        return False

    @staticmethod
    def _holds(state: IndexState, head: RevisionHead) -> bool:
        return state.store_key == head.store_key and state.rev == head.rev

    # -- keeping current ---------------------------------------------------------

    def start_catch_up(self) -> asyncio.Task[CatchUp | None] | None:
        """At most one catch-up at a time; a write during it is picked up by the next.

        After a failed one, the next waits ``RETRY_AFTER_S``. Returns the
        running (or last) catch-up, to await when the caller must wait."""
        running = self._task is not None and not self._task.done()
        if not running and time.monotonic() >= self._retry_at:
            self._task = asyncio.get_running_loop().create_task(
                self._catch_up_logged(), name="verbatim-index-catch-up")
        return self._task

    async def forget(self) -> None:
        """Makes the next catch-up a full rebuild (``verbatim index --rebuild``)."""
        await self._run(self.index.forget)

    async def count(self) -> int:
        return await self._run(self.index.count)

    async def _catch_up_logged(self) -> CatchUp | None:
        try:
            result = await self.catch_up()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, ValueError) and "lock" in str(exc).lower():
                if not self._busy_warned:
                    log.warning("search index %s is kept by another process; this one reads"
                                " it while it is current and uses SQLite FTS5 otherwise",
                                self.path)
                    self._busy_warned = True
                self.maintain = False
            else:
                # A full disk, a damaged file: FTS5 answers; try again later, not at
                # every search.
                log.exception("search index catch-up failed; SQLite FTS5 answers meanwhile")
                self._retry_at = time.monotonic() + RETRY_AFTER_S
            return None
        if result.applied or result.rebuilt:
            log.info("search index: %s %d statements up to revision %d in %.1f s",
                     "rebuilt with" if result.rebuilt else "applied", result.applied,
                     result.rev, result.seconds)
        return result

    async def catch_up(self) -> CatchUp:
        """Brings the index to the store's head: replays revisions, or rebuilds."""
        async with self._one_writer:
            return await self._catch_up()

    async def _catch_up(self) -> CatchUp:
        started = time.perf_counter()
        index = self.index
        head = await self.store.revision_head()
        state = index.state
        rebuild = (state.store_key != head.store_key or state.rev > head.rev
                   or head.rev - state.rev > REBUILD_SHARE * await self._run(index.count))
        writer = await self._run(index.writer)
        try:
            applied = 0
            if rebuild:
                applied = await self._rebuild(writer, head)
                state = index.state
            while state.rev < head.rev:
                ids, upto = await self.store.statements_changed(state.rev, CATCH_UP_REVISIONS)
                if upto <= state.rev:  # numbers given to writes that rolled back
                    upto = head.rev
                docs = await self.store.search_documents(ids) if ids else []
                state = IndexState(head.store_key, upto)
                await self._run(self._replace_and_commit, writer, ids, docs, state)
                applied += len(ids)
                if state.rev >= head.rev:  # writes made meanwhile are caught up too
                    head = await self.store.revision_head()
        finally:
            await self._run(self._release, writer)
        return CatchUp(rebuild, applied, index.state.rev, time.perf_counter() - started)

    async def _rebuild(self, writer: Any, head: RevisionHead) -> int:
        """Every visible statement read again; revisions after ``head`` are replayed after.

        Rows read while writes go on may be newer than ``head``: replaying
        those revisions again afterwards is harmless, so the result converges.
        """
        index = self.index
        await self._run(writer.delete_all_documents)
        cursor, count = 0, 0
        while True:
            docs, cursor = await self.store.search_documents_after(cursor, REBUILD_PAGE)
            if not docs:
                break
            await self._run(index.add, writer, docs)
            count += len(docs)
        await self._run(index.commit, writer, IndexState(head.store_key, head.rev))
        return count

    def _replace_and_commit(self, writer: Any, ids: list[str], docs: list[Any],
                            state: IndexState) -> None:
        self.index.replace(writer, ids, docs)
        self.index.commit(writer, state)

    @staticmethod
    def _release(writer: Any) -> None:
        """Lets merges finish and frees the writer's lock for other processes."""
        writer.wait_merging_threads()
