"""Builds FTS5 match expressions from plain words, so user text is never syntax.

Every token is written as an FTS5 string (double-quoted, inner quotes
doubled), the way sqlite-utils does it: ``NEAR``, ``*``, ``^``, ``:``,
parentheses and ``OR`` typed by a user are then just text to match.
"""

from __future__ import annotations

from collections.abc import Sequence


def quote_token(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(
    words: Sequence[str], phrases: Sequence[Sequence[str]] = (), *, match_any: bool = False
) -> str | None:
    terms = [quote_token(w) for w in words if w]
    terms += [quote_token(" ".join(p)) for p in phrases if p]
    if not terms:
        return None
    return (" OR " if match_any else " AND ").join(terms)
