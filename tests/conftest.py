"""Shared fixtures: a real SQLite file per test, the bundled knowledge, the real shared data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.wiring import read_knowledge
from bot.core.app import Core
from bot.core.reply import Reply
from bot.core.request import Actor, Request
from bot.knowledge.bundled import bundled_knowledge_dir
from bot.render.text import render
from bot.store.sqlite import SqliteStore
from bot.store.sync import sync_knowledge

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_f0e5a100ed228b9f.txt"
READER = Actor("console", "reader")


def need_shared(path: Path) -> Path:
    """The real material beside the repository, or a skip that says why."""
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared sits beside the repository in CI, "
                    "not on a user's machine")
    return path


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "verbatim.sqlite3")
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def loaded(store: SqliteStore) -> SqliteStore:
    report = await sync_knowledge(store, read_knowledge([bundled_knowledge_dir()]))
    assert not report.errors and not report.conflicts
    return store


@pytest.fixture
def core(loaded: SqliteStore) -> Core:
    return Core(loaded)


async def ask(core: Core, command: str, args: str = "", **extra: object) -> Reply:
    reply = await core.handle(Request(actor=READER, command=command, args=args, **extra))
    assert reply is not None
    return reply


async def ask_text(core: Core, command: str, args: str = "") -> str:
    return render(await ask(core, command, args))
