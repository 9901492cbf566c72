"""Turns validation failures into short sentences that say what to fix.

pydantic's messages are written for programmers ("String should match
pattern '^[a-z0-9]...'"); curators read these in a chat, so each is
rewritten to name the field and the remedy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from pydantic import ValidationError

_SLUG_HINT = "must be a lowercase id of a-z, 0-9 and hyphens, e.g. lavrov-2016-12-08-aleppo-pause"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field; ``field`` is a dotted path such as ``links.0.type``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _message(error: dict, known: tuple[str, ...]) -> str:
    kind = error["type"]
    msg: str = error["msg"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown field" + (f" (known fields: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return _SLUG_HINT if "a-z0-9" in str(ctx.get("pattern", "")) else msg
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "string_too_long" or (kind == "too_long" and isinstance(error.get("input"), str)):
        return f"too long: at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"too many: at most {ctx.get('max_length')}"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in ("string_type", "list_type", "dict_type", "model_type"):
        wanted = {"string_type": "text", "list_type": "a list", "dict_type": "a mapping",
                  "model_type": "a mapping"}[kind]
        return f"must be {wanted}"
    return msg


def problems(exc: ValidationError, known: tuple[str, ...] = ()) -> list[Problem]:
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        out.append(Problem(".".join(loc), _message(error, known)))
    return out


def with_article(word: str) -> str:
    """"an event", "a speaker": messages are read by people."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def reference_problem(target: str, found: Enum | None, kinds: Sequence[Enum]) -> str | None:
    """Why an id a field points to will not do (None: it will): missing, or another kind.

    One wording for the knowledge loader and the importer. The message is built only
    for a problem: an import of 100,000 statements asks ~250,000 times."""
    if found is not None and found in kinds:
        return None
    wanted = with_article(" or ".join(str(k.value) for k in kinds))
    if found is None:
        return f"no {wanted.split(' ', 1)[1]} with id {target!r}"
    return f"{target!r} is {with_article(str(found.value))}, not {wanted}"
