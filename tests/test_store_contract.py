"""The store contract: every implementation must pass these (SQLite today; PostgreSQL next).

Each test runs against a real database file, never a mock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.model.entries import Kind, Source, Speaker, Statement
from bot.store.base import Conflict, NotFound, Put, Restore, Retract, StatementQuery, StoreError
from bot.store.sqlite import SqliteStore


@pytest.fixture(params=["sqlite", "sqlite-threads-only"])
async def contract_store(request, tmp_path: Path) -> AsyncIterator[SqliteStore]:
    budget = 0.0 if request.param == "sqlite-threads-only" else 0.002
    store = SqliteStore(tmp_path / "contract.sqlite3", inline_budget=budget)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


SPEAKER = Speaker(id="sergey-lavrov", name="Sergey Lavrov", aliases=["Лавров"])
SOURCE = Source(id="src", title="A report", kind="secondary")


def statement(text: str = "Combat actions in eastern Aleppo are suspended today.",
              **extra: object) -> Statement:
    fields = {"id": "s1", "speaker": "sergey-lavrov", "said_on": "2016-12-08", "text": text,
              "sources": ["src"], **extra}
    return Statement.model_validate(fields)


async def seed(store) -> None:
    await store.apply([Put(SPEAKER), Put(SOURCE), Put(statement())], "test:seed")


async def test_every_write_leaves_a_revision_with_before_and_after(contract_store):
    await seed(contract_store)
    current = await contract_store.get("s1")
    assert current.version == 1
    edited = statement("Combat actions in eastern Aleppo are halted.")
    await contract_store.apply([Put(edited, expected_version=1)], "telegram:42")
    history = await contract_store.history("s1")
    assert [r.action for r in history] == ["create", "update"]
    assert history[1].actor == "telegram:42"
    assert history[1].before["text"] == "Combat actions in eastern Aleppo are suspended today."
    assert history[1].after["text"] == "Combat actions in eastern Aleppo are halted."
    assert (await contract_store.get("s1")).version == 2


async def test_stale_edit_is_a_conflict_naming_who_changed_it(contract_store):
    await seed(contract_store)
    await contract_store.apply([Put(statement("First edit."), expected_version=1)], "discord:7")
    with pytest.raises(Conflict, match="changed by discord:7"):
        await contract_store.apply([Put(statement("Second edit."), expected_version=1)], "x:1")
    assert (await contract_store.get("s1")).entry.text == "First edit."


async def test_a_failing_batch_writes_nothing(contract_store):
    await seed(contract_store)
    before = await contract_store.sync_state()
    other = Source(id="other", title="Other")
    with pytest.raises(Conflict):
        await contract_store.apply([Put(other), Put(SOURCE)], "x:1")  # SOURCE exists already
    assert await contract_store.sync_state() == before
    assert await contract_store.get("other") is None


async def test_unchanged_put_writes_no_revision(contract_store):
    await seed(contract_store)
    result = await contract_store.apply([Put(statement(), expected_version=1)], "x:1")
    assert result.changed == 0
    assert len(await contract_store.history("s1")) == 1


async def test_retract_hides_and_restore_brings_back(contract_store):
    await seed(contract_store)
    query = StatementQuery(words=("aleppo",))
    assert (await contract_store.search_statements(query)).ids == ["s1"]
    await contract_store.apply([Retract("s1", "misattributed")], "x:1")
    assert await contract_store.get("s1") is None
    kept = await contract_store.get("s1", include_retracted=True)
    assert kept.retracted and kept.retract_reason == "misattributed"
    assert (await contract_store.search_statements(query)).total == 0
    with pytest.raises(StoreError, match="already retracted"):
        await contract_store.apply([Retract("s1", "again")], "x:1")
    await contract_store.apply([Restore("s1")], "x:2")
    assert (await contract_store.search_statements(query)).ids == ["s1"]
    assert [r.action for r in await contract_store.history("s1")] == [
        "create", "retract", "restore"]


async def test_edit_of_missing_entry_is_not_found(contract_store):
    with pytest.raises(NotFound):
        await contract_store.apply([Put(SOURCE, expected_version=3)], "x:1")


async def test_id_cannot_change_kind(contract_store):
    await seed(contract_store)
    with pytest.raises(Conflict, match="already used by a speaker"):
        await contract_store.apply([Put(Source(id="sergey-lavrov", title="T"), force=True)], "x")


@pytest.mark.parametrize(
    "words",
    [("NEAR(",), ('"',), ("a*",), ("^x",), ("OR",), ("AND", "NOT"), ("col:val",), ("(",)],
)
async def test_query_syntax_in_words_is_plain_text(contract_store, words):
    await seed(contract_store)
    page = await contract_store.search_statements(StatementQuery(words=words))
    assert page.total == 0


async def test_filters_by_speaker_date_and_language(contract_store):
    await seed(contract_store)
    year_only = statement("Aleppo in a UN speech.", id="s2", said_on="2016", language="en")
    await contract_store.apply([Put(year_only)], "x")
    search = contract_store.search_statements
    ids = lambda page: sorted(page.ids)  # noqa: E731
    assert ids(await search(StatementQuery(words=("aleppo",), since=_d("2016-12-09")))) == ["s2"]
    assert ids(await search(StatementQuery(words=("aleppo",), until=_d("2016-12-08")))) == [
        "s1", "s2"]
    assert ids(await search(StatementQuery(words=("aleppo",), language="EN"))) == ["s2"]
    assert ids(await search(StatementQuery(speaker_ids=("nobody",)))) == []


def _d(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


async def test_links_both_directions_and_generation(contract_store):
    await seed(contract_store)
    generation = await contract_store.generation()
    clar = statement("I never said that.", id="s2", said_on="2016-12-09",
                     links=[{"type": "clarifies", "to": "s1"}])
    await contract_store.apply([Put(clar)], "x")
    assert await contract_store.generation() > generation
    out, inc = await contract_store.links_of("s1")
    assert out == [] and [(r.source, r.type) for r in inc] == [("s2", "clarifies")]
    assert await contract_store.kinds_of(["s1", "src", "missing"]) == {
        "s1": Kind.STATEMENT, "src": Kind.SOURCE}


async def test_concurrent_readers_and_writer(contract_store):
    await seed(contract_store)

    async def write(n: int) -> None:
        await contract_store.apply(
            [Put(statement(f"Aleppo statement number {n}.", id=f"c{n}"))], "x")

    async def read() -> int:
        return (await contract_store.search_statements(StatementQuery(words=("aleppo",)))).total

    results = await asyncio.gather(*(write(n) for n in range(20)), *(read() for _ in range(20)))
    assert all(isinstance(r, int) for r in results[20:])
    assert await read() == 21


async def test_data_survives_reopening(tmp_path: Path):
    path = tmp_path / "reopen.sqlite3"
    async with SqliteStore(path) as first:
        await seed(first)
    async with SqliteStore(path) as second:
        assert (await second.get("s1")).entry.text.startswith("Combat actions")
