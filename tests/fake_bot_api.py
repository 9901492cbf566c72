"""A local stand-in for the Telegram Bot API, for end-to-end tests of the real PTB stack.

It speaks HTTP on 127.0.0.1 like api.telegram.org (``/bot<token>/<method>``
and ``/file/bot<token>/<path>``), serves queued updates through getUpdates
with Telegram's offset semantics, answers every other method the bot uses
with a plausible result, and records each call (method and decoded
parameters) so a test can assert on exactly what the bot sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "VerbatimTestBot"
TOKEN = "7000001:AAFakeTokenForTestsOnly_abcdefghijkl"

# Parameters that PTB sends as plain strings; everything else is JSON-encoded.
_STRINGS = {"text", "caption", "parse_mode", "callback_query_id", "inline_query_id",
            "next_offset", "url", "secret_token", "file_id", "query", "chat_id"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int | None = None


@dataclass
class FakeBotApi:
    token: str = TOKEN
    max_hold: float = 0.3
    """Longest a getUpdates long poll is held open, whatever timeout the bot asks for."""
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _failures: dict[str, _Failure] = field(default_factory=dict)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _recorded: asyncio.Condition = field(default_factory=asyncio.Condition)
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests call ---------------------------------------------------------------------

    def queue(self, *updates: dict[str, Any]) -> None:
        """Updates for the bot's next getUpdates; chats seen in them answer with their type."""
        for update in updates:
            for value in update.values():
                chat = value.get("chat") if isinstance(value, dict) else None
                if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                    self._chats[chat["id"]] = {k: chat[k] for k in ("id", "type", "title")
                                               if k in chat}
            self._pending.append(update)
        self._arrived.set()

    def fail(self, method: str, *, status: int = 502, times: int = 1,
             retry_after: int | None = None) -> None:
        """The next ``times`` calls of ``method`` fail with ``status`` (429 with retry_after)."""
        self._failures[method] = _Failure(status, times, retry_after)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[dict]:
        """The parameters of the first ``count`` calls of ``method``, once they have arrived."""
        async def enough() -> None:
            async with self._recorded:
                await self._recorded.wait_for(lambda: len(self.of(method)) >= count)

        try:
            await asyncio.wait_for(enough(), within)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(f"{count} x {method} in {within}s? got {seen}") from None
        return self.of(method)[:count]

    @property
    def pending(self) -> int:
        return len(self._pending)

    # --- the server --------------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.files.get(request.match_info["path"])
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params)
        response = await self._answer(request, call)
        async with self._recorded:
            self.calls.append(call)
            self._recorded.notify_all()
        return response

    async def _answer(self, request: web.Request, call: Call) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        failure = self._failures.get(call.method)
        if failure and failure.times > 0:
            failure.times -= 1
            extra = {"parameters": {"retry_after": failure.retry_after}} \
                if failure.retry_after is not None else {}
            call.result = "failed"
            return _error(failure.status, "Too Many Requests" if failure.status == 429
                          else "Bad Gateway", **extra)
        handler = getattr(self, f"_m_{call.method}", None)
        if handler is None:
            return _error(404, f"Not Found: method {call.method} not found")
        call.result = await handler(call.params)
        return _ok(call.result)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):  # an uploaded file
                params[key] = {"filename": value.filename, "data": value.file.read()}
            elif key in _STRINGS:
                params[key] = int(value) if key == "chat_id" and _is_int(value) else value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params

    async def _m_getMe(self, params: dict) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Verbatim",
                "username": BOT_USERNAME, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": True}

    async def _m_getUpdates(self, params: dict) -> list:
        offset = params.get("offset")
        if isinstance(offset, int):
            self._pending = [u for u in self._pending
                             if not isinstance(u.get("update_id"), int)
                             or u["update_id"] >= offset]
        limit = params.get("limit") or 100
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, self.max_hold)
        while not self._pending and time.monotonic() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self._pending[:limit]

    def _chat(self, chat_id: Any) -> dict:
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        kind = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
        return {"id": chat_id, "type": kind}

    def _message(self, params: dict, **extra: Any) -> dict:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self._chat(params.get("chat_id")),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Verbatim",
                         "username": BOT_USERNAME}, **extra}

    async def _m_sendMessage(self, params: dict) -> dict:
        return self._message(params, text=params.get("text", ""))

    async def _m_editMessageText(self, params: dict) -> dict | bool:
        if "inline_message_id" in params:
            return True
        message = self._message(params, text=params.get("text", ""))
        message["message_id"] = params.get("message_id")
        return message

    async def _m_sendDocument(self, params: dict) -> dict:
        document = params.get("document") or {}
        name = document.get("filename") if isinstance(document, dict) else None
        return self._message(params, document={"file_id": "sent-doc", "file_unique_id": "u1",
                                               "file_name": name})

    async def _m_getFile(self, params: dict) -> dict:
        file_id = params.get("file_id", "")
        data = self.files.get(f"documents/{file_id}")
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}",
                "file_size": len(data or b""), "file_path": f"documents/{file_id}"}

    async def _m_answerCallbackQuery(self, params: dict) -> bool:
        return True

    async def _m_answerInlineQuery(self, params: dict) -> bool:
        return True

    async def _m_setMyCommands(self, params: dict) -> bool:
        return True

    async def _m_deleteWebhook(self, params: dict) -> bool:
        return True

    async def _m_setWebhook(self, params: dict) -> bool:
        return True

    async def _m_deleteMessage(self, params: dict) -> bool:
        return True


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, **extra: Any) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    return web.json_response(body, status=status)
