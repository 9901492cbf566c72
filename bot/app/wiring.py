"""Opens the store, loads the knowledge files and builds the core: what every entry point needs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app.config import Settings
from bot.core.app import Core
from bot.core.ratelimit import RateLimiter
from bot.knowledge.bundled import bundled_knowledge_dir
from bot.knowledge.loader import Bundle, read_path
from bot.search.auto import AutoIndex
from bot.store.sqlite import SqliteStore
from bot.store.sync import SyncReport, sync_knowledge

if TYPE_CHECKING:
    from bot.search.derived import DerivedIndex

log = logging.getLogger(__name__)


@dataclass
class Bot:
    settings: Settings
    store: SqliteStore
    core: Core
    sync: SyncReport | None
    index: DerivedIndex | AutoIndex | None = None


def knowledge_dirs(settings: Settings) -> list[Path]:
    dirs = [bundled_knowledge_dir()] if settings.load_bundled else []
    if settings.knowledge_dir is not None:
        dirs.append(settings.knowledge_dir)
    return dirs


def read_knowledge(dirs: list[Path]) -> Bundle:
    bundle = Bundle()
    for folder in dirs:
        part = read_path(folder, label_root=folder if folder.is_dir() else None)
        bundle.entries += part.entries
        bundle.errors += part.errors
        bundle.files += part.files
    return bundle


@asynccontextmanager
async def open_bot(
    settings: Settings,
    *,
    load_knowledge: bool = True,
    limiter: RateLimiter | None = None,
    search_index: bool = True,
    keep_index: bool = True,
) -> AsyncIterator[Bot]:
    """The store opened, the knowledge loaded, the core built; all closed on the way out.

    ``limiter`` is for chat platforms, where many people share one bot.
    ``search_index``: use the derived search index where the settings ask for
    it; ``keep_index``: also build it and keep it current in the background
    (long-running processes; a one-shot ``ask`` only reads it when current).
    """
    store = SqliteStore(settings.sqlite_path,
                        inline_budget=settings.sqlite_inline_budget_ms / 1000,
                        busy_timeout=settings.sqlite_busy_timeout_ms / 1000)
    await store.open()
    index: DerivedIndex | AutoIndex | None = None
    try:
        report = None
        if load_knowledge:
            dirs = knowledge_dirs(settings)
            bundle = await asyncio.to_thread(read_knowledge, dirs)
            report = await sync_knowledge(store, bundle)
            log.info("knowledge loaded: %s", report.summary())
            for problem in [*report.errors, *report.conflicts]:
                log.warning("knowledge: %s", problem)
        if search_index:
            index = await open_search_index(settings, store, keep=keep_index)
            if index is None and keep_index and settings.search_index == "auto":
                # Too small for the index today; a long-running bot asks again as it grows.
                index = AutoIndex(lambda: open_search_index(settings, store, keep=True))
        core = Core(store, page_size=settings.page_size, owners=settings.owner_keys,
                    limiter=limiter, ranked=index)
        yield Bot(settings, store, core, report, index)
    finally:
        if index is not None:
            await index.close()
        await store.close()


async def open_search_index(
    settings: Settings, store: SqliteStore, *, keep: bool, force: bool = False
) -> DerivedIndex | None:
    """The derived index when the settings (or ``force``) want it and tantivy is installed.

    With ``keep``, a catch-up starts at once in the background: until it is
    done, SQLite answers every search, so start-up is not delayed.
    """
    if not force:
        if settings.search_index == "off":
            return None
        if settings.search_index == "auto":
            total = await store.statement_total()
            if total < settings.search_index_min_statements:
                return None
    try:
        from bot.search.derived import DerivedIndex
    except ImportError:
        log.warning("the search index needs the tantivy package (pip install tantivy);"
                    " SQLite FTS5 answers every search")
        return None
    index = DerivedIndex(store, settings.index_path, maintain=keep)
    await index.open()
    if keep:
        index.start_catch_up()
    return index
