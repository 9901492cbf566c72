"""Resolves what imported rows point to: speakers given by name, sources given inline.

Datasets name people the way their authors wrote them ("Mr. Sergey V.
Lavrov") and describe sources inline. Resolution is strict on purpose: a
name resolves only when its normalised key equals a known name's key (no
fuzzy guessing when writing data), an ambiguous name is refused with the
candidates, and anything created gets a readable id derived from its
content, so importing the same file twice creates nothing twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from anyascii import anyascii

from bot.knowledge.loader import Origin
from bot.model.entries import Kind, Source, Speaker
from bot.search.names import HONORIFICS, SpeakerIndex, fold, name_key
from bot.store.base import KindLookup

MAX_SLUG = 80


def slugify(text: str, limit: int = MAX_SLUG) -> str:
    """A readable ASCII id from any text: 'Сергей Лавров' -> 'sergei-lavrov'."""
    ascii_text = anyascii(text).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "entry"


def clean_name(raw: str) -> str:
    """A display name without a leading honorific ("Mr. Sergey Lavrov" -> "Sergey Lavrov").

    A stray comma or semicolon at either end (spreadsheets leave them:
    "Volodymyr Khandogiy,") goes too; the spelling as given is kept as an alias.
    """
    words = raw.strip(" \t,;").split()
    while len(words) > 1 and fold(words[0]) in HONORIFICS:
        words = words[1:]
    return " ".join(words)


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass
class Created:
    """An entry the resolver made up from a row: a speaker given by name, an inline source.

    ``where`` is the row's field it came from (``speaker``, ``sources.0``), so
    that a problem with it is reported against that field of that row.
    """

    kind: Kind
    doc: dict[str, Any]
    origin: Origin
    where: str


class ResolveError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class SourceKeys:
    """Sources by URL and by title, so an inline source finds the entry it describes.

    The store's are read the first time a row gives a source inline: an
    archive that names its sources by id never needs them, and at 1M
    statements they are 100,000 sources, ~60 MB of maps. The store's keys
    come first, in id order; then the batch's, in the order it defines them.
    """

    def __init__(self, read: Callable[[], list[tuple[str, str, str, str]]]) -> None:
        self._read = read
        self._store: tuple[dict[str, str], dict[tuple[str, str], str]] | None = None
        self._batch_urls: dict[str, str] = {}
        self._batch_titles: dict[tuple[str, str], str] = {}

    def _stored(self) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
        if self._store is None:
            urls: dict[str, str] = {}
            titles: dict[tuple[str, str], str] = {}
            for source_id, url, title, publisher in self._read():
                if url:
                    urls.setdefault(url, source_id)
                titles.setdefault((fold(title), fold(publisher)), source_id)
            self._store = urls, titles
        return self._store

    def by_url(self, url: str) -> str | None:
        return self._stored()[0].get(url) or self._batch_urls.get(url)

    def by_title(self, key: tuple[str, str]) -> str | None:
        return self._stored()[1].get(key) or self._batch_titles.get(key)

    def add(self, source_id: str, url: str | None, title_key: tuple[str, str]) -> None:
        """A source of the batch; a key already taken keeps its first source."""
        if url:
            self._batch_urls.setdefault(url, source_id)
        self._batch_titles.setdefault(title_key, source_id)


class StoreSpeakers:
    """The store's speakers by name, for a row that names its speaker rather than
    giving an id.

    The index is built the first time a row needs it: an archive that gives
    speaker ids never does. At 1M statements (20,000 names) building it took
    ~0.5-0.9 s before the first row was checked, and held ~10 MB.
    """

    def __init__(self, read: Callable[[], list[tuple[str, str]]]) -> None:
        self._read = read
        self._index: SpeakerIndex | None = None

    def strict(self, name: str) -> list[str]:
        """``SpeakerIndex.strict`` of the store's speakers."""
        if self._index is None:
            self._index = SpeakerIndex(self._read())
        return self._index.strict(name)


@dataclass
class Resolver:
    """Remembers what the store and this batch already hold, so rows resolve consistently.

    ``store_kinds`` are the store's ids (never changed here: the importer
    checks references against them); the importer adds the ids of the
    batch (:meth:`reserve`) before resolving anything, so that a row may
    point to an entry defined further down or in a later file, and so that
    a made-up id never takes one the batch uses. Speakers and sources of the
    batch are added with :meth:`add_speaker` and :meth:`add_source`, so a
    statement that names a speaker defined in the same file finds it.
    """

    store_kinds: KindLookup
    speakers: StoreSpeakers
    source_keys: SourceKeys
    created: list[Created] = field(default_factory=list)
    _new_speakers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _batch_keys: dict[str, set[str]] = field(default_factory=dict)
    _batch_kinds: dict[str, Kind] = field(default_factory=dict)

    def kind_of(self, entry_id: str) -> Kind | None:
        """The batch's kind for an id it defines or made up, else the store's."""
        return self._batch_kinds.get(entry_id) or self.store_kinds.get(entry_id)

    def taken(self, entry_id: str) -> bool:
        return entry_id in self._batch_kinds or entry_id in self.store_kinds

    def unique_id(self, base: str) -> str:
        candidate, n = base, 2
        while self.taken(candidate):
            candidate = f"{base}-{n}"
            n += 1
        return candidate

    def register(self, kind: Kind, entry_id: str) -> None:
        self._batch_kinds[entry_id] = kind

    def reserve(self, given: Iterable[tuple[Kind, str]], on_record: set[str]) -> None:
        """The ids the batch defines, with their kinds; an id the store already holds
        (``on_record``, from ``KindLookup.prefetch``) keeps the store's kind."""
        batch = self._batch_kinds
        for kind, entry_id in given:
            if entry_id not in on_record:
                batch.setdefault(entry_id, kind)

    def add_speaker(self, speaker: Speaker) -> None:
        """A speaker defined in the batch: rows may name it by any of its names."""
        self.register(Kind.SPEAKER, speaker.id)
        for name in speaker.names():
            key = name_key(name)
            if key:
                self._batch_keys.setdefault(key, set()).add(speaker.id)

    def add_source(self, source: Source) -> None:
        """A source defined in the batch: inline sources with its URL or title resolve to it."""
        self.register(Kind.SOURCE, source.id)
        self.source_keys.add(source.id, source.url,
                             (fold(source.title), fold(source.publisher or "")))

    # -- speakers ------------------------------------------------------------

    def speaker(self, value: str, origin: Origin) -> str:
        value = value.strip()
        if self.kind_of(value) is Kind.SPEAKER:
            return value
        if not value:
            raise ResolveError("speaker", "required field is missing")
        key = name_key(value)
        if not key:
            raise ResolveError("speaker", f"{value!r} is neither a speaker id nor a name")
        found = sorted({*self.speakers.strict(value), *self._batch_keys.get(key, ())})
        if len(found) > 1:
            raise ResolveError(
                "speaker", f"{value!r} matches several speakers ({', '.join(found)}): "
                "give the id of the one you mean"
            )
        if found:
            speaker_id = found[0]
            if speaker_id in self._new_speakers:
                self._alias(speaker_id, value)
            return speaker_id
        name = clean_name(value)
        speaker_id = self.unique_id(slugify(name))
        doc: dict[str, Any] = {"id": speaker_id, "name": name, "aliases": []}
        self._new_speakers[speaker_id] = doc
        self._alias(speaker_id, value)
        self.register(Kind.SPEAKER, speaker_id)
        self._batch_keys[key] = {speaker_id}
        self.created.append(Created(Kind.SPEAKER, doc, origin, "speaker"))
        return speaker_id

    def _alias(self, speaker_id: str, spelling: str) -> None:
        doc = self._new_speakers[speaker_id]
        if spelling != doc["name"] and spelling not in doc["aliases"]:
            doc["aliases"].append(spelling)

    # -- sources -------------------------------------------------------------

    def sources(self, values: Iterable[Any], origin: Origin) -> list[str]:
        if not isinstance(values, list | tuple):  # a number or true/false in a file
            raise ResolveError("sources", "give the sources as a list: ids, URLs, or "
                               "mappings with title and url")
        ids = []
        for index, value in enumerate(values):
            ids.append(self._source(value, origin, f"sources.{index}"))
        return ids

    def _source(self, value: Any, origin: Origin, where: str) -> str:
        if isinstance(value, str):
            text = value.strip()
            if self.kind_of(text) is Kind.SOURCE:
                return text
            if _is_url(text):
                return self._inline({"url": text, "title": text}, origin, where)
            raise ResolveError(where, f"no source with id {text!r} (give an id, a URL, "
                               "or a mapping with title and url)")
        if isinstance(value, dict):
            return self._inline(dict(value), origin, where)
        raise ResolveError(where, "a source is an id, a URL or a mapping with title and url")

    def _inline(self, doc: dict[str, Any], origin: Origin, where: str) -> str:
        given = str(doc.get("id") or "").strip()
        if given and self.kind_of(given) is Kind.SOURCE:
            return given
        url = str(doc.get("url") or "").strip()
        title = str(doc.get("title") or "").strip()
        if not title:
            raise ResolveError(f"{where}.title", "an inline source needs a title")
        if url and (known := self.source_keys.by_url(url)) is not None:
            return known
        title_key = (fold(title), fold(str(doc.get("publisher") or "")))
        if not given and not url and (known := self.source_keys.by_title(title_key)):
            return known
        if given and self.taken(given):
            raise ResolveError(f"{where}.id", f"{given!r} is already used by a "
                               f"{self.kind_of(given)}")
        source_id = given or self.unique_id(slugify(title, 60))
        doc["id"] = source_id
        self.register(Kind.SOURCE, source_id)
        self.source_keys.add(source_id, url, title_key)
        self.created.append(Created(Kind.SOURCE, doc, origin, where))
        return source_id


def statement_id(speaker_id: str, said_on: str, text: str) -> str:
    """A content-derived id, so a re-import of the same row finds the same entry.

    The short hash of the words keeps two different quotes of one speaker on
    one day apart, even when they begin alike.
    """
    words = slugify(" ".join(text.split()[:6]), 40)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    return f"{slugify(f'{speaker_id}-{said_on}-{words}', 100)}-{digest}"
