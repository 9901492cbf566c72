"""Turns a run's report dictionary into the Markdown table of docs/performance.md.

The targets live here, next to the table that judges them, so a change of
target is one reviewed line.
"""

from __future__ import annotations

from typing import Any

#: (label, how to read the figure from a report, comparison, target value)
TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("import statements/s", "import.statements_per_s", ">=", 20_000),
    ("/quote p50 ms", "core.quote_all.p50", "<=", 3.0),
    ("/quote p99 ms", "core.quote_all.p99", "<=", 40.0),
    ("/quote p50 ratio to bare FTS5", "ratios.core_over_fts5.quote_all", "<=", 2.0),
    ("/quote per s, 100 concurrent", "core.concurrent.per_s", ">=", 500),
    ("peak RSS serving MB", "core.peak_rss_mb", "<=", 200),
    ("first answer, fresh DB ms", "startup.fresh_first_answer_ms", "<=", 1000),
    ("first answer, warm DB ms", "startup.warm_first_answer_ms", "<=", 1000),
    ("peak RSS, `verbatim ask` on the archive MB", "startup.archive_peak_rss_mb", "<=", 200),
)

#: Every section a complete report has (the smoke test checks them).
SECTIONS = ("machine", "generate", "import", "import_floor", "index", "core", "fts5",
            "tantivy", "startup", "ratios")


def get(report: dict[str, Any], path: str) -> Any:
    value: Any = report
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def verdicts(report: dict[str, Any]) -> list[tuple[str, Any, str, float, str]]:
    out = []
    for label, path, op, target in TARGETS:
        value = get(report, path)
        if not isinstance(value, int | float):
            out.append((label, value, op, target, "not measured"))
            continue
        met = value >= target if op == ">=" else value <= target
        out.append((label, value, op, target, "met" if met else "MISSED"))
    return out


def _shard_times(imp: dict[str, Any]) -> str:
    """Each statement shard's seconds, in order, when the run recorded them: how an
    import slows as the store grows (older reports have none)."""
    times = imp.get("shard_seconds")
    if not times or len(times) < 2:
        return ""
    return " Seconds a shard, in order: " + ", ".join(f"{t:g}" for t in times) + "."


def last_shard_per_s(report: dict[str, Any]) -> int | None:
    """The importer's statements a second on the last shard: the rows and the store
    size the import floor measures too."""
    times = get(report, "import.shard_seconds")
    rows = get(report, "import_floor.shard_statements")
    if not times or not rows:
        return None
    return round(rows / times[-1])


def _import_floor(report: dict[str, Any]) -> str:
    floor = report.get("import_floor")
    if not floor:
        return ""
    one, two = floor["one_thread"], floor["two_threads"]
    return (f" Import floor (`benchmarks/import_floor.py`: the last shard, "
            f"{floor['shard_statements']} statements, into bare SQLite already holding "
            f"{floor['store_statements']}, nothing checked): {one['statements_per_s']} "
            f"statements/s in one thread ({one['seconds']} s, CPU {one['cpu_seconds']} s), "
            f"{two['statements_per_s']} with the full-text index on a second thread "
            f"({two['seconds']} s, CPU {two['cpu_seconds']} s); the importer took that shard "
            f"at {last_shard_per_s(report)} statements/s.")


def markdown(report: dict[str, Any]) -> str:
    """One scale's figures as Markdown."""
    m = report["machine"]
    lines = [
        f"### {report['scale']} statements",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}. Renderer: `{report['core']['renderer']}`. Searches served by:"
        f" {report['core'].get('search_index', 'SQLite FTS5')}.",
        "",
        "| target | measured | target | verdict |",
        "| --- | ---: | ---: | --- |",
    ]
    for label, value, op, target, verdict in verdicts(report):
        lines.append(f"| {label} | {value} | {op} {target:g} | {verdict} |")
    g, imp = report["generate"], report["import"]
    lines += [
        "",
        f"Archive: {g['statements']} statements, {g['speakers']} speakers, {g['sources']} "
        f"sources, {g['events']} events, {g['links']} links; {g['mb']} MB of JSONL, generated "
        f"in {g['seconds']} s.",
        f"Import: {imp['seconds']} s in all ({imp['shards']} statement shards), "
        f"{imp['statements_per_s']} statements/s, database {imp['db_mb']} MB, importer peak "
        f"RSS {imp['peak_rss_mb']} MB." + _shard_times(imp) + _import_floor(report),
        "",
        "| query | command | core p50 / p95 / p99 ms | FTS5 p50 / p99 ms | core ÷ FTS5 | "
        "bare tantivy p50 / p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    tan = report.get("tantivy") or {}
    ratio = get(report, "ratios.core_over_fts5") or {}
    for name, stats in report["core"]["queries"].items():
        f = report["fts5"]["queries"].get(name, {})
        t = (tan.get("queries") or {}).get(name)
        tcell = f"{t['p50']} / {t['p99']}" if t else "n/a"
        lines.append(
            f"| {name} | `{report['queries'][name]}` | {stats['p50']} / {stats['p95']} / "
            f"{stats['p99']} | {f.get('p50')} / {f.get('p99')} | {ratio.get(name)} | {tcell} |"
        )
    q = report["core"]["quote_all"]
    fq = report["fts5"]["quote_all"]
    tq = tan.get("quote_all") or {}
    lines.append(f"| all /quote | | {q['p50']} / {q['p95']} / {q['p99']} | {fq['p50']} / "
                 f"{fq['p99']} | {ratio.get('quote_all')} | "
                 f"{tq.get('p50', 'n/a')} / {tq.get('p99', 'n/a')} |")
    c = report["core"]["concurrent"]
    lines += ["", f"Concurrency: {c['concurrency']} concurrent /quote for {c['seconds']} s: "
                  f"{c['requests']} answers, {c['per_s']} per s, {c['errors']} errors. "
                  f"Serving peak RSS {report['core']['peak_rss_mb']} MB."]
    ix = report.get("index") or {}
    if ix.get("used"):
        lines.append(f"Derived search index (`verbatim index`): {ix['documents']} statements in "
                     f"{ix['seconds']} s, {ix['index_mb']} MB, build peak RSS "
                     f"{ix['peak_rss_mb']} MB.")
    elif ix:
        lines.append(f"Derived search index: not used ({ix.get('reason')}).")
    if tan.get("available"):
        lines.append(f"Bare tantivy {tan['version']} (the benchmark's own index, 2 writer "
                     f"threads): {tan['documents']} statements built in {tan['build_s']} s, "
                     f"{tan['index_mb']} MB.")
    else:
        lines.append(f"Bare tantivy: not measured ({tan.get('reason', 'unknown')}).")
    s = report.get("startup")
    if s:
        lines.append(
            f"Start-up, `verbatim ask \"{s['query']}\"` (median of {s['runs']}): first answer "
            f"{s['fresh_first_answer_ms']} ms on a fresh database, "
            f"{s['warm_first_answer_ms']} ms on a warm one (bare `python -c pass`: "
            f"{s['bare_python_ms']} ms)."
        )
        if "archive_first_answer_ms" in s:
            lines.append(
                f"On the archive's own database (bundled knowledge off): first answer "
                f"{s['archive_first_answer_ms']} ms, peak RSS {s['archive_peak_rss_mb']} MB."
            )
    return "\n".join(lines) + "\n"


def summary(reports: list[dict[str, Any]]) -> str:
    """One table, a column per scale: the figures the targets are about, side by side."""
    reports = sorted(reports, key=lambda r: r["statements"])
    rows: list[tuple[str, str]] = [
        ("statements imported per s", "import.statements_per_s"),
        ("database size, MB", "import.db_mb"),
        ("importer peak RSS, MB", "import.peak_rss_mb"),
        ("import floor, bare SQLite, one thread, statements/s",
         "import_floor.one_thread.statements_per_s"),
        ("import floor, two threads, statements/s", "import_floor.two_threads.statements_per_s"),
        ("/quote p50 ms (all /quote queries)", "core.quote_all.p50"),
        ("/quote p95 ms", "core.quote_all.p95"),
        ("/quote p99 ms", "core.quote_all.p99"),
        ("bare FTS5 p50 ms (same searches)", "fts5.quote_all.p50"),
        ("bare FTS5 p99 ms", "fts5.quote_all.p99"),
        ("core p50 ÷ bare FTS5 p50", "ratios.core_over_fts5.quote_all"),
        ("bare tantivy p50 ms (same searches)", "tantivy.quote_all.p50"),
        ("bare tantivy p99 ms", "tantivy.quote_all.p99"),
        ("searches served by", "core.search_index"),
        ("derived index build s", "index.seconds"),
        ("derived index MB", "index.index_mb"),
        ("derived index build peak RSS, MB", "index.peak_rss_mb"),
        ("/timeline p50 ms", "core.queries.timeline_speaker.p50"),
        ("/show p50 ms", "core.queries.show.p50"),
        ("/quote per s, 100 concurrent", "core.concurrent.per_s"),
        ("serving peak RSS, MB", "core.peak_rss_mb"),
        ("first answer, fresh DB, ms", "startup.fresh_first_answer_ms"),
        ("first answer, warm DB, ms", "startup.warm_first_answer_ms"),
        ("first answer on the archive, ms", "startup.archive_first_answer_ms"),
        ("`verbatim ask` on the archive, peak RSS, MB", "startup.archive_peak_rss_mb"),
    ]
    head = "| figure | " + " | ".join(r["scale"] for r in reports) + " |"
    lines = [head, "| --- |" + " ---: |" * len(reports)]
    for label, path in rows:
        cells = [get(r, path) for r in reports]
        lines.append(f"| {label} | " + " | ".join("n/a" if c is None else str(c)
                                                 for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m benchmarks.report benchmarks/out/*/report.json
    import json
    import sys
    from pathlib import Path

    loaded = [json.loads(Path(p).read_text(encoding="utf-8")) for p in sys.argv[1:]]
    print(summary(loaded))
    for one in sorted(loaded, key=lambda r: r["statements"]):
        print(markdown(one))

