"""The Telegram adapter (python-telegram-bot): updates in, core requests, HTML replies out."""

from bot.adapters.telegram.app import (
    TelegramAdapter,
    TelegramOptions,
    TelegramStartError,
    options_from_settings,
    run_telegram,
)

__all__ = [
    "TelegramAdapter",
    "TelegramOptions",
    "TelegramStartError",
    "options_from_settings",
    "run_telegram",
]
