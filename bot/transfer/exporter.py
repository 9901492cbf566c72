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

Entries are streamed: a file is written a thousand entries at a time, and
what is held is only which speakers and sources are needed and which
statements and events are retracted. Holding every entry and its YAML
text at once took ~1 GB for 113,000 entries (docs/performance.md).

Every read of one export is of one moment of the store (``Store.snapshot``):
read page by page while curators write, the files could disagree with each
other, e.g. a statement added meanwhile by a new speaker, after the speakers
file was written, and the folder would not load back.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TextIO

from bot.knowledge.yamlfile import dump_yaml
from bot.model.entries import Kind
from bot.store.base import Retractions, Snapshot, Store

EXPORT_ORDER = (Kind.SPEAKER, Kind.SOURCE, Kind.EVENT, Kind.STATEMENT)
BATCH = 1000  # entries a YAML dump: the same text as one dump of them all, far less held


def _exported(keep: Retractions, kind: Kind, entry_id: str, retracted: bool,
              doc: dict[str, Any]) -> dict[str, Any] | None:
    """The document as exported, or None when it stays out of the files. The speakers
    and sources files come first, and what they must hold depends on the rows after
    them: hence ``Retractions``, read before any file is written."""
    if retracted and (kind in (Kind.EVENT, Kind.STATEMENT)
                      or entry_id not in keep.still_named):
        return None
    if doc.get("links"):  # links go to statements and events, visible or not
        links = [link for link in doc["links"] if link["to"] not in keep.hidden]
        doc = {k: v for k, v in doc.items() if k != "links"}
        if links:
            doc["links"] = links
    return doc


async def _docs(moment: Snapshot, kind: Kind, keep: Retractions
                ) -> AsyncIterator[list[dict[str, Any]]]:
    """The exported documents of a kind, in id order, a batch at a time."""
    batch: list[dict[str, Any]] = []
    async for stored in moment.entries(kind):
        doc = _exported(keep, kind, stored.id, stored.retracted, stored.entry.doc())
        if doc is not None:
            batch.append(doc)
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


async def _write_kind(moment: Snapshot, kind: Kind, keep: Retractions, out: TextIO) -> int:
    """``{plural: [docs]}`` as ``dump_yaml`` writes it, written a batch at a time.

    A block sequence under a top-level key is not indented, so the dump of
    each batch as a list is that part of the whole file, byte for byte (a
    test compares), but for one thing: once a scalar is open-ended (a
    literal block that keeps its trailing line breaks), the emitter ends the
    document with ``...``. That line belongs at the end of the file, once."""
    count = 0
    open_ended = False
    async for batch in _docs(moment, kind, keep):
        text = await asyncio.to_thread(dump_yaml, batch)
        if text.endswith(_DOCUMENT_END):
            text, open_ended = text[: -len(_DOCUMENT_END) + 1], True
        await asyncio.to_thread(out.write, text if count else f"{kind.plural}:\n{text}")
        count += len(batch)
    if count == 0:
        await asyncio.to_thread(out.write, f"{kind.plural}: []\n")
    elif open_ended:
        await asyncio.to_thread(out.write, "...\n")
    return count


_DOCUMENT_END = "\n...\n"


async def export_documents(store: Store) -> dict[str, str]:
    """File name to YAML text, one file per kind (for a chat's ``/export``: held whole)."""
    files = {}
    async with store.snapshot() as moment:
        keep = await moment.retractions()
        for kind in EXPORT_ORDER:
            out = io.StringIO()
            await _write_kind(moment, kind, keep, out)
            files[f"{kind.plural}.yaml"] = out.getvalue()
    return files


async def export_store(store: Store, directory: Path) -> dict[str, int]:
    """Write the files; return how many entries each holds (``{"statements": 2757, ...}``).

    Each file is written beside its final name and moved into place once
    complete, so a failed export leaves the earlier files as they were."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    counts = {}
    async with store.snapshot() as moment:
        keep = await moment.retractions()
        for kind in EXPORT_ORDER:
            path = directory / f"{kind.plural}.yaml"
            tmp = path.with_suffix(".yaml.tmp")
            out = await asyncio.to_thread(tmp.open, "w", encoding="utf-8")
            try:
                counts[kind.plural] = await _write_kind(moment, kind, keep, out)
            except BaseException:
                await asyncio.to_thread(out.close)
                await asyncio.to_thread(tmp.unlink, missing_ok=True)
                raise
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(tmp.replace, path)
    return counts
