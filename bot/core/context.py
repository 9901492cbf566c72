"""What every command handler may use: the store, the searcher, cards and settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.cards import CardBuilder
from bot.core.registry import Registry
from bot.search.engine import Searcher
from bot.store.base import Store


@dataclass
class Context:
    store: Store
    searcher: Searcher
    cards: CardBuilder
    registry: Registry
    page_size: int = 3
    timeline_page_size: int = 10
    owners: frozenset[str] = field(default_factory=frozenset)
