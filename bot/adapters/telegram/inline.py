"""Inline mode: ``@VerbatimBot lavrov aleppo`` in any chat lists the matching statements.

The results are the core's ``/quote`` answer, one article per card: the
title says who and when, the description starts the quote, and choosing
one sends the full card as HTML. Scrolling asks for the next page of the
same ``/quote`` through Telegram's offset.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.adapters.telegram.handlers import actor_of
from bot.adapters.telegram.sending import NO_PREVIEW, Sender
from bot.core.app import Core
from bot.core.cards import snippet
from bot.core.reply import Card, Reply
from bot.core.request import MAX_INPUT_CHARS, Request
from bot.render.telegram_html import MESSAGE_LIMIT, command_html, render_card

log = logging.getLogger(__name__)

CACHE_SECONDS = 60
MAX_QUERY_CHARS = 256
"""Telegram's own limit on an inline query."""


def result_id(entry_id: str) -> str:
    """Result ids must be at most 64 bytes; an entry id may be longer, a hash never is."""
    return hashlib.sha256(entry_id.encode()).hexdigest()[:32]


def card_message(card: Card) -> str:
    """The card as one message; a card too long for one ends with where to read the rest."""
    more = f"\n… the rest: {command_html('/show ' + card.entry_id)}"
    pieces = render_card(card)
    if len(pieces) == 1:
        return pieces[0]
    return render_card(card, MESSAGE_LIMIT - len(more) * 2)[0] + more


def article(card: Card) -> InlineQueryResultArticle:
    title = " · ".join(p for p in (card.heading, card.when) if p)
    description = snippet(card.quote or card.body or card.subheading or "", 120)
    return InlineQueryResultArticle(
        id=result_id(card.entry_id),
        title=title[:256],
        description=description or None,
        input_message_content=InputTextMessageContent(
            card_message(card), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
        ),
    )


def page_of(offset: str) -> int:
    return int(offset) if offset.isdigit() and 0 < int(offset) < 1000 else 1


@dataclass
class InlineHandler:
    core: Core
    sender: Sender

    async def search(self, request: Request) -> tuple[list[Card], int | None]:
        """The cards of one /quote page and the next page's number, if there is one."""
        reply: Reply | None = await self.core.handle(request)
        if reply is None:
            return [], None
        cards = [b for b in reply.blocks if isinstance(b, Card)]
        paging = reply.paging
        return cards, (paging.page + 1 if paging and paging.next else None)

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        text = " ".join(query.query.split())[:MAX_QUERY_CHARS]
        if not text:
            await self.sender.call(lambda: query.answer([], cache_time=CACHE_SECONDS))
            return
        page = page_of(query.offset)
        args = f"{text} page:{page}" if page > 1 else text
        request = Request(actor=actor_of(query.from_user), command="quote",
                          args=args[:MAX_INPUT_CHARS], inline=True)
        cards, next_page = await self.search(request)
        results = [article(card) for card in cards]
        await self.sender.call(lambda: query.answer(
            results, cache_time=CACHE_SECONDS, is_personal=False,
            next_offset=str(next_page) if next_page else "",
        ))
