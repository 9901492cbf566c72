"""The derived index for a bot whose store grows past the size that needs it.

With ``VERBATIM_SEARCH_INDEX=auto`` the derived index is used from a
number of statements up. That was decided once, at start: a bot started on
a small store kept answering with SQLite FTS5 alone however large imports
made it, until restarted (at 1M statements, FTS5 alone gave /quote p50
7.0 ms, p99 166 ms and 81 answers a second; with the index, ~2 ms, ~6 ms
and ~700; docs/performance.md). ``AutoIndex`` asks again while the bot
runs, at most every ``every`` seconds and never on a reader's time: the
first search after the store has grown opens the index, and from then on
the index answers as soon as it has caught up (until then, FTS5 does, as
at start).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.search.engine import RankedIndex
from bot.store.base import Page, StatementQuery

log = logging.getLogger(__name__)

CHECK_EVERY_S = 30.0
"""How often a running bot asks again whether its store is large enough for the index."""


class ClosableIndex(RankedIndex, Protocol):
    """A ranked index that holds files and threads (``DerivedIndex``)."""

    async def close(self) -> None: ...


class AutoIndex:
    """No index until ``opener`` returns one, then that index.

    ``opener`` decides (it reads the store's size against the setting) and
    returns None while the store is too small; it is asked at most every
    ``every`` seconds, by a search, in the background.
    """

    def __init__(self, opener: Callable[[], Awaitable[ClosableIndex | None]], *,
                 every: float | None = None) -> None:
        self.opener = opener
        self.every = CHECK_EVERY_S if every is None else every
        self.index: ClosableIndex | None = None
        self._next_check = time.monotonic() + self.every  # the caller has just asked
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def search(self, query: StatementQuery) -> Page | None:
        """The index's page once it is open and current; None (the store answers) before."""
        if self.index is not None:
            return await self.index.search(query)
        self._maybe_check()
        return None

    def _maybe_check(self) -> None:
        if self._closed or time.monotonic() < self._next_check:
            return
        if self._task is not None and not self._task.done():
            return
        self._next_check = time.monotonic() + self.every
        self._task = asyncio.get_running_loop().create_task(
            self._check(), name="verbatim-index-auto-check")

    async def _check(self) -> None:
        try:
            index = await self.opener()
        except Exception:
            # A folder that cannot be opened: FTS5 goes on answering; asked again later.
            log.exception("search index could not be opened; SQLite FTS5 answers meanwhile")
            return
        if index is None:
            return
        if self._closed:  # closed while opening: nothing may be left open
            await index.close()
            return
        log.info("search index switched on: the store has grown to the size that uses it")
        self.index = index

    async def close(self) -> None:
        """Closes the index if one was opened. A check in progress is awaited, not
        cancelled: cut short, it could leave an index half open; it closes what it
        opens once it sees this."""
        self._closed = True
        if self._task is not None:
            await self._task
            self._task = None
        if self.index is not None:
            await self.index.close()
            self.index = None
