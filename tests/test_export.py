"""``verbatim export``: the store back to knowledge YAML, and the round trip through import.

The promise under test: export, import into an empty store, export again
gives byte-identical files, and the entries come back exactly (quotes
verbatim, dates at their precision, links and translations kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.knowledge.loader import read_path
from bot.knowledge.yamlfile import dump_yaml
from bot.model.entries import Event, Kind, Source, Speaker, Statement, Translation
from bot.store.base import Put, Retract, Retractions
from bot.store.sqlite import SqliteStore
from bot.transfer import exporter
from bot.transfer.exporter import export_documents, export_store
from bot.transfer.importer import ImportOptions, import_paths
from bot.transfer.report import report_text

FILES = ("events.yaml", "sources.yaml", "speakers.yaml", "statements.yaml")


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def docs_of(store: SqliteStore) -> dict[str, dict]:
    return {s.id: s.entry.doc() for kind in Kind async for s in store.entries(kind)}


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A second, empty store (closed even when a test fails: an open one hangs the run)."""
    async with SqliteStore(tmp_path / "fresh.sqlite3") as other:
        yield other


async def round_trip(store: SqliteStore, fresh: SqliteStore, tmp_path: Path) -> tuple[Path, Path]:
    """Export ``store``, import the folder into the empty ``fresh``, export that."""
    first, second = tmp_path / "first", tmp_path / "second"
    await export_store(store, first)
    report = await import_paths(fresh, [first], ImportOptions(), actor="test:import")
    assert report.ok, report_text(report)
    await export_store(fresh, second)
    return first, second


async def test_bundled_knowledge_survives_export_import_export(loaded, fresh, tmp_path):
    first, second = await round_trip(loaded, fresh, tmp_path)
    assert sorted(files_of(first)) == list(FILES)
    assert files_of(first) == files_of(second)
    assert await docs_of(fresh) == await docs_of(loaded)
    # The files are knowledge files: the loader reads them without a single problem.
    bundle = read_path(first)
    assert bundle.ok, [str(e) for e in bundle.errors]
    assert len(bundle.entries) == len(await docs_of(loaded))


async def test_export_counts_and_orders_entries_by_id(loaded, tmp_path):
    counts = await export_store(loaded, tmp_path / "out")

    docs = await docs_of(loaded)
    for kind in Kind:
        ids = [i for i, d in docs.items() if (await loaded.get(i)).kind is kind]
        assert counts[kind.plural] == len(ids)
        text = (tmp_path / "out" / f"{kind.plural}.yaml").read_text(encoding="utf-8")
        positions = [text.index(f"- id: {i}\n") for i in sorted(ids)]
        assert positions == sorted(positions)
    assert await export_documents(loaded) == {
        name: (tmp_path / "out" / name).read_text(encoding="utf-8") for name in FILES
    }


AWKWARD = [
    "Two lines\nof a quote",
    "Windows line ends\r\nkept",
    " leading space and trailing  ",
    "ends with a newline\n",
    "blank lines\n\n\nbetween\n\n",
    "yes",
    "2016",
    "null",
    "# not a comment",
    "- not a list",
    ": not a mapping",
    "\"double\" and 'single' quotes, « guillemets » and “curly” ones",
    "tab\tinside and \ttab after a space",
    "Unicode line separator\u2028and paragraph separator\u2029inside",
    "Лавров: «Боевые действия приостановлены» 🎉",
    "\ufeffa byte-order mark in the middle\ufeff",
]


async def test_awkward_text_comes_back_exactly(store, fresh, tmp_path):
    entries = [
        Speaker(id="roe", name="Jane Roe", aliases=["J. Roe", "Джейн Роу"],
                description="yes", wikidata="Q42"),
        Source(id="primary-src", title="Transcript: 'quoted' title", publisher="Office",
               author="A. Clerk", published="2016-12", url="https://example.org/a?b=1&c=%20",
               archived_url="https://web.archive.org/web/2016/https://example.org/a",
               type="primary", language="en", note="multi\nline note"),
        Event(id="the-event", title="An event", happened_on="2016-12-08", ended_on="2016-12-09",
              place="Aleppo", summary="What happened.\n", sources=["primary-src"],
              topics=["aleppo", "evacuation"]),
        *(Statement(id=f"s{n}", speaker="roe", said_on=["2016", "2016-12", "2016-12-08"][n % 3],
                    text=text, language="en", sources=["primary-src"], topics=["t"],
                    translation=Translation(text=text, language="ru", by="a translator")
                    if n % 4 == 0 else None,
                    links=[{"type": "about", "to": "the-event"}] if n % 2 else [])
          for n, text in enumerate(AWKWARD)),
    ]
    await store.apply([Put(e) for e in entries], actor="test")

    first, second = await round_trip(store, fresh, tmp_path)
    assert await docs_of(fresh) == await docs_of(store)
    assert [(await fresh.get(f"s{n}")).entry.text for n in range(len(AWKWARD))] == AWKWARD
    assert files_of(first) == files_of(second)


async def test_files_are_written_a_batch_at_a_time_as_one_dump_would_write_them(
        store, tmp_path, monkeypatch):
    """The export streams (a thousand entries a dump); the files are byte for byte what
    one ``dump_yaml`` of each whole list gives, the documented format."""
    await store.apply([Put(Speaker(id="roe", name="Jane Roe")), Put(Source(id="src", title="T")),
                       *(Put(Statement(id=f"s{n:02}", speaker="roe", said_on="2016",
                                       text=AWKWARD[n % len(AWKWARD)], sources=["src"]))
                         for n in range(11))], actor="test")
    monkeypatch.setattr(exporter, "BATCH", 3)

    await export_store(store, tmp_path / "out")

    for kind in Kind:
        docs = [s.entry.doc() async for s in store.entries(kind)]
        whole = dump_yaml({kind.plural: docs})
        assert (tmp_path / "out" / f"{kind.plural}.yaml").read_text(encoding="utf-8") == whole
    assert (await export_documents(store))["statements.yaml"] == dump_yaml(
        {"statements": [s.entry.doc() async for s in store.entries(Kind.STATEMENT)]})


async def test_a_next_line_character_comes_back_exactly(store, fresh, tmp_path):
    text = "the country\x85s position"  # no space after the NEL: PyYAML single-quotes it
    await store.apply([Put(Speaker(id="roe", name="Jane Roe")), Put(Source(id="src", title="T")),
                       Put(Statement(id="nel", speaker="roe", said_on="2016", text=text,
                                     sources=["src"]))], actor="test")

    await round_trip(store, fresh, tmp_path)
    assert (await fresh.get("nel")).entry.text == text


async def test_retracted_entries_stay_out_and_the_files_still_load(store, fresh,
                                                                  tmp_path):
    await store.apply([
        Put(Speaker(id="roe", name="Jane Roe")),
        Put(Source(id="good", title="Good source", url="https://good.example/")),
        Put(Source(id="withdrawn", title="Withdrawn source")),
        Put(Statement(id="said", speaker="roe", said_on="2016", text="Said.", sources=["good"])),
        Put(Statement(id="clarified", speaker="roe", said_on="2016", text="Clarified.",
                      sources=["good", "withdrawn"],
                      links=[{"type": "clarifies", "to": "said"}])),
    ], actor="test")
    await store.apply([Retract("said", "misattributed"), Retract("withdrawn", "fake")],
                      actor="test")

    first, second = await round_trip(store, fresh, tmp_path)
    statements = (first / "statements.yaml").read_text(encoding="utf-8")
    assert "Said." not in statements  # the retracted quote is not in the files
    assert "links" not in statements  # nor a link that readers cannot follow
    # A source a visible statement still cites is needed for the file to load.
    assert "- id: withdrawn\n" in (first / "sources.yaml").read_text(encoding="utf-8")
    assert (await fresh.get("clarified")).entry.sources == ["good", "withdrawn"]
    assert await fresh.get("said", include_retracted=True) is None
    assert files_of(first) == files_of(second)


async def test_an_export_is_of_one_moment_while_curators_write(store, fresh, tmp_path,
                                                               monkeypatch):
    """A curator adds a statement by a new speaker while the export runs, after the
    speakers file was read: the folder holds neither (they wait for the next export),
    agrees with itself and loads back; the write itself went through at once."""
    await store.apply([Put(Speaker(id="roe", name="Jane Roe")), Put(Source(id="src", title="T")),
                       Put(Statement(id="first", speaker="roe", said_on="2016", text="First.",
                                     sources=["src"]))], actor="test")
    loop = asyncio.get_running_loop()
    meanwhile = [Put(Speaker(id="aaron", name="Aaron Newman")),
                 Put(Statement(id="meanwhile", speaker="aaron", said_on="2016",
                               text="Said during the export.", sources=["src"]))]
    dump, written = exporter.dump_yaml, []

    def dump_after_a_write(docs):  # on a worker thread, once the speakers were read
        if not written:
            written.append(asyncio.run_coroutine_threadsafe(
                store.apply(meanwhile, actor="curator"), loop).result(timeout=10))
        return dump(docs)

    monkeypatch.setattr(exporter, "dump_yaml", dump_after_a_write)
    await export_store(store, tmp_path / "first")
    monkeypatch.setattr(exporter, "dump_yaml", dump)

    assert written[0].changed == 2 and await store.get("meanwhile") is not None
    statements = (tmp_path / "first" / "statements.yaml").read_text(encoding="utf-8")
    assert "First." in statements and "Said during the export." not in statements
    report = await import_paths(fresh, [tmp_path / "first"], ImportOptions(), actor="test")
    assert report.ok, report_text(report)
    await export_store(store, tmp_path / "next")
    assert "Said during the export." in (tmp_path / "next" / "statements.yaml").read_text(
        encoding="utf-8")


async def test_what_an_export_leaves_out_is_read_in_one_go(store):
    """Retracted statements and events are hidden; a retracted speaker or source is still
    named only while a visible statement or event names it."""
    await store.apply([
        Put(Speaker(id="kept", name="Kept Speaker")), Put(Speaker(id="gone", name="Gone")),
        Put(Source(id="cited", title="Cited")), Put(Source(id="uncited", title="Uncited")),
        Put(Source(id="plain", title="Never retracted")),
        Put(Statement(id="visible", speaker="kept", said_on="2016", text="Visible.",
                      sources=["plain"])),
        Put(Statement(id="withdrawn", speaker="gone", said_on="2016", text="Withdrawn.",
                      sources=["uncited"])),
        Put(Event(id="summit", title="Summit", happened_on="2016", sources=["cited"])),
        Put(Event(id="hoax", title="Hoax", happened_on="2016", sources=["uncited"])),
    ], actor="test")
    await store.apply([Retract(i, "test") for i in ("kept", "gone", "cited", "uncited",
                                                      "withdrawn", "hoax")], actor="test")

    async with store.snapshot() as moment:
        found = await moment.retractions()

    assert found == Retractions(hidden=frozenset({"withdrawn", "hoax"}),
                                still_named=frozenset({"kept", "cited"}))


async def test_a_private_in_memory_store_exports_as_a_file_store_does(store):
    entries = [Put(Speaker(id="roe", name="Jane Roe")), Put(Source(id="src", title="T")),
               Put(Statement(id="said", speaker="roe", said_on="2016", text="Said.",
                             sources=["src"]))]
    await store.apply(entries, actor="test")
    async with SqliteStore(":memory:") as private:
        await private.apply(entries, actor="test")
        assert await export_documents(private) == await export_documents(store)


async def test_an_export_replaces_every_file_of_an_earlier_one(store, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.yaml").write_text("events:\n- id: stale\n  title: Old\n  happened_on: '2001'\n",
                                     encoding="utf-8")
    await store.apply([Put(Speaker(id="roe", name="Jane Roe"))], actor="test")

    counts = await export_store(store, out)

    assert counts == {"speakers": 1, "sources": 0, "events": 0, "statements": 0}
    assert (out / "events.yaml").read_text(encoding="utf-8") == "events: []\n"
    assert sorted(p.name for p in out.iterdir()) == list(FILES)  # no temporary file left


def test_cli_export_then_import_into_an_empty_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERBATIM_KNOWLEDGE_DIR", raising=False)
    first, second = tmp_path / "first", tmp_path / "second"

    monkeypatch.setenv("VERBATIM_DATABASE_URL", f"sqlite:///{tmp_path / 'a.sqlite3'}")
    monkeypatch.delenv("VERBATIM_LOAD_BUNDLED", raising=False)  # default: bundled knowledge
    assert main(["export", str(first)]) == 0
    wrote = capsys.readouterr().out
    assert wrote.startswith("Wrote ") and f" entries to {first}: " in wrote
    total = int(wrote.split()[1])

    monkeypatch.setenv("VERBATIM_DATABASE_URL", f"sqlite:///{tmp_path / 'b.sqlite3'}")
    monkeypatch.setenv("VERBATIM_LOAD_BUNDLED", "false")
    assert main(["import", str(first)]) == 0
    imported = capsys.readouterr().out
    assert imported.startswith(f"{total} added (")
    assert imported.endswith(", 0 changed, 0 unchanged, 0 rejected\n")

    assert main(["export", str(second)]) == 0
    assert files_of(first) == files_of(second)

    assert main(["import", str(second)]) == 0  # and once more: nothing twice
    assert capsys.readouterr().out.endswith(f"0 added, 0 changed, {total} unchanged, "
                                            "0 rejected\n")
