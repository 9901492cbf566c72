"""``verbatim run`` as an operator starts it: a real process, the fake Bot API, SIGTERM to stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fake_bot_api import TOKEN, FakeBotApi
from tests.test_telegram_e2e import message

pytestmark = pytest.mark.timeout(60)


async def test_verbatim_run_serves_telegram_and_stops_cleanly_on_sigterm(tmp_path: Path):
    api = FakeBotApi()
    await api.start()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "VERBATIM_"))}
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url,
               VERBATIM_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
               VERBATIM_LOG_LEVEL="DEBUG")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_for("getUpdates", within=30)
        api.queue(message("/quote lavrov aleppo"))
        (sent,) = await api.wait_for("sendMessage", within=10)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await api.close()
    log = err.decode()
    assert process.returncode == 0, log[-2000:]
    assert "<blockquote>" in sent["text"] and sent["parse_mode"] == "HTML"
    assert api.of("setMyCommands")[0]["commands"][0]["command"] == "quote"
    assert "verbatim: stopped" in log
    assert "Traceback" not in log
    assert TOKEN not in log + out.decode() and TOKEN.split(":")[1] not in log
