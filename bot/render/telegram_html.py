"""Reply to Telegram HTML messages: escaping, links and the 4,096-unit limit live here.

Telegram counts a message in UTF-16 code units (an emoji is two, a Cyrillic
letter one), rejects HTML whose tags do not balance, and turns any ``@name``
into a mention that notifies that user. So every piece of stored or user
text goes through ``esc`` (HTML escaped, no mention), links are made only
from http(s) URLs, and a reply is cut between cards first, then between the
lines of a card, then at a word inside a line; a cut closes the open tags
and reopens them in the next message, so each message is valid on its own.

The limit is applied to the HTML source, which is never shorter than the text
Telegram counts, so a message that passes here cannot be refused as too long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from bot.core.reply import Action, Card, LinkLine, Listing, Notice, Reply, SourceLine, Tone

MESSAGE_LIMIT = 4096
"""Telegram's limit on a message's text, in UTF-16 code units."""

_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")
_TOKEN = re.compile(r"<[^>]*>|[^<]+")
_TOKEN_TAGS = re.compile(r"<[^>]*>")
_ATOM = re.compile(r"\s*\S+|\s+")
_CHAR = re.compile(r"&#?\w+;|.", re.S)
_URL_UNSAFE = re.compile(r"[\s\x00-\x1f]")  # whitespace (any script) or a control character
# An @ that starts a word, before a username character: what Telegram reads as a mention.
_MENTION = re.compile(r"(?<!\w)@(?=[A-Za-z0-9_])")
WORD_JOINER = "\u2060"
"""Invisible and zero-width: after an @, it keeps Telegram from reading a mention."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: code units of UTF-16, so 😀 counts 2."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    """Stored or typed text for a Telegram HTML text node: ``<``, ``>`` and ``&`` escaped,
    and no mention.

    Telegram turns any ``@name`` in a message into a mention and notifies that
    user, so a quote that names ``@durov`` would ping him from a stored text.
    A word joiner after the ``@`` (invisible, zero-width) ends Telegram's
    username there: the reader sees the quote as stored, nobody is notified.
    The stored text is never changed; only the message carries the joiner.
    """
    return _MENTION.sub("@" + WORD_JOINER, escape(text, quote=False))


def safe_url(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) URL with a host and no spaces; else None."""
    if not url or _URL_UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def link(text: str, url: str | None) -> str:
    """``<a href>`` for a safe URL, else the escaped text alone: a bad URL never becomes a link."""
    href = safe_url(url)
    if href is None:
        return esc(text)
    return f'<a href="{escape(href, quote=True)}">{esc(text)}</a>'


def command_html(command: str) -> str:
    """A command the reader can copy with one tap."""
    return f"<code>{esc(command)}</code>"


@dataclass(frozen=True)
class Rendered:
    """Message texts in order, and the buttons that go under the last one."""

    messages: tuple[str, ...]
    paging: tuple[Action, ...] = ()
    """One row, ‹ Previous and Next ›: they replace the page in place."""
    actions: tuple[Action, ...] = ()
    """One button a row: follow-ups that answer with a new message."""


# --- blocks to lines ---------------------------------------------------------------------------


def source_html(source: SourceLine) -> str:
    title = link(source.title, source.url)
    by = ", ".join(p for p in (source.publisher, source.author) if p)
    parts = [f"{title} ({esc(by)})" if by else title]
    parts.append(esc(source.published or "date unknown"))
    parts.append("<b>primary</b>" if source.primary else "secondary")
    if not safe_url(source.url):
        parts.append("no link on record")
    if safe_url(source.archived_url):
        parts.append(link("archived copy", source.archived_url))
    return " · ".join(parts)


def link_line_html(line: LinkLine) -> str:
    tail = ""
    if line.snippet and line.snippet != line.target_title:
        tail = f": “{esc(line.snippet)}”"
    elif line.target_title and not line.label.endswith(line.target_title):
        tail = f": {esc(line.target_title)}"
    return f"{esc(line.label)}{tail} → {command_html('/show ' + line.target_id)}"


def card_lines(card: Card) -> list[str]:
    """One card as top-level lines; each line is balanced HTML on its own."""
    lines: list[str] = []
    if card.retracted:
        lines.append(f"<i>[{esc(card.retracted)}]</i>")
    head = f"<b>{esc(card.heading)}</b>"
    if card.subheading:
        head += f" · {esc(card.subheading)}"
    lines.append(head)
    meta = " · ".join(esc(p) for p in (card.when, card.where) if p)
    if meta:
        lines.append(meta)
    if card.quote is not None:
        lines.append(f"<blockquote>{esc(card.quote)}</blockquote>")
    if card.translation:
        original = f" (original: {esc(card.quote_language)})" if card.quote_language else ""
        lines.append(f"<i>{esc(card.translation_note or 'Translation')}{original}:</i>")
        lines.append(f"<blockquote>{esc(card.translation)}</blockquote>")
    if card.body:
        lines.append(esc(card.body))
    lines += [f"<b>{esc(label)}:</b> {esc(value)}" for label, value in card.facts]
    lines += [link_line_html(item) for item in card.links]
    if card.sources:
        lines.append("<b>Sources:</b>")
        lines += [f"• {source_html(source)}" for source in card.sources]
    lines += [f"<i>Note:</i> {esc(note)}" for note in card.notes]
    lines.append(f"id: {command_html(card.entry_id)}")
    return lines


def block_lines(block: Card | Notice | Listing) -> list[str]:
    if isinstance(block, Notice):
        return [("⚠️ " if block.tone is Tone.ERROR else "") + esc(block.text)]
    if isinstance(block, Listing):
        return [f"<b>{esc(block.title)}</b>", *(f"• {esc(item)}" for item in block.items)]
    return card_lines(block)


def _runnable(action: Action) -> bool:
    """A button needs a full command; ``/show <id>`` is a template for the reader to fill in."""
    return "<" not in action.command and action.command.startswith("/")


def footer_lines(reply: Reply) -> list[str]:
    lines: list[str] = []
    if reply.paging:
        p = reply.paging
        lines.append(f"<i>Page {p.page} of {p.pages} ({p.total} in all)</i>")
    lines += [f"{esc(a.label)}: {command_html(a.command)}"
              for a in reply.actions if not _runnable(a)]
    return lines


def paging_buttons(reply: Reply) -> tuple[Action, ...]:
    if not reply.paging:
        return ()
    return tuple(a for a in (reply.paging.previous, reply.paging.next) if a is not None)


# --- packing into messages ---------------------------------------------------------------------


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_html(fragment: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut one balanced fragment into pieces of at most ``limit`` units, at word boundaries.

    Open tags are closed at a cut and reopened after it. A single word longer
    than a whole message (a 5,000-character URL, unspaced CJK text) is the
    only thing ever cut inside, and then never inside an ``&entity;``.
    """
    if utf16_len(fragment) <= limit:
        return [fragment]
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, the opening tag as written)
    parts: list[str] = []
    size = 0  # UTF-16 units in parts, kept as we go: re-measuring each time is quadratic

    def closing(tags: list[tuple[str, str]]) -> int:
        return sum(len(name) + 3 for name, _ in tags)

    def add(text: str, units: int) -> None:
        nonlocal size
        parts.append(text)
        size += units

    def cut() -> None:
        nonlocal size
        current = "".join(parts)
        if _TOKEN_TAGS.sub("", current).strip():
            pieces.append(current + _closers(stack))
        parts.clear()
        size = 0
        for _, tag in stack:
            add(tag, utf16_len(tag))

    for token in _TOKEN.findall(fragment):
        if token.startswith("<"):
            match = _TAG.match(token)
            is_end = bool(match and match.group(1))
            name = match.group(2) if match else ""
            after = stack[:-1] if is_end else [*stack, (name, token)]
            units = utf16_len(token)
            if size + units + closing(after) > limit:
                cut()
            add(token, units)
            if is_end:
                if stack:
                    stack.pop()
            else:
                stack.append((name, token))
            continue
        for atom in _ATOM.findall(token):
            units = utf16_len(atom)
            if size + units + closing(stack) <= limit:
                add(atom, units)
                continue
            cut()
            word = atom.lstrip() or atom
            units = utf16_len(word)
            if size + units + closing(stack) <= limit:
                add(word, units)
                continue
            for char in _CHAR.findall(word):  # one word longer than a message
                units = utf16_len(char)
                if size + units + closing(stack) > limit:
                    cut()
                add(char, units)
    cut()
    return pieces


def pack(blocks: list[list[str]], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Blocks (each a list of lines) into messages: whole blocks when they fit, else lines."""
    messages: list[str] = []
    current = ""

    def add(text: str, sep: str) -> None:
        nonlocal current
        if current and utf16_len(current + sep + text) <= limit:
            current += sep + text
            return
        if current:
            messages.append(current)
        current = ""
        if utf16_len(text) <= limit:
            current = text
            return
        *full, last = split_html(text, limit)
        messages.extend(full)
        current = last

    for lines in blocks:
        whole = "\n".join(lines)
        if utf16_len(whole) <= limit:
            add(whole, "\n\n")
            continue
        for i, line in enumerate(lines):
            add(line, "\n\n" if i == 0 else "\n")
    if current:
        messages.append(current)
    return messages


def render(reply: Reply, limit: int = MESSAGE_LIMIT) -> Rendered:
    """The whole reply as messages: cards are kept whole when they fit, never cut mid-word."""
    blocks = [block_lines(block) for block in reply.blocks]
    footer = footer_lines(reply)
    if footer:
        blocks.append(footer)
    messages = pack(blocks, limit) or ["Nothing to show."]
    actions = tuple(a for a in reply.actions if _runnable(a))
    return Rendered(tuple(messages), paging_buttons(reply), actions)


def render_card(card: Card, limit: int = MESSAGE_LIMIT) -> list[str]:
    """One card alone (inline mode sends each as its own message)."""
    return pack([card_lines(card)], limit)
