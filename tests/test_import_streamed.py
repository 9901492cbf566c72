"""The streamed write of new rows: the same store and report as the careful way.

An import of nothing but new entries is written chunk by chunk while the
rest of the batch is still being checked, in one transaction that commits
only when every row and reference passed. These tests force many small
chunks, then compare with the careful way (everything checked and planned
before the first write) on the same input, and break the batch late, after
chunks were written, to see the whole transaction go.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate
from bot.store.sqlite import SqliteStore
from bot.store.sqlite import store as sqlite_store
from bot.transfer import importer
from bot.transfer.importer import ImportOptions, ImportReport, import_paths
from bot.transfer.report import report_text
from bot.transfer.resolve import statement_id


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "WRITE_CHUNK", 50)


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many imports went all the way through the streamed write."""
    done: list[int] = []
    original = importer._Streamed.report_written

    def counted(self: importer._Streamed, report: ImportReport) -> None:
        done.append(len(self.ids))
        original(self, report)

    monkeypatch.setattr(importer._Streamed, "report_written", counted)
    return done


async def _import(store: SqliteStore, paths: list[Path], **options: Any) -> ImportReport:
    return await import_paths(store, paths, ImportOptions(**options), actor="test:import")


async def _tables(store: SqliteStore) -> dict[str, list[tuple[Any, ...]]]:
    """What the store holds, without the numbering that depends on write order (rowids,
    revision numbers)."""
    queries = {
        "entries": "SELECT id, kind, body, body_hash, version, retracted FROM entries",
        "statements": "SELECT id, speaker_id, said_on, date_start, date_end, language,"
                      " body_text, translation, topics, context FROM statement_index",
        "events": "SELECT id, date_start, date_end, title, summary, topics, place"
                  " FROM event_index",
        "counts": "SELECT * FROM statement_counts",
        "names": "SELECT * FROM speaker_names",
        "links": "SELECT * FROM links",
        "revisions": "SELECT entry_id, kind, actor, action, before, after, reason"
                     " FROM revisions",
        "fts": "SELECT s.id FROM statement_fts f JOIN statement_index s ON s.rowid = f.rowid"
               " WHERE statement_fts MATCH 'the OR government'",
    }
    return {name: sorted(tuple(row) for row in await store._fetchall(sql))
            for name, sql in queries.items()}


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The benchmark's synthetic archive at 600 statements: speakers with Cyrillic
    aliases, sources, events, links between statements; every kind in one batch."""
    out = tmp_path_factory.mktemp("archive")
    manifest = generate(600, out)
    return [Path(p) for p in manifest.files]


@pytest.mark.parametrize("first_chunk", [50, 7])
async def test_a_whole_archive_streams_and_matches_the_careful_way(
    tmp_path: Path, archive: list[Path], streamed: list[int], monkeypatch: pytest.MonkeyPatch,
    first_chunk: int,
) -> None:
    # Chunks of 50 rows, or 7, 14, 28, then 50: the stream starts small (_chunk_sizes).
    monkeypatch.setattr(importer, "FIRST_CHUNK", first_chunk)
    async with SqliteStore(tmp_path / "streamed.sqlite3") as store:
        fast = await _import(store, archive)
        fast_tables = await _tables(store)
    assert streamed and streamed[0] > 600  # all of it went the streamed way, in many chunks
    monkeypatch.setattr(importer, "_may_stream", lambda *_args: False)  # the careful way
    async with SqliteStore(tmp_path / "careful.sqlite3") as store:
        careful = await _import(store, archive)
        careful_tables = await _tables(store)

    assert len(streamed) == 1
    assert report_text(fast) == report_text(careful)
    assert fast.added == careful.added and fast.kinds == careful.kinds
    for name, rows in careful_tables.items():
        assert rows and fast_tables[name] == rows, name


async def test_a_bad_row_after_written_chunks_leaves_nothing(
    tmp_path: Path, archive: list[Path], streamed: list[int]
) -> None:
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        await _import(store, archive[:3])  # speakers, sources, events
        before = await _tables(store)
        streamed.clear()
        rows = _lines(archive[3])[:400]
        rows[350] = {**rows[350], "said_on": "2016-13-45"}
        bad = _write(tmp_path / "bad.jsonl", rows)

        report = await _import(store, [bad])

        assert not report.written and report.blocked
        assert [(e.origin.line, e.field) for e in report.rejected] == [(351, "said_on")]
        assert await _tables(store) == before  # the chunks written before it are gone
        assert not streamed

        # With --skip-invalid, the other 399 rows go in once, with one revision each.
        report = await _import(store, [bad], skip_invalid=True)
        assert report.written and len(report.added) == 399
        after = await _tables(store)
        assert len(after["entries"]) == len(before["entries"]) + 399
        assert len(after["revisions"]) == len(before["revisions"]) + 399


async def test_a_row_already_on_record_is_found_late_and_counted_unchanged(
    tmp_path: Path, archive: list[Path], streamed: list[int]
) -> None:
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        await _import(store, archive[:3])
        rows = _lines(archive[3])
        # A statement without an id: its id is derived from speaker, date and text, so
        # when it comes again, last, it is known to be on record only once checked,
        # after the 299 rows before it were written.
        again = {k: v for k, v in rows[0].items() if k != "id"}
        await _import(store, [_write(tmp_path / "first.jsonl", [again])])
        mixed = _write(tmp_path / "mixed.jsonl", [*rows[1:300], again])
        streamed.clear()

        report = await _import(store, [mixed])

        assert not streamed
        assert report_text(report).splitlines()[0].startswith(
            "299 added, 0 changed, 1 unchanged, 0 rejected")
        tables = await _tables(store)
        assert len([r for r in tables["revisions"] if r[1] == "statement"]) == 300


async def test_a_link_to_nothing_is_found_at_the_end_and_nothing_is_written(
    tmp_path: Path, archive: list[Path], streamed: list[int]
) -> None:
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        await _import(store, archive[:3])
        before = await _tables(store)
        streamed.clear()
        rows = _lines(archive[3])[:200]
        rows[10] = {**rows[10], "links": [{"type": "clarifies", "to": "no-such-statement"}]}
        report = await _import(store, [_write(tmp_path / "links.jsonl", rows)])

        assert not streamed and not report.written
        assert [(e.origin.line, e.field, e.message) for e in report.rejected] == [
            (11, "links (clarifies)", "no statement or event with id 'no-such-statement'")]
        assert await _tables(store) == before


async def test_an_empty_file_writes_nothing(tmp_path: Path, streamed: list[int]) -> None:
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        generation = await store.generation()
        report = await _import(store, [_write(tmp_path / "empty.jsonl", [])])

        assert not report.written and not streamed
        assert report_text(report) == "0 added, 0 changed, 0 unchanged, 0 rejected"
        assert await store.generation() == generation


async def _statement_ids_by_rowid(store: SqliteStore) -> list[str]:
    rows = await store._fetchall("SELECT id FROM entries WHERE kind = 'statement' ORDER BY rowid")
    return [row[0] for row in rows]


async def test_statements_are_written_in_id_order_and_reported_in_file_order(
    tmp_path: Path, archive: list[Path], streamed: list[int]
) -> None:
    """In id order they land in the id-keyed trees one stretch at a time (fast at 1M);
    the report still lists them as the file gives them."""
    in_file = [row["id"] for row in _lines(archive[3])]
    assert in_file != sorted(in_file)  # the archive is not in id order to begin with
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        report = await _import(store, archive)
        written = await _statement_ids_by_rowid(store)
        creations = await store._fetchall(
            "SELECT entry_id FROM revisions WHERE kind = 'statement' ORDER BY rev")

    assert len(streamed) == 1  # one stream, in id order, not begun again
    assert written == sorted(in_file)
    assert [row[0] for row in creations] == sorted(in_file)
    reported = [entry_id for entry_id, _origin in report.added if report.kinds[entry_id]
                == "statement"]
    assert reported == in_file
    assert [origin.line for entry_id, origin in report.added
            if entry_id in set(in_file)] == list(range(1, len(in_file) + 1))


async def test_a_statement_that_makes_up_a_source_goes_in_as_the_file_orders_it(
    tmp_path: Path, archive: list[Path], streamed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two new inline sources with one title: the first in the file gets the plain id,
    as the careful way gives it, though in id order the other comes first."""
    rows = sorted(_lines(archive[3])[:120], key=lambda row: row["id"], reverse=True)
    first, second = rows[10], rows[100]
    first["sources"] = [{"title": "Press release", "url": "https://example.org/one"}]
    second["sources"] = [{"title": "Press release", "url": "https://example.org/two"}]
    batch = _write(tmp_path / "inline.jsonl", rows)

    async with SqliteStore(tmp_path / "streamed.sqlite3") as store:
        await _import(store, archive[:3])
        streamed.clear()
        report = await _import(store, [batch])
        ids = {entry_id for entry_id, _origin in report.added}
        fast_tables = await _tables(store)
        written = await _statement_ids_by_rowid(store)
        got = {row["id"]: (await store.get(row["id"])).entry.sources  # type: ignore[union-attr]
               for row in (first, second)}

    assert report.written and len(streamed) == 1
    assert got == {first["id"]: ["press-release"], second["id"]: ["press-release-2"]}
    assert {"press-release", "press-release-2"} <= ids
    # Begun again in file order: each chunk of 50 is the file's next 50 (sorted by id
    # within the chunk), where in id order the first would hold the 50 smallest ids.
    in_file = [row["id"] for row in rows]
    assert written[-len(rows):] == [entry_id for start in range(0, len(rows), 50)
                                    for entry_id in sorted(in_file[start:start + 50])]

    monkeypatch.setattr(importer, "_may_stream", lambda *_args: False)  # the careful way
    async with SqliteStore(tmp_path / "careful.sqlite3") as store:
        await _import(store, archive[:3])
        careful = await _import(store, [batch])
        careful_tables = await _tables(store)
    assert report_text(report) == report_text(careful) and report.added == careful.added
    assert fast_tables == careful_tables


async def test_a_link_to_a_statement_checked_later_is_found_and_written(
    tmp_path: Path, archive: list[Path], streamed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events are checked before statements: an event linking to a statement whose id
    is made from its words points to an id not known yet when the event is written.
    The link is checked again once every row is in, and the batch still streams."""
    rows = _lines(archive[3])[:200]
    target = {key: value for key, value in rows[150].items() if key != "id"}
    target_id = statement_id(target["speaker"], target["said_on"], target["text"])
    rows[150] = target
    event = {**_lines(archive[2])[0], "id": "ev-new",
             "links": [{"type": "responds_to", "to": target_id}]}
    batch = _write(tmp_path / "forward.jsonl", [*rows, event])

    async with SqliteStore(tmp_path / "streamed.sqlite3") as store:
        await _import(store, archive[:3])
        streamed.clear()
        fast = await _import(store, [batch])
        fast_tables = await _tables(store)
    monkeypatch.setattr(importer, "_may_stream", lambda *_args: False)  # the careful way
    async with SqliteStore(tmp_path / "careful.sqlite3") as store:
        await _import(store, archive[:3])
        careful = await _import(store, [batch])
        careful_tables = await _tables(store)

    assert streamed == [201] and fast.written and not fast.rejected
    assert ("ev-new", "responds_to", target_id) in fast_tables["links"]
    assert fast.added == careful.added
    assert fast_tables == careful_tables


async def test_a_large_import_returns_before_its_wal_is_copied_into_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite would copy the WAL at the commit, on the writer's connection (3 s of a
    100,000-statement import at 1M); the store does it in the background after."""
    monkeypatch.setattr(importer, "WRITE_CHUNK", 4_000)
    manifest = generate(5_000, tmp_path / "archive")
    db = tmp_path / "store.sqlite3"
    wal = tmp_path / "store.sqlite3-wal"
    at_checkpoint: list[tuple[int, int]] = []
    copy = sqlite_store.checkpoint

    def watched(path: str, busy_ms: int) -> tuple[int, int, int]:
        at_checkpoint.append((db.stat().st_size, wal.stat().st_size))
        return copy(path, busy_ms)

    monkeypatch.setattr(sqlite_store, "checkpoint", watched)
    async with SqliteStore(db) as store:
        before = db.stat().st_size
        report = await _import(store, [Path(p) for p in manifest.files])
        await store.settle()
        assert report.written and len(report.added) > 5_000
        # The commit left it all in the WAL, well past the 1,000 pages at which SQLite
        # checkpoints by itself; the background checkpoint then copied it.
        ((file_then, wal_then),) = at_checkpoint
        assert file_then == before and wal_then > 1_000 * 4_096
        assert db.stat().st_size > before + 1_000 * 4_096
        (pages,) = await (await store.writer.execute("PRAGMA wal_autocheckpoint")).fetchone()
        assert pages == 1_000  # the writer's own checkpoints, for ordinary writes, are back
        assert (await store.get(report.added[-1][0])) is not None


async def test_a_failed_background_checkpoint_is_logged_and_loses_nothing(
        tmp_path: Path, archive: list[Path], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def disk_error(path: str, busy_ms: int) -> tuple[int, int, int]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_store, "checkpoint", disk_error)
    async with SqliteStore(tmp_path / "store.sqlite3") as store:
        report = await _import(store, archive)
        await store.settle()
    assert "checkpoint after a bulk write failed" in caplog.text
    async with SqliteStore(tmp_path / "store.sqlite3") as again:  # the WAL was kept
        assert report.written and await again.get(report.added[-1][0]) is not None
