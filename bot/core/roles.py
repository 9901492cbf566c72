"""Who may do what: owners from the configuration, curators granted by owners, readers."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.registry import Role
from bot.core.request import Actor
from bot.store.base import Curation


def parse_owners(value: str | Iterable[str]) -> frozenset[str]:
    """``telegram:123,discord:456,console:local`` to a set of actor keys."""
    items = value.split(",") if isinstance(value, str) else value
    owners = set()
    for item in items:
        key = item.strip()
        if not key:
            continue
        platform, sep, user = key.partition(":")
        if not sep or not platform or not user:
            raise ValueError(f"owner {key!r}: write platform:user_id, e.g. telegram:123")
        owners.add(f"{platform.lower()}:{user}")
    return frozenset(owners)


class Roles:
    def __init__(self, owners: frozenset[str], curation: Curation) -> None:
        self.owners = owners
        self.curation = curation

    async def role_of(self, actor: Actor) -> Role:
        if actor.key in self.owners:
            return Role.OWNER
        if await self.curation.is_curator(actor.key):
            return Role.CURATOR
        return Role.READER
