"""The importer: files in, one transaction out, and a report of every row.

Everything is read, resolved and validated before anything is written; then
the whole batch goes to the store in one transaction. So a bad row never
half-imports its batch: by default any rejection stops the import and
nothing is written; with ``skip_invalid`` the valid rows are written
together and the rejected ones are listed with their lines.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.knowledge.loader import (
    LoadError,
    Located,
    Origin,
    check_references,
    knowledge_files,
    validate_record,
)
from bot.model.entries import Entry, Event, Kind, Source, Speaker, Statement
from bot.search.names import SpeakerIndex
from bot.store.base import Put, Store, Stored, doc_hash
from bot.transfer.records import (
    ColumnMapping,
    RawRecord,
    ReadResult,
    read_jsonl,
    read_table,
    read_yaml,
)
from bot.transfer.resolve import ResolveError, Resolver, statement_id

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
    state = await store.sync_state()
    kinds = {entry_id: s.kind for entry_id, s in state.items()}
    by_url: dict[str, str] = {}
    by_title: dict[tuple[str, str], str] = {}
    from bot.search.names import fold

    async for stored in store.entries(Kind.SOURCE):
        source = stored.entry
        assert isinstance(source, Source)
        if source.url:
            by_url.setdefault(source.url, source.id)
        by_title.setdefault((fold(source.title), fold(source.publisher or "")), source.id)
    index = await asyncio.to_thread(SpeakerIndex, await store.speaker_names())
    return Resolver(kinds=kinds, speakers=index, sources_by_url=by_url, sources_by_title=by_title)


def _resolve_record(resolver: Resolver, record: RawRecord) -> dict[str, Any]:
    data = dict(record.data)
    if record.kind in (Kind.STATEMENT, Kind.EVENT) and data.get("sources") is not None:
        sources = data["sources"]
        data["sources"] = resolver.sources([sources] if isinstance(sources, str | dict)
                                           else sources, record.origin)
    if record.kind is Kind.STATEMENT:
        speaker = data.get("speaker")
        if isinstance(speaker, str):
            data["speaker"] = resolver.speaker(speaker, record.origin)
        if (not data.get("id") and isinstance(data.get("speaker"), str)
                and isinstance(data.get("text"), str) and data.get("said_on")):
            data["id"] = statement_id(data["speaker"], str(data["said_on"]), data["text"])
    return data


# Entries are resolved in this order, so a statement finds the speakers and sources
# of its own batch wherever they are written; rows keep their order within a kind.
_ORDER = {Kind.SPEAKER: 0, Kind.SOURCE: 1, Kind.EVENT: 2, Kind.STATEMENT: 3}


def _derives_id(record: RawRecord) -> bool:
    return record.kind is Kind.STATEMENT and not record.data.get("id")


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
    report = ImportReport(rejected=list(read.errors), dry_run=options.dry_run)
    resolver = await _resolver(store)
    store_kinds = dict(resolver.kinds)
    for record in read.records:
        if isinstance(record.data.get("id"), str):
            resolver.reserve(record.kind, record.data["id"])
    records = sorted(read.records, key=lambda r: _ORDER[r.kind])
    entries: list[Located] = []
    batch_ids: dict[str, Origin] = {}
    for record in _progress(records, progress, "Checking"):
        try:
            data = _resolve_record(resolver, record)
        except ResolveError as exc:
            report.rejected.append(LoadError(record.origin, exc.field, exc.message))
            continue
        entry, errors = validate_record(record.kind, data, record.origin)
        if entry is None:
            if _derives_id(record) and any(e.field != "id" for e in errors):
                # The id is made from speaker, said_on and text: the errors about those
                # say what to fix; "id: required field is missing" would only confuse.
                errors = [e for e in errors if e.field != "id"]
            report.rejected.extend(errors)
            continue
        first = batch_ids.setdefault(entry.id, record.origin)
        if first is not record.origin:
            why = (f"same speaker, date and text as the row at {first} (id {entry.id!r})"
                   if _derives_id(record) else f"{entry.id!r} also appears at {first}")
            report.rejected.append(LoadError(record.origin, "id", why))
            continue
        if isinstance(entry, Speaker):
            resolver.add_speaker(entry)
        elif isinstance(entry, Source):
            resolver.add_source(entry)
        else:
            resolver.register(entry.kind, entry.id)
        entries.append(Located(entry, record.origin))
    made: list[Located] = []
    for created in resolver.created:
        entry, errors = validate_record(created.kind, created.doc, created.origin,
                                        f"{created.where}.")
        if entry is None:
            report.rejected.extend(errors)
        else:
            made.append(Located(entry, created.origin))
    puts = await _plan(store, entries, made, store_kinds, report)
    report.rejected.sort(key=_place(read))
    report.blocked = bool(report.rejected) and not options.skip_invalid
    if puts and not report.blocked and not options.dry_run:
        await store.apply(puts, actor)
        report.written = True
    return report


def _place(read: ReadResult):  # type: ignore[no-untyped-def]
    """Sort key for rejections: the files in the order given, then by line."""
    rank: dict[str, int] = {}
    for origin in [*(e.origin for e in read.errors), *(r.origin for r in read.records)]:
        rank.setdefault(origin.path, len(rank))
    return lambda error: (rank.get(error.origin.path, len(rank)), error.origin.line)


async def _plan(
    store: Store,
    entries: list[Located],
    made: list[Located],
    store_kinds: dict[str, Kind],
    report: ImportReport,
) -> list[Put]:
    """Decide what the valid rows write; rejections found on the way go to the report."""
    bad = {str(error.origin) for error in report.rejected}
    rows = [item for item in entries if str(item.origin) not in bad]
    existing = await store.get_many([i.entry.id for i in [*rows, *made]], include_retracted=True)
    refused: set[int] = set()
    for item in [*rows, *made]:
        problem = _conflict(existing.get(item.entry.id), item)
        if problem is not None:
            report.rejected.append(problem)
            refused.add(id(item))
    rows = [item for item in rows if id(item) not in refused]
    # What a rejected row made up (a speaker by name, an inline source) stays available
    # to the other rows: it is written only if one of them uses it (see below).
    made = [item for item in made if id(item) not in refused]
    # Without the rejected rows, a row may point to nothing (a link to a rejected
    # statement, a speaker whose only row was refused): check again until stable.
    while True:
        known = store_kinds | {i.entry.id: i.entry.kind for i in [*made, *rows]}
        errors = check_references(rows, known)
        if not errors:
            break
        report.rejected.extend(errors)
        broken = {str(error.origin) for error in errors}
        rows = [item for item in rows if str(item.origin) not in broken]
    used: set[str] = set()
    for item in rows:
        if isinstance(item.entry, Statement):
            used.add(item.entry.speaker)
        if isinstance(item.entry, Statement | Event):
            used.update(item.entry.sources)
    made = [item for item in made if item.entry.id in used]
    puts = []
    for item in [*made, *rows]:
        current = existing.get(item.entry.id)
        if current is None:
            puts.append(Put(item.entry))
            report.added.append((item.entry.id, item.origin))
        elif doc_hash(current.entry.doc()) == doc_hash(item.entry.doc()):
            report.unchanged += 1
            continue
        else:
            puts.append(Put(item.entry, expected_version=current.version))
            report.changed.append((item.entry.id, item.origin))
        report.kinds[item.entry.id] = item.entry.kind
    puts.sort(key=lambda put: _ORDER[put.entry.kind])
    return puts


def _conflict(current: Stored | None, item: Located) -> LoadError | None:
    entry = item.entry
    if current is None or doc_hash(current.entry.doc()) == doc_hash(entry.doc()):
        return None
    if current.kind is not entry.kind:
        return LoadError(item.origin, "id", f"{entry.id!r} is already a {current.kind.value}")
    if isinstance(entry, Statement) and not _same_words(current.entry, entry):
        return LoadError(item.origin, "id", f"{entry.id!r} already holds other words; "
                         "give the row its own id")
    return None


def _same_words(old: Entry, new: Statement) -> bool:
    """A re-imported statement may gain fields, but an id never silently changes its quote."""
    return isinstance(old, Statement) and (old.text, old.speaker) == (new.text, new.speaker)


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
    with _no_cyclic_gc():  # reading builds the records: the same reason as below
        for path in await asyncio.to_thread(_expand, paths):
            fmt = detect_format(path, options.format)
            size = path.stat().st_size
            if size > MAX_IMPORT_BYTES:
                raise ValueError(f"{path}: {size} bytes is more than the "
                                 f"{MAX_IMPORT_BYTES} accepted")
            data = await asyncio.to_thread(path.read_bytes)
            part = await asyncio.to_thread(read_bytes, data, str(path), fmt, mapping)
            combined.records += part.records
            combined.errors += part.errors
    return await import_records(store, combined, options, actor=actor, progress=progress)
