"""The platform-neutral answer: semantic blocks that each renderer lays out its own way.

Blocks say what a piece is (a card, a notice, a list), not how it looks, so
that Telegram HTML, Discord embeds and the console each respect their own
limits and escaping without the core knowing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Tone(StrEnum):
    INFO = "info"
    ERROR = "error"
    SUCCESS = "success"


@dataclass(frozen=True)
class SourceLine:
    title: str
    primary: bool
    publisher: str | None = None
    author: str | None = None
    published: str | None = None
    url: str | None = None
    archived_url: str | None = None
    source_id: str | None = None


@dataclass(frozen=True)
class LinkLine:
    """One relation as a reader reads it: ``Clarified 9 Dec 2016 by the speaker``."""

    label: str
    target_id: str
    target_title: str
    date: str | None = None
    snippet: str | None = None


@dataclass(frozen=True)
class Card:
    """One entry as readers see it; every field is plain text, unescaped."""

    kind: str
    entry_id: str
    heading: str
    subheading: str | None = None
    when: str | None = None
    where: str | None = None
    quote: str | None = None
    quote_language: str | None = None
    translation: str | None = None
    translation_note: str | None = None
    body: str | None = None
    facts: tuple[tuple[str, str], ...] = ()
    sources: tuple[SourceLine, ...] = ()
    links: tuple[LinkLine, ...] = ()
    notes: tuple[str, ...] = ()
    retracted: str | None = None


@dataclass(frozen=True)
class Notice:
    text: str
    tone: Tone = Tone.INFO


@dataclass(frozen=True)
class Listing:
    """A titled list of short lines, e.g. help or history."""

    title: str
    items: tuple[str, ...]


Block = Card | Notice | Listing


@dataclass(frozen=True)
class Action:
    """A follow-up the user can take: a button on chat platforms, a command in the console."""

    label: str
    command: str


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    total: int
    next: Action | None = None
    previous: Action | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    blocks: tuple[Block, ...] = ()
    paging: Paging | None = None
    actions: tuple[Action, ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return any(isinstance(b, Notice) and b.tone is Tone.ERROR for b in self.blocks)

    @classmethod
    def error(cls, text: str) -> Reply:
        return cls(blocks=(Notice(text, Tone.ERROR),))

    @classmethod
    def info(cls, text: str) -> Reply:
        return cls(blocks=(Notice(text, Tone.INFO),))
