"""The console adapter: the whole bot in a terminal, no token and no network.

Input is read in a worker thread so the event loop stays free; plain text
without a slash is taken as a /quote, the way most people try a bot first.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable

from bot.core.app import Core
from bot.core.request import Actor, Request, parse_command
from bot.render.text import render

CONSOLE_ACTOR = Actor("console", "local", "console user")
PROMPT = "verbatim> "
GREETING = (
    "Verbatim console. Try /quote lavrov aleppo, /who lavrov or /help. "
    "Plain words search quotes. Ctrl-D or /quit leaves.\n"
)


def to_request(line: str, actor: Actor = CONSOLE_ACTOR) -> Request | None:
    text = line.strip()
    if not text:
        return None
    if not text.startswith("/"):
        return Request(actor=actor, command="quote", args=text)
    return parse_command(text, actor) or Request(actor=actor, command=text[1:33], args="")


async def ask(core: Core, line: str, actor: Actor = CONSOLE_ACTOR) -> tuple[str, bool]:
    """One command to rendered text, and whether the answer is an error."""
    request = to_request(line, actor)
    if request is None:
        return "Type a command, e.g. /quote lavrov aleppo, or /help.\n", True
    reply = await core.handle(request)
    if reply is None:  # rate limited, already told
        return "", False
    return render(reply), reply.is_error


def _read_lines(
    loop: asyncio.AbstractEventLoop,
    lines: asyncio.Queue[str | None],
    ready: threading.Event,
    read: Callable[[str], str],
) -> None:
    """Blocking reads in a daemon thread: Ctrl-C then never waits for a pending input()."""
    while True:
        ready.wait()
        ready.clear()
        try:
            line: str | None = read(PROMPT)
        except (EOFError, OSError, ValueError):
            line = None
        loop.call_soon_threadsafe(lines.put_nowait, line)
        if line is None:
            return


async def _next_line(lines: asyncio.Queue[str | None], stop: asyncio.Event) -> str | None:
    getter = asyncio.ensure_future(lines.get())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (getter, stopper):
        if not task.done():
            task.cancel()
    return getter.result() if getter.done() and not getter.cancelled() else None


async def run_console(
    core: Core,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], object] = sys.stdout.write,
    stop: asyncio.Event | None = None,
) -> None:
    """Until end of input, /quit, or ``stop`` (set by the Ctrl-C handler)."""
    stop = stop or asyncio.Event()
    write(GREETING)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    ready = threading.Event()
    reader = threading.Thread(
        target=_read_lines, args=(asyncio.get_running_loop(), lines, ready, read),
        name="console-input", daemon=True,
    )
    reader.start()
    while True:
        ready.set()
        line = await _next_line(lines, stop)
        if stop.is_set():
            write("\n")
            return
        if line is None:
            write("\n")
            return
        if line.strip() in ("/quit", "/exit", "quit", "exit"):
            return
        if not line.strip():
            continue
        text, _ = await ask(core, line)
        write(text + "\n")
