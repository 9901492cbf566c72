"""Loading knowledge at start: idempotent, applies only what changed, reports conflicts."""

from pathlib import Path

from bot.knowledge.loader import read_path
from bot.model.entries import Source, Speaker, Statement
from bot.store.base import Put
from bot.store.sqlite import SqliteStore
from bot.store.sync import sync_knowledge

PACK = """\
sources:
  - id: duran
    title: The article
    publisher: The Duran
  - id: repost
    title: The repost
"""


async def _revisions(store) -> int:
    rows = await store._fetchall("SELECT count(*) AS n FROM revisions")
    return rows[0]["n"]


async def test_second_load_of_unchanged_files_writes_nothing(store, tmp_path: Path):
    (tmp_path / "k.yaml").write_text(PACK, encoding="utf-8")
    first = await sync_knowledge(store, read_path(tmp_path))
    assert sorted(first.added) == ["duran", "repost"]
    revisions, generation = await _revisions(store), await store.generation()
    second = await sync_knowledge(store, read_path(tmp_path))
    assert second.wrote == 0 and second.unchanged == 2
    assert await _revisions(store) == revisions
    assert await store.generation() == generation


async def test_a_changed_file_entry_is_applied_alone(store, tmp_path: Path):
    (tmp_path / "k.yaml").write_text(PACK, encoding="utf-8")
    await sync_knowledge(store, read_path(tmp_path))
    (tmp_path / "k.yaml").write_text(PACK.replace("The repost", "The repost, renamed"), "utf-8")
    report = await sync_knowledge(store, read_path(tmp_path))
    assert report.changed == ["repost"] and report.unchanged == 1
    assert (await store.get("repost")).entry.title == "The repost, renamed"
    history = await store.history("repost")
    assert [r.actor for r in history] == ["system:knowledge", "system:knowledge"]


async def test_store_edit_is_not_overwritten_by_a_changed_file(store, tmp_path: Path):
    (tmp_path / "k.yaml").write_text(PACK, encoding="utf-8")
    await sync_knowledge(store, read_path(tmp_path))
    current = await store.get("duran")
    curated = Source(id="duran", title="The article (curated)", publisher="The Duran")
    await store.apply([Put(curated, expected_version=current.version)], "telegram:1")

    # Unchanged file: the curator's edit stands, silently (nothing to decide).
    report = await sync_knowledge(store, read_path(tmp_path))
    assert report.conflicts == [] and report.wrote == 0

    # File changed too: neither wins silently; the conflict is reported.
    (tmp_path / "k.yaml").write_text(PACK.replace("The article", "The article v2"), "utf-8")
    report = await sync_knowledge(store, read_path(tmp_path))
    assert [c.entry_id for c in report.conflicts] == ["duran"]
    assert "k.yaml:2" in str(report.conflicts[0])
    assert (await store.get("duran")).entry.title == "The article (curated)"


async def test_invalid_entries_are_reported_and_skipped(store, tmp_path: Path):
    (tmp_path / "k.yaml").write_text(
        PACK + "statements:\n  - id: s\n    speaker: nobody\n    said_on: '2016'\n"
        "    text: t\n    sources: [duran]\n", encoding="utf-8")
    report = await sync_knowledge(store, read_path(tmp_path))
    assert [str(e) for e in report.errors] == [
        f"{tmp_path / 'k.yaml'}:8: speaker: no speaker with id 'nobody'"]
    assert await store.get("s") is None
    assert await store.get("duran") is not None


class _OnlyWhatIsAsked(SqliteStore):
    """A store that refuses to hand over its whole sync state: at 1M statements that
    took a bot's start 10 s and ~600 MB."""

    async def sync_state(self, ids=None):
        assert ids is not None, "the whole table read to load a few files"
        return await super().sync_state(ids)


async def test_a_start_reads_only_what_the_files_name(tmp_path: Path):
    async with _OnlyWhatIsAsked(tmp_path / "big.sqlite3") as store:
        await store.apply([Put(Speaker(id="roe", name="Jane Roe")),
                           Put(Source(id="elsewhere", title="Imported, not in the files")),
                           *(Put(Statement(id=f"s{n}", speaker="roe", said_on="2016",
                                           text=f"Imported {n}.", sources=["elsewhere"]))
                             for n in range(50))], actor="test")
        (tmp_path / "k.yaml").write_text(PACK + """\
statements:
  - id: from-files
    speaker: roe
    said_on: 2017
    text: Cites what only the store holds.
    sources: [elsewhere, duran]
    links: [{type: repeats, to: s7}]
  - id: broken
    speaker: roe
    said_on: 2017
    text: Cites what nothing holds.
    sources: [nowhere]
""", encoding="utf-8")

        report = await sync_knowledge(store, read_path(tmp_path))

        assert sorted(report.added) == ["duran", "from-files", "repost"]
        assert [(e.field, e.message) for e in report.errors] == [
            ("sources", "no source with id 'nowhere'")]
        again = await sync_knowledge(store, read_path(tmp_path))
        assert again.wrote == 0 and again.unchanged == 3
