"""Plain text for the console and the ``verbatim ask`` command.

Wrapping is for display only: the stored quote is never changed, and a
line is never broken inside a word.
"""

from __future__ import annotations

import textwrap

from bot.core.reply import Card, LinkLine, Listing, Notice, Reply, SourceLine, Tone

WIDTH = 78


def _wrap(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(
            paragraph, width=width, initial_indent=indent, subsequent_indent=indent,
            break_long_words=False, break_on_hyphens=False,
        ) or [indent.rstrip()]
    return lines


def source_text(source: SourceLine) -> str:
    parts = [source.title]
    by = ", ".join(p for p in (source.publisher, source.author) if p)
    if by:
        parts.append(f"({by})")
    parts.append(source.published or "date unknown")
    parts.append("primary" if source.primary else "secondary")
    text = " · ".join([" ".join(parts[:2]) if by else parts[0], *parts[2 if by else 1:]])
    link = source.url or "no link on record"
    if source.archived_url:
        link += f" (archived: {source.archived_url})"
    return f"{text} · {link}"


def link_text(link: LinkLine) -> str:
    tail = f": “{link.snippet}”" if link.snippet and link.snippet != link.target_title else ""
    if not tail and link.target_title and not link.label.endswith(link.target_title):
        tail = f": {link.target_title}"
    return f"{link.label}{tail} → /show {link.target_id}"


def card_lines(card: Card) -> list[str]:
    lines: list[str] = []
    if card.retracted:
        lines.append(f"[{card.retracted}]")
    head = card.heading + (f" · {card.subheading}" if card.subheading else "")
    lines += _wrap(head)
    meta = " · ".join(p for p in (card.when, card.where) if p)
    if meta:
        lines += _wrap(meta)
    if card.quote is not None:
        lines.append("")
        lines += _wrap(f"“{card.quote}”", indent="  ")
    if card.translation:
        original = f" (original: {card.quote_language})" if card.quote_language else ""
        lines.append(f"  {card.translation_note or 'Translation'}{original}:")
        lines += _wrap(f"“{card.translation}”", indent="  ")
    if card.body:
        lines.append("")
        lines += _wrap(card.body)
    for label, value in card.facts:
        lines += _wrap(f"{label}: {value}")
    if card.links:
        lines.append("")
        for link in card.links:
            lines += _hanging(link_text(link))
    if card.sources:
        lines.append("Sources:")
        for source in card.sources:
            lines += _hanging(source_text(source))
    for note in card.notes:
        lines += _wrap(f"Note: {note}")
    lines.append(f"id: {card.entry_id}")
    return lines


def _hanging(text: str) -> list[str]:
    first, *rest = _wrap(text, indent="    ") or [""]
    return [f"  - {first.strip()}", *rest]


def render(reply: Reply) -> str:
    chunks: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Notice):
            prefix = "Error: " if block.tone is Tone.ERROR else ""
            chunks.append("\n".join(_wrap(prefix + block.text)))
        elif isinstance(block, Listing):
            body = [block.title, *(line for item in block.items for line in _hanging(item))]
            chunks.append("\n".join(body))
        else:
            chunks.append("\n".join(card_lines(block)))
    footer: list[str] = []
    if reply.paging:
        p = reply.paging
        footer.append(f"Page {p.page} of {p.pages} ({p.total} in all).")
        if p.next:
            footer.append(f"Next page: {p.next.command}")
        if p.previous:
            footer.append(f"Previous page: {p.previous.command}")
    for action in reply.actions:
        footer.append(f"{action.label}: {action.command}")
    for attachment in reply.attachments:
        footer.append(f"[file: {attachment.filename}, {len(attachment.data)} bytes]")
    if footer:
        chunks.append("\n".join(footer))
    return "\n\n".join(chunks) + "\n"
