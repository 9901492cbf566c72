"""Runs every measurement at one scale and gathers one report.

Order: generate (in this process), import, the import floor (bare
SQLite, ``benchmarks.import_floor``), the core's latency and
concurrency, the bare FTS5 floor, tantivy, a profile, then the start-up
time of ``verbatim ask`` on the bundled knowledge. Every phase but the
generator runs in its own process (see ``benchmarks.phases``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parent.parent
STARTUP_QUERY = "/quote lavrov aleppo"


@dataclass(frozen=True)
class Options:
    """How much work each phase does; the defaults are the documented run."""

    scale: int
    label: str
    out: Path
    seed: int = 20161208
    repeat: int = 200
    seconds: float = 10.0
    concurrency: int = 100
    tantivy: bool = True
    profile: bool = True
    startup: bool = True
    startup_runs: int = 3
    search_index: str = "auto"
    """The bot's VERBATIM_SEARCH_INDEX for the serving phases: auto, on or off."""
    reuse: bool = False
    """Keep the archive and database of an earlier run at this scale (and its
    generate and import figures); measure only the queries again."""


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": ram_gb,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform()}


def _phase(name: str, **args: Any) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.phases", name, json.dumps(args, default=str)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"phase {name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _verbatim() -> list[str]:
    script = Path(sys.executable).parent / "verbatim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _ask_env(db: Path, bundled: bool) -> dict[str, str]:
    env = {**os.environ, "VERBATIM_DATABASE_URL": f"sqlite:///{db}",
           "VERBATIM_LOAD_BUNDLED": "true" if bundled else "false"}
    env.pop("VERBATIM_KNOWLEDGE_DIR", None)
    return env


def _time_ask(db: Path, *, bundled: bool = True) -> tuple[float, float, str]:
    """Seconds from spawning ``verbatim ask`` to its first stdout byte, and to its exit;
    its answer."""
    t0 = time.perf_counter()
    with subprocess.Popen([*_verbatim(), "ask", STARTUP_QUERY], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=_ask_env(db, bundled),
                          cwd=tempfile.gettempdir()) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.read(1)
        t_first = time.perf_counter() - t0
        rest = proc.stdout.read()
        err = proc.stderr.read()
        code = proc.wait()
    t_exit = time.perf_counter() - t0
    if code != 0 or not first:
        raise RuntimeError(f"verbatim ask failed ({code}): {err.decode()[-2000:]}")
    return t_first, t_exit, (first + rest).decode("utf-8", "replace")


# Forks and execs the command, waits, and prints the child's peak RSS in KiB. Linux
# carries a process's ru_maxrss over its exec from the mm it had before: a child spawned
# straight from this process (vfork) reports at least this process's own peak (the
# generator's, run in this process: 379 MB at 1M, against 85 MB for the ask alone by
# /usr/bin/time). Forked
# from this small helper instead, it reports its own.
_PEAK_RSS_HELPER = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execve(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_of(command: list[str], env: dict[str, str] | None = None,
                cwd: str | None = None) -> tuple[int, float, bytes]:
    """Runs ``command`` (its program an absolute path) to its end: its exit code, its own
    peak RSS in MiB, and its stdout."""
    done = subprocess.run([sys.executable, "-S", "-c", _PEAK_RSS_HELPER, *command],
                          capture_output=True, env=env, cwd=cwd, check=False)
    *out, code, kib = done.stdout.rsplit(maxsplit=2)
    return int(code), int(kib) / 1024, b"".join(out)


def _peak_rss_of_ask(db: Path, *, bundled: bool = True) -> float:
    """The peak RSS, in MiB, of one ``verbatim ask`` run alone."""
    code, mib, _ = peak_rss_of([*_verbatim(), "ask", STARTUP_QUERY], _ask_env(db, bundled),
                               tempfile.gettempdir())
    if code != 0:
        raise RuntimeError(f"verbatim ask failed ({code})")
    return mib


def startup(work: Path, runs: int, archive_db: Path | None = None) -> dict[str, Any]:
    """``verbatim ask`` on the bundled knowledge: a fresh database, then a warm one; then
    on the archive's own database (``archive_db``), as a bot or a one-off command starts
    on a store of that size (its bundled knowledge off, so the store stays as imported)."""
    db = work / "startup.sqlite3"
    fresh_first, fresh_exit = [], []
    for _ in range(runs):
        for old in work.glob("startup.sqlite3*"):
            old.unlink()
        first, exit_, _ = _time_ask(db)
        fresh_first.append(first)
        fresh_exit.append(exit_)
    warm_first, warm_exit = [], []
    answer = ""
    for _ in range(runs):
        first, exit_, answer = _time_ask(db)
        warm_first.append(first)
        warm_exit.append(exit_)
    archive_first, archive_rss = [], []
    for _ in range(runs if archive_db is not None else 0):
        assert archive_db is not None
        archive_first.append(_time_ask(archive_db, bundled=False)[0])
        archive_rss.append(_peak_rss_of_ask(archive_db, bundled=False))

    def ms(values: list[float]) -> float:
        return round(sorted(values)[len(values) // 2] * 1000, 1)

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - t0
    return {
        "query": STARTUP_QUERY,
        "runs": runs,
        "fresh_first_answer_ms": ms(fresh_first),
        "fresh_exit_ms": ms(fresh_exit),
        "warm_first_answer_ms": ms(warm_first),
        "warm_exit_ms": ms(warm_exit),
        **({"archive_first_answer_ms": ms(archive_first),
            "archive_peak_rss_mb": round(max(archive_rss), 1)} if archive_first else {}),
        "bare_python_ms": round(bare * 1000, 1),
        "answer_head": answer.splitlines()[0][:120] if answer else "",
    }


def run(options: Options, log: Any = print) -> dict[str, Any]:
    """Every measurement at one scale; returns the report dictionary (also written as JSON)."""
    work = options.out / options.label
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"scale": options.label, "statements": options.scale,
                              "machine": machine(), "options": {
                                  "seed": options.seed, "repeat": options.repeat,
                                  "seconds": options.seconds,
                                  "concurrency": options.concurrency}}
    manifest_path = work / "manifest.json"
    db = work / "bench.sqlite3"
    common = {"manifest": str(manifest_path), "db": str(db)}
    earlier = work / "report.json"
    old: dict[str, Any] = {}
    if options.reuse and earlier.exists() and db.exists() and manifest_path.exists():
        old = json.loads(earlier.read_text(encoding="utf-8"))
        log(f"[{options.label}] reusing the archive and database of the earlier run")
        report["generate"], report["import"] = old["generate"], old["import"]
        if "import_floor" in old:
            report["import_floor"] = old["import_floor"]
        report["import"]["reused"] = True
        report["queries"] = json.loads(manifest_path.read_text(encoding="utf-8"))["queries"]
    else:
        log(f"[{options.label}] generating {options.scale} statements ...")
        t0 = time.perf_counter()
        manifest = generate(options.scale, work / "archive", seed=options.seed)
        report["generate"] = {"seconds": round(time.perf_counter() - t0, 2),
                              "mb": round(manifest.bytes / 1024 / 1024, 1),
                              **{k: getattr(manifest, k) for k in
                                 ("statements", "speakers", "sources", "events", "links")}}
        manifest_path.write_text(json.dumps(manifest.to_json(), indent=2), encoding="utf-8")
        report["queries"] = manifest.queries
        log(f"[{options.label}] importing through bot.transfer.importer ...")
        report["import"] = _phase("import", **common)
        (work / "import.json").write_text(json.dumps(report["import"]), encoding="utf-8")
        log(f"[{options.label}]   {report['import']['statements_per_s']} statements/s")
    if "import_floor" not in report:  # with --reuse, once for an earlier run without it
        log(f"[{options.label}] the import floor: the last shard into bare SQLite ...")
        report["import_floor"] = _phase("import_floor", **common, work=str(work / "floor"))
    log(f"[{options.label}] search index ({options.search_index}) ...")
    report["index"] = _phase("index", **common, search_index=options.search_index)
    built_before = old.get("index", {})
    if (report["index"].get("used") and not report["index"].get("rebuilt")
            and built_before.get("rebuilt")):
        # --reuse found the index current: the build's figures are the earlier run's.
        report["index"] = {**built_before, "reused": True}
    log(f"[{options.label}] core latency and {options.concurrency} concurrent /quote ...")
    report["core"] = _phase("serve", **common, repeat=options.repeat, seconds=options.seconds,
                            concurrency=options.concurrency, search_index=options.search_index)
    log(f"[{options.label}] bare FTS5 floor ...")
    report["fts5"] = _phase("floor", **common, repeat=options.repeat)
    if options.tantivy:
        log(f"[{options.label}] tantivy ...")
        report["tantivy"] = _phase("tantivy", **common, work=str(work), repeat=options.repeat)
        shutil.rmtree(work / "tantivy", ignore_errors=True)
    else:
        report["tantivy"] = {"available": False, "reason": "skipped (--no-tantivy)"}
    if options.profile:
        log(f"[{options.label}] profiling ...")
        report["profile"] = _phase("profile", **common, repeat=max(5, options.repeat // 10),
                                   out=str(work / "profile.txt"),
                                   search_index=options.search_index)
    if options.startup:
        log(f"[{options.label}] start-up of verbatim ask ...")
        report["startup"] = startup(work, options.startup_runs, db)
    report["ratios"] = ratios(report)
    (work / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    """The core's p50 over the floor's, per query and for all /quote together."""
    out: dict[str, Any] = {}
    core = report["core"]["queries"]
    for peer in ("fts5", "tantivy"):
        data = report.get(peer) or {}
        if not data.get("queries"):
            continue
        per = {
            name: round(core[name]["p50"] / max(data["queries"][name]["p50"], 1e-3), 2)
            for name in core if name in data["queries"]
        }
        per["quote_all"] = round(report["core"]["quote_all"]["p50"]
                                 / max(data["quote_all"]["p50"], 1e-3), 2)
        out[f"core_over_{peer}"] = per
    return out
