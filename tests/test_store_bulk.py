"""Rows written through ``json_each`` come back exactly as ``executemany`` writes them.

Quotes are stored as the source gives them: every character of any text, NUL
and line separators included, must survive the trip through JSON and
SQLite's JSON functions.
"""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.sqlite.bulk import ids_json, insert_rows

# Any Unicode text but lone surrogates, which no UTF-8 text (nor SQLite) can hold.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
VALUE = st.one_of(st.none(), TEXT, st.integers(min_value=-(2**63), max_value=2**63 - 1))
ROWS = st.lists(st.tuples(TEXT, VALUE, VALUE), min_size=1, max_size=20)


def _two_tables() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for name in ("by_row", "bulk"):
        conn.execute(f"CREATE TABLE {name} (n INTEGER PRIMARY KEY, a, b, c)")
    return conn


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_bulk_insert_keeps_every_value_and_the_order(rows: list[tuple[object, ...]]) -> None:
    conn = _two_tables()
    conn.executemany("INSERT INTO by_row (a, b, c) VALUES (?, ?, ?)", rows)
    insert_rows(conn, "INSERT INTO bulk (a, b, c)", rows)

    def read(table: str) -> list[tuple[object, ...]]:
        return conn.execute(f"SELECT n, a, b, c, typeof(a), typeof(b), typeof(c)"
                            f" FROM {table} ORDER BY n").fetchall()

    assert read("bulk") == read("by_row")
    assert [row[1:4] for row in read("bulk")] == [tuple(r) for r in rows]


def test_no_rows_is_no_statement() -> None:
    conn = _two_tables()
    insert_rows(conn, "INSERT INTO bulk (a, b, c)", [])
    assert conn.execute("SELECT count(*) FROM bulk").fetchone() == (0,)


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXT, max_size=30))
def test_ids_as_one_parameter_find_exactly_those_ids(ids: list[str]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
    stored = ["a", "ä", '"quoted"', "back\\slash", "line\u2028sep", *ids[::2]]
    conn.executemany("INSERT OR IGNORE INTO t VALUES (?)", [(i,) for i in stored])
    found = {row[0] for row in conn.execute(
        "SELECT id FROM t WHERE id IN (SELECT value FROM json_each(?))", (ids_json(ids),))}
    # Ids are slugs: one with a NUL character is never on record, and never found.
    assert found == {i for i in set(stored) & set(ids) if "\x00" not in i}
