"""Writes the store back as knowledge YAML, so chat edits can be reviewed and committed.

Output is deterministic (entries by id, fields in a fixed order), so that
export, import into an empty store and export again give identical files.
All four files are always written (an empty list when a kind has no entry),
so a folder exported before never keeps a stale file.

Retracted entries stay in the store and are left out of the files, with two
consequences that keep the files loadable: a link to a retracted entry is
left out of the exported entry (readers do not see it either), and a
retracted speaker or source that a visible statement or event still names
is exported all the same, since the entry is not valid without it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.knowledge.yamlfile import dump_yaml
from bot.model.entries import Event, Kind, Statement
from bot.store.base import Store, Stored

EXPORT_ORDER = (Kind.SPEAKER, Kind.SOURCE, Kind.EVENT, Kind.STATEMENT)


async def _exported(store: Store) -> dict[Kind, list[dict[str, Any]]]:
    stored: dict[Kind, list[Stored]] = {
        kind: [s async for s in store.entries(kind)] for kind in EXPORT_ORDER
    }
    visible = {s.id for items in stored.values() for s in items if not s.retracted}
    needed: set[str] = set()
    for kind in (Kind.EVENT, Kind.STATEMENT):
        for s in stored[kind]:
            entry = s.entry
            if s.retracted or not isinstance(entry, Statement | Event):
                continue
            needed.update(entry.sources)
            if isinstance(entry, Statement):
                needed.add(entry.speaker)
    keep = visible | needed
    out: dict[Kind, list[dict[str, Any]]] = {}
    for kind, items in stored.items():
        docs = []
        for s in items:
            if s.id not in keep:
                continue
            doc = s.entry.doc()
            if doc.get("links"):
                links = [link for link in doc["links"] if link["to"] in keep]
                doc = {k: v for k, v in doc.items() if k != "links"}
                if links:
                    doc["links"] = links
            docs.append(doc)
        out[kind] = docs
    return out


async def export_documents(store: Store) -> dict[str, str]:
    """File name to YAML text, one file per kind."""
    exported = await _exported(store)
    return {
        f"{kind.plural}.yaml": await asyncio.to_thread(dump_yaml, {kind.plural: docs})
        for kind, docs in exported.items()
    }


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = directory / name
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


async def export_store(store: Store, directory: Path) -> dict[str, int]:
    """Write the files; return how many entries each holds (``{"statements": 2757, ...}``)."""
    exported = await _exported(store)
    files = {
        f"{kind.plural}.yaml": await asyncio.to_thread(dump_yaml, {kind.plural: docs})
        for kind, docs in exported.items()
    }
    await asyncio.to_thread(_write, directory, files)
    return {kind.plural: len(docs) for kind, docs in exported.items()}
