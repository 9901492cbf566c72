"""The JSON text of canonical documents: what the store writes, hashes and reads back.

An import of 100,000 statements encodes every document three times (its
body, its hash, the rows sent to SQLite) and parses it twice; with the
standard library that was a third of the checking thread's CPU
(docs/performance.md, "Documents encoded by orjson"). orjson does the same
work several times faster, and for what a document holds (text, lists,
objects, booleans and null: no entry model has a numeric field) its output
is the very text of ``json.dumps(doc, ensure_ascii=False,
separators=(",", ":"))``, character for character
(``tests/test_docjson.py`` checks every code point). So bodies and hashes
written before and after it are the same, and a file imported again
changes nothing.

What orjson refuses (a lone surrogate, an integer beyond 64 bits) goes to
the standard library, which gives what it always gave. Numbers are the one
place the two differ: orjson writes ``1e-7`` where Python writes
``1e-07``, and parses an integer beyond 64 bits as a float. So this module
is for canonical documents only. A line of a user's file is checked from
the standard library's parse (orjson, with a walk to rule out such floats,
saved only ~0.06 s a 100,000 lines); only its kind and id are first read
through orjson, where the two agree (``records._kind_and_id``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_BODY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dumps(doc: Any) -> str:
    """Compact JSON, keys in the document's order, text as it is (not ``\\u`` escaped)."""
    try:
        return orjson.dumps(doc).decode()
    except TypeError:
        return _BODY.encode(doc)


def dumps_sorted_utf8(doc: Any) -> bytes:
    """Compact JSON with every object's keys sorted, as UTF-8: what a hash is made of."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _SORTED.encode(doc).encode("utf-8")


def loads(text: str | bytes) -> Any:
    """A document from text this module (or the standard library's encoder) wrote."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # Text holding a lone surrogate, which orjson refuses and the standard
        # library's encoder writes as it is.
        return json.loads(text)

