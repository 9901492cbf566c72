"""Turns a parsed query into a plan the store can run, and runs it.

The plan first takes the speaker out of the words (``lavrov aleppo`` is
"statements by Sergey Lavrov about aleppo", not two words to match), then
asks for every remaining word; only when that finds nothing does it accept
any of them, so a precise query is never drowned by a loose one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.search.names import NameMatch, SpeakerIndex
from bot.search.query import ParsedQuery
from bot.store.base import EventQuery, Page, StatementQuery, Store


class RankedIndex(Protocol):
    """A search index derived from the store (``bot.search.derived.DerivedIndex``).

    It answers only when it is exactly as current as the store; None means
    "ask the store", so results never depend on whether it is there.
    """

    async def search(self, query: StatementQuery) -> Page | None: ...


@dataclass(frozen=True)
class StatementResult:
    page: Page
    speakers: list[NameMatch] = field(default_factory=list)
    words: tuple[str, ...] = ()
    loosened: bool = False
    """True when no entry had every word and the result holds entries with some of them."""


class Searcher:
    """Owns the speaker-name index, rebuilt only when the store's generation moves."""

    def __init__(self, store: Store, ranked: RankedIndex | None = None) -> None:
        self.store = store
        self.ranked = ranked
        self._index: SpeakerIndex | None = None
        self._generation = -1
        self._lock = asyncio.Lock()

    async def speakers(self) -> SpeakerIndex:
        generation = await self.store.generation()
        if self._index is not None and generation == self._generation:
            return self._index
        async with self._lock:
            if self._index is None or generation != self._generation:
                rows = await self.store.speaker_names()
                self._index = await asyncio.to_thread(SpeakerIndex, rows)
                self._generation = generation
        assert self._index is not None
        return self._index

    async def statements(
        self,
        query: ParsedQuery,
        *,
        limit: int,
        offset: int,
        chronological: bool = False,
        resolve_speaker: bool = True,
    ) -> StatementResult:
        speakers: list[NameMatch] = []
        words = list(query.words)
        if resolve_speaker and words:
            index = await self.speakers()
            speakers, words = index.split_query(words)
        base = StatementQuery(
            speaker_ids=tuple(dict.fromkeys(m.speaker_id for m in speakers)),
            words=tuple(words),
            phrases=query.phrases,
            since=query.since,
            until=query.until,
            language=query.language,
            limit=limit,
            offset=offset,
            chronological=chronological,
        )
        page = await self._search(base)
        loosened = False
        if page.total == 0 and len(words) + len(query.phrases) > 1:
            page = await self._search(replace(base, match_any=True))
            loosened = page.total > 0
        return StatementResult(page, speakers, tuple(words), loosened)

    async def _search(self, query: StatementQuery) -> Page:
        if self.ranked is not None:
            page = await self.ranked.search(query)
            if page is not None:
                return page
        return await self.store.search_statements(query)

    async def events(
        self, query: ParsedQuery, *, limit: int, offset: int, chronological: bool = False
    ) -> Page:
        base = EventQuery(
            words=query.words,
            phrases=query.phrases,
            since=query.since,
            until=query.until,
            limit=limit,
            offset=offset,
            chronological=chronological,
        )
        page = await self.store.search_events(base)
        if page.total == 0 and len(query.words) + len(query.phrases) > 1:
            page = await self.store.search_events(replace(base, match_any=True))
        return page
