"""A database made by an older version opens in this one with nothing lost.

The old file is built the way an older bot left it: the migrations up to
that version, then the rows of a store holding the bundled knowledge.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.core.app import Core
from bot.model.entries import Kind, Source
from bot.store.base import Put, Restore, Retract, StatementQuery, StoreBusy
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.migrate import migrations
from bot.store.sqlite.rows import day_span
from tests.conftest import ask_text

_COPIED = ("entries", "revisions", "statement_index", "event_index", "speaker_names", "links")


def _old_database(path: Path, version: int, rows_from: Path) -> None:
    """A file at schema ``version`` holding the rows of the store at ``rows_from``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for number, _name, sql in migrations():
            if number <= version:
                conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        conn.execute("ATTACH DATABASE ? AS new", (str(rows_from),))
        conn.execute("BEGIN")
        for table in _COPIED:  # the index triggers fill the full-text tables and counts
            columns = ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})"))
            conn.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM new.{table}")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE new")
    finally:
        conn.close()


async def test_schema_7_store_upgrades_with_every_entry_and_revision(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    old = tmp_path / "version7.sqlite3"
    _old_database(old, 7, Path(loaded.path))
    with sqlite3.connect(old) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'entries'").fetchone()
        (held,) = conn.execute("SELECT count(*) FROM entries").fetchone()
    assert "WITHOUT ROWID" in sql  # really the old layout

    ids = []
    for kind in _kinds():
        ids += [stored.entry.id async for stored in loaded.entries(kind)]
    assert len(ids) == held > 10
    async with SqliteStore(old) as upgraded:
        for entry_id in ids:
            assert await upgraded.get(entry_id) == await loaded.get(entry_id)
            assert await upgraded.history(entry_id) == await loaded.history(entry_id)
        for kind in _kinds():
            assert [s.entry.id async for s in upgraded.entries(kind)] == [
                s.entry.id async for s in loaded.entries(kind)]
        core_old, core_new = Core(upgraded), Core(loaded)
        for command, args in (("quote", "lavrov aleppo"), ("timeline", "lavrov")):
            answer = await ask_text(core_old, command, args)
            assert answer == await ask_text(core_new, command, args)
        assert "Lavrov" in await ask_text(core_old, "quote", "lavrov aleppo")

        # A write after the upgrade: a new version, and its revision.
        source = Source.model_validate({"id": "src-after-upgrade", "title": "After",
                                        "url": "https://example.org/after"})
        result = await upgraded.apply([Put(source)], "curator")
        assert result.changed == 1
        assert [r.action for r in await upgraded.history("src-after-upgrade")] == ["create"]

    with sqlite3.connect(old) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'entries'").fetchone()
        assert "WITHOUT ROWID" not in sql
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations()[-1][0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # 0009: new terms are written out in 16 MB runs, and the index still matches
        # its rows (FTS5's own check raises if it does not).
        assert conn.execute("SELECT v FROM statement_fts_config WHERE k = 'hashsize'"
                            ).fetchone() == (16 * 1024 * 1024,)
        conn.execute("INSERT INTO statement_fts (statement_fts) VALUES ('integrity-check')")


async def test_schema_9_store_keeps_each_entrys_whole_history(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    """0010: an entry's creation is found through ``entries``, the rest through an index
    of the later revisions; an edited, retracted and restored entry keeps all five."""
    lavrov = (await loaded.get("lavrov-2016-12-08-aleppo-pause")).entry
    edited = lavrov.model_copy(update={"place": "Hamburg (edited)"})
    await loaded.apply([Put(edited, expected_version=1)], "curator:ann")
    await loaded.apply([Retract(lavrov.id, "checking the date")], "curator:ann")
    await loaded.apply([Restore(lavrov.id, "date checked")], "curator:bob")
    history = await loaded.history(lavrov.id)
    assert [r.action for r in history] == ["create", "update", "retract", "restore"]

    old = tmp_path / "version9.sqlite3"
    _old_database(old, 9, Path(loaded.path))
    async with SqliteStore(old) as upgraded:
        assert await upgraded.history(lavrov.id) == history
        async for stored in loaded.entries(Kind.STATEMENT):
            assert await upgraded.history(stored.entry.id) == await loaded.history(
                stored.entry.id)
        # Written after the upgrade: a creation and an edit, each in its place.
        source = Source.model_validate({"id": "src-after-upgrade", "title": "After"})
        await upgraded.apply([Put(source)], "curator")
        await upgraded.apply([Put(source.model_copy(update={"title": "After, edited"}),
                                  expected_version=1)], "curator")
        after = await upgraded.history("src-after-upgrade")
        assert [(r.action, r.after["title"]) for r in after] == [
            ("create", "After"), ("update", "After, edited")]
        assert after[0].rev < after[1].rev

    with sqlite3.connect(old) as conn:
        assert conn.execute("SELECT count(*) FROM entries WHERE created_rev IS NULL"
                            ).fetchone() == (0,)
        # The history query reads no revision it does not return: no scan of the table.
        plan = " ".join(row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT r.* FROM entries e JOIN revisions r"
            " ON r.rev = e.created_rev WHERE e.id = ?1 UNION ALL SELECT * FROM revisions"
            " WHERE entry_id = ?1 AND action <> 'create' ORDER BY rev", ("x",)))
        assert "revisions_entry_later" in plan and "SCAN" not in plan, plan


def _kinds() -> list[Kind]:
    return [Kind.SPEAKER, Kind.SOURCE, Kind.STATEMENT, Kind.EVENT]


async def test_an_upgrade_waits_for_another_process_write_and_says_so(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    old = tmp_path / "version9.sqlite3"
    _old_database(old, 9, Path(loaded.path))
    other = sqlite3.connect(old, isolation_level=None)  # a bot of the old version, writing
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy, match=r"needs an upgrade \(schema 10\), but "
                                            r"another process is writing to it"):
            await SqliteStore(old, busy_timeout=0.2).open()
        assert other.execute("PRAGMA user_version").fetchone()[0] == 9  # nothing half-done
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with SqliteStore(old) as upgraded:
        pause = "lavrov-2016-12-08-aleppo-pause"
        assert await upgraded.get(pause) == await loaded.get(pause)


async def test_an_upgrade_says_what_it_does_and_a_new_database_stays_quiet(
    loaded: SqliteStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Upgrading a 1M store pauses the first start for tens of seconds: the log says why."""
    old = tmp_path / "version9.sqlite3"
    _old_database(old, 9, Path(loaded.path))
    steps = [(version, name) for version, name, _ in migrations() if version > 9]
    with caplog.at_level(logging.INFO, logger="bot.store.sqlite.migrate"):
        async with SqliteStore(tmp_path / "new.sqlite3"):
            pass
        assert caplog.messages == []
        async with SqliteStore(old):
            pass
    # Each step from schema 9 on, announced, then timed.
    assert caplog.messages[0::2] == [f"Upgrading the database to schema {version} ({name}); "
                                     "a large store takes a while" for version, name in steps]
    assert [m.split(" after ")[0] for m in caplog.messages[1::2]] == [
        f"Database at schema {version}" for version, _ in steps]


async def test_a_schema_10_store_lists_by_date_as_before_with_a_slimmer_date_index(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    """0011: the date index keys on the date alone (the rowid added by SQLite); listings
    by date, in either order, still break ties by the later end, then the id."""
    old = tmp_path / "version10.sqlite3"
    _old_database(old, 10, Path(loaded.path))
    spans = {}
    async for stored in loaded.entries(Kind.STATEMENT):
        doc = stored.entry.doc()
        spans[stored.entry.id] = day_span(doc["said_on"])
    assert len(set(spans.values())) < len(spans)  # some share a day: the ties are tested

    def expected(since: str, until: str, chronological: bool) -> list[str]:
        inside = [(start, end, i) for i, (start, end) in spans.items()
                  if end >= since and start <= until]
        return [i for *_, i in sorted(inside, reverse=not chronological)]

    async with SqliteStore(old) as upgraded:
        with sqlite3.connect(old) as conn:
            assert [row[2] for row in conn.execute("PRAGMA index_info('statement_date')")
                    ] == ["date_start"]
        for since, until in [("2016-12-01", "2016-12-31"), ("2016-12-08", "2016-12-08"),
                             ("0001-01-01", "9999-12-31")]:
            for chronological in (False, True):
                query = StatementQuery(since=dt.date.fromisoformat(since),
                                       until=dt.date.fromisoformat(until), limit=100,
                                       chronological=chronological)
                page = await upgraded.search_statements(query)
                assert page.ids == expected(since, until, chronological), (since, until)
                assert page.total == len(page.ids)


async def test_a_new_store_has_large_pages_and_an_old_file_keeps_its_own(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    """A new database is made with 16 KB pages (an import writes fewer, larger pages);
    a file made before with SQLite's 4 KB keeps them, since changing them would mean
    rewriting it whole, and answers the same."""
    with sqlite3.connect(loaded.path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (16_384,)
    old = tmp_path / "small-pages.sqlite3"
    _old_database(old, 11, Path(loaded.path))
    async with SqliteStore(old) as upgraded:
        core_old, core_new = Core(upgraded), Core(loaded)
        for command, args in (("quote", "lavrov aleppo"), ("timeline", "lavrov")):
            assert await ask_text(core_old, command, args) == await ask_text(
                core_new, command, args)
        await upgraded.apply([Put(Source.model_validate({"id": "src-new", "title": "New"}))],
                             "curator")
        assert [r.action for r in await upgraded.history("src-new")] == ["create"]
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (4_096,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _statement_rows(path: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT rowid, id, body_text FROM statement_index ORDER BY rowid"
                            ).fetchall()


def _unique_indexes(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute("PRAGMA index_list('statement_index')")
                if row[2]]


async def test_a_schema_12_store_keeps_its_statement_rows_without_an_id_index(
    loaded: SqliteStore, tmp_path: Path
) -> None:
    """0013: the statement rows are built again without a unique index on id, with the
    same rowids (which the full-text rows point to); an edit, a retraction and a
    restore then change that statement's row alone, found by its key in the speaker
    index."""
    old = tmp_path / "version12.sqlite3"
    _old_database(old, 12, Path(loaded.path))
    rows = _statement_rows(old)
    assert _unique_indexes(old)  # really the old layout
    pause = "lavrov-2016-12-08-aleppo-pause"
    words = StatementQuery(words=("combat",), limit=50)
    async with SqliteStore(old) as upgraded:
        assert _statement_rows(old) == rows and _unique_indexes(old) == []
        for command, args in (("quote", "lavrov aleppo"), ("timeline", "lavrov"),
                              ("quote", "combat")):
            assert await ask_text(Core(upgraded), command, args) == await ask_text(
                Core(loaded), command, args)
        assert pause in (await upgraded.search_statements(words)).ids

        statement = (await upgraded.get(pause)).entry
        edited = statement.model_copy(update={"text": "Words said again, elsewhere."})
        await upgraded.apply([Put(edited, expected_version=1)], "curator:ann")
        assert pause not in (await upgraded.search_statements(words)).ids
        assert (await upgraded.search_statements(StatementQuery(words=("elsewhere",)))
                ).ids == [pause]
        await upgraded.apply([Retract(pause, "checking")], "curator:ann")
        assert (await upgraded.search_statements(StatementQuery(words=("elsewhere",)))
                ).ids == []
        await upgraded.apply([Restore(pause, "checked")], "curator:ann")
        assert (await upgraded.search_statements(StatementQuery(words=("elsewhere",)))
                ).ids == [pause]
        assert [doc.body_text for doc in await upgraded.search_documents([pause])] == [
            "Words said again, elsewhere."]

    after = {row[1]: row for row in _statement_rows(old)}
    assert len(after) == len(rows)  # one row a statement, no copy left behind
    assert {i: row for i, row in after.items() if i != pause} == {
        row[1]: row for row in rows if row[1] != pause}
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.execute("INSERT INTO statement_fts (statement_fts) VALUES ('integrity-check')")
        counts = dict(conn.execute("SELECT speaker_id, n FROM statement_counts WHERE n > 0"))
        assert counts == dict(conn.execute(
            "SELECT speaker_id, count(*) FROM statement_index GROUP BY speaker_id"))


async def test_a_statement_row_made_with_another_date_projection_is_still_removed(
    loaded: SqliteStore,
) -> None:
    """The row is found by the key worked out from its document; a row whose dates were
    made otherwise (by an older projection, say) is found among its speaker's rows."""
    pause = "lavrov-2016-12-08-aleppo-pause"
    with sqlite3.connect(loaded.path) as conn:
        conn.execute("UPDATE statement_index SET date_start = '2016-12-01' WHERE id = ?",
                     (pause,))
    await loaded.apply([Retract(pause, "checking")], "curator:ann")
    with sqlite3.connect(loaded.path) as conn:
        assert conn.execute("SELECT count(*) FROM statement_index WHERE id = ?",
                            (pause,)).fetchone() == (0,)
    assert pause not in (await loaded.search_statements(
        StatementQuery(words=("combat",), limit=50))).ids
