"""An entry's history shows the document its creation made, through every later change,
whichever write path created it; the file keeps one copy of that document, not two
(migration 0012)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.model import docjson
from bot.model.entries import Source, Speaker, Statement
from bot.store.base import DocumentPut, Put, Restore, Retract
from bot.store.sqlite import SqliteStore
from tests.test_store_migrations import _old_database

SPEAKER = Speaker(id="sergey-lavrov", name="Sergey Lavrov", aliases=["Лавров"])
SOURCE = Source(id="src", title="A report", kind="secondary")


def statement(entry_id: str, text: str) -> Statement:
    return Statement.model_validate({"id": entry_id, "speaker": "sergey-lavrov",
                                     "said_on": "2016-12-08", "text": text,
                                     "sources": ["src"]})


def _put(entry: Statement) -> DocumentPut:
    return DocumentPut(entry.kind, entry.id, docjson.dumps(entry.doc()), None)


async def _one_by_one(store: SqliteStore, entry: Statement) -> None:
    # A batch naming one id twice goes change by change: a creation, then an update
    # that puts the same document again (no revision).
    await store.apply([Put(entry), Put(entry, expected_version=1)], "test")


async def _set_wise(store: SqliteStore, entry: Statement) -> None:
    await store.apply([Put(entry)], "test")


async def _streamed_new_chunk(store: SqliteStore, entry: Statement) -> None:
    # A chunk of new entries only: the writer's SQL-only path (an archive's import).
    await store.put_documents([[_put(entry)]], "test")


async def _streamed_mixed_chunk(store: SqliteStore, entry: Statement) -> None:
    # A chunk that also names an entry on record: the general path of a bulk write.
    await store.put_documents([[DocumentPut(SOURCE.kind, SOURCE.id,
                                            docjson.dumps(SOURCE.doc()), 1),
                                _put(entry)]], "test")


WRITERS: dict[str, Callable[[SqliteStore, Statement], Awaitable[None]]] = {
    "one by one": _one_by_one,
    "set-wise": _set_wise,
    "streamed, new entries": _streamed_new_chunk,
    "streamed, with an entry on record": _streamed_mixed_chunk,
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "history.sqlite3") as opened:
        await opened.apply([Put(SPEAKER), Put(SOURCE)], "test:seed")
        yield opened


@pytest.mark.parametrize("path", list(WRITERS))
async def test_creation_reads_as_created_through_edit_retract_and_restore(
    store: SqliteStore, path: str
) -> None:
    created = statement("s1", "Combat actions in eastern Aleppo are suspended today.")
    await WRITERS[path](store, created)
    [creation] = await store.history("s1")
    assert creation.action == "create"
    assert creation.after == created.doc()
    assert await store.revision(creation.rev) == creation

    edited = statement("s1", "Combat actions in eastern Aleppo are halted.")
    await store.apply([Put(edited, expected_version=1)], "curator:ann")
    await store.apply([Retract("s1", "checking the date")], "curator:ann")
    await store.apply([Restore("s1", "date checked")], "curator:bob")
    history = await store.history("s1")
    assert [r.action for r in history] == ["create", "update", "retract", "restore"]
    # The creation still shows what was created, not what the entry holds now.
    assert history[0].after == created.doc()
    assert history[1].before == created.doc() and history[1].after == edited.doc()
    assert history[2].before == history[3].after == edited.doc()
    for revision in history:
        assert await store.revision(revision.rev) == revision

    with sqlite3.connect(store.path) as conn:
        copies = conn.execute("SELECT count(*) FROM revisions WHERE action = 'create'"
                              " AND after IS NOT NULL").fetchone()[0]
    assert copies == 0  # speaker, source and statement: each body is held once


async def test_a_store_of_schema_11_reads_its_recorded_creations_as_before(
    store: SqliteStore, tmp_path: Path
) -> None:
    """Revisions written before 0012 hold a copy of the created document; it is what they
    show, and a creation written after the upgrade shows its own."""
    created = statement("s1", "Combat actions in eastern Aleppo are suspended today.")
    await store.apply([Put(created)], "test")
    await store.apply([Put(statement("s1", "Combat actions are halted."),
                           expected_version=1)], "curator:ann")
    expected = await store.history("s1")

    old = tmp_path / "version11.sqlite3"
    _old_database(old, 11, Path(store.path))
    with sqlite3.connect(old) as conn:  # as schema 11 wrote them: the body copied
        conn.execute(
            "UPDATE revisions SET after = coalesce((SELECT n.before FROM revisions n"
            " WHERE n.entry_id = revisions.entry_id AND n.rev > revisions.rev ORDER BY"
            " n.rev LIMIT 1), (SELECT body FROM entries WHERE id = revisions.entry_id))"
            " WHERE action = 'create'")
        recorded = conn.execute("SELECT after FROM revisions WHERE entry_id = 's1'"
                                " AND action = 'create'").fetchone()[0]
    assert docjson.loads(recorded) == created.doc()

    async with SqliteStore(old) as upgraded:
        assert await upgraded.history("s1") == expected
        await upgraded.apply([Put(statement("s2", "A second statement."))], "test")
        [creation] = await upgraded.history("s2")
        assert creation.after["text"] == "A second statement."
    with sqlite3.connect(old) as conn:
        assert conn.execute("SELECT entry_id FROM revisions WHERE action = 'create'"
                            " AND after IS NULL").fetchall() == [("s2",)]

