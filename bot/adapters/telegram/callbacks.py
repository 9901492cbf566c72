"""Short tokens for button callback data.

Telegram gives a button at most 64 bytes of callback data, and a command
such as ``/quote "Сергей Лавров" since:2016-12 page:2`` can be longer. So a
button carries a random token, and the command waits here in a bounded,
in-memory map. A token from before a restart, evicted, or made up by a
client simply resolves to nothing, and the reader is asked to resend.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

PREFIX = "v1:"
CAPACITY = 10_000
TTL_SECONDS = 48 * 3600.0
"""Telegram lets a bot edit its messages for 48 hours; older buttons cannot page in place."""


@dataclass
class MessageGroup:
    """The messages one reply was sent as, so a page button can replace them all."""

    chat_id: int
    message_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ButtonTarget:
    command: str
    edit: bool
    """Page buttons replace the page in place; other actions answer with a new message."""
    group: MessageGroup | None = None


class CallbackTokens:
    """A bounded LRU of token -> target; the oldest entries go first when it is full."""

    def __init__(
        self,
        capacity: int = CAPACITY,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self.clock = clock
        self._targets: OrderedDict[str, tuple[float, ButtonTarget]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._targets)

    def issue(self, target: ButtonTarget) -> str:
        """Callback data for a button: ``v1:`` and 16 url-safe characters, 19 bytes in all."""
        token = secrets.token_urlsafe(12)
        self._targets[token] = (self.clock(), target)
        while len(self._targets) > self.capacity:
            self._targets.popitem(last=False)
        return PREFIX + token

    def resolve(self, data: str | None) -> ButtonTarget | None:
        """The target of a button, or None for anything stale, evicted, foreign or forged."""
        if not data or not data.startswith(PREFIX):
            return None
        entry = self._targets.get(data[len(PREFIX):])
        if entry is None:
            return None
        issued, target = entry
        if self.clock() - issued > self.ttl:
            del self._targets[data[len(PREFIX):]]
            return None
        self._targets.move_to_end(data[len(PREFIX):])
        return target
