"""Readers that turn YAML, JSON Lines and CSV/TSV files into raw records with line numbers.

Readers do not validate: they only say what each row holds and where it
was. A row a reader cannot read at all (bad JSON, a wrong number of
columns) becomes a rejection with its line, so the importer can report it
and refuse to write a half batch.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import os
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from bot.knowledge.loader import LoadError, Origin, iter_yaml_items
from bot.knowledge.yamlfile import YamlError
from bot.model.entries import Kind

LIST_FIELDS = ("topics", "aliases", "sources")
SOURCE_COLUMNS = ("source_id", "source_title", "source_url", "source_publisher",
                  "source_author", "source_published", "source_kind", "source_language")


@dataclass
class RawRecord:
    kind: Kind
    data: dict[str, Any]
    origin: Origin

    @property
    def given_id(self) -> Any:
        return self.data.get("id")


@dataclass
class ReadResult:
    records: list[RawRecord | JsonLine] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    # Files whose lines the records read again when checked (``read_jsonl_file``).
    files: list[LineFile] = field(default_factory=list)

    def close(self) -> None:
        for line_file in self.files:
            line_file.close()


@dataclass(frozen=True)
class ColumnMapping:
    """How CSV/TSV columns become fields: ``field=column`` pairs and fixed ``field=value``s."""

    fields: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    header: bool = True

    @classmethod
    def parse(cls, pairs: Sequence[str], fixed: Sequence[str] = (), header: bool = True
              ) -> ColumnMapping:
        def split(items: Sequence[str], what: str) -> dict[str, str]:
            out = {}
            for item in items:
                name, sep, value = item.partition("=")
                if not sep or not name.strip():
                    wanted = "COLUMN" if what == "--map" else "VALUE"
                    raise ValueError(f"{what} {item!r}: write FIELD={wanted}")
                out[name.strip()] = value.strip()
            return out

        return cls(split(pairs, "--map"), split(fixed, "--set"), header)




def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines split on LF only (a CR before it dropped), numbered from 1.

    ``str.splitlines`` would also split on U+2028, U+2029, U+0085 and other
    separators that JSON allows raw inside a string (``json.dumps`` with
    ``ensure_ascii=False`` writes them as they are), cutting a valid record in two.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


class FileChanged(ValueError):
    """A line read again for checking is not the line first read: the file was edited."""


class LineFile:
    """A JSON Lines file open for reading its lines again, one at a time, when checked.

    Lines are asked for in file order (within a kind), so they are served from
    a window of the file read 1 MB at a time: a read of its own for every line
    let another thread take the GIL at each one, and the importer's check ran
    5 s slower a 100,000-line file while the store wrote (docs/performance.md).
    Statements checked in id order are read ahead a chunk at a time instead,
    each line alone, in file order (``JsonLine.load``).
    A lock guards the window: records are checked on whichever worker thread the
    importer runs on. ``close`` when the import is done.
    """

    WINDOW = 1 << 20

    def __init__(self, path: Path | None = None, *, handle: BinaryIO | None = None) -> None:
        if handle is None:
            assert path is not None
            handle = path.open("rb")
        self._handle = handle
        self._lock = threading.Lock()
        self._start = 0
        self._window = b""
        self._end = 0  # where ``append`` writes next

    @classmethod
    def spool(cls, near: Path) -> LineFile:
        """A file without a name (gone once closed) for records to be written to, then
        read again like a JSON Lines file: beside ``near`` when its folder takes one
        (``/tmp`` may be memory), else in the system's temporary folder."""
        # The LineFile owns the handle, and ``close`` closes it.
        try:
            handle = tempfile.TemporaryFile(prefix="verbatim-import-", dir=near.parent)  # noqa: SIM115
        except OSError:
            handle = tempfile.TemporaryFile(prefix="verbatim-import-")  # noqa: SIM115
        return cls(handle=handle)

    def append(self, line: str) -> tuple[LineFile, int, int, int]:
        """Write one line; returns its place, as ``JsonLine`` keeps it. ``flush`` before
        reading."""
        raw = line.encode("utf-8") + b"\n"
        offset = self._end
        self._handle.write(raw)
        self._end += len(raw)
        return self, offset, len(raw), zlib.crc32(raw)

    def flush(self) -> None:
        self._handle.flush()

    def read(self, offset: int, size: int) -> bytes:
        with self._lock:
            at = offset - self._start
            if at < 0 or at + size > len(self._window):
                self._handle.seek(offset)
                self._window = self._handle.read(max(size, self.WINDOW))
                self._start, at = offset, 0
            return self._window[at : at + size]

    def read_alone(self, offset: int, size: int) -> bytes:
        """One line on its own, for lines asked for out of file order (no window)."""
        return os.pread(self._handle.fileno(), size, offset)

    def close(self) -> None:
        self._window = b""
        self._handle.close()


class JsonLine:
    """A JSON Lines record kept as its line (or where its line is in a file), parsed
    again when it is checked.

    A parsed record is four times the size of its line (~1.9 KB against
    ~450 bytes for a typical statement). The records of a 100,000-line
    file, each with its origin and id, took ~90 MB holding their lines and
    ~38 MB holding only their place in the file; ~20 MB with that place and
    the line's number packed into one integer (``spot``) and its ``origin``
    made when asked for. Parsing twice costs ~5 microseconds a row.
    """

    __slots__ = ("file", "given_id", "kind", "label", "spot", "text")

    # ``spot``, from the low bits: CRC-32 of the line's bytes (32 bits), their size
    # (40), their offset in the file (40), then the line's number.
    _SIZE, _OFFSET, _NUMBER = 32, 72, 112
    _FORTY = (1 << 40) - 1

    def __init__(self, kind: Kind, line: str | None, origin: Origin, given_id: Any,
                 place: tuple[LineFile, int, int, int] | None = None) -> None:
        self.kind = kind
        self.text = line  # None when ``place`` says where to read it again
        self.label = origin.path
        self.given_id = given_id  # the row's ``id`` as written, or None
        # ``place`` is (file, offset, size in bytes, CRC-32 of those bytes).
        self.file: LineFile | None = None
        spot = origin.line << self._NUMBER
        if place is not None:
            self.file, offset, size, crc = place
            if offset > self._FORTY or size > self._FORTY:
                raise ValueError("a file of more than 1 TB")
            spot |= offset << self._OFFSET | size << self._SIZE | crc
        self.spot = spot

    @property
    def origin(self) -> Origin:
        """Where the record was read (a new ``Origin`` each time, equal to the last)."""
        return Origin(self.label, self.spot >> self._NUMBER)

    @property
    def place(self) -> tuple[LineFile, int, int, int] | None:
        """Where the line is (file, offset, size, CRC-32), or None when it is held."""
        if self.file is None:
            return None
        spot = self.spot
        return (self.file, spot >> self._OFFSET & self._FORTY, spot >> self._SIZE & self._FORTY,
                spot & 0xFFFFFFFF)

    @property
    def offset(self) -> int:
        """Where the line starts in its file (0 for a line held as text)."""
        return self.spot >> self._OFFSET & self._FORTY

    def release(self) -> None:
        """Drop the text once the record is checked; ``data`` is then an empty mapping."""
        self.text, self.file = "{}", None

    def load(self) -> None:
        """Read the line now and hold its text until ``unload``.

        The importer checks statements in id order, so it reads the lines of
        the next chunk first, in file order, rather than one by one all over
        the file. A line that changed is left unread, for ``line`` to say so
        when the row is checked."""
        place = self.place
        if self.text is None and place is not None:
            line_file, offset, size, crc = place
            with contextlib.suppress(FileChanged):
                self.text = _line_text(line_file.read_alone(offset, size), offset, size, crc)

    def unload(self) -> None:
        """Let go of a loaded line: it is read from the file again if asked for."""
        if self.file is not None:
            self.text = None

    @property
    def line(self) -> str:
        if self.text is not None:
            return self.text
        place = self.place
        assert place is not None
        line_file, offset, size, crc = place
        return _line_text(line_file.read(offset, size), offset, size, crc)

    @property
    def data(self) -> dict[str, Any]:
        """A fresh parse of the line, without ``type``, as ``read_jsonl`` first read it."""
        data: dict[str, Any] = json.loads(self.line)
        data.pop("type", None)
        return data


def read_yaml(text: str | BinaryIO, label: str, spool: LineFile | None = None
              ) -> ReadResult:
    """The items of a YAML file, each held as compact JSON text (``YamlRecord``) until
    it is checked, or written to ``spool`` and read from it again then; a file that
    is not YAML is one rejection and no record."""
    result = ReadResult()
    try:
        for found in iter_yaml_items(text, label):
            if isinstance(found, LoadError):
                result.errors.append(found)
            else:
                result.records.append(_held(found.kind, found.data, found.origin, spool))
    except YamlError as exc:
        return ReadResult(errors=[LoadError(Origin(label, exc.line), "", exc.message)])
    return result


def read_yaml_file(path: Path, label: str) -> ReadResult:
    """``read_yaml`` of a file, parsed as it is read: never the whole text, nor the whole
    document, at once (an exported archive of 100,000 statements took 2 GB that way).

    Each item's JSON text goes to a spool file (``LineFile.spool``), so the
    records hold only where it is, as those of a JSON Lines file do: ~0.5 KB
    less a statement held through the import."""
    with path.open("rb") as handle:
        problem = _not_utf8(handle)
        if problem:
            return ReadResult(errors=[LoadError(Origin(label), "", problem)])
        handle.seek(0)
        spool = LineFile.spool(path)
        try:
            result = read_yaml(handle, label, spool)
            spool.flush()
        except BaseException:
            spool.close()
            raise
    result.files.append(spool)
    return result


def _not_utf8(handle: BinaryIO) -> str | None:
    """Why the file is not UTF-8 text (a BOM allowed), naming the byte, or None."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset = 0
    while True:
        block = handle.read(1 << 20)
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            return f"not UTF-8 text ({exc.reason} at byte {offset + exc.start})"
        if not block:
            return None
        offset += len(block)


class YamlRecord(JsonLine):
    """An item of a YAML file, held as compact JSON text until it is checked.

    A parsed item, with the line of each of its keys, is ~4 KB for a
    typical statement; its JSON text ~0.5 KB. Unlike a JSON line, its
    ``type`` is a field (a source's), not the kind."""

    __slots__ = ()

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.line)
        return data


def _held(kind: Kind, data: Mapping[str, Any], origin: Origin, spool: LineFile | None
          ) -> RawRecord | YamlRecord:
    """The item as JSON text, when JSON holds it exactly (keys that are text, values
    that JSON has: what a knowledge file holds); anything else is kept as it is."""
    if all(isinstance(key, str) for key in data):
        try:
            text = _ITEM_JSON.encode(data)
        except (TypeError, ValueError):
            pass
        else:
            if spool is None:
                return YamlRecord(kind, text, origin, data.get("id"))
            return YamlRecord(kind, None, origin, data.get("id"), spool.append(text))
    return RawRecord(kind, dict(data), origin)


_ITEM_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _line_text(raw: bytes, offset: int, size: int, crc: int) -> str:
    """A line read again, as text, once it is known to be the line first read."""
    if len(raw) != size or zlib.crc32(raw) != crc:
        raise FileChanged("this line changed while the file was being imported: "
                          "import the file again once it is no longer being written")
    text = raw.decode("utf-8-sig" if offset == 0 else "utf-8")
    return text.removesuffix("\n").removesuffix("\r")


def read_jsonl(text: str, label: str) -> ReadResult:
    """One JSON object a line; ``type`` names the kind, a statement by default."""
    result = ReadResult()
    for number, line in _lines(text):
        _read_line(result, label, number, line)
    return result


def read_jsonl_file(path: Path, label: str) -> ReadResult:
    """``read_jsonl`` of a file, read a line at a time (never the whole text at once).

    Lines end at LF only, as in ``_lines``; the file must be UTF-8 (a BOM
    allowed), else it is one rejection naming the byte, as ``read_bytes`` says.
    Records keep where their line is, not its text: the importer reads each
    again when it checks it, through the open file in ``files`` (close the
    result when done).
    """
    result = ReadResult()
    records = result.records
    line_file = LineFile(path)
    result.files.append(line_file)
    offset = 0
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                place = (line_file, offset, len(raw), zlib.crc32(raw))
                found = _plain_record(raw) if number > 1 else None
                if found is not None:
                    records.append(JsonLine(found[0], None, Origin(label, number), found[1],
                                            place))
                    offset += len(raw)
                    continue
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    line_file.close()
                    return ReadResult(errors=[LoadError(Origin(label), "", (
                        f"not UTF-8 text ({exc.reason} at byte {offset + exc.start})"))])
                offset += len(raw)
                _read_line(result, label, number, text.removesuffix("\n").removesuffix("\r"),
                           place)
    except BaseException:
        line_file.close()
        raise
    return result


_KINDS = {kind.value: kind for kind in Kind}


def _plain_record(raw: bytes) -> tuple[Kind, str | None] | None:
    """The kind and id of a line that is a JSON object of a known ``type`` with text
    for its ``type`` and ``id`` (or none), read from its bytes; None for any other
    line, which ``_read_line`` reads the careful way, for its rejection.

    The common line, read ~25 % faster: orjson takes the bytes as they are and
    refuses any that are not UTF-8, so the line is not decoded first, and the
    two ways agree on every line this one takes (``_kind_and_id``). Not for a
    file's first line, which may begin with a BOM."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    kind_name, given_id = data.get("type", "statement"), data.get("id")
    if type(kind_name) is not str or not (given_id is None or type(given_id) is str):
        return None
    kind = _KINDS.get(kind_name)
    return None if kind is None else (kind, given_id)


def _kind_and_id(line: str) -> Any:
    """The line parsed, for its ``type`` and ``id``, as the standard library parses it.

    Only those two fields are kept: every line is parsed again when it is
    checked. orjson parses it ~twice as fast (100,000 lines: ~0.2 s instead of
    0.4, before an import's first write). The two agree on what is JSON, except
    that the standard library alone takes ``NaN``, a lone surrogate's escape
    or a number beyond a double: such a line is parsed again by it, and so is
    every invalid one, for its message. orjson reads an integer beyond 64
    bits as a float, so a ``type`` or ``id`` that is not text is taken from the
    standard library's parse too.
    """
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)
    if isinstance(data, dict) and not (isinstance(data.get("type", ""), str)
                                       and isinstance(data.get("id", ""), str)):
        return json.loads(line)
    return data


def _read_line(result: ReadResult, label: str, number: int, line: str,
               place: tuple[LineFile, int, int, int] | None = None) -> None:
    """One line into ``result``: a record kept as its text (or its ``place`` in a file),
    or a rejection with its line."""
    if not line.strip():
        return
    origin = Origin(label, number)
    try:
        data = _kind_and_id(line)
    except json.JSONDecodeError as exc:
        result.errors.append(LoadError(origin, "", f"not valid JSON: {exc.msg} "
                                       f"(column {exc.colno})"))
        return
    if not isinstance(data, dict):
        result.errors.append(LoadError(origin, "", "each line must be a JSON object"))
        return
    kind_name = data.get("type", "statement")
    try:
        kind = Kind(kind_name)
    except (ValueError, TypeError):
        result.errors.append(LoadError(origin, "type", f"{kind_name!r} is not one of "
                                       "speaker, source, statement, event"))
        return
    if place is None:
        result.records.append(JsonLine(kind, line, origin, data.get("id")))
    else:
        result.records.append(JsonLine(kind, None, origin, data.get("id"), place))


class _Rows:
    """Rows with the line each starts on (a quoted CSV field may span lines).

    ``start`` stays on the first line of the row being read, so that an
    unreadable row (an unclosed quote swallows the rest of the file) is
    reported where it begins.
    """

    def __init__(self, text: str, delimiter: str, quoting: int) -> None:
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                  quoting=quoting, strict=quoting != csv.QUOTE_NONE)
        self.start = 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for row in self._reader:
            yield self.start, row
            self.start = self._reader.line_num + 1


def read_table(text: str, label: str, mapping: ColumnMapping, *, tsv: bool) -> ReadResult:
    """CSV (RFC 4180 quoting) or TSV (no quoting: datasets like LIAR hold bare quotes).

    Columns are named by the header row, or numbered from 1 when
    ``mapping.header`` is false. A row with another number of columns than
    the first is rejected with its line: in TSV that is how a field with a
    raw line break shows up (reported once, naming the lines of its pieces).
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    result = ReadResult()
    quoting = csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL
    reader = _Rows(text, "\t" if tsv else ",", quoting)
    rows = iter(reader)
    try:
        first = next(rows, None)
    except csv.Error as exc:
        result.errors.append(LoadError(Origin(label, reader.start), "", f"unreadable: {exc}"))
        return result
    if first is None:
        return result
    if mapping.header:
        names = [n.strip() for n in first[1]]
        body: Iterator[tuple[int, list[str]]] = rows
        widths = "the header has"
    else:
        names = [str(i) for i in range(1, len(first[1]) + 1)]
        body = itertools.chain([first], rows)
        widths = "the first row has"
    width = len(names)
    index = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)
    for field_name, column in mapping.fields.items():
        if column not in index:
            result.errors.append(LoadError(Origin(label, 1), field_name,
                                           f"no column {column!r} (columns: {', '.join(names)})"))
    if result.errors:
        return result
    # Mapped fields first; then, with a header, the columns that are named like a field
    # (all of them when nothing is mapped: the validator names any unknown one).
    taken = set(mapping.fields.values()) | set(mapping.fields)
    plan = [(field_name, index[column]) for field_name, column in mapping.fields.items()]
    if mapping.header:
        plan += [(name, position) for name, position in index.items()
                 if name and name not in taken and (not mapping.fields or name in _FIELD_NAMES)]
    try:
        for line, row, error in _whole_rows(body, width, widths):
            origin = Origin(label, line)
            if error:
                result.errors.append(LoadError(origin, "", error))
                continue
            data: dict[str, Any] = dict(mapping.fixed)
            for field_name, position in plan:
                cell = row[position]
                if cell.strip():
                    data[field_name] = cell
            kind_name = data.pop("type", "statement")
            try:
                kind = Kind(kind_name.strip())
            except ValueError:
                result.errors.append(LoadError(origin, "type", f"{kind_name!r} is not one of "
                                               "speaker, source, statement, event"))
                continue
            result.records.append(RawRecord(kind, _shape(data), origin))
    except csv.Error as exc:
        result.errors.append(LoadError(Origin(label, reader.start), "",
                                       f"unreadable {'TSV' if tsv else 'CSV'} from here on: {exc} "
                                       "(an unclosed quote?); the rest of the file was not read"))
    return result


def _whole_rows(
    rows: Iterator[tuple[int, list[str]]], width: int, widths: str
) -> Iterator[tuple[int, list[str], str]]:
    """Rows of the right width, and an error for each that is not; blank rows left out.

    A raw line break inside an unquoted field splits one record into a short
    row and the rest on the next line(s), whose cells add up to the width
    (the broken field counted once). Such pieces are reported as one
    rejected record naming its lines, rather than one error per piece or,
    worse, a silently skipped continuation that holds only tabs.
    """
    pending: list[tuple[int, list[str]]] = []

    def flush() -> Iterator[tuple[int, list[str], str]]:
        if not pending:
            return
        line, row = pending[0]
        if len(pending) == 1:
            yield line, row, (f"{len(row)} columns where {widths} {width} "
                              "(a line break inside a field?)")
        else:
            pieces = " + ".join(str(len(r)) for _, r in pending)
            yield line, row, (f"one record split over lines {line} to {pending[-1][0]} by a "
                              f"line break inside a field ({pieces} cells for {width} columns): "
                              "fix the file and import again")
        pending.clear()

    for line, row in rows:
        if pending and len(row) != width:
            pending.append((line, row))
            total = sum(len(r) for _, r in pending) - (len(pending) - 1)
            if total == width:
                yield from flush()
                continue
            if total < width:
                continue
            pending.pop()
        yield from flush()
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            pending.append((line, row))
        elif len(row) > width:
            yield line, row, f"{len(row)} columns where {widths} {width}"
        else:
            yield line, row, ""
    yield from flush()


_FIELD_NAMES = {
    "type", "id", "speaker", "said_on", "place", "occasion", "text", "language", "note",
    "topics", "aliases", "sources", "name", "description", "title", "summary", "happened_on",
    "ended_on", "publisher", "author", "published", "url", "kind", "wikidata", *SOURCE_COLUMNS,
}


def _shape(data: dict[str, Any]) -> dict[str, Any]:
    """Flat cells to the record's shape: lists split on ';' (or ','), source columns grouped."""
    for name in LIST_FIELDS:
        if isinstance(data.get(name), str):
            value = data[name]
            sep = ";" if ";" in value else ","
            data[name] = [part.strip() for part in value.split(sep) if part.strip()]
    inline = {
        name.removeprefix("source_"): data.pop(name) for name in SOURCE_COLUMNS if name in data
    }
    if inline:
        data.setdefault("sources", [])
        data["sources"] = [*data["sources"], inline]
    return data
