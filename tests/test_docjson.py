"""Where orjson stands in for the standard library, it gives what the standard library gave.

Bodies, revisions and hashes already on record were written with
``json.dumps``; an entry imported again must hash the same, or every
re-import would record a change that is none. A line of a user's file
must be read, or refused, as before.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import docjson
from bot.model.entries import Event, Source, Speaker, Statement
from bot.store.base import doc_hash
from bot.store.sqlite.bulk import encode_rows

_BODY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))

# What a canonical document holds: text, lists, objects, booleans and null.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
DOC = st.recursive(
    st.one_of(st.none(), st.booleans(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)


def _every_character_in_blocks() -> list[str]:
    """Every Unicode scalar value, in strings of 512 characters."""
    chars = [chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    return ["".join(chars[i:i + 512]) for i in range(0, len(chars), 512)]


def test_every_character_is_written_as_the_standard_library_writes_it() -> None:
    for block in _every_character_in_blocks():
        doc = {"text": block, block[:8]: [block[::-1]], "a": {"b": block}}
        assert docjson.dumps(doc) == _BODY.encode(doc)
        assert docjson.dumps_sorted_utf8(doc) == _SORTED.encode(doc).encode("utf-8")
        assert docjson.loads(docjson.dumps(doc)) == doc


@settings(max_examples=300, deadline=None)
@given(DOC)
def test_any_document_is_written_as_before_and_read_back(doc: Any) -> None:
    assert docjson.dumps(doc) == _BODY.encode(doc)
    assert docjson.dumps_sorted_utf8(doc) == _SORTED.encode(doc).encode("utf-8")
    assert docjson.loads(docjson.dumps(doc)) == doc


def test_a_hash_on_record_is_the_hash_of_the_same_document_today() -> None:
    doc = {"id": "lavrov-2016-12-08", "text": "«Мы не бомбим» — \u2028 \x00 \\",
           "speaker": "lavrov", "topics": ["aleppo", "syria"],
           "translation": {"text": "We do not bomb"}}
    before = hashlib.sha256(_SORTED.encode(doc).encode("utf-8")).hexdigest()
    assert doc_hash(doc) == before
    assert doc_hash(dict(reversed(doc.items()))) == before


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_an_integer_orjson_refuses_is_written_by_the_standard_library(value: int) -> None:
    doc = {"n": value}
    assert docjson.dumps(doc) == _BODY.encode(doc)
    assert docjson.dumps_sorted_utf8(doc) == _SORTED.encode(doc).encode("utf-8")


def test_a_lone_surrogate_is_written_as_before_and_cannot_be_hashed_as_before() -> None:
    doc = {"text": "\ud800 alone"}
    assert docjson.dumps(doc) == _BODY.encode(doc)
    with pytest.raises(UnicodeEncodeError):
        docjson.dumps_sorted_utf8(doc)


def test_text_holding_a_lone_surrogate_reads_back() -> None:
    text = _BODY.encode({"text": "\udc80"})
    assert docjson.loads(text) == {"text": "\udc80"}


def test_rows_with_a_lone_surrogate_are_sent_in_the_standard_librarys_ascii() -> None:
    assert encode_rows([("a\ud800", 1, None)]) == b'[["a\\ud800",1,null]]'


def _numeric_types(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["type"]} & {"number", "integer"} if isinstance(schema.get("type"),
                                                                       str) else set()
        return found.union(*(_numeric_types(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_numeric_types(v) for v in schema))
    return set()


@pytest.mark.parametrize("model", [Speaker, Source, Statement, Event])
def test_no_entry_holds_a_number_the_two_encoders_would_write_differently(model: Any) -> None:
    # orjson writes 1e-7 where Python writes 1e-07: documents must stay numberless.
    assert _numeric_types(model.model_json_schema(mode="serialization")) == set()


TRICKY_LINES = [
    '{"id": "a-b", "text": "x"}',
    '{"type": "speaker", "id": "lavrov", "name": "Сергей Лавров"}',
    '{"id": 123456789012345678901234567890, "text": "x"}',  # beyond 64 bits
    '{"type": 18446744073709551616}',
    '{"id": "nan", "score": NaN}',  # only the standard library takes NaN
    '{"id": "\\ud800", "text": "a lone surrogate, escaped"}',
    '{"id": "big", "n": 1e400}',
    '{"id": null, "text": "x"}',
    '{"id": "a", "id": "b"}',
    '{"id": "x",}',
    '{"id": "x"',
    '[1, 2]',
    '{"type": "person"}',
]


@pytest.mark.parametrize("line", TRICKY_LINES)
def test_a_line_is_read_as_the_standard_library_reads_it(line: str) -> None:
    from bot.transfer.records import read_jsonl

    read = read_jsonl(line + "\n", "f.jsonl")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        assert [e.message for e in read.errors] == [f"not valid JSON: {exc.msg} "
                                                     f"(column {exc.colno})"]
        return
    if not isinstance(data, dict):
        assert [e.message for e in read.errors] == ["each line must be a JSON object"]
        return
    if read.errors:
        assert read.errors[0].message.startswith(repr(data["type"]))
        return
    (record,) = read.records
    assert type(record.given_id) is type(data.get("id"))
    assert record.given_id == data.get("id")
    # Compared as text: NaN is not equal to itself.
    assert json.dumps(record.data) == json.dumps({k: v for k, v in data.items() if k != "type"})
