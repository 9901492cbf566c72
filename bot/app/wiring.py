"""Opens the store, loads the knowledge files and builds the core: what every entry point needs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app.config import Settings
from bot.core.app import Core
from bot.core.ratelimit import RateLimiter
from bot.knowledge.bundled import bundled_knowledge_dir
from bot.knowledge.loader import Bundle, read_path
from bot.store.sqlite import SqliteStore
from bot.store.sync import SyncReport, sync_knowledge

log = logging.getLogger(__name__)


@dataclass
class Bot:
    settings: Settings
    store: SqliteStore
    core: Core
    sync: SyncReport | None


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
    settings: Settings, *, load_knowledge: bool = True, limiter: RateLimiter | None = None
) -> AsyncIterator[Bot]:
    """The store opened, the knowledge loaded, the core built; all closed on the way out.

    ``limiter`` is for chat platforms, where many people share one bot.
    """
    store = SqliteStore(settings.sqlite_path,
                        inline_budget=settings.sqlite_inline_budget_ms / 1000)
    await store.open()
    try:
        report = None
        if load_knowledge:
            dirs = knowledge_dirs(settings)
            bundle = await asyncio.to_thread(read_knowledge, dirs)
            report = await sync_knowledge(store, bundle)
            log.info("knowledge loaded: %s", report.summary())
            for problem in [*report.errors, *report.conflicts]:
                log.warning("knowledge: %s", problem)
        core = Core(store, page_size=settings.page_size, owners=settings.owner_keys,
                    limiter=limiter)
        yield Bot(settings, store, core, report)
    finally:
        await store.close()
