"""The knowledge format: validation errors name file, line and field; the bundled pack is sound."""

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.bundled import bundled_knowledge_dir
from bot.knowledge.loader import check_references, read_path, read_text, yaml_items
from bot.knowledge.yamlfile import dump_yaml
from tests.conftest import SEED, need_shared

BAD = """\
speakers:
  - id: sergey-lavrov
    name: Sergey Lavrov
statements:
  - id: lavrov-x
    speaker: sergey-lavrov
    said_on: "2016-13-01"
    text: Something
    sources: [nowhere]
  - id: Not A Slug
    speaker: sergey-lavrov
    said_on: "2016"
    text: Words
    sources: [s]
    colour: red
sources:
  - id: s
    title: T
    url: ftp://example.org/x
"""


def test_errors_name_file_line_and_field():
    bundle = read_text(BAD, "bad.yaml")
    found = {(e.origin.line, e.field.split(".", 1)[1]) for e in bundle.errors}
    assert (7, "said_on") in found
    assert (10, "id") in found
    assert (15, "colour") in found
    assert (19, "url") in found
    messages = " | ".join(str(e) for e in bundle.errors)
    assert "bad.yaml:7: statements[0].said_on: '2016-13-01': month 13 does not exist" in messages
    assert "unknown field" in messages
    assert "http or https" in messages


def test_malformed_yaml_gives_file_and_line():
    bundle = read_text("statements:\n  - id: a\n    text: [unclosed\n", "broken.yaml")
    assert len(bundle.errors) == 1
    error = bundle.errors[0]
    assert error.origin.path == "broken.yaml"
    assert error.origin.line >= 3
    assert "malformed YAML" in error.message


def test_references_are_checked_across_files(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(
        "statements:\n  - id: s1\n    speaker: ghost\n    said_on: '2016'\n    text: t\n"
        "    sources: [src]\n    links: [{type: clarifies, to: nothing-here}]\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text("sources:\n  - id: src\n    title: T\n", encoding="utf-8")
    bundle = read_path(tmp_path, label_root=tmp_path)
    assert bundle.ok
    known = {i.entry.id: i.entry.kind for i in bundle.entries}
    errors = [str(e) for e in check_references(bundle.entries, known)]
    assert errors == [
        "a.yaml:2: speaker: no speaker with id 'ghost'",
        "a.yaml:2: links (clarifies): no statement or event with id 'nothing-here'",
    ]


def test_duplicate_ids_are_reported(tmp_path: Path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("sources:\n  - id: same\n    title: T\n", encoding="utf-8")
    bundle = read_path(tmp_path, label_root=tmp_path)
    assert [str(e) for e in bundle.errors] == ["b.yaml:2: id: 'same' is already used at a.yaml:2"]


def test_bundled_pack_is_valid():
    bundle = read_path(bundled_knowledge_dir())
    assert bundle.errors == []
    known = {i.entry.id: i.entry.kind for i in bundle.entries}
    assert check_references(bundle.entries, known) == []


def _entries():
    return {i.entry.id: i.entry for i in read_path(bundled_knowledge_dir()).entries}


def _flat(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def test_bundled_quotes_are_verbatim_from_the_article():
    article = _flat(need_shared(SEED).read_text(encoding="utf-8"))
    statements = [e for e in _entries().values() if e.kind.value == "statement"]
    assert len(statements) >= 5
    for statement in statements:
        assert _flat(statement.text) in article, statement.id


def test_bundled_pack_holds_what_the_article_records():
    entries = _entries()
    texts = {e.id: e.text for e in entries.values() if e.kind.value == "statement"}
    wanted = [
        "Combat actions of the Syrian Army in eastern Aleppo are suspended today",
        "I never said that military activities have been stopped completely",
        "stop sabotaging political negotiations",
        "terrorists should be relentlessly fought until their full elimination",
        "a total of 8,461 residents, including 2,934 children",
    ]
    for words in wanted:
        assert any(words in t for t in texts.values()), words
    pause = next(e for e in entries.values() if "are suspended today" in getattr(e, "text", ""))
    clarification = next(e for e in entries.values() if "I never said" in getattr(e, "text", ""))
    assert pause.said_on.iso() == "2016-12-08"
    assert clarification.said_on.iso() == "2016-12-09"
    assert any(link.type == "clarifies" and link.to == pause.id for link in clarification.links)
    lavrov = entries[pause.speaker]
    assert {"Лавров", "Sergei Lavrov"} <= set(lavrov.aliases)
    sources = [e for e in entries.values() if e.kind.value == "source"]
    by_publisher = {s.publisher: s for s in sources}
    assert by_publisher["The Duran"].published.iso() == "2016-12-08"
    assert by_publisher["Global Research"].published.iso() == "2016-12-11"
    assert all(s.author == "Alexander Mercouris" for s in sources)
    assert all(s.url is None for s in sources), "the article gives no URL: none may be invented"
    events = " ".join(e.title for e in entries.values() if e.kind.value == "event")
    for name in ("Sheikh Saeed", "Hamburg", "vacuation"):
        assert name in events
    # The weekday disagreement is recorded, not silently resolved.
    notes = " ".join(
        (getattr(e, "note", None) or "") + (getattr(e, "summary", None) or "")
        for e in entries.values()
    )
    assert re.search(r"Thursday 9th December 2016", notes)


@settings(max_examples=500, deadline=None)
@given(st.text(), st.text(max_size=5))
def test_any_text_written_to_yaml_reads_back_exactly(text, key):
    """Quotes are stored as the source gives them: whatever the emitter (libyaml's where
    PyYAML has it), a value and a key written out come back as they were."""
    doc = {"text": text, f"k{key}": [text, key]}
    (item,), errors = yaml_items(dump_yaml({"statements": [doc]}), "t.yaml")
    assert item.data == doc and not errors
    assert item.origin.line == 2
