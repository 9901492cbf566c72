"""Parses the text after a command into words, phrases and filters.

Everything a user types is data: filters are recognised only in the exact
forms ``since:``, ``until:``, ``lang:`` and ``page:``; every other token,
punctuation and search-engine operators included, becomes plain words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.model.dates import DateError, PartialDate

MAX_QUERY_CHARS = 500
MAX_PAGE = 1000

_QUOTES = {'"': '"', "“": "”", "«": "»", "„": "“"}
_FILTER = re.compile(r"^(since|until|lang|page):(.*)$", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)
_LANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")


class QueryError(ValueError):
    """A query that cannot be run; the message tells the user what to type instead."""


@dataclass(frozen=True)
class ParsedQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    since_text: str | None = None
    until_text: str | None = None
    language: str | None = None
    page: int = 1
    filters_text: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases

    @property
    def terms(self) -> str:
        """The searched words as the user would recognise them."""
        parts = [" ".join(self.words)] if self.words else []
        parts += ['"' + " ".join(p) + '"' for p in self.phrases]
        return " ".join(parts)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def _split(text: str) -> tuple[list[str], list[str]]:
    """Separate quoted phrases from the rest; an unclosed quote runs to the end."""
    phrases: list[str] = []
    rest: list[str] = []
    i = 0
    start = 0
    while i < len(text):
        close = _QUOTES.get(text[i])
        if close is not None:
            rest.append(text[start:i])
            end = text.find(close, i + 1)
            if end == -1:
                end = len(text)
            phrases.append(text[i + 1 : end])
            i = end + 1
            start = i
            continue
        i += 1
    rest.append(text[start:])
    return phrases, " ".join(rest).split()


def _date(name: str, value: str, *, end: bool) -> dt.date:
    if not value:
        raise QueryError(
            f"{name}: needs a date, e.g. {name}:2016, {name}:2016-12 or {name}:2016-12-08"
        )
    try:
        date = PartialDate.parse(value)
    except DateError as exc:
        raise QueryError(f"{name}:{value} is not a date: {exc}") from None
    return date.last_day() if end else date.first_day()


def parse_query(text: str) -> ParsedQuery:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(text)} characters long; keep it under {MAX_QUERY_CHARS}"
        )
    phrase_texts, tokens = _split(text)
    words: list[str] = []
    since = until = None
    since_text = until_text = language = None
    page = 1
    filters: list[str] = []
    for token in tokens:
        match = _FILTER.match(token)
        if not match:
            words.extend(words_of(token))
            continue
        name, value = match.group(1).lower(), match.group(2).strip()
        filters.append(f"{name}:{value}")
        if name == "since":
            since, since_text = _date(name, value, end=False), value
        elif name == "until":
            until, until_text = _date(name, value, end=True), value
        elif name == "lang":
            if not _LANG.match(value.lower()):
                raise QueryError(
                    f"lang:{value} is not a language code: write e.g. lang:en or lang:ru"
                )
            language = value.lower()
        else:
            if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
                raise QueryError(f"page:{value} is not a page number: write e.g. page:2")
            page = int(value)
    if since and until and since > until:
        raise QueryError(f"since:{since_text} is after until:{until_text}: swap them")
    phrases = tuple(tuple(p) for p in (words_of(t) for t in phrase_texts) if p)
    return ParsedQuery(
        words=tuple(words),
        phrases=phrases,
        since=since,
        until=until,
        since_text=since_text,
        until_text=until_text,
        language=language,
        page=page,
        filters_text=tuple(f for f in filters if not f.startswith("page:")),
    )
