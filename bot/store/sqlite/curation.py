"""Roles and the suggestion queue on SQLite, sharing the store's single writer."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from bot.model.entries import Kind
from bot.store.base import StoreError, Suggestion
from bot.store.sqlite.locking import begin_immediate_async

if TYPE_CHECKING:
    from bot.store.sqlite.store import SqliteStore


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SqliteCuration:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    async def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> int | None:
        """Run statements in one transaction; returns the last insert's row id."""
        async with self.store._write_lock:
            conn = self.store.writer
            await begin_immediate_async(conn)
            try:
                last = None
                for sql, params in statements:
                    cur = await conn.execute(sql, params)
                    last = cur.lastrowid
                    await cur.close()
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        return last

    # -- roles ----------------------------------------------------------------

    async def curators(self) -> dict[str, tuple[str, str]]:
        rows = await self.store._fetchall(
            "SELECT actor, granted_by, granted_at FROM roles WHERE role = 'curator' ORDER BY actor"
        )
        return {r["actor"]: (r["granted_by"], r["granted_at"]) for r in rows}

    async def is_curator(self, actor: str) -> bool:
        rows = await self.store._fetchall(
            "SELECT 1 FROM roles WHERE actor = ? AND role = 'curator'", (actor,)
        )
        return bool(rows)

    async def grant_curator(self, actor: str, by: str) -> None:
        if await self.is_curator(actor):
            raise StoreError(f"{actor} is already a curator")
        at = _now()
        await self._write([
            ("INSERT INTO roles (actor, role, granted_by, granted_at) VALUES (?, 'curator', ?, ?)",
             (actor, by, at)),
            ("INSERT INTO role_changes (actor, action, role, by, at)"
             " VALUES (?, 'grant', 'curator', ?, ?)", (actor, by, at)),
        ])

    async def revoke_curator(self, actor: str, by: str) -> None:
        if not await self.is_curator(actor):
            raise StoreError(f"{actor} is not a curator")
        await self._write([
            ("DELETE FROM roles WHERE actor = ?", (actor,)),
            ("INSERT INTO role_changes (actor, action, role, by, at)"
             " VALUES (?, 'revoke', 'curator', ?, ?)", (actor, by, _now())),
        ])

    # -- suggestions ------------------------------------------------------------

    async def suggest(self, kind: Kind, doc: dict[str, Any], by: str) -> int:
        rowid = await self._write([(
            "INSERT INTO suggestions (kind, body, suggested_by, suggested_at) VALUES (?, ?, ?, ?)",
            (kind.value, json.dumps(doc, ensure_ascii=False), by, _now()),
        )])
        assert rowid is not None
        return rowid

    async def suggestions_since(self, by: str, since: dt.datetime) -> int:
        rows = await self.store._fetchall(
            "SELECT count(*) AS n FROM suggestions WHERE suggested_by = ? AND suggested_at >= ?",
            (by, since.isoformat(timespec="seconds")),
        )
        return int(rows[0]["n"])

    async def pending(self, limit: int = 5) -> tuple[list[Suggestion], int]:
        rows = await self.store._fetchall(
            "SELECT * FROM suggestions WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,)
        )
        total = await self.store._fetchall(
            "SELECT count(*) AS n FROM suggestions WHERE status = 'pending'"
        )
        return [self._suggestion(r) for r in rows], int(total[0]["n"])

    async def suggestion(self, number: int) -> Suggestion | None:
        rows = await self.store._fetchall("SELECT * FROM suggestions WHERE id = ?", (number,))
        return self._suggestion(rows[0]) if rows else None

    async def decide(
        self, number: int, status: str, by: str, reason: str | None, entry_id: str | None
    ) -> None:
        async with self.store._write_lock:
            conn = self.store.writer
            await begin_immediate_async(conn)
            try:
                cur = await conn.execute(
                    "UPDATE suggestions SET status = ?, decided_by = ?, decided_at = ?,"
                    " reason = ?, entry_id = ? WHERE id = ? AND status = 'pending'",
                    (status, by, _now(), reason, entry_id, number),
                )
                changed = cur.rowcount
                await cur.close()
                if changed != 1:
                    raise StoreError(f"suggestion #{number} is not waiting for review")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _suggestion(row: Any) -> Suggestion:
        return Suggestion(
            number=row["id"],
            kind=Kind(row["kind"]),
            doc=json.loads(row["body"]),
            suggested_by=row["suggested_by"],
            suggested_at=row["suggested_at"],
            status=row["status"],
            decided_by=row["decided_by"],
            reason=row["reason"],
            entry_id=row["entry_id"],
        )
