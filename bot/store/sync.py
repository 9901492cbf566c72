"""Loads knowledge files into a store: only what changed, never over a curator's edit.

Each stored entry remembers the hash of the file content it was last loaded
from. A file entry whose hash matches that is unchanged and costs nothing,
so a second start writes nothing. When a file changed but the store still
holds what was last loaded, the file wins. When both changed (a curator
edited the entry in the chat since), neither is overwritten: the conflict is
reported so a person can decide (export, merge, commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.knowledge.loader import Bundle, LoadError, check_references
from bot.model.entries import Event, Kind, Statement
from bot.store.base import Put, Store, doc_hash

LOAD_ORDER = (Kind.SPEAKER, Kind.SOURCE, Kind.EVENT, Kind.STATEMENT)
SYSTEM_ACTOR = "system:knowledge"


@dataclass(frozen=True)
class SyncConflict:
    entry_id: str
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.entry_id}: {self.reason}"


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[SyncConflict] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    @property
    def wrote(self) -> int:
        return len(self.added) + len(self.changed)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.changed)} changed",
            f"{self.unchanged} unchanged",
        ]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} conflicts")
        if self.errors:
            parts.append(f"{len(self.errors)} errors")
        return ", ".join(parts)


async def sync_knowledge(store: Store, bundle: Bundle, actor: str = SYSTEM_ACTOR) -> SyncReport:
    """Apply a read bundle to the store in one transaction; invalid entries are skipped."""
    report = SyncReport(errors=list(bundle.errors))
    # Only what the files name is read from the store: their ids, and what they point to.
    state = await store.sync_state([item.entry.id for item in bundle.entries])
    known = await store.kinds_of(sorted(_references(bundle)))
    known.update({entry_id: s.kind for entry_id, s in state.items()})
    known.update({item.entry.id: item.entry.kind for item in bundle.entries})
    bad_refs = check_references(bundle.entries, known)
    report.errors.extend(bad_refs)
    broken = {str(e.origin) for e in bad_refs}

    puts: list[Put] = []
    relink: dict[str, str] = {}
    order = {kind: n for n, kind in enumerate(LOAD_ORDER)}
    for item in sorted(bundle.entries, key=lambda i: order[i.entry.kind]):
        entry = item.entry
        if str(item.origin) in broken:
            continue
        new_hash = doc_hash(entry.doc())
        current = state.get(entry.id)
        if current is None:
            puts.append(Put(entry, file_hash=new_hash))
            report.added.append(entry.id)
        elif current.kind is not entry.kind:
            report.conflicts.append(SyncConflict(
                entry.id, str(item.origin), f"the store holds a {current.kind.value} with this id"
            ))
        elif current.file_hash == new_hash:
            report.unchanged += 1
        elif current.body_hash == new_hash:
            relink[entry.id] = new_hash
            report.unchanged += 1
        elif current.file_hash is not None and current.body_hash == current.file_hash:
            puts.append(Put(entry, force=True, file_hash=new_hash))
            report.changed.append(entry.id)
        else:
            report.conflicts.append(SyncConflict(
                entry.id, str(item.origin),
                "changed in the store since it was last loaded, and changed in the file: "
                "not overwritten (export the store's version and merge by hand)",
            ))
    await store.apply(puts, actor)
    await store.mark_loaded(relink)
    return report


def _references(bundle: Bundle) -> set[str]:
    """Every id the files' entries point to: speakers, sources, link targets."""
    found: set[str] = set()
    for item in bundle.entries:
        entry = item.entry
        if isinstance(entry, Statement):
            found.add(entry.speaker)
        if isinstance(entry, Statement | Event):
            found.update(entry.sources)
            found.update(link.to for link in entry.links)
    return found
