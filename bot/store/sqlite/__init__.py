"""The embedded default store: one SQLite file, WAL, one writer, FTS5 for search."""

from bot.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
