"""The reader commands through the core, and their answers to bad input."""

import pytest

from bot.core.reply import Card, Listing
from bot.core.request import Actor, parse_command
from tests.conftest import ask, ask_text

PAUSE = "lavrov-2016-12-08-aleppo-pause"
CLARIFICATION = "lavrov-2016-12-09-aleppo-clarification"


async def test_quote_card_shows_everything_a_reader_needs(core):
    reply = await ask(core, "quote", "lavrov aleppo")
    cards = {b.entry_id: b for b in reply.blocks if isinstance(b, Card)}
    pause = cards[PAUSE]
    assert pause.heading == "Sergey Lavrov"
    assert pause.when == "8 Dec 2016"
    assert "Hamburg" in pause.where
    assert pause.quote.startswith("Combat actions of the Syrian Army in eastern Aleppo are "
                                  "suspended today, as a yet another")
    assert [s.publisher for s in pause.sources] == ["The Duran", "Global Research"]
    assert "No primary source on record." in pause.notes
    labels = [link.label for link in pause.links]
    assert "Clarified 9 Dec 2016 by the speaker" in labels
    clar = cards[CLARIFICATION]
    assert any(link.label == "Clarifies 8 Dec 2016" and link.target_id == PAUSE
               for link in clar.links)


async def test_quote_as_text_reads_like_the_design_sketch(core):
    text = await ask_text(core, "quote", "lavrov aleppo")
    assert "Sergey Lavrov · Minister of Foreign Affairs of Russia" in text
    assert "8 Dec 2016 · Hamburg" in text
    assert "“Combat actions of the Syrian Army in eastern Aleppo are suspended" in text
    assert "Clarified 9 Dec 2016 by the speaker: “I never said that military" in text
    assert "no link on record" in text
    assert f"id: {PAUSE}" in text


async def test_show_gives_one_entry_with_sources_and_links(core):
    text = await ask_text(core, "show", CLARIFICATION)
    assert "“I never said that military activities have been stopped completely." in text
    assert f"/show {PAUSE}" in text
    source = await ask_text(core, "show", "theduran-2016-12-08-mercouris-lavrov")
    assert "Author: Alexander Mercouris" in source and "Link: no link on record" in source


async def test_who_lists_names_and_counts(core):
    text = await ask_text(core, "who", "Лавров")
    assert text.startswith("Sergey Lavrov · Minister of Foreign Affairs of Russia")
    assert "Statements on record: 4, 8 Dec 2016 to 9 Dec 2016" in text


async def test_event_and_timeline(core):
    events = await ask_text(core, "event", "sheikh saeed")
    assert "Sheikh Saeed" in events and "9 Dec 2016" in events
    reply = await ask(core, "timeline", "lavrov")
    listing = next(b for b in reply.blocks if isinstance(b, Listing))
    dates = [line.split(" · ")[0] for line in listing.items]
    assert dates == sorted(dates, key=lambda d: d.split()[0].zfill(2)), dates
    assert any("Event: " in line for line in listing.items)
    assert any(CLARIFICATION in line for line in listing.items)


async def test_paging_offers_the_next_command(loaded):
    from bot.core.app import Core

    core = Core(loaded, page_size=1)
    first = await ask(core, "quote", "lavrov aleppo")
    assert first.paging.pages == 3 and first.paging.next.command == "/quote lavrov aleppo page:2"
    second = await ask(core, "quote", first.paging.next.command.removeprefix("/quote "))
    assert second.paging.page == 2 and second.paging.previous is not None
    seen = [b.entry_id for r in (first, second) for b in r.blocks if isinstance(b, Card)]
    assert len(set(seen)) == 2
    beyond = await ask_text(core, "quote", "lavrov aleppo page:9")
    assert "There is no page 9" in beyond


async def test_help_lists_reader_commands(core):
    text = await ask_text(core, "help")
    for name in ("/quote", "/event", "/timeline", "/show", "/who", "/help"):
        assert name in text


@pytest.mark.parametrize(
    ("command", "args", "says"),
    [
        ("quote", "", "Usage: /quote <speaker and/or words>"),
        ("quote", "!!! ???", "Usage: /quote"),
        ("quote", "lavrov since:2016-13", "since:2016-13 is not a date"),
        ("quote", "lavrov until:tomorrow", "until:tomorrow is not a date"),
        ("quote", "lavrov since:2017 until:2016", "is after until:2016: swap them"),
        ("quote", "lavrov lang:русский", "is not a language code"),
        ("quote", "lavrov page:0", "is not a page number"),
        ("quote", "x" * 600, "keep it under 500"),
        ("quote", "y " * 2100, "the most a command takes is 4000"),
        ("show", "", "Usage: /show <id>"),
        ("show", "no-such-entry", "No entry with id 'no-such-entry'"),
        ("show", "<b>bad</b>", "is not an id"),
        ("who", "", "Usage: /who <name>"),
        ("nosuch", "", "Unknown command /nosuch"),
    ],
)
async def test_bad_input_gets_a_short_clear_error(core, command, args, says):
    reply = await ask(core, command, args)
    text = " ".join(getattr(b, "text", "") for b in reply.blocks)
    assert says in text
    assert "Traceback" not in text and len(text) < 400


async def test_unknown_speaker_gets_nearest_names(core):
    text = await ask_text(core, "quote", "lavrovitch")
    assert "No speaker matches 'lavrovitch'" in text
    assert "Nearest names: Sergey Lavrov" in text
    who = await ask_text(core, "who", "Kerryx Nobody")
    assert who.startswith("No speaker matches 'Kerryx Nobody'.")


async def test_nothing_on_record_for_a_known_speaker(core):
    text = await ask_text(core, "quote", "lavrov bananas")
    assert text.startswith("Nothing on record from Sergey Lavrov matching 'bananas'.")


async def test_reply_text_stands_in_for_arguments(core):
    reply = await ask(core, "quote", "", replied_text="Lavrov announced a ceasefire in Aleppo!")
    assert any(isinstance(b, Card) for b in reply.blocks)


async def test_unexpected_failure_is_an_apology_not_a_traceback(core, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(core.context.store, "search_statements", broken)
    reply = await ask(core, "quote", "lavrov aleppo")
    assert reply.is_error and "something went wrong on our side" in reply.blocks[0].text
    assert "disk on fire" not in reply.blocks[0].text
    assert "disk on fire" in caplog.text


def test_commands_for_other_bots_are_ignored():
    actor = Actor("telegram", "1")
    ours = parse_command("/quote@VerbatimBot lavrov aleppo", actor, bot_username="verbatimbot")
    assert ours.command == "quote" and ours.args == "lavrov aleppo"
    assert parse_command("/quote@OtherBot lavrov", actor, bot_username="VerbatimBot") is None
    assert parse_command("not a command", actor) is None
