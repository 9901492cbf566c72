"""Per-user and per-chat limits on incoming commands, kept in the core for every platform.

A flooding user gets one friendly notice and then silence until the window
frees up, so the bot never amplifies a flood with its own messages.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"
    """Refused, and this is the first refusal in the window: say so once."""
    SILENT = "silent"
    """Refused again: say nothing."""


@dataclass
class _Window:
    hits: deque[float] = field(default_factory=deque)
    notified: bool = False


class RateLimiter:
    """Sliding windows: at most ``per_user`` commands a user and ``per_chat`` a chat."""

    def __init__(
        self,
        *,
        per_user: int = 20,
        per_chat: int = 60,
        per_user_inline: int = 120,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user = per_user
        self.per_chat = per_chat
        self.per_user_inline = per_user_inline
        self.window = window
        self.clock = clock
        self._windows: dict[str, _Window] = {}

    def check(self, user_key: str, chat_key: str | None = None, *, inline: bool = False
              ) -> Verdict:
        """``inline`` queries arrive at every keystroke, so they have their own, larger budget."""
        now = self.clock()
        keys = [(f"inline:{user_key}", self.per_user_inline) if inline
                else (f"user:{user_key}", self.per_user)]
        if chat_key:
            keys.append((f"chat:{chat_key}", self.per_chat))
        windows = [(self._fresh(key, now), limit) for key, limit in keys]
        full = [w for w, limit in windows if len(w.hits) >= limit]
        if full:
            if any(not w.notified for w in full):
                for w in full:
                    w.notified = True
                return Verdict.NOTIFY
            return Verdict.SILENT
        for w, _ in windows:
            w.hits.append(now)
            w.notified = False
        if len(self._windows) > 50_000:
            self._prune(now)
        return Verdict.ALLOW

    def _fresh(self, key: str, now: float) -> _Window:
        window = self._windows.setdefault(key, _Window())
        while window.hits and window.hits[0] <= now - self.window:
            window.hits.popleft()
        return window

    def _prune(self, now: float) -> None:
        for key in [k for k, w in self._windows.items()
                    if not w.hits or w.hits[-1] <= now - self.window]:
            del self._windows[key]
