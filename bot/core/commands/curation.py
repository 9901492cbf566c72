"""Curator commands: add, edit, link, retract, restore, history, undo, roles, review, files.

Every change goes through the store as one transaction that leaves a
revision naming the curator. Each command reads the entry, builds the new
version, and writes it conditioned on the version it read, so a curator
who edits an entry someone else just changed gets a conflict that names
who, never a silent overwrite.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rapidfuzz import fuzz

from bot.core.context import Context
from bot.core.forms import Form, form_data, known_fields, parse_form, parse_kind
from bot.core.registry import Command, Registry, Role
from bot.core.reply import Action, Attachment, Card, Listing, Notice, Reply, Tone
from bot.core.request import Request, Upload
from bot.model.entries import (
    LINK_TYPES,
    SLUG_RE,
    Entry,
    Event,
    Kind,
    Source,
    Speaker,
    Statement,
    entry_from_doc,
)
from bot.model.problems import problems
from bot.search.names import fold
from bot.store.base import Put, Restore, Retract, Revision, StatementQuery, Stored
from bot.transfer.resolve import clean_name, slugify, statement_id

if TYPE_CHECKING:  # the importer is loaded on the first /import, not at start-up
    from bot.transfer.records import ReadResult

DUPLICATE_RATIO = 90.0
SUGGESTIONS_PER_HOUR = 5
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class CurationError(ValueError):
    """A refused change; the message says what to fix."""


def _validate(kind: Kind, data: dict[str, Any]) -> Entry:
    try:
        return entry_from_doc(kind, data)
    except ValidationError as exc:
        known = tuple(sorted(known_fields(kind)))
        found = problems(exc, known)
        raise CurationError("; ".join(str(p) for p in found[:5])) from None


# -- building entries from forms ----------------------------------------------------


@dataclass
class Draft:
    """An entry ready to write, with the new entries it needs written alongside."""

    entry: Entry
    extra: list[Entry] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return [*self.extra, self.entry]


async def _speaker_id(ctx: Context, value: str, create: bool, extra: list[Entry]) -> str:
    value = value.strip()
    if not value:
        raise CurationError("speaker: required field is missing")
    stored = await ctx.store.get(value)
    if stored is not None and isinstance(stored.entry, Speaker):
        return value
    index = await ctx.searcher.speakers()
    ids = index.strict(value) or sorted(
        {m.speaker_id for m in index.resolve(value) if m.score >= 100}
    )
    if len(ids) > 1:
        found = await ctx.store.get_many(ids)
        choices = ", ".join(
            f"{i} ({found[i].entry.name})" for i in ids if i in found
            and isinstance(found[i].entry, Speaker)
        )
        raise CurationError(f"speaker: {value!r} matches several speakers: {choices}. "
                            "Write the id of the one you mean.")
    if ids:
        return ids[0]
    if not create:
        near = [m.name for m in index.nearest(value, limit=3)]
        hint = f" Nearest: {', '.join(near)}." if near else ""
        raise CurationError(
            f"speaker: no speaker {value!r} on record.{hint} Add the line "
            "create_speaker: yes to create it, or /add speaker first."
        )
    name = clean_name(value)
    speaker_id = await _free_id(ctx, slugify(name), extra)
    aliases = [value] if value != name else []
    speaker = _validate(Kind.SPEAKER, {"id": speaker_id, "name": name, "aliases": aliases})
    extra.append(speaker)
    return speaker_id


async def _free_id(ctx: Context, base: str, extra: list[Entry]) -> str:
    taken = {e.id for e in extra}
    candidate, n = base, 2
    while candidate in taken or await ctx.store.kinds_of([candidate]):
        candidate, n = f"{base}-{n}", n + 1
    return candidate


async def _source_ids(ctx: Context, refs: list[Any], extra: list[Entry]) -> list[str]:
    ids: list[str] = []
    by_url: dict[str, str] | None = None
    for ref in refs:
        if isinstance(ref, str):
            kinds = await ctx.store.kinds_of([ref])
            if kinds.get(ref) is not Kind.SOURCE:
                raise CurationError(f"sources: no source with id {ref!r} (give its id, or "
                                    "source: <URL> <title> to add one)")
            ids.append(ref)
            continue
        if by_url is None:
            by_url = {}
            async for stored in ctx.store.entries(Kind.SOURCE):
                if isinstance(stored.entry, Source) and stored.entry.url:
                    by_url.setdefault(stored.entry.url, stored.id)
        if ref["url"] in by_url:
            ids.append(by_url[ref["url"]])
            continue
        source_id = await _free_id(ctx, slugify(ref["title"], 60), extra)
        source = _validate(Kind.SOURCE, {"id": source_id, **ref})
        extra.append(source)
        by_url[ref["url"]] = source_id
        ids.append(source_id)
    return ids


async def _check_links(ctx: Context, entry: Entry) -> None:
    if not isinstance(entry, Statement | Event) or not entry.links:
        return
    kinds = await ctx.store.kinds_of([link.to for link in entry.links])
    for link in entry.links:
        kind = kinds.get(link.to)
        if link.to == entry.id:
            raise CurationError("links: an entry cannot link to itself")
        if kind is None:
            raise CurationError(f"links: no entry with id {link.to!r}")
        if link.type == "about" and kind is not Kind.EVENT:
            raise CurationError(f"links: 'about' points to an event; {link.to!r} is a "
                                f"{kind.value}")
        if kind not in (Kind.STATEMENT, Kind.EVENT):
            raise CurationError(f"links: {link.to!r} is a {kind.value}; links join statements "
                                "and events")


async def draft_from_form(ctx: Context, form: Form) -> Draft:
    extra: list[Entry] = []
    data = form_data(form)
    kind = form.kind
    if kind in (Kind.STATEMENT, Kind.EVENT):
        data["sources"] = await _source_ids(ctx, data.get("sources", []), extra)
    if kind is Kind.STATEMENT:
        data["speaker"] = await _speaker_id(ctx, data.get("speaker", ""),
                                            form.flag("create_speaker"), extra)
    if not data.get("id"):
        data["id"] = await _new_id(ctx, kind, data, extra)
    elif await ctx.store.kinds_of([data["id"]]):
        raise CurationError(f"id: {data['id']!r} is already taken; choose another or leave "
                            "the id out")
    entry = _validate(kind, data)
    await _check_links(ctx, entry)
    return Draft(entry, extra)


async def _new_id(ctx: Context, kind: Kind, data: dict[str, Any], extra: list[Entry]) -> str:
    if kind is Kind.STATEMENT:
        if not data.get("text") or not data.get("said_on"):
            missing = "text" if not data.get("text") else "said_on"
            raise CurationError(f"{missing}: required field is missing")
        base = statement_id(data["speaker"], str(data["said_on"]), data["text"])
    else:
        label = data.get("name") or data.get("title")
        if not label:
            raise CurationError(f"{'name' if kind is Kind.SPEAKER else 'title'}: required "
                                "field is missing")
        base = slugify(str(label), 60)
    return await _free_id(ctx, base, extra)


async def _near_duplicate(ctx: Context, entry: Entry) -> str | None:
    """The id of an entry that says nearly the same: same speaker, same date, same words."""
    if isinstance(entry, Statement):
        page = await ctx.store.search_statements(StatementQuery(
            speaker_ids=(entry.speaker,), since=entry.said_on.first_day(),
            until=entry.said_on.last_day(), limit=200, chronological=True))
        found = await ctx.store.get_many(page.ids)
        for stored in found.values():
            other = stored.entry
            if (isinstance(other, Statement) and other.said_on == entry.said_on
                    and fuzz.ratio(fold(other.text), fold(entry.text)) >= DUPLICATE_RATIO):
                return other.id
        return None
    index = await ctx.searcher.speakers()
    if isinstance(entry, Speaker):
        ids = index.strict(entry.name)
        return ids[0] if ids else None
    if isinstance(entry, Source) and entry.url:
        async for stored in ctx.store.entries(Kind.SOURCE):
            if isinstance(stored.entry, Source) and stored.entry.url == entry.url:
                return stored.id
    return None


def _entry_form(request: Request, command: str) -> tuple[Form, str]:
    head, _, body = request.args.strip().partition("\n")
    words = head.split(maxsplit=1)
    if not words:
        raise CurationError(f"Usage: /{command} statement|event|source|speaker, then one "
                            "field: value a line")
    kind = parse_kind(words[0])
    text = (words[1] if len(words) > 1 else "") + "\n" + body
    return parse_form(kind, text), kind.value


async def _card(ctx: Context, entry_id: str) -> list[Card]:
    return await ctx.cards.cards([entry_id], include_retracted=True)


# -- /add and /suggest --------------------------------------------------------------


async def add(ctx: Context, request: Request) -> Reply:
    form, _ = _entry_form(request, "add")
    draft = await draft_from_form(ctx, form)
    if not form.flag("force"):
        twin = await _near_duplicate(ctx, draft.entry)
        if twin is not None:
            raise CurationError(f"This looks like {twin}, already on record (/show {twin}). "
                                "Add the line force: yes to add it anyway.")
    await ctx.store.apply([Put(e) for e in draft.entries], request.actor.key)
    created = ", ".join(e.id for e in draft.extra)
    also = f" (also created: {created})" if created else ""
    head = Notice(f"Added {draft.entry.kind.value} {draft.entry.id}{also}.", Tone.SUCCESS)
    return Reply(blocks=(head, *await _card(ctx, draft.entry.id)))


async def suggest(ctx: Context, request: Request) -> Reply:
    curation = ctx.store.curation()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    if await curation.suggestions_since(request.actor.key, since) >= SUGGESTIONS_PER_HOUR:
        raise CurationError(f"You have made {SUGGESTIONS_PER_HOUR} suggestions in the last hour; "
                            "please wait before the next one.")
    form, _ = _entry_form(request, "suggest")
    draft = await draft_from_form(ctx, form)  # checked now, so reviewers see only sound ones
    number = await curation.suggest(form.kind, {"form": form.values, "repeated": form.repeated},
                                    request.actor.key)
    preview = _preview(draft)
    return Reply(blocks=(
        Notice(f"Thank you: suggestion #{number} waits for a curator's review.", Tone.SUCCESS),
        preview,
    ))


def _preview(draft: Draft) -> Card:
    entry = draft.entry
    text = getattr(entry, "text", None) or getattr(entry, "summary", None)
    heading = getattr(entry, "title", None) or getattr(entry, "name", None) or entry.id
    if isinstance(entry, Statement):
        heading = entry.speaker
    return Card(kind=entry.kind.value, entry_id=entry.id, heading=str(heading), quote=text,
                facts=tuple((k, str(v)) for k, v in entry.doc().items()
                            if k not in ("id", "text", "summary")))


def _form_of(doc: dict[str, Any], kind: Kind) -> Form:
    return Form(kind, dict(doc["form"]), {k: list(v) for k, v in doc["repeated"].items()})


async def review(ctx: Context, request: Request) -> Reply:
    curation = ctx.store.curation()
    words = request.args.split(maxsplit=2)
    if not words:
        pending, total = await curation.pending(limit=5)
        if not pending:
            return Reply.info("No suggestions are waiting for review.")
        items = []
        for s in pending:
            values = s.doc["form"]
            gist = values.get("text") or values.get("title") or values.get("name") or ""
            items.append(f"#{s.number} {s.kind.value} from {s.suggested_by} at "
                         f"{s.suggested_at}: {gist[:120]} — /review approve {s.number} or "
                         f"/review reject {s.number} <reason>")
        return Reply(blocks=(Listing(f"{total} suggestion(s) waiting", tuple(items)),))
    action = words[0].lower()
    if action not in ("approve", "reject") or len(words) < 2 or not words[1].lstrip("#").isdigit():
        raise CurationError("Usage: /review, /review approve <n> or /review reject <n> <reason>")
    number = int(words[1].lstrip("#"))
    suggestion = await curation.suggestion(number)
    if suggestion is None or suggestion.status != "pending":
        raise CurationError(f"Suggestion #{number} is not waiting for review.")
    if action == "reject":
        if len(words) < 3 or not words[2].strip():
            raise CurationError(f"Give a reason: /review reject {number} <reason>")
        await curation.decide(number, "rejected", request.actor.key, words[2].strip(), None)
        return Reply.info(f"Suggestion #{number} rejected: {words[2].strip()}")
    draft = await draft_from_form(ctx, _form_of(suggestion.doc, suggestion.kind))
    reason = f"suggestion #{number} by {suggestion.suggested_by}, approved by {request.actor.key}"
    await ctx.store.apply([Put(e, reason=reason) for e in draft.entries],
                          suggestion.suggested_by)
    await curation.decide(number, "approved", request.actor.key, None, draft.entry.id)
    head = Notice(f"Approved suggestion #{number} from {suggestion.suggested_by}: added "
                  f"{draft.entry.id}.", Tone.SUCCESS)
    return Reply(blocks=(head, *await _card(ctx, draft.entry.id)))


# -- changing entries -------------------------------------------------------------------


async def _existing(ctx: Context, entry_id: str) -> Stored:
    if not SLUG_RE.match(entry_id):
        raise CurationError(f"{entry_id[:60]!r} is not an id (ids look like "
                            "lavrov-2016-12-08-aleppo-pause)")
    stored = await ctx.store.get(entry_id, include_retracted=True)
    if stored is None:
        raise CurationError(f"No entry with id {entry_id!r}.")
    return stored


async def edit(ctx: Context, request: Request) -> Reply:
    head, _, body = request.args.strip().partition("\n")
    parts = head.split(maxsplit=1)
    if not parts or (len(parts) < 2 and not body.strip()):
        raise CurationError("Usage: /edit <id> <field>: <value> (one field a line)")
    stored = await _existing(ctx, parts[0])
    kind = stored.kind
    form = parse_form(kind, (parts[1] if len(parts) > 1 else "") + "\n" + body)
    if not form.values and not form.repeated:
        raise CurationError("Usage: /edit <id> <field>: <value>")
    if "id" in form.values:
        raise CurationError("id: an id never changes; add a new entry and retract this one")
    extra: list[Entry] = []
    changes = form_data(form)
    if "sources" in changes:
        changes["sources"] = await _source_ids(ctx, changes["sources"], extra)
    if "speaker" in changes:
        changes["speaker"] = await _speaker_id(ctx, changes["speaker"],
                                               form.flag("create_speaker"), extra)
    doc = stored.entry.doc()
    for name, value in changes.items():
        if value in ("", [], None):
            doc.pop(name, None)
        else:
            doc[name] = value
    entry = _validate(kind, doc)
    await _check_links(ctx, entry)
    if entry.doc() == stored.entry.doc():
        return Reply.info(f"Nothing changed: {stored.id} already says that.")
    puts = [Put(e) for e in extra] + [Put(entry, expected_version=stored.version)]
    await ctx.store.apply(puts, request.actor.key)
    fields = ", ".join(sorted(changes))
    return Reply(blocks=(Notice(f"Changed {fields} of {stored.id}.", Tone.SUCCESS),
                         *await _card(ctx, stored.id)))


async def _relink(ctx: Context, request: Request, adding: bool) -> Reply:
    name = "link" if adding else "unlink"
    parts = request.args.split()
    if len(parts) != 3:
        raise CurationError(f"Usage: /{name} <id> <type> <id> (types: {', '.join(LINK_TYPES)})")
    source_id, link_type, target = parts
    if link_type not in LINK_TYPES:
        raise CurationError(f"{link_type!r} is not a link type: use {', '.join(LINK_TYPES)}")
    stored = await _existing(ctx, source_id)
    entry = stored.entry
    if not isinstance(entry, Statement | Event):
        raise CurationError(f"{source_id} is a {stored.kind.value}; links start at a statement "
                            "or an event")
    link = {"type": link_type, "to": target}
    doc = entry.doc()
    links = list(doc.get("links", []))
    if adding:
        if link in links:
            raise CurationError(f"{source_id} already {link_type} {target}.")
        links.append(link)
    else:
        if link not in links:
            raise CurationError(f"{source_id} has no {link_type} link to {target}.")
        links.remove(link)
    doc["links"] = links
    new = _validate(stored.kind, doc)
    await _check_links(ctx, new)
    await ctx.store.apply([Put(new, expected_version=stored.version)], request.actor.key)
    verb = "Linked" if adding else "Unlinked"
    return Reply(blocks=(Notice(f"{verb}: {source_id} {link_type} {target}.", Tone.SUCCESS),
                         *await _card(ctx, source_id)))


async def link(ctx: Context, request: Request) -> Reply:
    return await _relink(ctx, request, adding=True)


async def unlink(ctx: Context, request: Request) -> Reply:
    return await _relink(ctx, request, adding=False)


async def retract(ctx: Context, request: Request) -> Reply:
    parts = request.args.split(maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        raise CurationError("Usage: /retract <id> <reason> (the reason is kept with the entry)")
    stored = await _existing(ctx, parts[0])
    await ctx.store.apply([Retract(stored.id, parts[1].strip(), stored.version)],
                          request.actor.key)
    return Reply.info(f"Retracted {stored.id}: readers no longer see it. /restore {stored.id} "
                      "brings it back.")


async def restore(ctx: Context, request: Request) -> Reply:
    parts = request.args.split()
    if len(parts) != 1:
        raise CurationError("Usage: /restore <id>")
    stored = await _existing(ctx, parts[0])
    await ctx.store.apply([Restore(stored.id)], request.actor.key)
    return Reply(blocks=(Notice(f"Restored {stored.id}.", Tone.SUCCESS),
                         *await _card(ctx, stored.id)))


# -- history and undo ---------------------------------------------------------------------


def changed_fields(revision: Revision) -> list[str]:
    before, after = revision.before or {}, revision.after or {}
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _revision_line(revision: Revision) -> str:
    detail = ""
    if revision.action == "update":
        detail = f": {', '.join(changed_fields(revision))}"
    reason = f" ({revision.reason})" if revision.reason else ""
    return (f"#{revision.rev} · {revision.at} · {revision.actor} · "
            f"{revision.action}{detail}{reason}")


async def history(ctx: Context, request: Request) -> Reply:
    parts = request.args.split()
    if len(parts) != 1:
        raise CurationError("Usage: /history <id>")
    stored = await _existing(ctx, parts[0])
    revisions = await ctx.store.history(stored.id)
    state = " (retracted)" if stored.retracted else ""
    title = f"History of {stored.id}{state}: {len(revisions)} revision(s), newest last"
    return Reply(blocks=(Listing(title, tuple(_revision_line(r) for r in revisions[-30:])),),
                 actions=(Action("Undo one", "/undo <revision>"),))


async def undo(ctx: Context, request: Request) -> Reply:
    parts = request.args.split()
    if len(parts) != 1 or not parts[0].lstrip("#").isdigit():
        raise CurationError("Usage: /undo <revision number> (see /history <id>)")
    number = int(parts[0].lstrip("#"))
    revision = await ctx.store.revision(number)
    if revision is None:
        raise CurationError(f"No revision #{number}.")
    stored = await _existing(ctx, revision.entry_id)
    actor, why = request.actor.key, f"undo of #{number}"
    if revision.action == "create":
        if stored.retracted:
            raise CurationError(f"{stored.id} is already retracted.")
        change: Put | Retract | Restore = Retract(stored.id, why, stored.version)
    elif revision.action == "retract":
        if not stored.retracted:
            raise CurationError(f"{stored.id} is not retracted any more.")
        change = Restore(stored.id, why)
    elif revision.action == "restore":
        if stored.retracted:
            raise CurationError(f"{stored.id} is already retracted.")
        change = Retract(stored.id, why, stored.version)
    else:
        change = Put(_reverted(stored, revision), expected_version=stored.version, reason=why)
    await ctx.store.apply([change], actor)
    return Reply(blocks=(Notice(f"Undid revision #{number} of {stored.id} ({revision.action}).",
                                Tone.SUCCESS),
                         *await _card(ctx, stored.id)))


def _reverted(stored: Stored, revision: Revision) -> Entry:
    """Puts back the fields that revision changed, if nobody has changed them since."""
    before, after = revision.before or {}, revision.after or {}
    doc = stored.entry.doc()
    for name in changed_fields(revision):
        if doc.get(name) != after.get(name):
            raise CurationError(
                f"{name} of {stored.id} was changed again after #{revision.rev} (last by "
                f"{stored.updated_by}); edit it by hand instead")
        if name in before:
            doc[name] = before[name]
        else:
            doc.pop(name, None)
    return _validate(stored.kind, doc)


# -- roles ----------------------------------------------------------------------------------


async def curator(ctx: Context, request: Request) -> Reply:
    curation = ctx.store.curation()
    parts = request.args.split()
    if parts == ["list"] or not parts:
        current = await curation.curators()
        owners = sorted(ctx.owners)
        lines = [f"owner: {o}" for o in owners]
        lines += [f"curator: {a} (granted by {by}, {at})" for a, (by, at) in current.items()]
        return Reply(blocks=(Listing("Owners and curators", tuple(lines) or ("nobody yet",)),))
    if len(parts) != 2 or parts[0] not in ("add", "remove"):
        raise CurationError("Usage: /curator add|remove <platform:user_id>, or /curator list")
    platform, sep, user = parts[1].partition(":")
    if not sep or not platform.isalpha() or not user or len(parts[1]) > 80:
        raise CurationError(f"{parts[1][:80]!r}: write the user as platform:user_id, "
                            "e.g. telegram:123456")
    key = f"{platform.lower()}:{user}"
    if parts[0] == "add":
        await curation.grant_curator(key, request.actor.key)
        return Reply.info(f"{key} is now a curator.")
    await curation.revoke_curator(key, request.actor.key)
    return Reply.info(f"{key} is no longer a curator.")


# -- files ------------------------------------------------------------------------------------


async def import_file(ctx: Context, request: Request) -> Reply:
    from bot.transfer.importer import ImportOptions, give_back_memory, import_records
    from bot.transfer.report import report_text

    upload = request.upload
    if upload is None:
        raise CurationError("Attach a YAML, JSON Lines, CSV or TSV file to /import.")
    if len(upload.data) > MAX_UPLOAD_BYTES:
        raise CurationError(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB.")
    skip = "skip-invalid" in request.args.split()
    read = await asyncio.to_thread(_read_upload, upload)  # seconds for a large file
    report = await import_records(ctx.store, read, ImportOptions(skip_invalid=skip),
                                  actor=request.actor.key)
    del read  # the upload's records, freed before the memory is given back
    await give_back_memory()
    tone = Tone.SUCCESS if report.ok else Tone.ERROR
    return Reply(blocks=(Notice(report_text(report), tone),))


def _read_upload(upload: Upload) -> ReadResult:
    """Every record of the upload's files, or a CurationError naming the file to fix."""
    from bot.transfer.importer import detect_format, read_bytes
    from bot.transfer.records import ColumnMapping, ReadResult

    read = ReadResult()
    for name, data in _unpacked(upload):
        try:
            fmt = detect_format(Path(name), None)
        except ValueError:
            raise CurationError(f"{name[:80]!r}: send a .yaml, .jsonl, .csv or .tsv file, "
                                "or a .zip of them (as /export makes)") from None
        part = read_bytes(data, name, fmt, ColumnMapping())
        read.records += part.records
        read.errors += part.errors
    return read


def _unpacked(upload: Upload) -> list[tuple[str, bytes]]:
    """The files of an upload: itself, or the data files inside a zip, in name order."""
    if not upload.filename.lower().endswith(".zip"):
        return [(upload.filename, upload.data)]
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            members = sorted(
                (i for i in archive.infolist() if not i.is_dir()
                 and Path(i.filename).suffix.lower() in (".yaml", ".yml", ".jsonl", ".csv",
                                                         ".tsv")),
                key=lambda i: i.filename,
            )
            if sum(i.file_size for i in members) > MAX_UPLOAD_BYTES:
                raise CurationError(f"The zip unpacks to more than {MAX_UPLOAD_BYTES // 2**20} "
                                    "MiB.")
            return [(i.filename, archive.read(i)) for i in members]
    except zipfile.BadZipFile:
        raise CurationError(f"{upload.filename[:80]!r} is not a readable zip file.") from None


# A chat's export is built in memory and sent as one file: 50,000 statements are
# ~22 MB of YAML and a ~5 MB zip (Telegram lets a bot send 50 MB). Beyond that it
# would hold hundreds of MB in the bot and could not be sent anyway.
CHAT_EXPORT_MAX_STATEMENTS = 50_000


async def export_files(ctx: Context, request: Request) -> Reply:
    from bot.transfer.exporter import export_documents

    total = await ctx.store.statement_total()
    if total > CHAT_EXPORT_MAX_STATEMENTS:
        raise CurationError(
            f"The archive holds {total} statements, too many to send in a chat (at most "
            f"{CHAT_EXPORT_MAX_STATEMENTS}). On the server, run: verbatim export DIR")
    files = await export_documents(ctx.store)
    buffer = io.BytesIO()

    def pack() -> None:  # compressing is seconds of CPU for a large archive: off the loop
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(f"knowledge/{name}", text)

    await asyncio.to_thread(pack)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    attachment = Attachment(f"verbatim-export-{stamp}.zip", buffer.getvalue(), "application/zip")
    return Reply(blocks=(Notice(f"Export of {len(files)} file(s): "
                                f"{', '.join(files) or 'nothing on record'}."),),
                 attachments=(attachment,))


def register(registry: Registry) -> None:
    c, o = Role.CURATOR, Role.OWNER
    form_usage = "statement|event|source|speaker, then one field: value a line"
    registry.add(Command("add", f"/add {form_usage}", "add an entry", add, role=c))
    registry.add(Command("edit", "/edit <id> <field>: <value>", "change fields of an entry",
                         edit, role=c))
    registry.add(Command("link", "/link <id> <type> <id>", "link two entries", link, role=c))
    registry.add(Command("unlink", "/unlink <id> <type> <id>", "remove a link", unlink, role=c))
    registry.add(Command("retract", "/retract <id> <reason>", "hide an entry from readers",
                         retract, role=c))
    registry.add(Command("restore", "/restore <id>", "bring a retracted entry back", restore,
                         role=c))
    registry.add(Command("history", "/history <id>", "every revision of an entry", history,
                         role=c))
    registry.add(Command("undo", "/undo <revision>", "revert one revision", undo, role=c))
    registry.add(Command("review", "/review [approve|reject <n> [reason]]",
                         "the suggestion queue", review, role=c))
    registry.add(Command("import", "/import (attach a file) [skip-invalid]",
                         "import a YAML, JSON Lines, CSV or TSV file", import_file, role=c))
    registry.add(Command("export", "/export", "the archive as knowledge YAML files",
                         export_files, role=c))
    registry.add(Command("curator", "/curator add|remove <platform:id> | list",
                         "grant or revoke the curator role", curator, role=o))
    registry.add(Command("suggest", f"/suggest {form_usage}",
                         "propose an entry for curators to review", suggest))
