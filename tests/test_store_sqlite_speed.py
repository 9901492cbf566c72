"""The SQLite store's speed-ups must never change an answer.

Kept counts (migration 0004), the parsed-entry cache, the ordered speaker
indexes (0003) and inline reads are checked here against plain SQL on the
same file, through retracts, restores, edits that move a statement to
another speaker, and a store opened by a second process-like instance.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.model.entries import Kind, Source, Speaker, Statement
from bot.store.base import Put, Restore, Retract, StatementQuery
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.store import DELETE_STATEMENT_ROW


def _statement(n: int, speaker: str, day: str) -> Statement:
    return Statement.model_validate({
        "id": f"s{n}", "speaker": speaker, "said_on": day, "text": f"Words number {n}.",
        "sources": ["src"],
    })


async def _total(store: SqliteStore, speaker: str) -> int:
    page = await store.search_statements(StatementQuery(speaker_ids=(speaker,), limit=2))
    return page.total


def _counted(path: Path, speaker: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM statement_index WHERE speaker_id = ?",
                            (speaker,)).fetchone()[0]


async def test_kept_counts_follow_every_change(tmp_path: Path) -> None:
    path = tmp_path / "counts.sqlite3"
    async with SqliteStore(path) as store:
        await store.apply([
            Put(Speaker(id="a", name="Anna A")), Put(Speaker(id="b", name="Boris B")),
            Put(Source(id="src", title="T")),
            *[Put(_statement(n, "a", f"2016-12-{n + 1:02d}")) for n in range(5)],
            Put(_statement(9, "b", "2016")),
        ], "test")
        assert await _total(store, "a") == 5 == _counted(path, "a")
        await store.apply([Retract("s1", "wrong")], "test")
        assert await _total(store, "a") == 4 == _counted(path, "a")
        await store.apply([Restore("s1")], "test")
        assert await _total(store, "a") == 5
        moved = _statement(2, "b", "2016-12-03")
        current = await store.get("s2")
        assert current is not None
        await store.apply([Put(moved, expected_version=current.version)], "test")
        assert (await _total(store, "a"), await _total(store, "b")) == (4, 2)
        assert (_counted(path, "a"), _counted(path, "b")) == (4, 2)
        both = await store.search_statements(StatementQuery(speaker_ids=("a", "b"), limit=1))
        assert both.total == 6
        # Newest first, ties by id; and the other way for a timeline.
        newest = await store.search_statements(StatementQuery(speaker_ids=("a",), limit=10))
        assert newest.ids == ["s4", "s3", "s1", "s0"]
        oldest = await store.search_statements(
            StatementQuery(speaker_ids=("a",), limit=10, chronological=True))
        assert oldest.ids == ["s0", "s1", "s3", "s4"]


async def test_cached_entries_are_never_stale_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    async with SqliteStore(path) as reader, SqliteStore(path) as writer:
        await writer.apply([Put(Speaker(id="a", name="Anna A")), Put(Source(id="src", title="T")),
                            Put(_statement(1, "a", "2016"))], "test")
        first = await reader.get("s1")
        assert first is not None and first.entry.text == "Words number 1."
        assert await reader.get("s1") is first  # parsed once, served from the cache
        edited = Statement.model_validate({**first.entry.doc(), "text": "Other words."})
        await writer.apply([Put(edited, expected_version=first.version)], "test")
        again = await reader.get("s1")
        assert again is not None and again.entry.text == "Other words."
        await writer.apply([Retract("s1", "gone")], "test")
        assert await reader.get("s1") is None
        hidden = await reader.get("s1", include_retracted=True)
        assert hidden is not None and hidden.retracted


async def test_a_slow_read_moves_off_the_event_loop_with_the_same_answer(
    tmp_path: Path, monkeypatch
) -> None:
    import bot.store.sqlite.store as module

    path = tmp_path / "budget.sqlite3"
    async with SqliteStore(path) as store:
        await store.apply([Put(Speaker(id="a", name="Anna A")), Put(Source(id="src", title="T")),
                           *[Put(_statement(n, "a", "2016")) for n in range(50)]], "test")
        inline = await store.search_statements(StatementQuery(words=("words",), limit=3))
        monkeypatch.setattr(store, "inline_budget", -1.0)  # every inline read interrupted
        monkeypatch.setattr(module, "_PROGRESS_STEPS", 1)
        store._inline.set_progress_handler(store._over_budget, 1)
        on_threads = []
        opened = store._reader

        def counting_reader():
            on_threads.append(1)
            return opened()

        monkeypatch.setattr(store, "_reader", counting_reader)
        threaded = await store.search_statements(StatementQuery(words=("words",), limit=3))
        assert threaded == inline and inline.total == 50
        assert on_threads  # it really ran on a reader thread


async def test_speaker_tokens_that_collide_never_mix_speakers(tmp_path: Path) -> None:
    # "a-b" and "axb" give the same full-text token ("spkaxb"): speaker_id decides.
    async with SqliteStore(tmp_path / "tokens.sqlite3") as store:
        await store.apply([
            Put(Speaker(id="a-b", name="Ab One")), Put(Speaker(id="axb", name="Ab Two")),
            Put(Source(id="src", title="T")),
            Put(_statement(1, "a-b", "2016")), Put(_statement(2, "axb", "2017")),
        ], "test")
        page = await store.search_statements(
            StatementQuery(speaker_ids=("a-b",), words=("words",), limit=5))
        assert (page.ids, page.total) == (["s1"], 1)
        both = await store.search_statements(
            StatementQuery(speaker_ids=("a-b", "axb"), words=("number",), limit=5))
        assert sorted(both.ids) == ["s1", "s2"] and both.total == 2
        loose = await store.search_statements(StatementQuery(
            speaker_ids=("axb",), words=("words", "nothing"), match_any=True, limit=5))
        assert loose.ids == ["s2"]


async def test_one_index_lists_a_speaker_both_ways_without_sorting(tmp_path: Path) -> None:
    """Migration 0007: newest first is the exact reverse of oldest first, ties included,
    and SQLite reads both from statement_speaker_chrono with no sort step."""
    path = tmp_path / "order.sqlite3"
    days = ["2016-12-08", "2016-12", "2016", "2016-12-08", "2015-01-02", "2016-12-08"]
    async with SqliteStore(path) as store:
        await store.apply([Put(Source.model_validate({"id": "src", "title": "T"})),
                           Put(Speaker.model_validate({"id": "ann", "name": "Ann"}))], "t")
        await store.apply([Put(_statement(n, "ann", d)) for n, d in enumerate(days)], "t")
        newest = await store.search_statements(StatementQuery(speaker_ids=("ann",), limit=10))
        oldest = await store.search_statements(StatementQuery(speaker_ids=("ann",), limit=10,
                                                              chronological=True))
    assert newest.ids == list(reversed(oldest.ids)) and len(newest.ids) == len(days)
    with sqlite3.connect(path) as conn:
        plain = [r[0] for r in conn.execute(
            "SELECT id FROM statement_index WHERE speaker_id = 'ann'"
            " ORDER BY date_start DESC, date_end DESC, id DESC")]
        assert newest.ids == plain
        for order in ("date_start, date_end, id", "date_start DESC, date_end DESC, id DESC"):
            plan = " ".join(r[3] for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT s.id FROM statement_index s WHERE 1 AND"
                f" s.speaker_id IN (?) ORDER BY {order} LIMIT 3", ("ann",)))
            assert "statement_speaker_chrono" in plan and "TEMP B-TREE" not in plan, plan


async def test_a_statement_row_is_removed_through_the_speaker_index(tmp_path: Path) -> None:
    """No index on statement_index.id (0013): an edit or a retraction finds the row by
    its whole key in the speaker index, not by reading the table."""
    async with SqliteStore(tmp_path / "plan.sqlite3") as store:
        path = store.path
    with sqlite3.connect(path) as conn:
        plan = " ".join(r[3] for r in conn.execute(
            f"EXPLAIN QUERY PLAN {DELETE_STATEMENT_ROW}", ("ann", "2016-01-01", "2016-01-01",
                                                        "s1")))
    assert ("statement_speaker_chrono (speaker_id=? AND date_start=? AND date_end=? AND id=?)"
            in plan), plan


async def test_documents_made_from_bodies_are_the_rows_the_rebuild_reads(
    loaded: SqliteStore,
) -> None:
    """The search index's catch-up makes its documents from the entries' bodies (no id
    index on the statement rows, 0013); a rebuild reads the rows. Both must agree on
    every field, and a retracted statement is in neither."""
    retracted = "lavrov-2016-12-09-aleppo-clarification"
    await loaded.apply([Retract(retracted, "checking")], "curator:ann")
    rows, cursor = await loaded.search_documents_after(0, 10_000)
    assert rows and cursor
    ids = [stored.entry.id async for stored in loaded.entries(Kind.STATEMENT)]
    made = await loaded.search_documents(ids)
    assert retracted in ids and retracted not in {doc.id for doc in made}
    assert sorted(made, key=lambda d: d.id) == sorted(rows, key=lambda d: d.id)


async def test_an_edit_of_a_retracted_statement_stays_hidden_until_restored(
    loaded: SqliteStore,
) -> None:
    """A retracted entry has no derived rows: its edit adds none, its restore adds the
    edited words once, and the full-text index still matches its rows."""
    pause = "lavrov-2016-12-08-aleppo-pause"
    await loaded.apply([Retract(pause, "checking")], "curator:ann")
    stored = await loaded.get(pause, include_retracted=True)
    edited = stored.entry.model_copy(update={"text": "Zebra words, edited."})
    await loaded.apply([Put(edited, expected_version=stored.version)], "curator:ann")
    zebra = StatementQuery(words=("zebra",))
    assert (await loaded.search_statements(zebra)).ids == []
    await loaded.apply([Restore(pause, "checked")], "curator:ann")
    assert (await loaded.search_statements(zebra)).ids == [pause]
    assert (await loaded.search_statements(StatementQuery(words=("combat",)))).ids == []
    with sqlite3.connect(loaded.path) as conn:
        assert conn.execute("SELECT count(*) FROM statement_index WHERE id = ?",
                            (pause,)).fetchone() == (1,)
        conn.execute("INSERT INTO statement_fts (statement_fts) VALUES ('integrity-check')")
