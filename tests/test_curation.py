"""Curators keep the archive from the chat: roles, edits, links, history, undo, review, files.

Everything runs through the core with real requests on a real SQLite file,
the way any adapter will call it.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import zipfile

import pytest

from bot.core.app import Core
from bot.core.reply import Card, Listing, Reply
from bot.core.request import Actor, Request, Upload
from bot.store.sqlite import SqliteStore

OWNER = Actor("telegram", "1")
CURATOR = Actor("telegram", "2")
READER = Actor("telegram", "3")
PAUSE = "lavrov-2016-12-08-aleppo-pause"
CLARIFICATION = "lavrov-2016-12-09-aleppo-clarification"
EVENT = "aleppo-2016-12-09-sheikh-saeed-capture"

NEW_STATEMENT = """statement
speaker: Лавров
said_on: 2016-12-10
place: Moscow
text: Words with: colons, "quotes", <tags> & ampersands,
  and a second line.
source: https://example.org/briefing Briefing transcript
topics: aleppo, test"""


@pytest.fixture
async def curated(loaded: SqliteStore) -> Core:
    core = Core(loaded, owners=frozenset({OWNER.key}))
    reply = await core.handle(Request(OWNER, "curator", f"add {CURATOR.key}"))
    assert reply is not None and not reply.is_error
    return core


async def run(core: Core, actor: Actor, command: str, args: str = "", **extra) -> Reply:
    reply = await core.handle(Request(actor, command, args, **extra))
    assert reply is not None
    return reply


def text_of(reply: Reply) -> str:
    from bot.render.text import render

    return render(reply)


async def revisions(store: SqliteStore) -> int:
    rows = await store._fetchall("SELECT count(*) AS n FROM revisions")
    return rows[0]["n"]


# -- permission matrix ----------------------------------------------------------------

CURATOR_COMMANDS = {
    "add": NEW_STATEMENT,
    "edit": f"{PAUSE} place: Berlin",
    "link": f"{PAUSE} about {EVENT}",
    "unlink": f"{CLARIFICATION} clarifies {PAUSE}",
    "retract": f"{PAUSE} testing permissions",
    "restore": PAUSE,
    "history": PAUSE,
    "undo": "1",
    "review": "",
    "import": "",
    "export": "",
}


@pytest.mark.parametrize("command", sorted(CURATOR_COMMANDS))
async def test_readers_are_refused_and_nothing_changes(curated, loaded, command):
    before = (await revisions(loaded), await loaded.sync_state())
    reply = await run(curated, READER, command, CURATOR_COMMANDS[command],
                      upload=Upload("x.jsonl", b'{"type": "source", "id": "s", "title": "T"}\n'))
    assert reply.is_error
    assert f"/{command} is for curators. Nothing was changed." in reply.blocks[0].text
    assert (await revisions(loaded), await loaded.sync_state()) == before


@pytest.mark.parametrize("actor", [CURATOR, OWNER], ids=["curator", "owner"])
@pytest.mark.parametrize("command", sorted(CURATOR_COMMANDS))
async def test_curators_and_owners_may(curated, actor, command):
    if command == "restore":
        await run(curated, actor, "retract", f"{PAUSE} to restore it")
    reply = await run(curated, actor, command, CURATOR_COMMANDS[command],
                      upload=Upload("x.jsonl", b'{"type": "source", "id": "s", "title": "T"}\n'))
    assert not reply.is_error, text_of(reply)


@pytest.mark.parametrize("actor", [READER, CURATOR], ids=["reader", "curator"])
async def test_only_owners_grant_roles(curated, loaded, actor):
    reply = await run(curated, actor, "curator", "add telegram:99")
    assert reply.is_error and "/curator is for the bot's owners" in reply.blocks[0].text
    assert not await loaded.curation().is_curator("telegram:99")


async def test_owner_grants_lists_and_revokes(curated):
    assert not (await run(curated, OWNER, "curator", "add discord:55")).is_error
    listing = text_of(await run(curated, OWNER, "curator", "list"))
    assert "owner: telegram:1" in listing
    assert "curator: discord:55 (granted by telegram:1" in listing
    assert not (await run(curated, Actor("discord", "55"), "history", PAUSE)).is_error
    await run(curated, OWNER, "curator", "remove discord:55")
    assert (await run(curated, Actor("discord", "55"), "history", PAUSE)).is_error
    again = await run(curated, OWNER, "curator", "remove discord:55")
    assert "is not a curator" in again.blocks[0].text
    bad = await run(curated, OWNER, "curator", "add 12345")
    assert "write the user as platform:user_id" in bad.blocks[0].text


# -- adding ------------------------------------------------------------------------------


async def test_add_statement_answers_with_the_card_and_id(curated, loaded):
    reply = await run(curated, CURATOR, "add", NEW_STATEMENT)
    head = reply.blocks[0].text
    assert head.startswith("Added statement sergey-lavrov-2016-12-10-")
    card = next(b for b in reply.blocks if isinstance(b, Card))
    assert card.heading == "Sergey Lavrov" and card.when == "10 Dec 2016"
    assert card.quote == ('Words with: colons, "quotes", <tags> & ampersands,\n'
                          "  and a second line.")
    assert card.sources[0].url == "https://example.org/briefing"
    history = await loaded.history(card.entry_id)
    assert [(r.action, r.actor) for r in history] == [("create", CURATOR.key)]
    found = text_of(await run(curated, READER, "quote", "lavrov colons ampersands"))
    assert card.entry_id in found


async def test_near_duplicate_is_refused_unless_forced(curated):
    await run(curated, CURATOR, "add", NEW_STATEMENT)
    nearly = NEW_STATEMENT.replace("second line.", "second line!")
    again = await run(curated, CURATOR, "add", nearly)
    assert again.is_error and "This looks like sergey-lavrov-2016-12-10-" in again.blocks[0].text
    forced = await run(curated, CURATOR, "add", NEW_STATEMENT + "\nforce: yes")
    assert not forced.is_error


async def test_speakers_by_name_ambiguous_and_unknown(curated):
    for name in ("John Smith", "Jane Smith"):
        assert not (await run(curated, CURATOR, "add", f"speaker\nname: {name}")).is_error
    form = "statement\nspeaker: {}\nsaid_on: 2020\ntext: Hello.\nsource: https://e.org/x X"
    ambiguous = await run(curated, CURATOR, "add", form.format("smith"))
    assert "matches several speakers: jane-smith (Jane Smith), john-smith (John Smith)" in \
        ambiguous.blocks[0].text
    unknown = await run(curated, CURATOR, "add", form.format("Maria Zakharova"))
    assert "no speaker 'Maria Zakharova' on record" in unknown.blocks[0].text
    created = await run(curated, CURATOR, "add",
                        form.format("Maria Zakharova") + "\ncreate_speaker: yes")
    assert "also created: x, maria-zakharova" in created.blocks[0].text


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ("statement\nspeaker: lavrov\nsaid_on: 2016-13\ntext: x\nsource: https://e.org/ E",
         "said_on: '2016-13': month 13 does not exist"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: ftp://e.org/x E",
         "not an http or https URL"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: https://e.org/",
         "give a title after the URL"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\nsource: https://e.org/ E",
         "text: required field is missing"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x", "at least one source"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: nope",
         "no source with id 'nope'"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: https://e.org/ E\n"
         "link: clarifies no-such-id", "no entry with id 'no-such-id'"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: https://e.org/ E\n"
         "link: about " + PAUSE, "'about' points to an event"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: https://e.org/ E\n"
         "link: praises " + PAUSE, "link: write the type and the id"),
        ("statement\nspeaker: lavrov\nsaid_on: 2016\ntext: x\nsource: https://e.org/ E\n"
         "place: " + "p" * 400, "place: too long: at most 300 characters"),
        ("statement\ncolour: red", "colour: not a field of a statement"),
        ("poem\ntext: x", "'poem' is not a kind of entry"),
        ("speaker\nname: A\nname: B", "name: given twice"),
        ("speaker\nid: Bad Id\nname: X", "must be a lowercase id"),
        ("speaker\nid: sergey-lavrov\nname: X", "'sergey-lavrov' is already taken"),
        ("source\ntitle: T\nkind: tertiary", "must be one of 'primary' or 'secondary'"),
        ("event\ntitle: T\nhappened_on: yesterday\nsource: https://e.org/ E",
         "'yesterday' is not a date"),
    ],
)
async def test_bad_forms_get_a_clear_error_and_write_nothing(curated, loaded, form, says):
    before = await revisions(loaded)
    reply = await run(curated, CURATOR, "add", form)
    assert reply.is_error
    assert says in reply.blocks[0].text, reply.blocks[0].text
    assert await revisions(loaded) == before


# -- changing ----------------------------------------------------------------------------


async def test_edit_changes_one_field_and_keeps_history(curated, loaded):
    reply = await run(curated, CURATOR, "edit", f"{PAUSE} place: Hamburg, Germany")
    assert reply.blocks[0].text == f"Changed place of {PAUSE}."
    stored = await loaded.get(PAUSE)
    assert stored.entry.place == "Hamburg, Germany" and stored.version == 2
    assert stored.entry.text.startswith("Combat actions")  # other fields untouched
    same = await run(curated, CURATOR, "edit", f"{PAUSE} place: Hamburg, Germany")
    assert same.blocks[0].text.startswith("Nothing changed")
    bad = await run(curated, CURATOR, "edit", f"{PAUSE} said_on: 2016-02-30")
    assert bad.is_error and "day 30 does not exist" in bad.blocks[0].text
    missing = await run(curated, CURATOR, "edit", "no-such-entry place: x")
    assert "No entry with id 'no-such-entry'" in missing.blocks[0].text


async def test_two_curators_editing_at_once_get_a_conflict_not_an_overwrite(curated, loaded):
    first = run(curated, CURATOR, "edit", f"{PAUSE} place: Hamburg (first)")
    second = run(curated, OWNER, "edit", f"{PAUSE} place: Hamburg (second)")
    replies = await asyncio.gather(first, second)
    errors = [r for r in replies if r.is_error]
    assert len(errors) == 1
    winner = next(r for r in replies if not r.is_error)
    assert "was changed by" in errors[0].blocks[0].text
    stored = await loaded.get(PAUSE)
    assert stored.version == 2
    who = CURATOR.key if winner is replies[0] else OWNER.key
    assert stored.updated_by == who and who in errors[0].blocks[0].text


async def test_link_unlink_retract_restore(curated, loaded):
    linked = await run(curated, CURATOR, "link", f"{PAUSE} about {EVENT}")
    assert linked.blocks[0].text == f"Linked: {PAUSE} about {EVENT}."
    event = text_of(await run(curated, READER, "show", EVENT))
    assert f"/show {PAUSE}" in event  # the reverse direction shows on the event
    dup = await run(curated, CURATOR, "link", f"{PAUSE} about {EVENT}")
    assert "already about" in dup.blocks[0].text
    await run(curated, CURATOR, "unlink", f"{PAUSE} about {EVENT}")
    assert f"/show {PAUSE}" not in text_of(await run(curated, READER, "show", EVENT))

    no_reason = await run(curated, CURATOR, "retract", PAUSE)
    assert "Usage: /retract <id> <reason>" in no_reason.blocks[0].text
    await run(curated, CURATOR, "retract", f"{PAUSE} misattributed, see corrections")
    hidden = await run(curated, READER, "show", PAUSE)
    assert hidden.is_error
    assert PAUSE not in text_of(await run(curated, READER, "quote", "lavrov aleppo"))
    for_curators = text_of(await run(curated, CURATOR, "show", PAUSE))
    assert "[Retracted: misattributed, see corrections]" in for_curators
    assert (await loaded.get(PAUSE, include_retracted=True)).entry.text.startswith("Combat")
    await run(curated, CURATOR, "restore", PAUSE)
    assert PAUSE in text_of(await run(curated, READER, "quote", "lavrov aleppo"))


# -- history and undo ----------------------------------------------------------------------


async def _last_rev(store: SqliteStore, entry_id: str) -> int:
    return (await store.history(entry_id))[-1].rev


async def test_history_lists_every_revision(curated):
    await run(curated, CURATOR, "edit", f"{PAUSE} place: Berlin")
    await run(curated, OWNER, "retract", f"{PAUSE} checking")
    listing = next(b for b in (await run(curated, CURATOR, "history", PAUSE)).blocks
                   if isinstance(b, Listing))
    assert listing.title.startswith(f"History of {PAUSE} (retracted): 3 revision(s)")
    assert [line.split(" · ")[2:] for line in listing.items] == [
        ["system:knowledge", "create"],
        [CURATOR.key, "update: place"],
        [OWNER.key, "retract (checking)"],
    ]


async def test_undo_of_every_kind_of_change(curated, loaded):
    # update -> the field comes back
    original = (await loaded.get(PAUSE)).entry.place
    await run(curated, CURATOR, "edit", f"{PAUSE} place: Berlin")
    await run(curated, CURATOR, "undo", str(await _last_rev(loaded, PAUSE)))
    assert (await loaded.get(PAUSE)).entry.place == original
    # link (an update of links) -> the link goes
    await run(curated, CURATOR, "link", f"{PAUSE} about {EVENT}")
    await run(curated, CURATOR, "undo", str(await _last_rev(loaded, PAUSE)))
    assert all(link.to != EVENT for link in (await loaded.get(PAUSE)).entry.links)
    # retract -> restored; restore -> retracted again
    await run(curated, CURATOR, "retract", f"{PAUSE} test")
    await run(curated, CURATOR, "undo", str(await _last_rev(loaded, PAUSE)))
    assert await loaded.get(PAUSE) is not None
    await run(curated, CURATOR, "undo", str(await _last_rev(loaded, PAUSE)))
    assert await loaded.get(PAUSE) is None
    await run(curated, CURATOR, "restore", PAUSE)
    # create -> retracted (nothing is ever deleted)
    added = await run(curated, CURATOR, "add", NEW_STATEMENT)
    new_id = next(b for b in added.blocks if isinstance(b, Card)).entry_id
    await run(curated, CURATOR, "undo", str((await loaded.history(new_id))[0].rev))
    assert await loaded.get(new_id) is None
    assert (await loaded.get(new_id, include_retracted=True)).retract_reason.startswith("undo of #")
    # every undo is itself a revision
    actions = [r.action for r in await loaded.history(PAUSE)]
    assert actions == ["create", "update", "update", "update", "update", "retract", "restore",
                       "retract", "restore"]


async def test_undo_refuses_when_the_field_changed_since(curated, loaded):
    await run(curated, CURATOR, "edit", f"{PAUSE} place: Berlin")
    rev = await _last_rev(loaded, PAUSE)
    await run(curated, OWNER, "edit", f"{PAUSE} place: Paris")
    reply = await run(curated, CURATOR, "undo", str(rev))
    assert "place of" in reply.blocks[0].text and "changed again" in reply.blocks[0].text
    assert (await loaded.get(PAUSE)).entry.place == "Paris"
    assert "No revision #99999" in (await run(curated, CURATOR, "undo", "99999")).blocks[0].text


# -- suggestions -----------------------------------------------------------------------------


async def test_suggest_review_approve_credits_the_suggester(curated, loaded):
    reply = await run(curated, READER, "suggest", NEW_STATEMENT)
    assert "suggestion #1 waits for a curator's review" in reply.blocks[0].text
    assert "Words with: colons" not in text_of(await run(curated, READER, "quote", "lavrov colons"))
    queue = text_of(await run(curated, CURATOR, "review"))
    assert "#1 statement from telegram:3" in queue and "/review approve 1" in queue
    approved = await run(curated, CURATOR, "review", "approve 1")
    new_id = next(b for b in approved.blocks if isinstance(b, Card)).entry_id
    history = await loaded.history(new_id)
    assert history[0].actor == READER.key
    assert history[0].reason == f"suggestion #1 by {READER.key}, approved by {CURATOR.key}"
    assert new_id in text_of(await run(curated, READER, "quote", "lavrov colons"))
    again = await run(curated, CURATOR, "review", "approve 1")
    assert "not waiting for review" in again.blocks[0].text


async def test_reject_needs_a_reason_and_writes_no_entry(curated, loaded):
    await run(curated, READER, "suggest", NEW_STATEMENT)
    before = await revisions(loaded)
    assert "Give a reason" in (await run(curated, CURATOR, "review", "reject 1")).blocks[0].text
    done = await run(curated, CURATOR, "review", "reject 1 no primary source")
    assert done.blocks[0].text == "Suggestion #1 rejected: no primary source"
    assert await revisions(loaded) == before
    assert "No suggestions are waiting" in text_of(await run(curated, CURATOR, "review"))


async def test_suggestions_are_rate_limited_and_validated(curated):
    bad = await run(curated, READER, "suggest",
                    "statement\nspeaker: lavrov\nsaid_on: 2016-13\ntext: t\nsource: src-x")
    assert bad.is_error and "no source with id 'src-x'" in bad.blocks[0].text
    for n in range(5):
        form = NEW_STATEMENT.replace("second line.", f"line number {n}.")
        assert not (await run(curated, READER, "suggest", form)).is_error
    sixth = await run(curated, READER, "suggest", NEW_STATEMENT)
    assert sixth.is_error and "5 suggestions in the last hour" in sixth.blocks[0].text


# -- files and the full round trip ---------------------------------------------------------------


def _export_files(reply: Reply) -> dict[str, str]:
    (attachment,) = reply.attachments
    assert attachment.filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(attachment.data)) as archive:
        return {n: archive.read(n).decode("utf-8") for n in sorted(archive.namelist())}


async def test_import_through_the_core_checks_the_file(curated, loaded):
    missing = await run(curated, CURATOR, "import")
    assert "Attach a YAML, JSON Lines, CSV or TSV file" in missing.blocks[0].text
    wrong = await run(curated, CURATOR, "import", upload=Upload("notes.docx", b"PK"))
    assert "send a .yaml, .jsonl, .csv or .tsv file" in wrong.blocks[0].text
    bad = await run(curated, CURATOR, "import", upload=Upload(
        "rows.jsonl", b'{"type": "source", "id": "ok-source", "title": "T"}\n{"broken\n'))
    assert bad.is_error and "rows.jsonl:2" in bad.blocks[0].text
    assert await loaded.get("ok-source") is None  # nothing half-imported
    good = await run(curated, CURATOR, "import", upload=Upload(
        "rows.jsonl", b'{"type": "source", "id": "ok-source", "title": "T"}\n'))
    assert good.blocks[0].text.startswith("1 added")


async def test_full_round_trip(curated, loaded, tmp_path):
    added = await run(curated, CURATOR, "add", NEW_STATEMENT)
    new_id = next(b for b in added.blocks if isinstance(b, Card)).entry_id
    await run(curated, CURATOR, "edit", f"{new_id} occasion: Weekly briefing")
    await run(curated, CURATOR, "link", f"{new_id} repeats {PAUSE}")
    await run(curated, CURATOR, "retract", f"{new_id} checking the source")
    await run(curated, CURATOR, "restore", new_id)
    first = _export_files(await run(curated, CURATOR, "export"))
    assert set(first) == {"knowledge/speakers.yaml", "knowledge/sources.yaml",
                          "knowledge/events.yaml", "knowledge/statements.yaml"}
    assert "occasion: Weekly briefing" in first["knowledge/statements.yaml"]

    exported = (await run(curated, CURATOR, "export")).attachments[0]
    async with SqliteStore(tmp_path / "empty.sqlite3") as empty:
        core = Core(empty, owners=frozenset({OWNER.key}))
        reply = await run(core, OWNER, "import", upload=Upload(exported.filename, exported.data))
        summary = reply.blocks[0].text
        assert summary.startswith("14 added (") and summary.endswith("0 unchanged, 0 rejected")
        second = _export_files(await run(core, OWNER, "export"))
    assert second == first


@pytest.fixture
async def held_lock(tmp_path):
    """A store that waits 0.2 s for the write lock, and the lock held the way another
    process's import holds it (its own connection, inside ``BEGIN IMMEDIATE``)."""
    from bot.app.wiring import read_knowledge
    from bot.knowledge.bundled import bundled_knowledge_dir
    from bot.store.sync import sync_knowledge

    path = tmp_path / "busy.sqlite3"
    async with SqliteStore(path, busy_timeout=0.2) as store:
        await sync_knowledge(store, read_knowledge([bundled_knowledge_dir()]))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield store, other
        finally:
            if other.in_transaction:
                other.execute("ROLLBACK")
            other.close()


async def test_an_edit_during_another_process_import_is_refused_plainly(held_lock):
    store, other = held_lock
    core = Core(store, owners=frozenset({OWNER.key}))
    before = await revisions(store)
    busy = await run(core, OWNER, "add", NEW_STATEMENT)
    assert busy.is_error
    assert busy.blocks[0].text == ("The archive is busy with another write (a large import "
                                   "can take a minute or two); nothing was changed. "
                                   "Try again shortly.")
    granted = await run(core, OWNER, "curator", f"add {CURATOR.key}")  # the roles table too
    assert granted.is_error and "busy with another write" in text_of(granted)
    assert await revisions(store) == before
    other.execute("COMMIT")  # the import is done: the same commands now go through
    assert not (await run(core, OWNER, "curator", f"add {CURATOR.key}")).is_error
    added = await run(core, CURATOR, "add", NEW_STATEMENT)
    assert added.blocks[0].text.startswith("Added statement sergey-lavrov-2016-12-10-")
    assert await revisions(store) > before


async def test_a_chat_export_too_large_to_send_says_to_export_on_the_server(curated, loaded,
                                                                           monkeypatch):
    from bot.core.commands import curation

    total = await loaded.statement_total()
    monkeypatch.setattr(curation, "CHAT_EXPORT_MAX_STATEMENTS", total - 1)
    refused = await run(curated, CURATOR, "export")
    assert refused.is_error and not refused.attachments
    assert refused.blocks[0].text == (
        f"The archive holds {total} statements, too many to send in a chat (at most "
        f"{total - 1}). On the server, run: verbatim export DIR")
    monkeypatch.setattr(curation, "CHAT_EXPORT_MAX_STATEMENTS", total)
    sent = await run(curated, CURATOR, "export")
    assert not sent.is_error and sent.attachments[0].filename.endswith(".zip")


async def test_a_blank_value_clears_an_optional_field_and_a_blank_form_line_is_no_value(
    curated, loaded
):
    reply = await run(curated, CURATOR, "edit", f"{PAUSE} place:")
    assert reply.blocks[0].text == f"Changed place of {PAUSE}.", reply.blocks[0].text
    stored = await loaded.get(PAUSE)
    assert stored.entry.place is None and stored.version == 2
    added = await run(curated, CURATOR, "add", NEW_STATEMENT + "\noccasion:\nnote:  ")
    assert added.blocks[0].text.startswith("Added statement sergey-lavrov-2016-12-10-")
    card = next(b for b in added.blocks if isinstance(b, Card))
    entry = (await loaded.get(card.entry_id)).entry
    assert entry.occasion is None and entry.note is None
