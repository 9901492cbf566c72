"""What each ``verbatim`` subcommand does, on an opened bot."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.adapters.console import ask as console_ask
from bot.adapters.console import run_console
from bot.app.config import Settings
from bot.app.wiring import open_bot, read_knowledge
from bot.knowledge.bundled import bundled_knowledge_dir
from bot.knowledge.loader import check_references


def _err(text: str) -> None:
    print(text, file=sys.stderr)


async def check(path: Path | None) -> int:
    target = path or bundled_knowledge_dir()
    bundle = await asyncio.to_thread(read_knowledge, [target])
    known = {item.entry.id: item.entry.kind for item in bundle.entries}
    errors = [*bundle.errors, *check_references(bundle.entries, known)]
    for error in errors:
        _err(str(error))
    files = len(bundle.files)
    if errors:
        _err(f"{len(errors)} problem(s) in {files} file(s)")
        return 1
    print(f"OK: {len(bundle.entries)} entries in {files} file(s)")
    return 0


async def ask(settings: Settings, text: str) -> int:
    async with open_bot(settings, keep_index=False) as bot:
        output, is_error = await console_ask(bot.core, text)
    (sys.stderr if is_error else sys.stdout).write(output)
    return 1 if is_error else 0


@contextmanager
def _stop_on_signals() -> Iterator[asyncio.Event]:
    """An event that SIGINT (Ctrl-C) or SIGTERM sets, so every part can stop in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def console(settings: Settings) -> int:
    """The console until end of input; Ctrl-C or SIGTERM stop it cleanly (exit 130)."""
    with _stop_on_signals() as stop:
        async with open_bot(settings) as bot:
            await run_console(bot.core, stop=stop)
    return 130 if stop.is_set() else 0


async def run(settings: Settings) -> int:
    """Every chat adapter whose token is configured, on this loop, until SIGINT or SIGTERM.

    With no token configured this is the console, so a first try works offline.
    """
    from bot.adapters.telegram import TelegramAdapter, options_from_settings
    from bot.core.ratelimit import RateLimiter

    telegram = options_from_settings(settings)
    if telegram is None:
        return await console(settings)
    with _stop_on_signals() as stop:
        async with open_bot(settings, limiter=RateLimiter()) as bot:
            adapters = [TelegramAdapter(bot.core, telegram)]
            _err("verbatim: running the Telegram bot; Ctrl-C or SIGTERM stops it")
            await _serve([adapter.run(stop) for adapter in adapters], stop)
    _err("verbatim: stopped")
    return 0


async def _serve(runs: list[Coroutine[Any, Any, None]], stop: asyncio.Event) -> None:
    """Run adapters side by side; when one fails, stop the others cleanly, then raise."""
    tasks = [asyncio.create_task(r) for r in runs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def import_files(settings: Settings, args: argparse.Namespace) -> int:
    from bot.transfer.importer import ImportOptions, import_paths
    from bot.transfer.report import print_report

    options = ImportOptions(
        format=args.format,
        mapping=args.map,
        fixed=args.set,
        header=not args.no_header,
        skip_invalid=args.skip_invalid,
        dry_run=args.dry_run,
    )
    async with open_bot(settings, search_index=False) as bot:
        report = await import_paths(bot.store, args.files, options, actor="cli:import",
                                    progress=sys.stderr.isatty())
    print_report(report)
    return 0 if report.ok else 1


async def export(settings: Settings, directory: Path) -> int:
    from bot.transfer.exporter import export_store

    async with open_bot(settings, search_index=False) as bot:
        written = await export_store(bot.store, directory)
    print(f"Wrote {sum(written.values())} entries to {directory}: "
          + ", ".join(f"{n} {name}" for name, n in written.items()))
    return 0


async def build_index(settings: Settings, *, rebuild: bool) -> int:
    """Brings the derived search index up to date now, in the foreground.

    For an operator who wants the index ready before the bot starts, or after
    a large import, instead of its being built in the background.
    """
    from bot.app.wiring import open_search_index

    async with open_bot(settings, search_index=False) as bot:
        index = await open_search_index(settings, bot.store, keep=False, force=True)
        if index is None:
            _err("verbatim: the search index needs the tantivy package: pip install tantivy")
            return 1
        where = settings.index_path or "(in memory)"
        try:
            if rebuild:
                await index.forget()
            result = await index.catch_up()
            count = await index.count()
        except ValueError as exc:
            if "lock" not in str(exc).lower():
                raise
            _err(f"verbatim: the search index {where} is kept by a running bot, which keeps"
                 " it current; stop that bot to rebuild it here")
            return 1
        finally:
            await index.close()
    if not result.rebuilt and not result.applied:
        print(f"Search index {where}: already current, {count} statements")
    else:
        verb = "rebuilt" if result.rebuilt else "brought up to date"
        print(f"Search index {where}: {verb} in {result.seconds:.1f} s, {count} statements,"
              f" revision {result.rev}")
    if settings.search_index == "off":
        print("Note: VERBATIM_SEARCH_INDEX=off, so the bot will not use it.")
    return 0
