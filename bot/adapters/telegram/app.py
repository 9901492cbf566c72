"""The Telegram Application: wiring, start and stop on an event loop someone else owns.

``run_polling()`` would own the loop and install its own signal handlers;
the bot runs several adapters on one loop, so this uses the lower-level
lifecycle instead: ``async with application`` (getMe, then shutdown),
``updater.start_polling()`` or ``start_webhook()``, ``application.start()``,
then wait for the caller's stop event and undo it all in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.adapters.telegram.callbacks import CallbackTokens
from bot.adapters.telegram.handlers import Handlers
from bot.adapters.telegram.inline import InlineHandler
from bot.adapters.telegram.logging import install_redaction
from bot.adapters.telegram.sending import Sender
from bot.adapters.telegram.updates import TolerantBot
from bot.core.app import Core
from bot.core.registry import Role

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org/bot"
ALLOWED_UPDATES = ("message", "callback_query", "inline_query")
"""Only what the bot answers: edits, channel posts and chosen results never reach it."""


class TelegramStartError(ValueError):
    """Telegram could not be started; the message is for the operator, without the token."""


@dataclass(frozen=True)
class TelegramOptions:
    token: str
    api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    poll_timeout: float = 30.0
    """Seconds one getUpdates long poll may wait; tests make it small."""
    retry_delay: float = 0.5
    max_retries: int = 3
    concurrent_updates: int = 8

    @property
    def base_urls(self) -> tuple[str, str]:
        """Bot API and file URLs; ``http://host:8081/bot`` gives ``http://host:8081/file/bot``."""
        base = (self.api_base_url or DEFAULT_API).rstrip("/")
        if not base.endswith("/bot") and "{token}" not in base:
            base += "/bot"
        root, _, tail = base.rpartition("/bot")
        return base, f"{root}/file/bot{tail}"

    @property
    def where(self) -> str:
        """The API's address for messages to the operator: scheme and host, never the token."""
        parts = urlsplit(self.base_urls[0])
        return f"{parts.scheme}://{parts.netloc}"


def options_from_settings(settings: object) -> TelegramOptions | None:
    """Options from ``bot.app.config.Settings``; None when no token is configured."""
    token = getattr(settings, "telegram_bot_token", None)
    if token is None:
        return None
    secret = getattr(settings, "telegram_webhook_secret", None)
    return TelegramOptions(
        token=token.get_secret_value(),
        api_base_url=getattr(settings, "telegram_api_base_url", None),
        webhook_url=getattr(settings, "telegram_webhook_url", None),
        webhook_listen=getattr(settings, "telegram_webhook_listen", "127.0.0.1"),
        webhook_port=getattr(settings, "telegram_webhook_port", 8443),
        webhook_secret=secret.get_secret_value() if secret is not None else None,
    )


def build_application(options: TelegramOptions) -> Application:  # type: ignore[type-arg]
    base_url, base_file_url = options.base_urls
    bot = TolerantBot(
        options.token,
        base_url=base_url,
        base_file_url=base_file_url,
        request=HTTPXRequest(connection_pool_size=32),
        get_updates_request=HTTPXRequest(connection_pool_size=2),
        defaults=Defaults(parse_mode=ParseMode.HTML,
                          link_preview_options=LinkPreviewOptions(is_disabled=True)),
        rate_limiter=AIORateLimiter(max_retries=options.max_retries),
    )
    return (
        ApplicationBuilder()
        .bot(bot)
        .job_queue(None)
        .concurrent_updates(options.concurrent_updates)
        .build()
    )


def bot_commands(core: Core) -> list[BotCommand]:
    """The reader commands of the core's registry, as Telegram's command menu shows them."""
    return [
        BotCommand(command.name, command.summary[:256])
        for command in core.registry
        if command.role is Role.READER
    ]


def _polling_failed(exc: TelegramError) -> None:
    """One line per failed poll (PTB retries with backoff); a traceback each time is noise."""
    log.warning("polling Telegram failed (%s: %s); retrying", type(exc).__name__, exc)


class TelegramAdapter:
    """One bot token: handlers on a PTB Application, started and stopped on the caller's loop."""

    def __init__(self, core: Core, options: TelegramOptions) -> None:
        self.core = core
        self.options = options
        self.tokens = CallbackTokens()
        self.ready = asyncio.Event()
        self._undo_redaction = install_redaction(
            options.token, *([options.webhook_secret] if options.webhook_secret else []))
        self.application = build_application(options)
        self.sender = Sender(self.application.bot, self.tokens, retry_delay=options.retry_delay)
        self.handlers = Handlers(core, self.sender, self.tokens)
        self.inline = InlineHandler(core, self.sender)
        chats = filters.ChatType.PRIVATE | filters.ChatType.GROUPS
        commands = filters.Regex(r"^\s*/") | filters.CaptionRegex(r"^\s*/")
        app = self.application
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & chats & commands,
                                       self.handlers.on_message))
        app.add_handler(CallbackQueryHandler(self.handlers.on_callback))
        app.add_handler(InlineQueryHandler(self.inline.on_inline))
        app.add_error_handler(self.handlers.on_error)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; then stop taking updates, finish, and close connections.

        Redaction is installed when the adapter is built (PTB logs the URL, token
        included, as soon as the Bot exists) and removed when this returns.
        """
        try:
            async with self.application:
                await self._started()
                try:
                    await stop.wait()
                finally:
                    await self._stopped()
        except InvalidToken as exc:
            raise TelegramStartError(
                f"Telegram at {self.options.where} refused the bot token (TELEGRAM_BOT_TOKEN)"
            ) from exc
        except TelegramError as exc:
            if self.ready.is_set():
                raise
            raise TelegramStartError(
                f"could not start the Telegram bot via {self.options.where}: {exc}"
            ) from exc
        finally:
            self._undo_redaction()

    async def _started(self) -> None:
        bot = self.application.bot
        self.handlers.bot_username = bot.username
        await self.sender.call(lambda: bot.set_my_commands(bot_commands(self.core)))
        updater = self.application.updater
        assert updater is not None
        if self.options.webhook_url:
            path = urlsplit(self.options.webhook_url).path.lstrip("/")
            await updater.start_webhook(
                listen=self.options.webhook_listen,
                port=self.options.webhook_port,
                url_path=path,
                webhook_url=self.options.webhook_url,
                secret_token=self.options.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            mode = f"webhook on {self.options.webhook_listen}:{self.options.webhook_port}/{path}"
        else:
            await updater.start_polling(
                timeout=int(self.options.poll_timeout),
                poll_interval=0.0,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
                error_callback=_polling_failed,
            )
            mode = "long polling"
        await self.application.start()
        log.info("Telegram bot @%s started (%s)", bot.username, mode)
        self.ready.set()

    async def _stopped(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        log.info("Telegram bot stopped")


async def run_telegram(core: Core, options: TelegramOptions, stop: asyncio.Event) -> None:
    await TelegramAdapter(core, options).run(stop)


