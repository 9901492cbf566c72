"""``python -m benchmarks --scale 100k``: one documented command for every figure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import parse_scale
from benchmarks.report import markdown
from benchmarks.run import ROOT, Options, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scale", default="10k", help="statements: 10k, 100k, 1M (or 2k, 2500)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--seed", type=int, default=20161208)
    parser.add_argument("--repeat", type=int, default=200, help="timed runs of each query")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of the concurrent /quote run")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--no-tantivy", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--search-index", choices=("auto", "on", "off"), default="auto",
                        help="the bot's VERBATIM_SEARCH_INDEX while serving (auto: the "
                             "derived index from 100,000 statements)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the archive and database of the last run at this scale")
    args = parser.parse_args(argv)
    try:
        scale = parse_scale(args.scale)
    except ValueError as exc:
        parser.error(str(exc))  # the usage and the message, exit status 2
    options = Options(
        scale=scale, label=args.scale, out=args.out, seed=args.seed,
        repeat=args.repeat, seconds=args.seconds, concurrency=args.concurrency,
        tantivy=not args.no_tantivy, profile=not args.no_profile, startup=not args.no_startup,
        reuse=args.reuse, search_index=args.search_index,
    )
    report = run(options, log=lambda text: print(text, file=sys.stderr, flush=True))
    text = markdown(report)
    (options.out / options.label / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
