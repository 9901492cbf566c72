"""Reads knowledge files into validated entries, collecting every problem with its place.

A curator wants all the mistakes of a file at once, each with file, line and
field, so reading never stops at the first error. Reference checks (a
statement's speaker, its sources, link targets) run over the whole set,
because an entry may point to one defined in another file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from bot.knowledge.yamlfile import LIST_START, LineDict, YamlError, top_level
from bot.model.entries import (
    ENTRY_TYPES,
    KIND_BY_PLURAL,
    Entry,
    Event,
    Kind,
    Statement,
)
from bot.model.problems import problems, reference_problem

MAX_FILE_BYTES = 20 * 1024 * 1024
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an entry was read: shown in every error about it.

    An import holds one for each of its rows: without a ``__dict__`` each
    is ~100 bytes smaller (10 MB a 100,000-row file)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class LoadError:
    origin: Origin
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin.path else ""
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


@dataclass(frozen=True)
class Located:
    entry: Entry
    origin: Origin


@dataclass
class Bundle:
    entries: list[Located] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_kind(self, kind: Kind) -> list[Located]:
        return [item for item in self.entries if item.entry.kind is kind]


def validate_record(
    kind: Kind, data: Any, origin: Origin, field_prefix: str = ""
) -> tuple[Entry | None, list[LoadError]]:
    """One mapping to one entry, or the errors that say which field to fix and on which line."""
    if not isinstance(data, Mapping):
        return None, [LoadError(origin, field_prefix, f"each {kind.value} must be a mapping")]
    model = ENTRY_TYPES[kind]
    try:
        return model.model_validate(dict(data)), []
    except ValidationError as exc:
        known = tuple(
            (f.alias or name) for name, f in model.model_fields.items()
        )
        errors = []
        for problem in problems(exc, known):
            top = problem.field.split(".", 1)[0]
            line = data.line_of(top) if isinstance(data, LineDict) else origin.line
            name = f"{field_prefix}{problem.field}"
            errors.append(LoadError(Origin(origin.path, line), name, problem.message))
        return None, errors


@dataclass(frozen=True)
class YamlItem:
    """One mapping under a kind's list, with where it stands (``statements[3].``)."""

    kind: Kind
    data: Mapping[str, Any]
    origin: Origin
    prefix: str


def yaml_items(text: str | BinaryIO, path: str) -> tuple[list[YamlItem], list[LoadError]]:
    """The entries of one YAML file, unvalidated; shared by the loader and the importer."""
    items: list[YamlItem] = []
    errors: list[LoadError] = []
    try:
        for found in iter_yaml_items(text, path):
            if isinstance(found, LoadError):
                errors.append(found)
            else:
                items.append(found)
    except YamlError as exc:  # a file that is not YAML gives nothing but the error
        return [], [LoadError(Origin(path, exc.line), "", exc.message)]
    return items, errors


def iter_yaml_items(text: str | BinaryIO, path: str) -> Iterator[YamlItem | LoadError]:
    """``yaml_items`` one at a time, as the file is read (``top_level``): an importer
    holds each item only as long as it needs. Raises ``YamlError`` where the file
    stops being YAML; drop what came before it, as ``yaml_items`` does."""
    position = 0
    for key, line, value, is_item in top_level(text):
        if key is None and not is_item:  # the document is not a mapping
            if value is not None:
                yield LoadError(Origin(path, 1), "", "the file must be a mapping with lists "
                                "under speakers, sources, statements, events")
            return
        kind = KIND_BY_PLURAL.get(str(key))
        if is_item:
            if kind is not None:
                yield _item(kind, key, position, value, path, line)
                position += 1
            continue
        if kind is None:
            yield LoadError(Origin(path, line), str(key),
                            "unknown list (use speakers, sources, statements or events)")
        elif value is LIST_START:
            position = 0
        elif isinstance(value, list):  # a list built whole (it carries an anchor or a tag)
            for number, item in enumerate(value):
                yield _item(kind, key, number, item, path, line)
        elif value is not None:
            yield LoadError(Origin(path, line), str(key), "must be a list")


def _item(kind: Kind, key: Any, position: int, value: Any, path: str, line: int
          ) -> YamlItem | LoadError:
    origin = Origin(path, value.line if isinstance(value, LineDict) else line)
    if not isinstance(value, Mapping):
        return LoadError(origin, f"{key}[{position}]", f"each {kind.value} must be a mapping")
    return YamlItem(kind, value, origin, f"{key}[{position}].")


def read_text(text: str, path: str) -> Bundle:
    """Parse one file's text. ``path`` is only used to label errors."""
    items, errors = yaml_items(text, path)
    bundle = Bundle(errors=errors)
    for item in items:
        entry, problems_found = validate_record(item.kind, item.data, item.origin, item.prefix)
        bundle.errors.extend(problems_found)
        if entry is not None:
            bundle.entries.append(Located(entry, item.origin))
    return bundle


def knowledge_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())


def read_path(path: Path, *, label_root: Path | None = None) -> Bundle:
    """Read a file or every YAML file below a folder, in a stable order."""
    bundle = Bundle()
    if not path.exists():
        bundle.errors.append(LoadError(Origin(str(path)), "", "no such file or folder"))
        return bundle
    for file in knowledge_files(path):
        label = str(file.relative_to(label_root)) if label_root else str(file)
        bundle.files.append(file)
        if file.stat().st_size > MAX_FILE_BYTES:
            bundle.errors.append(LoadError(
                Origin(label), "", f"file is larger than {MAX_FILE_BYTES // 2**20} MiB"
            ))
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            bundle.errors.append(LoadError(Origin(label), "", f"not UTF-8 text ({exc.reason})"))
            continue
        part = read_text(text, label)
        bundle.entries.extend(part.entries)
        bundle.errors.extend(part.errors)
    bundle.errors.extend(check_duplicates(bundle.entries))
    return bundle


def check_duplicates(entries: Iterable[Located]) -> list[LoadError]:
    seen: dict[str, Located] = {}
    errors = []
    for item in entries:
        first = seen.setdefault(item.entry.id, item)
        if first is not item:
            errors.append(LoadError(
                item.origin, "id", f"{item.entry.id!r} is already used at {first.origin}"
            ))
    return errors


def check_references(
    entries: Iterable[Located], known: Mapping[str, Kind]
) -> list[LoadError]:
    """Every id an entry points to must exist, and be of the right kind.

    ``known`` maps ids to kinds for everything already available: the
    entries themselves plus, for an import, what the store holds.
    """
    errors = []

    def expect(item: Located, field_name: str, target: str, kinds: tuple[Kind, ...]) -> None:
        problem = reference_problem(target, known.get(target), kinds)
        if problem is not None:
            errors.append(LoadError(item.origin, field_name, problem))

    for item in entries:
        entry = item.entry
        if isinstance(entry, Statement):
            expect(item, "speaker", entry.speaker, (Kind.SPEAKER,))
        if isinstance(entry, Statement | Event):
            for source in entry.sources:
                expect(item, "sources", source, (Kind.SOURCE,))
            for link in entry.links:
                if link.to == entry.id:
                    errors.append(LoadError(item.origin, "links", "an entry cannot link to itself"))
                    continue
                kinds = (Kind.EVENT,) if link.type == "about" else (Kind.STATEMENT, Kind.EVENT)
                expect(item, f"links ({link.type})", link.to, kinds)
    return errors
