"""The command table: names, usage lines and the role each command needs.

One table serves dispatch, ``/help``, the role check and the command list
that chat platforms register (Telegram's setMyCommands, Discord's tree), so
they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.reply import Reply
    from bot.core.request import Request


class Role(IntEnum):
    READER = 0
    CURATOR = 1
    OWNER = 2


Handler = Callable[["Context", "Request"], Awaitable["Reply"]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler
    role: Role = Role.READER
    takes_reply: bool = False
    """Whether the text of a replied-to message can stand in for the arguments."""


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command /{command.name} registered twice")
        self._commands[command.name] = command

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())
