"""The Telegram adapter end to end: real PTB Application, Bot and HTTPXRequest, fake Bot API.

Updates go in through the fake server's getUpdates (or its webhook), and the
tests assert on the exact Bot API requests the bot makes in return.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram.handlers import EXPIRED
from bot.core.app import APOLOGY, SLOW_DOWN, Core
from bot.core.ratelimit import RateLimiter
from bot.core.reply import Attachment, Reply
from bot.core.request import Request
from bot.store.sqlite import SqliteStore
from tests.conftest import SHARED, need_shared
from tests.fake_bot_api import BOT_USERNAME, TOKEN, FakeBotApi

pytestmark = pytest.mark.timeout(30)

USER = {"id": 4242, "is_bot": False, "first_name": "Ада", "last_name": "🦉", "username": "ada"}
PRIVATE = {"id": 4242, "type": "private", "first_name": "Ада"}
GROUP = {"id": -1001650852901, "type": "supergroup", "title": "Fact checkers"}
_ids = itertools.count(1)


def message(text: str, chat: dict = PRIVATE, *, reply_to: dict | None = None,
            **extra: Any) -> dict:
    """A Bot API message update as Telegram sends it today, bot_command entity included."""
    msg: dict[str, Any] = {"message_id": next(_ids), "from": USER, "chat": chat,
                           "date": int(time.time()), "text": text, **extra}
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0,
                            "length": len(text.split()[0].encode("utf-16-le")) // 2}]
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    return {"update_id": next(_ids), "message": msg}


def callback(data: str, sent: dict) -> dict:
    """A button press on a message the bot sent (``sent`` is the fake's sendMessage result)."""
    return {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "from": USER, "chat_instance": "-295534962992671506",
        "message": sent, "data": data}}


def buttons(params: dict) -> list[dict]:
    markup = params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def tg_core(loaded: SqliteStore) -> Core:
    return Core(loaded, limiter=RateLimiter())


@asynccontextmanager
async def running(core: Core, api: FakeBotApi, **options: Any) -> AsyncIterator[TelegramAdapter]:
    """The adapter serving on a task, stopped by its stop event and awaited at the end."""
    opts = TelegramOptions(token=TOKEN, api_base_url=api.base_url, poll_timeout=1,
                           retry_delay=0.01, **options)
    adapter = TelegramAdapter(core, opts)
    stop = asyncio.Event()
    task = asyncio.create_task(adapter.run(stop))
    ready = asyncio.create_task(adapter.ready.wait())
    await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await task  # raises what stopped it
    try:
        yield adapter
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        assert not adapter.application.running


async def test_start_registers_reader_commands_and_polls(tg_core: Core, api: FakeBotApi):
    async with running(tg_core, api):
        await api.wait_for("getUpdates")
    assert api.calls[0].method == "getMe"
    (commands,) = api.of("setMyCommands")
    names = [c["command"] for c in commands["commands"]]
    assert names[:6] == ["quote", "event", "timeline", "show", "who", "help"]
    assert all(c.role == 0 for c in tg_core.registry if c.name in names)
    assert api.of("deleteWebhook"), "polling must clear a webhook first"
    poll = api.of("getUpdates")[0]
    assert poll["allowed_updates"] == ["message", "callback_query", "inline_query"]


async def test_private_quote_answers_with_an_html_card(tg_core: Core, api: FakeBotApi):
    update = message("/quote lavrov aleppo")
    async with running(tg_core, api):
        api.queue(update)
        (sent,) = await api.wait_for("sendMessage")
    assert sent["chat_id"] == PRIVATE["id"]
    assert sent["parse_mode"] == "HTML"
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]
    text = sent["text"]
    assert "<blockquote>Combat actions of the Syrian Army in eastern Aleppo" in text
    assert "<b>Sergey Lavrov</b>" in text
    assert "lavrov-2016-12-08-aleppo-pause" in text
    assert len(text.encode("utf-16-le")) // 2 <= 4096


async def test_group_command_addressed_to_us_or_to_nobody_but_not_to_another_bot(
    tg_core: Core, api: FakeBotApi
):
    ours = message(f"/quote@{BOT_USERNAME} lavrov aleppo", GROUP)
    theirs = message("/quote@OtherBot lavrov aleppo", GROUP)
    plain = message("/who lavrov", GROUP)
    async with running(tg_core, api):
        api.queue(theirs, ours, plain)
        await api.wait_for("sendMessage", 2)
        await asyncio.sleep(0.3)
    sent = api.of("sendMessage")
    answered = {s["reply_parameters"]["message_id"] for s in sent if "reply_parameters" in s}
    assert answered == {ours["message"]["message_id"], plain["message"]["message_id"]}
    assert all(s["chat_id"] == GROUP["id"] for s in sent)


async def test_reply_with_a_bare_command_searches_the_replied_message(
    tg_core: Core, api: FakeBotApi
):
    original = message("Lavrov announced a ceasefire in Aleppo", GROUP)["message"]
    async with running(tg_core, api):
        api.queue(message("/quote", GROUP, reply_to=original))
        (sent,) = await api.wait_for("sendMessage")
    assert "Sergey Lavrov" in sent["text"] and "<blockquote>" in sent["text"]


async def until(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def sent_messages(api: FakeBotApi) -> list[tuple[dict, dict]]:
    """(parameters, the Message the fake returned) of each successful sendMessage."""
    return [(c.params, c.result) for c in api.calls
            if c.method == "sendMessage" and isinstance(c.result, dict)]


async def test_page_buttons_edit_the_message_in_place(loaded: SqliteStore, api: FakeBotApi):
    core = Core(loaded, page_size=1, limiter=RateLimiter())
    async with running(core, api):
        api.queue(message("/quote aleppo"))
        ((first, sent),) = [await api.wait_for("sendMessage")] and sent_messages(api)
        (next_button,) = buttons(first)
        assert next_button["text"] == "Next ›"
        assert len(next_button["callback_data"].encode()) <= 64
        api.queue(callback(next_button["callback_data"], sent))
        (edit,) = await api.wait_for("editMessageText")
        (answer,) = await api.wait_for("answerCallbackQuery")
        previous, following = buttons(edit)
        api.queue(callback(previous["callback_data"], sent))
        back = (await api.wait_for("editMessageText", 2))[1]
    assert edit["chat_id"] == PRIVATE["id"]
    assert edit["message_id"] == sent["message_id"]
    assert edit["parse_mode"] == "HTML"
    assert "Page 2 of" in edit["text"] and edit["text"] != first["text"]
    assert [previous["text"], following["text"]] == ["‹ Previous", "Next ›"]
    assert "text" not in answer or not answer["text"]
    assert back["text"] == first["text"]
    assert len(api.of("sendMessage")) == 1, "paging must not post a new message"


async def test_a_page_sent_as_several_messages_is_replaced_as_a_whole(
    tg_core: Core, api: FakeBotApi
):
    async with running(tg_core, api):
        api.queue(message("/quote aleppo"))
        await until(lambda: any(buttons(p) for p, _ in sent_messages(api)))
        group = sent_messages(api)
        last, last_sent = group[-1]
        (next_button,) = buttons(last)
        api.queue(callback(next_button["callback_data"], last_sent))
        await until(lambda: any(buttons(p) for p in api.of("editMessageText")))
        await asyncio.sleep(0.2)
    old_ids = [m["message_id"] for _, m in group]
    assert len(old_ids) >= 2, "page 1 of /quote aleppo is expected to need two messages"
    edited = [e["message_id"] for e in api.of("editMessageText")]
    new_sends = len(api.of("sendMessage")) - len(group)
    deleted = [d["message_id"] for d in api.of("deleteMessage")]
    # page 2 fits one message: the first message becomes page 2, the rest are removed
    assert (edited, deleted, new_sends) == (old_ids[:1], old_ids[1:], 0)
    assert "Page 2 of" in api.of("editMessageText")[-1]["text"]


async def test_stale_or_forged_buttons_get_a_short_notice(tg_core: Core, api: FakeBotApi):
    sent = {"message_id": 41, "date": 1611942216, "chat": PRIVATE, "text": "old"}
    async with running(tg_core, api):
        api.queue(callback("v1:forgedtoken0000", sent), callback("y", sent))
        answers = await api.wait_for("answerCallbackQuery", 2)
    assert [a["text"] for a in answers] == [EXPIRED, EXPIRED]
    assert not api.of("editMessageText") and not api.of("sendMessage")


async def test_inline_query_lists_cards_as_articles(tg_core: Core, api: FakeBotApi):
    update = {"update_id": next(_ids), "inline_query": {
        "id": "3070310935021018023", "from": USER, "query": "lavrov aleppo", "offset": "",
        "chat_type": "supergroup"}}
    async with running(tg_core, api):
        api.queue(update)
        (answer,) = await api.wait_for("answerInlineQuery")
    assert answer["inline_query_id"] == "3070310935021018023"
    results = answer["results"]
    assert results and all(r["type"] == "article" for r in results)
    first = results[0]
    assert first["title"].startswith("Sergey Lavrov · ")
    assert "2016" in first["title"]
    assert first["description"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "<blockquote>" in content["message_text"]
    assert len({r["id"] for r in results}) == len(results)
    assert all(len(r["id"].encode()) <= 64 for r in results)


def _renumbered(paths: list) -> list[dict]:
    """Real payloads with fresh, increasing update ids, as Telegram would serve them."""
    updates = []
    for path in paths:
        update = json.loads(path.read_text(encoding="utf-8"))
        update["update_id"] = next(_ids)
        updates.append(update)
    return updates


async def test_real_payloads_malformed_ones_are_skipped_and_the_bot_carries_on(
    tg_core: Core, api: FakeBotApi, caplog: pytest.LogCaptureFixture
):
    folder = need_shared(SHARED / "fixtures" / "telegram")
    updates = _renumbered(sorted(folder.glob("*.json")))
    sentinel = message("/help")
    caplog.set_level(logging.WARNING, logger="bot.adapters.telegram")
    async with running(tg_core, api):
        api.queue(*updates)
        api.queue(sentinel)
        sent = await api.wait_for("sendMessage", 2)
        await api.wait_for("answerCallbackQuery")
        await api.wait_for("answerInlineQuery")
        await asyncio.sleep(0.3)
        assert api.pending == 0, "every update, malformed or not, must be confirmed"
    skipped = [r for r in caplog.records if "malformed update" in r.getMessage()]
    assert len(skipped) == 9  # the official guide's nine stale payloads
    chats = sorted(s["chat_id"] for s in api.of("sendMessage"))
    # /start in a private chat (telemetree) and the sentinel /help; /start@swantabot is not ours
    assert chats == sorted([714862471, PRIVATE["id"]])
    assert all("Verbatim" in s["text"] for s in sent)
    (expired,) = api.of("answerCallbackQuery")
    assert expired["text"] == EXPIRED
    (inline,) = api.of("answerInlineQuery")
    assert inline["results"] == []


async def test_a_failing_update_gets_an_apology_and_no_detail(
    tg_core: Core, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    real = tg_core.handle

    async def broken(request: Request) -> Reply | None:
        if request.args == "boom":
            raise RuntimeError("internal detail: /srv/secret.sqlite3")
        return await real(request)

    monkeypatch.setattr(tg_core, "handle", broken)
    async with running(tg_core, api):
        api.queue(message("/quote boom"))
        (apology,) = await api.wait_for("sendMessage")
        api.queue(message("/who lavrov"))
        await api.wait_for("sendMessage", 2)
    assert APOLOGY in apology["text"]
    for sent in api.of("sendMessage"):
        assert "internal detail" not in sent["text"] and "Traceback" not in sent["text"]
    assert any("failed" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_network_errors_and_flood_waits_are_retried(tg_core: Core, api: FakeBotApi):
    async with running(tg_core, api):
        api.fail("sendMessage", status=502, times=2)
        api.queue(message("/help"))
        await api.wait_for("sendMessage", 3)
        api.fail("sendMessage", status=429, retry_after=0)
        api.queue(message("/who lavrov"))
        await api.wait_for("sendMessage", 5)
    results = [c.result for c in api.calls if c.method == "sendMessage"]
    assert results[:2] == ["failed", "failed"] and results[3] == "failed"
    assert isinstance(results[2], dict) and isinstance(results[4], dict)


async def test_flooding_user_is_told_once_then_ignored(loaded: SqliteStore, api: FakeBotApi):
    core = Core(loaded, limiter=RateLimiter(per_user=2))
    async with running(core, api, concurrent_updates=1):
        api.queue(*(message("/help") for _ in range(4)))
        await api.wait_for("sendMessage", 3)
        await asyncio.sleep(0.3)
    texts = [s["text"] for s in api.of("sendMessage")]
    assert len(texts) == 3 and texts[2] == SLOW_DOWN


async def test_uploads_reach_the_core_and_attachments_go_out_as_documents(
    tg_core: Core, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
):
    seen: list[Request] = []

    async def handle(request: Request) -> Reply:
        seen.append(request)
        return Reply(attachments=(Attachment("export.yaml", b"speakers: []\n"),))

    monkeypatch.setattr(tg_core, "handle", handle)
    api.files["documents/doc-1"] = b"statements: []\n"
    update = message("", GROUP)
    msg = update["message"]
    del msg["text"]
    msg.update(caption="/import", document={"file_id": "doc-1", "file_unique_id": "d1",
                                            "file_name": "new.yaml", "file_size": 15},
               caption_entities=[{"type": "bot_command", "offset": 0, "length": 7}])
    async with running(tg_core, api):
        api.queue(update)
        (document,) = await api.wait_for("sendDocument")
    (request,) = seen
    assert request.command == "import" and request.chat_id == f"telegram:{GROUP['id']}"
    assert request.upload is not None
    assert (request.upload.filename, request.upload.data) == ("new.yaml", b"statements: []\n")
    assert document["document"]["filename"] == "export.yaml"
    assert document["document"]["data"] == b"speakers: []\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_checks_the_secret(tg_core: Core, api: FakeBotApi):
    port = _free_port()
    secret = "s3cret_Token-x"
    update = message("/help")
    async with running(tg_core, api, webhook_url="https://bot.example.org/tg/hook",
                       webhook_listen="127.0.0.1", webhook_port=port, webhook_secret=secret):
        (hook,) = await api.wait_for("setWebhook")
        url = f"http://127.0.0.1:{port}/tg/hook"
        async with aiohttp.ClientSession() as http:
            bad = await http.post(url, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            good = await http.post(url, json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            statuses = (bad.status, good.status)
            bad.release()
            good.release()
        (sent,) = await api.wait_for("sendMessage")
    assert hook["url"] == "https://bot.example.org/tg/hook"
    assert hook["secret_token"] == secret
    assert statuses == (403, 200)
    assert sent["chat_id"] == PRIVATE["id"]
    assert not api.of("getUpdates")


async def test_the_token_never_reaches_a_log(tg_core: Core, api: FakeBotApi,
                                             caplog: pytest.LogCaptureFixture):
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        async with running(tg_core, api):
            api.fail("sendMessage", status=502, times=1)
            api.queue(message("/help"))
            await api.wait_for("sendMessage", 2)
            assert logging.getLogger("httpx").level == logging.WARNING
    finally:
        root.setLevel(old_level)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    text = caplog.text
    assert "getMe" in text or "sendMessage" in text or "Bot API" in text
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text


async def test_bad_token_stops_with_a_clear_message(tg_core: Core, api: FakeBotApi):
    from bot.adapters.telegram import TelegramStartError

    options = TelegramOptions(token="123:wrong-token-for-sure", api_base_url=api.base_url)
    with pytest.raises(TelegramStartError) as caught:
        await TelegramAdapter(tg_core, options).run(asyncio.Event())
    assert "refused the bot token" in str(caught.value)
    assert "wrong-token" not in str(caught.value)


async def test_a_failed_poll_is_logged_in_one_line_and_polling_goes_on(
    tg_core: Core, api: FakeBotApi, caplog: pytest.LogCaptureFixture
):
    async with running(tg_core, api):
        api.fail("getUpdates", status=502, times=1)
        api.queue(message("/help"))
        await api.wait_for("sendMessage")
    (failed,) = [r for r in caplog.records if "polling Telegram failed" in r.getMessage()]
    assert failed.exc_info is None


def _document_update(command: str, file_id: str, name: str, size: int) -> dict:
    update = message("", GROUP)
    msg = update["message"]
    del msg["text"]
    msg.update(caption=command, document={"file_id": file_id, "file_unique_id": file_id,
                                          "file_name": name, "file_size": size},
               caption_entities=[{"type": "bot_command", "offset": 0,
                                  "length": len(command.split()[0])}])
    return update


@asynccontextmanager
async def _owner_imported(store: SqliteStore, api: FakeBotApi, name: str, rows: bytes,
                          *, added: int) -> AsyncIterator[None]:
    """The bot running the real core, after its owner sent ``rows`` as a document to /import."""
    api.files[f"documents/{name}"] = rows
    owner_core = Core(store, owners=frozenset({f"telegram:{USER['id']}"}))
    async with running(owner_core, api):
        api.queue(_document_update("/import", name, f"{name}.jsonl", len(rows)))
        (report,) = await api.wait_for("sendMessage")
        assert report["text"].startswith(f"{added} added")
        yield


async def test_curators_import_and_export_files_from_telegram(loaded: SqliteStore,
                                                              api: FakeBotApi):
    """The real core: an owner imports a document, exports a zip; a reader is refused."""
    import io
    import zipfile

    rows = (b'{"type": "source", "id": "tg-briefing", "title": "Briefing", '
            b'"url": "https://example.org/briefing", "kind": "primary"}\n')
    async with _owner_imported(loaded, api, "rows", rows, added=1):
        api.queue(message("/export", GROUP))
        (document,) = await api.wait_for("sendDocument")
    assert (await loaded.get("tg-briefing")).entry.url == "https://example.org/briefing"
    assert (await loaded.history("tg-briefing"))[0].actor == f"telegram:{USER['id']}"
    archive = zipfile.ZipFile(io.BytesIO(document["document"]["data"]))
    assert "tg-briefing" in archive.read("knowledge/sources.yaml").decode("utf-8")

    reader_core = Core(loaded, owners=frozenset({"telegram:1"}))
    async with running(reader_core, api):
        api.queue(message("/retract tg-briefing not allowed", GROUP))
        refusal = (await api.wait_for("sendMessage", 3))[-1]
    assert "/retract is for curators. Nothing was changed." in refusal["text"]
    assert await loaded.get("tg-briefing") is not None


async def test_a_username_in_a_stored_quote_reaches_telegram_without_a_mention(
        loaded: SqliteStore, api: FakeBotApi):
    """A curator's statement quotes an @name; the reader's /show must not ping that user."""
    quote = "Write to @durov or @mfa_russia, not to press@mid.ru."
    rows = "\n".join(json.dumps(row) for row in (
        {"type": "speaker", "id": "ping-speaker", "name": "Ping Speaker"},
        {"type": "source", "id": "ping-post", "title": "Post by @durov",
         "url": "https://t.me/durov/1", "kind": "primary"},
        {"type": "statement", "id": "ping-speaker-2024-08-24-mention", "speaker": "ping-speaker",
         "said_on": "2024-08-24", "text": quote, "sources": ["ping-post"]},
    )).encode()
    async with _owner_imported(loaded, api, "ping", rows, added=3):
        api.queue(message("/show ping-speaker-2024-08-24-mention", GROUP))
        shown = (await api.wait_for("sendMessage", 2))[-1]
    text = shown["text"]
    # Telegram reads a mention where an @ that starts a word meets username characters.
    assert re.findall(r"(?<!\w)@[A-Za-z0-9_]+", text) == []
    # The reader sees the quote as stored: only invisible word joiners were added.
    assert ("<blockquote>Write to @\u2060durov or @\u2060mfa_russia, not to press@mid.ru."
            "</blockquote>") in text
    assert (await loaded.get("ping-speaker-2024-08-24-mention")).entry.text == quote
