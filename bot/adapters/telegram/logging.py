"""Keeps the bot token out of every log line.

The token is part of every Bot API URL, and httpx logs each request URL at
INFO and DEBUG; an exception text may carry the URL too. The filter below
rewrites a record's message, arguments and traceback text before any
handler formats it, and ``httpx`` is held at WARNING so the URLs are not
logged in the first place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

REDACTED = "[redacted]"
NOISY_LOGGERS = ("httpx", "httpcore")


class RedactSecrets(logging.Filter):
    """Replaces each secret (and its path form ``bot<token>``) with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(*secrets: str) -> Callable[[], None]:
    """Filter every root handler, quiet httpx; returns the undo, for a clean shutdown and tests.

    Filters sit on handlers, not loggers, because a logger's filter does not
    see records that propagate from its children (``telegram.ext._updater``).
    """
    redactor = RedactSecrets(secrets)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(redactor)
    levels = {}
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)

    def undo() -> None:
        for handler in handlers:
            handler.removeFilter(redactor)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    return undo
