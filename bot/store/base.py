"""The store contract every implementation honours.

The core and the search layer speak only this interface, so a PostgreSQL
store can replace SQLite for several bot processes and pass the same
contract tests. Queries arrive as structured values (words, phrases, ids,
dates), never as query-language text: each implementation escapes for its
own engine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from bot.model import docjson
from bot.model.entries import Entry, Kind


class DocumentPut(NamedTuple):
    """One document of ``put_documents``: ``body`` is the canonical JSON of a valid entry,
    as the store writes it; ``expected_version`` None for a new entry."""

    kind: Kind
    id: str
    body: str
    expected_version: int | None


class StoreError(Exception):
    """A write the store refused; the message is fit to show a curator."""


class NotFound(StoreError):
    pass


class StoreBusy(StoreError):
    """Another process held the write lock for longer than the store waits for it:
    usually a large import (tens of seconds at 1M statements). Nothing was written,
    and the same write succeeds once the other is done."""


class Conflict(StoreError):
    """Someone changed the entry since the caller read it."""


def doc_hash(doc: dict[str, Any]) -> str:
    """Stable fingerprint of a canonical document, for change detection: the same for
    the same content whatever the order of its keys."""
    return hashlib.sha256(docjson.dumps_sorted_utf8(doc)).hexdigest()


@dataclass(frozen=True)
class Stored:
    entry: Entry
    version: int
    retracted: bool = False
    retract_reason: str | None = None
    updated_at: str = ""
    updated_by: str = ""

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def kind(self) -> Kind:
        return self.entry.kind


@dataclass(frozen=True)
class Revision:
    rev: int
    entry_id: str
    kind: Kind
    actor: str
    at: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None = None


@dataclass(frozen=True)
class Put:
    """Create or replace an entry.

    ``expected_version`` makes the write conditional (None: create, or any
    version when ``force``), so that two curators cannot overwrite each
    other silently. ``file_hash`` marks the entry as loaded from a knowledge
    file with that content.
    """

    entry: Entry
    expected_version: int | None = None
    force: bool = False
    file_hash: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Retract:
    entry_id: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class Restore:
    entry_id: str
    reason: str | None = None


Change = Put | Retract | Restore


@dataclass(frozen=True)
class SyncState:
    kind: Kind
    body_hash: str
    file_hash: str | None


@dataclass(frozen=True)
class StatementQuery:
    """What the search layer asks for; ``words`` are plain words, never syntax."""

    speaker_ids: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    match_any: bool = False
    since: dt.date | None = None
    until: dt.date | None = None
    language: str | None = None
    limit: int = 5
    offset: int = 0
    chronological: bool = False


@dataclass(frozen=True)
class EventQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    match_any: bool = False
    since: dt.date | None = None
    until: dt.date | None = None
    limit: int = 5
    offset: int = 0
    chronological: bool = False


@dataclass(frozen=True)
class Page:
    ids: list[str]
    total: int


@dataclass(frozen=True)
class RevisionHead:
    """Where the store's history stands, for an index derived from it.

    ``store_key`` is drawn once when the store is created, so that an index
    built from one database is never taken as current for another (a file
    restored from a backup, or a different file at the same path).
    """

    store_key: int
    rev: int


@dataclass(frozen=True)
class SearchDocument:
    """A visible statement's searchable fields: what a derived full-text index holds.

    Dates are ISO days: the first and last day the statement's date may mean.
    """

    id: str
    speaker_id: str
    date_start: str
    date_end: str
    language: str | None
    body_text: str
    translation: str
    topics: str
    context: str


@dataclass(frozen=True)
class LinkRow:
    source: str
    type: str
    target: str


@dataclass(frozen=True)
class SpeakerStats:
    statements: int
    first: str | None
    last: str | None


@dataclass(frozen=True)
class Suggestion:
    number: int
    kind: Kind
    doc: dict[str, Any]
    suggested_by: str
    suggested_at: str
    status: str
    decided_by: str | None = None
    reason: str | None = None
    entry_id: str | None = None


class KindLookup(Protocol):
    """The kind of an id on record, for an importer checking its rows.

    Looked up on demand rather than held whole: a 1M-statement store has
    1.1M ids (~110 MB as a dict). Calls block, so they belong on a worker
    thread; ``prefetch`` answers many ids at once.
    """

    def get(self, entry_id: str) -> Kind | None: ...
    def __contains__(self, entry_id: str) -> bool: ...
    def prefetch(self, ids: Iterable[str]) -> set[str]:
        """Looks the ids up at once and returns those on record, whose kinds ``get``
        then answers from memory."""
        ...
    def sources(self) -> list[tuple[str, str, str, str]]:
        """Each source's id, URL (or ""), title and publisher (or ""), in id order."""
        ...
    def speaker_names(self) -> list[tuple[str, str]]:
        """Each speaker's id and names, as ``Store.speaker_names`` gives them."""
        ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Retractions:
    """What an export must know before its first file, read from the store in one go.

    ``hidden``: the retracted statements and events (left out, and so are the
    links to them). ``still_named``: the retracted speakers and sources that a
    visible statement or event still names, which the files must keep for that
    entry to load.
    """

    hidden: frozenset[str] = frozenset()
    still_named: frozenset[str] = frozenset()


class Snapshot(Protocol):
    """Reads of the store as it was at one moment, whatever is written meanwhile."""

    def entries(self, kind: Kind) -> AsyncIterator[Stored]:
        """Every entry of a kind, retracted ones included, in id order."""
        ...
    async def retractions(self) -> Retractions: ...


class Curation(Protocol):
    """Roles and the review queue: kept beside the entries, in the same database."""

    async def curators(self) -> dict[str, tuple[str, str]]: ...
    async def is_curator(self, actor: str) -> bool: ...
    async def grant_curator(self, actor: str, by: str) -> None: ...
    async def revoke_curator(self, actor: str, by: str) -> None: ...
    async def suggest(self, kind: Kind, doc: dict[str, Any], by: str) -> int: ...
    async def suggestions_since(self, by: str, since: dt.datetime) -> int: ...
    async def pending(self, limit: int = 5) -> tuple[list[Suggestion], int]: ...
    async def suggestion(self, number: int) -> Suggestion | None: ...
    async def decide(
        self, number: int, status: str, by: str, reason: str | None, entry_id: str | None
    ) -> None: ...


@dataclass
class WriteResult:
    revisions: list[Revision] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.revisions)


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...

    async def get(self, entry_id: str, *, include_retracted: bool = False) -> Stored | None: ...
    async def get_many(
        self, ids: Sequence[str], *, include_retracted: bool = False
    ) -> dict[str, Stored]: ...
    async def kinds_of(self, ids: Sequence[str]) -> dict[str, Kind]: ...
    async def apply(self, changes: Sequence[Change], actor: str) -> WriteResult: ...
    async def history(self, entry_id: str) -> list[Revision]: ...
    async def sync_state(self, ids: Sequence[str] | None = None) -> dict[str, SyncState]: ...
    async def mark_loaded(self, hashes: dict[str, str]) -> None: ...

    async def speaker_names(self) -> list[tuple[str, str]]: ...
    async def speaker_stats(self, speaker_id: str) -> SpeakerStats: ...
    async def search_statements(self, query: StatementQuery) -> Page: ...
    async def search_events(self, query: EventQuery) -> Page: ...
    async def links_of(self, entry_id: str) -> tuple[list[LinkRow], list[LinkRow]]: ...
    async def entries(self, kind: Kind) -> AsyncIterator[Stored]: ...
    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]:
        """One moment of the store for reads that must agree with each other (an
        export reads every entry, minutes apart at 1M statements, while curators write)."""
        ...
    async def generation(self) -> int: ...
    async def revision(self, rev: int) -> Revision | None: ...
    def curation(self) -> Curation: ...

    # Bulk import (bot.transfer.importer): an import of 100,000 rows is held as
    # JSON text and written in chunks, within one transaction.
    async def import_state(self) -> KindLookup:
        """The kinds of ids on record, and their sources' keys (looked up on demand:
        close it after)."""
        ...
    async def entry_heads(self, ids: Sequence[str]) -> dict[str, tuple[Kind, str]]:
        """The kind and body hash of each of ``ids`` on record, retracted ones included."""
        ...
    async def put_documents(
        self, chunks: Iterable[Sequence[DocumentPut]], actor: str
    ) -> int:
        """Puts of canonical documents serialised as JSON, in chunks, in one transaction:
        what ``apply`` of the same puts would leave. Returns the revisions written."""
        ...

    # The feed of a derived search index (bot.search.derived): rebuildable
    # from the store at any time, kept current from the revisions.
    async def revision_head(self) -> RevisionHead: ...
    async def statement_total(self) -> int:
        """How many visible statements there are (cheap: kept, not counted)."""
        ...
    async def statements_changed(self, after_rev: int, limit: int) -> tuple[list[str], int]:
        """Ids of statements changed in the revisions after ``after_rev`` (at most
        ``limit`` revisions read), and the last revision read."""
        ...
    async def search_documents(self, ids: Sequence[str]) -> list[SearchDocument]:
        """The visible ones among ``ids``; retracted or unknown ids are left out."""
        ...
    async def search_documents_after(
        self, cursor: int, limit: int
    ) -> tuple[list[SearchDocument], int]:
        """Every visible statement, a page at a time: start at cursor 0, stop at an
        empty page. The cursor is opaque to the caller."""
        ...
