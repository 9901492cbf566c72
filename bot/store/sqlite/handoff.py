"""Quicker hand-offs of the GIL while a bulk write runs.

A bulk write has two busy threads: the writer, which runs a chunk's SQL with
the GIL released, and the thread that checks and encodes the next chunk in
Python. The writer runs ~13 statements a chunk, and after each it needs the
GIL back before it can start the next one. A thread that asks for the GIL
gets it when the holder gives it up, which a thread running Python does only
every ``sys.getswitchinterval()`` (5 ms by default): the writer waited up to
5 ms after each statement, 25 chunks a 100,000-statement import. With
0.5 ms, its SQL took 4.4-4.9 s instead of 5.2-5.8 and the import 5.8-6.1 s
instead of 6.4-7.3 (one shard into the 900k store, three runs each,
alternated; docs/performance.md, "Quicker hand-offs"). The interval is the
process's, so it is shortened only while bulk writes run, and put back once
the last of them is done (two stores may write at once).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_SWITCH_INTERVAL_S = 0.0005

_lock = threading.Lock()
_holders = 0
_before = 0.0


@contextmanager
def quick_handoffs() -> Iterator[None]:
    """Within the block, a thread waiting for the GIL gets it within 0.5 ms (never
    later than it did before); the first block in sets that, the last one out puts
    the process's interval back."""
    global _holders, _before
    with _lock:
        if _holders == 0:
            _before = sys.getswitchinterval()
            sys.setswitchinterval(min(_before, BULK_SWITCH_INTERVAL_S))
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                sys.setswitchinterval(_before)
