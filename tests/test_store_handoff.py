"""A bulk write switches threads every 0.5 ms while it runs, so that its writer waits
less for the GIL between statements, and leaves the process's interval as it found it
(bot/store/sqlite/handoff.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.model import docjson
from bot.model.entries import Source, Speaker, Statement
from bot.store.base import DocumentPut, Put
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.handoff import BULK_SWITCH_INTERVAL_S

SPEAKER = Speaker(id="sergey-lavrov", name="Sergey Lavrov")
SOURCE = Source(id="src", title="A report", kind="secondary")


def _put(entry_id: str, text: str) -> DocumentPut:
    entry = Statement.model_validate({"id": entry_id, "speaker": SPEAKER.id,
                                      "said_on": "2016-12-08", "text": text,
                                      "sources": [SOURCE.id]})
    return DocumentPut(entry.kind, entry.id, docjson.dumps(entry.doc()), None)


async def _seeded(path: Path) -> SqliteStore:
    opened = SqliteStore(path)
    await opened.open()
    await opened.apply([Put(SPEAKER), Put(SOURCE)], "test:seed")
    return opened


async def test_a_bulk_write_hands_the_gil_on_quickly_and_puts_the_interval_back(
    tmp_path: Path,
) -> None:
    """The chunks of a bulk write are checked while the writer runs SQL; meanwhile the
    process switches threads every 0.5 ms, and afterwards as often as before, even
    when the write fails."""
    before = sys.getswitchinterval()
    seen: list[float] = []

    def chunks(fail: bool) -> Iterator[list[DocumentPut]]:
        for n in range(3):
            seen.append(sys.getswitchinterval())
            yield [_put(f"s{n}-{'bad' if fail else 'ok'}", f"Statement number {n}.")]
        if fail:
            raise ValueError("a row turned out bad")

    store = await _seeded(tmp_path / "one.sqlite3")
    try:
        await store.put_documents(chunks(False), "test")
        assert seen == [BULK_SWITCH_INTERVAL_S] * 3
        assert sys.getswitchinterval() == before
        with pytest.raises(ValueError):
            await store.put_documents(chunks(True), "test")
        assert sys.getswitchinterval() == before
        assert [r.action for r in await store.history("s2-ok")] == ["create"]
        assert await store.get("s0-bad") is None  # the failed write left nothing
    finally:
        await store.close()


async def test_bulk_writes_of_two_stores_at_once_put_the_interval_back_at_the_end(
    tmp_path: Path,
) -> None:
    """Overlapping bulk writes (two stores in one process): the interval stays short
    until the last one ends, then is what it was before the first began."""
    before = sys.getswitchinterval()
    seen: list[float] = []
    both_started = asyncio.Event()
    started = 0

    async def write(target: SqliteStore, prefix: str) -> None:
        def chunks() -> Iterator[list[DocumentPut]]:
            yield [_put(f"{prefix}-one", "The first statement.")]
            seen.append(sys.getswitchinterval())
            yield [_put(f"{prefix}-two", "The second statement.")]

        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        await both_started.wait()
        await target.put_documents(chunks(), "test")

    stores = [await _seeded(tmp_path / f"{name}.sqlite3") for name in ("a", "b")]
    try:
        await asyncio.gather(write(stores[0], "a"), write(stores[1], "b"))
        for target, prefix in zip(stores, "ab", strict=True):
            assert [r.action for r in await target.history(f"{prefix}-two")] == ["create"]
    finally:
        for target in stores:
            await target.close()
    assert seen == [BULK_SWITCH_INTERVAL_S] * 2
    assert sys.getswitchinterval() == before
