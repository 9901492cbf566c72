"""The UN General Debate speeches, imported through the real command line, then asked about.

The corpus (``../shared/data/ungdc``) is turned into JSON Lines by
``tests/datasets/ungdc.py`` and imported with ``verbatim import`` into a
SQLite file, once with only the corpus and once on top of the bundled
knowledge. Then a reader's question is answered: ``/quote lavrov aleppo``
must find Lavrov's 2016 paragraph naming Deir ez-Zor and Aleppo, and the
five spellings of his name in the speakers sheet must be one speaker.
Everything expected is derived from the records, nothing is hard-coded.
"""

from __future__ import annotations

import asyncio
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.core.app import Core
from bot.core.reply import Card, Reply
from bot.core.request import Request
from bot.knowledge.bundled import bundled_knowledge_dir
from bot.knowledge.loader import read_path
from bot.model.entries import Speaker, Statement
from bot.store.sqlite import SqliteStore
from tests.conftest import READER, need_shared
from tests.datasets.ungdc import UNGDC, statement_records, write_jsonl

LAVROV_SPELLINGS = {
    "Sergey Lavrov",
    "Sergei Lavrov",
    "Mr. Sergey Lavrov",
    "Sergey V. Lavrov",
    "Mr. Sergey V. Lavrov",
}
ALEPPO = re.compile(r"\baleppo\b", re.IGNORECASE)
SUMMARY = re.compile(
    r"^(\d+) added \((\d+) statements, (\d+) speakers, (\d+) sources\), "
    r"0 changed, 0 unchanged, 0 rejected\n$"
)


@pytest.fixture(scope="module")
def records() -> list[dict]:
    need_shared(UNGDC)
    return list(statement_records())


@pytest.fixture(scope="module")
def jsonl(records: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ungdc") / "ungdc.jsonl"
    assert write_jsonl(records, path) == len(records)
    return path


@dataclass(frozen=True)
class Lavrov:
    records: list[dict]
    paragraph: dict  # the 2016 paragraph naming Deir ez-Zor and Aleppo
    others: list[dict]  # Russia's speeches given by someone else (Medvedev, Churkin, Putin)


@pytest.fixture(scope="module")
def lavrov(records: list[dict]) -> Lavrov:
    rus = [r for r in records if r["id"].startswith("ungdc-rus-")]
    his = [r for r in rus if r["speaker"] in LAVROV_SPELLINGS]
    assert {r["speaker"] for r in his} == LAVROV_SPELLINGS  # the sheet really has all five
    (paragraph,) = [r for r in his if r["id"].startswith("ungdc-rus-71-2016-p")
                    and "Deir ez-Zor" in r["text"] and "Aleppo" in r["text"]]
    return Lavrov(his, paragraph, [r for r in rus if r not in his])


@dataclass(frozen=True)
class Imported:
    db: Path
    bundled: bool
    exit_code: int
    out: str
    err: str


def _environment(mp: pytest.MonkeyPatch, db: Path, bundled: bool) -> None:
    mp.chdir(db.parent)  # no stray .env from the working directory
    mp.setenv("VERBATIM_DATABASE_URL", f"sqlite:///{db}")
    mp.delenv("VERBATIM_KNOWLEDGE_DIR", raising=False)
    if bundled:
        mp.delenv("VERBATIM_LOAD_BUNDLED", raising=False)  # the default: true
    else:
        mp.setenv("VERBATIM_LOAD_BUNDLED", "false")


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module", params=[False, True], ids=["corpus-only", "with-bundled"])
def imported(request: pytest.FixtureRequest, jsonl: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Imported:
    db = tmp_path_factory.mktemp("store") / "verbatim.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        _environment(mp, db, request.param)
        code, out, err = _run(["import", str(jsonl)])
    return Imported(db, request.param, code, out, err)


@pytest.fixture
def cli(imported: Imported, monkeypatch: pytest.MonkeyPatch) -> Imported:
    """The environment of an imported store, for ``main([...])`` in a test."""
    _environment(monkeypatch, imported.db, imported.bundled)
    return imported


def _in_store(db: Path, work):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with SqliteStore(db) as store:
            return await work(store)
    return asyncio.run(go())


def _bundled_lavrov() -> list[Statement]:
    bundle = read_path(bundled_knowledge_dir())
    return [i.entry for i in bundle.entries
            if isinstance(i.entry, Statement) and i.entry.speaker == "sergey-lavrov"]


def _mentions_aleppo(s: Statement) -> bool:
    fields = [s.text, s.place or "", s.occasion or "", " ".join(s.topics),
              s.translation.text if s.translation else ""]
    return any(ALEPPO.search(f) for f in fields)


# --------------------------------------------------------------------------- the import


def test_the_import_reports_every_paragraph_added(imported, records):
    assert (imported.exit_code, imported.err) == (0, "")
    match = SUMMARY.match(imported.out)
    assert match, imported.out
    total, statements, speakers, sources = map(int, match.groups())
    assert statements == len(records)
    assert sources == len({r["sources"][0]["id"] for r in records})  # one per speech
    assert total == statements + speakers + sources


def test_every_paragraph_is_on_record_verbatim(imported, records):
    async def check(store: SqliteStore) -> None:
        found = await store.get_many([r["id"] for r in records])
        assert len(found) == len(records)
        for record in records:
            entry = found[record["id"]].entry
            assert isinstance(entry, Statement)
            assert entry.text == record["text"]
            assert entry.said_on.iso() == record["said_on"]  # known to the year, no more
            assert entry.sources == [record["sources"][0]["id"]]
        source = (await store.get(records[0]["sources"][0]["id"])).entry
        assert source.primary and source.url is None  # no URL is invented

    _in_store(imported.db, check)


def test_the_five_spellings_of_lavrov_are_one_speaker(imported, lavrov):
    async def check(store: SqliteStore) -> tuple[set[str], set[str], Speaker]:
        found = await store.get_many([r["id"] for r in lavrov.records + lavrov.others])
        his = {found[r["id"]].entry.speaker for r in lavrov.records}
        others = {found[r["id"]].entry.speaker for r in lavrov.others}
        (speaker_id,) = his
        speaker = (await store.get(speaker_id)).entry
        return his, others, speaker

    his, others, speaker = _in_store(imported.db, check)
    assert len(his) == 1
    assert others and not others & his  # Medvedev, Churkin and Putin stay themselves
    if imported.bundled:
        assert speaker.id == "sergey-lavrov"  # the bundled speaker, not a second Lavrov
    else:
        assert set(speaker.names()) >= LAVROV_SPELLINGS  # every spelling kept as an alias


def test_reimporting_the_corpus_creates_nothing_twice(cli, jsonl, records):
    generation = _in_store(cli.db, lambda s: s.generation())

    code, out, err = _run(["import", str(jsonl)])

    assert (code, err) == (0, "")
    assert out == f"0 added, 0 changed, {len(records)} unchanged, 0 rejected\n"
    assert _in_store(cli.db, lambda s: s.generation()) == generation


# --------------------------------------------------------------------------- what readers get


def _quote_pages(db: Path, args: str) -> list[Reply]:
    """Every page of a /quote answer, through the core, following its paging."""
    async def walk(store: SqliteStore) -> list[Reply]:
        core, replies, page = Core(store), [], 1
        while True:
            reply = await core.handle(Request(actor=READER, command="quote",
                                              args=f"{args} page:{page}"))
            assert not reply.is_error
            replies.append(reply)
            if reply.paging is None or reply.paging.next is None:
                return replies
            page += 1
    return _in_store(db, walk)


def test_quote_lavrov_aleppo_finds_the_2016_paragraph(imported, lavrov):
    replies = _quote_pages(imported.db, "lavrov aleppo")

    cards = [b for r in replies for b in r.blocks if isinstance(b, Card)]
    ids = [c.entry_id for c in cards]
    assert lavrov.paragraph["id"] in ids
    card = cards[ids.index(lavrov.paragraph["id"])]
    assert card.quote == lavrov.paragraph["text"]
    assert "Deir ez-Zor and Aleppo" in card.quote
    assert card.heading == "Sergey Lavrov"
    assert card.when is not None and "2016" in card.when
    expected = [r["id"] for r in lavrov.records if ALEPPO.search(r["text"])]
    if imported.bundled:
        expected += [s.id for s in _bundled_lavrov() if _mentions_aleppo(s)]
    assert sorted(ids) == sorted(expected)  # all of them, every one his, none twice
    total = replies[0].paging.total if replies[0].paging else len(cards)
    assert total == len(expected)


def test_quote_lavrov_aleppo_on_the_command_line(cli, lavrov):
    pages, page = [], 1
    while True:
        code, out, err = _run(["ask", f"/quote lavrov aleppo page:{page}"])
        assert (code, err) == (0, "")
        pages.append(out)
        if "Next page: /quote lavrov aleppo page:" not in out:
            break
        page += 1
    text = "\n".join(pages)
    assert f"id: {lavrov.paragraph['id']}\n" in text
    assert "by Sergey Lavrov matching 'aleppo'" in pages[0]
    words = " ".join(text.split())  # the console wraps at 78 columns
    assert "2016 (known to the year)" in words
    assert "carry out an unbiased and impartial investigation into the incidents in Deir ez-Zor " \
           "and Aleppo" in words
    assert "primary · no link on record" in words  # the corpus has no URL; none is made up


def test_who_lavrov_is_one_speaker_with_all_his_paragraphs(cli, lavrov):
    code, out, err = _run(["ask", "/who lavrov"])

    assert (code, err) == (0, "")
    assert "speakers match" not in out
    assert out.count("\nid: ") + out.startswith("id: ") == 1
    count = len(lavrov.records) + (len(_bundled_lavrov()) if cli.bundled else 0)
    assert f"Statements on record: {count}, 2004 to 2024\n" in out
