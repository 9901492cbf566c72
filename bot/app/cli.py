"""The ``verbatim`` command line.

Exit codes: 0 for an answer, 1 when the bot answered with an error (an
unknown id, a bad date) or a file was rejected, 2 for a command line that
cannot be run. Errors are one or a few lines on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import __version__
from bot.app.config import Settings
from bot.store.base import StoreError

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verbatim",
        description="Verbatim answers with what people actually said, dated and sourced.",
    )
    parser.add_argument("--version", action="version", version=f"verbatim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the console when no chat token is configured)")
    sub.add_parser("console", help="talk to the bot in this terminal")
    ask = sub.add_parser("ask", help='answer one command, e.g. verbatim ask "/quote lavrov aleppo"')
    ask.add_argument("text", help="a bot command such as '/quote lavrov aleppo'")
    check = sub.add_parser("check", help="validate knowledge files (default: the bundled ones)")
    check.add_argument("path", nargs="?", type=Path)
    imp = sub.add_parser("import", help="import YAML, JSON Lines, CSV or TSV files")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--format", choices=("yaml", "jsonl", "csv", "tsv"),
                     help="file format (default: from the file name)")
    imp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="CSV/TSV: which column holds a field, e.g. --map text=statement")
    imp.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="CSV/TSV: a fixed value for every row, e.g. --set language=en")
    imp.add_argument("--no-header", action="store_true",
                     help="CSV/TSV: the first row is data; columns are numbered 1, 2, ...")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid entries even when some are rejected")
    imp.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    index = sub.add_parser("index", help="build the search index now, or bring it up to date")
    index.add_argument("--rebuild", action="store_true",
                       help="read every statement again instead of replaying revisions")
    exp = sub.add_parser("export", help="write the store as knowledge YAML files")
    exp.add_argument("directory", nargs="?", type=Path, default=Path("knowledge-export"))
    return parser


def _config_problem(error: Any) -> str:
    """The setting's name as the operator wrote it, then what is wrong with its value."""
    message = str(error["msg"]).removeprefix("Value error, ")
    field = str(error["loc"][0]) if error.get("loc") else ""
    if not field:
        return message
    name = field if field.isupper() else f"VERBATIM_{field.upper()}"  # aliases come as written
    return message if message.startswith(name) else f"{name}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            print(f"verbatim: configuration: {_config_problem(error)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, StoreError) as exc:
        print(f"verbatim: {exc}", file=sys.stderr)
        return 1


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import commands

    match args.command:
        case "check":
            return await commands.check(args.path)
        case "ask":
            return await commands.ask(settings, args.text)
        case "console":
            return await commands.console(settings)
        case "run":
            return await commands.run(settings)
        case "import":
            return await commands.import_files(settings, args)
        case "export":
            return await commands.export(settings, args.directory)
        case "index":
            return await commands.build_index(settings, rebuild=args.rebuild)
    return 2
