"""The import report a curator reads: counts first, then every rejected row with its line."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

from bot.model.entries import Kind
from bot.transfer.importer import ImportReport

MAX_LISTED = 50
_ORDER = (Kind.STATEMENT, Kind.EVENT, Kind.SPEAKER, Kind.SOURCE)


def _breakdown(report: ImportReport) -> str:
    """``(2757 statements, 84 sources, 25 speakers)`` when the added are of several kinds."""
    counts = Counter(report.kinds[i] for i, _ in report.added if i in report.kinds)
    if len(counts) < 2:
        return ""
    parts = (f"{counts[k]} {k.value if counts[k] == 1 else k.plural}" for k in _ORDER if counts[k])
    return " (" + ", ".join(parts) + ")"


def report_text(report: ImportReport) -> str:
    would = report.dry_run or report.blocked
    added, changed = len(report.added), len(report.changed)
    lines = [
        (f"{added} would be added" if would else f"{added} added") + _breakdown(report)
        + (f", {changed} would change" if would else f", {changed} changed")
        + f", {report.unchanged} unchanged, {len(report.rejected)} rejected"
    ]
    for error in report.rejected[:MAX_LISTED]:
        lines.append(f"  rejected: {error}")
    if len(report.rejected) > MAX_LISTED:
        lines.append(f"  ... and {len(report.rejected) - MAX_LISTED} more")
    if report.blocked:
        lines.append("Nothing was written. Fix the rows above, or import the valid "
                     "ones with --skip-invalid.")
    elif report.dry_run:
        lines.append("Dry run: nothing was written.")
    elif report.rejected:
        lines.append("The rejected rows were left out; the rest was written in one transaction."
                     if report.written else "The rejected rows were left out; nothing else "
                     "needed writing.")
    return "\n".join(lines)


def print_report(report: ImportReport, out: TextIO | None = None) -> None:
    stream = out or (sys.stderr if report.rejected else sys.stdout)
    stream.write(report_text(report) + "\n")
