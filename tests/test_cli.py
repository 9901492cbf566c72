"""The ``verbatim`` command as a user runs it: exit codes, output, the console, the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.adapters.console import run_console
from bot.app.cli import main
from tests.conftest import REPO


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("VERBATIM_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("VERBATIM_KNOWLEDGE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    return path


def test_ask_prints_the_cards_and_exits_0(db, capsys):
    assert main(["ask", "/quote lavrov aleppo"]) == 0
    out = capsys.readouterr().out
    assert "“Combat actions of the Syrian Army in eastern Aleppo are suspended" in out
    assert "“I never said that military activities have been stopped completely." in out
    assert "Clarified 9 Dec 2016 by the speaker" in out
    assert "id: lavrov-2016-12-08-aleppo-pause" in out
    assert db.exists()


def test_ask_error_exits_nonzero_with_a_clear_message(db, capsys):
    assert main(["ask", "/quote lavrov since:2016-13"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "since:2016-13 is not a date" in captured.err
    assert "Traceback" not in captured.err


def test_bad_database_url_is_a_configuration_error(monkeypatch, capsys):
    monkeypatch.setenv("VERBATIM_DATABASE_URL", "mysql://somewhere")
    assert main(["ask", "/help"]) == 2
    assert "VERBATIM_DATABASE_URL must start with sqlite:///" in capsys.readouterr().err


def test_check_passes_on_the_bundled_pack(capsys):
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("OK: 12 entries")


def test_check_reports_file_line_and_field(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - id: s\n    title: T\n    published: 2016-02-30\n", "utf-8")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:4: sources[0].published: '2016-02-30': day 30 does not exist" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [\n  - id: x\n", "utf-8")
    assert main(["check", str(broken)]) == 1
    assert "broken.yaml:" in capsys.readouterr().err


async def test_console_session(loaded):
    from bot.core.app import Core

    lines = iter(["lavrov aleppo", "/who лавров", "/show nothing-here", "", "/quit"])
    out: list[str] = []
    await run_console(Core(loaded), read=lambda prompt: next(lines), write=out.append)
    text = "".join(out)
    assert "statements by Sergey Lavrov matching 'aleppo'" in text
    assert "Statements on record: 4" in text
    assert "No entry with id 'nothing-here'" in text


async def test_console_ends_on_end_of_input(loaded):
    from bot.core.app import Core

    def eof(prompt: str) -> str:
        raise EOFError

    out: list[str] = []
    await run_console(Core(loaded), read=eof, write=out.append)
    assert out[0].startswith("Verbatim console.")


def test_installed_command_answers_from_any_directory(tmp_path: Path):
    """The real console script, in a subprocess, from a folder that is not the checkout."""
    script = Path(sys.executable).with_name("verbatim")
    if not script.exists():
        pytest.skip("the verbatim script is not installed in this environment")
    env = {**os.environ, "VERBATIM_DATABASE_URL": f"sqlite:///{tmp_path / 'sub.sqlite3'}"}
    done = subprocess.run([str(script), "ask", "/quote lavrov aleppo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "eastern Aleppo are suspended" in done.stdout
    assert done.stderr == ""


def test_the_wheel_carries_the_bundled_knowledge(tmp_path: Path):
    hatchling = Path(sys.executable).with_name("hatchling")
    if not hatchling.exists():
        pytest.skip("hatchling is not installed (pip install -e '.[test]' brings it)")
    subprocess.run([str(hatchling), "build", "-t", "wheel", "-d", str(tmp_path)], cwd=REPO,
                   check=True, capture_output=True, timeout=120)
    wheel = next(tmp_path.glob("verbatim_bot-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    bundled = sorted(n for n in names if n.startswith("bot/_knowledge/"))
    shipped = sorted(f"bot/_knowledge/{p.name}" for p in (REPO / "knowledge").glob("*.yaml"))
    assert bundled == shipped and shipped
    assert "bot/store/sqlite/migrations/0001_initial.sql" in names
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.parametrize(
    ("extra_env", "ask", "answered"),
    [({}, "/who lavrov", "Statements on record"),
     # The index's catch-up task and thread are stopped too.
     ({"VERBATIM_SEARCH_INDEX": "on"}, "/quote eastern aleppo", "eastern Aleppo")],
    ids=["plain", "with-search-index"],
)
def test_ctrl_c_stops_the_console_cleanly(tmp_path: Path, extra_env: dict[str, str], ask: str,
                                          answered: str):
    import signal

    script = Path(sys.executable).with_name("verbatim")
    if not script.exists():
        pytest.skip("the verbatim script is not installed in this environment")
    env = {**os.environ, "VERBATIM_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
           "PYTHONUNBUFFERED": "1", **extra_env}
    proc = subprocess.Popen([str(script), "console"], cwd=tmp_path, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().startswith("Verbatim console.")
        proc.stdin.write(ask + "\n")
        proc.stdin.flush()
        for line in proc.stdout:
            if answered in line:
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 130
    assert "Traceback" not in err and "Task was destroyed" not in err
    assert (tmp_path / "c.sqlite3.index").is_dir() == bool(extra_env)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("VERBATIM_SEARCH_INDEX", "bogus",
     "VERBATIM_SEARCH_INDEX: Input should be 'auto', 'on' or 'off'"),
    ("VERBATIM_PAGE_SIZE", "99", "VERBATIM_PAGE_SIZE: Input should be less than or equal to 10"),
    ("TELEGRAM_WEBHOOK_URL", "ftp://x", "TELEGRAM_WEBHOOK_URL: 'ftp://x' is not an http(s) URL"),
])
def test_a_bad_setting_is_named_with_what_is_wrong(monkeypatch, capsys, name, value, says):
    monkeypatch.setenv(name, value)
    assert main(["ask", "/help"]) == 2
    assert capsys.readouterr().err == f"verbatim: configuration: {says}\n"
