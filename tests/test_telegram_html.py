"""Telegram HTML: escaping, allowed tags that balance, 4,096 UTF-16 units, no word cut."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.app import Core
from bot.core.reply import (
    Action,
    Card,
    LinkLine,
    Listing,
    Notice,
    Paging,
    Reply,
    SourceLine,
    Tone,
)
from bot.core.request import Actor, Request
from bot.model.entries import Kind
from bot.render.telegram_html import (
    MESSAGE_LIMIT,
    WORD_JOINER,
    render,
    render_card,
    split_html,
    utf16_len,
)
from bot.store.sqlite import SqliteStore

ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
           "blockquote", "tg-spoiler", "span", "tg-emoji"}
_BARE_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
# How Telegram finds mentions in a message's text (tdlib's find_mentions): an @ that
# does not follow a letter, digit or underscore, then username characters.
_TELEGRAM_MENTION = re.compile(r"(?<!\w)@[A-Za-z0-9_]+")


def mentions(text: str) -> list[str]:
    """The @names Telegram would turn into mentions (and notify) in this text."""
    return _TELEGRAM_MENTION.findall(text)


class TelegramHtmlChecker(HTMLParser):
    """Fails on any tag Telegram refuses, on unbalanced tags and on bare ``&``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.errors.append(f"tag <{tag}> not allowed")
        if tag == "a":
            names = [name for name, _ in attrs]
            href = dict(attrs).get("href") or ""
            if names != ["href"] or not re.match(r"https?://", href):
                self.errors.append(f"bad link attributes {attrs}")
        elif attrs:
            self.errors.append(f"<{tag}> with attributes {attrs}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.errors.append(f"self-closing <{tag}/> not allowed")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))


def check_message(message: str) -> str:
    """Assert the message is one Telegram accepts; return its visible text."""
    assert utf16_len(message) <= MESSAGE_LIMIT, utf16_len(message)
    assert not _BARE_AMP.search(message), "a bare & would be read as an entity"
    checker = TelegramHtmlChecker()
    checker.feed(message)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    text = "".join(checker.text)
    assert text.strip(), "empty message"
    assert not mentions(text), f"Telegram would notify {mentions(text)}"
    return text.replace(WORD_JOINER, "")  # invisible: not part of what the reader sees


def check_reply(reply: Reply) -> list[str]:
    return [check_message(m) for m in render(reply).messages]


WORDS = ["Лавров", "сказал", "«перемирие»", "😀", "👍🏽", "🇺🇦", "<b>", "</blockquote>", "&amp;",
         "a&b", '"quoted"', "it's", "@everyone", "@durov,", "(@mfa_russia)", "press@mid.ru",
         '<a href="tg://user?id=42">', "x" * 300,
         "Aleppo", "\n", "阿勒颇", "e\u0301", "\u200b", "tg://user?id=7", "<", ">", "&"]
texts = st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join)
long_texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=1200).map(" ".join)
urls = st.one_of(st.none(), st.sampled_from([
    "https://example.org/a?b=1&c=2", 'https://x.org/"><b>bold</b>', "javascript:alert(1)",
    "tg://user?id=42", "http://пример.рф/путь", "https://exa mple.org/", "ftp://x.org/f",
    "https://example.org/" + "long-" * 200,
]))
sources = st.builds(SourceLine, title=texts.filter(bool), primary=st.booleans(),
                    publisher=st.one_of(st.none(), texts), url=urls, archived_url=urls,
                    published=st.one_of(st.none(), st.just("8 Dec 2016")))
links = st.builds(LinkLine, label=texts, target_id=st.just("lavrov-2016-12-09-clarification"),
                  target_title=texts, snippet=st.one_of(st.none(), texts))
cards = st.builds(
    Card, kind=st.just("statement"), entry_id=st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,6}",
                                                            fullmatch=True),
    heading=texts.filter(bool), subheading=st.one_of(st.none(), texts),
    when=st.one_of(st.none(), texts), where=st.one_of(st.none(), texts),
    quote=st.one_of(st.none(), long_texts), translation=st.one_of(st.none(), long_texts),
    body=st.one_of(st.none(), texts), facts=st.lists(st.tuples(texts, texts), max_size=3).map(
        tuple), sources=st.lists(sources, max_size=6).map(tuple),
    links=st.lists(links, max_size=4).map(tuple), notes=st.lists(texts, max_size=2).map(tuple),
    retracted=st.one_of(st.none(), texts),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cards, min_size=1, max_size=4))
def test_generated_cards_render_to_valid_messages_within_the_limit(many: list[Card]) -> None:
    reply = Reply(blocks=(Notice("3 statements"), *many),
                  paging=Paging(1, 4, 12, next=Action("Next ›", "/quote x page:2")))
    visible = check_reply(reply)
    words = {w for text in visible for w in text.split()}
    for card in many:
        for word in (card.quote or "").split():
            assert word in words, f"{word[:40]!r} was cut"


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=3000), st.integers(min_value=40, max_value=600))
def test_splitting_any_text_keeps_tags_balanced(text: str, limit: int) -> None:
    fragment = f"<blockquote><b>{html.escape(text)}</b></blockquote>"
    pieces = split_html(fragment, limit)
    for piece in pieces:
        assert utf16_len(piece) <= limit
        checker = TelegramHtmlChecker()
        checker.feed(piece)
        assert not checker.errors and not checker.stack
    rejoined = "".join(html.unescape(re.sub(r"<[^>]*>", "", p)) for p in pieces)
    assert rejoined.split() == text.split() or "".join(rejoined.split()) == "".join(text.split())


def test_mentions_and_links_in_stored_text_come_out_escaped() -> None:
    card = Card(kind="statement", entry_id="x", heading="@everyone <b>boss</b>",
                quote='@everyone <a href="tg://user?id=42">you</a> & more',
                sources=(SourceLine("Ping <a href=\"tg://user?id=1\">me</a>", True,
                                    url="tg://user?id=1"),
                         SourceLine("Quote\" onmouseover=\"x", False,
                                    url='https://example.org/?q="><script>'),))
    (message,) = render(Reply(blocks=(card,))).messages
    check_message(message)
    assert '<a href="tg://' not in message
    assert '&lt;a href="tg://user?id=42"&gt;you&lt;/a&gt; &amp; more' in message
    assert f"<b>@{WORD_JOINER}everyone &lt;b&gt;boss&lt;/b&gt;</b>" in message
    assert '<a href="https://example.org/?q=&quot;&gt;&lt;script&gt;">' in message
    assert 'Ping &lt;a href="tg://user?id=1"&gt;me&lt;/a&gt; · ' in message


def test_a_username_in_a_stored_quote_pings_nobody_and_reads_as_stored() -> None:
    quote = "Ask @durov (or @mfa_russia, press@mid.ru): /quote@VerbatimBot works"
    card = Card(kind="statement", entry_id="x", heading="@durov", quote=quote,
                sources=(SourceLine("Post by @durov", True, url="https://t.me/durov/1"),))
    (message,) = render(Reply(blocks=(card,))).messages
    assert mentions(message) == []
    visible = check_message(message)
    assert quote in visible  # with the invisible joiners taken out: the stored text
    assert "Post by @durov" in visible
    # Only an @ that starts a name is touched: an address and a command stay as they are.
    assert "press@mid.ru" in message and "/quote@VerbatimBot" in message


def test_quote_is_a_blockquote_and_sources_are_links() -> None:
    card = Card(kind="statement", entry_id="lavrov-2016-12-08-aleppo-pause",
                heading="Sergey Lavrov", subheading="Minister", when="8 Dec 2016",
                quote="Combat actions ... are suspended today",
                sources=(SourceLine("Transcript", True, url="https://mid.ru/t?a=1&b=2",
                                    archived_url="https://web.archive.org/x"),
                         SourceLine("Report", False)),
                links=(LinkLine("Clarified 9 Dec 2016 by the speaker", "lav-2", "t", "I never"),))
    (message,) = render(Reply(blocks=(card,))).messages
    assert "<blockquote>Combat actions ... are suspended today</blockquote>" in message
    assert '<a href="https://mid.ru/t?a=1&amp;b=2">Transcript</a>' in message
    assert '<a href="https://web.archive.org/x">archived copy</a>' in message
    assert "Report · date unknown · secondary · no link on record" in message
    assert "→ <code>/show lav-2</code>" in message
    assert message.endswith("id: <code>lavrov-2016-12-08-aleppo-pause</code>")


def test_cards_are_kept_whole_and_split_between_cards() -> None:
    card = Card(kind="statement", entry_id="a", heading="Лавров",
                quote=("Слово 😀 " * 300).strip())
    reply = Reply(blocks=(card, card, card))
    messages = render(reply).messages
    assert len(messages) == 3
    assert all(m.startswith("<b>Лавров</b>") for m in messages)
    for m in messages:
        check_message(m)
    # 😀 is two UTF-16 units: 300 * (6 + 2) + tags; counting code points would undercount
    assert utf16_len(messages[0]) > len(messages[0])


def test_a_very_long_quote_is_split_at_words_with_the_blockquote_reopened() -> None:
    quote = " ".join(f"слово{i}" for i in range(2000))
    messages = render_card(Card(kind="statement", entry_id="long", heading="X", quote=quote))
    assert len(messages) >= 4
    seen: list[str] = []
    for m in messages:
        seen += check_message(m).split()
    assert [w for w in seen if w.startswith("слово")] == quote.split()
    assert all(m.count("<blockquote>") == m.count("</blockquote>") for m in messages)


def test_paging_buttons_and_template_actions() -> None:
    reply = Reply(blocks=(Listing("Timeline", ("a", "b")),),
                  paging=Paging(2, 3, 30, next=Action("Next ›", "/timeline x page:3"),
                                previous=Action("‹ Previous", "/timeline x page:1")),
                  actions=(Action("Show one in full", "/show <id>"),
                           Action("Quotes of Sergey Lavrov", "/quote Sergey Lavrov")))
    rendered = render(reply)
    assert [a.label for a in rendered.paging] == ["‹ Previous", "Next ›"]
    assert [a.command for a in rendered.actions] == ["/quote Sergey Lavrov"]
    assert "Show one in full: <code>/show &lt;id&gt;</code>" in rendered.messages[-1]
    assert "<i>Page 2 of 3 (30 in all)</i>" in rendered.messages[-1]


def test_error_notice() -> None:
    (message,) = render(Reply(blocks=(Notice("No <entry> & such", Tone.ERROR),))).messages
    assert message == "⚠️ No &lt;entry&gt; &amp; such"


async def test_every_bundled_entry_renders_to_valid_telegram_html(loaded: SqliteStore) -> None:
    core = Core(loaded)
    actor = Actor("telegram", "1")
    count = 0
    for kind in Kind:
        async for stored in loaded.entries(kind):
            reply = await core.handle(Request(actor, "show", stored.id))
            assert reply is not None and not reply.is_error, stored.id
            check_reply(reply)
            count += 1
    assert count >= 10
    for query in ("lavrov aleppo", "Лавров", "aleppo", "lavrov page:5"):
        reply = await core.handle(Request(actor, "quote", query))
        assert reply is not None
        check_reply(reply)
