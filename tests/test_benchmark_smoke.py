"""The benchmark harness end to end at a tiny scale: a smoke test, never a timing test.

CI runs this so that ``python -m benchmarks`` keeps working as the code
under it changes; the figures themselves are only read at real scales
(docs/performance.md). No assertion here depends on how fast anything is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from benchmarks import parse_scale
from benchmarks.report import SECTIONS, markdown, verdicts
from benchmarks.run import Options, run

pytestmark = pytest.mark.timeout(180)

HAS_TANTIVY = importlib.util.find_spec("tantivy") is not None


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


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
    for key in ("fresh_first_answer_ms", "warm_first_answer_ms"):
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
    for label, value, *_ in verdicts(report):
        assert label in text
        assert _numeric(value), label
    # One shard: nothing to compare. Several: each one's time, in order.
    assert "Seconds a shard" not in text
    report["import"]["shard_seconds"] = [1.5, 2.25, 3.0]
    assert "Seconds a shard, in order: 1.5, 2.25, 3." in markdown(report)
