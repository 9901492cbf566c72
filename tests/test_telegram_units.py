"""The Telegram adapter's small parts: callback tokens, log redaction, settings, update parsing."""

from __future__ import annotations

import io
import logging

import pytest

from bot.adapters.telegram.app import TelegramOptions, options_from_settings
from bot.adapters.telegram.callbacks import PREFIX, ButtonTarget, CallbackTokens
from bot.adapters.telegram.logging import REDACTED, RedactSecrets, install_redaction
from bot.adapters.telegram.updates import sanitize_updates
from bot.app.config import Settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_callback_data_is_short_and_resolves_to_the_long_command() -> None:
    tokens = CallbackTokens()
    command = '/quote "Сергей Викторович Лавров" перемирие алеппо since:2016-12 page:12'
    data = tokens.issue(ButtonTarget(command, edit=True))
    assert len(command.encode()) > 64 >= len(data.encode())
    target = tokens.resolve(data)
    assert target is not None and target.command == command and target.edit


@pytest.mark.parametrize("data", [None, "", "y", "v1:", "v1:forged", PREFIX + "x" * 16, "v2:ab"])
def test_unknown_callback_data_resolves_to_nothing(data: str | None) -> None:
    tokens = CallbackTokens()
    tokens.issue(ButtonTarget("/help", edit=False))
    assert tokens.resolve(data) is None


def test_tokens_are_bounded_and_expire() -> None:
    now = [0.0]
    tokens = CallbackTokens(capacity=3, ttl=10, clock=lambda: now[0])
    issued = [tokens.issue(ButtonTarget(f"/show e{i}", edit=False)) for i in range(5)]
    assert len(tokens) == 3
    assert tokens.resolve(issued[0]) is None and tokens.resolve(issued[1]) is None
    assert tokens.resolve(issued[4]) is not None
    now[0] = 11
    assert tokens.resolve(issued[4]) is None


def test_redaction_removes_the_token_from_message_args_and_traceback() -> None:
    redactor = RedactSecrets([TOKEN])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(redactor)
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"boom at https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("failed %s", "x")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert TOKEN not in out
    assert out.count(REDACTED) == 2
    assert "RuntimeError: boom at https://api.telegram.org/bot[redacted]/sendMessage" in out


def test_install_redaction_filters_root_handlers_quiets_httpx_and_undoes() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    try:
        undo = install_redaction(TOKEN)
        assert logging.getLogger("httpx").level == logging.WARNING
        logging.getLogger("telegram.ext.Updater").error("url %s", f"/bot{TOKEN}/getUpdates")
        undo()
        assert logging.getLogger("httpx").level == logging.DEBUG
    finally:
        root.removeHandler(handler)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    assert TOKEN not in stream.getvalue() and "/bot[redacted]/getUpdates" in stream.getvalue()


def test_settings_read_telegram_names_and_never_print_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "abc_DEF-123")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
    assert "abc_DEF-123" not in repr(settings)
    options = options_from_settings(settings)
    assert options is not None and options.token == TOKEN
    assert options.base_urls == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    assert options.webhook_secret == "abc_DEF-123"


def test_blank_token_means_no_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert options_from_settings(Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_webhook_secret_must_be_what_telegram_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "has spaces!")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_default_api_urls() -> None:
    assert TelegramOptions(token=TOKEN).base_urls == (
        "https://api.telegram.org/bot", "https://api.telegram.org/file/bot")
    assert TelegramOptions(token=TOKEN, api_base_url="http://h:8081").base_urls == (
        "http://h:8081/bot", "http://h:8081/file/bot")
    assert TelegramOptions(token=TOKEN, api_base_url="http://h:8081/").where == "http://h:8081"


def test_malformed_updates_become_empty_ones_so_the_offset_moves_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = {"update_id": 5, "message": {"message_id": 1, "date": 0, "text": "/help",
                                        "chat": {"id": 1, "type": "private"},
                                        "from": {"id": 1, "is_bot": False, "first_name": "A"}}}
    stale = {"update_id": 6, "message": {"message_id": 1, "date": 0, "text": "/start",
                                         "chat": {"id": 1, "type": "private"},
                                         "from": {"id": 1, "first_name": "A"}}}
    clean = sanitize_updates([good, stale, {"no": "id"}, "junk"])
    assert clean == [good, {"update_id": 6}]
    assert "skipped malformed update 6 (message)" in caplog.text
    assert sanitize_updates({"not": "a list"}) == []
