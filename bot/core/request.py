"""What an adapter hands the core: who asked, and what they typed."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_INPUT_CHARS = 4000
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+|$)(.*)$", re.S)


@dataclass(frozen=True)
class Actor:
    """A person on a platform; ``key`` (``telegram:123``) is what roles and revisions record."""

    platform: str
    user_id: str
    display_name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Upload:
    """A file the user attached (``/import``); the adapter has checked its size."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Request:
    actor: Actor
    command: str
    args: str = ""
    replied_text: str | None = None
    """Text of the message this command answers, when the platform has replies."""
    chat_id: str | None = None
    """Platform-qualified chat (``telegram:-100123``), for per-chat rate limits."""
    upload: Upload | None = None
    inline: bool = False
    """An inline query (typed in any chat, sent at each keystroke), not a message."""


def parse_command(text: str, actor: Actor, *, bot_username: str | None = None) -> Request | None:
    """``/quote@VerbatimBot lavrov aleppo`` -> Request; None for text that is not for us.

    A command addressed to another bot (``/quote@OtherBot``) is not ours.
    """
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    name, addressee, args = match.groups()
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    return Request(actor=actor, command=name.lower(), args=args.strip())
