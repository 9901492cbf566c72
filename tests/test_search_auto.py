"""``VERBATIM_SEARCH_INDEX=auto`` in a running bot: the index switches on once the store
has grown past the setting, without a restart, and nothing is left open at the end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app.config import Settings
from bot.app.wiring import open_bot
from bot.model.entries import Statement
from bot.search import auto
from bot.search.auto import AutoIndex
from bot.search.derived import DerivedIndex
from bot.store.base import Put, StatementQuery
from bot.store.sqlite import SqliteStore
from tests.conftest import ask_text

WORD = StatementQuery(words=("zyxwvut",))


def _settings(tmp_path: Path, min_statements: int) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
                    search_index="auto", search_index_min_statements=min_statements)


async def _grow(store: SqliteStore, count: int) -> None:
    """``count`` new statements, each holding the word only they hold."""
    base = await store.get("lavrov-2016-12-09-aleppo-clarification")
    assert base is not None and isinstance(base.entry, Statement)
    puts = [Put(base.entry.model_copy(update={"id": f"grown-{n}",
                                              "text": f"{base.entry.text} zyxwvut {n}"}))
            for n in range(count)]
    await store.apply(puts, actor="test:curator")


async def _switched_on(index: AutoIndex) -> DerivedIndex:
    for _ in range(200):
        await index.search(WORD)
        if index.index is not None:
            assert isinstance(index.index, DerivedIndex)
            return index.index
        await asyncio.sleep(0.01)
    raise AssertionError("the index never switched on")


async def test_the_index_switches_on_when_the_store_grows_past_the_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "CHECK_EVERY_S", 0.0)
    settings = _settings(tmp_path, min_statements=7)  # the bundled knowledge holds 5
    async with open_bot(settings) as bot:
        index = bot.index
        assert isinstance(index, AutoIndex) and index.index is None
        # SQLite answers; the search has the index's check run, which finds 5 statements.
        assert "Sergey Lavrov" in await ask_text(bot.core, "quote", "lavrov aleppo")
        await asyncio.sleep(0)
        assert index.index is None and not settings.index_path.exists()

        await _grow(bot.store, 2)
        derived = await _switched_on(index)
        await derived.catch_up()
        page = await index.search(WORD)  # now the index answers, with what the store holds
        assert page is not None and sorted(page.ids) == ["grown-0", "grown-1"]
        assert page == await bot.store.search_statements(WORD)
        assert "zyxwvut" in await ask_text(bot.core, "quote", "zyxwvut")
    with pytest.raises(RuntimeError, match="not open"):
        derived.index  # closed with the bot  # noqa: B018
    assert settings.index_path.exists()


async def test_a_store_that_stays_small_never_opens_the_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "CHECK_EVERY_S", 0.0)
    settings = _settings(tmp_path, min_statements=100)
    async with open_bot(settings) as bot:
        index = bot.index
        assert isinstance(index, AutoIndex)
        await _grow(bot.store, 2)
        for _ in range(5):
            assert await index.search(WORD) is None
            await asyncio.sleep(0.01)
        assert index.index is None
    assert not settings.index_path.exists()


async def test_closing_during_a_check_leaves_nothing_open(tmp_path: Path) -> None:
    opened: list[DerivedIndex] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def opener() -> DerivedIndex:
        index = DerivedIndex(store, tmp_path / "index")
        await index.open()
        opened.append(index)
        started.set()
        await release.wait()  # the bot stops while this check is still opening
        return index

    async with SqliteStore(str(tmp_path / "s.sqlite3")) as store:
        index = AutoIndex(opener, every=0.0)
        assert await index.search(WORD) is None  # starts the check, answers nothing
        await started.wait()
        closing = asyncio.create_task(index.close())
        await asyncio.sleep(0.01)
        assert not closing.done()  # waits for the check instead of cutting it short
        release.set()
        await closing
    assert index.index is None
    with pytest.raises(RuntimeError, match="not open"):
        opened[0].index  # noqa: B018


async def test_a_bot_started_on_a_large_store_opens_the_index_at_once(tmp_path: Path) -> None:
    async with open_bot(_settings(tmp_path, min_statements=5)) as bot:
        assert isinstance(bot.index, DerivedIndex)
