"""The platform-neutral bot: one entry point from a request to a Reply.

Every failure becomes a short answer here, so no adapter can leak a
traceback into a chat: expected mistakes (bad dates, unknown ids) get a
sentence that says what to fix; anything unexpected is logged with its
traceback and answered with an apology.
"""

from __future__ import annotations

import logging

from bot.core.cards import CardBuilder
from bot.core.commands import curation, reading
from bot.core.commands.curation import CurationError
from bot.core.commands.reading import UsageError
from bot.core.context import Context
from bot.core.forms import FormError
from bot.core.ratelimit import RateLimiter, Verdict
from bot.core.registry import Registry, Role
from bot.core.reply import Reply
from bot.core.request import MAX_INPUT_CHARS, Request
from bot.core.roles import Roles
from bot.search.engine import RankedIndex, Searcher
from bot.search.query import QueryError
from bot.store.base import Store, StoreError

log = logging.getLogger(__name__)

SLOW_DOWN = "That is a lot of requests at once; please wait a minute before the next one."
APOLOGY = "Sorry, something went wrong on our side and it has been logged. Please try again."


def build_registry() -> Registry:
    registry = Registry()
    reading.register(registry)
    curation.register(registry)
    return registry


def _refusal(name: str, needed: Role) -> str:
    if needed is Role.OWNER:
        return f"/{name} is for the bot's owners. Nothing was changed."
    return (f"/{name} is for curators. Nothing was changed. Anyone may propose an entry "
            "with /suggest; an owner can make you a curator.")


class Core:
    def __init__(
        self,
        store: Store,
        *,
        page_size: int = 3,
        limiter: RateLimiter | None = None,
        owners: frozenset[str] = frozenset({"console:local"}),
        ranked: RankedIndex | None = None,
    ) -> None:
        """``ranked``: a derived full-text index to ask first (see bot.search.derived)."""
        self.limiter = limiter
        self.registry = build_registry()
        self.roles = Roles(owners, store.curation())
        self.context = Context(
            store=store,
            searcher=Searcher(store, ranked),
            cards=CardBuilder(store),
            registry=self.registry,
            page_size=page_size,
            owners=owners,
        )

    async def handle(self, request: Request) -> Reply | None:
        """The answer, or None when a rate-limited user has already been told to slow down."""
        if self.limiter is not None:
            verdict = self.limiter.check(request.actor.key, request.chat_id,
                                         inline=request.inline)
            if verdict is Verdict.SILENT:
                return None
            if verdict is Verdict.NOTIFY:
                return Reply.info(SLOW_DOWN)
        command = self.registry.get(request.command)
        if command is None:
            return Reply.error(f"Unknown command /{request.command[:32]}. Type /help for the list.")
        if len(request.args) > MAX_INPUT_CHARS:
            return Reply.error(
                f"That is {len(request.args)} characters; the most a command takes is "
                f"{MAX_INPUT_CHARS}. Shorten it."
            )
        try:
            if command.role > Role.READER:
                role = await self.roles.role_of(request.actor)
                if role < command.role:
                    return Reply.error(_refusal(command.name, command.role))
            return await command.handler(self.context, request)
        except (UsageError, QueryError, StoreError, CurationError, FormError) as exc:
            return Reply.error(str(exc))
        except Exception:
            log.exception("command /%s failed", request.command)
            return Reply.error(APOLOGY)
