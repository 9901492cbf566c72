"""The import floor: what SQLite alone takes to store the last shard, on this machine.

The query figures have a floor (bare FTS5 on the same file); this is the
import's. The last statement shard of the archive goes into a store of
every shard before it, as the importer's last shard did, but with the
least any design must do to answer from SQLite: each document by its id,
each statement in speaker-then-date and date order, and its full text
(the same five columns, tokenizer and pending-terms size as the bot's
index). Nothing is checked, resolved or kept as history, and the rows
come sorted by id (the B-trees' best case). The documents and statement
rows go in with ``executemany``; the full text as one JSON array through
``json_each``, one SQLite step that holds no GIL (with ``executemany`` on
both threads, each row's hand-back of the GIL made the two writers wait
on each other: 7.7 s instead of 4 s for 100,000 into an empty store).
Of the variants tried, these were the fastest.

Two placements of the same work: ``one_thread`` writes everything in one
transaction on one connection, as the store does; ``two_threads`` writes
the full-text index, kept in a file of its own, on a second connection
in a second thread at the same time (the most two cores can share one
import). Where the floor misses the import target, no importer that
stores at least this much in SQLite can meet it on this machine.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.store.sqlite.store import PAGE_SIZE, writer_cache_kib

TOKENIZE = "porter unicode61 remove_diacritics 2"  # the bot's statement_fts
FTS_COLUMNS = "body_text, translation, topics, context, speaker_token"

SCHEMA = """
CREATE TABLE entries (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE statements (rowid INTEGER PRIMARY KEY, speaker TEXT NOT NULL,
                         date_start TEXT NOT NULL, body_text TEXT NOT NULL,
                         translation TEXT NOT NULL, topics TEXT NOT NULL,
                         context TEXT NOT NULL);
"""
INDEXES = """
CREATE UNIQUE INDEX entries_id ON entries (id);
CREATE INDEX statements_speaker ON statements (speaker, date_start);
CREATE INDEX statements_date ON statements (date_start);
"""
FTS_SCHEMA = (f"CREATE VIRTUAL TABLE fts USING fts5({FTS_COLUMNS}, content='', "
              f"tokenize='{TOKENIZE}')")
FTS_PENDING = "INSERT INTO fts (fts, rank) VALUES ('hashsize', 16777216)"  # as migration 0009

Row = tuple[str, str, tuple[str, str, str, str, str, str], tuple[str, str, str, str, str]]


def _rows(path: Path) -> Iterator[Row]:
    """Each line as (id, its text, its statement columns, its full-text columns)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            translation = (doc.get("translation") or {}).get("text", "")
            topics = " ".join(doc.get("topics", ()))
            context = " ".join(p for p in (doc.get("place"), doc.get("occasion")) if p)
            speaker = doc["speaker"]
            yield (doc["id"], line,
                   (speaker, doc["said_on"], doc["text"], translation, topics, context),
                   (doc["text"], translation, topics, context,
                    "spk" + speaker.replace("-", "x")))


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # the store's pages and cache
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{writer_cache_kib(PAGE_SIZE)}")
    return conn


def build_base(shards: list[Path], main: Path, fts: Path) -> int:
    """The store before the last shard, loaded in bulk (indexes made after the rows)."""
    db, text = _connect(main), _connect(fts)
    db.executescript(SCHEMA)
    text.execute(FTS_SCHEMA)
    text.execute(FTS_PENDING)
    rowid = 0
    for shard in shards:
        rows = list(_rows(shard))
        numbered = range(rowid + 1, rowid + 1 + len(rows))
        db.execute("BEGIN")
        db.executemany("INSERT INTO entries VALUES (?, ?, ?)",
                       [(n, r[0], r[1]) for n, r in zip(numbered, rows, strict=True)])
        db.executemany("INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(n, *r[2]) for n, r in zip(numbered, rows, strict=True)])
        db.execute("COMMIT")
        text.execute("BEGIN")
        text.executemany(f"INSERT INTO fts (rowid, {FTS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                         [(n, *r[3]) for n, r in zip(numbered, rows, strict=True)])
        text.execute("COMMIT")
        rowid += len(rows)
    db.executescript(INDEXES)
    for conn in (db, text):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    return rowid


def _copy(src: Path, dst: Path) -> None:
    for old in dst.parent.glob(dst.name + "*"):
        old.unlink()
    shutil.copyfile(src, dst)


FTS_JSON_SQL = (f"INSERT INTO fts (rowid, {FTS_COLUMNS}) SELECT value ->> 0, value ->> 1, "
                "value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?)")


def load_shard(shard: Path, main: Path, fts: Path, *, threads: int) -> dict[str, float]:
    """The shard into copies of the base: seconds from reading the file to the last
    commit (the automatic checkpoint included), and each writer's own seconds."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    rows = sorted(_rows(shard), key=lambda r: r[0])
    db, text = _connect(main), _connect(fts)
    start = db.execute("SELECT coalesce(max(rowid), 0) FROM entries").fetchone()[0] + 1
    count = len(rows)
    numbered = list(zip(range(start, start + count), rows, strict=True))
    del rows
    full_text = json.dumps([(n, *r[3]) for n, r in numbered], ensure_ascii=False)
    spent: dict[str, float] = {}

    def write_main() -> None:
        t = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO entries VALUES (?, ?, ?)",
                       [(n, r[0], r[1]) for n, r in numbered])
        db.executemany("INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(n, *r[2]) for n, r in numbered])
        db.execute("COMMIT")
        spent["main_s"] = round(time.perf_counter() - t, 2)

    def write_text() -> None:
        t = time.perf_counter()
        text.execute("BEGIN IMMEDIATE")
        text.execute(FTS_JSON_SQL, (full_text,))
        text.execute("COMMIT")
        spent["full_text_s"] = round(time.perf_counter() - t, 2)

    if threads == 2:
        second = threading.Thread(target=write_text)
        second.start()
        write_main()
        second.join()
    else:
        write_main()
        write_text()
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    db.close()
    text.close()
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "statements_per_s": round(count / seconds), **spent}


def run_import_floor(manifest: dict[str, Any], work: Path) -> dict[str, Any]:
    """Builds the base once, then loads the last shard each way, on a fresh copy each."""
    shards = [Path(p) for p in manifest["statement_files"]]
    work.mkdir(parents=True, exist_ok=True)
    base_main, base_fts = work / "base.sqlite3", work / "base-fts.sqlite3"
    for old in work.iterdir():
        old.unlink()
    t0 = time.perf_counter()
    before = build_base(shards[:-1], base_main, base_fts)
    out: dict[str, Any] = {"store_statements": before,
                           "build_seconds": round(time.perf_counter() - t0, 2)}
    main, fts = work / "main.sqlite3", work / "fts.sqlite3"
    for threads, key in ((1, "one_thread"), (2, "two_threads")):
        _copy(base_main, main)
        _copy(base_fts, fts)
        out[key] = load_shard(shards[-1], main, fts, threads=threads)
    with shards[-1].open("rb") as lines:
        out["shard_statements"] = sum(1 for _ in lines)
    shutil.rmtree(work)
    return out
