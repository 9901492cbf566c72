"""Reads the multi-line entry forms curators type in a chat.

The form uses the knowledge files' field names, one ``field: value`` a
line, so what a curator learns from the files works in the chat. It is
not YAML: a quote full of colons and quotation marks must arrive exactly as
typed, so a line that does not start with a known field name continues the
previous value, and nothing in a value is interpreted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.model.entries import ENTRY_TYPES, LINK_TYPES, Kind

_FIELD = re.compile(r"^([a-z_]+)\s*:(.*)$")
LIST_FIELDS = {"topics", "aliases", "sources"}
REPEATABLE = {"source", "link", "alias", "topic"}
# Form-only fields: shortcuts that fold into the entry's own fields, and switches.
EXTRA_FIELDS = {
    Kind.STATEMENT: {"source", "link", "topic", "translation_language", "translation_by",
                     "force", "create_speaker"},
    Kind.EVENT: {"source", "link", "topic", "force"},
    Kind.SPEAKER: {"alias", "force"},
    Kind.SOURCE: {"force"},
}
YES = {"yes", "true", "y", "1"}


class FormError(ValueError):
    """What is wrong with the form and how to write it instead."""


def known_fields(kind: Kind) -> set[str]:
    model = ENTRY_TYPES[kind]
    names = {(f.alias or name) for name, f in model.model_fields.items()}
    return names | EXTRA_FIELDS[kind]


def parse_kind(word: str) -> Kind:
    try:
        return Kind(word.lower().rstrip("s") if word.lower() != "sources" else "source")
    except ValueError:
        raise FormError(
            f"{word!r} is not a kind of entry: use statement, event, source or speaker"
        ) from None


@dataclass
class Form:
    kind: Kind
    values: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, list[str]] = field(default_factory=dict)

    def flag(self, name: str) -> bool:
        return self.values.get(name, "").strip().lower() in YES


def parse_form(kind: Kind, text: str, *, allowed: set[str] | None = None) -> Form:
    names = allowed if allowed is not None else known_fields(kind)
    form = Form(kind)
    current: str | None = None
    lines: dict[str, list[str]] = {}
    for raw in text.splitlines():
        match = _FIELD.match(raw.strip())
        if match and match.group(1) in names:
            name, value = match.group(1), match.group(2).strip()
            if name in REPEATABLE:
                form.repeated.setdefault(name, []).append(value)
                current = None
                continue
            if name in lines:
                raise FormError(f"{name}: given twice; give each field once")
            lines[name] = [value]
            current = name
        elif match and current is None and not raw.startswith(" "):
            raise FormError(
                f"{match.group(1)}: not a field of a {kind.value} "
                f"(fields: {', '.join(sorted(names - {'force', 'create_speaker'}))})"
            )
        elif current is not None:
            lines[current].append(raw)
        elif raw.strip():
            raise FormError(
                f"{raw.strip()[:40]!r}: start each line with a field name, e.g. text: ..."
            )
    form.values = {name: "\n".join(parts).strip() for name, parts in lines.items()}
    return form


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _split_list(value: str) -> list[str]:
    sep = ";" if ";" in value else ","
    return [part.strip() for part in value.split(sep) if part.strip()]


def source_ref(value: str) -> str | dict[str, str]:
    """``an-id`` or ``https://url Title words`` (the title is required with a URL)."""
    first, _, rest = value.strip().partition(" ")
    if _is_url(first):
        if not rest.strip():
            raise FormError(f"source: give a title after the URL, e.g. source: {first} Title")
        return {"url": first, "title": rest.strip()}
    if "://" in first:
        raise FormError(f"source: {first!r} is not an http or https URL")
    if rest.strip():
        raise FormError("source: give an id, or a URL followed by a title")
    return first


def link_ref(value: str) -> dict[str, str]:
    parts = value.split()
    if len(parts) != 2 or parts[0] not in LINK_TYPES:
        raise FormError(
            f"link: write the type and the id, e.g. link: clarifies <id> "
            f"(types: {', '.join(LINK_TYPES)})"
        )
    return {"type": parts[0], "to": parts[1]}


def form_data(form: Form) -> dict[str, Any]:
    """The entry's fields from a form; references (speaker, sources) are resolved later."""
    data: dict[str, Any] = {}
    switches = {"force", "create_speaker", "translation_language", "translation_by"}
    for name, value in form.values.items():
        if name in switches:
            continue
        if name in LIST_FIELDS:
            data[name] = [source_ref(v) for v in _split_list(value)] if name == "sources" \
                else _split_list(value)
        elif name == "links":
            data[name] = [link_ref(v) for v in _split_list(value)]
        elif name == "translation":
            data[name] = {
                "text": value,
                "language": form.values.get("translation_language") or None,
                "by": form.values.get("translation_by") or None,
            }
        else:
            data[name] = value
    for value in form.repeated.get("source", []):
        data.setdefault("sources", []).append(source_ref(value))
    for value in form.repeated.get("link", []):
        data.setdefault("links", []).append(link_ref(value))
    for value in form.repeated.get("alias", []):
        data.setdefault("aliases", []).append(value)
    for value in form.repeated.get("topic", []):
        data.setdefault("topics", []).append(value)
    return data
