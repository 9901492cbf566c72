"""Builds reader-facing cards from stored entries.

A card must say what is unknown as plainly as what is known ("known to the
year", "no primary source on record", "no link on record"), so that a
reader never mistakes a gap for a fact. Everything an entry points to is
fetched in batches: one card costs a handful of queries, not one per link.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.reply import Card, LinkLine, SourceLine
from bot.model.dates import PartialDate, Precision
from bot.model.entries import Entry, Event, Source, Speaker, Statement
from bot.store.base import LinkRow, Store, Stored

SNIPPET_CHARS = 140

# How a link reads from the entry it starts at, and from the entry it points to.
OUTGOING = {
    "clarifies": "Clarifies",
    "corrects": "Corrects",
    "contradicts": "Contradicts",
    "repeats": "Repeats",
    "responds_to": "Responds to",
    "about": "Around it",
}
INCOMING = {
    "clarifies": "Clarified",
    "corrects": "Corrected",
    "contradicts": "Contradicted",
    "repeats": "Repeated",
    "responds_to": "Answered",
    "about": "Statement about it",
}


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A prefix cut at a word boundary, never mid-word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut} …"


def when_text(date: PartialDate, end: PartialDate | None = None) -> str:
    text = date.human()
    if end is not None and end != date:
        text = f"{text} – {end.human()}"
    if date.precision is Precision.YEAR:
        text += " (known to the year)"
    elif date.precision is Precision.MONTH:
        text += " (known to the month)"
    return text


def source_line(source: Source) -> SourceLine:
    return SourceLine(
        title=source.title,
        primary=source.primary,
        publisher=source.publisher,
        author=source.author,
        published=source.published.human() if source.published else None,
        url=source.url,
        archived_url=source.archived_url,
        source_id=source.id,
    )


def _date_of(entry: Entry) -> PartialDate | None:
    if isinstance(entry, Statement):
        return entry.said_on
    if isinstance(entry, Event):
        return entry.happened_on
    return None


def _title_of(entry: Entry, speakers: dict[str, Stored]) -> str:
    if isinstance(entry, Statement):
        speaker = speakers.get(entry.speaker)
        if speaker and isinstance(speaker.entry, Speaker):
            return speaker.entry.name
        return entry.speaker
    if isinstance(entry, Event):
        return entry.title
    if isinstance(entry, Speaker):
        return entry.name
    if isinstance(entry, Source):
        return entry.title
    return entry.id


class CardBuilder:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def cards(self, ids: Sequence[str], *, include_retracted: bool = False) -> list[Card]:
        """Cards in the order of ``ids``; ids that are not visible are skipped."""
        found = await self.store.get_many(ids, include_retracted=include_retracted)
        stored = [found[i] for i in ids if i in found]
        links = {s.id: await self.store.links_of(s.id) for s in stored}
        related_ids: list[str] = []
        for s in stored:
            entry = s.entry
            if isinstance(entry, Statement):
                related_ids.append(entry.speaker)
            if isinstance(entry, Statement | Event):
                related_ids.extend(entry.sources)
            out, inc = links[s.id]
            related_ids += [row.target for row in out] + [row.source for row in inc]
        related = await self.store.get_many(related_ids)
        # Linked statements need their speakers' names too.
        second = [
            r.entry.speaker for r in related.values()
            if isinstance(r.entry, Statement) and r.entry.speaker not in related
        ]
        related.update(await self.store.get_many(second))
        return [self._card(s, related, links[s.id]) for s in stored]

    def _card(
        self,
        stored: Stored,
        related: dict[str, Stored],
        links: tuple[list[LinkRow], list[LinkRow]],
    ) -> Card:
        entry = stored.entry
        retracted = (
            f"Retracted: {stored.retract_reason or 'no reason given'}" if stored.retracted else None
        )
        if isinstance(entry, Statement):
            return self._statement(entry, related, links, retracted)
        if isinstance(entry, Event):
            return self._event(entry, related, links, retracted)
        if isinstance(entry, Speaker):
            return Card(
                kind="speaker", entry_id=entry.id, heading=entry.name,
                subheading=entry.description,
                facts=(("Also known as", ", ".join(entry.aliases) or "no other names on record"),)
                + ((("Wikidata", entry.wikidata),) if entry.wikidata else ()),
                retracted=retracted,
            )
        assert isinstance(entry, Source)
        line = source_line(entry)
        facts = [
            ("Kind", "primary" if entry.primary else "secondary"),
            ("Publisher", entry.publisher or "unknown"),
            ("Author", entry.author or "unknown"),
            ("Published", line.published or "date unknown"),
            ("Link", entry.url or "no link on record"),
        ]
        if entry.archived_url:
            facts.append(("Archived", entry.archived_url))
        if entry.language:
            facts.append(("Language", entry.language))
        return Card(
            kind="source", entry_id=entry.id, heading=entry.title, facts=tuple(facts),
            notes=(entry.note,) if entry.note else (), retracted=retracted,
        )

    def _sources(self, ids: Sequence[str], related: dict[str, Stored]) -> tuple[SourceLine, ...]:
        lines = [
            source_line(related[i].entry) for i in ids
            if i in related and isinstance(related[i].entry, Source)
        ]
        return tuple(sorted(lines, key=lambda line: not line.primary))

    def _link_lines(
        self,
        entry: Statement | Event,
        related: dict[str, Stored],
        links: tuple[list[LinkRow], list[LinkRow]],
    ) -> tuple[LinkLine, ...]:
        out, inc = links
        lines: list[LinkLine] = []
        for row, label_map, other_id in (
            *((r, OUTGOING, r.target) for r in out),
            *((r, INCOMING, r.source) for r in inc),
        ):
            other = related.get(other_id)
            if other is None:
                continue
            other_entry = other.entry
            date = _date_of(other_entry)
            label = label_map[row.type]
            title = _title_of(other_entry, related)
            if label_map is INCOMING and isinstance(other_entry, Statement) and row.type != "about":
                same = isinstance(entry, Statement) and other_entry.speaker == entry.speaker
                title = "the speaker" if same else title
                label = f"{label} {date.human()} by {title}" if date else f"{label} by {title}"
            elif date is not None:
                label = f"{label} {date.human()}"
            text = other_entry.text if isinstance(other_entry, Statement) else None
            if isinstance(other_entry, Event):
                text = other_entry.title
            lines.append(LinkLine(
                label=label,
                target_id=other_id,
                target_title=title,
                date=date.iso() if date else None,
                snippet=snippet(text) if text else None,
            ))
        return tuple(lines)

    def _statement(
        self,
        entry: Statement,
        related: dict[str, Stored],
        links: tuple[list[LinkRow], list[LinkRow]],
        retracted: str | None,
    ) -> Card:
        speaker = related.get(entry.speaker)
        speaker_entry = speaker.entry if speaker and isinstance(speaker.entry, Speaker) else None
        sources = self._sources(entry.sources, related)
        notes = [entry.note] if entry.note else []
        if not any(s.primary for s in sources):
            notes.append("No primary source on record.")
        translation_note = None
        if entry.translation:
            by = entry.translation.by or "translator not on record"
            lang = entry.translation.language or "language not on record"
            translation_note = f"Translation ({lang}), by {by}"
        return Card(
            kind="statement",
            entry_id=entry.id,
            heading=speaker_entry.name if speaker_entry else entry.speaker,
            subheading=speaker_entry.description if speaker_entry else None,
            when=when_text(entry.said_on),
            where=(
                " · ".join(p for p in (entry.place, entry.occasion) if p) or "place not on record"
            ),
            quote=entry.text,
            quote_language=entry.language,
            translation=entry.translation.text if entry.translation else None,
            translation_note=translation_note,
            sources=sources,
            links=self._link_lines(entry, related, links),
            notes=tuple(notes),
            retracted=retracted,
        )

    def _event(
        self,
        entry: Event,
        related: dict[str, Stored],
        links: tuple[list[LinkRow], list[LinkRow]],
        retracted: str | None,
    ) -> Card:
        sources = self._sources(entry.sources, related)
        notes = [] if any(s.primary for s in sources) else ["No primary source on record."]
        return Card(
            kind="event",
            entry_id=entry.id,
            heading=entry.title,
            when=when_text(entry.happened_on, entry.ended_on),
            where=entry.place or "place not on record",
            body=entry.summary,
            sources=sources,
            links=self._link_lines(entry, related, links),
            notes=tuple(notes),
            retracted=retracted,
        )
