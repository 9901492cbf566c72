"""The importer: files in, one transaction out, and a report of every row.

Every row is read, resolved and validated, and every reference checked,
before the batch's one transaction commits. A batch of new entries is
written while it is being checked, inside that transaction; any other
batch is checked and planned first, then written. So a bad row never
half-imports its batch: by default any rejection stops the import and
nothing is written; with ``skip_invalid`` the valid rows are written
together and the rejected ones are listed with their lines.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import operator
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.knowledge.loader import (
    LoadError,
    Origin,
    knowledge_files,
    validate_record,
)
from bot.model import docjson
from bot.model.dates import DateError, PartialDate
from bot.model.entries import Entry, Event, Kind, Source, Speaker, Statement
from bot.model.problems import reference_problem, with_article
from bot.store.base import DocumentPut, KindLookup, Store, Stored, doc_hash
from bot.transfer import heap
from bot.transfer.records import (
    ColumnMapping,
    FileChanged,
    JsonLine,
    RawRecord,
    ReadResult,
    read_jsonl,
    read_jsonl_file,
    read_table,
    read_yaml,
    read_yaml_file,
)
from bot.transfer.resolve import (
    ResolveError,
    Resolver,
    SourceKeys,
    StoreSpeakers,
    statement_id,
)

MAX_IMPORT_BYTES = 512 * 1024 * 1024
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".csv": "csv", ".tsv": "tsv"}


@dataclass(frozen=True)
class ImportOptions:
    format: str | None = None
    mapping: Sequence[str] = ()
    fixed: Sequence[str] = ()
    header: bool = True
    skip_invalid: bool = False
    dry_run: bool = False


@dataclass
class ImportReport:
    """What an import did, or would do.

    ``added`` and ``changed`` list what was written; when nothing was written
    (a dry run, or ``blocked`` because rows were rejected and ``skip_invalid``
    was not given) they list what the valid rows would have written.
    ``kinds`` gives the kind of every added or changed id.
    """

    added: list[tuple[str, Origin]] = field(default_factory=list)
    changed: list[tuple[str, Origin]] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[LoadError] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    blocked: bool = False
    kinds: dict[str, Kind] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.rejected


def detect_format(path: Path, given: str | None) -> str:
    if given:
        return given
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the format from the name; "
                         "use --format yaml, jsonl, csv or tsv")
    return fmt


def _expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a folder (such as an ``export``) becomes its YAML files, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = knowledge_files(path)
            if not found:
                raise ValueError(f"{path}: a folder with no .yaml or .yml file in it")
            out += found
        else:
            out.append(path)
    return out


def read_bytes(data: bytes, label: str, fmt: str, mapping: ColumnMapping) -> ReadResult:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ReadResult(errors=[LoadError(Origin(label), "", f"not UTF-8 text ({exc.reason} "
                                                               f"at byte {exc.start})")])
    if fmt == "yaml":
        return read_yaml(text, label)
    if fmt == "jsonl":
        return read_jsonl(text, label)
    return read_table(text, label, mapping, tsv=fmt == "tsv")


async def _resolver(store: Store) -> Resolver:
    """A resolver that knows the store's ids, and reads its sources and speakers' names
    only if rows need them."""
    kinds = await store.import_state()
    return Resolver(store_kinds=kinds, speakers=StoreSpeakers(kinds.speaker_names),
                    source_keys=SourceKeys(kinds.sources))


_DATES: dict[str, PartialDate] = {}


def _date(value: Any) -> Any:
    """A date as the model would parse it, remembered (archives repeat a few thousand
    dates); a value that is not a date is returned as it is, for the model to refuse
    with its own message."""
    if not isinstance(value, str):
        return value
    date = _DATES.get(value)
    if date is None:
        try:
            date = PartialDate.parse(value)
        except DateError:
            return value
        if len(_DATES) > 100_000:
            _DATES.clear()
        _DATES[value] = date
    return date


def _resolve_record(resolver: Resolver, record: RawRecord | JsonLine, origin: Origin
                    ) -> dict[str, Any]:
    data = record.data if isinstance(record, JsonLine) else dict(record.data)
    if record.kind in (Kind.STATEMENT, Kind.EVENT) and data.get("sources") is not None:
        sources = data["sources"]
        data["sources"] = resolver.sources([sources] if isinstance(sources, str | dict)
                                           else sources, origin)
    if record.kind is Kind.STATEMENT:
        speaker = data.get("speaker")
        if isinstance(speaker, str):
            data["speaker"] = resolver.speaker(speaker, origin)
        if (not data.get("id") and isinstance(data.get("speaker"), str)
                and isinstance(data.get("text"), str) and data.get("said_on")):
            data["id"] = statement_id(data["speaker"], str(data["said_on"]), data["text"])
        if "said_on" in data:
            data["said_on"] = _date(data["said_on"])
    return data


# Entries are resolved in this order, so a statement finds the speakers and sources
# of its own batch wherever they are written; rows keep their order within a kind.
_ORDER = {Kind.SPEAKER: 0, Kind.SOURCE: 1, Kind.EVENT: 2, Kind.STATEMENT: 3}


def _in_kind_order(records: list[RawRecord | JsonLine]) -> list[RawRecord | JsonLine]:
    """The records by kind (``_ORDER``), each kind's as given: a copy, unsorted when
    that is their order already (a file of statements)."""
    ranks = [_ORDER[r.kind] for r in records]
    if all(map(operator.le, ranks, itertools.islice(ranks, 1, None))):
        return list(records)
    return [records[i] for i in sorted(range(len(records)), key=ranks.__getitem__)]


def _derives_id(record: RawRecord | JsonLine) -> bool:
    return record.kind is Kind.STATEMENT and not record.given_id


class _Row:
    """A checked row, held until it is written: its document as JSON text, its origin
    and what it points to. About a fifth of the size of the entry it was made from
    (~0.7 KB for a statement), so a 100,000-row import fits in ~70 MB."""

    __slots__ = ("body", "id", "kind", "links", "origin", "sources", "speaker")

    def __init__(self, entry: Entry, origin: Origin, shared: dict[str, str], *,
                 entry_id: str | None = None) -> None:
        self.kind = entry.kind
        self.id = entry.id if entry_id is None else entry_id
        # Text only: the store parses it again (a few microseconds a statement) rather
        # than a streamed chunk holding 4,000 parsed documents until it is taken
        # (~12 MB of the importer's peak; docs/performance.md).
        self.body = docjson.dumps(entry.doc())
        self.origin = origin
        # Ids repeat across rows (a few thousand speakers and sources): one string each.
        self.speaker = (shared.setdefault(entry.speaker, entry.speaker)
                        if isinstance(entry, Statement) else None)
        linked = isinstance(entry, Statement | Event)
        self.sources = tuple([shared.setdefault(s, s) for s in entry.sources]) if linked else ()
        self.links = tuple((link.type, link.to) for link in entry.links) if linked else ()

    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = docjson.loads(self.body)
        return doc

    def forget_references(self) -> None:
        """Let go of what the row points to, once that is known to exist."""
        self.speaker, self.sources, self.links = None, (), ()


async def import_records(
    store: Store,
    read: ReadResult,
    options: ImportOptions,
    *,
    actor: str,
    progress: bool = False,
) -> ImportReport:
    """Check every record, then write the valid ones in one transaction, or nothing.

    Nothing is written when any row is rejected, unless ``skip_invalid``;
    then only rows whose every reference is still satisfied without the
    rejected ones are written (a speaker or source made up by a rejected row
    is kept only when a written row uses it).
    """
    with _no_cyclic_gc():
        return await _import_records(store, read, options, actor=actor, progress=progress)


async def give_back_memory() -> None:
    """What imports freed goes back to the system, once none is running.

    For the caller to await once it has let go of its batch (the records
    of a 100,000-statement file are ~100 MB): see ``heap``."""
    if _gc_holds == 0:
        await asyncio.to_thread(heap.give_back)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cycle collector off while an import runs (the store's transaction included).

    An import holds every record, entry and document of its batch: millions
    of objects, each full collection walking all of them again. That cost a
    third of the time of a 100,000-statement import (docs/performance.md).
    Reference counting still frees what an import drops; the cycles it
    leaves are collected once, when the collector is back on.
    """
    global _gc_holds, _gc_was_enabled
    if _gc_holds == 0:
        _gc_was_enabled = gc.isenabled()
        gc.disable()
    _gc_holds += 1  # imports may overlap on one event loop: the last one out restores it
    try:
        yield
    finally:
        _gc_holds -= 1
        if _gc_holds == 0 and _gc_was_enabled:
            gc.enable()


_gc_holds = 0
_gc_was_enabled = True


async def _import_records(
    store: Store,
    read: ReadResult,
    options: ImportOptions,
    *,
    actor: str,
    progress: bool,
) -> ImportReport:
    """Stream a batch of new rows (see "the streamed write"); otherwise, or when the
    stream finds otherwise, check everything, plan, then write.

    Checking is pure Python, seconds for a large file: it runs off the event
    loop either way, so a bot importing a curator's upload keeps answering
    everyone else meanwhile."""
    report = ImportReport(rejected=list(read.errors), dry_run=options.dry_run)
    resolver = await _resolver(store)
    try:
        checker = await asyncio.to_thread(_Checker, resolver, read, report)
        if await asyncio.to_thread(_may_stream, read, options, checker):
            by_id = await asyncio.to_thread(_id_order, checker.records)
            for in_id_order in (True, False) if by_id is not None else (False,):
                order = by_id if in_id_order else None
                records = (checker.records if order is None
                           else [checker.records[i] for i in order])
                checker.keep_records = True  # to check them again if the stream stops
                checker.streaming = True
                streamed = _Streamed(checker, iter(_progress(records, progress, "Checking")),
                                     order=order)
                try:
                    await store.put_documents(streamed.chunks(), actor)
                except _Abandon as stopped:
                    # Rolled back: nothing of the batch is written. The rows let go
                    # of their documents once written, so the next try checks the
                    # records again, from the start, with a resolver of its own: in
                    # file order if only the order was in question, else the
                    # careful way.
                    resolver.store_kinds.close()
                    report = ImportReport(rejected=list(read.errors), dry_run=options.dry_run)
                    resolver = await _resolver(store)
                    checker = await asyncio.to_thread(_Checker, resolver, read, report)
                    if not isinstance(stopped, _Reorder):
                        break
                else:
                    # The store's ids go before the report's rows come (the peak of a
                    # large import was its last moment).
                    resolver.store_kinds.close()
                    await asyncio.to_thread(streamed.report_written, report)
                    return report
        return await _check_and_write(store, checker, read, options, report, actor=actor,
                                      progress=progress)
    finally:
        resolver.store_kinds.close()


async def _check_and_write(
    store: Store,
    checker: _Checker,
    read: ReadResult,
    options: ImportOptions,
    report: ImportReport,
    *,
    actor: str,
    progress: bool,
) -> ImportReport:
    """The careful way: check every record, plan what changes, then write it."""
    records = iter(_progress(checker.records, progress, "Checking"))
    rows, made = await asyncio.to_thread(checker.finish, records)
    puts = await _plan(store, rows, made, checker.resolver.store_kinds, report)
    report.rejected.sort(key=_place(read))
    report.blocked = bool(report.rejected) and not options.skip_invalid
    if puts and not report.blocked and not options.dry_run:
        await store.put_documents(_chunks(puts), actor)
        report.written = True
    return report


class _Checker:
    """Resolves and validates records one by one, in kind order, and keeps the valid ones
    as rows; rejections go to the report."""

    def __init__(self, resolver: Resolver, read: ReadResult, report: ImportReport) -> None:
        self.resolver = resolver
        self.report = report
        given = [(r.kind, r.given_id) for r in read.records if isinstance(r.given_id, str)]
        on_record = resolver.store_kinds.prefetch(entry_id for _, entry_id in given)
        resolver.reserve(given, on_record)
        self.gives_ids_on_record = bool(on_record)
        self.records = _in_kind_order(read.records)
        self.rows: list[_Row] = []
        self._batch_ids: dict[str, RawRecord | JsonLine] = {}  # the first row of each id
        self._shared: dict[str, str] = {}
        self._made: list[_Row] | None = None
        self.keep_records = False
        self.streaming = False  # rows go to the stream (``_Streamed``), not to ``rows``

    def check(self, record: RawRecord | JsonLine) -> _Row | None:
        """The record as a row, or None when it is rejected."""
        origin = record.origin
        entry = _check(self.resolver, record, origin, self.report)
        if isinstance(record, JsonLine) and not self.keep_records:
            record.release()  # checked: its text is not read again (~45 MB a 100k file)
        if entry is None:
            return None
        # The id as the file gave it, when it is the entry's: one string for the row,
        # the maps below and the record (~8 MB a 100,000-row file).
        entry_id = record.given_id if record.given_id == entry.id else entry.id
        first = self._batch_ids.setdefault(entry_id, record)
        if first is not record:
            why = (f"same speaker, date and text as the row at {first.origin} "
                   f"(id {entry_id!r})" if _derives_id(record)
                   else f"{entry_id!r} also appears at {first.origin}")
            self.report.rejected.append(LoadError(origin, "id", why))
            return None
        if isinstance(entry, Speaker):
            self.resolver.add_speaker(entry)
        elif isinstance(entry, Source):
            self.resolver.add_source(entry)
        else:
            self.resolver.register(entry.kind, entry_id)
        row = _Row(entry, origin, self._shared, entry_id=entry_id)
        if not self.streaming:  # a streamed row is the stream's to keep (``_Streamed``)
            self.rows.append(row)
        return row

    def made(self) -> list[_Row]:
        """What the resolver made up (speakers named, inline sources), checked like rows,
        once all records are checked (the streamed write may have asked already)."""
        if self._made is not None:
            return self._made
        made: list[_Row] = []
        for created in self.resolver.created:
            entry, errors = validate_record(created.kind, created.doc, created.origin,
                                            f"{created.where}.")
            if entry is None:
                self.report.rejected.extend(errors)
            else:
                made.append(_Row(entry, created.origin, self._shared))
        self._made = made
        return made

    def finish(self, records: Iterator[RawRecord | JsonLine]) -> tuple[list[_Row], list[_Row]]:
        """Check the records left, then what was made up: the valid rows, each list apart."""
        for record in records:
            self.check(record)
        self.records = []
        return self.rows, self.made()


# -- the streamed write --------------------------------------------------------
#
# Loading new data (the common large import: an archive, a dataset, a new
# export) does not need the careful plan: every row is new, so nothing is
# versioned or compared, and the rows can be written while the rest of the
# batch is still being checked. The store writes one chunk while the next
# is checked on another thread: into a 1M-statement store, a 100,000-statement
# import took 32.7 s instead of 36.0 (docs/performance.md). The write is one
# transaction that commits only once every row and every reference has
# passed the same checks as the careful way; anything else (a rejected row,
# a row already on record, a reference that fails) rolls it back, and the
# import goes on the careful way, checking the records again, so its report
# is the same either way. Statements are checked, and so written, in id
# order (``_id_order``); should one of them make something up, the stream
# is rolled back and begun again in file order.


class _Abandon(Exception):
    """The batch is not all new and valid: the streamed write is rolled back."""


class _Reorder(_Abandon):
    """A statement checked out of file order made something up (a speaker named, an
    inline source): what it made may depend on the order, so the batch is streamed
    again in file order, as the careful way would check it."""


def _id_order(records: list[RawRecord | JsonLine]) -> Sequence[int] | None:
    """Where each record goes when statements are sorted by the id they give, those
    without one, as they are: the records' positions in that order (None when
    that is the order they are in already).

    An import writes its statements in the order they are checked. At 1M
    statements, in id order they go into the id-keyed trees (``entries``,
    the statement index) and the speaker tree (ids begin with the speaker)
    one stretch at a time instead of at random places: one 100,000-statement
    shard took 11-12 s of SQL instead of 15-18, 22 s instead of 25 in all
    (docs/performance.md).

    The sort is stable, so rows with the same id keep their order, and the
    first one is still the one kept. What statements resolve to does not
    depend on their order unless one of them makes something up; then
    ``_Streamed`` stops and the batch goes in file order.
    """
    # ``records`` are in kind order (``_Checker.records``): the statements come last,
    # and only they move, so they are sorted by text alone.
    first = next((n for n, r in enumerate(records) if r.kind is Kind.STATEMENT),
                 len(records))
    keys = [r.given_id if isinstance(r.given_id, str) else "" for r in records[first:]]
    moved = sorted(range(len(keys)), key=keys.__getitem__)
    if moved == list(range(len(keys))):
        return None
    # Held through the import: 4 bytes a record rather than a list's 36 (~32 MB at 1M).
    order = array("I" if len(records) < 1 << 32 else "Q", range(first))
    order.extend([first + i for i in moved] if first else moved)
    return order


def _may_stream(read: ReadResult, options: ImportOptions, checker: _Checker) -> bool:
    """Only a write that can succeed is streamed: rows to write, no rejected line, no
    given id on record."""
    if options.dry_run or read.errors or checker.report.rejected or not checker.records:
        return False
    return not checker.gives_ids_on_record


class _Streamed:
    """The chunks of a streamed write, checked as they are pulled.

    ``order``: where each record pulled stands in ``checker.records`` (None when
    they come in that order), so the report can list them as the files give them.

    Of a written row only its id is kept (``ids``): its record holds its kind
    and origin, for the report. What it points to is checked as it is
    written, against the ids the store and the batch hold by then; a row
    that points to something not (yet) known is kept whole and checked again
    once every row is in. With the records' places packed (``JsonLine``), a
    1M-statement archive imported in one command peaked at 900 MB instead of
    1,253 MB (docs/performance.md).
    """

    def __init__(self, checker: _Checker, records: Iterator[RawRecord | JsonLine], *,
                 order: Sequence[int] | None = None) -> None:
        self.checker = checker
        self.records = records
        self.order = order
        self.made: list[_Row] = []
        self.ids: list[str] = []  # of the rows checked, in the order pulled
        self._unresolved: list[_Row] = []  # rows pointing to an id not known when written
        self._used: set[str] = set()  # the speakers and sources written rows point to

    def chunks(self) -> Iterator[list[DocumentPut]]:
        """Runs on the store's preparing thread, while the writer runs the previous chunk."""
        checker, store_kinds = self.checker, self.checker.resolver.store_kinds
        known = checker.resolver.kind_of
        created = checker.resolver.created
        reordered = self.order is not None
        made_before_statements: int | None = None
        pending: list[_Row] = []
        # Not new after all? An id a row gives was found not on record when the batch
        # was planned (``_may_stream``); the ids made from rows (speaker, date and
        # text) are looked up a chunk at a time, before the chunk goes to the writer.
        derived: list[str] = []
        sizes = _chunk_sizes()
        size = next(sizes)
        for record in _read_ahead(self.records, _chunk_sizes()) if reordered else self.records:
            if made_before_statements is None and record.kind is Kind.STATEMENT:
                made_before_statements = len(created)
            row = checker.check(record)
            if row is None:
                raise _Abandon
            if row.id != record.given_id:
                derived.append(row.id)
            if (reordered and made_before_statements is not None
                    and len(created) > made_before_statements):
                raise _Reorder
            self._note_references(row, known)
            self.ids.append(row.id)
            pending.append(row)
            if len(pending) == size:
                if derived and store_kinds.prefetch(derived):
                    raise _Abandon
                yield self._put(pending)
                pending, derived, size = [], [], next(sizes)
        made = checker.made()
        derived += [row.id for row in made]
        if checker.report.rejected or (derived and store_kinds.prefetch(derived)):
            raise _Abandon
        # Every row checked and none rejected: the batch's ids are the resolver's.
        if _reference_errors(self._unresolved, known):
            raise _Abandon
        made = [row for row in made if row.id in self._used]
        self.made = made
        yield self._put([*pending, *made])

    def _note_references(self, row: _Row, known: Callable[[str], Kind | None]) -> None:
        """What the row points to is remembered as used, and checked now; the row lets
        go of it unless something it points to is not known yet."""
        if row.speaker is not None:
            self._used.add(row.speaker)
        self._used.update(row.sources)
        if _reference_errors([row], known):
            self._unresolved.append(row)
        else:
            row.forget_references()

    @staticmethod
    def _put(rows: list[_Row]) -> list[DocumentPut]:
        # By kind, then id: each chunk covers one stretch of the id-keyed B-trees.
        rows.sort(key=lambda row: (_ORDER[row.kind], row.id))
        puts = [DocumentPut(row.kind, row.id, row.body, None) for row in rows]
        for row in rows:  # a row still to be checked again keeps no document
            row.body = ""
        return puts

    def report_written(self, report: ImportReport) -> None:
        """The report of the careful way: what was made up, then the rows in the order
        the careful way checks them (by kind, then as the files give them), whatever
        the order they were written in."""
        ids = self.ids
        if self.order is not None:  # every record pulled became a row, in that order
            in_file_order = [""] * len(ids)
            for entry_id, position in zip(ids, self.order, strict=True):
                in_file_order[position] = entry_id
            ids = in_file_order
        for row in self.made:
            report.added.append((row.id, row.origin))
            report.kinds[row.id] = row.kind
        # A row's kind and origin are its record's (``_Checker.check``).
        for record, entry_id in zip(self.checker.records, ids, strict=True):
            report.added.append((entry_id, record.origin))
            report.kinds[entry_id] = record.kind
        report.written = True


def _read_ahead(records: Iterator[RawRecord | JsonLine],
                sizes: Iterator[int]) -> Iterator[RawRecord | JsonLine]:
    """The records, each chunk's lines read first, in file order (``sizes``: the rows of
    each chunk, as the stream takes them).

    In id order, the next line to check is anywhere in the file. Read one by
    one, lines cost more than the id order saved: each read let the writer's
    thread take the GIL, and a 100,000-statement import took 19-20 s
    instead of 17. Read a chunk at a time, in file order, they cost ~2 MB.
    """
    while group := list(itertools.islice(records, next(sizes))):
        lines = sorted((r for r in group if isinstance(r, JsonLine) and r.file is not None),
                       key=lambda r: r.offset)
        for line in lines:
            line.load()
        try:
            yield from group
        finally:  # also when the stream stops mid-chunk: a restart reads them again
            for line in lines:
                line.unload()


def _used(rows: Iterable[_Row]) -> set[str]:
    """The speakers and sources that rows point to."""
    used: set[str] = set()
    for row in rows:
        if row.speaker is not None:
            used.add(row.speaker)
        used.update(row.sources)
    return used


def _check(resolver: Resolver, record: RawRecord | JsonLine, origin: Origin,
           report: ImportReport) -> Entry | None:
    """Resolve and validate one record; its rejections go to the report."""
    try:
        data = _resolve_record(resolver, record, origin)
    except ResolveError as exc:
        report.rejected.append(LoadError(origin, exc.field, exc.message))
        return None
    except FileChanged as exc:
        report.rejected.append(LoadError(origin, "", str(exc)))
        return None
    entry, errors = validate_record(record.kind, data, origin)
    if entry is None:
        if _derives_id(record) and any(e.field != "id" for e in errors):
            # The id is made from speaker, said_on and text: the errors about those
            # say what to fix; "id: required field is missing" would only confuse.
            errors = [e for e in errors if e.field != "id"]
        report.rejected.extend(errors)
    return entry


WRITE_CHUNK = 4000  # rows a chunk: the store turns one into rows while it writes the other
FIRST_CHUNK = 500


def _chunk_sizes() -> Iterator[int]:
    """Rows in each chunk of a streamed write: 500, 1,000, 2,000, then 4,000 each.

    The writer has nothing to do until the first chunk is checked, and a
    chunk of 4,000 statements takes ~0.17 s to check; starting small puts
    the two threads to work together sooner, for a few more statements of
    the writer's per-chunk overhead."""
    size = min(FIRST_CHUNK, WRITE_CHUNK)
    while True:
        yield size
        size = min(size * 2, WRITE_CHUNK)


def _chunks(puts: list[tuple[_Row, int | None]]
            ) -> Iterable[list[DocumentPut]]:
    for start in range(0, len(puts), WRITE_CHUNK):
        yield [DocumentPut(row.kind, row.id, row.body, version)
               for row, version in puts[start:start + WRITE_CHUNK]]


def _place(read: ReadResult):  # type: ignore[no-untyped-def]
    """Sort key for rejections: the files in the order given, then by line."""
    rank: dict[str, int] = {}
    for origin in [*(e.origin for e in read.errors), *(r.origin for r in read.records)]:
        rank.setdefault(origin.path, len(rank))
    return lambda error: (rank.get(error.origin.path, len(rank)), error.origin.line)


async def _plan(
    store: Store,
    rows: list[_Row],
    made: list[_Row],
    store_kinds: KindLookup,
    report: ImportReport,
) -> list[tuple[_Row, int | None]]:
    """Decide what the valid rows write (each with the version it replaces, None for a
    new entry); rejections found on the way go to the report."""
    bad = {error.origin for error in report.rejected}
    rows = [row for row in rows if row.origin not in bad]
    heads = await store.entry_heads([r.id for r in [*rows, *made]])
    # Only an id on record with another document is read whole (to check and to version).
    hashes = await asyncio.to_thread(
        lambda: {row.id: doc_hash(row.doc()) for row in [*rows, *made] if row.id in heads})
    differ = [i for i, h in hashes.items() if heads[i][1] != h]
    current = await store.get_many(differ, include_retracted=True) if differ else {}
    refused: set[int] = set()
    for row in [*rows, *made]:
        problem = _conflict(current.get(row.id), row)
        if problem is not None:
            report.rejected.append(problem)
            refused.add(id(row))
    rows = [row for row in rows if id(row) not in refused]
    # What a rejected row made up (a speaker by name, an inline source) stays available
    # to the other rows: it is written only if one of them uses it (see below).
    made = [row for row in made if id(row) not in refused]
    # Without the rejected rows, a row may point to nothing (a link to a rejected
    # statement, a speaker whose only row was refused): check again until stable.
    while True:
        batch = {r.id: r.kind for r in [*made, *rows]}
        errors = await asyncio.to_thread(_reference_errors, rows, _known(batch, store_kinds))
        if not errors:
            break
        report.rejected.extend(errors)
        broken = {error.origin for error in errors}
        rows = [row for row in rows if row.origin not in broken]
    used = _used(rows)
    made = [row for row in made if row.id in used]
    puts: list[tuple[_Row, int | None]] = []
    for row in [*made, *rows]:
        if row.id not in heads:
            puts.append((row, None))
            report.added.append((row.id, row.origin))
        elif row.id not in current:
            report.unchanged += 1
            continue
        else:
            puts.append((row, current[row.id].version))
            report.changed.append((row.id, row.origin))
        report.kinds[row.id] = row.kind
    # Kinds in dependency order, then by id: each chunk then covers one stretch of the
    # id-keyed B-trees (entries, the statement id index) instead of all of them. At 1M
    # statements a 100,000-row import wrote in 49 s instead of 56 (revisions are
    # numbered in this order; the report keeps the rows' own order).
    puts.sort(key=lambda put: (_ORDER[put[0].kind], put[0].id))
    return puts


def _known(batch: dict[str, Kind], store_kinds: KindLookup
           ) -> Callable[[str], Kind | None]:
    """The kind of an id: the batch's, else the store's (the store's map is not copied)."""
    return lambda entry_id: batch.get(entry_id) or store_kinds.get(entry_id)


def _reference_errors(rows: Iterable[_Row], known: Callable[[str], Kind | None]
                      ) -> list[LoadError]:
    """``check_references`` of the loader, on held rows: every id a row points to must
    exist, and be of the right kind; the same messages, in the same order."""
    errors = []

    def expect(row: _Row, field_name: str, target: str, kinds: tuple[Kind, ...]) -> None:
        problem = reference_problem(target, known(target), kinds)
        if problem is not None:
            errors.append(LoadError(row.origin, field_name, problem))

    for row in rows:
        if row.speaker is not None:
            expect(row, "speaker", row.speaker, (Kind.SPEAKER,))
        for source in row.sources:
            expect(row, "sources", source, (Kind.SOURCE,))
        for link_type, target in row.links:
            if target == row.id:
                errors.append(LoadError(row.origin, "links", "an entry cannot link to itself"))
                continue
            kinds = (Kind.EVENT,) if link_type == "about" else (Kind.STATEMENT, Kind.EVENT)
            expect(row, f"links ({link_type})", target, kinds)
    return errors


def _conflict(current: Stored | None, row: _Row) -> LoadError | None:
    """Why a row may not replace the entry on record (None: it may, or there is none).

    ``current`` is given only when the documents differ."""
    if current is None:
        return None
    if current.kind is not row.kind:
        already = with_article(current.kind.value)
        return LoadError(row.origin, "id", f"{row.id!r} is already {already}")
    if row.kind is Kind.STATEMENT and not _same_words(current.entry, row.doc()):
        return LoadError(row.origin, "id", f"{row.id!r} already holds other words; "
                         "give the row its own id")
    return None


def _same_words(old: Entry, new: dict[str, Any]) -> bool:
    """A re-imported statement may gain fields, but an id never silently changes its quote."""
    return isinstance(old, Statement) and (old.text, old.speaker) == (new["text"],
                                                                       new["speaker"])


PROGRESS_FROM = 2000  # records; fewer are checked faster than a bar can be drawn


def _progress(items: list[RawRecord], enabled: bool, label: str):  # type: ignore[no-untyped-def]
    """A progress bar on stderr (where the CLI checked for a terminal), for long imports."""
    if not enabled or len(items) < PROGRESS_FROM:
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, description=label, transient=True, console=Console(stderr=True))


async def import_paths(
    store: Store,
    paths: Sequence[Path],
    options: ImportOptions,
    *,
    actor: str,
    progress: bool = False,
) -> ImportReport:
    """Read every file (a folder stands for the knowledge YAML files below it), then import."""
    mapping = ColumnMapping.parse(options.mapping, options.fixed, options.header)
    combined = ReadResult()
    try:
        with _no_cyclic_gc():  # reading builds the records: the same reason as below
            for path in await asyncio.to_thread(_expand, paths):
                fmt = detect_format(path, options.format)
                size = path.stat().st_size
                if size > MAX_IMPORT_BYTES:
                    raise ValueError(f"{path}: {size} bytes is more than the "
                                     f"{MAX_IMPORT_BYTES} accepted")
                if fmt == "jsonl":  # a line at a time, and read again when checked
                    part = await asyncio.to_thread(read_jsonl_file, path, str(path))
                elif fmt == "yaml":  # an item at a time, each held as JSON text
                    part = await asyncio.to_thread(read_yaml_file, path, str(path))
                else:
                    data = await asyncio.to_thread(path.read_bytes)
                    part = await asyncio.to_thread(read_bytes, data, str(path), fmt, mapping)
                combined.records += part.records
                combined.errors += part.errors
                combined.files += part.files
        report = await import_records(store, combined, options, actor=actor,
                                      progress=progress)
    finally:
        combined.close()
    del combined  # the batch's records, freed before the memory is given back
    await give_back_memory()
    return report
