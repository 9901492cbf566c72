"""Telegram updates into core requests, and replies back: commands, buttons, failures.

This is the adapter's whole job and nothing else: who asked, in which chat,
what they typed (or replied to), then one ``Core.handle`` and one send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.callbacks import CallbackTokens
from bot.adapters.telegram.sending import Sender
from bot.core.app import APOLOGY, Core
from bot.core.reply import Card, Listing, Notice, Reply
from bot.core.request import Actor, Request, Upload, parse_command

log = logging.getLogger(__name__)

EXPIRED = "This button has expired; send the command again."
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
CHAT_TYPES = frozenset({Chat.PRIVATE, Chat.GROUP, Chat.SUPERGROUP})
ALIASES = {"start": "help"}
"""Telegram clients send /start when a user opens the bot: answer it with the help."""


def actor_of(user: User) -> Actor:
    return Actor("telegram", str(user.id), user.full_name)


def chat_key(chat_id: int) -> str:
    return f"telegram:{chat_id}"


def replied_text(message: Message) -> str | None:
    """The part the user quoted when they quoted one, else the replied-to message's text."""
    if message.quote and message.quote.text:
        return message.quote.text
    original = message.reply_to_message
    if original is None:
        return None
    return original.text or original.caption or None


def to_request(message: Message, bot_username: str | None) -> Request | None:
    """A command for this bot, or None (no command, another bot's, no sender)."""
    text = message.text or message.caption
    user = message.from_user
    if not text or user is None:
        return None
    parsed = parse_command(text, actor_of(user), bot_username=bot_username)
    if parsed is None:
        return None
    return Request(
        actor=parsed.actor,
        command=ALIASES.get(parsed.command, parsed.command),
        args=parsed.args,
        replied_text=replied_text(message),
        chat_id=chat_key(message.chat.id),
    )


def only_notices(reply: Reply) -> bool:
    return not any(isinstance(block, Card | Listing) for block in reply.blocks)


@dataclass
class Handlers:
    core: Core
    sender: Sender
    tokens: CallbackTokens
    bot_username: str | None = None

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.chat.type not in CHAT_TYPES:
            return
        request = to_request(message, self.bot_username)
        if request is None:
            return
        upload = await self._upload(message)
        if isinstance(upload, Reply):
            await self._answer(message, upload)
            return
        if upload is not None:
            request = replace(request, upload=upload)
        reply = await self.core.handle(request)
        if reply is not None:
            await self._answer(message, reply)

    async def _upload(self, message: Message) -> Upload | Reply | None:
        """The attached document for the core (``/import``), or a refusal when it is too big."""
        document = message.document
        if document is None:
            return None
        size = document.file_size or 0
        if size > MAX_UPLOAD_BYTES:
            return Reply.error(f"That file is {size / 1048576:.1f} MB; the most the bot takes "
                               f"is {MAX_UPLOAD_BYTES // 1048576} MB.")
        file = await self.sender.call(lambda: self.sender.bot.get_file(document.file_id))
        data = await self.sender.call(file.download_as_bytearray)
        return Upload(filename=document.file_name or "upload", data=bytes(data))

    async def _answer(self, message: Message, reply: Reply) -> None:
        thread = message.message_thread_id if message.is_topic_message else None
        await self.sender.send(message.chat.id, reply, reply_to=message.message_id,
                               thread_id=thread)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        target = self.tokens.resolve(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if target is None or (target.edit and message is None):
            await self._notify(query, EXPIRED)
            return
        parsed = parse_command(target.command, actor_of(query.from_user))
        if parsed is None:
            await self._notify(query, EXPIRED)
            return
        chat_id = message.chat.id if message else None
        request = Request(actor=parsed.actor, command=parsed.command, args=parsed.args,
                          chat_id=chat_key(chat_id) if chat_id is not None else None)
        reply = await self.core.handle(request)
        if reply is None:
            await self._notify(query, None)
            return
        if only_notices(reply) and (target.edit or message is None):
            # A refusal or "slow down" must not wipe the page the reader is on.
            text = " ".join(b.text for b in reply.blocks if isinstance(b, Notice))
            await self._notify(query, text[:190] or None)
            return
        await self._notify(query, None)
        assert message is not None
        thread = message.message_thread_id if message.is_topic_message else None
        if target.edit and target.group is not None and target.group.chat_id == message.chat.id:
            await self.sender.replace(target.group, reply, thread)
        else:
            await self.sender.send(message.chat.id, reply, thread_id=thread)

    async def _notify(self, query: CallbackQuery, text: str | None) -> None:
        """Answer a button press (the client shows a spinner until then); a failure is harmless."""
        try:
            await self.sender.call(lambda: query.answer(text))
        except TelegramError as exc:
            log.info("could not answer a callback query: %s", exc)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure with its traceback; tell the chat only that something went wrong."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed", update_id, exc_info=context.error)
        if not isinstance(update, Update):
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(APOLOGY[:190])
            elif update.inline_query is not None:
                await update.inline_query.answer([], cache_time=0)
            elif update.message is not None and update.message.chat.type in CHAT_TYPES:
                await self.sender.send(update.message.chat.id, Reply.error(APOLOGY),
                                       reply_to=update.message.message_id)
        except TelegramError as exc:
            log.warning("could not apologise for update %s: %s", update_id, exc)
