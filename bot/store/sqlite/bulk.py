"""Many rows in one SQL statement, for the bulk write paths.

``executemany`` runs one SQLite step a row and takes the GIL back between
steps. While another thread runs Python (the importer checks the next
chunk of a batch while this one is written) each of those hand-backs
waits its turn: a 100,000-statement import into a 1M-statement store spent
37 s in SQL instead of 16. Here a chunk's rows travel as one JSON array
and go in with one ``INSERT ... SELECT`` over ``json_each``: one step, the
GIL released for all of it (docs/performance.md).

The values come back exactly: SQLite's ``json_extract`` returns the very
string, integer or NULL that the encoder wrote (its escapes undone),
except that it ends a string at a NUL character: rows with one go in with
``executemany``. ``tests/test_store_bulk.py`` checks this on text of every
kind against ``executemany``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

# The rows travel as UTF-8 bytes, which SQLite reads as they are once cast to text
# (a BLOB would be JSONB to SQLite 3.45 and later). orjson writes them several times
# faster than the standard library, whose ASCII text (every other character a \u
# escape) they replaced: one 100,000-statement import, ~1 s less of the checking
# thread's CPU, and Cyrillic text 2 bytes a letter in flight instead of 6. Text
# orjson refuses (a lone surrogate) is written by the standard library.
_ROWS_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
_NUL = b"\\u0000"  # how both encoders write a NUL character
PARAMETER = "CAST(? AS TEXT)"
"""The SQL that hands ``json_each`` a parameter made by ``encode_rows``."""


def insert_rows(conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]]) -> None:
    """``head`` (``INSERT [OR IGNORE] INTO t (a, b, ...)``) for every row, in order.

    Each row gives one value per column of ``head``: a string, an integer or
    None. Nothing is done for no rows.
    """
    if not rows:
        return
    payload = encode_rows(rows)
    if payload is None:
        # SQLite's JSON functions end a string at an escaped NUL; such text (or text
        # that merely spells the escape) goes in row by row, exactly.
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"{head} VALUES ({marks})", rows)
        return
    insert_encoded(conn, head, payload)


def encode_rows(rows: Sequence[Sequence[Any]]) -> bytes | None:
    """Rows as the one parameter of ``insert_encoded`` (read in SQL as ``PARAMETER``);
    None when a value holds a NUL (or the text of its escape), which must go in with
    ``executemany``."""
    try:
        payload = orjson.dumps(rows)
    except TypeError:
        payload = _ROWS_JSON.encode(rows).encode("ascii")
    return None if _NUL in payload else payload


def insert_encoded(conn: sqlite3.Connection, head: str, payload: bytes) -> None:
    """``insert_rows`` of rows already encoded by ``encode_rows``, one value a column of
    ``head``."""
    if payload == b"[]":
        return
    # json_each walks the array in order: the rows go in as given.
    conn.execute(f"{head} SELECT {', '.join(encoded_values(head))}"
                 f" FROM json_each({PARAMETER})", (payload,))


def columns(head: str) -> list[str]:
    """The column names of an ``INSERT INTO table (a, b, ...)`` head, in order."""
    return [name.strip() for name in head[head.index("(") + 1 : head.rindex(")")].split(",")]


def encoded_values(head: str) -> list[str]:
    """The SQL that reads each column of ``head`` from a row of ``json_each``, in order,
    for a statement that computes one of them instead."""
    return [f"json_extract(value, '$[{i}]')" for i in range(len(columns(head)))]


def ids_json(ids: Sequence[str]) -> str:
    """Ids as one parameter, for ``... IN (SELECT value FROM json_each(?))``: one query
    however many ids, instead of one a few hundred (the bound-parameter limit).

    An id with a NUL character cannot be sent this way (see above) and is left
    out: ids are slugs (``bot.model.entries.SLUG_RE``), so no such id is on record."""
    return _ROWS_JSON.encode([i for i in ids if "\x00" not in i])
