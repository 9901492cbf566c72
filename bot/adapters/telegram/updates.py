"""A Bot whose getUpdates survives one bad update.

python-telegram-bot parses a getUpdates batch as a whole: one update it
cannot parse (a payload from an older or newer Bot API, a broken proxy)
fails the batch, the offset is never confirmed, and the same batch comes
back for ever, so the bot stops answering everyone. Here each update is
checked on its own; a bad one is logged and replaced by an empty update with
the same ``update_id``, which no handler matches but which confirms the
offset, so polling moves on.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

log = logging.getLogger(__name__)


def sanitize_updates(raw: object, bot: Any = None) -> list[dict[str, Any]]:
    """Each update as sent when it parses, ``{"update_id": n}`` when not, dropped without an id."""
    if not isinstance(raw, list):
        log.warning("getUpdates returned %s, not a list; ignored", type(raw).__name__)
        return []
    clean: list[dict[str, Any]] = []
    for item in raw:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("skipped an update without a numeric update_id")
            continue
        try:
            Update.de_json(item, bot)
        except Exception as exc:
            kinds = sorted(k for k in item if k != "update_id")
            log.warning("skipped malformed update %d (%s): %s: %s",
                        update_id, ", ".join(kinds), type(exc).__name__, exc)
            clean.append({"update_id": update_id})
            continue
        clean.append(item)
    return clean


class TolerantBot(ExtBot[None]):
    """``ExtBot`` with per-update parsing of getUpdates; everything else is PTB's own."""

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates":
            return sanitize_updates(result, self)
        return result
