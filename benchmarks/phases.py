"""The measurements, each run in its own process: ``python -m benchmarks.phases NAME ARGS``.

Why separate processes: peak RSS (``ru_maxrss``) is a high-water mark of a
whole process, so the import (which holds a whole batch in memory) must not
inflate the serving figure, and tantivy's index build must not inflate
either. Each phase prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any

SEARCH_FIELDS = ("body_text", "translation", "topics", "context")
WEIGHTS = "10.0, 6.0, 4.0, 1.0"  # the store's bm25 weights, so the floor ranks the same way


def peak_rss_mb() -> float:
    """This process's own peak resident set, in MiB.

    ``VmHWM`` from /proc, not ``ru_maxrss``: Linux carries ru_maxrss over a
    fork and exec, so every phase would report at least the RSS its parent
    had when it started it (the generator's, 290 MB at 100k).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _record(out: dict[str, Any], quote_samples: list[float], name: str,
            run: Callable[[], Sized], repeat: int) -> None:
    """Times one search ``repeat`` times after 3 warm-up runs, into ``out["queries"][name]``."""
    for _ in range(3):
        run()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        found = run()
        samples.append((time.perf_counter() - t0) * 1000)
    stats: dict[str, Any] = percentiles(samples)
    stats["rows"] = len(found)
    out["queries"][name] = stats
    if name.startswith("quote_"):
        quote_samples += samples


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank, no interpolation: a p99 is a latency someone saw)."""
    ordered = sorted(samples_ms)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[index], 3)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "n": len(ordered),
            "mean": round(statistics.fmean(ordered), 3)}


def db_size_mb(db: Path) -> float:
    total = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())
    return round(total / 1024 / 1024, 2)


# -- import ------------------------------------------------------------------


async def run_import(manifest: dict[str, Any], db: Path) -> dict[str, Any]:
    """Loads the archive through the real importer, shard by shard, into a fresh file.

    Speakers, sources and events go in first, then each statement shard as
    one import (one transaction each): the way an operator loads a large
    dataset with ``verbatim import``, with memory bounded by the shard.
    """
    from bot.store.sqlite import SqliteStore
    from bot.transfer.importer import ImportOptions, import_paths

    for old in db.parent.glob(db.name + "*"):  # the file, its WAL, the search index
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    statement_files = set(manifest["statement_files"])
    first = [Path(p) for p in manifest["files"] if p not in statement_files]
    shards = [Path(p) for p in manifest["statement_files"]]
    options = ImportOptions()
    timings: list[float] = []
    added = 0
    started = time.perf_counter()
    async with SqliteStore(db) as store:
        for batch in [first, *[[s] for s in shards]]:
            t0 = time.perf_counter()
            report = await import_paths(store, batch, options, actor="benchmark")
            timings.append(time.perf_counter() - t0)
            if report.rejected:
                raise SystemExit(f"import rejected rows: {report.rejected[:3]}")
            added += len(report.added)
            # Not held through the next import (its 100,000 rows and their origins,
            # ~40 MB), as each `verbatim import` of an operator's would not be.
            del report
        # Each import's WAL is copied into the file in the background, during the next
        # one (bot/store/sqlite/checkpoint.py): the last one's counts as its own.
        t0 = time.perf_counter()
        await store.settle()
        timings[-1] += time.perf_counter() - t0
        total = time.perf_counter() - started
        await store.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    statements_time = sum(timings[1:]) or total
    return {
        "entries_added": added,
        "seconds": round(total, 2),
        "statement_seconds": round(statements_time, 2),
        "statements_per_s": round(manifest["statements"] / statements_time),
        "db_mb": db_size_mb(db),
        "shards": len(shards),
        "shard_seconds": [round(t, 2) for t in timings[1:]],
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


# -- the core, from command text to rendered reply ---------------------------


def pick_renderer() -> tuple[str, Callable[[Any], Any]]:
    """Telegram HTML when that renderer exists in this checkout, else plain text."""
    try:
        from bot.render import telegram_html  # type: ignore[attr-defined]
    except ImportError:
        telegram_html = None
    if telegram_html is not None:
        for name in ("render", "render_reply", "to_html", "reply_to_html", "render_html"):
            function = getattr(telegram_html, name, None)
            if callable(function):
                return f"bot.render.telegram_html.{name}", function
    from bot.render.text import render

    return "bot.render.text.render", render


def _settings(db: Path, search_index: str) -> Any:
    """The bot's own settings for this file, ignoring any .env where the benchmark runs."""
    from bot.app.config import Settings

    return Settings(_env_file=None, database_url=f"sqlite:///{db}",  # type: ignore[call-arg]
                    search_index=search_index)


async def _ranked(store: Any, db: Path, search_index: str) -> Any:
    """The derived search index as the bot would use it (built by the "index" phase)."""
    from bot.app.wiring import open_search_index

    index = await open_search_index(_settings(db, search_index), store, keep=False)
    if index is not None and not await index.is_current():
        await index.close()
        raise SystemExit("the search index is not current: run the index phase first")
    return index


async def run_index(db: Path, search_index: str) -> dict[str, Any]:
    """``verbatim index`` in its own process: the build's time, size and memory."""
    from bot.app.wiring import open_search_index
    from bot.store.sqlite import SqliteStore

    settings = _settings(db, search_index)
    async with SqliteStore(db) as store:
        index = await open_search_index(settings, store, keep=False)
        if index is None:
            return {"used": False, "reason": f"search_index={search_index}, "
                    f"{await store.statement_total()} statements (auto: from "
                    f"{settings.search_index_min_statements})"}
        try:
            t0 = time.perf_counter()
            done = await index.catch_up()
            seconds = time.perf_counter() - t0
            count = await index.count()
        finally:
            await index.close()
    folder = settings.index_path
    return {"used": True, "rebuilt": done.rebuilt, "documents": count,
            "seconds": round(seconds, 2),
            "index_mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                              / 1024 / 1024, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


async def run_serve(
    manifest: dict[str, Any], db: Path, repeat: int, seconds: float, concurrency: int,
    search_index: str = "auto",
) -> dict[str, Any]:
    """Latency of each fixed query through Core.handle + render, then 100 concurrent /quote."""
    from bot.core.app import Core
    from bot.core.request import Actor, parse_command
    from bot.store.sqlite import SqliteStore

    renderer_name, render = pick_renderer()
    actor = Actor("bench", "1")
    queries: dict[str, str] = manifest["queries"]
    result: dict[str, Any] = {"renderer": renderer_name, "queries": {}}
    opened = time.perf_counter()
    async with SqliteStore(db) as store:
        ranked = await _ranked(store, db, search_index)
        result["search_index"] = "tantivy (derived)" if ranked is not None else "SQLite FTS5"
        core = Core(store, ranked=ranked)

        async def answer(text: str) -> str:
            request = parse_command(text, actor)
            assert request is not None
            reply = await core.handle(request)
            assert reply is not None
            return str(render(reply))

        first_answer = await answer(queries["quote_speaker_words"])
        result["open_to_first_answer_ms"] = round((time.perf_counter() - opened) * 1000, 1)
        result["sample_answer"] = first_answer[:400]
        quote_samples: list[float] = []
        for name, text in queries.items():
            for _ in range(3):  # warm the page cache and the speaker index
                await answer(text)
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                rendered = await answer(text)
                samples.append((time.perf_counter() - t0) * 1000)
            stats = percentiles(samples)
            stats["chars"] = len(rendered)
            stats["head"] = rendered.splitlines()[0][:120] if rendered else ""
            result["queries"][name] = stats
            if name.startswith("quote_"):
                quote_samples += samples
        result["quote_all"] = percentiles(quote_samples)

        quote_texts = [t for n, t in queries.items() if n.startswith("quote_")]
        done = 0
        errors = 0
        deadline = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            nonlocal done, errors
            i = offset
            while time.perf_counter() < deadline:
                try:
                    await answer(quote_texts[i % len(quote_texts)])
                    done += 1
                except Exception:
                    errors += 1
                i += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - t0
        result["concurrent"] = {
            "concurrency": concurrency, "seconds": round(elapsed, 2), "requests": done,
            "errors": errors, "per_s": round(done / elapsed, 1),
        }
        if ranked is not None:
            await ranked.close()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


# -- the floor: the same searches as bare SQLite FTS5 ------------------------


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def floor_sql(
    spec: dict[str, Any], limit: int = 3, *, speaker_token: bool = False
) -> tuple[str, list[Any]] | None:
    """The one ranked query a search needs, plus fetching the found documents.

    ``speaker_token``: the file has the speaker as a full-text token (store
    migration 0004), so the best bare query puts the speaker in the MATCH.
    """
    if "id" in spec:
        return "SELECT body FROM entries WHERE id = ?", [spec["id"]]
    where: list[str] = []
    params: list[Any] = []
    words = spec.get("words") or []
    if words:
        source = "statement_fts JOIN statement_index s ON s.rowid = statement_fts.rowid"
        where.append("statement_fts MATCH ?")
        expression = " AND ".join(_quote(w) for w in words)
        if speaker_token and spec.get("speaker"):
            token = "spk" + spec["speaker"].replace("-", "x")
            expression = f"({expression}) AND speaker_token : {_quote(token)}"
        params.append(expression)
        order = f"bm25(statement_fts, {WEIGHTS}), s.date_start DESC"
    else:
        source = "statement_index s"
        order = "s.date_start DESC, s.id"
    if spec.get("speaker"):
        where.append("s.speaker_id = ?")
        params.append(spec["speaker"])
    if spec.get("since"):
        where.append("s.date_end >= ?")
        params.append(spec["since"])
    if spec.get("until"):
        where.append("s.date_start <= ?")
        params.append(spec["until"])
    if spec.get("chronological"):
        order = "s.date_start, s.id"
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    limit = int(spec.get("limit", limit))
    sql = (f"SELECT e.body FROM entries e WHERE e.id IN (SELECT s.id FROM {source}{clause}"
           f" ORDER BY {order} LIMIT {limit})")
    return sql, params


def run_floor(manifest: dict[str, Any], db: Path, repeat: int) -> dict[str, Any]:
    """Bare sqlite3 on the same file: the ranked top page and its documents, nothing else."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    columns = {row[1] for row in conn.execute("PRAGMA table_xinfo(statement_index)")}
    token = "speaker_token" in columns
    out: dict[str, Any] = {"queries": {}, "speaker_token": token}
    quote_samples: list[float] = []
    for name, spec in manifest["floor"].items():
        built = floor_sql(spec, speaker_token=token)
        assert built is not None
        sql, params = built
        _record(out, quote_samples, name,
                lambda sql=sql, params=params: conn.execute(sql, params).fetchall(), repeat)
    out["quote_all"] = percentiles(quote_samples)
    conn.close()
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


# -- tantivy: the fastest embedded peer, on the same searches -----------------


def run_tantivy(manifest: dict[str, Any], db: Path, work: Path, repeat: int) -> dict[str, Any]:
    """Builds a tantivy index from the store's statement rows, then runs the same searches."""
    try:
        import tantivy
    except ImportError:
        return {"available": False, "reason": "the tantivy package is not installed "
                "(pip install -e '.[bench]')"}

    index_dir = work / "tantivy"
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("speaker", tokenizer_name="raw")
    builder.add_integer_field("date_start", fast=True, indexed=True)
    builder.add_integer_field("date_end", fast=True, indexed=True)
    for field in SEARCH_FIELDS:
        builder.add_text_field(field, tokenizer_name="en_stem")
    schema = builder.build()
    index = tantivy.Index(schema, path=str(index_dir))

    def day(text: str) -> int:
        return int(text.replace("-", ""))

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    t0 = time.perf_counter()
    writer = index.writer(heap_size=128_000_000, num_threads=2)
    rows = conn.execute("SELECT id, speaker_id, date_start, date_end, body_text, translation,"
                        " topics, context FROM statement_index")
    count = 0
    for row in rows:
        writer.add_document(tantivy.Document(
            id=row[0], speaker=row[1], date_start=day(row[2]), date_end=day(row[3]),
            body_text=row[4], translation=row[5], topics=row[6], context=row[7],
        ))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    build = time.perf_counter() - t0
    index.reload()
    searcher = index.searcher()
    boosts = {"body_text": 10.0, "translation": 6.0, "topics": 4.0, "context": 1.0}

    def search(spec: dict[str, Any]) -> list[str]:
        if "id" in spec:
            return [r[0] for r in conn.execute("SELECT body FROM entries WHERE id = ?",
                                                (spec["id"],))]
        musts: list[Any] = []
        words = spec.get("words") or []
        if words:
            musts.append(index.parse_query(" ".join(f"+{w}" for w in words),
                                           list(SEARCH_FIELDS), field_boosts=boosts))
        if spec.get("speaker"):
            musts.append(tantivy.Query.term_query(schema, "speaker", spec["speaker"]))
        if spec.get("since"):
            musts.append(tantivy.Query.range_query(schema, "date_end", tantivy.FieldType.Integer,
                                                   day(spec["since"]), None))
        if spec.get("until"):
            musts.append(tantivy.Query.range_query(schema, "date_start",
                                                   tantivy.FieldType.Integer, None,
                                                   day(spec["until"])))
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in musts])
        limit = int(spec.get("limit", 3))
        if words and not spec.get("chronological"):
            hits = searcher.search(query, limit, count=True).hits
        else:
            order = tantivy.Order.Asc if spec.get("chronological") else tantivy.Order.Desc
            hits = searcher.search(query, limit, count=True, order_by_field="date_start",
                                   order=order).hits
        ids = [searcher.doc(address)["id"][0] for _, address in hits]
        marks = ",".join("?" * len(ids))
        return [r[0] for r in conn.execute(f"SELECT body FROM entries WHERE id IN ({marks})",
                                           ids)]

    out: dict[str, Any] = {"available": True, "version": getattr(tantivy, "__version__", "?"),
                           "documents": count, "build_s": round(build, 2),
                           "index_mb": round(sum(p.stat().st_size for p in index_dir.rglob("*")
                                                 if p.is_file()) / 1024 / 1024, 2),
                           "queries": {}}
    quote_samples: list[float] = []
    for name, spec in manifest["floor"].items():
        _record(out, quote_samples, name, lambda spec=spec: search(spec), repeat)
    out["quote_all"] = percentiles(quote_samples)
    conn.close()
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def run_profile(manifest: dict[str, Any], db: Path, repeat: int, out: Path,
                search_index: str = "auto") -> dict[str, Any]:
    """cProfile of the query set through the core: where a /quote spends its time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()

    async def body() -> None:
        from bot.core.app import Core
        from bot.core.request import Actor, parse_command
        from bot.store.sqlite import SqliteStore

        _, render = pick_renderer()
        async with SqliteStore(db) as store:
            ranked = await _ranked(store, db, search_index)
            core = Core(store, ranked=ranked)
            actor = Actor("bench", "1")
            texts = [t for n, t in manifest["queries"].items() if n.startswith("quote_")]
            for text in texts:  # warm-up outside the profile
                request = parse_command(text, actor)
                assert request is not None
                render(await core.handle(request))
            profiler.enable()
            for _ in range(repeat):
                for text in texts:
                    request = parse_command(text, actor)
                    assert request is not None
                    render(await core.handle(request))
            profiler.disable()
            if ranked is not None:
                await ranked.close()

    asyncio.run(body())
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    out.write_text(buffer.getvalue(), encoding="utf-8")
    return {"profile": str(out)}


def main(argv: list[str]) -> None:
    phase, args_json = argv[0], argv[1]
    args = json.loads(args_json)
    manifest = json.loads(Path(args["manifest"]).read_text(encoding="utf-8"))
    db = Path(args["db"])
    if phase == "import":
        result = asyncio.run(run_import(manifest, db))
    elif phase == "index":
        result = asyncio.run(run_index(db, args["search_index"]))
    elif phase == "serve":
        result = asyncio.run(run_serve(manifest, db, args["repeat"], args["seconds"],
                                       args["concurrency"], args["search_index"]))
    elif phase == "import_floor":
        from benchmarks.import_floor import run_import_floor

        result = run_import_floor(manifest, Path(args["work"]))
    elif phase == "floor":
        result = run_floor(manifest, db, args["repeat"])
    elif phase == "tantivy":
        result = run_tantivy(manifest, db, Path(args["work"]), args["repeat"])
    elif phase == "profile":
        result = run_profile(manifest, db, args["repeat"], Path(args["out"]),
                             args["search_index"])
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of large heaps: it is not part of any figure


if __name__ == "__main__":
    main(sys.argv[1:])
