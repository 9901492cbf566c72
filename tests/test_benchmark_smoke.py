"""The benchmark harness end to end at a tiny scale: a smoke test, never a timing test.

CI runs this so that ``python -m benchmarks`` keeps working as the code
under it changes; the figures themselves are only read at real scales
(docs/performance.md). No assertion here depends on how fast anything is.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import parse_scale
from benchmarks.report import SECTIONS, markdown, verdicts
from benchmarks.run import Options, peak_rss_of, run

pytestmark = pytest.mark.timeout(180)

HAS_TANTIVY = importlib.util.find_spec("tantivy") is not None


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


@pytest.mark.skipif(sys.platform != "linux", reason="the figure it guards is Linux's ru_maxrss")
def test_a_child_process_peak_rss_is_its_own_not_the_benchmarks() -> None:
    """Linux carries ru_maxrss over an exec: a child spawned straight from a process of
    200 MB reports 200 MB. The benchmark's figure for `verbatim ask` must be the
    child's own."""
    ballast = bytearray(200 * 2**20)
    for at in range(0, len(ballast), 4096):  # resident, not merely reserved
        ballast[at] = 1
    code, mib, out = peak_rss_of([sys.executable, "-c", "print('hello')"])
    assert (code, out.strip()) == (0, b"hello")
    assert 1 < mib < 100, mib


def test_scale_names() -> None:
    assert parse_scale("10k") == 10_000
    assert parse_scale("1M") == 1_000_000
    assert parse_scale("2.5k") == 2_500
    with pytest.raises(ValueError):
        parse_scale("12")


def test_a_scale_that_is_not_a_number_gets_the_usage_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--scale", "abc"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m benchmarks" in err
    assert "scale 'abc': write a number of statements, such as 10k, 100k or 1M" in err
    assert "Traceback" not in err


def test_the_harness_reports_every_section_with_numbers(tmp_path: Path) -> None:
    options = Options(scale=2_000, label="2k", out=tmp_path, repeat=5, seconds=0.5,
                      concurrency=100, tantivy=HAS_TANTIVY, profile=True, startup=True,
                      startup_runs=1, search_index="on")
    report = run(options, log=lambda _text: None)

    for section in SECTIONS:
        assert section in report, section
    assert report["generate"]["statements"] == 2_000
    for key in ("statements_per_s", "db_mb", "peak_rss_mb", "seconds"):
        assert _numeric(report["import"][key]), key
    (shard_seconds,) = report["import"]["shard_seconds"]  # 2,000 statements: one shard
    assert _numeric(shard_seconds)
    floor = report["import_floor"]
    assert (floor["store_statements"], floor["shard_statements"]) == (0, 2_000)
    for placement in ("one_thread", "two_threads"):
        for key in ("seconds", "cpu_seconds", "statements_per_s", "main_s", "full_text_s"):
            assert _numeric(floor[placement][key]), (placement, key)
    core = report["core"]
    assert set(core["queries"]) == set(report["queries"])
    for name, stats in [*core["queries"].items(), ("quote_all", core["quote_all"])]:
        for key in ("p50", "p95", "p99"):
            assert _numeric(stats[key]), (name, key)
    # Every query found something: a benchmark of empty answers measures nothing.
    for name, stats in report["fts5"]["queries"].items():
        assert stats["rows"] > 0, name
        assert _numeric(stats["p50"]) and _numeric(stats["p99"])
    assert _numeric(core["concurrent"]["per_s"]) and core["concurrent"]["requests"] > 0
    assert core["concurrent"]["errors"] == 0
    # Served through the bot's derived index, built first as `verbatim index` builds it.
    assert report["index"]["used"] is True and report["index"]["documents"] == 2_000
    assert core["search_index"].startswith("tantivy")
    assert _numeric(core["peak_rss_mb"])
    for key in ("fresh_first_answer_ms", "warm_first_answer_ms", "archive_first_answer_ms",
                "archive_peak_rss_mb"):
        assert _numeric(report["startup"][key]), key
    assert "Lavrov" in report["startup"]["answer_head"] or report["startup"]["answer_head"]
    assert _numeric(report["ratios"]["core_over_fts5"]["quote_all"])
    if HAS_TANTIVY:
        assert report["tantivy"]["available"] is True
        assert _numeric(report["tantivy"]["quote_all"]["p50"])
        assert _numeric(report["ratios"]["core_over_tantivy"]["quote_all"])
    else:
        assert report["tantivy"]["available"] is False
    assert Path(report["profile"]["profile"]).read_text().strip()
    assert (tmp_path / "2k" / "report.json").exists()

    text = markdown(report)
    assert "Import floor (`benchmarks/import_floor.py`: the last shard, 2000 statements" in text
    for label, value, *_ in verdicts(report):
        assert label in text
        assert _numeric(value), label
    # One shard: nothing to compare. Several: each one's time, in order.
    assert "Seconds a shard" not in text
    report["import"]["shard_seconds"] = [1.5, 2.25, 3.0]
    assert "Seconds a shard, in order: 1.5, 2.25, 3." in markdown(report)

    # --reuse measures the answers again and keeps what it did not redo: the import,
    # its floor and the index build (found current, nothing built: 0 s would mislead).
    again = run(replace(options, reuse=True, profile=False, startup=False),
                log=lambda _text: None)
    assert again["import"]["reused"] is True
    assert again["import_floor"] == report["import_floor"]
    assert again["index"]["reused"] is True
    assert again["index"]["seconds"] == report["index"]["seconds"]
    assert _numeric(again["core"]["quote_all"]["p50"])


def test_the_import_floor_stores_and_indexes_every_row_it_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The floor is only a floor if it does the work it claims: the last shard's
    rows on top of the others', each findable by id and by its words."""
    import json
    import sqlite3

    from benchmarks import generate as generator
    from benchmarks.import_floor import build_base, load_shard

    monkeypatch.setattr(generator, "SHARD", 600)
    manifest = generator.generate(1_500, tmp_path / "archive")
    shards = [Path(p) for p in manifest.statement_files]
    assert len(shards) == 3
    main, fts = tmp_path / "main.sqlite3", tmp_path / "fts.sqlite3"

    assert build_base(shards[:-1], main, fts) == 1_200
    figures = load_shard(shards[-1], main, fts, threads=2)

    assert _numeric(figures["statements_per_s"]) and figures["statements_per_s"] > 0
    last = [json.loads(line) for line in shards[-1].read_text(encoding="utf-8").splitlines()]
    with sqlite3.connect(main) as db, sqlite3.connect(fts) as text:
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (1_500,)
        assert db.execute("SELECT count(*) FROM statements").fetchone() == (1_500,)
        doc = last[-1]
        rowid, body = db.execute("SELECT rowid, body FROM entries WHERE id = ?",
                                 (doc["id"],)).fetchone()
        assert json.loads(body) == doc
        speaker, said_on = db.execute("SELECT speaker, date_start FROM statements "
                                      "WHERE rowid = ?", (rowid,)).fetchone()
        assert (speaker, said_on) == (doc["speaker"], doc["said_on"])
        word = max(doc["text"].strip(".").split(), key=len)
        found = {r for (r,) in text.execute("SELECT rowid FROM fts WHERE fts MATCH ?",
                                            (f'body_text : "{word}"',))}
        assert rowid in found
