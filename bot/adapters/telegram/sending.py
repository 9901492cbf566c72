"""Rendered replies into Bot API calls: send, edit in place, retry what the network dropped.

Flood control and 429 answers are handled under every call by PTB's
``AIORateLimiter``; this module retries what that does not: a dropped
connection or a timeout (``NetworkError``, ``TimedOut``), with backoff. A
``BadRequest`` is a ``NetworkError`` in PTB too, but it would fail again, so
it is never retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError

from bot.adapters.telegram.callbacks import ButtonTarget, CallbackTokens, MessageGroup
from bot.core.reply import Action, Reply
from bot.render.telegram_html import Rendered, render

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def with_retry(
    call: Callable[[], Awaitable[T]], *, attempts: int = 3, delay: float = 0.5
) -> T:
    """Run ``call``; on a network error or timeout wait 0.5 s, 1 s, ... and try again."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt == attempts:
                raise
            log.warning("Bot API call failed (%s: %s); retry %d of %d",
                        type(exc).__name__, exc, attempt, attempts - 1)
            await asyncio.sleep(delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class Sender:
    """Sends one reply as one or more messages, with its buttons under the last one."""

    def __init__(self, bot: Bot, tokens: CallbackTokens, *, retry_delay: float = 0.5) -> None:
        self.bot = bot
        self.tokens = tokens
        self.retry_delay = retry_delay

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        return await with_retry(make, delay=self.retry_delay)

    def keyboard(self, rendered: Rendered, group: MessageGroup) -> InlineKeyboardMarkup | None:
        """Buttons with short tokens; page buttons edit ``group``, others answer anew."""
        def button(action: Action, edit: bool) -> InlineKeyboardButton:
            target = ButtonTarget(action.command, edit=edit, group=group)
            return InlineKeyboardButton(action.label[:64], callback_data=self.tokens.issue(target))

        rows = [[button(a, True) for a in rendered.paging]] if rendered.paging else []
        rows += [[button(a, False)] for a in rendered.actions]
        return InlineKeyboardMarkup(rows) if rows else None

    async def send(
        self,
        chat_id: int,
        reply: Reply,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> MessageGroup:
        rendered = render(reply)
        group = MessageGroup(chat_id)
        markup = self.keyboard(rendered, group)
        for index, text in enumerate(rendered.messages):
            last = index == len(rendered.messages) - 1
            message = await self._send_text(
                chat_id, text, markup if last else None,
                reply_to=reply_to if index == 0 else None, thread_id=thread_id,
            )
            group.message_ids.append(message.message_id)
        for attachment in reply.attachments:
            await self.call(lambda a=attachment: self.bot.send_document(
                chat_id, InputFile(a.data, filename=a.filename), message_thread_id=thread_id,
            ))
        return group

    async def _send_text(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        *,
        reply_to: int | None,
        thread_id: int | None,
    ) -> Message:
        params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        return await self.call(lambda: self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
            reply_markup=markup, reply_parameters=params, message_thread_id=thread_id,
        ))

    async def replace(self, group: MessageGroup, reply: Reply, thread_id: int | None) -> None:
        """Edit the messages of ``group`` into ``reply``'s; send extra ones, delete leftovers."""
        rendered = render(reply)
        new_group = MessageGroup(group.chat_id)
        markup = self.keyboard(rendered, new_group)
        old = list(group.message_ids)
        for index, text in enumerate(rendered.messages):
            last = index == len(rendered.messages) - 1
            message_id = old[index] if index < len(old) else None
            if message_id is not None and await self._edit(
                group.chat_id, message_id, text, markup if last else None
            ):
                new_group.message_ids.append(message_id)
                continue
            message = await self._send_text(group.chat_id, text, markup if last else None,
                                            reply_to=None, thread_id=thread_id)
            new_group.message_ids.append(message.message_id)
        for message_id in old[len(rendered.messages):]:
            try:
                await self.call(lambda m=message_id: self.bot.delete_message(group.chat_id, m))
            except (BadRequest, NetworkError) as exc:
                log.info("could not delete an old page message: %s", exc)
        group.message_ids[:] = new_group.message_ids

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """True when the message now shows ``text``; False when it can no longer be edited."""
        try:
            await self.call(lambda: self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW, reply_markup=markup,
            ))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("could not edit message %s, sending anew: %s", message_id, exc)
            return False
        return True
