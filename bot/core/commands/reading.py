"""The reader commands: /quote, /event, /timeline, /show, /who, /help."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.core.cards import snippet, when_text
from bot.core.context import Context
from bot.core.registry import Command, Registry
from bot.core.reply import Action, Card, Listing, Notice, Paging, Reply, Tone
from bot.core.request import Request
from bot.model.dates import PartialDate
from bot.model.entries import SLUG_RE, Event, Speaker, Statement
from bot.search.names import NameMatch
from bot.search.query import ParsedQuery, parse_query, words_of
from bot.store.base import Stored

TIMELINE_FETCH = 200
REPLIED_WORDS = 40
_PAGE_TOKEN = re.compile(r"(?:^|\s)page:\S*", re.IGNORECASE)


class UsageError(ValueError):
    """The command was called wrong; the message is its usage line."""


def _args(ctx: Context, request: Request, command: Command) -> str:
    """The arguments, or the words of the replied-to message when none were typed."""
    if request.args.strip():
        return request.args
    if command.takes_reply and request.replied_text:
        return " ".join(words_of(request.replied_text)[:REPLIED_WORDS])
    raise UsageError(f"Usage: {command.usage}")


def _search_args(ctx: Context, request: Request, name: str) -> tuple[str, ParsedQuery]:
    """The typed (or replied-to) arguments and their parse; usage when there is nothing to find."""
    command = ctx.registry.get(name)
    assert command is not None
    args = _args(ctx, request, command)
    query = parse_query(args)
    if query.empty:
        raise UsageError(f"Usage: {command.usage}")
    return args, query


def _paging(command: str, args: str, query: ParsedQuery, total: int, size: int) -> Paging | None:
    pages = max(1, math.ceil(total / size))
    if pages <= 1:
        return None
    base = _PAGE_TOKEN.sub("", args).strip()

    def action(label: str, page: int) -> Action:
        return Action(label, f"/{command} {base} page:{page}")

    return Paging(
        page=query.page,
        pages=pages,
        total=total,
        next=action("Next ›", query.page + 1) if query.page < pages else None,
        previous=action("‹ Previous", query.page - 1) if query.page > 1 else None,
    )


def _filters_text(query: ParsedQuery) -> str:
    return f" ({', '.join(query.filters_text)})" if query.filters_text else ""


def _names(matches: list[NameMatch]) -> str:
    seen = dict.fromkeys(m.name for m in matches)
    return " or ".join(seen)


async def _speaker_names(ctx: Context, matches: list[NameMatch]) -> str:
    found = await ctx.store.get_many([m.speaker_id for m in matches])
    names = [
        found[m.speaker_id].entry.name for m in matches
        if m.speaker_id in found and isinstance(found[m.speaker_id].entry, Speaker)
    ]
    return " or ".join(dict.fromkeys(names)) or _names(matches)


async def _nearest(ctx: Context, text: str) -> str:
    index = await ctx.searcher.speakers()
    near = index.nearest(text, limit=3)
    if not near:
        return ""
    found = await ctx.store.get_many([m.speaker_id for m in near])
    names = [
        found[m.speaker_id].entry.name for m in near
        if m.speaker_id in found and isinstance(found[m.speaker_id].entry, Speaker)
    ]
    return f" Nearest names: {', '.join(dict.fromkeys(names))}." if names else ""


async def quote(ctx: Context, request: Request) -> Reply:
    args, query = _search_args(ctx, request, "quote")
    size = ctx.page_size
    result = await ctx.searcher.statements(query, limit=size, offset=(query.page - 1) * size)
    total = result.page.total
    if total == 0:
        return Reply.info(await _nothing_found(ctx, query, result.speakers, result.words))
    cards = await ctx.cards.cards(result.page.ids)
    if not cards:
        return Reply.info(f"There is no page {query.page}: the results end at page "
                          f"{math.ceil(total / size)}.")
    who = f" by {await _speaker_names(ctx, result.speakers)}" if result.speakers else ""
    words = f" matching {' '.join(result.words)!r}" if result.words else ""
    if query.phrases:
        words += " with " + ", ".join('"' + " ".join(p) + '"' for p in query.phrases)
    noun = "statement" if total == 1 else "statements"
    head = f"{total} {noun}{who}{words}{_filters_text(query)}"
    blocks: list[Notice | Card] = [Notice(head)]
    if result.loosened:
        blocks.append(Notice("No statement has all of these words; these have some of them."))
    blocks.extend(cards)
    return Reply(blocks=tuple(blocks), paging=_paging("quote", args, query, total, size))


async def _nothing_found(
    ctx: Context, query: ParsedQuery, speakers: list[NameMatch], words: tuple[str, ...]
) -> str:
    filters = _filters_text(query)
    if speakers:
        who = await _speaker_names(ctx, speakers)
        what = f" matching {' '.join(words)!r}" if words or query.phrases else ""
        if query.phrases:
            what = f" matching {query.terms!r}" if not words else what
        return f"Nothing on record from {who}{what}{filters}."
    text = " ".join(words) or query.terms
    near = await _nearest(ctx, text)
    return (
        f"No speaker matches {text!r}, and no statement on record contains "
        f"{'these words' if len(words) > 1 else 'it'}{filters}.{near}"
    )


async def event(ctx: Context, request: Request) -> Reply:
    args, query = _search_args(ctx, request, "event")
    size = ctx.page_size
    page = await ctx.searcher.events(query, limit=size, offset=(query.page - 1) * size)
    if page.total == 0:
        return Reply.info(f"No event on record matches {query.terms!r}{_filters_text(query)}.")
    cards = await ctx.cards.cards(page.ids)
    noun = "event" if page.total == 1 else "events"
    head = Notice(f"{page.total} {noun} matching {query.terms!r}{_filters_text(query)}")
    return Reply(blocks=(head, *cards), paging=_paging("event", args, query, page.total, size))


@dataclass(frozen=True)
class _Moment:
    start: str
    entry_id: str
    line: str


def _moment(stored: Stored, speakers: dict[str, Stored]) -> _Moment:
    entry = stored.entry
    if isinstance(entry, Statement):
        speaker = speakers.get(entry.speaker)
        known = speaker and isinstance(speaker.entry, Speaker)
        name = speaker.entry.name if known and speaker else entry.speaker
        line = f"{when_text(entry.said_on)} · {name}: “{snippet(entry.text, 110)}” · {entry.id}"
        return _Moment(entry.said_on.first_day().isoformat(), entry.id, line)
    assert isinstance(entry, Event)
    line = f"{when_text(entry.happened_on, entry.ended_on)} · Event: {entry.title} · {entry.id}"
    return _Moment(entry.happened_on.first_day().isoformat(), entry.id, line)


async def timeline(ctx: Context, request: Request) -> Reply:
    args, query = _search_args(ctx, request, "timeline")
    result = await ctx.searcher.statements(query, limit=TIMELINE_FETCH, offset=0,
                                           chronological=True)
    ids = list(result.page.ids)
    if result.speakers:
        # A speaker's timeline shows the events their statements are about.
        statements = await ctx.store.get_many(ids)
        for stored in statements.values():
            if isinstance(stored.entry, Statement):
                ids += [link.to for link in stored.entry.links if link.type == "about"]
        if result.words or query.phrases:
            words_only = ParsedQuery(words=result.words, phrases=query.phrases,
                                     since=query.since, until=query.until)
            events = await ctx.searcher.events(words_only, limit=TIMELINE_FETCH, offset=0,
                                               chronological=True)
            ids += events.ids
    else:
        events = await ctx.searcher.events(query, limit=TIMELINE_FETCH, offset=0,
                                           chronological=True)
        ids += events.ids
    found = await ctx.store.get_many(ids)
    if not found:
        return Reply.info(await _nothing_found(ctx, query, result.speakers, result.words))
    speaker_ids = [s.entry.speaker for s in found.values() if isinstance(s.entry, Statement)]
    speakers = await ctx.store.get_many(speaker_ids)
    moments = sorted(
        {m.entry_id: m for m in (_moment(s, speakers) for s in found.values())}.values(),
        key=lambda m: (m.start, m.entry_id),
    )
    size = ctx.timeline_page_size
    start = (query.page - 1) * size
    shown = moments[start : start + size]
    if not shown:
        return Reply.info(f"There is no page {query.page} of this timeline.")
    subject = await _speaker_names(ctx, result.speakers) if result.speakers else query.terms
    if result.speakers and result.words:
        subject += f" · {' '.join(result.words)}"
    capped = " (the first 200 of each kind)" if result.page.total > TIMELINE_FETCH else ""
    title = f"Timeline: {subject}{_filters_text(query)}: {len(moments)} entries{capped}"
    listing = Listing(title, tuple(m.line for m in shown))
    return Reply(
        blocks=(listing,),
        paging=_paging("timeline", args, query, len(moments), size),
        actions=(Action("Show one in full", "/show <id>"),),
    )


async def show(ctx: Context, request: Request) -> Reply:
    command = ctx.registry.get("show")
    assert command is not None
    entry_id = request.args.strip()
    if not entry_id or len(entry_id.split()) != 1:
        raise UsageError(f"Usage: {command.usage}")
    if not SLUG_RE.match(entry_id):
        return Reply.error(
            f"{snippet(entry_id, 60)!r} is not an id: ids are lowercase words joined by "
            "hyphens, like lavrov-2016-12-08-aleppo-pause. Cards end with their id."
        )
    curator = await _is_curator(ctx, request)
    cards = await ctx.cards.cards([entry_id], include_retracted=curator)
    if not cards:
        return Reply.error(f"No entry with id {entry_id!r}. Find ids with /quote or /timeline.")
    return Reply(blocks=tuple(cards))


async def _is_curator(ctx: Context, request: Request) -> bool:
    """Curators see retracted entries in /show, marked as such; readers never do."""
    key = request.actor.key
    return key in ctx.owners or await ctx.store.curation().is_curator(key)


async def who(ctx: Context, request: Request) -> Reply:
    command = ctx.registry.get("who")
    assert command is not None
    name = request.args.strip()
    if not name or not words_of(name):
        raise UsageError(f"Usage: {command.usage}")
    if len(name) > 200:
        return Reply.error("That name is too long: keep it under 200 characters.")
    index = await ctx.searcher.speakers()
    matches = index.resolve(name, limit=3)
    if not matches:
        return Reply.info(f"No speaker matches {name!r}.{await _nearest(ctx, name)}")
    found = await ctx.store.get_many([m.speaker_id for m in matches])
    blocks: list[Card | Notice] = []
    if len(matches) > 1:
        blocks.append(Notice(f"{len(matches)} speakers match {name!r}"))
    for match in matches:
        stored = found.get(match.speaker_id)
        if stored is None or not isinstance(stored.entry, Speaker):
            continue
        card = (await ctx.cards.cards([stored.id]))[0]
        stats = await ctx.store.speaker_stats(stored.id)
        if stats.statements:
            first = PartialDate.parse(stats.first).human()
            last = PartialDate.parse(stats.last).human()
            span = f"{first} to {last}" if first != last else first
            facts = (("Statements on record", f"{stats.statements}, {span}"),)
        else:
            facts = (("Statements on record", "none"),)
        blocks.append(_with_facts(card, facts))
    names = [found[m.speaker_id].entry for m in matches if m.speaker_id in found]
    actions = tuple(
        Action(f"Quotes of {s.name}"[:60], f"/quote {s.name}")
        for s in names if isinstance(s, Speaker)
    )
    return Reply(blocks=tuple(blocks), actions=actions)


def _with_facts(card: Card, extra: tuple[tuple[str, str], ...]) -> Card:
    from dataclasses import replace

    return replace(card, facts=card.facts + extra)


async def help_(ctx: Context, request: Request) -> Reply:
    lines = tuple(f"{c.usage} — {c.summary}" for c in ctx.registry if c.role == 0)
    curator_lines = tuple(f"{c.usage} — {c.summary}" for c in ctx.registry if c.role > 0)
    notes = (
        "Words in quotes match as a phrase. Dates: since:2016, until:2016-12 or "
        "since:2016-12-08. Every card ends with its id, for /show.",
    )
    blocks: list[Listing | Notice] = [Listing("Verbatim: what people actually said", lines)]
    if await _is_curator(ctx, request):
        blocks.append(Listing("For curators", curator_lines))
    blocks.append(Notice(notes[0], Tone.INFO))
    return Reply(blocks=tuple(blocks))


def register(registry: Registry) -> None:
    registry.add(Command(
        "quote", "/quote <speaker and/or words> [since:2016-12] [until:2016-12-31] [lang:en]",
        "what was actually said, with date, place and sources", quote, takes_reply=True,
    ))
    registry.add(Command(
        "event", "/event <words> [since:] [until:]", "events on record, for context", event,
        takes_reply=True,
    ))
    registry.add(Command(
        "timeline", "/timeline <speaker or topic> [since:] [until:]",
        "statements and events in date order", timeline,
    ))
    registry.add(Command("show", "/show <id>", "one entry in full, with every source and link",
                         show))
    registry.add(Command("who", "/who <name>", "a speaker: names, how many statements, when",
                         who))
    registry.add(Command("help", "/help", "this list", help_))
