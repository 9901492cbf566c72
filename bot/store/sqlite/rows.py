"""The rows a document adds to the store's tables, worked out from the document alone.

One definition for every write path: ``apply`` builds them from entries, a
bulk import (``put_documents``) from canonical JSON without building a
model. For a bulk import they are worked out on a second thread while the
writer runs the previous chunk's SQL, and for a chunk of new entries
(the common case: loading an archive) every table's rows are encoded
there too, ready to send. The writer's thread then runs SQL only: its
Python work between statements made it wait for the checking thread's
GIL, and the other thread for it (docs/performance.md, "Where an import's
CPU goes").
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from bot.model import docjson
from bot.model.dates import PartialDate
from bot.model.entries import Kind
from bot.store.base import DocumentPut, doc_hash
from bot.store.sqlite.bulk import PARAMETER, columns, encode_rows, encoded_values, ids_json

ENTRIES_HEAD = ("INSERT INTO entries (id, kind, body, body_hash, file_hash, updated_at,"
                " updated_by, created_rev, version, retracted)")


def _new_entries_sql() -> str:
    values = encoded_values(ENTRIES_HEAD)
    at = columns(ENTRIES_HEAD).index("created_rev")
    values[at] = f"? + {values[at]} + 1"
    return f"{ENTRIES_HEAD} SELECT {', '.join(values)} FROM json_each({PARAMETER})"


NEW_ENTRIES_SQL = _new_entries_sql()
"""``NewRows.entries`` in, with the revision numbers of their creations: the chunk's
n-th entry (from 0) is created by revision ``rev + n + 1``, ``rev`` the first parameter."""
STATEMENT_INDEX_HEAD = (
    "INSERT INTO statement_index (id, speaker_id, said_on, date_start, date_end,"
    " language, body_text, translation, topics, context)"
)
EVENT_INDEX_HEAD = (
    "INSERT INTO event_index (id, date_start, date_end, title, summary, topics, place)"
)
REVISIONS_HEAD = (
    "INSERT INTO revisions (rev, entry_id, kind, actor, at, action, before, after, reason)"
)
NAMES_HEAD = "INSERT OR IGNORE INTO speaker_names (speaker_id, name)"
LINKS_HEAD = "INSERT OR IGNORE INTO links (source, type, target)"
CREATION_REVISIONS_SQL = (
    f"{REVISIONS_HEAD} SELECT ? + key + 1, value ->> 0, value ->> 1, ?, ?, 'create', NULL,"
    f" NULL, NULL FROM json_each({PARAMETER})"
)
"""``NewRows.creations`` in as the revisions that create those entries, numbered from
``rev + 1`` (the first parameter), with actor and time. A creation's revision holds
no copy of the document: the entry's body is it until the first later revision,
whose ``before`` is it (migration 0012)."""

@functools.lru_cache(maxsize=65_536)
def day_span(iso: str) -> tuple[str, str]:
    """First and last day of a canonical date (``2016``, ``2016-12``, ``2016-12-08``),
    remembered: archives repeat a few thousand dates, and parsing one again for
    each of 100,000 statements cost ~1 s."""
    date = PartialDate.parse(iso)
    return date.first_day().isoformat(), date.last_day().isoformat()


def statement_row(entry_id: str, doc: dict[str, Any]) -> tuple[Any, ...]:
    """The statement's row of ``statement_index``, from its canonical document."""
    translation = doc.get("translation")
    return (entry_id, doc["speaker"], doc["said_on"], *day_span(doc["said_on"]),
            (doc.get("language") or "").lower() or None, doc["text"],
            translation["text"] if translation else "", " ".join(doc.get("topics", ())),
            " ".join(p for p in (doc.get("place"), doc.get("occasion")) if p))


def event_row(entry_id: str, doc: dict[str, Any]) -> tuple[Any, ...]:
    """The event's row of ``event_index``, from its canonical document."""
    start = day_span(doc["happened_on"])[0]
    end = day_span(doc.get("ended_on") or doc["happened_on"])[1]
    return (entry_id, start, end, doc["title"], doc.get("summary") or "",
            " ".join(doc.get("topics", ())), doc.get("place") or "")


@dataclass(slots=True)
class Prepared:
    """One item of ``put_documents`` with its hash and the rows it would add."""

    kind: Kind
    id: str
    body: str
    expected_version: int | None
    hash: str
    row: tuple[Any, ...] | None  # its statement_index or event_index row
    names: list[tuple[str, str]]
    links: list[tuple[str, str, str]]


def prepare(item: DocumentPut) -> Prepared:
    """The hash and derived rows of an item, from its document. The parsed document is
    not kept: a chunk waiting to be written holds text only."""
    kind, entry_id = item.kind, item.id
    doc = docjson.loads(item.body)
    row: tuple[Any, ...] | None = None
    names: list[tuple[str, str]] = []
    if kind is Kind.STATEMENT:
        row = statement_row(entry_id, doc)
    elif kind is Kind.EVENT:
        row = event_row(entry_id, doc)
    elif kind is Kind.SPEAKER:
        names = [(entry_id, name) for name in (doc["name"], *doc.get("aliases", ()))]
    links = [(entry_id, link["type"], link["to"]) for link in doc.get("links", ())]
    return Prepared(kind, entry_id, item.body, item.expected_version, doc_hash(doc), row,
                    names, links)


@dataclass(slots=True)
class NewRows:
    """Every row a chunk adds if all its entries are new, encoded for ``bulk.insert_encoded``
    and in the order the writer's general path would insert them: entries,
    statements, names and links in key order, events in the chunk's order."""

    entries: bytes
    statements: int  # how many rows ``statements_json`` holds
    statements_json: bytes
    events: bytes
    names: bytes
    links: bytes
    # [id, kind] of each entry in the chunk's order: the n-th gets the n-th revision
    # number, and that revision is the entry's creation (CREATION_REVISIONS_SQL).
    creations: bytes


class Chunk:
    """A chunk of ``put_documents`` ready for the writer.

    A chunk of new entries is held only as its encoded rows (``new``): the
    writer needs nothing else unless one of its ids turns out to be on
    record, and then ``items`` works the entries out again from those rows.
    Holding both cost ~7 MB for each of the two chunks in flight
    (4,000 statements each; docs/performance.md).
    """

    __slots__ = ("_items", "count", "ids", "new")

    def __init__(self, items: list[Prepared], ids: str, new: NewRows | None) -> None:
        self.count = len(items)
        self.ids = ids  # ``ids_json`` of the chunk, for the one query that finds those on record
        self.new = new  # None when an item replaces a version, or text holds a NUL
        self._items = None if new is not None else items

    @property
    def items(self) -> list[Prepared]:
        """The chunk's items in the order given."""
        if self._items is not None:
            return self._items
        assert self.new is not None
        # Each entries row is (id, kind, body, hash, file hash, at, by, place in the
        # chunk, ...); no item of such a chunk expects a version (else ``new`` is None).
        rows = sorted(json.loads(self.new.entries), key=itemgetter(7))
        return [prepare(DocumentPut(Kind(row[1]), row[0], row[2], None)) for row in rows]


def prepare_chunk(items: list[DocumentPut], actor: str, at: str) -> Chunk:
    """A chunk of ``put_documents``, worked out off the writer's thread."""
    prepared = [prepare(item) for item in items]
    ids = ids_json([p.id for p in prepared])
    return Chunk(prepared, ids, _new_rows(prepared, actor, at))


def _new_rows(prepared: list[Prepared], actor: str, at: str) -> NewRows | None:
    if any(p.expected_version is not None for p in prepared):
        return None
    # An entry's created_rev is its place in the chunk here; the writer, which alone
    # knows the chunk's first revision number, adds it (NEW_ENTRIES_SQL).
    entries = sorted(((p.id, p.kind.value, p.body, p.hash, None, at, actor, place, 1, 0)
                      for place, p in enumerate(prepared)), key=itemgetter(0))
    statements = sorted((p.row for p in prepared if p.kind is Kind.STATEMENT and p.row),
                        key=itemgetter(0))
    events = [p.row for p in prepared if p.kind is Kind.EVENT and p.row]
    names = sorted(name for p in prepared for name in p.names)
    links = sorted(link for p in prepared for link in p.links)
    creations = [(p.id, p.kind.value) for p in prepared]  # in the chunk's order
    texts: list[bytes] = []
    for rows in (entries, statements, events, names, links, creations):
        text = encode_rows(rows)
        if text is None:
            return None  # a NUL in some text: the general path sends such rows one by one
        texts.append(text)
    return NewRows(texts[0], len(statements), texts[1], texts[2], texts[3], texts[4],
                   texts[5])
