"""``verbatim import``: YAML, JSON Lines and CSV/TSV into a real SQLite store.

What a curator sees is asserted: the report text (counts, every rejected row
with its file, line and field), the exit code of the command line, and what
the store holds afterwards. The rule under test throughout: a bad row never
half-imports its batch.
"""

from __future__ import annotations

import asyncio
import io
import json
import platform
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.model.entries import Source, Speaker, Statement
from bot.store.base import Conflict, DocumentPut, Put, Retract
from bot.store.sqlite import SqliteStore
from bot.transfer.importer import ImportOptions, ImportReport, import_paths
from bot.transfer.records import read_yaml_file
from bot.transfer.report import MAX_LISTED, report_text
from tests.conftest import SHARED, need_shared

# The store's canonical JSON of a document (``DocumentPut.body``).
_BODY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

LIAR = SHARED / "data" / "liar"
LIAR_PLUS = SHARED / "data" / "liar_plus"
# LIAR's 14 columns, numbered: 3 statement, 4 subjects, 5 speaker slug, 14 context.
LIAR_MAP = ("text=3", "speaker=5", "topics=4", "occasion=14")


def jsonl(*rows: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                   for r in rows)


def statement(text: str = "We will not give up.", **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "speaker": "Jane Roe",
        "said_on": "2016-12-08",
        "text": text,
        "sources": [{"title": "Jane Roe's speech", "url": "https://example.org/roe"}],
    }
    row.update(extra)
    return row


async def run(store: SqliteStore, tmp_path: Path, name: str, content: str,
              **options: object) -> tuple[ImportReport, str]:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    report = await import_paths(store, [path], ImportOptions(**options), actor="test:import")
    return report, report_text(report)


async def snapshot(store: SqliteStore) -> tuple[dict, int]:
    return await store.sync_state(), await store.generation()


async def get(store: SqliteStore, entry_id: str):
    stored = await store.get(entry_id, include_retracted=True)
    assert stored is not None, f"{entry_id} not in the store"
    return stored.entry


BLANKS = """\
speakers:
  - id: jane-roe
    name: Jane Roe
    description:
    wikidata: ""
sources:
  - id: roe-speech
    title: Jane Roe's speech
    publisher: "  "
    author:
    language: ""
    note:
statements:
  - id: roe-2016-12-08
    speaker: jane-roe
    said_on: 2016-12-08
    text: We will not give up.
    sources: [roe-speech]
    place:
    occasion: ""
    language: " "
    note:
    translation:
      text: Nous ne renoncerons pas.
      language:
      by: ""
events:
  - id: vote-2016-12-08
    title: The vote
    happened_on: 2016-12-08
    place:
    summary: ""
"""


async def test_blank_optional_fields_mean_no_value_and_import(store, tmp_path):
    """A curator leaves ``place:`` empty: the entry has no place; nothing crashes."""
    report, text = await run(store, tmp_path, "blanks.yaml", BLANKS)

    assert not report.rejected, text
    assert sorted(entry_id for entry_id, _ in report.added) == sorted(
        ["jane-roe", "roe-speech", "roe-2016-12-08", "vote-2016-12-08"])
    assert (await get(store, "jane-roe")).doc() == {"id": "jane-roe", "name": "Jane Roe"}
    assert (await get(store, "roe-speech")).doc() == {
        "id": "roe-speech", "title": "Jane Roe's speech", "kind": "secondary"}
    assert (await get(store, "roe-2016-12-08")).doc() == {
        "id": "roe-2016-12-08", "speaker": "jane-roe", "said_on": "2016-12-08",
        "text": "We will not give up.", "translation": {"text": "Nous ne renoncerons pas."},
        "sources": ["roe-speech"]}
    assert (await get(store, "vote-2016-12-08")).doc() == {
        "id": "vote-2016-12-08", "title": "The vote", "happened_on": "2016-12-08"}


@pytest.mark.parametrize("sources", [5, 1.5, True])
async def test_sources_that_are_not_a_list_are_rejected_not_a_crash(store, tmp_path, sources):
    before = await snapshot(store)
    report, text = await run(store, tmp_path, "odd.jsonl",
                             jsonl(statement(), statement("Two.", sources=sources)))

    assert text.splitlines()[1] == (
        f"  rejected: {tmp_path / 'odd.jsonl'}:2: sources: give the sources as a list: "
        "ids, URLs, or mappings with title and url")
    assert report.blocked and not report.written
    assert await snapshot(store) == before


# --------------------------------------------------------------------------- JSON Lines


async def test_inline_source_and_speaker_by_name_are_created_once(store, tmp_path):
    rows = jsonl(
        statement(speaker="Mr. Jane Q. Roe"),
        statement("And we will stay.", speaker="Jane Roe", said_on="2016-12-09"),
    )
    report, text = await run(store, tmp_path, "roe.jsonl", rows)

    assert text.splitlines()[0] == (
        "4 added (2 statements, 1 speaker, 1 source), 0 changed, 0 unchanged, 0 rejected"
    )
    assert report.written and not report.rejected
    statements = [s.entry async for s in store.entries(Statement.kind)]
    assert len(statements) == 2
    # "Jane Roe" is "Jane Q. Roe" without the middle initial: one speaker, named as first seen.
    assert {s.speaker for s in statements} == {"jane-q-roe"}
    speaker = await get(store, "jane-q-roe")
    assert isinstance(speaker, Speaker)
    assert speaker.name == "Jane Q. Roe"  # the honorific goes, the spelling stays as an alias
    assert "Mr. Jane Q. Roe" in speaker.aliases
    (source_id,) = {sid for s in statements for sid in s.sources}
    source = await get(store, source_id)
    assert isinstance(source, Source)
    assert (source.title, source.url) == ("Jane Roe's speech", "https://example.org/roe")


async def test_reimporting_the_same_file_creates_nothing_twice(store, tmp_path):
    rows = jsonl(statement(), statement("Second words.", speaker="Ms. Jane Roe"))
    await run(store, tmp_path, "roe.jsonl", rows)
    before = await snapshot(store)

    report, text = await run(store, tmp_path, "roe.jsonl", rows)

    assert text == "0 added, 0 changed, 2 unchanged, 0 rejected"
    assert not report.written
    assert await snapshot(store) == before  # no entry, no revision, no generation bump


async def test_a_new_field_on_reimport_is_a_change_with_a_revision(store, tmp_path):
    await run(store, tmp_path, "a.jsonl", jsonl(statement(id="roe-1")))

    report, text = await run(store, tmp_path, "a.jsonl",
                             jsonl(statement(id="roe-1", place="Hamburg")))

    assert text == "0 added, 1 changed, 0 unchanged, 0 rejected"
    assert [i for i, _ in report.changed] == ["roe-1"]
    assert (await get(store, "roe-1")).place == "Hamburg"
    assert [r.action for r in await store.history("roe-1")] == ["create", "update"]


async def test_an_id_never_silently_changes_its_words(store, tmp_path):
    await run(store, tmp_path, "a.jsonl", jsonl(statement(id="roe-1")))
    before = await snapshot(store)

    _report, text = await run(store, tmp_path, "b.jsonl",
                             jsonl(statement("Other words.", id="roe-1")))

    assert "b.jsonl:1: id: 'roe-1' already holds other words" in text
    assert text.endswith("Nothing was written. Fix the rows above, or import the valid ones "
                         "with --skip-invalid.")
    assert await snapshot(store) == before


async def test_names_resolve_to_the_speakers_and_sources_on_record(loaded, tmp_path):
    duran = "Sergey Lavrov: “Terrorists Should Be Fought Until Their Full Elimination” in Syria"
    rows = jsonl(*(
        statement(f"Words {n}.", speaker=name,
                  sources=[{"title": duran, "publisher": "The Duran"}])
        for n, name in enumerate(["Sergei Lavrov", "Mr. Sergey V. Lavrov", "Лавров",
                                  "sergey-lavrov"])
    ))
    report, text = await run(loaded, tmp_path, "lavrov.jsonl", rows)

    assert text == "4 added, 0 changed, 0 unchanged, 0 rejected"  # statements only
    added = [await get(loaded, i) for i, _ in report.added]
    assert {s.speaker for s in added} == {"sergey-lavrov"}
    assert {tuple(s.sources) for s in added} == {("theduran-2016-12-08-mercouris-lavrov",)}


async def test_the_store_speakers_names_are_read_only_for_a_row_that_names_one(
        loaded, tmp_path, monkeypatch):
    """Building the index of the store's speaker names took ~0.5-0.9 s of every import
    at 1M: rows that give speaker ids never need it; the first row naming one does."""
    from bot.store.sqlite import store as sqlite_store

    reads: list[int] = []
    original = sqlite_store._KindsOnDisk.speaker_names

    def counted(self):  # type: ignore[no-untyped-def]
        reads.append(1)
        return original(self)

    monkeypatch.setattr(sqlite_store._KindsOnDisk, "speaker_names", counted)
    by_id = jsonl(statement("Words by id.", speaker="sergey-lavrov"))
    report, _ = await run(loaded, tmp_path, "by-id.jsonl", by_id)
    assert report.written and reads == []

    by_name = jsonl(statement("Words by name.", speaker="Лавров"),
                    statement("More words by name.", speaker="Sergei Lavrov"))
    report, _ = await run(loaded, tmp_path, "by-name.jsonl", by_name)
    assert report.written and reads == [1]
    assert {(await get(loaded, i)).speaker for i, _ in report.added} == {"sergey-lavrov"}


async def test_a_statement_may_name_a_speaker_and_source_defined_later_in_its_file(
    store, tmp_path
):
    text = """\
statements:
  - speaker: John Doe
    said_on: 2016
    text: First.
    sources: [doe-site]
  - id: doe-2
    speaker: jd
    said_on: 2016-05
    text: Second.
    sources: [{title: Doe's site, url: "https://doe.example/"}]
speakers:
  - id: jd
    name: John Doe
sources:
  - id: doe-site
    title: Doe's site
    url: https://doe.example/
"""
    _report, out = await run(store, tmp_path, "late.yaml", text)

    assert out.splitlines()[0] == (
        "4 added (2 statements, 1 speaker, 1 source), 0 changed, 0 unchanged, 0 rejected"
    )
    statements = [s.entry async for s in store.entries(Statement.kind)]
    assert {(s.speaker, tuple(s.sources)) for s in statements} == {("jd", ("doe-site",))}


_YAML_HEAD = """\
speakers:
  - id: jd
    name: John Doe
sources:
  - id: doe-site
    title: Doe's site
    type: primary
statements:
  - id: doe-1
    speaker: jd
    said_on: 2016-05-01
    text: First.
    sources: [doe-site]
"""


async def test_a_yaml_file_that_breaks_half_way_writes_nothing_and_names_the_line(
        store, tmp_path):
    before = await snapshot(store)
    broken = _YAML_HEAD + "  - id: doe-2\n    text: [unclosed\n  - id: doe-3\n"

    report, out = await run(store, tmp_path, "broken.yaml", broken)

    assert [str(e) for e in report.rejected] == [
        f"{tmp_path / 'broken.yaml'}:16: malformed YAML: did not find expected ',' or ']'"]
    assert out.splitlines()[0].startswith("0 would be added")  # the items before it: not one
    assert await snapshot(store) == before


def test_a_yaml_file_s_items_wait_in_a_spool_file_not_in_memory(tmp_path):
    path = tmp_path / "head.yaml"
    path.write_text(_YAML_HEAD, encoding="utf-8")

    read = read_yaml_file(path, "head.yaml")
    try:
        assert [(r.kind.value, r.origin.line, r.text) for r in read.records] == [
            ("speaker", 2, None), ("source", 5, None), ("statement", 9, None)]
        assert read.records[1].data == {"id": "doe-site", "title": "Doe's site",
                                        "type": "primary"}
        assert read.records[2].data["said_on"] == "2016-05-01"
    finally:
        read.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.yaml"]  # nothing left


async def test_a_yaml_file_that_is_not_utf8_is_refused_naming_the_byte(store, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(_YAML_HEAD.replace("First.", "Premi\u00e8re.").encode("latin-1"))
    before = await snapshot(store)

    report = await import_paths(store, [path], ImportOptions(), actor="test:import")

    offset = _YAML_HEAD.index("First.") + len("Premi")
    assert [str(e) for e in report.rejected] == [
        f"{path}: not UTF-8 text (invalid continuation byte at byte {offset})"]
    assert await snapshot(store) == before


async def test_yaml_items_come_back_exactly_and_odd_ones_are_refused_by_line(store, tmp_path):
    words = "Line one\u2028line two and \u201cquotes\u201d \u2014 \"bare\"\u0085end  "
    odd = _YAML_HEAD + f"""\
  - id: doe-2
    speaker: jd
    said_on: 2016-05
    text: {json.dumps(words)}
    sources: [doe-site]
  - id: doe-3
    speaker: jd
    said_on: 2016
    text: A number for a key.
    sources: [doe-site]
    1: one
"""
    report, _out = await run(store, tmp_path, "odd.yaml", odd, skip_invalid=True)

    assert [(e.origin.line, e.field) for e in report.rejected] == [(19, "1")]
    assert (await get(store, "doe-2")).text == words
    assert str((await get(store, "doe-1")).said_on) == "2016-05-01"  # dates stay text
    assert (await get(store, "doe-site")).type == "primary"  # a field, not the kind


async def test_text_is_kept_verbatim_even_with_unicode_line_separators(store, tmp_path):
    words = "Line one\u2028line two\u2029and “quotes” — \"bare\" too\u0085end  "
    _report, text = await run(store, tmp_path, "sep.jsonl", jsonl(statement(words, id="sep")))

    assert text == "3 added (1 statement, 1 speaker, 1 source), 0 changed, 0 unchanged, " \
                   "0 rejected"
    assert (await get(store, "sep")).text == words


async def test_a_file_with_a_bom_and_crlf_lines_is_read_again_exactly(store, tmp_path):
    # Lines are read a second time from the file when checked (only their place is
    # held): the BOM of the first and the CR of each must not reach the text.
    rows = [statement("Ünïcode first.", id="bom-1"), statement("Second.\r", id="bom-2")]
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(
        json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows).encode("utf-8"))

    report = await import_paths(store, [path], ImportOptions(), actor="test:import")

    assert not report.rejected and report.written
    assert (await get(store, "bom-1")).text == "Ünïcode first."
    assert (await get(store, "bom-2")).text == "Second.\r"


async def test_a_line_edited_during_the_import_is_rejected_and_nothing_is_written(
    store, tmp_path
):
    from bot.transfer.importer import import_records
    from bot.transfer.records import read_jsonl_file

    path = tmp_path / "moving.jsonl"
    path.write_text(jsonl(statement(id="first"), statement("Two.", id="second")),
                    encoding="utf-8")
    read = read_jsonl_file(path, str(path))
    before = await snapshot(store)
    # Someone rewrites the second line (same length) after it was read, before it is checked.
    path.write_text(jsonl(statement(id="first"), statement("Owt.", id="second")),
                    encoding="utf-8")
    try:
        report = await import_records(store, read, ImportOptions(), actor="test:import")
    finally:
        read.close()

    text = report_text(report)
    assert f"{path}:2: this line changed while the file was being imported" in text
    assert not report.written
    assert await snapshot(store) == before


async def test_a_line_edited_during_an_import_checked_in_id_order_is_rejected_too(
    store, tmp_path
):
    """Statements out of id order are checked in id order, their lines read ahead a
    chunk at a time: an edited line is still caught, named, and nothing is written."""
    from bot.transfer.importer import import_records
    from bot.transfer.records import read_jsonl_file

    known = tmp_path / "known.jsonl"
    known.write_text(jsonl({"type": "speaker", "id": "jane-roe", "name": "Jane Roe"},
                           {"type": "source", "id": "roe-speech", "title": "Speech",
                            "url": "https://example.org/roe"}), encoding="utf-8")
    assert (await import_paths(store, [known], ImportOptions(), actor="test:import")).written
    path = tmp_path / "moving.jsonl"

    def row(text: str, n: int) -> dict[str, object]:
        return statement(text, id=f"s-{n:02d}", speaker="jane-roe", sources=["roe-speech"])

    rows = [row(f"Quote {n}.", n) for n in range(30, 0, -1)]  # ids last to first
    path.write_text(jsonl(*rows), encoding="utf-8")
    read = read_jsonl_file(path, str(path))
    before = await snapshot(store)
    rows[4] = row("Quote XX.", 26)  # line 5, same length
    path.write_text(jsonl(*rows), encoding="utf-8")
    try:
        report = await import_records(store, read, ImportOptions(), actor="test:import")
    finally:
        read.close()

    assert [(e.origin.line, e.message) for e in report.rejected] == [
        (5, "this line changed while the file was being imported: import the file again "
            "once it is no longer being written")]
    assert not report.written
    assert await snapshot(store) == before


@pytest.mark.parametrize("where", ["file", "memory"])
async def test_the_import_state_tells_which_of_many_ids_are_on_record(where, tmp_path):
    """``prefetch`` answers for a batch's ids at once (the importer streams a batch only
    when none is on record), and ``get`` then answers from what it read."""
    from bot.model.entries import Kind

    store = SqliteStore(tmp_path / "v.sqlite3" if where == "file" else ":memory:")
    await store.open()
    try:
        await run(store, tmp_path, "known.jsonl", jsonl(
            {"type": "speaker", "id": "jane-roe", "name": "Jane Roe"},
            {"type": "source", "id": "roe-speech", "title": "Speech",
             "url": "https://example.org/roe"},
            statement(id="s-01", speaker="jane-roe", sources=["roe-speech"])))
        kinds = await store.import_state()
        try:
            asked = ["s-02", "jane-roe", "s-01", "roe-speech", "s-02", "nobody"]
            assert await asyncio.to_thread(kinds.prefetch, asked) == {
                "jane-roe", "roe-speech", "s-01"}
            assert await asyncio.to_thread(kinds.prefetch, ["s-01", "s-02"]) == {"s-01"}
            assert await asyncio.to_thread(kinds.prefetch, []) == set()
            assert [await asyncio.to_thread(kinds.get, i) for i in ("s-01", "s-02")] == [
                Kind.STATEMENT, None]
        finally:
            kinds.close()
    finally:
        await store.close()


# --------------------------------------------------------------------------- rejections


async def test_memory_an_import_freed_goes_back_once_no_import_is_running(
    store, tmp_path, monkeypatch
):
    """A bot that imported a large upload should not keep the import's heap: the
    allocator is asked to give it back, after the last of overlapping imports."""
    from bot.transfer import heap, importer

    glibc = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
    assert heap.give_back() is glibc  # as here and in CI; elsewhere nothing to ask
    calls: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: calls.append(importer._gc_holds))
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(jsonl(statement("One.", id="one")), encoding="utf-8")
    second.write_text(jsonl(statement("Two.", id="two")), encoding="utf-8")

    reports = await asyncio.gather(
        *(import_paths(store, [path], ImportOptions(), actor="test:import")
          for path in (first, second)))

    assert all(report.written for report in reports)
    assert calls == [0]  # once, when neither import held the collector off any more


async def test_a_malformed_json_line_is_rejected_with_its_line_and_nothing_is_written(
    store, tmp_path
):
    before = await snapshot(store)
    rows = jsonl(statement(), statement("Two."), '{"speaker": "Jane Roe", "text": "oops"',
                 statement("Four."))

    report, text = await run(store, tmp_path, "bad.jsonl", rows)

    assert text.splitlines() == [
        "5 would be added (3 statements, 1 speaker, 1 source), 0 would change, 0 unchanged, "
        "1 rejected",
        f"  rejected: {tmp_path / 'bad.jsonl'}:3: not valid JSON: Expecting ',' delimiter "
        "(column 39)",
        "Nothing was written. Fix the rows above, or import the valid ones with --skip-invalid.",
    ]
    assert report.blocked and not report.written
    assert await snapshot(store) == before


async def test_skip_invalid_writes_the_valid_rows_in_one_transaction(store, tmp_path):
    rows = jsonl(statement(), "not json", statement("Three.", said_on="2016-02-30"),
                 statement("Four."))
    before_generation = await store.generation()

    _report, text = await run(store, tmp_path, "mixed.jsonl", rows, skip_invalid=True)

    lines = text.splitlines()
    assert lines[0] == ("4 added (2 statements, 1 speaker, 1 source), 0 changed, 0 unchanged, "
                        "2 rejected")
    assert lines[1].endswith("mixed.jsonl:2: not valid JSON: Expecting value (column 1)")
    assert lines[2].endswith("mixed.jsonl:3: said_on: '2016-02-30': day 30 does not exist "
                             "in 2016-02 (1 to 29)")
    assert lines[3] == "The rejected rows were left out; the rest was written in one transaction."
    assert await store.generation() == before_generation + 1
    texts = {s.entry.text async for s in store.entries(Statement.kind)}
    assert texts == {"We will not give up.", "Four."}


async def test_skip_invalid_keeps_the_speaker_a_rejected_row_introduced(store, tmp_path):
    """The first row names a new speaker and is rejected; the second uses that speaker."""
    rows = jsonl(statement("One.", said_on="2016-13", speaker="New Person"),
                 statement("Two.", speaker="New Person"))

    _report, text = await run(store, tmp_path, "first-bad.jsonl", rows, skip_invalid=True)

    assert text.splitlines()[0] == (
        "3 added (1 statement, 1 speaker, 1 source), 0 changed, 0 unchanged, 1 rejected"
    )
    (written,) = [s.entry async for s in store.entries(Statement.kind)]
    speaker = await get(store, written.speaker)  # never a dangling reference
    assert speaker.name == "New Person"


async def test_skip_invalid_drops_a_row_whose_link_points_to_a_rejected_row(store, tmp_path):
    rows = jsonl(
        statement("Said.", id="said", said_on="20161208"),
        statement("Clarified.", id="clarified", links=[{"type": "clarifies", "to": "said"}]),
        statement("Alone.", id="alone"),
    )

    report, _text = await run(store, tmp_path, "links.jsonl", rows, skip_invalid=True)

    rejected = [str(e) for e in report.rejected]
    assert len(rejected) == 2
    assert rejected[0].endswith("links.jsonl:1: said_on: '20161208' is not a date: write YYYY, "
                                "YYYY-MM or YYYY-MM-DD (e.g. 2016-12-08)")
    assert rejected[1].endswith("links.jsonl:2: links (clarifies): no statement or event with "
                                "id 'said'")
    assert [s.id async for s in store.entries(Statement.kind)] == ["alone"]


async def test_an_unknown_field_is_named(store, tmp_path):
    before = await snapshot(store)
    report, text = await run(store, tmp_path, "typo.jsonl",
                             jsonl(statement(), statement("Two.", speach="x")))

    (error,) = report.rejected
    assert (error.origin.line, error.field) == (2, "speach")
    assert f"{tmp_path / 'typo.jsonl'}:2: speach: unknown field (known fields: " in text
    assert await snapshot(store) == before


async def test_a_bad_date_names_said_on_and_the_line(store, tmp_path):
    report, text = await run(store, tmp_path, "dates.jsonl",
                             jsonl(statement(), statement("Two.", said_on="8 Dec 2016")))

    assert "dates.jsonl:2: said_on: '8 Dec 2016' is not a date" in text
    assert [e.field for e in report.rejected] == ["said_on"]  # no confusing "id" error too
    assert [s async for s in store.entries(Statement.kind)] == []


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (statement(sources=[{"title": "T", "url": "ftp://example.org/x"}]), "sources.0.url",
         "'ftp://example.org/x' is not an http or https URL (write https://...)"),
        (statement(sources=[{"title": "T", "url": "javascript:alert(1)"}]), "sources.0.url",
         "'javascript:alert(1)' is not an http or https URL (write https://...)"),
        (statement(sources=["file:///etc/passwd"]), "sources.0",
         "no source with id 'file:///etc/passwd' (give an id, a URL, or a mapping with title "
         "and url)"),
        ({"type": "source", "id": "s", "title": "T", "url": "www.example.org"}, "url",
         "'www.example.org' is not an http or https URL (write https://...)"),
        ({"type": "source", "id": "s", "title": "T", "archived_url": "https://a b"},
         "archived_url", "a URL cannot contain spaces"),
    ],
)
async def test_only_http_and_https_urls_are_accepted(store, tmp_path, row, field, message):
    before = await snapshot(store)
    report, text = await run(store, tmp_path, "urls.jsonl", jsonl(row))

    assert [(e.origin.line, e.field, e.message) for e in report.rejected] == [(1, field, message)]
    assert f"urls.jsonl:1: {field}: {message}" in text
    assert await snapshot(store) == before


async def test_an_ambiguous_speaker_name_is_refused_with_the_candidates(store, tmp_path):
    await store.apply([
        Put(Speaker(id="john-smith-senator", name="John Smith", description="Senator")),
        Put(Speaker(id="john-smith-actor", name="John Smith", description="Actor")),
    ], actor="test")
    before = await snapshot(store)

    report, _text = await run(store, tmp_path, "smith.jsonl", jsonl(
        statement(speaker="Mr. John Smith"),
        statement("Two.", speaker="john-smith-actor"),  # an id is never ambiguous
    ))

    assert [str(e) for e in report.rejected] == [
        f"{tmp_path / 'smith.jsonl'}:1: speaker: 'Mr. John Smith' matches several speakers "
        "(john-smith-actor, john-smith-senator): give the id of the one you mean"
    ]
    assert await snapshot(store) == before


async def test_a_name_shared_by_two_speakers_of_the_batch_is_ambiguous(store, tmp_path):
    _report, text = await run(store, tmp_path, "two.jsonl", jsonl(
        {"type": "speaker", "id": "roe-a", "name": "Jane Roe"},
        {"type": "speaker", "id": "roe-b", "name": "Jane Roe", "aliases": ["J. Roe"]},
        statement(),
    ))

    assert "two.jsonl:3: speaker: 'Jane Roe' matches several speakers (roe-a, roe-b)" in text
    assert [s async for s in store.entries(Speaker.kind)] == []


async def test_a_name_shared_by_a_stored_and_a_new_speaker_is_ambiguous(store, tmp_path):
    await store.apply([Put(Speaker(id="jane-roe", name="Jane Roe"))], actor="test")
    before = await snapshot(store)

    report, _ = await run(store, tmp_path, "another.jsonl", jsonl(
        {"type": "speaker", "id": "jane-roe-junior", "name": "Jane Roe",
         "description": "Her daughter"},
        statement(),
    ))

    assert [(e.origin.line, e.field, e.message) for e in report.rejected] == [
        (2, "speaker", "'Jane Roe' matches several speakers (jane-roe, jane-roe-junior): "
                       "give the id of the one you mean")
    ]
    assert await snapshot(store) == before


async def test_a_missing_speaker_is_reported_not_a_crash(store, tmp_path):
    row = statement()
    del row["speaker"]
    report, _text = await run(store, tmp_path, "nospeaker.jsonl", jsonl(row))

    assert [(e.origin.line, e.field, e.message) for e in report.rejected] == [
        (1, "speaker", "required field is missing")
    ]


async def test_the_same_row_twice_is_reported_with_both_lines(store, tmp_path):
    report, _text = await run(store, tmp_path, "twice.jsonl", jsonl(
        statement(), statement("Other."), statement(),
    ))

    (error,) = report.rejected
    assert error.origin.line == 3
    assert error.message.startswith(
        f"same speaker, date and text as the row at {tmp_path / 'twice.jsonl'}:1 (id "
    )


async def test_an_id_used_by_another_kind_is_refused(loaded, tmp_path):
    report, text = await run(loaded, tmp_path, "kind.jsonl",
                             jsonl(statement(id="sergey-lavrov")))

    assert "kind.jsonl:1: id: 'sergey-lavrov' is already a speaker" in text
    assert report.blocked


async def test_a_long_list_of_rejections_is_cut_with_a_count(store, tmp_path):
    rows = jsonl(*(statement(f"Words {n}.", said_on="someday") for n in range(MAX_LISTED + 7)))
    _report, text = await run(store, tmp_path, "many.jsonl", rows)

    lines = text.splitlines()
    assert lines[0].endswith(f"{MAX_LISTED + 7} rejected")
    assert sum(line.startswith("  rejected: ") for line in lines) == MAX_LISTED
    assert "  ... and 7 more" in lines


async def test_dry_run_reports_and_writes_nothing(store, tmp_path):
    before = await snapshot(store)
    _report, text = await run(store, tmp_path, "dry.jsonl", jsonl(statement()), dry_run=True)

    assert text == ("3 would be added (1 statement, 1 speaker, 1 source), 0 would change, "
                    "0 unchanged, 0 rejected\nDry run: nothing was written.")
    assert await snapshot(store) == before


async def test_a_statement_without_a_source_is_rejected(store, tmp_path):
    row = statement()
    del row["sources"]
    report, _ = await run(store, tmp_path, "nosource.jsonl", jsonl(row))

    assert [e.field for e in report.rejected] == ["sources"]


async def test_retracted_entries_are_not_resurrected_or_duplicated(store, tmp_path):
    rows = jsonl(statement(id="roe-1"))
    await run(store, tmp_path, "a.jsonl", rows)
    await store.apply([Retract("roe-1", "misattributed")], actor="test")

    _report, text = await run(store, tmp_path, "a.jsonl", rows)

    assert text == "0 added, 0 changed, 1 unchanged, 0 rejected"
    assert (await store.get("roe-1")) is None  # still hidden from readers


# --------------------------------------------------------------------------- CSV / TSV


async def test_csv_with_a_header_and_a_column_mapping(store, tmp_path):
    content = (
        "quote,who,date,source_title,source_url,topics\n"
        '"A quote with a comma, and ""quotes""",Jane Roe,2016-12,Roe site,https://roe.example/,'
        "aleppo;syria\n"
        '"Two lines\nin one cell",Jane Roe,2016,Roe site,https://roe.example/,\n'
        "Third,Jane Roe,2017-01-01,Roe site,https://roe.example/,one\n"
    )
    report, text = await run(store, tmp_path, "sheet.csv", content,
                             mapping=("text=quote", "speaker=who", "said_on=date"))

    assert text.splitlines()[0] == (
        "5 added (3 statements, 1 speaker, 1 source), 0 changed, 0 unchanged, 0 rejected"
    )
    by_text = {s.entry.text: s.entry async for s in store.entries(Statement.kind)}
    assert set(by_text) == {'A quote with a comma, and "quotes"', "Two lines\nin one cell",
                            "Third"}
    assert by_text['A quote with a comma, and "quotes"'].topics == ["aleppo", "syria"]
    assert by_text["Third"].said_on.iso() == "2017-01-01"
    lines = {i: o.line for i, o in report.added}
    assert sorted(lines[s.id] for s in by_text.values()) == [2, 3, 5]  # a quoted cell spans 3-4


async def test_csv_rows_are_rejected_with_the_line_they_start_on(store, tmp_path):
    content = (
        "text,speaker,said_on,sources\n"
        "Fine,Jane Roe,2016,https://roe.example/\n"
        "Too,many,columns,https://roe.example/,here\n"
        '"An unclosed quote,Jane Roe,2016,https://roe.example/\n'
        "Fine again,Jane Roe,2016,https://roe.example/\n"
    )
    report, text = await run(store, tmp_path, "broken.csv", content)

    assert [(e.origin.line, e.message.split(":")[0]) for e in report.rejected] == [
        (3, "5 columns where the header has 4"),
        (4, "unreadable CSV from here on"),
    ]
    assert "the rest of the file was not read" in text
    assert report.blocked


async def test_a_mapped_column_that_does_not_exist_is_named(store, tmp_path):
    _report, text = await run(store, tmp_path, "cols.csv", "quote,who\nx,y\n",
                             mapping=("text=statement",))

    assert text.splitlines()[1] == (
        f"  rejected: {tmp_path / 'cols.csv'}:1: text: no column 'statement' (columns: quote, who)"
    )


# --------------------------------------------------------------------------- LIAR (real data)


def _liar_options(**extra: object) -> ImportOptions:
    return ImportOptions(format="tsv", header=False, mapping=LIAR_MAP, **extra)  # type: ignore[arg-type]


async def test_liar_rows_without_a_date_are_rejected_naming_said_on(store):
    path = need_shared(LIAR / "test.tsv")
    rows = path.read_text(encoding="utf-8").splitlines()
    before = await snapshot(store)

    options = _liar_options(fixed=("source_title=LIAR (Wang, ACL 2017)",))
    report = await import_paths(store, [path], options, actor="test:import")
    text = report_text(report)

    assert len(report.rejected) == len(rows) == 1283  # one reason per row: no date
    assert {(e.field, e.message) for e in report.rejected} == {
        ("said_on", "required field is missing")
    }
    assert [e.origin.line for e in report.rejected] == list(range(1, len(rows) + 1))
    assert text.splitlines()[1] == f"  rejected: {path}:1: said_on: required field is missing"
    assert f"  ... and {1283 - MAX_LISTED} more" in text
    assert await snapshot(store) == before


async def test_liar_with_a_fixed_date_and_source(store):
    """The curator supplies what LIAR lacks (a date, a source); bare quotes stay as they are."""
    path = need_shared(LIAR / "test.tsv")
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    options = _liar_options(fixed=("said_on=2017", "source_title=LIAR (Wang, ACL 2017)",
                                   "language=en"))

    report = await import_paths(store, [path], options, actor="test:import")

    assert report.ok and report.written
    statements = {s.entry.text: s.entry async for s in store.entries(Statement.kind)}
    assert len(statements) == len({(r[4], r[2]) for r in rows})
    quoted = next(r for r in rows if '"' in r[2])
    entry = statements[quoted[2]]
    assert entry.topics == quoted[3].split(",")
    assert entry.occasion == quoted[13]
    assert entry.said_on.iso() == "2017" and entry.language == "en"
    speaker = await get(store, entry.speaker)
    assert speaker.id == quoted[4]  # LIAR's own speaker slug becomes the id
    (source,) = [s.entry async for s in store.entries(Source.kind)]
    assert source.title == "LIAR (Wang, ACL 2017)" and source.url is None  # none invented
    assert {tuple(s.sources) for s in statements.values()} == {(source.id,)}

    again = await import_paths(store, [path], options, actor="test:import")
    assert (len(again.added), len(again.changed), again.unchanged) == (0, 0, len(statements))


async def test_liar_train_duplicates_block_the_import_and_name_both_lines(store):
    path = need_shared(LIAR / "train.tsv")
    before = await snapshot(store)
    options = _liar_options(fixed=("said_on=2017", "source_title=LIAR"))

    report = await import_paths(store, [path], options, actor="test:import")

    # Five claims were fact-checked twice: same speaker, same words (and here one date).
    assert [(e.origin.line, e.field) for e in report.rejected] == [
        (1859, "id"), (2860, "id"), (4853, "id"), (7270, "id"), (9780, "id")
    ]
    assert report.rejected[0].message.startswith(
        f"same speaker, date and text as the row at {path}:849 (id 'john-mccain-2017-obama-says"
    )
    assert report.blocked
    statements = sum(1 for i in report.added if report.kinds[i[0]].value == "statement")
    assert statements == 10269 - 5
    assert await snapshot(store) == before


async def test_liar_plus_records_split_by_line_breaks_are_reported(store):
    path = need_shared(LIAR_PLUS / "test2.tsv")
    lines = path.read_text(encoding="utf-8").split("\n")
    short = [n for n, line in enumerate(lines, start=1) if line and line.count("\t") != 15]
    starts = short[0::2]
    assert len(starts) == 16 and all(b == a + 1 for a, b in zip(short[0::2], short[1::2],
                                                                   strict=True))
    before = await snapshot(store)
    options = ImportOptions(format="tsv", header=False,
                            mapping=("text=4", "speaker=6", "topics=5", "occasion=15"),
                            fixed=("said_on=2018", "source_title=LIAR-PLUS"))

    report = await import_paths(store, [path], options, actor="test:import")
    text = report_text(report)

    assert [e.origin.line for e in report.rejected] == starts
    assert str(report.rejected[0]) == (
        f"{path}:{starts[0]}: one record split over lines {starts[0]} to {starts[0] + 1} by a "
        "line break inside a field (15 + 2 cells for 16 columns): fix the file and import again"
    )
    assert text.endswith("Nothing was written. Fix the rows above, or import the valid ones "
                         "with --skip-invalid.")
    records = sum(1 for line in lines if line.strip())
    would = sum(1 for i, _ in report.added if report.kinds[i].value == "statement")
    assert would + len(starts) == records == 1283  # every record is accounted for
    assert await snapshot(store) == before


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    db = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("VERBATIM_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("VERBATIM_LOAD_BUNDLED", "false")
    monkeypatch.delenv("VERBATIM_KNOWLEDGE_DIR", raising=False)
    return db


def _count(db: Path) -> int:
    async def count() -> int:
        async with SqliteStore(db) as s:
            return len(await s.sync_state())
    return asyncio.run(count())


def test_cli_import_exit_codes_and_streams(cli_db, tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl(statement()), encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl(statement("Two.", said_on="2016-00")), encoding="utf-8")

    assert main(["import", str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}:1: said_on: '2016-00': month 0 does not exist (use 01 to 12)" in err
    assert _count(cli_db) == 0

    assert main(["import", str(good)]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("3 added (1 statement, 1 speaker, 1 source), 0 changed, "
                          "0 unchanged, 0 rejected\n", "")
    assert _count(cli_db) == 3

    assert main(["import", str(good), str(bad), "--skip-invalid"]) == 1  # still says: rejected
    out, err = capsys.readouterr()
    assert err.startswith("0 added, 0 changed, 1 unchanged, 1 rejected\n")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.jsonl", "No such file or directory"),
        ("notes.txt", "cannot tell the format from the name; use --format yaml, jsonl, csv "
                      "or tsv"),
    ],
)
def test_cli_import_unreadable_input_is_one_line_not_a_traceback(
    cli_db, tmp_path, capsys, name, message
):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("hello", encoding="utf-8")
    assert main(["import", str(tmp_path / name)]) == 1
    _out, err = capsys.readouterr()
    assert message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_cli_import_while_another_import_writes_waits_then_says_so(cli_db, tmp_path,
                                                                    monkeypatch, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl(statement()), encoding="utf-8")
    assert main(["import", "--dry-run", str(good)]) == 0  # the file and its schema made
    capsys.readouterr()
    monkeypatch.setenv("VERBATIM_SQLITE_BUSY_TIMEOUT_MS", "200")
    other = sqlite3.connect(cli_db, isolation_level=None)  # another process, mid-import
    other.execute("BEGIN IMMEDIATE")
    try:
        assert main(["import", str(good)]) == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("verbatim: The archive is busy with another write (a large import can take "
                   "a minute or two); nothing was changed. Try again shortly.\n")
    assert _count(cli_db) == 0
    assert main(["import", str(good)]) == 0
    assert _count(cli_db) == 3


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _many(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "many.jsonl"
    path.write_text(jsonl(*(statement(f"Words number {i}.") for i in range(n))),
                    encoding="utf-8")
    return path


def test_a_long_import_shows_progress_on_a_terminal(cli_db, tmp_path, monkeypatch, capsys):
    path = _many(tmp_path, 2100)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    assert main(["import", "--dry-run", str(path)]) == 0

    assert "Checking" in terminal.getvalue()  # the bar went to the terminal
    out = capsys.readouterr().out
    assert out.startswith("2102 would be added")


def test_an_import_is_quiet_when_not_on_a_terminal(cli_db, tmp_path, capsys):
    path = _many(tmp_path, 2100)

    assert main(["import", "--dry-run", str(path)]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    assert out == ("2102 would be added (2100 statements, 1 speaker, 1 source), 0 would change, "
                   "0 unchanged, 0 rejected\nDry run: nothing was written.\n")


def test_liar_through_the_command_line(tmp_path, monkeypatch, capsys):
    """The way a curator would: numbered columns, a fixed date and source, --skip-invalid."""
    from bot.app.cli import main

    path = need_shared(LIAR / "valid.tsv")
    monkeypatch.setenv("VERBATIM_DATABASE_URL", f"sqlite:///{tmp_path / 'liar.sqlite3'}")
    monkeypatch.setenv("VERBATIM_LOAD_BUNDLED", "false")
    monkeypatch.chdir(tmp_path)
    args = ["import", str(path), "--format", "tsv", "--no-header", "--skip-invalid",
            "--set", "said_on=2017", "--set", "source_title=LIAR (Wang, ACL 2017)"]
    for pair in LIAR_MAP:
        args += ["--map", pair]
    code = main(args)
    out = capsys.readouterr()
    report = out.out + out.err
    added = int(report.split(" added", 1)[0])
    assert added > 1000, report
    assert code == (1 if "rejected:" in report else 0)


# --------------------------------------------------------------------------- bulk path


async def test_the_streamed_import_leaves_the_rows_and_revisions_apply_would(store, tmp_path):
    """An import writes documents through ``put_documents``, building the derived rows
    from the JSON alone; the same entries through ``apply`` must leave the same rows."""
    rows = jsonl(
        {"type": "speaker", "id": "ann-bee", "name": "Ann Bee", "aliases": ["А. Би", "A. Bee"]},
        {"type": "source", "id": "src-1", "title": "Record", "url": "https://example.org/1",
         "publisher": "UN"},
        {"type": "event", "id": "ev-1", "title": "Talks", "happened_on": "2016-12",
         "ended_on": "2017", "place": "Geneva", "summary": "Long.", "topics": ["peace"],
         "sources": ["src-1"]},
        {"type": "event", "id": "ev-2", "title": "Vote", "happened_on": "2016-02-29",
         "sources": ["src-1"]},
        {"id": "s-1", "speaker": "ann-bee", "said_on": "2016", "text": "Мы не уйдём.",
         "language": "RU", "translation": {"text": "We will not leave.", "language": "en"},
         "place": "Geneva", "occasion": "press conference", "topics": ["peace", "war"],
         "sources": ["src-1"], "links": [{"type": "about", "to": "ev-1"}]},
        {"id": "s-2", "speaker": "ann-bee", "said_on": "2016-02", "text": "Plain words.",
         "sources": ["src-1"], "links": [{"type": "clarifies", "to": "s-1"}]},
    )
    report, _ = await run(store, tmp_path, "all.jsonl", rows)
    assert report.written and not report.rejected
    await _assert_rows_as_apply_leaves(store, tmp_path,
                                       ["ann-bee", "src-1", "ev-1", "ev-2", "s-1", "s-2"])
    match = "SELECT rowid FROM statement_fts WHERE statement_fts MATCH 'leave'"
    assert len(await store._fetchall(match)) == 1


async def test_a_streamed_chunk_with_a_nul_in_a_quote_is_written_exactly(store, tmp_path):
    """Rows of new entries are encoded as JSON off the writer's thread, but SQLite's
    JSON functions end a string at a NUL: such a chunk takes the general path, and the
    quote comes back exactly, with the same rows as ``apply`` leaves."""
    rows = jsonl(
        {"type": "speaker", "id": "ann-bee", "name": "Ann Bee"},
        {"type": "source", "id": "src-1", "title": "Record"},
        {"id": "s-1", "speaker": "ann-bee", "said_on": "2016", "text": "Before\x00after.",
         "sources": ["src-1"]},
        {"id": "s-2", "speaker": "ann-bee", "said_on": "2017", "text": "Plain words.",
         "sources": ["src-1"], "links": [{"type": "repeats", "to": "s-1"}]},
    )
    report, _ = await run(store, tmp_path, "nul.jsonl", rows)
    assert report.written and not report.rejected
    assert (await get(store, "s-1")).text == "Before\x00after."
    await _assert_rows_as_apply_leaves(store, tmp_path, ["ann-bee", "src-1", "s-1", "s-2"])


async def test_a_chunk_put_as_new_with_one_on_record_is_refused_whole(store, tmp_path):
    """A chunk of entries all put as new is held as its encoded rows only; when one of
    its ids is on record after all, the writer works the entries out again from those
    rows to check each one: the put is refused, naming it, and nothing is written."""
    rows = jsonl(
        {"type": "speaker", "id": "ann-bee", "name": "Ann Bee"},
        {"type": "source", "id": "src-1", "title": "Record"},
        {"id": "s-1", "speaker": "ann-bee", "said_on": "2016", "text": "First words.",
         "sources": ["src-1"]},
    )
    report, _ = await run(store, tmp_path, "first.jsonl", rows)
    assert report.written
    generation = await store.generation()
    added = Statement(id="s-3", speaker="ann-bee", said_on="2017-05", text="Новые слова.",
                      sources=["src-1"])
    again = Statement(id="s-1", speaker="ann-bee", said_on="2016", text="First words.",
                      place="Geneva", sources=["src-1"])
    puts = [DocumentPut(e.kind, e.id, _BODY.encode(e.doc()), None) for e in (added, again)]

    with pytest.raises(Conflict, match=r"^'s-1' already exists \(version 1\)$"):
        await store.put_documents([puts], "test:import")

    assert await store.get("s-3") is None
    assert (await get(store, "s-1")).place is None
    assert await store.generation() == generation


async def _assert_rows_as_apply_leaves(store: SqliteStore, tmp_path: Path, ids: list[str]
                                       ) -> None:
    """Every derived table and the revisions are what ``apply`` of the same entries
    leaves in a fresh store."""
    other = SqliteStore(tmp_path / "apply.sqlite3")
    await other.open()
    try:
        entries = [(await store.get(i, include_retracted=True)).entry for i in ids]
        await other.apply([Put(e) for e in entries], "test:import")
        for table in ("entries", "statement_index", "statement_counts", "event_index",
                      "speaker_names", "links"):
            sql = f"SELECT * FROM {table} ORDER BY 1, 2"
            if table == "entries":
                sql = "SELECT id, kind, body, body_hash, version FROM entries ORDER BY id"
            mine = [tuple(r) for r in await store._fetchall(sql)]
            assert mine == [tuple(r) for r in await other._fetchall(sql)], table
            if table in ("entries", "statement_index", "statement_counts"):
                assert mine, table  # not equal merely by being empty
        revisions = "SELECT entry_id, kind, action, before, after, reason FROM revisions"
        mine = [tuple(r) for r in await store._fetchall(f"{revisions} ORDER BY rev")]
        theirs = [tuple(r) for r in await other._fetchall(f"{revisions} ORDER BY rev")]
        assert mine == theirs
        for each in (store, other):  # each entry names the revision that created it
            assert await each._fetchall(
                "SELECT e.id FROM entries e LEFT JOIN revisions r ON r.rev = e.created_rev"
                " WHERE r.entry_id IS NOT e.id OR r.action IS NOT 'create'") == []
    finally:
        await other.close()


async def test_kinds_on_record_are_right_when_the_lookup_forgets(loaded, tmp_path,
                                                                  monkeypatch):
    """The store's kinds are looked up on demand and only some remembered (a 1M store
    has 1.1M ids); forgetting after every answer must change no verdict."""
    monkeypatch.setattr("bot.store.sqlite.store._KindsOnDisk._REMEMBER", 1)
    rows = jsonl(
        statement("Linked words.", speaker="sergey-lavrov",
                  sources=["theduran-2016-12-08-mercouris-lavrov"],
                  links=[{"type": "about", "to": "aleppo-2016-12-08-civilian-evacuation"}]),
        statement("Bad link.", speaker="sergey-lavrov",
                  sources=["theduran-2016-12-08-mercouris-lavrov"],
                  links=[{"type": "about", "to": "sergey-lavrov"}]),
        statement(id="sergey-lavrov"),
    )
    report, text = await run(loaded, tmp_path, "kinds.jsonl", rows, skip_invalid=True)

    assert "kinds.jsonl:2: links (about): 'sergey-lavrov' is a speaker, not an event" in text
    assert "kinds.jsonl:3: id: 'sergey-lavrov' is already a speaker" in text
    ((added, _line),) = report.added
    assert (await get(loaded, added)).text == "Linked words."


_JUNK = [None, "", " ", 0, -1, 1.5, 2**70, True, False, [], [None], [1], [""], [[]], [{}], {},
         {"title": None}, {"text": 5}, {"url": "https://e.org"}, "x" * 30_000, "2016-02-30",
         "Jane Roe", "https://e.org/x", "\x00", "a\u2028b", [{"type": "clarifies", "to": None}],
         [{"type": None}], float("nan")]
_FIELDS = {
    "statement": ["id", "speaker", "said_on", "text", "sources", "topics", "links", "place",
                  "occasion", "language", "translation", "note"],
    "speaker": ["id", "name", "aliases", "description", "wikidata"],
    "source": ["id", "title", "url", "archived_url", "kind", "publisher", "author", "published",
               "language", "note"],
    "event": ["id", "title", "happened_on", "ended_on", "place", "summary", "topics", "sources",
              "links"],
}


async def test_junk_in_any_field_is_imported_or_rejected_never_a_crash(store, tmp_path):
    """Whatever a line holds, the import answers with a report: each row written or
    rejected with its line. One file holds every junk value in every field of every
    kind (~1,000 lines); a crash on one (it was once ``"sources": 5``) fails it all."""
    valid = {
        "speaker": {"name": "Jane Roe"},
        "source": {"title": "Jane Roe's speech"},
        "event": {"title": "The vote", "happened_on": "2016-12-08"},
    }
    rows = []
    for kind, fields in _FIELDS.items():
        for field in fields:
            for value in _JUNK:
                n = len(rows)
                row = (statement(f"Line {n}.") if kind == "statement"
                       else {"id": f"{kind}-{n}", **valid[kind]})
                rows.append({**row, field: value, "type": kind})
    path = tmp_path / "junk.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    report = await import_paths(store, [path], ImportOptions(skip_invalid=True),
                                actor="test:import")

    lines = {e.origin.line for e in report.rejected}
    assert all(e.message for e in report.rejected)
    assert 0 < len(lines) < len(rows)  # some junk is harmless (a blank note), most is not
    assert len(report.added) >= len(rows) - len(lines)  # the rest written, with their sources
